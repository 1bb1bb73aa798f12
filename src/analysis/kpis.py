"""Key performance indicators of a wave and their status against the survey's targets.

Two kinds of KPI feed the evaluation (CONTRACT section 4, ``kpis.csv``):

* **survey KPIs**, computed elsewhere from the cleaned answers and passed in
  as numbers: ``satisfaction_rate``, ``csi``, ``index_change``, ``nps``,
  ``response_rate``, ``repurchase_rate``;
* **operational KPIs** from the wave's complaint log (``operations:`` in the
  wave file), computed here: :func:`operational_kpis` for one wave and
  :func:`wave_kpis` for the changes against the baseline wave
  (``complaint_rate_change``, ``resolution_time_change``).

:func:`kpi_table` puts values and targets side by side with a status of
``met``, ``not met`` or ``no target``. Targets come from the survey
definition (``targets: {satisfaction_rate: {min: 0.90}}``); both bounds are
inclusive. The KPI definitions follow the improvement plan quoted in
``DOMAIN.md`` (complaints answered within 24 hours, call-back within 3 days of
closing a complaint, complaint rate down 30 %, resolution time halved).

Units: shares and relative changes are fractions (0.9 = 90 %, -0.30 = down
30 %); ``nps`` is in points from -100 to 100; ``csi`` and ``index_change`` in
points of the 0-100 index; times in hours.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .words import LANGUAGES, language_code, number, percent, recognisers, signed, slug, word

#: Columns a complaint log must have (one row per complaint).
OPERATIONS_REQUIRED = ("complaint_id", "opened", "first_response", "resolved", "followed_up")
#: Columns a complaint log may have; kept as text when present.
OPERATIONS_OPTIONAL = ("customer_type", "region", "channel", "category")

#: Service-response deadline (hours after the complaint is opened).
RESPONSE_HOURS = 24.0
#: Follow-up call deadline (hours after the complaint is resolved): 3 days.
FOLLOWUP_HOURS = 72.0

#: Relative tolerance of the target comparison, so that a value equal to its
#: target up to floating-point rounding (0.0049 / 0.007 - 1 = -0.30000000000000004) counts as on target.
TARGET_RTOL = 1e-9

#: Every KPI the package knows: key -> unit, in reporting order. Labels are the language files'
#: ``metric.<kpi>`` words (analysis/i18n), written into kpis.csv as label_en / label_zh.
#: unit is one of "share" (0-1), "relative change" (-0.3 = down 30 %), "points", "hours", "count".
KNOWN_KPIS: dict[str, str] = {
    "satisfaction_rate": "share",
    "csi": "points",
    "index_change": "points",
    "nps": "points",
    "response_rate": "share",
    "repurchase_rate": "share",
    "churn_rate": "share",
    "complaint_rate": "share",
    "complaint_rate_change": "relative change",
    "median_resolution_hours": "hours",
    "resolution_time_change": "relative change",
    "response_within_24h": "share",
    "followup_within_3d": "share",
    "n_complaints": "count",
    "n_resolved": "count",
    "n_unresolved": "count",
}

#: Status values of ``kpis.csv`` (CONTRACT section 4), with their report words (``status.*``).
STATUS_TEXT: dict[str, dict[str, str]] = {
    status: {lang: word(f"status.{slug(status)}", lang) for lang in LANGUAGES}
    for status in ("met", "not met", "no target")
}
#: The ``note`` of a KPI without a value in ``kpis.csv`` (a data value; reports show ``status.no_data``).
NO_DATA_NOTE = "no data"


# --------------------------------------------------------------------------- the complaint log
def _clean_timestamp_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.isoformat(sep=" ")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.lower() in recognisers()["timestamp_empty"]:
        return ""
    for old, new in recognisers()["timestamp_replace"].items():
        text = text.replace(old, new)
    return " ".join(text.split())


def parse_timestamps(
    values: pd.Series, column: str, source: str | None = None, required: bool = False
) -> pd.Series:
    """Parse a column of timestamps written as text.

    Accepts ISO-like forms with ``-`` or ``/`` separators, an optional ``T``,
    optional seconds, dates without time, unpadded months/days and full-width
    digits (``2025-03-02 14:05``, ``2025/3/2 9:05``, and the Chinese year-month-day form of
    ``i18n/recognisers.yaml``).
    Empty cells become NaT; with ``required=True`` an empty cell is an error.

    Returns a ``datetime64`` Series with the input's index. Raises
    :class:`~analysis.errors.DataError` naming the file, the 1-based data row
    (position in ``values`` + 1), the column and the unreadable value.
    """
    text = pd.Series([_clean_timestamp_text(v) for v in values], index=values.index, dtype=object)
    parsed = pd.to_datetime(text.where(text != "", None), format="ISO8601", errors="coerce")
    empty = (text == "").to_numpy()
    bad = parsed.isna().to_numpy() & ~empty
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"'{values.iloc[pos]}' is not a date and time.",
            file=source,
            row=pos + 1,
            column=column,
            expected="a timestamp like 2025-03-02 14:05",
        )
    if required and empty.any():
        pos = int(np.flatnonzero(empty)[0])
        raise DataError("is empty.", file=source, row=pos + 1, column=column, expected="a timestamp")
    return pd.Series(parsed.to_numpy(), index=values.index, name=column)


def _hours(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.total_seconds() / 3600.0).to_numpy(dtype=float)


def _check_order(hours: np.ndarray, column: str, before: str, source: str | None) -> None:
    negative = np.flatnonzero(hours < 0)
    if len(negative):
        pos = int(negative[0])
        raise DataError(
            f"is {-hours[pos]:.1f} hours earlier than '{before}'.",
            file=source,
            row=pos + 1,
            column=column,
            expected=f"a time at or after '{before}'",
        )


def operational_kpis(
    complaints: pd.DataFrame, customers: int | None, source: str | Path | None = None
) -> dict[str, float]:
    """Operational KPIs of one wave from its complaint log.

    Inputs: ``complaints`` with one row per complaint and the timestamp columns
    ``opened`` (required), ``first_response``, ``resolved``, ``followed_up``
    (empty = not yet); ``customers`` = number of active customers in the wave
    (None when unknown); ``source`` = the file name for error messages (default
    ``complaints.attrs["source"]``, set by :func:`read_operations`).

    Output (a dict of floats):

    ``n_complaints``            number of complaints
    ``complaint_rate``          n_complaints / customers (NaN when customers is unknown)
    ``n_resolved`` / ``n_unresolved``  complaints with / without a ``resolved`` time
    ``median_resolution_hours`` median of resolved - opened over resolved complaints
                                (unresolved ones are excluded, and counted in ``n_unresolved``)
    ``response_within_24h``     share of ALL complaints with first_response - opened <= 24 h;
                                a complaint never answered counts as not within 24 h
    ``followup_within_3d``      share of RESOLVED complaints with followed_up - resolved <= 72 h;
                                never followed up counts as not within 3 days

    Shares are NaN when their denominator is 0. Deadlines are inclusive
    (exactly 24 h is on time). Method: simple counts and a sample median, the
    service standards of the improvement plan in ``DOMAIN.md``.

    Raises :class:`~analysis.errors.DataError` (file, 1-based row, column) on an
    unreadable or missing ``opened`` time, an unreadable other timestamp, or a
    time earlier than the step before it (response or resolution before opening,
    follow-up before resolution).
    """
    src = str(source) if source is not None else complaints.attrs.get("source")
    frame = complaints.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in OPERATIONS_REQUIRED if c != "complaint_id" and c not in frame.columns]
    if missing:
        raise DataError(
            f"the complaint log lacks the column(s) {', '.join(missing)}.",
            file=src,
            expected=f"columns {', '.join(OPERATIONS_REQUIRED)}",
        )
    opened = parse_timestamps(frame["opened"], "opened", src, required=True)
    response = parse_timestamps(frame["first_response"], "first_response", src)
    resolved = parse_timestamps(frame["resolved"], "resolved", src)
    followed = parse_timestamps(frame["followed_up"], "followed_up", src)

    to_response = _hours(response, opened)
    to_resolved = _hours(resolved, opened)
    to_followup = _hours(followed, resolved)
    _check_order(to_response, "first_response", "opened", src)
    _check_order(to_resolved, "resolved", "opened", src)
    _check_order(to_followup, "followed_up", "resolved", src)

    n = len(frame)
    is_resolved = ~np.isnan(to_resolved)
    n_resolved = int(is_resolved.sum())
    # NaN compares False: no response / no follow-up is "not within"
    responded_in_time = np.less_equal(
        to_response, RESPONSE_HOURS, where=~np.isnan(to_response), out=np.zeros(n, bool)
    )
    followed_in_time = np.less_equal(
        to_followup, FOLLOWUP_HOURS, where=~np.isnan(to_followup), out=np.zeros(n, bool)
    )

    rate = n / customers if customers is not None and customers > 0 else math.nan
    return {
        "n_complaints": float(n),
        "complaint_rate": float(rate),
        "n_resolved": float(n_resolved),
        "n_unresolved": float(n - n_resolved),
        "median_resolution_hours": float(np.median(to_resolved[is_resolved])) if n_resolved else math.nan,
        "response_within_24h": float(responded_in_time.mean()) if n else math.nan,
        "followup_within_3d": float(followed_in_time[is_resolved].mean()) if n_resolved else math.nan,
    }


def _relative_change(current: float | None, baseline: float | None) -> float:
    if current is None or baseline is None:
        return math.nan
    current, baseline = float(current), float(baseline)
    if math.isnan(current) or math.isnan(baseline) or baseline == 0:
        return math.nan
    return current / baseline - 1.0


def wave_kpis(
    values_current: Mapping[str, float], values_baseline: Mapping[str, float] | None
) -> dict[str, float]:
    """KPIs that compare a wave with its baseline wave.

    Inputs: the current and baseline waves' raw numbers (the output of
    :func:`operational_kpis`, optionally with ``csi``); ``values_baseline`` None
    when the wave has no baseline.

    Output:

    ``complaint_rate_change``   complaint_rate_now / complaint_rate_baseline - 1 (-0.30 = down 30 %)
    ``resolution_time_change``  median_resolution_hours_now / ..._baseline - 1 (-0.5 = halved)
    ``index_change``            csi_now - csi_baseline, in index points (only when both have ``csi``)

    A value is NaN when either wave lacks the number or the baseline is 0 (a
    relative change from zero is undefined). The complaint rate needs the
    number of customers of both waves; raw complaint counts are not compared,
    since the customer base may have changed.
    """
    base = values_baseline or {}
    out = {
        "complaint_rate_change": _relative_change(
            values_current.get("complaint_rate"), base.get("complaint_rate")
        ),
        "resolution_time_change": _relative_change(
            values_current.get("median_resolution_hours"), base.get("median_resolution_hours")
        ),
    }
    if "csi" in values_current:
        cur, old = values_current.get("csi"), base.get("csi")
        out["index_change"] = float(cur) - float(old) if cur is not None and old is not None else math.nan
    return out


# --------------------------------------------------------------------------- targets
def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return True


def format_bound(value: float, unit: str = "share") -> str:
    """A target bound as text: 2 decimals for shares and relative changes (0.90, -0.30), else compact (5, 30).

    Never rounds a bound away: 0.125 stays ``0.125``.
    """
    value = float(value)
    if unit in ("share", "relative change"):
        text = f"{value:.2f}"
        if float(text) == value:
            return text
    return f"{value:.10g}"


def target_text(bound: Mapping[str, float], unit: str = "share") -> str:
    """``{"min": 0.9}`` -> ``">= 0.90"``, ``{"max": -0.3}`` -> ``"<= -0.30"``, both -> ``">= a and <= b"``."""
    parts = []
    if "min" in bound:
        parts.append(f">= {format_bound(bound['min'], unit)}")
    if "max" in bound:
        parts.append(f"<= {format_bound(bound['max'], unit)}")
    return " and ".join(parts)


def target_met(value: float, bound: Mapping[str, float], rtol: float = TARGET_RTOL) -> bool:
    """Whether ``value`` meets ``bound`` (``min`` and/or ``max``, both inclusive).

    Compared with a relative tolerance ``rtol`` so that a value equal to the
    bound up to floating-point rounding meets it. A missing value never meets.
    """
    if _is_missing(value):
        return False
    value = float(value)
    ok = True
    if "min" in bound:
        lo = float(bound["min"])
        ok &= value >= lo - rtol * max(1.0, abs(lo))
    if "max" in bound:
        hi = float(bound["max"])
        ok &= value <= hi + rtol * max(1.0, abs(hi))
    return bool(ok)


def kpi_table(
    values: Mapping[str, float],
    targets: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, Mapping[str, str]] | None = None,
    kpis: list[str] | None = None,
) -> pd.DataFrame:
    """The KPI table of a wave (``kpis.csv``): each KPI's value against its target.

    Inputs: ``values`` KPI -> number (NaN or absent = not measured);
    ``targets`` KPI -> ``{"min": x}`` and/or ``{"max": x}`` (``Survey.targets``);
    ``labels`` optional KPI -> ``{"en": ..., "zh": ..., "unit": ...}`` for KPIs not
    in :data:`KNOWN_KPIS` or to override their labels; ``kpis`` the rows to show
    (default: every KPI that has a target or a value, known KPIs first in the
    order of :data:`KNOWN_KPIS`).

    Output columns: ``kpi``, ``value``, ``target`` (text, ``">= 0.90"``, empty
    without target), ``status``, ``note``, ``label_en``, ``label_zh``, ``unit``.

    Status (CONTRACT section 4 allows only these three):

    * ``met``: a target exists and the value meets it (bounds inclusive);
    * ``not met``: a target exists and the value misses it, or the value is
      unknown; then ``note`` is ``"no data"``: a target that cannot be checked
      is not reported as met;
    * ``no target``: the survey definition sets no target for this KPI (``note``
      ``"no data"`` too when the value is unknown).
    """
    labels = labels or {}
    if kpis is None:
        present = [k for k in values if not _is_missing(values[k])]
        keys = list(dict.fromkeys([*targets, *present]))
        order = {k: i for i, k in enumerate(KNOWN_KPIS)}
        kpis = sorted(keys, key=lambda k: (order.get(k, len(order)), keys.index(k)))
    rows = []
    for kpi in kpis:
        known = kpi in KNOWN_KPIS
        en = word(f"metric.{kpi}", "en") if known else kpi
        zh = word(f"metric.{kpi}", "zh") if known else kpi
        unit = KNOWN_KPIS.get(kpi, "")
        custom = labels.get(kpi, {})
        en, zh, unit = custom.get("en", en), custom.get("zh", zh), custom.get("unit", unit)
        raw = values.get(kpi)
        value = math.nan if _is_missing(raw) else float(raw)
        bound = targets.get(kpi)
        if bound:
            status = "met" if target_met(value, bound) else "not met"
            target = target_text(bound, unit or "share")
        else:
            status, target = "no target", ""
        note = NO_DATA_NOTE if math.isnan(value) else ""
        rows.append(
            {
                "kpi": kpi,
                "value": value,
                "target": target,
                "status": status,
                "note": note,
                "label_en": en,
                "label_zh": zh,
                "unit": unit,
            }
        )
    columns = ["kpi", "value", "target", "status", "note", "label_en", "label_zh", "unit"]
    return pd.DataFrame(rows, columns=columns).astype({"value": float})


def format_kpi_value(value: float, unit: str) -> str:
    """A KPI value for people: shares as percent (``87.5%``), relative changes signed (``-31.2%``),
    points with one decimal, hours with one decimal, counts as integers; ``–`` when missing."""
    if _is_missing(value):
        return "–"
    value = float(value)
    if unit == "share":
        return percent(value, 1)
    if unit == "relative change":
        return signed(value * 100, 1, "%")
    if unit == "count":
        return number(value, 0)
    if unit == "hours":
        return number(value, 1) + " h"
    return number(value, 1)


def format_target(bound_text: str, unit: str) -> str:
    """A target as people read it: ``">= 0.9"`` on a share -> ``"≥ 90.0%"``; empty stays empty."""
    if not bound_text:
        return ""
    out = []
    for part in bound_text.split(" and "):
        op, number = part.split(" ", 1)
        out.append(f"{'≥' if op == '>=' else '≤'} {format_kpi_value(float(number), unit)}")
    return ", ".join(out)


def kpi_display(table: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The KPI table as text for a report, in ``language`` ("en" or "zh").

    Input: the output of :func:`kpi_table`. Output columns (localised names):
    KPI label, value, target, status (with "no data" noted), all strings;
    values formatted by :func:`format_kpi_value` (``87.5%``, ``+2.3``).
    """
    lang = language_code(language)
    names = tuple(word(f"column.{c}", lang) for c in ("kpi", "value", "target", "status"))
    rows = []
    for rec in table.to_dict("records"):
        status = STATUS_TEXT[rec["status"]][lang]
        if rec.get("note"):
            status = word("status.with_note", lang, status=status, note=word("status.no_data", lang))
        rows.append(
            {
                names[0]: rec[f"label_{lang}"],
                names[1]: format_kpi_value(rec["value"], rec["unit"]),
                names[2]: format_target(rec["target"], rec["unit"]),
                names[3]: status,
            }
        )
    return pd.DataFrame(rows, columns=list(names))
