"""Reliability of multi-item constructs and screening of the item set.

Functions take plain DataFrames: ``items`` holds the items of one block
(respondents x items, numeric, NaN = no answer); ``blocks`` maps each
construct to its items.

Weighting: ``reliability_table`` and ``screen_items`` (and ``cronbach_alpha``, ``item_total``)
take ``weights=`` (case weights, a Series matched by index or an array by position, or an
:class:`analysis.weighting.Weights`). Every moment is then weighted: alpha from the weighted item
covariance matrix (R ``cov.wt``; alpha does not depend on its divisor), omega from the weighted
correlation matrix, item-rest and pairwise correlations weighted; the Feldt interval uses the
Kish effective n of the complete rows' weights in place of n, and ``n_eff`` is added beside ``n``.

======================  =========================================================
``cronbach_alpha``      raw Cronbach's alpha (listwise complete cases; pingouin)
``alpha_ci_feldt``      Feldt's F-based confidence interval of alpha
``one_factor_loadings`` one-factor minres (ULS) loadings of a correlation matrix
``omega_from_corr``     McDonald's omega total from a correlation matrix
``mcdonald_omega``      McDonald's omega total of a block of items
``item_total``          corrected item-total correlation and alpha if deleted
``reliability_table``   one row per construct: alpha with CI, omega
``screen_items``        recommendations: weak blocks, weak items, near-duplicates
======================  =========================================================
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import optimize, stats

__all__ = [
    "cronbach_alpha",
    "alpha_ci_feldt",
    "one_factor_loadings",
    "omega_from_corr",
    "mcdonald_omega",
    "omega_max_loading",
    "item_total",
    "reliability_table",
    "screen_items",
]


def _complete(items: pd.DataFrame) -> np.ndarray:
    """Listwise complete rows of a block as a float array."""
    x = items.apply(pd.to_numeric).to_numpy(dtype=float, na_value=np.nan)
    return x[~np.isnan(x).any(axis=1)]


def _case_weights(data: pd.DataFrame, weights: object) -> np.ndarray | None:
    """Case weights of the rows of ``data`` (None: unweighted; :class:`Weights` / Series by index,
    an array by position); all-1 ``Weights`` of an unweighted wave give None."""
    if weights is None:
        return None
    if hasattr(weights, "values_for"):
        if not getattr(weights, "weighted", True):
            return None
        return weights.values_for(data.index)
    if isinstance(weights, pd.Series):
        return weights.reindex(data.index).to_numpy(dtype=float)
    return np.asarray(weights, dtype=float)


def _complete_w(items: pd.DataFrame, wt: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Listwise complete rows of a block and their case weights (None unweighted)."""
    x = items.apply(pd.to_numeric).to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(x).any(axis=1)
    return x[keep], None if wt is None else wt[keep]


