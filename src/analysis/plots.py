"""Shared chart set-up: a CJK-capable font and a manager-readable style.

Every chart function in the package calls :func:`use_style` first so that
Chinese labels (很满意, 华东 ...) render with real glyphs, not empty boxes.
The font is Noto Sans CJK SC, shipped by the ``mplfonts`` wheel from PyPI,
so no system font is needed on a fresh machine.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless by default; notebooks still show inline figures

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Diverging palette from dissatisfied (red) through neutral (grey) to satisfied (green).
DIVERGING = "RdYlGn"
#: Main colour for single-series charts.
PRIMARY = "#1f5f8b"


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


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes (tight bounding box, no timestamp metadata: same chart, same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


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
    """Apply the project's chart style: CJK font first, readable sizes, no chart junk."""
    _register_notebook_display()
    family = cjk_font_name()
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
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
