"""Every chart of the package: one style, one palette, pingouin-style signatures.

Each chart is ``plot_x(data_or_result, *, <options>, labels=None, title=None, ax=None)``
and returns the :class:`matplotlib.axes.Axes` it drew on (Vallat 2018, pingouin's
``plotting`` module, is the model). With ``ax=None`` a new figure of a size that
suits the chart is made; the caller gets it as ``ax.figure``. With an ``ax`` the
chart is drawn into it and the same ``ax`` is returned, so charts compose into
the caller's own figures.

No words live here. Every title, axis label and legend text comes in as an
argument: ``title``, ``xlabel`` / ``ylabel`` and ``labels``, a mapping from the
keys a chart shows (item ids, construct names, group values, customer types,
zone and quadrant ids, result column names) to display text. A key without a
label is shown as it is, so a chart drawn without labels shows only the data's
own identifiers and numbers. The report layer (:mod:`analysis.report`,
:mod:`analysis.tracking`) looks the words up in the report language.

=========================  ========================================================
``plot_diverging``         diverging stacked bars of the answer shares of items
``plot_distribution``      bar chart of the answer shares of one item
``plot_index``             0-100 index per dimension with intervals, CSI highlighted
``plot_group_means``       group means with t intervals, one line per group
``plot_drivers``           driver importance (share of R^2) with bootstrap whiskers
``plot_path_diagram``      the structural model: constructs, arrows, coefficients
``plot_zones``             satisfaction-loyalty scatter with zones and type shares
``plot_loyalty_curve``     mean loyalty per satisfaction level, the break, promoters
``plot_ipa``               importance-performance grid with its four quadrants
``plot_trend``             indices over waves, the CSI highlighted with its interval
``plot_group_trends``      one segment's groups over waves (one panel)
``plot_type_shares``       stacked customer-type shares per wave
``panels``                 a row of Axes for a multi-panel chart
=========================  ========================================================

Chinese text renders with real glyphs: :func:`use_style` registers Noto Sans CJK SC,
shipped by the ``mplfonts`` wheel, so no system font is needed on a fresh machine.

seaborn is not used: every chart draws estimates and intervals the statistics
layer already computed (t, Wilson, bootstrap), so that a chart always shows the
numbers of the tables beside it; seaborn's strength, aggregating raw data with its
own (bootstrap) intervals, would draw different intervals.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # headless by default; notebooks still show figures (see use_style)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import ConstrainedLayoutEngine  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402
from scipy import stats  # noqa: E402

if TYPE_CHECKING:  # type hints only: plotting draws results, it needs no statistics code
    from analysis.zones import ZoneThresholds

__all__ = [
    "ACCENT",
    "add_note",
    "DIVERGING",
    "HIGHLIGHT",
    "PRIMARY",
    "QUADRANT_COLOURS",
    "SERIES",
    "TYPE_COLOURS",
    "ZONE_COLOURS",
    "cjk_font_name",
    "figure_png",
    "panels",
    "plot_distribution",
    "plot_diverging",
    "plot_drivers",
    "plot_group_means",
    "plot_group_trends",
    "plot_index",
    "plot_ipa",
    "plot_loyalty_curve",
    "plot_path_diagram",
    "plot_trend",
    "plot_type_shares",
    "plot_zones",
    "use_style",
]

# --------------------------------------------------------------------------- palette
#: Main colour: single-series bars, points and lines.
PRIMARY = "#1f5f8b"
#: The headline series among others (the overall CSI).
HIGHLIGHT = "#c8553d"
#: A second measure on a twin axis (promoter share).
ACCENT = "#d95f02"
#: Reference lines, whiskers and outlines.
INK = "#444444"
#: Secondary reference lines (means, cut-offs) and what is not significant.
MUTED = "#999999"
#: Fill of the construct boxes of the path diagram.
NODE_FILL = "#eef3f8"
#: Diverging palette of scale levels, dissatisfied (red) through neutral to satisfied (green).
DIVERGING = "RdYlGn"
#: Colour cycle of multi-series charts (PRIMARY first, then Okabe-Ito-like hues).
SERIES = (PRIMARY, "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf")
#: Customer types (Jones & Sasser 1995) from loyal-and-satisfied green to red.
TYPE_COLOURS = {
    "apostle": "#1a9850",
    "loyalist": "#91cf60",
    "mercenary": "#fdae61",
    "hostage": "#7570b3",
    "defector": "#f46d43",
    "terrorist": "#a50026",
}
#: Background shading of the satisfaction zones.
ZONE_COLOURS = {"defection": "#fee0d2", "indifference": "#f0f0f0", "affection": "#e5f5e0"}
#: The IPA quadrants (Martilla & James 1977), keyed by :data:`analysis.zones.IPA_QUADRANTS`.
QUADRANT_COLOURS = {
    "Concentrate here": "#d7301f",
    "Keep up the good work": "#1a9850",
    "Low priority": "#969696",
    "Possible overkill": "#2c7fb8",
}
_QUADRANT_CORNERS = {  # quadrant -> (x, y, ha, va) in axes coordinates
    "Concentrate here": (0.02, 0.98, "left", "top"),
    "Keep up the good work": (0.98, 0.98, "right", "top"),
    "Low priority": (0.02, 0.02, "left", "bottom"),
    "Possible overkill": (0.98, 0.02, "right", "bottom"),
}
_TYPES = tuple(TYPE_COLOURS)
_ZONES = tuple(ZONE_COLOURS)


# --------------------------------------------------------------------------- style
@lru_cache(maxsize=1)
def cjk_font_name() -> str:
    """Register the bundled CJK font with matplotlib and return its family name.

    Returns the family name of Noto Sans CJK SC from the ``mplfonts`` package;
    falls back to any installed font whose name mentions CJK, Han or Hei.
    Raises RuntimeError when no CJK font is available at all.
    """
    try:
        import mplfonts

        font_dir = Path(mplfonts.__file__).parent / "fonts"
        path = font_dir / "NotoSansCJKsc-Regular.otf"
        if path.exists():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    except ImportError:  # pragma: no cover - mplfonts is a hard dependency
        pass
    for entry in font_manager.fontManager.ttflist:  # pragma: no cover - fallback
        if any(key in entry.name for key in ("CJK", "Han", "Hei", "WenQuanYi")):
            return entry.name
    raise RuntimeError("No CJK font found: install the mplfonts package (pip install mplfonts).")


def add_note(ax: Axes, text: str, fontsize: float = 8.0) -> Axes:
    """Write ``text`` (the caller's words, e.g. "weighted, n = ...") in small muted type under everything
    the figure already shows (tick labels, axis labels, legends below the Axes, earlier notes),
    left-aligned. Returns ``ax``.

    Method. Under constrained layout (every chart of this module that makes its own figure) the layout
    engine keeps everything it lays out inside the figure, at least ``h_pad`` above its bottom edge and
    ``w_pad`` right of its left edge. The note hangs from the bottom edge (``va="top"``, ``y = 0``), at
    ``w_pad`` from the left edge: under everything without measuring anything, so no layout pass is
    spent on it (the tight bounding box of :func:`figure_png` takes it in). An earlier note moves it
    down by that note's height. A figure without a layout engine is measured as drawn (its tight
    bounding box; no draw needed, nothing moves at draw time); another layout engine is run first.
    """
    fig = ax.figure
    width, height = fig.get_size_inches()
    renderer = fig.canvas.get_renderer()
    engine = fig.get_layout_engine()
    notes = getattr(fig, "_csat_notes", [])
    if isinstance(engine, ConstrainedLayoutEngine):
        x = engine.get()["w_pad"] / width
        y = 0.0
        for note in notes:  # stacked: each earlier note's height, and one point of air
            y -= (note.get_window_extent(renderer).height / fig.dpi + 1.0 / 72.0) / height
    else:
        if engine is not None:
            fig.draw_without_rendering()  # let the layout engine place everything first
        box = fig.get_tightbbox(renderer)  # inches
        y = box.y0 / height - 0.01
        x = max(box.x0 / width, 0.0)
    note = fig.text(x, y, text, fontsize=fontsize, color=MUTED, ha="left", va="top")
    fig._csat_notes = [*notes, note]
    return ax


def figure_of(ax: Axes) -> Figure:
    """The finished chart's Figure, closed in pyplot: the caller displays or saves it, pyplot forgets it
    (a notebook shows it once, and a report with many charts holds no open figures)."""
    fig = ax.figure
    plt.close(fig)
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes (tight bounding box, no timestamp metadata: same chart, same bytes).

    A finished report chart (marked ``_csat_finished`` by :func:`analysis.memo.chart_memo`) keeps the
    bytes of its first rendering: shown again (the report notebook shows the analysis notebooks'
    charts) it gives the same PNG. Rendering a figure a second time does not (a tight bounding box
    measured on an already drawn figure comes out a few pixels different), and takes time."""
    cached = getattr(fig, "_csat_png", None)
    if cached is not None:
        return cached
    buffer = io.BytesIO()
    dpi = plt.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    engine, canvas, figure_dpi = fig.get_layout_engine(), fig.canvas, fig.dpi
    try:
        # what savefig(bbox_inches="tight") does, less its layout draw (every artist drawn with rendering
        # off, only to measure): on an Agg canvas (one renderer, so text is measured once), the layout at
        # the saving dpi, the tight box measured without a draw (the layout engine measures the same
        # way), then one draw with no layout engine
        FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        if engine is not None:
            engine.execute(fig)
        box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
        fig.set_layout_engine(None)
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=box, metadata={"Software": None})
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
        fig.set_dpi(figure_dpi)
        fig.set_canvas(canvas)
    png = buffer.getvalue()
    if getattr(fig, "_csat_finished", False):
        fig._csat_png = png
    return png


