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
def unweighted(tmp_path_factory: pytest.TempPathFactory, demo: Path) -> Path:
    """The demo's inputs without its ``weighting:`` block: the unweighted check (issue 13)."""
    root = tmp_path_factory.mktemp("demo_unweighted")
    shutil.copytree(demo / "params", root / "params")
    shutil.copytree(demo / "data" / "raw", root / "data" / "raw")
    text = (root / "params" / "survey.yaml").read_text(encoding="utf-8")
    assert "\nweighting:" in text
    head, _, tail = text.partition("\nweighting:")
    rest = tail.split("\n")
    kept = [line for line in rest[1:] if line and not line.startswith(" ")]
    (root / "params" / "survey.yaml").write_text(head + "\n" + "\n".join(kept) + ("\n" if kept else ""), encoding="utf-8")
    assert load_survey(root / "params" / "survey.yaml").weighting is None
    return root


@pytest.fixture(scope="module")
def first(unweighted: Path) -> WaveAnalysis:
    """The demo's first wave without weighting, every step in one session, saved."""
    wa = load(unweighted, "2025H1")
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


def test_a_new_session_reads_what_the_last_one_saved(first: WaveAnalysis, unweighted: Path) -> None:
    again = load(unweighted, "2025H1")
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


def test_second_wave_changes_against_its_baseline(first: WaveAnalysis, unweighted: Path) -> None:
    wa = load(unweighted, "2025H2")
    assert wa.baseline is not None and wa.baseline.folder == first.store.folder
    run_all(wa)
    change = wa.results["wave_change"].set_index("metric")
    base_csi = first.read("headline").set_index("metric").loc["csi", "value"]
    # one CSI definition (issue 11, 6m): AHP weights are the same in both waves, so the re-scored
    # baseline is the baseline's own headline CSI, and the current CSI is this wave's headline CSI
    assert change.loc["CSI", "baseline"] == pytest.approx(base_csi, abs=1e-9)
    assert change.loc["CSI", "diff"] == pytest.approx(change.loc["CSI", "current"] - change.loc["CSI", "baseline"])
    wa.save()
    head_csi = wa.read("headline").set_index("metric").loc["csi", "value"]
    kpi = wa.read("kpis").set_index("kpi")["value"]
    from analysis.store import processed_root
    from analysis.tracking import Tracking

    track = Tracking.load(unweighted / "params" / "survey.yaml", processed_root(unweighted), ["2025H1", "2025H2"]).headline()
    tracked = track[(track["wave"] == "2025H2") & (track["metric"] == "csi")]["value"].iloc[0]
    for value in (change.loc["CSI", "current"], kpi["csi"], wa.facts()["csi"], tracked):
        assert value == pytest.approx(head_csi, abs=1e-9)
    assert kpi["index_change"] == pytest.approx(change.loc["CSI", "diff"], abs=1e-9)
    # panel-aware (6h): the demo links customers across waves by the hashed customer id
    assert change.loc["CSI", "method"] == "partially_overlapping_t"
    assert change.loc["satisfaction_rate", "method"] == "overlap_newcombe_score"
    assert change.loc["CSI", "n_paired"] > 0.3 * change.loc["CSI", "n_current"]


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


def test_reverse_item_answers_are_labelled_by_what_the_respondent_chose(first: WaveAnalysis, unweighted: Path) -> None:
    """Issue 11: the demo's reverse item "Packaging damage happens often" showed the raw share of
    "strongly disagree" under "strongly agree". Checked against the raw export, read by hand."""
    item = "q_pack_damage"
    survey = first.survey
    assert survey.is_reverse(item)
    raw = pd.read_csv(unweighted / "data" / "raw" / "2025H1.csv", encoding="utf-8-sig", dtype=str)
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


