"""Unit reports: one small report per group of a segment (a branch, a region) and wave, fanned out on Dask.

``units: SEGMENT`` in the survey, or ``csat run --units SEGMENT``, writes
``reports/units/<wave>/<group>.html`` for every group of that segment with at least
:data:`analysis.privacy.MIN_CELL` kept responses, and ``reports/units/index.html`` listing them,
and the groups left out as too small (names only, never their n).

Each unit report holds the unit's headline (CSI, satisfaction rate, NPS, repurchase with 95%
intervals), its KPIs against the survey's targets, its change against the same group of the
baseline wave (when both have enough answers), its headline against the whole wave's, and, where
n allows (:data:`DRIVERS_MIN`), the drivers of overall satisfaction (relative weights, bootstrap
intervals) and the satisfaction-loyalty customer types. Every number is computed by the same
:class:`~analysis.wave.WaveAnalysis` steps as the wave report, on the unit's rows.

Under weighting a unit's numbers are **domain estimates** (Lumley 2010, *Complex Surveys*, 2.3): the
whole wave's raked weights restricted to the unit's rows, the standard errors from the whole wave's
design with the other rows outside the domain (calibration-aware; R ``svymean(~y, subset(raked,
segment == group))``). A unit cannot be raked to the whole base's margins on its own; this is the
standard practice instead. The baseline group uses its saved weights (fixed).

The fan-out (:func:`fan_out`) runs one task per unit on a Dask distributed cluster: a
``LocalCluster`` by default (``workers`` processes, one thread each), or the cluster at
``scheduler`` (``--scheduler tcp://host:8786`` or ``CSAT_SCHEDULER``). A task gets the unit's
rows and returns the HTML text; this process writes the files. The tasks are pure functions of
their rows (seeded bootstraps), so the pages are the same bytes as a serial run
(:func:`fan_out` with ``scheduler="serial"``); the tests check it.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .privacy import MIN_CELL
from .survey import Survey, Wave

#: Fewest responses of a unit for drivers and customer types (relative weights of the index constructs
#: on fewer answers are noise; the wave report's group tests flag groups under 30 as small).
DRIVERS_MIN = 100
#: Bootstrap resamples of a unit's drivers (the wave's are analysis.wave.DRIVERS_BOOT).
UNIT_BOOT = 500
#: The scheduler environment variable (as ``--scheduler``).
SCHEDULER_ENV = "CSAT_SCHEDULER"


# --------------------------------------------------------------------------- names
def file_stem(group: Any) -> str:
    """A file name for a group: its letters and digits (any script) kept, every other character ``_``,
    at most 60 characters; a name changed on the way, or empty, gets 8 hex digits of its SHA-256, so
    two groups never share a file (``A/B`` -> ``A_B-1f2e...``, ``..`` -> ``_-...``)."""
    text = unicodedata.normalize("NFC", str(group))
    stem = re.sub(r"[^\w-]", "_", text, flags=re.UNICODE)[:60].strip("_-") or "_"
    if stem != text:
        stem = f"{stem}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return stem


# --------------------------------------------------------------------------- tables in memory
@dataclass
class Tables:
    """A store in memory: what :class:`~analysis.wave.WaveAnalysis` reads (``read``, ``exists``, ``get``)."""

    tables: dict[str, Any] = field(default_factory=dict)
    folder: Path = Path(".")

    def read(self, name: str) -> Any:
        if name not in self.tables:
            raise FileNotFoundError(name)
        return self.tables[name]

    def exists(self, name: str) -> bool:
        return name in self.tables

    def get(self, name: str) -> Any:
        return self.tables.get(name)


@dataclass(frozen=True)
class Unit:
    """One unit's task: the survey, the wave (without ``invited`` and complaint log: they are the whole
    wave's), the segment and group, the unit's cleaned rows, the same group's baseline rows (or None)
    and the whole wave's headline table. Under weighting: ``weights`` the whole wave's
    :class:`~analysis.weighting.Weights` (the unit's rows keep the wave's row labels, so every estimate
    is a domain estimate), ``weighting`` the wave's ``weighting.csv`` and ``base_weights`` the baseline
    group's saved weights (in the order of ``baseline``)."""

    survey: Survey
    wave: Wave
    segment: str
    group: str
    clean: pd.DataFrame
    baseline: pd.DataFrame | None
    whole: pd.DataFrame
    weights: Any = None
    weighting: pd.DataFrame | None = None
    base_weights: pd.DataFrame | None = None


