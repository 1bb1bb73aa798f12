"""Tests of analysis.plotting: every chart with ax=None and with a given ax, what it draws
(bars, lines, texts, checked against the input numbers and against statsmodels / hand
calculation), Chinese labels without missing glyphs, and no matplotlib in the statistics layer."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from statsmodels.stats.weightstats import DescrStatsW  # noqa: E402

from analysis import describe, drivers, plotting, zones  # noqa: E402
from conftest import correlated_frame

SAT7 = {1: "很不满意", 2: "不满意", 3: "不太满意", 4: "一般", 5: "较满意", 6: "满意", 7: "很满意"}
ZH_ITEMS = {"q_quality": "产品质量", "q_service": "服务态度", "q_price": "价格合理性"}


# --------------------------------------------------------------------------- helpers
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _render(ax: Axes) -> bytes:
    """Draw and save the figure with every warning an error (a missing CJK glyph is a UserWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        buf = io.BytesIO()
        ax.figure.savefig(buf, format="png")
    png = buf.getvalue()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def _texts(ax: Axes) -> list[str]:
    """Every text the reader sees on the figure of ``ax``: texts, ticks, axis labels, titles, legends."""
    out: list[str] = []
    for a in ax.figure.axes:
        out += [t.get_text() for t in a.texts]
        out += [t.get_text() for t in a.get_xticklabels() + a.get_yticklabels()]
        out += [a.get_xlabel(), a.get_ylabel(), a.get_title()]
        legend = a.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    for legend in ax.figure.legends:
        out += [t.get_text() for t in legend.get_texts()]
    return [t for t in out if t]


def _bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _both(draw) -> tuple[Axes, Axes]:
    """Draw once with ax=None and once into a given Axes; the given Axes comes back."""
    new = draw(None)
    assert isinstance(new, Axes)
    assert new.figure is not None and new in new.figure.axes
    fig, given = plt.subplots()
    back = draw(given)
    assert back is given
    return new, given


# --------------------------------------------------------------------------- data
def _dist() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    data = pd.DataFrame({q: rng.integers(1, 8, size=80) for q in ZH_ITEMS})
    return describe.distribution(
        data, dict.fromkeys(data.columns, (1, 7)), labels=dict.fromkeys(data.columns, SAT7)
    )


@pytest.fixture
def three_groups() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    sizes, means, sds = [25, 40, 33], [5.0, 5.6, 4.6], [0.8, 1.6, 1.2]
    y = np.concatenate([rng.normal(m, s, n) for n, m, s in zip(sizes, means, sds, strict=True)])
    df = pd.DataFrame({"y": np.round(y, 1), "g": np.repeat(["华东", "华北", "华南"], sizes)})
    df.loc[[3, 50], "y"] = np.nan
    return df


@pytest.fixture
def correlated() -> pd.DataFrame:
    return correlated_frame()


@pytest.fixture
def sat_loy() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    sat = pd.Series(rng.integers(1, 8, 200).astype(float))
    loy = (sat + rng.normal(0, 1.2, 200)).clip(1, 7).round(1)
    return sat, loy


INDEX = pd.DataFrame(
    {
        "construct": ["CSI", "Quality", "Service"],
        "index": [72.4, 80.1, 65.0],
        "ci_low": [70.0, 77.5, 61.2],
        "ci_high": [74.8, 82.7, 68.8],
    }
)
PATHS = pd.DataFrame(
    {
        "source": ["Expectation", "Expectation", "Quality"],
        "target": ["Quality", "Satisfaction", "Satisfaction"],
        "estimate": [0.55, 0.05, 0.62],
        "ci_low": [0.40, -0.10, 0.50],
        "ci_high": [0.70, 0.20, 0.74],
    }
)
WAVES = ["2025H1", "2025H2", "2026H1"]


def _trend() -> pd.DataFrame:
    rows = []
    for k, w in enumerate(WAVES):
        for c, base in (("CSI", 70.0), ("Quality", 75.0), ("Service", 60.0)):
            v = base + k
            rows.append({"construct": c, "wave": w, "index": v, "ci_low": v - 2, "ci_high": v + 2})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- answer shares
def test_plot_diverging_bars_span_and_chinese_labels():
    dist = _dist()
    new, given = _both(
        lambda ax: plotting.plot_diverging(
            dist, xlabel="占比", labels=ZH_ITEMS, title="各项满意度分布", ax=ax
        )
    )
    for ax in (new, given):
        _render(ax)
        assert [t.get_text() for t in ax.get_yticklabels()] == list(ZH_ITEMS.values())
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(SAT7.values())
        assert len(_bars(ax)) == 3 * 7  # 3 items x 7 levels (the neutral level as one centred bar)
        assert ax.get_title() == "各项满意度分布" and ax.get_xlabel() == "占比"
    # the first item's bars (y = 0) span from -(s1 + s2 + s3 + s4/2) to +(s4/2 + s5 + s6 + s7)
    s = dist[dist["item"] == "q_quality"].set_index("level")["share"]
    bars = [p for p in _bars(new) if abs(p.get_y() + p.get_height() / 2) < 1e-9]
    assert min(min(p.get_x(), p.get_x() + p.get_width()) for p in bars) == pytest.approx(
        -(s[1] + s[2] + s[3] + s[4] / 2)
    )
    assert max(max(p.get_x(), p.get_x() + p.get_width()) for p in bars) == pytest.approx(
        s[4] / 2 + s[5] + s[6] + s[7]
    )


def test_plot_diverging_even_scale_has_no_centre_bar():
    data = pd.DataFrame({"q": [1, 2, 3, 4, 4, 3, 2, 4]})
    dist = describe.distribution(data, {"q": (1, 4)})
    ax = plotting.plot_diverging(dist)
    bars = _bars(ax)
    assert len(bars) == 4
    # levels 1, 2 left of zero, 3, 4 right of it: the share left of zero is (1 + 2) / 8
    assert sum(-p.get_width() for p in bars if p.get_width() < 0) == pytest.approx(3 / 8)
    assert ax.get_xlabel() == ""  # no words of its own


def test_plot_diverging_legend_reads_in_order():
    data = pd.DataFrame({"q": list(range(11)) * 3})
    ax = plotting.plot_diverging(describe.distribution(data, {"q": (0, 10)}))  # 0-10: codes as labels
    fig = ax.figure
    fig.draw_without_rendering()
    texts = ax.get_legend().get_texts()
    assert [t.get_text() for t in texts] == [str(k) for k in range(11)]
    assert len({round(t.get_window_extent().y0) for t in texts}) == 1  # short codes: one row
    words = {k: f"level {k}" for k in range(1, 10)}
    data = pd.DataFrame({"q": list(range(1, 10)) * 2})
    ax = plotting.plot_diverging(describe.distribution(data, {"q": (1, 9)}, labels={"q": words}))
    ax.figure.draw_without_rendering()
    texts = sorted(
        ax.get_legend().get_texts(), key=lambda t: (-t.get_window_extent().y0, t.get_window_extent().x0)
    )
    assert [t.get_text() for t in texts] == list(words.values())  # two rows, read left to right


def test_plot_distribution_heights_and_labels():
    values = pd.Series([7, 6, 6, 5, 4, 1, 7, np.nan])
    new, given = _both(lambda ax: plotting.plot_distribution(values, labels=SAT7, title="总体满意度", ax=ax))
    for ax in (new, given):
        _render(ax)
        assert [p.get_height() for p in _bars(ax)] == pytest.approx([1 / 7, 0, 0, 1 / 7, 1 / 7, 2 / 7, 2 / 7])
        assert [t.get_text() for t in ax.get_xticklabels()] == list(SAT7.values())
        assert "n = 7" in _texts(ax) and "29%" in _texts(ax)


# --------------------------------------------------------------------------- index, groups, drivers
def test_plot_index_bars_values_and_highlight():
    names = {"CSI": "满意度指数", "Quality": "产品质量", "Service": "服务"}
    new, given = _both(lambda ax: plotting.plot_index(INDEX, labels=names, title="各维度满意度指数", ax=ax))
    for ax in (new, given):
        _render(ax)
        bars = _bars(ax)
        assert len(bars) == 3
        # first row on top: bar widths from top to bottom are the index values in table order
        top_down = sorted(bars, key=lambda p: -p.get_y())
        assert [p.get_width() for p in top_down] == pytest.approx(INDEX["index"].tolist())
        assert matplotlib.colors.to_hex(top_down[0].get_facecolor()) == plotting.HIGHLIGHT.lower()
        assert {"72.4", "80.1", "65.0"} <= set(_texts(ax))
        top_down_ticks = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])
        assert [t.get_text() for t in top_down_ticks] == list(names.values())


