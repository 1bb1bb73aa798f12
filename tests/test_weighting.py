"""Weighting against R survey 4.1.1 (Debian r-cran-survey), run live on its bundled apistrat data.

tests/data/weighting/apistrat.R writes the data and R's raked weights, svymean means and SEs and
svyciprop intervals, domain shares and differences (cases A: unit weights, B: design weights varying within the margins,
C: bounded raking). Tolerances of issue 13: weights 1e-8 (relative to the mean weight), means
1e-8, standard errors 1e-6.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import describe
from analysis.errors import DataError, SurveyDefinitionError
from analysis.weighting import design_means, kish, make_weights, uniform

SCRIPT = Path(__file__).resolve().parent / "data" / "weighting" / "apistrat.R"
CASES = {
    "A": ({"stype": {"E": 0.70, "H": 0.12, "M": 0.18}, "schwide": {"No": 0.2, "Yes": 0.8}}, False, None),
    "B": ({"schwide": {"No": 0.25, "Yes": 0.75}, "awards": {"No": 0.4, "Yes": 0.6}}, True, None),
    "C": ({"stype": {"E": 0.54, "H": 0.22, "M": 0.24}, "schwide": {"No": 0.26, "Yes": 0.74}}, False, (0.8, 1.25)),
}


@pytest.fixture(scope="module")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = tmp_path_factory.mktemp("r_survey")
    subprocess.run(["Rscript", str(SCRIPT), str(out)], check=True, capture_output=True, timeout=120)
    data = pd.read_csv(out / "apistrat.csv")
    return data, pd.read_csv(out / "reference.csv")


def _ref(reference: pd.DataFrame, case: str) -> pd.Series:
    sub = reference[reference["case"] == case]
    return pd.Series(sub["value"].to_numpy(), index=sub["quantity"])


@pytest.mark.parametrize("case", list(CASES))
def test_raked_weights_equal_r_survey(r_reference, case: str) -> None:
    data, reference = r_reference
    margins, design, bounds = CASES[case]
    ref = _ref(reference, case)
    w = make_weights(data, margins, bounds=bounds, base_weights=data["pw"] if design else None)
    r_w = ref[[f"w{i}" for i in range(1, len(data) + 1)]].to_numpy()
    np.testing.assert_allclose(w.weight.to_numpy(), r_w, rtol=0, atol=1e-8)
    assert w.converged and w.max_error <= 1e-10
    table = w.margin_table()
    np.testing.assert_allclose(table["weighted_share"], table["target"], atol=1e-10)


@pytest.mark.parametrize("case", list(CASES))
def test_design_means_and_se_equal_r_svymean(r_reference, case: str) -> None:
    data, reference = r_reference
    margins, design, bounds = CASES[case]
    ref = _ref(reference, case)
    w = make_weights(data, margins, bounds=bounds, base_weights=data["pw"] if design else None)
    res = design_means(data, ["api00", "y", "top"], w).set_index("column")
    for v in ("api00", "y", "top"):
        assert res.loc[v, "mean"] == pytest.approx(ref[f"mean_{v}"], abs=1e-8)
        assert res.loc[v, "se"] == pytest.approx(ref[f"se_{v}"], abs=1e-6)
    assert res.loc["y", "n"] == data["y"].notna().sum()


@pytest.mark.parametrize("case", ["A", "B"])
def test_weighted_rate_interval_equals_r_svyciprop_logit(r_reference, case: str) -> None:
    data, reference = r_reference
    margins, design, _ = CASES[case]
    ref = _ref(reference, case)
    w = make_weights(data, margins, base_weights=data["pw"] if design else None)
    est = describe.satisfaction_rate(data["top"], [1], weights=w)
    assert est.value == pytest.approx(ref["mean_top"], abs=1e-8)
    assert (est.ci_low, est.ci_high) == pytest.approx((ref["ciprop_low"], ref["ciprop_high"]), abs=1e-6)


def test_item_stats_weighted_carry_design_se_and_n_eff(r_reference) -> None:
    data, reference = r_reference
    ref = _ref(reference, "A")
    w = make_weights(data, CASES["A"][0])
    stats = describe.item_stats(data.assign(top=data["top"] + 1), {"top": (1, 2)}, top=1, weights=w).iloc[0]
    assert stats["mean"] == pytest.approx(ref["mean_top"] + 1, abs=1e-8)
    assert stats["se"] == pytest.approx(ref["se_top"], abs=1e-6)
    assert stats["top2box"] == pytest.approx(ref["mean_top"], abs=1e-8)
    assert stats["n"] == len(data)
    assert stats["n_eff"] == pytest.approx(kish(w.weight)["n_eff"])


def test_unweighted_item_stats_unchanged_by_uniform_weights() -> None:
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.integers(1, 8, 60).astype(float)})
    data.loc[3, "a"] = np.nan
    plain = describe.item_stats(data, {"a": (1, 7)})
    same = describe.item_stats(data, {"a": (1, 7)}, weights=None)
    pd.testing.assert_frame_equal(plain, same)
    # the unweighted SE is the textbook sd / sqrt(n)
    x = data["a"].dropna()
    assert plain.loc[0, "se"] == pytest.approx(x.std(ddof=1) / np.sqrt(len(x)), rel=1e-12)
    uni = describe.item_stats(data, {"a": (1, 7)}, weights=uniform(data.index))
    assert uni.loc[0, "mean"] == pytest.approx(plain.loc[0, "mean"], abs=1e-12)


def test_kish_by_hand() -> None:
    k = kish([1, 1, 2, 4])
    assert k["n_eff"] == pytest.approx(64 / 22)
    assert k["deff"] == pytest.approx(4 / (64 / 22))


def test_poststratify_one_segment_gives_cell_ratio_weights() -> None:
    data = pd.DataFrame({"region": ["N"] * 30 + ["S"] * 10})
    w = make_weights(data, {"region": {"N": 0.5, "S": 0.5}}, method="poststratify")
    # by hand: target share / sample share, mean 1
    assert w.weight.iloc[0] == pytest.approx(0.5 / 0.75, abs=1e-12)
    assert w.weight.iloc[-1] == pytest.approx(0.5 / 0.25, abs=1e-12)
    d = w.diagnostics()
    assert d["converged"] and d["iterations"] == 1 and d["n_eff"] == pytest.approx(kish(w.weight)["n_eff"])


@pytest.mark.parametrize(
    ("frame", "margins", "needle"),
    [
        (pd.DataFrame({"r": ["a"] * 5}), {"r": {"a": 0.5, "b": 0.5}}, "margin group 'r = b' has no respondent"),
        (pd.DataFrame({"r": ["a", "c"] * 3}), {"r": {"a": 1.0}}, "'r = c', a group the margins do not list"),
        (pd.DataFrame({"r": ["a", None, "b"]}), {"r": {"a": 0.5, "b": 0.5}}, "1 respondent(s) have no 'r'"),
    ],
)
def test_infeasible_designs_are_refused_by_name(frame, margins, needle) -> None:
    with pytest.raises(DataError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        make_weights(frame, margins, source="w.yaml")


def test_bounds_that_cannot_hold_are_refused() -> None:
    data = pd.DataFrame({"r": ["a"] * 19 + ["b"]})
    with pytest.raises(DataError, match="did not converge"):
        make_weights(data, {"r": {"a": 0.5, "b": 0.5}}, bounds=(0.5, 2.0))


def test_low_efficiency_is_flagged() -> None:
    from analysis.weighting import WeightingWarning

    data = pd.DataFrame({"r": ["a"] * 95 + ["b"] * 5})
    with pytest.warns(WeightingWarning, match="efficiency is [0-9]+% \\(below 40%\\)"):
        d = make_weights(data, {"r": {"a": 0.2, "b": 0.8}}).diagnostics()
    assert d["efficiency"] < 0.4 and d["low_efficiency"]


def test_survey_refuses_bad_margins(tmp_path: Path) -> None:
    from analysis.survey import load_survey

    base = "scales: {s: {min: 1, max: 5}}\nitems: [{id: a, scale: s}]\noverall_satisfaction: a\nsegments: [region]\n"
    cases = {
        "weighting: {margins: {region: {N: 0.5, S: 0.4}}}\n": "sum to 0.9, not 1",
        "weighting: {margins: {channel: {x: 1.0}}}\n": "segment 'channel', which is not declared",
        "weighting: {method: ipf, margins: {region: {N: 1.0}}}\n": "weighting.method is 'ipf'",
        "weighting: {margins: {region: {N: 1.0}}, bounds: [2, 3]}\n": "weighting.bounds",
    }
    for extra, needle in cases.items():
        path = tmp_path / "s.yaml"
        path.write_text(base + extra, encoding="utf-8")
        with pytest.raises(SurveyDefinitionError, match=needle):
            load_survey(path)


@pytest.mark.parametrize("v", ["api00", "y"])
@pytest.mark.parametrize("g", ["stype", "awards"])
def test_design_wald_equals_r_regtermtest(r_reference, v: str, g: str) -> None:
    from analysis.weighting import design_group_tests

    data, reference = r_reference
    ref = _ref(reference, "A")
    w = make_weights(data, CASES["A"][0])
    table = design_group_tests(data, [v], [g], w, suppress_below=1).to_frame()
    omni = table[table["test"] == "design_wald"].iloc[0]
    assert omni["statistic"] == pytest.approx(ref[f"waldF_{v}_{g}"], rel=1e-6)
    assert omni["p"] == pytest.approx(ref[f"waldp_{v}_{g}"], rel=1e-6)
    assert omni["df2"] == ref[f"waldddf_{v}_{g}"]
    if g == "stype":
        pair = table[(table["test"] == "design_t") & (table["group"] == "E vs H")].iloc[0]
        assert pair["statistic"] == pytest.approx(ref[f"t_EvsH_{v}"], rel=1e-6)
        assert pair["p"] == pytest.approx(ref[f"p_EvsH_{v}"], rel=1e-6)
        assert pair["p_adj"] >= pair["p"]


def test_design_group_tests_batched_over_variables_and_segments_equal_r(r_reference) -> None:
    """Every variable x segment test (and the top-2 tests) from one design: the same rows as one call per
    variable and segment, and each Wald F / pair t as R regTermTest / svyglm."""
    from analysis.weighting import design_group_tests

    data, reference = r_reference
    ref = _ref(reference, "A")
    w = make_weights(data, CASES["A"][0])
    table = design_group_tests(data, ["api00", "y"], ["stype", "awards"], w, top2={"api00": 700},
                               suppress_below=1).to_frame()
    for v in ("api00", "y"):
        for g in ("stype", "awards"):
            here = table[(table["variable"] == v) & (table["segment"] == g)].reset_index(drop=True)
            one = design_group_tests(data, [v], [g], w, top2={"api00": 700}, suppress_below=1).to_frame()
            cols = ["test", "group", "statistic", "df", "df2", "p", "diff", "n", "n_eff"]
            pd.testing.assert_frame_equal(here[cols], one[cols], check_exact=True)
            omni = here[here["test"] == "design_wald"].iloc[0]
            assert omni["statistic"] == pytest.approx(ref[f"waldF_{v}_{g}"], rel=1e-6)
            assert omni["p"] == pytest.approx(ref[f"waldp_{v}_{g}"], rel=1e-6)
        pair = table[(table["variable"] == v) & (table["test"] == "design_t") & (table["group"] == "E vs H")].iloc[0]
        assert pair["statistic"] == pytest.approx(ref[f"t_EvsH_{v}"], rel=1e-6)
    assert (table["test"] == "design_wald_top2").sum() == 2


def test_design_change_combines_two_independent_design_ses(r_reference) -> None:
    """Baseline: unweighted (fixed weights 1: its SE is the textbook sd / sqrt(n)); current: the raked case A
    (R svymean). The change's SE is sqrt(se0^2 + se1^2), z interval."""
    from scipy import stats

    from analysis.weighting import design_change, fixed

    data, reference = r_reference
    ref = _ref(reference, "A")
    base = pd.Series(np.random.default_rng(3).normal(640, 90, 150))
    ch = design_change(base, fixed(pd.Series(1.0, index=base.index)), data["api00"], make_weights(data, CASES["A"][0]),
                       "api00")
    se = np.sqrt(ref["se_api00"] ** 2 + base.var(ddof=1) / len(base))
    assert ch.diff == pytest.approx(ref["mean_api00"] - base.mean(), abs=1e-8)
    assert ch.ci_high - ch.diff == pytest.approx(stats.norm.ppf(0.975) * se, abs=1e-6)
    assert ch.p == pytest.approx(2 * stats.norm.sf(abs(ch.diff) / se), rel=1e-6)
    assert ch.method == "design_z" and ch.n_baseline == 150


