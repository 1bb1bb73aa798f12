"""Group comparisons and wave-over-wave change.

Group comparisons (one numeric variable ``dv`` across the levels of a segment
column ``between``), pingouin-style ``(data, dv, between) -> DataFrame``:

========================  ==========================  =============================
question                  2 groups                    3+ groups
========================  ==========================  =============================
means differ? (Welch)     :func:`welch_t`             :func:`welch_anova`
which pairs? (means)      --                          :func:`games_howell`
ranks differ?             :func:`mann_whitney`        :func:`kruskal`
which pairs? (ranks)      --                          :func:`dunn`
top-2-box share differs?  :func:`chi2_top2`           :func:`chi2_top2`
========================  ==========================  =============================

Every omnibus test returns one row with the same columns, :data:`TEST_COLUMNS`
(``welch_anova`` and ``kruskal`` keep their own test for 2 groups: F = t^2 and the
Kruskal-Wallis H); both pairwise tests return :data:`PAIR_COLUMNS`.
:func:`group_tests` runs all of them for many variables and segments, with
small-group suppression and Holm adjustment over all omnibus tests (one family), and returns a :class:`GroupTests`
whose ``to_frame()`` is the tidy table written to ``group_tests.csv``.

Wave change (``wave_change.csv``): :func:`mean_change`, :func:`proportion_change`,
:func:`nps_change` and :func:`bootstrap_change` each return a :class:`Change`;
:func:`wave_change_table` stacks them.

Libraries (checked against our previous formulas and the hand formulas in
``tests/test_compare.py``): the Welch ANOVA and Welch t-test, Games-Howell,
Mann-Whitney and Kruskal-Wallis come from pingouin (itself on scipy), the
chi-square test from scipy, the Wilson interval from
:func:`analysis.describe.wilson_interval` (statsmodels). Own code remains for
Dunn's test (none of pingouin, statsmodels or scipy has it), Holm (statsmodels'
``multipletests`` costs 94 ms a call, see :func:`holm`), the effect sizes
pingouin does not give (omega squared from the sums of squares, epsilon squared, rank-biserial from U)
and the wave-change intervals (Newcombe's hybrid score, the NPS Wald interval).

Ties: rank tests first put the values on a common grid of 12 significant digits
(:func:`tie_grid`), so that scores that are equal in exact arithmetic but differ in
the last bits of their floating-point sums are ranked as ties (issue 11).

Conventions: missing values are NaN and are dropped per test; groups are taken
in category order for a categorical column (the segment codebook's order), otherwise
in natural order (numbers in names compare as numbers, :mod:`analysis.order`); pairwise
differences are ``A - B`` and changes are ``current - baseline``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

from analysis.order import levels
from analysis.privacy import MIN_CELL

__all__ = [
    "welch_anova",
    "welch_t",
    "games_howell",
    "kruskal",
    "mann_whitney",
    "dunn",
    "chi2_top2",
    "holm",
    "meaningful",
    "MEANINGFUL",
    "OMNIBUS_TESTS",
    "omega_squared",
    "tie_grid",
    "group_tests",
    "GroupTests",
    "Change",
    "mean_change",
    "proportion_change",
    "nps_change",
    "bootstrap_change",
    "wave_change_table",
    "partially_overlapping_t",
    "partially_overlapping_z",
    "overlap_split",
    "overlap_mean_change",
    "overlap_proportion_change",
    "overlap_nps_change",
    "TEST_COLUMNS",
    "PAIR_COLUMNS",
    "GROUP_TEST_COLUMNS",
    "WAVE_CHANGE_COLUMNS",
]

#: Columns of every omnibus test (:func:`welch_anova`, :func:`welch_t`, :func:`kruskal`,
#: :func:`mann_whitney`, :func:`chi2_top2`): one row each. ``diff`` is the mean difference of
#: the first minus the second group (two-group mean tests only), ``shares`` the top-2-box
#: share per group as ``{group: share}`` (``chi2_top2`` only), ``note`` a caveat or "".
TEST_COLUMNS = [
    "test",
    "statistic",
    "df1",
    "df2",
    "p",
    "effect_size",
    "effect_size_name",
    "diff",
    "n",
    "k",
    "note",
]

#: Columns of the pairwise tests (:func:`games_howell`, :func:`dunn`): one row per pair.
#: ``statistic`` is the Welch t (Games-Howell) or Dunn's z; ``p`` the unadjusted two-sided p;
#: ``p_adj`` the familywise p (the Games-Howell studentized range p; Holm for Dunn);
#: ``diff`` the mean difference A - B (Games-Howell) or the mean-rank difference (Dunn).
PAIR_COLUMNS = [
    "test",
    "A",
    "B",
    "statistic",
    "df",
    "p",
    "p_adj",
    "effect_size",
    "effect_size_name",
    "diff",
    "n_A",
    "n_B",
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
    "p_adj",
    "method",
    "significant",
]

#: Significant digits kept by :func:`tie_grid` before ranking.
TIE_DIGITS = 12


# --------------------------------------------------------------------------- helpers


def _levels(groups: pd.Series) -> list:
    """Observed group levels: category order for a categorical, else natural order (:mod:`analysis.order`)."""
    return levels(groups)


def tested_groups(groups: pd.Series, suppress_below: int, min_n: int) -> tuple[list, list[str]]:
    """The groups of one segment that are tested, and the note codes about the others.

    Input: the segment's values (complete cases), the privacy minimum and the size below which a
    group is flagged. Output: the observed levels with at least ``suppress_below`` answers (in
    :func:`_levels` order) and the codes ``suppressed:A|B`` and ``small:C`` (see :func:`group_tests`).
    """
    counts = groups.value_counts()
    observed = _levels(groups)
    suppressed = [g for g in observed if counts[g] < suppress_below]
    kept = [g for g in observed if g not in suppressed]
    small = [g for g in kept if counts[g] < min_n]
    notes = []
    if suppressed:
        notes.append("suppressed:" + "|".join(map(str, suppressed)))
    if small:
        notes.append("small:" + "|".join(map(str, small)))
    return kept, notes


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


def _long(levels: list, arrays: list[np.ndarray]) -> pd.DataFrame:
    """The groups as a long frame ``y, g`` for pingouin, ``g`` categorical in ``levels`` order."""
    g = pd.Categorical(np.repeat(np.arange(len(levels)), [len(a) for a in arrays]))
    y = np.concatenate(arrays) if arrays else np.array([], float)
    return pd.DataFrame({"y": y, "g": g.rename_categories(range(len(levels)))})


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """pingouin's column names without version differences (0.5 ``p-unc``, ``mean(A)``; 0.7 ``p_unc``, ``mean_A``)."""
    return frame.rename(columns=lambda c: str(c).replace("-", "_").replace("(", "_").replace(")", ""))