def _wcov(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Weighted covariance matrix of the columns of ``x``, R ``cov.wt(x, wt)`` (unbiased divisor
    ``1 - sum(v^2)`` with v the weights scaled to sum 1)."""
    v = wt / wt.sum()
    xc = x - v @ x
    return (xc * v[:, None]).T @ xc / (1 - np.sum(v * v))


def _wcorr(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Weighted correlation matrix of the columns of ``x``."""
    c = _wcov(x, wt)
    d = np.sqrt(np.diag(c))
    with np.errstate(divide="ignore", invalid="ignore"):
        return c / np.outer(d, d)


def _alpha_w(x: np.ndarray, wt: np.ndarray | None) -> float:
    """Cronbach's alpha, unweighted (:func:`_alpha`) or from the weighted covariance matrix C:
    ``k / (k - 1) * (1 - trace(C) / sum(C))`` (Cronbach 1951); NaN as :func:`_alpha`."""
    if wt is None:
        return _alpha(x)
    n, k = x.shape
    if k < 2 or n < 2 or wt.sum() <= 0:
        return math.nan
    c = _wcov(x, wt)
    total = float(c.sum())
    if total <= 0:
        return math.nan
    return float(k / (k - 1) * (1 - np.trace(c) / total))


def _kish_n(wt: np.ndarray) -> float:
    from .weighting import kish

    return float(kish(wt)["n_eff"])


def _alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of a complete float array (rows = respondents), by pingouin.

    ``pingouin.cronbach_alpha`` (``k / (k - 1) * (1 - trace(C) / sum(C))`` with ``C`` the
    item covariance matrix); NaN for fewer than 2 items or rows, or a constant total.
    Measured against the variance form written out before: equal to 4.4e-16.
    """
    n, k = x.shape
    if k < 2 or n < 2 or x.sum(axis=1).var(ddof=1) == 0:
        return math.nan
    return float(pg.cronbach_alpha(pd.DataFrame(x))[0])


def cronbach_alpha(items: pd.DataFrame, weights: object = None) -> float:
    """Raw Cronbach's alpha of a block of items.

    Input: respondents x items of one construct; rows with any missing item
    are dropped (listwise). Output: alpha as a float, NaN for fewer than 2
    items or 2 complete rows.

    ``alpha = k / (k - 1) * (1 - sum(var_i) / var(total))`` on the items as
    answered (Cronbach 1951, Psychometrika 16:297-334); this is the raw alpha
    of SPSS, R psych and pingouin, not the alpha on standardised items. With ``weights``
    the weighted covariance matrix (see the module docstring).
    """
    return _alpha_w(*_complete_w(items, _case_weights(items, weights)))


def alpha_ci_feldt(alpha: float, n: int, k: int, conf: float = 0.95) -> tuple[float, float]:
    """Confidence interval of Cronbach's alpha from the F distribution.

    Inputs: the sample ``alpha``, ``n`` respondents (complete cases), ``k``
    items, ``conf`` level. Output ``(low, high)``; NaN when undefined.

    ``(1 - alpha_pop) / (1 - alpha)`` follows F(n-1, (n-1)(k-1)), hence
    ``low = 1 - (1 - alpha) F_{1-a/2}`` and ``high = 1 - (1 - alpha) F_{a/2}``
    (Feldt 1965, Psychometrika 30:357-370; Feldt, Woodruff & Salih 1987,
    Applied Psychological Measurement 11:93-103). Same method as pingouin, whose
    ``cronbach_alpha`` rounds the interval to 3 decimals, hence our own 6 lines.
    """
    if not 0 < conf < 1:
        raise ValueError(f"conf must be between 0 and 1, got {conf}")
    if math.isnan(alpha) or n < 2 or k < 2:
        return (math.nan, math.nan)
    a = 1 - conf
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * stats.f.ppf(1 - a / 2, df1, df2)
    high = 1 - (1 - alpha) * stats.f.ppf(a / 2, df1, df2)
    return (float(low), float(high))


def one_factor_loadings(corr: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Loadings of a one-factor model fitted to a correlation matrix by minres.

    Input: a k x k correlation matrix (k >= 3). Output: k loadings, signed so
    that their sum is positive.

    Minres (unweighted least squares, Harman & Jones 1966, Psychometrika
    31:351-368): minimise the sum of squared off-diagonal residuals
    ``sum_{i<j} (r_ij - l_i l_j)^2`` with L-BFGS, started at the first
    principal component. This is the default of R ``psych::omega``/``fa``.
    """
    r = np.asarray(corr, dtype=float)
    k = r.shape[0]
    if r.shape != (k, k) or k < 3:
        raise ValueError("a one-factor model needs a square correlation matrix of at least 3 items")
    off = ~np.eye(k, dtype=bool)

    def loss(lam: np.ndarray) -> tuple[float, np.ndarray]:
        resid = np.where(off, r - np.outer(lam, lam), 0.0)
        return 0.25 * float(np.sum(resid**2)), -(resid @ lam)

    vals, vecs = np.linalg.eigh(r)
    start = vecs[:, -1] * math.sqrt(max(vals[-1], 1e-6))
    res = optimize.minimize(loss, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15})
    lam = res.x
    return -lam if lam.sum() < 0 else lam


def omega_from_corr(corr: pd.DataFrame | np.ndarray) -> float:
    """McDonald's omega total from a correlation matrix via a one-factor model.

    Output: ``(sum l)^2 / ((sum l)^2 + sum(1 - l^2))`` with ``l`` the minres
    loadings. McDonald (1999), *Test Theory: A Unified Treatment*, ch. 6; NaN for
    fewer than 3 items (the one-factor model is not identified).

    An improper (Heywood) solution, a loading above 1, would give a negative error
    variance; it is set to 0 (as factor-analysis programs do), which overstates omega.
    That is not silent: a :class:`RuntimeWarning` names the loading, and
    :func:`reliability_table` reports it (``omega_max_loading``, ``omega_improper``).
    """
    r = np.asarray(corr, dtype=float)
    if r.shape[0] < 3 or np.isnan(r).any():
        return math.nan
    lam = one_factor_loadings(r)
    if np.abs(lam).max() > 1:
        warnings.warn(
            f"omega: improper one-factor solution (a loading of {np.abs(lam).max():.3f}, above 1); "
            "its error variance is set to 0 and omega is overstated.",
            RuntimeWarning,
            stacklevel=2,
        )
    common = lam.sum() ** 2
    unique = np.clip(1 - lam**2, 0.0, None).sum()
    return float(common / (common + unique))


