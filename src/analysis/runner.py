"""Run the parameterised notebooks for every wave with papermill, then publish.

For each wave, in baseline order:

1. pre-flight: load the survey and every wave, read and clean each raw export
   in a background thread of this process (:class:`BackgroundCheck`), so that the
   second core checks while the first wave's notebooks run; bad input stops the
   run with a clear message naming the wave, between two notebooks or at the
   latest before the first wave is published, with nothing written;
2. execute ``notebooks/01_clean`` ... ``05_report`` with papermill into a
   staging folder (``DIR/data/processed/.staging-<wave>``) and keep the
   executed notebooks under ``DIR/reports/notebooks/<wave>/``;
3. on success, swap the staging folder into ``DIR/data/processed/<wave>``
   and render ``DIR/reports/<wave>.html``, with ``<wave>.pdf`` and ``<wave>.docx``
   beside it from the same executed notebook (:func:`analysis.typeset.write_documents`).

Then the cross-wave tracking report and ``reports/index.html``. A run first
removes what killed runs left (:func:`remove_leftovers`): staging folders and
kernel folders whose process is gone. ``csat run`` handles SIGTERM like
Ctrl-C: the staging folders and the kernel folder are removed and nothing
partial is published. A wave whose
inputs (raw file, wave file, survey definition, baseline, package code and
notebooks) have not changed since its last successful run is skipped, unless
``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputError
from .memo import SHARED_ENV
from .store import (
    OutputLocked,
    Store,
    lock,
    processed_root,
    publish_wave,
    recover,
    remove_backups,
    remove_stale,
    staging,
    write_text,
)
from .survey import Survey, Wave, discover_waves, load_survey, load_wave, order_waves
from .words import word

WAVE_NOTEBOOKS = ("01_clean", "02_descriptive", "03_inferential", "04_zones", "05_report")
TRACKING_NOTEBOOK = "06_tracking"


#: The prefix of a run's kernel folder in the temporary folder (``csat-kernel-<process id>-<random>``).
KERNEL_PREFIX = "csat-kernel-"


def remove_leftovers(out: Path) -> list[Path]:
    """Remove what killed runs left: ``.staging-*`` folders in ``data/processed`` and
    ``reports/notebooks`` and ``csat-kernel-*`` folders in the temporary folder, each only when the
    process that made it (its id is in the name) is no longer running (:func:`analysis.store.is_stale`).
    Called at the start of every run; returns the folders removed."""
    reports = Path(out) / "reports"
    return [
        *remove_stale(processed_root(out)),
        *remove_stale(reports / "notebooks"),
        *remove_stale(reports),
        *remove_stale(Path(tempfile.gettempdir()), f"{KERNEL_PREFIX}*"),
        *(p for root in (processed_root(out), reports, reports / "notebooks") for p in remove_backups(root)),
    ]


class NotebookError(RuntimeError):
    """A notebook failed for a reason other than bad input (a bug, not the analyst's data)."""


def notebooks_dir() -> Path:
    """The folder with the notebooks ``csat run`` executes.

    ``CSAT_NOTEBOOKS`` when set, otherwise the package data ``analysis.notebooks``
    (found with :mod:`importlib.resources`): the repository's top-level
    ``notebooks/`` in an editable install, a copy inside the installed package
    otherwise (``package-dir`` in pyproject.toml maps one onto the other).
    """
    env = os.environ.get("CSAT_NOTEBOOKS")
    if env:
        return Path(env)
    return Path(str(resources.files("analysis.notebooks")))


def user_notebooks(survey: Survey) -> list[Path]:
    """The analyst's own notebooks that ``csat run`` executes for every wave, after the standard five.

    They are the ``*.ipynb`` files in ``<project>/notebooks/``, where ``<project>`` is the folder that
    holds the survey's ``params/`` folder (``params/survey.yaml`` -> ``./notebooks/``), except the
    standard notebooks' names; in name order. Each gets the same parameters as the standard ones
    (``survey_path``, ``wave_path``, ``processed_dir``, ``baseline_dir``, ``out_root``). In this
    repository that folder is the package's own, so there are none.
    """
    folder = Path(survey.path).resolve().parent.parent / "notebooks"
    if not folder.is_dir() or folder.resolve() == notebooks_dir().resolve():
        return []
    standard = {*WAVE_NOTEBOOKS, TRACKING_NOTEBOOK}
    return sorted(p for p in folder.glob("*.ipynb") if p.stem not in standard and not p.name.startswith("."))


def kernel_env() -> dict[str, str]:
    """The environment of the run's kernel: this process's, with the maths libraries' thread pools fixed.

    Every BLAS / OpenMP pool gets ``CSAT_THREADS`` threads (default 1). One run never oversubscribes
    the cores when other work runs beside it (issue 12 measured 8.8x slower on a busy machine with
    OpenBLAS's default pool), and a sum inside a matrix product is added in the same order on every
    run, so the tables are the same byte for byte whatever the load (the thread count changes the
    last digit of bootstrap bounds).
    """
    from .threads import env

    return env()


def code_fingerprint() -> str:
    """SHA-256 over the package source, its templates, language files and the notebooks run:
    a changed method re-runs every wave. Files are taken in a fixed order (by name within
    the package, then the notebooks by name), so the value does not depend on where the
    package is installed."""
    h = hashlib.sha256(__version__.encode())
    pkg = Path(__file__).resolve().parent
    nb = notebooks_dir().resolve()
    code = [p for p in pkg.rglob("*") if p.suffix in {".py", ".j2", ".yaml", ".typ"} and not p.is_relative_to(nb)]
    for path in [*sorted(code), *sorted(nb.glob("*.ipynb"))]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def wave_fingerprint(survey: Survey, wave: Wave, baseline_stamp: str, code: str) -> str:
    """SHA-256 over everything a wave's outputs depend on: the survey definition, the wave's files,
    the baseline wave's fingerprint and the code (see :func:`analysis.publish.inputs_fingerprint`)."""
    from .publish import inputs_fingerprint

    return inputs_fingerprint(
        [survey.path, *wave.inputs(), *user_notebooks(survey)],
        extra=[f"baseline:{baseline_stamp}", f"code:{code}", f"threads:{kernel_env()['OMP_NUM_THREADS']}"],
    )


@dataclass
class RunResult:
    """What a run did: waves executed, waves skipped as unchanged, reports written."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)


def _quiet_kernel_cleanup() -> None:
    """nbclient registers an ``atexit`` cleanup for every notebook client; when SIGTERM stops a run
    inside a notebook, that cleanup runs at exit on a client whose kernel manager is already gone and
    prints a traceback (``assert self.km is not None``). Make it do nothing then: the run's own
    cleanup (:func:`shared_kernel`) has shut the kernel down."""
    from nbclient.client import NotebookClient
    from nbclient.util import run_sync

    original = NotebookClient._async_cleanup_kernel
    if getattr(original, "_csat_quiet", False):
        return

    async def cleanup(self: NotebookClient) -> None:
        if self.km is None:
            return
        await original(self)

    cleanup._csat_quiet = True  # type: ignore[attr-defined]
    NotebookClient._async_cleanup_kernel = cleanup  # type: ignore[method-assign]
    NotebookClient._cleanup_kernel = run_sync(cleanup)  # type: ignore[method-assign]


@contextmanager
def shared_kernel(cwd: Path, env: Mapping[str, str] | None = None) -> Iterator[object]:
    """One Python kernel for a sequence of notebooks (saves the start-up and import time of each).

    :func:`execute_notebook` clears the kernel's namespace (:data:`RESET_CODE`) before
    every notebook, so no notebook can depend on another's variables; only
    imported modules stay loaded. ``env``: variables added to :func:`kernel_env`'s.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    _quiet_kernel_cleanup()
    # local sockets, not TCP ports; the process id in the name tells a later run whether it is in use
    sockets = Path(tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}{os.getpid()}-"))
    # A kernel spec of our own, pinned to this interpreter: a "python3" kernel installed elsewhere on the
    # machine (another environment without the analysis package) can never be picked up instead.
    spec_dir = sockets / "kernels" / "csat"
    spec_dir.mkdir(parents=True)
    spec = {
        # no input history database and no output cache (Out, _, __): the run needs neither, and both
        # cost time (a sqlite write per cell; the cache's flush runs a full garbage collection)
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", *KERNEL_OPTIONS],
        "display_name": "csat-lab",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(sockets / "kernels")], ensure_native_kernel=False)
    km = AsyncKernelManager(
        kernel_name="csat", kernel_spec_manager=specs, transport="ipc", ip=str(sockets / "k")
    )
    run_sync(km.start_kernel)(cwd=str(cwd), env={**kernel_env(), **(env or {})})
    try:
        yield km
    finally:
        run_sync(km.shutdown_kernel)(now=True)
        shutil.rmtree(sockets, ignore_errors=True)