# --------------------------------------------------------------------------- change with weights and pairing
def _panel(seed: int = 3) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Two waves of 200 and 180 answers; 80 customers answer in both, their answers correlated."""
    rng = np.random.default_rng(seed)
    common = rng.normal(7, 1.5, 80)
    y0 = np.concatenate([common + rng.normal(0, 0.7, 80), rng.normal(7, 1.6, 120)])
    y1 = np.concatenate([common + 0.3 + rng.normal(0, 0.7, 80), rng.normal(7.3, 1.6, 100)])
    ids0 = [f"c{i}" for i in range(80)] + [f"a{i}" for i in range(120)]
    ids1 = [f"c{i}" for i in range(80)] + [f"b{i}" for i in range(100)]
    return pd.Series(y0), pd.Series(ids0), pd.Series(y1, index=range(500, 680)), pd.Series(ids1, index=range(500, 680))


def test_paired_design_change_with_unit_weights_by_hand_and_against_the_overlap_test() -> None:
    """Unit fixed weights: se^2 = s0^2/n0 + s1^2/n1 - 2 sum_c (y1c - m1)(y0c - m0) / (n1 n0), by hand; the
    same order as the partially overlapping t-test's SE (Derrick et al. 2017: same covariance up to n/(n-1))."""
    from analysis.compare import partially_overlapping_t
    from analysis.weighting import design_change, fixed

    y0, ids0, y1, ids1 = _panel()
    w0, w1 = fixed(pd.Series(1.0, index=y0.index)), fixed(pd.Series(1.0, index=y1.index))
    paired = design_change(y0, w0, y1, w1, "x", baseline_ids=ids0, current_ids=ids1)
    alone = design_change(y0, w0, y1, w1, "x")
    n0, n1 = len(y0), len(y1)
    cov = float(np.sum((y1.to_numpy()[:80] - y1.mean()) * (y0.to_numpy()[:80] - y0.mean())) / (n1 * n0))
    se_hand = np.sqrt(y0.var(ddof=1) / n0 + y1.var(ddof=1) / n1 - 2 * cov)
    z = 1.959963984540054
    assert (paired.ci_high - paired.ci_low) / (2 * z) == pytest.approx(se_hand, rel=1e-10)
    assert paired.method == "design_z_paired" and paired.n_paired == 80 and alone.method == "design_z"
    assert paired.diff == pytest.approx(alone.diff, abs=1e-12) and paired.p < alone.p  # positive correlation
    derrick = partially_overlapping_t(y1.to_numpy()[80:], y0.to_numpy()[80:], y1.to_numpy()[:80], y0.to_numpy()[:80])
    se_alone = (alone.ci_high - alone.ci_low) / (2 * z)
    # same order: both well below the independent SE (0.127 and 0.136 against 0.169 here); Derrick's
    # covariance is r S1 S2 n_c / (n1 n2) with the whole samples' SDs, ours the pairs' own cross-products
    assert se_hand == pytest.approx(derrick["se"], rel=0.10) and max(se_hand, derrick["se"]) < 0.9 * se_alone