def test_plot_group_means_matches_t_interval(three_groups):
    new, given = _both(
        lambda ax: plotting.plot_group_means(
            three_groups, "y", "g", xlabel="总体满意度", ylabel="区域", title="各区域", ax=ax
        )
    )
    for ax in (new, given):
        _render(ax)
        top_down = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])
        assert [t.get_text() for t in top_down] == ["华东", "华北", "华南"]  # sorted, first on top
    # the drawn points and whiskers equal statsmodels' t interval of each group
    ax = new
    line = ax.lines[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    ticks = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    for x, y in zip(xs, ys, strict=True):
        group = ticks[round(y)]
        a = three_groups.loc[three_groups["g"] == group, "y"].dropna().to_numpy()
        assert x == pytest.approx(a.mean())
        assert any(f"(n={len(a)})" in t for t in _texts(ax))
    segs = ax.collections[0].get_segments()  # the error bars, one per group
    for seg in segs:
        (lo, y), (hi, _) = seg
        group = ticks[round(y)]
        ref = DescrStatsW(
            three_groups.loc[three_groups["g"] == group, "y"].dropna().to_numpy()
        ).tconfint_mean(0.05)
        assert (lo, hi) == pytest.approx(ref)


def test_plot_drivers_order_whiskers_and_percentages(correlated):
    rw = drivers.relative_weights_boot(correlated, "y", list("abcd"), n_boot=100, seed=1)
    names = {"a": "服务态度", "b": "响应速度"}
    new, given = _both(
        lambda ax: plotting.plot_drivers(
            rw, xlabel="解释方差占比 (%)", labels=names, title="关键驱动因素", ax=ax
        )
    )
    for ax in (new, given):
        _render(ax)
        top_down = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])
        assert top_down[0].get_text() == "服务态度" and len(top_down) == 4  # largest share on top
        widths = sorted(p.get_width() for p in _bars(ax))
        table = rw.to_frame()
        assert widths == pytest.approx(sorted(100 * table["rescaled"]))
        assert f"{100 * table['rescaled'].max():.0f}%" in _texts(ax)
        assert len(ax.collections) == 1  # the whiskers
    plain = plotting.plot_drivers(drivers.relative_weights(correlated, "y", list("abcd")))
    assert len(_bars(plain)) == 4 and not plain.collections  # no interval, no whiskers


