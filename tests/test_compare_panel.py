"""Panel-aware wave change (analysis.compare, issue 11 point 6h): the partially overlapping samples
tests against an R implementation of the published formulas (tests/data/overlap/make_fixtures.R),
the published worked examples, and Welch / the independent tests when no customer is linked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import compare as cmp

DATA = Path(__file__).parent / "data" / "overlap"


def _inputs() -> dict[str, dict[str, np.ndarray]]:
    frame = pd.read_csv(DATA / "inputs.csv")
    return {
        case: {part: g["value"].to_numpy(dtype=float) for part, g in sub.groupby("part")}
        for case, sub in frame.groupby("case")
    }


INPUTS = _inputs()
EXPECTED = pd.read_csv(DATA / "expected.csv", skipinitialspace=True)


@pytest.mark.parametrize("row", EXPECTED[EXPECTED["test"] == "t"].to_dict("records"), ids=lambda r: r["case"])
def test_partially_overlapping_t_matches_r(row):
    d = INPUTS[row["case"]]
    res = cmp.partially_overlapping_t(d["x1"], d["x2"], d["x3"], d["x4"], var_equal=bool(row["var_equal"]))
    for key in ("estimate", "se", "statistic", "df", "p", "ci_low", "ci_high"):
        assert res[key] == pytest.approx(row[key], rel=1e-9, abs=1e-12), key


def test_partially_overlapping_t_published_example():
    """Derrick, Toher & White (2017), the worked example: T_new1 gives p = 0.026."""
    d = INPUTS["t_published"]
    res = cmp.partially_overlapping_t(d["x1"], d["x2"], d["x3"], d["x4"], var_equal=True)
    assert round(res["p"], 3) == 0.026
    assert res["estimate"] == pytest.approx(2.0)
    assert res["df"] == pytest.approx(18.5)  # (8-1) + (16+8-2-8+1)/(16+16) * 16, by hand


@pytest.mark.parametrize("row", EXPECTED[EXPECTED["test"] == "z"].to_dict("records"), ids=lambda r: r["case"])
def test_partially_overlapping_z_matches_r(row):
    d = INPUTS[row["case"]]
    res = cmp.partially_overlapping_z(d["x1"], d["x2"], d["x3"], d["x4"])
    for key in ("estimate", "se", "statistic", "p", "ci_low", "ci_high"):
        assert res[key] == pytest.approx(row[key], rel=1e-9, abs=1e-12), key


def test_partially_overlapping_z_published_example():
    """Derrick et al. (2015), the worked example of Partiallyoverlapping::Prop.test: p = 0.053."""
    d = INPUTS["z_published"]
    assert round(cmp.partially_overlapping_z(d["x1"], d["x2"], d["x3"], d["x4"])["p"], 3) == 0.053


def _panel(seed: int = 7, n_only0: int = 150, n_only1: int = 170, n_both: int = 120):
    """Two waves of 1-7 answers with ids; linked customers' answers correlate strongly."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n_both)
    both0 = np.clip(np.round(5 + latent + 0.5 * rng.normal(size=n_both)), 1, 7)
    both1 = np.clip(np.round(5.2 + latent + 0.5 * rng.normal(size=n_both)), 1, 7)
    only0 = np.clip(np.round(5 + 1.1 * rng.normal(size=n_only0)), 1, 7)
    only1 = np.clip(np.round(5.2 + 1.1 * rng.normal(size=n_only1)), 1, 7)
    ids_both = [f"c{i}" for i in range(n_both)]
    x0 = pd.Series(np.concatenate([only0, both0]))
    x1 = pd.Series(np.concatenate([both1[::-1], only1]))  # another order: pairing is by id
    id0 = pd.Series([f"a{i}" for i in range(n_only0)] + ids_both)
    id1 = pd.Series(ids_both[::-1] + [f"b{i}" for i in range(n_only1)])
    return x0, x1, id0, id1, (only0, only1, both0, both1)


def test_overlap_split_pairs_by_id_and_drops_missing():
    x0, x1, id0, id1, (only0, only1, both0, both1) = _panel()
    x0.iloc[-1] = np.nan  # the last linked customer did not answer in the baseline: unpaired in the current
    id1.iloc[5] = None
    u0, u1, p0, p1 = cmp.overlap_split(x0, x1, id0, id1)
    assert len(p0) == len(p1) == 118
    assert (
        len(u0) == 150 + 1 and len(u1) == 170 + 2
    )  # c114 (no id in the current) and c119 (no baseline answer)
    order = sorted(f"c{i}" for i in range(120))
    by_id0 = dict(zip([f"c{i}" for i in range(120)], both0, strict=True))
    keep = [c for c in order if c not in {"c119", "c114"}]  # c114 is row 5 of the reversed current ids
    np.testing.assert_array_equal(p0, [by_id0[c] for c in keep])


