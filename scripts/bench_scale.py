#!/usr/bin/env python
"""Benchmark: a 100,000- and a 1,000,000-response wave through every stage, and the unit reports.

Builds large waves from the demo's first wave (``2025H1``): its rows resampled with
replacement to N, each answer jittered by one scale point with probability 0.2
(missing codes kept), unique respondent ids, customer numbers drawn from a pool of
N / 2, durations jittered. The project (survey, wave file, raw CSV, complaint log) is
built once under ``--root`` (default ``/tmp/csat-bench-scale``) and reused.

Then, per wave size:

* ``stages``: each standard notebook's code (01_clean ... 05_report) run in a fresh
  interpreter, as the kernel runs it: wall time and peak resident memory per stage;
* ``run``: the whole ``csat run --force`` (notebooks, HTML, tracking, index): wall time,
  peak resident memory of the largest process (``ru_maxrss`` of the children), and the
  size of the wave's HTML report;
* ``units`` (with ``--units N``): ``csat run --units unit`` on a segment of N groups
  (``unit`` = the respondent's customer number modulo N, added to the raw file) on a
  2-worker LocalCluster.

Nothing is asserted; the figures are printed (compare them with the targets of issue 12)::

    .venv/bin/python scripts/bench_scale.py --rows 100000
    .venv/bin/python scripts/bench_scale.py --rows 1000000 --what run
    .venv/bin/python scripts/bench_scale.py --rows 1000000 --what units --units 100

Note the machine's load (printed) when reading the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "params"
STAGES = ("01_clean", "02_descriptive", "03_inferential", "04_zones", "05_report")
KEY = "bench-scale-key-0123456789"


def build(root: Path, rows: int, units: int = 0, seed: int = 12) -> Path:
    """Write a project with one wave of ``rows`` responses under ``root``; return the survey path."""
    survey_path = root / "params" / "survey.yaml"
    marker = root / ".built"
    if marker.exists() and marker.read_text() == f"{rows}:{units}":
        return survey_path
    shutil.rmtree(root, ignore_errors=True)
    (root / "params" / "waves").mkdir(parents=True)
    (root / "data" / "raw").mkdir(parents=True)
    survey = yaml.safe_load((DEMO / "survey.yaml").read_text(encoding="utf-8"))
    if units:
        survey["segments"] = [*survey["segments"], "unit"]
    survey_path.write_text(yaml.safe_dump(survey, allow_unicode=True, sort_keys=False), encoding="utf-8")
    raw = pd.read_csv(REPO / "data" / "raw" / "2025H1.csv", encoding="utf-8-sig", dtype=str)
    rng = np.random.default_rng(seed)
    big = raw.iloc[rng.integers(0, len(raw), rows)].reset_index(drop=True)
    items = [i["id"] for i in survey["items"]]
    for col in items:
        codes = pd.to_numeric(big[col], errors="coerce")
        scale = survey["scales"][next(i["scale"] for i in survey["items"] if i["id"] == col)]
        ok = codes.between(scale["min"], scale["max"])
        jitter = np.where(rng.random(rows) < 0.2, rng.choice([-1, 1], rows), 0)
        new = np.clip(codes + jitter, scale["min"], scale["max"])
        big[col] = np.where(ok, new.fillna(0).astype(int).astype(str), big[col].fillna(""))
        big.loc[big[col] == "", col] = np.nan
    big["resp_id"] = [f"B{i:07d}" for i in range(1, rows + 1)]
    cust = rng.integers(1, max(rows // 2, 2), rows)
    big["cust_no"] = [f"C{c:07d}" for c in cust]
    dur = pd.to_numeric(big["duration_sec"], errors="coerce")
    big["duration_sec"] = (dur * rng.uniform(0.8, 1.25, rows)).round()
    if units:
        big["unit"] = [f"U{c % units:03d}" for c in cust]
    big.to_csv(root / "data" / "raw" / "big.csv", index=False, encoding="utf-8")
    shutil.copy(REPO / "data" / "raw" / "2025H1_complaints.csv", root / "data" / "raw" / "big_complaints.csv")
    wave = {
        "wave": "BIG",
        "raw": "../../data/raw/big.csv",
        "invited": int(rows * 1.3),
        "operations": "../../data/raw/big_complaints.csv",
        "customers": int(rows * 2),
    }
    (root / "params" / "waves" / "BIG.yaml").write_text(yaml.safe_dump(wave), encoding="utf-8")
    marker.write_text(f"{rows}:{units}")
    return survey_path


def notebook_code(name: str) -> str:
    """The code cells of a standard notebook (the parameters cell included)."""
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n".join(line for c in cells for line in c.splitlines() if not line.lstrip().startswith("%"))


STAGE_RUNNER = """
import json, resource, sys, time
from IPython.display import display as _d
import IPython.display
IPython.display.display = lambda *a, **k: None
code = open(sys.argv[1], encoding="utf-8").read()
t0 = time.perf_counter()
exec(compile(code, sys.argv[1], "exec"), {"__name__": "__main__"})
_u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": _u.ru_utime + _u.ru_stime,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_stages(root: Path, survey_path: Path) -> None:
    """Each notebook's code in a fresh interpreter, writing to DIR/data/processed/BIG."""
    wave_path = root / "params" / "waves" / "BIG.yaml"
    processed = root / "data" / "processed" / "BIG"
    processed.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CSAT_ID_KEY": KEY, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for name in STAGES:
        params = (
            f"survey_path = {str(survey_path)!r}\nwave_path = {str(wave_path)!r}\n"
            f"processed_dir = {str(processed)!r}\nbaseline_dir = ''\nout_root = {str(root)!r}\n"
        )
        code = notebook_code(name)
        script = root / f".{name}.py"
        # the notebook's parameters cell is replaced by ours: the code from its first import on
        body = code.split("\n")
        first_code = next(i for i, line in enumerate(body) if line.startswith("from "))
        script.write_text(params + "\n".join(body[first_code:]), encoding="utf-8")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", STAGE_RUNNER, str(script)], cwd=root, env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"  {name}: FAILED\n{proc.stderr[-3000:]}")
            return
        facts = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {name:16s} {wall:7.1f} s wall ({facts['wall']:.1f} s in code, {facts['cpu']:.1f} s CPU)   peak RSS {facts['rss_mb']:7.0f} MB")


