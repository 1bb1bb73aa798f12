"""Group comparisons and wave change, each checked against an independent reference."""

from __future__ import annotations

import warnings
from itertools import combinations, product
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import compare as cmp


@pytest.fixture
def three_groups() -> pd.DataFrame:
    """Unequal sizes, unequal variances, Chinese group names, some NaN."""
    rng = np.random.default_rng(7)
    sizes, means, sds = [25, 40, 33], [5.0, 5.6, 4.6], [0.8, 1.6, 1.2]
    y = np.concatenate([rng.normal(m, s, n) for n, m, s in zip(sizes, means, sds, strict=True)])
    g = np.repeat(["华东", "华北", "华南"], sizes)
    df = pd.DataFrame({"y": np.round(y, 1), "g": g})
    df.loc[[3, 50], "y"] = np.nan
    return df


def _welch_by_hand(groups: list[np.ndarray]) -> tuple[float, float, float]:
    """Welch (1951) F, df1, df2 written out group by group."""
    k = len(groups)
    w, m, n = [], [], []
    for a in groups:
        n.append(len(a))
        m.append(sum(a) / len(a))
        w.append(len(a) / (sum((v - m[-1]) ** 2 for v in a) / (len(a) - 1)))
    total_w = sum(w)
    grand = sum(wi * mi for wi, mi in zip(w, m, strict=True)) / total_w
    numerator = sum(wi * (mi - grand) ** 2 for wi, mi in zip(w, m, strict=True)) / (k - 1)
    lam = sum((1 - wi / total_w) ** 2 / (ni - 1) for wi, ni in zip(w, n, strict=True))
    f = numerator / (1 + 2 * (k - 2) / (k**2 - 1) * lam)
    return f, k - 1, (k**2 - 1) / (3 * lam)


# ------------------------------------------------------------------ Welch ANOVA / t


def test_welch_anova_matches_hand_formula_and_pingouin(three_groups):
    res = cmp.welch_anova(three_groups, "y", "g").iloc[0]
    clean = three_groups.dropna()
    groups = [clean.loc[clean.g == lev, "y"].to_numpy() for lev in sorted(clean.g.unique())]
    f, df1, df2 = _welch_by_hand(groups)
    assert res["test"] == "welch_anova"
    assert list(cmp.welch_anova(three_groups, "y", "g").columns) == cmp.TEST_COLUMNS
    assert res["statistic"] == pytest.approx(f, rel=1e-10)
    assert res["df1"] == df1
    assert res["df2"] == pytest.approx(df2, rel=1e-10)
    assert res["p"] == pytest.approx(stats.f.sf(f, df1, df2), rel=1e-10)
    ref = pg.welch_anova(data=clean, dv="y", between="g").iloc[0]
    assert res["statistic"] == pytest.approx(ref["F"], rel=1e-8)
    assert res["df2"] == pytest.approx(ref["ddof2"], rel=1e-8)
    assert res["p"] == pytest.approx(ref["p_unc"], rel=1e-6)
    # omega squared from the sums of squares written out (Hays 1963): (SS_b - (k-1) MS_w) / (SS_t + MS_w)
    big_n = sum(len(a) for a in groups)
    allv = np.concatenate(groups)
    ss_b = sum(len(a) * (a.mean() - allv.mean()) ** 2 for a in groups)
    ss_w = sum(((a - a.mean()) ** 2).sum() for a in groups)
    ms_w = ss_w / (big_n - 3)
    assert res["effect_size"] == pytest.approx((ss_b - 2 * ms_w) / (ss_b + ss_w + ms_w), rel=1e-12)
    assert res["effect_size_name"] == "omega_squared"
    assert res["n"] == big_n == 96


def test_omega_squared_formula_equals_classic_omega_with_classic_f():
    """The F-form used for omega squared is the textbook SS form (Hays) when F is classic."""
    rng = np.random.default_rng(3)
    groups = [rng.normal(mu, 1, 30) for mu in (0, 0.3, 0.8)]
    allv = np.concatenate(groups)
    ss_b = sum(len(a) * (a.mean() - allv.mean()) ** 2 for a in groups)
    ss_w = sum(((a - a.mean()) ** 2).sum() for a in groups)
    ms_w = ss_w / (90 - 3)
    omega_ss = (ss_b - 2 * ms_w) / (ss_b + ss_w + ms_w)
    f_classic = (ss_b / 2) / ms_w
    assert 2 * (f_classic - 1) / (2 * (f_classic - 1) + 90) == pytest.approx(omega_ss)


OMEGA = Path(__file__).parent / "data" / "omega"


