"""The papermill runner: atomic waves, failed notebooks kept aside, SPSS input through every stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.cli import main
from analysis.runner import WAVE_NOTEBOOKS, notebooks_dir
from conftest import MOBI


@pytest.fixture
def mobi_survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real mobi data as an SPSS .sav export with value labels on a text segment."""
    pyreadstat = pytest.importorskip("pyreadstat")
    if not MOBI.exists():
        pytest.skip("needs ../shared/data/ecsi-mobi")
    monkeypatch.setenv("CSAT_ID_KEY", "test")
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
    assert "03_inferential failed for wave mobi" in " ".join(err.split())
    processed = mobi_survey / "data" / "processed"
    assert not (processed / "mobi").exists()
    assert not [p for p in processed.rglob("*") if p.is_file()]  # no staging left behind
    reports = mobi_survey / "reports"
    assert not [p for p in reports.rglob("*") if p.is_file()]
    assert (mobi_survey / ".csat_failed" / "mobi" / "03_inferential.ipynb").exists()