def test_missing_by_design_keeps_everyone_in_the_model_and_drivers(tmp_path: Path) -> None:
    """issue 11, 6i: the ECSI mobi survey with its complaints item asked only of the customers who say
    they complained (asked_if). Cleaning keeps the others (the skipped item is not a missing answer),
    drops an answer given though not asked, the CSI model keeps all 250 respondents without the
    Complaints block and estimates the Complaints paths in the whole model on the respondents asked;
    the drivers keep every respondent and say how many (n). References: estimate_pls on those two
    samples (the PLS itself is checked against seminr in test_pls_seminr.py) and counts by hand."""
    import numpy as np
    import yaml

    from analysis.pls import ECSI_BLOCKS, ECSI_PATHS, estimate_pls
    from conftest import MOBI

    answers = pd.read_csv(MOBI)
    rng = np.random.default_rng(11)
    complained = rng.random(len(answers)) < 0.4
    answers.insert(0, "q_c", np.where(complained, 1, 2))
    answers.loc[~complained, "CUSCO"] = np.nan  # skipped by design
    stray = int(np.flatnonzero(~complained)[0])
    answers.loc[stray, "CUSCO"] = 9  # answered though not asked: set to missing
    answers.insert(0, "rid", range(1, len(answers) + 1))
    answers.to_csv(tmp_path / "mobi.csv", index=False)
    items = [{"id": "q_c", "scale": "yn"}]
    for c, its in ECSI_BLOCKS.items():
        for i in its:
            item = {"id": i, "scale": "ten", "construct": c}
            if c == "Complaints":
                item["asked_if"] = {"item": "q_c", "in": [1]}
            items.append(item)
    survey = {
        "respondent_id": "rid",
        "scales": {"ten": {"min": 1, "max": 10}, "yn": {"min": 1, "max": 2}},
        "items": items,
        "overall_satisfaction": "CUSA1",
        "paths": [list(p) for p in ECSI_PATHS],
        "cleaning": {"straightline_min_items": 100, "min_answered": 0.97},
        "index": {"constructs": ["Image", "Expectation", "Quality", "Value", "Complaints"]},
    }
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"wave": "w", "raw": "mobi.csv"}), encoding="utf-8")
    wa = WaveAnalysis.load(tmp_path / "survey.yaml", tmp_path / "w.yaml", out_root=tmp_path)
    wa.clean()
    clean = wa.read("clean")
    assert len(clean) == 250  # 24 of 25 answered is below 0.97: the skipped item must not count
    issues = wa.read("value_issues")
    assert list(issues.loc[issues["reason"] == "not asked (asked_if)", "row"]) == [stray + 1]
    assert clean["CUSCO"].notna().sum() == complained.sum()
    wa.describe()
    wa.reliability()
    wa.index(n_boot=20)
    wa.headline()
    tables = wa.drivers(n_boot=20)
    assert (tables["drivers"]["n"] == 250).all() and "Complaints" not in set(tables["drivers"]["predictor"])
    model = wa.model(n_boot=20)
    paths = model["csi_paths"].set_index(["source", "target"])
    blocks = {c: i for c, i in ECSI_BLOCKS.items() if c != "Complaints"}
    main = estimate_pls(clean, blocks, [p for p in ECSI_PATHS if "Complaints" not in p])
    asked = estimate_pls(clean[clean["q_c"] == 1], ECSI_BLOCKS, list(ECSI_PATHS))
    for (src, dst), row in paths.iterrows():
        ref, n = (asked, int(complained.sum())) if "Complaints" in (src, dst) else (main, 250)
        expected = ref.paths.set_index(["source", "target"]).loc[(src, dst), "estimate"]
        assert row["estimate"] == pytest.approx(expected, abs=1e-10)
        assert row["n"] == n and row["sample"] == ("asked" if n < 250 else "all")
    assert {("Satisfaction", "Complaints"), ("Complaints", "Loyalty")} <= set(paths.index)
    summary = model["pls_summary"].iloc[0]
    assert summary["n"] == 250 and summary["n_asked"] == complained.sum()
    rel = wa.read("reliability").set_index("construct")
    assert rel.loc["Complaints", "rho_c"] == pytest.approx(1.0)  # a single item, from the asked model
    from analysis import report

    methods = report.methods_text(wa)
    assert f"on the {int(complained.sum())} respondents who were asked" in methods
    assert "They use 250 responses" in methods
    shown = report.item_table(wa).iloc[:, 0].tolist()
    assert "q_c" not in shown and len(shown) == 24  # the routing question is not a rating


