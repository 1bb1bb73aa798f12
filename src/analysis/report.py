"""What the notebooks and HTML reports show: manager-readable tables and charts from the stage tables.

Every function takes a :class:`~analysis.wave.WaveAnalysis` (or the tables a
stage wrote) and returns a pandas DataFrame ready to show, or a matplotlib
Figure. Texts follow the survey's ``language`` (``en`` or ``zh``). Tables are
shown with HTML escaping on, so an open-ended answer containing markup is
shown as text; every text from an input file (the survey title, a wave id, a
label, a segment group) that goes into a Markdown string (:func:`title_markdown`,
:func:`executive_summary`, :func:`recommended_actions`) passes through
:func:`analysis.words.escape_markdown`, so it is never read as Markdown or HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import plotting, words
from .kpis import KNOWN_KPIS
from .memo import chart_memo
from .plotting import figure_of
from .privacy import MIN_CELL
from .zones import IPA_STABLE

if TYPE_CHECKING:  # imported for type hints only
    from IPython.display import Markdown

    from .wave import WaveAnalysis as WaveContext

# ----------------------------------------------------------------------------- words
#: The keys ``word`` accepted before the language files (analysis/i18n): old key -> language-file key.
LEGACY_KEYS: dict[str, str] = {
    **{m: f"metric.{m}" for m in ("csi", "satisfaction_rate", "nps", "response_rate", "repurchase_rate")},
    **{
        c: f"column.{c}"
        for c in (
            "metric",
            "value",
            "ci",
            "n",
            "item",
            "construct",
            "mean",
            "top2box",
            "index",
            "weight",
            "baseline",
            "current",
            "diff",
            "p",
            "significant",
            "type",
            "share",
            "importance",
            "performance",
            "quadrant",
            "priority",
            "rank",
            "path",
            "estimate",
            "segment",
            "test",
            "effect",
            "groups_differ",
        )
    },
    "variable": "column.metric",
    "yes": "answer.yes",
    "no": "answer.no",
    "drivers_title": "title.drivers",
    "index_title": "title.index",
    "paths_title": "title.paths",
}


def word(key: str, language: str, /, **fields: Any) -> str:
    """A report word in ``language`` (en or zh), placeholders filled from ``fields``: :func:`analysis.words.word`,
    also accepting the short keys of earlier versions (``"csi"``, ``"mean"``, ``"index_title"``:
    :data:`LEGACY_KEYS`)."""
    return words.word(LEGACY_KEYS.get(key, key), language, **fields)


def label(ctx: WaveContext, name: str) -> str:
    """Display name of a construct, item or headline metric in the report language."""
    s = ctx.survey
    if name in s.constructs:
        return s.construct_label(name, ctx.language)
    if name in s.rated_items:
        return s.item_label(name, ctx.language)
    if words.has_word(f"metric.{name.lower()}"):  # CSI, NPS, satisfaction_rate ...
        return word(f"metric.{name.lower()}", ctx.language)
    return name


# ----------------------------------------------------------------------------- showing tables
def show_table(table: pd.DataFrame, precision: int = 2, max_rows: int = 60, language: str = "en") -> None:
    """Display a table in a notebook: index hidden, numbers rounded, every text HTML-escaped.

    ``precision`` applies only to columns still holding floats: the report tables pass their
    numbers as text written by :mod:`analysis.words` (p-values as ``< 0.001``, never cut to 2 decimals).
    """
    from IPython.display import display

    if table is None or len(table) == 0:
        from IPython.display import Markdown

        lang = table.attrs.get("language", language) if table is not None else language
        display(Markdown(words.word("text.no_rows", lang)))
        return
    shown = table.head(max_rows)
    styler = shown.style
    styler.set_uuid(table_uuid(shown))  # the same table gives the same ids on every run (issue 16)
    styler = styler.hide(axis="index").format(precision=precision, escape="html", na_rep="")
    styler = styler.format_index(escape="html", axis=1)
    display(styler)


def table_uuid(table: pd.DataFrame) -> str:
    """A stable id for a table's HTML (pandas' Styler otherwise draws a random ``T_xxxxx`` on every
    run): the first 10 hex digits of the SHA-256 of its header and cells as text. Equal tables share
    it, and their style rules are equal too."""
    import hashlib

    rows = ["\x1f".join(map(str, table.columns))]
    rows += ["\x1f".join(map(str, row)) for row in table.itertuples(index=False)]
    return hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()[:10]


def empty_table(language: str) -> pd.DataFrame:
    """A table without rows that :func:`show_table` announces in ``language``."""
    table = pd.DataFrame()
    table.attrs["language"] = language
    return table


def pct(x: float, digits: int = 1) -> str:
    """A share as percent (:func:`analysis.words.percent`): ``0.503`` -> ``"50.3%"``, NaN -> ``""``."""
    return words.percent(x, digits)


#: Metrics shown as percent: the KPIs whose unit is a share (one registry, :data:`analysis.kpis.KNOWN_KPIS`).
SHARE_METRICS = tuple(k for k, unit in KNOWN_KPIS.items() if unit == "share")


# ----------------------------------------------------------------------------- descriptive
def headline_table(ctx: WaveContext) -> pd.DataFrame:
    """The headline measures with their intervals, formatted for reading."""
    lang = ctx.language
    h = ctx.read("headline")
    weighted = is_weighted(ctx)
    rows = []
    for r in h.itertuples(index=False):
        share = r.metric in SHARE_METRICS
        value = words.percent(r.value) if share else words.number(r.value, 1)
        ci = words.interval(r.ci_low, r.ci_high, 1, as_percent=share)
        row = {
            word("column.metric", lang): label(ctx, r.metric),
            word("column.value_weighted" if weighted else "column.value", lang): value,
            word("column.ci", lang): ci,
            word("column.n_unweighted" if weighted else "column.n", lang): int(r.n) if pd.notna(r.n) else "",
        }
        if weighted:
            n_eff = getattr(r, "n_eff", math.nan)
            row[word("column.n_eff", lang)] = words.number(n_eff, 0) if pd.notna(n_eff) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def is_weighted(ctx: WaveContext) -> bool:
    """Whether the wave's estimates are weighted (its ``weighting.csv`` exists)."""
    return bool(ctx.has("weighting"))


def weighted_figure(ctx: WaveContext, ax: Any, table: str | None = None) -> Figure:
    """The finished chart (:func:`analysis.plotting.figure_of`), labelled under weighting with the note
    ``weighting.chart_note`` under it: weighted, the unweighted n and the Kish effective n, of ``table``'s
    first row (its ``n`` / ``n_eff``: e.g. the complete cases of the drivers) or else of the whole wave
    (kept rows and the weights' effective n). Unweighted: no note."""
    if is_weighted(ctx):
        n, n_eff = _chart_n(ctx, table)
        lang = ctx.language
        plotting.add_note(ax, word("weighting.chart_note", lang, n=words.integer(n, lang),
                                   n_eff=words.number(n_eff, 0)))
    return figure_of(ax)


def _n_key(ctx: WaveContext) -> str:
    """The i18n key of an ``n`` column: "n (unweighted)" under weighting, else "n"."""
    return "column.n_unweighted" if is_weighted(ctx) else "column.n"


def _chart_n(ctx: WaveContext, table: str | None) -> tuple[float, float]:
    if table is not None and ctx.has(table):
        t = ctx.read(table)
        if len(t) and {"n", "n_eff"} <= set(t.columns):
            return float(t["n"].iloc[0]), float(t["n_eff"].iloc[0])
    summary = ctx.read("summary")
    d = summary.get("weighting") or {}
    return float(d.get("n", summary.get("kept_rows", math.nan))), float(d.get("n_eff", math.nan))