def test_overlap_split_repeated_id_is_unpaired():
    u0, u1, p0, p1 = cmp.overlap_split([1, 2, 3], [4, 5, 6], ["x", "x", "y"], ["x", "y", "z"])
    assert list(p0) == [3] and list(p1) == [5]
    assert sorted(u0) == [1, 2] and sorted(u1) == [4, 6]


def test_overlap_mean_change_without_links_is_welch():
    """No shared customer: the result equals Welch's t (scipy) exactly, method welch_t."""
    x0, x1, _, _, _ = _panel()
    id0 = pd.Series([f"a{i}" for i in range(len(x0))])
    id1 = pd.Series([f"b{i}" for i in range(len(x1))])
    res = cmp.overlap_mean_change(x0, x1, "m", id0, id1)
    ref = stats.ttest_ind(x1, x0, equal_var=False)
    assert res.method == "welch_t" and res.n_paired == 0
    assert res.p == pytest.approx(ref.pvalue, rel=1e-12)
    ci = ref.confidence_interval()
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)


def test_overlap_mean_change_with_links_matches_formula_and_is_narrower():
    x0, x1, id0, id1, (only0, only1, both0, both1) = _panel()
    res = cmp.overlap_mean_change(x0, x1, "m", id0, id1)
    ref = cmp.partially_overlapping_t(only1, only0, both1, both0)
    assert res.method == "partially_overlapping_t" and res.n_paired == 120
    assert res.diff == pytest.approx(x1.mean() - x0.mean())
    assert res.p == pytest.approx(ref["p"]) and res.ci_low == pytest.approx(ref["ci_low"])
    welch = cmp.mean_change(x0, x1, "m")
    assert res.ci_high - res.ci_low < welch.ci_high - welch.ci_low  # positive correlation: less variance


def test_overlap_proportion_change_without_links_is_newcombe_and_ztest():
    rng = np.random.default_rng(3)
    b, c = (rng.random(300) < 0.6).astype(float), (rng.random(280) < 0.68).astype(float)
    res = cmp.overlap_proportion_change(b, c, "rate")
    ref = cmp.proportion_change(int(b.sum()), 300, int(c.sum()), 280, "rate")
    assert res.n_paired == 0 and res.method == ref.method
    assert (res.diff, res.ci_low, res.ci_high, res.p) == (ref.diff, ref.ci_low, ref.ci_high, ref.p)


def test_overlap_proportion_change_with_links():
    x0, x1, id0, id1, _ = _panel()
    b, c = (x0 >= 6).astype(float), (x1 >= 6).astype(float)
    res = cmp.overlap_proportion_change(b, c, "rate", id0, id1)
    u0, u1, p0, p1 = cmp.overlap_split(b, c, id0, id1)
    z = cmp.partially_overlapping_z(u1, u0, p1, p0)
    assert res.method == "overlap_newcombe_score" and res.n_paired == 120
    assert res.p == pytest.approx(z["p"])
    indep = cmp.proportion_change(int(b.sum()), len(b), int(c.sum()), len(c), "rate")
    assert res.diff == pytest.approx(indep.diff)
    assert res.ci_low > indep.ci_low and res.ci_high < indep.ci_high  # positively correlated panel


def test_overlap_nps_change_without_links_equals_nps_change_and_by_hand_with_links():
    rng = np.random.default_rng(5)
    x0, x1 = rng.integers(0, 11, 200).astype(float), rng.integers(0, 11, 220).astype(float)
    assert cmp.overlap_nps_change(x0, x1).p == cmp.nps_change(x0, x1).p
    ids0 = pd.Series([f"c{i}" for i in range(200)])
    ids1 = pd.Series([f"c{i}" for i in range(100)] + [f"n{i}" for i in range(120)])
    x1[:100] = x0[:100]  # the linked customers answer the same: r = 1
    res = cmp.overlap_nps_change(x0, x1, "NPS", ids0, ids1)

    def score(x):
        return np.where(x >= 9, 1.0, np.where(x <= 6, -1.0, 0.0))

    s0, s1 = score(x0), score(x1)
    var = np.var(s0) / 200 + np.var(s1) / 220 - 2 * 1.0 * np.std(s0) * np.std(s1) * 100 / (200 * 220)
    assert res.n_paired == 100
    assert res.p == pytest.approx(2 * stats.norm.sf(abs(s1.mean() - s0.mean()) / np.sqrt(var)))


def test_wave_change_table_keeps_n_paired():
    x0, x1, id0, id1, _ = _panel()
    table = cmp.wave_change_table([cmp.overlap_mean_change(x0, x1, "m", id0, id1)])
    assert table.loc[0, "n_paired"] == 120
    assert "n_paired" not in cmp.wave_change_table([cmp.mean_change(x0, x1, "m")]).columns
