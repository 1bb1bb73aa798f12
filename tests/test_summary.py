"""The one-page summary of a wave report (analysis.summary), checked against hand-made tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd

from analysis import summary


@dataclass
class Stub:
    """The part of WaveAnalysis the summary reads: tables by name, the language, the wave, the survey."""

    tables: dict[str, pd.DataFrame]
    language: str = "en"
    wave: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(id="2025H2", baseline="2025H1"))
    survey: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(constructs={}, rated_items={}))

    def read(self, name: str) -> pd.DataFrame:
        return self.tables[name].copy()

    def has(self, name: str) -> bool:
        return name in self.tables

    def facts(self) -> dict:
        return {"n": 2360, "raw": 2455}


def tables(with_baseline: bool = True) -> dict[str, pd.DataFrame]:
    t = {
        "headline": pd.DataFrame(
            {
                "metric": ["csi", "satisfaction_rate", "nps"],
                "value": [73.556, 0.58944, 17.6017],
                "ci_low": [73.2, 0.569, 14.4],
                "ci_high": [74.0, 0.609, 20.8],
                "n": [2360, 2348, 2335],
            }
        ),
        "kpis": pd.DataFrame(
            {
                "kpi": ["satisfaction_rate", "csi", "response_rate", "nps"],
                "status": ["not met", "no target", "met", "not met"],
                "label_en": ["Satisfaction rate", "Satisfaction index", "Survey response rate", "Net Promoter Score"],
                "label_zh": ["满意率", "满意度指数", "问卷回收率", "净推荐值"],
            }
        ),
        "priorities": pd.DataFrame(
            {
                "rank": [1, 2, 3, 4],
                "item": ["q_lead", "q_ontime", "q_price", "q_pack"],
                "label": ["Lead time", "On-time delivery", "Price *fair*", "Packaging"],
                "importance": [0.094, 0.09, 0.08, 0.02],
                "performance": [69.52, 71.06, 68.3, 80.0],
                "priority": [0.92, 0.9, 0.8, 0.1],
            }
        ),
        "ipa": pd.DataFrame(
            {
                "item": ["q_lead", "q_ontime", "q_price", "q_pack"],
                "quadrant": ["Concentrate here", "Concentrate here", "Low priority", "Possible overkill"],
            }
        ),
    }
    if with_baseline:
        t["wave_change"] = pd.DataFrame(
            {
                "metric": ["CSI", "satisfaction_rate", "NPS", "CSI | region = 华北"],
                "baseline": [70.97, 0.5027, 11.5, 70.0],
                "current": [73.556, 0.58944, 17.6017, 73.1],
                "diff": [2.579, 0.0867, 6.1, 3.1],
                "ci_low": [2.0, 0.058, 1.5, 1.0],
                "ci_high": [3.2, 0.115, 10.6, 5.0],
                "p": [1e-9, 2e-8, 0.0093, 0.0004],
                "p_adj": [4e-9, 6e-8, 0.0093, 0.0008],  # R: p.adjust(p, "holm")
            }
        )
    return t


def test_headline_table_with_change_and_significance():
    t = summary.headline_table(Stub(tables()))
    assert list(t.columns) == ["Measure", "Value", "Change vs 2025H1", "95% interval", "p", "p (Holm)", "Significant"]
    assert t.iloc[:, 1].tolist() == ["73.6", "58.9%", "17.6"]
    assert t.iloc[:, 2].tolist() == ["+2.6", "+8.7", "+6.1"]  # satisfaction rate in percentage points
    assert t.iloc[1, 3] == "5.8 – 11.5"
    assert t["p"].tolist() == ["< 0.001", "< 0.001", "0.009"]
    assert t["p (Holm)"].tolist() == ["< 0.001", "< 0.001", "0.009"]
    assert t["Significant"].tolist() == ["yes", "yes", "yes"]


def test_headline_significance_follows_the_holm_p():
    """Issue 11, 6g: the summary page marks a change by its Holm-adjusted p (p 0.02, p_adj 0.08: not)."""
    tabs = tables()
    tabs["wave_change"]["p"] = [0.02, 0.5, 0.01, 0.03]
    tabs["wave_change"]["p_adj"] = [0.08, 0.5, 0.04, 0.08]
    t = summary.headline_table(Stub(tabs))
    assert t["Significant"].tolist() == ["no", "no", "yes"]


def test_headline_table_without_baseline_shows_the_interval():
    t = summary.headline_table(Stub(tables(with_baseline=False)))
    assert list(t.columns) == ["Measure", "Value", "95% interval"]
    assert t.iloc[1].tolist()[1:] == ["58.9%", "56.9% – 60.9%"]


def test_targets_met_and_not_met_are_named():
    text = summary.targets_text(Stub(tables()))
    assert text.splitlines() == [
        "- **Targets met** (1 of 3): Survey response rate.",
        "- **Not met** (2): Satisfaction rate, Net Promoter Score.",
    ]
    zh = summary.targets_text(Stub(tables(), language="zh"))
    assert "问卷回收率" in zh and "满意率、净推荐值" in zh


def test_no_targets_is_said():
    t = tables()
    t["kpis"]["status"] = "no target"
    assert "No targets" in summary.targets_text(Stub(t))


def test_top_three_actions_follow_the_priority_ranking():
    from analysis.documents import ListBlock, Paragraph, markdown_blocks, spans_text

    text = summary.actions_text(Stub(tables()))
    title, actions = markdown_blocks(text)  # as the reader sees it: the item labels escaped, shown as typed
    assert isinstance(title, Paragraph) and spans_text(title.spans) == "Top three actions"
    assert isinstance(actions, ListBlock) and actions.ordered
    assert [item[0].text for item in actions.items] == ["Lead time", "On-time delivery", "Price *fair*"]
    lines = text.splitlines()
    assert "(performance 69.5 / 100)" in lines[2] and "assign an owner" in lines[2]
    assert "improve when resources allow" in lines[4]  # the third is in the low-priority quadrant
    assert len(lines) == 5  # three actions, never the fourth item


def test_notes_name_the_sample_and_the_segments_that_moved():
    text = summary.notes_text(Stub(tables()))
    assert "2360" in text and "2455" in text and "华北" in text
