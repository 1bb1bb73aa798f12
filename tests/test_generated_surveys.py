"""Property-based tests: random valid surveys through the pipeline (issue 11, point 8).

:mod:`gen_survey` draws survey definitions and raw data (scales of 2 to 11 points with or without labels,
reverse items, missing codes, every optional key absent or present, 1-30 groups per segment, a skip
pattern, 2 to 60 rows). Every example goes through the pre-flight check and every
:class:`~analysis.wave.WaveAnalysis` step; a few go end to end through ``csat check`` and ``csat run``
(slow). Invariants:

* every raw row is accounted for in the cleaning log, once;
* each item's answer distribution sums to 1, and its labels are the raw answers the respondents chose
  (a reverse item labelled by the chosen answer, not the scored level);
* no step raises (a clear refusal of the pre-flight check, an :class:`~analysis.errors.InputError`, is
  allowed only for a wave too small to analyse);
* the methods text names only the analyses that ran; no report section is empty (end to end).

Examples are bounded (``derandomize=True`` for reproducible CI, no deadline).
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from analysis import report, words
from analysis.errors import InputError
from analysis.survey import load_survey, load_wave
from analysis.wave import WaveAnalysis, check
from gen_survey import Case, survey_cases

FAST = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def run_wave(case: Case, root: Path, survey_path: Path, wave_path: Path) -> WaveAnalysis | None:
    """Pre-flight, then every step of one wave (small bootstraps), saved; None when the check refuses."""
    survey, wave = load_survey(survey_path), load_wave(wave_path)
    try:
        check(survey, wave)
    except InputError as exc:  # a clear refusal (an unestimable model, too few rows) names the file
        assert str(survey_path) in str(exc) or str(wave.raw) in str(exc) or str(wave_path) in str(exc), exc
        return None
    wa = WaveAnalysis.load(survey_path, wave_path, out_root=root)
    wa.clean()
    wa.describe()
    wa.reliability()
    wa.index(n_boot=20)
    wa.headline()
    wa.groups()
    wa.change()
    wa.drivers(n_boot=20)
    wa.model(n_boot=20)
    wa.zones()
    wa.kpis()
    wa.save()
    return wa


def check_log(wa: WaveAnalysis, n_raw: int) -> None:
    log = wa.read("cleaning_log")
    assert log["row"].tolist() == list(range(1, n_raw + 1))
    kept = log["kept"].astype(bool)
    assert (kept == (log["reason"].astype(object).fillna("") == "")).all()
    assert sorted(wa.read("clean")["row"]) == log.loc[kept, "row"].tolist()


def check_distribution(wa: WaveAnalysis, case: Case, k: int) -> None:
    dist = wa.read("distribution")
    rows = wa.read("clean")["row"].tolist()
    for item, d in dist.groupby("item", sort=False):
        answered = d["n"].sum()
        if answered:
            assert d["share"].sum() == pytest.approx(1.0), item
        if item not in case.item_ids:
            continue
        picks = [case.chosen[k][r - 1][item] for r in rows]
        want = Counter(case.label_of(item, c) for c in picks if c is not None)
        got = {str(lab): int(n) for lab, n in zip(d["label"], d["n"], strict=True) if n}  # CSV: codes read as numbers
        assert got == dict(want), (item, case.survey["scales"][case.item_scale(item)])


#: method paragraph -> whether its analysis ran (by the tables the wave wrote)
def _ran(wa: WaveAnalysis) -> dict[str, bool]:
    head = set(wa.read("headline")["metric"])
    groups = wa.read("group_tests") if wa.has("group_tests") else pd.DataFrame()
    tested = bool(len(groups)) and groups["p"].notna().any()
    return {
        "nps": "nps" in head,
        "groups": tested and bool(report.groups_ran(wa)),
        "change": wa.has("wave_change"),
        "drivers": wa.has("drivers"),
        "model": wa.has("csi_paths"),
        "zones": wa.has("zones"),
        "ipa": wa.has("ipa"),
    }


def _lead(key: str, language: str) -> str:
    """The bold opening words of a method paragraph, before any placeholder."""
    text = words.word(f"method.{key}", language)
    return re.split(r"\{", text)[0][:14]


def check_methods(wa: WaveAnalysis) -> None:
    text = report.methods_text(wa)
    for key, ran in _ran(wa).items():
        present = _lead(key, wa.language) in text
        assert present == ran, (key, ran, text)


def check_report_content(wa: WaveAnalysis) -> None:
    """The report's text and tables are made without error and the executive summary is not empty."""
    assert report.executive_summary(wa).strip()
    if wa.has("ipa"):  # as the notebooks guard it
        report.priority_table(wa)
        report.recommended_actions(wa)
    report.headline_table(wa)
    report.item_table(wa)


