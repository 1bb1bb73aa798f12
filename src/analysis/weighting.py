"""Weighting respondents to the customer base: raking, post-stratification, design-based means.

The survey's ``weighting:`` block (and a wave's ``margins:``) gives each segment's population
shares. :func:`make_weights` rakes the cleaned respondents to them and returns :class:`Weights`:
one weight per row (mean 1), the margins it hit, and its diagnostics. :func:`design_means`
gives weighted means with standard errors that allow for the raking, as R ``survey::svymean``
does on a raked design. Statistics functions take the result as ``weights=``.

=====================  ==========================================================
``make_weights``       rake (IPF) or post-stratify to the margins -> ``Weights``
``Weights``            weights, margins table (``weighting.csv``), diagnostics
``kish``               Kish effective n, efficiency and design effect of weights
``design_means``       weighted means with design-based (linearisation) SEs
=====================  ==========================================================

Method. Raking (iterative proportional fitting; Deming & Stephan 1940) and its standard
errors come from **svy** 0.35.0 (MIT): measured against R ``survey`` 4.1.1 on ``apistrat``,
its raked weights agree to 2.4e-12 and the standard error of a raked mean to 8e-13
(issue 13; our tests repeat this against R live). Post-stratification is raking on one
segment (one IPF sweep gives the exact post-stratified weights). The data go to polars
(svy's frame library) in :func:`_to_polars` only; every result comes back as numpy/pandas.

Bounds (``bounds: [low, high]``, multiples of the mean weight) use svy's trim-and-rerake cycle
``rake(trimming=TrimConfig(lower, upper))``: the weights are truncated at the bounds and raked
again until both the bounds (to the raking tolerance) and the margins hold. We checked the
other bounded paths of svy 0.35.0: ``rake(bounds=)`` only checks the adjustment factors after
an unbounded rake (it raises instead of bounding), so it is not used.

Refusals (:class:`~analysis.errors.DataError`): a margin group no respondent is in, a
respondent in a group the margins do not list, a respondent with no value of a margin segment,
and raking that does not converge (max margin error above ``TOL`` after ``MAX_ITER`` sweeps).
Shares that do not sum to 1 and undeclared segments are refused when the survey is loaded
(:func:`analysis.survey.parse_margins`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["Weights", "make_weights", "kish", "design_means", "uniform", "LOW_EFFICIENCY", "TOL", "MAX_ITER"]

#: Raking stops when every margin share is within TOL of its target, after at most MAX_ITER sweeps.
TOL, MAX_ITER = 1e-10, 1000
#: Below this Kish efficiency the weighting is warned about (the report says so).
LOW_EFFICIENCY = 0.40
_WEIGHT = "__w"


def kish(weights: np.ndarray | Sequence[float]) -> dict[str, float]:
    """Kish's effective sample size of a weight vector and what follows from it.

    Returns ``n``, ``n_eff = (sum w)^2 / sum w^2``, ``efficiency = n_eff / n`` and
    ``deff = n / n_eff = 1 + cv^2`` (the design effect due to unequal weighting, cv with
    divisor n). Kish (1965), *Survey Sampling*, section 11.7.
    """
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    n = int(w.size)
    if n == 0 or not np.any(w > 0):
        return {"n": n, "n_eff": math.nan, "efficiency": math.nan, "deff": math.nan}
    n_eff = float(w.sum() ** 2 / np.sum(w * w))
    return {"n": n, "n_eff": n_eff, "efficiency": n_eff / n, "deff": n / n_eff}


@dataclass(frozen=True)
class Weights:
    """Respondent weights from :func:`make_weights` (or :func:`uniform`: all 1, unweighted).

    ``weight`` one weight per row of the data, mean 1, indexed like the data; ``groups`` the
    margin segments of every row (text), the calibration variables of the design-based SEs;
    ``margins`` segment -> group -> target share as raked; ``method`` rake | poststratify |
    none; ``bounds`` (low, high) multiples of the mean weight or None; ``iterations`` IPF
    sweeps (with bounds: trim-and-rake cycles); ``converged``; ``max_error`` the largest
    margin share error reached.
    """

    weight: pd.Series
    groups: pd.DataFrame
    margins: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    method: str = "none"
    bounds: tuple[float, float] | None = None
    iterations: int = 0
    converged: bool = True
    max_error: float = 0.0
    base: np.ndarray | None = None

    @property
    def weighted(self) -> bool:
        """Whether these are real weights (False for the all-1 weights of an unweighted wave)."""
        return self.method != "none"

    def values_for(self, index: pd.Index) -> np.ndarray:
        """The weights of the rows ``index`` (a subset of the weighted rows, any order)."""
        return self.weight.reindex(index).to_numpy(dtype=float)

    def diagnostics(self) -> dict[str, Any]:
        """Iterations, converged, max margin error, Kish n_eff / efficiency / deff, min / max / ratio
        of the weights, how many sit at a bound, and ``low_efficiency`` (below ``LOW_EFFICIENCY``)."""
        w = self.weight.to_numpy(dtype=float)
        k = kish(w)
        at_low = at_high = 0
        if self.bounds is not None:
            lo, hi = self.bounds
            at_low = int(np.sum(w <= lo * (1 + 1e-6)))
            at_high = int(np.sum(w >= hi * (1 - 1e-6)))
        return {
            "method": self.method,
            "iterations": self.iterations,
            "converged": self.converged,
            "max_margin_error": self.max_error,
            **k,
            "min": float(w.min()) if w.size else math.nan,
            "max": float(w.max()) if w.size else math.nan,
            "ratio": float(w.max() / w.min()) if w.size and w.min() > 0 else math.nan,
            "bound_low": self.bounds[0] if self.bounds else math.nan,
            "bound_high": self.bounds[1] if self.bounds else math.nan,
            "n_at_bound": at_low + at_high,
            "low_efficiency": bool(k["efficiency"] < LOW_EFFICIENCY) if self.weighted else False,
        }

    def margin_table(self) -> pd.DataFrame:
        """``weighting.csv``: ``variable, group, target, sample_share, weighted_share, n`` per margin group."""
        rows = []
        w = self.weight.to_numpy(dtype=float)
        for seg, targets in self.margins.items():
            g = self.groups[seg].to_numpy()
            for group, target in targets.items():
                inside = g == group
                rows.append(
                    {
                        "variable": seg,
                        "group": group,
                        "target": target,
                        "sample_share": float(inside.mean()),
                        "weighted_share": float(w[inside].sum() / w.sum()),
                        "n": int(inside.sum()),
                    }
                )
        cols = ["variable", "group", "target", "sample_share", "weighted_share", "n"]
        return pd.DataFrame(rows, columns=cols)

    def to_frame(self, rows: pd.Series | None = None) -> pd.DataFrame:
        """``weights.csv``: ``row`` (``rows``, default the index) and ``weight``, one line per row."""
        row = self.weight.index.to_numpy() if rows is None else np.asarray(rows)
        return pd.DataFrame({"row": row, "weight": self.weight.to_numpy(dtype=float)})


def uniform(index: pd.Index) -> Weights:
    """All-1 weights of an unweighted wave (``method`` "none")."""
    return Weights(weight=pd.Series(1.0, index=index), groups=pd.DataFrame(index=index))


# --------------------------------------------------------------------------- the polars boundary
def _to_polars(frame: pd.DataFrame) -> Any:
    """The one pandas -> polars conversion (svy works on polars frames): numeric columns as
    float64 (NaN -> null), others as text."""
    import polars as pl

    cols = {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            cols[str(name)] = pl.Series(str(name), values.to_numpy(dtype=float, na_value=np.nan), nan_to_null=True)
        else:
            cols[str(name)] = pl.Series(str(name), values.astype(str).tolist(), dtype=pl.Utf8)
    return pl.DataFrame(cols)


def _sample(frame: pd.DataFrame, base: np.ndarray) -> Any:
    import svy

    data = frame.copy()
    data[_WEIGHT] = base
    return svy.Sample(_to_polars(data), svy.Design(wgt=_WEIGHT))


def _rake_svy(sample: Any, margins: Mapping[str, Mapping[str, float]], bounds: tuple[float, float] | None,
              max_iter: int, on_fail: str = "ignore") -> Any:
    from svy import TrimConfig

    trimming = None
    if bounds is not None:
        trimming = TrimConfig(lower=bounds[0], upper=bounds[1], max_iter=max_iter, redistribute=True, tol=TOL)
    shares = {seg: dict(groups) for seg, groups in margins.items()}
    return sample.weighting.rake(
        shares=shares, tol=TOL, max_iter=MAX_ITER if bounds is not None else max_iter,
        on_nonconvergence=on_fail, trimming=trimming, wgt_name="rk_wgt",
    )


def _max_error(w: np.ndarray, groups: pd.DataFrame, margins: Mapping[str, Mapping[str, float]]) -> float:
    total = w.sum()
    err = 0.0
    for seg, targets in margins.items():
        g = groups[seg].to_numpy()
        for group, target in targets.items():
            err = max(err, abs(w[g == group].sum() / total - target))
    return float(err)


def _as_text(values: pd.Series) -> pd.Series:
    """Segment values as text (margins' groups are text keys), None where missing."""
    text = values.astype(object).map(str)
    return text.where(values.notna(), None)


def _check_groups(groups: pd.DataFrame, margins: Mapping[str, Mapping[str, float]], source: str | None) -> None:
    """Refuse a design raking cannot meet, naming the segment and group."""
    for seg, targets in margins.items():
        if seg not in groups.columns:
            raise DataError(f"the margin segment '{seg}' is not a column of the data.", file=source)
        values = groups[seg]
        missing = int(values.isna().sum())
        if missing:
            raise DataError(
                f"{missing} respondent(s) have no '{seg}', so they cannot be weighted to its margins.",
                file=source, column=seg, expected=f"every respondent in one of {', '.join(targets)}",
            )
        present = set(values.astype(str))
        absent = [g for g in targets if g not in present]
        if absent:
            raise DataError(
                f"the margin group '{seg} = {absent[0]}' has no respondent, so raking cannot reach its share.",
                file=source, column=seg, expected="a respondent in every group the margins list (or drop the group)",
            )
        extra = sorted(present - set(targets))
        if extra:
            raise DataError(
                f"respondents are in '{seg} = {extra[0]}', a group the margins do not list.",
                file=source, column=seg, expected=f"margins for every group of '{seg}'",
            )


def make_weights(
    data: pd.DataFrame,
    margins: Mapping[str, Mapping[str, float]],
    *,
    method: str = "rake",
    bounds: tuple[float, float] | None = None,
    base_weights: np.ndarray | pd.Series | None = None,
    source: str | None = None,
) -> Weights:
    """Rake (or post-stratify) the rows of ``data`` to population ``margins``.

    Parameters: ``data`` one row per respondent with the margin segments as columns;
    ``margins`` segment -> group -> share (each summing to 1); ``method`` rake | poststratify
    (one segment); ``bounds`` (low, high) multiples of the mean weight; ``base_weights``
    design weights to start from (default 1); ``source`` the file named in refusals.

    Returns :class:`Weights` with mean 1 (the weights sum to the number of rows), indexed
    like ``data``. Raking stops when the largest margin share error is at most ``TOL``
    (1e-10), with at most ``MAX_ITER`` (1000) sweeps; not converging raises DataError.
    Method: svy ``Sample.weighting.rake`` (see the module docstring).
    """
    if method not in ("rake", "poststratify"):
        raise ValueError(f"method must be rake or poststratify, got {method!r}")
    if method == "poststratify" and len(margins) != 1:
        raise ValueError("poststratify weights to one segment; use rake for several")
    groups = pd.DataFrame(
        {seg: _as_text(data[seg]) if seg in data.columns else pd.Series(dtype=object) for seg in margins},
        index=data.index,
    )
    _check_groups(groups, margins, source)
    n = len(data)
    base = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=float)
    sample = _sample(groups, base)

    def run(max_iter: int) -> np.ndarray:
        out = _rake_svy(sample, margins, bounds, max_iter)
        return out.data["rk_wgt"].to_numpy()

    w = run(MAX_ITER)
    err = _max_error(w, groups, margins)
    converged = err <= TOL * 1.0001 and (bounds is None or _within(w / w.mean(), bounds))
    iterations = _iterations(run, groups, margins) if converged and bounds is None else MAX_ITER
    if bounds is not None:
        iterations = _cycles(sample, margins, bounds, groups)
    if not converged:
        raise DataError(
            f"raking did not converge: the largest margin error is {err:.2e} after {MAX_ITER} sweeps"
            + (f" within bounds {list(bounds)}" if bounds else "") + ".",
            file=source, expected="margins the sample can meet (wider bounds, or merge small groups)",
        )
    w = w / w.mean()
    return Weights(
        weight=pd.Series(w, index=data.index), groups=groups, margins={k: dict(v) for k, v in margins.items()},
        method=method, bounds=bounds, iterations=iterations, converged=converged, max_error=err,
        base=None if base_weights is None else base,
    )


