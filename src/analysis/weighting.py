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
``design_shares``      design-based shares of 0/1 flags (``design_share``: one)
``domain_means_batch`` domain means and covariances (``domain_means``: one)
``design_diffs``       design t tests of two domain means (``design_diff``: one)
``design_changes``     change between two waves (``design_change``: one metric)
``design_group_tests`` Wald F / design t group comparisons
=====================  ==========================================================

One design per table. Every design-based estimate needs the svy design: the weighted rows raked
again from their base weights (so the SEs allow for the calibration), about 10 ms each time. The
batched functions build it once for all their columns or domains (one svy ``Sample``, one rake)
and estimate each from it; the one-column functions are their one-column case, so both give the
same numbers bit for bit (svy's estimate of a column does not depend on the other columns).

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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = [
    "Weights", "make_weights", "kish", "design_means", "uniform", "fixed", "domain_means", "design_wald",
    "design_group_tests", "design_change", "WeightingWarning", "LOW_EFFICIENCY", "TOL", "MAX_ITER",
    "reindexed", "design_share", "design_diff", "influence", "design_shares", "design_diffs", "domain_means_batch",
    "design_changes",
]

#: Raking stops when every margin share is within TOL of its target, after at most MAX_ITER sweeps.
TOL, MAX_ITER = 1e-10, 1000
#: Below this Kish efficiency the weighting is warned about (the report says so).
LOW_EFFICIENCY = 0.40
_WEIGHT = "__w"


class WeightingWarning(UserWarning):
    """Weights that work but cost much precision (Kish efficiency below ``LOW_EFFICIENCY``)."""


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
        """``weighting.csv``: ``variable, group, target, sample_share, weighted_share, n, n_eff`` per margin
        group (``n`` the respondents in it, ``n_eff`` the Kish effective n of their weights)."""
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
                        "n_eff": kish(w[inside])["n_eff"],
                    }
                )
        cols = ["variable", "group", "target", "sample_share", "weighted_share", "n", "n_eff"]
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
    """The largest |weighted share - target| over every margin group."""
    total = w.sum()
    err = 0.0
    for seg, targets in margins.items():
        codes = pd.Categorical(groups[seg], categories=list(targets)).codes
        sums = np.bincount(codes[codes >= 0], weights=w[codes >= 0], minlength=len(targets))
        err = max(err, float(np.max(np.abs(sums / total - np.array(list(targets.values()))))))
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
        present = {str(v) for v in pd.unique(values)}
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
    efficiency = kish(w)["efficiency"]
    if efficiency < LOW_EFFICIENCY:
        warnings.warn(
            f"{source + ': ' if source else ''}the weighting efficiency is {efficiency:.0%} (below "
            f"{LOW_EFFICIENCY:.0%}): a few respondents carry much weight; check the margins or merge small groups.",
            WeightingWarning,
            stacklevel=2,
        )
    return Weights(
        weight=pd.Series(w, index=data.index), groups=groups, margins={k: dict(v) for k, v in margins.items()},
        method=method, bounds=bounds, iterations=iterations, converged=converged, max_error=err,
        base=None if base_weights is None else base,
    )


def _within(w: np.ndarray, bounds: tuple[float, float]) -> bool:
    lo, hi = bounds
    return bool(np.all(w >= lo * (1 - 1e-8)) and np.all(w <= hi * (1 + 1e-8)))