def test_paired_design_change_without_links_is_the_independent_change() -> None:
    from analysis.weighting import design_change, fixed

    y0, ids0, y1, _ = _panel()
    rng = np.random.default_rng(4)
    w0 = fixed(pd.Series(rng.uniform(0.5, 2, len(y0)), index=y0.index))
    w1 = fixed(pd.Series(rng.uniform(0.5, 2, len(y1)), index=y1.index))
    other = pd.Series([f"z{i}" for i in range(len(y1))], index=y1.index)
    a = design_change(y0, w0, y1, w1, "x", baseline_ids=ids0, current_ids=other)
    b = design_change(y0, w0, y1, w1, "x")
    assert (a.ci_low, a.ci_high, a.p, a.method) == (b.ci_low, b.ci_high, b.p, "design_z") and a.n_paired == 0


def test_influence_values_give_the_calibrated_se(r_reference) -> None:
    """The raked design's linearised values (GREG residuals from the margin dummies) reproduce R's
    svymean SE of the raked mean (iterated post-stratification residuals) to 1e-4 relative."""
    from analysis.weighting import influence

    data, reference = r_reference
    ref = _ref(reference, "A")
    w = make_weights(data, CASES["A"][0])
    for v in ("api00", "y"):
        e = influence(data[v], w).to_numpy()
        n = len(e)
        assert np.sqrt(n / (n - 1) * np.sum(e**2)) == pytest.approx(ref[f"se_{v}"], rel=1e-4)