#: IPython options of the run's kernel (see :func:`shared_kernel`).
KERNEL_OPTIONS = ("--HistoryManager.enabled=False", "--InteractiveShell.cache_size=0")

#: Clears the kernel's namespace between notebooks: every name the notebooks made is deleted (what
#: ``%reset -f`` does to the namespace, without its two full garbage collections, measured at 0.4 s
#: per notebook on the demo); IPython's own names (``user_ns_hidden``) stay.
RESET_CODE = """\
def _csat_clear(shell):
    for name in [k for k in shell.user_ns if k not in shell.user_ns_hidden]:
        del shell.user_ns[name]
_csat_clear(__import__("IPython").get_ipython())
"""


def _reset_kernel(km: object) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(RESET_CODE)]
    NotebookClient(nb, km=km, kernel_name="python3").execute()


def execute_notebook(
    name: str,
    output: Path,
    parameters: dict,
    cwd: Path,
    km: object | None = None,
    source: Path | None = None,
    shown: Mapping[str, object] | None = None,
) -> None:
    """Execute one notebook with papermill; raise InputError / NotebookError on failure.

    ``name`` is a standard notebook (in :func:`notebooks_dir`) unless ``source`` gives the file.
    With ``km`` (see :func:`shared_kernel`) the notebook runs in that kernel after
    its namespace is cleared; otherwise papermill starts a fresh kernel. A NotebookError
    names the exception, its message and the cell it came from. The executed notebook is then
    made reproducible (:func:`stabilise_notebook`, showing ``shown`` or the parameters, with paths
    relative to ``cwd``).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = source or notebooks_dir() / f"{name}.ipynb"
    if not source.exists():
        raise NotebookError(f"notebook {source} is missing from the installation.")
    output.parent.mkdir(parents=True, exist_ok=True)
    extra = {}
    if km is not None:
        _reset_kernel(km)
        extra["km"] = km
    try:
        pm.execute_notebook(
            str(source),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            language="python",  # an analyst's own notebook may carry no kernel metadata
            progress_bar=False,
            log_output=False,
            # written once at the end (or at a failure, with its error cell), not twice a cell: the
            # per-cell saves of a report notebook with its charts cost seconds of this process's CPU
            request_save_on_cell_execute=False,
            # papermill's cwd changes this process's working folder while the notebook runs: with two
            # kernels in two threads that would race; a kernel of ours already runs in ``cwd``
            cwd=None if km is not None else str(cwd),
            **extra,
        )
    except PapermillExecutionError as exc:
        if exc.ename in {"InputError", "DataError", "SurveyDefinitionError", "AHPInconsistentError"}:
            raise InputError(str(exc.evalue)) from None
        system = _SYSTEM_ERROR.match(str(exc.evalue)) if exc.ename in _SYSTEM_ERRORS else None
        if system:  # a full disk or a read-only folder met inside the notebook: the same message as outside
            raise OSError(int(system["errno"]), system["reason"], system["path"] or str(output.parent)) from None
        cell = f" in cell [{exc.exec_count}]" if getattr(exc, "exec_count", None) else ""
        raise NotebookError(f"{exc.ename}{cell}: {exc.evalue}") from None
    except OSError as exc:  # papermill writing the executed notebook (a full disk): name the file
        if not exc.filename:
            exc.filename = str(output)
        raise
    stabilise_notebook(output, shown if shown is not None else parameters, Path(cwd))


#: System errors a notebook may meet writing its outputs, and how their message reads
#: (``[Errno 28] No space left on device: '/path'``).
_SYSTEM_ERRORS = {"OSError", "PermissionError", "FileNotFoundError", "IsADirectoryError", "NotADirectoryError"}
_SYSTEM_ERROR = re.compile(r"\[Errno (?P<errno>\d+)\] (?P<reason>[^:]+?)(?:: '(?P<path>[^']*)')?$")


_ADDRESS = re.compile(r" at 0x[0-9a-f]{1,16}>")
#: Papermill's notebook-level metadata that records the clock or where the run happened.
_RUN_METADATA = ("start_time", "end_time", "duration", "input_path", "output_path")


def stabilise_notebook(path: Path, shown: Mapping[str, object], root: Path) -> None:
    """Make an executed notebook the same byte for byte on every run of the same inputs.

    Inputs: the executed notebook, the parameters to show in it (the published folders, not the
    run's staging folders) and the output folder ``root``. Method: every path parameter is written
    relative to ``root``; papermill's times, durations and paths, nbclient's per-cell execution
    times and the memory addresses in objects' text forms (``<Styler at 0x7f..>``) are removed; the parameters cell papermill injected gets that text and the fixed id
    ``injected-parameters`` (papermill draws a random one); the code cells are numbered 1, 2, ... in
    the notebook (a shared kernel's counter depends on what it ran before, and with two kernels on
    the order the steps were scheduled); the notebook is written back atomically.
    """
    import nbformat
    from papermill.translators import translate_parameters

    def rel(value: object) -> object:
        if isinstance(value, str) and value.startswith("/"):
            return os.path.relpath(value, root)
        if isinstance(value, list):
            return [rel(v) for v in value]
        return value

    params = {k: rel(v) for k, v in shown.items()}
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in _RUN_METADATA:
        meta.pop(key, None)
    if "parameters" in meta:
        meta["parameters"] = params
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            count += 1  # numbered from 1 in this notebook, whatever the kernel ran before it
            cell.execution_count = count
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result":
                output["execution_count"] = cell.get("execution_count")
            text = output.get("data", {}).get("text/plain")
            if isinstance(text, str) and " at 0x" in text:  # an object's repr holds its memory address
                output["data"]["text/plain"] = _ADDRESS.sub(">", text)
        cell.metadata.pop("execution", None)
        for key in ("start_time", "end_time", "duration"):
            cell.metadata.get("papermill", {}).pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
            cell.source = translate_parameters("python3", "python", params, "Parameters")
    write_text(path, nbformat.writes(nb) + "\n")


def plan(survey_path: Path, wave_paths: Sequence[Path] | None) -> tuple[Survey, list[Wave]]:
    """Load and validate the survey and every wave file; order waves by baseline."""
    survey = load_survey(survey_path)
    if not wave_paths:
        wave_paths = discover_waves(Path(survey_path).parent / "waves")
    waves = order_waves([load_wave(p) for p in wave_paths])
    return survey, waves


def check_output_folder(out: Path, survey: Survey, waves: Sequence[Wave]) -> Path:
    """Refuse an output folder the run cannot or must not write, before anything is written.

    ``out`` is made (with its parents) when missing. Refused, with the path and what to do: an
    ``out`` that is a file, or that cannot be made or written (read-only, no permission, a name
    too long: the system's reason is given); an ``out`` inside the project's ``data/raw/`` folder or
    inside a ``raw`` folder holding a raw file (the raw data is only ever read). Returns the resolved
    folder.
    """
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder.", expected="a folder for data/processed and reports")
    resolved = out.resolve()
    raw_dirs = {Path(survey.path).resolve().parent.parent / "data" / "raw"}
    raw_dirs |= {w.raw.parent for w in waves if w.raw.parent.name == "raw"}  # another project's data/raw
    for raw_dir in sorted(raw_dirs):
        if resolved == raw_dir or resolved.is_relative_to(raw_dir):
            raise InputError(
                f"--out {out} is inside the raw data folder {raw_dir}, which csat only ever reads.",
                expected="an output folder outside data/raw, e.g. the project folder (the default)",
            )
    try:
        resolved.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=resolved, prefix=".csat-probe-"):
            pass
    except OSError as exc:
        raise InputError(
            f"cannot write to the output folder {out} ({exc.strerror or exc}).",
            expected="a folder you can write to (check that it exists, is not read-only and has free space), "
            "or another --out",
        ) from None
    return resolved


def outside_project(survey: Survey, waves: Sequence[Wave]) -> list[str]:
    """Warnings for the raw files (and complaint logs) that lie outside the project folder (the folder
    holding ``params/``), a symbolic link out of ``data/raw/`` included: they are read as they are,
    but the run then depends on a file the project does not hold."""
    project = Path(survey.path).resolve().parent.parent
    notes = []
    for wave in waves:
        for path in (wave.raw, wave.operations):
            if path is not None and not Path(path).resolve().is_relative_to(project):
                notes.append(
                    f"warning: {wave.path}: the file {Path(path).resolve()} is outside the project folder "
                    f"{project}; it is read as it is (copy it into data/raw/ to keep the project whole)."
                )
    return notes


#: The environment variable naming a file to which each step's wall time is appended (benchmarks).
TIMINGS_ENV = "CSAT_TIMINGS"


_T0 = time.perf_counter()  # the process's start, for the timings' "start" and "end" offsets


@contextmanager
def timed(wave: str, step: str) -> Iterator[None]:
    """Append ``{"wave", "step", "seconds", "start", "end"}`` (offsets in seconds from the process's
    start) as one JSON line to the file named by ``CSAT_TIMINGS``
    when it is set (``scripts/bench_scale.py`` reads it); otherwise do nothing. The time never reaches
    an output (reruns stay byte-identical)."""
    path = os.environ.get(TIMINGS_ENV)
    start = time.perf_counter()
    try:
        yield
    finally:
        if path:
            end = time.perf_counter()
            line = json.dumps(
                {
                    "wave": wave,
                    "step": step,
                    "seconds": round(end - start, 3),
                    "start": round(start - _T0, 3),
                    "end": round(end - _T0, 3),
                }
            )
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def preflight(survey: Survey, waves: Sequence[Wave]) -> list[object]:
    """Check every wave of the run (:func:`analysis.wave.check`) before any is published.

    One bad wave refuses the whole run: the :class:`~analysis.errors.InputError` names the wave and
    says that nothing was published. Returns the checks' results, in the waves' order.
    """
    from .wave import check  # here, not at import: the statistics modules load beside the kernels' start

    results = []
    for wave in waves:
        try:
            results.append(check(survey, wave))
        except InputError as exc:
            raise InputError(
                f"wave {wave.id} ({wave.path}) cannot be run: {exc} Nothing was published: every wave of "
                "the run is checked before the first one is written."
            ) from None
    return results


class BackgroundCheck:
    """:func:`preflight` in a background thread, so that the second core checks the later waves while
    the first wave's notebooks run in the kernel (a separate process); nothing is published before
    :meth:`wait` has returned.

    ``wait()`` joins the thread and re-raises the check's :class:`~analysis.errors.InputError` (or any
    other exception) in the caller's thread. The thread is a daemon: an interrupted run does not wait
    for it. The checks' results are not kept (a million-row wave's cleaned copy would double the memory).
    """

    def __init__(self, survey: Survey, waves: Sequence[Wave]) -> None:
        import threading

        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._check, args=(survey, list(waves)), daemon=True,
                                        name="csat-preflight")
        self._thread.start()

    def _check(self, survey: Survey, waves: list[Wave]) -> None:
        try:
            for wave in waves:  # one wave at a time, its result dropped before the next is read
                with timed(wave.id, "preflight"):
                    preflight(survey, [wave])
        except BaseException as exc:  # re-raised by wait()
            self._error = exc

    def raise_if_failed(self) -> None:
        """Raise the check's exception now if it has already failed (a bad later wave stops the run
        between two notebooks, not only at the first publish)."""
        if self._error is not None:
            self.wait()

    def wait(self) -> None:
        """Block until every wave is checked; raise what the check raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error