def test_plot_drivers_shows_the_model_r2(correlated):
    """Issue 11, 6l: the driver chart states the R² the shares divide (from the table, or given)."""
    import statsmodels.api as sm

    table = drivers.relative_weights(correlated, "y", list("abcd")).to_frame()
    ols = sm.OLS(correlated["y"], sm.add_constant(correlated[list("abcd")]), missing="drop").fit()
    assert table["r2"].iloc[0] == pytest.approx(ols.rsquared, rel=1e-9)  # drivers.csv carries it
    ax = plotting.plot_drivers(table, r2_label="模型 R²")
    assert f"模型 R² = {ols.rsquared:.2f}" in _texts(ax)
    assert f"R² = {0.5:.2f}" in _texts(plotting.plot_drivers(table.drop(columns="r2"), r2=0.5))
    assert not any("R²" in t for t in _texts(plotting.plot_drivers(table.drop(columns="r2"))))


# --------------------------------------------------------------------------- path diagram
def test_plot_path_diagram_arrows_coefficients_and_r2():
    names = {"Expectation": "顾客期望", "Quality": "感知质量", "Satisfaction": "顾客满意度"}
    new, given = _both(
        lambda ax: plotting.plot_path_diagram(
            PATHS, r2={"Quality": 0.30, "Satisfaction": 0.45}, labels=names, title="路径系数", ax=ax
        )
    )
    for ax in (new, given):
        _render(ax)
        texts = _texts(ax)
        arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
        assert len(arrows) == 3
        assert {"0.55*", "0.05", "0.62*"} <= set(texts)  # a star where the interval excludes 0
        assert "感知质量\nR² = 0.30" in texts and "顾客期望" in texts and "顾客满意度\nR² = 0.45" in texts