def _register_notebook_display() -> None:
    """Let ``display(fig)`` show a PNG in notebooks even though the backend is Agg."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)


def use_style() -> None:
    """Apply the project's chart style: CJK font first, readable sizes, no chart junk.

    Every ``plot_x`` calls it before drawing (text takes its font when it is made), so
    a chart drawn into the caller's own Axes gets the CJK font too.
    """
    _register_notebook_display()
    family = cjk_font_name()
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "axes.prop_cycle": cycler(color=list(SERIES)),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "figure.figsize": (8, 4.5),
        }
    )


def _axes(ax: Axes | None, figsize: tuple[float, float], layout: str | None = "constrained") -> Axes:
    """Apply the style; return ``ax`` or the Axes of a new figure of ``figsize`` inches (``layout`` engine)."""
    use_style()
    if ax is not None:
        return ax
    fig = plt.figure(figsize=figsize, layout=layout)
    return fig.add_subplot()


def panels(n: int, *, size: tuple[float, float] = (4.2, 3.8), sharey: bool = True) -> list[Axes]:
    """A row of ``n`` Axes in one new figure (``size`` inches per panel), for multi-panel charts.

    Draw each panel with a ``plot_x(..., ax=panel)``; the figure is ``panels(...)[0].figure``.
    """
    use_style()
    n = max(int(n), 1)
    fig, axes = plt.subplots(
        1, n, figsize=(size[0] * n, size[1]), sharey=sharey, squeeze=False, layout="constrained"
    )
    return list(axes[0])


def _lab(labels: Mapping[Any, str] | None, key: Any) -> str:
    """Display text of ``key``: its label when given, else the key itself."""
    if labels and key in labels:
        return str(labels[key])
    return str(key)


def _frame(data: Any) -> pd.DataFrame:
    """A DataFrame as it is, or a result object's tidy ``.to_frame()``."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_frame"):
        return data.to_frame()
    raise TypeError(f"expected a DataFrame or a result with .to_frame(), got {type(data).__name__}")


def _field(obj: Any, name: str, default: Any = np.nan) -> Any:
    """``obj[name]`` of a mapping (a CSV row, a dict), ``obj.name`` of a result, else ``default``."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    if isinstance(obj, pd.Series):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _finish(ax: Axes, title: str | None, xlabel: str | None = None, ylabel: str | None = None) -> Axes:
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def _legend_below(ax: Axes, handles: Sequence[Any], ncol: int, clear_xlabel: bool) -> None:
    """A frameless legend under the Axes, clear of the tick labels (and the x label when shown)."""
    ax.legend(
        handles=list(handles),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        borderaxespad=3.6 if clear_xlabel else 2.2,  # in font sizes: tick labels (+ x label) fit above
        ncol=max(ncol, 1),
        frameon=False,
    )


def _abs_percent(v: float, _pos: Any = None) -> str:
    """A diverging bar's share as a tick label: 0.25 and -0.25 are both "25%"."""
    return f"{abs(v) * 100:.0f}%"


def _percent_axis(axis: Any) -> None:
    # a module-level function, not a lambda: the figure pickles (analysis.memo shares it between kernels)
    axis.set_major_formatter(FuncFormatter(_abs_percent))


def _label_offsets(max_radius: float, step: float = 7.0, directions: int = 12) -> list[tuple[float, float]]:
    """Candidate label offsets (points) around a point: the default (4, 3), then rings of growing radius."""
    out = [(4.0, 3.0)]
    radius = step
    while radius <= max_radius:
        for k in range(directions):
            angle = 2 * np.pi * k / directions + np.pi / 12
            out.append((radius * float(np.cos(angle)), radius * float(np.sin(angle))))
        radius += step
    return out