def _block_corr(items: pd.DataFrame, weights: object) -> np.ndarray | None:
    """The (weighted) correlation matrix of a block's complete rows; None for fewer than 3 items or
    rows, or a constant item."""
    x, wt = _complete_w(items, _case_weights(items, weights))
    if x.shape[1] < 3 or x.shape[0] < 3 or (x.std(axis=0) == 0).any():
        return None
    return np.corrcoef(x, rowvar=False) if wt is None else _wcorr(x, wt)


def omega_max_loading(items: pd.DataFrame, weights: object = None) -> float:
    """The largest absolute one-factor (minres) loading behind :func:`mcdonald_omega`: above 1 means an
    improper (Heywood) solution. NaN where omega is NaN."""
    corr = _block_corr(items, weights)
    return math.nan if corr is None else float(np.abs(one_factor_loadings(corr)).max())


def mcdonald_omega(items: pd.DataFrame, weights: object = None) -> float:
    """McDonald's omega total of a block of items (listwise complete cases).

    Input: respondents x items. Output: omega total from a one-factor minres
    model of the Pearson correlation matrix (see :func:`omega_from_corr`);
    NaN for fewer than 3 items or a constant item; with ``weights`` the weighted correlations.
    """
    corr = _block_corr(items, weights)
    return math.nan if corr is None else omega_from_corr(corr)


def item_total(items: pd.DataFrame, weights: object = None) -> pd.DataFrame:
    """Item analysis of one block (listwise complete cases).

    Input: respondents x items. Output: one row per item with ``item,
    r_item_total`` (corrected: Pearson r of the item with the sum of the
    *other* items), ``alpha_if_deleted`` (raw alpha of the remaining items),
    ``mean`` and ``sd`` (ddof=1). Nunnally & Bernstein (1994), *Psychometric
    Theory*, 3rd ed., ch. 8. With ``weights`` every moment is weighted (the sd with R
    ``cov.wt``'s unbiased divisor).
    """
    x, wt = _complete_w(items, _case_weights(items, weights))
    cols = [str(c) for c in items.columns]
    total = x.sum(axis=1)
    rows = []
    for j, name in enumerate(cols):
        rest = total - x[:, j]
        ok = x.shape[0] > 2 and x[:, j].std() > 0 and rest.std() > 0
        if wt is None:
            r = float(np.corrcoef(x[:, j], rest)[0, 1]) if ok else math.nan
            mean = float(x[:, j].mean()) if x.shape[0] else math.nan
            sd = float(x[:, j].std(ddof=1)) if x.shape[0] > 1 else math.nan
        else:
            r = float(_wcorr(np.column_stack([x[:, j], rest]), wt)[0, 1]) if ok else math.nan
            mean = float(wt @ x[:, j] / wt.sum()) if x.shape[0] else math.nan
            sd = float(np.sqrt(_wcov(x[:, [j]], wt)[0, 0])) if x.shape[0] > 1 else math.nan
        rows.append(
            {
                "item": name,
                "r_item_total": r,
                "alpha_if_deleted": _alpha_w(np.delete(x, j, axis=1), wt),
                "mean": mean,
                "sd": sd,
            }
        )
    return pd.DataFrame(rows, columns=["item", "r_item_total", "alpha_if_deleted", "mean", "sd"])


def reliability_table(
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    conf: float = 0.95,
    weights: object = None,
) -> pd.DataFrame:
    """Reliability of every construct (weighted with ``weights``: see the module docstring).

    Inputs: ``data`` respondents x items; ``blocks`` construct -> items.
    Output: one row per construct with ``construct, n_items, n`` (complete
    cases), ``alpha`` (raw Cronbach), ``alpha_low, alpha_high`` (Feldt
    interval), ``omega`` (McDonald's omega total), ``omega_max_loading`` (the largest
    one-factor loading behind omega) and ``omega_improper`` (that loading exceeds 1: a
    Heywood case, whose omega is overstated; see :func:`omega_from_corr`). Alpha is NaN for
    a single-item construct, omega for fewer than 3 items.
    """
    rows = []
    wt_all = _case_weights(data, weights)
    w_series = None if wt_all is None else pd.Series(wt_all, index=data.index)
    for construct, cols in blocks.items():
        cols = list(cols)
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise KeyError(f"construct '{construct}': items not in the data: {missing}")
        x, wt = _complete_w(data[cols], wt_all)
        alpha = _alpha_w(x, wt)
        n_ci = x.shape[0] if wt is None else _kish_n(wt)
        low, high = alpha_ci_feldt(alpha, n_ci, len(cols), conf) if n_ci >= 2 else (math.nan, math.nan)
        top = omega_max_loading(data[cols], w_series)
        with warnings.catch_warnings():  # reported in the table instead (omega_improper)
            warnings.simplefilter("ignore", RuntimeWarning)
            omega = mcdonald_omega(data[cols], w_series)
        row = {
            "construct": construct,
            "n_items": len(cols),
            "n": int(x.shape[0]),
            "alpha": alpha,
            "alpha_low": low,
            "alpha_high": high,
            "omega": omega,
            "omega_max_loading": top,
            "omega_improper": bool(top > 1),
        }
        if wt is not None:
            row["n_eff"] = _kish_n(wt) if wt.size else math.nan
        rows.append(row)
    columns = [
        "construct", "n_items", "n", "alpha", "alpha_low", "alpha_high", "omega", "omega_max_loading",
        "omega_improper",
    ] + ([] if wt_all is None else ["n_eff"])
    return pd.DataFrame(rows, columns=columns)