def weighting_text(ctx: WaveContext) -> str:
    """The weighting section's words (markdown): what was weighted to what, Kish efficiency, effective n,
    design effect, the weights' range, bounds, whether the margins match; "" for an unweighted wave."""
    if not is_weighted(ctx):
        return ""
    lang = ctx.language
    d = ctx.read("summary").get("weighting") or {}
    table = ctx.read("weighting")
    segments = [words.escape_markdown(str(v)) for v in dict.fromkeys(table["variable"])]
    method = word("weighting.poststratified" if d.get("method") == "poststratify" else "weighting.raked", lang)

    def num(key: str, digits: int) -> str:
        value = d.get(key)
        return words.number(float(value), digits) if value is not None else "–"

    text = word(
        "weighting.intro", lang, method=method, segments=words.join(segments, lang),
        efficiency=words.percent(d.get("efficiency", math.nan)), n=words.integer(d.get("n"), lang, missing="–"),
        n_eff=num("n_eff", 0), deff=num("deff", 2), min=num("min", 2), max=num("max", 2), ratio=num("ratio", 1),
    )
    if d.get("bound_low") is not None:
        text += word("weighting.bounds", lang, low=num("bound_low", 2), high=num("bound_high", 2),
                     n_at_bound=words.integer(d.get("n_at_bound"), lang, missing="0"))
    error = float((table["weighted_share"] - table["target"]).abs().max())
    key = "weighting.matched" if error <= 1e-6 else "weighting.not_matched"
    text += word(key, lang, error=f"{error:.1e}")
    if d.get("low_efficiency"):
        text += "\n\n" + word("weighting.low_efficiency", lang)
    return text


def weighting_table(ctx: WaveContext) -> pd.DataFrame:
    """Targets, sample shares and weighted shares per margin group (``weighting.csv``), in percent. The
    sample share of a group under the privacy minimum is not shown (it would give its count)."""
    lang = ctx.language
    if not is_weighted(ctx):
        return empty_table(lang)
    t = ctx.read("weighting")
    small = t["n"] < MIN_CELL if "n" in t.columns else pd.Series(False, index=t.index)
    return pd.DataFrame(
        {
            word("column.segment", lang): t["variable"],
            word("column.group", lang): t["group"],
            word("column.target_share", lang): t["target"].map(pct),
            word("column.sample_share", lang): [("" if hide else pct(x)) for x, hide in zip(t["sample_share"], small,
                                                                                               strict=True)],
            word("column.weighted_share", lang): t["weighted_share"].map(pct),
        }
    )


def item_table(ctx: WaveContext) -> pd.DataFrame:
    """Item statistics for reading: label, dimension, n, mean, top-2-box, index (not of a routing question:
    an ``asked_if`` filter item is not a rating)."""
    lang = ctx.language
    t = ctx.read("item_stats")
    t = t[~t["item"].isin(ctx.survey.filter_items)].reset_index(drop=True)
    wtd = "_weighted" if is_weighted(ctx) else ""
    table = pd.DataFrame(
        {
            word("column.item", lang): t["label"],
            word("column.construct", lang): t["construct"].map(
                lambda c: label(ctx, c) if isinstance(c, str) else ""
            ),
            word("column.n_unweighted" if wtd else "column.n", lang): t["n"],
            word(f"column.mean{wtd}", lang): t["mean"].map(lambda x: words.number(x, 2)),
            word(f"column.top2box{wtd}", lang): t["top2box"].map(words.percent),
            word(f"column.index{wtd}", lang): t["index"].map(lambda x: words.number(x, 1)),
        }
    )
    if wtd and "n_eff" in t.columns:
        table[word("column.n_eff", lang)] = t["n_eff"].map(lambda x: words.number(x, 0))
    return table


@chart_memo
def item_charts(ctx: WaveContext) -> list[Figure]:
    """One diverging stacked bar chart per dimension (items by their scale labels)."""
    s = ctx.survey
    dist = ctx.read("distribution")
    figs = []
    for construct, items in s.blocks.items():
        scales = {s.item(i).scale for i in items}
        for scale in sorted(scales):
            chosen = [i for i in items if s.item(i).scale == scale]
            d = dist[dist["item"].isin(chosen)]
            ax = plotting.plot_diverging(
                d,
                xlabel=word("column.share", ctx.language),
                labels={i: s.item_label(i) for i in chosen},
                title=label(ctx, construct),
            )
            figs.append(weighted_figure(ctx, ax))
    return figs


@chart_memo
def index_chart(ctx: WaveContext) -> Figure:
    """Horizontal bars of each dimension's 0-100 index with 95% intervals; the overall CSI highlighted."""
    lang = ctx.language
    t = ctx.read("csi_index")
    names = {c: label(ctx, c) for c in t["construct"]}
    return weighted_figure(ctx, plotting.plot_index(t, highlight="CSI", labels=names, title=word("title.index", lang)))


# ----------------------------------------------------------------------------- inferential
def groups_ran(ctx: WaveContext) -> list[str]:
    """The segments whose groups were compared (a test with a p-value); none when every segment had fewer
    than two groups of 5 or more answers, so the report leaves the section out."""
    if not ctx.has("group_tests"):
        return []
    g = ctx.read("group_tests")
    if not len(g) or "p" not in g.columns:
        return []
    tested = g[g["p"].notna()]
    return [s for s in ctx.survey.segments if s in set(tested["segment"])]


def group_summary(ctx: WaveContext) -> pd.DataFrame:
    """Omnibus group tests, one line per measure and segment, with the plain-language verdict."""
    lang = ctx.language
    g = ctx.read("group_tests")
    omni = g[g["test"].isin(["welch_anova", "welch_t", "design_wald"])].copy()
    return pd.DataFrame(
        {
            word("column.metric", lang): omni["variable"].map(lambda v: label(ctx, v)),
            word("column.segment", lang): omni["group"],
            word("column.test", lang): omni["test"].map(lambda t: words.label_of("test", t, lang)),
            word("column.p_adj", lang): omni["p_adj"].map(words.p_value),
            word("column.effect", lang): [
                word(
                    "effect_size.with_name",
                    lang,
                    value=words.number(v, 3),
                    name=words.label_of("effect_size", n, lang),
                )
                if isinstance(n, str) and n
                else ""  # design-based tests (weighting) report no effect size
                for v, n in zip(omni["effect_size"], omni["effect_size_name"], strict=True)
            ],
            word("column.groups_differ", lang): np.where(
                _differ(omni), word("answer.yes", lang), word("answer.no", lang)
            ),
            word("column.note", lang): omni["note"].map(lambda n: note_text(n, lang)),
        }
    )


def _differ(tests: pd.DataFrame) -> np.ndarray:
    """"Groups differ?": Holm-adjusted p below 0.05 and a practically meaningful effect (the ``differ``
    column of group_tests.csv, :data:`analysis.compare.MEANINGFUL`)."""
    if "differ" in tests.columns:
        return tests["differ"].astype(bool).to_numpy()
    from .compare import meaningful

    return ((tests["p_adj"] < 0.05) & meaningful(tests["effect_size"], tests["effect_size_name"])).to_numpy()


def note_text(note: Any, language: str) -> str:
    """The report's words for a ``group_tests.csv`` note: codes ``"; "``-separated, ``code:A|B`` with groups
    (see :func:`analysis.compare.group_tests`); an unknown code is shown as it is."""
    if not isinstance(note, str) or not note:
        return ""
    parts = []
    for code in note.split("; "):
        key, _, groups = code.partition(":")
        try:
            names = words.join(groups.split("|"), language)
            parts.append(words.word(f"note.{key}", language, groups=names, min_cell=MIN_CELL))
        except KeyError:
            parts.append(code)
    return "; ".join(parts)


