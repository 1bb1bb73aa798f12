"""Key-driver analysis: which attributes move overall satisfaction.

* :func:`regression_drivers`: standardised OLS coefficients with VIF (multicollinearity
  check); easy to read but unstable when drivers are correlated, as they usually are.
* :func:`relative_weights`: Johnson's (2000) relative weights, a share of R^2 per
  driver that stays meaningful under correlated drivers; :func:`relative_weights_boot`
  adds percentile bootstrap intervals.

All functions use complete cases of ``y`` and ``predictors`` (listwise deletion) and
return a :class:`Drivers` result; its ``to_frame()`` is the table written to
``drivers.csv`` / ``regression.csv``. Each takes optional case (survey) ``weights``
(an :class:`analysis.weighting.Weights` or a Series matched by index): correlations,
z-scores and the least-squares fit are then weighted (frequency-weight reading: integer
weights give the results of repeated rows); the bootstrap resamples rows with their weights.
``weights=None`` gives exactly the unweighted results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS, WLS
from statsmodels.tools.tools import add_constant

__all__ = ["Drivers", "complete_rows", "regression_drivers", "relative_weights", "relative_weights_batch", "relative_weights_boot"]


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


def complete_rows(data: pd.DataFrame, y: str, predictors: Sequence[str]) -> pd.Index:
    """The index of the complete cases of ``y`` and ``predictors`` that every function here uses
    (listwise deletion, as :func:`_complete`); e.g. for the Kish ``n_eff`` of their weights."""
    return _complete(data, y, predictors).index


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


def _weights_of(sub: pd.DataFrame, weights: Any) -> np.ndarray:
    """Case weights of the complete cases ``sub`` (matched by index)."""
    if hasattr(weights, "values_for"):
        wt = weights.values_for(sub.index)
    else:
        wt = pd.Series(weights).reindex(sub.index).to_numpy(dtype=float)
    if not np.all(np.isfinite(wt)) or np.any(wt < 0):
        raise ValueError("weights must give a finite, non-negative weight to every complete case")
    return wt


def _wcorr(arr: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Weighted correlation matrix of the columns of ``arr`` (numpy ``cov`` with ``aweights``)."""
    cov = np.cov(arr, rowvar=False, aweights=wt)
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def _rw_from_corr(corr: np.ndarray) -> np.ndarray:
    """Johnson's raw relative weights from the full correlation matrix (y first)."""
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    evals, evecs = np.linalg.eigh(rxx)
    if evals.min() <= 1e-12:
        raise ValueError("predictors are perfectly collinear: relative weights undefined")
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T  # R_xx^{1/2}: loadings of X on Z
    beta = np.linalg.solve(lam, rxy)  # regression of y on the orthogonal Z
    return (lam**2) @ (beta**2)


#: Working memory (bytes) of one chunk of bootstrap count weights (resamples x rows, float64).
_CHUNK_BYTES = 64 * 2**20