def _declutter(
    ax: Axes,
    notes: Sequence[Any],
    max_radius: float = 150.0,
    avoid: Sequence[Any] = (),
    points: np.ndarray | None = None,
) -> None:
    """Place point labels so that no two overlap (greedy repel, top point first).

    ``notes`` are annotations of points (offset in points from their ``xy``, no arrow). Each label
    tries the default offset, then offsets on rings of growing radius around its point (up to
    ``max_radius`` points), and takes the first whose text box lies inside the axes and overlaps no
    label placed before it, no artist in ``avoid`` (the quadrant names) and no marker of ``points``
    (data coordinates, n x 2). Left of its point a label is right-aligned. If no candidate is free,
    the one with the least overlap is kept. A thin leader line (:func:`_leader`) joins a label to its
    point.

    Method. The layout engine is run once (positions as they will be drawn). A label's text box is
    measured twice (left- and right-aligned, at offset 0); a candidate's box is that box moved by the
    offset, so every candidate of a label is tested at once (numpy), with no text layout per candidate.
    """
    if not notes:
        return
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)  # the layout as it will be drawn (no draw: nothing else moves at draw time)
    frame = ax.get_window_extent(renderer)
    placed = [a.get_window_extent(renderer).extents for a in avoid]
    if points is not None and len(points):
        r = 4.0 * fig.dpi / 72.0  # a marker of size 40 has a radius of about 3.2 points
        for x, y in ax.transData.transform(np.asarray(points, dtype=float)):
            placed.append(np.array([x - r, y - r, x + r, y + r]))
    pad = fig.dpi / 72.0  # one point of air around every label
    offsets = np.array(_label_offsets(max_radius))  # points
    shift = offsets * (fig.dpi / 72.0)  # pixels
    right = offsets[:, 0] < 0  # left of its point a label is right-aligned

    def box_at_zero(note: Any, ha: str) -> np.ndarray:
        note.set_horizontalalignment(ha)
        note.xyann = (0.0, 0.0)
        note.update_positions(renderer)
        return Text.get_window_extent(note, renderer).extents  # the text box alone

    for note in sorted(notes, key=lambda a: -ax.transData.transform(a.xy)[1]):
        boxes = np.where(right[:, None], box_at_zero(note, "right"), box_at_zero(note, "left"))
        boxes = boxes + np.hstack([shift, shift]) + np.array([-pad, -pad, pad, pad])
        inside = (
            (frame.x0 <= boxes[:, 0]) & (boxes[:, 2] <= frame.x1) & (frame.y0 <= boxes[:, 1]) & (boxes[:, 3] <= frame.y1)
        )
        cost = np.where(inside, 0.0, 1e9)
        if placed:
            other = np.array(placed)
            w = np.minimum(boxes[:, None, 2], other[None, :, 2]) - np.maximum(boxes[:, None, 0], other[None, :, 0])
            h = np.minimum(boxes[:, None, 3], other[None, :, 3]) - np.maximum(boxes[:, None, 1], other[None, :, 1])
            cost = cost + (np.maximum(w, 0.0) * np.maximum(h, 0.0)).sum(axis=1)
        free = np.flatnonzero(cost == 0.0)
        k = int(free[0]) if len(free) else int(np.argmin(cost))  # the first free, else the least overlap
        note.set_horizontalalignment("right" if right[k] else "left")
        note.xyann = (float(offsets[k, 0]), float(offsets[k, 1]))
        placed.append(boxes[k])
        unpadded = boxes[k] - np.array([-pad, -pad, pad, pad])
        _leader(ax, note, unpadded - np.tile(ax.transData.transform(note.xy), 2), fig.dpi)


def _leader(ax: Axes, note: Any, box: np.ndarray, dpi: float, pad: float = 2.0, shrink: float = 3.0) -> None:
    """A thin leader line from a label's text box to its point, as matplotlib's annotation arrow draws it
    (``arrowstyle="-"``, from the box centre towards the point, clipped ``pad`` points outside the box,
    ``shrink`` points short of the point), computed once: a straight segment in points from the point,
    so it follows the point when the layout moves. ``box`` is the text box (x0, y0, x1, y1) in pixels
    relative to the point at ``dpi``. No line when the label sits closer than that to its point."""
    from matplotlib.lines import Line2D
    from matplotlib.transforms import ScaledTranslation

    x0, y0, x1, y1 = np.asarray(box, dtype=float) * (72.0 / dpi)  # points
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2 + pad, (y1 - y0) / 2 + pad
    length = math.hypot(cx, cy)
    if length == 0.0:
        return
    ux, uy = -cx / length, -cy / length  # from the box centre to the point
    t_exit = min(hx / abs(ux) if ux else math.inf, hy / abs(uy) if uy else math.inf)
    t_end = length - shrink
    if t_end <= t_exit:
        return
    xs = [(cx + ux * t_exit) / 72.0, (cx + ux * t_end) / 72.0]  # inches from the point
    ys = [(cy + uy * t_exit) / 72.0, (cy + uy * t_end) / 72.0]
    line = Line2D(
        xs, ys, color=MUTED, lw=0.5, solid_capstyle="butt", clip_on=False, zorder=note.get_zorder(),
        transform=ax.figure.dpi_scale_trans + ScaledTranslation(*note.xy, ax.transData),
    )
    line.set_in_layout(False)  # between the point and its label, inside the axes
    ax.add_artist(line)


# --------------------------------------------------------------------------- answer shares
def _level_colours(levels: Sequence[int]) -> dict[int, tuple]:
    """Colour of each level on the diverging palette (lowest red, highest green)."""
    cmap = plt.get_cmap(DIVERGING)
    lo, hi = min(levels), max(levels)
    span = hi - lo or 1
    return {lv: cmap(0.08 + 0.84 * (lv - lo) / span) for lv in levels}