def _within(w: np.ndarray, bounds: tuple[float, float]) -> bool:
    lo, hi = bounds
    return bool(np.all(w >= lo * (1 - 1e-8)) and np.all(w <= hi * (1 + 1e-8)))


def _iterations(run: Any, groups: pd.DataFrame, margins: Mapping[str, Mapping[str, float]]) -> int:
    """The fewest IPF sweeps svy needs to reach ``TOL`` (svy does not report its count): bisection on
    ``max_iter``, each trial a full svy rake."""
    lo, hi = 1, MAX_ITER
    while lo < hi:
        mid = (lo + hi) // 2
        if _max_error(run(mid), groups, margins) <= TOL * 1.0001:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _cycles(sample: Any, margins: Mapping[str, Mapping[str, float]], bounds: tuple[float, float],
            groups: pd.DataFrame) -> int:
    """The fewest trim-and-rake cycles that meet both the bounds and the margins (bisection)."""
    lo, hi = 1, 50
    while lo < hi:
        mid = (lo + hi) // 2
        w = _rake_svy(sample, margins, bounds, mid).data["rk_wgt"].to_numpy()
        if _max_error(w, groups, margins) <= TOL * 1.0001 and _within(w / w.mean(), bounds):
            hi = mid
        else:
            lo = mid + 1
    return lo


