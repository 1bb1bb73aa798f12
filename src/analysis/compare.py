"""Group comparisons and wave-over-wave change.

Group comparisons (one numeric variable ``dv`` across the levels of a segment
column ``between``):

========================  ==========================  =============================
question                  2 groups                    3+ groups
========================  ==========================  =============================
means differ? (Welch)     :func:`welch_t`             :func:`welch_anova`
which pairs? (means)      --                          :func:`games_howell`
ranks differ?             :func:`mann_whitney`        :func:`kruskal`
which pairs? (ranks)      --                          :func:`dunn`
top-2-box share differs?  :func:`chi2_top2`           :func:`chi2_top2`
========================  ==========================  =============================

:func:`group_tests` runs all of them for many variables and segments, with
small-group suppression and Holm adjustment, and returns the tidy table
written to ``group_tests.csv``.

Wave change (``wave_change.csv``): :func:`mean_change`, :func:`proportion_change`,
:func:`nps_change` and :func:`bootstrap_change` each return one dict
(``metric, baseline, current, diff, ci_low, ci_high, p, method`` plus sample
sizes); :func:`wave_change_table` stacks them.

Conventions: missing values are NaN and are dropped per test; groups are taken
in category order for a categorical column, otherwise in sorted order; pairwise
differences are ``A - B`` and changes are ``current - baseline``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "welch_anova",
    "welch_t",
    "games_howell",
    "kruskal",
    "mann_whitney",
    "dunn",
    "chi2_top2",
    "holm",
    "group_tests",
    "mean_change",
    "proportion_change",
    "nps_change",
    "bootstrap_change",
    "wave_change_table",
    "GROUP_TEST_COLUMNS",
    "WAVE_CHANGE_COLUMNS",
]

#: Columns of :func:`group_tests` (the first ones are fixed by the user contract).
GROUP_TEST_COLUMNS = [
    "variable",
    "segment",
    "group",
    "test",
    "statistic",
    "df",
    "df2",
    "p",
    "p_adj",
    "effect_size",
    "effect_size_name",
    "diff",
    "n",
    "note",
]

#: Leading columns of :func:`wave_change_table`.
WAVE_CHANGE_COLUMNS = [
    "metric",
    "baseline",
    "current",
    "diff",
    "ci_low",
    "ci_high",
    "p",
    "method",
    "significant",
]


# --------------------------------------------------------------------------- helpers


def _levels(groups: pd.Series) -> list:
    """Observed group levels: category order for a categorical, else sorted."""
    observed = pd.unique(groups.dropna())
    if isinstance(groups.dtype, pd.CategoricalDtype):
        present = set(observed)
        return [c for c in groups.cat.categories if c in present]
    try:
        return sorted(observed)
    except TypeError:
        return sorted(observed, key=str)


def _split(data: pd.DataFrame, dv: str, between: str) -> tuple[list, list[np.ndarray]]:
    """Complete cases of ``dv`` by ``between`` as (levels, list of float arrays)."""
    if dv not in data.columns or between not in data.columns:
        missing = [c for c in (dv, between) if c not in data.columns]
        raise KeyError(f"column(s) not in data: {missing}")
    sub = data[[dv, between]].dropna()
    values = pd.to_numeric(sub[dv]).to_numpy(dtype=float)
    groups = sub[between]
    levels = _levels(groups)
    arrays = [values[(groups == lev).to_numpy()] for lev in levels]
    return levels, arrays


def _hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Hedges' g (pooled SD, small-sample factor 1 - 3 / (4 (n1 + n2) - 9)); Hedges & Olkin 1985."""
    nx, ny = len(x), len(y)
    sp = np.sqrt(((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2))
    if sp == 0:
        return np.nan
    d = (np.mean(x) - np.mean(y)) / sp
    return float(d * (1 - 3 / (4 * (nx + ny) - 9)))


def _welch_pair(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Welch's unequal-variance difference: (diff, se, t, df) for mean(x) - mean(y)."""
    vx, vy = np.var(x, ddof=1) / len(x), np.var(y, ddof=1) / len(y)
    se = np.sqrt(vx + vy)
    diff = float(np.mean(x) - np.mean(y))
    if se == 0:
        raise ValueError("Welch test undefined: both groups have zero variance")
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    return diff, float(se), diff / float(se), float(df)


def _check_groups(levels: list, arrays: list[np.ndarray], k_min: int, k_max: int | None = None) -> None:
    k = len(levels)
    if k < k_min or (k_max is not None and k > k_max):
        want = f"{k_min}" if k_max == k_min else f"at least {k_min}"
        raise ValueError(f"need {want} groups with data, got {k}: {levels}")
    small = [str(lev) for lev, a in zip(levels, arrays, strict=True) if len(a) < 2]
    if small:
        raise ValueError(f"groups with fewer than 2 observations: {', '.join(small)}")


def holm(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaN entries are left out of the family.

    Input: p-values. Output: adjusted p-values in the input order, each >= its raw p,
    capped at 1.
    """
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * pv[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


# --------------------------------------------------------------------------- means


def welch_t(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Welch's unequal-variance t-test for exactly two groups.

    Input: ``data`` with numeric ``dv`` and grouping column ``between`` (2 levels).
    Output: one-row DataFrame ``test, A, B, mean_A, mean_B, diff, statistic (t), df1 (1),
    df2 (Welch-Satterthwaite df), p (two-sided), effect_size (Hedges' g of A - B),
    effect_size_name, n``.  ``t**2`` with ``(1, df2)`` is the Welch ANOVA F for two groups.
    Reference: Welch (1947), Biometrika 34; Hedges & Olkin (1985).
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2, 2)
    x, y = arrays
    diff, _se, t, df = _welch_pair(x, y)
    p = float(2 * stats.t.sf(abs(t), df))
    return pd.DataFrame(
        {
            "test": ["welch_t"],
            "A": [levels[0]],
            "B": [levels[1]],
            "mean_A": [float(np.mean(x))],
            "mean_B": [float(np.mean(y))],
            "diff": [diff],
            "statistic": [t],
            "df1": [1.0],
            "df2": [df],
            "p": [p],
            "effect_size": [_hedges_g(x, y)],
            "effect_size_name": ["hedges_g"],
            "n": [len(x) + len(y)],
        }
    )


def welch_anova(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Welch's heteroscedastic one-way ANOVA (Welch t-test when there are two groups).

    Input: ``data`` with numeric ``dv`` and grouping column ``between``.
    Output: one-row DataFrame ``test ("welch_anova"), statistic (F), df1, df2, p,
    effect_size (omega squared), effect_size_name, n, k`` plus the aliases ``F`` and
    ``omega_squared``.  With two groups it returns :func:`welch_t` instead.

    Method: Welch (1951), Biometrika 38: weights ``w_i = n_i / s_i^2``,
    ``F = [sum w_i (m_i - m_w)^2 / (k-1)] / [1 + 2 (k-2) L / (k^2-1)]`` with
    ``L = sum (1 - w_i / W)^2 / (n_i - 1)``, ``df2 = (k^2-1) / (3 L)``.
    Omega squared from the F statistic, ``(k-1)(F-1) / ((k-1)(F-1) + N)``
    (Kirk 1996; the usual omega squared when F is the classic F), truncated at 0.
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2)
    k = len(levels)
    if k == 2:
        return welch_t(data, dv, between)
    n = np.array([len(a) for a in arrays], dtype=float)
    m = np.array([np.mean(a) for a in arrays])
    v = np.array([np.var(a, ddof=1) for a in arrays])
    if np.any(v == 0):
        zero = [str(lev) for lev, vi in zip(levels, v, strict=True) if vi == 0]
        raise ValueError(f"Welch ANOVA undefined: zero variance in group(s) {', '.join(zero)}")
    w = n / v
    big_w = w.sum()
    mw = np.sum(w * m) / big_w
    lam = np.sum((1 - w / big_w) ** 2 / (n - 1))
    f = (np.sum(w * (m - mw) ** 2) / (k - 1)) / (1 + 2 * (k - 2) * lam / (k**2 - 1))
    df1, df2 = k - 1, (k**2 - 1) / (3 * lam)
    p = float(stats.f.sf(f, df1, df2))
    big_n = n.sum()
    omega = max(0.0, df1 * (f - 1) / (df1 * (f - 1) + big_n))
    return pd.DataFrame(
        {
            "test": ["welch_anova"],
            "statistic": [float(f)],
            "df1": [float(df1)],
            "df2": [float(df2)],
            "p": [p],
            "effect_size": [float(omega)],
            "effect_size_name": ["omega_squared"],
            "n": [int(big_n)],
            "k": [k],
            "F": [float(f)],
            "omega_squared": [float(omega)],
        }
    )


def games_howell(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Games-Howell pairwise comparisons of means (unequal variances and sizes).

    Input: ``data`` with numeric ``dv`` and grouping column ``between`` (2+ groups).
    Output: one row per pair ``A, B, mean_A, mean_B, diff (A - B), se, t, df, p, p_unc,
    hedges``.  ``p`` is the Games-Howell p-value (studentized range with k groups and the
    Welch df, already adjusted for all k(k-1)/2 pairs); ``p_unc`` is the unadjusted
    two-sided Welch t-test p of the pair.
    Reference: Games & Howell (1976), Journal of Educational Statistics 1(2).
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2)
    k = len(levels)
    rows = []
    for (i, a), (j, b) in combinations(enumerate(levels), 2):
        x, y = arrays[i], arrays[j]
        diff, se, t, df = _welch_pair(x, y)
        p = float(stats.studentized_range.sf(abs(t) * np.sqrt(2), k, df)) if k > 2 else np.nan
        p_unc = float(2 * stats.t.sf(abs(t), df))
        rows.append(
            {
                "A": a,
                "B": b,
                "mean_A": float(np.mean(x)),
                "mean_B": float(np.mean(y)),
                "diff": diff,
                "se": se,
                "t": t,
                "df": df,
                "p": p_unc if k == 2 else min(1.0, max(p, p_unc)),
                "p_unc": p_unc,
                "hedges": _hedges_g(x, y),
                "n_A": len(x),
                "n_B": len(y),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- ranks


def _rank_biserial(x: np.ndarray, y: np.ndarray, u_x: float) -> float:
    """Rank-biserial correlation 2 U_x / (n_x n_y) - 1 = P(X > Y) - P(X < Y) (Kerby 2014)."""
    return float(2 * u_x / (len(x) * len(y)) - 1)


def mann_whitney(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Mann-Whitney U test (Wilcoxon rank-sum) for exactly two groups.

    Input: ``data`` with numeric ``dv`` and grouping column ``between`` (2 levels).
    Output: one-row DataFrame ``test, A, B, statistic (U of group A), p (two-sided),
    effect_size (rank-biserial r = P(A > B) - P(A < B)), effect_size_name, n``.
    Method: scipy.stats.mannwhitneyu (exact for small samples without ties, else normal
    approximation with tie and continuity correction). Mann & Whitney (1947);
    rank-biserial correlation: Kerby (2014), Comprehensive Psychology 3.
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2, 2)
    x, y = arrays
    res = stats.mannwhitneyu(x, y, alternative="two-sided")
    u = float(res.statistic)
    return pd.DataFrame(
        {
            "test": ["mann_whitney"],
            "A": [levels[0]],
            "B": [levels[1]],
            "statistic": [u],
            "df1": [np.nan],
            "p": [float(res.pvalue)],
            "effect_size": [_rank_biserial(x, y, u)],
            "effect_size_name": ["rank_biserial"],
            "n": [len(x) + len(y)],
        }
    )


def _tie_sum(ranked_values: np.ndarray) -> float:
    """sum(t^3 - t) over tie groups."""
    _, counts = np.unique(ranked_values, return_counts=True)
    return float(np.sum(counts.astype(float) ** 3 - counts))


def kruskal(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Kruskal-Wallis H test with epsilon squared (Mann-Whitney U for two groups).

    Input: ``data`` with numeric ``dv`` and grouping column ``between``.
    Output: one-row DataFrame ``test ("kruskal_wallis"), statistic (H, tie-corrected),
    df1 (k - 1), p (chi-square approximation), effect_size (epsilon squared
    ``H / ((N^2 - 1) / (N + 1))``), effect_size_name, n, k``.
    With two groups it returns :func:`mann_whitney` instead.
    References: Kruskal & Wallis (1952), JASA 47; epsilon squared: Tomczak & Tomczak
    (2014), Trends in Sport Sciences 21(1).
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2)
    k = len(levels)
    if k == 2:
        return mann_whitney(data, dv, between)
    allv = np.concatenate(arrays)
    big_n = len(allv)
    ranks = stats.rankdata(allv)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    h = 0.0
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        h += np.sum(ranks[lo:hi]) ** 2 / (hi - lo)
    h = 12 / (big_n * (big_n + 1)) * h - 3 * (big_n + 1)
    correction = 1 - _tie_sum(allv) / (big_n**3 - big_n)
    if correction == 0:
        raise ValueError("Kruskal-Wallis undefined: all values are equal")
    h /= correction
    eps2 = h / ((big_n**2 - 1) / (big_n + 1))
    return pd.DataFrame(
        {
            "test": ["kruskal_wallis"],
            "statistic": [float(h)],
            "df1": [float(k - 1)],
            "p": [float(stats.chi2.sf(h, k - 1))],
            "effect_size": [float(eps2)],
            "effect_size_name": ["epsilon_squared"],
            "n": [big_n],
            "k": [k],
        }
    )


def dunn(data: pd.DataFrame, dv: str, between: str, p_adjust: str | None = "holm") -> pd.DataFrame:
    """Dunn's (1964) pairwise rank test after Kruskal-Wallis, with tie correction.

    Input: ``data`` with numeric ``dv`` and grouping column ``between``; ``p_adjust``
    ``"holm"`` (default), ``"bonferroni"`` or None.
    Output: one row per pair ``A, B, mean_rank_A, mean_rank_B, z, p (two-sided,
    unadjusted), p_adj, rank_biserial, n_A, n_B``.
    Method: ranks over all groups pooled;
    ``z = (Rbar_A - Rbar_B) / sqrt((N (N+1) / 12 - sum(t^3 - t) / (12 (N-1))) (1/n_A + 1/n_B))``.
    ``rank_biserial`` is the pair's own Mann-Whitney effect size (P(A > B) - P(A < B)).
    Reference: Dunn (1964), Technometrics 6(3).
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2)
    allv = np.concatenate(arrays)
    big_n = len(allv)
    ranks = stats.rankdata(allv)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    mean_ranks = [float(np.mean(ranks[lo:hi])) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    s2 = big_n * (big_n + 1) / 12 - _tie_sum(allv) / (12 * (big_n - 1))
    rows = []
    for i, j in combinations(range(len(levels)), 2):
        x, y = arrays[i], arrays[j]
        se = np.sqrt(s2 * (1 / len(x) + 1 / len(y)))
        z = (mean_ranks[i] - mean_ranks[j]) / se if se > 0 else np.nan
        u_x = float(stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").statistic)
        rows.append(
            {
                "A": levels[i],
                "B": levels[j],
                "mean_rank_A": mean_ranks[i],
                "mean_rank_B": mean_ranks[j],
                "z": float(z),
                "p": float(2 * stats.norm.sf(abs(z))),
                "rank_biserial": _rank_biserial(x, y, u_x),
                "n_A": len(x),
                "n_B": len(y),
            }
        )
    out = pd.DataFrame(rows)
    if p_adjust == "holm":
        out["p_adj"] = holm(out["p"].to_numpy())
    elif p_adjust == "bonferroni":
        out["p_adj"] = np.minimum(out["p"] * len(out), 1.0)
    elif p_adjust is None:
        out["p_adj"] = out["p"]
    else:
        raise ValueError(f"p_adjust must be 'holm', 'bonferroni' or None, got {p_adjust!r}")
    cols = ["A", "B", "mean_rank_A", "mean_rank_B", "z", "p", "p_adj", "rank_biserial", "n_A", "n_B"]
    return out[cols]


# --------------------------------------------------------------------------- shares


def chi2_top2(data: pd.DataFrame, flag: str | pd.Series, between: str) -> pd.DataFrame:
    """Chi-square test of independence of a top-2-box flag and a segment, with Cramér's V.

    Input: ``data`` with grouping column ``between``; ``flag`` is a column name of
    ``data`` or a Series aligned on ``data.index`` holding True/False (or 1/0), NaN =
    missing.
    Output: one-row DataFrame ``test ("chi2_top2"), statistic (Pearson chi-square, no
    continuity correction), df1 (k - 1), p, effect_size (Cramér's V = sqrt(chi2 / N) for
    a k x 2 table), effect_size_name, n, k, min_expected, note`` (note warns when an
    expected count is below 5).  The share per group is in ``attrs["shares"]``.
    References: Pearson (1900); Cramér (1946), Mathematical Methods of Statistics.
    """
    f = data[flag] if isinstance(flag, str) else pd.Series(flag).reindex(data.index)
    sub = pd.DataFrame({"flag": f, "g": data[between]}).dropna()
    levels = _levels(sub["g"])
    if len(levels) < 2:
        raise ValueError(f"need at least 2 groups with data, got {len(levels)}: {levels}")
    flag_v = sub["flag"].astype(float).to_numpy()
    if not np.isin(flag_v, (0.0, 1.0)).all():
        raise ValueError("flag must be boolean (True/False or 1/0)")
    g = sub["g"].to_numpy()
    obs = np.array([[np.sum(flag_v[g == lev] == 1), np.sum(flag_v[g == lev] == 0)] for lev in levels], float)
    big_n = obs.sum()
    exp = obs.sum(1, keepdims=True) * obs.sum(0, keepdims=True) / big_n
    if np.any(exp == 0):
        raise ValueError("chi-square undefined: every answer is top-2-box, or none is")
    chi2 = float(np.sum((obs - exp) ** 2 / exp))
    df = len(levels) - 1
    v = float(np.sqrt(chi2 / big_n))  # min(r, c) - 1 = 1 for a k x 2 table
    note = "expected count below 5" if exp.min() < 5 else ""
    out = pd.DataFrame(
        {
            "test": ["chi2_top2"],
            "statistic": [chi2],
            "df1": [float(df)],
            "p": [float(stats.chi2.sf(chi2, df))],
            "effect_size": [v],
            "effect_size_name": ["cramers_v"],
            "n": [int(big_n)],
            "k": [len(levels)],
            "min_expected": [float(exp.min())],
            "note": [note],
        }
    )
    out.attrs["shares"] = dict(zip(levels, (obs[:, 0] / obs.sum(1)).tolist(), strict=True))
    return out


# --------------------------------------------------------------------------- many tests


def _row(variable: str, segment: str, group: str, test: str, **kw: Any) -> dict:
    row = dict.fromkeys(GROUP_TEST_COLUMNS, np.nan)
    row.update(variable=variable, segment=segment, group=group, test=test, note="")
    row.update(kw)
    return row


def _safe(fn: Callable[[], list[dict]], fallback: dict) -> list[dict]:
    try:
        return fn()
    except ValueError as err:
        return [{**fallback, "note": str(err)}]


def group_tests(
    data: pd.DataFrame,
    variables: Sequence[str],
    segments: Sequence[str],
    top2: Mapping[str, float] | None = None,
    min_n: int = 30,
    suppress_below: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Run every group comparison for each variable x segment; the ``group_tests.csv`` table.

    Input: ``data`` (numeric ``variables``, text ``segments``, NaN = missing);
    ``top2`` maps a variable to its top-2-box threshold (value >= threshold counts) and
    adds a chi-square test for it; ``min_n`` flags small groups; groups with fewer than
    ``suppress_below`` answers are dropped before testing (privacy and stability);
    ``alpha`` sets the ``significant`` column (``p_adj < alpha``).

    Output: tidy DataFrame with :data:`GROUP_TEST_COLUMNS` plus ``significant``.
    Per variable x segment, with k groups left:

    * k >= 3: ``welch_anova`` (F, omega squared), ``games_howell`` pairs (t, Hedges' g),
      ``kruskal_wallis`` (H, epsilon squared), ``dunn`` pairs (z, rank-biserial),
      ``chi2_top2`` (chi-square, Cramér's V);
    * k == 2: ``welch_t`` (Hedges' g), ``mann_whitney`` (rank-biserial), ``chi2_top2``;
    * k < 2: one row with ``test = "none"`` and the reason in ``note`` (not omitted).

    ``group`` is the segment name for omnibus rows and ``"A vs B"`` for pairs;
    ``diff`` is the mean difference A - B (``welch_t``, ``games_howell``).
    ``df`` is the Welch df for ``welch_t`` and ``games_howell``, k - 1 for ``welch_anova``,
    ``kruskal_wallis`` and ``chi2_top2`` (``df2`` = Welch denominator df of ``welch_anova``).

    Multiplicity (Holm 1979): omnibus p-values are adjusted across the segments of a
    variable, separately for the mean tests (``welch_anova``/``welch_t``), the rank tests
    (``kruskal_wallis``/``mann_whitney``) and ``chi2_top2``.  ``dunn`` pairs are Holm-adjusted
    within variable x segment.  For ``games_howell`` rows ``p`` is the unadjusted Welch
    t-test p of the pair and ``p_adj`` the Games-Howell p, which already controls the
    familywise error over the pairs (studentized range), so no Holm step is added.
    Always ``p_adj >= p``.  ``note`` lists suppressed groups (names only, never their n),
    small groups (``n < min_n``) and any test that was undefined.
    """
    top2 = dict(top2 or {})
    rows: list[dict] = []
    for var in variables:
        for seg in segments:
            sub = data[[var, seg]].dropna()
            counts = sub[seg].value_counts()
            suppressed = [g for g in _levels(sub[seg]) if counts[g] < suppress_below]
            sub = sub[~sub[seg].isin(suppressed)]
            kept = _levels(sub[seg])
            small = [g for g in kept if counts[g] < min_n]
            notes = []
            if suppressed:
                notes.append("suppressed groups: " + ", ".join(map(str, suppressed)))
            if small:
                notes.append("small group: " + ", ".join(map(str, small)))
            base_note = "; ".join(notes)
            n_all = len(sub)
            if len(kept) < 2:
                reason = f"fewer than 2 groups with n >= {suppress_below}; not tested"
                rows.append(_row(var, seg, seg, "none", n=n_all, note="; ".join([*notes, reason])))
                continue
            rows.extend(_segment_rows(sub, var, seg, kept, top2.get(var), base_note))
    out = pd.DataFrame(rows, columns=GROUP_TEST_COLUMNS)
    if out.empty:
        out["significant"] = pd.Series(dtype=bool)
        return out
    out = _adjust(out)
    out["significant"] = out["p_adj"] < alpha
    out["n"] = out["n"].astype("Int64")
    return out


def _segment_rows(sub: pd.DataFrame, var: str, seg: str, kept: list, threshold: Any, note: str) -> list[dict]:
    k = len(kept)
    base = _row(var, seg, seg, "welch_anova" if k > 2 else "welch_t", n=len(sub))
    rows: list[dict] = []

    def _with(extra: str) -> str:
        return "; ".join(s for s in (note, extra) if s)

    def omnibus(res: pd.DataFrame) -> list[dict]:
        r = res.iloc[0]
        return [
            _row(
                var,
                seg,
                seg,
                r["test"],
                statistic=r["statistic"],
                df=r["df1"] if r["test"] != "welch_t" else r["df2"],
                df2=r["df2"] if r["test"] == "welch_anova" else np.nan,
                p=r["p"],
                effect_size=r["effect_size"],
                effect_size_name=r["effect_size_name"],
                diff=r.get("diff", np.nan),
                n=int(r["n"]),
                note=_with(str(r.get("note", ""))),
            )
        ]

    def gh() -> list[dict]:
        res = games_howell(sub, var, seg)
        return [
            _row(
                var,
                seg,
                f"{r.A} vs {r.B}",
                "games_howell",
                statistic=r.t,
                df=r.df,
                p=r.p_unc,
                p_adj=r.p,
                effect_size=r.hedges,
                effect_size_name="hedges_g",
                diff=r.diff,
                n=int(r.n_A + r.n_B),
                note=note,
            )
            for r in res.itertuples(index=False)
        ]

    def dn() -> list[dict]:
        res = dunn(sub, var, seg, p_adjust="holm")
        return [
            _row(
                var,
                seg,
                f"{r.A} vs {r.B}",
                "dunn",
                statistic=r.z,
                p=r.p,
                p_adj=r.p_adj,
                effect_size=r.rank_biserial,
                effect_size_name="rank_biserial",
                n=int(r.n_A + r.n_B),
                note=note,
            )
            for r in res.itertuples(index=False)
        ]

    rows += _safe(lambda: omnibus(welch_anova(sub, var, seg)), {**base, "note": note})
    if k > 2:
        rows += _safe(gh, _row(var, seg, seg, "games_howell", n=len(sub)))
    rank_test = "kruskal_wallis" if k > 2 else "mann_whitney"
    rows += _safe(lambda: omnibus(kruskal(sub, var, seg)), _row(var, seg, seg, rank_test, n=len(sub)))
    if k > 2:
        rows += _safe(dn, _row(var, seg, seg, "dunn", n=len(sub)))
    if threshold is not None:
        flag = (sub[var] >= threshold).astype(float)
        rows += _safe(
            lambda: omnibus(chi2_top2(sub.assign(_top2=flag), "_top2", seg)),
            _row(var, seg, seg, "chi2_top2", n=len(sub)),
        )
    for r in rows:  # error rows: keep the segment notes in front of the error message
        if r["note"] and note and not r["note"].startswith(note):
            r["note"] = _with(r["note"])
    return rows


_FAMILY = {
    "welch_anova": "means",
    "welch_t": "means",
    "kruskal_wallis": "ranks",
    "mann_whitney": "ranks",
    "chi2_top2": "chi2",
}


def _adjust(out: pd.DataFrame) -> pd.DataFrame:
    """Fill ``p_adj``: Holm for omnibus families across segments; Dunn already adjusted."""
    out = out.copy()
    fam = out["test"].map(_FAMILY)
    omni = fam.notna()
    for (_var, _fam), idx in out[omni].groupby([out.loc[omni, "variable"], fam[omni]]).groups.items():
        out.loc[idx, "p_adj"] = holm(out.loc[idx, "p"].to_numpy())
    # p_adj >= p by construction; guard against rounding in the studentized range tail
    out["p_adj"] = np.fmax(out["p_adj"], out["p"])
    return out


# --------------------------------------------------------------------------- wave change


def _clean(x: pd.Series | np.ndarray | Sequence[float]) -> np.ndarray:
    a = np.asarray(pd.to_numeric(pd.Series(x)), dtype=float)
    return a[~np.isnan(a)]


def mean_change(
    baseline: pd.Series | np.ndarray, current: pd.Series | np.ndarray, metric: str, conf: float = 0.95
) -> dict:
    """Change of a mean between two independent waves: Welch interval and t-test.

    Input: the baseline and current wave's values (NaN dropped) and a metric name.
    Output: dict ``metric, baseline (mean), current (mean), diff (current - baseline),
    ci_low, ci_high (Welch-Satterthwaite t interval), p (two-sided Welch t-test), method
    ("welch_t"), n_baseline, n_current``.
    Reference: Welch (1947), Biometrika 34.
    """
    x0, x1 = _clean(baseline), _clean(current)
    if len(x0) < 2 or len(x1) < 2:
        raise ValueError(f"{metric}: need at least 2 answers in each wave")
    diff, se, t, df = _welch_pair(x1, x0)
    q = stats.t.ppf(0.5 + conf / 2, df)
    return {
        "metric": metric,
        "baseline": float(np.mean(x0)),
        "current": float(np.mean(x1)),
        "diff": diff,
        "ci_low": diff - q * se,
        "ci_high": diff + q * se,
        "p": float(2 * stats.t.sf(abs(t), df)),
        "method": "welch_t",
        "n_baseline": len(x0),
        "n_current": len(x1),
    }


def _wilson(k: float, n: float, z: float) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion."""
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def proportion_change(k0: int, n0: int, k1: int, n1: int, metric: str, conf: float = 0.95) -> dict:
    """Change of a proportion between two independent waves (e.g. satisfaction rate).

    Input: baseline ``k0`` successes of ``n0``, current ``k1`` of ``n1``, a metric name.
    Output: dict ``metric, baseline (k0/n0), current (k1/n1), diff (current - baseline,
    as a proportion), ci_low, ci_high, p, method ("newcombe_hybrid_score"),
    n_baseline, n_current``.
    Interval: Newcombe (1998) method 10, the hybrid score interval built from the two
    Wilson intervals, ``diff -/+ sqrt(...)``; Statistics in Medicine 17, 873-890.
    p: pooled two-proportion z-test (no continuity correction).
    """
    if not (n0 > 0 and n1 > 0 and 0 <= k0 <= n0 and 0 <= k1 <= n1):
        raise ValueError(f"{metric}: need 0 <= k <= n and n > 0, got {k0}/{n0}, {k1}/{n1}")
    z = stats.norm.ppf(0.5 + conf / 2)
    p0, p1 = k0 / n0, k1 / n1
    l0, u0 = _wilson(k0, n0, z)
    l1, u1 = _wilson(k1, n1, z)
    diff = p1 - p0
    low = diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pooled = (k0 + k1) / (n0 + n1)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    p = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 > 0 else 1.0
    return {
        "metric": metric,
        "baseline": p0,
        "current": p1,
        "diff": diff,
        "ci_low": float(low),
        "ci_high": float(high),
        "p": p,
        "method": "newcombe_hybrid_score",
        "n_baseline": int(n0),
        "n_current": int(n1),
    }


def _nps_parts(x: np.ndarray) -> tuple[float, float]:
    """(NPS as a fraction, variance of one respondent's -1/0/+1 score)."""
    if np.any((x < 0) | (x > 10)):
        raise ValueError("NPS needs answers on the 0-10 scale")
    promoters, detractors = np.mean(x >= 9), np.mean(x <= 6)
    nps = promoters - detractors
    return float(nps), float(promoters + detractors - nps**2)


def nps_change(
    baseline: pd.Series | np.ndarray, current: pd.Series | np.ndarray, metric: str = "NPS", conf: float = 0.95
) -> dict:
    """Change of the Net Promoter Score between two independent waves.

    Input: 0-10 recommendation answers of each wave (NaN dropped).
    Output: dict ``metric, baseline, current, diff, ci_low, ci_high, p, method ("nps_wald"),
    n_baseline, n_current`` with NPS on the -100..100 scale (% promoters 9-10 minus %
    detractors 0-6).
    Method: each answer scores +1/0/-1, so ``Var(NPS) = (p_P + p_D - (p_P - p_D)^2) / n``;
    the difference of independent waves has the sum of the variances; Wald z interval
    and z-test. Reference: Rocks (2016), "Interval estimation for the net promoter score",
    The American Statistician 70(4).
    """
    x0, x1 = _clean(baseline), _clean(current)
    if len(x0) == 0 or len(x1) == 0:
        raise ValueError(f"{metric}: need answers in both waves")
    nps0, v0 = _nps_parts(x0)
    nps1, v1 = _nps_parts(x1)
    diff = nps1 - nps0
    se = np.sqrt(v0 / len(x0) + v1 / len(x1))
    z = stats.norm.ppf(0.5 + conf / 2)
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return {
        "metric": metric,
        "baseline": 100 * nps0,
        "current": 100 * nps1,
        "diff": 100 * diff,
        "ci_low": 100 * (diff - z * se),
        "ci_high": 100 * (diff + z * se),
        "p": p,
        "method": "nps_wald",
        "n_baseline": len(x0),
        "n_current": len(x1),
    }


def bootstrap_change(
    baseline: pd.Series | np.ndarray,
    current: pd.Series | np.ndarray,
    statistic: Callable[[np.ndarray], float],
    metric: str,
    n_boot: int = 2000,
    seed: int = 20240601,
    conf: float = 0.95,
) -> dict:
    """Change of any statistic between two independent waves, by the bootstrap.

    Input: the two waves' values (NaN dropped), ``statistic`` mapping a 1-D array to a
    number (e.g. ``np.median``, a top-2-box share), ``n_boot`` resamples, ``seed``.
    Output: dict ``metric, baseline, current, diff, ci_low, ci_high, p, method
    ("bootstrap_percentile"), n_baseline, n_current, n_boot``.
    Method: each wave resampled with replacement independently; percentile interval of
    ``stat(current*) - stat(baseline*)`` (Efron & Tibshirani 1993, ch. 13); p is the
    two-sided percentile p-value ``min(1, 2 min((#{d* <= 0} + 1), (#{d* >= 0} + 1)) /
    (B + 1))``, the smallest level at which the percentile interval excludes 0.
    Deterministic for a given ``seed``.
    """
    x0, x1 = _clean(baseline), _clean(current)
    if len(x0) == 0 or len(x1) == 0:
        raise ValueError(f"{metric}: need answers in both waves")
    rng = np.random.default_rng(seed)
    i0 = rng.integers(0, len(x0), size=(n_boot, len(x0)))
    i1 = rng.integers(0, len(x1), size=(n_boot, len(x1)))
    boot = np.array([statistic(x1[a]) - statistic(x0[b]) for a, b in zip(i1, i0, strict=True)], dtype=float)
    s0, s1 = float(statistic(x0)), float(statistic(x1))
    tail = (1 - conf) / 2
    lo, hi = np.quantile(boot, [tail, 1 - tail])
    p = min(1.0, 2 * min(np.sum(boot <= 0) + 1, np.sum(boot >= 0) + 1) / (n_boot + 1))
    return {
        "metric": metric,
        "baseline": s0,
        "current": s1,
        "diff": s1 - s0,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p": float(p),
        "method": "bootstrap_percentile",
        "n_baseline": len(x0),
        "n_current": len(x1),
        "n_boot": n_boot,
    }


def wave_change_table(rows: Iterable[dict], alpha: float = 0.05) -> pd.DataFrame:
    """Stack wave-change dicts into the ``wave_change.csv`` table.

    Input: dicts from :func:`mean_change`, :func:`proportion_change`, :func:`nps_change`,
    :func:`bootstrap_change` (or any dict with the same keys).
    Output: DataFrame with :data:`WAVE_CHANGE_COLUMNS` first (``significant`` is
    ``p < alpha``), then any extra keys (sample sizes ...).
    """
    out = pd.DataFrame(list(rows))
    for col in WAVE_CHANGE_COLUMNS[:-1]:
        if col not in out.columns:
            out[col] = np.nan
    out["significant"] = out["p"].astype(float) < alpha
    extra = [c for c in out.columns if c not in WAVE_CHANGE_COLUMNS]
    return out[WAVE_CHANGE_COLUMNS + extra]
