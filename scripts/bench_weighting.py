#!/usr/bin/env python
"""Benchmark: raking (svy) to three margins and the design-based means of 25 items.

Builds synthetic respondents (region x 4, channel x 3, type x 2, unequal sample shares), times
:func:`analysis.weighting.make_weights` (refusal checks, svy rake to 1e-10, the sweep count) and
:func:`analysis.weighting.design_means` (calibration-aware SEs of 25 items). Prints the figures;
nothing is asserted. The first call also pays svy's and polars' import and warm-up.

    python scripts/bench_weighting.py [--rows 2230 100000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from analysis.weighting import design_means, make_weights

MARGINS = {
    "region": {"A": 0.35, "B": 0.25, "C": 0.25, "D": 0.15},
    "channel": {"x": 0.45, "y": 0.40, "z": 0.15},
    "type": {"p": 0.6, "q": 0.4},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2230, 2230, 100_000])
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    for n in args.rows:
        data = pd.DataFrame(
            {
                "region": rng.choice(list("ABCD"), n, p=[0.4, 0.3, 0.2, 0.1]),
                "channel": rng.choice(list("xyz"), n, p=[0.5, 0.3, 0.2]),
                "type": rng.choice(list("pq"), n),
            }
        )
        items = pd.DataFrame(rng.integers(1, 8, (n, 25)).astype(float), columns=[f"q{i}" for i in range(25)])
        start = time.perf_counter()
        weights = make_weights(data, MARGINS)
        rake_s = time.perf_counter() - start
        start = time.perf_counter()
        design_means(items, list(items.columns), weights)
        means_s = time.perf_counter() - start
        d = weights.diagnostics()
        print(
            f"{n:>9} rows: make_weights {rake_s:6.2f} s ({d['iterations']} sweeps, max error {d['max_margin_error']:.1e},"
            f" efficiency {d['efficiency']:.1%}); design_means of 25 items {means_s:6.2f} s"
        )


if __name__ == "__main__":
    main()