# --------------------------------------------------------------------------- zones and IPA
def test_plot_zones_points_shares_and_zones(sat_loy):
    sat, loy = sat_loy
    th = zones.default_thresholds(1, 7)
    types = zones.type_of(sat, loy, th, th)
    new, given = _both(
        lambda ax: plotting.plot_zones(
            sat, loy, types, thresholds=th, seed=1, labels=zones.ZH_LABELS, title="满意度与忠诚度", ax=ax
        )
    )
    table = zones.zone_table(types).set_index("type")
    for ax in (new, given):
        _render(ax)
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(points) == 6
        assert sum(len(c.get_offsets()) for c in points) == int(types.notna().sum())
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        for name in zones.TYPES:
            assert f"{zones.ZH_LABELS[name]} {table.loc[name, 'share']:.0%}" in legend
        assert {"背叛区", "质量不敏感区", "情感区"} <= set(legend)


def test_plot_zones_samples_many_points_and_keeps_the_shares():
    """Past plotting.MAX_POINTS respondents a sample of that many is drawn; the legend's shares are those
    of all respondents (counted by hand), and the image does not grow with the respondents."""
    rng = np.random.default_rng(3)
    n = 60_000
    sat = pd.Series(rng.integers(1, 8, n).astype(float))
    loy = pd.Series(rng.integers(1, 8, n).astype(float))
    th = zones.default_thresholds(1, 7)
    types = zones.type_of(sat, loy, th, th)
    sizes = []
    for size in (n, 6_000):
        ax = plotting.plot_zones(sat[:size], loy[:size], types[:size], thresholds=th, labels=zones.ZH_LABELS)
        points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
        assert points <= plotting.MAX_POINTS and ax.csat_points == (plotting.MAX_POINTS, size)
        buf = io.BytesIO()
        ax.figure.savefig(buf, format="png")
        sizes.append(buf.tell())
        plt.close(ax.figure)
    shares = types.value_counts(normalize=True)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]  # the last chart: 6,000 respondents
    first = types[:6_000].value_counts(normalize=True)
    for name in zones.TYPES:
        assert f"{zones.ZH_LABELS[name]} {first.get(name, 0):.0%}" in legend
    assert abs(sizes[0] - sizes[1]) < 0.2 * sizes[1] and shares.sum() == pytest.approx(1)


def _kinked() -> tuple[pd.Series, pd.Series]:
    """Flat loyalty up to satisfaction 4, then steep: a clear break (Davies p < 1e-10)."""
    rng = np.random.default_rng(1)
    sat = pd.Series(rng.integers(1, 8, 300).astype(float))
    loy = (3 + 1.0 * np.maximum(sat - 4, 0) + rng.normal(0, 0.5, 300)).clip(1, 7)
    return sat, loy


def test_plot_loyalty_curve_line_fit_and_promoters():
    sat, loy = _kinked()
    th = zones.default_thresholds(1, 7)
    curve = zones.loyalty_curve(sat, loy, promoter=loy >= 6)
    bp = zones.loyalty_breakpoint(sat, loy)
    assert bp.detected
    legend = {
        **zones.ZH_LABELS,
        "loyalty_mean": "平均忠诚度",
        "fit": "分段回归拟合",
        "promoter_share": "推荐者占比",
    }
    new, given = _both(
        lambda ax: plotting.plot_loyalty_curve(
            curve,
            breakpoint=bp,
            thresholds=th,
            xlabel="总体满意度",
            ylabel="平均忠诚度",
            labels=legend,
            ax=ax,
        )
    )
    for ax in (new, given):
        _render(ax)
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert texts[:1] == ["平均忠诚度"] and {"分段回归拟合", "推荐者占比", "情感区"} <= set(texts)
        np.testing.assert_allclose(ax.lines[0].get_ydata(), curve["loyalty_mean"])
        assert len(ax.figure.axes) == 2  # the promoter share's twin axis
    # a plain break value: no fitted line, no zones, no promoter axis without promoter shares
    bare = plotting.plot_loyalty_curve(zones.loyalty_curve(sat, loy), breakpoint=4.5)
    _render(bare)
    assert len(bare.figure.axes) == 1 and "4.5" in _texts(bare)


