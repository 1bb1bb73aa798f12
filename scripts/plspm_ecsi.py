"""Fit and bootstrap the ECSI model on ``mobi`` with the PyPI ``plspm`` package (0.5.7).

Run this with a SEPARATE interpreter that has ``plspm`` and ``pandas<3``
(plspm breaks on pandas 3), e.g.::

    python3 -m venv /tmp/plsvenv && /tmp/plsvenv/bin/pip install plspm "pandas<3"
    /tmp/plsvenv/bin/python scripts/plspm_ecsi.py --data tests/data/ecsi-mobi/mobi.csv --n-boot 200

It prints one JSON object: the path estimates, the fit time and the bootstrap
time. ``scripts/bench_pls.py --plspm-python ...`` calls it for the side-by-side
benchmark. Informational only: plspm does not reproduce seminr's estimates and
its bootstrap is unseeded (``np.random.randint``), so its numbers are not
reproducible.
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
from plspm.config import MV, Config, Structure
from plspm.mode import Mode
from plspm.plspm import Plspm
from plspm.scheme import Scheme


def _config(blocks: dict[str, list[str]], paths: list[list[str]]) -> Config:
    structure = Structure()
    for source, target in paths:
        structure.add_path([source], [target])
    config = Config(structure.path(), scaled=True)
    for lv, items in blocks.items():
        config.add_lv(lv, Mode.A, *[MV(i) for i in items])
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True, help='JSON {"blocks": {...}, "paths": [[src, dst], ...]}')
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    data = pd.read_csv(args.data)
    model = json.loads(args.model)
    config = _config(model["blocks"], model["paths"])

    t0 = time.perf_counter()
    fit = Plspm(data, config, Scheme.PATH, iterations=300, tolerance=1e-7)
    fit_s = time.perf_counter() - t0
    coef = fit.path_coefficients()
    paths = {f"{s} -> {t}": float(coef.loc[t, s]) for s, t in model["paths"]}

    t0 = time.perf_counter()
    boot = Plspm(
        data,
        config,
        Scheme.PATH,
        iterations=300,
        tolerance=1e-7,
        bootstrap=True,
        bootstrap_iterations=args.n_boot,
        processes=args.processes,
    )
    boot_s = time.perf_counter() - t0 - fit_s  # the bootstrap run also refits once
    se = boot.bootstrap().paths()["std.error"]
    print(
        json.dumps(
            {
                "paths": paths,
                "fit_seconds": fit_s,
                "n_boot": args.n_boot,
                "boot_seconds": boot_s,
                "boot_se": {k: float(v) for k, v in se.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