def test_pls_weighted_change_rescores_the_baseline_with_this_waves_weights(tmp_path: Path) -> None:
    """issue 11, 6m: with ``index.weights: pls`` the baseline's CSI in wave_change is the baseline's answers
    scored with THIS wave's item and construct weights (by hand below), not the baseline's own headline;
    index_change in kpis.csv is the same difference."""
    import numpy as np
    import yaml

    from analysis.pls import ECSI_BLOCKS, ECSI_PATHS
    from conftest import MOBI

    answers = pd.read_csv(MOBI)
    answers.insert(0, "rid", range(1, len(answers) + 1))
    answers.iloc[:140].to_csv(tmp_path / "a.csv", index=False)
    answers.iloc[110:].to_csv(tmp_path / "b.csv", index=False)
    items = [{"id": i, "scale": "ten", "construct": c} for c, its in ECSI_BLOCKS.items() for i in its]
    index_constructs = ["Image", "Expectation", "Quality", "Value"]
    survey = {
        "respondent_id": "rid",
        "scales": {"ten": {"min": 1, "max": 10}},
        "items": items,
        "overall_satisfaction": "CUSA1",
        "paths": [list(p) for p in ECSI_PATHS],
        "cleaning": {"straightline_min_items": 100},
        "index": {"weights": "pls", "constructs": index_constructs},
    }
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"wave": "A", "raw": "a.csv"}), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"wave": "B", "raw": "b.csv", "baseline": "A"}), encoding="utf-8")
    first = WaveAnalysis.load(tmp_path / "survey.yaml", tmp_path / "a.yaml", out_root=tmp_path)
    first.clean()
    first.index(n_boot=0)
    first.headline()
    first.save()
    wa = WaveAnalysis.load(tmp_path / "survey.yaml", tmp_path / "b.yaml", out_root=tmp_path)
    wa.clean()
    wa.index(n_boot=0)
    wa.headline()
    change = wa.change().set_index("metric")
    wa.kpis()
    weights = wa.read("index_weights").set_index("construct")
    own = first.read("index_weights").set_index("construct")
    assert not np.allclose(weights.loc[index_constructs, "weight"], own.loc[index_constructs, "weight"])
    # by hand: item weights of this wave within each construct, then this wave's construct weights
    _, item_weights = wa.weights()
    base = first.read("clean")
    total = 0.0
    for c in index_constructs:
        cols = ECSI_BLOCKS[c]
        w = np.array([item_weights[i] for i in cols])
        score = ((base[cols].to_numpy() - 1) / 9 * 100) @ w / w.sum()
        total = total + weights.loc[c, "weight"] * score
    assert change.loc["CSI", "baseline"] == pytest.approx(np.mean(total), abs=1e-9)
    own_csi = first.read("headline").set_index("metric").loc["csi", "value"]
    assert abs(change.loc["CSI", "baseline"] - own_csi) > 1e-6  # not the baseline's own yardstick
    head = wa.read("headline").set_index("metric").loc["csi", "value"]
    assert change.loc["CSI", "current"] == pytest.approx(head, abs=1e-9)
    kpi = wa.read("kpis").set_index("kpi")["value"]
    assert kpi["index_change"] == pytest.approx(change.loc["CSI", "diff"], abs=1e-9)


