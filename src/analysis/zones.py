"""Satisfaction-loyalty zones, customer types and importance-performance analysis.

Satisfaction and loyalty are not always strongly related: in the
*zone of indifference* (the "quality-insensitive zone") customers
are fairly satisfied yet neither come back nor recommend; only very high
satisfaction (the *zone of affection*) creates loyalty and word of mouth, and
low satisfaction (the *zone of defection*) drives customers away.

References
----------
Davies, R. B. (1987). Hypothesis testing when a nuisance parameter is present only
    under the alternative. *Biometrika* 74, 33-43; (2002) linear model case,
    *Biometrika* 89, 484-489 (the test for a loyalty break).
Hinkley, D. V. (1971). Inference in two-phase regression. *JASA* 66, 736-743
    (likelihood-ratio interval of the break).
Jones, T. O. & Sasser, W. E. (1995). Why satisfied customers defect.
    *Harvard Business Review* 73(6), 88-99.
Martilla, J. A. & James, J. C. (1977). Importance-performance analysis.
    *Journal of Marketing* 41(1), 77-79.
Muggeo, V. M. R. (2003). Estimating regression models with unknown
    break-points. *Statistics in Medicine* 22, 3055-3071 (segmented regression).
Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. *JASA* 22, 209-212.

Thresholds
----------
One :class:`ZoneThresholds` describes one scale. :func:`default_thresholds`
gives these defaults (levels inclusive):

===========  ===========  ============  =========  ==========
scale        defection    indifference  affection  terrorist
===========  ===========  ============  =========  ==========
1-5          1-2          3-4           5          1
1-7          1-3          4-5           6-7        1
1-10         1-6          7-8           9-10       1-2
0-10         0-6          7-8           9-10       0-1
other        bottom ~40%  the middle    top ~20%   bottom ~15%
===========  ===========  ============  =========  ==========

"Other" scales with ``L`` levels: affection = the top ``max(1, round(0.2 L))``
levels, defection = the bottom ``max(1, round(0.4 L))`` levels, leaving at
least one indifference level; terrorist = the bottom ``max(1, round(0.15 L))``
levels, at most the defection levels (this rule also gives the terrorist column
above). Scales need at least 3 levels.

The same object classifies a *loyalty* score (the mean of the loyalty items,
possibly fractional) on that scale: loyalty is **high** when
``score >= loyalty_high_min``, **low** when ``score <= loyalty_low_max`` and
**medium** otherwise. By default ``loyalty_high_min = affection_min`` and
``loyalty_low_max = defection_max`` (high = the top part of the scale, low = the
defection part). A satisfaction score is in the zone **affection** when
``score >= affection_min``, **defection** when ``score <= defection_max`` and
**indifference** otherwise.

Customer types (Jones & Sasser 1995): decision table
----------------------------------------------------
Evaluated top to bottom for each respondent, the first matching row wins:

===  ==========================  ===============  ==========================  ============
#    satisfaction                loyalty          detractor                   type
===  ==========================  ===============  ==========================  ============
0    missing                     any              any                         NaN
0    any                         missing          any                         NaN
1    ``<= terrorist_max``        low              True, missing or not given  terrorist
2    affection zone              high             any                         apostle
3    indifference zone           high             any                         loyalist
4    defection zone              high             any                         hostage
5    affection zone              medium or low    any                         mercenary
6    indifference/defection      medium or low    any                         defector
===  ==========================  ===============  ==========================  ============

So on the two axes the types form the Jones & Sasser matrix: high loyalty splits
into apostle / loyalist / hostage by satisfaction zone; loyalty that is not high
gives a mercenary in the zone of affection and a defector below it, except that
the lowest satisfaction level(s) with low loyalty make a terrorist. When a
``detractor`` series is given (e.g. an NPS detractor flag or "has complained"),
a respondent answering False is a defector, not a terrorist; a missing answer
falls back to the rule without the flag.

Importance-performance analysis (Martilla & James 1977)
-------------------------------------------------------
Each item is placed by importance (e.g. a driver weight) and performance (e.g.
its mean or 0-100 index) against grid lines (the means by default). An item
*on* a grid line counts as high on that axis:

=================  ==================  =========================
importance         performance         quadrant
=================  ==================  =========================
high (>= line)     low (< line)        Concentrate here
high               high (>= line)      Keep up the good work
low (< line)       low                 Low priority
low                high                Possible overkill
=================  ==================  =========================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.describe import wilson_interval
from analysis.errors import SurveyDefinitionError
from analysis.words import category_labels

__all__ = [
    "Breakpoint",
    "DaviesTest",
    "IPA_QUADRANTS",
    "LOYALTY_LEVELS",
    "TYPES",
    "ZH_LABELS",
    "ZONES",
    "ZoneThresholds",
    "davies_test",
    "default_thresholds",
    "IPA_BOOT_COLUMNS",
    "IPA_STABLE",
    "improvement_priorities",
    "ipa",
    "ipa_stability",
    "loyalty_breakpoint",
    "loyalty_curve",
    "loyalty_level",
    "thresholds_from_config",
    "transition_table",
    "type_of",
    "zone_of",
    "zone_table",
]

#: Customer types in reporting order (Jones & Sasser 1995).
TYPES: tuple[str, ...] = ("apostle", "loyalist", "mercenary", "hostage", "defector", "terrorist")
#: Satisfaction zones from low to high.
ZONES: tuple[str, ...] = ("defection", "indifference", "affection")
#: IPA quadrant names (Martilla & James 1977).
IPA_QUADRANTS: tuple[str, ...] = (
    "Concentrate here",
    "Keep up the good work",
    "Low priority",
    "Possible overkill",
)
#: Share of bootstrap resamples an item must stay in its quadrant to count as stably there (IPA priorities).
IPA_STABLE = 0.9
#: Columns :func:`ipa_stability` adds to an IPA table.
IPA_BOOT_COLUMNS: tuple[str, ...] = (
    "importance_ci_low",
    "importance_ci_high",
    "performance_ci_low",
    "performance_ci_high",
    "stability",
    "n_boot",
)
#: Loyalty levels from low to high.
LOYALTY_LEVELS: tuple[str, ...] = ("low", "medium", "high")
#: Chinese display names for types, zones, loyalty levels and IPA quadrants (pass as ``labels=``),
#: from the language file ``analysis/i18n/zh.yaml`` (:func:`analysis.words.category_labels`).
ZH_LABELS: dict[str, str] = category_labels("zh", (*TYPES, *ZONES, *LOYALTY_LEVELS, *IPA_QUADRANTS))

# Named defaults: n_levels -> (affection levels, defection levels); see the module docstring.
_NAMED_DEFAULTS = {5: (1, 2), 7: (2, 3), 10: (2, 6), 11: (2, 7)}


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class ZoneThresholds:
    """Cut-offs for satisfaction zones and loyalty levels on one scale.

    Attributes
    ----------
    scale_min, scale_max : lowest and highest scale code.
    affection_min : satisfaction >= this is the zone of affection.
    defection_max : satisfaction <= this is the zone of defection.
    terrorist_max : satisfaction <= this (with low loyalty) can make a terrorist.
    loyalty_high_min : a loyalty score >= this is high loyalty.
    loyalty_low_max : a loyalty score <= this is low loyalty.

    Raises ValueError (naming the field) when the cut-offs are out of the scale
    or out of order: ``scale_min <= terrorist_max <= defection_max <
    affection_min <= scale_max`` and ``loyalty_low_max < loyalty_high_min``.
    """

    scale_min: float
    scale_max: float
    affection_min: float
    defection_max: float
    terrorist_max: float
    loyalty_high_min: float
    loyalty_low_max: float

    def __post_init__(self) -> None:
        for key, value in asdict(self).items():
            if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
                raise ValueError(f"zone threshold '{key}' must be a number, got {value!r}")
            if not math.isfinite(float(value)):
                raise ValueError(f"zone threshold '{key}' must be finite, got {value!r}")
        if not self.scale_min < self.scale_max:
            raise ValueError(f"'scale_min' ({self.scale_min}) must be below 'scale_max' ({self.scale_max})")
        for key in ("affection_min", "defection_max", "terrorist_max", "loyalty_high_min", "loyalty_low_max"):
            value = getattr(self, key)
            if not self.scale_min <= value <= self.scale_max:
                raise ValueError(
                    f"zone threshold '{key}' = {value} lies outside the scale "
                    f"{self.scale_min}-{self.scale_max}"
                )
        if not self.defection_max < self.affection_min:
            raise ValueError(
                f"zone threshold 'defection_max' ({self.defection_max}) must be below "
                f"'affection_min' ({self.affection_min})"
            )
        if not self.terrorist_max <= self.defection_max:
            raise ValueError(
                f"zone threshold 'terrorist_max' ({self.terrorist_max}) must not exceed "
                f"'defection_max' ({self.defection_max})"
            )
        if not self.loyalty_low_max < self.loyalty_high_min:
            raise ValueError(
                f"zone threshold 'loyalty_low_max' ({self.loyalty_low_max}) must be below "
                f"'loyalty_high_min' ({self.loyalty_high_min})"
            )


def default_thresholds(scale_min: int, scale_max: int) -> ZoneThresholds:
    """Default zone thresholds for an integer scale ``scale_min..scale_max``.

    Returns the :class:`ZoneThresholds` of the table in the module docstring:
    5 points: affection 5, indifference 3-4, defection 1-2; 7 points: 6-7 / 4-5 /
    1-3; 10 points (1-10): 9-10 / 7-8 / 1-6; 11 points (0-10, NPS-like): 9-10 /
    7-8 / 0-6; other lengths by proportion (top ~20% affection, bottom ~40%
    defection). Loyalty is high from ``affection_min`` and low up to
    ``defection_max``. Raises ValueError for fewer than 3 levels.
    """
    if int(scale_min) != scale_min or int(scale_max) != scale_max:
        raise ValueError(f"scale bounds must be integers, got {scale_min}-{scale_max}")
    lo, hi = int(scale_min), int(scale_max)
    n_levels = hi - lo + 1
    if n_levels < 3:
        raise ValueError(f"zones need a scale of at least 3 levels, got {lo}-{hi}")
    if n_levels in _NAMED_DEFAULTS:
        n_aff, n_def = _NAMED_DEFAULTS[n_levels]
    else:
        n_aff = max(1, round(0.2 * n_levels))
        n_def = max(1, round(0.4 * n_levels))
        n_def = min(n_def, n_levels - n_aff - 1)  # keep at least one indifference level
    n_ter = min(max(1, round(0.15 * n_levels)), n_def)
    affection_min = hi - n_aff + 1
    defection_max = lo + n_def - 1
    return ZoneThresholds(
        scale_min=lo,
        scale_max=hi,
        affection_min=affection_min,
        defection_max=defection_max,
        terrorist_max=lo + n_ter - 1,
        loyalty_high_min=affection_min,
        loyalty_low_max=defection_max,
    )


_CONFIG_KEYS = ("affection_min", "defection_max", "terrorist_max", "loyalty_high_min", "loyalty_low_max")


def thresholds_from_config(cfg: Mapping[str, Any] | None, scale_min: int, scale_max: int) -> ZoneThresholds:
    """Zone thresholds from the survey's ``zones:`` mapping, defaults filled in.

    Parameters
    ----------
    cfg : mapping with any of the keys ``affection_min``, ``defection_max``,
        ``terrorist_max``, ``loyalty_high_min``, ``loyalty_low_max`` (numbers on
        the scale); None or empty gives :func:`default_thresholds`.
    scale_min, scale_max : the scale the thresholds apply to.

    Returns a :class:`ZoneThresholds`. When ``affection_min`` or ``defection_max``
    is overridden but the loyalty keys are not, the loyalty cut-offs follow them.
    Raises :class:`~analysis.errors.SurveyDefinitionError` (a ValueError) naming
    the offending key for an unknown key, a non-number, a value off the scale or
    thresholds out of order.
    """
    base = default_thresholds(scale_min, scale_max)
    if cfg is None:
        return base
    if not isinstance(cfg, Mapping):
        raise SurveyDefinitionError(f"'zones' must be a mapping of thresholds, got {type(cfg).__name__}.")
    values: dict[str, float] = {}
    for key, value in cfg.items():
        if key not in _CONFIG_KEYS:
            raise SurveyDefinitionError(
                f"unknown zones key '{key}'.", expected="one of " + ", ".join(_CONFIG_KEYS)
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SurveyDefinitionError(
                f"zones key '{key}' must be a number on the scale {scale_min}-{scale_max}, got {value!r}."
            )
        values[key] = float(value) if not float(value).is_integer() else int(value)
    if "affection_min" in values and "loyalty_high_min" not in values:
        values["loyalty_high_min"] = values["affection_min"]
    if "defection_max" in values and "loyalty_low_max" not in values:
        values["loyalty_low_max"] = values["defection_max"]
    if "defection_max" in values and "terrorist_max" not in values:
        values["terrorist_max"] = min(base.terrorist_max, values["defection_max"])
    try:
        return replace(base, **values)
    except ValueError as exc:
        raise SurveyDefinitionError(f"zones: {exc}.") from exc


# --------------------------------------------------------------------------- zones and types


def _numeric(x: pd.Series, name: str) -> pd.Series:
    if not isinstance(x, pd.Series):
        x = pd.Series(x)
    try:
        out = pd.to_numeric(x, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric codes (NaN = missing): {exc}") from exc
    return out


def _check_range(x: pd.Series, th: ZoneThresholds, name: str) -> None:
    bad = x.notna() & ((x < th.scale_min) | (x > th.scale_max))
    if bad.any():
        first = x[bad].iloc[0]
        raise ValueError(
            f"{name} has {int(bad.sum())} value(s) outside the scale {th.scale_min}-{th.scale_max} "
            f"(e.g. {first} at index {x.index[bad.to_numpy()][0]!r}); clean missing codes first"
        )


def _labelled(codes: np.ndarray, names: tuple[str, ...], index: pd.Index, name: str) -> pd.Series:
    """Integer codes (-1 = missing) to a Series of names with NaN for missing."""
    lut = np.array([*names, np.nan], dtype=object)  # code -1 -> the last entry, NaN
    arr = lut[np.asarray(codes, dtype=np.int64)] if len(codes) else np.array([], dtype=object)
    return pd.Series(arr, index=index, name=name, dtype=object)


def zone_of(satisfaction: pd.Series, thresholds: ZoneThresholds) -> pd.Series:
    """Satisfaction zone of each respondent (Jones & Sasser 1995).

    Parameters
    ----------
    satisfaction : numeric satisfaction scores (NaN = missing).
    thresholds : :class:`ZoneThresholds` of the satisfaction scale.

    Returns a Series named ``zone`` on the same index: ``"affection"`` when
    ``score >= affection_min``, ``"defection"`` when ``score <= defection_max``,
    ``"indifference"`` otherwise, NaN when missing. Raises ValueError for a
    score outside the scale (e.g. an uncleaned 99 code).
    """
    return _three_levels(satisfaction, thresholds, "satisfaction", "zone", ZONES)


def loyalty_level(loyalty: pd.Series, thresholds: ZoneThresholds) -> pd.Series:
    """Loyalty level of each respondent: ``"high"``, ``"medium"`` or ``"low"``.

    ``loyalty`` is the loyalty score (mean of the loyalty items; NaN = missing)
    on the scale of ``thresholds``: high when ``>= loyalty_high_min``, low when
    ``<= loyalty_low_max``, medium otherwise. Returns a Series named ``loyalty_level``.
    """
    return _three_levels(loyalty, thresholds, "loyalty", "loyalty_level", LOYALTY_LEVELS)


def _three_levels(
    values: pd.Series, thresholds: ZoneThresholds, what: str, name: str, labels: Sequence[str]
) -> pd.Series:
    """``labels[2]`` at or above the high cut-off of ``what`` (satisfaction: ``affection_min``, loyalty:
    ``loyalty_high_min``), ``labels[0]`` at or below the low one (``defection_max`` / ``loyalty_low_max``),
    ``labels[1]`` between, NaN when missing; values off the scale raise ValueError."""
    s = _numeric(values, what)
    _check_range(s, thresholds, what)
    high, low = (
        (thresholds.affection_min, thresholds.defection_max)
        if what == "satisfaction"
        else (thresholds.loyalty_high_min, thresholds.loyalty_low_max)
    )
    v = s.to_numpy()
    codes = np.where(np.isnan(v), -1, np.where(v >= high, 2, np.where(v <= low, 0, 1)))
    return _labelled(codes, labels, s.index, name)


def _as_flag(detractor: pd.Series, index: pd.Index) -> np.ndarray:
    """Detractor answers to floats 1.0 / 0.0 / NaN."""
    if not detractor.index.equals(index):
        raise ValueError("detractor must have the same index as satisfaction")
    out = np.full(len(detractor), np.nan)
    for i, val in enumerate(detractor.tolist()):
        if val is None or val is pd.NA or (isinstance(val, float) and math.isnan(val)):
            continue
        if isinstance(val, (bool, np.bool_)) or val in (0, 1):
            out[i] = float(bool(val))
        else:
            raise ValueError(f"detractor must be True/False/1/0 (NaN = missing), got {val!r}")
    return out


def type_of(
    satisfaction: pd.Series,
    loyalty: pd.Series,
    thresholds_sat: ZoneThresholds,
    thresholds_loy: ZoneThresholds,
    detractor: pd.Series | None = None,
) -> pd.Series:
    """Customer type of each respondent (Jones & Sasser 1995).

    Parameters
    ----------
    satisfaction : overall satisfaction score (NaN = missing).
    loyalty : loyalty score, e.g. the mean of the loyalty items (NaN = missing),
        on the same index.
    thresholds_sat, thresholds_loy : thresholds of the satisfaction and loyalty scales.
    detractor : optional True/False (or 1/0) per respondent, e.g. an NPS detractor
        or "has complained" flag; required True (when answered) for a terrorist.

    Returns a Series named ``type`` of lowercase type names (apostle, loyalist,
    mercenary, hostage, defector, terrorist), NaN where satisfaction or loyalty is
    missing, following the decision table in the module docstring exactly.
    """
    sat = _numeric(satisfaction, "satisfaction")
    loy = _numeric(loyalty, "loyalty")
    if not sat.index.equals(loy.index):
        raise ValueError("satisfaction and loyalty must have the same index")
    zone = zone_of(sat, thresholds_sat).to_numpy()
    level = loyalty_level(loy, thresholds_loy).to_numpy()
    s = sat.to_numpy()
    flag = np.full(len(s), np.nan) if detractor is None else _as_flag(detractor, sat.index)
    known = np.array([isinstance(z, str) for z in zone], dtype=bool) & np.array(
        [isinstance(lv, str) for lv in level], dtype=bool
    )  # rule 0: missing input -> no type
    high, low = level == "high", level == "low"
    with np.errstate(invalid="ignore"):
        terrorist = known & (s <= thresholds_sat.terrorist_max) & low & (flag != 0.0)  # rule 1 (NaN flag: not given)
    t = TYPES.index
    codes = np.select(
        [~known, terrorist, high & (zone == "affection"), high & (zone == "indifference"), high & (zone == "defection"),
         high, zone == "affection"],
        [-1, t("terrorist"), t("apostle"), t("loyalist"), t("hostage"), -1, t("mercenary")],
        default=t("defector"),
    )
    return _labelled(codes, TYPES, sat.index, "type")


def zone_table(types: pd.Series, by: pd.Series | None = None, weights: Any = None) -> pd.DataFrame:
    """Counts and shares of the six customer types, optionally per group.

    Parameters
    ----------
    types : output of :func:`type_of` (NaN = unclassified, left out of n and share).
    by : optional group labels on the same index (e.g. region); NaN groups are dropped.

    Returns a DataFrame with columns ``type``, ``n``, ``share`` (share of the
    classified respondents, in the group when ``by`` is given), preceded by the
    ``by`` column (named after ``by.name``, else ``group``). All six types are
    listed, n=0 included, in the order apostle, loyalist, mercenary, hostage,
    defector, terrorist; groups in categorical (else natural) order.

    With case ``weights`` (an :class:`analysis.weighting.Weights`, rows matched by index) the
    shares are weighted (sum of the weights of a type over the classified rows' weights); ``n``
    stays the unweighted count and ``n_eff`` (Kish, of the type's rows) is added.
    ``weights=None`` gives exactly the unweighted table.
    """
    t = pd.Series(types, copy=False)
    wt = None if weights is None else pd.Series(weights.values_for(t.index), index=t.index)
    unknown = set(t.dropna().unique()) - set(TYPES)
    if unknown:
        raise ValueError(f"unknown customer type(s): {sorted(map(str, unknown))}")

    def _one(values: pd.Series) -> pd.DataFrame:
        counts = values.dropna().astype(str).value_counts()
        n = np.array([int(counts.get(name, 0)) for name in TYPES], dtype="int64")
        total = n.sum()
        share = n / total if total > 0 else np.full(len(TYPES), np.nan)
        if wt is not None:
            from analysis.weighting import kish

            classified = values.dropna().astype(str)
            mass = wt.loc[classified.index].groupby(classified).sum()
            amount = np.array([float(mass.get(name, 0.0)) for name in TYPES])
            share = amount / amount.sum() if amount.sum() > 0 else np.full(len(TYPES), np.nan)
            n_eff = [kish(wt.loc[classified.index][classified == name])["n_eff"] for name in TYPES]
            return pd.DataFrame({"type": list(TYPES), "n": n, "share": share, "n_eff": n_eff})
        return pd.DataFrame({"type": list(TYPES), "n": n, "share": share})

    if by is None:
        out = _one(t)
        out["type"] = out["type"].astype(object)
        return out
    if not t.index.equals(by.index):
        raise ValueError("types and by must have the same index")
    col = by.name if by.name is not None else "group"
    from .order import levels

    groups = levels(by)
    frames = []
    for g in groups:
        part = _one(t[(by == g).to_numpy()])
        part.insert(0, col, g)
        frames.append(part)
    if not frames:
        return pd.DataFrame({col: [], "type": [], "n": [], "share": []})
    return pd.concat(frames, ignore_index=True)


def transition_table(types_from: pd.Series, types_to: pd.Series) -> pd.DataFrame:
    """Type-to-type transitions of customers linked across two waves.

    Parameters
    ----------
    types_from, types_to : customer types of the earlier and the later wave,
        each indexed by the customer key (e.g. the hashed customer id). Only keys
        present and classified in both are counted.

    Returns a tidy cross-tab with 36 rows (every from/to pair in the type order),
    columns ``type_from``, ``type_to``, ``n`` and ``row_share`` (n divided by the
    number of linked customers of that ``type_from``; NaN when that is 0).
    The number of linked customers is ``n.sum()``. Raises ValueError
    on duplicate keys.
    """
    for name, s in (("types_from", types_from), ("types_to", types_to)):
        if s.index.has_duplicates:
            raise ValueError(f"{name} has duplicate customer keys")
        unknown = set(s.dropna().unique()) - set(TYPES)
        if unknown:
            raise ValueError(f"{name} has unknown customer type(s): {sorted(map(str, unknown))}")
    both = pd.concat(
        {"type_from": types_from.astype(object), "type_to": types_to.astype(object)}, axis=1, join="inner"
    ).dropna()
    rows = []
    for a in TYPES:
        from_a = both["type_from"] == a
        total = int(from_a.sum())
        for b in TYPES:
            n = int((from_a & (both["type_to"] == b)).sum())
            rows.append((a, b, n, n / total if total else np.nan))
    out = pd.DataFrame(rows, columns=["type_from", "type_to", "n", "row_share"])
    out = out.astype({"type_from": object, "type_to": object})
    return out


# --------------------------------------------------------------------------- quality-insensitive zone
def _weighted_loyalty_curve(
    s: np.ndarray, y: np.ndarray, flag: np.ndarray, index: pd.Index, conf: float, weights: Any
) -> pd.DataFrame:
    """:func:`loyalty_curve` under weighting (see there)."""
    from analysis.describe import logit_interval
    from analysis.weighting import design_means

    levels = np.unique(s[~np.isnan(s)])
    cols: dict[str, np.ndarray] = {}
    for j, level in enumerate(levels):
        at = s == level
        cols[f"y{j}"] = np.where(at, y, np.nan)
        cols[f"p{j}"] = np.where(at, flag, np.nan)
    est = design_means(pd.DataFrame(cols, index=index), list(cols), weights, conf=conf).set_index("column")
    rows = []
    for j, level in enumerate(levels):
        m, p = est.loc[f"y{j}"], est.loc[f"p{j}"]
        p_lo, p_hi = logit_interval(float(p["mean"]), float(p["se"]), int(p["n"]), conf)
        rows.append((level, int(m["n"]), float(m["mean"]), float(m["ci_low"]), float(m["ci_high"]), int(p["n"]),
                     float(p["mean"]), p_lo, p_hi, float(m["n_eff"])))
    cols_out = ["level", "n", "loyalty_mean", "ci_low", "ci_high", "n_promoter", "promoter_share",
                "promoter_ci_low", "promoter_ci_high", "n_eff"]
    return pd.DataFrame(rows, columns=cols_out).astype({"n": "int64", "n_promoter": "int64"})



def loyalty_curve(
    satisfaction: pd.Series,
    loyalty: pd.Series,
    promoter: pd.Series | None = None,
    conf: float = 0.95,
    weights: Any = None,
) -> pd.DataFrame:
    """Mean loyalty (and promoter share) at each satisfaction level.

    Shows the quality-insensitive zone: a flat stretch where rising satisfaction
    buys no loyalty (Jones & Sasser 1995).

    Parameters
    ----------
    satisfaction : satisfaction scores (NaN = missing), one row per respondent.
    loyalty : loyalty scores on the same index (NaN = missing).
    promoter : optional True/False (1/0) per respondent, e.g. NPS promoter (9-10).
    conf : confidence level of the intervals.

    Returns a DataFrame, one row per observed satisfaction level (ascending):
    ``level``, ``n`` (respondents with both scores), ``loyalty_mean``, ``ci_low``,
    ``ci_high`` (Student t interval, mean +/- t_{n-1} s/sqrt(n); NaN for n < 2),
    ``n_promoter`` (respondents with a promoter answer), ``promoter_share``,
    ``promoter_ci_low``, ``promoter_ci_high`` (Wilson score interval, Wilson 1927;
    NaN when ``promoter`` is not given).

    With case ``weights`` (rows matched by index): weighted means and promoter shares, with
    design-based intervals (domain means of :func:`analysis.weighting.design_means`, mean +- t se;
    the logit interval for the share); ``n`` stays unweighted, ``n_eff`` is added.
    """
    if not 0 < conf < 1:
        raise ValueError(f"conf must be in (0, 1), got {conf}")
    sat = _numeric(satisfaction, "satisfaction")
    loy = _numeric(loyalty, "loyalty")
    if not sat.index.equals(loy.index):
        raise ValueError("satisfaction and loyalty must have the same index")
    flag = np.full(len(sat), np.nan) if promoter is None else _as_flag(promoter, sat.index)
    s, y = sat.to_numpy(), loy.to_numpy()
    if weights is not None:
        return _weighted_loyalty_curve(s, y, flag, sat.index, conf, weights)
    rows = []
    for level in np.unique(s[~np.isnan(s)]):
        at = s == level
        yy = y[at & ~np.isnan(y)]
        n = len(yy)
        mean = yy.mean() if n else np.nan
        if n >= 2:
            sd = yy.std(ddof=1)
            half = stats.t.ppf(0.5 + conf / 2, n - 1) * sd / math.sqrt(n)
            lo, hi = mean - half, mean + half
        else:
            lo = hi = np.nan
        ff = flag[at & ~np.isnan(flag)]
        n_p = len(ff)
        share = ff.mean() if n_p else np.nan
        p_lo, p_hi = wilson_interval(int(ff.sum()), n_p, conf)
        rows.append((level, n, mean, lo, hi, n_p, share, p_lo, p_hi))
    cols = [
        "level",
        "n",
        "loyalty_mean",
        "ci_low",
        "ci_high",
        "n_promoter",
        "promoter_share",
        "promoter_ci_low",
        "promoter_ci_high",
    ]
    out = pd.DataFrame(rows, columns=cols).astype({"n": "int64", "n_promoter": "int64"})
    return out


def _segmented_sse(
    x: np.ndarray, grid: np.ndarray, w: np.ndarray, sy: np.ndarray, syy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """SSE and coefficients of the hinge model for aggregated data.

    ``x`` (K,) distinct satisfaction values, ``grid`` (G,) candidate breaks,
    ``w``/``sy``/``syy`` (B, K) per-sample counts, sums of y and of y**2 at each x.
    Returns SSE (B, G) and coefficients (B, G, 3) of y = b0 + b1 x + b2 max(x - c, 0).
    """
    design = np.stack(
        [
            np.ones((len(grid), len(x))),
            np.broadcast_to(x, (len(grid), len(x))),
            np.maximum(x - grid[:, None], 0),
        ],
        axis=-1,
    )  # (G, K, 3)
    xtwx = np.einsum("bk,gki,gkj->bgij", w, design, design)
    xty = np.einsum("bk,gki->bgi", sy, design)
    beta = np.einsum("bgij,bgj->bgi", np.linalg.pinv(xtwx), xty)
    sse = syy.sum(axis=1)[:, None] - np.einsum("bgi,bgi->bg", beta, xty)
    return sse, beta


@dataclass(frozen=True)
class DaviesTest:
    """Result of :func:`davies_test`: Davies' test for a change in the slope.

    ``p`` the p-value (an upper bound, at most 1); ``best`` the evaluation point with the
    largest absolute statistic; ``values`` and ``statistics`` the evaluation points and the
    t statistics of the hinge term there (R's ``process``); ``n`` observations; ``k``
    evaluation points asked for.
    """

    p: float
    best: float
    values: tuple[float, ...]
    statistics: tuple[float, ...]
    n: int
    k: int


def davies_test(x: Any, y: Any, k: int = 10) -> DaviesTest:
    """Davies' test of one change in the slope of ``y`` on ``x`` against a straight line.

    As R ``segmented::davies.test(lm(y ~ x), ~x, k = 10)`` (two-sided; segmented 1.6-2), which
    this reproduces: at ``k`` evaluation points ``psi`` equally spaced from the second-smallest
    to the second-largest observation of ``x``, the straight line is extended by the hinge
    ``max(x - psi, 0)`` and the hinge's t statistic is computed (points where the hinge is
    collinear with the line, i.e. ``psi`` at or outside the range of ``x``, are skipped, as R
    skips a singular fit). With ``M`` the largest absolute statistic, the p-value is Davies'
    upper bound for the supremum of the statistic process:

    * n <= 300 (Davies 2002, the linear model): ``p = 2 (P(T_df > M) + V (1 - u)^((df-1)/2)
      Γ(df/2 + 1/2) / (2 Γ(df/2) √π))`` with ``df = n - 3``, ``u = M² / (df + M²)`` and the
      total variation ``V = Σ |Δ asin(√(Z²/(Z² + SSE)))|`` of the process (``Z`` the hinge
      coefficient over the root of its unscaled variance);
    * n > 300 (Davies 1987, normal statistics): ``p = 2 (P(N > M) + V exp(-M²/2) / √(8π))``
      with ``V = Σ |Δ t|``.

    The bound can exceed 1; it is reported capped at 1. No randomness: deterministic.

    References: Davies, R. B. (1987). Hypothesis testing when a nuisance parameter is present
    only under the alternative. *Biometrika* 74, 33-43. Davies, R. B. (2002). Hypothesis testing
    when a nuisance parameter is present only under the alternative: linear model case.
    *Biometrika* 89, 484-489. Muggeo, V. M. R. (2008). segmented: an R package to fit
    regression models with broken-line relationships. *R News* 8(1), 20-25.

    Raises ValueError with fewer than 3 distinct ``x`` values or k < 2.
    """
    xv = np.asarray(x, dtype=float)
    yv = np.asarray(y, dtype=float)
    if xv.shape != yv.shape or xv.ndim != 1:
        raise ValueError("x and y must be 1-d arrays of the same length")
    if len(np.unique(xv)) < 3:
        raise ValueError("Davies' test needs at least 3 distinct x values")
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    n = len(xv)
    xs = np.sort(xv)
    values = np.linspace(xs[1], xs[n - 2], k)
    df = n - 3
    lo, hi = xs[0], xs[-1]
    used, tstat, ratio = [], [], []
    for psi in values:
        if not lo < psi < hi:
            continue  # the hinge is x - psi or 0 everywhere: collinear with the line (singular in R)
        design = np.column_stack([np.maximum(xv - psi, 0.0), np.ones(n), xv])
        xtx = design.T @ design
        if np.linalg.cond(xtx) > 1 / np.finfo(float).eps:
            continue
        inv = np.linalg.inv(xtx)
        beta = inv @ design.T @ yv
        sse = float(np.sum((yv - design @ beta) ** 2))
        z = beta[0] / math.sqrt(inv[0, 0])
        used.append(float(psi))
        tstat.append(z / math.sqrt(sse / df) if sse > 0 else math.copysign(math.inf, z))
        ratio.append(z**2 / (z**2 + sse) if z**2 + sse > 0 else 0.0)
    t = np.asarray(tstat)
    if len(t) == 0:
        return DaviesTest(math.nan, math.nan, (), (), n, k)
    m = float(np.max(np.abs(t)))
    best = used[int(np.argmax(np.abs(t)))]
    if not math.isfinite(m):
        p = 0.0
    elif n <= 300:
        variation = float(np.sum(np.abs(np.diff(np.arcsin(np.sqrt(ratio))))))
        u = m**2 / (df + m**2)
        gamma_ratio = math.exp(math.lgamma(df / 2 + 0.5) - math.lgamma(df / 2))
        approx = variation * (1 - u) ** ((df - 1) / 2) * gamma_ratio / (2 * math.sqrt(math.pi))
        p = 2 * (float(stats.t.sf(m, df)) + approx)
    else:
        variation = float(np.sum(np.abs(np.diff(t))))
        p = 2 * (float(stats.norm.sf(m)) + variation * math.exp(-(m**2) / 2) / math.sqrt(8 * math.pi))
    return DaviesTest(min(p, 1.0), best, tuple(used), tuple(float(v) for v in t), n, k)


@dataclass(frozen=True)
class Breakpoint:
    """Result of :func:`loyalty_breakpoint`: the test for a break and the one-break segmented regression.

    ``breakpoint`` the satisfaction value of the least-squares break; ``p`` Davies' test of a
    break against a straight line (:func:`davies_test`); ``detected`` ``p < alpha``;
    ``slope_before`` and ``slope_after`` the slopes either side; ``intercept``; ``ci_low``,
    ``ci_high`` the profile likelihood-ratio interval of the break (NaN when no break is
    detected); ``sse`` and ``r2`` of the segmented fit; ``r2_linear`` and ``slope_linear`` of
    the straight line; ``n`` respondents; ``conf`` the interval level; ``alpha`` the level of the test.
    """

    breakpoint: float
    p: float
    detected: bool
    slope_before: float
    slope_after: float
    intercept: float
    ci_low: float
    ci_high: float
    sse: float
    r2: float
    r2_linear: float
    slope_linear: float
    n: int
    conf: float
    alpha: float
    n_eff: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (what :func:`plot_loyalty_curve` takes as ``breakpoint``); ``n_eff``
        (Kish, weighted fits only) is left out when None."""
        out = asdict(self)
        if out["n_eff"] is None:
            del out["n_eff"]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row, the fields as columns in this order (``loyalty_breakpoint.csv``)."""
        return pd.DataFrame([self.to_dict()])


def loyalty_breakpoint(
    satisfaction: pd.Series,
    loyalty: pd.Series,
    step: float = 0.1,
    conf: float = 0.95,
    alpha: float = 0.05,
    weights: Any = None,
) -> Breakpoint:
    """Is there a break in the loyalty curve? Davies' test, then a one-break segmented regression.

    **Weighted** (``weights``: case weights, a :class:`analysis.weighting.Weights` or a Series
    matched by index): the fits (segmented and straight line) are weighted least squares, as R
    ``lm(weights = w)``; ``sse`` and the R² are weighted; the likelihood-ratio interval uses the
    Kish effective n in place of n, and ``n_eff`` is set. Davies' test stays on the unweighted
    answers (it is a test of the curve's shape in the sample; R's ``davies.test`` has no survey
    design either).

    **Test.** Davies' test of one change in the slope against a straight line
    (:func:`davies_test`, as R ``segmented::davies.test`` with k = 10; Davies 1987, 2002):
    ``p``, and ``detected = p < alpha``. Without a detected break the relation is read as a
    straight line and the break below is only descriptive.

    **Fit.** ``loyalty = b0 + b1 * sat + b2 * max(sat - c, 0)`` by least squares for each
    candidate break ``c`` on a grid from the 2nd to the second-last observed satisfaction level
    in steps of ``step``, keeping the ``c`` with the smallest residual sum of squares (grid
    search; Muggeo 2003).

    **Interval** (only with a detected break, else NaN): the profile likelihood-ratio interval
    of the join point (Hinkley 1971): the grid values ``c`` with
    ``n log(SSE(c) / SSE(c_hat)) <= chi2_1(conf)``, reported as their lowest and highest value.
    A percentile bootstrap of a grid search is not valid for a change point and is not used.

    Parameters
    ----------
    satisfaction, loyalty : scores on the same index; rows with either missing are dropped.
    step : spacing of the candidate breakpoints.
    conf : level of the interval.
    alpha : level of the test (a break is ``detected`` when p < alpha).

    Returns a :class:`Breakpoint`. Own code: no Python dependency fits a segmented regression
    (statsmodels and scipy have none; R's ``segmented`` is the model, and the test is checked
    against its ``davies.test``). A flat-then-steep curve (slope_before near 0, slope_after
    clearly positive) is the quality-insensitive zone. Raises ValueError with fewer than 3
    distinct satisfaction levels.

    References: Hinkley, D. V. (1971). Inference in two-phase regression. *JASA* 66, 736-743.
    Davies (1987, 2002) and Muggeo (2003): see :func:`davies_test` and the module docstring.
    """
    sat = _numeric(satisfaction, "satisfaction")
    loy = _numeric(loyalty, "loyalty")
    if not sat.index.equals(loy.index):
        raise ValueError("satisfaction and loyalty must have the same index")
    ok = sat.notna().to_numpy() & loy.notna().to_numpy()
    s, y = sat.to_numpy()[ok], loy.to_numpy()[ok]
    cw = _breakpoint_weights(weights, sat.index, ok)
    levels, kidx = np.unique(s, return_inverse=True)
    if len(levels) < 3:
        raise ValueError(f"a breakpoint needs at least 3 distinct satisfaction levels, got {len(levels)}")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    n, k = len(s), len(levels)
    grid = np.round(np.arange(levels[1], levels[-2] + step / 2, step), 10)
    cwx = np.ones(n) if cw is None else cw
    y_mean = float(cwx @ y / cwx.sum())
    yc = y - y_mean  # centring y only shifts b0; it keeps the SSE numerically stable
    w = np.bincount(kidx, weights=cwx, minlength=k).astype(float)[None, :]
    sy = np.bincount(kidx, weights=cwx * yc, minlength=k)[None, :]
    syy = np.bincount(kidx, weights=cwx * yc**2, minlength=k)[None, :]
    sse_grid, beta = _segmented_sse(levels, grid, w, sy, syy)
    sse_grid = np.maximum(sse_grid[0], 0.0)
    best = int(np.argmin(sse_grid))
    b0, b1, b2 = beta[0, best]
    sst = float(np.sum(cwx * yc**2))
    slope, icpt = np.polyfit(s, y, 1, w=np.sqrt(cwx))
    sse_lin = float(np.sum(cwx * (y - (icpt + slope * s)) ** 2))
    n_lr = float(n if cw is None else cw.sum() ** 2 / np.sum(cw**2))
    test = davies_test(s, y)
    detected = bool(np.isfinite(test.p) and test.p < alpha)
    ci_low = ci_high = math.nan
    if detected:
        sse_min = float(sse_grid[best])
        if sse_min > 0:
            lr = n_lr * np.log(sse_grid / sse_min)
            inside = grid[lr <= stats.chi2.ppf(conf, 1)]
        else:
            inside = grid[sse_grid <= 0]
        ci_low, ci_high = float(inside.min()), float(inside.max())
    return Breakpoint(
        breakpoint=float(grid[best]),
        p=float(test.p),
        detected=detected,
        slope_before=float(b1),
        slope_after=float(b1 + b2),
        intercept=float(b0 + y_mean),
        ci_low=ci_low,
        ci_high=ci_high,
        sse=float(sse_grid[best]),
        r2=1 - float(sse_grid[best]) / sst if sst > 0 else np.nan,
        r2_linear=1 - sse_lin / sst if sst > 0 else np.nan,
        slope_linear=float(slope),
        n=int(n),
        conf=float(conf),
        alpha=float(alpha),
        n_eff=None if cw is None else n_lr,
    )


def _breakpoint_weights(weights: Any, index: pd.Index, ok: np.ndarray) -> np.ndarray | None:
    """Case weights of the answered rows ``ok`` of ``index`` (None unweighted or all-1 weights)."""
    if weights is None or (hasattr(weights, "weighted") and not weights.weighted):
        return None
    if hasattr(weights, "values_for"):
        wt = weights.values_for(index)
    elif isinstance(weights, pd.Series):
        wt = weights.reindex(index).to_numpy(dtype=float)
    else:
        wt = np.asarray(weights, dtype=float)
    return wt[ok]


# --------------------------------------------------------------------------- IPA


def ipa(
    importance: pd.Series,
    performance: pd.Series,
    grid: str | tuple[float, float] = "mean",
) -> pd.DataFrame:
    """Importance-performance analysis (Martilla & James 1977).

    Parameters
    ----------
    importance : importance of each item (e.g. a driver weight), indexed by item id.
    performance : performance of each item (e.g. its mean or 0-100 index), same items.
    grid : where the grid lines go: ``"mean"`` or ``"median"`` of each axis, or an
        explicit ``(importance, performance)`` tuple.

    Returns a DataFrame in the order of ``importance`` with columns ``item``,
    ``importance``, ``performance``, ``quadrant`` (names in :data:`IPA_QUADRANTS`;
    an item on a grid line counts as high, see the module docstring);
    ``attrs["importance_line"]`` and ``attrs["performance_line"]`` hold the grid lines.
    """
    imp = _numeric(importance, "importance")
    perf = _numeric(performance, "performance")
    if imp.index.has_duplicates:
        raise ValueError("importance has duplicate item ids")
    if set(imp.index) != set(perf.index) or len(imp) != len(perf):
        raise ValueError("importance and performance must cover the same items")
    perf = perf.reindex(imp.index)
    if imp.isna().any() or perf.isna().any():
        raise ValueError("importance and performance must not be missing")
    if len(imp) == 0:
        raise ValueError("ipa needs at least one item")
    if isinstance(grid, str):
        if grid not in ("mean", "median"):
            raise ValueError(
                f"grid must be 'mean', 'median' or an (importance, performance) tuple, got {grid!r}"
            )
        imp_line, perf_line = float(getattr(imp, grid)()), float(getattr(perf, grid)())
    else:
        try:
            imp_line, perf_line = (float(v) for v in grid)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"grid tuple must be two numbers, got {grid!r}") from exc
    hi_imp = imp.to_numpy() >= imp_line
    hi_perf = perf.to_numpy() >= perf_line
    quadrant = np.where(
        hi_imp,
        np.where(hi_perf, "Keep up the good work", "Concentrate here"),
        np.where(hi_perf, "Possible overkill", "Low priority"),
    )
    out = pd.DataFrame(
        {
            "item": pd.Series(imp.index.to_numpy(), dtype=object),
            "importance": imp.to_numpy(),
            "performance": perf.to_numpy(),
            "quadrant": pd.Series(quadrant, dtype=object),
        }
    )
    out.attrs.update({"importance_line": imp_line, "performance_line": perf_line, "grid": str(grid)})
    return out


def improvement_priorities(ipa_df: pd.DataFrame, target: float | None = None) -> pd.DataFrame:
    """Rank items for improvement by importance x performance gap.

    Parameters
    ----------
    ipa_df : output of :func:`ipa` (columns ``item``, ``importance``, ``performance``).
    target : performance to reach; default the best item's performance.

    Returns a DataFrame with ``item``, ``importance``, ``performance``, ``gap``
    (target - performance), ``priority`` (importance x gap, gap floored at 0 so an
    item at or above target has priority 0) and ``rank`` (1 = act first), sorted by
    priority descending, ties broken by higher importance then item order.
    """
    need = {"item", "importance", "performance"}
    if not need <= set(ipa_df.columns):
        raise ValueError(f"ipa_df needs columns {sorted(need)}")
    df = ipa_df[["item", "importance", "performance"]].copy().reset_index(drop=True)
    tgt = float(df["performance"].max()) if target is None else float(target)
    df["gap"] = tgt - df["performance"]
    df["priority"] = df["importance"] * df["gap"].clip(lower=0)
    df["_order"] = np.arange(len(df))
    df = df.sort_values(
        ["priority", "importance", "_order"], ascending=[False, False, True], kind="mergesort"
    )
    df = df.drop(columns="_order").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df.attrs["target"] = tgt
    return df


def _resample_counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """How often each of ``n`` rows is drawn in each of ``b`` case resamples, shape (b, n)."""
    from .pls import unit_counts

    return unit_counts(rng.integers(0, n, size=(b, n)), n)


def _unit_sums(x: np.ndarray, member: np.ndarray, units: int, block: int = 65536) -> dict[str, np.ndarray]:
    """Per-unit sufficient statistics of the IPA bootstrap: of the items' answers (``filled``,
    ``answered``, for the performance) and of the complete cases' centred values (count, sums and the
    upper triangle of the cross-products, for the correlations); ``member`` is each row's unit (a row
    per unit, or random groups of rows). Rows are taken ``block`` at a time (no n x p^2 array)."""
    from .pls import group_sums

    complete = ~np.isnan(x).any(axis=1)
    center = x[complete].mean(axis=0) if complete.any() else np.zeros(x.shape[1])
    iu, ju = np.triu_indices(x.shape[1])
    k = x.shape[1] - 1
    out = {
        "filled": np.zeros((units, k)),
        "answered": np.zeros((units, k)),
        "count": np.zeros((units, 1)),
        "s1": np.zeros((units, x.shape[1])),
        "s2": np.zeros((units, iu.size)),
    }

    def add(name: str, idx: np.ndarray, values: np.ndarray) -> None:
        if units == len(member):  # one unit per row: the rows' own values
            out[name][idx] += values
        else:
            out[name] += group_sums(idx, values, units)

    for lo in range(0, len(x), block):
        xb, mb, cb = x[lo : lo + block], member[lo : lo + block], complete[lo : lo + block]
        answered = ~np.isnan(xb[:, 1:])
        add("filled", mb, np.where(answered, xb[:, 1:], 0.0))
        add("answered", mb, answered.astype(float))
        xc = xb[cb] - center
        add("count", mb[cb], np.ones((len(xc), 1)))
        add("s1", mb[cb], xc)
        add("s2", mb[cb], xc[:, iu] * xc[:, ju])
    out["count"] = out["count"][:, 0]
    return out


def _corr_from_sums(c: np.ndarray, sums: dict[str, np.ndarray], p: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrices (b, p, p) of the complete cases of the resamples with unit counts ``c``
    (b, units), and their numbers of complete cases (b,); NaN for a resample with a constant column."""
    tot = c @ sums["count"]
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = (c @ sums["s1"]) / tot[:, None]
        upper = (c @ sums["s2"]) / tot[:, None]
    iu, ju = np.triu_indices(p)
    m2 = np.empty((len(c), p, p))
    m2[:, iu, ju] = upper
    m2[:, ju, iu] = upper
    cov = m2 - m1[:, :, None] * m1[:, None, :]
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / (sd[:, :, None] * sd[:, None, :])
    corr[~(sd > 1e-12).all(axis=1)] = np.nan
    return corr, tot