@pytest.mark.parametrize("name", ["groups4.csv", "groups3.csv"])
def test_welch_anova_omega_squared_matches_r_effectsize(name):
    """Omega squared = R effectsize::omega_squared(aov(y ~ g)); Welch F, df2 and p = R oneway.test
    (tests/data/omega/omega.R). With unequal sizes and variances (groups4) the old F form fed
    the Welch F gave 0.079 instead of R's 0.052."""
    ref = pd.read_csv(OMEGA / "omega_reference.csv").set_index("file").loc[name]
    data = pd.read_csv(OMEGA / name)
    res = cmp.welch_anova(data, "y", "g").iloc[0]
    assert res["effect_size"] == pytest.approx(ref["omega_squared"], rel=1e-9)
    assert res["statistic"] == pytest.approx(ref["welch_f"], rel=1e-9)
    assert res["df2"] == pytest.approx(ref["welch_df2"], rel=1e-9)
    assert res["p"] == pytest.approx(ref["welch_p"], rel=1e-7)


def test_two_groups_use_welch_t_and_hedges(three_groups):
    two = three_groups[three_groups.g != "华南"]
    res = cmp.welch_t(two, "y", "g").iloc[0]
    assert res["test"] == "welch_t"
    first, second = sorted(two.g.unique())  # groups in sorted order: diff = first - second
    a = two.loc[two.g == first, "y"].dropna()
    b = two.loc[two.g == second, "y"].dropna()
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert res["df2"] == pytest.approx(ref.df, rel=1e-10)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert res["diff"] == pytest.approx(a.mean() - b.mean())
    assert res["effect_size"] == pytest.approx(pg.compute_effsize(a, b, eftype="hedges"), rel=1e-6)
    # Welch's ANOVA with two groups is the squared Welch t (pingouin, other route)
    assert res["statistic"] ** 2 == pytest.approx(pg.welch_anova(two.dropna(), dv="y", between="g")["F"][0])
    # welch_anova keeps its shape with two groups: F = t^2 on (1, df2)
    anova = cmp.welch_anova(two, "y", "g").iloc[0]
    assert anova["test"] == "welch_anova" and anova["df1"] == 1
    assert anova["statistic"] == pytest.approx(res["statistic"] ** 2, rel=1e-10)
    assert anova["df2"] == pytest.approx(res["df2"], rel=1e-10)
    assert anova["p"] == pytest.approx(res["p"], rel=1e-8)


def test_welch_anova_zero_variance_group_raises():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 5, 5, 5, 1, 3], "g": list("aaaabbbbcc")})
    with pytest.raises(ValueError, match="zero variance in group"):
        cmp.welch_anova(df, "y", "g")


def test_games_howell_matches_pingouin(three_groups):
    res = cmp.games_howell(three_groups, "y", "g")
    ref = pg.pairwise_gameshowell(data=three_groups.dropna(), dv="y", between="g")
    assert list(res["A"]) == list(ref["A"]) and list(res["B"]) == list(ref["B"])
    assert list(res.columns[: len(cmp.PAIR_COLUMNS)]) == cmp.PAIR_COLUMNS
    for mine, theirs in [
        ("diff", "diff"),
        ("se", "se"),
        ("statistic", "T"),
        ("df", "df"),
        ("effect_size", "hedges"),
    ]:
        np.testing.assert_allclose(res[mine], ref[theirs], rtol=1e-6)
    np.testing.assert_allclose(res["p_adj"], ref["pval"], rtol=1e-4, atol=1e-6)
    for row in res.itertuples():
        a = three_groups.loc[three_groups.g == row.A, "y"].dropna()
        b = three_groups.loc[three_groups.g == row.B, "y"].dropna()
        assert row.p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
        assert row.p_adj >= row.p


# ------------------------------------------------------------------ ranks


def test_kruskal_matches_scipy_and_epsilon_by_hand(three_groups):
    res = cmp.kruskal(three_groups, "y", "g").iloc[0]
    clean = three_groups.dropna()
    groups = [clean.loc[clean.g == lev, "y"] for lev in sorted(clean.g.unique())]
    ref = stats.kruskal(*groups)
    assert res["test"] == "kruskal_wallis"
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-8)
    n = len(clean)
    assert res["effect_size"] == pytest.approx(ref.statistic * (n + 1) / (n**2 - 1))
    assert res["effect_size_name"] == "epsilon_squared"


