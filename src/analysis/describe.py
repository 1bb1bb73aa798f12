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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.order import levels
from analysis.privacy import MIN_CELL
from analysis.weighting import kish

if TYPE_CHECKING:
    from analysis.weighting import Weights

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
    weights: Weights | None = None,
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

    ``se`` is the standard error of the mean (sd / sqrt(n)). With ``weights`` (from
    :func:`analysis.weighting.make_weights`, rows matched by index) every estimate is
    weighted: :func:`_weighted_item_stats`. ``weights=None`` gives exactly the unweighted table.
    """
    if weights is not None and weights.weighted:
        return _weighted_item_stats(data, ranges, top, conf, weights)
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
                "se": sd / math.sqrt(n) if n > 1 else math.nan,
            }
        )
    return pd.DataFrame(rows)


def logit_interval(p: float, se: float, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Interval of a design-based proportion on the logit scale: ``expit(logit p +- t se / (p (1 - p)))``,
    t with n - 1 degrees of freedom (``n`` answered rows).

    As R ``survey::svyciprop(method = "logit")`` (Korn & Graubard 1999, *Analysis of Health
    Surveys*, 2.3): stays within 0-1 and is not symmetric near the edges. NaN when p is 0 or 1,
    se is NaN or n < 2.
    """
    if not 0 < p < 1 or not math.isfinite(se) or n < 2:
        return (math.nan, math.nan)
    z = float(stats.t.ppf(1 - (1 - conf) / 2, n - 1))
    centre, half = math.log(p / (1 - p)), z * se / (p * (1 - p))
    return (1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half))))


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(cum, q - 1e-12)])


def _weighted_item_stats(
    data: pd.DataFrame, ranges: Mapping[str, tuple[int, int]], top: int, conf: float, weights: Weights
) -> pd.DataFrame:
    """:func:`item_stats` under weighting: weighted mean, sd, median and box shares; design-based SEs.

    The mean and its ``se`` come from :func:`analysis.weighting.design_means` (linearisation
    allowing for the raking, = R ``svymean`` on a raked design); the interval of the mean and the
    index is mean +- t se, t with n - 1 degrees of freedom (as svy; R ``confint(svymean)`` uses z). ``sd`` is the weighted sd with divisor
    ``sum w (n - 1) / n`` (R ``svyvar``). Box shares are design-based means of 0/1 indicators
    with the logit interval (:func:`logit_interval`, R ``svyciprop``). ``n`` stays the
    unweighted count; ``n_eff`` (Kish) is added. min and max are the answered range.
    """
    from analysis.weighting import design_means

    derived: dict[str, pd.Series] = {}
    for item, (lo, hi) in ranges.items():
        if hi <= lo:
            raise ValueError(f"item '{item}': scale max {hi} must exceed scale min {lo}")
        _values(data, item, lo, hi)
        x = pd.to_numeric(data[item]).astype(float)
        derived[f"{item}\u241fmean"] = x
        derived[f"{item}\u241ftop"] = (x >= hi - top + 1).astype(float).where(x.notna())
        derived[f"{item}\u241fbot"] = (x <= lo + top - 1).astype(float).where(x.notna())
    frame = pd.DataFrame(derived, index=data.index)
    est = design_means(frame, list(frame.columns), weights, conf=conf).set_index("column")
    rows = []
    for item, (lo, hi) in ranges.items():
        m, t, b = (est.loc[f"{item}\u241f{k}"] for k in ("mean", "top", "bot"))
        x = frame[f"{item}\u241fmean"]
        answered = x.notna().to_numpy()
        xv, wv = x.to_numpy()[answered], weights.values_for(data.index)[answered]
        n = int(answered.sum())
        mean, se = float(m["mean"]), float(m["se"])
        var = float(np.sum(wv * (xv - mean) ** 2) / wv.sum() * n / (n - 1)) if n > 1 else math.nan
        scale = 100.0 / (hi - lo)
        t_low, t_high = logit_interval(float(t["mean"]), float(t["se"]), n, conf)
        b_low, b_high = logit_interval(float(b["mean"]), float(b["se"]), n, conf)
        rows.append(
            {
                "item": item, "n": n, "mean": mean, "sd": math.sqrt(var) if n > 1 else math.nan,
                "median": _weighted_quantile(xv, wv, 0.5) if n else math.nan,
                "min": float(xv.min()) if n else math.nan, "max": float(xv.max()) if n else math.nan,
                "top2box": float(t["mean"]), "top2box_low": t_low, "top2box_high": t_high,
                "bottom2box": float(b["mean"]), "bottom2box_low": b_low, "bottom2box_high": b_high,
                "index": (mean - lo) * scale, "index_low": (float(m["ci_low"]) - lo) * scale,
                "index_high": (float(m["ci_high"]) - lo) * scale, "se": se, "n_eff": float(m["n_eff"]),
            }
        )
    return pd.DataFrame(rows)


