"""analysis.memo: a chart is drawn once for the same inputs, and again whenever a table it read changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import memo


@dataclass
class Ctx:
    tables: dict = field(default_factory=dict)
    language: str = "en"
    survey: object = None
    store: object = None
    wave: object = None

    def read(self, name: str):
        if name not in self.tables:
            raise FileNotFoundError(name)
        return self.tables[name]

    def has(self, name: str) -> bool:
        return name in self.tables


calls: list[str] = []


@memo.chart_memo
def chart(ctx: Ctx, scale: int = 1) -> list:
    calls.append("chart")
    extra = ctx.read("b")["x"].sum() if ctx.has("b") else 0
    return [ctx.read("a")["x"].sum() * scale + extra]


def test_same_inputs_same_object_changed_inputs_new_chart() -> None:
    memo.clear()
    calls.clear()
    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2]})})
    first = chart(ctx)
    assert chart(ctx) is first and calls == ["chart"]
    assert chart(Ctx({"a": pd.DataFrame({"x": [1, 2]})})) is first  # a new context, same content
    assert chart(ctx, scale=2) == [6] and len(calls) == 2  # other arguments
    ctx.tables["a"] = pd.DataFrame({"x": [1, 5]})  # a table it read changed
    assert chart(ctx) == [6] and len(calls) == 3
    ctx.tables["a"] = pd.DataFrame({"x": [1.0, 5.0]})  # same numbers, other dtype: drawn again
    chart(ctx)
    assert len(calls) == 4
    ctx.tables["b"] = pd.DataFrame({"x": [10]})  # a table it asked for now exists
    assert chart(ctx) == [16] and len(calls) == 5
    ctx.language = "zh"
    chart(ctx)
    assert len(calls) == 6
    assert "read" not in ctx.__dict__ and "has" not in ctx.__dict__  # the recorder is gone


def test_digest_tells_tables_apart() -> None:
    a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert memo.digest(a) == memo.digest(a.copy())
    assert memo.digest(a) != memo.digest(a.rename(columns={"y": "z"}).rename(columns={"z": "y"}).iloc[::-1])
    assert memo.digest(a) != memo.digest(a.assign(x=[1, 3]))
    assert memo.digest({"k": 1}) != memo.digest({"k": 2}) and memo.digest(None) == "missing"
    assert memo.digest(pd.DataFrame({"l": [[1], [2]]})) != memo.digest(pd.DataFrame({"l": [[1], [3]]}))


def test_memo_is_bounded() -> None:
    memo.clear()
    for i in range(memo.MEMO_SIZE + 10):
        chart(Ctx({"a": pd.DataFrame({"x": np.arange(3)})}), scale=i)
    assert len(memo._MEMO) == memo.MEMO_SIZE


REPO = Path(__file__).resolve().parents[1]


def _demo_wave(tmp_path: Path):
    """The demo's first wave, cleaned and described, with an empty memo."""
    from analysis.wave import WaveAnalysis

    memo.clear()
    wa = WaveAnalysis.load(REPO / "params" / "survey.yaml", REPO / "params" / "waves" / "2025H1.yaml",
                           out_root=tmp_path)
    wa.clean()
    wa.describe()
    return wa


def test_the_report_notebook_reuses_the_analysis_notebooks_charts(tmp_path: Path) -> None:
    """On a real wave: the second call of a report chart returns the first call's figures."""
    from analysis import report
    from analysis.wave import WaveAnalysis

    wa = _demo_wave(tmp_path)
    first = report.item_charts(wa)
    again = WaveAnalysis.load(REPO / "params" / "survey.yaml", REPO / "params" / "waves" / "2025H1.yaml",
                              out_root=tmp_path)
    again.results.update(wa.results)  # the same tables, as notebook 05 reads them from the store
    assert report.item_charts(again) is first


def test_a_finished_chart_keeps_its_first_png() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.plotting import figure_png

    memo.clear()

    @memo.chart_memo
    def drawn(ctx: Ctx):
        fig, ax = plt.subplots()
        ax.plot(ctx.read("a")["x"])
        ax.set_title("a title")
        plt.close(fig)
        return fig

    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2, 4]})})
    fig = drawn(ctx)
    first = figure_png(fig)
    assert figure_png(drawn(ctx)) == first
    plain, ax = plt.subplots()  # a figure not from a report chart is rendered every time
    figure_png(plain)
    assert not hasattr(plain, "_csat_png")
    plt.close(plain)


def test_charts_are_shared_between_kernels_through_the_run_folder(tmp_path: Path, monkeypatch) -> None:
    """With ``CSAT_CHART_CACHE`` set, a chart drawn in one process is found by another (here: the memo
    emptied) with the same PNG bytes, and drawn again when a table it read changed; a chart that
    cannot be pickled is drawn again, not shared."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.plotting import figure_png

    monkeypatch.setenv(memo.SHARED_ENV, str(tmp_path))
    drawn_calls: list[int] = []

    @memo.chart_memo
    def drawn(ctx: Ctx, local: bool = False):
        drawn_calls.append(1)
        fig, ax = plt.subplots()
        ax.plot(ctx.read("a")["x"])
        if local:  # a lambda formatter: the figure does not pickle
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: str(v)))
        plt.close(fig)
        return fig

    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2, 4]})})
    first = figure_png(drawn(ctx))
    assert len(list(tmp_path.glob("*.pickle"))) == 1
    memo.clear()  # another kernel
    again = drawn(ctx)
    assert figure_png(again) == first and len(drawn_calls) == 1
    memo.clear()
    ctx.tables["a"] = pd.DataFrame({"x": [1, 2, 5]})
    drawn(ctx)
    assert len(drawn_calls) == 2
    drawn(ctx, local=True)
    memo.clear()
    drawn(ctx, local=True)
    assert len(drawn_calls) == 4 and not list(tmp_path.glob("*.part"))


def test_every_report_chart_of_a_real_wave_pickles(tmp_path: Path) -> None:
    """The demo's item and index charts (the ones notebook 05 shows again) can be shared."""
    import pickle

    from analysis import report

    wa = _demo_wave(tmp_path)
    wa.index()
    for fig in [*report.item_charts(wa), report.index_chart(wa)]:
        pickle.loads(pickle.dumps(fig))
