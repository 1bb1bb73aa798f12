"""The store: every file under ``DIR/data/processed/<wave>/``, its format and its columns, in one table.

This module is the only code that reads or writes ``data/processed``. A
statistics function returns a result; the analyst object
(:class:`analysis.wave.WaveAnalysis`) hands its ``.to_frame()`` to
:meth:`Store.write`, which checks the table's required columns against
:data:`TABLES` (CONTRACT section 4 for the contract files) and writes it
atomically; every reader (the report, the tracking report, the index page)
asks the store by name. Adding an output is one line of ``outputs.yaml``.

Writing is atomic (a temporary file in the same folder, then ``os.replace``),
and a wave's folder is written as a whole: :func:`staging` gives a fresh
folder beside the target, :func:`publish` swaps it into place only after
every stage succeeded, so a failed or killed run never leaves half a wave.

CSV text cells are neutralised against spreadsheet formula injection (OWASP,
"CSV Injection"): a text cell that begins with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a leading ``'`` on writing, so Excel or
LibreOffice shows it as text and never runs it as a formula (a segment group
``=HYPERLINK(...)`` is written ``'=HYPERLINK(...)``). A text cell that already
begins with ``'`` gets one more, so :meth:`Store.read` can take exactly one
``'`` off every text cell that begins with one and give back the value as it
was. Numbers are never touched: numeric columns are written as they are, and a
text cell that is a plain decimal number (``-1.5``, ``+3``, ``2e-3``) is a
number to a spreadsheet too, not a formula. Parquet and JSON files are not
opened by spreadsheets and are written as they are.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml


@dataclass(frozen=True)
class Table:
    """One output of a wave: its file, format, required columns, and whether CONTRACT section 4 names it."""

    name: str
    kind: str  # "csv", "parquet" or "json"
    columns: tuple[str, ...]
    description: str
    contract: bool = False
    true_false: tuple[str, ...] = ()  # boolean columns written as true/false (CONTRACT), not True/False

    @property
    def file(self) -> str:
        """The file name inside the wave's folder."""
        return f"{self.name}.{self.kind}"


def _load_tables() -> dict[str, Table]:
    """The registry in ``outputs.yaml`` (package data beside this module), one :class:`Table` per line."""
    text = resources.files("analysis").joinpath("outputs.yaml").read_text(encoding="utf-8")
    return {
        name: Table(
            name,
            spec["kind"],
            tuple(spec["columns"]),
            spec["about"],
            bool(spec.get("contract", False)),
            tuple(spec.get("true_false", ())),
        )
        for name, spec in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)).items()  # libyaml
    }


#: Every output of a wave, in the order the steps write them (``outputs.yaml``). ``columns`` are the
#: required ones (a table may carry more); the contract tables are the files people outside the
#: project rely on.
TABLES: dict[str, Table] = _load_tables()

STAMP_FILE = ".csat_stamp.json"


# --------------------------------------------------------------------------- atomic files
def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file via a temporary file in the same folder and an atomic rename.

    ``write`` receives the temporary path. A reader never sees a half-written
    file; a failure leaves the old file (if any) in place and no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) to ``path`` atomically; returns the path."""
    path = Path(path)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as UTF-8 CSV with one header row, atomically."""
    atomic_write(path, lambda p: frame.to_csv(p, index=False, encoding="utf-8", lineterminator="\n"))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet (no index), atomically."""
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))


# --------------------------------------------------------------------------- formula injection
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The character put in front of such a text cell (and of a text cell that already starts with it).
TEXT_MARK = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """One CSV cell made safe for a spreadsheet: a text starting with a formula character
    (:data:`FORMULA_START`) or with ``'`` gets a leading ``'``; numbers, plain decimal
    numbers written as text, missing values and everything else pass unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] == TEXT_MARK or (value[0] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(value)):
        return TEXT_MARK + value
    return value


def _restore_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(TEXT_MARK):
        return value[1:]
    return value


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c])
        or pd.api.types.is_string_dtype(frame[c])
        or isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell passed through :func:`neutralise_cell` (a copy when any changed).

    The column names are neutralised by :meth:`Store.write` as they are written (a segment or
    construct name can begin with ``=`` too)."""
    out = None
    for c in _text_columns(frame):
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        fixed = col.map(neutralise_cell)
        if not fixed.equals(frame[c]):
            out = frame.copy() if out is None else out
            out[c] = fixed
    return frame if out is None else out


# --------------------------------------------------------------------------- whole folders
def processed_root(out_root: str | Path) -> Path:
    """``DIR/data/processed``: where every wave's folder lives."""
    return Path(out_root) / "data" / "processed"


