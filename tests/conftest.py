"""Shared fixtures: a small hand-made survey whose every cleaning outcome is known."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: Reference data kept in the repository (tests/data/README.md): a missing file fails, never skips.
DATA = Path(__file__).resolve().parent / "data"
MOBI = DATA / "ecsi-mobi" / "mobi.csv"

#: The small ECSI model of the mobi README's published seminr values: Image, Expectation, Value -> Satisfaction.
README_BLOCKS = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
}

SURVEY_YAML = """\
title: {en: "Small test survey", zh: "小测试"}
respondent_id: rid
customer_id: cust
pii: [name, phone]
segments: [region]
duration: dur
open_ended: [comment]
scales:
  sat5:
    min: 1
    max: 5
    labels: {1: 很不满意, 2: 不满意, 3: 一般, 4: {zh: 满意, en: Satisfied}, 5: {zh: 很满意, en: Very satisfied}}
    missing: [-99, 99, 不适用, N/A]
items:
  - {id: q1, scale: sat5, construct: Quality, text: {zh: 产品质量, en: Product quality}}
  - {id: q2, scale: sat5, construct: Quality, text: {zh: 交期, en: Delivery time}}
  - {id: q3, scale: sat5, construct: Quality, reverse: true, text: {zh: 包装破损, en: Packaging damage}}
  - {id: q4, scale: sat5, construct: Service}
  - {id: q5, scale: sat5, construct: Service}
  - {id: q6, scale: sat5, construct: Satisfaction}
overall_satisfaction: q6
loyalty: [q5]
paths: [[Quality, Satisfaction], [Service, Satisfaction]]
"""

# row: expected reason
CSV_ROWS = [
    ("rid,cust,name,phone,region,dur,q1,q2,q3,q4,q5,q6,comment,note", None),
    ("1,C1,张三,13900000001,华东,300,5,4,2,4,5,5,很好,x", ""),
    ("2,C2,李四,13900000002,华南,310,很满意,满意,-99,4,4,4,ok,y", ""),
    ("2,C3,王五,13900000003,华南,320,3,3,3,3,2,2,,z", "duplicate_id"),
    ("3,C4,赵六,13900000004,华北,20,4,2,4,3,5,4,,a", "speeder"),
    ("4,C5,钱七,13900000005,华北,300,9,,,,,3,,b", "incomplete"),
    ("5,C6,孙八,13900000006,华东,290,Very satisfied, 满意 ,1,5,5,4,call 139-0000-1234,c", ""),
    ("6,C1,张三,13900000001,华东,300,5,4,2,4,5,5,很好,x", "duplicate_row"),
    ("7,C7,周九,13900000007,西部,280,3,3,3,3,3,3,,d", "straightliner"),
    ("8,C8,吴十,13900000008,西部,305,2,3,4,2,3,2,,e", ""),
]


@pytest.fixture
def small_survey(tmp_path: Path) -> Path:
    """A survey folder with params/survey.yaml, params/waves/w1.yaml and data/raw/w1.csv."""
    (tmp_path / "params" / "waves").mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "params" / "survey.yaml").write_text(SURVEY_YAML, encoding="utf-8")
    (tmp_path / "params" / "waves" / "w1.yaml").write_text(
        textwrap.dedent(
            """\
            wave: w1
            raw: ../../data/raw/w1.csv
            invited: 12
            """
        ),
        encoding="utf-8",
    )
    text = "\n".join(r for r, _ in CSV_ROWS) + "\n"
    (tmp_path / "data" / "raw" / "w1.csv").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture
def expected_reasons() -> list[str]:
    return [reason for _, reason in CSV_ROWS[1:]]


def correlated_frame() -> pd.DataFrame:
    """400 rows of four correlated predictors a-d and an outcome y = 0.5a + 0.3b + 0.2c + noise (seeded)."""
    rng = np.random.default_rng(42)
    cov = np.array([[1, 0.6, 0.4, 0.2], [0.6, 1, 0.5, 0.3], [0.4, 0.5, 1, 0.1], [0.2, 0.3, 0.1, 1]])
    x = rng.multivariate_normal(np.zeros(4), cov, size=400)
    y = x @ np.array([0.5, 0.3, 0.2, 0.0]) + rng.normal(0, 1, 400)
    df = pd.DataFrame(x * 1.3 + 5, columns=["a", "b", "c", "d"])
    df["y"] = 3 * y + 10
    return df
