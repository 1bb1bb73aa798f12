"""analysis.report: reports stay light on large waves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import report
from analysis.survey import load_survey

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