def staging(root: Path, wave_id: str) -> Path:
    """A fresh, empty folder beside the wave's target folder, for a run to write into:
    ``.staging-<wave>-<process id>-<random>`` (the process id lets a later run tell a killed run's
    folder from one in use, :func:`remove_stale`)."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".staging-{wave_id}-{os.getpid()}-", dir=root))


#: A leftover folder whose name carries no process id (an earlier version's) is removed once it is
#: this many seconds old: no run takes a day.
STALE_AFTER = 24 * 3600


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process: in use
    return True


def is_stale(folder: Path, now: float | None = None) -> bool:
    """Whether a run's working folder (``<prefix>-<process id>-<random>``) was left by a run that
    is gone: the process that made it is no longer running. A name without a process id counts as
    stale once it has not been modified for :data:`STALE_AFTER` seconds (a day)."""
    import time

    parts = folder.name.rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return not _process_alive(int(parts[1]))
    try:
        age = (now if now is not None else time.time()) - folder.stat().st_mtime
    except OSError:
        return False
    return age > STALE_AFTER


def remove_stale(root: Path, pattern: str = ".staging-*") -> list[Path]:
    """Remove the folders matching ``pattern`` in ``root`` that a killed run left behind
    (:func:`is_stale`); folders of a run still going are kept. Returns the removed folders.
    ``csat run`` calls it at its start for ``data/processed``, ``reports/notebooks`` and the
    ``csat-kernel-*`` folders in the temporary folder."""
    removed = []
    if not Path(root).is_dir():
        return removed
    for folder in sorted(Path(root).glob(pattern)):
        if folder.is_dir() and not folder.is_symlink() and is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def publish(staging_dir: Path, target: Path) -> None:
    """Put a fully written staging folder (or file) in place of ``target`` (:func:`swap_in`), then
    remove the old one."""
    old = swap_in(staging_dir, target)
    if old is not None:
        _remove(old)


#: ``renameat2`` flags and the "current directory" file descriptor (linux/fs.h, fcntl.h).
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Any:
    """libc's ``renameat2`` through ctypes, or None where there is none (not Linux, old glibc)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``): afterwards ``b``
    holds what ``a`` held and the other way round. Returns False, changing nothing, where the
    system or the file system cannot (no ``renameat2``, ``EINVAL``, ``ENOSYS``, ``EOPNOTSUPP``);
    raises OSError (naming ``b``) for any other failure."""
    import ctypes
    import errno

    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(staging_dir: Path, target: Path) -> Path | None:
    """Put a fully written staging folder (or file) in place of ``target`` with renames only, and
    return where the old one now is (None when there was none); removing it is the caller's job,
    after the publication is complete.

    A file replaces ``target`` with one ``os.replace``. A folder over a folder is swapped with one
    :func:`exchange` (the old folder is then at ``staging_dir``); where that is not available the
    old one is first renamed aside (``.<name>.old-<random>``), then the new one renamed in: two
    renames, between which ``target`` is missing.
    """
    staging_dir, target = Path(staging_dir), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    present = target.exists() or target.is_symlink()
    if not present or (staging_dir.is_file() and not target.is_dir()):
        os.replace(staging_dir, target)
        return None
    if staging_dir.is_dir() and target.is_dir() and not target.is_symlink() and exchange(staging_dir, target):
        return staging_dir
    backup = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    os.replace(target, backup)
    os.replace(staging_dir, target)
    return backup


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # a file system that cannot (some network ones): the renames still order the steps
        pass
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush a staged file, or every file and folder of a staged folder, to the disk (``fsync``), so
    the renames that publish it never point at data still in the page cache after a crash."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        for root, _dirs, files in os.walk(path):
            for name in files:
                _fsync(Path(root) / name)
            _fsync(Path(root), directory=True)
    elif path.exists():
        _fsync(path)
    _fsync(path.parent, directory=True)


def _inode(path: Path) -> list[int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino]


# --------------------------------------------------------------------------- kill-safe publishing
#: The journal of a publication in progress: ``data/processed/.csat-publish-<wave>.json``.
JOURNAL_PREFIX = ".csat-publish-"


def publish_wave(
    out_root: Path,
    wave_id: str,
    moves: list[tuple[Path, Path]],
    fingerprint: str,
    info: Mapping[str, Any],
    stamp_folder: Path | None = None,
) -> None:
    """Publish one wave's staged outputs (data folder, executed notebooks, HTML, PDF, DOCX) so that a
    kill at any moment is recovered to the complete new outputs.

    Method: every staged file is flushed to disk first (:func:`fsync_tree`); a journal
    (``data/processed/.csat-publish-<wave>.json``, written atomically) lists the moves (staged path
    -> published path, relative to ``out_root``, with the staged path's device and inode) and the
    fingerprint; the old stamp is removed; then come the renames only (:func:`swap_in`: one
    ``os.replace`` per file, one ``renameat2(RENAME_EXCHANGE)`` per folder where available), so the
    window in which a kill leaves a mix of old and new files is a few renames long; then the
    fingerprint stamp is written into ``stamp_folder`` (default: the first move's target, the wave's
    data folder), the last thing written, the journal is removed, and only then the old outputs.
    A run killed part-way leaves the journal: the next run (:func:`recover`) does the moves still to
    do (a move is done when the published path has the staged inode) and writes the stamp, before
    anything else. Until then there is no stamp, so a mixed state is never taken for an up-to-date
    wave.
    """
    out_root = Path(out_root)
    root = processed_root(out_root)
    journal = root / f"{JOURNAL_PREFIX}{wave_id}.json"
    target = stamp_folder if stamp_folder is not None else moves[0][1]
    for src, _ in moves:
        fsync_tree(src)
    entry = {
        "wave": wave_id,
        "moves": [
            [os.path.relpath(src, out_root), os.path.relpath(dst, out_root), _inode(src)] for src, dst in moves
        ],
        "stamp": {"folder": os.path.relpath(target, out_root), "fingerprint": fingerprint, "info": dict(info)},
    }
    write_text(journal, json.dumps(entry, ensure_ascii=False, indent=1) + "\n")
    _fsync(journal)
    _fsync(root, directory=True)
    for old in _roll_forward(out_root, journal, entry):
        _remove(old)


def _move_state(out_root: Path, move: list[Any]) -> str:
    """``done`` (the published path holds the staged one), ``todo`` (the staged one is still there)
    or ``lost`` (neither: staged files removed by hand)."""
    source, target = out_root / move[0], out_root / move[1]
    inode = move[2] if len(move) > 2 else None
    if inode is None:  # a journal of an earlier version: by presence
        return "todo" if source.exists() else "done" if target.exists() else "lost"
    if _inode(target) == inode:
        return "done"
    return "todo" if _inode(source) == inode else "lost"


def _roll_forward(out_root: Path, journal: Path, entry: Mapping[str, Any]) -> list[Path]:
    """The moves still to do, then the stamp, then the journal removed; returns where the old
    outputs now are (to remove)."""
    stamp = entry["stamp"]
    (out_root / stamp["folder"] / STAMP_FILE).unlink(missing_ok=True)
    old = []
    for move in entry["moves"]:
        if _move_state(out_root, move) == "todo":
            moved = swap_in(out_root / move[0], out_root / move[1])
            if moved is not None:
                old.append(moved)
    Store(out_root / stamp["folder"]).write_stamp(stamp["fingerprint"], stamp.get("info"))
    journal.unlink(missing_ok=True)
    return old


def interrupted(out_root: str | Path) -> list[str]:
    """The waves whose publication a killed run left half-done in ``out_root`` (their journals),
    read without writing anything: what ``csat check`` reports and the next ``csat run`` completes."""
    root = processed_root(out_root)
    if not root.is_dir():
        return []
    waves = []
    for journal in sorted(root.glob(f"{JOURNAL_PREFIX}*.json")):
        try:
            waves.append(str(json.loads(journal.read_text(encoding="utf-8")).get("wave", journal.stem)))
        except (OSError, ValueError, AttributeError):
            waves.append(journal.stem.removeprefix(JOURNAL_PREFIX))
    return waves


def recover(out_root: str | Path) -> list[str]:
    """Finish every publication a killed run left half-done (see :func:`publish_wave`); returns the
    waves recovered. A journal whose staged files are gone (removed by hand) is dropped, and the
    wave's stamp with it, so the wave is run again. Called by ``csat run`` first, under the lock,
    before any stamp is read."""
    out_root = Path(out_root)
    root = processed_root(out_root)
    done = []
    if not root.is_dir():
        return done
    for journal in sorted(root.glob(f"{JOURNAL_PREFIX}*.json")):
        try:
            entry = json.loads(journal.read_text(encoding="utf-8"))
            moves = entry["moves"]
            stamp = entry["stamp"]
            states = [_move_state(out_root, m) for m in moves]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            journal.unlink(missing_ok=True)
            continue
        if "lost" not in states:
            for old in _roll_forward(out_root, journal, entry):
                _remove(old)
            done.append(str(entry.get("wave", "")))
        else:
            (out_root / stamp["folder"] / STAMP_FILE).unlink(missing_ok=True)
            journal.unlink(missing_ok=True)
    return done


def remove_backups(root: Path) -> list[Path]:
    """Remove the ``.<name>.old-<random>`` copies a run killed inside :func:`publish` left in ``root``
    (only under the output folder's lock, so no other run is publishing). Returns what was removed."""
    removed = []
    if Path(root).is_dir():
        for path in sorted(Path(root).glob(".*.old-*")):
            _remove(path)
            removed.append(path)
    return removed


class OutputLocked(RuntimeError):
    """Another run holds the output folder's lock."""


@contextmanager
def lock(out_root: str | Path, wait: float = 0.0) -> Iterator[Path]:
    """Hold the output folder's lock for the duration of a run.

    An advisory ``flock`` on the output folder itself (no lock file is written): the system releases
    it when the process ends, however it ends, so the lock of a killed run is never stale. A second
    run on the same folder waits up to ``wait`` seconds, then raises :class:`OutputLocked`.
    """
    import fcntl
    import time

    folder = Path(out_root)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputLocked(
                        f"another csat run is writing to {folder}; wait for it to finish (or set CSAT_LOCK_WAIT "
                        "to the seconds to wait), or give another --out."
                    ) from None
                time.sleep(0.2)
        yield folder
    finally:
        os.close(fd)  # releases the lock


# --------------------------------------------------------------------------- one wave's folder
class Store:
    """The outputs of one wave, read and written by name (see :data:`TABLES`).

    >>> store = Store(Path("data/processed/2025H1"))      # doctest: +SKIP
    >>> store.write("item_stats", frame); store.read("item_stats")  # doctest: +SKIP
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def for_wave(cls, out_root: str | Path, wave_id: str) -> Store:
        """The store of ``wave_id`` under ``DIR/data/processed``."""
        return cls(processed_root(out_root) / wave_id)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    @staticmethod
    def table(name: str) -> Table:
        """The registered table ``name``; a KeyError names the known tables."""
        try:
            return TABLES[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a registered output; known: {', '.join(TABLES)}") from None

    def path(self, name: str) -> Path:
        """Where table ``name`` lives."""
        return self.folder / self.table(name).file

    def exists(self, name: str) -> bool:
        """Whether table ``name`` has been written."""
        return self.path(name).exists()

    def write(self, name: str, data: pd.DataFrame | Mapping[str, Any]) -> Path:
        """Write table ``name`` atomically, after checking its required columns.

        A CSV's text cells are neutralised against formula injection first (see the module
        docstring and :func:`neutralise_cell`); :meth:`read` undoes it.
        """
        spec = self.table(name)
        path = self.path(name)
        if spec.kind == "json":
            text = json.dumps(dict(data), ensure_ascii=False, indent=2, sort_keys=True, default=str)
            write_text(path, text)
            return path
        missing = [c for c in spec.columns if c not in data.columns]
        if missing:
            raise ValueError(f"table {name!r} lacks its required column(s) {missing}")
        if spec.true_false:
            data = data.assign(**{c: data[c].map({True: "true", False: "false"}) for c in spec.true_false})
        if spec.kind == "parquet":
            write_parquet(data, path)
        else:
            data = neutralise_formulas(data)
            write_csv(data.rename(columns=neutralise_cell), path)
        return path

    def read(self, name: str) -> Any:
        """Table ``name`` as a DataFrame (a dict for JSON); FileNotFoundError when not written."""
        spec = self.table(name)
        path = self.path(name)
        if spec.kind == "json":
            return json.loads(path.read_text(encoding="utf-8"))
        if spec.kind == "parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path)
        frame = frame.rename(columns=_restore_cell)
        for c in _text_columns(frame):
            if frame[c].map(lambda v: isinstance(v, str) and v.startswith(TEXT_MARK)).any():
                frame[c] = frame[c].map(_restore_cell)
        return frame

    def get(self, name: str, default: Any = None) -> Any:
        """Table ``name``, or ``default`` when it was not written."""
        return self.read(name) if self.exists(name) else default

    # the fingerprint of the inputs a wave's folder was computed from (incremental runs)
    def read_stamp(self) -> str | None:
        """The fingerprint stored by :meth:`write_stamp`; None when absent or unreadable."""
        try:
            data = json.loads((self.folder / STAMP_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        value = data.get("fingerprint") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    def write_stamp(self, fingerprint: str, info: Mapping[str, Any] | None = None) -> Path:
        """Store ``fingerprint`` (and JSON-able ``info``); written last, so an interrupted run is redone."""
        data = {"fingerprint": fingerprint, **({"info": dict(info)} if info else {})}
        return write_text(self.folder / STAMP_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


__all__ = [
    "FORMULA_START",
    "STAMP_FILE",
    "TABLES",
    "Store",
    "Table",
    "atomic_write",
    "neutralise_cell",
    "neutralise_formulas",
    "OutputLocked",
    "lock",
    "processed_root",
    "publish",
    "publish_wave",
    "swap_in",
    "exchange",
    "interrupted",
    "fsync_tree",
    "recover",
    "remove_backups",
    "remove_stale",
    "staging",
    "write_csv",
    "write_parquet",
    "write_text",
]
