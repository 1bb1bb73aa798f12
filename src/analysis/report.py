"""What the notebooks and HTML reports show: manager-readable tables and charts from the stage tables.

Every function takes a :class:`~analysis.wave.WaveAnalysis` (or the tables a
stage wrote) and returns a pandas DataFrame ready to show, or a matplotlib
Figure. Texts follow the survey's ``language`` (``en`` or ``zh``). Tables are
shown with HTML escaping on, so an open-ended answer containing markup is
shown as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import plotting
from .privacy import MIN_CELL
from .zones import ZH_LABELS

if TYPE_CHECKING:  # imported for type hints only
    from IPython.display import Markdown

    from .wave import WaveAnalysis as WaveContext

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


def word(key: str, language: str) -> str:
    """A report word in ``language`` (en or zh)."""
    entry = WORDS.get(key, {})
    return entry.get(language) or entry.get("en") or key


def label(ctx: WaveContext, name: str) -> str:
    """Display name of a construct, item or headline metric in the report language."""
    s = ctx.survey
    if name in s.constructs:
        return s.construct_label(name, ctx.language)
    if name in s.rated_items:
        return s.item_label(name, ctx.language)
    if name.lower() in WORDS:
        return word(name.lower(), ctx.language)
    return name


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
def headline_table(ctx: WaveContext) -> pd.DataFrame:
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


def item_table(ctx: WaveContext) -> pd.DataFrame:
    """Item statistics for reading: label, dimension, n, mean, top-2-box, index."""
    lang = ctx.language
    t = ctx.read("item_stats")
    return pd.DataFrame(
        {
            word("item", lang): t["label"],
            word("construct", lang): t["construct"].map(
                lambda c: label(ctx, c) if isinstance(c, str) else ""
            ),
            word("n", lang): t["n"],
            word("mean", lang): t["mean"].round(2),
            word("top2box", lang): t["top2box"].map(pct),
            word("index", lang): t["index"].round(1),
        }
    )


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
                xlabel=word("share", ctx.language),
                labels={i: s.item_label(i) for i in chosen},
                title=label(ctx, construct),
            )
            fig = ax.figure
            figs.append(fig)
            plt.close(fig)
    return figs


def index_chart(ctx: WaveContext) -> Figure:
    """Horizontal bars of each dimension's 0-100 index with 95% intervals; the overall CSI highlighted."""
    lang = ctx.language
    t = ctx.read("csi_index")
    names = {c: label(ctx, c) for c in t["construct"]}
    fig = plotting.plot_index(t, highlight="CSI", labels=names, title=word("index_title", lang)).figure
    plt.close(fig)
    return fig


# ----------------------------------------------------------------------------- inferential
def group_summary(ctx: WaveContext) -> pd.DataFrame:
    """Omnibus group tests, one line per measure and segment, with the plain-language verdict."""
    lang = ctx.language
    g = ctx.read("group_tests")
    omni = g[g["test"].isin(["welch_anova", "welch_t"])].copy()
    return pd.DataFrame(
        {
            word("variable", lang): omni["variable"].map(lambda v: label(ctx, v)),
            word("segment", lang): omni["group"],
            word("test", lang): omni["test"],
            word("p", lang): omni["p_adj"].round(4),
            word("effect", lang): omni["effect_size"].round(3).astype(str)
            + " ("
            + omni["effect_size_name"]
            + ")",
            word("groups_differ", lang): np.where(omni["p_adj"] < 0.05, word("yes", lang), word("no", lang)),
            ("备注" if lang == "zh" else "note"): omni["note"].fillna(""),
        }
    )


def group_charts(ctx: WaveContext) -> list[Figure]:
    """Mean overall satisfaction with 95% intervals per group, one chart per segment (groups n >= MIN_CELL)."""
    s = ctx.survey
    xlabel = f"CSI: {word('mean', ctx.language)}, {word('ci', ctx.language)}"
    scores = ctx.read("respondent_scores")
    figs = []
    for seg in s.segments:
        counts = scores[seg].value_counts()
        data = scores[scores[seg].isin(counts[counts >= MIN_CELL].index)]
        ax = plotting.plot_group_means(data, "CSI", seg, xlabel=xlabel, ylabel=seg, title=f"CSI × {seg}")
        fig = ax.figure
        figs.append(fig)
        plt.close(fig)
    return figs


