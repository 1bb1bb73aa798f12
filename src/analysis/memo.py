"""Charts drawn once per kernel: the report notebook shows the charts the analysis notebooks drew.

The runner executes the notebooks of a wave in one shared kernel (``%reset`` between them clears the
analyst's names, not the modules), and notebook 05 draws again most charts that 02-04 drew: the item
bars, the index, the drivers, the path diagram, the group charts, the zones, the loyalty curve and the
IPA. :func:`chart_memo` keeps a chart function's result for the same inputs, so the second call
returns the first call's figures, marked finished: their PNG (:func:`analysis.plotting.figure_png`)
is rendered once and kept, so the report shows the same bytes as the analysis notebook (a figure
rendered twice is not byte-identical). A finished chart is not meant to be changed: to draw a
variant, call the :mod:`analysis.plotting` function.

What "the same inputs" means, so that a memoised chart is never stale:

* the function, its arguments, the wave's store folder, its language and the survey definition's
  file (path, size and modification time);
* every table the function read through ``ctx.read`` / ``ctx.has`` (recorded on the first call) has
  the same content now: a SHA-256 of the DataFrame's values, index, columns and dtypes (of the JSON
  for a dict), compared on every call.

An analyst who changes a table, the survey file or the language gets a new chart. At most
:data:`MEMO_SIZE` results are kept (least recently used dropped first). No statistics here.

**Between kernels.** ``csat run`` runs a wave's notebooks on two kernels, so the report notebook
may run in another process than the one that drew the wave's charts. When :data:`SHARED_ENV` names
a folder (the runner makes one per run, private to it, and removes it after), a chart is also kept
there: its PNG rendered at once, then the figures pickled with the digests of the tables read. The
other kernel loads it, checks the digests like its own memo's, and shows the same PNG bytes. A chart
that cannot be pickled is only kept in memory. Unpickling an ordinary Figure costs about a tenth of
drawing and rendering it (measured on the demo's report charts).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

#: Chart results kept per process (a demo wave draws about 25 figures).
MEMO_SIZE = 96
#: The environment variable naming the folder where charts are shared between a run's kernels.
SHARED_ENV = "CSAT_CHART_CACHE"

_MEMO: OrderedDict[tuple, tuple[dict[tuple[str, str], str], Any]] = OrderedDict()

F = TypeVar("F", bound=Callable[..., Any])


def digest(value: Any) -> str:
    """A SHA-256 of a table's content: values, index, column names and dtypes of a DataFrame or Series
    (``pandas.util.hash_pandas_object``), JSON text of a dict or list, else its pickle; ``"missing"`` for
    a table that does not exist (None)."""
    h = hashlib.sha256()
    if value is None:
        return "missing"
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
        h.update(repr(list(frame.index.names)).encode())
        try:
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists): their pickle
            h.update(pickle.dumps(frame, protocol=4))
        return h.hexdigest()
    try:
        h.update(json.dumps(value, sort_keys=True, default=str).encode())
    except (TypeError, ValueError):
        h.update(pickle.dumps(value, protocol=4))
    return h.hexdigest()


def _context_key(ctx: Any) -> tuple:
    survey_path = getattr(getattr(ctx, "survey", None), "path", None)
    stat: tuple = ()
    if survey_path is not None and Path(survey_path).is_file():
        st = Path(survey_path).stat()
        stat = (str(Path(survey_path).resolve()), st.st_size, st.st_mtime_ns)
    folder = getattr(getattr(ctx, "store", None), "folder", None)
    wave = getattr(getattr(ctx, "wave", None), "id", None)
    kind = f"{type(ctx).__module__}.{type(ctx).__qualname__}"
    return (kind, str(folder), wave, getattr(ctx, "language", None), stat)


class _Recorder:
    """Wraps ``ctx.read`` / ``ctx.has`` (instance attributes shadowing the methods) and records the
    digest of every table read and the answer of every ``has``; restores the previous ones on exit
    (so a memoised chart may call another)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.seen: dict[tuple[str, str], str] = {}

    def __enter__(self) -> _Recorder:
        ctx, seen = self.ctx, self.seen
        self.saved = {k: ctx.__dict__[k] for k in ("read", "has") if k in ctx.__dict__}
        read, has = ctx.read, ctx.has

        def recorded_read(name: str, *args: Any, **kwargs: Any) -> Any:
            value = read(name, *args, **kwargs)
            seen[("read", name)] = digest(value)
            return value

        def recorded_has(name: str) -> bool:
            answer = bool(has(name))
            seen[("has", name)] = str(answer)
            return answer

        ctx.read, ctx.has = recorded_read, recorded_has
        return self

    def __exit__(self, *exc: object) -> None:
        for k in ("read", "has"):
            if k in self.saved:
                self.ctx.__dict__[k] = self.saved[k]
            else:
                self.ctx.__dict__.pop(k, None)


def _still_valid(ctx: Any, seen: dict[tuple[str, str], str]) -> bool:
    for (kind, name), recorded in seen.items():
        if kind == "has":
            if str(bool(ctx.has(name))) != recorded:
                return False
        else:
            try:
                value = ctx.read(name)
            except FileNotFoundError:
                return False
            if digest(value) != recorded:
                return False
    return True


def chart_memo(fn: F) -> F:
    """Decorate a report chart function ``fn(ctx, *args, **kwargs)``: see the module docstring. A
    context without ``read`` / ``has`` (or that cannot take attributes) is passed straight through."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        if not (hasattr(ctx, "read") and hasattr(ctx, "has") and hasattr(ctx, "__dict__")):
            return fn(ctx, *args, **kwargs)
        try:
            key = (fn.__module__, fn.__qualname__, _context_key(ctx), repr(args), repr(sorted(kwargs.items())))
        except Exception:  # an argument without a stable repr: no memo
            return fn(ctx, *args, **kwargs)
        hit = _MEMO.get(key) or _load_shared(key)
        if hit is not None and _still_valid(ctx, hit[0]):
            _remember(key, hit)
            return hit[1]
        with _Recorder(ctx) as rec:
            value = fn(ctx, *args, **kwargs)
        figures = [fig for fig in (value if isinstance(value, list) else [value]) if hasattr(fig, "savefig")]
        for fig in figures:  # a finished chart: its first PNG is kept (plotting.figure_png)
            fig._csat_finished = True
        _remember(key, (rec.seen, value))
        _share(key, rec.seen, value, figures)
        return value

    return wrapper  # type: ignore[return-value]


def _remember(key: tuple, entry: tuple) -> None:
    _MEMO[key] = entry
    _MEMO.move_to_end(key)
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)


def _shared_file(key: tuple) -> Path | None:
    folder = os.environ.get(SHARED_ENV)
    if not folder or not Path(folder).is_dir():
        return None
    return Path(folder) / f"{hashlib.sha256(repr(key).encode()).hexdigest()}.pickle"


def _share(key: tuple, seen: dict[tuple[str, str], str], value: Any, figures: list) -> None:
    """Keep a chart for the run's other kernels (see the module docstring); its PNG is rendered now,
    so that every kernel shows the same bytes."""
    path = _shared_file(key)
    if path is None:
        return
    from .plotting import figure_png

    try:
        for fig in figures:
            figure_png(fig)
        data = pickle.dumps((seen, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a chart that does not pickle is kept in this process only
        return
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


def _load_shared(key: tuple) -> tuple | None:
    """A chart another kernel of the run kept (unchecked: the caller compares its digests)."""
    path = _shared_file(key)
    if path is None or not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # a broken file: the chart is drawn again
        return None


def clear() -> None:
    """Forget every memoised chart (tests)."""
    _MEMO.clear()
