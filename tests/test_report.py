"""analysis.report: the weighting words and labels (issue 13), on the small hand-made survey; reports stay
light on large waves (issue 12)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import report
from analysis.survey import load_survey
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


# --------------------------------------------------------------------------- reports stay light on large waves (issue 12)

SURVEY = Path(__file__).resolve().parent.parent / "params" / "survey.yaml"


@dataclass
class _Ctx:
    survey: object
    clean: pd.DataFrame
    language: str = "en"

    def read(self, name: str) -> pd.DataFrame:
        assert name == "clean"
        return self.clean

    def has(self, name: str) -> bool:
        return name == "clean"


def _ctx(n: int) -> _Ctx:
    survey = load_survey(SURVEY)
    rng = np.random.default_rng(1)
    clean = pd.DataFrame(
        {
            survey.overall_satisfaction: rng.integers(1, 8, n).astype(float),
            survey.open_ended[0]: [f"comment {i}" for i in range(n)],
        }
    )
    return _Ctx(survey, clean)


def _listed(page: str) -> list[str]:
    details = re.search(r'<details class="verbatims-all">(.*?)</details>', page, flags=re.S).group(1)
    return re.findall(r"<li>(.*?)</li>", details)


def test_all_comments_listed_up_to_the_threshold():
    n = 300
    listed = _listed(report.verbatims(_ctx(n)))
    assert listed == [f"comment {i}" for i in range(n)]


def test_many_comments_listed_as_a_sample_and_said_so():
    """Past MAX_COMMENTS_LISTED the collapsed list is a seeded sample of that many, distinct, in file order,
    and its summary gives both counts: a 1M-response wave's report no longer carries every comment."""
    n = report.MAX_COMMENTS_LISTED + 2_500
    page = report.verbatims(_ctx(n))
    listed = _listed(page)
    assert len(listed) == len(set(listed)) == report.MAX_COMMENTS_LISTED
    numbers = [int(t.split()[1]) for t in listed]
    assert numbers == sorted(numbers) and max(numbers) < n
    assert f"{report.MAX_COMMENTS_LISTED} of the {n} comments" in page
    assert page == report.verbatims(_ctx(n))  # seeded: the same sample every run
