"""The cross-wave tracking report: its default waves and a survey whose waves have no results yet (issue 11,
point 7: the notebooks' defaults are the repository's own params, not the demo's wave ids)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.tracking import Tracking
from analysis.wave import WaveAnalysis

ROOT = Path(__file__).resolve().parents[1]

SURVEY = """\
scales:
  five: {min: 1, max: 5}
items:
  - {id: q1, scale: five, construct: Quality}
  - {id: q2, scale: five, construct: Satisfaction}
overall_satisfaction: q2
"""


def _project(tmp_path: Path) -> Path:
    """A survey with two waves whose file names sort against their baseline order (b.yaml is the first)."""
    (tmp_path / "params" / "waves").mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "params" / "survey.yaml").write_text(SURVEY, encoding="utf-8")
    pd.DataFrame({"q1": [1, 2, 3, 4, 5, 4], "q2": [2, 3, 3, 5, 4, 4]}).to_csv(
        tmp_path / "data" / "raw" / "r.csv", index=False
    )
    waves = tmp_path / "params" / "waves"
    (waves / "a.yaml").write_text("wave: later\nraw: ../../data/raw/r.csv\nbaseline: first\n", encoding="utf-8")
    (waves / "b.yaml").write_text("wave: first\nraw: ../../data/raw/r.csv\n", encoding="utf-8")
    return tmp_path


def test_tracking_defaults_to_the_survey_wave_files_in_baseline_order(tmp_path: Path) -> None:
    root = _project(tmp_path)
    processed = root / "data" / "processed"
    track = Tracking.load(root / "params" / "survey.yaml", processed)
    assert track.waves == [] and [w.id for w in track.wave_files] == ["first", "later"]
    # no wave has results yet: every table and chart of the notebook still works (KeyError 'metric' before)
    assert track.headline_trends().empty and track.segment_trends().empty and track.type_shares().empty
    track.trend_chart()
    track.segment_chart()
    track.type_chart()
    track.provenance()
    # a wave with results is found without naming it
    (processed / "first").mkdir(parents=True)
    pd.DataFrame({"metric": ["csi"], "value": [50.0], "ci_low": [40.0], "ci_high": [60.0], "n": [6]}).to_csv(
        processed / "first" / "headline.csv", index=False
    )
    assert Tracking.load(root / "params" / "survey.yaml", processed).waves == ["first"]
    # a wave not yet published (csat run's staging folder) is read from the folder wave_dirs names
    staged = root / "staged-later"
    staged.mkdir()
    pd.DataFrame({"metric": ["csi"], "value": [55.0], "ci_low": [45.0], "ci_high": [65.0], "n": [6]}).to_csv(
        staged / "headline.csv", index=False
    )
    track = Tracking.load(root / "params" / "survey.yaml", processed, wave_dirs={"later": str(staged)})
    assert track.waves == ["first", "later"]
    assert track.headline().set_index("wave").loc["later", "value"] == 55.0


def test_wave_analysis_defaults_to_the_first_wave(tmp_path: Path) -> None:
    root = _project(tmp_path)
    wa = WaveAnalysis.load(root / "params" / "survey.yaml", "", out_root=root)
    assert wa.wave.id == "first"


def test_notebook_defaults_name_no_demo_wave() -> None:
    """Every notebook's parameters cell points at ../params (this repository's), never at a demo wave."""
    demo_waves = [p.stem for p in (ROOT / "params" / "waves").glob("*.yaml")]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        (params,) = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        text = "".join(params["source"])
        assert 'survey_path = "../params/survey.yaml"' in text, path.name
        assert not any(w in text for w in demo_waves), (path.name, text)
