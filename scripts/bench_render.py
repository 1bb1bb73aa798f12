#!/usr/bin/env python
"""Benchmark: the whole demo program (3 waves, 5 notebooks each, tracking, index, HTML) and a no-op re-run.

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
        reports = sorted(p.name for p in (root / "reports").glob("*.html"))
    print(f"full run (3 waves x 5 notebooks, tracking, index; 5,000 PLS resamples per wave): {full:.1f} s")
    print(f"no-op re-run (every wave unchanged, skipped):                                   {noop:.1f} s")
    print("reports:", ", ".join(reports))


if __name__ == "__main__":
    main()
