"""analysis.pls against an independent implementation: seminr 0.2.1 from PyPI.

``seminr`` (https://github.com/sem-in-r/seminr-py, GPL-3.0-only) is a Python port of the R package
seminr (Ray, Danks & Calero Valdez), checked by its authors against R-generated fixtures on the same
``mobi`` data to 1e-5. It is a test dependency only (the ``test`` extra); ``src/`` never imports it.

Both models are specified here from the ECSI mobi README (tests/data/ecsi-mobi/README.md), the
seminr way (``constructs(composite(...))``, ``relationships(paths(...))``), independently of the
constants in :mod:`analysis.pls`; ``test_ecsi_constants_are_the_seminr_model`` then checks those
constants against this specification. Mode A composites, standardised indicators, the same
stopping rule (1e-7 on the outer weights, at most 300 iterations). Measured agreement is about
1e-15; the tolerance below is 1e-10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import seminr
from seminr import (
    bootstrap_model,
    composite,
    constructs,
    estimate_pls,
    htmt,
    mean_replacement,
    multi_items,
    path_factorial,
    path_weighting,
    paths,
    relationships,
    reliability_table,
    rhoC_AVE,
    single_item,
)

from analysis import pls as ours_pls
from analysis.pls import ECSI_BLOCKS, ECSI_PATHS
from conftest import MOBI

TOL = 1e-10
SCHEMES = {"path": path_weighting, "factorial": path_factorial}

#: The small model of the README's published values: Image, Expectation, Value -> Satisfaction.
SMALL_MM = constructs(
    composite("Image", multi_items("IMAG", range(1, 6))),
    composite("Expectation", multi_items("CUEX", range(1, 4))),
    composite("Value", multi_items("PERV", range(1, 3))),
    composite("Satisfaction", multi_items("CUSA", range(1, 4))),
)
SMALL_SM = relationships(paths(["Image", "Expectation", "Value"], "Satisfaction"))

#: The full 7-construct ECSI model (Tenenhaus et al. 2005; seminr's mobi example).
ECSI_MM = constructs(
    composite("Image", multi_items("IMAG", range(1, 6))),
    composite("Expectation", multi_items("CUEX", range(1, 4))),
    composite("Quality", multi_items("PERQ", range(1, 8))),
    composite("Value", multi_items("PERV", range(1, 3))),
    composite("Satisfaction", multi_items("CUSA", range(1, 4))),
    composite("Complaints", single_item("CUSCO")),
    composite("Loyalty", multi_items("CUSL", range(1, 4))),
)
ECSI_SM = relationships(
    paths("Image", ["Expectation", "Satisfaction", "Loyalty"]),
    paths("Expectation", ["Quality", "Value", "Satisfaction"]),
    paths("Quality", ["Value", "Satisfaction"]),
    paths("Value", "Satisfaction"),
    paths("Satisfaction", ["Complaints", "Loyalty"]),
    paths("Complaints", "Loyalty"),
)
MODELS = {"small": (SMALL_MM, SMALL_SM), "ecsi": (ECSI_MM, ECSI_SM)}


def blocks_of(mm: list) -> dict[str, list[str]]:
    """analysis.pls blocks from a seminr measurement model."""
    return {spec.name: list(spec.items) for spec in mm}


def paths_of(sm: list) -> list[tuple[str, str]]:
    """analysis.pls paths from a seminr structural model."""
    return [(row.source, row.target) for row in sm]


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(MOBI)


def fit_both(data: pd.DataFrame, model: str, scheme: str, missing: str = "listwise"):
    mm, sm = MODELS[model]
    ours = ours_pls.estimate_pls(data, blocks_of(mm), paths_of(sm), scheme=scheme, missing=missing)
    kwargs = {"missing": mean_replacement} if missing == "mean" else {}
    theirs = estimate_pls(data, mm, sm, inner_weights=SCHEMES[scheme], **kwargs)
    return ours, theirs


def test_seminr_is_the_pinned_independent_release() -> None:
    from importlib.metadata import metadata, version

    assert version("seminr") == "0.2.1"
    assert metadata("seminr")["License-Expression"] == "GPL-3.0-only"
    assert seminr.estimate_pls is estimate_pls


def test_the_in_repo_mobi_is_seminrs_mobi(mobi: pd.DataFrame) -> None:
    from seminr.datasets import load_mobi

    theirs = load_mobi()
    assert tuple(mobi.columns) == theirs.columns
    np.testing.assert_array_equal(mobi.to_numpy(dtype=float), theirs.values)


def test_ecsi_constants_are_the_seminr_model() -> None:
    assert blocks_of(ECSI_MM) == ECSI_BLOCKS
    assert sorted(ECSI_PATHS) == sorted(paths_of(ECSI_SM))


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("model", list(MODELS))
def test_path_coefficients_and_r2(mobi: pd.DataFrame, model: str, scheme: str) -> None:
    ours, theirs = fit_both(mobi, model, scheme)
    assert len(ours.paths) == len(MODELS[model][1])
    for row in ours.paths.itertuples(index=False):
        assert row.estimate == pytest.approx(theirs.path_coef.get(row.source, row.target), abs=TOL)
    for row in ours.r2.itertuples(index=False):
        assert row.r2 == pytest.approx(theirs.r_squared.get("Rsq", row.construct), abs=TOL)
        assert row.r2_adj == pytest.approx(theirs.r_squared.get("AdjRsq", row.construct), abs=TOL)
    assert set(ours.r2["construct"]) == set(theirs.r_squared.cols)


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("model", list(MODELS))
def test_loadings_weights_and_scores(mobi: pd.DataFrame, model: str, scheme: str) -> None:
    ours, theirs = fit_both(mobi, model, scheme)
    n_items = sum(len(spec.items) for spec in MODELS[model][0])
    assert len(ours.loadings) == len(ours.weights) == n_items
    for row in ours.loadings.itertuples(index=False):
        assert row.loading == pytest.approx(theirs.outer_loadings.get(row.item, row.construct), abs=TOL)
    for row in ours.weights.itertuples(index=False):
        assert row.weight == pytest.approx(theirs.outer_weights.get(row.item, row.construct), abs=TOL)
    scores = theirs.construct_scores
    for construct in ours.scores.columns:
        np.testing.assert_allclose(ours.scores[construct], scores.column(construct), atol=TOL)


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("model", list(MODELS))
def test_reliability_rho_c_ave_rho_a_alpha(mobi: pd.DataFrame, model: str, scheme: str) -> None:
    ours, theirs = fit_both(mobi, model, scheme)
    rel = ours.reliability.set_index("construct")
    rc_ave = rhoC_AVE(theirs)
    table = reliability_table(theirs)  # seminr's alpha is on standardised items
    assert set(rel.index) == set(rc_ave.rows)
    for construct in rc_ave.rows:
        assert rel.loc[construct, "rho_c"] == pytest.approx(rc_ave.get(construct, "rhoC"), abs=TOL)
        assert rel.loc[construct, "ave"] == pytest.approx(rc_ave.get(construct, "AVE"), abs=TOL)
        assert rel.loc[construct, "rho_a"] == pytest.approx(table.get(construct, "rhoA"), abs=TOL)
        assert rel.loc[construct, "alpha_std"] == pytest.approx(table.get(construct, "alpha"), abs=TOL)


def test_htmt_and_total_effects(mobi: pd.DataFrame) -> None:
    """HTMT (Henseler, Ringle & Sarstedt 2015) equals seminr's for every construct pair. Both average
    absolute item correlations. On mobi this matters for Quality-Loyalty only (PERQ/CUSL2 correlate
    at -0.128): 0.7593 on absolute correlations, as seminr; the signed formula gave 0.7235, which is
    also written out here to show that the pair tells the two definitions apart."""
    ours, theirs = fit_both(mobi, "ecsi", "path")
    ratio = htmt(theirs)  # seminr: upper triangle in construct order, NaN elsewhere
    names = list(ratio.rows)
    blocks = blocks_of(ECSI_MM)
    corr = mobi.corr()
    assert sorted(ours.htmt.index) == sorted(ours.htmt.columns) == sorted(names)
    mixed_sign = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert ours.htmt.loc[a, b] == pytest.approx(ratio.get(a, b), abs=TOL), (a, b)
            assert ours.htmt.loc[a, b] == pytest.approx(ours.htmt.loc[b, a], abs=TOL)
            items = blocks[a] + blocks[b]
            if (corr.loc[items, items].to_numpy() < 0).any():
                mixed_sign.append((a, b))
    assert mixed_sign == [("Quality", "Loyalty")]

    def mono(c: str) -> float:
        k = len(blocks[c])
        r = corr.loc[blocks[c], blocks[c]].to_numpy()
        return 1.0 if k == 1 else float(r[np.triu_indices(k, 1)].mean())

    signed = corr.loc[blocks["Quality"], blocks["Loyalty"]].to_numpy().mean() / np.sqrt(
        mono("Quality") * mono("Loyalty")
    )
    assert signed == pytest.approx(0.7235, abs=1e-4)
    assert ours.htmt.loc["Quality", "Loyalty"] == pytest.approx(0.7593, abs=1e-4)
    total = seminr.total_effects(theirs.path_coef)
    for row in ours.total_effects.itertuples(index=False):
        assert row.total == pytest.approx(total.get(row.source, row.target), abs=TOL), row
        assert row.direct == pytest.approx(theirs.path_coef.get(row.source, row.target), abs=TOL), row
    assert len(ours.total_effects) == int((np.abs(total.values) > 0).sum())


def test_mean_replacement_of_missing_answers(mobi: pd.DataFrame) -> None:
    rng = np.random.default_rng(7)
    holes = mobi.astype(float).copy()
    for col in ["IMAG2", "CUEX1", "PERQ4", "PERV2", "CUSA3", "CUSL2"]:
        holes.loc[rng.choice(len(holes), 12, replace=False), col] = np.nan
    ours, theirs = fit_both(holes, "ecsi", "path", missing="mean")
    assert ours.n == 250
    for row in ours.paths.itertuples(index=False):
        assert row.estimate == pytest.approx(theirs.path_coef.get(row.source, row.target), abs=TOL)
    for row in ours.loadings.itertuples(index=False):
        assert row.loading == pytest.approx(theirs.outer_loadings.get(row.item, row.construct), abs=TOL)


def test_bootstrap_on_the_same_resamples(mobi: pd.DataFrame) -> None:
    """seminr's bootstrap fed the resamples analysis.pls draws (``default_rng(seed).integers(0, n,
    (n_boot, n))``): the replicate means and standard deviations of the paths and loadings agree."""
    n_boot, seed = 100, 11
    ours = ours_pls.bootstrap_model(ours_pls.estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS), n_boot=n_boot, seed=seed)
    theirs_model = estimate_pls(mobi, ECSI_MM, ECSI_SM)
    indices = np.random.default_rng(seed).integers(0, len(mobi), size=(n_boot, len(mobi)))
    theirs = bootstrap_model(theirs_model, n_boot, indices=indices)
    assert theirs.fails == 0 and len(theirs.boot_paths) == n_boot
    boot_paths = np.stack([m.values for m in theirs.boot_paths])
    rows, cols = theirs.boot_paths[0].rows, theirs.boot_paths[0].cols
    for row in ours.paths.itertuples(index=False):
        reps = boot_paths[:, rows.index(row.source), cols.index(row.target)]
        assert row.boot_mean == pytest.approx(reps.mean(), abs=1e-8)
        assert row.se == pytest.approx(reps.std(ddof=1), abs=1e-8)
        assert row.ci_low == pytest.approx(np.quantile(reps, 0.025), abs=1e-8)
        assert row.ci_high == pytest.approx(np.quantile(reps, 0.975), abs=1e-8)
    boot_load = np.stack([m.values for m in theirs.boot_loadings])
    rows, cols = theirs.boot_loadings[0].rows, theirs.boot_loadings[0].cols
    for row in ours.loadings.itertuples(index=False):
        reps = boot_load[:, rows.index(row.item), cols.index(row.construct)]
        assert row.se == pytest.approx(reps.std(ddof=1), abs=1e-8)


def test_bootstrap_htmt_on_the_same_resamples(mobi: pd.DataFrame) -> None:
    """The HTMT bootstrap (the intervals of the report's discriminant-validity table) against seminr's
    ``boot_htmt`` on the same resamples: replicate mean, sd and percentile interval of every pair."""
    n_boot, seed = 60, 5
    ours = ours_pls.bootstrap_model(ours_pls.estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS), n_boot=n_boot, seed=seed)
    indices = np.random.default_rng(seed).integers(0, len(mobi), size=(n_boot, len(mobi)))
    theirs = bootstrap_model(estimate_pls(mobi, ECSI_MM, ECSI_SM), n_boot, indices=indices)
    assert theirs.fails == 0 and len(theirs.boot_htmt) == n_boot
    reps = np.stack([m.values for m in theirs.boot_htmt])
    rows, cols = theirs.boot_htmt[0].rows, theirs.boot_htmt[0].cols
    assert len(ours.htmt) == 21
    for row in ours.htmt.itertuples(index=False):
        i, j = rows.index(row.construct_a), cols.index(row.construct_b)
        if i > j:
            i, j = j, i
        r = reps[:, i, j]
        assert row.boot_mean == pytest.approx(r.mean(), abs=1e-8), row
        assert row.se == pytest.approx(r.std(ddof=1), abs=1e-8)
        assert row.ci_low == pytest.approx(np.quantile(r, 0.025), abs=1e-8)
        assert row.ci_high == pytest.approx(np.quantile(r, 0.975), abs=1e-8)


def test_measurement_checks_against_seminr(mobi: pd.DataFrame) -> None:
    """The report's measurement warnings on mobi, from seminr's HTMT and loadings: every pair above 0.90
    (Image-Quality, Image-Satisfaction, Satisfaction-Loyalty among them), every loading of a multi-item
    construct below 0.708, nothing improper."""
    ours, theirs = fit_both(mobi, "ecsi", "path")
    checks = ours_pls.measurement_checks(ours)
    ratio = htmt(theirs)
    names = list(ratio.rows)
    high = {
        (a, b) for i, a in enumerate(names) for b in names[i + 1 :] if ratio.get(a, b) > 0.90
    }
    got = checks[checks["check"] == "htmt_high"]
    assert set(zip(got["construct"], got["other"], strict=True)) == high
    assert {("Image", "Quality"), ("Satisfaction", "Loyalty")} <= high
    blocks = blocks_of(ECSI_MM)
    low = {
        item
        for c, items in blocks.items()
        if len(items) > 1
        for item in items
        if theirs.outer_loadings.get(item, c) < 0.708
    }
    assert set(checks.loc[checks["check"] == "loading_low", "other"]) == low
    assert "CUSL2" in low
    assert not checks["check"].isin(["loading_above_one", "ave_invalid"]).any()