# --------------------------------------------------------------------------- design-based means
def design_means(
    data: pd.DataFrame,
    columns: Sequence[str],
    weights: Weights | np.ndarray | pd.Series,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Weighted means with design-based standard errors, one row per column.

    Parameters: ``data`` the rows (a subset of the weighted rows, by index, or all of them);
    ``columns`` numeric columns (NaN = not answered: excluded as a domain, as R
    ``svymean(na.rm = TRUE)``); ``weights`` :class:`Weights` (calibration-aware SE: the
    linearised variable's residuals from the raking margins, as R ``svymean`` on a
    ``rake()``-d design), or a plain weight vector aligned with ``data`` (fixed weights, as
    R ``svydesign(ids = ~1, weights = ~w)``).

    Returns ``column, mean, se, ci_low, ci_high, n, n_eff``: ``n`` answered rows (unweighted),
    ``n_eff`` their Kish effective n; the interval is mean +- t se with n - 1 degrees of freedom (as svy). Rows of the weighted data
    not in ``data`` count as outside the domain (their weights still calibrate the design).
    Method: svy ``Sample.estimation.mean`` (Taylor linearisation, with-replacement, one stage).
    """
    from scipy import stats

    cols = list(columns)
    if isinstance(weights, Weights):
        frame = data[cols].apply(pd.to_numeric).reindex(weights.weight.index)
        base = np.ones(len(frame)) if weights.base is None else weights.base
        if weights.weighted:
            sample = _rake_svy(_sample(pd.concat([weights.groups, frame], axis=1), base),
                               weights.margins, weights.bounds, MAX_ITER, on_fail="error")
        else:
            sample = _sample(frame, np.ones(len(frame)))
        w = weights.weight.to_numpy(dtype=float)
    else:
        frame = data[cols].apply(pd.to_numeric)
        w = np.asarray(weights, dtype=float)
        sample = _sample(frame, w)
    rows = []
    for col in cols:
        answered = frame[col].notna().to_numpy()
        k = kish(w[answered])
        row = {"column": col, "mean": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan,
               "n": int(answered.sum()), "n_eff": k["n_eff"]}
        if answered.sum() >= 1:
            est = sample.estimation.mean(str(col), drop_nulls=True).to_polars()
            n = int(answered.sum())
            mean, se = float(est["est"][0]), float(est["se"][0]) if n > 1 else math.nan
            t = float(stats.t.ppf(1 - (1 - conf) / 2, n - 1)) if n > 1 else math.nan
            row.update(mean=mean, se=se, ci_low=mean - t * se, ci_high=mean + t * se)
        rows.append(row)
    return pd.DataFrame(rows, columns=["column", "mean", "se", "ci_low", "ci_high", "n", "n_eff"])