# --------------------------------------------------------------------------- batched (one design) = per column = R
def test_batched_domain_shares_equal_one_at_a_time_and_r(r_reference) -> None:
    """design_shares of the three stype domains' top flag from one design: bit for bit design_share of each,
    and R svymean / svyciprop(logit) on subset(design, stype == g)."""
    from analysis.weighting import design_share, design_shares

    data, reference = r_reference
    ref = _ref(reference, "A")
    w = make_weights(data, CASES["A"][0])
    groups = ["E", "H", "M"]
    flags = pd.DataFrame({g: data["top"].astype(float).where(data["stype"] == g) for g in groups})
    batch = design_shares(flags, w)
    for g, est in zip(groups, batch, strict=True):
        assert est == design_share(flags[g], w)
        assert est["share"] == pytest.approx(ref[f"dmean_top_{g}"], abs=1e-8)
        assert est["se"] == pytest.approx(ref[f"dse_top_{g}"], abs=1e-6)
        assert (est["ci_low"], est["ci_high"]) == pytest.approx((ref[f"dci_low_{g}"], ref[f"dci_high_{g}"]), abs=1e-6)
        assert est["n"] == (data["stype"] == g).sum()


def test_batched_domain_differences_equal_one_at_a_time_and_r_svyglm(r_reference) -> None:
    """design_diffs of api00 and y between the awards groups from one design (domain_means_batch): the same
    numbers as design_diff of each, and R svyglm(v ~ awards) on the raked design (coefficient, SE, p)."""

    from analysis.weighting import design_diff, design_diffs, domain_means, domain_means_batch

    data, reference = r_reference
    ref = _ref(reference, "A")
    w = make_weights(data, CASES["A"][0])
    flag = (data["awards"] == "Yes").astype(float)
    for v in ("api00", "y"):
        both = design_diffs(data[v], pd.DataFrame({"awards": flag, "same": flag}), w)
        assert both[0] == both[1] == design_diff(data[v], flag, w)
        d, t, p = both[0]
        assert d == pytest.approx(ref[f"ddiff_{v}"], abs=1e-8)
        assert d / t == pytest.approx(ref[f"ddiff_se_{v}"], rel=1e-6)
        assert p == pytest.approx(ref[f"ddiff_p_{v}"], rel=1e-6)
    batch = domain_means_batch(data, [("api00", "stype", None), ("y", "awards", ["No", "Yes"])], w)
    for got, args in zip(batch, [("api00", "stype", None), ("y", "awards", ["No", "Yes"])], strict=True):
        one = domain_means(data, *args[:2], w, args[2])
        assert got[0] == one[0]
        for a, b in zip(got[1:], one[1:], strict=True):
            np.testing.assert_array_equal(a, b)


