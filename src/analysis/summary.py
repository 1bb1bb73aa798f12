"""The one-page summary that opens every wave report (HTML, PDF and Word alike).

Three blocks, from the tables the run wrote (through ``wa.read``):

* :func:`headline_table`: CSI, satisfaction rate and NPS with their change
  against the baseline wave, its 95% interval, p and whether it is significant
  (``wave_change.csv``); without a baseline, the level with its interval;
* :func:`targets_text`: which targets were met and which were not
  (``kpis.csv``, in the order of the KPI table);
* :func:`actions_text`: the top three actions, the three items of highest
  priority (``priorities.csv``), each with what its IPA quadrant says to do.

:func:`notes_text` adds the sample size and the segments whose CSI moved
significantly. Every word comes from the language files (``summary_page.*``);
labels from input files are escaped for Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from . import words
from .report import SHARE_METRICS, label, segment_alerts, word

if TYPE_CHECKING:
    from .wave import WaveAnalysis

#: The headline metrics of the summary: headline.csv name -> wave_change.csv name.
HEADLINE = {"csi": "CSI", "satisfaction_rate": "satisfaction_rate", "nps": "NPS"}
#: ipa.csv quadrant -> the ``summary_page.advice_*`` key of what to do about an item in it.
ADVICE = {
    "Concentrate here": "advice_concentrate",
    "Keep up the good work": "advice_keep",
    "Low priority": "advice_low",
    "Possible overkill": "advice_overkill",
}


def _value(metric: str, x: float, signed: bool = False) -> str:
    """A headline number: a share in percent (its change in percentage points), the others with one decimal."""
    if metric in SHARE_METRICS:
        return words.signed(x * 100, 1) if signed else words.percent(x)
    return words.signed(x, 1) if signed else words.number(x, 1)


def headline_table(wa: WaveAnalysis) -> pd.DataFrame:
    """CSI, satisfaction rate and NPS: value, change against the baseline, its interval, p, p (Holm), significant
    (by the Holm-adjusted p of wave_change.csv).

    Input: the wave (``headline``, ``wave_change`` when the wave has a baseline). Output: a table of text,
    one row per headline metric present; without a baseline the columns are metric, value, 95% interval.
    """
    lang = wa.language
    head = wa.read("headline").set_index("metric")
    change = wa.read("wave_change").set_index("metric") if wa.has("wave_change") else None
    rows = []
    for metric, changed in HEADLINE.items():
        if metric not in head.index:
            continue
        h = head.loc[metric]
        share = metric in SHARE_METRICS
        row = {
            word("column.metric", lang): label(wa, metric),
            word("column.value", lang): _value(metric, h["value"]),
        }
        if change is None:
            row[word("column.ci", lang)] = words.interval(h["ci_low"], h["ci_high"], 1, as_percent=share)
        elif changed in change.index:
            c = change.loc[changed]
            k = 100.0 if share else 1.0
            row[word("summary_page.change", lang, baseline=wa.wave.baseline)] = _value(metric, c["diff"], True)
            row[word("column.ci", lang)] = words.interval(c["ci_low"] * k, c["ci_high"] * k, 1)
            p_adj = c["p_adj"] if "p_adj" in c.index else c["p"]  # Holm over the change table (issue 11)
            row[word("column.p", lang)] = words.p_value(c["p"])
            row[word("column.p_adj", lang)] = words.p_value(p_adj)
            row[word("column.significant", lang)] = (
                "" if pd.isna(p_adj) else word("answer.yes" if p_adj < 0.05 else "answer.no", lang)
            )
        rows.append(row)
    return pd.DataFrame(rows)


def targets(wa: WaveAnalysis) -> tuple[list[str], list[str]]:
    """The KPIs met and not met (their labels in the report language), in KPI-table order."""
    k = wa.read("kpis")
    lang = words.language_code(wa.language)
    col = f"label_{lang}" if f"label_{lang}" in k.columns else "kpi"
    names = k[col].where(k[col].notna(), k["kpi"]).astype(str)
    return names[k["status"] == "met"].tolist(), names[k["status"] == "not met"].tolist()


def targets_text(wa: WaveAnalysis) -> str:
    """Markdown: which targets were met (``n of m``) and which were not; a sentence when none are set."""
    lang = wa.language
    met, missed = targets(wa)
    total = len(met) + len(missed)
    if total == 0:
        return word("summary_page.no_targets", lang)
    esc = words.escape_markdown
    none = word("summary_page.none", lang)
    lines = [
        "- " + word("summary_page.targets_met", lang, met=len(met), total=total,
                    items=words.join([esc(x) for x in met], lang) if met else none),
        "- " + word("summary_page.targets_not_met", lang, n=len(missed),
                    items=words.join([esc(x) for x in missed], lang) if missed else none),
    ]
    return "\n".join(lines)


def top_actions(wa: WaveAnalysis, top: int = 3) -> list[tuple[str, str, float]]:
    """The ``top`` items of highest priority: (label, ipa quadrant, performance 0-100)."""
    p = wa.read("priorities").head(top)
    quadrant = wa.read("ipa").set_index("item")["quadrant"] if wa.has("ipa") else pd.Series(dtype=object)
    return [
        (str(r.label), str(quadrant.get(r.item, "")), float(r.performance))
        for r in p.itertuples(index=False)
    ]


def actions_text(wa: WaveAnalysis, top: int = 3) -> str:
    """Markdown: a heading line and the top three actions, numbered, each with its advice."""
    lang = wa.language
    lines = [f"**{word('summary_page.actions_title', lang)}**", ""]
    actions = top_actions(wa, top)
    if not actions:
        return "\n".join([*lines, word("summary_page.no_actions", lang)])
    for k, (item, quadrant, performance) in enumerate(actions, start=1):
        advice = word(f"summary_page.{ADVICE.get(quadrant, 'advice_low')}", lang)
        lines.append(
            f"{k}. "
            + word(
                "summary_page.action",
                lang,
                item=words.escape_markdown(item),
                advice=advice,
                performance=words.number(performance, 1),
            )
        )
    return "\n".join(lines)


def notes_text(wa: WaveAnalysis) -> str:
    """Markdown: the valid responses, then the segments whose CSI changed significantly."""
    f = wa.facts()
    lang = wa.language
    lines = ["- " + word("summary.responses", lang, n=f["n"], raw=f["raw"], sample_section=word("section.sample", lang))]
    lines += [f"- {x}" for x in segment_alerts(wa)]
    return "\n".join(lines)


__all__ = ["headline_table", "targets", "targets_text", "top_actions", "actions_text", "notes_text"]
