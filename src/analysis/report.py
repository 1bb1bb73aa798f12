"""What the notebooks and HTML reports show: manager-readable tables and charts from the stage tables.

Every function takes a :class:`~analysis.stages.WaveContext` (or the tables a
stage wrote) and returns a pandas DataFrame ready to show, or a matplotlib
Figure. Texts follow the survey's ``language`` (``en`` or ``zh``). Tables are
shown with HTML escaping on, so an open-ended answer containing markup is
shown as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .plots import PRIMARY, use_style

# ----------------------------------------------------------------------------- words
WORDS: dict[str, dict[str, str]] = {
    "csi": {"en": "Satisfaction index (CSI, 0-100)", "zh": "满意度指数 (CSI, 0-100)"},
    "satisfaction_rate": {"en": "Satisfaction rate", "zh": "满意率"},
    "nps": {"en": "Net Promoter Score", "zh": "净推荐值 (NPS)"},
    "response_rate": {"en": "Response rate", "zh": "回收率"},
    "repurchase_rate": {"en": "Repurchase intention (top-2-box)", "zh": "再购买意愿 (前两档)"},
    "metric": {"en": "Measure", "zh": "指标"},
    "value": {"en": "Value", "zh": "数值"},
    "ci": {"en": "95% interval", "zh": "95% 置信区间"},
    "n": {"en": "n", "zh": "样本量"},
    "item": {"en": "Item", "zh": "题目"},
    "construct": {"en": "Dimension", "zh": "维度"},
    "mean": {"en": "Mean", "zh": "均值"},
    "top2box": {"en": "Top-2-box", "zh": "前两档占比"},
    "index": {"en": "Index (0-100)", "zh": "指数 (0-100)"},
    "weight": {"en": "Weight", "zh": "权重"},
    "baseline": {"en": "Baseline", "zh": "基期"},
    "current": {"en": "Current", "zh": "本期"},
    "diff": {"en": "Change", "zh": "变化"},
    "p": {"en": "p", "zh": "p 值"},
    "significant": {"en": "Significant", "zh": "显著"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "type": {"en": "Customer type", "zh": "客户类型"},
    "share": {"en": "Share", "zh": "占比"},
    "importance": {"en": "Importance", "zh": "重要性"},
    "performance": {"en": "Performance (0-100)", "zh": "表现 (0-100)"},
    "quadrant": {"en": "Quadrant", "zh": "象限"},
    "priority": {"en": "Priority", "zh": "优先级"},
    "rank": {"en": "Rank", "zh": "排序"},
    "path": {"en": "Path", "zh": "路径"},
    "estimate": {"en": "Coefficient", "zh": "路径系数"},
    "segment": {"en": "Segment", "zh": "分组变量"},
    "variable": {"en": "Measure", "zh": "指标"},
    "test": {"en": "Test", "zh": "检验"},
    "effect": {"en": "Effect size", "zh": "效应量"},
    "groups_differ": {"en": "Groups differ?", "zh": "组间差异?"},
    "drivers_title": {
        "en": "What drives overall satisfaction (share of explained variance)",
        "zh": "总体满意度的关键驱动因素 (解释方差占比)",
    },
    "index_title": {
        "en": "Satisfaction index by dimension (0-100, 95% interval)",
        "zh": "各维度满意度指数 (0-100, 95% 置信区间)",
    },
    "paths_title": {
        "en": "CSI model: standardised path coefficients (* = 95% interval excludes 0)",
        "zh": "CSI 模型: 标准化路径系数 (* 表示 95% 区间不含 0)",
    },
}
TYPE_ZH = {
    "apostle": "传道者",
    "loyalist": "忠诚者",
    "mercenary": "唯利是图者",
    "hostage": "人质",
    "defector": "叛离者",
    "terrorist": "破坏者",
}
QUADRANT_ZH = {
    "Concentrate here": "重点改进",
    "Keep up the good work": "继续保持",
    "Low priority": "次要改进",
    "Possible overkill": "可能过度投入",
}


def word(key: str, language: str) -> str:
    """A report word in ``language`` (en or zh)."""
    entry = WORDS.get(key, {})
    return entry.get(language) or entry.get("en") or key


# ----------------------------------------------------------------------------- showing tables
def show_table(table: pd.DataFrame, precision: int = 2, max_rows: int = 60) -> None:
    """Display a table in a notebook: index hidden, numbers rounded, every text HTML-escaped."""
    from IPython.display import display

    if table is None or len(table) == 0:
        from IPython.display import Markdown

        display(Markdown("*(no rows)*"))
        return
    shown = table.head(max_rows)
    styler = shown.style.hide(axis="index").format(precision=precision, escape="html", na_rep="")
    styler = styler.format_index(escape="html", axis=1)
    display(styler)


def pct(x: float, digits: int = 1) -> str:
    return "" if pd.isna(x) else f"{x * 100:.{digits}f}%"


def _interval(lo: float, hi: float, fmt: str = "{:.1f}") -> str:
    if pd.isna(lo) or pd.isna(hi):
        return ""
    return f"{fmt.format(lo)} – {fmt.format(hi)}"


# ----------------------------------------------------------------------------- descriptive
def headline_table(ctx) -> pd.DataFrame:
    """The headline measures with their intervals, formatted for reading."""
    lang = ctx.language
    h = ctx.read("headline")
    rows = []
    for r in h.itertuples(index=False):
        share = r.metric in ("satisfaction_rate", "response_rate", "repurchase_rate")
        value = pct(r.value) if share else f"{r.value:.1f}"
        ci = (
            _interval(r.ci_low * 100, r.ci_high * 100, "{:.1f}%") if share else _interval(r.ci_low, r.ci_high)
        )
        rows.append(
            {
                word("metric", lang): word(r.metric, lang),
                word("value", lang): value,
                word("ci", lang): ci,
                word("n", lang): int(r.n) if pd.notna(r.n) else "",
            }
        )
    return pd.DataFrame(rows)


def item_table(ctx) -> pd.DataFrame:
    """Item statistics for reading: label, dimension, n, mean, top-2-box, index."""
    lang = ctx.language
    t = ctx.read("item_stats")
    return pd.DataFrame(
        {
            word("item", lang): t["label"],
            word("construct", lang): t["construct"].fillna(""),
            word("n", lang): t["n"],
            word("mean", lang): t["mean"].round(2),
            word("top2box", lang): t["top2box"].map(pct),
            word("index", lang): t["index"].round(1),
        }
    )


def item_charts(ctx) -> list[Figure]:
    """One diverging stacked bar chart per dimension (items by their scale labels)."""
    from .describe import plot_diverging

    s = ctx.survey
    dist = ctx.read("distribution")
    figs = []
    for construct, items in s.blocks.items():
        scales = {s.item(i).scale for i in items}
        for scale in sorted(scales):
            chosen = [i for i in items if s.item(i).scale == scale]
            d = dist[dist["item"].isin(chosen)]
            fig = plot_diverging(d, {i: s.item_label(i) for i in chosen}, title=construct)
            figs.append(fig)
            plt.close(fig)
    return figs


def index_chart(ctx) -> Figure:
    """Horizontal bars of each dimension's 0-100 index with 95% intervals; the overall CSI highlighted."""
    use_style()
    lang = ctx.language
    t = ctx.read("csi_index")
    t = t.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(t) + 1.2))
    colours = ["#c8553d" if c == "CSI" else PRIMARY for c in t["construct"]]
    ax.barh(
        t["construct"],
        t["index"],
        color=colours,
        xerr=[t["index"] - t["ci_low"], t["ci_high"] - t["index"]],
        capsize=3,
    )
    for y, v in enumerate(t["index"]):
        ax.text(v + 1.5, y, f"{v:.1f}", va="center", fontsize=9)
    ax.set_xlim(0, 105)
    ax.set_title(word("index_title", lang))
    plt.close(fig)
    return fig


