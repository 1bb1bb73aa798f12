"""The cross-wave tracking report: every KPI and index over all waves.

:class:`Tracking` reads the tables each wave wrote (through :class:`~analysis.store.Store`) under
``data/processed/<wave>/`` and lines them up in wave order. Significance marks
come from each wave's own ``wave_change.csv`` (the test against its baseline
wave), so the tracking report and the wave reports never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import plotting, words
from .privacy import MIN_CELL
from .report import SHARE_METRICS, category_labels, empty_table, pct, provenance_display, type_name, word
from .store import Store
from .survey import Survey, Wave, load_survey, load_wave, order_waves, survey_waves


@dataclass
class Tracking:
    """All waves' processed tables, in wave order."""

    survey: Survey
    root: Path
    waves: list[str]
    wave_files: list[Wave]
    #: Waves whose tables are in another folder than ``root / <wave>`` (a run's staging).
    wave_dirs: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        survey_path: str | Path,
        processed_root: str | Path,
        waves: Sequence[str] = (),
        wave_paths: Sequence = (),
        wave_dirs: Mapping[str, str | Path] | None = None,
    ) -> Tracking:
        """The waves ``waves`` (ids, in order) that have results under ``processed_root``. Empty ``waves``: the
        waves of ``wave_paths``, or without those every wave file beside the survey definition
        (``<its folder>/waves/``), in baseline order; the wave files give the provenance. ``wave_dirs``
        (wave id -> folder) reads those waves from other folders: ``csat run`` points it at the waves it
        has just computed, before they are published."""
        survey = load_survey(survey_path)
        root = Path(processed_root)
        dirs = {str(k): Path(v) for k, v in (wave_dirs or {}).items()}
        files = [load_wave(p) for p in wave_paths] if wave_paths else []
        if not waves:
            files = order_waves(files) if files else survey_waves(survey_path)
            waves = [w.id for w in files]
        present = [w for w in waves if Store(dirs.get(w, root / w)).exists("headline")]
        return cls(survey=survey, root=root, waves=present, wave_files=files, wave_dirs=dirs)

    @property
    def language(self) -> str:
        return self.survey.language

    def title(self) -> str:
        """The report's title as plain text (the HTML ``<title>``, escaped by the template)."""
        return word("title.tracking", self.language, survey=self.survey.title_text())

    def title_markdown(self) -> str:
        """The report's title as a Markdown h1, the survey title escaped
        (:func:`analysis.words.escape_markdown`): never read as Markdown or HTML."""
        return "# " + word("title.tracking", self.language, survey=words.escape_markdown(self.survey.title_text()))

    def _read(self, wave: str, name: str) -> pd.DataFrame | None:
        return Store(self.wave_dirs.get(wave, self.root / wave)).get(name)

    # ------------------------------------------------------------------ tables
    def headline(self) -> pd.DataFrame:
        """Long table: wave, metric, value, ci_low, ci_high, p (against the wave's baseline), significant."""
        rows = []
        for w in self.waves:
            head = self._read(w, "headline")
            change = self._read(w, "wave_change")
            pmap = {}
            if change is not None:
                names = {"CSI": "csi", "satisfaction_rate": "satisfaction_rate", "NPS": "nps"}
                p_col = "p_adj" if "p_adj" in change.columns else "p"  # Holm over the wave's change table
                pmap = {names.get(m, m): p for m, p in zip(change["metric"], change[p_col], strict=True)}
            for r in head.itertuples(index=False):
                p = pmap.get(r.metric, np.nan)
                rows.append(
                    {
                        "wave": w,
                        "metric": r.metric,
                        "value": r.value,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "p": p,
                        "significant": bool(p < 0.05) if pd.notna(p) else False,
                    }
                )
        return pd.DataFrame(rows)

    def headline_trends(self) -> pd.DataFrame:
        """Headline measures by wave with 95% intervals; ▲/▼ marks a significant change against the baseline."""
        h = self.headline()
        if h.empty:
            return empty_table(self.language)
        out = {}
        for metric, grp in h.groupby("metric", sort=False):
            share = metric in SHARE_METRICS
            cells = {}
            prev = None
            for r in grp.itertuples(index=False):
                text = pct(r.value) if share else words.number(r.value, 1)
                if pd.notna(r.ci_low) and pd.notna(r.ci_high):
                    text += f" ({words.interval(r.ci_low, r.ci_high, 1, as_percent=share)})"
                if r.significant and prev is not None:
                    text += " ▲" if r.value > prev else " ▼"
                cells[r.wave] = text
                prev = r.value
            out[words.label_of("metric", metric, self.language)] = cells
        table = pd.DataFrame(out).T.reindex(columns=self.waves)
        table.index.name = word("column.metric", self.language)
        return table.reset_index()

    def construct_indices(self) -> pd.DataFrame:
        """construct, wave, index, ci_low, ci_high for every dimension and the CSI."""
        parts = []
        for w in self.waves:
            t = self._read(w, "csi_index")
            if t is not None:
                parts.append(t.assign(wave=w))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def segment_trends(self, min_n: int = MIN_CELL) -> pd.DataFrame:
        """Mean CSI per segment group and wave (groups below ``min_n`` answers suppressed), for reading:
        headings in the report language, CSI with one decimal."""
        wide = self.segment_means(min_n)
        if wide.empty:
            return empty_table(self.language)
        shown = wide.copy()
        shown.columns.name = None
        for w in self.waves:
            shown[w] = wide[w].map(lambda x: words.number(x, 1))
        return shown.rename(
            columns={
                "segment": word("column.segment", self.language),
                "group": word("column.group", self.language),
            }
        )

    def segment_means(self, min_n: int = MIN_CELL) -> pd.DataFrame:
        """Mean CSI per segment group and wave: columns ``segment``, ``group`` and one per wave
        (groups below ``min_n`` answers suppressed)."""
        rows = []
        for w in self.waves:
            scores = self._read(w, "respondent_scores")
            if scores is None:
                continue
            for seg in self.survey.segments:
                g = scores.groupby(seg, observed=True, sort=True)["CSI"].agg(["mean", "count"])
                for group, r in g.iterrows():
                    if r["count"] >= min_n:
                        rows.append(
                            {
                                "segment": seg,
                                "group": group,
                                "wave": w,
                                "csi": round(r["mean"], 1),
                                "n": int(r["count"]),
                            }
                        )
        long = pd.DataFrame(rows)
        if long.empty:
            return long
        wide = long.pivot_table(index=["segment", "group"], columns="wave", values="csi", sort=False)
        wide = wide.reindex(columns=self.waves).reset_index()
        order = []  # segments as in the survey, groups in the codebook's (else natural) order
        for seg in self.survey.segments:
            groups = wide.loc[wide["segment"] == seg, "group"]
            order += [(seg, g) for g in self.survey.segment(seg).sort_groups(groups, self.language)]
        keys = list(zip(wide["segment"], wide["group"], strict=True))
        return wide.iloc[[keys.index(k) for k in order]].reset_index(drop=True)

    def type_shares(self) -> pd.DataFrame:
        """Share of each customer type per wave."""
        parts = {}
        for w in self.waves:
            z = self._read(w, "zones")
            if z is not None:
                parts[w] = z.set_index("type")["share"]
        if not parts:
            return empty_table(self.language)
        table = pd.DataFrame(parts).reindex(columns=self.waves)
        shown = table.map(pct)
        names = [type_name(t, self.language) for t in table.index]
        shown.insert(0, word("column.type", self.language), names)
        return shown.reset_index(drop=True)

    def kpi_matrix_html(self) -> str:
        """KPI x wave table with met / not met badges (HTML, every cell escaped)."""
        from .kpis import format_kpi_value, format_target
        from .publish import escape_text

        lang = words.language_code(self.language)
        frames = {w: self._read(w, "kpis") for w in self.waves}
        frames = {w: f for w, f in frames.items() if f is not None}
        if not frames:
            return "<p></p>"
        order = list(dict.fromkeys(k for f in frames.values() for k in f["kpi"]))
        head = (
            f"<th>{escape_text(word('column.kpi', lang))}</th><th>{escape_text(word('column.target', lang))}"
        )
        head += "</th>" + "".join(f"<th>{escape_text(w)}</th>" for w in frames)
        rows = []
        for kpi in order:
            label, target, cells = kpi, "", []
            for f in frames.values():
                rec = f[f["kpi"] == kpi]
                if rec.empty:
                    cells.append("<td></td>")
                    continue
                rec = rec.iloc[0]
                label = rec[f"label_{lang}"]
                target = "" if pd.isna(rec["target"]) else format_target(str(rec["target"]), rec["unit"])
                cls = {"met": "kpi-met", "not met": "kpi-not-met"}.get(rec["status"], "kpi-no-target")
                cells.append(
                    f'<td><span class="kpi-status {cls}">{escape_text(format_kpi_value(rec["value"], rec["unit"]))}'
                    "</span></td>"
                )
            rows.append(
                f"<tr><td>{escape_text(label)}</td><td>{escape_text(target)}</td>{''.join(cells)}</tr>"
            )
        return f'<table class="csat-table kpi-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'

    def provenance(self) -> pd.DataFrame:
        from .publish import provenance

        return provenance_display(provenance(self.survey, self.wave_files), self.language)

    # ------------------------------------------------------------------ charts
    def weighted_waves(self) -> list[str]:
        """The waves whose estimates are weighted (they have a ``weighting.csv``)."""
        return [w for w in self.waves if self._read(w, "weighting") is not None]

    def _figure(self, ax: Any) -> Figure:
        """The finished chart; with weighted waves, the note ``weighting.tracking_note`` under it."""
        weighted = self.weighted_waves()
        if weighted:
            plotting.add_note(ax, word("weighting.tracking_note", self.language, waves=", ".join(weighted)))
        return plotting.figure_of(ax)

    def trend_chart(self) -> Figure:
        """CSI and dimension indices over waves, 95% intervals on the CSI."""
        t = self.construct_indices()
        names = {c: self.survey.construct_label(c) for c in t["construct"]} if len(t) else {}
        ax = plotting.plot_trend(
            t,
            waves=self.waves,
            highlight="CSI",
            ylabel=word("column.index", self.language),
            labels=names,
            title=word("title.index", self.language),
        )
        return self._figure(ax)

    def segment_chart(self) -> Figure:
        """CSI per segment group over waves, one panel per segment."""
        wide = self.segment_means()
        segs = list(self.survey.segments) or [word("text.no_segments", self.language)]
        panels = plotting.panels(len(segs), size=(4.2, 3.8), sharey=True)
        for k, (ax, seg) in enumerate(zip(panels, segs, strict=True)):
            sub = wide[wide["segment"] == seg] if len(wide) else wide
            plotting.plot_group_trends(
                sub, waves=self.waves, ylabel="CSI" if k == 0 else None, title=seg, ax=ax
            )
        return self._figure(panels[0])

    def type_chart(self) -> Figure:
        """Stacked bars of customer-type shares per wave."""
        parts = {}
        for w in self.waves:
            z = self._read(w, "zones")
            if z is not None:
                parts[w] = z.set_index("type")["share"]
        table = pd.DataFrame(parts).reindex(columns=self.waves).fillna(0)
        names = category_labels(self.language)
        return self._figure(plotting.plot_type_shares(table, ylabel="%", labels=names))
