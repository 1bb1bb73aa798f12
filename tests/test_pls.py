"""Tests of analysis.pls against independent references.

References used:
* published seminr values for the ECSI ``mobi`` data (tests/data/ecsi-mobi/README.md);
* hand formulas written out here (Pearson r, HTMT, chains of paths, ACSI index);
* other libraries: scipy (pearsonr, linregress), statsmodels (OLS), pingouin (alpha);
* for the bootstrap: refits of :func:`estimate_pls` on the resampled rows, numpy's own
  ``Generator.integers`` stream, and the pre-refactor bootstrap loop written out here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis import pls
from analysis.pls import (
    ECSI_BLOCKS,
    ECSI_PATHS,
    PLSBootstrap,
    PLSModel,
    acsi_impact,
    bootstrap_model,
    construct_index_scores,
    estimate_pls,
)
from conftest import MOBI
from conftest import README_BLOCKS as SMALL_BLOCKS

SMALL_PATHS = [("Image", "Satisfaction"), ("Expectation", "Satisfaction"), ("Value", "Satisfaction")]


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(MOBI)


@pytest.fixture(scope="module")
def ecsi(mobi):
    return estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS)


def _paths(res) -> dict[tuple[str, str], float]:
    return {(r.source, r.target): r.estimate for r in res.paths.itertuples(index=False)}


# --------------------------------------------------------------------------- published seminr values


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [("path", (0.447004, 0.171830, 0.316425)), ("factorial", (0.446874, 0.172942, 0.315219))],
)
def test_mobi_paths_match_seminr(mobi, scheme, expected):
    res = estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS, scheme=scheme)
    got = _paths(res)
    for pair, value in zip(SMALL_PATHS, expected, strict=True):
        assert got[pair] == pytest.approx(value, abs=1e-6)
    assert res.n == 250
    assert res.converged


def test_mobi_reliability_matches_seminr(mobi):
    res = estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS)
    rel = res.reliability.set_index("construct")
    # construct: raw alpha, alpha on standardised items, rho_C, AVE, rho_A (README, seminr 2.x fixtures)
    published = {
        "Image": (0.714447, 0.722835, 0.818326, 0.477980, 0.745292),
        "Expectation": (0.432597, 0.451903, 0.733178, 0.480507, 0.461658),
        "Value": (0.816695, 0.823632, 0.917897, 0.848311, 0.857527),
        "Satisfaction": (0.770113, 0.779195, 0.871458, 0.693364, 0.784024),
    }
    for construct, values in published.items():
        got = rel.loc[construct, ["alpha", "alpha_std", "rho_c", "ave", "rho_a"]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, values, atol=1e-6, err_msg=construct)
        assert rel.loc[construct, "n_items"] == len(SMALL_BLOCKS[construct])


def test_raw_alpha_matches_pingouin(mobi, ecsi):
    rel = ecsi.reliability.set_index("construct")
    for construct, items in ECSI_BLOCKS.items():
        if len(items) > 1:
            expected, _ = pg.cronbach_alpha(data=mobi[items])
            assert rel.loc[construct, "alpha"] == pytest.approx(expected, abs=1e-10)


# --------------------------------------------------------------------------- hand-checkable cases


def test_two_single_item_constructs_path_is_pearson_r():
    rng = np.random.default_rng(1)
    x = rng.normal(size=80)
    df = pd.DataFrame({"x": x * 3 + 5, "y": 0.6 * x + rng.normal(size=80)})
    res = estimate_pls(df, {"X": ["x"], "Y": ["y"]}, [("X", "Y")])
    r, _ = stats.pearsonr(df["x"], df["y"])
    assert res.paths["estimate"].iloc[0] == pytest.approx(r, abs=1e-12)
    assert res.r2["r2"].iloc[0] == pytest.approx(r**2, abs=1e-12)
    np.testing.assert_allclose(res.loadings["loading"], 1.0, atol=1e-12)
    np.testing.assert_allclose(res.weights["weight"], 1.0, atol=1e-12)
    np.testing.assert_allclose(res.unstd_weights["weight"], 1.0, atol=1e-12)
    rel = res.reliability.set_index("construct")
    np.testing.assert_allclose(rel[["alpha", "alpha_std", "rho_c", "ave", "rho_a"]].to_numpy(), 1.0)
    # scores are the z-scored items (sample sd)
    z = (df["x"] - df["x"].mean()) / df["x"].std(ddof=1)
    np.testing.assert_allclose(res.scores["X"], z, atol=1e-12)


@pytest.mark.parametrize("scheme", ["path", "factorial", "centroid"])
def test_single_item_block_in_mobi_has_loading_one(mobi, scheme):
    res = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, scheme=scheme)
    row = res.loadings.set_index("item").loc["CUSCO"]
    assert row["construct"] == "Complaints"
    assert row["loading"] == pytest.approx(1.0, abs=1e-12)
    # the Satisfaction -> Complaints path is then the correlation of CUSCO with the Satisfaction score
    r, _ = stats.pearsonr(res.scores["Satisfaction"], mobi["CUSCO"])
    assert _paths(res)[("Satisfaction", "Complaints")] == pytest.approx(r, abs=1e-10)


def test_r2_and_paths_are_ols_on_scores(ecsi):
    scores = ecsi.scores
    assert scores.shape == (250, 7)
    np.testing.assert_allclose(scores.std(ddof=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(scores.mean(), 0.0, atol=1e-10)
    got = _paths(ecsi)
    r2 = ecsi.r2.set_index("construct")
    for target in r2.index:
        sources = [s for s, t in ECSI_PATHS if t == target]
        fit = sm.OLS(scores[target], sm.add_constant(scores[sources])).fit()
        assert r2.loc[target, "r2"] == pytest.approx(fit.rsquared, abs=1e-10)
        assert r2.loc[target, "r2_adj"] == pytest.approx(fit.rsquared_adj, abs=1e-10)
        for s in sources:
            assert got[(s, target)] == pytest.approx(fit.params[s], abs=1e-10)


def test_loadings_are_item_score_correlations(mobi, ecsi):
    for row in ecsi.loadings.itertuples(index=False):
        r, _ = stats.pearsonr(mobi[row.item], ecsi.scores[row.construct])
        assert row.loading == pytest.approx(r, abs=1e-10)


def test_scores_are_weighted_sums_of_z_items(mobi, ecsi):
    for construct, grp in ecsi.weights.groupby("construct"):
        z = (mobi[list(grp["item"])] - mobi[list(grp["item"])].mean()) / mobi[list(grp["item"])].std(ddof=1)
        np.testing.assert_allclose(
            z.to_numpy() @ grp["weight"].to_numpy(), ecsi.scores[construct], atol=1e-10
        )


def test_total_effects_are_sums_over_chains(ecsi):
    direct = _paths(ecsi)

    def chains(source, target):
        """Every directed chain source -> ... -> target, enumerated by depth-first search."""
        if source == target:
            return [[target]]
        out = []
        for s, t in ECSI_PATHS:
            if s == source:
                out += [[source, *rest] for rest in chains(t, target)]
        return out

    te = ecsi.total_effects.set_index(["source", "target"])
    n_pairs = 0
    for a in ECSI_BLOCKS:
        for b in ECSI_BLOCKS:
            if a == b:
                continue
            links = chains(a, b)
            if not links:
                assert (a, b) not in te.index
                continue
            n_pairs += 1
            total = sum(np.prod([direct[(u, v)] for u, v in zip(c[:-1], c[1:], strict=True)]) for c in links)
            assert te.loc[(a, b), "total"] == pytest.approx(total, abs=1e-12)
            assert te.loc[(a, b), "direct"] == pytest.approx(direct.get((a, b), 0.0), abs=1e-12)
            assert te.loc[(a, b), "indirect"] == pytest.approx(total - direct.get((a, b), 0.0), abs=1e-12)
    assert n_pairs == len(te) == 21
    # a hand-written example: Image -> Loyalty
    p = direct
    image_loyalty = (
        p["Image", "Loyalty"]
        + p["Image", "Satisfaction"]
        * (p["Satisfaction", "Loyalty"] + p["Satisfaction", "Complaints"] * p["Complaints", "Loyalty"])
        + p["Image", "Expectation"]
        * (
            p["Expectation", "Satisfaction"]
            + p["Expectation", "Value"] * p["Value", "Satisfaction"]
            + p["Expectation", "Quality"]
            * (p["Quality", "Satisfaction"] + p["Quality", "Value"] * p["Value", "Satisfaction"])
        )
        * (p["Satisfaction", "Loyalty"] + p["Satisfaction", "Complaints"] * p["Complaints", "Loyalty"])
    )
    assert te.loc[("Image", "Loyalty"), "total"] == pytest.approx(image_loyalty, abs=1e-12)


def test_htmt_hand_formula_two_constructs(mobi):
    blocks = {"Value": ["PERV1", "PERV2"], "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
    res = estimate_pls(mobi, blocks, [("Value", "Loyalty")])
    r = mobi[["PERV1", "PERV2", "CUSL1", "CUSL2", "CUSL3"]].corr().to_numpy()
    hetero = np.mean([r[i, j] for i in (0, 1) for j in (2, 3, 4)])
    mono_value = r[0, 1]
    mono_loyalty = (r[2, 3] + r[2, 4] + r[3, 4]) / 3
    expected = hetero / np.sqrt(mono_value * mono_loyalty)
    assert res.htmt.loc["Value", "Loyalty"] == pytest.approx(expected, abs=1e-12)
    assert res.htmt.loc["Loyalty", "Value"] == pytest.approx(expected, abs=1e-12)
    assert np.isnan(res.htmt.loc["Value", "Value"])


def test_unstd_weights_sum_to_one_and_follow_item_sd(mobi, ecsi):
    uw = ecsi.unstd_weights.set_index("item")["weight"]
    w = ecsi.weights.set_index("item")["weight"]
    for items in ECSI_BLOCKS.values():
        assert uw[items].sum() == pytest.approx(1.0, abs=1e-12)
        raw = w[items] / mobi[items].std(ddof=1)
        np.testing.assert_allclose(uw[items], raw / raw.sum(), atol=1e-12)


# --------------------------------------------------------------------------- missing values


def _with_holes(mobi: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    df = mobi.astype(float).copy()
    for col in ["IMAG2", "CUEX1", "PERV2", "CUSA3"]:
        df.loc[rng.choice(len(df), 12, replace=False), col] = np.nan
    return df


def test_mean_replacement_equals_fit_on_imputed_data(mobi):
    df = _with_holes(mobi)
    items = [i for b in SMALL_BLOCKS.values() for i in b]
    imputed = df.copy()
    imputed[items] = df[items].fillna(df[items].mean())
    res = estimate_pls(df, SMALL_BLOCKS, SMALL_PATHS, missing="mean")
    ref = estimate_pls(imputed, SMALL_BLOCKS, SMALL_PATHS)
    assert res.n == 250
    np.testing.assert_allclose(res.paths["estimate"], ref.paths["estimate"], atol=1e-12)
    # and it differs from the complete-data estimate (the holes matter)
    full = estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS)
    assert np.abs(res.paths["estimate"] - full.paths["estimate"]).max() > 1e-4


def test_listwise_uses_complete_cases(mobi):
    df = _with_holes(mobi)
    items = [i for b in SMALL_BLOCKS.values() for i in b]
    res = estimate_pls(df, SMALL_BLOCKS, SMALL_PATHS, missing="listwise")
    complete = df.dropna(subset=items)
    ref = estimate_pls(complete.reset_index(drop=True), SMALL_BLOCKS, SMALL_PATHS)
    assert res.n == len(complete) < 250
    assert list(res.scores.index) == list(complete.index)
    np.testing.assert_allclose(res.paths["estimate"], ref.paths["estimate"], atol=1e-12)


# --------------------------------------------------------------------------- bootstrap

BOOT_COLUMNS = ["estimate", "boot_mean", "se", "ci_low", "ci_high", "t", "p"]


def test_bootstrap_is_reproducible_and_seed_dependent(mobi):
    model = estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS)
    a = bootstrap_model(model, n_boot=60, seed=11).paths
    b = bootstrap_model(model, n_boot=60, seed=11).paths
    c = bootstrap_model(model, n_boot=60, seed=12).paths
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["se"], c["se"])
    assert list(a.columns) == ["source", "target", *BOOT_COLUMNS]


def test_bootstrap_replicates_equal_refits_on_resampled_rows(mobi):
    boot = bootstrap_model(estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS), n_boot=25, seed=3, chunk_size=7)
    manual, manual_w, manual_te, manual_htmt = [], [], [], []
    upper = np.triu_indices(len(ECSI_BLOCKS), 1)
    for idx in boot.indices:
        res = estimate_pls(mobi.iloc[idx].reset_index(drop=True), ECSI_BLOCKS, ECSI_PATHS)
        manual.append(res.paths["estimate"].to_numpy())
        manual_w.append(res.weights["weight"].to_numpy())
        manual_te.append(res.total_effects["total"].to_numpy())
        manual_htmt.append(res.htmt.to_numpy()[upper])
    manual = np.array(manual)
    np.testing.assert_allclose(boot.replicates_htmt.to_numpy(), np.array(manual_htmt), atol=1e-10)
    np.testing.assert_allclose(boot.replicates_paths.to_numpy(), manual, atol=1e-6)
    np.testing.assert_allclose(boot.replicates_weights.to_numpy(), np.array(manual_w), atol=1e-6)
    np.testing.assert_allclose(boot.replicates_total_effects.to_numpy(), np.array(manual_te), atol=1e-6)
    np.testing.assert_allclose(boot.paths["se"], manual.std(axis=0, ddof=1), atol=1e-6)
    lo, hi = np.percentile(manual, [2.5, 97.5], axis=0)
    np.testing.assert_allclose(boot.paths["ci_low"], lo, atol=1e-6)
    np.testing.assert_allclose(boot.paths["ci_high"], hi, atol=1e-6)
    assert boot.n_failed == 0


def test_bootstrap_single_items_matches_numpy_bootstrap_of_r():
    rng = np.random.default_rng(5)
    x = rng.normal(size=60)
    df = pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=60)})
    boot = bootstrap_model(estimate_pls(df, {"X": ["x"], "Y": ["y"]}, [("X", "Y")]), n_boot=200, seed=99)
    rs = np.array([np.corrcoef(df["x"].to_numpy()[i], df["y"].to_numpy()[i])[0, 1] for i in boot.indices])
    row = boot.paths.iloc[0]
    assert row["se"] == pytest.approx(rs.std(ddof=1), abs=1e-10)
    assert row["boot_mean"] == pytest.approx(rs.mean(), abs=1e-10)
    r = np.corrcoef(df["x"], df["y"])[0, 1]
    assert row["t"] == pytest.approx(r / rs.std(ddof=1), abs=1e-8)
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(r / rs.std(ddof=1)), df=59), abs=1e-12)
    # loadings and weights of single-item blocks are 1 in every resample
    np.testing.assert_allclose(boot.replicates_loadings.to_numpy(), 1.0, atol=1e-12)
    np.testing.assert_allclose(boot.replicates_weights.to_numpy(), 1.0, atol=1e-12)


FLAT = pd.DataFrame({"x": [1.0] * 7 + [2.0], "y": [1.0, 2, 3, 4, 5, 6, 7, 8]})


@pytest.mark.parametrize("method", ["resample", "counts"])
def test_bootstrap_leaves_out_resamples_without_variance(method):
    model = estimate_pls(FLAT, {"X": ["x"], "Y": ["y"]}, [("X", "Y")])
    with pytest.warns(RuntimeWarning, match="could not be estimated"):
        boot = bootstrap_model(model, n_boot=200, seed=1, method=method)
    x = FLAT["x"].to_numpy()[boot.indices]
    flat = x.std(axis=1) == 0
    assert boot.n_failed == flat.sum() > 0
    assert boot.replicates_paths.iloc[:, 0].isna().to_numpy().tolist() == flat.tolist()
    y = FLAT["y"].to_numpy()[boot.indices]
    rs = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(x[~flat], y[~flat], strict=True)])
    assert boot.paths["se"].iloc[0] == pytest.approx(rs.std(ddof=1), abs=1e-10)
    # single-item loadings are 1 by construction: no t test
    assert boot.loadings["t"].isna().all()


def test_bootstrap_mean_replacement_runs_per_resample(mobi):
    df = _with_holes(mobi)
    boot = bootstrap_model(estimate_pls(df, SMALL_BLOCKS, SMALL_PATHS, missing="mean"), n_boot=5, seed=1)
    manual = [
        estimate_pls(df.iloc[idx].reset_index(drop=True), SMALL_BLOCKS, SMALL_PATHS, missing="mean").paths[
            "estimate"
        ]
        for idx in boot.indices
    ]
    np.testing.assert_allclose(boot.replicates_paths.to_numpy(), np.array(manual), atol=1e-6)


def _pre_refactor_bootstrap(data, blocks, paths, n_boot, seed, missing="listwise", chunk=500):
    """The bootstrap as it was before the model API (analysis.pls at 1be4ff3), written out: one
    (n_boot, n) index draw, then x[indices] stacks of 500 resamples through the numeric core."""
    full = estimate_pls(data, blocks, paths, missing=missing)
    spec = pls._compile(list(data.columns), blocks, paths)
    if missing == "listwise":
        x, _, _ = pls._prepare(data, spec.items, missing)
    else:
        x = data.loc[:, list(spec.items)].to_numpy(dtype=float, na_value=np.nan)
    n, p = x.shape
    k = len(spec.constructs)
    w_full = np.zeros((p, k))
    w_full[np.arange(p), spec.item_block] = full.weights["weight"].to_numpy()
    indices = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    rep_beta = np.full((n_boot, k, k), np.nan)
    rep_load = np.full((n_boot, p), np.nan)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        xb = x[indices[start:stop]]
        if np.isnan(x).any():
            xb = np.where(np.isnan(xb), np.nanmean(xb, axis=1, keepdims=True), xb)
        r = pls._corr_stack(xb)
        ok = np.isfinite(r).all(axis=(1, 2))
        w, _, _ = pls._iterate(r[ok], w_full, spec, "path", 300, 1e-7)
        beta, _, load = pls._structural(r[ok], w, spec)
        rep_beta[np.arange(start, stop)[ok]] = beta
        rep_load[np.arange(start, stop)[ok]] = load
    src = [i for i, _ in spec.path_pairs]
    tgt = [j for _, j in spec.path_pairs]
    paths_tab = pls._summarise(
        full.paths[["source", "target"]], full.paths["estimate"].to_numpy(), rep_beta[:, src, tgt], n
    )
    load_tab = pls._summarise(
        full.loadings[["construct", "item"]], full.loadings["loading"].to_numpy(), rep_load, n
    )
    return paths_tab, load_tab, indices


@pytest.mark.parametrize("missing", ["listwise", "mean"])
def test_bootstrap_model_is_identical_to_the_pre_refactor_bootstrap(mobi, missing):
    df = _with_holes(mobi)
    old_paths, old_loadings, old_indices = _pre_refactor_bootstrap(
        df, ECSI_BLOCKS, ECSI_PATHS, n_boot=120, seed=20240601, missing=missing, chunk=50
    )
    model = estimate_pls(df, ECSI_BLOCKS, ECSI_PATHS, missing=missing)
    for chunk_size in (None, 1, 7, 120):
        boot = bootstrap_model(model, n_boot=120, seed=20240601, chunk_size=chunk_size)
        pd.testing.assert_frame_equal(boot.paths, old_paths, check_exact=True)
        pd.testing.assert_frame_equal(boot.loadings, old_loadings, check_exact=True)
    np.testing.assert_array_equal(boot.indices, old_indices)


@pytest.mark.parametrize(("n", "n_boot", "chunk"), [(250, 40, 7), (3, 50, 4), (1001, 9, 2), (97, 5, 5)])
def test_index_stream_equals_one_integers_draw(n, n_boot, chunk):
    stream = pls._IndexStream(42, n)
    got = np.concatenate([stream.take(min(chunk, n_boot - s)) for s in range(0, n_boot, chunk)])
    np.testing.assert_array_equal(got, np.random.default_rng(42).integers(0, n, size=(n_boot, n)))


@pytest.mark.parametrize("bound", [3 * 2**30, 2**31 + 12345, 2**32 - 2])
def test_index_stream_rejection_path(bound):
    # bounds this large reject about a quarter / a half / almost none of the 32-bit draws
    stream = pls._IndexStream(8, bound)
    got = np.concatenate([stream.values(c) for c in (1, 2, 3, 50, 7, 1, 200)])
    np.testing.assert_array_equal(got, np.random.default_rng(8).integers(0, bound, size=got.size))


@pytest.mark.parametrize("missing", ["listwise", "mean"])
def test_count_weights_equal_resampled_data(mobi, missing):
    df = _with_holes(mobi)
    model = estimate_pls(df, ECSI_BLOCKS, ECSI_PATHS, missing=missing)
    a = bootstrap_model(model, n_boot=80, seed=9)
    b = bootstrap_model(model, n_boot=80, seed=9, method="counts", chunk_size=13)
    for name in ("replicates_paths", "replicates_loadings", "replicates_weights", "replicates_total_effects"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-10, err_msg=name)
    for name in ("paths", "loadings", "weights", "total_effects"):
        pd.testing.assert_frame_equal(getattr(b, name), getattr(a, name), check_exact=False, atol=1e-10)
    assert b.method == "counts" and b.n_failed == a.n_failed == 0


def test_bootstrap_shapes_and_columns(mobi, ecsi):
    boot = bootstrap_model(ecsi, n_boot=30, seed=4)
    assert isinstance(boot, PLSBootstrap)
    n_items = sum(len(v) for v in ECSI_BLOCKS.values())
    assert list(boot.paths.columns) == ["source", "target", *BOOT_COLUMNS]
    assert list(boot.total_effects.columns) == ["source", "target", *BOOT_COLUMNS]
    assert list(boot.loadings.columns) == ["construct", "item", *BOOT_COLUMNS]
    assert list(boot.weights.columns) == ["construct", "item", *BOOT_COLUMNS]
    assert list(boot.htmt.columns) == ["construct_a", "construct_b", *BOOT_COLUMNS]
    assert len(boot.htmt) == 21 and boot.replicates_htmt.shape == (30, 21)
    assert boot.replicates_htmt.columns[0] == "Image ~ Expectation"
    np.testing.assert_array_equal(
        boot.htmt["estimate"], ecsi.htmt.to_numpy()[np.triu_indices(len(ECSI_BLOCKS), 1)]
    )
    assert len(boot.paths) == len(ECSI_PATHS) == boot.replicates_paths.shape[1]
    assert len(boot.loadings) == len(boot.weights) == n_items
    assert len(boot.total_effects) == len(ecsi.total_effects) == 21
    assert boot.replicates_paths.shape == (30, 12)
    assert boot.replicates_loadings.shape == boot.replicates_weights.shape == (30, n_items)
    assert boot.replicates_total_effects.shape == (30, 21)
    assert list(boot.replicates_paths.columns) == [f"{s} -> {t}" for s, t in ECSI_PATHS]
    assert list(boot.replicates_loadings.columns) == [i for v in ECSI_BLOCKS.values() for i in v]
    assert (boot.n, boot.n_boot, boot.seed, boot.n_failed, boot.method) == (250, 30, 4, 0, "resample")
    assert boot.indices.shape == (30, 250)
    # the full-sample column is the model's estimate
    np.testing.assert_array_equal(boot.paths["estimate"], ecsi.paths["estimate"])
    np.testing.assert_array_equal(boot.weights["estimate"], ecsi.weights["weight"])
    np.testing.assert_array_equal(boot.total_effects["estimate"], ecsi.total_effects["total"])
    # the percentile interval brackets the replicates' median
    med = boot.replicates_paths.median().to_numpy()
    assert ((boot.paths["ci_low"] <= med) & (med <= boot.paths["ci_high"])).all()

    long = boot.to_frame()
    assert list(long.columns) == ["parameter", "source", "target", *BOOT_COLUMNS]
    assert long["parameter"].value_counts().to_dict() == {
        "loading": n_items,
        "weight": n_items,
        "total_effect": 21,
        "htmt": 21,
        "path": 12,
    }
    summary = boot.summary()
    pd.testing.assert_frame_equal(summary.paths, boot.paths)
    pd.testing.assert_frame_equal(summary.weights, boot.weights)
    assert (summary.n_boot, summary.n_failed, summary.method) == (30, 0, "resample")


def test_htmt_of_a_stack_equals_the_pairwise_formula(mobi, ecsi):
    r = mobi[ecsi.items].corr().to_numpy()
    got = pls._htmt_stack(r[None], ecsi.spec)[0]
    np.testing.assert_allclose(got, ecsi.htmt.to_numpy()[np.triu_indices(len(ECSI_BLOCKS), 1)], atol=1e-12)


def test_bootstrap_options_are_checked(ecsi):
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_model(ecsi, n_boot=1)
    with pytest.raises(ValueError, match="method"):
        bootstrap_model(ecsi, n_boot=10, method="jackknife")
    bare = PLSModel(
        **{
            f: getattr(ecsi, f)
            for f in (
                "paths",
                "r2",
                "loadings",
                "weights",
                "unstd_weights",
                "scores",
                "reliability",
                "htmt",
                "total_effects",
                "n",
                "iterations",
            )
        }
    )
    with pytest.raises(ValueError, match="estimate_pls"):
        bootstrap_model(bare, n_boot=10)


# --------------------------------------------------------------------------- the model object


def test_model_keeps_standardised_indicators_and_specification(mobi, ecsi):
    z = ecsi.indicators
    items = [i for v in ECSI_BLOCKS.values() for i in v]
    assert list(z.columns) == ecsi.items == items
    expected = (mobi[items] - mobi[items].mean()) / mobi[items].std(ddof=1)
    np.testing.assert_allclose(z.to_numpy(), expected.to_numpy(), atol=1e-12)
    assert ecsi.blocks == ECSI_BLOCKS
    assert ecsi.path_list == ECSI_PATHS
    assert (ecsi.scheme, ecsi.missing, ecsi.max_iter, ecsi.tol) == ("path", "listwise", 300, 1e-7)
    # scores are Z times the outer weights
    np.testing.assert_allclose(z.to_numpy() @ ecsi.outer_weights, ecsi.scores.to_numpy(), atol=1e-12)


def test_model_indicators_with_mean_replacement(mobi):
    df = _with_holes(mobi)
    items = [i for v in SMALL_BLOCKS.values() for i in v]
    model = estimate_pls(df, SMALL_BLOCKS, SMALL_PATHS, missing="mean")
    imputed = df[items].fillna(df[items].mean())
    expected = (imputed - imputed.mean()) / imputed.std(ddof=1)
    np.testing.assert_allclose(model.indicators.to_numpy(), expected.to_numpy(), atol=1e-12)


def test_model_summary_and_long_frame(ecsi):
    summary = ecsi.summary()
    pd.testing.assert_frame_equal(summary.paths, ecsi.paths)
    pd.testing.assert_frame_equal(summary.r2, ecsi.r2)
    pd.testing.assert_frame_equal(summary.loadings, ecsi.loadings)
    pd.testing.assert_frame_equal(summary.weights, ecsi.weights)
    pd.testing.assert_frame_equal(summary.total_effects, ecsi.total_effects)
    assert list(summary.reliability.columns) == [
        "construct",
        "n_items",
        "alpha",
        "alpha_std",
        "rho_c",
        "ave",
        "rho_a",
    ]
    assert list(summary.htmt.columns) == ["construct", *ECSI_BLOCKS]
    np.testing.assert_array_equal(summary.htmt.set_index("construct").to_numpy(), ecsi.htmt.to_numpy())
    assert (summary.n, summary.converged, summary.scheme) == (250, True, "path")
    summary.paths.loc[0, "estimate"] = 99.0  # copies: the model is untouched
    assert ecsi.paths.loc[0, "estimate"] != 99.0

    long = ecsi.to_frame()
    assert list(long.columns) == ["parameter", "source", "target", "estimate"]
    assert long["parameter"].value_counts().to_dict() == {
        "loading": 24,
        "weight": 24,
        "total_effect": 21,
        "path": 12,
        "r2": 6,
    }
    got = long[long["parameter"] == "path"].set_index(["source", "target"])["estimate"]
    assert got.to_dict() == _paths(ecsi)


def test_old_result_name_is_the_model():
    assert pls.PLSResult is PLSModel
    assert not hasattr(pls, "pls_pm") and not hasattr(pls, "bootstrap_pls_full")


# --------------------------------------------------------------------------- ACSI indices and impacts


def test_construct_index_scores_hand_case():
    df = pd.DataFrame({"a": [1.0, 10.0, 4.0, 7.0], "b": [1.0, 10.0, 7.0, np.nan], "y": [2.0, 9.0, 5.0, 6.0]})
    res = estimate_pls(df, {"A": ["a", "b"], "Y": ["y"]}, [("A", "Y")])
    uw = res.unstd_weights.set_index("item")["weight"]
    ranges = {"a": (1, 10), "b": (1, 10), "y": (1, 10)}
    idx = construct_index_scores(df, res, ranges)
    assert idx.loc[0, "A"] == pytest.approx(0.0)
    assert idx.loc[1, "A"] == pytest.approx(100.0)
    wa, wb = uw["a"], uw["b"]
    assert idx.loc[2, "A"] == pytest.approx((wa * 3 + wb * 6) / (9 * (wa + wb)) * 100)
    assert idx.loc[3, "A"] == pytest.approx((7 - 1) / 9 * 100)  # only "a" answered
    assert idx.loc[2, "Y"] == pytest.approx((5 - 1) / 9 * 100)
    with pytest.raises(ValueError, match="scale_ranges"):
        construct_index_scores(df, res, {"a": (1, 10)})


def test_acsi_impact_equals_slope_of_index_regression(mobi):
    blocks = {"Image": SMALL_BLOCKS["Image"], "Satisfaction": SMALL_BLOCKS["Satisfaction"]}
    res = estimate_pls(mobi, blocks, [("Image", "Satisfaction")])
    ranges = {i: (1, 10) for b in blocks.values() for i in b}
    idx = construct_index_scores(mobi, res, ranges)
    # each index is an affine function of the PLS score
    assert abs(np.corrcoef(idx["Image"], res.scores["Image"])[0, 1]) == pytest.approx(1.0, abs=1e-12)
    imp = acsi_impact(res, idx, target="Satisfaction")
    slope = stats.linregress(idx["Image"], idx["Satisfaction"]).slope
    assert imp["impact"].iloc[0] == pytest.approx(5 * slope, abs=1e-10)
    assert acsi_impact(res, idx, points=1.0)["impact"].iloc[0] == pytest.approx(slope, abs=1e-10)


def test_acsi_impact_full_model_uses_total_effects(mobi, ecsi):
    ranges = {i: (1, 10) for b in ECSI_BLOCKS.values() for i in b}
    idx = construct_index_scores(mobi, ecsi, ranges)
    assert ((idx >= 0) & (idx <= 100)).all().all()
    imp = acsi_impact(ecsi, idx, target="Satisfaction").set_index("source")
    assert set(imp.index) == {"Image", "Expectation", "Quality", "Value"}
    te = ecsi.total_effects.set_index(["source", "target"])["total"]
    sd = idx.std(ddof=1)
    q = imp.loc["Quality"]
    assert q["impact"] == pytest.approx(
        te["Quality", "Satisfaction"] * sd["Satisfaction"] / sd["Quality"] * 5
    )


# --------------------------------------------------------------------------- errors


def test_unknown_construct_in_path(mobi):
    with pytest.raises(ValueError, match="Loyalty"):
        estimate_pls(mobi, SMALL_BLOCKS, [*SMALL_PATHS, ("Satisfaction", "Loyalty")])


def test_zero_variance_item():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [5.0, 5.0, 5.0, 5.0], "z": [1.0, 3.0, 2.0, 4.0]})
    with pytest.raises(ValueError, match="zero variance.*'y'"):
        estimate_pls(df, {"X": ["x"], "Y": ["y", "z"]}, [("X", "Y")])


def test_other_errors(mobi):
    with pytest.raises(ValueError, match="not a column"):
        estimate_pls(mobi, {"A": ["IMAG1", "NOPE"], "B": ["CUSA1"]}, [("A", "B")])
    with pytest.raises(ValueError, match="cycle"):
        estimate_pls(
            mobi, SMALL_BLOCKS, [("Image", "Value"), ("Value", "Satisfaction"), ("Satisfaction", "Image")]
        )
    with pytest.raises(ValueError, match="scheme"):
        estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS, scheme="magic")
    with pytest.raises(ValueError, match="missing"):
        estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS, missing="pairwise")
    with pytest.raises(ValueError, match="two blocks"):
        estimate_pls(mobi, {"A": ["IMAG1", "CUSA1"], "B": ["CUSA1"]}, [("A", "B")])
    text = mobi.assign(IMAG1=mobi["IMAG1"].astype(str))
    with pytest.raises(ValueError, match="numeric"):
        estimate_pls(text, SMALL_BLOCKS, SMALL_PATHS)


def test_constructs_in_no_path_are_ignored(mobi):
    blocks = {**SMALL_BLOCKS, "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
    res = estimate_pls(mobi, blocks, SMALL_PATHS)
    assert list(res.scores.columns) == list(SMALL_BLOCKS)
    ref = estimate_pls(mobi, SMALL_BLOCKS, SMALL_PATHS)
    np.testing.assert_allclose(res.paths["estimate"], ref.paths["estimate"], atol=1e-12)


# --------------------------------------------------------------------------- once per wave


def _write_wave(folder: Path, n: int = 80, wave: str = "w1", seed: int = 17, baseline: str = "") -> Path:
    """Write ``n`` model-like answers (one latent factor) as wave ``wave`` of the small survey."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)

    def item() -> np.ndarray:
        return np.clip(np.round(3 + f + rng.normal(scale=0.9, size=n)), 1, 5).astype(int)

    answers = {c: item() for c in ("q1", "q2", "q4", "q5", "q6")}
    answers["q3"] = 6 - item()  # the reverse-coded item
    raw = pd.DataFrame(
        {
            "rid": np.arange(1, n + 1),
            "cust": [f"C{i}" for i in range(1, n + 1)],
            "name": "x",
            "phone": "1",
            "region": rng.choice(["a", "b"], size=n),
            "dur": 300,
            **{c: answers[c] for c in ("q1", "q2", "q3", "q4", "q5", "q6")},
            "comment": "",
            "note": "",
        }
    )
    raw.to_csv(folder / "data" / "raw" / f"{wave}.csv", index=False)
    path = folder / "params" / "waves" / f"{wave}.yaml"
    text = f"wave: {wave}\nraw: ../../data/raw/{wave}.csv\ninvited: 500\n"
    path.write_text(text + (f"baseline: {baseline}\n" if baseline else ""), encoding="utf-8")
    return path