# ----------------------------------------------------------------------------- inferential
def group_summary(ctx) -> pd.DataFrame:
    """Omnibus group tests, one line per measure and segment, with the plain-language verdict."""
    lang = ctx.language
    g = ctx.read("group_tests")
    omni = g[g["test"].isin(["welch_anova", "welch_t"])].copy()
    return pd.DataFrame(
        {
            word("variable", lang): omni["variable"].map(lambda v: ctx.survey.item_label(v)),
            word("segment", lang): omni["group"],
            word("test", lang): omni["test"],
            word("p", lang): omni["p_adj"].round(4),
            word("effect", lang): omni["effect_size"].round(3).astype(str)
            + " ("
            + omni["effect_size_name"]
            + ")",
            word("groups_differ", lang): np.where(omni["p_adj"] < 0.05, word("yes", lang), word("no", lang)),
            "note": omni["note"].fillna(""),
        }
    )


def group_charts(ctx) -> list[Figure]:
    """Mean overall satisfaction with 95% intervals per group, one chart per segment (groups n >= 5)."""
    from .compare import plot_group_means

    s = ctx.survey
    scores = pd.read_parquet(ctx.processed / "respondent_scores.parquet")
    figs = []
    for seg in s.segments:
        counts = scores[seg].value_counts()
        data = scores[scores[seg].isin(counts[counts >= 5].index)]
        fig = plot_group_means(data, "CSI", seg, title=f"CSI × {seg}")
        figs.append(fig)
        plt.close(fig)
    return figs


