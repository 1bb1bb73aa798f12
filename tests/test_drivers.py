"""Key-driver analysis checked against statsmodels, pingouin and exact constructions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from analysis import drivers
from conftest import correlated_frame

MOBI = Path(__file__).resolve().parent / "data" / "ecsi-mobi" / "mobi.csv"
PREDICTORS = ["image", "expectation", "quality", "value"]


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    """ECSI mobile survey: construct means, satisfaction as the outcome."""
    m = pd.read_csv(MOBI)
    blocks = {
        "satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
        "image": [f"IMAG{i}" for i in range(1, 6)],
        "expectation": ["CUEX1", "CUEX2", "CUEX3"],
        "quality": [f"PERQ{i}" for i in range(1, 8)],
        "value": ["PERV1", "PERV2"],
    }
    return pd.DataFrame({name: m[cols].mean(axis=1) for name, cols in blocks.items()})


@pytest.fixture(scope="module")
def correlated() -> pd.DataFrame:
    df = correlated_frame()
    df.loc[[0, 5], "b"] = np.nan
    df.loc[[9], "y"] = np.nan
    return df


def test_regression_drivers_match_statsmodels(correlated):
    result = drivers.regression_drivers(correlated, "y", list("abcd"))
    assert result.method == "regression" and result.y == "y"
    res = result.to_frame()
    cc = correlated.dropna()
    z = (cc - cc.mean()) / cc.std()
    fit = sm.OLS(z["y"], sm.add_constant(z[list("abcd")])).fit()
    np.testing.assert_allclose(res["beta"], fit.params[list("abcd")], rtol=1e-10)
    np.testing.assert_allclose(res["se"], fit.bse[list("abcd")], rtol=1e-10)
    np.testing.assert_allclose(res["t"], fit.tvalues[list("abcd")], rtol=1e-10)
    np.testing.assert_allclose(res["p"], fit.pvalues[list("abcd")], rtol=1e-8)
    assert result.r2 == pytest.approx(fit.rsquared)
    assert result.r2_adj == pytest.approx(fit.rsquared_adj)
    assert result.n == len(cc) == 397
    exog = sm.add_constant(cc[list("abcd")]).to_numpy()
    vif = [variance_inflation_factor(exog, i) for i in range(1, 5)]
    np.testing.assert_allclose(res["vif"], vif, rtol=1e-8)
    # raw-scale coefficients times sd(x)/sd(y) are the betas (another route)
    raw = sm.OLS(cc["y"], sm.add_constant(cc[list("abcd")])).fit().params[list("abcd")]
    np.testing.assert_allclose(res["beta"], raw * cc[list("abcd")].std() / cc["y"].std(), rtol=1e-8)


def test_relative_weights_sum_to_r2_and_match_lmg(correlated):
    res = drivers.relative_weights(correlated, "y", list("abcd")).to_frame()
    cc = correlated.dropna()
    r2 = sm.OLS(cc["y"], sm.add_constant(cc[list("abcd")])).fit().rsquared
    assert res["raw_weight"].sum() == pytest.approx(r2, rel=1e-10)
    assert res["rescaled"].sum() == pytest.approx(1.0)
    assert list(res["rank"]) == [1, 2, 3, 4]
    lmg = pg.linear_regression(cc[list("abcd")], cc["y"], relimp=True).set_index("names")["relimp"]
    np.testing.assert_allclose(res["raw_weight"], lmg[list("abcd")], atol=0.02)


def test_relative_weights_orthogonal_equal_squared_correlations():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(60, 3))
    q, _ = np.linalg.qr(raw - raw.mean(axis=0))  # orthonormal, mean-zero columns: r_ij = 0 exactly
    df = pd.DataFrame(q, columns=["x1", "x2", "x3"])
    df["y"] = 2 * df.x1 - df.x2 + 0.5 * df.x3 + rng.normal(0, 0.05, 60)
    res = drivers.relative_weights(df, "y", ["x1", "x2", "x3"]).to_frame()
    r2 = [np.corrcoef(df[c], df.y)[0, 1] ** 2 for c in ["x1", "x2", "x3"]]
    np.testing.assert_allclose(res["raw_weight"], r2, rtol=1e-10)
    assert list(res["rank"]) == [1, 2, 3]


def test_relative_weights_on_ecsi_mobi(mobi):
    res = drivers.relative_weights(mobi, "satisfaction", PREDICTORS).to_frame()
    fit = sm.OLS(mobi["satisfaction"], sm.add_constant(mobi[PREDICTORS])).fit()
    assert res["raw_weight"].sum() == pytest.approx(fit.rsquared)
    lmg = pg.linear_regression(mobi[PREDICTORS], mobi["satisfaction"], relimp=True).set_index("names")[
        "relimp"
    ]
    np.testing.assert_allclose(res["raw_weight"], lmg[PREDICTORS], atol=0.02)
    assert res.set_index("predictor").loc["quality", "rank"] == 1


def test_relative_weights_boot(correlated):
    result = drivers.relative_weights_boot(correlated, "y", list("abcd"), n_boot=300, seed=3)
    a = result.to_frame()
    b = drivers.relative_weights_boot(correlated, "y", list("abcd"), n_boot=300, seed=3).to_frame()
    pd.testing.assert_frame_equal(a, b)
    point = drivers.relative_weights(correlated, "y", list("abcd")).to_frame()
    pd.testing.assert_series_equal(a["raw_weight"], point["raw_weight"])
    assert (a["ci_low"] <= a["raw_weight"]).all() and (a["raw_weight"] <= a["ci_high"]).all()
    assert ((a["rescaled_ci_low"] >= 0) & (a["rescaled_ci_high"] <= 1)).all()
    # the percentile interval, rebuilt from the same case resamples (same seed and draw order)
    cc = correlated.dropna()[["y", *"abcd"]].to_numpy()
    rng = np.random.default_rng(3)
    w = []
    for _ in range(300):
        s = pd.DataFrame(cc[rng.integers(0, len(cc), len(cc))], columns=["y", *"abcd"])
        w.append(drivers.relative_weights(s, "y", list("abcd")).table["raw_weight"].to_numpy())
    w = np.array(w)
    np.testing.assert_allclose(a["ci_low"], np.percentile(w, 2.5, axis=0))
    np.testing.assert_allclose(a["ci_high"], np.percentile(w, 97.5, axis=0))
    share = w / w.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a["rescaled_ci_high"], np.percentile(share, 97.5, axis=0))
    assert result.n_boot == 300


def test_collinear_and_missing_columns_raise():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 7], "a": [1.0, 2, 3, 4, 5, 6]})
    df["b"] = 2 * df["a"]
    with pytest.raises(ValueError, match="collinear"):
        drivers.relative_weights(df, "y", ["a", "b"])
    with pytest.raises(KeyError):
        drivers.relative_weights(df, "y", ["a", "zz"])



def test_weighted_drivers_equal_repeated_rows() -> None:
    """Issue 13: relative weights and the regression from weighted correlations; integer weights are
    repeated rows (the independent reference), to 1e-10."""
    import numpy as np
    import pandas as pd

    from analysis import drivers

    rng = np.random.default_rng(4)
    x = rng.normal(size=(120, 3))
    data = pd.DataFrame({"y": x @ [0.5, 0.3, 0.1] + rng.normal(size=120), "a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    counts = pd.Series(rng.integers(1, 4, 120), index=data.index).astype(float)
    repeated = data.loc[np.repeat(data.index, counts.astype(int))].reset_index(drop=True)
    rw = drivers.relative_weights(data, "y", ["a", "b", "c"], weights=counts).table
    ref = drivers.relative_weights(repeated, "y", ["a", "b", "c"]).table
    np.testing.assert_allclose(rw[["raw_weight", "rescaled"]], ref[["raw_weight", "rescaled"]], atol=1e-10)
    reg = drivers.regression_drivers(data, "y", ["a", "b", "c"], weights=counts).table
    ref = drivers.regression_drivers(repeated, "y", ["a", "b", "c"]).table
    np.testing.assert_allclose(reg[["beta", "vif", "r"]], ref[["beta", "vif", "r"]], atol=1e-10)
    boot = drivers.relative_weights_boot(data, "y", ["a", "b", "c"], n_boot=50, seed=1, weights=counts)
    np.testing.assert_allclose(boot.table["raw_weight"], rw["raw_weight"], atol=1e-12)
    assert (boot.table["ci_low"] <= boot.table["raw_weight"]).all()


def test_weighted_bootstrap_equals_resampled_rows_with_their_weights(correlated) -> None:
    """The batched count-weight bootstrap under weighting equals, resample by resample, the relative
    weights of the drawn rows with their case weights (rebuilt here with numpy's weighted covariance)."""
    data = correlated.dropna()
    w = pd.Series(np.random.default_rng(8).uniform(0.3, 3.0, len(data)), index=data.index)
    got = drivers.relative_weights_boot(data, "y", list("abcd"), n_boot=200, seed=5, weights=w).to_frame()
    cc, wt = data[["y", *"abcd"]].to_numpy(), w.to_numpy()
    rng = np.random.default_rng(5)
    draws = []
    for _ in range(200):
        rows = rng.integers(0, len(cc), len(cc))
        cov = np.cov(cc[rows], rowvar=False, aweights=wt[rows])
        d = np.sqrt(np.diag(cov))
        corr = cov / np.outer(d, d)
        rxx, rxy = corr[1:, 1:], corr[1:, 0]
        evals, evecs = np.linalg.eigh(rxx)
        lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T
        draws.append((lam**2) @ np.linalg.solve(lam, rxy) ** 2)
    draws = np.array(draws)
    np.testing.assert_allclose(got["ci_low"], np.percentile(draws, 2.5, axis=0), atol=1e-12)
    np.testing.assert_allclose(got["ci_high"], np.percentile(draws, 97.5, axis=0), atol=1e-12)
    np.testing.assert_allclose(got["se"], draws.std(axis=0, ddof=1), atol=1e-12)
