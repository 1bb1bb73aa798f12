"""The language files, the word lookup, the number formatters and the methods text.

References are hand-written expected strings (APA 7th ed. section 6.36 for p-values:
exact to three decimals, "< .001" below), never the formatter's own output.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import report, words
from analysis.survey import load_survey

SRC = Path(__file__).resolve().parents[1] / "src" / "analysis"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Keys whose fields a language may leave out: key -> the fields the code passes.
OPTIONAL_PLACEHOLDERS = {"customer_type.with_key": {"label", "key"}}


def _flat(tree: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _file(language: str) -> dict[str, str]:
    return _flat(yaml.safe_load((SRC / "i18n" / f"{language}.yaml").read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- the language files
def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    en, zh = _file("en"), _file("zh")
    assert set(en) == set(zh), f"only in en: {set(en) - set(zh)}; only in zh: {set(zh) - set(en)}"
    for key in en:
        assert isinstance(en[key], str) and isinstance(zh[key], str), key  # no YAML yes/no -> bool surprises
        if key in OPTIONAL_PLACEHOLDERS:  # a language may leave out a field the code passes
            assert words.placeholders(en[key]) | words.placeholders(zh[key]) <= OPTIONAL_PLACEHOLDERS[key]
        else:
            assert words.placeholders(en[key]) == words.placeholders(zh[key]), key


def test_english_file_has_no_chinese_and_chinese_file_is_chinese() -> None:
    en, zh = _file("en"), _file("zh")
    assert not [k for k, v in en.items() if CJK.search(v)]
    # the Chinese file translates the running text (short technical labels like "p" may stay)
    assert sum(bool(CJK.search(v)) for v in zh.values()) > 0.8 * len(zh)


def _literal_keys_in_code() -> set[str]:
    found: set[str] = set()
    pattern = re.compile(r"""\bword\(\s*(?:f?)["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")
    for path in SRC.glob("*.py"):
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_key_used_in_code_exists() -> None:
    used = _literal_keys_in_code()
    assert len(used) > 60  # the scan finds the calls
    missing = sorted(k for k in used if not words.has_word(k))
    assert not missing, missing
    # keys built from names: legacy report keys, KPIs, sections, categories, weights, cleaning rules
    from analysis import clean, kpis, zones
    from analysis.index import WEIGHT_METHODS

    built = set(report.LEGACY_KEYS.values())
    built |= {f"metric.{k}" for k in kpis.KNOWN_KPIS}
    built |= {f"status.{words.slug(s)}" for s in kpis.STATUS_TEXT}
    built |= {f"section.{s}" for s in report.SECTIONS}
    built |= {f"weights.{m}" for m in WEIGHT_METHODS}
    built |= {f"cleaning_rule.{r}" for r in (*clean.RULES, "raw", "kept", "outlier")}
    built |= {f"attrition_step.{r}" for r in (*clean.RULES, "raw", "kept", "outlier")}
    built |= {f"customer_type.{t}" for t in zones.TYPES} | {f"zone.{z}" for z in zones.ZONES}
    built |= {f"loyalty_level.{x}" for x in zones.LOYALTY_LEVELS}
    built |= {f"quadrant.{words.slug(q)}" for q in zones.IPA_QUADRANTS}
    built |= {f"column.{h}" for h in ("construct", "items", "n", "alpha", "omega", "rho_c", "ave")}
    built |= {f"provenance.{k}" for k in ("file", "package", "python", "git", "run", "commit", "run_time")}
    # the test and effect-size names compare.group_tests writes (group_tests.csv)
    built |= {
        f"test.{t}"
        for t in (
            "welch_anova",
            "welch_t",
            "games_howell",
            "mann_whitney",
            "kruskal_wallis",
            "dunn",
            "chi2_top2",
        )
    }
    built |= {
        f"effect_size.{e}"
        for e in ("omega_squared", "hedges_g", "rank_biserial", "epsilon_squared", "cramers_v")
    }
    assert not sorted(k for k in built if not words.has_word(k))


def test_every_section_a_notebook_opens_has_a_heading() -> None:
    ids: set[str] = set()
    for nb in NOTEBOOKS.glob("*.ipynb"):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            ids |= set(re.findall(r"section\(['\"]([a-z_]+)['\"]", "".join(cell["source"])))
    assert ids and ids <= set(report.SECTIONS)
    for key in ids:
        assert words.has_word(f"section.{key}")


def test_no_chinese_text_in_code_outside_the_demo() -> None:
    # the demo simulator holds demo data
    allowed = {"simulate.py"}
    offenders = [
        f"{p.name}:{n}"
        for p in sorted(SRC.rglob("*.py"))
        if p.name not in allowed and "demo" not in p.parts
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if CJK.search(line)
    ]
    assert not offenders, offenders


def test_the_language_files_ship_as_package_data() -> None:
    from importlib import resources

    root = resources.files("analysis").joinpath("i18n")
    for name in ("en.yaml", "zh.yaml", "recognisers.yaml"):
        assert root.joinpath(name).is_file()
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert "i18n/*.yaml" in text


# --------------------------------------------------------------------------- the lookup
def test_word_in_each_language() -> None:
    assert words.word("metric.satisfaction_rate", "en") == "Satisfaction rate"
    assert words.word("metric.satisfaction_rate", "zh") == "满意率"
    assert words.word("metric.satisfaction_rate", "zh-CN") == "满意率"
    assert words.word("metric.satisfaction_rate", None) == "Satisfaction rate"
    assert words.word("text.all_comments", "en", n=3) == "All 3 comments"
    assert words.word("text.all_comments", "zh", n=3) == "全部 3 条意见"


def test_word_falls_back_to_english_then_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    tables = {"en": {"a.b": "English only", "c.d": "both"}, "zh": {"c.d": "都有"}}
    monkeypatch.setattr(words, "_table", lambda lang: tables[lang])
    assert words.word("a.b", "zh") == "English only"
    assert words.word("c.d", "zh") == "都有"
    with pytest.raises(KeyError, match="no word 'x.y'"):
        words.word("x.y", "zh")


def test_one_entry_per_concept_repurchase_is_named_alike_everywhere() -> None:
    # issue 10: one report called it 复购意愿率 (KPIs) and 再购买意愿 (headline)
    assert report.word("repurchase_rate", "zh") == words.word("metric.repurchase_rate", "zh") == "复购意愿率"
    from analysis.kpis import kpi_table

    table = kpi_table({"repurchase_rate": 0.4}, {}).set_index("kpi")
    assert table.loc["repurchase_rate", "label_zh"] == "复购意愿率"
    assert table.loc["repurchase_rate", "label_en"] == "Repurchase intention"


def test_report_word_keeps_the_old_short_keys() -> None:
    assert report.word("mean", "zh") == "均值"
    assert report.word("index_title", "en") == "Satisfaction index by dimension (0-100, 95% interval)"
    assert report.word("csi", "en") == "Satisfaction index (0-100)"
    assert report.word("section.summary", "zh") == "执行摘要"
    assert report.section("summary", "en").data == "## Executive summary {#summary}"
    assert report.section("methods", "zh", level=3).data == "### 方法说明 {#methods}"


def test_category_labels_for_charts() -> None:
    from analysis.zones import IPA_QUADRANTS, ZH_LABELS

    assert ZH_LABELS["apostle"] == "传道者"
    assert ZH_LABELS["Concentrate here"] == "重点改进"
    assert set(IPA_QUADRANTS) <= set(ZH_LABELS)
    assert report.category_labels("en")["Possible overkill"] == "Possible overkill"
    assert report.type_name("hostage", "zh") == "人质 (hostage)"
    assert report.type_name("hostage", "en") == "hostage"
    assert words.label_of("customer_type", "unknown type", "zh") == "unknown type"


def test_recognisers_are_data() -> None:
    from analysis.kpis import parse_timestamps

    r = words.recognisers()
    assert r["timestamp_replace"]["年"] == "-"
    parsed = parse_timestamps(pd.Series(["2025年3月2日 9:05", "2025/3/2 9:05", "n/a"]), "opened")
    assert parsed.iloc[0] == pd.Timestamp("2025-03-02 09:05") == parsed.iloc[1]
    assert pd.isna(parsed.iloc[2])


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, "< 0.001"),
        (1e-12, "< 0.001"),
        (0.00099, "< 0.001"),
        (0.001, "0.001"),
        (0.0044, "0.004"),
        (0.0456, "0.046"),
        (0.05, "0.050"),
        (0.5153, "0.515"),
        (0.999, "0.999"),
        (0.9996, "> 0.999"),
        (1.0, "> 0.999"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_p_value(p: float, expected: str) -> None:
    assert words.p_value(p) == expected


def test_p_value_never_prints_zero_or_one() -> None:
    # issue 11: p was rounded to 4 decimals, then show_table(precision=2) printed 0.00 and 1.00
    for p in np.concatenate([np.linspace(0, 1, 20001), [1e-300, 5e-4, 0.9995, 0.99951]]):
        text = words.p_value(p)
        assert text not in {"0.00", "1.00", "0.000", "1.000", "0", "1"}
        if text[0] not in "<>":
            assert abs(float(text) - p) <= 0.0005 + 1e-12
    assert words.p_text(0.0456) == "p = 0.046"
    assert words.p_text(1e-9) == "p < 0.001"


def test_number_percent_signed_interval_integer() -> None:
    assert words.number(70.977, 1) == "71.0"
    assert words.number(math.nan) == ""
    assert words.number(None, missing="–") == "–"
    assert words.percent(0.5027) == "50.3%"
    assert words.percent(0.5027, 0) == "50%"
    assert words.signed(2.345) == "+2.3"
    assert words.signed(-0.04) == "-0.0"
    assert words.signed(1.5, 1, " pp") == "+1.5 pp"
    assert words.interval(1.23, 4.56) == "1.2 – 4.6"
    assert words.interval(0.41, 0.52, as_percent=True) == "41.0% – 52.0%"
    assert words.interval(0.1, math.nan) == ""
    assert words.integer(5000, "en") == "5,000"
    assert words.integer(5000, "zh") == "5000"
    assert words.integer(1234567.4, "en") == "1,234,567"
    assert words.join(["a", "b", "c"], "en", last=True) == "a, b and c"
    assert words.join(["甲", "乙", "丙"], "zh") == "甲、乙、丙"
    assert words.share_words(0.5, "en") == "half"
    assert words.share_words(1 / 3, "zh") == "三分之一"
    assert words.share_words(0.4, "en") == "40%"


# --------------------------------------------------------------------------- the methods text
def test_methods_text_covers_only_the_analyses_that_ran() -> None:
    bare = words.MethodSettings(satisfied_levels=(6, 7), index_weights={"Quality": 0.5, "Service": 0.5})
    for lang in ("en", "zh"):
        text = words.methods_text(bare, lang)
        for key in ("nps", "model", "zones", "groups", "change", "reliability_model"):
            head = words.word(f"method.{key}", lang).split("**")[1]
            assert head not in text or key == "reliability_model", (lang, key)
        assert "5,000" not in text and "5000" not in text and "bootstrap resamples" not in text
        assert "seminr" not in text and "Jones & Sasser" not in text and "NPS" not in text
    full = words.MethodSettings(
        satisfied_levels=(6, 7),
        index_method="ahp",
        index_weights={"Quality": 0.6, "Service": 0.4},
        nps=True,
        segments=("region",),
        baseline="2025H1",
        model=True,
        model_n=1111,
        model_boot=1234,
        loyalty=True,
    )
    en = words.methods_text(full, "en")
    assert "1,234 bootstrap resamples" in en and "1,111 responses in the model" in en
    assert "**NPS.**" in en and "Jones & Sasser" in en and "Change against 2025H1" in en
    assert "AHP (analytic hierarchy process) weights: Quality 0.60, Service 0.40" in en
    assert "composite reliability and AVE" in en
    assert "at 6 and 7" in en and "fewer than half" in en and "under a third of the median" in en
    zh = words.methods_text(full, "zh")
    assert "1234 次自助抽样" in zh and "净推荐值" in zh and "2025H1" in zh
    assert "不足一半" in zh and "三分之一" in zh


def test_methods_text_follows_the_cleaning_settings() -> None:
    s = words.MethodSettings(
        min_answered=0.8, has_duration=False, has_respondent_id=False, straightline_min_items=7
    )
    en = words.methods_text(s, "en")
    assert "fewer than 80% of the rated items" in en and "speeders" not in en
    assert "duplicate ids" not in en and "re-submissions" in en and "at least 7 items" in en


def _fake_ctx(tmp_path: Path, survey_yaml: str, files: dict[str, pd.DataFrame], baseline: str | None = None):
    (tmp_path / "survey.yaml").write_text(survey_yaml, encoding="utf-8")
    survey = load_survey(tmp_path / "survey.yaml")
    processed = tmp_path / "processed"
    processed.mkdir()
    for name, frame in files.items():
        frame.to_csv(processed / f"{name}.csv", index=False)
    return SimpleNamespace(
        survey=survey,
        language=survey.language,
        processed=processed,
        wave=SimpleNamespace(id="w2", baseline=baseline),
        read=lambda name: pd.read_csv(processed / f"{name}.csv"),
        has=lambda name: (processed / f"{name}.csv").exists(),
    )


BARE_SURVEY = """\
scales:
  five: {min: 1, max: 5}
items:
  - {id: q1, scale: five, construct: Quality}
  - {id: q2, scale: five, construct: Quality}
  - {id: q3, scale: five, construct: Service}
  - {id: q4, scale: five, construct: Satisfaction}
overall_satisfaction: q4
"""


def test_report_methods_text_for_a_survey_without_recommend_paths_or_loyalty(tmp_path: Path) -> None:
    weights = pd.DataFrame({"construct": ["Quality", "Service"], "weight": [0.5, 0.5], "method": "equal"})
    ctx = _fake_ctx(tmp_path, BARE_SURVEY, {"index_weights": weights, "drivers": pd.DataFrame({"x": [1]})})
    text = report.methods_text(ctx)
    assert "**NPS.**" not in text and "**CSI model.**" not in text and "**Customer types.**" not in text
    assert "**Group differences**" not in text and "**Change" not in text and "**Priorities.**" not in text
    assert "equal weights: Quality 0.50, Service 0.50" in text
    assert "at 4 and 5" in text and "speeders" not in text  # no duration column: no speeder rule


def test_report_methods_text_states_the_bootstrap_count_recorded(tmp_path: Path) -> None:
    survey = (
        BARE_SURVEY
        + "language: zh\nloyalty: [q3]\nrecommend: q9\npaths: [[Quality, Satisfaction]]\npls: {bootstrap: 200}\n"
    )
    weights = pd.DataFrame({"construct": ["Quality"], "weight": [1.0], "method": "equal"})
    summary = pd.DataFrame({"n": [321], "iterations": [5], "scheme": ["path"], "n_boot": [200]})
    ctx = _fake_ctx(
        tmp_path,
        survey,
        {
            "index_weights": weights,
            "pls_summary": summary,
            "ipa": pd.DataFrame({"x": [1]}),
            "zones": pd.DataFrame({"type": ["apostle"], "n": [1], "share": [1.0]}),
        },
        baseline="w1",
    )
    assert ctx.survey.pls.bootstrap == 200
    text = report.methods_text(ctx)
    assert "200 次自助抽样" in text and "5000" not in text and "模型使用 321 份答卷" in text
    assert "净推荐值" in text and "Jones & Sasser" in text and "重要性-表现分析" in text
    assert "基期 w1" not in text  # no wave_change.csv: the change did not run


def test_methods_text_states_the_holm_families_and_the_meaningful_effect(tmp_path: Path) -> None:
    """Issue 11, 6g/6l: the methods text names the family (all omnibus tests of the wave; all change rows),
    its size, and the effect a "difference" needs, in both languages; the report says "no" to a significant
    but trivial difference."""
    survey = BARE_SURVEY + "segments: [region]\n"
    weights = pd.DataFrame({"construct": ["Quality"], "weight": [1.0], "method": "equal"})
    tests = pd.DataFrame(
        {
            "variable": ["q4", "q4", "CSI"],
            "segment": ["region"] * 3,
            "group": ["region"] * 3,
            "test": ["welch_anova", "kruskal_wallis", "welch_anova"],
            "p": [0.0001, 0.001, 0.0002],
            "p_adj": [0.0003, 0.001, 0.0004],
            "effect_size": [0.05, 0.04, 0.004],  # omega squared: meaningful, -, trivial
            "effect_size_name": ["omega_squared", "epsilon_squared", "omega_squared"],
            "note": ["", "", ""],
        }
    )
    change = pd.DataFrame({"metric": ["CSI", "NPS"], "p": [0.01, 0.5], "p_adj": [0.02, 0.5]})
    files = {"index_weights": weights, "group_tests": tests, "wave_change": change}
    for lang, needles in (
        ("en", ["all 3 omnibus tests of the wave", "all 2 rows of the change table", "|g| ≥ 0.2"]),
        ("zh", ["全部 3 项总体检验", "变化表全部 2 行", "|g| ≥ 0.2"]),
    ):
        folder = tmp_path / lang
        folder.mkdir()
        ctx = _fake_ctx(folder, survey + f"language: {lang}\n", files, baseline="w1")
        text = report.methods_text(ctx)
        assert "Holm" in text and all(n in text for n in needles), text
    (tmp_path / "g").mkdir()
    ctx = _fake_ctx(tmp_path / "g", survey, files)
    g = report.group_summary(ctx)
    assert g["Groups differ?"].tolist() == ["yes", "no"]  # both p_adj < 0.05; omega squared 0.004 < 0.01


# --------------------------------------------------------------------------- tables pass p-values as text
def test_report_tables_write_p_values_with_the_formatter(tmp_path: Path) -> None:
    # issue 11: p rounded to 4 decimals, then show_table(precision=2) printed 0.00 and 1.00
    group_tests = pd.DataFrame(
        {
            "variable": ["q4", "q4", "q4"],
            "segment": ["region"] * 3,
            "group": ["region", "region", "a vs b"],
            "test": ["welch_anova", "welch_t", "games_howell"],
            "p_adj": [1.0, 0.00001, 0.2],
            "effect_size": [0.0, 0.5, 0.1],
            "effect_size_name": ["omega_squared", "hedges_g", "hedges_g"],
            "note": ["", "", ""],
        }
    )
    change = pd.DataFrame(
        {
            "metric": ["CSI", "satisfaction_rate"],
            "baseline": [70.0, 0.5],
            "current": [72.5, 0.55],
            "diff": [2.5, 0.05],
            "ci_low": [1.0, 0.02],
            "ci_high": [4.0, 0.08],
            "p": [0.0000001, 0.04449],
        }
    )
    paths = pd.DataFrame(
        {
            "source": ["Quality"],
            "target": ["Satisfaction"],
            "estimate": [0.41234],
            "se": [0.0301],
            "ci_low": [0.35],
            "ci_high": [0.47],
            "p": [0.9999],
        }
    )
    ctx = _fake_ctx(
        tmp_path, BARE_SURVEY, {"group_tests": group_tests, "wave_change": change, "csi_paths": paths}
    )
    g = report.group_summary(ctx)
    assert g["p (Holm)"].tolist() == ["> 0.999", "< 0.001"]  # the adjusted p, named so
    assert g["Test"].tolist() == ["Welch's ANOVA", "Welch's t-test"]
    assert g["Effect size"].tolist() == ["0.000 (ω²)", "0.500 (Hedges' g)"]
    c = report.change_table(ctx)
    assert c["p"].tolist() == ["< 0.001", "0.044"]
    assert c["p (Holm)"].tolist() == ["< 0.001", "0.044"]  # an old table without p_adj: the raw p
    assert c["Change"].tolist() == ["+2.5", "+5.0"] and c["95% interval"].tolist() == [
        "1.0 – 4.0",
        "2.0 – 8.0",
    ]
    p = report.path_table(ctx)
    assert p["p"].tolist() == ["> 0.999"] and p["Coefficient"].tolist() == ["0.412"]
    for table, col in ((g, "p (Holm)"), (c, "p"), (p, "p")):  # text, so show_table's precision cannot cut it
        assert table[col].map(type).eq(str).all()


def test_provenance_table_in_the_report_language() -> None:
    table = pd.DataFrame(
        {
            "kind": ["file", "package", "git", "run"],
            "name": ["params/survey.yaml", "pandas", "commit", "run time"],
            "value": ["ab12", "2.2", "1be4ff3", "2026-01-01T00:00:00+00:00"],
        }
    )
    zh = report.provenance_display(table, "zh")
    assert list(zh.columns) == ["类别", "名称", "内容"]
    assert zh.iloc[:, 0].tolist() == ["输入文件", "软件包", "git", "运行"]
    assert zh.iloc[:, 1].tolist() == ["params/survey.yaml", "pandas", "提交版本", "运行时间"]
    en = report.provenance_display(table, "en")
    assert list(en.columns) == ["Kind", "Name", "Value"] and en.iloc[3, 1] == "run time"


def test_show_table_announces_an_empty_table_in_the_report_language(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    report.show_table(report.empty_table("zh"))
    report.show_table(pd.DataFrame())
    assert [m.data for m in shown] == ["*（无数据）*", "*(no rows)*"]


def test_tracking_segment_table_in_the_report_language(tmp_path: Path) -> None:
    from analysis.tracking import Tracking

    (tmp_path / "survey.yaml").write_text(
        BARE_SURVEY + "language: zh\nsegments: [region]\n", encoding="utf-8"
    )
    survey = load_survey(tmp_path / "survey.yaml")
    track = Tracking(survey=survey, root=tmp_path, waves=["w1", "w2"], wave_files=[])
    wide = pd.DataFrame({"segment": ["region"], "group": ["east"], "w1": [70.04], "w2": [71.25]})
    track.segment_means = lambda min_n=5: wide  # type: ignore[method-assign]
    shown = track.segment_trends()
    assert list(shown.columns) == ["分组变量", "群体", "w1", "w2"]
    assert shown.iloc[0].tolist() == ["region", "east", "70.0", "71.2"]


# --------------------------------------------------------------------------- IPA priorities (issue 11, 6d)
def _ipa_ctx(tmp_path: Path, stability: list[float]):
    ipa = pd.DataFrame(
        {
            "item": ["q1", "q2", "q3"],
            "label": ["Quality", "Price", "Delivery"],
            "importance": [0.5, 0.3, 0.2],
            "performance": [40.0, 45.0, 90.0],
            "quadrant": ["Concentrate here", "Concentrate here", "Possible overkill"],
            "importance_ci_low": [0.4, 0.1, 0.1],
            "importance_ci_high": [0.6, 0.5, 0.3],
            "stability": stability,
            "n_boot": 1000,
        }
    )
    pri = ipa[["item", "label", "importance", "performance"]].assign(
        priority=[25.0, 13.5, 0.0], rank=[1, 2, 3], stability=stability
    )
    pri["stable"] = (ipa["quadrant"] == "Concentrate here") & (ipa["stability"] >= 0.9)
    weights = pd.DataFrame({"construct": ["Quality", "Service"], "weight": [0.5, 0.5], "method": "equal"})
    return _fake_ctx(tmp_path, BARE_SURVEY, {"ipa": ipa, "priorities": pri, "index_weights": weights})


def test_act_first_names_only_items_stably_in_concentrate_here(tmp_path: Path) -> None:
    ctx = _ipa_ctx(tmp_path, [0.95, 0.6, 0.99])
    assert report.act_first(ctx) == ["Quality"]
    actions = report.recommended_actions(ctx)
    assert "**Concentrate here**: Quality. They weigh" in actions
    assert "Price fall in this quadrant, but not stably (in under 90%" in actions
    table = report.priority_table(ctx)
    assert table["Quadrant stability"].tolist() == ["95%", "60%", "99%"]
    assert table["Importance"].iloc[0].startswith("0.500") and "0.400" in table["Importance"].iloc[0]
    text = report.methods_text(ctx)
    assert "1,000 bootstrap resamples" in text or "1000 bootstrap resamples" in text
    assert "at least 90% of the resamples" in text


def test_act_first_says_when_no_item_is_stable(tmp_path: Path) -> None:
    ctx = _ipa_ctx(tmp_path, [0.7, 0.6, 0.99])
    assert report.act_first(ctx) == []
    actions = report.recommended_actions(ctx)
    assert "**Concentrate here**: Quality, Price fall in this quadrant, but not stably" in actions
    assert actions.count("Concentrate here") == 1