def _lines(values: np.ndarray, grid: str | tuple[float, float], axis: int) -> np.ndarray:
    """Grid line of each resample (rows of ``values``) on one IPA axis (0 importance, 1 performance)."""
    if isinstance(grid, str):
        return np.nanmean(values, axis=1) if grid == "mean" else np.nanmedian(values, axis=1)
    return np.full(values.shape[0], float(grid[axis]))


def ipa_stability(
    ipa_df: pd.DataFrame,
    data: pd.DataFrame,
    outcome: str,
    ranges: Mapping[str, tuple[int, int]],
    n_boot: int = 1000,
    seed: int = 20240615,
    conf: float = 0.95,
    grid: str | tuple[float, float] = "mean",
) -> pd.DataFrame:
    """Bootstrap uncertainty of an IPA whose importance is the items' relative weight for ``outcome``.

    Parameters
    ----------
    ipa_df : output of :func:`ipa` (``item``, ``quadrant``), importance = the rescaled relative weights
        (:func:`analysis.drivers.relative_weights`) of the items for ``outcome`` on ``data``, performance =
        the items' 0-100 index (available answers, as :func:`analysis.describe.item_stats`).
    data : the respondents (numeric codes, NaN = no answer); ``outcome`` and every item a column.
    ranges : item -> (scale min, scale max), for the 0-100 index.
    n_boot, seed, conf : resamples, the seed of ``numpy.random.default_rng``, interval level.
    grid : the grid lines used by ``ipa_df`` (``"mean"``, ``"median"`` or fixed lines); re-drawn per resample.

    Returns one row per item of ``ipa_df`` (same order): ``item, importance_ci_low, importance_ci_high,
    performance_ci_low, performance_ci_high`` (percentile intervals) and ``stability``, the share of
    resamples that put the item in the quadrant of ``ipa_df`` (Bacon 2003 warns that IPA quadrants are
    unstable; the resampled grid follows Efron & Tibshirani 1993). ``n_boot`` counts the usable
    resamples (those whose items are not collinear or constant among the complete cases are skipped);
    without any, the columns are NaN.

    Method: case resampling of all rows (``rng.integers(0, n, (B, n))``, drawn in blocks in that order);
    each resample's importance is the relative weight among its complete cases, its performance the mean
    of its available answers, computed for all resamples at once from the resample counts and the rows'
    sufficient statistics (sums and cross-products of the centred complete cases, sums of the answers:
    one matrix product per block, no resampled copy; batched eigen-decompositions). Above
    :data:`analysis.pls.BOOT_GROUPS` rows the units resampled are that many random groups of rows, by
    their sums (the grouped bootstrap of :func:`analysis.pls.bootstrap_model`): cost and memory do not
    grow with n beyond one pass over the rows.
    """
    from analysis.drivers import relative_weights_batch
    from analysis.pls import BOOT_GROUPS, group_members

    items = list(ipa_df["item"])
    cols = [outcome, *items]
    x = data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    n, k = len(x), len(items)
    lo = np.array([ranges[i][0] for i in items], dtype=float)
    span = np.array([ranges[i][1] - ranges[i][0] for i in items], dtype=float)
    point = ipa_df["quadrant"].to_numpy()
    rng = np.random.default_rng(seed)
    units = n
    member = np.arange(n)
    if n > BOOT_GROUPS:  # the grouped bootstrap of analysis.pls.bootstrap_model: random groups of rows
        units = BOOT_GROUPS
        member = group_members(n, units, seed)
    sums = _unit_sums(x, member, units)
    block = max(1, int(2e7 // max(1, units * (k + 1))))  # (block x units) counts at a time
    imps, perfs = [], []
    done = 0
    while done < n_boot and units > 0 and sums["count"].sum() >= k + 2:
        b = min(block, n_boot - done)
        c = _resample_counts(rng, b, units)
        done += b
        corr, tot = _corr_from_sums(c, sums, k + 1)
        raw, ok = relative_weights_batch(corr)
        with np.errstate(divide="ignore", invalid="ignore"):
            imp = raw / raw.sum(axis=1, keepdims=True)
            perf = ((c @ sums["filled"]) / (c @ sums["answered"]) - lo) * 100.0 / span
        ok &= (tot >= k + 2) & np.isfinite(perf).all(axis=1)
        imps.append(imp[ok])
        perfs.append(perf[ok])
    imp = np.vstack(imps) if imps else np.empty((0, k))
    perf = np.vstack(perfs) if perfs else np.empty((0, k))
    out = pd.DataFrame({"item": pd.Series(items, dtype=object)})
    tail = (1 - conf) / 2
    nan = np.full(k, np.nan)
    if len(imp):
        out["importance_ci_low"], out["importance_ci_high"] = np.quantile(imp, [tail, 1 - tail], axis=0)
        out["performance_ci_low"], out["performance_ci_high"] = np.quantile(perf, [tail, 1 - tail], axis=0)
        hi_imp = imp >= _lines(imp, grid, 0)[:, None]
        hi_perf = perf >= _lines(perf, grid, 1)[:, None]
        quad = np.where(
            hi_imp,
            np.where(hi_perf, "Keep up the good work", "Concentrate here"),
            np.where(hi_perf, "Possible overkill", "Low priority"),
        )
        out["stability"] = (quad == point[None, :]).mean(axis=0)
    else:
        for col in ("importance_ci_low", "importance_ci_high", "performance_ci_low", "performance_ci_high"):
            out[col] = nan
        out["stability"] = nan
    out["n_boot"] = len(imp)
    return out