def change_table(ctx) -> pd.DataFrame:
    """Change against the baseline wave, formatted; empty when the wave has no baseline."""
    lang = ctx.language
    path = ctx.processed / "wave_change.csv"
    if not path.exists():
        return pd.DataFrame()
    c = pd.read_csv(path)
    share = c["metric"].eq("satisfaction_rate")
    scale = np.where(share, 100.0, 1.0)
    return pd.DataFrame(
        {
            word("metric", lang): c["metric"].map(
                lambda m: word(m.lower(), lang) if m.lower() in WORDS else m
            ),
            word("baseline", lang): (c["baseline"] * scale).round(1),
            word("current", lang): (c["current"] * scale).round(1),
            word("diff", lang): (c["diff"] * scale).round(1),
            word("ci", lang): [
                _interval(lo * k, hi * k) for lo, hi, k in zip(c["ci_low"], c["ci_high"], scale, strict=True)
            ],
            word("p", lang): c["p"].round(4),
            word("significant", lang): np.where(c["p"] < 0.05, word("yes", lang), word("no", lang)),
        }
    )


def driver_chart(ctx) -> Figure:
    """Relative importance of each dimension for overall satisfaction (Johnson's relative weights)."""
    from .drivers import plot_drivers

    fig = plot_drivers(ctx.read("drivers"), title=word("drivers_title", ctx.language))
    plt.close(fig)
    return fig


def path_table(ctx) -> pd.DataFrame:
    """Bootstrapped path coefficients of the CSI model."""
    lang = ctx.language
    p = ctx.read("csi_paths")
    return pd.DataFrame(
        {
            word("path", lang): p["source"] + " → " + p["target"],
            word("estimate", lang): p["estimate"].round(3),
            "SE": p["se"].round(3),
            word("ci", lang): [
                _interval(a, b, "{:.3f}") for a, b in zip(p["ci_low"], p["ci_high"], strict=True)
            ],
            word("p", lang): p["p"].round(4),
        }
    )


def _layers(constructs: Sequence[str], paths: Sequence[tuple[str, str]]) -> dict[str, int]:
    depth = {c: 0 for c in constructs}
    for _ in constructs:
        for a, b in paths:
            depth[b] = max(depth[b], depth[a] + 1)
    return depth


