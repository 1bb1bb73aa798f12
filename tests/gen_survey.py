"""Random valid survey definitions and their raw data, for the property-based tests (issue 11, point 8).

:func:`survey_cases` is a hypothesis strategy. Each example is a :class:`Case`: a survey definition (a
mapping written as ``params/survey.yaml``), one or two waves of raw rows (written as CSV under
``data/raw``), and for every raw row the code the respondent chose for each item (``None`` = no valid
answer), so that a test can check what the pipeline made of them against what was "answered".

What varies: 2- to 11-point scales starting at 0 or 1, labelled (per language or plain) or not; reverse
items; missing codes; answers written as codes, labels (either language), missing codes, blanks or (rarely)
unreadable values; every optional key absent or present (respondent and customer ids, duration, segments
with 1-30 groups, loyalty, recommend, paths, open-ended, targets, index weights, invited, baseline, pls);
an item skipped by design for part of the sample; duplicate rows; 2 to 60 rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import strategies as st

INVALID = object()  # an unreadable answer: not a code, label or missing code


@dataclass
class Case:
    """One generated survey: its definition, the waves' raw rows and the codes chosen in them."""

    survey: dict[str, Any]
    waves: list[dict[str, Any]]  # wave file contents (``raw`` is the CSV's file name)
    rows: list[list[dict[str, Any]]]  # per wave, the raw rows (column -> cell text)
    chosen: list[list[dict[str, int | None]]]  # per wave and raw row: item -> raw code chosen (None: none)
    notes: dict[str, Any] = field(default_factory=dict)

    def write(self, root: Path) -> tuple[Path, list[Path]]:
        """Write params/survey.yaml, params/waves/*.yaml and data/raw/*.csv under ``root``."""
        (root / "params" / "waves").mkdir(parents=True, exist_ok=True)
        (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
        survey_path = root / "params" / "survey.yaml"
        survey_path.write_text(
            yaml.safe_dump(self.survey, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        wave_paths = []
        for k, (wave, rows) in enumerate(zip(self.waves, self.rows, strict=True)):
            raw = root / "data" / "raw" / wave["raw"]
            columns = list(rows[0]) if rows else []
            with raw.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            spec = {**wave, "raw": f"../../data/raw/{wave['raw']}"}
            path = root / "params" / "waves" / f"w{k + 1}.yaml"
            path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
            wave_paths.append(path)
        return survey_path, wave_paths

    def label_of(self, item: str, code: int) -> str:
        """The label the report should show for raw answer ``code`` of ``item`` (the code without labels)."""
        scale = self.survey["scales"][self.item_scale(item)]
        text = scale.get("labels", {}).get(code)
        if text is None:
            return str(code)
        if isinstance(text, str):
            return text
        return text[self.survey.get("language", "en")]

    def item_scale(self, item: str) -> str:
        return next(i["scale"] for i in self.survey["items"] if i["id"] == item)

    @property
    def item_ids(self) -> list[str]:
        return [i["id"] for i in self.survey["items"]]


def _labels(k: int, lo: int, hi: int, plain: bool) -> dict[int, Any]:
    if plain:
        return {c: f"answer {k}.{c}" for c in range(lo, hi + 1)}
    return {c: {"en": f"level {k}.{c}", "zh": f"等级{k}之{c}"} for c in range(lo, hi + 1)}


@st.composite
def survey_cases(draw: st.DrawFn, max_rows: int = 60) -> Case:
    """A random valid survey with one or two waves (see the module docstring)."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    language = draw(st.sampled_from(["en", "zh"]))
    # ---- scales
    scales: dict[str, dict[str, Any]] = {}
    for k in range(draw(st.integers(1, 2))):
        lo = draw(st.sampled_from([0, 1]))
        hi = lo + draw(st.integers(2, 11)) - 1
        scale: dict[str, Any] = {"min": lo, "max": hi}
        labelled = draw(st.sampled_from(["none", "plain", "languages"]))
        if labelled != "none":
            scale["labels"] = _labels(k, lo, hi, labelled == "plain")
        missing = draw(st.sampled_from([None, [99], [-9, "N/A"], ["不适用", 98, -99]]))
        if missing:
            scale["missing"] = missing
        scales[f"s{k}"] = scale
    names = list(scales)
    # ---- constructs and items
    drivers = [f"D{k}" for k in range(draw(st.integers(1, 3)))]
    items: list[dict[str, Any]] = []

    def item(construct: str, reverse_ok: bool = True) -> str:
        iid = f"q{len(items) + 1}"
        spec: dict[str, Any] = {"id": iid, "scale": draw(st.sampled_from(names)), "construct": construct}
        if reverse_ok and draw(st.booleans()) and draw(st.booleans()):
            spec["reverse"] = True
        if draw(st.booleans()):
            spec["text"] = {"en": f"Question {iid}", "zh": f"问题{iid}"}
        items.append(spec)
        return iid

    for c in drivers:
        for _ in range(draw(st.integers(1, 3))):
            item(c)
    overall = item("Satisfaction", reverse_ok=False)
    if draw(st.booleans()):
        item("Satisfaction")
    loyalty = [item("Loyalty", reverse_ok=False) for _ in range(draw(st.integers(0, 2)))]
    survey: dict[str, Any] = {"title": {"en": "Generated survey", "zh": "生成的调查"}, "language": language}
    survey["scales"] = scales
    survey["items"] = items
    survey["overall_satisfaction"] = overall
    if loyalty:
        survey["loyalty"] = loyalty
    # ---- optional columns
    columns: list[str] = []
    if draw(st.booleans()):
        survey["respondent_id"] = "rid"
        columns.append("rid")
    if draw(st.booleans()):
        survey["customer_id"] = "cust"
        columns.append("cust")
    if draw(st.booleans()):
        survey["duration"] = "dur"
        columns.append("dur")
    segments = {f"seg{k}": draw(st.integers(1, 30)) for k in range(draw(st.integers(0, 2)))}
    if segments:
        survey["segments"] = list(segments)
    recommend = draw(st.booleans())
    if recommend:
        survey["recommend"] = "nps"
    if draw(st.booleans()):
        survey["open_ended"] = ["comment"]
    with_paths = draw(st.booleans())
    if with_paths:
        paths = [[c, "Satisfaction"] for c in drivers]
        if loyalty:
            paths.append(["Satisfaction", "Loyalty"])
        survey["paths"] = paths
        survey["pls"] = {"bootstrap": 100, "seed": 7}
    weights = draw(st.sampled_from(["default", "equal", "entropy", "ahp"] + (["pls"] if with_paths else [])))
    if weights == "ahp":
        n = len(drivers)
        survey["index"] = {
            "weights": "ahp",
            "ahp": {"labels": drivers, "matrix": [[1] * n for _ in range(n)]},
        }
    elif weights != "default":
        survey["index"] = {"weights": weights}
    if draw(st.booleans()):
        targets: dict[str, Any] = {"satisfaction_rate": {"min": 0.8}, "csi": 70}
        if recommend:
            targets["nps"] = {"min": 20}
        survey["targets"] = targets
    # ---- waves and rows
    n_waves = 2 if draw(st.integers(0, 3)) == 0 else 1
    skip = draw(st.sampled_from([None, *[i["id"] for i in items if i["construct"] in drivers]]))
    waves, all_rows, all_chosen = [], [], []
    for w in range(n_waves):
        n = draw(st.integers(2, max_rows))
        rows, chosen = _rows(rng, survey, columns, segments, n, skip, draw(st.booleans()))
        wave: dict[str, Any] = {"wave": f"v{w + 1}", "raw": f"v{w + 1}.csv"}
        if w:
            wave["baseline"] = "v1"
        if draw(st.booleans()):
            wave["invited"] = len(rows) + draw(st.integers(0, 50))
        waves.append(wave)
        all_rows.append(rows)
        all_chosen.append(chosen)
    return Case(survey, waves, all_rows, all_chosen, notes={"seed": seed, "skip": skip})


def _rows(
    rng: np.random.Generator,
    survey: dict[str, Any],
    columns: list[str],
    segments: dict[str, int],
    n: int,
    skip: str | None,
    dirt: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, int | None]]]:
    """``n`` raw rows (plus a duplicate, with ``dirt``) and the code chosen for every item of each."""
    scales, language = survey["scales"], survey.get("language", "en")
    latent = rng.normal(size=n)
    rows, chosen = [], []
    for r in range(n):
        row: dict[str, Any] = {}
        for col in columns:
            row[col] = {
                "rid": f"R{r + 1}",
                "cust": f"C{rng.integers(1, max(2, n))}",
                "dur": int(rng.integers(60, 900)),
            }[col]
        for seg, k in segments.items():
            row[seg] = f"g{rng.integers(1, k + 1)}"
        picks: dict[str, int | None] = {}
        asked = skip is None or rng.random() < 0.6  # a skip pattern: the item is asked of some only
        for spec in survey["items"]:
            sc = scales[spec["scale"]]
            lo, hi = sc["min"], sc["max"]
            z = latent[r] * (-1 if spec.get("reverse") else 1) + rng.normal(scale=0.8)
            code = int(np.clip(np.round(lo + (hi - lo) * (0.5 + 0.25 * z)), lo, hi))
            cell, pick = _cell(rng, sc, code, language, dirt and n >= 20)
            if spec["id"] == skip and not asked:
                cell, pick = "", None
            row[spec["id"]] = cell
            picks[spec["id"]] = pick
        if survey.get("recommend"):
            row["nps"] = "" if rng.random() < 0.1 else str(int(np.clip(np.round(7 + 2 * latent[r]), 0, 10)))
        if survey.get("open_ended"):
            row["comment"] = "" if rng.random() < 0.5 else f"comment {r}"
        rows.append(row)
        chosen.append(picks)
    if dirt and n >= 3:  # a re-submission of the first row
        rows.append(dict(rows[0], **({"rid": f"R{n + 1}"} if "rid" in columns else {})))
        chosen.append(dict(chosen[0]))
    return rows, chosen


def _cell(
    rng: np.random.Generator, scale: dict[str, Any], code: int, language: str, unreadable: bool
) -> tuple[str, int | None]:
    """How the raw export writes answer ``code``: as the code, a label, a missing code, blank or junk."""
    u = rng.random()
    missing = scale.get("missing") or []
    if u < 0.05:
        return "", None
    if u < 0.1 and missing:
        return str(missing[int(rng.integers(len(missing)))]), None
    if u < 0.115 and unreadable:
        return "??", None
    labels = scale.get("labels")
    if labels and u < 0.55:
        text = labels[code]
        if isinstance(text, dict):
            text = text[language if rng.random() < 0.7 else ("zh" if language == "en" else "en")]
        return str(text), code
    return str(code), code