def distribution(
    data: pd.DataFrame,
    ranges: Mapping[str, tuple[int, int]],
    labels: Mapping[str, Mapping[int, str]] | None = None,
    weights: Weights | None = None,
) -> pd.DataFrame:
    """Answer distribution of each item, every scale level listed (zero counts included).

    Parameters: ``data`` respondents x items; ``ranges`` item -> (min, max);
    ``labels`` optional item -> {level: label}; a level without a label is
    labelled by its code.

    Returns a long DataFrame with columns ``item, level, label, n, share``
    where ``share`` is n over the item's answered count (0-1). With ``weights`` (rows matched
    by index) ``share`` is the weighted share of the answered rows; ``n`` stays the count and
    ``n_eff`` (Kish, of the weights of the rows answering that level) is added.
    """
    rows = []
    labels = labels or {}
    w_all = None if weights is None or not weights.weighted else weights.values_for(data.index)
    for item, (lo, hi) in ranges.items():
        x = _values(data, item, lo, hi)
        answered = x.size
        names = labels.get(item, {})
        if w_all is not None:
            raw = pd.to_numeric(data[item]).to_numpy(dtype=float, na_value=np.nan)
            wx = w_all[~np.isnan(raw)]
        for level in range(int(lo), int(hi) + 1):
            count = int(np.sum(x == level))
            share = count / answered if answered else math.nan
            row = {"item": item, "level": level, "label": str(names.get(level, level)), "n": count, "share": share}
            if w_all is not None:
                if answered:
                    row["share"] = float(wx[x == level].sum() / wx.sum())
                row["n_eff"] = kish(wx[x == level])["n_eff"] if count else 0.0
            rows.append(row)
    columns = ["item", "level", "label", "n", "share"] + (["n_eff"] if w_all is not None else [])
    return pd.DataFrame(rows, columns=columns)


def satisfaction_rate(
    values: pd.Series,
    satisfied_levels: Sequence[int],
    conf: float = 0.95,
    metric: str = "satisfaction_rate",
    weights: Weights | None = None,
) -> Estimate:
    """Share of answers in the satisfied levels (e.g. 5-7 on the 7-level scale).

    Parameters: ``values`` one item's codes (NaN = no answer, excluded);
    ``satisfied_levels`` the codes counted as satisfied; ``metric`` the name in the result
    (e.g. ``"repurchase_rate"`` for the top-2 levels of the repurchase item).

    Returns an :class:`Estimate`: ``n`` answered, ``k`` satisfied, ``value`` k/n and its
    Wilson (1927) interval (:func:`wilson_interval`).

    With ``weights`` (rows matched by index): the design-based share (calibration-aware SE,
    :func:`analysis.weighting.design_means`) with the logit interval of R ``svyciprop``
    (:func:`logit_interval`); ``n`` and ``k`` stay unweighted counts, ``se`` the design SE,
    ``parts`` holds ``n_eff``; ``method`` "design_logit".
    """
    if weights is not None and weights.weighted:
        from analysis.weighting import design_means

        x = pd.to_numeric(values).astype(float)
        flag = x.isin(list(satisfied_levels)).astype(float).where(x.notna()).rename("flag")
        est = design_means(flag.to_frame(), ["flag"], weights, conf=conf).iloc[0]
        low, high = logit_interval(float(est["mean"]), float(est["se"]), int(est["n"]), conf)
        return Estimate(
            metric, float(est["mean"]), low, high, int(est["n"]), k=int(flag.sum()), se=float(est["se"]),
            parts={"n_eff": float(est["n_eff"])}, method="design_logit",
        )
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


def nps(values: pd.Series, conf: float = 0.95, weights: Weights | None = None) -> Estimate:
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

    With ``weights`` (rows matched by index): NPS is the design-based mean of the score
    +1 (promoter) / 0 / -1 (detractor) x 100, its ``se`` calibration-aware
    (:func:`analysis.weighting.design_means`), the interval NPS +- t se (n - 1 df) clipped to -100..100
    (``method`` "design_wald"); the parts are weighted shares, with ``n_eff``.
    """
    if weights is not None and weights.weighted:
        return _weighted_nps(values, conf, weights)
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


def _weighted_nps(values: pd.Series, conf: float, weights: Weights) -> Estimate:
    from analysis.weighting import design_means

    x = pd.to_numeric(values).astype(float)
    nps_shares(x.dropna().to_numpy())  # refuses codes outside 0-10
    frame = pd.DataFrame(
        {
            "score": np.select([x >= 9, x <= 6], [1.0, -1.0], 0.0),
            "pro": (x >= 9).astype(float),
            "det": (x <= 6).astype(float),
        },
        index=x.index,
    ).where(x.notna(), axis=0)
    est = design_means(frame, ["score", "pro", "det"], weights, conf=conf).set_index("column")
    value, se = float(est.loc["score", "mean"]), float(est.loc["score", "se"])
    low, high = float(est.loc["score", "ci_low"]), float(est.loc["score", "ci_high"])
    p, q = float(est.loc["pro", "mean"]), float(est.loc["det", "mean"])
    return Estimate(
        "nps", value * 100, max(-1.0, low) * 100, min(1.0, high) * 100,
        int(est.loc["score", "n"]), se=se * 100,
        parts={"promoters": p, "passives": 1 - p - q, "detractors": q, "n_eff": float(est.loc["score", "n_eff"])},
        method="design_wald",
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
