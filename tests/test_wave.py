"""The analyst object: steps, their tables, the store, and one model fit per session (on the demo program)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import wave as wave_module
from analysis.clean import CleanResult
from analysis.store import TABLES, Store
from analysis.survey import load_survey, load_wave
from analysis.wave import WaveAnalysis, check

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo program's inputs (survey, wave files, raw exports)."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    return root


def load(demo: Path, wave: str) -> WaveAnalysis:
    return WaveAnalysis.load(demo / "params" / "survey.yaml", demo / "params" / "waves" / f"{wave}.yaml", out_root=demo)


def run_all(wa: WaveAnalysis) -> None:
    wa.clean()
    wa.describe()
    wa.reliability()
    wa.index(n_boot=50)
    wa.headline()
    wa.groups()
    wa.change()
    wa.drivers(n_boot=50)
    wa.model(n_boot=50)
    wa.zones()
    wa.kpis()


@pytest.fixture(scope="module")
def first(demo: Path) -> WaveAnalysis:
    """The demo's first wave, every step in one session, saved."""
    wa = load(demo, "2025H1")
    run_all(wa)
    wa.save()
    return wa


def test_every_table_is_registered_and_saved(first: WaveAnalysis) -> None:
    assert set(first.results) <= set(TABLES)
    for name in first.results:
        assert first.store.exists(name), name
    # a first wave has no change against a baseline and no transitions
    assert "wave_change" not in first.results and "zone_transitions" not in first.results
    expected = {"clean", "cleaning_log", "item_stats", "headline", "csi_paths", "group_tests", "zones", "kpis"}
    assert expected <= set(first.results)


def test_a_new_session_reads_what_the_last_one_saved(first: WaveAnalysis, demo: Path) -> None:
    again = load(demo, "2025H1")
    assert again.results == {}
    for name in ("item_stats", "group_tests", "csi_paths", "kpis", "cleaning_log"):
        pd.testing.assert_frame_equal(again.read(name), first.store.read(name))
    assert again.read("summary")["kept_rows"] == first.read("summary")["kept_rows"]
    # the cleaning log keeps booleans in memory and true/false on disk (CONTRACT)
    assert first.results["cleaning_log"]["kept"].dtype == bool
    assert first.store.path("cleaning_log").read_text().splitlines()[1].split(",")[2] in {"true", "false"}


def test_numbers_in_memory_equal_the_saved_ones(first: WaveAnalysis) -> None:
    for name in ("headline", "item_stats", "reliability", "drivers", "zones"):
        pd.testing.assert_frame_equal(first.results[name], first.store.read(name), check_dtype=False)


def test_headline_matches_a_hand_calculation(first: WaveAnalysis) -> None:
    clean = first.read("clean")
    survey = first.survey
    head = first.read("headline").set_index("metric")
    sat = clean[survey.overall_satisfaction].dropna()
    assert head.loc["satisfaction_rate", "value"] == pytest.approx(sat.isin(survey.satisfied).mean(), abs=1e-12)
    assert head.loc["response_rate", "value"] == pytest.approx(len(clean) / first.wave.invited, abs=1e-12)
    rec = clean[survey.recommend].dropna()
    nps = 100 * ((rec >= 9).mean() - (rec <= 6).mean())
    assert head.loc["nps", "value"] == pytest.approx(nps, abs=1e-9)
    assert head.loc["csi", "value"] == first.read("csi_index").set_index("construct").loc["CSI", "index"]