def test_two_groups_mann_whitney_by_hand():
    """Tied 1-5 ratings: U counted pair by pair, p from the tie-corrected normal approximation."""
    rng = np.random.default_rng(11)
    a = rng.choice([1, 2, 3, 4, 5], size=40, p=[0.05, 0.1, 0.25, 0.35, 0.25]).astype(float)
    b = rng.choice([1, 2, 3, 4, 5], size=35, p=[0.1, 0.2, 0.3, 0.25, 0.15]).astype(float)
    df = pd.DataFrame({"y": np.concatenate([a, b]), "g": ["A"] * 40 + ["B"] * 35})
    res = cmp.mann_whitney(df, "y", "g").iloc[0]
    assert res["test"] == "mann_whitney"
    u = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    assert res["statistic"] == pytest.approx(u)
    n1, n2, n = 40, 35, 75
    _, t = np.unique(np.concatenate([a, b]), return_counts=True)
    sigma = np.sqrt(n1 * n2 / 12 * ((n + 1) - (t**3 - t).sum() / (n * (n - 1))))
    z = (abs(u - n1 * n2 / 2) - 0.5) / sigma
    assert res["p"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-8)
    assert res["p"] == pytest.approx(stats.mannwhitneyu(a, b).pvalue, rel=1e-8)
    cliffs_delta = (sum(x > y for x in a for y in b) - sum(x < y for x in a for y in b)) / (n1 * n2)
    assert res["effect_size"] == pytest.approx(cliffs_delta)


def test_dunn_matches_hand_calculation():
    df = pd.DataFrame(
        {
            "y": [1, 2, 2, 3, 4, 2, 3, 3, 5, 5, 6, 4, 5, 6, 6, 7, 7, 3],
            "g": ["a"] * 5 + ["b"] * 6 + ["c"] * 7,
        }
    )
    res = cmp.dunn(df, "y", "g")
    y = df["y"].to_numpy(float)
    # average ranks by hand: rank of v = #(values < v) + (#(values == v) + 1) / 2
    ranks = np.array([(y < v).sum() + ((y == v).sum() + 1) / 2 for v in y])
    n = len(y)
    ties = {v: (y == v).sum() for v in set(y)}
    tie_term = sum(t**3 - t for t in ties.values()) / (12 * (n - 1))
    hand_p = []
    for idx, (a, b) in enumerate(combinations("abc", 2)):
        ra, rb = ranks[df.g == a], ranks[df.g == b]
        z = (ra.mean() - rb.mean()) / np.sqrt((n * (n + 1) / 12 - tie_term) * (1 / len(ra) + 1 / len(rb)))
        row = res.iloc[idx]
        assert (row["A"], row["B"]) == (a, b)
        assert row["statistic"] == pytest.approx(z)
        hand_p.append(2 * (1 - stats.norm.cdf(abs(z))))
    np.testing.assert_allclose(res["p"], hand_p, rtol=1e-8)
    # Holm by hand: sorted p times (3, 2, 1), running max
    order = np.argsort(hand_p)
    steps = np.maximum.accumulate(np.array(hand_p)[order] * np.array([3, 2, 1]))
    expected = np.empty(3)
    expected[order] = np.minimum(steps, 1)
    np.testing.assert_allclose(res["p_adj"], expected, rtol=1e-10)
    assert (cmp.dunn(df, "y", "g", p_adjust="bonferroni")["p_adj"] >= res["p_adj"] - 1e-12).all()


def test_holm_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan, 0.5])
    ok = ~np.isnan(p)
    ref = multipletests(p[ok], method="holm")[1]
    got = cmp.holm(p)
    np.testing.assert_allclose(got[ok], ref)
    assert np.isnan(got[4])


# ------------------------------------------------------------------ chi-square


def test_chi2_top2_matches_scipy(three_groups):
    flag = (three_groups["y"] >= 5.5).astype(float).where(three_groups["y"].notna())
    res = cmp.chi2_top2(three_groups, flag, "g").iloc[0]
    clean = three_groups.dropna()
    table = pd.crosstab(clean["g"], clean["y"] >= 5.5)
    ref = stats.chi2_contingency(table, correction=False)
    assert res["statistic"] == pytest.approx(ref.statistic)
    assert res["p"] == pytest.approx(ref.pvalue)
    assert res["df1"] == ref.dof == 2
    assert res["effect_size"] == pytest.approx(stats.contingency.association(table, method="cramer"))
    assert res["n"] == len(clean)


def test_chi2_top2_two_groups_uses_no_yates_and_column_name():
    df = pd.DataFrame({"top": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0] * 3, "g": ["x"] * 5 * 3 + ["y"] * 5 * 3})
    res = cmp.chi2_top2(df, "top", "g").iloc[0]
    table = pd.crosstab(df.g, df.top)
    assert res["statistic"] == pytest.approx(stats.chi2_contingency(table, correction=False).statistic)
    assert res["effect_size"] == pytest.approx(stats.contingency.association(table, method="cramer"))


# ------------------------------------------------------------------ group_tests