def _boot_corr(arr: np.ndarray, n_boot: int, seed: int, weights: np.ndarray | None = None):
    """Correlation matrices of ``n_boot`` case resamples of ``arr`` (n x q), chunk by chunk.

    Input: complete cases (y first), resamples, seed. Output: yields (c, q, q) stacks of
    correlation matrices (NaN where a column is constant in the resample), in resample order.
    Method: resample b draws its rows with ``rng.integers(0, n, n)`` (one call per resample,
    the stream of the former loop that indexed the rows), the draws become multinomial count
    weights and the correlations come from count-weighted cross-products of the centred data
    (:class:`analysis.pls._CountMoments`): no resampled copy of the rows. Cost O(B n q^2) in a few
    matrix products per chunk, memory bounded by :data:`_CHUNK_BYTES` whatever B and n.
    Equal to correlating the resampled rows up to rounding (about 1e-13). Above
    :data:`analysis.pls.BOOT_GROUPS` rows the units resampled are random groups of rows, by
    their sufficient statistics (the grouped bootstrap of :func:`analysis.pls.bootstrap_model`).
    With case ``weights`` a drawn row weighs its count times its weight (the resampled rows carry
    their case weights; a group carries the sum of its rows' weights).
    """
    from .pls import BOOT_GROUPS, _CountMoments

    rng = np.random.default_rng(seed)
    moments = _CountMoments(arr, groups=BOOT_GROUPS, seed=seed, weights=weights)
    n = moments.units
    chunk = max(1, min(n_boot, _CHUNK_BYTES // (8 * n)))
    for start in range(0, n_boot, chunk):
        c = min(chunk, n_boot - start)
        idx = np.empty((c, n), dtype=np.intp)
        for b in range(c):  # one draw call per resample: the seeded stream of a row-indexing loop
            idx[b] = rng.integers(0, n, n)
        yield moments.corr(idx)


def _boot_weights(arr: np.ndarray, n_boot: int, seed: int, weights: np.ndarray | None = None):
    """Raw relative weights of each resample (None for a resample whose predictors are constant or
    collinear), from :func:`_boot_corr` (with case ``weights`` if given); the eigen-decompositions of a
    chunk in one batched call."""
    for stack in _boot_corr(arr, n_boot, seed, weights):
        finite = np.isfinite(stack).all(axis=(1, 2))
        rxx, rxy = np.where(finite[:, None, None], stack, np.eye(stack.shape[1]))[:, 1:, 1:], stack[:, 1:, 0]
        evals, evecs = np.linalg.eigh(rxx)
        good = finite & (evals.min(axis=1) > 1e-12)
        lam = (evecs * np.sqrt(np.clip(evals, 0, None))[:, None, :]) @ evecs.transpose(0, 2, 1)
        raw = np.full(rxy.shape, np.nan)
        if good.any():
            beta = np.linalg.solve(lam[good], rxy[good][:, :, None])[:, :, 0]
            raw[good] = np.einsum("bjk,bk->bj", lam[good] ** 2, beta**2)
        for ok, rw in zip(good, raw, strict=True):
            yield rw if ok else None


def regression_drivers(data: pd.DataFrame, y: str, predictors: Sequence[str], weights: Any = None) -> Drivers:
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
    With ``weights``: weighted z-scores (frequency divisor ``sum w - 1``), statsmodels WLS,
    weighted correlations (model-based SEs of the weighted fit, not design-based).
    """
    if weights is not None:
        return _weighted_regression(data, y, predictors, weights)
    sub = _complete(data, y, predictors)
    z = (sub - sub.mean()) / sub.std(ddof=1)
    n, k = len(z), len(predictors)
    fit = OLS(z[y].to_numpy(), add_constant(z[list(predictors)].to_numpy(), has_constant="add")).fit()
    corr = np.corrcoef(sub[list(predictors)].to_numpy(), rowvar=False).reshape(k, k)
    vif = np.diag(np.linalg.inv(corr)) if k > 1 else np.ones(1)
    out = _regression_table(predictors, fit, vif, [float(np.corrcoef(sub[c], sub[y])[0, 1]) for c in predictors])
    return Drivers(out, "regression", y, n, float(fit.rsquared), r2_adj=float(fit.rsquared_adj))


def _regression_table(predictors: Sequence[str], fit: Any, vif: np.ndarray, r: Any) -> pd.DataFrame:
    """The key-driver table of a standardised (W)LS fit: beta, se, t, p per predictor, its VIF and its
    correlation ``r`` with the outcome (the fit's first parameter is the constant)."""
    return pd.DataFrame(
        {
            "predictor": list(predictors),
            "beta": fit.params[1:],
            "se": fit.bse[1:],
            "t": fit.tvalues[1:],
            "p": fit.pvalues[1:],
            "vif": vif,
            "r": r,
        }
    )


def _weighted_regression(data: pd.DataFrame, y: str, predictors: Sequence[str], weights: Any) -> Drivers:
    sub = _complete(data, y, predictors)
    wt = _weights_of(sub, weights)
    arr = sub[[y, *predictors]].to_numpy()
    total = wt.sum()
    mean = wt @ arr / total
    sd = np.sqrt(wt @ (arr - mean) ** 2 / (total - 1))
    z = (arr - mean) / sd
    k = len(predictors)
    fit = WLS(z[:, 0], add_constant(z[:, 1:], has_constant="add"), weights=wt).fit()
    corr = _wcorr(arr, wt)
    vif = np.diag(np.linalg.inv(corr[1:, 1:])) if k > 1 else np.ones(1)
    out = _regression_table(predictors, fit, vif, corr[0, 1:])
    return Drivers(out, "regression", y, len(sub), float(fit.rsquared), r2_adj=float(fit.rsquared_adj))


def relative_weights(data: pd.DataFrame, y: str, predictors: Sequence[str], weights: Any = None) -> Drivers:
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
    arr = sub[[y, *predictors]].to_numpy()
    corr = np.corrcoef(arr, rowvar=False) if weights is None else _wcorr(arr, _weights_of(sub, weights))
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
    weights: Any = None,
) -> Drivers:
    """Relative weights with percentile bootstrap confidence intervals.

    Input: as :func:`relative_weights`, plus ``n_boot`` resamples of the complete cases,
    ``seed`` and ``conf``.
    Output: a :class:`Drivers` as :func:`relative_weights`, its table with the columns
    ``ci_low, ci_high`` (for ``raw_weight``), ``rescaled_ci_low, rescaled_ci_high`` (for
    ``rescaled``) and ``se`` (bootstrap SD of ``raw_weight``) added.  Resamples whose
    predictors are collinear are skipped; ``n_boot`` counts the ones used.
    Method: case resampling, percentile intervals (Efron & Tibshirani 1993), the resamples'
    correlation matrices from count weights (:func:`_boot_corr`: linear in n, memory bounded); the use of
    bootstrap intervals for relative weights follows Tonidandel, LeBreton & Johnson
    (2009), Psychological Methods 14(4).
    """
    point = relative_weights(data, y, predictors, weights=weights)
    out = point.to_frame()
    sub = _complete(data, y, predictors)
    arr = sub[[y, *predictors]].to_numpy()
    # count weights, batched (no resampled copies); weighted, the drawn rows carry their case weights
    wt = None if weights is None else _weights_of(sub, weights)
    draws = [rw for rw in _boot_weights(arr, n_boot, seed, wt) if rw is not None]
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