def test_model_is_fitted_once_per_session(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = wave_module.fit_csi_model
    monkeypatch.setattr(wave_module, "fit_csi_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    wa = load(demo, "2025H1")
    wa.clean()
    wa.reliability()
    wa.index(n_boot=20)
    wa.model(n_boot=20)
    assert len(calls) == 1
    assert set(wa.results["csi_paths"]["source"]) <= set(wa.survey.constructs)


def test_second_wave_changes_against_its_baseline(first: WaveAnalysis, demo: Path) -> None:
    wa = load(demo, "2025H2")
    assert wa.baseline is not None and wa.baseline.folder == first.store.folder
    run_all(wa)
    change = wa.results["wave_change"].set_index("metric")
    base_csi = first.read("headline").set_index("metric").loc["csi", "value"]
    # the baseline is re-scored with this wave's weights, so its CSI is the mean of respondent CSIs
    assert change.loc["CSI", "baseline"] == pytest.approx(base_csi, abs=0.2)
    assert change.loc["CSI", "diff"] == pytest.approx(change.loc["CSI", "current"] - change.loc["CSI", "baseline"])
    assert "index_change" in set(wa.results["kpis"]["kpi"]) or "csi" in set(wa.results["kpis"]["kpi"])


def test_check_on_the_demo_survey_with_ahp_weights(demo: Path) -> None:
    """Regression: `csat check` crashed on the demo (the AHP result was returned instead of the cleaning)."""
    survey = load_survey(demo / "params" / "survey.yaml")
    assert survey.index.weights == "ahp"
    result = check(survey, load_wave(demo / "params" / "waves" / "2025H1.yaml"))
    assert isinstance(result, CleanResult) and result.n_kept > 0


def test_store_round_trip_for_a_folder_given_as_a_path(tmp_path: Path, first: WaveAnalysis) -> None:
    store = Store(tmp_path / "copy")
    store.write("item_stats", first.results["item_stats"])
    pd.testing.assert_frame_equal(store.read("item_stats"), first.store.read("item_stats"))


def test_reverse_item_answers_are_labelled_by_what_the_respondent_chose(first: WaveAnalysis, demo: Path) -> None:
    """Issue 11: the demo's reverse item "Packaging damage happens often" showed the raw share of
    "strongly disagree" under "strongly agree". Checked against the raw export, read by hand."""
    item = "q_pack_damage"
    survey = first.survey
    assert survey.is_reverse(item)
    raw = pd.read_csv(demo / "data" / "raw" / "2025H1.csv", encoding="utf-8-sig", dtype=str)
    log = first.read("cleaning_log")
    kept = raw.iloc[log.loc[log["kept"], "row"].to_numpy() - 1]
    answers = pd.to_numeric(kept[item], errors="coerce")
    answers = answers[answers.between(1, 7)]
    dist = first.read("distribution").query("item == @item").set_index("label")["share"]
    labels = survey.scale_of(item).label_map(first.language)
    for code in (1, 7):
        assert dist[labels[code]] == pytest.approx((answers == code).mean(), abs=1e-12), labels[code]
    # the scored level 7 (favourable: damage rarely happens) is the raw answer 1
    scored = first.read("distribution").query("item == @item and level == 7")
    assert scored["label"].item() == labels[1]


def test_pls_index_weights_survive_a_negative_outer_weight(tmp_path: Path) -> None:
    """issue 11 point 2: the real ECSI mobi data with CUEX3 keyed the other way (a reverse item left
    unreversed, a common mistake) gives CUEX3 a negative PLS outer weight. ``index: {weights: pls}``
    then used to raise in ``respondent_index``; now Expectation's items count equally, recorded in
    index_weights.csv. Checked against the equal-weight mean of the rescaled items, by hand."""
    import warnings

    import numpy as np
    import yaml

    from analysis.index import IndexWeightWarning
    from analysis.pls import ECSI_BLOCKS, ECSI_PATHS
    from conftest import MOBI

    answers = pd.read_csv(MOBI)
    answers["CUEX3"] = 11 - answers["CUEX3"]
    answers.insert(0, "rid", range(1, len(answers) + 1))
    answers.to_csv(tmp_path / "mobi.csv", index=False)
    items = [{"id": i, "scale": "ten", "construct": c} for c, its in ECSI_BLOCKS.items() for i in its]
    survey = {
        "respondent_id": "rid",
        "scales": {"ten": {"min": 1, "max": 10}},
        "items": items,
        "overall_satisfaction": "CUSA1",
        "paths": [list(p) for p in ECSI_PATHS],
        "cleaning": {"straightline_min_items": 100},
        "index": {"weights": "pls", "constructs": ["Image", "Expectation", "Quality", "Value"]},
    }
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"wave": "w", "raw": "mobi.csv"}), encoding="utf-8")
    wa = WaveAnalysis.load(tmp_path / "survey.yaml", tmp_path / "w.yaml", out_root=tmp_path)
    wa.clean()
    assert wa.csi_model().unstd_weights.set_index("item").loc["CUEX3", "weight"] < 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tables = wa.index(n_boot=20)
    assert any(issubclass(w.category, IndexWeightWarning) for w in caught)
    wa.save()
    weights = wa.store.read("index_weights").set_index("construct")
    assert weights.loc["Expectation", "note"] == "negative_outer_weight"
    assert weights.loc["Expectation", "negative_items"] == "CUEX3"
    assert weights.loc["Expectation", "item_weights"] == "equal"
    assert (weights.loc[["Image", "Quality", "Value"], "item_weights"] == "pls").all()
    assert weights["weight"].sum() == pytest.approx(1.0)
    clean = wa.read("clean")
    by_hand = ((clean[ECSI_BLOCKS["Expectation"]] - 1) / 9 * 100).mean(axis=1)
    np.testing.assert_allclose(tables["respondent_scores"]["Expectation"], by_hand, atol=1e-9)
    # the report says so: under the index chart and in the methods text
    from analysis import report

    notes = report.index_notes(wa)
    assert len(notes) == 1 and "Expectation" in notes[0] and "CUEX3" in notes[0]
    wa.model(n_boot=30)
    methods = report.methods_text(wa)
    assert "Items count equally in Expectation" in methods
    assert "**Discriminant validity.**" in methods
    # discriminant validity: every pair, highest first, levels by the 0.85 / 0.90 thresholds
    table = report.htmt_table(wa)
    assert len(table) == 21
    htmt = wa.read("htmt_intervals")
    top = htmt.sort_values("estimate", ascending=False).iloc[0]
    assert table.iloc[0, 0] == f"{top['construct_a']} – {top['construct_b']}"
    for shown, value in zip(table.iloc[:, 3], htmt.sort_values("estimate", ascending=False)["estimate"], strict=True):
        expected = "above 0.90" if value > 0.90 else "0.85-0.90" if value > 0.85 else "below 0.85"
        assert shown.startswith(expected)
    assert (htmt["ci_low"] <= htmt["estimate"]).all() and (htmt["estimate"] <= htmt["ci_high"]).all()
    warnings_text = report.validity_warnings(wa)
    assert any("CUEX3" in w and "below 0.708" in w for w in warnings_text)
    assert sum("above 0.9" in w for w in warnings_text) == int((htmt["estimate"] > 0.90).sum()) > 0