# --------------------------------------------------------------------------- one unit
def unit_analysis(unit: Unit) -> Any:
    """The unit's :class:`~analysis.wave.WaveAnalysis` with its tables made (headline, KPIs, change,
    drivers and customer types where n allows)."""
    from . import kpis
    from .threads import limit
    from .wave import DRIVERS_SEED, WaveAnalysis

    limit()
    base = None
    if unit.baseline is not None and len(unit.baseline) >= MIN_CELL:
        base = Tables({"clean": unit.baseline})
        if unit.base_weights is not None:
            base.tables["weights"] = unit.base_weights
    wa = WaveAnalysis(survey=unit.survey, wave=unit.wave, store=Tables(), baseline=base)
    wa.results["clean"] = unit.clean
    if unit.weights is not None:  # domain estimation: the whole wave's weights, restricted to the unit's rows
        wa._cache["case_weights"] = unit.weights
        wa.results["weighting"] = unit.weighting
    wa.index()
    head = wa.headline()
    values = {k: float(v) for k, v in head.set_index("metric")["value"].items()}
    targets = unit.survey.targets
    rows = [k for k in kpis.KNOWN_KPIS if k in values]
    wa.results["kpis"] = kpis.kpi_table(values, targets, kpis=rows)
    if base is not None:
        wa.change()
    if len(unit.clean) >= DRIVERS_MIN:
        wa.drivers(n_boot=UNIT_BOOT, seed=DRIVERS_SEED)
        if unit.survey.loyalty:
            wa._customer_zones()
    return wa


def unit_report(unit: Unit) -> tuple[str, str]:
    """The unit's report: ``(group, HTML text)``. Runs on a Dask worker; pure (same rows, same bytes)."""
    return unit.group, render(unit, unit_analysis(unit))