def _counting_estimate(monkeypatch) -> list[int]:
    """Count the calls of estimate_pls (by the number of rows of their data)."""
    calls: list[int] = []
    original = pls.estimate_pls

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(pls, "estimate_pls", counting)
    return calls


def test_csi_model_is_estimated_once_per_session(small_survey, monkeypatch):
    from analysis.wave import WaveAnalysis

    wave = _write_wave(small_survey)
    calls = _counting_estimate(monkeypatch)
    wa = WaveAnalysis.load(small_survey / "params" / "survey.yaml", wave, out_root=small_survey)
    wa.clean()
    n = len(wa.read("clean"))
    assert n > 50
    wa.reliability()
    wa.index(n_boot=20)
    tables = wa.model(n_boot=30)
    assert calls == [n]  # one estimate: reliability, index and the bootstrap reuse it
    assert tables["pls_summary"]["n_boot"].iloc[0] == 30
    assert list(tables["csi_paths"]["source"]) == ["Quality", "Service"]


def test_pls_index_weights_and_change_reuse_the_model(small_survey, monkeypatch):
    from analysis.wave import WaveAnalysis

    survey = small_survey / "params" / "survey.yaml"
    survey.write_text(survey.read_text(encoding="utf-8") + "index:\n  weights: pls\n", encoding="utf-8")
    waves = [_write_wave(small_survey, 70, "w0", 3), _write_wave(small_survey, 90, "w1", 4, baseline="w0")]
    calls = _counting_estimate(monkeypatch)
    base = WaveAnalysis.load(survey, waves[0], out_root=small_survey)
    base.clean()
    base.index(n_boot=20)
    base.save()
    assert calls == [len(base.read("clean"))]
    calls.clear()
    wa = WaveAnalysis.load(survey, waves[1], out_root=small_survey)
    assert wa.baseline is not None
    wa.clean()
    wa.index(n_boot=20)
    assert wa.change() is not None
    wa.model(n_boot=20)
    assert calls == [len(wa.read("clean"))]