def test_ipa_has_bootstrap_intervals_and_stable_priorities(first: WaveAnalysis) -> None:
    """issue 11, 6d: importance intervals and quadrant stability in ipa.csv; "act first on" only from items
    stably (>= 90% of resamples) in "Concentrate here"."""
    from analysis import report
    from analysis.zones import IPA_STABLE

    ipa = first.store.read("ipa")
    assert ipa["stability"].between(0, 1).all() and (ipa["n_boot"] > 900).all()
    assert (ipa["importance_ci_low"] <= ipa["importance"]).all()
    assert (ipa["importance"] <= ipa["importance_ci_high"]).all()
    pri = first.store.read("priorities").set_index("item")
    by_item = ipa.set_index("item")
    want = (by_item["quadrant"] == "Concentrate here") & (by_item["stability"] >= IPA_STABLE)
    assert pri["stable"].astype(bool).to_dict() == want.to_dict()
    named = report.act_first(first)
    assert set(named) <= set(ipa.loc[ipa["item"].isin(want[want].index), "label"])
    summary = report.executive_summary(first)
    if named:
        assert all(n in summary for n in named)
    else:
        assert "没有项目稳定地落在" in summary
    # outcome items (overall, loyalty, recommend) are never IPA items
    outcomes = {first.survey.overall_satisfaction, *first.survey.loyalty, first.survey.recommend}
    assert not outcomes & set(ipa["item"])


def test_segment_codebook_flows_into_group_tests_and_profile(tmp_path: Path) -> None:
    """Issue 11, point 4: a numeric age binned and a coded tier labelled by the codebook reach group_tests.csv
    and profile.csv by their labels, in the codebook's order; a plain age segment (60+ ages) is refused."""
    import numpy as np
    import yaml

    from analysis.errors import SurveyDefinitionError
    from analysis.pls import ECSI_BLOCKS
    from analysis.wave import check
    from conftest import MOBI

    answers = pd.read_csv(MOBI)
    rng = np.random.default_rng(4)
    answers.insert(0, "rid", range(1, len(answers) + 1))
    answers["age"] = rng.integers(18, 80, len(answers))
    answers["tier"] = rng.choice([1, 2, 3], len(answers))
    answers.to_csv(tmp_path / "mobi.csv", index=False)
    items = [{"id": i, "scale": "ten", "construct": c} for c, its in ECSI_BLOCKS.items() for i in its]
    segments = [
        {"column": "age", "bins": [18, 30, 50, float("inf")], "labels": ["under 30", "30-49", "50+"]},
        {"column": "tier", "labels": {1: "Gold", 2: "Silver", 3: "Bronze"}, "order": ["Bronze", "Silver", "Gold"]},
    ]
    survey = {"respondent_id": "rid", "scales": {"ten": {"min": 1, "max": 10}}, "items": items,
              "overall_satisfaction": "CUSA1", "segments": segments}
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"wave": "w", "raw": "mobi.csv"}), encoding="utf-8")
    wa = WaveAnalysis.load(tmp_path / "survey.yaml", tmp_path / "w.yaml", out_root=tmp_path)
    wa.clean()
    profile = wa.describe()["profile"]
    assert profile.loc[profile.segment == "age", "group"].tolist() == ["under 30", "30-49", "50+"]
    assert profile.loc[profile.segment == "tier", "group"].tolist() == ["Bronze", "Silver", "Gold"]
    by_hand = pd.cut(answers["age"], [18, 30, 50, np.inf], right=False).value_counts(sort=False).tolist()
    assert profile.loc[profile.segment == "age", "n"].tolist() == by_hand
    wa.index(n_boot=10)
    tests = wa.groups()
    pairs = tests[(tests.test == "games_howell") & (tests.segment == "tier") & (tests.variable == "CSI")]
    assert pairs.group.tolist() == ["Bronze vs Silver", "Bronze vs Gold", "Silver vs Gold"]
    # the same age column as a plain segment: one group per age, refused with advice
    survey["segments"] = ["age"]
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    from analysis.survey import load_survey, load_wave

    with pytest.raises(SurveyDefinitionError, match=r"segment 'age' has \d\d groups, more than the limit of 30"):
        check(load_survey(tmp_path / "survey.yaml"), load_wave(tmp_path / "w.yaml"))
