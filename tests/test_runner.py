"""The papermill runner: atomic waves, failed notebooks kept aside, SPSS input through every stage,
the notebooks as package data and a plain (non-editable) install that runs from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pyreadstat
import pytest
import tomllib

from analysis.cli import main
from analysis.runner import TRACKING_NOTEBOOK, WAVE_NOTEBOOKS, code_fingerprint, notebooks_dir
from conftest import MOBI


@pytest.fixture
def mobi_survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real mobi data as an SPSS .sav export with value labels on a text segment."""
    monkeypatch.setenv("CSAT_ID_KEY", "test-key-0123456789")
    mobi = pd.read_csv(MOBI).astype(float)
    mobi.insert(0, "region", [float(i % 3 + 1) for i in range(len(mobi))])
    (tmp_path / "params" / "waves").mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    pyreadstat.write_sav(
        mobi,
        str(tmp_path / "data" / "raw" / "mobi.sav"),
        variable_value_labels={"region": {1.0: "华东", 2.0: "华南", 3.0: "华北"}},
    )
    items = "\n".join(f"  - {{id: {c}, construct: {c.rstrip('0123456789')}}}" for c in mobi.columns[1:])
    (tmp_path / "params" / "survey.yaml").write_text(
        "language: zh\nsegments: [region]\nscales:\n  ten: {min: 1, max: 10}\n"
        f"items:\n{items}\noverall_satisfaction: CUSA1\nloyalty: [CUSL1, CUSL3]\n"
        "paths: [[IMAG, CUSA], [CUEX, CUSA], [PERV, CUSA]]\npls: {bootstrap: 200}\n",
        encoding="utf-8",
    )
    (tmp_path / "params" / "waves" / "w.yaml").write_text("wave: mobi\nraw: ../../data/raw/mobi.sav\n")
    return tmp_path


def run(root: Path) -> int:
    return main(
        ["run", "--survey", str(root / "params" / "survey.yaml"), "--out", str(root), "--no-progress"]
    )


@pytest.mark.slow
def test_spss_export_runs_every_stage(mobi_survey: Path) -> None:
    assert run(mobi_survey) == 0
    processed = mobi_survey / "data" / "processed" / "mobi"
    clean = pd.read_parquet(processed / "clean.parquet")
    assert set(clean["region"]) == {"华东", "华南", "华北"}  # SPSS value labels kept for segments
    paths = pd.read_csv(processed / "csi_paths.csv").set_index(["source", "target"])["estimate"]
    # same blocks as the published seminr model (Image, Expectation, Value -> Satisfaction) on the kept rows
    assert len(paths) == 3
    groups = pd.read_csv(processed / "group_tests.csv")
    assert set(groups.loc[groups["test"] == "welch_anova", "group"]) == {"region"}
    assert (mobi_survey / "reports" / "mobi.html").exists()


@pytest.mark.slow
def test_failing_notebook_leaves_nothing_half_written(
    mobi_survey: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, capsys
) -> None:
    broken = tmp_path_factory.mktemp("notebooks")
    for name in [*WAVE_NOTEBOOKS, "06_tracking"]:
        shutil.copy(notebooks_dir() / f"{name}.ipynb", broken / f"{name}.ipynb")
    nb = nbformat.read(broken / "03_inferential.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom in the middle of a wave')"))
    nbformat.write(nb, broken / "03_inferential.ipynb")
    monkeypatch.setenv("CSAT_NOTEBOOKS", str(broken))
    assert run(mobi_survey) == 1
    err = capsys.readouterr().err
    said = " ".join(err.split())
    assert "03_inferential failed for wave mobi" in said
    # the console names the cause and where: the exception, its message and the cell (issue 11, point 2)
    assert "RuntimeError in cell [" in said and "boom in the middle of a wave" in said
    processed = mobi_survey / "data" / "processed"
    assert not (processed / "mobi").exists()
    assert not [p for p in processed.rglob("*") if p.is_file()]  # no staging left behind
    reports = mobi_survey / "reports"
    assert not [p for p in reports.rglob("*") if p.is_file()]
    assert (mobi_survey / ".csat_failed" / "mobi" / "03_inferential.ipynb").exists()