def test_plot_loyalty_curve_accepts_the_csv_row(tmp_path):
    sat, loy = _kinked()
    bp = zones.loyalty_breakpoint(sat, loy)
    bp.to_frame().assign(detected="true").to_csv(tmp_path / "bp.csv", index=False)
    row = pd.read_csv(tmp_path / "bp.csv").iloc[0].to_dict()  # as the report reads loyalty_breakpoint.csv
    ax = plotting.plot_loyalty_curve(zones.loyalty_curve(sat, loy), breakpoint=row, labels={"fit": "fit"})
    assert "fit" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"{bp.breakpoint:g}" in _texts(ax)


def test_plot_loyalty_curve_without_a_detected_break_draws_no_fit_nor_marker(sat_loy):
    sat, loy = sat_loy  # loyalty rises straight with satisfaction: Davies p = 0.73
    bp = zones.loyalty_breakpoint(sat, loy)
    assert not bp.detected
    curve = zones.loyalty_curve(sat, loy)
    plain = plotting.plot_loyalty_curve(curve)
    for given in (bp, bp.to_dict(), {**bp.to_dict(), "detected": "false"}):
        ax = plotting.plot_loyalty_curve(curve, breakpoint=given, labels={"fit": "fit"})
        _render(ax)
        assert len(ax.lines) == len(plain.lines)  # the curve and its caps only: no segmented or break line
        assert "fit" not in [t.get_text() for t in ax.get_legend().get_texts()]
        assert f"{bp.breakpoint:g}" not in [t.get_text() for t in ax.texts]
        assert not ax.patches  # no interval band