def plot_diverging(
    dist: Any,
    *,
    xlabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Diverging stacked bar chart of answer shares, one bar per item.

    Parameters
    ----------
    dist : the output of :func:`analysis.describe.distribution` (columns ``item``,
        ``level``, ``label``, ``share``), or a result with ``.to_frame()`` giving it.
    xlabel : text under the share axis.
    labels : item id -> display name.
    title, ax : see the module docstring.

    Levels below the scale midpoint extend left of zero, levels above it to the
    right; on odd scales the neutral level is split evenly around zero (Robbins &
    Heiberger 2011, "Plotting Likert and other rating scales", JSM Proceedings).
    Items are drawn top to bottom in the order of ``dist``; the legend under the
    chart shows the scale labels (the ``label`` column) of the first item. Ticks
    are percentages of answers. Returns the Axes.
    """
    dist = _frame(dist)
    items = list(dict.fromkeys(dist["item"]))
    ax = _axes(ax, (8, 1.9 + 0.45 * max(len(items), 1)))
    legend_levels: dict[int, tuple[str, tuple]] = {}
    bars: list[tuple[int, float, float, tuple]] = []  # (row, width, left, colour), drawn in one barh call
    for pos, item in enumerate(items):
        d = dist[dist["item"] == item].sort_values("level")
        levels = [int(v) for v in d["level"]]
        shares = dict(zip(levels, d["share"].fillna(0.0).astype(float), strict=True))
        colours = _level_colours(levels)
        mid = (min(levels) + max(levels)) / 2
        half = shares.get(int(mid), 0.0) / 2 if mid == int(mid) else 0.0
        left = -half
        for lv in sorted((lv for lv in levels if lv < mid), reverse=True):
            bars.append((pos, -shares[lv], left, colours[lv]))
            left -= shares[lv]
        if mid == int(mid):
            bars.append((pos, 2 * half, -half, colours[int(mid)]))
        right = half
        for lv in sorted(lv for lv in levels if lv > mid):
            bars.append((pos, shares[lv], right, colours[lv]))
            right += shares[lv]
        if pos == 0:
            names = dict(zip(levels, d["label"].astype(str), strict=True))
            legend_levels = {lv: (names[lv], colours[lv]) for lv in levels}
    if bars:
        rows, widths, lefts, fills = zip(*bars, strict=True)
        ax.barh(rows, widths, left=lefts, color=list(fills), edgecolor="white", linewidth=0.5)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(range(len(items)), [_lab(labels, i) for i in items])
    ax.set_ylim(len(items) - 0.5, -0.5)
    _percent_axis(ax.xaxis)
    _finish(ax, title, xlabel)
    handles = [Patch(facecolor=c, label=text) for text, c in legend_levels.values()]
    if handles:
        short = max(len(h.get_label()) for h in handles) <= 3  # codes such as 0-10 fit in one row
        ncol = len(handles) if len(handles) <= 7 or short else math.ceil(len(handles) / 2)
        rows = math.ceil(len(handles) / ncol)
        # matplotlib fills a legend column by column; this order reads left to right, row by row
        order = [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < len(handles)]
        _legend_below(ax, [handles[k] for k in order], ncol, clear_xlabel=bool(xlabel))
    return ax


def plot_distribution(
    values: pd.Series,
    *,
    ylabel: str | None = None,
    labels: Mapping[int, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Bar chart of the answer shares of one item (e.g. 7-level overall satisfaction).

    Parameters
    ----------
    values : the item's codes (NaN left out).
    ylabel : text beside the share axis.
    labels : level -> scale label; also fixes the levels shown (else the observed ones).
    title, ax : see the module docstring.

    Share of level k = (answers k) / (answers), bars coloured on the diverging
    palette and annotated with their percentage; ``n = <answers>`` in the corner.
    Returns the Axes.
    """
    x = pd.to_numeric(pd.Series(values)).dropna()
    levels = sorted(int(k) for k in labels) if labels else sorted(int(v) for v in x.unique())
    n = int(x.size)
    shares = [float((x == lv).sum()) / n if n else 0.0 for lv in levels]
    colours = _level_colours(levels) if len(levels) > 1 else dict.fromkeys(levels, PRIMARY)
    ax = _axes(ax, (8, 4.5))
    pos = np.arange(len(levels))
    ax.bar(pos, shares, color=[colours[lv] for lv in levels], edgecolor="white")
    for p, s in zip(pos, shares, strict=True):
        ax.annotate(
            f"{s * 100:.0f}%", (p, s), ha="center", va="bottom", xytext=(0, 2), textcoords="offset points"
        )
    ax.set_xticks(pos, [_lab(labels, lv) for lv in levels])
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, max([*shares, 0.0]) * 1.15 + 0.01)
    ax.text(0.99, 0.98, f"n = {n}", transform=ax.transAxes, ha="right", va="top")
    return _finish(ax, title, ylabel=ylabel)