@pytest.fixture
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    n = 300
    region = rng.choice(["华东", "华北", "华南"], n, p=[0.45, 0.35, 0.2])
    channel = rng.choice(["online", "store"], n)
    shift = pd.Series(region).map({"华东": 0.6, "华北": 0.0, "华南": -0.3}).to_numpy()
    sat = np.clip(np.round(rng.normal(5 + shift, 1.2)), 1, 7)
    value = np.clip(np.round(rng.normal(4.5, 1.3, n)), 1, 7)
    df = pd.DataFrame({"sat": sat, "value": value, "region": region, "channel": channel})
    df.loc[:3, "region"] = "西北"  # 4 answers: suppressed
    df.loc[4:15, "region"] = "东北"  # 12 answers: small
    df.loc[[20, 21], "sat"] = np.nan
    df.loc[[22], "channel"] = np.nan
    df["tiny"] = np.where(np.arange(n) < 3, "x", None)  # one 3-answer group only
    return df


def test_group_tests_table(survey):
    out = cmp.group_tests(survey, ["sat", "value"], ["region", "channel", "tiny"], top2={"sat": 6}).to_frame()
    contract = ["variable", "group", "test", "statistic", "p", "p_adj", "effect_size", "effect_size_name"]
    assert set(contract + ["segment", "df", "n", "note"]) <= set(out.columns)
    region = out[(out.variable == "sat") & (out.segment == "region")]
    assert list(region.test.unique()) == [
        "welch_anova",
        "games_howell",
        "kruskal_wallis",
        "dunn",
        "chi2_top2",
    ]
    # 4 groups kept (西北 suppressed): 6 pairs per post-hoc test
    assert (region.test == "games_howell").sum() == 6 and (region.test == "dunn").sum() == 6
    assert "华东 vs 华南" in set(region.group) or "华南 vs 华东" in set(region.group)
    omnibus = region[region.test == "welch_anova"].iloc[0]
    assert omnibus["group"] == "region"
    assert "suppressed:西北" in omnibus["note"] and "small:东北" in omnibus["note"]  # codes, worded by the report
    assert not region.group.str.contains("西北").any()
    assert "4" not in omnibus["note"]  # the suppressed group's n is never printed
    # the omnibus test ran on the data without the suppressed group (pingouin reference)
    kept = survey[survey.region != "西北"].dropna(subset=["sat", "region"])
    assert omnibus["statistic"] == pytest.approx(pg.welch_anova(kept, dv="sat", between="region")["F"][0])
    gh = pg.pairwise_gameshowell(kept, dv="sat", between="region")
    mine = region[region.test == "games_howell"]
    np.testing.assert_allclose(mine["p_adj"], gh["pval"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mine["effect_size"], gh["hedges"], rtol=1e-6)
    # two-group segment
    channel = out[(out.variable == "value") & (out.segment == "channel")]
    assert list(channel.test) == ["welch_t", "mann_whitney"]  # no chi2: value not in top2
    # a segment with < 2 groups left: one note row, not tested
    tiny = out[out.segment == "tiny"]
    assert list(tiny.test) == ["none", "none"] and tiny.p.isna().all()
    assert tiny.note.str.contains("not_tested").all()
    # chi2 only for top2 variables, threshold >= 6
    chi = out[(out.test == "chi2_top2") & (out.segment == "channel")].iloc[0]
    sub = survey.dropna(subset=["sat", "channel"])
    table = pd.crosstab(sub.channel, sub.sat >= 6)
    assert chi["statistic"] == pytest.approx(stats.chi2_contingency(table, correction=False).statistic)
    assert (out.p_adj.dropna() >= out.p.dropna() - 1e-15).all()
    assert (out.dropna(subset=["p"]).p_adj.notna()).all()


def test_group_tests_holm_family_is_every_omnibus_test(survey):
    """One family: every omnibus test of every variable, segment and test (issue 11, 6g), = statsmodels."""
    out = cmp.group_tests(survey, ["sat", "value"], ["region", "channel"], top2={"sat": 6}).to_frame()
    fam = out[out.test.isin(cmp.OMNIBUS_TESTS)]
    assert len(fam) == 2 * 2 * 2 + 2  # 2 variables x 2 segments x (means, ranks) + chi2 for sat
    np.testing.assert_allclose(fam.p_adj, multipletests(fam.p, method="holm")[1], rtol=1e-12)
    for seg in ("region",):
        d = out[(out.test == "dunn") & (out.segment == seg) & (out.variable == "sat")]
        np.testing.assert_allclose(d.p_adj, multipletests(d.p, method="holm")[1])
    assert out.loc[(out.test == "welch_anova") & (out.variable == "sat"), "significant"].item()  # planted effect


def test_groups_differ_only_with_a_meaningful_effect():
    """A tiny but highly significant difference (n large) is significant, not "differ" (issue 11, 6l)."""
    rng = np.random.default_rng(5)
    n = 20000
    g = np.repeat(["a", "b"], n)
    y = np.concatenate([rng.normal(0, 1, n), rng.normal(0.06, 1, n)])  # true d = 0.06 < 0.2
    big = rng.normal(0, 1, 2 * n) + np.where(g == "b", 0.5, 0.0)  # d = 0.5
    out = cmp.group_tests(pd.DataFrame({"y": y, "big": big, "g": g}), ["y", "big"], ["g"]).to_frame()
    t = out[out.test == "welch_t"].set_index("variable")
    assert t.loc["y", "p_adj"] < 1e-3 and abs(t.loc["y", "effect_size"]) < 0.2  # Hedges' g by pingouin
    assert t.loc["y", "significant"] and not t.loc["y", "meaningful"] and not t.loc["y", "differ"]
    assert t.loc["big", "differ"]


def test_meaningful_thresholds():
    names = ["hedges_g", "hedges_g", "omega_squared", "omega_squared", "epsilon_squared", "cramers_v", "rank_biserial", "x"]
    effects = [-0.25, 0.19, 0.01, 0.009, 0.02, 0.05, -0.1, 9.0]
    got = cmp.meaningful(pd.Series(effects), pd.Series(names)).tolist()
    assert got == [True, False, True, False, True, False, True, False]


def test_group_tests_zero_variance_is_a_note_not_a_crash():
    df = pd.DataFrame(
        {"y": [7.0] * 10 + list(np.arange(1.0, 11)) * 2, "seg": ["a"] * 10 + ["b"] * 10 + ["c"] * 10}
    )
    out = cmp.group_tests(df, ["y"], ["seg"], min_n=5).to_frame()
    welch = out[out.test == "welch_anova"].iloc[0]
    assert np.isnan(welch["p"]) and "undefined" in welch["note"]  # the report words it
    assert out.loc[out.test == "kruskal_wallis", "p"].notna().all()


# ------------------------------------------------------------------ wave change


def test_mean_change_matches_scipy():
    rng = np.random.default_rng(5)
    base = pd.Series(rng.normal(5, 1, 120))
    cur = pd.Series(np.append(rng.normal(5.3, 1.4, 90), [np.nan, np.nan]))
    res = cmp.mean_change(base, cur, "overall")
    ref = stats.ttest_ind(cur.dropna(), base, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert res.diff == pytest.approx(cur.mean() - base.mean())
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high))
    assert res.p == pytest.approx(ref.pvalue)
    assert (res.n_baseline, res.n_current) == (120, 90)