def change_table(ctx: WaveContext) -> pd.DataFrame:
    """Change against the baseline wave, formatted; empty when the wave has no baseline."""
    lang = ctx.language
    if not ctx.has("wave_change"):
        return pd.DataFrame()
    c = ctx.read("wave_change")
    share = c["metric"].eq("satisfaction_rate")
    scale = np.where(share, 100.0, 1.0)
    return pd.DataFrame(
        {
            word("metric", lang): c["metric"].map(lambda m: label(ctx, m)),
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


def driver_chart(ctx: WaveContext) -> Figure:
    """Relative importance of each dimension for overall satisfaction (Johnson's relative weights)."""
    table = ctx.read("drivers")
    names = {c: label(ctx, c) for c in table["predictor"]}
    xlabel = "解释方差占比 (%)" if ctx.language == "zh" else "Share of explained variance (%)"
    ax = plotting.plot_drivers(table, xlabel=xlabel, labels=names, title=word("drivers_title", ctx.language))
    fig = ax.figure
    plt.close(fig)
    return fig


def path_table(ctx: WaveContext) -> pd.DataFrame:
    """Bootstrapped path coefficients of the CSI model."""
    lang = ctx.language
    p = ctx.read("csi_paths")
    return pd.DataFrame(
        {
            word("path", lang): p["source"].map(lambda c: label(ctx, c))
            + " → "
            + p["target"].map(lambda c: label(ctx, c)),
            word("estimate", lang): p["estimate"].round(3),
            "SE": p["se"].round(3),
            word("ci", lang): [
                _interval(a, b, "{:.3f}") for a, b in zip(p["ci_low"], p["ci_high"], strict=True)
            ],
            word("p", lang): p["p"].round(4),
        }
    )


def path_diagram(ctx: WaveContext) -> Figure:
    """The CSI model's path diagram from csi_paths and pls_r2."""
    r2 = ctx.read("pls_r2")
    paths = ctx.read("csi_paths")
    names = {c: label(ctx, c) for c in [*paths["source"], *paths["target"]]}
    ax = plotting.plot_path_diagram(
        paths,
        r2=dict(zip(r2["construct"], r2["r2"], strict=True)),
        labels=names,
        title=word("paths_title", ctx.language),
    )
    fig = ax.figure
    plt.close(fig)
    return fig


# ----------------------------------------------------------------------------- zones
def zone_summary(ctx: WaveContext) -> pd.DataFrame:
    lang = ctx.language
    z = ctx.read("zones")
    names = z["type"].map(ZH_LABELS) + " (" + z["type"] + ")" if lang == "zh" else z["type"]
    return pd.DataFrame(
        {word("type", lang): names, word("n", lang): z["n"], word("share", lang): z["share"].map(pct)}
    )


def zone_chart(ctx: WaveContext) -> Figure:
    s = ctx.survey
    scores = ctx.read("respondent_scores")
    types = ctx.read("types")
    from .wave import zone_thresholds

    th_sat, th_loy = zone_thresholds(s)
    kwargs = (
        {"labels": ZH_LABELS, "xlabel": "总体满意度", "ylabel": "忠诚度"}
        if ctx.language == "zh"
        else {"xlabel": "satisfaction", "ylabel": "loyalty"}
    )
    ax = plotting.plot_zones(
        scores[s.overall_satisfaction],
        scores["loyalty_score"],
        types["type"],
        thresholds=th_sat,
        loyalty_thresholds=th_loy,
        **kwargs,
    )
    fig = ax.figure
    plt.close(fig)
    return fig


def loyalty_chart(ctx: WaveContext) -> Figure:
    from .wave import zone_thresholds

    th_sat, _ = zone_thresholds(ctx.survey)
    bp = ctx.read("loyalty_breakpoint").iloc[0].to_dict()
    if ctx.language == "zh":
        xlabel, ylabel = "总体满意度", "平均忠诚度"
        legend = {**ZH_LABELS, "loyalty_mean": ylabel, "fit": "分段回归拟合", "promoter_share": "推荐者占比"}
    else:
        xlabel, ylabel = "satisfaction", "mean loyalty"
        legend = {"loyalty_mean": ylabel, "fit": "fit", "promoter_share": "promoter share"}
    ax = plotting.plot_loyalty_curve(
        ctx.read("loyalty_curve"),
        breakpoint=bp,
        thresholds=th_sat,
        xlabel=xlabel,
        ylabel=ylabel,
        labels=legend,
    )
    fig = ax.figure
    plt.close(fig)
    return fig


def ipa_chart(ctx: WaveContext) -> Figure:
    ipa = ctx.read("ipa")
    axes = {"xlabel": word("performance", ctx.language), "ylabel": word("importance", ctx.language)}
    names = {
        **(ZH_LABELS if ctx.language == "zh" else {}),
        **dict(zip(ipa["item"], ipa["label"], strict=True)),
    }
    fig = plotting.plot_ipa(ipa, labels=names, **axes).figure
    plt.close(fig)
    return fig


def priority_table(ctx: WaveContext, top: int = 8) -> pd.DataFrame:
    lang = ctx.language
    p = ctx.read("priorities").head(top)
    ipa = ctx.read("ipa").set_index("item")["quadrant"]
    quad = p["item"].map(ipa)
    if lang == "zh":
        quad = quad.map(lambda q: ZH_LABELS.get(q, q))
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


# ----------------------------------------------------------------------------- the evaluation report
def _signed(x: float, digits: int = 1, unit: str = "") -> str:
    return f"{x:+.{digits}f}{unit}"


def _sig_word(p: float, lang: str) -> str:
    if pd.isna(p):
        return ""
    if lang == "zh":
        return "（统计显著）" if p < 0.05 else "（不显著）"
    return " (significant)" if p < 0.05 else " (not significant)"


def executive_summary(ctx: WaveContext) -> str:
    """The first screen of the report as markdown: level, change, targets, where to act."""
    lang = ctx.language
    f = ctx.facts()
    lines = []
    csi_txt = f"{f.get('csi', float('nan')):.1f}"
    sat_txt = pct(f.get("satisfaction_rate", float("nan")))
    nps_txt = f"{f.get('nps', float('nan')):.1f}"
    if lang == "zh":
        lines.append(
            f"- **满意度指数 (CSI)**: {csi_txt} / 100"
            + (
                f"，较基期 {f['baseline']} 变化 {_signed(f['csi_diff'])} 分{_sig_word(f['csi_p'], lang)}"
                if "csi_diff" in f
                else ""
            )
        )
        lines.append(
            f"- **满意率**（总体满意度为“满意”及以上）: {sat_txt}"
            + (
                f"，变化 {_signed(f['satisfaction_rate_diff'] * 100)} 个百分点{_sig_word(f['satisfaction_rate_p'], lang)}"
                if "satisfaction_rate_diff" in f
                else ""
            )
        )
        if "nps" in f:
            lines.append(
                f"- **净推荐值 (NPS)**: {nps_txt}"
                + (f"，变化 {_signed(f['nps_diff'])}{_sig_word(f['nps_p'], lang)}" if "nps_diff" in f else "")
            )
        lines.append(f"- **目标达成**: {f['kpis_met']} / {f['kpis_targeted']} 项指标达标（见下表）。")
        lines.append(f"- **有效样本**: {f['n']} 份（原始 {f['raw']} 份，清洗规则见“样本与回收”）。")
    else:
        lines.append(
            f"- **Satisfaction index (CSI)**: {csi_txt} / 100"
            + (
                f", {_signed(f['csi_diff'])} points against {f['baseline']}{_sig_word(f['csi_p'], lang)}"
                if "csi_diff" in f
                else ""
            )
        )
        lines.append(
            f"- **Satisfaction rate** (overall satisfaction in the satisfied levels): {sat_txt}"
            + (
                f", {_signed(f['satisfaction_rate_diff'] * 100)} percentage points"
                f"{_sig_word(f['satisfaction_rate_p'], lang)}"
                if "satisfaction_rate_diff" in f
                else ""
            )
        )
        if "nps" in f:
            lines.append(
                f"- **Net Promoter Score**: {nps_txt}"
                + (f", {_signed(f['nps_diff'])}{_sig_word(f['nps_p'], lang)}" if "nps_diff" in f else "")
            )
        lines.append(f"- **Targets**: {f['kpis_met']} of {f['kpis_targeted']} KPIs met (table below).")
        lines.append(f"- **Valid responses**: {f['n']} (of {f['raw']} raw rows; see Sample and response).")
    for line in segment_alerts(ctx):
        lines.append(f"- {line}")
    top = priority_table(ctx, top=3)
    if len(top):
        items = "、".join(top.iloc[:, 1]) if lang == "zh" else ", ".join(top.iloc[:, 1])
        lines.append(f"- **优先改进**: {items}。" if lang == "zh" else f"- **Act first on**: {items}.")
    return "\n".join(lines)


def segment_alerts(ctx: WaveContext, alpha: float = 0.05) -> list[str]:
    """Plain sentences for segments whose CSI changed significantly against the baseline, largest first."""
    if not ctx.has("wave_change"):
        return []
    c = ctx.read("wave_change")
    seg = c[c["metric"].str.startswith("CSI | ") & (c["p"] < alpha)].copy()
    if seg.empty:
        return []
    overall = c.loc[c["metric"] == "CSI", "diff"]
    base = float(overall.iloc[0]) if len(overall) else 0.0
    seg["gap"] = (seg["diff"] - base).abs()
    seg = seg.sort_values("gap", ascending=False).head(3)
    out = []
    for r in seg.itertuples(index=False):
        name = r.metric.replace("CSI | ", "")
        if ctx.language == "zh":
            direction = "下降" if r.diff < 0 else "上升"
            out.append(f"**{name}** 的满意度指数{direction} {abs(r.diff):.1f} 分（p = {r.p:.3g}）。")
        else:
            direction = "fell" if r.diff < 0 else "rose"
            out.append(f"**{name}**: CSI {direction} {abs(r.diff):.1f} points (p = {r.p:.3g}).")
    return out


def kpi_block(ctx: WaveContext) -> str:
    """The KPI table as HTML with met / not met badges."""
    from .publish import kpi_html

    table = ctx.read("kpis")
    table[["target", "note"]] = (
        table[["target", "note"]].astype(object).fillna("")
    )  # empty cells read back as NaN
    return kpi_html(table, ctx.language)


def sample_table(ctx: WaveContext) -> pd.DataFrame:
    """The cleaning attrition table, in the report language."""
    a = ctx.read("attrition")
    if ctx.language == "zh":
        names = {
            "raw data rows": "原始数据行",
            "duplicate_id": "重复编号",
            "duplicate_row": "重复作答",
            "incomplete": "作答不完整",
            "speeder": "作答过快",
            "straightliner": "直线作答",
            "kept": "有效样本",
            "outlier (flagged, kept)": "异常模式（仅标记，保留）",
        }
        return pd.DataFrame(
            {"步骤": a["step"].map(lambda s: names.get(s, s)), "剔除": a["removed"], "剩余": a["remaining"]}
        )
    return a[["step", "removed", "remaining", "description"]]


def verbatims(ctx: WaveContext, limit: int = 12) -> str:
    """Open-ended answers as escaped HTML: the least satisfied customers' comments first, then all of them
    in a collapsed list (``<details>``), so nothing a customer wrote is hidden and no markup can run."""
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
        summary = f"全部 {len(data)} 条意见" if ctx.language == "zh" else f"All {len(data)} comments"
        items = "".join(f"<li>{escape_text(t)}</li>" for t in clean[col].dropna())
        parts.append(
            f'<details class="verbatims-all"><summary>{escape_text(summary)}</summary><ul>{items}</ul>'
            "</details>"
        )
    return "\n".join(parts)


def provenance_table(ctx: WaveContext, extra_waves: Sequence = ()) -> pd.DataFrame:
    from .publish import provenance

    return provenance(ctx.survey, [ctx.wave, *extra_waves])


SECTIONS = {
    "summary": ("Executive summary", "执行摘要"),
    "kpis": ("Targets: KPIs met and not met", "目标达成情况"),
    "sample": ("Sample and response", "样本与回收"),
    "results": ("Satisfaction by item and dimension", "各题目与维度满意度"),
    "reliability": ("Can we trust the measure? Reliability", "测量可靠性"),
    "groups": ("Differences between customer groups", "客户群体差异"),
    "change": ("Change against the baseline wave", "与基期相比的变化"),
    "drivers": ("What drives satisfaction: key drivers and the CSI model", "满意度驱动因素与 CSI 模型"),
    "zones": ("Satisfaction and loyalty: customer types", "满意度与忠诚度：客户类型"),
    "priorities": ("Where to act: importance-performance priorities", "改进重点：重要性-表现分析"),
    "verbatims": ("What customers said", "客户原话"),
    "methods": ("Methods in plain words", "方法说明"),
    "provenance": ("Provenance", "数据来源与可复现信息"),
    "trends": ("Trends across waves", "各期趋势"),
    "segments": ("Segment trends", "细分群体趋势"),
    "types": ("Customer types over waves", "各期客户类型"),
}


def section(key: str, language: str, level: int = 2) -> Markdown:
    """A report heading with a stable id (``## Executive summary {#summary}``) as notebook Markdown."""
    from IPython.display import Markdown

    en, zh = SECTIONS[key]
    return Markdown(f"{'#' * level} {zh if language == 'zh' else en} {{#{key}}}")


METHODS = {
    "en": """\
- **Cleaning.** Every raw row is accounted for: duplicate ids and re-submissions, rows with fewer than half of the
  rated items answered, speeders (under a third of the median duration) and straight-liners are removed, in that
  order; unusual answer patterns (Mahalanobis distance) are flagged but kept. Answers outside the scale become
  missing and are listed. Personal data never leaves the raw folder.
- **Top-2-box and satisfaction rate.** Share of answers in the two highest levels, with Wilson 95% intervals.
- **Index (0-100).** Item mean rescaled: (mean − min) / (max − min) × 100. Dimension indices are means of their
  items; the overall CSI weights the dimensions ({weights}).
- **NPS.** Promoters (9-10) minus detractors (0-6), with an adjusted-Wald interval.
- **Reliability.** Cronbach's alpha (≥ 0.7 is good), McDonald's omega, composite reliability and AVE from the
  CSI model.
- **Group differences.** Welch's ANOVA (does not assume equal variances) with Games-Howell pairs, Kruskal-Wallis
  as a rank-based check, chi-square on the top-2-box share; p-values Holm-adjusted. Groups under 5 answers are
  never shown; groups under 30 are flagged.
- **Change.** Welch interval for means, Newcombe interval for shares, variance formula for NPS.
- **Key drivers.** Johnson's relative weights: each dimension's share of the explained variance of overall
  satisfaction, with bootstrap intervals.
- **CSI model.** PLS path modelling (as in ACSI/ECSI; checked against the R package seminr), 5,000 bootstrap
  resamples for the intervals.
- **Customer types.** Jones & Sasser (1995) satisfaction-loyalty zones; loyalty curve with a segmented-regression
  break point; importance-performance analysis after Martilla & James (1977).
""",
    "zh": """\
- **数据清洗**：每一行原始数据都有记录。依次剔除重复编号和重复提交、评分题作答不足一半、作答时间不足中位数三分之一
  （作答过快）以及直线作答的问卷；异常作答模式（马氏距离）只标记、不剔除。超出量表范围的答案设为缺失并列出。
  个人信息从不离开原始数据文件夹。
- **前两档占比与满意率**：回答落在最高两档的比例，附 Wilson 95% 置信区间。
- **指数（0-100）**：题目均值换算为 (均值 − 最小值) / (最大值 − 最小值) × 100；维度指数为所含题目的平均，
  总体 CSI 按维度加权（{weights}）。
- **净推荐值**：推荐者（9-10 分）比例减去贬损者（0-6 分）比例，附调整 Wald 区间。
- **信度**：Cronbach α（≥ 0.7 为好）、McDonald ω，以及 CSI 模型给出的组合信度与 AVE。
- **组间差异**：Welch 方差分析（不要求方差相等）及 Games-Howell 两两比较，Kruskal-Wallis 秩检验作为稳健性检查，
  前两档占比用卡方检验；p 值经 Holm 校正。样本少于 5 的群体不予显示，少于 30 的群体予以提示。
- **变化**：均值用 Welch 区间，比例用 Newcombe 区间，NPS 用方差公式。
- **关键驱动因素**：Johnson 相对权重，即各维度对总体满意度解释方差的贡献，附自助法区间。
- **CSI 模型**：偏最小二乘路径模型（ACSI/ECSI 方法，结果经 R 包 seminr 核对），5000 次自助抽样给出区间。
- **客户类型**：Jones & Sasser (1995) 满意度-忠诚度分区；忠诚度曲线用分段回归估计拐点；重要性-表现分析
  参照 Martilla & James (1977)。
""",
}


def methods_text(ctx: WaveContext) -> str:
    """The plain-words method notes, naming the index weighting actually used and its weights."""
    w = ctx.read("index_weights")
    shown = ", ".join(f"{label(ctx, c)} {x:.2f}" for c, x in zip(w["construct"], w["weight"], strict=True))
    method = str(w["method"].iloc[0]) if len(w) else "equal"
    return METHODS["zh" if ctx.language == "zh" else "en"].format(weights=f"{method}: {shown}")


def recommended_actions(ctx: WaveContext, top: int = 3) -> str:
    """Plain recommendations from the IPA quadrants and the priority ranking (markdown)."""
    lang = ctx.language
    ipa = ctx.read("ipa")
    ranked = ctx.read("priorities")["item"].tolist()
    order = {item: k for k, item in enumerate(ranked)}

    def names(quadrant: str) -> list[str]:
        rows = ipa[ipa["quadrant"] == quadrant].copy()
        rows["rank"] = rows["item"].map(order)
        return rows.sort_values("rank")["label"].head(top).tolist()

    focus, keep, overkill = (
        names("Concentrate here"),
        names("Keep up the good work"),
        names("Possible overkill"),
    )
    sep = "、" if lang == "zh" else ", "
    lines = []
    if lang == "zh":
        if focus:
            lines.append(
                f"1. **重点改进**：{sep.join(focus)}。对总体满意度影响大而表现偏低，"
                "建议指定责任部门、制定改进措施，并在下一期调查中检验效果。"
            )
        if keep:
            lines.append(f"2. **继续保持**：{sep.join(keep)}。影响大且表现好，是现有优势。")
        if overkill:
            lines.append(
                f"3. **避免过度投入**：{sep.join(overkill)}。表现好但对满意度影响较小，可考虑调配资源。"
            )
    else:
        if focus:
            lines.append(
                f"1. **Concentrate here**: {sep.join(focus)}. They weigh heavily on overall satisfaction "
                "and perform below average: assign an owner, agree actions, and check the effect next wave."
            )
        if keep:
            lines.append(f"2. **Keep up the good work**: {sep.join(keep)}. Important and performing well.")
        if overkill:
            lines.append(
                f"3. **Possible overkill**: {sep.join(overkill)}. Performing well but matter less for "
                "satisfaction; resources could move to the items above."
            )
    return "\n".join(lines)


def profile_table(ctx: WaveContext) -> pd.DataFrame:
    """The sample profile by every segment (groups under 5 merged, never shown alone)."""
    lang = ctx.language
    p = ctx.read("profile")
    return pd.DataFrame(
        {
            word("segment", lang): p["segment"],
            ("群体" if lang == "zh" else "Group"): p["group"],
            word("n", lang): p["n"],
            word("share", lang): p["share"].map(pct),
        }
    )


def zone_rules_text(ctx: WaveContext) -> str:
    """The thresholds that define the zones and types, stated for the reader (markdown)."""
    from .wave import zone_thresholds

    sat, loy = zone_thresholds(ctx.survey)

    def num(x: float) -> str:
        return f"{x:g}"

    if ctx.language == "zh":
        return (
            f"分区标准（总体满意度 {num(sat.scale_min)}-{num(sat.scale_max)} 分）：情感区 ≥ {num(sat.affection_min)}，"
            f"背叛区 ≤ {num(sat.defection_max)}，其余为质量不敏感区；忠诚度（忠诚题平均分）高 ≥ "
            f"{num(loy.loyalty_high_min)}、低 ≤ {num(loy.loyalty_low_max)}。破坏者：满意度 ≤ "
            f"{num(sat.terrorist_max)}、忠诚度低且为贬损者。可在调查定义的 `zones:` 中修改。"
        )
    return (
        f"Zones on overall satisfaction ({num(sat.scale_min)}-{num(sat.scale_max)}): affection ≥ "
        f"{num(sat.affection_min)}, defection ≤ {num(sat.defection_max)}, indifference in between. Loyalty "
        f"(mean of the loyalty items) is high at ≥ {num(loy.loyalty_high_min)} and low at ≤ "
        f"{num(loy.loyalty_low_max)}. Terrorists: satisfaction ≤ {num(sat.terrorist_max)}, low loyalty and a "
        "detractor answer. Change them under `zones:` in the survey definition."
    )


def transition_table(ctx: WaveContext, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Customer types of customers answering both this wave and the baseline: counts, cells under 5 masked."""
    if not ctx.has("zone_transitions"):
        return pd.DataFrame()
    t = ctx.read("zone_transitions")
    lang = ctx.language

    def name(x: str) -> str:
        return ZH_LABELS.get(x, x) if lang == "zh" else x

    wide = t.pivot_table(index="type_from", columns="type_to", values="n", aggfunc="sum", sort=False)
    shown = wide.map(lambda n: f"<{min_cell}" if 0 < n < min_cell else str(int(n)))
    shown.index = [name(x) for x in shown.index]
    shown.columns = [name(x) for x in shown.columns]
    corner = "基期 → 本期" if lang == "zh" else "baseline → current"
    return shown.rename_axis(corner).reset_index()


def reliability_display(ctx: WaveContext) -> pd.DataFrame:
    """Reliability per dimension for reading: alpha (good from 0.7), omega, composite reliability and AVE."""
    lang = ctx.language
    r = ctx.read("reliability")
    names = {
        "en": ["Dimension", "Items", "n", "Cronbach's alpha", "Omega", "Composite reliability", "AVE"],
        "zh": ["维度", "题数", "样本量", "Cronbach α", "ω 系数", "组合信度", "平均方差抽取量 (AVE)"],
    }
    cols = ["construct", "n_items", "n", "alpha", "omega", "rho_c", "ave"]
    shown = r[cols].copy()
    shown["construct"] = shown["construct"].map(lambda c: label(ctx, c))
    shown.columns = names["zh" if lang == "zh" else "en"]
    return shown


def screening_display(ctx: WaveContext) -> pd.DataFrame | str:
    """Item-screening recommendations, or a sentence saying that nothing was flagged."""
    s = ctx.read("screening")
    if len(s) == 0:
        if ctx.language == "zh":
            return "所有维度 α ≥ 0.7，无题目与其他题目相关过低或过高（> 0.9）：无需删减题目。"
        return (
            "Every dimension has alpha >= 0.7, no item correlates too weakly with its dimension or above 0.9 "
            "with another item: nothing to screen out."
        )
    return s[["construct", "item", "rule", "recommendation"]]