def test_a_weighted_wave_writes_its_weights_and_weights_its_estimates(small_survey: Path) -> None:
    """Wave margins (no weighting: block) rake the 4 kept rows (华东 x2, 华南, 西部) to 40/30/30: by hand the
    weights are 0.4/0.5, 0.3/0.25 and 0.3/0.25, and the weighted mean is np.average with them."""
    import numpy as np

    wave_file = small_survey / "params" / "waves" / "w1.yaml"
    wave_file.write_text(
        wave_file.read_text(encoding="utf-8") + "margins: {region: {华东: 0.4, 华南: 0.3, 西部: 0.3}}\n",
        encoding="utf-8",
    )
    wa = WaveAnalysis.load(small_survey / "params" / "survey.yaml", wave_file, out_root=small_survey)
    wa.clean()
    wa.describe()
    wa.headline()
    clean = wa.read("clean")
    by_hand = clean["region"].map({"华东": 0.8, "华南": 1.2, "西部": 1.2}).to_numpy()
    weights = wa.read("weights")
    assert list(weights["row"]) == list(clean["row"])
    np.testing.assert_allclose(weights["weight"], by_hand, atol=1e-10)
    shares = wa.read("weighting").set_index("group")
    np.testing.assert_allclose(shares["weighted_share"], shares["target"], atol=1e-10)
    assert shares.loc["华东", "sample_share"] == pytest.approx(0.5)
    stats = wa.read("item_stats").set_index("item")
    q6 = clean["q6"].to_numpy(dtype=float)
    assert stats.loc["q6", "mean"] == pytest.approx(np.average(q6, weights=by_hand), abs=1e-12)
    assert stats.loc["q6", "n"] == 4 and stats.loc["q6", "n_eff"] == pytest.approx(by_hand.sum() ** 2 / (by_hand**2).sum())
    dist = wa.read("distribution").set_index(["item", "level"])
    assert dist.loc[("q6", 4), "share"] == pytest.approx(by_hand[q6 == 4].sum() / by_hand.sum(), abs=1e-12)
    sat = wa.read("headline").set_index("metric").loc["satisfaction_rate"]
    assert sat["value"] == pytest.approx(np.average(np.isin(q6, [4, 5]), weights=by_hand), abs=1e-12)
    assert wa.read("summary")["weighting"]["converged"] is True
    wa.save()
    assert Store.for_wave(small_survey, "w1").read("weights")["weight"].tolist() == pytest.approx(list(by_hand))


def test_margins_the_sample_cannot_meet_are_refused_naming_the_wave_file(small_survey: Path) -> None:
    from analysis.errors import DataError

    wave_file = small_survey / "params" / "waves" / "w1.yaml"
    wave_file.write_text(
        wave_file.read_text(encoding="utf-8") + "margins: {region: {华东: 0.3, 华北: 0.2, 华南: 0.3, 西部: 0.2}}\n",
        encoding="utf-8",
    )
    survey, wave = load_survey(small_survey / "params" / "survey.yaml"), load_wave(wave_file)
    with pytest.raises(DataError, match="margin group 'region = 华北' has no respondent") as err:
        check(survey, wave)
    assert str(wave_file) in str(err.value)


def test_an_unweighted_wave_writes_weights_of_one(first: WaveAnalysis) -> None:
    weights = first.read("weights")
    assert len(weights) == len(first.read("clean")) and (weights["weight"] == 1).all()
    assert not first.weighted and not first.has("weighting") and first.read("summary")["weighting"] is None
    assert "n_eff" not in first.read("item_stats").columns


def test_the_demo_is_weighted_to_its_customer_base(demo: Path) -> None:
    """The demo's margins are the simulated customer pool's shares; its estimates are weighted (by hand
    from weights.csv) and its weighted shares hit the targets."""
    import numpy as np

    wa = load(demo, "2025H1")
    wa.clean()
    wa.index(n_boot=20)
    wa.headline()
    shares = wa.read("weighting")
    np.testing.assert_allclose(shares["weighted_share"], shares["target"], atol=1e-10)
    w = wa.read("weights")["weight"].to_numpy()
    clean = wa.read("clean")
    sat = clean[wa.survey.overall_satisfaction]
    ok = sat.notna().to_numpy()
    head = wa.read("headline").set_index("metric")
    assert head.loc["satisfaction_rate", "value"] == pytest.approx(
        np.average(sat[ok].isin(wa.survey.satisfied), weights=w[ok]), abs=1e-12
    )
    assert head.loc["satisfaction_rate", "n"] == ok.sum() and head.loc["satisfaction_rate", "n_eff"] < ok.sum()


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
