"""Descriptive statistics of rated items: means, top-2-box, NPS, satisfaction rate.

Functions take plain DataFrames: item columns hold numeric codes on their
scale (reverse items already reversed, missing = NaN) and
``ranges`` maps each item to its ``(scale min, scale max)``.

=====================  ==========================================================
``wilson_interval``    Wilson score interval of a proportion
``item_stats``         one row per item: n, mean, sd, top-/bottom-2-box, 0-100 index
``distribution``       long table of answer shares per item and level
``satisfaction_rate``  share of satisfied answers with its Wilson interval
``nps``                Net Promoter Score with an adjusted-Wald interval
``response_rate``      completed / invited with its Wilson interval
``sample_profile``     who answered, per segment, with small cells suppressed
=====================  ==========================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "wilson_interval",
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


def wilson_interval(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``.

    Parameters: ``k`` successes out of ``n`` trials, ``conf`` the confidence level.
    Returns ``(low, high)`` on the 0-1 scale; ``(nan, nan)`` when ``n == 0``.

    Method: Wilson (1927), "Probable inference, the law of succession, and
    statistical inference", JASA 22:209-212; recommended over the Wald interval
    by Brown, Cai & DasGupta (2001), Statistical Science 16:101-133.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    z = _z(conf)
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (max(0.0, centre - half), min(1.0, centre + half))


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


def satisfaction_rate(values: pd.Series, satisfied_levels: Sequence[int], conf: float = 0.95) -> dict:
    """Share of answers in the satisfied levels (e.g. 5-7 on the 7-level scale).

    Parameters: ``values`` one item's codes (NaN = no answer, excluded);
    ``satisfied_levels`` the codes counted as satisfied.

    Returns ``{"n", "k", "rate", "ci_low", "ci_high"}``: answered, satisfied,
    k/n and its Wilson (1927) interval.
    """
    x = pd.to_numeric(values).dropna()
    n = int(x.size)
    k = int(x.isin(list(satisfied_levels)).sum())
    low, high = wilson_interval(k, n, conf)
    return {"n": n, "k": k, "rate": k / n if n else math.nan, "ci_low": low, "ci_high": high}


def nps(values: pd.Series, conf: float = 0.95) -> dict:
    """Net Promoter Score of a 0-10 likelihood-to-recommend item.

    Parameters: ``values`` codes 0-10 (NaN = no answer, excluded).

    Returns ``{"n", "promoters", "passives", "detractors", "nps", "se",
    "ci_low", "ci_high"}``: shares of 9-10, 7-8 and 0-6 (0-1); ``nps`` =
    (promoters - detractors) x 100 in points (-100..100); ``se`` from the
    multinomial variance, ``sqrt((p + q - (p - q)^2) / n) * 100``.

    The interval is the adjusted-Wald interval: add 3/4 of a promoter and 3/4
    of a detractor and 3 to n, then apply the Wald formula to the adjusted
    shares (Rocks 2016, "Interval estimation for the net promoter score",
    The American Statistician 70:365-372; Sauro & Lewis 2016, *Quantifying the
    User Experience*, 2nd ed.). Score defined by Reichheld (2003), HBR 81(12).
    """
    x = pd.to_numeric(values).dropna().to_numpy(dtype=float)
    bad = (x < 0) | (x > 10) | (x != np.round(x))
    if bad.any():
        raise ValueError(f"NPS needs integer codes 0-10, found {sorted(set(x[bad]))[:5]}")
    n = x.size
    if n == 0:
        nan = math.nan
        return {
            "n": 0,
            "promoters": nan,
            "passives": nan,
            "detractors": nan,
            "nps": nan,
            "se": nan,
            "ci_low": nan,
            "ci_high": nan,
        }
    n_pro = int(np.sum(x >= 9))
    n_det = int(np.sum(x <= 6))
    p, q = n_pro / n, n_det / n
    se = math.sqrt((p + q - (p - q) ** 2) / n)
    n_adj = n + 3
    p_adj, q_adj = (n_pro + 0.75) / n_adj, (n_det + 0.75) / n_adj
    se_adj = math.sqrt((p_adj + q_adj - (p_adj - q_adj) ** 2) / n_adj)
    z = _z(conf)
    centre = p_adj - q_adj
    return {
        "n": int(n),
        "promoters": p,
        "passives": 1 - p - q,
        "detractors": q,
        "nps": (p - q) * 100,
        "se": se * 100,
        "ci_low": max(-1.0, centre - z * se_adj) * 100,
        "ci_high": min(1.0, centre + z * se_adj) * 100,
    }


def response_rate(valid: int, invited: int | None, conf: float = 0.95) -> dict:
    """Survey response rate: valid responses over customers invited.

    Returns ``{"valid", "invited", "rate", "ci_low", "ci_high"}`` with the
    Wilson (1927) interval; all NaN when ``invited`` is None (not recorded).
    Raises ValueError when more valid responses than invitations are given.
    """
    if invited is None:
        return {
            "valid": int(valid),
            "invited": None,
            "rate": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
        }
    if valid > invited:
        raise ValueError(f"valid responses ({valid}) exceed customers invited ({invited})")
    low, high = wilson_interval(int(valid), int(invited), conf)
    rate = valid / invited if invited else math.nan
    return {"valid": int(valid), "invited": int(invited), "rate": rate, "ci_low": low, "ci_high": high}


def sample_profile(data: pd.DataFrame, segments: Sequence[str], min_cell: int = 5) -> pd.DataFrame:
    """Composition of the sample by segment (region, channel ...), small cells suppressed.

    Parameters: ``data`` respondents x columns; ``segments`` the columns to
    profile; ``min_cell`` the smallest count that may be shown.

    Returns a long DataFrame ``segment, group, n, share`` (share of all rows,
    missing values counted as group "(missing)"). Groups with n < ``min_cell``
    are merged into one row ``"(suppressed: n<min_cell)"``; when that merged row
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
        for group, n in shown.items():
            rows.append({"segment": seg, "group": str(group), "n": int(n), "share": n / total})
        if merged:
            rows.append({"segment": seg, "group": label, "n": merged, "share": merged / total})
    return pd.DataFrame(rows, columns=["segment", "group", "n", "share"])