def _table_html(frame: pd.DataFrame) -> str:
    """A display table (text cells) as escaped HTML."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="csat-table">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _versus_whole(unit: Unit, wa: Any) -> pd.DataFrame:
    from . import report, words

    lang = wa.language
    mine = wa.read("headline").set_index("metric")
    whole = unit.whole.set_index("metric")
    rows = []
    for metric in mine.index:
        if metric not in whole.index or metric == "response_rate":
            continue
        share = metric in report.SHARE_METRICS
        scale = 100.0 if share else 1.0
        a, b = float(mine.loc[metric, "value"]), float(whole.loc[metric, "value"])
        rows.append(
            {
                report.word("column.metric", lang): report.label(wa, metric),
                report.word("units.column.unit", lang): words.percent(a) if share else words.number(a, 1),
                report.word("units.column.whole", lang): words.percent(b) if share else words.number(b, 1),
                report.word("column.diff", lang): words.signed((a - b) * scale, 1),
            }
        )
    return pd.DataFrame(rows)


def _drivers_table(wa: Any) -> pd.DataFrame:
    from . import report, words

    lang = wa.language
    d = wa.read("drivers").sort_values("rescaled", ascending=False)
    return pd.DataFrame(
        {
            report.word("column.construct", lang): d["predictor"].map(lambda c: report.label(wa, c)),
            report.word("column.share", lang): d["rescaled"].map(words.percent),
            report.word("column.ci", lang): [
                words.interval(lo, hi, 1, as_percent=True)
                for lo, hi in zip(d["rescaled_ci_low"], d["rescaled_ci_high"], strict=True)
            ],
        }
    )


STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;"
    "text-align:left}.kpi-met{color:#1b7f3b}.kpi-not-met{color:#b3261e}.note{color:#666}"
)


def render(unit: Unit, wa: Any) -> str:
    """The unit report's HTML (self-contained, no script, every text escaped)."""
    from . import report
    from .publish import kpi_html

    lang = wa.language
    s = unit.survey

    def w(key: str, **fields: Any) -> str:
        return html.escape(report.word(key, lang, **fields))

    title = report.word(
        "units.title", lang, survey=s.title_text(), segment=unit.segment, group=unit.group, wave=unit.wave.id
    )
    parts = [
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{w("units.responses", n=len(unit.clean))}</p>',
        f"<h2>{w('units.heading.headline')}</h2>",
        _table_html(report.headline_table(wa)),
        f"<h2>{w('units.heading.kpis')}</h2>",
        kpi_html(wa.read("kpis"), lang),
        f"<h2>{w('units.heading.change')}</h2>",
    ]
    if wa.has("wave_change"):
        parts.append(_table_html(report.change_table(wa)))
    else:
        parts.append(f'<p class="note">{w("units.no_change")}</p>')
    parts += [f"<h2>{w('units.heading.whole')}</h2>", _table_html(_versus_whole(unit, wa))]
    if wa.has("drivers"):
        parts += [f"<h2>{w('units.heading.drivers')}</h2>", _table_html(_drivers_table(wa))]
        if wa.has("zones"):
            parts += [f"<h2>{w('units.heading.zones')}</h2>", _table_html(report.zone_summary(wa))]
    else:
        parts.append(f'<p class="note">{w("units.too_few", n=DRIVERS_MIN)}</p>')
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- the fan-out
def fan_out(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    scheduler: str | None = None,
    workers: int = 2,
    processes: bool = True,
) -> list[Any]:
    """``[fn(t) for t in tasks]``, on Dask distributed, in the order of ``tasks``.

    ``scheduler``: ``"serial"`` runs here, one after another; an address (``tcp://host:8786``)
    uses that cluster; None uses ``CSAT_SCHEDULER`` when set, else a ``LocalCluster`` of ``workers``
    workers with one thread each (``processes=False``: threads of this process, for tests), closed
    afterwards. The tasks' data go to the workers with ``scatter``; results come back by ``gather``.
    The workers' maths pools are limited by :func:`analysis.threads.limit` inside each task.
    """
    if scheduler == "serial":
        return [fn(t) for t in tasks]
    from distributed import Client, LocalCluster

    from .threads import THREAD_VARS, env, limit

    limit()  # LocalCluster worker processes inherit the thread variables
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    cluster = None
    if address is None:
        extra = {"env": {k: v for k, v in env().items() if k in THREAD_VARS}} if processes else {}
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # any free port: never a clash with another cluster on the machine
            **extra,
        )
        client = Client(cluster)
    else:
        client = Client(address, timeout="30s")
    try:
        data = client.scatter(list(tasks))
        futures = client.map(fn, data, pure=False)
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- a run's unit reports
@dataclass
class UnitsResult:
    """What :func:`write_unit_reports` wrote: pages per wave (group -> path) and groups skipped."""

    pages: dict[str, dict[str, Path]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    index: Path | None = None


def unit_tasks(survey: Survey, wave: Wave, segment: str, processed_root: Path) -> tuple[list[Unit], list[str]]:
    """The units of one wave (groups with at least MIN_CELL kept rows) and the groups skipped."""
    from .store import Store
    from .survey import wave_weighting
    from .wave import case_weights

    store = Store(processed_root / wave.id)
    clean = store.read("clean")
    whole = store.read("headline")
    base_store = Store(processed_root / wave.baseline) if wave.baseline else None
    base_clean = base_store.read("clean") if base_store is not None and base_store.exists("clean") else None
    weighted = wave_weighting(survey, wave) is not None
    # weighted: a unit is a domain of the whole wave's raked design (its rows keep their labels and
    # the whole wave's weights: R ``subset(design, segment == group)``); unweighted: its own rows
    unit_wave = replace(wave, invited=None, operations=None, customers=None, margins=wave.margins if weighted else {})
    weights = case_weights(survey, wave, clean) if weighted else None
    margin_table = store.read("weighting") if weighted and store.exists("weighting") else None
    base_w = base_store.read("weights") if weighted and base_clean is not None and base_store.exists("weights") else None
    if not weighted:
        survey = replace(survey, weighting=None)
    counts = clean[segment].value_counts()
    counts = counts[counts > 0]  # a category of the segment's codebook with no response is no group here
    tasks, skipped = [], []
    for group in sorted(counts.index, key=str):
        if counts[group] < MIN_CELL:
            skipped.append(str(group))
            continue
        rows = clean[clean[segment] == group]
        base, bw = None, None
        if base_clean is not None and segment in base_clean.columns:
            inside = (base_clean[segment] == group).to_numpy()
            base = base_clean[inside].reset_index(drop=True)
            bw = base_w[inside].reset_index(drop=True) if base_w is not None and len(base_w) == len(base_clean) else None
        tasks.append(Unit(survey, unit_wave, segment, str(group), rows if weighted else rows.reset_index(drop=True),
                          base, whole, weights, margin_table, bw))
    return tasks, skipped


def write_unit_reports(
    survey: Survey,
    waves: Sequence[Wave],
    segment: str,
    out: Path,
    scheduler: str | None = None,
    workers: int = 2,
    processes: bool = True,
) -> UnitsResult:
    """Write every unit report of ``waves`` (already run) under ``out/reports/units/`` and its index.

    Each wave's folder is written beside and then swapped into place, so a failed fan-out leaves the
    last complete set. Raises :class:`~analysis.errors.SurveyDefinitionError` when ``segment`` is not
    one of the survey's segments.
    """
    from .errors import SurveyDefinitionError
    from .store import processed_root

    if segment not in survey.segments:
        raise SurveyDefinitionError(
            f"--units {segment!r} is not one of the segments.",
            file=str(survey.path),
            expected=f"one of: {', '.join(survey.segments) or '(no segments defined)'}",
        )
    root = Path(out) / "reports" / "units"
    result = UnitsResult()
    all_tasks: list[Unit] = []
    for wave in waves:
        tasks, skipped = unit_tasks(survey, wave, segment, processed_root(Path(out)))
        all_tasks += tasks
        result.skipped[wave.id] = skipped
    pages = fan_out(unit_report, all_tasks, scheduler=scheduler, workers=workers, processes=processes)
    by_wave: dict[str, list[tuple[str, str]]] = {}
    for task, (group, page) in zip(all_tasks, pages, strict=True):
        by_wave.setdefault(task.wave.id, []).append((group, page))
    for wave in waves:
        target = root / wave.id
        staging = root / f".staging-{wave.id}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        written = {}
        for group, page in by_wave.get(wave.id, []):
            path = staging / f"{file_stem(group)}.html"
            path.write_text(page, encoding="utf-8")
            written[group] = target / path.name
        old = root / f".old-{wave.id}-{os.getpid()}"
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        result.pages[wave.id] = written
    result.index = write_units_index(survey, segment, result, root)
    return result


def drop_stale_units(out: Path, wave_id: str) -> None:
    """Remove ``reports/units/<wave>/`` after the wave was run again without unit reports (its pages
    would show the old run's numbers beside the new wave report), and ``reports/units/`` itself with
    its index once no wave has unit pages left."""
    root = Path(out) / "reports" / "units"
    shutil.rmtree(root / wave_id, ignore_errors=True)
    if root.is_dir() and not any(p.is_dir() for p in root.iterdir()):
        shutil.rmtree(root, ignore_errors=True)


def write_units_index(survey: Survey, segment: str, result: UnitsResult, root: Path) -> Path:
    """``reports/units/index.html``: per wave, a link to every unit report and the groups skipped."""
    from . import report

    lang = survey.language

    def w(key: str, **fields: Any) -> str:
        return html.escape(report.word(key, lang, **fields))

    title = report.word("units.index_title", lang, survey=survey.title_text(), segment=segment)
    parts = [
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for wave_id, pages in result.pages.items():
        parts.append(f"<h2>{html.escape(wave_id)}</h2>\n<ul>")
        for group, path in pages.items():
            href = html.escape(f"{wave_id}/{path.name}", quote=True)
            parts.append(f'<li><a href="{href}">{html.escape(group)}</a></li>')
        parts.append("</ul>")
        skipped = result.skipped.get(wave_id) or []
        if skipped:
            names = ", ".join(skipped)
            parts.append(f'<p class="note">{w("units.skipped", min_cell=MIN_CELL, groups=names)}</p>')
    parts.append("</body>\n</html>\n")
    root.mkdir(parents=True, exist_ok=True)
    path = root / "index.html"
    tmp = root / f".index-{os.getpid()}.html"
    tmp.write_text("\n".join(parts), encoding="utf-8")
    os.replace(tmp, path)
    return path


__all__ = [
    "DRIVERS_MIN",
    "Tables",
    "Unit",
    "UnitsResult",
    "fan_out",
    "file_stem",
    "render",
    "unit_analysis",
    "unit_report",
    "unit_tasks",
    "write_unit_reports",
    "write_units_index",
]