@pytest.mark.slow
def test_the_analysts_own_notebook_runs_for_every_wave(mobi_survey: Path) -> None:
    """docs/architecture.md: a notebook in <project>/notebooks/ runs after the standard five, on the same store."""
    (mobi_survey / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('survey_path = wave_path = processed_dir = baseline_dir = ""\nout_root = ".."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "from analysis import WaveAnalysis\n"
            "wa = WaveAnalysis.load(survey_path, wave_path, processed_dir, baseline_dir, out_root)\n"
            "head = wa.read('headline').set_index('metric')\n"
            "print(f\"own look: CSI {head.loc['csi', 'value']:.6f}\")"
        ),
    ]
    nbformat.write(nb, mobi_survey / "notebooks" / "my_look.ipynb")
    assert run(mobi_survey) == 0
    head = pd.read_csv(mobi_survey / "data" / "processed" / "mobi" / "headline.csv").set_index("metric")
    page = (mobi_survey / "reports" / "mobi.my_look.html").read_text(encoding="utf-8")
    assert f"own look: CSI {head.loc['csi', 'value']:.6f}" in page
    assert (mobi_survey / "reports" / "notebooks" / "mobi" / "my_look.ipynb").exists()


def test_kernel_threads_are_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.runner import kernel_env

    monkeypatch.delenv("CSAT_THREADS", raising=False)
    env = kernel_env()
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    monkeypatch.setenv("CSAT_THREADS", "2")
    assert kernel_env()["OPENBLAS_NUM_THREADS"] == "2"


REPO = Path(__file__).resolve().parents[1]


def test_notebooks_are_package_data_of_the_source_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSAT_NOTEBOOKS", raising=False)
    # the editable install maps analysis.notebooks onto the repository's notebooks/ (pyproject package-dir)
    assert notebooks_dir().resolve() == REPO / "notebooks"
    for name in [*WAVE_NOTEBOOKS, TRACKING_NOTEBOOK]:
        assert (notebooks_dir() / f"{name}.ipynb").is_file()


def test_every_package_is_listed_in_pyproject() -> None:
    """The packages list is explicit (for the notebooks mapping): a new subpackage must be added to it."""
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    src = REPO / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in src.rglob("__init__.py")}
    assert set(cfg["packages"]) == found | {"analysis.notebooks"}
    assert cfg["package-dir"] == {"": "src", "analysis.notebooks": "notebooks"}
    assert cfg["package-data"]["analysis.notebooks"] == ["*.ipynb"]