def screen_items(
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    alpha_min: float = 0.7,
    r_item_total_min: float = 0.3,
    r_pair_max: float = 0.9,
    weights: object = None,
) -> pd.DataFrame:
    """Screen the index system for weak constructs, weak items and near-duplicates (weighted alpha,
    item-rest and pair correlations with ``weights``: see the module docstring).

    Inputs: ``data`` respondents x items; ``blocks`` construct -> items; the
    thresholds. Output: one row per finding with ``level`` ("construct",
    "item" or "pair"), ``construct``, ``item`` (for a pair "a / b"),
    ``value``, ``rule`` (a code: ``alpha_low``, ``item_total_low``, ``near_duplicate``; the
    report words the recommendation), ``threshold`` (the rule's bound), ``alpha`` (the block's
    alpha) and ``alpha_without`` (the block's alpha without the item). Nothing is deleted:
    the analyst decides.

    Rules: a construct whose raw alpha is below ``alpha_min`` (Nunnally 1978's
    0.70); an item whose corrected item-total r is below ``r_item_total_min``
    (a common rule of thumb, e.g. Nunnally & Bernstein 1994); a pair of items
    (within or across constructs) whose pairwise-complete |r| exceeds
    ``r_pair_max`` (near-duplicates: the "drop duplicates and near-duplicates"
    step of building a satisfaction index system).
    """
    rows = []
    wt_all = _case_weights(data, weights)
    w_series = None if wt_all is None else pd.Series(wt_all, index=data.index)
    owner: dict[str, str] = {}
    for construct, cols in blocks.items():
        cols = list(cols)
        for c in cols:
            owner.setdefault(c, construct)
        if len(cols) < 2:
            continue
        alpha = cronbach_alpha(data[cols], w_series)
        table = item_total(data[cols], w_series)
        if not math.isnan(alpha) and alpha < alpha_min:
            rows.append(
                {
                    "level": "construct",
                    "construct": construct,
                    "item": "",
                    "value": alpha,
                    "rule": "alpha_low",
                    "threshold": alpha_min,
                    "alpha": alpha,
                    "alpha_without": math.nan,
                }
            )
        if len(cols) < 3:
            continue  # with two items the item-total r is just their correlation
        for rec in table.itertuples(index=False):
            if not math.isnan(rec.r_item_total) and rec.r_item_total < r_item_total_min:
                rows.append(
                    {
                        "level": "item",
                        "construct": construct,
                        "item": rec.item,
                        "value": rec.r_item_total,
                        "rule": "item_total_low",
                        "threshold": r_item_total_min,
                        "alpha": alpha,
                        "alpha_without": rec.alpha_if_deleted,
                    }
                )
    items = [c for c in owner if c in data.columns]
    if len(items) >= 2:
        corr = _pair_corr(data[items].apply(pd.to_numeric).astype(float), wt_all)
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                r = float(corr.loc[a, b])
                if not math.isnan(r) and abs(r) > r_pair_max:
                    where = owner[a] if owner[a] == owner[b] else f"{owner[a]} / {owner[b]}"
                    rows.append(
                        {
                            "level": "pair",
                            "construct": where,
                            "item": f"{a} / {b}",
                            "value": r,
                            "rule": "near_duplicate",
                            "threshold": r_pair_max,
                            "alpha": math.nan,
                            "alpha_without": math.nan,
                        }
                    )
    columns = ["level", "construct", "item", "value", "rule", "threshold", "alpha", "alpha_without"]
    return pd.DataFrame(rows, columns=columns)


def _pair_corr(frame: pd.DataFrame, wt: np.ndarray | None) -> pd.DataFrame:
    """Pairwise-complete correlations of the columns (weighted with ``wt``)."""
    if wt is None:
        return frame.corr()
    cols = list(frame.columns)
    x = frame.to_numpy(dtype=float)
    out = pd.DataFrame(np.nan, index=cols, columns=cols)
    for i in range(len(cols)):
        for j in range(i, len(cols)):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            if ok.sum() > 2 and x[ok, i].std() > 0 and x[ok, j].std() > 0:
                out.iloc[i, j] = out.iloc[j, i] = float(_wcorr(x[ok][:, [i, j]], wt[ok])[0, 1])
    return out
