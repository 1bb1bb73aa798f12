"""Key-driver analysis: which attributes move overall satisfaction.

* :func:`regression_drivers`: standardised OLS coefficients with VIF (multicollinearity
  check); easy to read but unstable when drivers are correlated, as they usually are.
* :func:`relative_weights`: Johnson's (2000) relative weights, a share of R^2 per
  driver that stays meaningful under correlated drivers; :func:`relative_weights_boot`
  adds percentile bootstrap intervals.

All functions use complete cases of ``y`` and ``predictors`` (listwise deletion) and
return a :class:`Drivers` result; its ``to_frame()`` is the table written to
``drivers.csv`` / ``regression.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

__all__ = ["Drivers", "regression_drivers", "relative_weights", "relative_weights_batch", "relative_weights_boot"]


@dataclass(frozen=True)
class Drivers:
    """Result of a key-driver analysis.

    ``table``: one row per predictor (columns documented by the function that made it);
    ``method``: ``"regression"`` or ``"relative_weights"``; ``y`` the outcome; ``n`` the
    complete cases used; ``r2`` the OLS R^2 of ``y`` on all predictors; ``r2_adj`` the
    adjusted R^2 (regression only, else NaN); ``n_boot`` the bootstrap resamples used
    (0 without a bootstrap) and ``conf`` their interval level (NaN without).
    """

    table: pd.DataFrame
    method: str
    y: str
    n: int
    r2: float
    r2_adj: float = math.nan
    n_boot: int = 0
    conf: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """The per-predictor table (a copy) with the model's ``r2`` and ``n`` on every row (issue 11: the
        explained variance the shares are shares of)."""
        out = self.table.copy()
        out["r2"] = self.r2
        out["n"] = self.n
        return out


def _complete(data: pd.DataFrame, y: str, predictors: Sequence[str]) -> pd.DataFrame:
    predictors = list(predictors)
    missing = [c for c in [y, *predictors] if c not in data.columns]
    if missing:
        raise KeyError(f"column(s) not in data: {missing}")
    if y in predictors:
        raise ValueError(f"outcome {y!r} is also listed as a predictor")
    if len(set(predictors)) != len(predictors):
        raise ValueError("predictors must be distinct")
    sub = data[[y, *predictors]].apply(pd.to_numeric).astype(float).dropna()
    if len(sub) < len(predictors) + 2:
        raise ValueError(f"need more than {len(predictors) + 1} complete cases, got {len(sub)}")
    const = [c for c in sub.columns if sub[c].std(ddof=1) == 0]
    if const:
        raise ValueError(f"no variance in: {const}")
    return sub


def _rw_from_corr(corr: np.ndarray) -> np.ndarray:
    """Johnson's raw relative weights from the full correlation matrix (y first)."""
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    evals, evecs = np.linalg.eigh(rxx)
    if evals.min() <= 1e-12:
        raise ValueError("predictors are perfectly collinear: relative weights undefined")
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T  # R_xx^{1/2}: loadings of X on Z
    beta = np.linalg.solve(lam, rxy)  # regression of y on the orthogonal Z
    return (lam**2) @ (beta**2)


def regression_drivers(data: pd.DataFrame, y: str, predictors: Sequence[str]) -> Drivers:
    """Standardised multiple regression of ``y`` on ``predictors`` (key-driver betas).

    Input: ``data``, outcome column ``y``, predictor columns; complete cases only.
    Output: a :class:`Drivers` (method "regression", with ``r2``, ``r2_adj``, ``n``);
    its table has one row per predictor: ``predictor, beta`` (standardised OLS
    coefficient, both sides z-scored with ddof=1), ``se, t, p`` (classic OLS, df = n - k - 1),
    ``vif`` (variance inflation factor = diagonal of the inverse predictor correlation
    matrix), ``r`` (zero-order correlation with ``y``).
    Method: ``statsmodels`` OLS on z-scores; VIF as in Marquardt (1970), Technometrics 12
    (the same number as statsmodels' ``variance_inflation_factor``, which refits one
    regression per predictor).  VIF above 5-10 means the betas should not be ranked.
    """
    sub = _complete(data, y, predictors)
    z = (sub - sub.mean()) / sub.std(ddof=1)
    n, k = len(z), len(predictors)
    fit = OLS(z[y].to_numpy(), add_constant(z[list(predictors)].to_numpy(), has_constant="add")).fit()
    corr = np.corrcoef(sub[list(predictors)].to_numpy(), rowvar=False).reshape(k, k)
    vif = np.diag(np.linalg.inv(corr)) if k > 1 else np.ones(1)
    out = pd.DataFrame(
        {
            "predictor": list(predictors),
            "beta": fit.params[1:],
            "se": fit.bse[1:],
            "t": fit.tvalues[1:],
            "p": fit.pvalues[1:],
            "vif": vif,
            "r": [float(np.corrcoef(sub[c], sub[y])[0, 1]) for c in predictors],
        }
    )
    return Drivers(out, "regression", y, n, float(fit.rsquared), r2_adj=float(fit.rsquared_adj))


