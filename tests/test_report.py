"""The wave report's weighting words and labels (issue 13), on the small hand-made survey."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import report
from analysis.wave import WaveAnalysis


@pytest.fixture
def weighted(small_survey: Path) -> WaveAnalysis:
    wave_file = small_survey / "params" / "waves" / "w1.yaml"
    wave_file.write_text(
        wave_file.read_text(encoding="utf-8") + "margins: {region: {华东: 0.4, 华南: 0.3, 西部: 0.3}}\n",
        encoding="utf-8",
    )
    wa = WaveAnalysis.load(small_survey / "params" / "survey.yaml", wave_file, out_root=small_survey)
    wa.clean()
    wa.describe()
    wa.index(n_boot=20)
    wa.headline()
    return wa


def test_weighted_figures_are_labelled_with_the_unweighted_n_and_n_eff(weighted: WaveAnalysis) -> None:
    lang = weighted.language
    head = report.headline_table(weighted)
    assert report.word("column.value_weighted", lang) in head.columns
    assert report.word("column.n_unweighted", lang) in head.columns and report.word("column.n_eff", lang) in head.columns
    items = report.item_table(weighted)
    assert report.word("column.mean_weighted", lang) in items.columns
    assert items[report.word("column.n_unweighted", lang)].tolist() == weighted.read("item_stats")["n"].tolist()


def test_weighting_section_states_targets_shares_and_efficiency(weighted: WaveAnalysis) -> None:
    text = report.weighting_text(weighted)
    d = weighted.read("summary")["weighting"]
    assert f"{d['efficiency'] * 100:.1f}%" in text and "region" in text
    table = report.weighting_table(weighted)
    assert len(table) == 3
    # groups under the privacy minimum do not show their sample share (it would give their count)
    assert (table[report.word("column.sample_share", weighted.language)] == "").all()
    methods = report.methods_text(weighted)
    assert report.word("method.weighting", weighted.language, method=report.word("weighting.raked", weighted.language),
                       segments="region").split("**")[1] in methods


def test_an_unweighted_wave_has_no_weighting_section(small_survey: Path) -> None:
    wa = WaveAnalysis.load(small_survey / "params" / "survey.yaml", small_survey / "params" / "waves" / "w1.yaml",
                           out_root=small_survey)
    wa.clean()
    wa.describe()
    wa.index(n_boot=20)
    wa.headline()
    assert report.weighting_text(wa) == "" and len(report.weighting_table(wa)) == 0
    assert report.word("column.value", wa.language) in report.headline_table(wa).columns