@chart_memo
def group_charts(ctx: WaveContext) -> list[Figure]:
    """Mean overall satisfaction with 95% intervals per group, one chart per segment (groups n >= MIN_CELL)."""
    s = ctx.survey
    weighted = is_weighted(ctx)
    mean_word = word("column.mean_weighted" if weighted else "column.mean", ctx.language)
    xlabel = f"CSI: {mean_word}, {word('column.ci', ctx.language)}"
    scores = ctx.read("respondent_scores")
    figs = []
    for seg in s.segments:
        counts = scores[seg].value_counts()
        data = scores[scores[seg].isin(counts[counts >= MIN_CELL].index)]
        extra: dict[str, Any] = {}
        title = f"CSI × {seg}"
        if weighted:  # weighted means, design-based intervals (n unweighted)
            extra = _weighted_group_means(ctx, scores, seg, sorted(data[seg].dropna().unique(), key=str))
            title += f" ({word('weighting.label', ctx.language)})"
        ax = plotting.plot_group_means(data, "CSI", seg, xlabel=xlabel, ylabel=seg, title=title, **extra)
        figs.append(weighted_figure(ctx, ax))
    return figs


def _weighted_group_means(ctx: WaveContext, scores: pd.DataFrame, seg: str, levels: list) -> dict[str, Any]:
    """``summary`` and ``overall`` of :func:`analysis.plotting.plot_group_means` under weighting: domain means
    with design-based 95% half-widths (:func:`analysis.weighting.domain_means`, t with n - 1 df)."""
    from scipy import stats

    from .weighting import design_means, domain_means

    weights = ctx.case_weights()
    kept, means, cov, n = domain_means(scores, "CSI", seg, weights, levels)
    half = [float(stats.t.ppf(0.975, k - 1) * np.sqrt(v)) if k > 1 else np.nan for k, v in zip(n, np.diag(cov),
                                                                                               strict=True)]
    summary = pd.DataFrame({"group": kept, "n": n, "mean": means, "half": half})
    inside = scores["CSI"].where(scores[seg].isin(kept))
    overall = float(design_means(inside.rename("CSI").to_frame(), ["CSI"], weights).iloc[0]["mean"])
    return {"summary": summary, "overall": overall}


def change_table(ctx: WaveContext) -> pd.DataFrame:
    """Change against the baseline wave, formatted; empty when the wave has no baseline."""
    lang = ctx.language
    if not ctx.has("wave_change"):
        return empty_table(ctx.language)
    c = ctx.read("wave_change")
    share = c["metric"].eq("satisfaction_rate")
    scale = np.where(share, 100.0, 1.0)
    return pd.DataFrame(
        {
            word("column.metric", lang): c["metric"].map(lambda m: label(ctx, m)),
            word("column.baseline", lang): [words.number(x, 1) for x in c["baseline"] * scale],
            word("column.current", lang): [words.number(x, 1) for x in c["current"] * scale],
            word("column.diff", lang): [words.signed(x, 1) for x in c["diff"] * scale],
            word("column.ci", lang): [
                words.interval(lo * k, hi * k, 1)
                for lo, hi, k in zip(c["ci_low"], c["ci_high"], scale, strict=True)
            ],
            word("column.p", lang): c["p"].map(words.p_value),
            word("column.p_adj", lang): _p_adj(c).map(words.p_value),
            word("column.significant", lang): np.where(
                _p_adj(c) < 0.05, word("answer.yes", lang), word("answer.no", lang)
            ),
        }
    )


def _p_adj(change: pd.DataFrame) -> pd.Series:
    """The Holm-adjusted p of wave_change.csv (the raw p for a table written before it had one)."""
    return change["p_adj"] if "p_adj" in change.columns else change["p"]


@chart_memo
def driver_chart(ctx: WaveContext) -> Figure:
    """Relative importance of each dimension for overall satisfaction (Johnson's relative weights)."""
    table = ctx.read("drivers")
    names = {c: label(ctx, c) for c in table["predictor"]}
    xlabel = word("axis.explained_variance", ctx.language)
    r2 = float(table["r2"].iloc[0]) if "r2" in table.columns and len(table) else None
    ax = plotting.plot_drivers(
        table,
        xlabel=xlabel,
        labels=names,
        title=word("title.drivers", ctx.language),
        r2=r2,
        r2_label=word("axis.model_r2", ctx.language),
    )
    return weighted_figure(ctx, ax, "drivers")


def path_table(ctx: WaveContext) -> pd.DataFrame:
    """Bootstrapped path coefficients of the CSI model."""
    lang = ctx.language
    p = ctx.read("csi_paths")
    return pd.DataFrame(
        {
            word("column.path", lang): p["source"].map(lambda c: label(ctx, c))
            + " → "
            + p["target"].map(lambda c: label(ctx, c)),
            word("column.estimate", lang): p["estimate"].map(lambda x: words.number(x, 3)),
            word("column.se", lang): p["se"].map(lambda x: words.number(x, 3)),
            word("column.ci", lang): [
                words.interval(a, b, 3) for a, b in zip(p["ci_low"], p["ci_high"], strict=True)
            ],
            word("column.p", lang): p["p"].map(words.p_value),
            **({word(_n_key(ctx), lang): p["n"].map(lambda n: words.integer(n, lang))} if "n" in p.columns else {}),
        }
    )


@chart_memo
def path_diagram(ctx: WaveContext) -> Figure:
    """The CSI model's path diagram from csi_paths and pls_r2."""
    r2 = ctx.read("pls_r2")
    paths = ctx.read("csi_paths")
    names = {c: label(ctx, c) for c in [*paths["source"], *paths["target"]]}
    ax = plotting.plot_path_diagram(
        paths,
        r2=dict(zip(r2["construct"], r2["r2"], strict=True)),
        labels=names,
        title=word("title.paths", ctx.language),
    )
    return weighted_figure(ctx, ax, "csi_paths")


# ----------------------------------------------------------------------------- zones
def category_labels(language: str) -> dict[str, str]:
    """Display names of customer types, zones, loyalty levels and IPA quadrants (chart ``labels=``)."""
    from .zones import IPA_QUADRANTS, LOYALTY_LEVELS, TYPES, ZONES

    return words.category_labels(language, (*TYPES, *ZONES, *LOYALTY_LEVELS, *IPA_QUADRANTS))


def type_name(customer_type: str, language: str) -> str:
    """A customer type as the tables name it: ``customer_type.with_key`` (zh: the Chinese name with the
    English key in parentheses; en: ``apostle``)."""
    name = words.label_of("customer_type", customer_type, language)
    return word("customer_type.with_key", language, label=name, key=customer_type)


def zone_summary(ctx: WaveContext) -> pd.DataFrame:
    lang = ctx.language
    z = ctx.read("zones")
    return pd.DataFrame(
        {
            word("column.type", lang): z["type"].map(lambda t: type_name(t, lang)),
            word(_n_key(ctx), lang): z["n"],
            word("column.share_weighted" if is_weighted(ctx) else "column.share", lang): z["share"].map(pct),
        }
    )