def _iterations(run: Any, groups: pd.DataFrame, margins: Mapping[str, Mapping[str, float]]) -> int:
    """The fewest IPF sweeps svy needs to reach ``TOL`` (svy does not report its count): galloping
    (1, 2, 4, ...) then bisection on ``max_iter``, each trial a full svy rake (about 2 log2(k) trials)."""
    hi = 1
    while hi < MAX_ITER and _max_error(run(hi), groups, margins) > TOL * 1.0001:
        hi = min(2 * hi, MAX_ITER)
    lo = max(1, hi // 2 + 1) if hi > 1 else 1
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
def _design(weights: Weights, frame: pd.DataFrame) -> Any:
    """The svy design of ``frame`` (rows = the weighted rows): raked again to the margins from the base
    weights (calibration-aware variances), or, for weights without margins, fixed weights."""
    if weights.margins:
        base = np.ones(len(frame)) if weights.base is None else weights.base
        return _rake_svy(_sample(pd.concat([weights.groups, frame], axis=1), base), weights.margins,
                         weights.bounds, MAX_ITER, on_fail="error")
    return _sample(frame, weights.weight.to_numpy(dtype=float))


def reindexed(weights: Weights, rows: pd.Index, labels: Sequence[Any]) -> Weights:
    """The same weights (and design) of the rows ``rows`` (every weighted row, any order), relabelled by
    ``labels`` (one per row; e.g. the cleaning log's ``row`` numbers the comment tables use)."""
    from dataclasses import replace

    if len(rows) != len(weights.weight) or not pd.Index(rows).isin(weights.weight.index).all():
        raise ValueError("reindexed: rows must be exactly the weighted rows")
    new = pd.Index(labels)
    base = None if weights.base is None else pd.Series(weights.base, index=weights.weight.index).reindex(rows).to_numpy()
    return replace(weights, weight=pd.Series(weights.values_for(pd.Index(rows)), index=new),
                   groups=weights.groups.reindex(rows).set_axis(new), base=base)


def design_share(flag: pd.Series, weights: Weights, conf: float = 0.95) -> dict[str, float]:
    """Weighted share of a 0/1 ``flag`` (NaN = outside the domain, e.g. no comment), design-based.

    Returns ``share``, ``se`` (:func:`design_means`: calibration-aware, as R
    ``svymean(~flag, subset(design, domain))``), ``ci_low``, ``ci_high`` (the logit interval of R
    ``svyciprop``, :func:`analysis.describe.logit_interval`; at a share of 0 or 1, where the logit
    interval is undefined, the Wilson interval on the Kish effective n of the domain), ``n`` the
    domain's rows, ``k`` the flagged rows and ``n_eff`` (Kish) of the flagged rows' weights.
    One flag of :func:`design_shares`.
    """
    return design_shares(flag.rename("flag").to_frame(), weights, conf=conf)[0]


def design_shares(flags: pd.DataFrame, weights: Weights, conf: float = 0.95) -> list[dict[str, float]]:
    """:func:`design_share` of every column of ``flags`` (0/1, NaN = outside that flag's domain), in
    column order, from one svy design (one rake): the same numbers as one call per column."""
    from .describe import logit_interval, wilson_interval

    names = [f"f{j}" for j in range(flags.shape[1])]
    frame = flags.set_axis(names, axis=1)
    table = design_means(frame, names, weights, conf=conf)
    out = []
    for j, name in enumerate(names):
        est = table.iloc[j]
        n, share, se = int(est["n"]), float(est["mean"]), float(est["se"])
        inside = frame[name].reindex(weights.weight.index)
        k = int((inside == 1).sum())
        if n and 0 < share < 1:
            low, high = logit_interval(share, se, n, conf)
        elif n:
            n_dom = kish(weights.weight[inside.notna()].to_numpy())["n_eff"]
            low, high = wilson_interval(round(share * n_dom), max(round(n_dom), 1), conf)
        else:
            low = high = math.nan
        n_eff = kish(weights.weight[(inside == 1).to_numpy()].to_numpy())["n_eff"] if k else 0.0
        out.append({"share": share, "se": se, "ci_low": low, "ci_high": high, "n": n, "k": k, "n_eff": n_eff})
    return out


def design_diff(y: pd.Series, flag: pd.Series, weights: Weights) -> tuple[float, float, float]:
    """Weighted mean of ``y`` where ``flag`` is 1 minus where it is 0 (rows with ``y`` or ``flag`` missing
    are outside), its design t statistic and two-sided p (n - 2 df): the two domain means and their
    covariance from :func:`domain_means` (calibration-aware). ``(diff, t, p)``; NaN when a side has
    fewer than 2 rows. One flag of :func:`design_diffs`."""
    return design_diffs(y, flag.to_frame(), weights)[0]


def design_diffs(y: pd.Series, flags: pd.DataFrame, weights: Weights) -> list[tuple[float, float, float]]:
    """:func:`design_diff` of ``y`` for every column of ``flags``, in column order, from one svy design
    (one rake, :func:`domain_means_batch`): the same numbers as one call per flag."""
    from scipy import stats

    out: list[tuple[float, float, float] | None] = []
    frames, specs = {}, []
    for j in range(flags.shape[1]):
        frame = pd.DataFrame({"y": y, "g": flags.iloc[:, j].astype(float).map({1.0: "a", 0.0: "b"})})
        ok = frame["y"].notna() & frame["g"].notna()
        if (frame.loc[ok, "g"] == "a").sum() < 2 or (frame.loc[ok, "g"] == "b").sum() < 2:
            out.append((math.nan, math.nan, math.nan))
            continue
        frames[f"y{j}"], frames[f"g{j}"] = frame["y"], frame["g"]
        specs.append((f"y{j}", f"g{j}", ["a", "b"]))
        out.append(None)
    if specs:
        done = iter(domain_means_batch(pd.DataFrame(frames), specs, weights))
    result = []
    for item in out:
        if item is not None:
            result.append(item)
            continue
        levels, means, cov, n = next(done)
        d = float(means[0] - means[1])
        se = math.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0))
        if se == 0:
            result.append((d, math.nan, math.nan))
            continue
        t = d / se
        result.append((d, t, float(2 * stats.t.sf(abs(t), int(n.sum()) - 2))))
    return result