# --------------------------------------------------------------------------- index, groups, drivers
def plot_index(
    index: Any,
    *,
    highlight: str = "CSI",
    xlabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of each dimension's 0-100 index with its interval, the overall index highlighted.

    Parameters
    ----------
    index : table with ``construct``, ``index``, ``ci_low``, ``ci_high`` (the
        ``csi_index`` table of a wave), first row drawn on top; or a result with
        ``.to_frame()`` giving it.
    highlight : the construct drawn in :data:`HIGHLIGHT` (the overall CSI).
    xlabel : text under the 0-100 axis.
    labels : construct -> display name.
    title, ax : see the module docstring.

    Whiskers run from ``ci_low`` to ``ci_high``; each bar carries its value (one
    decimal). The axis spans 0-105 so that the labels of a full bar fit. Returns the Axes.
    """
    t = _frame(index).reset_index(drop=True)
    ax = _axes(ax, (7.5, 0.45 * len(t) + 1.2))
    ypos = np.arange(len(t))[::-1]
    value = t["index"].to_numpy(float)
    err = np.vstack([value - t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float) - value])
    colours = [HIGHLIGHT if c == highlight else PRIMARY for c in t["construct"]]
    ax.barh(ypos, value, color=colours, xerr=np.nan_to_num(np.clip(err, 0, None)), ecolor=INK, capsize=3)
    for y, v, hi in zip(ypos, value, t["ci_high"].to_numpy(float), strict=True):
        x = max(v, hi) if np.isfinite(hi) else v
        ax.text(x + 1.5, y, f"{v:.1f}", va="center", fontsize=9)
    ax.set_yticks(ypos, [_lab(labels, c) for c in t["construct"]])
    ax.set_xlim(0, 105)
    return _finish(ax, title, xlabel)


def _group_means(data: pd.DataFrame, dv: str, between: str, conf: float) -> pd.DataFrame:
    """Per group (category order, else natural order): n, mean and the t interval of the mean."""
    from .order import levels as group_levels

    missing = [c for c in (dv, between) if c not in data.columns]
    if missing:
        raise KeyError(f"column(s) not in data: {missing}")
    sub = data[[dv, between]].dropna()
    groups = sub[between]
    rows = []
    for lev in group_levels(groups):
        a = pd.to_numeric(sub.loc[(groups == lev).to_numpy(), dv]).to_numpy(float)
        m = float(np.mean(a))
        half = float(stats.t.ppf(0.5 + conf / 2, a.size - 1) * stats.sem(a)) if a.size > 1 else np.nan
        rows.append({"group": lev, "n": a.size, "mean": m, "half": half})
    return pd.DataFrame(rows, columns=["group", "n", "mean", "half"])


def plot_group_means(
    data: pd.DataFrame,
    dv: str,
    between: str,
    *,
    conf: float = 0.95,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[Any, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    summary: pd.DataFrame | None = None,
    overall: float | None = None,
) -> Axes:
    """Group means with t-based confidence intervals, one horizontal line per group.

    Parameters
    ----------
    data : one row per respondent; ``dv`` numeric, ``between`` the grouping column
        (rows missing either are left out).
    conf : confidence level of the intervals.
    xlabel, ylabel : texts of the mean axis and the group axis.
    labels : group value -> display name.
    title, ax : see the module docstring.

    Each group: mean +/- t_{conf, n-1} * SD / sqrt(n) (Student t interval); groups
    in category order for a categorical column, else natural order, first on top. The mean
    and ``(n=<n>)`` are printed beside each interval; a dashed line marks the mean
    of all rows. Returns the Axes.

    ``summary`` (``group, n, mean, half``) and ``overall`` draw means computed elsewhere
    instead, e.g. weighted means with design-based half-widths (``n`` unweighted).
    """
    g = _group_means(data, dv, between, conf) if summary is None else summary
    ax = _axes(ax, (7, 0.5 * len(g) + 1.6))
    ypos = np.arange(len(g))[::-1]
    means, half = g["mean"].to_numpy(float), g["half"].to_numpy(float)
    ax.errorbar(means, ypos, xerr=half, fmt="o", color=PRIMARY, ecolor=PRIMARY, capsize=4)
    for y, m, h, n in zip(ypos, means, half, g["n"], strict=True):
        ax.annotate(
            f"{m:.2f}  (n={n})",
            (m + (0 if np.isnan(h) else h), y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    if len(g):
        if overall is None:
            overall = pd.to_numeric(data[[dv, between]].dropna()[dv]).mean()
        ax.axvline(float(overall), color=MUTED, ls="--", lw=0.8)
    ax.set_yticks(ypos, [_lab(labels, lev) for lev in g["group"]])
    ax.margins(x=0.2)
    return _finish(ax, title, xlabel, ylabel)


def plot_drivers(
    weights: Any,
    *,
    xlabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    r2: float | None = None,
    r2_label: str = "R²",
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bar chart of driver importance (share of R^2 in percent), largest on top.

    Parameters
    ----------
    weights : output of :func:`analysis.drivers.relative_weights` or
        :func:`~analysis.drivers.relative_weights_boot` (``predictor``, ``rescaled``,
        optionally ``rescaled_ci_low`` / ``rescaled_ci_high`` or ``raw_weight``,
        ``ci_low``, ``ci_high``), or a result with ``.to_frame()`` giving it.
    xlabel : text under the percent axis.
    labels : predictor -> display name.
    r2 : the model's R^2 (the variance the shares divide), printed in the lower right corner as
        ``<r2_label> = 0.52``; default: the ``r2`` column of ``weights`` when present, else none.
    r2_label : the words before the value (the report passes them from the language files).
    title, ax : see the module docstring.

    Bars are ``100 * rescaled``; whiskers show ``rescaled_ci_low`` / ``rescaled_ci_high``
    when present, else ``ci_low`` / ``ci_high`` divided by R^2 (the sum of ``raw_weight``);
    no whiskers without intervals. Each bar carries its percentage. Returns the Axes.
    """
    rw = _frame(weights)
    d = rw.sort_values("rescaled", ascending=True).reset_index(drop=True)
    share = 100 * d["rescaled"].to_numpy(dtype=float)
    if {"rescaled_ci_low", "rescaled_ci_high"} <= set(d.columns):
        lo, hi = 100 * d["rescaled_ci_low"].to_numpy(float), 100 * d["rescaled_ci_high"].to_numpy(float)
    elif {"ci_low", "ci_high", "raw_weight"} <= set(d.columns):
        total = float(rw["raw_weight"].sum())
        lo, hi = 100 * d["ci_low"].to_numpy(float) / total, 100 * d["ci_high"].to_numpy(float) / total
    else:
        lo = hi = None
    ax = _axes(ax, (7, 0.45 * len(d) + 1.6))
    ypos = np.arange(len(d))
    xerr = None
    if lo is not None and hi is not None:
        xerr = np.nan_to_num(np.vstack([np.clip(share - lo, 0, None), np.clip(hi - share, 0, None)]))
    ax.barh(ypos, share, color=PRIMARY, xerr=xerr, ecolor=INK, capsize=3)
    for yv, s in zip(ypos, share, strict=True):
        ax.annotate(
            f"{s:.0f}%",
            (0, yv),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            color="white",
            fontsize=8,
        )
    ax.set_yticks(ypos, [_lab(labels, p) for p in d["predictor"]])
    if r2 is None and "r2" in rw.columns and len(rw):
        r2 = float(rw["r2"].iloc[0])
    if r2 is not None and np.isfinite(r2):
        ax.text(
            0.98, 0.03, f"{r2_label} = {r2:.2f}", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=9, color=INK, bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": MUTED, "lw": 0.6},
        )
    return _finish(ax, title, xlabel)


# --------------------------------------------------------------------------- path diagram
def _layers(constructs: Sequence[str], paths: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Causal depth of each construct: 0 for exogenous, else 1 + the deepest source."""
    depth = dict.fromkeys(constructs, 0)
    for _ in constructs:
        for a, b in paths:
            depth[b] = max(depth[b], depth[a] + 1)
    return depth


def plot_path_diagram(
    paths: Any,
    *,
    r2: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Path diagram: constructs in columns by causal order, arrows labelled with coefficients.

    Parameters
    ----------
    paths : table with ``source``, ``target``, ``estimate`` and optionally ``ci_low`` /
        ``ci_high`` (the ``csi_paths`` table), or a result with ``.to_frame()`` giving it.
    r2 : construct -> R^2, printed under the name of each endogenous construct.
    labels : construct -> display name.
    title, ax : see the module docstring.

    A construct's column is its causal depth (longest chain of paths into it);
    arrow width grows with |estimate|; an arrow whose interval excludes 0 is drawn
    in :data:`PRIMARY` and its coefficient gets a star, the others are grey. The
    new figure is at most 11 x 8 inches so that labels stay legible when a report
    scales it to the page. Returns the Axes (axis lines off).
    """
    p = _frame(paths)
    pairs = list(zip(p["source"], p["target"], strict=True))
    constructs = list(dict.fromkeys([c for pair in pairs for c in pair]))
    depth = _layers(constructs, pairs)
    layers: dict[int, list[str]] = {}
    for c in constructs:
        layers.setdefault(depth[c], []).append(c)
    pos = {}
    for d, names in layers.items():
        for k, c in enumerate(names):
            pos[c] = (d * 3.2, -(k - (len(names) - 1) / 2) * 1.5)
    height = max((len(v) for v in layers.values()), default=1)
    # no layout engine: the default margins keep the diagram at about 80% of the figure, the text legible
    ax = _axes(ax, (min(11.0, 2.2 * len(layers) + 1.5), min(8.0, 1.0 * height + 1.5)), layout=None)
    has_ci = {"ci_low", "ci_high"} <= set(p.columns)
    for row in p.itertuples(index=False):
        (x0, y0), (x1, y1) = pos[row.source], pos[row.target]
        sig = has_ci and pd.notna(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0)
        ax.annotate(
            "",
            xy=(x1 - 0.75, y1),
            xytext=(x0 + 0.75, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": PRIMARY if sig else MUTED,
                "lw": 0.8 + 3 * min(abs(row.estimate), 1),
            },
        )
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 + 0.12,
            f"{row.estimate:.2f}{'*' if sig else ''}",
            ha="center",
            fontsize=10,
            bbox={"fc": "white", "ec": "none", "pad": 0.5},
        )
    for c, (x, y) in pos.items():
        name = _lab(labels, c)
        text = f"{name}\nR² = {r2[c]:.2f}" if r2 and c in r2 and pd.notna(r2[c]) else name
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=10,
            bbox={"boxstyle": "round,pad=0.5", "fc": NODE_FILL, "ec": PRIMARY},
        )
    if pos:
        xs = [q[0] for q in pos.values()]
        ys = [q[1] for q in pos.values()]
        ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
        ax.set_ylim(min(ys) - 1, max(ys) + 1)
    ax.axis("off")
    return _finish(ax, title)


