#!/usr/bin/env python
"""Benchmark: cleaning a 100,000-response, 40-item wave (target: under 10 s on a 2-core machine).

Builds a synthetic wave in a temporary folder (CSV with labels, missing codes,
out-of-range values, duplicates, speeders and straight-liners mixed in), then
times ``clean_wave`` (read + code + every rule + outliers) and writing its
outputs. Prints the figures; nothing is asserted.

    python scripts/bench_clean.py [--rows 100000] [--items 40]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.clean import clean_wave
from analysis.store import Store
from analysis.survey import load_survey, load_wave

LABELS = ["很不满意", "不满意", "不太满意", "一般", "较满意", "满意", "很满意"]


def build(root: Path, rows: int, items: int, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ids = [f"q{i:02d}" for i in range(1, items + 1)]
    constructs = [f"C{i // 5 + 1}" for i in range(items)]
    label_lines = "\n".join(f"      {k}: {v}" for k, v in enumerate(LABELS, start=1))
    item_lines = "\n".join(
        f"  - {{id: {q}, scale: sat7, construct: {c}}}" for q, c in zip(ids, constructs, strict=True)
    )
    (root / "survey.yaml").write_text(
        f"""respondent_id: rid
pii: [name]
segments: [region]
duration: dur
scales:
  sat7:
    min: 1
    max: 7
    labels:
{label_lines}
    missing: [-99, 不适用]
items:
{item_lines}
overall_satisfaction: q01
loyalty: [q02]
""",
        encoding="utf-8",
    )
    latent = rng.normal(size=(rows, 1))
    codes = np.clip(np.rint(5 + latent + rng.normal(scale=1.3, size=(rows, items))), 1, 7).astype(int)
    frame = pd.DataFrame(codes.astype(object), columns=ids)
    frame = frame.mask(rng.random((rows, items)) < 0.01, -99)
    as_label = rng.random((rows, items)) < 0.3
    labels = np.array(LABELS, dtype=object)[codes - 1]
    frame = frame.mask(as_label, pd.DataFrame(labels, columns=ids))
    frame.iloc[rng.integers(0, rows, 300), 3] = 9
    frame.insert(0, "rid", np.arange(1, rows + 1))
    frame.insert(1, "name", "x")
    frame.insert(2, "region", rng.choice(["华东", "华南", "华北", "西部"], rows))
    frame.insert(3, "dur", rng.integers(200, 900, rows))
    frame.loc[rng.integers(0, rows, 500), "dur"] = 30
    frame.loc[rng.integers(0, rows, 500), ids] = 4
    frame.loc[rows - 200 :, "rid"] = np.arange(1, 201)
    raw = root / "wave.csv"
    frame.to_csv(raw, index=False, encoding="utf-8")
    (root / "wave.yaml").write_text("wave: bench\nraw: wave.csv\n", encoding="utf-8")
    return root / "survey.yaml", root / "wave.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("CSAT_ID_KEY", "bench-key-0123456789")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        survey_path, wave_path = build(root, args.rows, args.items)
        size = (root / "wave.csv").stat().st_size / 1e6
        survey, wave = load_survey(survey_path), load_wave(wave_path)
        t0 = time.perf_counter()
        result = clean_wave(survey, wave, key_root=root)
        t1 = time.perf_counter()
        for name, table in result.tables().items():
            Store(root / "out").write(name, table)
        t2 = time.perf_counter()
    print(
        f"wave: {args.rows:,} rows x {args.items} items ({size:.1f} MB CSV, 30% labels, missing codes, dirt)"
    )
    print(f"clean_wave (read, code, rules, outliers): {t1 - t0:.2f} s")
    print(f"write outputs (parquet + 3 CSV):          {t2 - t1:.2f} s")
    print(f"total:                                    {t2 - t0:.2f} s  (target < 10 s)")
    print(f"kept {result.n_kept:,} of {result.n_raw:,}; value issues {len(result.value_issues):,}")
    print(result.attrition[["step", "removed", "remaining"]].to_string(index=False))


if __name__ == "__main__":
    main()
