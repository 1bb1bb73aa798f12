"""The 0-100 satisfaction index and the weights behind it.

Every item is rescaled to 0-100 (``(x - min) / (max - min) * 100``); a
construct's index is the weighted mean of its items, the overall CSI the
weighted sum of construct indices. Weights come from one of four methods:

==========  ================================================================
``equal``   every construct the same weight
``ahp``     Saaty's analytic hierarchy process on a pairwise-comparison matrix
``entropy`` the entropy weight method on respondents' construct scores
``pls``     the (normalised) weights of a PLS path model, passed in
==========  ================================================================

With ``pls`` the ACSI convention (Fornell et al. 1996) needs positive weights:
:func:`acsi_weights` falls back to equal item weights within a construct that has
a negative outer weight, and gives weight 0 to a construct whose total effect on
satisfaction is negative; both are recorded (``note``) and warned about.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = [
    "RANDOM_INDEX",
    "AHPResult",
    "AHPInconsistentError",
    "ahp_weights",
    "check_ahp",
    "entropy_weights",
    "respondent_index",
    "csi",
    "weights_for",
    "WEIGHT_METHODS",
    "ACSIWeights",
    "IndexWeightWarning",
    "acsi_weights",
]

#: Saaty's random consistency index by matrix order (Saaty 1980, *The Analytic Hierarchy Process*).
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
}

#: The weighting methods :func:`weights_for` accepts.
WEIGHT_METHODS = ("equal", "ahp", "entropy", "pls")


@dataclass(frozen=True)
class AHPResult:
    """Result of :func:`ahp_weights`.

    ``weights`` (Series indexed by criterion, sums to 1), ``lambda_max`` (the
    principal eigenvalue), ``ci = (lambda_max - n) / (n - 1)`` (consistency
    index), ``cr = ci / RI(n)`` (consistency ratio; 0 for n <= 2) and ``n``.
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    cr: float
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: ``criterion, weight``, then the matrix's ``lambda_max, ci, cr, n``."""
        return pd.DataFrame(
            {
                "criterion": list(self.weights.index),
                "weight": self.weights.to_numpy(dtype=float),
                "lambda_max": self.lambda_max,
                "ci": self.ci,
                "cr": self.cr,
                "n": self.n,
            }
        )


class AHPInconsistentError(InputError):
    """The pairwise judgements of an AHP matrix are too inconsistent (CR above the limit)."""