# --------------------------------------------------------------------------- zones and IPA
def _zone_edges(th: ZoneThresholds) -> tuple[float, float]:
    """x positions separating defection | indifference | affection (halfway for integer cut-offs)."""
    lo = th.defection_max + 0.5 if float(th.defection_max).is_integer() else th.defection_max
    hi = th.affection_min - 0.5 if float(th.affection_min).is_integer() else th.affection_min
    return lo, max(lo, hi)


def _shade_zones(ax: Axes, th: ZoneThresholds, labels: Mapping[str, str] | None) -> list[Patch]:
    """Shade the three satisfaction zones across the x axis; return their legend handles."""
    e1, e2 = _zone_edges(th)
    left, right = th.scale_min - 0.5, th.scale_max + 0.5
    handles = []
    for zone, (a, b) in zip(_ZONES, ((left, e1), (e1, e2), (e2, right)), strict=True):
        ax.axvspan(a, b, color=ZONE_COLOURS[zone], zorder=0, lw=0)
        handles.append(Patch(color=ZONE_COLOURS[zone], label=_lab(labels, zone)))
    ax.set_xlim(left, right)
    return handles


#: Past this many respondents the zone scatter draws a seeded random sample of this many points
#: (the shares in the legend still count everyone): a chart of a million points takes long to
#: draw and its image grows with the points drawn, while 5,000 show the same shape.
MAX_POINTS = 5_000


def plot_zones(
    satisfaction: pd.Series,
    loyalty: pd.Series,
    types: pd.Series,
    *,
    thresholds: ZoneThresholds,
    loyalty_thresholds: ZoneThresholds | None = None,
    seed: int = 0,
    jitter: float = 0.2,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    max_points: int = MAX_POINTS,
    ax: Axes | None = None,
) -> Axes:
    """Jittered satisfaction-loyalty scatter with the zones shaded and each type's share.

    Parameters
    ----------
    satisfaction, loyalty, types : per respondent, same length (types from
        :func:`analysis.zones.type_of`; NaN = unclassified).
    thresholds : :class:`analysis.zones.ZoneThresholds` of the satisfaction scale.
    loyalty_thresholds : thresholds of the loyalty scale (default ``thresholds``).
    seed, jitter : seeded uniform jitter of +/- ``jitter`` on both axes (points on a
        rating scale would otherwise sit on top of each other).
    xlabel, ylabel : texts of the satisfaction and loyalty axes.
    labels : customer type and zone -> display name.
    max_points : past this many respondents (default :data:`MAX_POINTS`) a seeded random
        sample of ``max_points`` respondents is drawn; the legend's shares count everyone.
        ``ax.csat_points`` is ``(drawn, total)``.
    title, ax : see the module docstring.

    The three zones are shaded along satisfaction, dashed and dotted lines mark the
    high and low loyalty cut-offs, points are coloured by type, and the legend gives
    each type with its share of the classified respondents (n_type / n_classified,
    as in :func:`analysis.zones.zone_table`). Returns the Axes.
    """
    th_loy = loyalty_thresholds if loyalty_thresholds is not None else thresholds
    sat = pd.to_numeric(pd.Series(satisfaction)).to_numpy(float)
    loy = pd.to_numeric(pd.Series(loyalty)).to_numpy(float)
    typ = pd.Series(types).astype(object).to_numpy()
    if not len(sat) == len(loy) == len(typ):
        raise ValueError("satisfaction, loyalty and types must have the same length")
    classified = pd.Series(typ).dropna().astype(str)
    total = len(sat)
    if total > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(total, max_points, replace=False))
        sat, loy, typ = sat[keep], loy[keep], typ[keep]
    rng = np.random.default_rng(seed)
    jx = rng.uniform(-jitter, jitter, len(sat))
    jy = rng.uniform(-jitter, jitter, len(sat))
    ax = _axes(ax, (8, 5.5))
    zone_handles = _shade_zones(ax, thresholds, labels)
    ax.axhline(th_loy.loyalty_high_min, color=MUTED, ls="--", lw=0.8)
    ax.axhline(th_loy.loyalty_low_max, color=MUTED, ls=":", lw=0.8)
    type_handles = []
    for name in _TYPES:
        at = typ == name
        text = _lab(labels, name)
        if len(classified):
            text = f"{text} {(classified == name).mean():.0%}"
        h = ax.scatter(
            sat[at] + jx[at], loy[at] + jy[at], s=14, alpha=0.6, color=TYPE_COLOURS[name], label=text, lw=0
        )
        type_handles.append(h)
    ax.set_ylim(th_loy.scale_min - 0.5, th_loy.scale_max + 0.5)
    ax.legend(
        handles=type_handles + zone_handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
        markerscale=1.5,
    )
    ax.csat_points = (len(sat), total)
    return _finish(ax, title, xlabel, ylabel)