@pytest.mark.parametrize(
    ("k1", "n1", "k0", "n0", "low", "high"),
    [  # Newcombe (1998) Table II, method 10; current = first proportion
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (10, 10, 0, 10, 0.6075, 1.0000),
        (0, 10, 0, 20, -0.1611, 0.2775),
    ],
)
def test_proportion_change_newcombe_published(k1, n1, k0, n0, low, high):
    res = cmp.proportion_change(k0, n0, k1, n1, "rate")
    assert res.diff == pytest.approx(k1 / n1 - k0 / n0)
    assert res.ci_low == pytest.approx(low, abs=5e-5)
    assert res.ci_high == pytest.approx(high, abs=5e-5)


def test_proportion_change_by_wilson_limits_and_ztest():
    k0, n0, k1, n1 = 412, 480, 455, 505
    res = cmp.proportion_change(k0, n0, k1, n1, "satisfaction_rate")
    l0, u0 = proportion_confint(k0, n0, alpha=0.05, method="wilson")
    l1, u1 = proportion_confint(k1, n1, alpha=0.05, method="wilson")
    p0, p1 = k0 / n0, k1 / n1
    assert res.ci_low == pytest.approx(p1 - p0 - np.hypot(p1 - l1, u0 - p0))
    assert res.ci_high == pytest.approx(p1 - p0 + np.hypot(u1 - p1, p0 - l0))
    _, p = proportions_ztest([k1, k0], [n1, n0])
    assert res.p == pytest.approx(p)