def fixed(weight: pd.Series) -> Weights:
    """Weights known only as numbers (e.g. a baseline wave's ``weights.csv``): design-based SEs treat
    them as fixed (no calibration residuals), as R ``svydesign(ids = ~1, weights = ~w)``."""
    return Weights(weight=weight.astype(float), groups=pd.DataFrame(index=weight.index), method="fixed")


def design_change(
    baseline: pd.Series, base_weights: Weights, current: pd.Series, weights: Weights, metric: str,
    conf: float = 0.95, scale: float = 1.0, baseline_ids: pd.Series | None = None,
    current_ids: pd.Series | None = None,
) -> Any:
    """Change of a weighted mean between two waves, design-based, allowing for customers in both.

    ``baseline`` / ``current`` the values of each wave's rows (NaN = outside, e.g. another group),
    indexed like their weights; ``baseline_ids`` / ``current_ids`` optional customer ids aligned with
    them (None: the waves are independent). ``diff`` = current - baseline with
    ``se^2 = se_0^2 + se_1^2 - 2 cov``: ``se_t`` from :func:`design_means` (calibration-aware), and
    ``cov = sum over linked customers of e_1 e_0``, the products of the two waves' linearised
    (influence) values of the means (:func:`influence`; a customer is linked when the id answers
    exactly once in each wave, as :func:`analysis.compare.overlap_split`). Normal interval, two-sided
    z p; ``scale`` multiplies the means (100 for NPS). Returns an :class:`analysis.compare.Change`,
    method ``design_z`` (no linked customer: independent samples, cov = 0) or ``design_z_paired``
    (``n_paired`` set), with the Kish ``n_eff_baseline`` / ``n_eff_current`` of each wave's answers.

    Method: the variance of a difference of two estimates from overlapping samples is the sum of the
    variances less twice their covariance, estimated on the common units from the linearised variables
    (Kish 1965, *Survey Sampling*, 12.4; Berger 2004, "Variance estimation for measures of change in
    probability sampling", *Canadian Journal of Statistics* 32, 451-467; Lumley 2010, 2.5 for the
    domain means). With every weight 1 and no calibration ``cov = sum_c (y1_c - m1)(y0_c - m0) /
    (n1 n0)``, the covariance term of the partially overlapping samples t-test (Derrick et al. 2017)
    up to its n / (n - 1) factors.
    """
    change = design_changes(pd.DataFrame({metric: baseline}), base_weights, pd.DataFrame({metric: current}),
                            weights, conf=conf, scales={metric: scale}, baseline_ids=baseline_ids,
                            current_ids=current_ids)[0]
    if change is None:
        raise ValueError(f"{metric}: need at least 2 answers in each wave")
    return change