@chart_memo
def zone_chart(ctx: WaveContext) -> Figure:
    s = ctx.survey
    scores = ctx.read("respondent_scores")
    types = ctx.read("types")
    from .wave import zone_thresholds

    th_sat, th_loy = zone_thresholds(s)
    lang = ctx.language
    kwargs = {
        "labels": category_labels(lang),
        "xlabel": word("axis.overall_satisfaction", lang),
        "ylabel": word("axis.loyalty", lang),
    }
    ax = plotting.plot_zones(
        scores[s.overall_satisfaction],
        scores["loyalty_score"],
        types["type"],
        thresholds=th_sat,
        loyalty_thresholds=th_loy,
        **kwargs,
    )
    drawn, total = getattr(ax, "csat_points", (0, 0))
    if drawn < total:  # a sample of the points (plotting.MAX_POINTS): say so under the chart
        note = word("chart.points_sampled", lang, shown=words.integer(drawn, lang), n=words.integer(total, lang))
        ax.figure.text(0.01, 0.005, note, fontsize=8, color=plotting.MUTED, ha="left", va="bottom")
    return weighted_figure(ctx, ax)


@chart_memo
def loyalty_chart(ctx: WaveContext) -> Figure:
    from .wave import zone_thresholds

    th_sat, _ = zone_thresholds(ctx.survey)
    bp = ctx.read("loyalty_breakpoint").iloc[0].to_dict() if ctx.has("loyalty_breakpoint") else None
    lang = ctx.language
    xlabel, ylabel = word("axis.overall_satisfaction", lang), word("axis.mean_loyalty", lang)
    legend = {
        **category_labels(lang),
        "loyalty_mean": ylabel,
        "fit": word("axis.segmented_fit", lang),
        "promoter_share": word("axis.promoter_share", lang),
    }
    ax = plotting.plot_loyalty_curve(
        ctx.read("loyalty_curve"),
        breakpoint=bp,
        thresholds=th_sat,
        xlabel=xlabel,
        ylabel=ylabel,
        labels=legend,
    )
    return weighted_figure(ctx, ax, "loyalty_breakpoint")


def loyalty_text(ctx: WaveContext) -> str:
    """One sentence on the loyalty curve's break, from ``loyalty_breakpoint.csv`` (markdown).

    With a detected break (Davies p < 0.05): where it is, with p, its likelihood-ratio interval and
    the slopes either side. Without: the curve shows no clear break, a straight relation, with p
    and the straight line's slope (``slope_linear``).
    """
    lang = ctx.language
    if not ctx.has("loyalty_breakpoint"):  # too few satisfaction levels to test a break
        return word("text.loyalty_not_tested", lang)
    bp = ctx.read("loyalty_breakpoint").iloc[0]
    detected = str(bp["detected"]).strip().lower() in ("true", "1")
    p = words.p_text(bp["p"], missing="p –")
    if detected:
        return word(
            "text.loyalty_break",
            lang,
            breakpoint=words.number(bp["breakpoint"], 1),
            p=p,
            conf=words.percent(bp.get("conf", 0.95), 0),
            ci_low=words.number(bp["ci_low"], 1, missing="–"),
            ci_high=words.number(bp["ci_high"], 1, missing="–"),
            slope_before=words.number(bp["slope_before"], 2),
            slope_after=words.number(bp["slope_after"], 2),
        )
    slope = bp.get("slope_linear", np.nan)
    return word("text.loyalty_no_break", lang, p=p, slope=words.number(slope, 2, missing="–"))


@chart_memo
def ipa_chart(ctx: WaveContext) -> Figure:
    ipa = ctx.read("ipa")
    lang = ctx.language
    axes = {"xlabel": word("axis.performance", lang), "ylabel": word("axis.importance", lang)}
    names = {**category_labels(lang), **dict(zip(ipa["item"], ipa["label"], strict=True))}
    return weighted_figure(ctx, plotting.plot_ipa(ipa, labels=names, **axes))


def _ipa_boot(ctx: WaveContext) -> int | None:
    """The usable bootstrap resamples behind the IPA stability (None when it was not bootstrapped)."""
    if not ctx.has("ipa"):
        return None
    ipa = ctx.read("ipa")
    if "n_boot" not in ipa.columns or ipa["stability"].isna().all():
        return None
    return int(ipa["n_boot"].iloc[0])


def priority_table(ctx: WaveContext, top: int = 8) -> pd.DataFrame:
    """The top improvement priorities: rank, item, importance with its bootstrap interval, performance,
    quadrant and the quadrant's stability (share of resamples)."""
    lang = ctx.language
    p = ctx.read("priorities").head(top)
    ipa = ctx.read("ipa").set_index("item")
    quad = p["item"].map(ipa["quadrant"]).map(
        lambda q: words.label_of("quadrant", q, lang) if isinstance(q, str) else q
    )
    importance = p["importance"].map(lambda x: words.number(x, 3))
    if "importance_ci_low" in ipa.columns:
        lo, hi = p["item"].map(ipa["importance_ci_low"]), p["item"].map(ipa["importance_ci_high"])
        ci = [words.interval(a, b, 3) for a, b in zip(lo, hi, strict=True)]
        importance = [f"{x} ({c})" if c else x for x, c in zip(importance, ci, strict=True)]
    stability = p["stability"] if "stability" in p.columns else pd.Series(np.nan, index=p.index)
    return pd.DataFrame(
        {
            word("column.rank", lang): p["rank"],
            word("column.item", lang): p["label"],
            word("column.importance", lang): importance,
            word("column.performance", lang): p["performance"].map(lambda x: words.number(x, 1)),
            word("column.quadrant", lang): quad,
            word("column.stability", lang): stability.map(lambda x: words.percent(x, 0, missing="–")),
            word("column.priority", lang): p["priority"].map(lambda x: words.number(x, 2)),
        }
    )


def act_first(ctx: WaveContext, top: int = 3) -> list[str]:
    """Labels of the items to act on first: the top-ranked priorities that are stably in "Concentrate
    here" (``priorities.stable``; tables without the column: the top-ranked items); none without an IPA."""
    if not ctx.has("priorities"):
        return []
    p = ctx.read("priorities")
    if "stable" in p.columns:
        p = p[p["stable"].astype(str).str.lower().isin(["true", "1"])]
    return [str(x) for x in p.sort_values("rank")["label"].head(top)]


# ----------------------------------------------------------------------------- the evaluation report
def title_markdown(ctx: WaveContext) -> str:
    """The wave report's title as a Markdown h1, ``# <survey title> · <wave id>``, both escaped
    (:func:`analysis.words.escape_markdown`): a wave id ``<img src=x onerror=...>`` or a title
    ``[md](javascript:...)`` shows as typed."""
    md = words.escape_markdown
    return f"# {md(ctx.survey.title_text())} · {md(ctx.wave.id)}"


def _sig_word(p: float, lang: str) -> str:
    if pd.isna(p):
        return ""
    return word("summary.significant" if p < 0.05 else "summary.not_significant", lang)


def executive_summary(ctx: WaveContext) -> str:
    """The first screen of the report as markdown: level, change, targets, where to act."""
    lang = ctx.language
    f = ctx.facts()
    nan = float("nan")
    csi = word("summary.csi", lang, value=words.number(f.get("csi", nan), 1))
    if "csi_diff" in f:
        csi += word(
            "summary.csi_change",
            lang,
            diff=words.signed(f["csi_diff"]),
            baseline=words.escape_markdown(f["baseline"]),
            significance=_sig_word(f["csi_p"], lang),
        )
    sat = word("summary.satisfaction_rate", lang, value=words.percent(f.get("satisfaction_rate", nan)))
    if "satisfaction_rate_diff" in f:
        sat += word(
            "summary.satisfaction_rate_change",
            lang,
            diff=words.signed(f["satisfaction_rate_diff"] * 100),
            significance=_sig_word(f["satisfaction_rate_p"], lang),
        )
    lines = [f"- {csi}", f"- {sat}"]
    if "nps" in f:
        nps = word("summary.nps", lang, value=words.number(f["nps"], 1))
        if "nps_diff" in f:
            nps += word(
                "summary.nps_change",
                lang,
                diff=words.signed(f["nps_diff"]),
                significance=_sig_word(f["nps_p"], lang),
            )
        lines.append(f"- {nps}")
    lines.append("- " + word("summary.targets", lang, met=f["kpis_met"], targeted=f["kpis_targeted"]))
    lines.append(
        "- "
        + word("summary.responses", lang, n=f["n"], raw=f["raw"], sample_section=word("section.sample", lang))
    )
    for line in segment_alerts(ctx):
        lines.append(f"- {line}")
    chosen = act_first(ctx)
    if chosen:
        items = words.join([words.escape_markdown(x) for x in chosen], lang)
        lines.append("- " + word("summary.act_first", lang, items=items))
    elif ctx.has("priorities") and len(ctx.read("priorities")):
        lines.append("- " + word("summary.act_first_none", lang, stable=words.percent(IPA_STABLE, 0)))
    return "\n".join(lines)