def test_nps_change_by_hand():
    # baseline: 50 promoters, 30 passives, 20 detractors of 100 -> NPS 30
    base = [10] * 25 + [9] * 25 + [8] * 20 + [7] * 10 + [6] * 10 + [0] * 10
    # current: 90 promoters, 40 passives, 30 detractors of 160 (+ 2 missing) -> NPS 37.5
    cur = [9] * 90 + [7] * 40 + [3] * 30 + [np.nan] * 2
    res = cmp.nps_change(pd.Series(base), pd.Series(cur))
    assert res.baseline == pytest.approx(30.0)
    assert res.current == pytest.approx(37.5)
    assert res.diff == pytest.approx(7.5)
    var0 = (0.5 + 0.2 - 0.3**2) / 100  # (pP + pD - NPS^2) / n
    var1 = (90 / 160 + 30 / 160 - 0.375**2) / 160
    se = np.sqrt(var0 + var1)
    assert res.ci_low == pytest.approx(100 * (0.075 - 1.959963985 * se))
    assert res.ci_high == pytest.approx(100 * (0.075 + 1.959963985 * se))
    assert res.p == pytest.approx(2 * stats.norm.sf(0.075 / se))
    with pytest.raises(ValueError, match="0-10"):
        cmp.nps_change(pd.Series([1, 11]), pd.Series([5, 6]))


def test_bootstrap_change_deterministic_and_close_to_welch():
    rng = np.random.default_rng(8)
    base, cur = rng.normal(5, 1, 300), rng.normal(5.25, 1, 300)
    a = cmp.bootstrap_change(base, cur, np.mean, "mean", n_boot=2000, seed=1)
    b = cmp.bootstrap_change(base, cur, np.mean, "mean", n_boot=2000, seed=1)
    c = cmp.bootstrap_change(base, cur, np.mean, "mean", n_boot=2000, seed=2)
    assert a == b and a.ci_low != c.ci_low
    welch = stats.ttest_ind(cur, base, equal_var=False)
    ci = welch.confidence_interval()
    assert a.diff == pytest.approx(cur.mean() - base.mean())
    assert a.ci_low == pytest.approx(ci.low, abs=0.03)
    assert a.ci_high == pytest.approx(ci.high, abs=0.03)
    assert a.p == pytest.approx(welch.pvalue, abs=0.01)
    assert a.ci_low > 0 and a.p < 0.05


def test_planted_shift_detected_and_false_positive_rate():
    rng = np.random.default_rng(99)
    reps = 200
    rej = {"mean": 0, "prop": 0, "nps": 0}
    for _ in range(reps):
        base = rng.integers(0, 11, 200)
        cur = rng.integers(0, 11, 200)
        rej["mean"] += cmp.mean_change(base, cur, "m").p < 0.05
        k0, k1 = (base >= 8).sum(), (cur >= 8).sum()
        prop = cmp.proportion_change(k0, 200, k1, 200, "p")
        rej["prop"] += prop.p < 0.05
        rej["nps"] += cmp.nps_change(base, cur).p < 0.05
    for key, count in rej.items():
        # 5% nominal; binomial(200, .05) 99.9% range is about 2..21
        assert 2 <= count <= 21, (key, count)
    # a planted shift of +1 point (0-9 vs 1-10, n = 300; power about 0.99): detected
    hits = 0
    for _ in range(50):
        base = rng.integers(0, 10, 300)
        cur = rng.integers(1, 11, 300)
        res = cmp.mean_change(base, cur, "m")
        hits += res.p < 0.05 and res.ci_low > 0
    assert hits >= 46


def test_bootstrap_false_positive_rate():
    rng = np.random.default_rng(4)
    hits = sum(
        cmp.bootstrap_change(rng.normal(size=60), rng.normal(size=60), np.mean, "m", n_boot=300, seed=s).p
        < 0.05
        for s in range(120)
    )
    assert 1 <= hits <= 15  # nominal 6 of 120


def test_wave_change_table():
    rows = [
        cmp.mean_change(np.arange(10.0), np.arange(10.0) + 5, "overall"),
        cmp.proportion_change(40, 50, 41, 50, "satisfaction_rate"),
    ]
    out = cmp.wave_change_table(rows)
    assert list(out.columns[: len(cmp.WAVE_CHANGE_COLUMNS)]) == cmp.WAVE_CHANGE_COLUMNS
    assert list(out.significant) == [True, False]
    np.testing.assert_allclose(out.p_adj, multipletests(out.p, method="holm")[1], rtol=1e-12)
    assert "n_baseline" in out.columns and "n_boot" not in out.columns
    own = ["p_adj", "significant"]  # Holm over the family: a one-row table has its own
    pd.testing.assert_frame_equal(rows[0].to_frame().drop(columns=own), out.iloc[[0]].drop(columns=own))


def test_wave_change_p_adj_is_holm_over_all_rows_like_r():
    """Holm over every row of the change table = R p.adjust(p, "holm") (values from R 4.x)."""
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.049]
    rows = [{"metric": f"m{i}", "p": x} for i, x in enumerate(p)]
    out = cmp.wave_change_table(rows)
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2, 0.049), "holm")
    r_holm = [0.05, 0.12, 0.12, 0.03, 0.2, 0.12]
    np.testing.assert_allclose(out.p_adj, r_holm, rtol=1e-12)
    assert list(out.significant) == [False, False, False, True, False, False]