def tie_grid(values: np.ndarray) -> np.ndarray:
    """Values rounded to :data:`TIE_DIGITS` significant digits of the largest ``|value|``.

    Input: a float array. Output: the same values on a common decimal grid, so that values
    equal in exact arithmetic but apart by floating-point noise become exact ties.
    Construct scores are weighted sums divided by the weight total (:mod:`analysis.index`);
    two respondents with the same score differ by up to a few units in the last place
    (relative 1e-16 to 1e-15), while two different scores on rating scales differ by far
    more (relative > 1e-6 for any survey of up to a thousand items). A grid of 12
    significant digits (relative 1e-12) is 1,000 times coarser than the noise and a
    million times finer than a real difference. Only the rank tests use it: means,
    variances and intervals keep the unrounded values.
    """
    x = np.asarray(values, dtype=float)
    finite = x[np.isfinite(x)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top == 0:
        return x
    decimals = TIE_DIGITS - 1 - math.floor(math.log10(top))
    return np.round(x, decimals)


def _rank_split(data: pd.DataFrame, dv: str, between: str) -> tuple[list, list[np.ndarray]]:
    """:func:`_split` with the values on the tie grid (see :func:`tie_grid`), for rank tests."""
    levels, arrays = _split(data, dv, between)
    if not arrays:
        return levels, arrays
    gridded = tie_grid(np.concatenate(arrays))
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return levels, [gridded[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _check_groups(levels: list, arrays: list[np.ndarray], k_min: int, k_max: int | None = None) -> None:
    k = len(levels)
    if k < k_min or (k_max is not None and k > k_max):
        want = f"{k_min}" if k_max == k_min else f"at least {k_min}"
        raise ValueError(f"need {want} groups with data, got {k}: {levels}")
    small = [str(lev) for lev, a in zip(levels, arrays, strict=True) if len(a) < 2]
    if small:
        raise ValueError(f"groups with fewer than 2 observations: {', '.join(small)}")


def _check_variance(levels: list, arrays: list[np.ndarray], what: str) -> None:
    zero = [str(lev) for lev, a in zip(levels, arrays, strict=True) if np.var(a) == 0]
    if len(zero) == len(levels) or (what == "Welch ANOVA" and zero):
        raise ValueError(f"{what} undefined: zero variance in group(s) {', '.join(zero)}")


def _test_row(
    test: str,
    statistic: float,
    df1: float,
    p: float,
    effect: float,
    effect_name: str,
    n: int,
    k: int,
    df2: float = math.nan,
    diff: float = math.nan,
    note: str = "",
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                test,
                float(statistic),
                float(df1),
                float(df2),
                float(p),
                float(effect),
                effect_name,
                float(diff),
                int(n),
                int(k),
                note,
            ]
        ],
        columns=TEST_COLUMNS,
    )


def holm(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaN entries are left out of the family.

    Input: p-values. Output: adjusted p-values in the input order, each >= its raw p,
    capped at 1: ``max_{j <= i} min(1, (m - j + 1) p_(j))`` over the sorted p-values.
    Own code (6 lines) although statsmodels has it: ``multipletests(method="holm")`` gives
    the same numbers (0 ulp apart, checked in the tests) but calls ``gc.collect()`` on
    every call (statsmodels 0.15, multitest.py:246), measured 94 ms per call, which made
    a wave's group tests 4x slower (0.9 s -> 3.8 s on the demo).
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


def _hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Hedges' g of x - y (pingouin ``compute_effsize(eftype="hedges")``); NaN for zero pooled SD."""
    nx, ny = len(x), len(y)
    sp2 = ((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2)
    if sp2 == 0:
        return math.nan
    return float(pg.compute_effsize(x, y, paired=False, eftype="hedges"))


def welch_t(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Welch's unequal-variance t-test for exactly two groups.

    Input: ``data`` with numeric ``dv`` and grouping column ``between`` (2 levels).
    Output: one row of :data:`TEST_COLUMNS`: ``test ("welch_t"), statistic (t of the
    first minus the second level), df1 (1), df2 (Welch-Satterthwaite df), p (two-sided),
    effect_size (Hedges' g), effect_size_name ("hedges_g"), diff (mean difference), n, k (2)``.
    ``t**2`` with ``(1, df2)`` is :func:`welch_anova`'s F for two groups.
    Method: ``pingouin.ttest(correction=True)`` and ``pingouin.compute_effsize(eftype="hedges")``
    (equal to the formulas written out before to 0 ulp on the tests' data).
    Reference: Welch (1947), Biometrika 34; Hedges & Olkin (1985).
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2, 2)
    x, y = arrays
    if np.var(x) == 0 and np.var(y) == 0:
        raise ValueError("Welch test undefined: both groups have zero variance")
    res = _tidy(pg.ttest(x, y, paired=False, correction=True)).iloc[0]
    return _test_row(
        "welch_t",
        res["T"],
        1.0,
        res["p_val"],
        _hedges_g(x, y),
        "hedges_g",
        len(x) + len(y),
        2,
        df2=res["dof"],
        diff=float(np.mean(x) - np.mean(y)),
    )


def welch_anova(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Welch's heteroscedastic one-way ANOVA (2 or more groups).

    Input: ``data`` with numeric ``dv`` and grouping column ``between``.
    Output: one row of :data:`TEST_COLUMNS`: ``test ("welch_anova"), statistic (F), df1,
    df2, p, effect_size (omega squared), effect_size_name ("omega_squared"), n, k``.
    With two groups F is the squared Welch t (use :func:`welch_t` for the t and g).

    Method: ``pingouin.welch_anova`` (Welch 1951, Biometrika 38: weights ``w_i = n_i / s_i^2``,
    ``F = [sum w_i (m_i - m_w)^2 / (k-1)] / [1 + 2 (k-2) L / (k^2-1)]``,
    ``L = sum (1 - w_i / W)^2 / (n_i - 1)``, ``df2 = (k^2-1) / (3 L)``). Measured against
    the formula written out before: F, df2 and p agree to 1.5e-14 (last bits only).
    Effect size: omega squared from the sums of squares (Hays 1963; Kirk 1996, Educational
    and Psychological Measurement 56(5), eq. for the one-way design),
    ``(SS_between - (k-1) MS_within) / (SS_total + MS_within)``, truncated at 0: the
    estimate of the share of variance due to the groups, = R ``effectsize::omega_squared(
    aov(y ~ g))`` (checked in the tests against R). The Welch F tests the difference; it
    does not enter the effect size. (Before issue 11 the F form ``(k-1)(F-1) / ((k-1)(F-1)
    + N)`` was fed the Welch F, which is omega squared only for the classic F: up to 2.5x
    off on the demo waves, 1.5x on tests/data/omega/groups4.csv.)
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2)
    _check_variance(levels, arrays, "Welch ANOVA")
    k = len(levels)
    res = _tidy(pg.welch_anova(data=_long(levels, arrays), dv="y", between="g")).iloc[0]
    f, df1, df2 = float(res["F"]), float(res["ddof1"]), float(res["ddof2"])
    big_n = sum(len(a) for a in arrays)
    return _test_row("welch_anova", f, df1, res["p_unc"], omega_squared(arrays), "omega_squared", big_n, k, df2=df2)


def omega_squared(arrays: Sequence[np.ndarray]) -> float:
    """Omega squared of a one-way layout from its sums of squares, truncated at 0.

    Input: one array of values per group (k >= 2, N > k). Output:
    ``max(0, (SS_b - (k-1) MS_w) / (SS_t + MS_w))`` with ``MS_w = SS_w / (N - k)``.
    Own code (3 lines; pingouin has only eta squared for a one-way layout).
    Reference: Hays (1963), Statistics for Psychologists; Kirk (1996), Educational and
    Psychological Measurement 56(5); = R ``effectsize::omega_squared(aov(y ~ g))``.
    """
    allv = np.concatenate(arrays)
    big_n, k = len(allv), len(arrays)
    ss_b = float(sum(len(a) * (np.mean(a) - np.mean(allv)) ** 2 for a in arrays))
    ss_w = float(sum(np.sum((a - np.mean(a)) ** 2) for a in arrays))
    ms_w = ss_w / (big_n - k)
    return max(0.0, (ss_b - (k - 1) * ms_w) / (ss_b + ss_w + ms_w))


def games_howell(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Games-Howell pairwise comparisons of means (unequal variances and sizes).

    Input: ``data`` with numeric ``dv`` and grouping column ``between`` (2+ groups).
    Output: one row per pair with :data:`PAIR_COLUMNS` (``test`` "games_howell",
    ``statistic`` the Welch t, ``df`` the Welch df, ``p`` the unadjusted two-sided Welch
    t-test p, ``p_adj`` the Games-Howell p from the studentized range with k groups, which
    already holds the familywise error over all k(k-1)/2 pairs; never below ``p``;
    ``effect_size`` Hedges' g, ``diff`` = mean A - mean B) plus ``mean_A, mean_B, se``.
    Method: from the groups' means, variances and sizes only (so linear in n, whatever the
    number of pairs): ``se = sqrt(v_A/n_A + v_B/n_B)``, ``t = diff / se``, Welch df, and the
    Games-Howell p ``P(Q > sqrt(2) |t|)`` of the studentized range with k groups and the pair's
    df by one call of ``scipy.stats.studentized_range.sf`` on the arrays of all pairs (the formulas
    of ``pingouin.pairwise_gameshowell``, which the tests compare with; pingouin's own call built
    a long frame and took O(n) per pair for the effect size). Hedges' g = Cohen's d (pooled SD)
    times ``1 - 3 / (4 (n_A + n_B) - 9)`` (pingouin ``compute_effsize``).
    Reference: Games & Howell (1976), Journal of Educational Statistics 1(2).
    """
    levels, arrays = _split(data, dv, between)
    _check_groups(levels, arrays, 2)
    k = len(levels)
    n = np.array([len(a) for a in arrays], dtype=float)
    mean = np.array([np.mean(a) for a in arrays])
    var = np.array([np.var(a, ddof=1) for a in arrays])
    a_idx, b_idx = np.triu_indices(k, 1)
    if np.any((var[a_idx] == 0) & (var[b_idx] == 0)):
        raise ValueError("Welch test undefined: both groups have zero variance")
    vn = var / n
    se = np.sqrt(vn[a_idx] + vn[b_idx])
    diff = mean[a_idx] - mean[b_idx]
    t = diff / se
    df = (vn[a_idx] + vn[b_idx]) ** 2 / (vn[a_idx] ** 2 / (n[a_idx] - 1) + vn[b_idx] ** 2 / (n[b_idx] - 1))
    p_unc = 2 * stats.t.sf(np.abs(t), df)
    if k > 2:
        p_range = np.clip(stats.studentized_range.sf(np.sqrt(2) * np.abs(t), k, df), 0, 1)
        p_gh = np.minimum(1.0, np.fmax(p_range, p_unc))
    else:
        p_gh = p_unc
    na, nb = n[a_idx], n[b_idx]
    pooled = ((na - 1) * var[a_idx] + (nb - 1) * var[b_idx]) / (na + nb - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(pooled > 0, diff / np.sqrt(pooled) * (1 - 3 / (4 * (na + nb) - 9)), np.nan)
    return pd.DataFrame(
        {
            "test": "games_howell",
            "A": [levels[i] for i in a_idx],
            "B": [levels[j] for j in b_idx],
            "statistic": t,
            "df": df,
            "p": p_unc,
            "p_adj": p_gh,
            "effect_size": g,
            "effect_size_name": "hedges_g",
            "diff": diff,
            "n_A": na.astype(int),
            "n_B": nb.astype(int),
            "mean_A": mean[a_idx],
            "mean_B": mean[b_idx],
            "se": se,
        }
    )


# --------------------------------------------------------------------------- ranks


def _rank_biserial(x: np.ndarray, y: np.ndarray, u_x: float) -> float:
    """Rank-biserial correlation 2 U_x / (n_x n_y) - 1 = P(X > Y) - P(X < Y) (Kerby 2014)."""
    return float(2 * u_x / (len(x) * len(y)) - 1)


def mann_whitney(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Mann-Whitney U test (Wilcoxon rank-sum) for exactly two groups.

    Input: ``data`` with numeric ``dv`` and grouping column ``between`` (2 levels).
    Output: one row of :data:`TEST_COLUMNS`: ``test ("mann_whitney"), statistic (U of the
    first level), p (two-sided), effect_size (rank-biserial r = P(A > B) - P(A < B)),
    effect_size_name, n, k (2)``; ``df1`` and ``df2`` are NaN.
    Method: ``pingouin.mwu`` (scipy.stats.mannwhitneyu: exact for small samples without
    ties, else normal approximation with tie and continuity correction) on the values on
    the tie grid (:func:`tie_grid`); r from U by its definition (pingouin's RBC sign
    differs between versions). Mann & Whitney (1947); Kerby (2014), Comprehensive
    Psychology 3.
    """
    levels, arrays = _rank_split(data, dv, between)
    _check_groups(levels, arrays, 2, 2)
    x, y = arrays
    res = _tidy(pg.mwu(x, y, alternative="two-sided")).iloc[0]
    u = float(res["U_val"])
    return _test_row(
        "mann_whitney",
        u,
        math.nan,
        res["p_val"],
        _rank_biserial(x, y, u),
        "rank_biserial",
        len(x) + len(y),
        2,
    )


def kruskal(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Kruskal-Wallis H test with epsilon squared (2 or more groups).

    Input: ``data`` with numeric ``dv`` and grouping column ``between``.
    Output: one row of :data:`TEST_COLUMNS`: ``test ("kruskal_wallis"), statistic (H,
    tie-corrected), df1 (k - 1), p (chi-square approximation), effect_size (epsilon
    squared ``H / ((N^2 - 1) / (N + 1))``), effect_size_name, n, k``.
    Method: ``pingouin.kruskal`` (scipy.stats.kruskal) on the values on the tie grid
    (:func:`tie_grid`), so equal scores are ties. References: Kruskal & Wallis (1952),
    JASA 47; epsilon squared: Tomczak & Tomczak (2014), Trends in Sport Sciences 21(1).
    """
    levels, arrays = _rank_split(data, dv, between)
    _check_groups(levels, arrays, 2)
    if np.ptp(np.concatenate(arrays)) == 0:
        raise ValueError("Kruskal-Wallis undefined: all values are equal")
    k = len(levels)
    res = _tidy(pg.kruskal(data=_long(levels, arrays), dv="y", between="g")).iloc[0]
    h = float(res["H"])
    big_n = sum(len(a) for a in arrays)
    eps2 = h / ((big_n**2 - 1) / (big_n + 1))
    return _test_row("kruskal_wallis", h, k - 1, res["p_unc"], eps2, "epsilon_squared", big_n, k)


def _pair_u(values: np.ndarray, bounds: np.ndarray, unique: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Mann-Whitney U of every pair of groups, ``U[i, j]`` = #(x_i > x_j) + #(x_i = x_j) / 2.

    Input: the pooled values (groups one after another) and the group bounds. Output: (k, k).
    Method: counts of each distinct value per group and their cumulative sums, so the cost is
    O(n log n) once instead of one ranking per pair; the U of ``scipy.stats.mannwhitneyu``.
    """
    uniq, inv = np.unique(values, return_inverse=True) if unique is None else unique
    k = len(bounds) - 1
    group = np.repeat(np.arange(k), np.diff(bounds))
    counts = np.bincount(group * len(uniq) + inv, minlength=k * len(uniq)).reshape(k, len(uniq)).astype(float)
    below = np.cumsum(counts, axis=1) - counts  # values of group j below each distinct value
    return counts @ (below + 0.5 * counts).T


def dunn(data: pd.DataFrame, dv: str, between: str, p_adjust: str | None = "holm") -> pd.DataFrame:
    """Dunn's (1964) pairwise rank test after Kruskal-Wallis, with tie correction.

    Input: ``data`` with numeric ``dv`` and grouping column ``between``; ``p_adjust``
    ``"holm"`` (default), ``"bonferroni"`` or None.
    Output: one row per pair with :data:`PAIR_COLUMNS` (``test`` "dunn", ``statistic`` z,
    ``df`` NaN, ``p`` two-sided unadjusted, ``p_adj``, ``effect_size`` the pair's own
    rank-biserial r = P(A > B) - P(A < B), ``diff`` the mean-rank difference) plus
    ``mean_rank_A, mean_rank_B``.
    Method (own code: pingouin, statsmodels and scipy have no Dunn test): ranks over all
    groups pooled, on the tie grid (:func:`tie_grid`);
    ``z = (Rbar_A - Rbar_B) / sqrt((N (N+1) / 12 - sum(t^3 - t) / (12 (N-1))) (1/n_A + 1/n_B))``;
    Holm by :func:`holm`, Bonferroni ``min(1, m p)``; the pairs' U by :func:`_pair_u`.
    Reference: Dunn (1964), Technometrics 6(3).
    """
    if p_adjust not in ("holm", "bonferroni", None):
        raise ValueError(f"p_adjust must be 'holm', 'bonferroni' or None, got {p_adjust!r}")
    levels, arrays = _rank_split(data, dv, between)
    _check_groups(levels, arrays, 2)
    allv = np.concatenate(arrays)
    big_n = len(allv)
    # one sort: the distinct values, each value's position among them and the tie counts give the
    # average ranks (scipy.stats.rankdata's own formula: first ordinal rank + (count - 1) / 2, the same
    # floats), the tie sum and the pairs' U
    uniq, inv, counts = np.unique(allv, return_inverse=True, return_counts=True)
    first = (np.cumsum(counts) - counts + 1).astype(float)
    ranks = (first + (counts.astype(float) - 1) / 2)[inv]
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    mean_ranks = [float(np.mean(ranks[lo:hi])) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    s2 = big_n * (big_n + 1) / 12 - float(np.sum(counts.astype(float) ** 3 - counts)) / (12 * (big_n - 1))
    u_pairs = _pair_u(allv, bounds, (uniq, inv))
    rows = []
    for i, j in combinations(range(len(levels)), 2):
        x, y = arrays[i], arrays[j]
        se = np.sqrt(s2 * (1 / len(x) + 1 / len(y)))
        z = (mean_ranks[i] - mean_ranks[j]) / se if se > 0 else np.nan
        u_x = u_pairs[i, j]
        rows.append(
            {
                "test": "dunn",
                "A": levels[i],
                "B": levels[j],
                "statistic": float(z),
                "df": math.nan,
                "p": float(2 * stats.norm.sf(abs(z))),
                "p_adj": math.nan,
                "effect_size": _rank_biserial(x, y, u_x),
                "effect_size_name": "rank_biserial",
                "diff": mean_ranks[i] - mean_ranks[j],
                "n_A": len(x),
                "n_B": len(y),
                "mean_rank_A": mean_ranks[i],
                "mean_rank_B": mean_ranks[j],
            }
        )
    out = pd.DataFrame(rows)
    if p_adjust == "holm":
        out["p_adj"] = holm(out["p"].to_numpy())
    elif p_adjust == "bonferroni":
        out["p_adj"] = np.minimum(out["p"] * len(out), 1.0)
    else:
        out["p_adj"] = out["p"]
    return out


# --------------------------------------------------------------------------- shares


def chi2_top2(data: pd.DataFrame, flag: str | pd.Series, between: str) -> pd.DataFrame:
    """Chi-square test of independence of a top-2-box flag and a segment, with Cramér's V.

    Input: ``data`` with grouping column ``between``; ``flag`` is a column name of
    ``data`` or a Series aligned on ``data.index`` holding True/False (or 1/0), NaN =
    missing.
    Output: one row of :data:`TEST_COLUMNS`: ``test ("chi2_top2"), statistic (Pearson
    chi-square, no continuity correction), df1 (k - 1), p, effect_size (Cramér's V =
    sqrt(chi2 / N) for a k x 2 table), effect_size_name, n, k, note`` (note warns when an
    expected count is below 5, Cochran's rule), plus ``min_expected`` and ``shares``
    (``{group: top-2-box share}``).
    Method: ``scipy.stats.chi2_contingency(correction=False)`` (pingouin's
    ``chi2_independence`` gives the same numbers but warns on small counts).
    References: Pearson (1900); Cramér (1946), Mathematical Methods of Statistics;
    Cochran (1954), Biometrics 10.
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
    if np.any(obs.sum(0) == 0):
        raise ValueError("chi-square undefined: every answer is top-2-box, or none is")
    res = stats.chi2_contingency(obs, correction=False)
    chi2, exp = float(res.statistic), res.expected_freq
    v = float(np.sqrt(chi2 / big_n))  # min(r, c) - 1 = 1 for a k x 2 table
    note = "expected_below_5" if exp.min() < 5 else ""
    out = _test_row(
        "chi2_top2", chi2, len(levels) - 1, res.pvalue, v, "cramers_v", int(big_n), len(levels), note=note
    )
    out["min_expected"] = float(exp.min())
    out["shares"] = [dict(zip(levels, (obs[:, 0] / obs.sum(1)).tolist(), strict=True))]
    return out


# --------------------------------------------------------------------------- many tests


@dataclass(frozen=True)
class GroupTests:
    """Result of :func:`group_tests`: every group comparison of a wave.

    ``table``: the tidy frame, :data:`GROUP_TEST_COLUMNS` plus ``significant``
    (``p_adj < alpha``), one row per omnibus test, pair or untested segment (see
    :func:`group_tests`); ``alpha`` the level of ``significant``; ``min_cell`` the
    smallest group that was tested (:data:`analysis.privacy.MIN_CELL` by default).
    """

    table: pd.DataFrame
    alpha: float = 0.05
    min_cell: int = MIN_CELL

    def to_frame(self) -> pd.DataFrame:
        """The ``group_tests.csv`` table (a copy)."""
        return self.table.copy()

    @property
    def omnibus(self) -> pd.DataFrame:
        """The omnibus rows (one per variable x segment and test)."""
        return self.table[~self.table["test"].isin(("games_howell", "dunn"))].reset_index(drop=True)

    @property
    def pairs(self) -> pd.DataFrame:
        """The pairwise rows (Games-Howell and Dunn)."""
        return self.table[self.table["test"].isin(("games_howell", "dunn"))].reset_index(drop=True)


def _row(variable: str, segment: str, group: str, test: str, **kw: Any) -> dict:
    row = dict.fromkeys(GROUP_TEST_COLUMNS, np.nan)
    row.update(variable=variable, segment=segment, group=group, test=test, note="")
    row.update(kw)
    return row


def _safe(fn: Callable[[], list[dict]], fallback: dict) -> list[dict]:
    try:
        return fn()
    except ValueError:
        note = fallback.get("note") or ""
        return [{**fallback, "note": "; ".join(s for s in (note, "undefined") if s)}]


def group_tests(
    data: pd.DataFrame,
    variables: Sequence[str],
    segments: Sequence[str],
    top2: Mapping[str, float] | None = None,
    min_n: int = 30,
    suppress_below: int = MIN_CELL,
    alpha: float = 0.05,
) -> GroupTests:
    """Run every group comparison for each variable x segment; the ``group_tests.csv`` table.

    Input: ``data`` (numeric ``variables``, text ``segments``, NaN = missing);
    ``top2`` maps a variable to its top-2-box threshold (value >= threshold counts) and
    adds a chi-square test for it; ``min_n`` flags small groups; groups with fewer than
    ``suppress_below`` answers (default :data:`analysis.privacy.MIN_CELL`) are dropped
    before testing (privacy and stability); ``alpha`` sets the ``significant`` column
    (``p_adj < alpha``).

    Output: a :class:`GroupTests`; its ``to_frame()`` has :data:`GROUP_TEST_COLUMNS` plus
    ``significant``. Per variable x segment, with k groups left:

    * k >= 3: ``welch_anova`` (F, omega squared), ``games_howell`` pairs (t, Hedges' g),
      ``kruskal_wallis`` (H, epsilon squared), ``dunn`` pairs (z, rank-biserial),
      ``chi2_top2`` (chi-square, Cramér's V);
    * k == 2: ``welch_t`` (Hedges' g), ``mann_whitney`` (rank-biserial), ``chi2_top2``;
    * k < 2: one row with ``test = "none"`` and the reason in ``note`` (not omitted).
    * k > :data:`MAX_PAIR_GROUPS`: the omnibus tests only (no ``games_howell``/``dunn`` pairs), with
      the note ``pairs_omitted:<MAX_PAIR_GROUPS>``.

    ``group`` is the segment name for omnibus rows and ``"A vs B"`` for pairs;
    ``diff`` is the mean difference A - B (``welch_t``, ``games_howell``).
    ``df`` is the Welch df for ``welch_t`` and ``games_howell``, k - 1 for ``welch_anova``,
    ``kruskal_wallis`` and ``chi2_top2`` (``df2`` = Welch denominator df of ``welch_anova``).

    Multiplicity (Holm 1979), one stated family: the omnibus p-values of **every** variable,
    segment and test of the call (``welch_anova``/``welch_t``, ``kruskal_wallis``/
    ``mann_whitney``, ``chi2_top2``; a wave's whole table: 51 tests on the demo) are
    Holm-adjusted together, which holds the familywise error rate of the wave's omnibus
    tests at ``alpha`` under any dependence between them (the same data enter several
    tests).  Pairs, which are read only after their omnibus test: ``dunn`` pairs are
    Holm-adjusted within variable x segment.  For ``games_howell`` rows ``p`` is the unadjusted Welch
    t-test p of the pair and ``p_adj`` the Games-Howell p, which already controls the
    familywise error over the pairs (studentized range), so no Holm step is added.
    Always ``p_adj >= p``.  ``note`` holds codes, ``"; "``-separated, that the report words
    (:func:`analysis.report.note_text`): ``suppressed:A|B`` (groups under the privacy minimum,
    names only, never their n), ``small:C`` (``n < min_n``), ``not_tested`` (fewer than 2 groups
    left), ``expected_below_5`` (chi-square) and ``undefined`` (the test is undefined for these
    data, e.g. no variance).
    """
    top2 = dict(top2 or {})
    rows: list[dict] = []
    for var in variables:
        for seg in segments:
            sub = data[[var, seg]].dropna()
            kept, notes = tested_groups(sub[seg], suppress_below, min_n)
            sub = sub[sub[seg].isin(kept)]
            base_note = "; ".join(notes)
            n_all = len(sub)
            if len(kept) < 2:
                rows.append(_row(var, seg, seg, "none", n=n_all, note="; ".join([*notes, "not_tested"])))
                continue
            rows.extend(_segment_rows(sub, var, seg, kept, top2.get(var), base_note))
    out = pd.DataFrame(rows, columns=GROUP_TEST_COLUMNS)
    if out.empty:
        for col in ("significant", "meaningful", "differ"):
            out[col] = pd.Series(dtype=bool)
        return GroupTests(out, alpha, suppress_below)
    out = _adjust(out)
    out["significant"] = out["p_adj"] < alpha
    out["meaningful"] = meaningful(out["effect_size"], out["effect_size_name"])
    out["differ"] = out["significant"] & out["meaningful"]
    out["n"] = out["n"].astype("Int64")
    return GroupTests(out, alpha, suppress_below)


#: Pairwise post-hoc rows (``games_howell``, ``dunn``) are listed for segments of at most this many tested
#: groups (190 pairs). Past it the omnibus tests (Welch ANOVA, Kruskal-Wallis, chi-square) still cover
#: every group and carry the note ``pairs_omitted:<this>``: 100 groups would be 4,950 pairs per variable and
#: test, unreadable, and the Games-Howell studentized range costs about 8 ms a pair at k = 100.
MAX_PAIR_GROUPS = 20


def _segment_rows(sub: pd.DataFrame, var: str, seg: str, kept: list, threshold: Any, note: str) -> list[dict]:
    k = len(kept)
    list_pairs = k <= MAX_PAIR_GROUPS
    omnibus_note = note if list_pairs else "; ".join(s for s in (note, f"pairs_omitted:{MAX_PAIR_GROUPS}") if s)
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
                diff=r["diff"],
                n=int(r["n"]),
                note="; ".join(x for x in (omnibus_note, str(r["note"])) if x),
            )
        ]

    def pairs(res: pd.DataFrame) -> list[dict]:
        return [
            _row(
                var,
                seg,
                f"{r.A} vs {r.B}",
                r.test,
                statistic=r.statistic,
                df=r.df,
                p=r.p,
                p_adj=r.p_adj,
                effect_size=r.effect_size,
                effect_size_name=r.effect_size_name,
                diff=r.diff if r.test == "games_howell" else np.nan,
                n=int(r.n_A + r.n_B),
                note=note,
            )
            for r in res.itertuples(index=False)
        ]

    mean_test = welch_anova if k > 2 else welch_t
    rank_test = kruskal if k > 2 else mann_whitney
    rows += _safe(lambda: omnibus(mean_test(sub, var, seg)), {**base, "note": note})
    if k > 2 and list_pairs:
        rows += _safe(
            lambda: pairs(games_howell(sub, var, seg)), _row(var, seg, seg, "games_howell", n=len(sub))
        )
    rank_name = "kruskal_wallis" if k > 2 else "mann_whitney"
    rows += _safe(lambda: omnibus(rank_test(sub, var, seg)), _row(var, seg, seg, rank_name, n=len(sub)))
    if k > 2 and list_pairs:
        rows += _safe(
            lambda: pairs(dunn(sub, var, seg, p_adjust="holm")), _row(var, seg, seg, "dunn", n=len(sub))
        )
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


#: Smallest effect that counts as a practically meaningful difference, by effect size: the
#: "small" effect of Cohen (1988) for d/g (0.2), r (0.1) and V (0.1, a k x 2 table), and of
#: Kirk (1996) / Cohen (1988) for omega squared and epsilon squared (0.01, 1% of the variance).
#: ``differ`` in :func:`group_tests` needs ``p_adj < alpha`` and ``|effect| >=`` this.
MEANINGFUL = {
    "hedges_g": 0.2,
    "rank_biserial": 0.1,
    "omega_squared": 0.01,
    "epsilon_squared": 0.01,
    "cramers_v": 0.1,
}


def meaningful(effect: pd.Series, name: pd.Series) -> pd.Series:
    """Whether each effect is practically meaningful: ``|effect| >= MEANINGFUL[name]``.

    Input: effect sizes and their names (as in :data:`GROUP_TEST_COLUMNS`). Output: a
    boolean Series (False for a missing effect or an unknown name). Reference: Cohen
    (1988), Statistical Power Analysis, 2nd ed.; Kirk (1996), Educational and
    Psychological Measurement 56(5).
    """
    value = pd.to_numeric(pd.Series(effect), errors="coerce").abs()
    cut = pd.Series(name, index=value.index, dtype=object).map(MEANINGFUL).astype(float)
    return value >= cut  # False where either is NaN


#: The omnibus tests of :func:`group_tests`: their p-values form one Holm family.
OMNIBUS_TESTS = ("welch_anova", "welch_t", "kruskal_wallis", "mann_whitney", "chi2_top2")


def _adjust(out: pd.DataFrame) -> pd.DataFrame:
    """Fill ``p_adj``: Holm over one family, every omnibus test of the table; pairs already adjusted."""
    out = out.copy()
    omni = out["test"].isin(OMNIBUS_TESTS)
    out.loc[omni, "p_adj"] = holm(out.loc[omni, "p"].to_numpy(dtype=float))
    # p_adj >= p by construction; guard against rounding in the studentized range tail
    out["p_adj"] = np.fmax(out["p_adj"], out["p"])
    return out


# --------------------------------------------------------------------------- wave change


@dataclass(frozen=True)
class Change:
    """One wave-over-wave change, a row of ``wave_change.csv``.

    ``metric``; ``baseline`` and ``current`` the statistic in each wave; ``diff`` =
    current - baseline; ``ci_low``, ``ci_high`` its interval; ``p`` the two-sided p of no
    change; ``method`` how they were computed; ``n_baseline``, ``n_current`` the answers
    used; ``n_boot`` the bootstrap resamples (bootstrap only, else None); ``n_paired`` the
    customers answering in both waves whose two answers were treated as paired (the panel-aware
    changes of :func:`overlap_mean_change` and its kin, else None); ``n_eff_baseline``,
    ``n_eff_current`` the Kish effective n of the answers' weights (weighted changes, else None).
    """

    metric: str
    baseline: float
    current: float
    diff: float
    ci_low: float
    ci_high: float
    p: float
    method: str
    n_baseline: int
    n_current: int
    n_boot: int | None = field(default=None)
    n_paired: int | None = field(default=None)
    n_eff_baseline: float | None = field(default=None)
    n_eff_current: float | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict, without ``n_boot``, ``n_paired`` and the ``n_eff_*`` when they are None."""
        out = asdict(self)
        for key in ("n_boot", "n_paired", "n_eff_baseline", "n_eff_current"):
            if out[key] is None:
                del out[key]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row of :func:`wave_change_table`."""
        return wave_change_table([self])


def _clean(x: pd.Series | np.ndarray | Sequence[float]) -> np.ndarray:
    a = np.asarray(pd.to_numeric(pd.Series(x)), dtype=float)
    return a[~np.isnan(a)]


def _welch_pair(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Welch's unequal-variance difference: (diff, se, t, df) for mean(x) - mean(y)."""
    vx, vy = np.var(x, ddof=1) / len(x), np.var(y, ddof=1) / len(y)
    se = np.sqrt(vx + vy)
    diff = float(np.mean(x) - np.mean(y))
    if se == 0:
        raise ValueError("Welch test undefined: both groups have zero variance")
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    return diff, float(se), diff / float(se), float(df)


def mean_change(
    baseline: pd.Series | np.ndarray, current: pd.Series | np.ndarray, metric: str, conf: float = 0.95
) -> Change:
    """Change of a mean between two independent waves: Welch interval and t-test.

    Input: the baseline and current wave's values (NaN dropped) and a metric name.
    Output: a :class:`Change` with the two means, ``diff`` (current - baseline), the
    Welch-Satterthwaite t interval, the two-sided Welch t-test p, method "welch_t".
    Own code, 6 lines: the interval needs the Welch se and df, which pingouin's ``ttest``
    does not return (its CI95 is rounded to 2 decimals); scipy's ``ttest_ind`` gives the
    same t, df and p (checked in the tests). Reference: Welch (1947), Biometrika 34.
    """
    x0, x1 = _clean(baseline), _clean(current)
    if len(x0) < 2 or len(x1) < 2:
        raise ValueError(f"{metric}: need at least 2 answers in each wave")
    diff, se, t, df = _welch_pair(x1, x0)
    q = stats.t.ppf(0.5 + conf / 2, df)
    return Change(
        metric,
        float(np.mean(x0)),
        float(np.mean(x1)),
        diff,
        diff - q * se,
        diff + q * se,
        float(2 * stats.t.sf(abs(t), df)),
        "welch_t",
        len(x0),
        len(x1),
    )


def proportion_change(k0: int, n0: int, k1: int, n1: int, metric: str, conf: float = 0.95) -> Change:
    """Change of a proportion between two independent waves (e.g. satisfaction rate).

    Input: baseline ``k0`` successes of ``n0``, current ``k1`` of ``n1``, a metric name.
    Output: a :class:`Change` with ``baseline`` k0/n0, ``current`` k1/n1, ``diff`` as a
    proportion, method "newcombe_hybrid_score".
    Interval: Newcombe (1998) method 10, the hybrid score interval built from the two
    Wilson intervals (:func:`analysis.describe.wilson_interval`), ``diff -/+ sqrt(...)``;
    Statistics in Medicine 17, 873-890 (statsmodels has no Newcombe difference interval).
    p: pooled two-proportion z-test (no continuity correction), as statsmodels
    ``proportions_ztest``.
    """
    from analysis.describe import wilson_interval

    if not (n0 > 0 and n1 > 0 and 0 <= k0 <= n0 and 0 <= k1 <= n1):
        raise ValueError(f"{metric}: need 0 <= k <= n and n > 0, got {k0}/{n0}, {k1}/{n1}")
    p0, p1 = k0 / n0, k1 / n1
    l0, u0 = wilson_interval(k0, n0, conf)
    l1, u1 = wilson_interval(k1, n1, conf)
    diff = p1 - p0
    low = diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pooled = (k0 + k1) / (n0 + n1)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    p = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 > 0 else 1.0
    return Change(metric, p0, p1, diff, float(low), float(high), p, "newcombe_hybrid_score", int(n0), int(n1))


def nps_change(
    baseline: pd.Series | np.ndarray, current: pd.Series | np.ndarray, metric: str = "NPS", conf: float = 0.95
) -> Change:
    """Change of the Net Promoter Score between two independent waves.

    Input: 0-10 recommendation answers of each wave (NaN dropped).
    Output: a :class:`Change` with NPS on the -100..100 scale (% promoters 9-10 minus %
    detractors 0-6), method "nps_wald".
    Method: each answer scores +1/0/-1, so ``Var(NPS) = (p_P + p_D - (p_P - p_D)^2) / n``
    (:func:`analysis.describe.nps_shares`); the difference of independent waves has the sum
    of the variances; Wald z interval and z-test. Reference: Rocks (2016), "Interval
    estimation for the net promoter score", The American Statistician 70(4).
    """
    from analysis.describe import nps_shares

    x0, x1 = _clean(baseline), _clean(current)
    if len(x0) == 0 or len(x1) == 0:
        raise ValueError(f"{metric}: need answers in both waves")
    (pro0, det0), (pro1, det1) = nps_shares(x0), nps_shares(x1)
    nps0, nps1 = pro0 - det0, pro1 - det1
    v0, v1 = pro0 + det0 - nps0**2, pro1 + det1 - nps1**2
    diff = nps1 - nps0
    se = np.sqrt(v0 / len(x0) + v1 / len(x1))
    z = stats.norm.ppf(0.5 + conf / 2)
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Change(
        metric,
        100 * nps0,
        100 * nps1,
        100 * diff,
        100 * (diff - z * se),
        100 * (diff + z * se),
        p,
        "nps_wald",
        len(x0),
        len(x1),
    )


def bootstrap_change(
    baseline: pd.Series | np.ndarray,
    current: pd.Series | np.ndarray,
    statistic: Callable[[np.ndarray], float],
    metric: str,
    n_boot: int = 2000,
    seed: int = 20240601,
    conf: float = 0.95,
) -> Change:
    """Change of any statistic between two independent waves, by the bootstrap.

    Input: the two waves' values (NaN dropped), ``statistic`` mapping a 1-D array to a
    number (e.g. ``np.median``, a top-2-box share), ``n_boot`` resamples, ``seed``.
    Output: a :class:`Change` with method "bootstrap_percentile" and ``n_boot``.
    Method: each wave resampled with replacement independently; percentile interval of
    ``stat(current*) - stat(baseline*)`` (Efron & Tibshirani 1993, ch. 13); p is the
    two-sided percentile p-value ``min(1, 2 min((#{d* <= 0} + 1), (#{d* >= 0} + 1)) /
    (B + 1))``, the smallest level at which the percentile interval excludes 0.
    Deterministic for a given ``seed``. (scipy.stats.bootstrap resamples the two waves
    too, but draws them differently and gives no p-value.)
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
    return Change(
        metric,
        s0,
        s1,
        s1 - s0,
        float(lo),
        float(hi),
        float(p),
        "bootstrap_percentile",
        len(x0),
        len(x1),
        n_boot=n_boot,
    )


def wave_change_table(rows: Iterable[Change | Mapping[str, Any]], alpha: float = 0.05) -> pd.DataFrame:
    """Stack wave changes into the ``wave_change.csv`` table.

    Input: :class:`Change` results of :func:`mean_change`, :func:`proportion_change`,
    :func:`nps_change`, :func:`bootstrap_change` (or dicts with the same keys).
    Output: DataFrame with :data:`WAVE_CHANGE_COLUMNS` first, then ``n_baseline,
    n_current`` (and ``n_boot`` when any row has it). ``p_adj`` is Holm (1979) over one
    family, every row of the table (all metrics and segment rows of the wave's change),
    computed by :func:`holm`; ``significant`` is ``p_adj < alpha``.
    """
    out = pd.DataFrame([r.to_dict() if isinstance(r, Change) else dict(r) for r in rows])
    for col in WAVE_CHANGE_COLUMNS[:-1]:
        if col not in out.columns:
            out[col] = np.nan
    out["p_adj"] = holm(out["p"].to_numpy(dtype=float))
    out["significant"] = out["p_adj"] < alpha
    extra = [c for c in out.columns if c not in WAVE_CHANGE_COLUMNS]
    return out[WAVE_CHANGE_COLUMNS + extra]


# --------------------------------------------------------------------------- panel-aware wave change
# Customers who answer in both waves (linked by the hashed customer id) give two correlated
# answers; treating the waves as independent overstates the variance of the change when the
# correlation is positive. These functions split each wave into the customers only in it and
# the customers in both, and use the partially overlapping samples tests of Derrick et al.
# Without linked customers each one equals its independent-samples counterpart above.


def overlap_split(
    baseline: pd.Series | np.ndarray | Sequence[float],
    current: pd.Series | np.ndarray | Sequence[float],
    baseline_ids: pd.Series | np.ndarray | Sequence[Any] | None,
    current_ids: pd.Series | np.ndarray | Sequence[Any] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split two waves' answers into unpaired and paired parts by customer id.

    Input: each wave's values and, aligned with them, its customer ids (None, NaN or "" =
    not linkable; ``*_ids`` None = no ids at all). Answers that are NaN are dropped first.
    Output: ``(baseline_only, current_only, baseline_paired, current_paired)``; the paired
    arrays are aligned by customer (sorted by id). Rule: a customer is paired when their id
    answers exactly once in each wave; every other answer (a customer in one wave only, or
    an id repeated within a wave) is unpaired.
    """
    x0 = np.asarray(pd.to_numeric(pd.Series(baseline)), dtype=float)
    x1 = np.asarray(pd.to_numeric(pd.Series(current)), dtype=float)
    if baseline_ids is None or current_ids is None:
        return x0[~np.isnan(x0)], x1[~np.isnan(x1)], np.empty(0), np.empty(0)
    i0 = pd.Series(list(baseline_ids), dtype=object)
    i1 = pd.Series(list(current_ids), dtype=object)
    if len(i0) != len(x0) or len(i1) != len(x1):
        raise ValueError("customer ids must be aligned with the values of their wave")
    f0 = pd.DataFrame({"v": x0, "id": i0.where(i0.notna() & (i0.astype(str) != ""))}).dropna(subset=["v"])
    f1 = pd.DataFrame({"v": x1, "id": i1.where(i1.notna() & (i1.astype(str) != ""))}).dropna(subset=["v"])
    once0 = f0["id"].dropna().value_counts()
    once1 = f1["id"].dropna().value_counts()
    linked = sorted(set(once0[once0 == 1].index) & set(once1[once1 == 1].index), key=str)
    p0 = f0.dropna(subset=["id"]).set_index("id").loc[linked, "v"].to_numpy(dtype=float)
    p1 = f1.dropna(subset=["id"]).set_index("id").loc[linked, "v"].to_numpy(dtype=float)
    link = set(linked)
    u0 = f0.loc[~f0["id"].isin(link), "v"].to_numpy(dtype=float)
    u1 = f1.loc[~f1["id"].isin(link), "v"].to_numpy(dtype=float)
    return u0, u1, p0, p1


def _paired_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the paired answers; 0 when either is constant (as Derrick et al.)."""
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def partially_overlapping_t(
    x1: Sequence[float] | np.ndarray,
    x2: Sequence[float] | np.ndarray,
    x3: Sequence[float] | np.ndarray,
    x4: Sequence[float] | np.ndarray,
    var_equal: bool = False,
    conf: float = 0.95,
) -> dict[str, float]:
    """The partially overlapping samples t-test of mean(sample 1) - mean(sample 2).

    Input (the order of R ``Partiallyoverlapping::Partover.test``): ``x1`` the unpaired
    observations of sample 1, ``x2`` of sample 2, ``x3`` and ``x4`` the paired observations
    of samples 1 and 2 (same length, at least 2, aligned), ``var_equal`` the pooled-variance
    form T_new1 instead of the Welch-type T_new2 (default).
    Output: ``estimate`` (x̄1 - x̄2 over all observations of each sample), ``se``,
    ``statistic``, ``df``, ``p`` (two-sided), ``ci_low``, ``ci_high`` (estimate -/+ t_q se),
    ``r`` (the paired correlation), ``n_paired``.
    Method: with n1 = n_a + n_c, n2 = n_b + n_c observations, S1, S2 their SDs and r the
    Pearson correlation of the n_c pairs, T_new2 = (x̄1 - x̄2) / sqrt(S1²/n1 + S2²/n2 -
    2 r S1 S2 n_c / (n1 n2)) on ν = (n_c - 1) + (γ - n_c + 1)(n_a + n_b) / (n_a + n_b + 2 n_c)
    df, γ the Welch-Satterthwaite df; T_new1 uses the pooled SD and γ = n1 + n2 - 2. With
    n_c = 0 T_new2 is Welch's t on Welch's df. Own code: no Python library has it (checked
    against an R implementation of the published formula, tests/data/overlap/).
    Reference: Derrick, Toher & White (2017), "How to compare the means of two samples that
    include paired observations and independent observations", The Quantitative Methods
    for Psychology 13(2), 120-126; Derrick, Russ, Toher & White (2017), same issue.
    """
    a, b = np.asarray(x1, dtype=float), np.asarray(x2, dtype=float)
    c, d = np.asarray(x3, dtype=float), np.asarray(x4, dtype=float)
    if len(c) != len(d):
        raise ValueError("paired observations must have the same length")
    if len(c) < 2:
        raise ValueError("the partially overlapping t-test needs at least 2 paired observations")
    s1, s2 = np.concatenate([a, c]), np.concatenate([b, d])
    n1, n2, nc, na, nb = len(s1), len(s2), len(c), len(a), len(b)
    r = _paired_r(c, d)
    v1, v2 = np.var(s1, ddof=1), np.var(s2, ddof=1)
    estimate = float(np.mean(s1) - np.mean(s2))
    if var_equal:
        sp2 = ((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2)
        var = sp2 * (1 / n1 + 1 / n2 - 2 * r * nc / (n1 * n2))
        gamma = n1 + n2 - 2
    else:
        var = v1 / n1 + v2 / n2 - 2 * r * np.sqrt(v1 * v2) * nc / (n1 * n2)
        gamma = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    if not var > 0:
        raise ValueError("partially overlapping t-test undefined: zero variance of the difference")
    df = (nc - 1) + (gamma - nc + 1) * (na + nb) / (na + nb + 2 * nc)
    se = float(np.sqrt(var))
    t = estimate / se
    q = float(stats.t.ppf(0.5 + conf / 2, df))
    return {
        "estimate": estimate,
        "se": se,
        "statistic": float(t),
        "df": float(df),
        "p": float(2 * stats.t.sf(abs(t), df)),
        "ci_low": estimate - q * se,
        "ci_high": estimate + q * se,
        "r": r,
        "n_paired": nc,
    }


def partially_overlapping_z(
    x1: Sequence[float] | np.ndarray,
    x2: Sequence[float] | np.ndarray,
    x3: Sequence[float] | np.ndarray,
    x4: Sequence[float] | np.ndarray,
    conf: float = 0.95,
) -> dict[str, float]:
    """The partially overlapping samples z-test of p1 - p2 for 0/1 answers.

    Input: as :func:`partially_overlapping_t`, each observation 0 or 1.
    Output: ``estimate`` (p̂1 - p̂2 over all observations of each sample), ``se``,
    ``statistic``, ``p`` (two-sided normal), ``ci_low``, ``ci_high`` (estimate -/+ z se, as
    R ``Partiallyoverlapping::Prop.test``), ``r`` (phi of the pairs), ``n_paired``.
    Method: the pooled proportion p̄ = (n1 p̂1 + n2 p̂2) / (n1 + n2), w = p̄(1 - p̄),
    z = (p̂1 - p̂2) / sqrt(w/n1 + w/n2 - 2 r w n_c / (n1 n2)); with n_c = 0 the pooled
    two-proportion z-test. Reference: Derrick, Dobson-McKittrick, Toher & White (2015),
    "Test statistics for comparing two proportions with partially overlapping samples",
    Journal of Applied Quantitative Methods 10(3), 1-14 (their z_5).
    """
    a, b = np.asarray(x1, dtype=float), np.asarray(x2, dtype=float)
    c, d = np.asarray(x3, dtype=float), np.asarray(x4, dtype=float)
    if len(c) != len(d):
        raise ValueError("paired observations must have the same length")
    if len(c) < 2:
        raise ValueError("the partially overlapping z-test needs at least 2 paired observations")
    s1, s2 = np.concatenate([a, c]), np.concatenate([b, d])
    if not np.isin(np.concatenate([s1, s2]), (0.0, 1.0)).all():
        raise ValueError("the partially overlapping z-test needs 0/1 observations")
    n1, n2, nc = len(s1), len(s2), len(c)
    r = _paired_r(c, d)
    p1, p2 = float(np.mean(s1)), float(np.mean(s2))
    pbar = (n1 * p1 + n2 * p2) / (n1 + n2)
    w = pbar * (1 - pbar)
    se = float(np.sqrt(max(w / n1 + w / n2 - 2 * r * w * nc / (n1 * n2), 0.0)))
    estimate = p1 - p2
    z = estimate / se if se > 0 else (0.0 if estimate == 0 else math.copysign(math.inf, estimate))
    q = float(stats.norm.ppf(0.5 + conf / 2))
    return {
        "estimate": estimate,
        "se": se,
        "statistic": float(z),
        "p": float(2 * stats.norm.sf(abs(z))),
        "ci_low": estimate - q * se,
        "ci_high": estimate + q * se,
        "r": r,
        "n_paired": nc,
    }


def overlap_mean_change(
    baseline: pd.Series | np.ndarray,
    current: pd.Series | np.ndarray,
    metric: str,
    baseline_ids: pd.Series | np.ndarray | None = None,
    current_ids: pd.Series | np.ndarray | None = None,
    conf: float = 0.95,
) -> Change:
    """Change of a mean between two waves that share customers (panel-aware :func:`mean_change`).

    Input: each wave's values, and customer ids aligned with them (see :func:`overlap_split`).
    Output: a :class:`Change` with ``n_paired`` set: with at least 2 linked customers, the
    partially overlapping samples t-test (Welch type, :func:`partially_overlapping_t`,
    method "partially_overlapping_t"); otherwise every answer is independent and the result
    is :func:`mean_change` (method "welch_t", ``n_paired`` 0).
    """
    u0, u1, p0, p1 = overlap_split(baseline, current, baseline_ids, current_ids)
    if len(p0) < 2:
        return _with_paired(mean_change(np.concatenate([u0, p0]), np.concatenate([u1, p1]), metric, conf), 0)
    res = partially_overlapping_t(u1, u0, p1, p0, conf=conf)
    x0, x1 = np.concatenate([u0, p0]), np.concatenate([u1, p1])
    return Change(
        metric,
        float(np.mean(x0)),
        float(np.mean(x1)),
        res["estimate"],
        res["ci_low"],
        res["ci_high"],
        res["p"],
        "partially_overlapping_t",
        len(x0),
        len(x1),
        n_paired=len(p0),
    )


def _with_paired(change: Change, n_paired: int) -> Change:
    return Change(**{**asdict(change), "n_paired": n_paired})


def overlap_proportion_change(
    baseline: pd.Series | np.ndarray,
    current: pd.Series | np.ndarray,
    metric: str,
    baseline_ids: pd.Series | np.ndarray | None = None,
    current_ids: pd.Series | np.ndarray | None = None,
    conf: float = 0.95,
) -> Change:
    """Change of a proportion between two waves that share customers (panel-aware :func:`proportion_change`).

    Input: each wave's 0/1 answers (NaN = no answer) and aligned customer ids.
    Output: a :class:`Change` (``diff`` as a proportion) with ``n_paired``. With at least 2
    linked customers, method "overlap_newcombe_score": p from the partially overlapping
    z-test (:func:`partially_overlapping_z`); interval Newcombe's hybrid score interval with
    the correlation of the two estimates, ρ = φ n_c / sqrt(n0 n1) (φ the correlation of the
    linked customers' answers): ``diff - sqrt((p1-l1)² - 2ρ(p1-l1)(u0-p0) + (u0-p0)²)`` and
    ``diff + sqrt((u1-p1)² - 2ρ(u1-p1)(p0-l0) + (p0-l0)²)`` with the Wilson limits (l, u) of
    each wave. It is Newcombe's method 10 for independent samples when n_c = 0 (then this
    returns :func:`proportion_change`) and his paired method 10 when every customer is in
    both waves. References: Newcombe (1998), Statistics in Medicine 17, 873-890 and
    2635-2650; Derrick et al. (2015), Journal of Applied Quantitative Methods 10(3).
    """
    from analysis.describe import wilson_interval

    u0, u1, p0, p1 = overlap_split(baseline, current, baseline_ids, current_ids)
    x0, x1 = np.concatenate([u0, p0]), np.concatenate([u1, p1])
    k0, n0, k1, n1 = int(x0.sum()), len(x0), int(x1.sum()), len(x1)
    if len(p0) < 2:
        return _with_paired(proportion_change(k0, n0, k1, n1, metric, conf), 0)
    test = partially_overlapping_z(u1, u0, p1, p0, conf=conf)
    rho = test["r"] * len(p0) / np.sqrt(n0 * n1)
    q0, q1 = k0 / n0, k1 / n1
    l0, h0 = wilson_interval(k0, n0, conf)
    l1, h1 = wilson_interval(k1, n1, conf)
    diff = q1 - q0
    low = diff - np.sqrt(max((q1 - l1) ** 2 - 2 * rho * (q1 - l1) * (h0 - q0) + (h0 - q0) ** 2, 0.0))
    high = diff + np.sqrt(max((h1 - q1) ** 2 - 2 * rho * (h1 - q1) * (q0 - l0) + (q0 - l0) ** 2, 0.0))
    return Change(
        metric,
        q0,
        q1,
        diff,
        float(low),
        float(high),
        test["p"],
        "overlap_newcombe_score",
        n0,
        n1,
        n_paired=len(p0),
    )


def overlap_nps_change(
    baseline: pd.Series | np.ndarray,
    current: pd.Series | np.ndarray,
    metric: str = "NPS",
    baseline_ids: pd.Series | np.ndarray | None = None,
    current_ids: pd.Series | np.ndarray | None = None,
    conf: float = 0.95,
) -> Change:
    """Change of the NPS between two waves that share customers (panel-aware :func:`nps_change`).

    Input: each wave's 0-10 answers and aligned customer ids. Output: a :class:`Change` on
    the -100..100 scale with ``n_paired``. Each answer scores +1 (9-10), 0 (7-8) or -1
    (0-6), so the NPS is a mean; with at least 2 linked customers (method
    "nps_overlap_wald") ``Var(diff) = v0/n0 + v1/n1 - 2 r s0 s1 n_c / (n0 n1)``, v and s the
    (multinomial) variance and SD of the scores of each wave and r the correlation of the
    linked customers' scores (the covariance term of Derrick et al. 2017), Wald z interval
    and test; otherwise :func:`nps_change` (``n_paired`` 0).
    """
    from analysis.describe import nps_shares

    u0, u1, p0, p1 = overlap_split(baseline, current, baseline_ids, current_ids)
    x0, x1 = np.concatenate([u0, p0]), np.concatenate([u1, p1])
    if len(p0) < 2:
        return _with_paired(nps_change(x0, x1, metric, conf), 0)
    nps_shares(x0), nps_shares(x1)  # validates the 0-10 codes

    def score(x: np.ndarray) -> np.ndarray:
        return np.where(x >= 9, 1.0, np.where(x <= 6, -1.0, 0.0))

    s0, s1 = score(x0), score(x1)
    r = _paired_r(score(p1), score(p0))
    v0, v1 = np.var(s0), np.var(s1)
    n0, n1, nc = len(s0), len(s1), len(p0)
    diff = float(np.mean(s1) - np.mean(s0))
    se = float(np.sqrt(max(v0 / n0 + v1 / n1 - 2 * r * np.sqrt(v0 * v1) * nc / (n0 * n1), 0.0)))
    z = stats.norm.ppf(0.5 + conf / 2)
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Change(
        metric,
        100 * float(np.mean(s0)),
        100 * float(np.mean(s1)),
        100 * diff,
        100 * (diff - z * se),
        100 * (diff + z * se),
        p,
        "nps_overlap_wald",
        n0,
        n1,
        n_paired=nc,
    )