def segment_alerts(ctx: WaveContext, alpha: float = 0.05) -> list[str]:
    """Plain sentences for segments whose CSI changed significantly against the baseline, largest first."""
    if not ctx.has("wave_change"):
        return []
    c = ctx.read("wave_change")
    seg = c[c["metric"].str.startswith("CSI | ") & (_p_adj(c) < alpha)].copy()
    if seg.empty:
        return []
    overall = c.loc[c["metric"] == "CSI", "diff"]
    base = float(overall.iloc[0]) if len(overall) else 0.0
    seg["gap"] = (seg["diff"] - base).abs()
    seg = seg.sort_values("gap", ascending=False).head(3)
    out = []
    for r in seg.itertuples(index=False):
        key = "summary.segment_fell" if r.diff < 0 else "summary.segment_rose"
        name = words.escape_markdown(r.metric.replace("CSI | ", ""))
        out.append(word(key, ctx.language, name=name, diff=words.number(abs(r.diff), 1), p=words.p_text(r.p)))
    return out


def kpi_block(ctx: WaveContext) -> str:
    """The KPI table as HTML with met / not met badges."""
    from .publish import kpi_html

    table = ctx.read("kpis")
    table[["target", "note"]] = (
        table[["target", "note"]].astype(object).fillna("")
    )  # empty cells read back as NaN
    return kpi_html(table, ctx.language)


#: attrition.csv ``step`` -> its language-file key (``attrition_step.*``, ``cleaning_rule.*``).
_ATTRITION_KEYS = {"raw data rows": "raw", "outlier (flagged, kept)": "outlier"}


def sample_table(ctx: WaveContext) -> pd.DataFrame:
    """The cleaning attrition table, in the report language: step, removed, remaining, description."""
    lang = ctx.language
    a = ctx.read("attrition")
    keys = a["step"].map(lambda s: _ATTRITION_KEYS.get(s, s))

    def text(group: str, key: str, default: str) -> str:
        if not words.has_word(f"{group}.{key}"):
            return default
        alpha = f"{ctx.survey.cleaning.outlier_alpha:g}"
        return word(f"{group}.{key}", lang, alpha=alpha) if key == "outlier" else word(f"{group}.{key}", lang)

    return pd.DataFrame(
        {
            word("column.step", lang): [
                text("attrition_step", k, s) for k, s in zip(keys, a["step"], strict=True)
            ],
            word("column.removed", lang): a["removed"],
            word("column.remaining", lang): a["remaining"],
            word("column.description", lang): [
                text("cleaning_rule", k, str(d)) for k, d in zip(keys, a["description"], strict=True)
            ],
        }
    )


#: The collapsed list of all comments holds at most this many; past it, a seeded random sample of this many
#: (a million-response wave's comments would make the report hundreds of MB; all stay in the clean data).
MAX_COMMENTS_LISTED = 5_000


def verbatims(ctx: WaveContext, limit: int = 12) -> str:
    """Open-ended answers as escaped HTML: the least satisfied customers' comments first, then all of them
    in a collapsed list (``<details>``), so nothing a customer wrote is hidden and no markup can run; past
    :data:`MAX_COMMENTS_LISTED` comments the list is a seeded random sample of that many, and says so."""
    from .publish import escape_text, verbatims_html

    s = ctx.survey
    if not s.open_ended:
        return ""
    clean = ctx.read("clean")
    parts = []
    for col in s.open_ended:
        data = clean[[s.overall_satisfaction, col]].dropna(subset=[col])
        data = data.sort_values(s.overall_satisfaction, kind="stable")
        parts.append(verbatims_html(list(data[col]), limit=limit, language=ctx.language))
        listed = clean[col].dropna()
        summary = word("text.all_comments", ctx.language, n=len(data))
        if len(listed) > MAX_COMMENTS_LISTED:
            keep = np.sort(np.random.default_rng(0).choice(len(listed), MAX_COMMENTS_LISTED, replace=False))
            listed = listed.iloc[keep]
            summary = word("text.some_comments", ctx.language, shown=MAX_COMMENTS_LISTED, n=len(data))
        items = "".join(f"<li>{escape_text(t)}</li>" for t in listed)
        parts.append(
            f'<details class="verbatims-all"><summary>{escape_text(summary)}</summary><ul>{items}</ul>'
            "</details>"
        )
    return "\n".join(parts)


