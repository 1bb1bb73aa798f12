"""The ``csat`` command (CONTRACT section 3).

``csat run [--survey params/survey.yaml] [--wave params/waves/X.yaml ...] [--out DIR] [--force]
[--engine typst|quarto] [--units SEGMENT] [--scheduler ADDRESS]``
``csat check [--survey ...] [--wave ...] [--out DIR]``   validate the definition and read every raw file,
write nothing; say when a run into DIR was interrupted while publishing (the next run completes it)
``csat demo [--root DIR]``                   regenerate the demo survey program's inputs

Bad input exits with status 2 and one paragraph naming the file, row, column
and what was expected; a failing notebook exits with status 1. No traceback
is shown unless ``CSAT_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from .errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csat", description="Customer-satisfaction survey lab: raw export to evaluated report."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="clean, analyse and report every wave (papermill notebooks -> HTML)")
    run.add_argument("--survey", default="params/survey.yaml", type=Path, help="survey definition")
    run.add_argument("--wave", action="append", type=Path, help="wave file (repeat); default: all waves")
    run.add_argument("--out", default=Path("."), type=Path, help="where data/processed and reports go")
    run.add_argument("--force", action="store_true", help="re-run waves whose inputs did not change")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--units", metavar="SEGMENT", help="also one report per group of this segment and wave (reports/units/)"
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler for the unit reports (tcp://host:8786; default CSAT_SCHEDULER, else a local cluster)",
    )
    run.add_argument(
        "--engine",
        choices=("typst", "quarto"),
        default="typst",
        help="how the PDF and Word reports are made: typst (Typst + pandoc, default) or quarto (needs quarto on PATH)",
    )

    check = sub.add_parser("check", help="validate the survey definition and read every wave; write nothing")
    check.add_argument("--survey", default="params/survey.yaml", type=Path)
    check.add_argument("--wave", action="append", type=Path)
    check.add_argument(
        "--out", default=Path("."), type=Path, help="the output folder a run would use (read, never written)"
    )

    demo = sub.add_parser("demo", help="regenerate the demo survey program (params/ and data/raw/)")
    demo.add_argument("--root", default=Path("."), type=Path)
    return parser


def _say_error(message: str) -> None:
    text = " ".join(str(message).split())
    print("csat: " + textwrap.fill(text, width=100, subsequent_indent="      ", break_on_hyphens=False, break_long_words=False), file=sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that every cleanup runs, as for Ctrl-C."""


_signalled: list[int] = []


class _OwnSignalsLoop(asyncio.SelectorEventLoop):
    """An event loop that lets no library take over SIGINT / SIGTERM: nbclient installs loop handlers
    during each notebook and, on removing them, resets SIGTERM to the default (kill at once, no
    cleanup). It treats this RuntimeError as "not the main thread" and leaves the signals alone."""

    def add_signal_handler(self, sig: int, callback: object, *args: object) -> None:
        raise RuntimeError("csat handles SIGINT and SIGTERM itself")


class _OwnSignalsPolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = _OwnSignalsLoop


def _terminate(signum: int, frame: object) -> None:
    _signalled.append(signum)
    raise Terminated()


#: What to do about the system errors a run meets, by errno name.
_OS_ADVICE = {
    "ENOSPC": "the disk is full: free some space or give another --out",
    "EDQUOT": "the disk quota is used up: free some space or give another --out",
    "EROFS": "the folder is on a read-only file system: give another --out",
    "EACCES": "permission denied: make the folder writable or give another --out",
    "EPERM": "permission denied: make the folder writable or give another --out",
    "ENAMETOOLONG": "a file name is too long: use a shorter folder or wave id",
    "EISDIR": "a folder is where a file is expected: rename or remove it",
    "ENOTDIR": "a file is where a folder is expected: rename or remove it",
    "ENOENT": "a folder vanished during the run: check the path and run again",
}


def os_error_message(exc: OSError) -> str:
    """One paragraph for a system error: the path, the system's reason and what to do; the run's
    cleanup has removed what it was writing, so nothing partial was published."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    where = f" {exc.filename}" if exc.filename else ""
    advice = _OS_ADVICE.get(name, "check the folder and run again")
    return (
        f"cannot write or read{where}: {exc.strerror or exc}. {advice[0].upper()}{advice[1:]}. Nothing partial "
        "was published."
    )


def _say_interrupted(out: Path) -> None:
    """Tell (on stderr, writing nothing) that a run into ``out`` was killed while publishing."""
    from .store import interrupted

    waves = interrupted(out)
    if waves:
        print(
            f"note: a previous csat run into {out.resolve()} was interrupted while publishing "
            f"{', '.join(waves)}; the next csat run into that folder completes it first (nothing to do by hand).",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``csat`` console script; returns the exit status.

    SIGTERM is handled like Ctrl-C (KeyboardInterrupt): the run's cleanup runs (staging folders
    and the kernel's temporary folder removed, nothing partial published), then exit status 143.
    """
    args = _parser().parse_args(argv)
    debug = os.environ.get("CSAT_DEBUG") == "1"
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    policy = asyncio.get_event_loop_policy()
    if previous is not None:
        asyncio.set_event_loop_policy(_OwnSignalsPolicy())
    try:
        return _main(args, debug)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            asyncio.set_event_loop_policy(policy)


def _main(args: argparse.Namespace, debug: bool) -> int:
    try:
        if args.command == "run":
            from .runner import run

            result = run(
                args.survey,
                args.wave,
                out=args.out,
                force=args.force,
                progress=not args.no_progress,
                units=args.units,
                scheduler=args.scheduler,
                engine=args.engine,
            )
            for path in result.reports:
                print(f"wrote {path}")
            return 0
        if args.command == "check":
            from .runner import outside_project, plan, preflight

            survey, waves = plan(args.survey, args.wave)
            for note in outside_project(survey, waves):
                print(note, file=sys.stderr)
            for wave, res in zip(waves, preflight(survey, waves), strict=True):
                print(
                    f"{wave.id}: {res.n_raw} raw rows, {res.n_kept} kept, "
                    f"{len(res.value_issues)} value issue(s), encoding {res.encoding or 'n/a'}"
                )
            _say_interrupted(Path(args.out))
            return 0
        if args.command == "demo":
            from .demo import main as demo_main

            return int(demo_main(["--root", str(args.root)]) or 0)
    except InputError as exc:
        if debug:
            raise
        _say_error(str(exc))
        return 2
    except (Terminated, asyncio.CancelledError) as exc:
        # SIGTERM arriving inside the kernel client's event loop surfaces as a cancelled task
        if not (isinstance(exc, Terminated) or _signalled):
            raise
        _say_error("stopped (SIGTERM); nothing partial was written, the run's temporary folders are removed.")
        return 143
    except KeyboardInterrupt:
        _say_error("interrupted; nothing partial was written.")
        return 130
    except OSError as exc:  # the machine, not the input: a full disk, a read-only folder, a long name
        if debug:
            raise
        _say_error(os_error_message(exc))
        return 2
    except Exception as exc:  # a bug, not bad input: still one paragraph unless debugging
        if debug:
            raise
        from .runner import NotebookError

        if isinstance(exc, NotebookError):
            _say_error(str(exc))
        else:
            _say_error(f"unexpected error {type(exc).__name__}: {exc} (set CSAT_DEBUG=1 for the traceback).")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
