"""Survey definition and wave files: loading, defaults and the analyst-facing error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.errors import SurveyDefinitionError
from analysis.survey import load_survey, load_wave, order_waves


def test_small_survey_loads(small_survey: Path) -> None:
    s = load_survey(small_survey / "params" / "survey.yaml")
    assert s.item_ids == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert s.blocks == {"Quality": ["q1", "q2", "q3"], "Service": ["q4", "q5"], "Satisfaction": ["q6"]}
    assert s.ranges["q1"] == (1, 5)
    assert s.item("q3").reverse
    assert s.scales["sat5"].label(5, "en") == "Very satisfied"
    assert s.scales["sat5"].label(5, "zh") == "很满意"
    assert s.scales["sat5"].label(1, "en") == "很不满意"  # plain-string label serves every language
    assert s.satisfied == [4, 5]  # top two levels by default
    assert s.cleaning.speeder_fraction == pytest.approx(1 / 3)
    assert s.index.weights == "equal"
    assert s.model_constructs == ["Quality", "Service", "Satisfaction"]
    assert "name" not in s.declared_columns and "phone" not in s.declared_columns
    assert len(s.sha256) == 64


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "survey.yaml"
    p.write_text(text, encoding="utf-8")
    return p


BASE = """\
scales:
  s7: {min: 1, max: 7}
items:
  - {id: a, scale: s7, construct: X}
  - {id: b, scale: s7, construct: Y}
