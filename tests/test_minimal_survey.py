"""A minimal survey definition (only scales, items and overall_satisfaction) runs every notebook.

Built from the real ECSI mobi data: no segments, no loyalty, no recommend item, no paths, no
index, no targets, no respondent id. Everything optional in CONTRACT section 1 is left out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from conftest import MOBI

pytestmark = [
    pytest.mark.slow,
]


def test_minimal_survey_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSAT_ID_KEY", "test-key-0123456789")
    mobi = pd.read_csv(MOBI)
    (tmp_path / "params" / "waves").mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    mobi.to_csv(tmp_path / "data" / "raw" / "mobi.csv", index=False)
    items = "\n".join(f"  - {{id: {c}, construct: {c.rstrip('0123456789')}}}" for c in mobi.columns)
    (tmp_path / "params" / "survey.yaml").write_text(
        f"scales:\n  ten: {{min: 1, max: 10}}\nitems:\n{items}\noverall_satisfaction: CUSA1\n",
        encoding="utf-8",
    )
    (tmp_path / "params" / "waves" / "w.yaml").write_text("wave: mobi\nraw: ../../data/raw/mobi.csv\n")
    status = main(
        ["run", "--survey", str(tmp_path / "params" / "survey.yaml"), "--out", str(tmp_path), "--no-progress"]
    )
    assert status == 0
    processed = tmp_path / "data" / "processed" / "mobi"
    log = pd.read_csv(processed / "cleaning_log.csv")
    assert len(log) == len(mobi)
    stats = pd.read_csv(processed / "item_stats.csv").set_index("item")
    kept = mobi[log["kept"].to_numpy()]
    assert stats.loc["CUSA1", "mean"] == pytest.approx(kept["CUSA1"].mean())
    assert stats.loc["IMAG1", "index"] == pytest.approx((kept["IMAG1"].mean() - 1) / 9 * 100)
    assert (processed / "ipa.csv").exists() and not (processed / "zones.csv").exists()
    assert (tmp_path / "reports" / "mobi.html").exists() and (tmp_path / "reports" / "index.html").exists()


def test_notebooks_run_with_their_defaults_on_another_survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 11, point 7: the source notebooks, opened in another survey's project (its params/, wave ids that
    are not the demo's, no segments, loyalty or paths), run with their default parameters (nbval-lax)."""
    import os
    import shutil
    import subprocess
    import sys

    monkeypatch.setenv("CSAT_ID_KEY", "test-key-0123456789")
    mobi = pd.read_csv(MOBI).head(120)
    (tmp_path / "params" / "waves").mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    mobi.to_csv(tmp_path / "data" / "raw" / "m1.csv", index=False)
    mobi.iloc[::-1].to_csv(tmp_path / "data" / "raw" / "m2.csv", index=False)
    items = "\n".join(f"  - {{id: {c}, construct: {c.rstrip('0123456789')}}}" for c in mobi.columns)
    (tmp_path / "params" / "survey.yaml").write_text(
        f"scales:\n  ten: {{min: 1, max: 10}}\nitems:\n{items}\noverall_satisfaction: CUSA1\n", encoding="utf-8"
    )
    (tmp_path / "params" / "waves" / "a.yaml").write_text("wave: y2\nraw: ../../data/raw/m2.csv\nbaseline: y1\n")
    (tmp_path / "params" / "waves" / "b.yaml").write_text("wave: y1\nraw: ../../data/raw/m1.csv\n")
    assert main(["run", "--survey", str(tmp_path / "params" / "survey.yaml"), "--out", str(tmp_path), "--no-progress"]) == 0
    shutil.copytree(Path(__file__).resolve().parents[1] / "notebooks", tmp_path / "notebooks")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", str(tmp_path / "notebooks")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "CSAT_ID_KEY": "test-key-0123456789"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout or " passed" in result.stdout