# --------------------------------------------------------------------------- weighted PLS (issue 13)
def _weighted_vs_repeated(mobi: pd.DataFrame, missing: str) -> tuple[pls.PLSModel, pls.PLSModel]:
    rng = np.random.default_rng(13)
    data = mobi.copy()
    if missing == "mean":
        data = data.astype(float)
        for col in ("CUEX2", "PERQ3", "CUSA1"):
            data.loc[rng.choice(len(data), 15, replace=False), col] = np.nan
    counts = rng.integers(1, 4, len(data))
    weighted = estimate_pls(data, ECSI_BLOCKS, ECSI_PATHS, missing=missing, weights=counts.astype(float))
    repeated = estimate_pls(data.loc[np.repeat(data.index, counts)], ECSI_BLOCKS, ECSI_PATHS, missing=missing)
    return weighted, repeated


@pytest.mark.parametrize("missing", ["listwise", "mean"])
def test_integer_weights_equal_repeated_rows(mobi: pd.DataFrame, missing: str) -> None:
    """The independent reference of weighted PLS: frequency weights are repeated rows (issue 13, to 1e-10)."""
    weighted, repeated = _weighted_vs_repeated(mobi, missing)
    for name in ("paths", "r2", "loadings", "weights", "unstd_weights", "reliability", "total_effects"):
        a, b = getattr(weighted, name), getattr(repeated, name)
        num = a.select_dtypes("number").columns.drop("n_items", errors="ignore")
        np.testing.assert_allclose(a[num].to_numpy(), b[num].to_numpy(), rtol=0, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(weighted.htmt.to_numpy(), repeated.htmt.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(weighted.item_mean, repeated.item_mean, atol=1e-10)
    np.testing.assert_allclose(weighted.item_sd, repeated.item_sd, atol=1e-10)
    # the scores of a row equal those of its copies
    first = repeated.scores.groupby(level=0).first().reindex(weighted.scores.index)
    np.testing.assert_allclose(weighted.scores.to_numpy(), first.to_numpy(), atol=1e-10)


def test_unit_weights_give_the_unweighted_model_and_bootstrap(mobi: pd.DataFrame) -> None:
    plain = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS)
    ones = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, weights=np.ones(len(mobi)))
    np.testing.assert_allclose(ones.paths["estimate"], plain.paths["estimate"], atol=1e-12)
    a = bootstrap_model(plain, n_boot=40, seed=5).paths
    b = bootstrap_model(ones, n_boot=40, seed=5).paths
    np.testing.assert_allclose(b[["estimate", "se", "ci_low", "ci_high"]], a[["estimate", "se", "ci_low", "ci_high"]],
                               atol=1e-12)


