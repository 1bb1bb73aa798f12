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
* ``hogs``: the demo wave's inferential steps alone and beside two ``while 1: pass`` processes;
* ``units`` (``--units N``, default 100): after a run of the wave, N unit reports on a
  2-worker LocalCluster (:func:`analysis.units.write_unit_reports`), the units a segment
  ``unit`` added to the processed wave (the hashed customer id modulo N).

Nothing is asserted; the figures are printed (compare them with the targets of issue 12)::

    .venv/bin/python scripts/bench_scale.py --rows 100000
    .venv/bin/python scripts/bench_scale.py --rows 1000000 --what run
    .venv/bin/python scripts/bench_scale.py --rows 1000000 --what units --units 100
    .venv/bin/python scripts/bench_scale.py --what hogs     # beside two CPU-bound processes

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
    timings = root / "timings.jsonl"
    timings.unlink(missing_ok=True)
    env = {**os.environ, "CSAT_ID_KEY": KEY, "CSAT_TIMINGS": str(timings)}
    cmd = [str(Path(sys.executable).parent / "csat"), "run", "--survey", str(survey_path), "--out", str(root)]
    cmd += ["--force", "--no-progress", *(extra or [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        print(f"  csat run FAILED ({wall:.0f} s):\n{proc.stderr[-3000:]}")
        return
    html = root / "reports" / "BIG.html"
    print(f"  csat run {' '.join(extra or [])}: {wall:.1f} s wall, {cpu:.1f} s CPU (all processes so far), "
          f"peak RSS {rss:.0f} MB (largest process)")
    steps = [json.loads(line) for line in timings.read_text(encoding="utf-8").splitlines()] if timings.exists() else []
    for step in steps:  # the runner's CSAT_TIMINGS log (the preflight runs beside the first notebooks)
        print(f"    {step['wave']:8s} {step['step']:16s} {step['seconds']:7.1f} s")
    print(f"  reports/BIG.html: {html.stat().st_size / 1e6:.2f} MB")
    units = root / "reports" / "units" / "BIG"
    if units.is_dir():
        pages = [p for p in units.glob("*.html") if p.name != "index.html"]
        print(f"  unit reports: {len(pages)} in {units}")


INFERENTIAL = """
import sys, time, tempfile
from analysis import WaveAnalysis
out = tempfile.mkdtemp()
wa = WaveAnalysis.load(sys.argv[1], sys.argv[2], out_root=out)
wa.clean(); wa.index(); wa.headline()
t0 = time.perf_counter()
wa.groups(); wa.drivers(); wa.model()
print(time.perf_counter() - t0)
"""


def run_hogs(repeats: int = 2) -> None:
    """The inferential steps of the demo's first wave, alone and beside two CPU hogs
    (``python -c "while 1: pass"``, started here and stopped by their process ids)."""
    env = {**os.environ, "CSAT_ID_KEY": KEY}
    env.pop("OPENBLAS_NUM_THREADS", None)  # the code itself must limit the pools
    env.pop("OMP_NUM_THREADS", None)
    args = [sys.executable, "-c", INFERENTIAL, str(DEMO / "survey.yaml"), str(DEMO / "waves" / "2025H1.yaml")]

    def once() -> float:
        out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    for _ in range(repeats):
        alone = once()
        hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(2)]
        try:
            busy = once()
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
        print(f"  demo 2025H1 groups+drivers+model: {alone:.1f} s alone, {busy:.1f} s beside two hogs "
              f"({busy / alone:.2f}x); load average {os.getloadavg()[0]:.1f}")


UNITS = """
import sys, time
from pathlib import Path
import pandas as pd, yaml
from analysis.survey import load_survey, load_wave
from analysis.units import write_unit_reports
root, n_units = Path(sys.argv[1]), int(sys.argv[2])
clean_path = root / "data" / "processed" / "BIG" / "clean.parquet"
clean = pd.read_parquet(clean_path)
if "unit" not in clean.columns:  # a unit segment of n_units groups (from the hashed customer id)
    clean["unit"] = ["U%03d" % (int(h[1:9], 16) % n_units) if isinstance(h, str) else None for h in clean["cust_no"]]
    clean.to_parquet(clean_path)
spec = yaml.safe_load((root / "params" / "survey.yaml").read_text(encoding="utf-8"))
spec["segments"] = [*spec["segments"], "unit"]
(root / "params" / "survey_units.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
survey = load_survey(root / "params" / "survey_units.yaml")
wave = load_wave(root / "params" / "waves" / "BIG.yaml")
t0 = time.perf_counter()
done = write_unit_reports(survey, [wave], "unit", root, workers=2)
print(time.perf_counter() - t0, len(done.pages["BIG"]), len(done.skipped["BIG"]))
"""


def run_units(root: Path, n_units: int) -> None:
    """``n_units`` unit reports of the processed wave under ``root`` on a 2-worker LocalCluster."""
    env = {**os.environ, "CSAT_ID_KEY": KEY}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", UNITS, str(root), str(n_units)], env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        print(f"  units FAILED:\n{proc.stderr[-3000:]}")
        return
    seconds, pages, skipped = proc.stdout.strip().splitlines()[-1].split()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    print(f"  {pages} unit reports ({skipped} skipped) on a 2-worker LocalCluster: {float(seconds):.1f} s "
          f"({time.perf_counter() - t0:.1f} s with start-up; {cpu:.1f} s CPU of all processes so far), "
          f"peak RSS {rss:.0f} MB (largest process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="wave size(s); default 100000 and 1000000")
    parser.add_argument("--what", choices=["build", "stages", "run", "both", "units", "hogs"], default="both")
    parser.add_argument("--units", type=int, default=100, help="groups of the unit segment (--what units)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/csat-bench-scale"))
    args = parser.parse_args()
    if args.what == "hogs":
        run_hogs()
        return
    for rows in args.rows or [100_000, 1_000_000]:
        root = args.root / f"{rows}"
        t0 = time.perf_counter()
        survey_path = build(root, rows)
        size = (root / "data" / "raw" / "big.csv").stat().st_size / 1e6
        print(f"wave of {rows:,} responses ({size:.0f} MB CSV) ready in {time.perf_counter() - t0:.0f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if args.what in ("stages", "both"):
            run_stages(root, survey_path)
        if args.what in ("run", "both"):
            run_whole(root, survey_path)
        if args.what == "units":
            if not (root / "data" / "processed" / "BIG" / "headline.csv").exists():
                run_whole(root, survey_path)
            run_units(root, args.units)


if __name__ == "__main__":
    main()
