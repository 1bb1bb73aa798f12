"""Tests of analysis.index against a published AHP example, hand calculations and a normal-theory interval."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import index

MOBI = Path(__file__).resolve().parent / "data" / "ecsi-mobi" / "mobi.csv"


def _reciprocal(names: list[str], upper: dict[tuple[str, str], float]) -> pd.DataFrame:
    m = pd.DataFrame(1.0, index=names, columns=names)
    for (a, b), v in upper.items():
        m.loc[a, b] = v
        m.loc[b, a] = 1 / v
    return m


def test_ahp_saaty_drinks_example():
    # Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services Sciences
    # 1(1):83-98, Table 2 "Which drink is consumed more in the U.S.?": derived scale
    # .177 .019 .042 .116 .190 .129 .327 with C.R. = .022.
    drinks = ["coffee", "wine", "tea", "beer", "sodas", "milk", "water"]
    rows = [
        [1, 9, 5, 2, 1, 1, 1 / 2],
        [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
        [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
        [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
        [1, 9, 4, 2, 1, 2, 1 / 2],
        [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
        [2, 9, 9, 3, 2, 3, 1],
    ]
    res = index.ahp_weights(pd.DataFrame(rows, index=drinks, columns=drinks))
    published = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    np.testing.assert_allclose(res.weights.to_numpy(), published, atol=5e-4 + 1e-9)
    assert res.weights.sum() == pytest.approx(1.0)
    assert list(res.weights.index) == drinks
    assert res.cr == pytest.approx(0.022, abs=5e-4)
    assert res.ci == pytest.approx((res.lambda_max - 7) / 6)
    assert res.cr == pytest.approx(res.ci / 1.32)
    assert index.check_ahp(res) is res


def test_ahp_consistent_matrix_recovers_weights():
    w = np.array([0.5, 0.3, 0.2])
    names = ["质量", "服务", "价格"]
    m = pd.DataFrame(np.outer(w, 1 / w), index=names, columns=names)
    res = index.ahp_weights(m)
    np.testing.assert_allclose(res.weights.to_numpy(), w, atol=1e-12)
    assert res.lambda_max == pytest.approx(3.0)
    assert res.cr == pytest.approx(0.0, abs=1e-12)


def test_ahp_inconsistent_matrix_raises_with_name_and_cr():
    # A >> B >> C but C >> A: a cycle of judgements
    m = _reciprocal(["A", "B", "C"], {("A", "B"): 9, ("B", "C"): 9, ("A", "C"): 1 / 9})
    res = index.ahp_weights(m)
    # lambda_max of this matrix: with x = 9 * 9 * 9, lambda = 1 + x^(1/3) + x^(-1/3) = 1 + 9 + 1/9
    assert res.lambda_max == pytest.approx(1 + 9 + 1 / 9)
    assert res.cr == pytest.approx((1 + 9 + 1 / 9 - 3) / 2 / 0.58)
    with pytest.raises(index.AHPInconsistentError, match=r"criteria weights.*CR = 6\.13") as err:
        index.check_ahp(res, name="criteria weights")
    assert isinstance(err.value, ValueError)


def test_ahp_validation_names_the_cell():
    m = _reciprocal(["q", "s", "p"], {("q", "s"): 3, ("s", "p"): 2, ("q", "p"): 5})
    m.loc["p", "q"] = 0.5
    with pytest.raises(ValueError, match=r"\['q', 'p'\]"):
        index.ahp_weights(m)
    neg = m.copy()
    neg.loc["s", "p"] = -2
    with pytest.raises(ValueError, match="positive"):
        index.ahp_weights(neg)
    with pytest.raises(ValueError, match="square"):
        index.ahp_weights(m.iloc[:, :2])


def test_entropy_weights_by_hand():
    data = pd.DataFrame({"A": [1, 2, 3, 4], "B": [5, 5, 5, 9], "C": [7, 7, 7, 7]})
    # A: min-max -> 0, 1/3, 2/3, 1; sum 2; p = 0, 1/6, 1/3, 1/2
    e_a = -(1 / math.log(4)) * (1 / 6 * math.log(1 / 6) + 1 / 3 * math.log(1 / 3) + 1 / 2 * math.log(1 / 2))
    assert e_a == pytest.approx(0.729574, abs=1e-6)
    # B: min-max -> 0, 0, 0, 1; p = 0, 0, 0, 1; e = 0 (0 ln 0 = 0), all information in one row
    e_b = 0.0
    # C: constant, no information: e = 1, d = 0
    d_a, d_b, d_c = 1 - e_a, 1 - e_b, 0.0
    total = d_a + d_b + d_c
    w = index.entropy_weights(data)
    assert w["A"] == pytest.approx(d_a / total)  # 0.212862
    assert w["B"] == pytest.approx(d_b / total)  # 0.787138
    assert w["C"] == 0.0
    assert w["A"] == pytest.approx(0.212862, abs=1e-6)


def test_entropy_weights_without_normalisation():
    data = pd.DataFrame({"A": [1.0, 1.0], "B": [1.0, 3.0]})
    # A: p = 1/2, 1/2, e = 1; B: p = 1/4, 3/4, e = -(1/ln 2)(1/4 ln 1/4 + 3/4 ln 3/4) = 0.811278
    w = index.entropy_weights(data, normalize=False)
    assert w.to_dict() == pytest.approx({"A": 0.0, "B": 1.0})


def test_respondent_index_by_hand():
    data = pd.DataFrame({"q1": [1, 5, np.nan, np.nan], "q2": [10, 0, 5, np.nan], "q3": [4, 4, 4, 4]})
    blocks = {"Quality": ["q1", "q2"], "Price": ["q3"]}
    ranges = {"q1": (1, 5), "q2": (0, 10), "q3": (1, 7)}
    out = index.respondent_index(data, blocks, ranges)
    # row 0: q1 -> 0, q2 -> 100, mean 50; row 1: 100, 0 -> 50; row 2: only q2 -> 50; row 3: none
    assert out["Quality"].tolist()[:3] == pytest.approx([50.0, 50.0, 50.0])
    assert math.isnan(out["Quality"].iloc[3])
    assert out["Price"].tolist() == pytest.approx([50.0] * 4)  # (4 - 1) / 6 * 100
    weighted = index.respondent_index(data, blocks, ranges, item_weights={"q1": 3, "q2": 1})
    # row 0: (3 * 0 + 1 * 100) / 4 = 25; row 1: (3 * 100 + 0) / 4 = 75; row 2: only q2 -> 50
    assert weighted["Quality"].tolist()[:3] == pytest.approx([25.0, 75.0, 50.0])


def test_csi_point_estimates_and_bootstrap():
    mobi = pd.read_csv(MOBI)
    blocks = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Value": ["PERV1", "PERV2"], "Loyalty": ["CUSL1"]}
    ranges = dict.fromkeys(mobi.columns, (1, 10))
    out = index.csi(mobi, blocks, ranges, {"Image": 2, "Value": 1, "Loyalty": 1}, n_boot=2000, seed=5)
    out = out.set_index("construct")
    image = ((mobi[blocks["Image"]] - 1) / 9 * 100).mean(axis=1)
    value = ((mobi[blocks["Value"]] - 1) / 9 * 100).mean(axis=1)
    loyal = (mobi["CUSL1"] - 1) / 9 * 100
    assert out.loc["Image", "index"] == pytest.approx(image.mean())
    assert out.loc["Image", "weight"] == pytest.approx(0.5)
    csi_hand = 0.5 * image.mean() + 0.25 * value.mean() + 0.25 * loyal.mean()
    assert out.loc["CSI", "index"] == pytest.approx(csi_hand)
    assert out.loc["CSI", "n"] == 250
    # the percentile bootstrap of a mean agrees with the t interval for n = 250 to within sampling noise
    for name, scores in {
        "Image": image,
        "Value": value,
        "CSI": 0.5 * image + 0.25 * value + 0.25 * loyal,
    }.items():
        half = stats.t.ppf(0.975, 249) * scores.std(ddof=1) / math.sqrt(250)
        assert out.loc[name, "ci_low"] == pytest.approx(scores.mean() - half, abs=0.12 * half)
        assert out.loc[name, "ci_high"] == pytest.approx(scores.mean() + half, abs=0.12 * half)
    again = index.csi(mobi, blocks, ranges, {"Image": 2, "Value": 1, "Loyalty": 1}, n_boot=2000, seed=5)
    pd.testing.assert_frame_equal(out.reset_index(), again)


def test_csi_construct_without_weight_is_reported_not_counted():
    data = pd.DataFrame({"a": [1, 3, 5, 5], "b": [5, 5, 5, 1]})
    out = index.csi(data, {"A": ["a"], "B": ["b"]}, {"a": (1, 5), "b": (1, 5)}, {"A": 1}, n_boot=50)
    out = out.set_index("construct")
    assert out.loc["B", "weight"] == 0.0
    assert out.loc["B", "index"] == pytest.approx(75.0)  # (100 + 100 + 100 + 0) / 4
    assert out.loc["CSI", "index"] == pytest.approx(out.loc["A", "index"])  # (0 + 50 + 100 + 100) / 4
    assert out.loc["A", "index"] == pytest.approx(62.5)
    with pytest.raises(ValueError, match="unknown constructs"):
        index.csi(data, {"A": ["a"]}, {"a": (1, 5)}, {"Z": 1})


def test_weights_for_methods():
    data = pd.DataFrame({"a": [1, 2, 3, 4], "b": [5, 5, 5, 9], "c": [2, 3, 2, 3]})
    blocks = {"A": ["a"], "B": ["b"], "C": ["c"]}
    ranges = {"a": (1, 5), "b": (1, 9), "c": (1, 5)}
    assert index.weights_for("equal", data, blocks, ranges).tolist() == pytest.approx([1 / 3] * 3)
    w = np.array([0.2, 0.5, 0.3])
    ahp = pd.DataFrame(np.outer(w, 1 / w), index=list("ABC"), columns=list("ABC"))
    assert index.weights_for("ahp", data, blocks, ranges, ahp_matrix=ahp).tolist() == pytest.approx(w)
    # entropy on the 0-100 construct scores equals entropy on the raw columns: min-max is scale-free
    ent = index.weights_for("entropy", data, blocks, ranges)
    ref = index.entropy_weights(data.rename(columns=str.upper))
    assert ent.to_dict() == pytest.approx(ref.to_dict())
    pls = index.weights_for("pls", data, blocks, ranges, pls_weights={"A": 0.2, "B": 0.2, "C": 0.6})
    assert pls.tolist() == pytest.approx([0.2, 0.2, 0.6])
    with pytest.raises(ValueError, match="equal, ahp, entropy, pls"):
        index.weights_for("magic", data, blocks, ranges)
    bad = pd.DataFrame([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]], index=list("ABC"), columns=list("ABC"))
    with pytest.raises(index.AHPInconsistentError):
        index.weights_for("ahp", data, blocks, ranges, ahp_matrix=bad)


def test_overall_scores_by_hand() -> None:
    from analysis.index import overall_scores

    scores = pd.DataFrame({"A": [80.0, np.nan, 50.0, np.nan], "B": [60.0, 40.0, np.nan, np.nan]})
    got = overall_scores(scores, {"A": 3, "B": 1})
    # weights 0.75 / 0.25; a missing construct is left out and the weights renormalised
    assert got.iloc[0] == pytest.approx(0.75 * 80 + 0.25 * 60)
    assert got.iloc[1] == pytest.approx(40.0)
    assert got.iloc[2] == pytest.approx(50.0)
    assert np.isnan(got.iloc[3])


def test_ahp_result_to_frame_is_tidy():
    m = pd.DataFrame([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]], index=list("abc"), columns=list("abc"))
    res = index.ahp_weights(m)
    frame = res.to_frame()
    assert list(frame.columns) == ["criterion", "weight", "lambda_max", "ci", "cr", "n"]
    assert list(frame["criterion"]) == list("abc") and frame["weight"].sum() == pytest.approx(1.0)
    assert (frame["cr"] == res.cr).all()


# --------------------------------------------------------------------------- ACSI (pls) weights and their fallbacks
def test_acsi_weights_keep_positive_weights_as_given():
    blocks = {"A": ["a1", "a2"], "B": ["b1", "b2", "b3"]}
    outer = {"a1": 0.4, "a2": 0.6, "b1": 0.2, "b2": 0.3, "b3": 0.5}
    res = index.acsi_weights(blocks, outer, {"A": 0.3, "B": 0.1})
    assert res.item_weights == pytest.approx(outer)
    assert res.construct_weights.to_dict() == pytest.approx({"A": 0.75, "B": 0.25})  # 0.3/0.4, 0.1/0.4
    table = res.to_frame()
    assert table["note"].tolist() == ["", ""] and table["item_weights"].tolist() == ["pls", "pls"]


def test_acsi_weights_fall_back_to_equal_items_for_a_negative_outer_weight():
    blocks = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2"]}
    outer = {"a1": 0.7, "a2": 0.6, "a3": -0.3, "b1": 0.5, "b2": 0.5}  # block A sums to 1 with a negative weight
    with pytest.warns(index.IndexWeightWarning, match="'A'.*a3"):
        res = index.acsi_weights(blocks, outer, {"A": 0.2, "B": 0.2})
    assert [res.item_weights[i] for i in blocks["A"]] == pytest.approx([1 / 3] * 3)
    assert [res.item_weights[i] for i in blocks["B"]] == pytest.approx([0.5, 0.5])
    row = res.to_frame().set_index("construct").loc["A"]
    assert (row["item_weights"], row["negative_items"], row["note"]) == ("equal", "a3", "negative_outer_weight")
    # the index of A is then the plain mean of its rescaled items (hand calculation)
    data = pd.DataFrame({"a1": [5, 1], "a2": [4, 2], "a3": [1, 5], "b1": [3, 3], "b2": [3, 3]})
    ranges = {c: (1, 5) for c in data}
    scores = index.respondent_index(data, blocks, ranges, res.item_weights)
    assert scores["A"].tolist() == pytest.approx([(100 + 75 + 0) / 3, (0 + 25 + 100) / 3])


def test_acsi_weights_give_zero_to_a_negative_total_effect_and_equal_when_none_is_positive():
    blocks = {"A": ["a"], "B": ["b"], "C": ["c"]}
    outer = {"a": 1.0, "b": 1.0, "c": 1.0}
    with pytest.warns(index.IndexWeightWarning, match="'B'.*negative total effect"):
        res = index.acsi_weights(blocks, outer, {"A": 0.3, "B": -0.2, "C": 0.1})
    assert res.construct_weights.to_dict() == pytest.approx({"A": 0.75, "B": 0.0, "C": 0.25})
    assert res.to_frame()["note"].tolist() == ["", "negative_total_effect", ""]
    with pytest.warns(index.IndexWeightWarning, match="no construct has a positive total effect"):
        none = index.acsi_weights(blocks, outer, {"A": -0.1, "B": -0.2})
    assert none.construct_weights.tolist() == pytest.approx([1 / 3] * 3)
    notes = none.to_frame()["note"].tolist()
    assert notes == ["negative_total_effect no_positive_total_effect"] * 2 + ["no_positive_total_effect"]


def test_csi_is_the_mean_of_respondent_csis_with_missing_constructs():
    """One CSI (issue 11, 6m): the mean of each respondent's CSI (weights renormalised over the
    constructs they answered), by hand: respondents score (100+0)/2, 100 (B unanswered), (0+100)/2."""
    data = pd.DataFrame({"a": [10.0, 10.0, 0.0], "b": [0.0, np.nan, 10.0]})
    table = index.csi(data, {"A": ["a"], "B": ["b"]}, {"a": (0, 10), "b": (0, 10)}, {"A": 1, "B": 1}, n_boot=0)
    row = table.set_index("construct").loc["CSI"]
    assert row["index"] == pytest.approx((50 + 100 + 50) / 3)
    assert row["n"] == 3


def test_weighted_csi_equals_repeated_rows() -> None:
    """Issue 13: with integer case weights the index equals that of the rows repeated (1e-10)."""
    from analysis.weighting import Weights

    rng = np.random.default_rng(8)
    data = pd.DataFrame(rng.integers(1, 8, size=(80, 4)).astype(float), columns=["a", "b", "c", "d"])
    data.loc[[3, 9], "c"] = np.nan
    counts = pd.Series(rng.integers(1, 4, 80).astype(float))
    blocks, ranges = {"X": ["a", "b"], "Y": ["c", "d"]}, dict.fromkeys("abcd", (1, 7))
    w = Weights(weight=counts, groups=pd.DataFrame(index=data.index), method="frequency")
    weighted = index.csi(data, blocks, ranges, {"X": 0.6, "Y": 0.4}, n_boot=50, weights=w)
    repeated = data.loc[np.repeat(data.index, counts.astype(int))].reset_index(drop=True)
    ref = index.csi(repeated, blocks, ranges, {"X": 0.6, "Y": 0.4}, n_boot=0)
    np.testing.assert_allclose(weighted["index"], ref["index"], atol=1e-10)
    assert list(weighted["n"]) == [80, 80, 80] and "n_eff" in weighted.columns
    assert (weighted["ci_low"] < weighted["index"]).all() and (weighted["index"] < weighted["ci_high"]).all()


def test_csi_grouped_bootstrap_above_boot_groups_agrees_with_the_t_interval(monkeypatch):
    """Above analysis.pls.BOOT_GROUPS rows the index bootstrap resamples random groups of rows by their
    sums (issue 12: no multinomial draw over n rows per resample); its intervals still agree with the t
    interval of a mean (the reference), weighted too (against the weighted mean's linearised SE)."""
    from analysis import pls

    rng = np.random.default_rng(7)
    n = 6000
    data = pd.DataFrame({"a": rng.integers(1, 11, n).astype(float), "b": rng.integers(1, 11, n).astype(float)})
    data.loc[rng.random(n) < 0.1, "b"] = np.nan
    blocks, ranges = {"A": ["a"], "B": ["b"]}, {"a": (1, 10), "b": (1, 10)}
    monkeypatch.setattr(pls, "BOOT_GROUPS", 500)
    out = index.csi(data, blocks, ranges, {"A": 1, "B": 1}, n_boot=2000, seed=3).set_index("construct")
    a = (data["a"] - 1) / 9 * 100
    half = stats.t.ppf(0.975, n - 1) * a.std(ddof=1) / math.sqrt(n)
    assert out.loc["A", "ci_low"] == pytest.approx(a.mean() - half, abs=0.15 * half)
    assert out.loc["A", "ci_high"] == pytest.approx(a.mean() + half, abs=0.15 * half)
    again = index.csi(data, blocks, ranges, {"A": 1, "B": 1}, n_boot=2000, seed=3)
    pd.testing.assert_frame_equal(out.reset_index(), again)  # seeded
    # weighted: the interval of the weighted mean agrees with its linearised standard error
    w = pd.Series(rng.uniform(0.5, 2.0, n), index=data.index)

    class W:
        weighted = True

        def values_for(self, idx):
            return w.reindex(idx).to_numpy()

    wout = index.csi(data, blocks, ranges, {"A": 1, "B": 1}, n_boot=2000, seed=3, weights=W()).set_index("construct")
    m = float((w * a).sum() / w.sum())
    se = float(np.sqrt(((w * (a - m)) ** 2).sum()) / w.sum())
    assert wout.loc["A", "index"] == pytest.approx(m)
    assert wout.loc["A", "ci_low"] == pytest.approx(m - 1.96 * se, abs=0.15 * 1.96 * se)
    assert wout.loc["A", "ci_high"] == pytest.approx(m + 1.96 * se, abs=0.15 * 1.96 * se)