def run(
    survey_path: Path,
    wave_paths: Sequence[Path] | None = None,
    out: Path = Path("."),
    force: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    units: str | None = None,
    scheduler: str | None = None,
    engine: str = "typst",
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every wave, then tracking and index. See the module docstring.

    ``engine`` makes the PDF and Word reports: ``"typst"`` (Typst and pandoc from their PyPI wheels) or
    ``"quarto"`` (the ``quarto`` program, which must be on PATH; checked before anything runs).
    ``units`` (default: the survey's ``units:``) also writes one report per group of that segment
    and wave (:func:`analysis.units.write_unit_reports`), fanned out on the Dask cluster at
    ``scheduler`` (default ``CSAT_SCHEDULER``, else a local cluster of 2 workers).
    """
    from .typeset import ENGINES, quarto_path

    if engine not in ENGINES:
        raise InputError(f"--engine {engine}: expected one of {', '.join(ENGINES)}.")
    if engine == "quarto" and not quarto_path():
        raise InputError(
            "--engine quarto needs the 'quarto' program on PATH; without it, leave --engine out "
            "(the default renders PDF and Word with Typst and pandoc from PyPI)."
        )
    from .threads import limit

    limit()  # the pre-flight cleans in this process: its pools too
    survey, waves = plan(Path(survey_path), wave_paths)
    out = check_output_folder(Path(out), survey, waves)
    for note in outside_project(survey, waves):
        (warn or (lambda m: print(m, file=sys.stderr)))(note)
    if survey.customer_id:  # a missing or too short hashing key stops the run before anything is written
        from .clean import id_key

        id_key(out)
    try:
        held = lock(out, wait=float(os.environ.get("CSAT_LOCK_WAIT", "0") or 0))
        held.__enter__()
    except OutputLocked as exc:
        raise InputError(str(exc)) from None
    try:
        return _run_locked(survey, waves, out, force, progress, echo, engine, units=units, scheduler=scheduler)
    except OSError as exc:  # a system error without a path (a write to an open file): name the output folder
        if not exc.filename:
            exc.filename = str(out)
        raise
    finally:
        held.__exit__(None, None, None)


#: The environment variable that sets how many notebook kernels a run uses at most (default: 2 on a
#: machine with 2 or more cores, else 1); ``CSAT_KERNELS=1`` runs every notebook one after another.
KERNELS_ENV = "CSAT_KERNELS"
#: Raw exports above this size (bytes) run in one kernel: two kernels would hold two large waves.
PARALLEL_RAW_BYTES = 64 * 2**20
#: The notebook of a wave that first reads its baseline's tables, and the baseline notebook that must
#: have written them: the change, transitions, comments and KPIs read the baseline's cleaned rows,
#: weights, respondent scores, headline and complaint-log figures (01-02). The later notebooks follow.
BASELINE_NEEDS = {"03_inferential": "02_descriptive"}
#: The notebook of every wave after which the tracking report can run: it reads the headline, change,
#: index, respondent scores, zones, KPIs and weighting of each wave (notebooks 01-04), not the comments.
TRACKING_NEEDS = "04_zones"


@dataclass
class WavePlan:
    """One wave of a run: its staging folders (tables, executed notebooks, pages), the notebook
    parameters, and once rendered the pages and documents to publish (:meth:`moves`)."""

    wave: Wave
    target: Path
    tables: Path
    notebooks: Path
    pages_dir: Path
    reports: Path
    params: dict
    shown: dict
    pages: list[tuple[Path, str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.wave.id

    @property
    def label(self) -> str:
        return f"wave {self.wave.id}"

    def moves(self) -> list[tuple[Path, Path]]:
        """(staged, published) pairs: the tables, the executed notebooks, every page and document."""
        moves = [(self.tables, self.target), (self.notebooks, self.reports / "notebooks" / self.wave.id)]
        return moves + [(self.pages_dir / name, self.reports / name) for name in self.files]

    def remove_staging(self) -> None:
        for folder in (self.tables, self.notebooks, self.pages_dir):
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class TrackingPlan:
    """The tracking report of a run (notebook 06): one staging folder for its executed notebook, page
    and documents, the notebook parameters (the run's waves read from their staging folders, the
    published folders shown), and once rendered the files to publish. It runs once every wave's
    :data:`TRACKING_NEEDS` notebook is done, beside the report notebooks (:func:`run_waves`)."""

    folder: Path
    reports: Path
    params: dict
    shown: dict
    pages: list[tuple[Path, str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    id: str = "tracking"
    label: str = "the tracking report"

    @property
    def waves(self) -> list[str]:
        """The waves the report covers."""
        return list(self.shown["waves"])

    @property
    def notebooks(self) -> Path:
        return self.folder

    @property
    def pages_dir(self) -> Path:
        return self.folder

    def moves(self) -> list[tuple[Path, Path]]:
        """(staged, published) pairs: the executed notebook, the page and its documents."""
        notebook = (self.folder / f"{TRACKING_NOTEBOOK}.ipynb", self.reports / "notebooks" / f"{TRACKING_NOTEBOOK}.ipynb")
        return [notebook, *((self.folder / name, self.reports / name) for name in self.files)]

    def remove_staging(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def plan_tracking(survey: Survey, tracked: Sequence[Wave], plans: Sequence[WavePlan], out: Path) -> TrackingPlan:
    """The tracking report's staging folder and parameters: ``tracked`` waves, the ones ``plans`` run
    read from their staging folders."""
    processed, reports = processed_root(out), out / "reports"
    shown = {
        "survey_path": str(Path(survey.path).resolve()),
        "processed_root": str(processed),
        "waves": [w.id for w in tracked],
        "wave_paths": [str(Path(w.path).resolve()) for w in tracked],
        "out_root": str(out),
    }
    params = {**shown, "wave_dirs": {p.wave.id: str(p.tables) for p in plans}}
    plan = TrackingPlan(staging(reports, "tracking"), reports, params, shown)
    title = word("title.tracking", survey.language, survey=survey.title_text())
    plan.pages = [(plan.folder / f"{TRACKING_NOTEBOOK}.ipynb", "tracking.html", title)]
    return plan


def plan_waves(survey: Survey, todo: Sequence[Wave], out: Path, own: Sequence[Path]) -> list[WavePlan]:
    """The staging folders and notebook parameters of every wave to run. A wave whose baseline runs
    too reads the baseline's staged tables (its published folder is shown in the executed notebook)."""
    processed, reports = processed_root(out), out / "reports"
    staged: dict[str, Path] = {}
    plans = []
    for wave in todo:
        target = processed / wave.id
        tables = staging(processed, wave.id)
        staged[wave.id] = tables
        base = wave.baseline
        baseline_dir = staged.get(base) or (processed / base if base and (processed / base).is_dir() else None)
        params = {
            "survey_path": str(Path(survey.path).resolve()),
            "wave_path": str(Path(wave.path).resolve()),
            "processed_dir": str(tables),
            "baseline_dir": str(baseline_dir) if baseline_dir else "",
            "out_root": str(out),
        }
        shown = {**params, "processed_dir": str(target)}
        if base in staged:
            shown["baseline_dir"] = str(processed / base)
        plan = WavePlan(wave, target, tables, staging(reports / "notebooks", wave.id), staging(reports, wave.id),
                        reports, params, shown)
        title = f"{survey.title_text()} {wave.id}"
        plan.pages = [(plan.notebooks / "05_report.ipynb", f"{wave.id}.html", title)]
        plan.pages += [(plan.notebooks / nb.name, f"{wave.id}.{nb.stem}.html", f"{title}: {nb.stem}") for nb in own]
        plans.append(plan)
    return plans


def kernel_count(plans: Sequence[WavePlan]) -> int:
    """How many kernels run the notebooks: ``CSAT_KERNELS`` if set, else 2 with two or more cores and
    waves, 1 otherwise; 1 whenever a raw export is above :data:`PARALLEL_RAW_BYTES` (memory)."""
    raw = os.environ.get(KERNELS_ENV, "")
    try:
        wanted = max(1, int(raw)) if raw else min(2, os.cpu_count() or 1)
    except ValueError:
        wanted = 1
    if any(Path(p.wave.raw).stat().st_size > PARALLEL_RAW_BYTES for p in plans if Path(p.wave.raw).is_file()):
        wanted = 1
    return max(1, min(wanted, len(plans)))


@dataclass
class _Task:
    plan: WavePlan | TrackingPlan
    name: str
    source: Path | None
    after: list[tuple[str, str]]
    render: bool = False


def _tasks(plans: Sequence[WavePlan], own: Sequence[Path], tracking: TrackingPlan | None = None) -> list[_Task]:
    """Every notebook of every wave, then the wave's rendering, in run order, each with what must be done
    first: the wave's previous step, and for the baseline's tables :data:`BASELINE_NEEDS`. Then the
    tracking notebook (after every wave's :data:`TRACKING_NEEDS`) and its rendering."""
    ids = {p.wave.id for p in plans}
    tasks: list[_Task] = []
    for plan in plans:
        steps = [*((n, None) for n in WAVE_NOTEBOOKS), *((nb.stem, nb) for nb in own)]
        previous: tuple[str, str] | None = None
        base = plan.wave.baseline if plan.wave.baseline in ids else None
        for name, source in steps:
            after = [previous] if previous else []
            if base and name in BASELINE_NEEDS:
                after.append((base, BASELINE_NEEDS[name]))
            if base and source is not None:  # an analyst's notebook may read anything of the baseline
                after.append((base, "render"))
            tasks.append(_Task(plan, name, source, after))
            previous = (plan.wave.id, name)
        tasks.append(_Task(plan, "render", None, [previous] if previous else [], render=True))
    if tracking is not None:
        tasks.append(_Task(tracking, TRACKING_NOTEBOOK, None, [(p.wave.id, TRACKING_NEEDS) for p in plans]))
        tasks.append(_Task(tracking, "render", None, [(tracking.id, TRACKING_NOTEBOOK)], render=True))
    return tasks


#: Estimated seconds of each step of a demo-sized wave (two-kernel runs, measured): only their ratios
#: matter, to start the ready step with the longest road ahead (:func:`_ranks`).
STEP_COST = {"01_clean": 1.0, "02_descriptive": 3.5, "03_inferential": 4.0, "04_zones": 2.0,
             "05_report": 4.5, "render": 1.5, TRACKING_NOTEBOOK: 3.5}
#: An analyst's own notebook, whose cost is not known.
OWN_STEP_COST = 2.0


def _ranks(tasks: Sequence[_Task]) -> list[float]:
    """Each task's estimated longest road to the end of the run: its cost (:data:`STEP_COST`) plus the
    largest rank of the steps that wait for it (the "upward rank" of HEFT list scheduling, Topcuoglu,
    Hariri and Wu 2002). A step waits only for steps listed before it (:func:`_tasks`), so one pass
    from the end computes them all."""
    index = {(t.plan.id, t.name): i for i, t in enumerate(tasks)}
    followers: list[list[int]] = [[] for _ in tasks]
    for i, task in enumerate(tasks):
        for a in task.after:
            j = index.get(tuple(a))
            if j is not None:
                followers[j].append(i)
    rank = [0.0] * len(tasks)
    for i in range(len(tasks) - 1, -1, -1):
        cost = STEP_COST.get("render" if tasks[i].render else tasks[i].name, OWN_STEP_COST)
        rank[i] = cost + max((rank[j] for j in followers[i]), default=0.0)
    return rank


def _assign(
    ready: Sequence[int], idle: Sequence[int], tasks: Sequence[_Task], rank: Sequence[float], home: Mapping[str, int]
) -> list[tuple[int, int]]:
    """Which ready steps start now, on which idle kernels: ``(task, kernel)`` pairs.

    The ready steps go by rank (:func:`_ranks`; run order between equals). A wave's notebook goes to
    the kernel that ran its wave's last notebook (``home``) when that one is idle: the report notebook
    then finds the analysis notebooks' charts in that kernel's memo (:mod:`analysis.memo`) instead of
    drawing them again. Otherwise it takes an idle kernel that no other ready step calls home."""
    free = list(idle)
    pairs: list[tuple[int, int]] = []
    waiting = sorted(ready, key=lambda i: (-rank[i], i))
    for n, i in enumerate(waiting):
        if not free:
            break
        mine = home.get(tasks[i].plan.id)
        if mine in free:
            k = mine
        else:
            others = {home.get(tasks[j].plan.id) for j in waiting[n + 1:]}
            k = next((f for f in free if f not in others), free[0])
        free.remove(k)
        pairs.append((i, k))
    return pairs


def run_waves(
    plans: Sequence[WavePlan],
    own: Sequence[Path],
    survey: Survey,
    out: Path,
    engine: str,
    checked: BackgroundCheck,
    bar: Any,
    tracking: TrackingPlan | None = None,
) -> None:
    """Execute every wave's notebooks and render its pages into the staging folders, on
    :func:`kernel_count` kernels (worker threads, each with its own :func:`shared_kernel`); then the
    ``tracking`` notebook, when given, and its pages, into its staging folder. Pages and documents are
    rendered by one more thread of this process as soon as a wave's notebooks are done, so no kernel
    waits for them.

    A step starts when the steps it needs are done (:func:`_tasks`): a wave's notebooks in order, a
    wave's change after its baseline's descriptive notebook; so on two cores the next wave is cleaned and described while this one is modelled. Every step
    is a pure function of its inputs, so the outputs are the same bytes as one kernel's (the tests
    compare them). The first failure stops the run: the steps running finish, no new one starts,
    and the error is raised (after the input check's, which names the wave). Nothing is published
    here.
    """
    import queue
    import threading

    tasks = _tasks(plans, own, tracking)
    if not tasks:
        return
    n_kernels = kernel_count(plans)
    # the kernels share their charts (analysis.memo): a wave's report may run beside its analysis
    # (named like the kernels' folders: a killed run's is removed by the next run, remove_leftovers)
    charts = Path(tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}charts-{os.getpid()}-")) if n_kernels > 1 else None
    env = {SHARED_ENV: str(charts)} if charts else {}
    done: set[tuple[str, str]] = set()
    started: set[int] = set()
    results: queue.Queue = queue.Queue()
    work: list[queue.Queue] = [queue.Queue() for _ in range(n_kernels)]
    stop = threading.Event()

    kms: dict[int, object] = {}

    def worker(k: int | None, inbox: queue.Queue) -> None:
        """Kernel ``k``'s thread (its notebooks), or with ``k`` None the rendering thread (pages and
        documents are made in this process, one wave at a time, while the kernels go on)."""
        if k is None:
            _warm_rendering()
        with ExitStack() as own_stack:
            km = None
            while True:
                i = inbox.get()
                if i is None:
                    return
                task = tasks[i]
                try:
                    if stop.is_set():
                        raise _Stopped()
                    if task.render:
                        _render_wave(task.plan, survey, engine)
                    else:
                        if km is None:
                            km = own_stack.enter_context(shared_kernel(out, env))
                            kms[k] = km
                        _execute_step(task, km, out)
                    results.put((k, i, None))
                except BaseException as exc:  # handed to the main thread
                    results.put((k, i, exc))

    renders: queue.Queue = queue.Queue()
    work.append(renders)
    threads = [threading.Thread(target=worker, args=(k, w), daemon=True, name=f"csat-kernel-{k}")
               for k, w in enumerate(work[:n_kernels])]
    threads.append(threading.Thread(target=worker, args=(None, renders), daemon=True, name="csat-render"))
    for t in threads:
        t.start()
    idle = list(range(n_kernels))
    rank = _ranks(tasks)
    home: dict[str, int] = {}  # the kernel that ran each wave's last notebook
    error: BaseException | None = None
    running = 0
    try:
        while True:
            if error is None:
                ready = [i for i, task in enumerate(tasks)
                         if i not in started and all(tuple(a) in done for a in task.after)]
                for i in ready:  # rendering does not wait for a kernel
                    if tasks[i].render:
                        started.add(i)
                        running += 1
                        renders.put(i)
                notebooks = [i for i in ready if not tasks[i].render]
                for i, k in _assign(notebooks, idle, tasks, rank, home) if idle else []:
                    checked.raise_if_failed()
                    task = tasks[i]
                    started.add(i)
                    running += 1
                    idle.remove(k)
                    home[task.plan.id] = k
                    bar.set_postfix_str(f"{task.plan.id}: {task.name}")
                    work[k].put(i)
            if running == 0:
                break
            while True:  # a timeout, so that Ctrl-C and SIGTERM reach this thread
                try:
                    k, i, exc = results.get(timeout=0.2)
                    break
                except queue.Empty:
                    continue
            running -= 1
            if k is not None:
                idle.append(k)
            if exc is not None:
                if error is None and not isinstance(exc, _Stopped):
                    error = exc
                    stop.set()
                continue
            done.add((tasks[i].plan.id, tasks[i].name))
            bar.update(0 if tasks[i].render else 1)
        if error is not None:
            checked.wait()  # the input check's message (it names the wave) comes first
            raise error
    except BaseException:  # a failed step, Ctrl-C or SIGTERM: the other kernels' work is not wanted
        stop.set()
        for km in list(kms.values()):
            _kill_kernel(km)
        raise
    finally:
        stop.set()
        for inbox in work:
            inbox.put(None)
        for t in threads:
            t.join(timeout=60)
        if charts is not None:
            shutil.rmtree(charts, ignore_errors=True)


def _warm_rendering() -> None:
    """Import the page and document renderers while the kernels start (nbconvert alone takes 1.5 s),
    so that the first wave's pages do not wait for it at the end of the run. A failure here is met
    again, and reported, when a page is rendered."""
    try:
        from nbconvert import HTMLExporter  # noqa: F401

        from . import documents, publish, typeset  # noqa: F401
    except Exception:  # pragma: no cover - the same import fails again where it is reported
        pass


def _kill_kernel(km: object) -> None:
    """Stop a kernel's process at once (its worker thread then sees a dead kernel and ends)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()


class _Stopped(Exception):
    """A step not started because another failed."""


def _execute_step(task: _Task, km: object, out: Path) -> None:
    """One notebook of a wave into its staging folder; a failure keeps the failed notebook aside in
    ``.csat_failed/<wave>/`` and says that nothing was published."""
    plan = task.plan
    try:
        with timed(plan.id, task.name):
            execute_notebook(task.name, plan.notebooks / f"{task.name}.ipynb", plan.params, cwd=out, km=km,
                             source=task.source, shown=plan.shown)
    except NotebookError as exc:
        failed = out / ".csat_failed" / plan.id
        shutil.rmtree(failed, ignore_errors=True)
        shutil.copytree(plan.notebooks, failed)
        raise NotebookError(
            f"notebook {task.name} failed for {plan.label} ({exc}); nothing was published. "
            f"The failed notebook is kept at {failed / (task.name + '.ipynb')}."
        ) from None


def _render_wave(plan: WavePlan | TrackingPlan, survey: Survey, engine: str) -> None:
    """Every HTML page of a wave (or of the tracking report), then its PDF and Word documents, into its
    staging folder."""
    from .publish import render_html
    from .typeset import write_documents

    with timed(plan.id, "html"):
        for notebook, page, title in plan.pages:
            render_html(notebook, plan.pages_dir / page, title=title, language=survey.language)
    with timed(plan.id, "pdf_docx"):
        first = plan.pages[0]
        documents = write_documents(first[0], plan.pages_dir / first[1], first[2], survey.language, engine)
    plan.files = [page for _, page, _ in plan.pages] + [Path(d).name for d in documents]


def _run_locked(
    survey: Survey,
    waves: list[Wave],
    out: Path,
    force: bool,
    progress: bool,
    echo: Callable[[str], None],
    engine: str = "typst",
    units: str | None = None,
    scheduler: str | None = None,
) -> RunResult:
    """:func:`run` once the output folder's lock is held."""
    from tqdm.auto import tqdm

    from .publish import inputs_fingerprint
    from .typeset import write_documents

    recover(out)
    remove_leftovers(out)
    processed = processed_root(out)
    reports = out / "reports"
    code = code_fingerprint()
    result = RunResult()
    stamps: dict[str, str] = {}
    own = user_notebooks(survey)
    todo = []
    for wave in waves:
        stamps[wave.id] = wave_fingerprint(survey, wave, stamps.get(wave.baseline or "", ""), code)
        up_to_date = Store(processed / wave.id).read_stamp() == stamps[wave.id]
        if force or not up_to_date or not (reports / f"{wave.id}.html").exists():
            todo.append(wave)

    per_wave = len(WAVE_NOTEBOOKS) + len(own)
    steps = len(waves) * per_wave + 1
    bar = tqdm(total=steps, desc="csat run", unit="step", disable=not progress, leave=True)
    plans: list[WavePlan] = []
    track: TrackingPlan | None = None
    try:
        bar.set_postfix_str("checking input")
        checked = BackgroundCheck(survey, todo)  # every wave's input, waited for before anything is published
        for wave in waves:
            if wave not in todo:
                html = reports / f"{wave.id}.html"
                report_nb = reports / "notebooks" / wave.id / "05_report.ipynb"
                if not all(html.with_suffix(s).exists() for s in (".pdf", ".docx")) and report_nb.exists():
                    title = f"{survey.title_text()} {wave.id}"
                    result.reports += write_documents(report_nb, html, title, survey.language, engine)
                result.skipped.append(wave.id)
                bar.update(per_wave)
        plans = plan_waves(survey, todo, out, own)
        # the tracking report covers this run's waves plus every other wave with results; its stamp
        # is what it would read once this run's waves are published
        tracked = tracked_waves(survey, waves, processed)
        tracking_nb = reports / "notebooks" / f"{TRACKING_NOTEBOOK}.ipynb"
        tracking_html = reports / "tracking.html"
        tracking_stamp = inputs_fingerprint(
            [], extra=[f"code:{code}",
                       *(f"{w.id}:{stamps.get(w.id) or Store(processed / w.id).read_stamp()}" for w in tracked)]
        )
        if force or Store(processed).read_stamp() != tracking_stamp or not tracking_html.exists():
            track = plan_tracking(survey, tracked, plans, out)
        run_waves(plans, own, survey, out, engine, checked, bar, track)
        bar.set_postfix_str("waiting for the input check")
        checked.wait()
        for plan in plans:  # in baseline order, each wave whole (the stamp last): see analysis.store.publish_wave
            publish_wave(out, plan.wave.id, plan.moves(), stamps[plan.wave.id], {"wave": plan.wave.id})
            if not (units or survey.units):
                from .units import drop_stale_units

                drop_stale_units(out, plan.wave.id)
            result.ran.append(plan.wave.id)
            result.reports.append(reports / f"{plan.wave.id}.html")
            result.reports += [reports / name for name in plan.files[len(plan.pages):]]
            result.reports.extend(reports / page for _, page, _ in plan.pages[1:])
        for plan in plans:
            plan.remove_staging()
        plans = []

        if track is not None:  # after the waves it reads (analysis.store.publish_wave)
            publish_wave(out, "tracking", track.moves(), tracking_stamp, {"tracking": track.waves},
                         stamp_folder=processed)
            track.remove_staging()
            result.reports.append(tracking_html)
            result.reports += [reports / name for name in track.files[1:]]
            track = None
        else:  # up to date: only documents missing beside it are written
            if tracking_nb.exists() and not all(tracking_html.with_suffix(s).exists() for s in (".pdf", ".docx")):
                title = word("title.tracking", survey.language, survey=survey.title_text())
                result.reports += write_documents(tracking_nb, tracking_html, title, survey.language, engine)
            bar.update(1)
        index = build_index(survey, [w.id for w in tracked], processed, reports)
        result.reports.append(index)
        segment = units or survey.units
        if segment:
            from .units import write_unit_reports

            bar.set_postfix_str(f"unit reports by {segment}")
            done = write_unit_reports(survey, waves, segment, out, scheduler=scheduler)
            result.reports += [p for pages in done.pages.values() for p in pages.values()]
            if done.index is not None:
                result.reports.append(done.index)
    finally:
        for plan in [*plans, *([track] if track else [])]:  # a run stopped before publishing: nothing stays
            plan.remove_staging()
        bar.close()
    if result.skipped:
        echo(
            f"Skipped {len(result.skipped)} unchanged wave(s): {', '.join(result.skipped)} "
            "(inputs, survey definition and code as in the last run; use --force to re-run)."
        )
    return result


def tracked_waves(survey: Survey, waves: Sequence[Wave], processed_root: Path) -> list[Wave]:
    """The waves the tracking report and index cover: this run's waves plus every other wave file
    beside the survey definition that has results already (``csat run --wave new.yaml`` keeps the
    earlier waves in the tracking report), in baseline order."""
    folder = Path(survey.path).parent / "waves"
    known = {w.id: w for w in waves}
    if folder.is_dir():
        for path in discover_waves(folder) if any(folder.glob("*.y*ml")) else []:
            try:
                other = load_wave(path)
            except InputError:
                continue  # a broken wave file that this run did not ask for does not block the report
            if other.id not in known and Store(processed_root / other.id).exists("headline"):
                known[other.id] = other
    return order_waves(list(known.values()))


def build_index(survey: Survey, wave_ids: Sequence[str], processed_root: Path, reports: Path) -> Path:
    """Write ``reports/index.html`` with each wave's headline numbers and KPIs met."""
    from .publish import status_counts, write_index

    entries = []
    for wid in wave_ids:
        store = Store(processed_root / wid)
        if not store.exists("headline"):
            continue
        head = store.read("headline").set_index("metric")["value"]
        kpis = store.get("kpis")
        formats = (("pdf", "index_page.pdf"), ("docx", "index_page.docx"))
        entries.append(
            {
                "wave": wid,
                "href": f"{wid}.html",
                "documents": [
                    (word(key, survey.language), f"{wid}.{ext}")
                    for ext, key in formats
                    if (reports / f"{wid}.{ext}").exists()
                ],
                "csi": head.get("csi"),
                "satisfaction_rate": head.get("satisfaction_rate"),
                "nps": head.get("nps"),
                "n": store.read("summary").get("kept_rows"),
                "kpis_met": status_counts(kpis) if kpis is not None else "",
            }
        )
    return write_index(reports, entries, title=survey.title_text(), language=survey.language)