def plot_path_diagram(paths: pd.DataFrame, r2: Mapping[str, float] | None = None, title: str = "") -> Figure:
    """Path diagram: constructs in columns by causal order, arrows labelled with coefficients.

    ``paths`` has source, target, estimate and optionally ci_low/ci_high (a star marks an
    interval that excludes 0); ``r2`` maps endogenous constructs to R².
    """
    use_style()
    pairs = list(zip(paths["source"], paths["target"], strict=True))
    constructs = list(dict.fromkeys([c for pair in pairs for c in pair]))
    depth = _layers(constructs, pairs)
    layers: dict[int, list[str]] = {}
    for c in constructs:
        layers.setdefault(depth[c], []).append(c)
    pos = {}
    for d, names in layers.items():
        for k, c in enumerate(names):
            pos[c] = (d * 3.2, -(k - (len(names) - 1) / 2) * 1.5)
    height = max(len(v) for v in layers.values())
    fig, ax = plt.subplots(figsize=(3.2 * len(layers) + 1.5, 1.3 * height + 1.5))
    for row in paths.itertuples(index=False):
        (x0, y0), (x1, y1) = pos[row.source], pos[row.target]
        sig = hasattr(row, "ci_low") and pd.notna(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0)
        ax.annotate(
            "",
            xy=(x1 - 0.75, y1),
            xytext=(x0 + 0.75, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": PRIMARY if sig else "#999999",
                "lw": 0.8 + 3 * min(abs(row.estimate), 1),
            },
        )
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 + 0.12,
            f"{row.estimate:.2f}{'*' if sig else ''}",
            ha="center",
            fontsize=9,
            bbox={"fc": "white", "ec": "none", "pad": 0.5},
        )
    for c, (x, y) in pos.items():
        label = c if not r2 or c not in r2 else f"{c}\nR² = {r2[c]:.2f}"
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.5", "fc": "#eef3f8", "ec": PRIMARY},
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
    ax.set_ylim(min(ys) - 1, max(ys) + 1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    plt.close(fig)
    return fig


def path_diagram(ctx) -> Figure:
    """The CSI model's path diagram from csi_paths and pls_r2."""
    r2 = ctx.read("pls_r2")
    return plot_path_diagram(
        ctx.read("csi_paths"),
        dict(zip(r2["construct"], r2["r2"], strict=True)),
        title=word("paths_title", ctx.language),
    )


# ----------------------------------------------------------------------------- zones
def zone_summary(ctx) -> pd.DataFrame:
    lang = ctx.language
    z = ctx.read("zones")
    names = z["type"].map(TYPE_ZH) + " (" + z["type"] + ")" if lang == "zh" else z["type"]
    return pd.DataFrame(
        {word("type", lang): names, word("n", lang): z["n"], word("share", lang): z["share"].map(pct)}
    )


def zone_chart(ctx) -> Figure:
    from .zones import ZH_LABELS, plot_zones

    s = ctx.survey
    scores = pd.read_parquet(ctx.processed / "respondent_scores.parquet")
    types = pd.read_parquet(ctx.processed / "types.parquet")
    from .stages import zone_thresholds

    th_sat, th_loy = zone_thresholds(s)
    kwargs = {"labels": ZH_LABELS} if ctx.language == "zh" else {}
    fig = plot_zones(
        scores[s.overall_satisfaction], scores["loyalty_score"], types["type"], th_sat, th_loy, **kwargs
    )
    plt.close(fig)
    return fig


def loyalty_chart(ctx) -> Figure:
    from .stages import zone_thresholds
    from .zones import ZH_LABELS, plot_loyalty_curve

    th_sat, _ = zone_thresholds(ctx.survey)
    bp = ctx.read("loyalty_breakpoint").iloc[0].to_dict()
    kwargs = {"labels": ZH_LABELS} if ctx.language == "zh" else {}
    fig = plot_loyalty_curve(ctx.read("loyalty_curve"), breakpoint=bp, thresholds=th_sat, **kwargs)
    plt.close(fig)
    return fig


def ipa_chart(ctx) -> Figure:
    from .zones import plot_ipa

    ipa = ctx.read("ipa")
    fig = plot_ipa(ipa, labels=dict(zip(ipa["item"], ipa["label"], strict=True)))
    plt.close(fig)
    return fig


def priority_table(ctx, top: int = 8) -> pd.DataFrame:
    lang = ctx.language
    p = ctx.read("priorities").head(top)
    ipa = ctx.read("ipa").set_index("item")["quadrant"]
    quad = p["item"].map(ipa)
    if lang == "zh":
        quad = quad.map(lambda q: QUADRANT_ZH.get(q, q))
    return pd.DataFrame(
        {
            word("rank", lang): p["rank"],
            word("item", lang): p["label"],
            word("importance", lang): p["importance"].round(3),
            word("performance", lang): p["performance"].round(1),
            word("quadrant", lang): quad,
            word("priority", lang): p["priority"].round(2),
        }
    )