def test_batched_design_changes_equal_one_at_a_time_and_r(r_reference) -> None:
    """design_changes of two metrics (one design per wave) against design_change of each, and the change's
    SE against R svymean's SE of the current wave (the baseline unweighted: sd / sqrt(n))."""
    from scipy import stats

    from analysis.weighting import design_change, design_changes, fixed

    data, reference = r_reference
    ref = _ref(reference, "A")
    rng = np.random.default_rng(3)
    base = pd.DataFrame({"api00": rng.normal(640, 90, 150), "y": rng.normal(650, 80, 150)})
    bw, w = fixed(pd.Series(1.0, index=base.index)), make_weights(data, CASES["A"][0])
    many = design_changes(base, bw, data[["api00", "y"]], w, scales={"y": 100.0})
    for v, ch in zip(("api00", "y"), many, strict=True):
        scale = 100.0 if v == "y" else 1.0
        assert ch == design_change(base[v], bw, data[v], w, v, scale=scale)
        b = base[v].dropna()
        se = np.sqrt(ref[f"se_{v}"] ** 2 + b.var(ddof=1) / len(b))
        assert ch.diff == pytest.approx(scale * (ref[f"mean_{v}"] - b.mean()), abs=1e-6)
        assert (ch.ci_high - ch.diff) / scale == pytest.approx(stats.norm.ppf(0.975) * se, abs=1e-6)
    few = design_changes(base.iloc[:1], fixed(pd.Series(1.0, index=base.index[:1])), data[["api00", "y"]], w)
    assert few == [None, None]
    with pytest.raises(ValueError, match="at least 2"):
        design_change(base["y"].iloc[:1], fixed(pd.Series(1.0, index=base.index[:1])), data["y"], w, "y")