def _tied_scores() -> tuple[pd.DataFrame, pd.Series]:
    """Every answer pattern of three 1-7 items, scored by the index module (noisy) and exactly."""
    from fractions import Fraction

    from analysis.index import respondent_index

    items = pd.DataFrame(list(product(range(1, 8), repeat=3)), columns=["a", "b", "c"]).astype(float)
    noisy = respondent_index(items, {"X": ["a", "b", "c"]}, {c: (1, 7) for c in "abc"})["X"]
    # exact: the mean of the rescaled items is (sum - 3) / 18 * 100; equal fractions give equal floats
    exact = items.sum(axis=1).map(lambda s: float(Fraction(int(s) - 3, 18) * 100))
    rng = np.random.default_rng(3)
    group = np.where(
        rng.random(len(items)) < exact / 150, "high", np.where(rng.random(len(items)) < 0.5, "a", "b")
    )
    return pd.DataFrame({"score": noisy, "g": group}), exact


def test_rank_tests_treat_equal_scores_as_ties():
    """Scores equal in exact arithmetic but apart in the last bits are ties (H as scipy on exact data)."""
    df, exact = _tied_scores()
    assert df["score"].nunique() > exact.nunique() == 19  # the noise: 36 distinct floats for 19 scores
    levels = sorted(df.g.unique())
    ref = stats.kruskal(*[exact[df.g == lev] for lev in levels])
    noisy_ref = stats.kruskal(*[df.score[df.g == lev] for lev in levels])
    assert abs(noisy_ref.statistic - ref.statistic) > 1e-3  # ranking the noise changes H
    res = cmp.kruskal(df, "score", "g").iloc[0]
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    # Mann-Whitney (scipy on exact data) and Dunn's mean ranks (scipy rankdata on exact data)
    two = df[df.g != "high"]
    mw = cmp.mann_whitney(two, "score", "g").iloc[0]
    mw_ref = stats.mannwhitneyu(exact[df.g == "a"], exact[df.g == "b"], alternative="two-sided")
    assert mw["statistic"] == pytest.approx(mw_ref.statistic, rel=1e-12)
    assert mw["p"] == pytest.approx(mw_ref.pvalue, rel=1e-10)
    ranks = stats.rankdata(exact)
    d = cmp.dunn(df, "score", "g")
    for row in d.itertuples():
        assert row.mean_rank_A == pytest.approx(ranks[(df.g == row.A).to_numpy()].mean(), rel=1e-12)
        assert row.mean_rank_B == pytest.approx(ranks[(df.g == row.B).to_numpy()].mean(), rel=1e-12)


def test_tie_grid_keeps_real_differences():
    x = np.array([75.0, 75.00000000000001, 74.99999999999999, 75.0001, 0.0, np.nan])
    g = cmp.tie_grid(x)
    assert g[0] == g[1] == g[2] and g[3] != g[0] and g[4] == 0 and np.isnan(g[5])
    assert np.array_equal(cmp.tie_grid(np.array([1.0, 2.0, 7.0])), [1.0, 2.0, 7.0])