def test_the_bootstrap_carries_the_weights_of_the_drawn_rows(mobi: pd.DataFrame) -> None:
    """Replicate b of a weighted model = the weighted model of the rows drawn, with their weights."""
    w = np.random.default_rng(2).uniform(0.3, 3.0, len(mobi))
    model = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, weights=w)
    boot = bootstrap_model(model, n_boot=3, seed=11)
    for b, rows in enumerate(boot.indices):
        again = estimate_pls(mobi.iloc[rows].reset_index(drop=True), ECSI_BLOCKS, ECSI_PATHS, weights=w[rows])
        np.testing.assert_allclose(boot.replicates_paths.iloc[b].to_numpy(), again.paths["estimate"], atol=1e-8)


# --------------------------------------------------------------------------- large n: the grouped bootstrap
def test_grouped_bootstrap_se_of_a_correlation_matches_theory():
    """Above BOOT_GROUPS rows the count-weight bootstrap resamples random groups of rows by their sufficient
    statistics. With one item per construct the path is the correlation r, whose large-sample SE under
    normality is (1 - r^2) / sqrt(n) (Fisher 1915); the grouped bootstrap SE agrees with it and with the
    row bootstrap of the same data, and the interval covers the true 0.5."""
    rng = np.random.default_rng(2024)
    n = 3 * pls.BOOT_GROUPS
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "y": 0.5 * x + np.sqrt(0.75) * rng.normal(size=n)})
    model = estimate_pls(df, {"X": ["x"], "Y": ["y"]}, [("X", "Y")])
    r = float(model.paths["estimate"].iloc[0])
    theory = (1 - r**2) / np.sqrt(n)
    grouped = bootstrap_model(model, n_boot=800, seed=5, method="counts").paths.iloc[0]
    assert grouped["se"] == pytest.approx(theory, rel=0.12)
    assert grouped["ci_low"] < 0.5 < grouped["ci_high"]
    rows = bootstrap_model(model, n_boot=200, seed=5, method="resample").paths.iloc[0]
    assert grouped["se"] == pytest.approx(rows["se"], rel=0.25)
    assert bootstrap_model(model, n_boot=50, seed=5, method="auto").method == "counts"