def relative_weights(data: pd.DataFrame, y: str, predictors: Sequence[str]) -> Drivers:
    """Johnson's (2000) relative weights: each driver's share of the model R^2.

    Input: ``data``, outcome column ``y``, predictor columns; complete cases only.
    Output: a :class:`Drivers` (method "relative_weights", with ``r2`` and ``n``); its
    table has ``predictor, raw_weight`` (sums to the OLS R^2), ``rescaled`` (share of
    R^2, sums to 1), ``rank`` (1 = most important), in input order.  Own code: no
    dependency computes relative weights (pingouin, statsmodels and scipy do not).
    Method: the predictors are replaced by their closest orthogonal counterparts
    ``Z = X R_xx^{-1/2}`` (``R_xx^{1/2} = P diag(sqrt(lambda)) P'``); the weight of
    ``x_j`` is ``sum_k lambda_jk^2 beta_k^2`` with ``lambda = R_xx^{1/2}`` and
    ``beta = lambda^{-1} r_xy``.  With uncorrelated predictors the weights are the
    squared correlations.  Johnson (2000), Multivariate Behavioral Research 35(1), 1-19.
    """
    sub = _complete(data, y, predictors)
    corr = np.corrcoef(sub[[y, *predictors]].to_numpy(), rowvar=False)
    raw = _rw_from_corr(corr)
    r2 = float(raw.sum())
    out = pd.DataFrame({"predictor": list(predictors), "raw_weight": raw, "rescaled": raw / r2})
    out["rank"] = out["raw_weight"].rank(ascending=False, method="min").astype(int)
    return Drivers(out, "relative_weights", y, len(sub), r2)


def relative_weights_boot(
    data: pd.DataFrame,
    y: str,
    predictors: Sequence[str],
    n_boot: int = 1000,
    seed: int = 20240601,
    conf: float = 0.95,
) -> Drivers:
    """Relative weights with percentile bootstrap confidence intervals.

    Input: as :func:`relative_weights`, plus ``n_boot`` resamples of the complete cases,
    ``seed`` and ``conf``.
    Output: a :class:`Drivers` as :func:`relative_weights`, its table with the columns
    ``ci_low, ci_high`` (for ``raw_weight``), ``rescaled_ci_low, rescaled_ci_high`` (for
    ``rescaled``) and ``se`` (bootstrap SD of ``raw_weight``) added.  Resamples whose
    predictors are collinear are skipped; ``n_boot`` counts the ones used.
    Method: case resampling, percentile intervals (Efron & Tibshirani 1993); the use of
    bootstrap intervals for relative weights follows Tonidandel, LeBreton & Johnson
    (2009), Psychological Methods 14(4).
    """
    point = relative_weights(data, y, predictors)
    out = point.to_frame()
    arr = _complete(data, y, predictors)[[y, *predictors]].to_numpy()
    rng = np.random.default_rng(seed)
    n = len(arr)
    draws = []
    for _ in range(n_boot):
        sample = arr[rng.integers(0, n, n)]
        if np.any(sample.std(axis=0) == 0):
            continue
        try:
            draws.append(_rw_from_corr(np.corrcoef(sample, rowvar=False)))
        except (ValueError, np.linalg.LinAlgError):
            continue
    if not draws:
        raise ValueError("no usable bootstrap resample")
    boot = np.array(draws)
    share = boot / boot.sum(axis=1, keepdims=True)
    tail = (1 - conf) / 2
    q = [tail, 1 - tail]
    out["ci_low"], out["ci_high"] = np.quantile(boot, q, axis=0)
    out["rescaled_ci_low"], out["rescaled_ci_high"] = np.quantile(share, q, axis=0)
    out["se"] = boot.std(axis=0, ddof=1)
    return Drivers(out, "relative_weights", y, point.n, point.r2, n_boot=len(boot), conf=conf)


def relative_weights_batch(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Johnson's raw relative weights for a stack of correlation matrices at once.

    Input: ``corr`` of shape (B, p+1, p+1), the outcome first in each matrix.
    Output: ``(raw, ok)``: raw weights of shape (B, p) (NaN where undefined) and a
    boolean (B,) that is False for a matrix whose predictors are collinear or that
    holds a NaN (a constant column). Method: as :func:`relative_weights`, with the
    eigen-decompositions batched by ``numpy.linalg.eigh`` (no Python loop).
    """
    corr = np.asarray(corr, dtype=float)
    finite = np.isfinite(corr).all(axis=(1, 2))
    safe = np.where(finite[:, None, None], corr, np.eye(corr.shape[1]))
    rxx, rxy = safe[:, 1:, 1:], safe[:, 1:, 0]
    evals, evecs = np.linalg.eigh(rxx)
    ok = finite & (evals.min(axis=1) > 1e-12)
    root = np.sqrt(np.clip(evals, 1e-12, None))
    lam = (evecs * root[:, None, :]) @ np.swapaxes(evecs, 1, 2)
    beta = np.linalg.solve(lam, rxy[..., None])[..., 0]
    raw = np.einsum("bjk,bk->bj", lam**2, beta**2)
    raw[~ok] = np.nan
    return raw, ok