def ahp_weights(matrix: pd.DataFrame) -> AHPResult:
    """Criterion weights from a pairwise-comparison matrix (analytic hierarchy process).

    Input: a square DataFrame, rows and columns the same criteria in the same
    order, ``a_ij`` = how much more important i is than j (Saaty's 1-9 scale),
    positive and reciprocal (``a_ij * a_ji = 1``). Output: an :class:`AHPResult`.

    Weights are the principal (Perron) eigenvector normalised to sum to 1;
    consistency is ``CI = (lambda_max - n) / (n - 1)`` and ``CR = CI / RI``
    with Saaty's random index (Saaty 1980, *The Analytic Hierarchy Process*;
    Saaty 2008, Int. J. Services Sciences 1:83-98). Raises ValueError naming
    the offending cell for a matrix that is not square, positive and
    reciprocal, and for more than 10 criteria (no random index: split them
    into a hierarchy).
    """
    if not isinstance(matrix, pd.DataFrame):
        raise TypeError("the AHP matrix must be a pandas DataFrame with criteria as index and columns")
    n = matrix.shape[0]
    if matrix.shape != (n, n) or n == 0:
        raise ValueError(f"the AHP matrix must be square, got shape {matrix.shape}")
    if list(matrix.index) != list(matrix.columns):
        raise ValueError(
            f"the AHP matrix rows {list(matrix.index)} and columns {list(matrix.columns)} must name "
            "the same criteria in the same order"
        )
    if n > max(RANDOM_INDEX):
        raise ValueError(
            f"AHP with {n} criteria: at most {max(RANDOM_INDEX)} per matrix; group them in a hierarchy"
        )
    a = matrix.apply(pd.to_numeric).to_numpy(dtype=float, na_value=np.nan)
    names = list(matrix.index)
    for i in range(n):
        for j in range(n):
            if not np.isfinite(a[i, j]) or a[i, j] <= 0:
                raise ValueError(
                    f"AHP matrix cell [{names[i]!r}, {names[j]!r}] = {a[i, j]} must be a positive number"
                )
    for i in range(n):
        for j in range(i, n):
            if abs(a[i, j] * a[j, i] - 1) > 1e-6:
                raise ValueError(
                    f"AHP matrix is not reciprocal at cell [{names[i]!r}, {names[j]!r}] = {a[i, j]:g}: "
                    f"it times cell [{names[j]!r}, {names[i]!r}] = {a[j, i]:g} must be 1"
                )
    vals, vecs = np.linalg.eig(a)
    top = int(np.argmax(vals.real))
    lam = float(vals[top].real)
    w = np.abs(vecs[:, top].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    cr = ci / RANDOM_INDEX[n] if n > 2 else 0.0
    return AHPResult(weights=pd.Series(w, index=names, name="weight"), lambda_max=lam, ci=ci, cr=cr, n=n)


def check_ahp(result: AHPResult, max_cr: float = 0.10, name: str = "index.ahp") -> AHPResult:
    """Return ``result`` if its consistency ratio is acceptable, else raise.

    Raises :class:`AHPInconsistentError` (a ValueError) naming the matrix
    ``name`` and its CR when ``cr > max_cr`` (Saaty's limit is 0.10).
    """
    if result.cr > max_cr:
        raise AHPInconsistentError(
            f"AHP matrix '{name}' is inconsistent: consistency ratio CR = {result.cr:.3f} "
            f"exceeds {max_cr:.2f} (lambda_max = {result.lambda_max:.3f}, n = {result.n}). "
            "Revise the pairwise judgements so that they agree with each other."
        )
    return result


def entropy_weights(data: pd.DataFrame, normalize: bool = True) -> pd.Series:
    """Objective weights of indicators by the entropy weight method.

    Input: rows = respondents (or objects), columns = indicators, all
    benefit-type (higher is better); rows with any NaN are dropped. With
    ``normalize`` each column is first min-max scaled to 0-1; otherwise the
    values must be non-negative. Output: a Series of weights summing to 1.

    ``p_ij = x_ij / sum_i x_ij``, ``e_j = -1/ln(n) * sum_i p_ij ln p_ij`` (with
    0 ln 0 = 0), ``d_j = 1 - e_j``, ``w_j = d_j / sum_j d_j``. A constant column
    carries no information and gets weight 0. Shannon (1948); as used for
    evaluation indices in e.g. Zou, Yun & Sun (2006), J. Environmental
    Sciences 18:1020-1023.
    """
    x = data.apply(pd.to_numeric).astype(float).dropna()
    n = x.shape[0]
    if n < 2:
        raise ValueError("the entropy weight method needs at least 2 complete rows")
    v = x.to_numpy()
    if normalize:
        span = v.max(axis=0) - v.min(axis=0)
        v = np.divide(v - v.min(axis=0), span, out=np.zeros_like(v), where=span > 0)
    elif (v < 0).any():
        raise ValueError("entropy weights without normalisation need non-negative values")
    col_sum = v.sum(axis=0)
    p = np.divide(v, col_sum, out=np.zeros_like(v), where=col_sum > 0)
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = np.where(col_sum > 0, -plogp.sum(axis=0) / math.log(n), 1.0)
    d = 1 - e
    if d.sum() <= 0:
        raise ValueError("entropy weights are undefined: every indicator is constant")
    return pd.Series(d / d.sum(), index=list(x.columns), name="weight")


def _rescaled(data: pd.DataFrame, item: str, lo: int, hi: int) -> np.ndarray:
    """One item rescaled to 0-100 (NaN kept)."""
    if item not in data.columns:
        raise KeyError(f"item '{item}' is not a column of the data")
    if hi <= lo:
        raise ValueError(f"item '{item}': scale max {hi} must exceed scale min {lo}")
    x = pd.to_numeric(data[item]).to_numpy(dtype=float, na_value=np.nan)
    return (x - lo) / (hi - lo) * 100.0


def respondent_index(
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    ranges: Mapping[str, tuple[int, int]],
    item_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Each respondent's 0-100 score on each construct.

    Inputs: ``data`` respondents x items; ``blocks`` construct -> items;
    ``ranges`` item -> (min, max); ``item_weights`` item -> weight within its
    construct (default equal). Output: DataFrame indexed like ``data``, one
    column per construct: the weighted mean of the respondent's *answered*
    items after rescaling each to 0-100 (weights renormalised over the
    answered items; NaN when none answered).

    Floating point: a weighted sum divided by the weight total is exact only to a few
    units in the last place, so two respondents whose scores are equal in exact
    arithmetic (answers 5, 7 and 6, 6 on a 1-7 scale) may differ in the last bits. The
    scores are left unrounded (means and intervals use them as they are); the rank tests
    of :mod:`analysis.compare` put them on a 12-significant-digit grid first
    (:func:`analysis.compare.tie_grid`), so such scores are ties there (issue 11).
    """
    item_weights = item_weights or {}
    out = {}
    for construct, cols in blocks.items():
        cols = list(cols)
        scores = np.column_stack([_rescaled(data, c, *ranges[c]) for c in cols])
        w = np.array([float(item_weights.get(c, 1.0)) for c in cols])
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError(
                f"construct '{construct}': item weights must be non-negative with a positive sum"
            )
        answered = ~np.isnan(scores)
        wsum = answered.astype(float) @ w
        total = np.where(answered, scores, 0.0) @ w
        out[construct] = np.divide(total, wsum, out=np.full(len(data), np.nan), where=wsum > 0)
    return pd.DataFrame(out, index=data.index)


def _normalised(weights: Mapping[str, float], constructs: Sequence[str]) -> pd.Series:
    """Construct weights over ``constructs`` (absent = 0) normalised to sum to 1."""
    unknown = [c for c in weights if c not in constructs]
    if unknown:
        raise ValueError(f"weights given for unknown constructs {unknown}; known: {list(constructs)}")
    w = pd.Series({c: float(weights.get(c, 0.0)) for c in constructs}, dtype=float)
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"construct weights must be finite, non-negative and not all zero: {dict(w)}")
    return w / w.sum()


def overall_scores(scores: pd.DataFrame, construct_weights: Mapping[str, float]) -> pd.Series:
    """Each respondent's overall index: the weighted mean of the construct scores they have.

    Inputs: respondent x construct 0-100 scores (:func:`respondent_index`) and
    construct weights (normalised over the constructs given). A respondent
    missing a construct is scored on the others, the weights renormalised;
    NaN when none is available (or all available ones have weight 0).
    """
    constructs = [c for c in construct_weights if c in scores.columns]
    w = _normalised(construct_weights, constructs).to_numpy()
    s = scores[constructs].to_numpy(dtype=float)
    have = ~np.isnan(s)
    wsum = (have * w).sum(axis=1)
    total = (np.where(have, s, 0.0) * w).sum(axis=1)
    out = np.divide(total, wsum, out=np.full(len(s), np.nan), where=wsum > 0)
    return pd.Series(out, index=scores.index, name="CSI")


def csi(
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    ranges: Mapping[str, tuple[int, int]],
    construct_weights: Mapping[str, float],
    item_weights: Mapping[str, float] | None = None,
    n_boot: int = 1000,
    seed: int = 2024,
    conf: float = 0.95,
    weights: Any = None,
) -> pd.DataFrame:
    """Customer satisfaction index (0-100) per construct and overall, with bootstrap intervals.

    Inputs: ``data``, ``blocks``, ``ranges``, ``item_weights`` as in
    :func:`respondent_index`; ``construct_weights`` construct -> weight
    (normalised to sum to 1; a construct left out gets weight 0 and is
    reported but not part of the CSI); ``n_boot`` bootstrap resamples of
    respondents with a seeded generator.

    Output: one row per construct plus ``"CSI"``, columns ``construct, weight,
    index, ci_low, ci_high, n``. A construct's index is the mean of
    respondents' construct scores (over those with a score). The CSI is the one
    definition used everywhere (headline, KPIs, wave change, tracking): the mean
    over respondents of each respondent's CSI, the weighted mean of the construct
    scores they have (:func:`overall_scores`); with every construct answered it
    equals ``sum_c w_c * index_c``. Intervals are percentile bootstrap intervals
    (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 13).

    With case ``weights`` (an :class:`analysis.weighting.Weights`, rows matched by index):
    the indices are weighted means, each resample carries the drawn rows' weights (the
    multinomial counts times the weights; the same draws as unweighted), ``n`` stays the
    unweighted count and ``n_eff`` (Kish, of the rows with a score) is added.
    ``weights=None`` gives exactly the unweighted table.
    """
    scores = respondent_index(data, blocks, ranges, item_weights)
    constructs = list(blocks)
    w = _normalised(construct_weights, constructs)
    person = overall_scores(scores[constructs], w.to_dict()).to_numpy(dtype=float)
    scored = ~np.isnan(person)
    s = np.column_stack([scores[constructs].to_numpy(dtype=float), person])
    has = ~np.isnan(s)
    filled = np.where(has, s, 0.0)
    counts = has.sum(axis=0)
    case_w = None if weights is None else weights.values_for(data.index)
    if case_w is None:
        means = np.divide(filled.sum(axis=0), counts, out=np.full(len(constructs) + 1, np.nan), where=counts > 0)
    else:
        den0 = case_w @ has.astype(float)
        means = np.divide(case_w @ filled, den0, out=np.full(len(constructs) + 1, np.nan), where=den0 > 0)
    overall = float(means[-1]) if scored.any() else math.nan
    means = means[:-1]
    low = np.full(len(constructs) + 1, np.nan)
    high = np.full(len(constructs) + 1, np.nan)
    n = len(data)
    from . import pls

    if n_boot > 0 and n > pls.BOOT_GROUPS:  # the grouped bootstrap of analysis.pls.bootstrap_model
        boot = _grouped_boot(filled, has, case_w, n_boot, seed, pls.BOOT_GROUPS)
    elif n_boot > 0 and n > 0:
        rng = np.random.default_rng(seed)
        boot = np.empty((n_boot, len(constructs) + 1))
        chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
        for start in range(0, n_boot, chunk):
            size = min(chunk, n_boot - start)
            freq = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float)
            if case_w is not None:
                freq = freq * case_w
            num = freq @ filled
            den = freq @ has.astype(float)
            boot[start : start + size] = np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)
    if n_boot > 0 and n > 0:
        tail = (1 - conf) / 2 * 100
        low = np.nanpercentile(boot, tail, axis=0)
        high = np.nanpercentile(boot, 100 - tail, axis=0)
    rows = [
        {
            "construct": c,
            "weight": float(w[c]),
            "index": float(means[j]),
            "ci_low": float(low[j]),
            "ci_high": float(high[j]),
            "n": int(counts[j]),
        }
        for j, c in enumerate(constructs)
    ]
    rows.append(
        {
            "construct": "CSI",
            "weight": 1.0,
            "index": overall,
            "ci_low": float(low[-1]),
            "ci_high": float(high[-1]),
            "n": int(scored.sum()),
        }
    )
    columns = ["construct", "weight", "index", "ci_low", "ci_high", "n"]
    if case_w is not None:
        from .weighting import kish

        masks = [*(has[:, j] for j in range(len(constructs))), scored]
        for row, mask in zip(rows, masks, strict=True):
            row["n_eff"] = kish(case_w[mask])["n_eff"]
        columns.append("n_eff")
    return pd.DataFrame(rows, columns=columns)


def _grouped_boot(filled: np.ndarray, has: np.ndarray, case_w: np.ndarray | None, n_boot: int,
                  seed: int | None, groups: int) -> np.ndarray:
    """Bootstrap replicates (n_boot, k) of the indices (weighted ratios of sums) above
    :data:`analysis.pls.BOOT_GROUPS` rows: the rows are dealt into ``groups`` random groups (a seeded
    permutation, sizes differing by at most one), each kept as its sums of the (weighted) scores and of
    the (weighted) answered indicators, and each resample draws the groups with replacement. A ratio
    of sums is a smooth function of the group sums, so this is the cluster bootstrap over iid groups
    (Davison & Hinkley 1997, section 3.8) that the PLS, driver and IPA bootstraps use: cost n once,
    then n_boot x groups, instead of a multinomial draw over n rows per resample (48 ms at 1M)."""
    from .pls import group_members, group_sums, unit_counts

    n, k = filled.shape
    member = group_members(n, groups, seed)
    w = np.ones(n) if case_w is None else np.asarray(case_w, dtype=float)
    num_g = group_sums(member, filled * w[:, None], groups)
    den_g = group_sums(member, has * w[:, None], groups)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, k))
    chunk = max(1, min(n_boot, 2_000_000 // groups))
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        counts = unit_counts(rng.integers(0, groups, size=(size, groups)), groups)
        num, den = counts @ num_g, counts @ den_g
        boot[start : start + size] = np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)
    return boot


def weights_for(
    method: str,
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    ranges: Mapping[str, tuple[int, int]],
    ahp_matrix: pd.DataFrame | None = None,
    pls_weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """Construct weights (Series indexed by construct, summing to 1) by the chosen method.

    ``"equal"``: 1/C each. ``"ahp"``: :func:`ahp_weights` of ``ahp_matrix``
    (criteria = constructs), checked with :func:`check_ahp`. ``"entropy"``:
    :func:`entropy_weights` of the respondents' construct scores
    (:func:`respondent_index`). ``"pls"``: the given ``pls_weights``,
    normalised. Raises ValueError for an unknown method or missing input.
    """
    constructs = list(blocks)
    if method == "equal":
        return pd.Series(1.0 / len(constructs), index=constructs, name="weight")
    if method == "ahp":
        if ahp_matrix is None:
            raise ValueError("weights method 'ahp' needs a pairwise-comparison matrix (ahp_matrix)")
        if set(ahp_matrix.index) != set(constructs):
            raise ValueError(
                f"the AHP matrix criteria {list(ahp_matrix.index)} must be the constructs {constructs}"
            )
        result = check_ahp(ahp_weights(ahp_matrix))
        return result.weights.reindex(constructs).rename("weight")
    if method == "entropy":
        scores = respondent_index(data, blocks, ranges)
        return entropy_weights(scores[constructs]).rename("weight")
    if method == "pls":
        if pls_weights is None:
            raise ValueError(
                "weights method 'pls' needs the construct weights of the PLS model (pls_weights)"
            )
        missing = [c for c in constructs if c not in pls_weights]
        if missing:
            raise ValueError(f"pls_weights lack constructs {missing}")
        return _normalised(pls_weights, constructs).rename("weight")
    raise ValueError(f"unknown weights method '{method}'; use one of {', '.join(WEIGHT_METHODS)}")


class IndexWeightWarning(UserWarning):
    """The PLS (ACSI) index weights needed a documented fallback (see :func:`acsi_weights`)."""


#: ``note`` codes of :meth:`ACSIWeights.to_frame` (the report words them: ``index_note.<code>``).
NEGATIVE_OUTER_WEIGHT = "negative_outer_weight"
NEGATIVE_TOTAL_EFFECT = "negative_total_effect"
NO_POSITIVE_TOTAL_EFFECT = "no_positive_total_effect"


@dataclass(frozen=True)
class ACSIWeights:
    """Result of :func:`acsi_weights`.

    ``construct_weights`` (Series by construct, sums to 1), ``item_weights`` (item -> weight
    within its construct, each construct's summing to 1), ``total_effects`` (construct -> its
    total effect on satisfaction, NaN when it has none), ``fallback_items`` (construct -> the
    items whose outer weight was negative; the construct's items then count equally) and
    ``notes`` (construct -> the note codes that applied).
    """

    construct_weights: pd.Series
    item_weights: dict[str, float]
    total_effects: dict[str, float]
    fallback_items: dict[str, list[str]]
    notes: dict[str, list[str]]

    def to_frame(self) -> pd.DataFrame:
        """One row per construct: ``construct, weight, total_effect, item_weights`` (``pls`` or ``equal``),
        ``negative_items`` (space-separated item ids) and ``note`` (space-separated codes, "" if none)."""
        cs = list(self.construct_weights.index)
        return pd.DataFrame(
            {
                "construct": cs,
                "weight": self.construct_weights.to_numpy(dtype=float),
                "total_effect": [self.total_effects.get(c, math.nan) for c in cs],
                "item_weights": ["equal" if self.fallback_items.get(c) else "pls" for c in cs],
                "negative_items": [" ".join(self.fallback_items.get(c, [])) for c in cs],
                "note": [" ".join(self.notes.get(c, [])) for c in cs],
            }
        )


def _fallback_warning(message: str) -> None:
    """Say that the ACSI weights fell back (an :class:`IndexWeightWarning`, pointing at the caller's caller)."""
    warnings.warn(message, IndexWeightWarning, stacklevel=3)


def acsi_weights(
    blocks: Mapping[str, Sequence[str]],
    outer_weights: Mapping[str, float],
    total_effects: Mapping[str, float],
) -> ACSIWeights:
    """ACSI-style index weights from a PLS model, with the documented fallbacks for negative values.

    Inputs: ``blocks`` construct -> items (the index constructs); ``outer_weights`` item ->
    its normalised unstandardised PLS outer weight (:attr:`analysis.pls.PLSModel.unstd_weights`:
    each block's weights sum to 1); ``total_effects`` construct -> its total effect on the
    satisfaction construct (absent: none).

    Items are weighted by their outer weights and constructs by their total effects normalised
    to sum to 1 (Fornell et al. 1996, J. Marketing 60(4):7-18). That index is a weighted mean,
    which needs non-negative weights, but a weak or wrongly keyed item often gets a negative
    outer weight (the block's other weights then exceed 1), and a construct can have a negative
    total effect. Hence:

    * a construct outside the PLS model (no outer weights): its items count equally, no note;
    * a construct with a negative (or non-finite) outer weight: its items count **equally**
      (the equal-weights index of that construct), note ``negative_outer_weight``;
    * a construct with a negative total effect: construct weight **0** (left out of the CSI,
      still reported on its own), note ``negative_total_effect``;
    * no positive total effect at all: **equal** construct weights, note
      ``no_positive_total_effect`` on every construct.

    Each fallback issues an :class:`IndexWeightWarning`. A total effect of exactly 0 (no path to
    satisfaction) also gives weight 0, without a note.
    """
    item_w: dict[str, float] = {}
    fallback: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {c: [] for c in blocks}
    for construct, items in blocks.items():
        items = list(items)
        if any(i not in outer_weights for i in items):  # a construct outside the model: equal item weights
            item_w.update({i: 1.0 / len(items) for i in items})
            continue
        w = np.array([float(outer_weights[i]) for i in items])
        bad = [i for i, x in zip(items, w, strict=True) if not np.isfinite(x) or x < 0]
        if bad:
            fallback[construct] = bad
            notes[construct].append(NEGATIVE_OUTER_WEIGHT)
            _fallback_warning(
                f"index weights 'pls': construct '{construct}' has negative PLS outer weights "
                f"({', '.join(bad)}); its items count equally in the index (ACSI weights must be positive)."
            )
            w = np.full(len(items), 1.0 / len(items))
        item_w.update(zip(items, (float(x) for x in w), strict=True))
    te = {c: float(total_effects[c]) if c in total_effects else math.nan for c in blocks}
    cw = {}
    for c in blocks:
        x = te[c]
        if np.isfinite(x) and x < 0:
            notes[c].append(NEGATIVE_TOTAL_EFFECT)
            _fallback_warning(
                f"index weights 'pls': construct '{c}' has a negative total effect on satisfaction "
                f"({x:.3f}); it gets weight 0 in the CSI."
            )
        cw[c] = max(x, 0.0) if np.isfinite(x) else 0.0
    if sum(cw.values()) <= 0:
        _fallback_warning(
            "index weights 'pls': no construct has a positive total effect on satisfaction; "
            "the constructs are weighted equally."
        )
        cw = {c: 1.0 for c in blocks}
        for c in blocks:
            notes[c].append(NO_POSITIVE_TOTAL_EFFECT)
    weights = _normalised(cw, list(blocks)).rename("weight")
    return ACSIWeights(weights, item_w, te, fallback, notes)