overall_satisfaction: b
"""


@pytest.mark.parametrize(
    ("extra", "replace", "needle"),
    [
        ("loyalty: [zz]\n", None, "'loyalty' names item 'zz'"),
        (
            "",
            ("overall_satisfaction: b", "overall_satisfaction: nope"),
            "'overall_satisfaction' names item 'nope'",
        ),
        ("paths: [[X, Q]]\n", None, "names construct 'Q', but no item has that construct"),
        ("", ("scale: s7, construct: Y", "scale: s9, construct: Y"), "uses scale 's9', which is not defined"),
        ("", ("{min: 1, max: 7}", "{min: 7, max: 7}"), "min 7 >= max 7"),
        ("", ("- {id: b,", "- {id: a,"), "item id 'a' is defined twice"),
        ("language: fr\n", None, "language is 'fr'"),
        ("index: {weights: magic}\n", None, "index.weights is 'magic'"),
        ("index: {weights: ahp}\n", None, "no index.ahp.matrix"),
        ("cleaning: {speed: 3}\n", None, "unknown key 'cleaning.speed'"),
        # every level is strict, and the closest valid key is named (issue 11, point 3)
        ("segmnets: [a]\n", None, "unknown key 'segmnets'. Did you mean 'segments'?"),
        ("", ("{id: a, scale: s7,", "{id: a, revers: true, scale: s7,"), "'items[1] (a).revers'. Did you mean 'reverse'?"),
        ("", ("{min: 1, max: 7}", "{min: 1, max: 7, lables: {1: x}}"), "'scales.s7.lables'. Did you mean 'labels'?"),
        ("index: {weight: equal}\n", None, "'index.weight'. Did you mean 'weights'?"),
        ("pls: {bootstraps: 200}\n", None, "'pls.bootstraps'. Did you mean 'bootstrap'?"),
        ("zones: {affection: 6}\n", None, "'zones.affection'. Did you mean 'affection_min'?"),
        ("targets: {satisfation_rate: 0.9}\n", None, "Did you mean 'satisfaction_rate'?"),
        ("colour: red\n", None, "unknown key 'colour'. Expected: one of title, language"),
        ("recommend: a\n", None, "expected: a 0-10 scale for nps"),
    ],
)
def test_definition_errors_name_the_problem(tmp_path: Path, extra: str, replace, needle: str) -> None:
    text = BASE + extra
    if replace:
        text = text.replace(*replace)
    path = _write(tmp_path, text)
    with pytest.raises(SurveyDefinitionError) as err:
        load_survey(path)
    assert str(path) in str(err.value)
    assert needle.lower() in str(err.value).lower()


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "items: [\n  - a: b\n  c")
    with pytest.raises(SurveyDefinitionError, match="not valid YAML"):
        load_survey(path)


def test_missing_survey_file(tmp_path: Path) -> None:
    with pytest.raises(SurveyDefinitionError, match="not found"):
        load_survey(tmp_path / "nope.yaml")


def test_ahp_matrix_parsed_with_fractions(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        BASE + "index: {weights: ahp, ahp: {labels: [X, Y], matrix: [[1, 3], ['1/3', 1]]}}\n",
    )
    s = load_survey(path)
    assert s.index.ahp_matrix[1][0] == pytest.approx(1 / 3)
    assert s.index_constructs == ["X", "Y"]


def test_wave_missing_raw_file(tmp_path: Path) -> None:
    w = tmp_path / "w.yaml"
    w.write_text("wave: w1\nraw: nothere.csv\n", encoding="utf-8")
    with pytest.raises(SurveyDefinitionError, match="does not exist"):
        load_wave(w)


def test_wave_paths_relative_to_wave_file(small_survey: Path) -> None:
    w = load_wave(small_survey / "params" / "waves" / "w1.yaml")
    assert w.raw == (small_survey / "data" / "raw" / "w1.csv").resolve()
    assert w.invited == 12


def test_waves_ordered_by_baseline(tmp_path: Path) -> None:
    raw = tmp_path / "r.csv"
    raw.write_text("a\n1\n", encoding="utf-8")
    files = []
    for wid, base in [("c", "b"), ("a", None), ("b", "a")]:
        p = tmp_path / f"{wid}.yaml"
        p.write_text(f"wave: {wid}\nraw: r.csv\n" + (f"baseline: {base}\n" if base else ""), encoding="utf-8")
        files.append(load_wave(p))
    assert [w.id for w in order_waves(files)] == ["a", "b", "c"]


def test_pls_options(tmp_path: Path) -> None:
    s = load_survey(
        _write(tmp_path, BASE + "pls: {scheme: factorial, missing: mean, bootstrap: 2000, seed: 7}\n")
    )
    assert (s.pls.scheme, s.pls.missing, s.pls.bootstrap, s.pls.seed) == ("factorial", "mean", 2000, 7)
    assert load_survey(_write(tmp_path, BASE)).pls.bootstrap == 5000
    with pytest.raises(SurveyDefinitionError, match="pls.scheme is 'magic'"):
        load_survey(_write(tmp_path, BASE + "pls: {scheme: magic}\n"))


def test_default_index_constructs_leave_out_outcomes(tmp_path: Path) -> None:
    text = BASE.replace("overall_satisfaction: b", "overall_satisfaction: b\nloyalty: [b]")
    text = text.replace(
        "  - {id: b, scale: s7, construct: Y}",
        "  - {id: b, scale: s7, construct: Y}\n  - {id: c, scale: s7, construct: Z}",
    )
    s = load_survey(_write(tmp_path, text))
    assert s.outcome_constructs == ["Y"]
    assert s.index_constructs == ["X", "Z"]


def test_plain_string_texts_are_shown(tmp_path: Path) -> None:
    text = "title: 满意度调查\n" + BASE.replace(
        "{id: a, scale: s7, construct: X}", "{id: a, scale: s7, construct: X, text: 产品质量}"
    )
    s = load_survey(_write(tmp_path, text))
    assert s.title_text("en") == "满意度调查"
    assert s.item_label("a", "en") == "产品质量"


def test_wave_file_keys_are_strict(tmp_path: Path) -> None:
    (tmp_path / "w.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    wave = tmp_path / "w.yaml"
    wave.write_text("wave: W1\nraw: w.csv\ninvted: 100\n", encoding="utf-8")
    with pytest.raises(SurveyDefinitionError, match="unknown key 'invted'. Did you mean 'invited'") as err:
        load_wave(wave)
    assert str(wave) in str(err.value)


def test_every_contract_key_is_applied_without_a_warning(tmp_path: Path) -> None:
    """units, weighting and comments (CONTRACT section 1) are all applied now: no "not applied" warning."""
    import warnings

    from analysis import survey as survey_module

    assert survey_module.NOT_YET_APPLIED == ()
    text = BASE + (
        "segments: [region]\nunits: region\nweighting: {margins: {region: {a: 0.5, b: 0.5}}}\n"
        "open_ended: [c]\ncomments: {codebook: {price: {en: [price]}}}\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = load_survey(_write(tmp_path, text))
    assert s.units == "region" and s.weighting is not None and "price" in s.codebook


ASKED = """\
scales:
  s7: {min: 1, max: 7}
  yn: {min: 1, max: 2}