def _break_detected(breakpoint: Any) -> bool:
    """False only for a breakpoint result whose ``detected`` says no (bool, or "true"/"false" text)."""
    if isinstance(breakpoint, int | float | np.number):
        return True
    flag = _field(breakpoint, "detected", True)
    if isinstance(flag, str):
        return flag.strip().lower() in ("true", "1", "yes")
    return bool(flag) if pd.notna(flag) else False


def plot_loyalty_curve(
    curve: Any,
    *,
    breakpoint: Any = None,
    thresholds: ZoneThresholds | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Mean loyalty by satisfaction level with its interval, the break and the zones shaded.

    Parameters
    ----------
    curve : output of :func:`analysis.zones.loyalty_curve` (``level``, ``loyalty_mean``,
        ``ci_low``, ``ci_high``, optionally ``promoter_share``, ``promoter_ci_low``,
        ``promoter_ci_high``), or a result with ``.to_frame()`` giving it.
    breakpoint : a break value, or the result of :func:`analysis.zones.loyalty_breakpoint`
        (a mapping such as the ``loyalty_breakpoint`` row, or an object with the same
        fields). A result whose ``detected`` is false (Davies' test found no break: a
        straight relation) draws nothing: no segmented line, no break marker, no interval.
        With a detected break: with ``intercept``, ``slope_before``, ``slope_after`` the
        fitted segmented line is drawn, with ``ci_low`` / ``ci_high`` its interval is shaded.
    thresholds : satisfaction :class:`~analysis.zones.ZoneThresholds`; given, the zones are shaded.
    xlabel, ylabel : texts of the satisfaction and mean-loyalty axes.
    labels : legend texts, keyed ``loyalty_mean`` (the curve), ``fit`` (the segmented
        line), ``promoter_share`` (the second axis) and the zone ids.
    title, ax : see the module docstring.

    The segmented line is b0 + b1 x + (b2 - b1) max(x - c, 0) with break c (Muggeo
    2003). The promoter share (with its Wilson interval band) goes on a second y axis
    in percent when the curve has one. Returns the main Axes.
    """
    cdf = _frame(curve)
    ax = _axes(ax, (8, 4.5))
    handles: list[Any] = []
    if thresholds is not None:
        handles += _shade_zones(ax, thresholds, labels)
    x = cdf["level"].to_numpy(float)
    m = cdf["loyalty_mean"].to_numpy(float)
    err = np.vstack([m - cdf["ci_low"].to_numpy(float), cdf["ci_high"].to_numpy(float) - m])
    h = ax.errorbar(
        x, m, yerr=np.nan_to_num(err), fmt="o-", color=PRIMARY, capsize=3, label=_lab(labels, "loyalty_mean")
    )
    handles.insert(0, h)
    if breakpoint is not None and _break_detected(breakpoint):
        scalar = isinstance(breakpoint, int | float | np.number)
        c = float(breakpoint) if scalar else float(_field(breakpoint, "breakpoint"))
        if (
            not scalar
            and len(x)
            and all(
                np.isfinite(float(_field(breakpoint, k)))
                for k in ("intercept", "slope_before", "slope_after")
            )
        ):
            xs = np.linspace(x.min(), x.max(), 200)
            b0, b1 = float(_field(breakpoint, "intercept")), float(_field(breakpoint, "slope_before"))
            b2 = float(_field(breakpoint, "slope_after")) - b1
            (fit,) = ax.plot(
                xs, b0 + b1 * xs + b2 * np.maximum(xs - c, 0), color="black", lw=1, label=_lab(labels, "fit")
            )
            handles.append(fit)
        if not scalar:
            lo, hi = float(_field(breakpoint, "ci_low")), float(_field(breakpoint, "ci_high"))
            if np.isfinite(lo) and np.isfinite(hi):
                ax.axvspan(lo, hi, color="black", alpha=0.08, lw=0)
        if np.isfinite(c):
            ax.axvline(c, color="black", ls="--", lw=1)
            ax.annotate(f"{c:g}", (c, 1), xycoords=("data", "axes fraction"), ha="left", va="top", fontsize=9)
    if "promoter_share" in cdf and cdf["promoter_share"].notna().any():
        ax2 = ax.twinx()
        p = cdf["promoter_share"].to_numpy(float)
        (hp,) = ax2.plot(x, p, "s--", color=ACCENT, ms=4, lw=1, label=_lab(labels, "promoter_share"))
        ax2.fill_between(
            x,
            cdf["promoter_ci_low"].to_numpy(float),
            cdf["promoter_ci_high"].to_numpy(float),
            color=ACCENT,
            alpha=0.12,
            lw=0,
        )
        ax2.set_ylim(0, 1)
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax2.spines["right"].set_visible(True)
        handles.append(hp)
    _finish(ax, title, xlabel, ylabel)
    _legend_below(ax, handles, min(len(handles), 4), clear_xlabel=bool(xlabel))
    return ax


def plot_ipa(
    ipa: Any,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Importance-performance grid: labelled items and the four quadrant names (Martilla & James 1977).

    Parameters
    ----------
    ipa : output of :func:`analysis.zones.ipa` (``item``, ``importance``,
        ``performance``, ``quadrant``), or a result with ``.to_frame()`` giving it.
        The grid lines are the result's ``importance_line`` / ``performance_line``
        (attributes, or ``attrs`` of the frame), else the means of the two columns.
    xlabel, ylabel : texts of the performance (x) and importance (y) axes.
    labels : item id and quadrant name -> display name.
    title, ax : see the module docstring.

    Points are coloured by quadrant (:data:`QUADRANT_COLOURS`); the quadrant names
    sit in the four corners. Item labels never overlap each other or the quadrant names
    (:func:`_declutter`, a greedy repel with leader lines). Returns the Axes.
    """
    df = _frame(ipa)
    imp = df["importance"].to_numpy(float)
    perf = df["performance"].to_numpy(float)
    imp_line = _field(ipa, "importance_line", None)
    perf_line = _field(ipa, "performance_line", None)
    imp_line = float(df.attrs.get("importance_line", np.mean(imp)) if imp_line is None else imp_line)
    perf_line = float(df.attrs.get("performance_line", np.mean(perf)) if perf_line is None else perf_line)
    ax = _axes(ax, (7, 5.5))
    quads = df["quadrant"].astype(object).to_numpy()
    ax.scatter(perf, imp, c=[QUADRANT_COLOURS.get(q, PRIMARY) for q in quads], s=40, zorder=3)
    notes = [
        ax.annotate(
            _lab(labels, str(item)),
            (xv, yv),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=9,
        )
        for item, xv, yv in zip(df["item"].tolist(), perf, imp, strict=True)
    ]
    ax.axvline(perf_line, color=MUTED, lw=0.8)
    ax.axhline(imp_line, color=MUTED, lw=0.8)
    if len(df):
        span_x = max(perf.max() - perf.min(), 1e-9)
        span_y = max(imp.max() - imp.min(), 1e-9)
        ax.set_xlim(min(perf.min(), perf_line) - 0.15 * span_x, max(perf.max(), perf_line) + 0.15 * span_x)
        ax.set_ylim(min(imp.min(), imp_line) - 0.15 * span_y, max(imp.max(), imp_line) + 0.15 * span_y)
    corners = [
        ax.text(
            cx,
            cy,
            _lab(labels, name),
            transform=ax.transAxes,
            ha=ha,
            va=va,
            color=QUADRANT_COLOURS[name],
            fontsize=10,
        )
        for name, (cx, cy, ha, va) in _QUADRANT_CORNERS.items()
    ]
    _finish(ax, title, xlabel, ylabel)
    _declutter(ax, notes, avoid=corners, points=np.column_stack([perf, imp]))  # after the axis texts: final layout; labels clear each other
    return ax


# --------------------------------------------------------------------------- over waves
def plot_trend(
    indices: Any,
    *,
    waves: Sequence[str] | None = None,
    highlight: str = "CSI",
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Indices over waves: one line per construct, the overall index bold with its interval.

    Parameters
    ----------
    indices : long table with ``construct``, ``wave``, ``index``, ``ci_low``, ``ci_high``
        (each wave's ``csi_index`` stacked), or a result with ``.to_frame()`` giving it.
    waves : the waves in order along x (default: order of appearance); a wave missing
        for a construct leaves a gap.
    highlight : the construct drawn bold in :data:`HIGHLIGHT`, with its interval and values.
    ylabel : text of the index axis.
    labels : construct -> legend text.
    title, ax : see the module docstring.

    Returns the Axes; the legend sits to the right of the plot.
    """
    t = _frame(indices)
    waves = [str(w) for w in (waves if waves is not None else dict.fromkeys(t["wave"]) if len(t) else [])]
    ax = _axes(ax, (8, 4.5))
    x = np.arange(len(waves))
    if len(t):
        for construct, grp in t.groupby("construct", sort=False):
            g = grp.assign(wave=grp["wave"].astype(str)).set_index("wave").reindex(waves)
            v = g["index"].to_numpy(float)
            if construct == highlight:
                err = np.vstack([v - g["ci_low"].to_numpy(float), g["ci_high"].to_numpy(float) - v])
                ax.errorbar(
                    x,
                    v,
                    yerr=np.nan_to_num(np.clip(err, 0, None)),
                    color=HIGHLIGHT,
                    lw=3,
                    marker="o",
                    capsize=4,
                    label=_lab(labels, construct),
                    zorder=3,
                )
                for xv, yv in zip(x, v, strict=True):
                    if np.isfinite(yv):
                        ax.annotate(
                            f"{yv:.1f}",
                            (xv, yv),
                            xytext=(7, 5),
                            textcoords="offset points",
                            color=HIGHLIGHT,
                            fontsize=9,
                            zorder=4,
                            bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1},
                        )
            else:
                ax.plot(x, v, marker=".", lw=1.2, alpha=0.8, label=_lab(labels, construct))
    ax.set_xticks(x, waves)
    ax.margins(x=0.08)  # room for the value labels of the last wave
    if len(waves) == 1:
        ax.set_xlim(-0.5, 0.5)
    handles, texts = ax.get_legend_handles_labels()
    if handles:
        first = [k for k, h in enumerate(handles) if isinstance(h, ErrorbarContainer)]  # the highlight on top
        order = first + [k for k in range(len(handles)) if k not in first]
        ax.legend(
            [handles[k] for k in order],
            [texts[k] for k in order],
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
            frameon=False,
        )
    return _finish(ax, title, ylabel=ylabel)


def plot_group_trends(
    wide: Any,
    *,
    waves: Sequence[str],
    ylabel: str | None = None,
    labels: Mapping[Any, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One line per group over waves (one segment's panel of the tracking report).

    Parameters
    ----------
    wide : one row per group: a ``group`` column and one column per wave holding the
        value (e.g. mean CSI; NaN = suppressed or not asked, drawn as a gap).
    waves : the wave columns, in order along x.
    ylabel : text of the value axis.
    labels : group -> legend text.
    title, ax : see the module docstring.

    Returns the Axes; a legend lists the groups when there are any.
    """
    w = _frame(wide)
    waves = [str(v) for v in waves]
    ax = _axes(ax, (4.2, 3.8))
    x = np.arange(len(waves))
    if len(w):
        cols = {str(c): c for c in w.columns}
        for _, r in w.iterrows():
            values = np.array(
                [float(r[cols[v]]) if v in cols and pd.notna(r[cols[v]]) else np.nan for v in waves]
            )
            ax.plot(x, values, marker="o", label=_lab(labels, r["group"]))
        ax.legend(frameon=False, fontsize=8)
    ax.set_xticks(x, waves)
    ax.margins(x=0.1)  # wave labels of neighbouring panels stay apart
    if len(waves) == 1:
        ax.set_xlim(-0.5, 0.5)
    return _finish(ax, title, ylabel=ylabel)


def plot_type_shares(
    shares: pd.DataFrame,
    *,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Stacked bars of customer-type shares, one bar per wave.

    Parameters
    ----------
    shares : one row per customer type (index), one column per wave, values the
        share of classified respondents (0-1; each wave's ``zones`` table side by side).
    ylabel : text of the percent axis.
    labels : customer type -> legend text.
    title, ax : see the module docstring.

    Types stack bottom-up in row order, coloured by :data:`TYPE_COLOURS`; a segment of
    at least 6% carries its percentage. Returns the Axes; the legend sits to the right,
    in stacking order from the top.
    """
    table = shares.fillna(0.0)
    waves = [str(c) for c in table.columns]
    ax = _axes(ax, (8, 4))
    x = np.arange(len(waves))
    bottom = np.zeros(len(waves))
    for t in table.index:
        v = table.loc[t].to_numpy(float) * 100
        ax.bar(x, v, bottom=bottom, color=TYPE_COLOURS.get(t, PRIMARY), label=_lab(labels, t))
        for xv, b, h in zip(x, bottom, v, strict=True):
            if h >= 6:
                ax.text(xv, b + h / 2, f"{h:.0f}%", ha="center", va="center", fontsize=8)
        bottom += v
    ax.set_xticks(x, waves)
    if len(table.index):
        handles, texts = ax.get_legend_handles_labels()
        # top of the legend = top of the stack
        ax.legend(handles[::-1], texts[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _finish(ax, title, ylabel=ylabel)