def design_changes(
    baseline: pd.DataFrame, base_weights: Weights, current: pd.DataFrame, weights: Weights,
    conf: float = 0.95, scales: Mapping[str, float] | None = None, baseline_ids: pd.Series | None = None,
    current_ids: pd.Series | None = None,
) -> list[Any]:
    """:func:`design_change` of every metric, the columns of ``baseline`` and ``current`` (the same
    names, in ``current``'s order; ``scales`` metric -> scale, default 1), with one svy design (one
    rake) per wave: the same numbers as one call per metric. None in the place of a metric with under
    2 answers in a wave (where :func:`design_change` raises ValueError)."""
    from scipy import stats

    from .compare import Change

    metrics = list(current.columns)
    names = [f"v{j}" for j in range(len(metrics))]
    old = baseline[metrics].set_axis(names, axis=1)
    new = current[metrics].set_axis(names, axis=1)
    b_all = design_means(old, names, base_weights, conf=conf)
    c_all = design_means(new, names, weights, conf=conf)
    paired = baseline_ids is not None and current_ids is not None
    z = float(stats.norm.ppf(0.5 + conf / 2))
    out: list[Any] = []
    for j, metric in enumerate(metrics):
        b, c = b_all.iloc[j], c_all.iloc[j]
        scale = float((scales or {}).get(metric, 1.0))
        if b["n"] < 2 or c["n"] < 2:
            out.append(None)
            continue
        diff = float(c["mean"] - b["mean"])
        cov, n_paired = 0.0, 0
        if paired:
            cov, n_paired = _paired_covariance(baseline[metric], base_weights, baseline_ids,
                                               current[metric], weights, current_ids)
        se = math.sqrt(max(float(b["se"]) ** 2 + float(c["se"]) ** 2 - 2 * cov, 0.0))
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
        method = "design_z_paired" if n_paired else "design_z"
        out.append(Change(metric, scale * float(b["mean"]), scale * float(c["mean"]), scale * diff,
                          scale * (diff - z * se), scale * (diff + z * se), p, method, int(b["n"]), int(c["n"]),
                          n_paired=n_paired if paired else None,
                          n_eff_baseline=float(b["n_eff"]), n_eff_current=float(c["n_eff"])))
    return out


def influence(values: pd.Series, weights: Weights) -> pd.Series:
    """Linearised (influence) values of the weighted domain mean of ``values`` (NaN = outside the domain).

    ``u_i = d_i (y_i - m) / sum_d w`` with d_i the domain indicator and m the weighted mean; the
    influence value is ``e_i = w_i (u_i - x_i' B)``: under calibration (weights with margins) the
    residual from the margin dummies x (B the least-squares coefficients of u on x with the base
    weights: the GREG linearisation of calibration, Deville & Särndal 1992); with fixed weights
    ``e_i = w_i u_i``. The with-replacement variance ``n/(n-1) sum e_i^2`` is the design SE squared
    (for raked weights it agrees with svy's / R's iterated post-stratification residuals to about
    1e-5 relative). Returns a Series indexed like the weights.
    """
    w = weights.weight.to_numpy(dtype=float)
    y = pd.to_numeric(values.reindex(weights.weight.index)).to_numpy(dtype=float)
    inside = ~np.isnan(y)
    total = w[inside].sum()
    if total <= 0:
        return pd.Series(0.0, index=weights.weight.index)
    m = float(np.dot(w[inside], y[inside]) / total)
    u = np.where(inside, np.nan_to_num(y) - m, 0.0) / total
    if weights.margins:
        base = np.ones(len(w)) if weights.base is None else np.asarray(weights.base, dtype=float)
        x = np.column_stack([(weights.groups[seg].to_numpy() == g).astype(float)
                             for seg, targets in weights.margins.items() for g in targets])
        root = np.sqrt(base)
        coef = np.linalg.lstsq(x * root[:, None], u * root, rcond=None)[0]
        u = u - x @ coef
    return pd.Series(w * u, index=weights.weight.index)