def test_grouped_bootstrap_on_mobi_agrees_with_the_row_bootstrap(mobi, monkeypatch):
    """The whole ECSI model bootstrapped in 125 groups of 2 rows (thresholds lowered) gives standard errors
    of the paths within 25% of the row bootstrap's (Monte Carlo error of 300 resamples: about 4%)."""
    model = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS)
    rows = bootstrap_model(model, n_boot=300, seed=1).paths
    monkeypatch.setattr(pls, "BOOT_GROUPS", 125)
    grouped = bootstrap_model(model, n_boot=300, seed=1, method="counts").paths
    ratio = grouped["se"].to_numpy() / rows["se"].to_numpy()
    assert np.all((ratio > 0.75) & (ratio < 1.25)), ratio


@pytest.mark.parametrize("missing", ["listwise", "mean"])
def test_weighted_count_weights_equal_resampled_weighted_data(mobi, missing):
    """The count-weight bootstrap of a weighted model (row weight = count x case weight) gives the same
    replicates as copying the drawn rows with their weights (issue 12: no resampled copies under weighting)."""
    df = _with_holes(mobi)
    w = np.random.default_rng(3).uniform(0.3, 3.0, len(df))
    model = estimate_pls(df, ECSI_BLOCKS, ECSI_PATHS, missing=missing, weights=w)
    a = bootstrap_model(model, n_boot=60, seed=9, method="resample")
    b = bootstrap_model(model, n_boot=60, seed=9, method="counts", chunk_size=11)
    for name in ("replicates_paths", "replicates_loadings", "replicates_weights", "replicates_total_effects"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-10, err_msg=name)
    assert b.method == "counts" and b.n_failed == a.n_failed == 0


def test_grouped_weighted_bootstrap_agrees_with_the_weighted_row_bootstrap(mobi, monkeypatch):
    """Groups carry the sums of their rows' weights: the grouped bootstrap of a weighted model gives path
    standard errors within 25% of the weighted row bootstrap's (as unweighted, above)."""
    w = np.random.default_rng(4).uniform(0.3, 3.0, len(mobi))
    model = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, weights=w)
    rows = bootstrap_model(model, n_boot=300, seed=1, method="resample").paths
    monkeypatch.setattr(pls, "BOOT_GROUPS", 125)
    grouped = bootstrap_model(model, n_boot=300, seed=1, method="counts").paths
    ratio = grouped["se"].to_numpy() / rows["se"].to_numpy()
    assert np.all((ratio > 0.75) & (ratio < 1.25)), ratio
    # with unit weights the grouped weighted bootstrap is the grouped unweighted one
    ones = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, weights=np.ones(len(mobi)))
    plain = estimate_pls(mobi, ECSI_BLOCKS, ECSI_PATHS)
    a = bootstrap_model(ones, n_boot=50, seed=2, method="counts").replicates_paths
    b = bootstrap_model(plain, n_boot=50, seed=2, method="counts").replicates_paths
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=1e-10)
