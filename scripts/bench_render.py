#!/usr/bin/env python
"""Benchmark: the whole demo program (3 waves, 5 notebooks each, tracking, index, HTML, PDF, Word), a no-op
re-run, and the PDF + Word files of one wave report on their own.

Targets (issue 6): rendering the three demo waves plus tracking and index in
under 60 s; a no-op re-run in under 5 s. Runs ``csat run`` in a temporary
copy of the demo inputs and prints the wall-clock times.

    python scripts/bench_render.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env={**os.environ, "CSAT_ID_KEY": "bench-key-0123456789"})
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "params", root / "params")
        shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
        csat = [sys.executable, "-m", "analysis.cli", "run", "--no-progress"]
        full = timed(csat, root)
        noop = timed(csat, root)
        reports = sorted(p.name for p in (root / "reports").glob("*.*") if p.suffix in (".html", ".pdf", ".docx"))
        documents = time_documents(root / "reports" / "notebooks" / "2025H2" / "05_report.ipynb", root)
    print(f"full run (3 waves x 5 notebooks, tracking, index; 5,000 PLS resamples per wave): {full:.1f} s")
    print(f"no-op re-run (every wave unchanged, skipped):                                   {noop:.1f} s")
    print(f"PDF + Word of one wave report (document model, Typst, pandoc; best of 3):       {documents:.1f} s")
    print("reports:", ", ".join(reports))


def time_documents(executed: Path, root: Path) -> float:
    """Best of three: the PDF and Word files of one executed wave report (analysis.typeset.write_documents)."""
    from analysis.typeset import write_documents

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        write_documents(executed, root / "bench.html", "bench", "zh")
        best = min(best, time.perf_counter() - t0)
    return best


if __name__ == "__main__":
    main()
