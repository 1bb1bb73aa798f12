"""Descriptive statistics of rated items: means, top-2-box, NPS, satisfaction rate.

Functions take plain DataFrames: item columns hold numeric codes on their
scale (reverse items already reversed, missing = NaN) and
``ranges`` maps each item to its ``(scale min, scale max)``. Headline numbers
(satisfaction rate, NPS, response rate) come back as one result type,
:class:`Estimate`, whose ``to_frame()`` is a row of ``headline.csv``.

=====================  ==========================================================
``wilson_interval``    Wilson score interval of a proportion (statsmodels)
``item_stats``         one row per item: n, mean, sd, top-/bottom-2-box, 0-100 index
``distribution``       long table of answer shares per item and level
``satisfaction_rate``  share of satisfied answers with its Wilson interval -> ``Estimate``
``nps``                Net Promoter Score with an adjusted-Wald interval -> ``Estimate``
``nps_shares``         shares of promoters and detractors (the one NPS definition)
``response_rate``      completed / invited, a census count without interval -> ``Estimate``
``sample_profile``     who answered, per segment, with small cells suppressed
=====================  ==========================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.order import levels
from analysis.privacy import MIN_CELL

__all__ = [
    "Estimate",
    "wilson_interval",
    "nps_shares",
    "item_stats",
    "distribution",
    "satisfaction_rate",
    "nps",
    "response_rate",
    "sample_profile",
]


def _z(conf: float) -> float:
    """Two-sided standard-normal critical value for a confidence level."""
    if not 0 < conf < 1:
        raise ValueError(f"conf must be between 0 and 1, got {conf}")
    return float(stats.norm.ppf(1 - (1 - conf) / 2))


def _values(data: pd.DataFrame, item: str, lo: int, hi: int) -> np.ndarray:
    """Answered values of one item as floats; raise on a code outside its scale."""
    if item not in data.columns:
        raise KeyError(f"item '{item}' is not a column of the data")
    x = pd.to_numeric(data[item]).to_numpy(dtype=float, na_value=np.nan)
    x = x[~np.isnan(x)]
    bad = (x < lo) | (x > hi)
    if bad.any():
        raise ValueError(f"item '{item}' has values outside its scale {lo}-{hi}: {sorted(set(x[bad]))[:5]}")
    return x


@dataclass(frozen=True)
class Estimate:
    """A headline number with its interval (satisfaction rate, NPS, response rate).

    ``metric`` its name; ``value`` the estimate (a 0-1 share, or NPS points -100..100);
    ``ci_low``, ``ci_high`` its interval (NaN when undefined); ``n`` the answers it is
    based on (for the response rate: the valid responses); ``k`` the successes of a
    proportion (None for NPS); ``total`` the denominator when it is not ``n`` (customers
    invited), else None; ``se`` its standard error (NPS only, else NaN); ``parts`` the
    components (NPS: ``promoters``, ``passives``, ``detractors``); ``method`` the interval.
    """

    metric: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    k: int | None = None
    total: int | None = None
    se: float = math.nan
    parts: Mapping[str, float] = field(default_factory=dict)
    method: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row ``metric, value, ci_low, ci_high, n`` (``headline.csv``), then ``se`` and the
        parts when there are any (NPS)."""
        row: dict[str, object] = {
            "metric": self.metric,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
        }
        if self.parts:
            row["se"] = self.se
            row.update(self.parts)
        return pd.DataFrame([row])


