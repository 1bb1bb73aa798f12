"""Benchmark :mod:`analysis.pls` on the full 7-construct ECSI model (mobi, 250 x 24).

Times one ``estimate_pls`` fit and a 5,000-resample ``bootstrap_model``; optionally runs
the PyPI ``plspm`` package (0.5.7) side by side in a separate interpreter::

    .venv/bin/python scripts/bench_pls.py
    .venv/bin/python scripts/bench_pls.py --plspm-python /tmp/plsvenv/bin/python --plspm-n-boot 200

plspm needs ``pandas<3``, hence the separate venv
(``python3 -m venv /tmp/plsvenv && /tmp/plsvenv/bin/pip install plspm "pandas<3"``).
Its bootstrap is slow, so it runs ``--plspm-n-boot`` resamples and the time for
5,000 is extrapolated linearly (a lower bound: plspm grows its result tables
with ``pd.concat`` inside the loop).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from analysis.pls import ECSI_BLOCKS, ECSI_PATHS, bootstrap_model, estimate_pls

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent / "tests" / "data" / "ecsi-mobi" / "mobi.csv"

BLOCKS = ECSI_BLOCKS
PATHS = ECSI_PATHS


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark PLS-PM on the ECSI mobi model.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="path to mobi.csv")
    parser.add_argument("--n-boot", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--plspm-python", help="python of a venv with plspm and pandas<3 (skipped if not given)"
    )
    parser.add_argument(
        "--plspm-n-boot", type=int, default=200, help="plspm resamples (extrapolated to --n-boot)"
    )
    args = parser.parse_args()

    data = pd.read_csv(args.data)
    print(f"data: {args.data} ({data.shape[0]} x {data.shape[1]})")

    t0 = time.perf_counter()
    fit = estimate_pls(data, BLOCKS, PATHS)
    fit_s = time.perf_counter() - t0
    print(f"analysis.pls.estimate_pls: {fit_s * 1000:.1f} ms ({fit.iterations} iterations, n = {fit.n})")

    t0 = time.perf_counter()
    boot = bootstrap_model(fit, n_boot=args.n_boot, seed=args.seed).paths
    boot_s = time.perf_counter() - t0
    print(f"analysis.pls.bootstrap_model: {args.n_boot} resamples in {boot_s:.2f} s")
    with pd.option_context("display.width", 140, "display.precision", 4):
        print(boot.to_string(index=False))

    if not args.plspm_python:
        print("plspm: skipped (give --plspm-python /tmp/plsvenv/bin/python to compare)")
        return
    cmd = [
        args.plspm_python,
        str(HERE / "plspm_ecsi.py"),
        "--data",
        str(args.data),
        "--n-boot",
        str(args.plspm_n_boot),
        "--model",
        json.dumps({"blocks": BLOCKS, "paths": [list(p) for p in PATHS]}),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"plspm run failed:\n{proc.stderr}", file=sys.stderr)
        sys.exit(1)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    per = res["boot_seconds"] / res["n_boot"]
    print(f"plspm 0.5.7: fit {res['fit_seconds'] * 1000:.1f} ms")
    print(
        f"plspm 0.5.7: {res['n_boot']} resamples in {res['boot_seconds']:.1f} s "
        f"-> {args.n_boot} extrapolated to >= {per * args.n_boot:.0f} s "
        f"({per * args.n_boot / boot_s:.0f}x slower)"
    )
    cmp = fit.paths.assign(path=fit.paths["source"] + " -> " + fit.paths["target"])[["path", "estimate"]]
    cmp["plspm"] = cmp["path"].map(res["paths"])
    cmp["diff"] = cmp["plspm"] - cmp["estimate"]
    print("path estimates, analysis.pls (seminr algorithm) vs plspm 0.5.7:")
    print(cmp.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
