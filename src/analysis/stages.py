"""One function per notebook stage: the notebooks call these and show what they return.

Each stage reads what earlier stages wrote under ``processed_dir`` and writes
its own tables there (CSV, UTF-8, atomically). Keeping this glue here, not in
the notebooks, means the notebooks, the CLI and the tests run the same code.

=========  =========================  ==========================================
notebook   function                   writes
=========  =========================  ==========================================
01_clean   :func:`run_clean`          clean.parquet, cleaning_log.csv,
                                      value_issues.csv, attrition.csv, summary.json
=========  =========================  ==========================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .clean import CleanResult, atomic_write, clean_wave, write_clean_outputs, write_csv
from .survey import Survey, Wave, load_survey, load_wave


@dataclass
class WaveContext:
    """Where a wave's stage reads and writes: the survey, the wave, and its folders."""

    survey: Survey
    wave: Wave
    processed: Path
    baseline: Path | None
    out_root: Path

    @classmethod
    def load(
        cls,
        survey_path: str | Path,
        wave_path: str | Path,
        processed_dir: str | Path = "",
        baseline_dir: str | Path = "",
        out_root: str | Path = ".",
    ) -> WaveContext:
        """Build the context from notebook parameters (empty processed_dir -> DIR/data/processed/<wave>)."""
        survey = load_survey(survey_path)
        wave = load_wave(wave_path)
        out = Path(out_root).resolve()
        processed = Path(processed_dir) if processed_dir else out / "data" / "processed" / wave.id
        processed.mkdir(parents=True, exist_ok=True)
        baseline = Path(baseline_dir) if baseline_dir else None
        if baseline is None and wave.baseline:
            candidate = out / "data" / "processed" / wave.baseline
            baseline = candidate if (candidate / "clean.parquet").exists() else None
        return cls(survey=survey, wave=wave, processed=processed, baseline=baseline, out_root=out)

    @property
    def language(self) -> str:
        return self.survey.language

    def clean(self) -> pd.DataFrame:
        """The cleaned responses of this wave."""
        return pd.read_parquet(self.processed / "clean.parquet")

    def baseline_clean(self) -> pd.DataFrame | None:
        """The cleaned responses of the baseline wave, or None."""
        if self.baseline is None:
            return None
        return pd.read_parquet(self.baseline / "clean.parquet")

    def read(self, name: str) -> pd.DataFrame:
        """A table written by an earlier stage (``name`` without .csv)."""
        return pd.read_csv(self.processed / f"{name}.csv")

    def read_baseline(self, name: str) -> pd.DataFrame | None:
        if self.baseline is None or not (self.baseline / f"{name}.csv").exists():
            return None
        return pd.read_csv(self.baseline / f"{name}.csv")

    def write(self, name: str, table: pd.DataFrame) -> Path:
        path = self.processed / f"{name}.csv"
        write_csv(table, path)
        return path

    def write_json(self, name: str, data: dict) -> Path:
        path = self.processed / f"{name}.json"
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
        return path

    def read_json(self, name: str, baseline: bool = False) -> dict:
        folder = self.baseline if baseline else self.processed
        if folder is None or not (folder / f"{name}.json").exists():
            return {}
        return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- 01 clean
def run_clean(ctx: WaveContext) -> CleanResult:
    """Clean the wave's raw export and write the cleaning outputs (see :mod:`analysis.clean`)."""
    result = clean_wave(ctx.survey, ctx.wave, key_root=ctx.out_root)
    write_clean_outputs(result, ctx.processed)
    ctx.write_json(
        "summary",
        {
            "wave": ctx.wave.id,
            "raw_file": ctx.wave.raw.name,
            "raw_rows": result.n_raw,
            "kept_rows": result.n_kept,
            "invited": ctx.wave.invited,
            "baseline": ctx.wave.baseline,
            "encoding": result.encoding,
            "separator": {",": "comma", ";": "semicolon", "\t": "tab"}.get(result.separator or ""),
            "speeder_cutoff_seconds": None
            if pd.isna(result.speeder_cutoff)
            else round(result.speeder_cutoff, 1),
            "value_issues": len(result.value_issues),
            "pii_columns_removed": len(result.pii_columns),
            "undeclared_columns_dropped": result.dropped_columns,
            "outliers_flagged": int(result.log["outlier"].sum()),
        },
    )
    return result