def provenance_display(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """The provenance table (:func:`analysis.publish.provenance`) with its headings and kinds in ``language``."""
    shown = table.copy()
    shown["kind"] = shown["kind"].map(lambda k: words.label_of("provenance", k, language))
    shown["name"] = [
        words.label_of("provenance", n, language) if k in ("run", "git") else n
        for k, n in zip(table["kind"], table["name"], strict=True)
    ]
    shown.columns = [word(f"column.{c}", language) for c in ("kind", "name", "detail")]
    return shown


def provenance_table(ctx: WaveContext, extra_waves: Sequence = ()) -> pd.DataFrame:
    """Input file hashes, package versions, commit and run time, in the report language."""
    from .publish import provenance

    return provenance_display(provenance(ctx.survey, [ctx.wave, *extra_waves]), ctx.language)


#: Report section ids, in report order (headings are the ``section.<id>`` words).
SECTIONS: tuple[str, ...] = (
    "summary",
    "kpis",
    "sample",
    "weighting",
    "results",
    "reliability",
    "groups",
    "change",
    "drivers",
    "zones",
    "priorities",
    "verbatims",
    "comments",
    "methods",
    "provenance",
    "trends",
    "segments",
    "types",
)


def section(key: str, language: str, level: int = 2) -> Markdown:
    """A report heading with a stable id (``## Executive summary {#summary}``) as notebook Markdown."""
    from IPython.display import Markdown

    return Markdown(f"{'#' * level} {word(f'section.{key}', language)} {{#{key}}}")


def method_settings(ctx: WaveContext) -> words.MethodSettings:
    """What this wave's analysis actually did, from the survey definition and the tables the run wrote.

    The index weights come from index_weights.csv, the PLS bootstrap count and sample from
    pls_summary.csv (the survey's ``pls.bootstrap`` when the file lacks it), the baseline from
    the wave file when wave_change.csv exists.
    """
    s = ctx.survey
    w = ctx.read("index_weights")
    esc = words.escape_markdown  # every name below comes from an input file: Markdown text, never markup
    weights = {esc(label(ctx, c)): float(x) for c, x in zip(w["construct"], w["weight"], strict=True)}
    method = str(w["method"].iloc[0]) if len(w) else s.index.weights
    model = bool(s.paths) and ctx.has("pls_summary")
    n_model = n_boot = None
    scheme = s.pls.scheme
    if model:
        summary = ctx.read("pls_summary").iloc[0]
        n_model = int(summary["n"]) if "n" in summary and pd.notna(summary["n"]) else None
        n_boot = (
            int(summary["n_boot"]) if "n_boot" in summary and pd.notna(summary["n_boot"]) else s.pls.bootstrap
        )
        scheme = str(summary["scheme"]) if "scheme" in summary and pd.notna(summary["scheme"]) else scheme
    changed = ctx.has("wave_change")
    paired = 0
    if changed:
        change = ctx.read("wave_change")
        if "n_paired" in change.columns and (change["metric"] == "CSI").any():
            value = change.loc[change["metric"] == "CSI", "n_paired"].iloc[0]
            paired = int(value) if pd.notna(value) else 0
    notes = _weight_notes(w)
    return words.MethodSettings(
        min_answered=s.cleaning.min_answered,
        speeder_fraction=s.cleaning.speeder_fraction,
        straightline_min_items=s.cleaning.straightline_min_items,
        outlier_alpha=s.cleaning.outlier_alpha,
        has_respondent_id=bool(s.respondent_id),
        has_duration=bool(s.duration),
        satisfied_levels=tuple(int(v) for v in s.satisfied),
        index_method=method,
        index_weights=weights,
        nps=bool(s.recommend),
        segments=tuple(esc(g) for g in groups_ran(ctx)),
        min_cell=MIN_CELL,
        baseline=esc(ctx.wave.baseline) if changed and ctx.wave.baseline else None,
        drivers=ctx.has("drivers"),
        model=model,
        model_n=n_model,
        model_boot=n_boot,
        model_scheme=scheme,
        loyalty=ctx.has("zones"),
        ipa=ctx.has("ipa"),
        ipa_boot=_ipa_boot(ctx),
        ipa_stable=IPA_STABLE,
        index_equal_items=tuple(esc(label(ctx, c)) for c in notes if "negative_outer_weight" in notes[c]),
        index_zero_effect=tuple(esc(label(ctx, c)) for c in notes if "negative_total_effect" in notes[c]),
        index_no_positive=any("no_positive_total_effect" in n for n in notes.values()),
        validity=model and ctx.has("htmt_intervals"),
        change_paired=paired,
        drivers_n=_first_int(ctx.read("drivers"), "n") if ctx.has("drivers") else None,
        asked_constructs=tuple(esc(label(ctx, c)) for c in s.conditional_constructs if c in s.model_constructs)
        if model
        else tuple(esc(label(ctx, c)) for c in s.conditional_constructs if c in s.index_constructs),
        model_n_asked=_first_int(ctx.read("pls_summary"), "n_asked") if model else None,
        weighting=_weighting_method(ctx),
        weighting_segments=tuple(dict.fromkeys(esc(v) for v in ctx.read("weighting")["variable"]))
        if is_weighted(ctx)
        else (),
        n_tests=_n_omnibus(ctx),
        n_changes=len(ctx.read("wave_change")) if changed else None,
    )


def _first_int(table: pd.DataFrame, column: str) -> int | None:
    """The first value of ``column`` as an int (None when the column is absent or empty)."""
    if column not in table.columns or not len(table) or pd.isna(table[column].iloc[0]):
        return None
    return int(table[column].iloc[0])


def _weighting_method(ctx: WaveContext) -> str | None:
    if not is_weighted(ctx):
        return None
    d = ctx.read("summary").get("weighting") or {}
    return str(d.get("method") or "rake")


def _n_omnibus(ctx: WaveContext) -> int | None:
    """The omnibus tests in group_tests.csv that have a p (the Holm family), None without the table."""
    if not ctx.has("group_tests"):
        return None
    from .compare import OMNIBUS_TESTS

    g = ctx.read("group_tests")
    return int((g["test"].isin(OMNIBUS_TESTS) & g["p"].notna()).sum())


def _text(x: Any) -> str:
    """A text cell as read back from CSV: "" for an empty (NaN) cell."""
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)


def _weight_notes(table: pd.DataFrame) -> dict[str, list[str]]:
    """construct -> the note codes of index_weights.csv (none in tables written before the ``note`` column)."""
    if "note" not in table.columns:
        return {}
    return {c: _text(n).split() for c, n in zip(table["construct"], table["note"], strict=True) if _text(n)}


def index_notes(ctx: WaveContext) -> list[str]:
    """Sentences for the fallbacks the index weights needed (``pls`` weights: a negative outer weight or total
    effect; see :func:`analysis.index.acsi_weights`), one per construct and note; empty when none applied.
    Markdown: the construct and item labels are escaped (:func:`analysis.words.escape_markdown`)."""
    lang = ctx.language
    w = ctx.read("index_weights")
    notes = _weight_notes(w)
    rows = w.set_index("construct")
    out: list[str] = []
    for construct, codes in notes.items():
        for code in codes:
            if code == "no_positive_total_effect":
                sentence = word("index_note.no_positive_total_effect", lang)
                if sentence not in out:
                    out.append(sentence)
                continue
            items = _text(rows.loc[construct].get("negative_items", "")).split()
            out.append(
                word(
                    f"index_note.{code}",
                    lang,
                    construct=words.escape_markdown(label(ctx, construct)),
                    items=words.join([words.escape_markdown(label(ctx, i)) for i in items], lang),
                    effect=words.number(rows.loc[construct].get("total_effect"), 3),
                )
            )
    return out


def _htmt_level(value: float, lang: str) -> str:
    from .pls import HTMT_LIBERAL, HTMT_STRICT

    if pd.isna(value):
        return ""
    key = "level_high" if value > HTMT_LIBERAL else "level_close" if value > HTMT_STRICT else "level_ok"
    return word(f"validity.{key}", lang)


def htmt_table(ctx: WaveContext) -> pd.DataFrame:
    """Discriminant validity: HTMT of every pair of dimensions of the CSI model, its 95% bootstrap interval
    and its assessment against the 0.85 / 0.90 thresholds, highest first; empty without the model."""
    lang = ctx.language
    if not ctx.has("htmt_intervals"):
        return empty_table(lang)
    h = ctx.read("htmt_intervals").sort_values("estimate", ascending=False, kind="stable")
    return pd.DataFrame(
        {
            word("validity.pair", lang): [
                f"{label(ctx, a)} – {label(ctx, b)}" for a, b in zip(h["construct_a"], h["construct_b"], strict=True)
            ],
            word("validity.htmt", lang): h["estimate"].map(lambda x: words.number(x, 3)),
            word("column.ci", lang): [
                words.interval(a, b, 3) for a, b in zip(h["ci_low"], h["ci_high"], strict=True)
            ],
            word("validity.level", lang): h["estimate"].map(lambda x: _htmt_level(x, lang)),
        }
    )


def validity_warnings(ctx: WaveContext) -> list[str]:
    """Sentences for every measurement warning: HTMT above 0.90, outer loadings below 0.708, improper
    solutions (a loading above 1, an invalid AVE; measurement_checks.csv) and a Heywood case behind omega
    (reliability.csv ``omega_improper``). Markdown: the labels are escaped (:func:`analysis.words.escape_markdown`)."""
    lang = ctx.language
    out: list[str] = []

    def name(x: str) -> str:  # a label from the survey definition, as Markdown text
        return words.escape_markdown(label(ctx, x))

    if ctx.has("measurement_checks"):
        for r in ctx.read("measurement_checks").itertuples(index=False):
            other = _text(r.other)
            out.append(
                word(
                    f"validity.{r.check}",
                    lang,
                    a=name(r.construct),
                    b=name(other),
                    construct=name(r.construct),
                    item=name(other),
                    value=words.number(r.value, 3),
                    ci=words.interval(r.ci_low, r.ci_high, 3, missing="–"),
                    threshold=f"{r.threshold:g}",
                )
            )
    rel = ctx.read("reliability") if ctx.has("reliability") else pd.DataFrame()
    if "omega_improper" in rel.columns:
        for r in rel[rel["omega_improper"].astype(str).str.lower() == "true"].itertuples(index=False):
            out.append(
                word("validity.omega_improper", lang, construct=name(r.construct), value=words.number(r.omega_max_loading, 3))
            )
    return out