items:
  - {id: c, scale: yn}
  - {id: a1, scale: s7, construct: X, asked_if: {item: c, in: [1]}}
  - {id: a2, scale: s7, construct: X, asked_if: {item: c, in: [1]}}
  - {id: b, scale: s7, construct: Y}
overall_satisfaction: b
paths: [[X, Y]]
"""


def test_asked_if_is_read_and_routes_respondents(tmp_path: Path) -> None:
    import pandas as pd

    survey = load_survey(_write(tmp_path, ASKED))
    assert survey.item("a1").asked_if.item == "c" and survey.item("a1").asked_if.codes == (1,)
    assert survey.conditional_items == ["a1", "a2"] and survey.conditional_constructs == ["X"]
    assert survey.filter_items == ["c"]
    codes = pd.DataFrame({"c": [1, 2, None], "a1": [5, None, 3], "a2": [4, 2, None], "b": [6, 6, 6]})
    asked = survey.asked(codes)
    assert asked["a1"].tolist() == [True, False, False]  # no answer to the filter: routed past it
    assert asked["b"].all() and asked["c"].all()


@pytest.mark.parametrize(
    ("replace", "needle"),
    [
        (("in: [1]}}\n  - {id: a2", "inn: [1]}}\n  - {id: a2"), "'items[2] (a1).asked_if.inn'. Did you mean 'in'?"),
        (("{item: c, in: [1]}}\n  - {id: a2", "{item: zz, in: [1]}}\n  - {id: a2"), "asked_if names item 'zz'"),
        (("{item: c, in: [1]}}\n  - {id: a2", "{item: c, in: [3]}}\n  - {id: a2"), "outside the scale of 'c'"),
        (("{item: c, in: [1]}}\n  - {id: a2", "{item: c}}\n  - {id: a2"), "needs both 'item' and 'in'"),
        (("  - {id: a2, scale: s7, construct: X, asked_if: {item: c, in: [1]}}", "  - {id: a2, scale: s7, construct: X}"),
         "only some of its items have the same 'asked_if'"),
        (("{id: c, scale: yn}", "{id: c, scale: yn, reverse: true}"), "is reverse-keyed"),
    ],
)
def test_asked_if_errors_name_the_problem(tmp_path: Path, replace, needle: str) -> None:
    text = ASKED.replace(*replace)
    assert text != ASKED
    with pytest.raises(SurveyDefinitionError) as err:
        load_survey(_write(tmp_path, text))
    assert needle.lower() in str(err.value).lower()


def test_constructs_downstream_of_satisfaction_are_outcomes(tmp_path: Path) -> None:
    """ECSI: Satisfaction -> Complaints -> Loyalty. Complaints is an outcome of satisfaction (Fornell et al.
    1996), so by default it is neither a driver nor in the CSI (issue 11, 6d)."""
    text = BASE.replace("overall_satisfaction: b", "overall_satisfaction: b\nloyalty: [d]")
    text = text.replace(
        "  - {id: b, scale: s7, construct: Y}",
        "  - {id: b, scale: s7, construct: Y}\n  - {id: c, scale: s7, construct: Complaints}\n"
        "  - {id: d, scale: s7, construct: Loyalty}",
    )
    text += "paths: [[X, Y], [Y, Complaints], [Complaints, Loyalty]]\n"
    s = load_survey(_write(tmp_path, text))
    assert s.outcome_constructs == ["Y", "Complaints", "Loyalty"]
    assert s.index_constructs == ["X"]


# --------------------------------------------------------------------------- segment codebook (issue 11, point 4)
CODEBOOK = """\
segments:
  - region
  - {column: tier, labels: {1: Gold, 2: {en: Silver, zh: 银卡}, 3: Bronze}, order: [3, Gold]}
  - {column: age, bins: [18, 30, 45, 60, .inf], labels: [18-29, 30-44, 45-59, 60+], max_groups: 4}
  - {column: size, bins: [0, 10, 100]}