def _paired_covariance(
    baseline: pd.Series, base_weights: Weights, baseline_ids: pd.Series,
    current: pd.Series, weights: Weights, current_ids: pd.Series,
) -> tuple[float, int]:
    """``(sum over linked customers of e_1 e_0, number linked)`` (see :func:`design_change`)."""
    e0, e1 = influence(baseline, base_weights), influence(current, weights)

    def once(values: pd.Series, ids: pd.Series) -> pd.Series:
        """answered rows' ids that occur exactly once -> the row label (in row order)."""
        ids = ids.reindex(values.index)
        ok = (values.notna() & ids.notna() & (ids.astype(str) != "")).to_numpy()
        found = ids[ok].to_numpy()
        _, which, counts = np.unique(found.astype(str), return_inverse=True, return_counts=True)
        single = counts[which] == 1
        return pd.Series(values.index[ok][single], index=found[single])

    r0, r1 = once(baseline, baseline_ids), once(current, current_ids)
    linked = r0.index.intersection(r1.index)
    if len(linked) < 2:
        return 0.0, 0
    cov = float(np.dot(e0.reindex(r0[linked].to_numpy()).to_numpy(), e1.reindex(r1[linked].to_numpy()).to_numpy()))
    return cov, int(len(linked))


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
        sample = _design(weights, frame)
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


# --------------------------------------------------------------------------- design-based group tests
_OTHER = "\u241f(outside)"


def domain_means(
    data: pd.DataFrame, y: str, by: str, weights: Weights, levels: Sequence[Any] | None = None
) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
    """Design-based means of ``y`` in the groups of ``by`` and their covariance matrix.

    Rows whose group is not in ``levels`` (default: every group present) or whose ``y`` is
    missing are outside the domains but still calibrate the design. Returns ``(levels, means,
    cov, n)``; the covariance is the linearisation allowing for the raking (svy
    ``estimation.mean(by=)``, its ``covariance``), ``n`` the unweighted answered rows per group.
    One request of :func:`domain_means_batch`.
    """
    return domain_means_batch(data, [(y, by, levels)], weights)[0]