def wilson_interval(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``.

    Parameters: ``k`` successes out of ``n`` trials, ``conf`` the confidence level.
    Returns ``(low, high)`` on the 0-1 scale; ``(nan, nan)`` when ``n == 0``.

    Method: ``statsmodels.stats.proportion.proportion_confint(method="wilson")``,
    clipped to 0-1 (the one Wilson interval of the package; it agrees with the formula
    written out before to 1 ulp, 1.1e-16). Wilson (1927), "Probable inference, the law
    of succession, and statistical inference", JASA 22:209-212; recommended over the
    Wald interval by Brown, Cai & DasGupta (2001), Statistical Science 16:101-133.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    _z(conf)
    low, high = proportion_confint(k, n, alpha=1 - conf, method="wilson")
    return (max(0.0, float(low)), min(1.0, float(high)))


def item_stats(
    data: pd.DataFrame,
    ranges: Mapping[str, tuple[int, int]],
    top: int = 2,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Summary statistics of each rated item.

    Parameters: ``data`` respondents x items (numeric codes, NaN = no answer);
    ``ranges`` item -> (scale min, scale max), in the order of the output rows;
    ``top`` how many of the highest (lowest) levels count as top (bottom) box;
    ``conf`` confidence level of the intervals.

    Returns one row per item with columns ``item, n, mean, sd, median, min, max,
    top2box, top2box_low, top2box_high, bottom2box, bottom2box_low,
    bottom2box_high, index, index_low, index_high``. ``sd`` uses ddof=1; the box
    shares are proportions of answered (0-1) with Wilson intervals;
    ``index = (mean - scale min) / (scale max - scale min) * 100`` with the
    t interval of the mean rescaled the same way.

    Top-2-box: share answering in the two best categories, the usual
    headline of satisfaction surveys (e.g. Hayes 2008, *Measuring Customer
    Satisfaction and Loyalty*, 3rd ed.).
    """
    rows = []
    for item, (lo, hi) in ranges.items():
        if hi <= lo:
            raise ValueError(f"item '{item}': scale max {hi} must exceed scale min {lo}")
        x = _values(data, item, lo, hi)
        n = x.size
        k_top = int(np.sum(x >= hi - top + 1))
        k_bot = int(np.sum(x <= lo + top - 1))
        mean = float(x.mean()) if n else math.nan
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        t_crit = float(stats.t.ppf(1 - (1 - conf) / 2, n - 1)) if n > 1 else math.nan
        half = t_crit * sd / math.sqrt(n) if n > 1 else math.nan
        scale = 100.0 / (hi - lo)
        t_low, t_high = wilson_interval(k_top, n, conf)
        b_low, b_high = wilson_interval(k_bot, n, conf)
        rows.append(
            {
                "item": item,
                "n": n,
                "mean": mean,
                "sd": sd,
                "median": float(np.median(x)) if n else math.nan,
                "min": float(x.min()) if n else math.nan,
                "max": float(x.max()) if n else math.nan,
                "top2box": k_top / n if n else math.nan,
                "top2box_low": t_low,
                "top2box_high": t_high,
                "bottom2box": k_bot / n if n else math.nan,
                "bottom2box_low": b_low,
                "bottom2box_high": b_high,
                "index": (mean - lo) * scale,
                "index_low": (mean - half - lo) * scale,
                "index_high": (mean + half - lo) * scale,
            }
        )
    return pd.DataFrame(rows)


def distribution(
    data: pd.DataFrame,
    ranges: Mapping[str, tuple[int, int]],
    labels: Mapping[str, Mapping[int, str]] | None = None,
) -> pd.DataFrame:
    """Answer distribution of each item, every scale level listed (zero counts included).

    Parameters: ``data`` respondents x items; ``ranges`` item -> (min, max);
    ``labels`` optional item -> {level: label}; a level without a label is
    labelled by its code.

    Returns a long DataFrame with columns ``item, level, label, n, share``
    where ``share`` is n over the item's answered count (0-1).
    """
    rows = []
    labels = labels or {}
    for item, (lo, hi) in ranges.items():
        x = _values(data, item, lo, hi)
        answered = x.size
        names = labels.get(item, {})
        for level in range(int(lo), int(hi) + 1):
            count = int(np.sum(x == level))
            rows.append(
                {
                    "item": item,
                    "level": level,
                    "label": str(names.get(level, level)),
                    "n": count,
                    "share": count / answered if answered else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=["item", "level", "label", "n", "share"])


def satisfaction_rate(
    values: pd.Series, satisfied_levels: Sequence[int], conf: float = 0.95, metric: str = "satisfaction_rate"
) -> Estimate:
    """Share of answers in the satisfied levels (e.g. 5-7 on the 7-level scale).

    Parameters: ``values`` one item's codes (NaN = no answer, excluded);
    ``satisfied_levels`` the codes counted as satisfied; ``metric`` the name in the result
    (e.g. ``"repurchase_rate"`` for the top-2 levels of the repurchase item).

    Returns an :class:`Estimate`: ``n`` answered, ``k`` satisfied, ``value`` k/n and its
    Wilson (1927) interval (:func:`wilson_interval`).
    """
    x = pd.to_numeric(values).dropna()
    n = int(x.size)
    k = int(x.isin(list(satisfied_levels)).sum())
    low, high = wilson_interval(k, n, conf)
    return Estimate(metric, k / n if n else math.nan, low, high, n, k=k, method="wilson")


def nps_shares(values: np.ndarray | pd.Series) -> tuple[float, float]:
    """Shares of promoters (9-10) and detractors (0-6) among the answered 0-10 codes.

    The one definition of the Net Promoter Score (Reichheld 2003, HBR 81(12)): NPS =
    promoters - detractors. Raises ValueError for codes that are not integers 0-10;
    NaN shares for no answers.
    """
    x = pd.to_numeric(pd.Series(np.asarray(values, dtype=float))).dropna().to_numpy(dtype=float)
    bad = (x < 0) | (x > 10) | (x != np.round(x))
    if bad.any():
        raise ValueError(f"NPS needs integer codes 0-10, found {sorted(set(x[bad]))[:5]}")
    if x.size == 0:
        return (math.nan, math.nan)
    return (int(np.sum(x >= 9)) / x.size, int(np.sum(x <= 6)) / x.size)


def nps(values: pd.Series, conf: float = 0.95) -> Estimate:
    """Net Promoter Score of a 0-10 likelihood-to-recommend item.

    Parameters: ``values`` codes 0-10 (NaN = no answer, excluded).

    Returns an :class:`Estimate` (``metric`` "nps"): ``value`` = (promoters - detractors)
    x 100 in points (-100..100); ``parts`` the shares of 9-10, 7-8 and 0-6 (0-1,
    :func:`nps_shares`); ``se`` from the multinomial variance,
    ``sqrt((p + q - (p - q)^2) / n) * 100``; all NaN with ``n`` 0 for no answers.

    The interval is the adjusted-Wald interval: add 3/4 of a promoter and 3/4
    of a detractor and 3 to n, then apply the Wald formula to the adjusted
    shares (Rocks 2016, "Interval estimation for the net promoter score",
    The American Statistician 70:365-372; Sauro & Lewis 2016, *Quantifying the
    User Experience*, 2nd ed.). No library computes it (own code, 6 lines).
    Score defined by Reichheld (2003), HBR 81(12).
    """
    x = pd.to_numeric(values).dropna().to_numpy(dtype=float)
    p, q = nps_shares(x)
    n = x.size
    nan = math.nan
    if n == 0:
        parts = {"promoters": nan, "passives": nan, "detractors": nan}
        return Estimate("nps", nan, nan, nan, 0, se=nan, parts=parts, method="adjusted_wald")
    n_pro, n_det = int(np.sum(x >= 9)), int(np.sum(x <= 6))
    se = math.sqrt((p + q - (p - q) ** 2) / n)
    n_adj = n + 3
    p_adj, q_adj = (n_pro + 0.75) / n_adj, (n_det + 0.75) / n_adj
    se_adj = math.sqrt((p_adj + q_adj - (p_adj - q_adj) ** 2) / n_adj)
    z = _z(conf)
    centre = p_adj - q_adj
    return Estimate(
        "nps",
        (p - q) * 100,
        max(-1.0, centre - z * se_adj) * 100,
        min(1.0, centre + z * se_adj) * 100,
        int(n),
        se=se * 100,
        parts={"promoters": p, "passives": 1 - p - q, "detractors": q},
        method="adjusted_wald",
    )


def response_rate(valid: int, invited: int | None) -> Estimate:
    """Survey response rate: valid responses over customers invited.

    Returns an :class:`Estimate` (``metric`` "response_rate", ``n`` = ``k`` = valid,
    ``total`` = invited, ``method`` "census"). Both counts are complete counts, not a
    sample, so the rate is a fact and carries no sampling interval (``ci_low`` /
    ``ci_high`` NaN; issue 11 k). Value NaN when ``invited`` is None (not recorded).
    Raises ValueError when more valid responses than invitations are given.
    """
    if invited is None:
        return Estimate("response_rate", math.nan, math.nan, math.nan, int(valid), k=int(valid))
    if valid > invited:
        raise ValueError(f"valid responses ({valid}) exceed customers invited ({invited})")
    rate = valid / invited if invited else math.nan
    return Estimate(
        "response_rate", rate, math.nan, math.nan, int(valid), k=int(valid), total=int(invited), method="census"
    )


def sample_profile(data: pd.DataFrame, segments: Sequence[str], min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Composition of the sample by segment (region, channel ...), small cells suppressed.

    Parameters: ``data`` respondents x columns; ``segments`` the columns to
    profile; ``min_cell`` the smallest count that may be shown.

    Returns a long DataFrame ``segment, group, n, share`` (share of all rows,
    missing values counted as group "(missing)"). Groups with n < ``min_cell``
    are merged into one row ``"(suppressed: n<min_cell)"`` (listed last; groups in the segment's
    order: category order for a Categorical, else natural order, then "(missing)"); when that merged row
    would itself be below ``min_cell``, the next smallest groups are added to it
    (complementary suppression) so that no count below ``min_cell`` can be read
    or derived by subtraction from the total.
    """
    label = f"(suppressed: n<{min_cell})"
    total = len(data)
    rows = []
    for seg in segments:
        if seg not in data.columns:
            raise KeyError(f"segment '{seg}' is not a column of the data")
        counts = data[seg].astype(object).where(data[seg].notna(), "(missing)").astype(str).value_counts()
        counts = counts.sort_values(ascending=False, kind="stable")
        small = counts[counts < min_cell]
        shown = counts[counts >= min_cell]
        merged = int(small.sum())
        while 0 < merged < min_cell and len(shown) > 0:
            smallest = shown.index[-1]
            merged += int(shown.iloc[-1])
            shown = shown.drop(smallest)
        order = [str(g) for g in levels(data[seg])]  # the codebook's order, else natural order
        for group in [*(g for g in order if g in shown.index), *(g for g in shown.index if g not in order)]:
            n = shown[group]
            rows.append({"segment": seg, "group": str(group), "n": int(n), "share": n / total})
        if merged:
            rows.append({"segment": seg, "group": label, "n": merged, "share": merged / total})
    return pd.DataFrame(rows, columns=["segment", "group", "n", "share"])
