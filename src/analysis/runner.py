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

from . import __version__
from .errors import InputError
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
from .wave import check
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


@contextmanager
def shared_kernel(cwd: Path) -> Iterator[object]:
    """One Python kernel for a sequence of notebooks (saves the start-up and import time of each).

    :func:`execute_notebook` clears the kernel's namespace (:data:`RESET_CODE`) before
    every notebook, so no notebook can depend on another's variables; only
    imported modules stay loaded.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

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
    run_sync(km.start_kernel)(cwd=str(cwd), env=kernel_env())
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
            cwd=str(cwd),
            **extra,
        )
    except PapermillExecutionError as exc:
        if exc.ename in {"InputError", "DataError", "SurveyDefinitionError", "AHPInconsistentError"}:
            raise InputError(str(exc.evalue)) from None
        cell = f" in cell [{exc.exec_count}]" if getattr(exc, "exec_count", None) else ""
        raise NotebookError(f"{exc.ename}{cell}: {exc.evalue}") from None
    stabilise_notebook(output, shown if shown is not None else parameters, Path(cwd))


_ADDRESS = re.compile(r" at 0x[0-9a-f]{1,16}>")
#: Papermill's notebook-level metadata that records the clock or where the run happened.
_RUN_METADATA = ("start_time", "end_time", "duration", "input_path", "output_path")


def stabilise_notebook(path: Path, shown: Mapping[str, object], root: Path) -> None:
    """Make an executed notebook the same byte for byte on every run of the same inputs.

    Inputs: the executed notebook, the parameters to show in it (the published folders, not the
    run's staging folders) and the output folder ``root``. Method: every path parameter is written
    relative to ``root``; papermill's times, durations and paths, nbclient's per-cell execution
    times and the memory addresses in objects' text forms (``<Styler at 0x7f..>``) are removed; the parameters cell papermill injected gets that text and the fixed id
    ``injected-parameters`` (papermill draws a random one); the notebook is written back atomically.
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
    for cell in nb.cells:
        for output in cell.get("outputs", []):
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


@contextmanager
def timed(wave: str, step: str) -> Iterator[None]:
    """Append ``{"wave", "step", "seconds"}`` as one JSON line to the file named by ``CSAT_TIMINGS``
    when it is set (``scripts/bench_scale.py`` reads it); otherwise do nothing. The time never reaches
    an output (reruns stay byte-identical)."""
    path = os.environ.get(TIMINGS_ENV)
    start = time.perf_counter()
    try:
        yield
    finally:
        if path:
            line = json.dumps({"wave": wave, "step": step, "seconds": round(time.perf_counter() - start, 3)})
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def preflight(survey: Survey, waves: Sequence[Wave]) -> list[object]:
    """Check every wave of the run (:func:`analysis.wave.check`) before any is published.

    One bad wave refuses the whole run: the :class:`~analysis.errors.InputError` names the wave and
    says that nothing was published. Returns the checks' results, in the waves' order.
    """
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
    finally:
        held.__exit__(None, None, None)


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

    from .publish import inputs_fingerprint, render_html
    from .typeset import write_documents

    recover(out)
    remove_leftovers(out)
    processed = processed_root(out)
    reports = out / "reports"
    code = code_fingerprint()
    result = RunResult()
    stamps: dict[str, str] = {}
    done_ids = [w.id for w in waves]
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
    stack = ExitStack()
    kernels: list[object] = []

    def kernel() -> object:
        """The run's shared kernel, started on first use (a no-op re-run starts none)."""
        if not kernels:
            kernels.append(stack.enter_context(shared_kernel(out)))
        return kernels[0]

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
                continue
            target = Store(processed / wave.id)
            baseline_dir = processed / wave.baseline if wave.baseline in done_ids else None
            wave_staging = staging(processed, wave.id)
            nb_staging = staging(reports / "notebooks", wave.id)
            html_staging = staging(reports, wave.id)
            try:
                params = {
                    "survey_path": str(Path(survey.path).resolve()),
                    "wave_path": str(Path(wave.path).resolve()),
                    "processed_dir": str(wave_staging),
                    "baseline_dir": str(baseline_dir) if baseline_dir else "",
                    "out_root": str(out),
                }
                shown = {**params, "processed_dir": str(target.folder)}
                for name, source in [*((n, None) for n in WAVE_NOTEBOOKS), *((p.stem, p) for p in own)]:
                    bar.set_postfix_str(f"{wave.id}: {name}")
                    checked.raise_if_failed()
                    try:
                        with timed(wave.id, name):
                            execute_notebook(
                                name,
                                nb_staging / f"{name}.ipynb",
                                params,
                                cwd=out,
                                km=kernel(),
                                source=source,
                                shown=shown,
                            )
                    except InputError:
                        checked.wait()  # the check's message (it names the wave) comes first
                        raise
                    except NotebookError as exc:
                        checked.wait()
                        # keep the failed notebook for debugging, outside the published reports
                        failed = out / ".csat_failed" / wave.id
                        shutil.rmtree(failed, ignore_errors=True)
                        shutil.copytree(nb_staging, failed)
                        raise NotebookError(
                            f"notebook {name} failed for wave {wave.id} ({exc}); nothing was written for this "
                            f"wave. The failed notebook is kept at {failed / (name + '.ipynb')}."
                        ) from None
                    bar.update(1)
                # every HTML page is rendered before anything is published
                pages = [(nb_staging / "05_report.ipynb", f"{wave.id}.html", f"{survey.title_text()} {wave.id}")]
                pages += [
                    (nb_staging / nb.name, f"{wave.id}.{nb.stem}.html", f"{survey.title_text()} {wave.id}: {nb.stem}")
                    for nb in own
                ]
                with timed(wave.id, "html"):
                    for notebook, page, title in pages:
                        render_html(notebook, html_staging / page, title=title, language=survey.language)
                bar.set_postfix_str(f"{wave.id}: PDF and Word")
                wave_html = html_staging / pages[0][1]
                with timed(wave.id, "pdf_docx"):
                    documents = write_documents(pages[0][0], wave_html, pages[0][2], survey.language, engine)
                files = [page for _, page, _ in pages] + [Path(d).name for d in documents]
                moves = [(wave_staging, target.folder), (nb_staging, reports / "notebooks" / wave.id)]
                moves += [(html_staging / name, reports / name) for name in files]
                bar.set_postfix_str(f"{wave.id}: waiting for the input check")
                checked.wait()
                publish_wave(out, wave.id, moves, stamps[wave.id], {"wave": wave.id})
                if not (units or survey.units):
                    from .units import drop_stale_units

                    drop_stale_units(out, wave.id)
            finally:
                for folder in (wave_staging, nb_staging, html_staging):
                    shutil.rmtree(folder, ignore_errors=True)
            result.ran.append(wave.id)
            result.reports.append(reports / f"{wave.id}.html")
            result.reports += [reports / name for name in files[len(pages):]]
            result.reports.extend(reports / page for _, page, _ in pages[1:])

        bar.set_postfix_str("tracking")
        tracked = tracked_waves(survey, waves, processed)
        tracking_nb = reports / "notebooks" / f"{TRACKING_NOTEBOOK}.ipynb"
        tracking_html = reports / "tracking.html"
        tracking_stamp = inputs_fingerprint(
            [], extra=[f"code:{code}", *(f"{w.id}:{Store(processed / w.id).read_stamp()}" for w in tracked)]
        )
        if force or Store(processed).read_stamp() != tracking_stamp or not tracking_html.exists():
            track_staging = staging(reports, "tracking")
            try:
                with timed("tracking", TRACKING_NOTEBOOK):
                    execute_notebook(
                        TRACKING_NOTEBOOK,
                        track_staging / tracking_nb.name,
                        {
                            "survey_path": str(Path(survey.path).resolve()),
                            "processed_root": str(processed),
                            "waves": [w.id for w in tracked],
                            "wave_paths": [str(Path(w.path).resolve()) for w in tracked],
                            "out_root": str(out),
                        },
                        cwd=out,
                        km=kernel(),
                    )
                title = word("title.tracking", survey.language, survey=survey.title_text())
                render_html(
                    track_staging / tracking_nb.name,
                    track_staging / tracking_html.name,
                    title=title,
                    language=survey.language,
                )
                documents = write_documents(
                    track_staging / tracking_nb.name, track_staging / tracking_html.name, title, survey.language, engine
                )
                moves = [
                    (track_staging / tracking_nb.name, tracking_nb),
                    (track_staging / tracking_html.name, tracking_html),
                    *((Path(d), reports / Path(d).name) for d in documents),
                ]
                publish_wave(out, "tracking", moves, tracking_stamp, {"tracking": [w.id for w in tracked]},
                             stamp_folder=processed)
            finally:
                shutil.rmtree(track_staging, ignore_errors=True)
            result.reports.append(tracking_html)
            result.reports += [reports / Path(d).name for d in documents]
        elif tracking_nb.exists() and not all(tracking_html.with_suffix(s).exists() for s in (".pdf", ".docx")):
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
        stack.close()
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