def domain_means_batch(
    data: pd.DataFrame, requests: Sequence[tuple[str, str, Sequence[Any] | None]], weights: Weights
) -> list[tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`domain_means` of every ``(y, by, levels)`` of ``requests`` (columns of ``data``), in
    order, from one svy design (one rake): the same numbers as one call per request. Raises the
    first request's error (ValueError) as :func:`domain_means` would."""
    out = []
    for item in _domain_results(data, requests, weights):
        if isinstance(item, Exception):
            raise item
        out.append(item)
    return out


def _domain_results(
    data: pd.DataFrame, requests: Sequence[tuple[str, str, Sequence[Any] | None]], weights: Weights
) -> list[Any]:
    """:func:`domain_means_batch`, with a request whose estimate fails (ValueError) returned as its
    exception in its place (the others still estimated)."""
    columns: dict[str, pd.Series] = {}
    keeps: list[Any] = []
    for j, (y, by, levels) in enumerate(requests):
        try:
            frame = pd.DataFrame({"y": pd.to_numeric(data[y]).astype(float), "g": data[by]}).reindex(weights.weight.index)
        except ValueError as error:
            keeps.append(error)
            continue
        present = [g for g in pd.unique(frame["g"].dropna())]
        keep = list(present if levels is None else [g for g in levels if g in present])
        inside = frame["g"].isin(keep)
        columns[f"y{j}"] = frame["y"].where(inside)
        columns[f"g{j}"] = frame["g"].astype(object).where(inside, _OTHER).map(str)
        keeps.append(keep)
    try:
        design = _design(weights, pd.DataFrame(columns, index=weights.weight.index))
    except ValueError as error:
        return [error] * len(requests)
    out: list[Any] = []
    for j, keep in enumerate(keeps):
        if isinstance(keep, Exception):
            out.append(keep)
            continue
        yj, gj = columns[f"y{j}"], columns[f"g{j}"]
        try:
            est = design.estimation.mean(f"y{j}", by=f"g{j}", drop_nulls=True)
        except ValueError as error:
            out.append(error)
            continue
        table = est.to_polars()
        names = [str(v) for v in table[f"g{j}"].to_list()]
        order = [names.index(str(g)) for g in keep if str(g) in names]
        means = table["est"].to_numpy()[order]
        cov = np.asarray(est.covariance)[np.ix_(order, order)]
        answered = yj.notna().to_numpy()
        g = gj.to_numpy()
        n = np.array([int((answered & (g == str(k))).sum()) for k in keep])
        out.append((keep, means, cov, n))
    return out


def design_wald(means: np.ndarray, cov: np.ndarray, n: int) -> tuple[float, float, float, float]:
    """Wald F test that k domain means are equal: ``F = d' (C V C')^-1 d / (k - 1)``, ``d = C m`` the
    differences from the last group, on (k - 1, n - k) degrees of freedom.

    As R ``regTermTest(svyglm(y ~ group, design), ~group)`` (Wald F, denominator df the model's
    residual df; Lumley 2010, *Complex Surveys*, 5.2). Returns ``(F, df1, df2, p)``.
    """
    from scipy import stats

    k = len(means)
    c = np.hstack([np.eye(k - 1), -np.ones((k - 1, 1))])
    d = c @ means
    w = float(d @ np.linalg.solve(c @ cov @ c.T, d))
    f, df1, df2 = w / (k - 1), k - 1, n - k
    return f, float(df1), float(df2), float(stats.f.sf(f, df1, df2))


def design_group_tests(
    data: pd.DataFrame,
    variables: Sequence[str],
    segments: Sequence[str],
    weights: Weights,
    top2: Mapping[str, float] | None = None,
    min_n: int = 30,
    suppress_below: int | None = None,
    alpha: float = 0.05,
) -> Any:
    """Design-based group comparisons under weighting: the weighted counterpart of
    :func:`analysis.compare.group_tests`, same table (``group_tests.csv``) and notes.

    Per variable x segment, with k >= 2 groups left after the privacy suppression:
    ``design_wald`` (Wald F of equal weighted means, :func:`design_wald`; ``diff`` = A - B
    when k = 2), for k >= 3 ``design_t`` pairs (t = difference / its design SE, n - k df,
    Holm-adjusted within variable x segment), and with ``top2`` ``design_wald_top2`` (the same
    Wald F on the weighted top-2-box shares). The variances are linearisations allowing for
    the raking (:func:`domain_means`). Omnibus p-values are Holm-adjusted across the segments
    of a variable (means and top-2-box separately), as the unweighted tests; ``n_eff`` (Kish) is
    added beside ``n`` of every row (omnibus and pairs). svy has no
    domain Wald test, hence this code; checked against R ``regTermTest`` and ``svyglm``.
    """
    from .compare import GROUP_TEST_COLUMNS, GroupTests, _row, holm, tested_groups
    from .privacy import MIN_CELL

    suppress_below = MIN_CELL if suppress_below is None else suppress_below
    top2 = dict(top2 or {})
    flags = {var: (pd.to_numeric(data[var]) >= top2[var]).astype(float).where(data[var].notna())
             for var in variables if var in top2}
    frame = data.assign(**{f"_top2_{j}": flags[var] for j, var in enumerate(variables) if var in flags})
    plan: list[Any] = []  # a finished row, or the arguments of _design_rows and its request's place
    requests: list[tuple[str, str, list]] = []
    for j, var in enumerate(variables):
        for seg in segments:
            sub = data[[var, seg]].dropna()
            kept, notes = tested_groups(sub[seg], suppress_below, min_n)
            note = "; ".join(notes)
            n_all = int(sub[seg].isin(kept).sum())
            if len(kept) < 2:
                plan.append(_row(var, seg, seg, "none", n=n_all, note="; ".join([*notes, "not_tested"])))
                continue
            plan.append((var, seg, kept, note, n_all, "design_wald", None, len(requests)))
            requests.append((var, seg, kept))
            if var in flags:
                plan.append((f"_top2_{j}", seg, kept, note, n_all, "design_wald_top2", var, len(requests)))
                requests.append((f"_top2_{j}", seg, kept))
    found = _domain_results(frame, requests, weights) if requests else []  # one design for every test
    rows: list[dict] = []
    for item in plan:
        if isinstance(item, dict):
            rows.append(item)
            continue
        var, seg, kept, note, n_all, test, label, at = item
        rows += _design_rows(frame, var, seg, kept, weights, note, n_all, test, found[at], label=label)
    out = pd.DataFrame(rows, columns=[*GROUP_TEST_COLUMNS, "n_eff"])
    if out.empty:
        out["significant"] = pd.Series(dtype=bool)
        return GroupTests(out, alpha, suppress_below)
    omni = out["test"].isin(("design_wald", "design_wald_top2"))
    for _, idx in out[omni].groupby([out.loc[omni, "variable"], out.loc[omni, "test"]]).groups.items():
        out.loc[idx, "p_adj"] = holm(out.loc[idx, "p"].to_numpy())
    out["p_adj"] = np.fmax(out["p_adj"], out["p"])
    out["significant"] = out["p_adj"] < alpha
    out["n"] = out["n"].astype("Int64")
    return GroupTests(out, alpha, suppress_below)


def _design_rows(
    data: pd.DataFrame, var: str, seg: str, kept: list, weights: Weights, note: str, n_all: int, test: str,
    found: Any, label: str | None = None,
) -> list[dict]:
    """The rows of one variable x segment test, from its :func:`_domain_results` entry ``found``."""
    from scipy import stats

    from .compare import _row, holm

    name = label or var
    try:
        if isinstance(found, Exception):
            raise found
        levels, means, cov, n = found
        f, df1, df2, p = design_wald(means, cov, int(n.sum()))
    except (ValueError, np.linalg.LinAlgError):
        return [_row(name, seg, seg, test, n=n_all, note="; ".join(s for s in (note, "undefined") if s))]
    diff = float(means[0] - means[1]) if len(levels) == 2 else math.nan
    answered = data[var].notna() & data[seg].isin(levels)
    n_eff = kish(weights.values_for(data.index[answered.to_numpy()]))["n_eff"]
    rows = [_row(name, seg, seg, test, statistic=f, df=df1, df2=df2, p=p, effect_size=math.nan,
                 effect_size_name="", diff=diff, n=int(n.sum()), n_eff=n_eff, note=note)]
    if len(levels) > 2 and test == "design_wald":
        pairs = []
        for a in range(len(levels)):
            for b in range(a + 1, len(levels)):
                d = float(means[a] - means[b])
                se = math.sqrt(cov[a, a] + cov[b, b] - 2 * cov[a, b])
                t = d / se
                pairs.append((a, b, d, t, float(2 * stats.t.sf(abs(t), df2))))
        adj = holm(np.array([q[4] for q in pairs]))
        for (a, b, d, t, p_pair), p_adj in zip(pairs, adj, strict=True):
            both = answered & data[seg].isin([levels[a], levels[b]])
            rows.append(_row(name, seg, f"{levels[a]} vs {levels[b]}", "design_t", statistic=t, df=df2, p=p_pair,
                             p_adj=p_adj, effect_size=math.nan, effect_size_name="", diff=d,
                             n=int(n[a] + n[b]), n_eff=kish(weights.values_for(data.index[both.to_numpy()]))["n_eff"],
                             note=note))
    return rows