"""


def test_segment_codebook_parses_labels_order_and_bins(tmp_path: Path) -> None:
    import pandas as pd

    from analysis.survey import MAX_GROUPS, segment_groups

    s = load_survey(_write(tmp_path, BASE + CODEBOOK))
    assert s.segments == ("region", "tier", "age", "size")  # the CONTRACT list form still gives column names
    assert s.segment("region").labels == {} and s.segment("region").max_groups == MAX_GROUPS == 30
    tier = s.segment("tier")
    got = segment_groups(pd.Series(["1", "2", 3, "2.0", None, "7"]), tier, "en")
    assert got.tolist()[:4] == ["Gold", "Silver", "Bronze", "Silver"] and pd.isna(got.iloc[4])
    assert list(got.cat.categories) == ["Bronze", "Gold", "Silver", "7"]  # order, then the labels, then the rest
    assert segment_groups(pd.Series(["2"]), tier, "zh").tolist() == ["银卡"]
    age = s.segment("age")
    got = segment_groups(pd.Series(["17", "18", "29.9", "30", "60", "99", "n/a"]), age)
    assert got.astype(object).where(got.notna(), None).tolist() == [None, "18-29", "18-29", "30-44", "60+", "60+", None]
    assert age.max_groups == 4
    size = segment_groups(pd.Series([0, 9, 10, 100, 101]), s.segment("size"))
    assert size.astype(object).where(size.notna(), None).tolist() == ["[0, 10)", "[0, 10)", "[10, 100]", "[10, 100]", None]


@pytest.mark.parametrize(
    ("segments", "needle"),
    [
        ("segments: [{column: tier, lables: {1: a}}]\n", "unknown key 'segments[0].lables'. Did you mean 'labels'?"),
        ("segments: [{labels: {1: a}}]\n", "segments[0] has no 'column'"),
        ("segments: [{column: age, bins: [30, 18]}]\n", "segments[0].bins is [30, 18]"),
        ("segments: [{column: age, bins: [0, 1, 2], labels: [a]}]\n", "1 labels for 2 bins"),
        ("segments: [{column: age, bins: [0, 1], order: [a]}]\n", "both 'bins' and 'order'"),
        ("segments: [{column: t, labels: [a, b]}]\n", "segments[0].labels must map codes to labels"),
        ("segments: [{column: t, max_groups: 1}]\n", "segments[0].max_groups is 1"),
        ("segments: [r, {column: r}]\n", "listed twice"),
    ],
)
def test_segment_codebook_errors_name_the_key(tmp_path: Path, segments: str, needle: str) -> None:
    with pytest.raises(SurveyDefinitionError) as err:
        load_survey(_write(tmp_path, BASE + segments))
    assert needle in str(err.value) and "survey.yaml" in str(err.value)


def test_libyaml_and_the_python_parser_read_the_same_definition() -> None:
    """The demo survey, every wave file, and a text with anchors, unicode and odd scalars read the same
    through the fast path (libyaml) as through PyYAML's pure-Python SafeLoader."""
    import yaml

    from analysis.survey import _load_yaml_text

    root = Path(__file__).resolve().parents[1] / "params"
    texts = [p.read_text(encoding="utf-8") for p in [root / "survey.yaml", *sorted((root / "waves").glob("*.yaml"))]]
    texts.append("a: &x {b: [1, 2.5, 1e3, .nan, null, ~, yes, 'no', 0o17, 2025-06-30]}\nc: *x\nd: 满意度 ✓\n")
    for text in texts:
        assert repr(_load_yaml_text(text, "f.yaml")) == repr(yaml.load(text, Loader=yaml.SafeLoader))  # nan too