def run_whole(root: Path, survey_path: Path, extra: list[str] | None = None) -> None:
    """The whole csat run --force; wall time, peak RSS of the largest process, HTML size."""
    env = {**os.environ, "CSAT_ID_KEY": KEY}
    cmd = [str(Path(sys.executable).parent / "csat"), "run", "--survey", str(survey_path), "--out", str(root)]
    cmd += ["--force", "--no-progress", *(extra or [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        print(f"  csat run FAILED ({wall:.0f} s):\n{proc.stderr[-3000:]}")
        return
    html = root / "reports" / "BIG.html"
    print(f"  csat run {' '.join(extra or [])}: {wall:.1f} s wall, peak RSS {rss:.0f} MB (largest process)")
    print(f"  reports/BIG.html: {html.stat().st_size / 1e6:.2f} MB")
    units = root / "reports" / "units" / "BIG"
    if units.is_dir():
        pages = [p for p in units.glob("*.html") if p.name != "index.html"]
        print(f"  unit reports: {len(pages)} in {units}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="wave size(s); default 100000 and 1000000")
    parser.add_argument("--what", choices=["build", "stages", "run", "both", "units"], default="both")
    parser.add_argument("--units", type=int, default=100, help="groups of the unit segment (--what units)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/csat-bench-scale"))
    args = parser.parse_args()
    for rows in args.rows or [100_000, 1_000_000]:
        units = args.units if args.what == "units" else 0
        root = args.root / f"{rows}{'-units' if units else ''}"
        t0 = time.perf_counter()
        survey_path = build(root, rows, units)
        size = (root / "data" / "raw" / "big.csv").stat().st_size / 1e6
        print(f"wave of {rows:,} responses ({size:.0f} MB CSV) ready in {time.perf_counter() - t0:.0f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if args.what in ("stages", "both"):
            run_stages(root, survey_path)
        if args.what in ("run", "both"):
            run_whole(root, survey_path)
        if args.what == "units":
            run_whole(root, survey_path, ["--units", "unit"])


if __name__ == "__main__":
    main()