def validity_text(ctx: WaveContext) -> str:
    """The discriminant-validity block as markdown: the thresholds explained, then the warnings (or a sentence
    saying there are none). Show :func:`htmt_table` after it."""
    lang = ctx.language
    lines = [f"**{word('validity.title', lang)}**", "", word("validity.intro", lang), ""]
    found = validity_warnings(ctx)
    lines.append(f"**{word('validity.warnings_title', lang)}**")
    lines.append("")
    lines += [f"- ⚠ {x}" for x in found] if found else [word("validity.none", lang)]
    return "\n".join(lines)


def methods_text(ctx: WaveContext) -> str:
    """The plain-words method notes of the analyses that ran, with the settings used
    (:func:`method_settings`, :func:`analysis.words.methods_text`)."""
    return words.methods_text(method_settings(ctx), ctx.language)


def recommended_actions(ctx: WaveContext, top: int = 3) -> str:
    """Plain recommendations from the IPA quadrants and the priority ranking (markdown)."""
    lang = ctx.language
    ipa = ctx.read("ipa")
    ranked = ctx.read("priorities")["item"].tolist()
    order = {item: k for k, item in enumerate(ranked)}

    stable = ipa["stability"] >= IPA_STABLE if "stability" in ipa.columns else pd.Series(True, index=ipa.index)

    def names(quadrant: str, steady: bool | None = None) -> list[str]:
        rows = ipa[(ipa["quadrant"] == quadrant) & (stable == steady if steady is not None else True)].copy()
        rows["rank"] = rows["item"].map(order)
        return [words.escape_markdown(x) for x in rows.sort_values("rank")["label"].head(top)]

    lines = []
    for quadrant, key, steady in (
        ("Concentrate here", "actions.concentrate", True),
        ("Concentrate here", "actions.concentrate_unstable", False),
        ("Keep up the good work", "actions.keep", None),
        ("Possible overkill", "actions.overkill", None),
    ):
        chosen = names(quadrant, steady)
        if chosen:
            lines.append(word(key, lang, items=words.join(chosen, lang), stable=words.percent(IPA_STABLE, 0)))
    return "\n".join(lines)


def profile_table(ctx: WaveContext) -> pd.DataFrame:
    """The sample profile by every segment (groups under 5 merged, never shown alone)."""
    lang = ctx.language
    p = ctx.read("profile")
    return pd.DataFrame(
        {
            word("column.segment", lang): p["segment"],
            word("column.group", lang): p["group"],
            word("column.n_unweighted" if is_weighted(ctx) else "column.n", lang): p["n"],
            word("column.share", lang): p["share"].map(pct),
        }
    )


def zone_rules_text(ctx: WaveContext) -> str:
    """The thresholds that define the zones and types, stated for the reader (markdown)."""
    from .wave import zone_thresholds

    sat, loy = zone_thresholds(ctx.survey)

    def num(x: float) -> str:
        return f"{x:g}"

    return word(
        "text.zone_rules",
        ctx.language,
        sat_min=num(sat.scale_min),
        sat_max=num(sat.scale_max),
        affection_min=num(sat.affection_min),
        defection_max=num(sat.defection_max),
        loyalty_high=num(loy.loyalty_high_min),
        loyalty_low=num(loy.loyalty_low_max),
        terrorist_max=num(sat.terrorist_max),
    )


