"""Weighted PLS (non-integer raked weights) against an independent implementation in base R, live.

tests/data/wpls/wpls.R is a weighted PLS-PM written from the textbook algorithm (Lohmöller 1989 /
seminr's simplePLS) on the data with every moment weighted: it shares no code or shortcut with
:mod:`analysis.pls` (which iterates on the weighted correlation matrix). The data are the real ECSI
``mobi`` survey (complete, 250 rows) on the full ECSI model, weighted by raking to the two derived
segments of test_weighting_mobi (non-integer weights, 0.62 to 2.37). Paths, loadings and
outer weights must agree to 1e-6 (the issue asks 1e-4). The same R code with all weights 1 must
give our unweighted model (a sanity check of the R code itself).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.pls import ECSI_BLOCKS, ECSI_PATHS, estimate_pls
from analysis.weighting import make_weights
from test_weighting_mobi import MARGINS, mobi_segments

R_SCRIPT = Path(__file__).resolve().parent / "data" / "wpls" / "wpls.R"
MOBI = Path(__file__).resolve().parent / "data" / "ecsi-mobi" / "mobi.csv"
TOL = 1e-12


def _r_pls(tmp: Path, data: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    data.assign(w=w).to_csv(tmp / "data.csv", index=False)
    blocks = [{"construct": c, "item": i} for c, items in ECSI_BLOCKS.items() for i in items]
    pd.DataFrame(blocks).to_csv(tmp / "blocks.csv", index=False)
    pd.DataFrame(ECSI_PATHS, columns=["source", "target"]).to_csv(tmp / "paths.csv", index=False)
    subprocess.run(["Rscript", str(R_SCRIPT), str(tmp / "data.csv"), str(tmp / "blocks.csv"), str(tmp / "paths.csv"),
                    str(tmp / "out.csv"), str(TOL)], check=True, capture_output=True, timeout=120)
    return pd.read_csv(tmp / "out.csv")


def _ours(model) -> pd.DataFrame:
    s = model.summary()
    return pd.concat([
        s.paths.assign(parameter="path").rename(columns={"estimate": "value"}),
        s.loadings.assign(parameter="loading").rename(columns={"construct": "source", "item": "target",
                                                                "loading": "value"}),
        s.weights.assign(parameter="weight").rename(columns={"construct": "source", "item": "target",
                                                              "weight": "value"}),
    ])[["parameter", "source", "target", "value"]]


def _max_diff(ours: pd.DataFrame, ref: pd.DataFrame) -> pd.Series:
    merged = ours.merge(ref, on=["parameter", "source", "target"], suffixes=("", "_r"), validate="1:1")
    assert len(merged) == len(ref) == len(ours)
    return (merged["value"] - merged["value_r"]).abs().groupby(merged["parameter"]).max()


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(MOBI)


def test_weighted_pls_equals_independent_r_wpls(mobi: pd.DataFrame, tmp_path: Path) -> None:
    w = make_weights(mobi_segments(), MARGINS).weight.to_numpy()
    assert not np.allclose(w, np.round(w)) and w.std() > 0.1  # non-integer, really unequal
    ref = _r_pls(tmp_path, mobi, w)
    model = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, weights=w, tol=TOL, max_iter=1000)
    diff = _max_diff(_ours(model), ref)
    assert (diff <= 1e-6).all(), diff.to_dict()
    # the weights matter: the weighted paths differ from the unweighted ones well beyond the tolerance
    plain = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, tol=TOL, max_iter=1000).paths["estimate"]
    assert np.abs(model.paths["estimate"].to_numpy() - plain.to_numpy()).max() > 1e-3


def test_unweighted_pls_equals_the_r_code_with_unit_weights(mobi: pd.DataFrame, tmp_path: Path) -> None:
    ref = _r_pls(tmp_path, mobi, np.ones(len(mobi)))
    model = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, tol=TOL, max_iter=1000)
    diff = _max_diff(_ours(model), ref)
    assert (diff <= 1e-6).all(), diff.to_dict()