@FAST
@given(case=survey_cases())
def test_generated_surveys_through_every_step(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        survey_path, wave_paths = case.write(root)
        for k, wave_path in enumerate(wave_paths):
            wa = run_wave(case, root, survey_path, wave_path)
            if wa is None:
                return
            check_log(wa, len(case.rows[k]))
            check_distribution(wa, case, k)
            check_methods(wa)
            check_report_content(wa)


# --------------------------------------------------------------------------- the bugs the examples found
def _case(survey: dict, waves_rows: list[list[dict]]) -> Case:
    waves = [
        {"wave": f"v{k + 1}", "raw": f"v{k + 1}.csv", **({"baseline": "v1"} if k else {})}
        for k in range(len(waves_rows))
    ]
    chosen = [[{i["id"]: None for i in survey["items"]} for _ in rows] for rows in waves_rows]
    return Case(survey, waves, waves_rows, chosen)


def _run(case: Case, tmp_path: Path) -> list[WaveAnalysis | None]:
    survey_path, wave_paths = case.write(tmp_path)
    return [run_wave(case, tmp_path, survey_path, p) for p in wave_paths]


SCALE7 = {"min": 1, "max": 7}
TWO_ITEMS = [
    {"id": "q1", "scale": "s", "construct": "D"},
    {"id": "q2", "scale": "s", "construct": "Satisfaction"},
]


def test_drivers_and_change_on_a_wave_too_small_for_them(tmp_path: Path) -> None:
    """Found: drivers() raised 'need more than 2 complete cases' and change() 'need at least 2 answers in each
    wave' on a two-row wave; now those tables (rows) are left out, and the report and methods text with them."""
    survey = {"scales": {"s": SCALE7}, "items": TWO_ITEMS, "overall_satisfaction": "q2"}
    rows = [{"q1": "", "q2": "3"}, {"q1": "5", "q2": "4"}]
    first, second = _run(_case(survey, [rows, rows]), tmp_path)
    assert first is not None and second is not None
    assert not first.has("drivers") and not second.has("drivers")
    # one CSI per wave: no CSI change; the satisfaction rate (2 answers per wave) still changes
    assert second.read("wave_change")["metric"].tolist() == ["satisfaction_rate"]
    text = report.methods_text(second)
    assert _lead("drivers", "en") not in text and _lead("change", "en") in text


def test_loyalty_on_two_scales_is_scored_on_the_first(tmp_path: Path) -> None:
    """Found: loyalty items on 0-8 and 0-9 scales averaged raw codes to 8.5, outside the loyalty scale, and the
    zones step raised; now each item is rescaled onto the first loyalty item's scale."""
    survey = {
        "scales": {"s": SCALE7, "ten": {"min": 0, "max": 10}},
        "items": [
            *TWO_ITEMS,
            {"id": "l1", "scale": "s", "construct": "Loyalty"},
            {"id": "l2", "scale": "ten", "construct": "Loyalty"},
        ],
        "overall_satisfaction": "q2",
        "loyalty": ["l1", "l2"],
    }
    rows = [
        {"q1": str(1 + k % 7), "q2": str(1 + (k * 3) % 7), "l1": str(1 + (k * 5) % 7), "l2": str(k % 11)}
        for k in range(40)
    ]
    (wa,) = _run(_case(survey, [rows]), tmp_path)
    assert wa is not None and wa.has("zones")
    scores = wa.read("respondent_scores").set_index("row")
    clean = wa.read("clean").set_index("row")
    want = (clean["l1"] + (1 + clean["l2"] * 6 / 10)) / 2  # l2 from 0-10 onto 1-7
    pd.testing.assert_series_equal(scores["loyalty_score"], want, check_names=False)


def test_two_point_satisfaction_and_two_levels_answered(tmp_path: Path) -> None:
    """Found: a 2-point scale with loyalty items was refused by the pre-flight check (zones need 3 levels), and
    only 2 satisfaction levels answered made the breakpoint raise. Now: no customer types on a 2-point scale;
    with 2 levels answered, no breakpoint test and a sentence that says so."""
    yes_no = {
        "scales": {"s": {"min": 0, "max": 1}},
        "items": [*TWO_ITEMS, {"id": "l1", "scale": "s", "construct": "Loyalty"}],
        "overall_satisfaction": "q2",
        "loyalty": ["l1"],
    }
    rows = [{"q1": str(k % 2), "q2": str((k // 2) % 2), "l1": str((k // 3) % 2)} for k in range(30)]
    (wa,) = _run(_case(yes_no, [rows]), tmp_path / "a")
    assert wa is not None and not wa.has("zones") and _lead("zones", "en") not in report.methods_text(wa)
    survey = {
        "scales": {"s": SCALE7},
        "items": [*TWO_ITEMS, {"id": "l1", "scale": "s", "construct": "Loyalty"}],
        "overall_satisfaction": "q2",
        "loyalty": ["l1"],
    }
    rows = [{"q1": str(1 + k % 7), "q2": str(5 + k % 2), "l1": str(1 + (k * 5) % 7)} for k in range(30)]
    (wa,) = _run(_case(survey, [rows]), tmp_path / "b")
    assert wa is not None and wa.has("zones") and not wa.has("loyalty_breakpoint")
    assert "too few satisfaction levels" in report.loyalty_text(wa)
    report.loyalty_chart(wa)


def test_methods_text_names_group_differences_only_when_groups_were_compared(tmp_path: Path) -> None:
    """Found: with a segment whose groups are all under 5 answers, no test ran but the methods text described
    the group tests (and the report showed an empty group section)."""
    survey = {"scales": {"s": SCALE7}, "items": TWO_ITEMS, "overall_satisfaction": "q2", "segments": ["seg"]}
    rows = [{"seg": f"g{k}", "q1": str(1 + k % 7), "q2": str(1 + (k * 3) % 7)} for k in range(12)]
    (wa,) = _run(_case(survey, [rows]), tmp_path)
    assert wa is not None and report.groups_ran(wa) == []
    assert _lead("groups", "en") not in report.methods_text(wa)


# --------------------------------------------------------------------------- end to end (slow)
def _sections(html: str) -> dict[str, str]:
    """Report section id -> its HTML, from one ``<h2 id=...>`` to the next."""
    parts = re.split(r'<h2 id="([^"]+)"[^>]*>.*?</h2>', html, flags=re.S)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _has_content(part: str) -> bool:
    body = part.split("</main>")[0]
    for empty in (words.word("text.no_rows", "en"), words.word("text.no_rows", "zh")):
        body = body.replace(re.sub(r"[*]", "", empty), "")
    if re.search(r"<(img|table|svg)\b", body):
        return True
    return bool(re.sub(r"<[^>]+>|\s|[()（）]", "", body))


@pytest.mark.slow
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: one run is a minute
    suppress_health_check=list(HealthCheck),
)
@given(case=survey_cases(max_rows=40))
def test_generated_surveys_end_to_end(case: Case) -> None:
    """``csat check`` then ``csat run`` on generated surveys: both agree, every wave report has no empty
    section, and its methods section names only analyses whose tables were written."""
    from analysis.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        survey_path, _ = case.write(root)
        checked = main(["check", "--survey", str(survey_path)])
        status = main(["run", "--survey", str(survey_path), "--out", str(root), "--no-progress"])
        assert checked in (0, 2) and status == checked, (checked, status)
        if status:
            assert not any((root / "data" / "processed").glob("*/headline.csv"))
            return
        for k, wave in enumerate(case.waves):
            html = (root / "reports" / f"{wave['wave']}.html").read_text(encoding="utf-8")
            sections = _sections(html)
            assert {"summary", "methods"} <= set(sections)
            for name, part in sections.items():
                assert _has_content(part), (wave["wave"], name)
            wa = WaveAnalysis.load(survey_path, root / "params" / "waves" / f"w{k + 1}.yaml", out_root=root)
            check_log(wa, len(case.rows[k]))
            check_distribution(wa, case, k)
            check_methods(wa)
            assert ("zones" in sections) == wa.has("zones") and ("groups" in sections) == bool(
                report.groups_ran(wa)
            )