def test_code_fingerprint_covers_the_notebooks(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.delenv("CSAT_NOTEBOOKS", raising=False)
    before = code_fingerprint()
    copy = tmp_path_factory.mktemp("notebooks")
    for source in notebooks_dir().glob("*.ipynb"):
        shutil.copy(source, copy / source.name)
    monkeypatch.setenv("CSAT_NOTEBOOKS", str(copy))
    assert code_fingerprint() == before  # same notebooks elsewhere: same fingerprint
    nb = nbformat.read(copy / "04_zones.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("one more sentence"))
    nbformat.write(nb, copy / "04_zones.ipynb")
    assert code_fingerprint() != before


def _copy_source(target: Path) -> Path:
    """What a clone holds that the build needs, without caches or build leftovers."""
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(REPO / name, target / name)
    for name in ["src", "notebooks"]:
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    return target


@pytest.mark.slow
def test_plain_install_runs_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    """``pip install .`` (not ``-e``), then ``csat check`` and ``csat run`` of one demo wave in a folder
    holding only copies of params/ and data/raw/, with the installed package first on the path."""
    source = _copy_source(Path(tmp_path / "source"))
    site = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    shutil.rmtree(source)  # nothing may come from the source tree after the install
    assert (site / "analysis" / "notebooks" / "01_clean.ipynb").is_file()
    assert not [p for p in site.iterdir() if p.suffix == ".pth" or p.name.startswith("__editable__")]

    work = tmp_path / "work"
    shutil.copytree(REPO / "params", work / "params")
    shutil.copytree(REPO / "data" / "raw", work / "data" / "raw")
    env = {k: v for k, v in os.environ.items() if k not in {"CSAT_NOTEBOOKS", "CSAT_DEBUG", "PYTHONPATH"}}
    env.update(PYTHONPATH=str(site), CSAT_ID_KEY="test-key-0123456789", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

    def python(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=work, env=env, capture_output=True, text=True, timeout=900
        )

    where = python("-c", "import analysis.runner as r; print(r.__file__); print(r.notebooks_dir())")
    assert where.returncode == 0, where.stderr
    assert all(Path(line).is_relative_to(site) for line in where.stdout.split()), where.stdout

    inputs = sorted(p for p in work.rglob("*"))
    check = python("-m", "analysis.cli", "check")
    assert check.returncode == 0, check.stderr
    assert sorted(p for p in work.rglob("*")) == inputs  # check writes nothing

    run = python("-m", "analysis.cli", "run", "--wave", "params/waves/2025H1.yaml", "--no-progress")
    assert run.returncode == 0, run.stderr
    assert (work / "reports" / "2025H1.html").is_file() and (work / "reports" / "index.html").is_file()
    head = pd.read_csv(work / "data" / "processed" / "2025H1" / "headline.csv").set_index("metric")
    assert {"csi", "satisfaction_rate", "nps"} <= set(head.index)


def test_background_check_raises_a_bad_later_wave_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-flight runs beside the notebooks; its refusal of any wave reaches the main thread, between
    notebooks (raise_if_failed) or at the latest before publishing (wait), and a good run raises nothing."""
    import time
    from types import SimpleNamespace

    from analysis import runner
    from analysis.errors import InputError

    checked: list[str] = []

    def fake(survey: object, waves: list) -> list:
        for wave in waves:
            checked.append(wave.id)
            if wave.id == "bad":
                raise InputError("wave bad cannot be run: Nothing was published")
        return []

    monkeypatch.setattr(runner, "preflight", fake)
    good = runner.BackgroundCheck(object(), [SimpleNamespace(id=w) for w in ("w1", "w2")])  # type: ignore[arg-type]
    good.wait()
    good.raise_if_failed()
    assert checked == ["w1", "w2"]
    bad = runner.BackgroundCheck(object(), [SimpleNamespace(id=w) for w in ("w1", "bad", "w3")])  # type: ignore[arg-type]
    for _ in range(200):  # the thread fails quickly; raise_if_failed then raises without waiting
        if bad._error is not None:
            break
        time.sleep(0.01)
    with pytest.raises(InputError, match="Nothing was published"):
        bad.raise_if_failed()
    with pytest.raises(InputError):
        bad.wait()
    assert "w3" not in checked  # the check stops at the first bad wave


def test_timings_are_written_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from analysis import runner

    monkeypatch.delenv(runner.TIMINGS_ENV, raising=False)
    with runner.timed("w1", "01_clean"):
        pass
    log = tmp_path / "timings.jsonl"
    monkeypatch.setenv(runner.TIMINGS_ENV, str(log))
    with runner.timed("w1", "01_clean"):
        pass
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["wave"], r["step"]) for r in rows] == [("w1", "01_clean")] and rows[0]["seconds"] >= 0


def test_the_kernel_reset_clears_every_name_of_the_previous_notebook(tmp_path: Path) -> None:
    """Between two notebooks of a run the shared kernel keeps no variable of the first (only its modules)."""
    import nbformat

    from analysis.runner import execute_notebook, shared_kernel

    first, second = tmp_path / "first.ipynb", tmp_path / "second.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("parameters = 1"), nbformat.v4.new_code_cell("secret = 41\n_hidden = 2\nsecret + 1")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, first)
    nb2 = nbformat.v4.new_notebook()
    nb2.cells = [nbformat.v4.new_code_cell("parameters = 1"), nbformat.v4.new_code_cell(
        "left = sorted(k for k in dir() if k in {'secret', '_hidden', '_csat_clear'})\n"
        "assert left == [], left\nassert 'get_ipython' in dir()")]
    nb2.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb2, second)
    with shared_kernel(tmp_path) as km:
        execute_notebook("first", tmp_path / "out1.ipynb", {}, cwd=tmp_path, km=km, source=first)
        execute_notebook("second", tmp_path / "out2.ipynb", {}, cwd=tmp_path, km=km, source=second)
    out = nbformat.read(tmp_path / "out1.ipynb", as_version=4)
    assert out.cells[-1].outputs[0]["data"]["text/plain"] == "42"  # results are still shown


def test_the_steps_of_a_run_wait_for_the_baseline_tables_they_read() -> None:
    """Two kernels: a wave's change waits for its baseline's descriptive notebook (and so do its later
    notebooks, which follow it); its own cleaning needs nothing of the baseline."""
    from types import SimpleNamespace

    from analysis.runner import BASELINE_NEEDS, _tasks

    def plan(wave: str, baseline: str | None) -> SimpleNamespace:
        return SimpleNamespace(id=wave, wave=SimpleNamespace(id=wave, baseline=baseline))

    tasks = {(t.plan.wave.id, t.name): t.after for t in _tasks([plan("w1", None), plan("w2", "w1")], [])}
    assert tasks[("w2", "01_clean")] == []
    assert tasks[("w2", "03_inferential")] == [("w2", "02_descriptive"), ("w1", "02_descriptive")]
    assert tasks[("w2", "05_report")] == [("w2", "04_zones")]
    assert tasks[("w2", "render")] == [("w2", "05_report")]
    assert BASELINE_NEEDS == {"03_inferential": "02_descriptive"}
    # a baseline outside the run (published earlier) adds nothing
    assert _tasks([plan("w2", "w0")], [])[2].after == [("w2", "02_descriptive")]


@pytest.mark.slow
def test_no_notebook_reads_a_baseline_table_its_wave_does_not_wait_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's first two waves, the steps each standard notebook calls (``wa.<step>()``), one
    WaveAnalysis per notebook as in the kernels: every table of the baseline that a notebook of the
    second wave reads was written by a baseline notebook that the run's task graph (:func:`_tasks`)
    puts before it. A table read too early would be missing, or stale, on two kernels."""
    import re
    from types import SimpleNamespace

    from analysis import WaveAnalysis
    from analysis.runner import _tasks
    from analysis.store import TABLES, Store

    monkeypatch.setenv("CSAT_ID_KEY", "test-key-0123456789")
    repo = Path(__file__).resolve().parents[1]
    survey = repo / "params" / "survey.yaml"
    steps = {}
    for name in WAVE_NOTEBOOKS:
        code = "\n".join("".join(c.source) for c in nbformat.read(notebooks_dir() / f"{name}.ipynb", 4).cells
                         if c.cell_type == "code")
        steps[name] = [s for s in re.findall(r"^\s*(?:\w+ = )?wa\.(\w+)\(\)", code, re.M) if s != "save"]
    assert steps["01_clean"] == ["clean"] and "kpis" in steps["03_inferential"]

    def run(wave: str, baseline: Path | None, reads: dict[str, set[str]] | None) -> dict[str, str]:
        folder, written = tmp_path / wave, {}
        for name in WAVE_NOTEBOOKS:
            wa = WaveAnalysis.load(survey, repo / "params" / "waves" / f"{wave}.yaml", folder, baseline or "",
                                   tmp_path)
            if reads is not None:
                reads[name] = set()
                for method in ("read", "exists"):
                    real = getattr(Store, method)

                    def spy(self, table, *a, _real=real, _seen=reads[name], **k):
                        if Path(self.folder) == baseline:
                            _seen.add(table)
                        return _real(self, table, *a, **k)

                    monkeypatch.setattr(wa.baseline, method, spy.__get__(wa.baseline))
            for step in steps[name]:
                getattr(wa, step)()
            wa.save()
            written.update({t: name for t in TABLES if t not in written and Store(folder).exists(t)})
        return written

    written = run("2025H1", None, None)
    reads: dict[str, set[str]] = {}
    written = {**run("2025H2", tmp_path / "2025H1", reads), **written}  # wave_change: only with a baseline
    assert reads["03_inferential"] >= {"operations", "headline"} and "clean" in reads["05_report"], reads

    def plan(wave: str, baseline: str | None) -> SimpleNamespace:
        return SimpleNamespace(id=wave, wave=SimpleNamespace(id=wave, baseline=baseline))

    tracking = SimpleNamespace(id="tracking")
    after = {(t.plan.id, t.name): t.after
             for t in _tasks([plan("w1", None), plan("w2", "w1")], [], tracking)}

    def before(task: tuple[str, str]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for a in after[task]:
            found |= {tuple(a), *before(tuple(a))}
        return found

    for name, tables in reads.items():
        done = {step for wave, step in before(("w2", name)) if wave == "w1"}
        late = {t: written.get(t) for t in tables if written.get(t) not in done}
        assert not late, f"{name} of a wave reads the baseline's {late} before the notebooks that write them"

    # the tracking report (every call notebook 06 makes) reads only what its waves' notebooks up to
    # TRACKING_NEEDS wrote
    from analysis.tracking import Tracking

    code = "\n".join("".join(c.source) for c in nbformat.read(notebooks_dir() / "06_tracking.ipynb", 4).cells
                     if c.cell_type == "code")
    track = Tracking.load(survey, tmp_path, ["2025H1", "2025H2"])
    seen: set[str] = set()
    real_read = track._read
    track._read = lambda wave, name: seen.add(name) or real_read(wave, name)
    for call in sorted(set(re.findall(r"track\.(\w+)\(\)", code))):
        getattr(track, call)()
    assert {"kpis", "headline", "zones"} <= seen, seen
    tracking_after = {step for wave, step in before(("tracking", TRACKING_NOTEBOOK)) if wave == "w2"}
    late = {t: written.get(t) for t in seen if written.get(t) not in tracking_after}
    assert not late, f"the tracking report reads {late} before the notebooks that write them"


def test_the_scheduler_starts_the_longest_road_first_and_keeps_a_wave_on_its_kernel() -> None:
    """:func:`_ranks`: a baseline's descriptive notebook (its followers wait for it) outranks a later
    wave's; :func:`_assign`: a wave's next notebook goes to the kernel that ran its last one when that
    kernel is idle, and a step without a home takes a kernel no other ready step calls home."""
    from types import SimpleNamespace

    from analysis.runner import _assign, _ranks, _tasks

    def plan(wave: str, baseline: str | None) -> SimpleNamespace:
        return SimpleNamespace(id=wave, wave=SimpleNamespace(id=wave, baseline=baseline))

    tasks = _tasks([plan("w1", None), plan("w2", "w1"), plan("w3", "w2")], [])
    at = {(t.plan.wave.id, t.name): i for i, t in enumerate(tasks)}
    rank = _ranks(tasks)
    twos = [at[(w, "02_descriptive")] for w in ("w1", "w2", "w3")]
    assert rank[twos[0]] >= rank[twos[1]] >= rank[twos[2]] > rank[at[("w1", "04_zones")]]
    assert _assign(twos[::-1], [0], tasks, rank, {}) == [(twos[0], 0)]  # equals: in run order
    assert rank[at[("w3", "01_clean")]] > rank[at[("w1", "05_report")]]  # start the next wave before a report
    assert rank[at[("w1", "render")]] == min(rank)
    ready = [at[("w1", "05_report")], at[("w3", "01_clean")]]
    assert _assign(ready, [0, 1], tasks, rank, {"w1": 1}) == [(at[("w3", "01_clean")], 0), (at[("w1", "05_report")], 1)]
    assert _assign(ready, [0], tasks, rank, {"w1": 0}) == [(at[("w3", "01_clean")], 0)]  # rank first
    assert _assign([at[("w1", "05_report")]], [0, 1], tasks, rank, {}) == [(at[("w1", "05_report")], 0)]