def transition_table(ctx: WaveContext, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Customer types of customers answering both this wave and the baseline: counts, cells under 5 masked."""
    if not ctx.has("zone_transitions"):
        return empty_table(ctx.language)
    t = ctx.read("zone_transitions")
    lang = ctx.language

    def name(x: str) -> str:
        return words.label_of("customer_type", x, lang)

    wide = t.pivot_table(index="type_from", columns="type_to", values="n", aggfunc="sum", sort=False)
    shown = wide.map(lambda n: f"<{min_cell}" if 0 < n < min_cell else str(int(n)))
    shown.index = [name(x) for x in shown.index]
    shown.columns = [name(x) for x in shown.columns]
    return shown.rename_axis(word("column.transition_corner", lang)).reset_index()


def reliability_display(ctx: WaveContext) -> pd.DataFrame:
    """Reliability per dimension for reading: alpha (good from 0.7), omega, composite reliability and AVE."""
    lang = ctx.language
    r = ctx.read("reliability")
    cols = ["construct", "n_items", "n", "alpha", "omega", "rho_c", "ave"]
    heads = ["construct", "items", "n", "alpha", "omega", "rho_c", "ave"]
    shown = r[cols].copy()
    shown["construct"] = shown["construct"].map(lambda c: label(ctx, c))
    shown.columns = [word(f"column.{h}", lang) for h in heads]
    return shown


def screening_display(ctx: WaveContext) -> pd.DataFrame | str:
    """Item-screening recommendations, or a sentence saying that nothing was flagged."""
    s = ctx.read("screening")
    if len(s) == 0:
        return word("text.nothing_to_screen", ctx.language)
    lang = ctx.language
    fields = ("construct", "item", "value", "threshold", "alpha", "alpha_without")

    def recommendation(r: pd.Series) -> str:
        values = {k: words.number(r[k], 2) if isinstance(r[k], float) else r[k] for k in fields if k in r}
        return word(f"screening.{r['rule']}", lang, **values)

    return pd.DataFrame(
        {
            word("column.construct", lang): s["construct"],
            word("column.item", lang): s["item"].fillna(""),
            word("column.recommendation", lang): s.apply(recommendation, axis=1),
        }
    )


# ----------------------------------------------------------------------------- comments (issue 14)
# Self-contained: the comments section of the wave report reads the comment_* tables (WaveAnalysis.comments)
# and words everything through analysis.words (group ``comments``). Cells under MIN_CELL comments are
# suppressed; quotes are PII-masked (analysis.comments.mask_quote) and HTML-escaped.
def _cword(key: str, lang: str, **fields: Any) -> str:
    return word(f"comments.{key}", lang, **fields)


def _about_label(ctx: WaveContext, about: Any) -> str:
    return label(ctx, str(about)) if isinstance(about, str) and about else ""


def _count(n: Any, lang: str, min_cell: int = MIN_CELL) -> str:
    return _cword("small", lang) if int(n) < min_cell else words.integer(n, lang)


def comment_summary_text(ctx: WaveContext) -> str:
    """The opening paragraph: how many commented, in which languages, the uncoded share, tone against rating,
    and candidate themes from frequent uncoded words (Markdown, escaped)."""
    lang = ctx.language
    summary = ctx.read("comment_summary")
    langs = words.join(
        [f"{_cword('lang_' + k, lang)} {words.integer(v, lang)}" for k, v in summary["languages"].items()], lang
    )
    n = words.integer(summary["n_comments"], lang)
    if not summary["codes"]:
        return words.escape_markdown(_cword("summary_short", lang, n=n, languages=langs))
    u = summary["uncoded"]
    rho = summary.get("sentiment_satisfaction_spearman")
    text = _cword(
        "summary", lang, n=n, languages=langs, uncoded=words.percent(u["share"]),
        ci=words.interval(u["ci_low"], u["ci_high"], as_percent=True), rho=words.number(rho, 2, "-"),
        contradicting=words.integer(summary["contradicting"], lang),
    )
    cand = ctx.read("comment_candidates")
    cand = cand[cand["count"] >= MIN_CELL]
    if len(cand):
        terms = words.join([f"{t} ({words.integer(c, lang)})" for t, c in zip(cand["term"], cand["count"], strict=True)], lang)
        text += "\n\n" + _cword("candidates", lang, terms=terms)
    return words.escape_markdown(text)


def comment_code_table(ctx: WaveContext, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Per theme: what it is about, comments, share with its Wilson interval, mean tone, the mentioners'
    satisfaction against the others' with Welch's p, and with a baseline the change of the share in
    percentage points (Newcombe interval, two-proportion test). Themes under ``min_cell`` comments show
    ``<5`` and nothing else."""
    lang = ctx.language
    t = ctx.read("comment_codes")
    small = t["n"] < min_cell

    def shown(values: pd.Series) -> pd.Series:
        return values.where(~small, "")

    share = [f"{words.percent(s)} ({words.interval(lo, hi, as_percent=True)})" for s, lo, hi in zip(t["share"], t["ci_low"], t["ci_high"], strict=True)]
    extra = {}
    if "change_diff" in t.columns and ctx.wave.baseline:
        change = [
            f"{words.signed(d * 100, 1)} ({words.signed(lo * 100, 1)}, {words.signed(hi * 100, 1)}; {words.p_text(p)})"
            for d, lo, hi, p in zip(t["change_diff"], t["change_ci_low"], t["change_ci_high"], t["change_p"], strict=True)
        ]
        small = small | (t["baseline_n"] < min_cell)
        extra[_cword("change", lang, wave=ctx.wave.baseline)] = pd.Series(change, index=t.index).where(~small, "")
    return pd.DataFrame(
        {
            _cword("code", lang): t["code"],
            _cword("about", lang): t["about"].map(lambda a: _about_label(ctx, a)),
            _cword("mentions", lang): t["n"].map(lambda n: _count(n, lang, min_cell)),
            _cword("share", lang): shown(pd.Series(share, index=t.index)),
            _cword("sentiment", lang): shown(t["sentiment"].map(lambda x: words.signed(x, 2))),
            _cword("sat_mentioners", lang): shown(t["mean_satisfaction"].map(lambda x: words.number(x, 2))),
            _cword("sat_others", lang): shown(t["mean_satisfaction_others"].map(lambda x: words.number(x, 2))),
            _cword("p", lang): shown(t["p"].map(words.p_value)),
            _cword("sat_negative", lang): [
                "" if small[i] or n < min_cell else f"{words.number(m, 2)} ({words.p_text(pn)})"
                for i, n, m, pn in zip(t.index, t["n_negative"], t["mean_satisfaction_negative"], t["p_negative"], strict=True)
            ],
            **extra,
        }
    )


def comment_keyword_table(ctx: WaveContext, top: int = 10) -> pd.DataFrame:
    """The most frequent words per language, and the distinctive words of this wave against the baseline."""
    lang = ctx.language
    t = ctx.read("comment_terms")
    rows = []
    for code in ("zh", "en"):
        part = t[(t["scope"] == "top") & (t["group"] == code) & (t["count"] >= MIN_CELL)].head(top)
        if len(part):
            rows.append((_cword("lang_" + code, lang), _cword("keywords", lang), _terms(part)))
    wave = t[(t["scope"] == "wave") & (t["group"].astype(str) == str(ctx.wave.id))].head(top)
    if len(wave):
        rows.append((_cword("current", lang, wave=ctx.wave.id), _cword("distinctive", lang), _terms(wave)))
    return pd.DataFrame(rows, columns=[_cword("group", lang), "", _cword("keywords", lang)])


def _terms(part: pd.DataFrame) -> str:
    return ", ".join(f"{t} ({int(c)})" for t, c in zip(part["term"], part["count"], strict=True))


def comment_segment_table(ctx: WaveContext, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Theme shares per segment group and wave (this wave and the baseline): one row per group, one column
    per theme (``share (n)``); groups with fewer than ``min_cell`` comments are left out, cells under it
    show ``<5``."""
    lang = ctx.language
    t = ctx.read("comment_segments")
    t = t[t["n_comments"] >= min_cell]
    if not len(t):
        return empty_table(lang)
    base = ctx.wave.baseline

    def group_name(seg: str, group: Any) -> str:
        if seg == "wave":
            return _cword("baseline" if str(group) == str(base) else "current", lang, wave=group)
        return f"{seg}: {group}"

    t = t.assign(
        cell=[
            _cword("small", lang) if n < min_cell else f"{words.percent(s, 0)} ({n})"
            for n, s in zip(t["n"], t["share"], strict=True)
        ],
        row=[group_name(s, g) for s, g in zip(t["segment"], t["group"], strict=True)],
    )
    order = list(dict.fromkeys(t["row"]))
    wide = t.pivot_table(index="row", columns="code", values="cell", aggfunc="first").reindex(order)
    wide = wide[[c for c in dict.fromkeys(t["code"]) if c in wide.columns]].reset_index()
    wide.columns = [_cword("group", lang), *wide.columns[1:]]
    return wide


def _comment_texts(ctx: WaveContext) -> pd.Series:
    from .wave import comment_text

    return comment_text(ctx.survey, ctx.read("clean"))


def comment_quotes(ctx: WaveContext, per_code: int = 2, min_cell: int = MIN_CELL) -> str:
    """Example quotes per theme (themes with ``min_cell`` comments or more): the most negative first,
    PII-masked and HTML-escaped."""
    from . import comments as cm
    from .publish import escape_text

    lang = ctx.language
    coded = ctx.read("comments").set_index("row")
    coded["codes"] = coded["codes"].fillna("")
    texts = _comment_texts(ctx)
    parts = []
    for code, n in zip(ctx.read("comment_codes")["code"], ctx.read("comment_codes")["n"], strict=True):
        if n < min_cell:
            continue
        quotes = cm.example_quotes(texts, coded, code, n=per_code)
        head = escape_text(_cword("quotes", lang, code=code, n=words.integer(n, lang)))
        items = "".join(f"<li>{escape_text(q)}</li>" for q in quotes)
        parts.append(f'<p class="comment-quotes">{head}</p><ul class="verbatims">{items}</ul>')
    parts.append(f"<p>{escape_text(_cword('suppressed', lang, min=MIN_CELL))}</p>")
    return "\n".join(parts)


def comment_priority_text(ctx: WaveContext) -> str:
    """What customers say about the top improvement priority (rank 1 of ``priorities``): the themes whose
    codebook ``about`` names that item or its construct, with share, satisfaction gap and tone (Markdown)."""
    lang = ctx.language
    if not ctx.has("priorities"):
        return ""
    top = ctx.read("priorities").sort_values("rank").iloc[0]
    item = str(top["item"])
    construct = ctx.survey.item(item).construct if item in ctx.survey.item_ids else None
    codes = ctx.read("comment_codes")
    linked = codes[codes["about"].isin([item, construct])]
    name = label(ctx, item)
    if not len(linked):
        return words.escape_markdown(_cword("priority_none", lang, item=name, about=construct or item))
    out = []
    for r in linked.itertuples(index=False):
        if r.n < MIN_CELL:
            continue
        out.append(
            _cword(
                "priority", lang, item=name, n=words.integer(r.n, lang), share=words.percent(r.share),
                code=r.code, sat=words.number(r.mean_satisfaction, 2),
                others=words.number(r.mean_satisfaction_others, 2), p=words.p_text(r.p),
                tone=words.signed(r.sentiment, 2),
            )
        )
    return words.escape_markdown("\n\n".join(out))


def comment_methods_text(ctx: WaveContext) -> str:
    """How the comments were coded and scored (Markdown, report language)."""
    return words.escape_markdown(_cword("methods", ctx.language))