def test_library_calls_raise_no_warnings(three_groups):
    """pingouin / scipy / statsmodels on the installed pandas: no warning even as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = cmp.group_tests(three_groups, ["y"], ["g"], top2={"y": 5}).to_frame()
        two = three_groups[three_groups.g != "华南"]
        cmp.welch_t(two, "y", "g")
        cmp.mann_whitney(two, "y", "g")
    assert set(out.test) == {"welch_anova", "games_howell", "kruskal_wallis", "dunn", "chi2_top2"}
    assert out.p.notna().all()


def test_group_test_notes_are_codes_the_report_words():
    from analysis.report import note_text

    note = "suppressed:西北|东北; small:华南; undefined"
    en = note_text(note, "en")
    assert "西北, 东北" in en and "華南" not in en and "华南" in en and "undefined" in en
    zh = note_text(note, "zh")
    assert "西北、东北" in zh and "无定义" in zh
    assert note_text("", "en") == "" and note_text(float("nan"), "zh") == ""
    assert note_text("a_code_from_elsewhere", "en") == "a_code_from_elsewhere"


def test_groups_in_codebook_order_else_natural_order():
    """Issue 11, 6l: pairs and groups follow the segment's category order (the codebook's), else natural
    order (Tier 2 before Tier 10), never the plain string sort."""
    rng = np.random.default_rng(2)
    names = ["Tier 10", "Tier 2", "Tier 1"]
    g = np.repeat(names, 40)
    y = rng.normal(5, 1, 120) + np.repeat([0.0, 0.5, 1.0], 40)
    plain = cmp.group_tests(pd.DataFrame({"y": y, "g": g}), ["y"], ["g"]).to_frame()
    gh = plain[plain.test == "games_howell"].group.tolist()
    assert gh == ["Tier 1 vs Tier 2", "Tier 1 vs Tier 10", "Tier 2 vs Tier 10"]
    coded = pd.Categorical(g, categories=["Tier 10", "Tier 1", "Tier 2"], ordered=True)
    out = cmp.group_tests(pd.DataFrame({"y": y, "g": coded}), ["y"], ["g"]).to_frame()
    assert out[out.test == "dunn"].group.tolist() == ["Tier 10 vs Tier 1", "Tier 10 vs Tier 2", "Tier 1 vs Tier 2"]


def test_many_groups_keep_the_omnibus_tests_and_omit_the_pairs():
    """Past MAX_PAIR_GROUPS groups (issue 12: 100 groups = 4,950 pairs per variable and test) only the
    omnibus tests are run, each noted ``pairs_omitted``; their statistics stay those of pingouin/scipy."""
    rng = np.random.default_rng(4)
    k = cmp.MAX_PAIR_GROUPS + 5
    groups = np.array([f"G{i:02d}" for i in range(k)], dtype=object)[rng.integers(0, k, 5000)]
    data = pd.DataFrame({"y": rng.normal(3, 1, 5000) + (groups == "G03") * 0.5, "seg": groups})
    t0 = __import__("time").process_time()
    out = cmp.group_tests(data, ["y"], ["seg"], top2={"y": 4}).to_frame()
    assert __import__("time").process_time() - t0 < 5
    assert list(out["test"]) == ["welch_anova", "kruskal_wallis", "chi2_top2"]
    assert out["note"].str.contains(f"pairs_omitted:{cmp.MAX_PAIR_GROUPS}").all()
    ref = pg.welch_anova(data, dv="y", between="seg")
    assert out.loc[out["test"] == "welch_anova", "statistic"].iloc[0] == pytest.approx(float(ref["F"].iloc[0]), rel=1e-8)
    h = stats.kruskal(*[g["y"].to_numpy() for _, g in data.groupby("seg")])
    assert out.loc[out["test"] == "kruskal_wallis", "statistic"].iloc[0] == pytest.approx(h.statistic, rel=1e-9)
    few = cmp.group_tests(data[data["seg"].isin(groups[:0].tolist() + [f"G{i:02d}" for i in range(4)])], ["y"],
                          ["seg"]).to_frame()
    assert (few["test"] == "games_howell").sum() == 6 and not few["note"].fillna("").str.contains("pairs_omitted").any()


def test_pairs_omitted_note_is_worded_in_both_languages():
    from analysis.report import note_text

    code = f"pairs_omitted:{cmp.MAX_PAIR_GROUPS}"
    assert str(cmp.MAX_PAIR_GROUPS) in note_text(code, "en") and "pairs_omitted" not in note_text(code, "en")
    assert str(cmp.MAX_PAIR_GROUPS) in note_text(code, "zh") and "pairs_omitted" not in note_text(code, "zh")


def test_dunn_ranks_from_one_sort_are_scipy_rankdata_to_the_bit():
    """Dunn's ranks, tie sum and z from one np.unique (issue 12: three sorts of a million values were a
    quarter of the inferential stage) equal scipy.stats.rankdata's average ranks exactly."""
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"y": rng.integers(1, 8, 3000).astype(float), "g": rng.choice(["a", "b", "c", "d"], 3000)})
    out = cmp.dunn(data, "y", "g", p_adjust=None)
    ranks = stats.rankdata(data["y"].to_numpy()[np.argsort(data["g"].to_numpy(), kind="stable")])
    sizes = data["g"].value_counts().sort_index().to_numpy()
    bounds = np.cumsum([0, *sizes])
    mean_rank = {g: float(np.mean(ranks[lo:hi])) for g, lo, hi in zip("abcd", bounds[:-1], bounds[1:], strict=True)}
    assert list(out["mean_rank_A"]) == [mean_rank[a] for a in out["A"]]
    n = len(data)
    t = data["y"].value_counts().to_numpy().astype(float)
    s2 = n * (n + 1) / 12 - np.sum(t**3 - t) / (12 * (n - 1))
    for r in out.itertuples():
        z = (mean_rank[r.A] - mean_rank[r.B]) / np.sqrt(s2 * (1 / sizes["abcd".index(r.A)] + 1 / sizes["abcd".index(r.B)]))
        assert r.statistic == pytest.approx(z, rel=1e-12)