def test_plot_ipa_points_names_and_grid():
    imp = pd.Series({"q_quality": 4.0, "q_price": 3.0, "q_delivery": 2.0, "q_pack": 1.0})
    perf = pd.Series({"q_quality": 60.0, "q_price": 80.0, "q_delivery": 70.0, "q_pack": 90.0})
    labels = {
        "q_quality": "产品质量",
        "q_price": "价格合理性",
        "q_delivery": "交期",
        "q_pack": "包装",
    } | zones.ZH_LABELS
    result = zones.ipa(imp, perf)
    new, given = _both(
        lambda ax: plotting.plot_ipa(
            result, xlabel="表现", ylabel="重要性", labels=labels, title="重要性-表现分析", ax=ax
        )
    )
    for ax in (new, given):
        _render(ax)
        texts = _texts(ax)
        assert all(w in texts for w in ("产品质量", "交期", "重点改进", "继续保持", "低优先", "可能过度"))
        (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        np.testing.assert_allclose(points.get_offsets(), np.column_stack([perf.to_numpy(), imp.to_numpy()]))
        # grid lines at the means (the ipa default)
        assert ax.lines[0].get_xdata()[0] == pytest.approx(perf.mean())
        assert ax.lines[1].get_ydata()[0] == pytest.approx(imp.mean())


def test_plot_ipa_labels_do_not_overlap_on_a_crowded_grid():
    """Issue 11, 6l: 18 long item labels on points packed together; no two text boxes intersect, none hides
    a quadrant name, every label stays inside the axes."""
    rng = np.random.default_rng(11)
    names = [f"item_{i:02d}" for i in range(18)]
    imp = pd.Series(0.05 + 0.004 * rng.random(18), index=names)  # nearly one point
    perf = pd.Series(70 + 1.5 * rng.random(18), index=names)
    labels = {n: f"送货准时与包装完好 {n}" for n in names}
    ax = plotting.plot_ipa(zones.ipa(imp, perf), labels=labels, xlabel="表现", ylabel="重要性")
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text

    def box(t):  # the text's own box (an annotation's extent would include its leader line)
        return Text.get_window_extent(t, renderer)

    item_boxes = [box(t) for t in ax.texts if t.get_text() in labels.values()]
    corner_boxes = [box(t) for t in ax.texts if t.get_text() in zones.IPA_QUADRANTS]
    assert len(item_boxes) == 18 and len(corner_boxes) == 4
    frame = ax.get_window_extent(renderer)
    centres = ax.transData.transform(np.column_stack([perf.to_numpy(), imp.to_numpy()]))
    for i, a in enumerate(item_boxes):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1
        for b in item_boxes[i + 1 :] + corner_boxes:
            assert not a.overlaps(b), (a, b)
        assert not any(a.contains(x, y) for x, y in centres)  # no label hides a point
    plt.close(fig)


def test_plot_ipa_without_labels_shows_only_identifiers():
    result = zones.ipa(pd.Series({"a": 2.0, "b": 1.0}), pd.Series({"a": 50.0, "b": 70.0}))
    ax = plotting.plot_ipa(result)
    words = {t for t in _texts(ax) if not t.replace(".", "").replace("−", "").replace("-", "").isdigit()}
    assert words == {"a", "b", *zones.IPA_QUADRANTS}


# --------------------------------------------------------------------------- over waves
def test_plot_trend_lines_and_highlight():
    t = _trend()
    names = {"Quality": "产品质量", "Service": "服务"}
    new, given = _both(
        lambda ax: plotting.plot_trend(
            t, waves=WAVES, ylabel="指数 (0-100)", labels=names, title="趋势", ax=ax
        )
    )
    for ax in (new, given):
        _render(ax)
        assert [t.get_text() for t in ax.get_xticklabels()] == WAVES
        drawn = [ln for ln in ax.lines if ln.get_linestyle() != "None"]  # error-bar caps are markers only
        assert len(drawn) == 3  # CSI and two dimensions
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["CSI", "产品质量", "服务"]
        np.testing.assert_allclose(ax.lines[0].get_ydata(), [70.0, 71.0, 72.0])
        assert {"70.0", "71.0", "72.0"} <= set(_texts(ax))


def test_plot_trend_gap_for_a_missing_wave():
    t = _trend()
    t = t[~((t["construct"] == "Service") & (t["wave"] == "2025H2"))]
    ax = plotting.plot_trend(t, waves=WAVES)
    service = ax.lines[-1].get_ydata()
    assert np.isnan(service[1]) and service[0] == 60.0


def test_plot_group_trends_and_panels():
    wide = pd.DataFrame(
        {"segment": ["region"] * 2, "group": ["华东", "华北"], **{w: [70.0, 65.0] for w in WAVES}}
    )
    new, _ = _both(
        lambda ax: plotting.plot_group_trends(wide, waves=WAVES, ylabel="CSI", title="区域", ax=ax)
    )
    _render(new)
    assert len(new.lines) == 2
    assert [t.get_text() for t in new.get_legend().get_texts()] == ["华东", "华北"]
    axes = plotting.panels(3)
    assert len(axes) == 3 and all(a.figure is axes[0].figure for a in axes)
    back = plotting.plot_group_trends(wide.iloc[:0], waves=WAVES, ax=axes[1])
    assert back is axes[1] and not back.lines


def test_plot_type_shares_stacks_to_100():
    table = pd.DataFrame({w: [0.3, 0.2, 0.1, 0.15, 0.15, 0.1] for w in WAVES[:2]}, index=list(zones.TYPES))
    new, given = _both(lambda ax: plotting.plot_type_shares(table, ylabel="%", labels=zones.ZH_LABELS, ax=ax))
    for ax in (new, given):
        _render(ax)
        bars = _bars(ax)
        assert len(bars) == 6 * 2
        tops = {}
        for p in bars:
            tops[round(p.get_x(), 6)] = max(tops.get(round(p.get_x(), 6), 0), p.get_y() + p.get_height())
        assert list(tops.values()) == pytest.approx([100.0, 100.0])
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [zones.ZH_LABELS[t] for t in reversed(zones.TYPES)]  # top of legend = top of stack
        assert "30%" in _texts(ax)


# --------------------------------------------------------------------------- layering
def test_result_objects_with_to_frame_are_accepted():
    class Result:
        def __init__(self, frame: pd.DataFrame) -> None:
            self.frame = frame

        def to_frame(self) -> pd.DataFrame:
            return self.frame

    ax = plotting.plot_index(Result(INDEX))
    assert len(_bars(ax)) == 3
    with pytest.raises(TypeError):
        plotting.plot_index([1, 2, 3])


def test_figure_png_is_reproducible():
    a = plotting.figure_png(plotting.plot_index(INDEX).figure)
    b = plotting.figure_png(plotting.plot_index(INDEX).figure)
    assert a == b and a[:4] == b"\x89PNG"



def _saved_tight(fig) -> bytes:
    """matplotlib's own tight save (a layout draw, the tight box, a draw), as figure_png did before."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _charts(sat_loy) -> dict:
    """Fresh figures of the report's kinds: legend under the Axes, twin Axes, no layout engine, IPA."""
    sat, loy = sat_loy
    imp = pd.Series([0.12, 0.05, 0.08, 0.02], index=list("abcd"))
    perf = pd.Series([71.0, 75.0, 68.0, 79.0], index=list("abcd"))
    return {
        "index": lambda: plotting.plot_index(INDEX, highlight="CSI"),
        "diverging": lambda: plotting.plot_diverging(_dist(), xlabel="占比", labels=ZH_ITEMS, title="标题"),
        "loyalty": lambda: plotting.plot_loyalty_curve(zones.loyalty_curve(sat, loy), breakpoint=4.5),
        "paths": lambda: plotting.plot_path_diagram(PATHS),
        "ipa": lambda: plotting.plot_ipa(zones.ipa(imp, perf), xlabel="表现", ylabel="重要性"),
    }


def test_figure_png_gives_the_bytes_of_matplotlibs_tight_save(sat_loy):
    """figure_png lays the figure out and measures its tight box without matplotlib's extra layout draw:
    the PNG is byte for byte what ``savefig(bbox_inches="tight")`` writes for the same chart (with and
    without a weighting note, with and without a layout engine), and the figure keeps its layout engine,
    dpi and canvas."""
    for name, make in _charts(sat_loy).items():
        for note in (None, "加权估计 · n = 2,360（未加权），有效样本量 = 2,355"):
            axes = [make(), make()]
            if note:
                for ax in axes:
                    plotting.add_note(ax, note)
            fig = plotting.figure_of(axes[0])
            engine, dpi, canvas = fig.get_layout_engine(), fig.dpi, fig.canvas
            assert plotting.figure_png(fig) == _saved_tight(plotting.figure_of(axes[1])), (name, note)
            assert fig.get_layout_engine() is engine and fig.dpi == dpi and fig.canvas is canvas


def test_add_note_sits_under_everything_and_stacks(sat_loy):
    """Issue 12: a note is placed without a layout pass. Drawn as saved, every note's box lies under every
    other box of the figure (tick labels, axis labels, the legend under the Axes, the title) and inside the
    saved PNG; a second note lies under the first; left, it starts where the layout's padding starts."""
    from PIL import Image

    charts = _charts(sat_loy)
    for name in ("diverging", "loyalty", "paths", "index"):
        ax = charts[name]()
        plotting.add_note(ax, "加权估计 · n = 2,360（未加权），有效样本量 = 2,355")
        plotting.add_note(ax, "Weighted waves: 2025H1, 2025H2")
        fig = plotting.figure_of(ax)
        png = plotting.figure_png(fig)
        fig.set_layout_engine(None)  # as saved: measure the layout figure_png drew
        renderer = fig._get_renderer()
        notes = fig._csat_notes
        assert len(notes) == 2 and all(n in fig.texts for n in notes)
        others = [a.get_tightbbox(renderer) for a in fig.axes]
        others += [t.get_window_extent(renderer) for t in fig.texts if t not in notes and t.get_text()]
        low = min(b.y0 for b in others if b is not None)
        first, second = (n.get_window_extent(renderer) for n in notes)
        assert first.y1 <= low, name
        assert second.y1 <= first.y0, name
        width, height = Image.open(io.BytesIO(png)).size
        tight = fig.get_tightbbox(renderer)  # inches, the notes in it: the saved area less its padding
        assert second.y0 / fig.dpi >= tight.y0 - 1e-9
        assert width >= tight.width * 110 and height >= tight.height * 110  # saved at 110 dpi, padded


def test_ipa_leader_lines_match_matplotlibs_annotation_arrow():
    """A moved IPA label's leader line is drawn as a plain segment computed once; it has the ends of the
    arrow matplotlib draws for that annotation (``arrowstyle="-"``, from the text box centre, clipped
    2 points outside the box, 3 points short of the point), checked by drawing that arrow."""
    rng = np.random.default_rng(3)
    names = [f"item_{i}" for i in range(8)]
    imp = pd.Series(0.05 + 0.002 * rng.random(8), index=names)
    perf = pd.Series(70 + 0.5 * rng.random(8), index=names)
    labels = {n: f"送货准时 {n}" for n in names}
    ax = plotting.plot_ipa(zones.ipa(imp, perf), labels=labels)
    fig = ax.figure
    fig.canvas.draw()
    notes = [t for t in ax.texts if t.get_text() in labels.values()]
    leaders = [ln for ln in ax.lines if ln.get_linewidth() == 0.5]
    assert leaders and len(leaders) <= len(notes)
    checked = 0
    for note in notes:
        reference = ax.annotate(
            note.get_text(), note.xy, xytext=note.xyann, textcoords="offset points", fontsize=9,
            ha=note.get_horizontalalignment(),
            arrowprops={"arrowstyle": "-", "color": "k", "lw": 0.5, "shrinkA": 0, "shrinkB": 3},
        )
        fig.canvas.draw()  # the arrow as drawn (its shrink in points at the figure's dpi)
        arrow = reference.arrow_patch._get_path_in_displaycoord()[0][0].vertices
        reference.remove()
        point = ax.transData.transform(note.xy)
        ends = [ln.get_transform().transform(ln.get_xydata()) for ln in leaders]
        mine = [e for e in ends if np.hypot(*(e[1] - point)) < 3.5 * fig.dpi / 72]  # the end at this point
        if len(arrow) < 2 or np.hypot(*(arrow[-1] - arrow[0])) < 0.5:
            continue
        assert len(mine) == 1, note.get_text()
        np.testing.assert_allclose(mine[0][0], arrow[0], atol=0.5)
        np.testing.assert_allclose(mine[0][-1], arrow[-1], atol=0.5)
        checked += 1
    assert checked >= 3


STATISTICS_MODULES = ["describe", "compare", "drivers", "zones", "pls", "index", "reliability", "kpis", "comments"]


_IMPORT_SPY = """
import importlib, json, sys

importers = set()


class Spy:
    \"\"\"Record which module's import statement asks for matplotlib (the first frame outside importlib).\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
                frame = frame.f_back
            importers.add(frame.f_globals.get("__name__", "?") if frame is not None else "?")
        return None


sys.meta_path.insert(0, Spy())
for name in MODULES:
    importlib.import_module("analysis." + name)
print(json.dumps({"importers": sorted(importers), "plotting": "analysis.plotting" in sys.modules,
                  "matplotlib": "matplotlib" in sys.modules, "pingouin": "pingouin" in sys.modules}))
"""


def test_statistics_modules_import_no_matplotlib():
    """Importing the statistics layer loads no matplotlib from any analysis module.

    Only a third-party library may bring matplotlib in (pingouin 0.7's ``__init__`` imports its
    plotting module, measured): the spy records the module whose import statement asked for it.
    """
    code = _IMPORT_SPY.replace("MODULES", repr(STATISTICS_MODULES))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert not [m for m in seen["importers"] if m == "analysis" or m.startswith("analysis.")], seen
    assert not seen["plotting"]
    if not seen["pingouin"]:  # today: nothing at all pulls matplotlib in
        assert not seen["matplotlib"], seen


def test_import_spy_sees_an_analysis_module_importing_matplotlib():
    """The spy of the test above does catch an analysis module that imports matplotlib."""
    code = _IMPORT_SPY.replace("MODULES", repr(["plotting"]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert "analysis.plotting" in seen["importers"] and seen["matplotlib"]


def test_statistics_modules_have_no_chart_functions():
    import importlib

    for name in STATISTICS_MODULES:
        module = importlib.import_module(f"analysis.{name}")
        assert not [f for f in dir(module) if f.startswith("plot")], name
