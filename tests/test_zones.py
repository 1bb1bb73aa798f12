"""Tests for analysis.zones: every expected value is written out by hand or
computed independently (scipy, statsmodels, numpy.linalg.lstsq)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.zones import (
    IPA_QUADRANTS,
    TYPES,
    ZoneThresholds,
    davies_test,
    default_thresholds,
    improvement_priorities,
    ipa,
    loyalty_breakpoint,
    loyalty_curve,
    loyalty_level,
    thresholds_from_config,
    transition_table,
    type_of,
    zone_of,
    zone_table,
)

NAN = float("nan")
MOBI = Path(__file__).resolve().parent / "data" / "ecsi-mobi" / "mobi.csv"


def _names(s: pd.Series) -> list:
    return [None if (isinstance(v, float) and math.isnan(v)) else v for v in s.tolist()]


# --------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    ("lo", "hi", "aff", "dfx", "ter"),
    [
        (1, 5, 5, 2, 1),
        (1, 7, 6, 3, 1),
        (1, 10, 9, 6, 2),
        (0, 10, 9, 6, 1),
        # proportional rule, worked by hand: 3 levels -> 1 affection (round 0.6), 1 defection (round 1.2)
        (1, 3, 3, 1, 1),
        # 4 levels -> 1 affection (round 0.8), 2 defection (round 1.6), 1 terrorist (round 0.6)
        (1, 4, 4, 2, 1),
    ],
)
def test_default_thresholds(lo, hi, aff, dfx, ter):
    th = default_thresholds(lo, hi)
    assert (th.affection_min, th.defection_max, th.terrorist_max) == (aff, dfx, ter)
    assert (th.loyalty_high_min, th.loyalty_low_max) == (aff, dfx)
    assert (th.scale_min, th.scale_max) == (lo, hi)


def test_default_thresholds_rejects_short_scale():
    with pytest.raises(ValueError, match="at least 3 levels"):
        default_thresholds(1, 2)


def test_thresholds_from_config_overrides_and_follows():
    th = thresholds_from_config({"affection_min": 7, "defection_max": 4}, 1, 7)
    assert th.affection_min == 7 and th.defection_max == 4
    # loyalty cut-offs follow the overridden zone cut-offs unless given
    assert th.loyalty_high_min == 7 and th.loyalty_low_max == 4
    th2 = thresholds_from_config({"affection_min": 7, "loyalty_high_min": 5.5}, 1, 7)
    assert th2.loyalty_high_min == 5.5 and th2.loyalty_low_max == 3
    assert thresholds_from_config(None, 1, 5) == default_thresholds(1, 5)
    assert thresholds_from_config({}, 1, 5) == default_thresholds(1, 5)


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        ({"affection": 6}, "affection"),  # unknown key
        ({"affection_min": "high"}, "affection_min"),  # not a number
        ({"affection_min": True}, "affection_min"),
        ({"affection_min": 8}, "affection_min"),  # off the 1-7 scale
        ({"defection_max": 6}, "defection_max"),  # not below affection_min (6)
        ({"terrorist_max": 4}, "terrorist_max"),  # above defection_max (3)
        ({"loyalty_low_max": 6.5}, "loyalty_low_max"),  # not below loyalty_high_min (6)
        ({"loyalty_high_min": 0}, "loyalty_high_min"),  # off the scale
    ],
)
def test_thresholds_from_config_validation(cfg, key):
    with pytest.raises(ValueError, match=key):
        thresholds_from_config(cfg, 1, 7)


def test_zone_thresholds_validates_directly():
    with pytest.raises(ValueError, match="scale_min"):
        ZoneThresholds(5, 1, 5, 2, 1, 5, 2)


# --------------------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (1, 5, "D D I I A"),
        (1, 7, "D D D I I A A"),
        (1, 10, "D D D D D D I I A A"),
        (0, 10, "D D D D D D D I I A A"),
    ],
)
def test_zone_of_every_level(lo, hi, expected):
    full = {"D": "defection", "I": "indifference", "A": "affection"}
    sat = pd.Series(np.arange(lo, hi + 1, dtype=float))
    got = zone_of(sat, default_thresholds(lo, hi))
    assert _names(got) == [full[c] for c in expected.split()]
    assert got.name == "zone"


def test_zone_of_missing_and_out_of_range():
    th = default_thresholds(1, 5)
    got = zone_of(pd.Series([5.0, NAN, 4.5], index=["a", "b", "c"]), th)
    assert _names(got) == ["affection", None, "indifference"]
    assert list(got.index) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="outside the scale"):
        zone_of(pd.Series([1, 99]), th)


def test_loyalty_level_seven_point():
    # high >= 6, low <= 3, medium otherwise (hand)
    got = loyalty_level(pd.Series([7, 6, 5.5, 4, 3.5, 3, 1, NAN]), default_thresholds(1, 7))
    assert _names(got) == ["high", "high", "medium", "medium", "medium", "low", "low", None]


# --------------------------------------------------------------------------- types, by hand per scale

# (satisfaction, loyalty, expected type) with the scale's default thresholds, worked from the
# decision table in the module docstring.
CASES = {
    (1, 5): [  # affection 5, defection 1-2, terrorist 1; loyalty high >= 5, low <= 2
        (5, 5, "apostle"),
        (4, 5, "loyalist"),
        (3, 5, "loyalist"),
        (2, 5, "hostage"),
        (1, 5, "hostage"),
        (5, 4.5, "mercenary"),
        (5, 1, "mercenary"),
        (3, 4.5, "defector"),
        (2, 1, "defector"),  # 2 is defection but not the lowest level
        (1, 3, "defector"),  # lowest level but medium loyalty
        (1, 1, "terrorist"),
        (1, 2, "terrorist"),
        (NAN, 3, None),
        (3, NAN, None),
    ],
    (1, 7): [  # affection 6-7, defection 1-3, terrorist 1; loyalty high >= 6, low <= 3
        (7, 7, "apostle"),
        (6, 6.5, "apostle"),
        (5, 6, "loyalist"),
        (4, 7, "loyalist"),
        (3, 6, "hostage"),
        (1, 7, "hostage"),
        (6, 5.5, "mercenary"),
        (7, 1, "mercenary"),
        (5, 5, "defector"),
        (4, 2, "defector"),
        (2, 1, "defector"),
        (1, 3.5, "defector"),
        (1, 3, "terrorist"),
    ],
    (1, 10): [  # affection 9-10, defection 1-6, terrorist 1-2; loyalty high >= 9, low <= 6
        (10, 9, "apostle"),
        (8, 10, "loyalist"),
        (7, 9.5, "loyalist"),
        (6, 9, "hostage"),
        (9, 8, "mercenary"),
        (7, 7, "defector"),
        (3, 1, "defector"),
        (1, 8.5, "defector"),
        (2, 6, "terrorist"),
        (1, 1, "terrorist"),
    ],
    (0, 10): [  # affection 9-10, defection 0-6, terrorist 0-1; loyalty high >= 9, low <= 6
        (10, 10, "apostle"),
        (9, 9, "apostle"),
        (7, 9, "loyalist"),
        (6, 9, "hostage"),
        (0, 10, "hostage"),
        (9, 6, "mercenary"),
        (8, 8, "defector"),
        (2, 0, "defector"),
        (0, 0, "terrorist"),
        (1, 6, "terrorist"),
    ],
}


@pytest.mark.parametrize("scale", list(CASES))
def test_type_of_hand_cases(scale):
    rows = CASES[scale]
    th = default_thresholds(*scale)
    sat = pd.Series([r[0] for r in rows], dtype=float)
    loy = pd.Series([r[1] for r in rows], dtype=float)
    got = type_of(sat, loy, th, th)
    assert _names(got) == [r[2] for r in rows]
    assert got.name == "type"


def test_type_of_mixed_scales():
    # satisfaction on 1-7, loyalty on 0-10 (high >= 9, low <= 6)
    sat = pd.Series([7, 7, 5, 2, 1], dtype=float)
    loy = pd.Series([9, 8, 10, 9.5, 6], dtype=float)
    got = type_of(sat, loy, default_thresholds(1, 7), default_thresholds(0, 10))
    assert _names(got) == ["apostle", "mercenary", "loyalist", "hostage", "terrorist"]


def test_type_of_detractor_flag():
    th = default_thresholds(1, 5)
    idx = ["c1", "c2", "c3", "c4", "c5"]
    sat = pd.Series([1, 1, 1, 5, 2], index=idx, dtype=float)
    loy = pd.Series([1, 1, 1, 5, 1], index=idx, dtype=float)
    det = pd.Series([True, False, None, True, True], index=idx, dtype=object)
    got = type_of(sat, loy, th, th, detractor=det)
    # False -> not a terrorist; missing answer -> rule without the flag; flag never makes a terrorist alone
    assert _names(got) == ["terrorist", "defector", "terrorist", "apostle", "defector"]
    assert list(got.index) == idx
    # nullable boolean and 0/1 floats are accepted too
    got2 = type_of(sat, loy, th, th, detractor=pd.Series([1.0, 0.0, NAN, 1.0, 1.0], index=idx))
    assert _names(got2) == _names(got)
    with pytest.raises(ValueError, match="detractor"):
        type_of(sat, loy, th, th, detractor=pd.Series(["yes"] * 5, index=idx))


def test_type_of_every_cell_exactly_one_type():
    # the full 7-point grid on half steps of loyalty: every pair gets one of the six types
    th = default_thresholds(1, 7)
    s, loyalty = np.meshgrid(np.arange(1, 8), np.arange(1, 7.5, 0.5))
    got = type_of(pd.Series(s.ravel(), dtype=float), pd.Series(loyalty.ravel()), th, th)
    assert got.notna().all() and set(got) <= set(TYPES)
    # independent count of apostles: satisfaction 6-7 and loyalty >= 6 -> 2 levels x 3 half-steps
    assert (got == "apostle").sum() == 2 * 3
    # terrorists: satisfaction 1 and loyalty <= 3 -> 5 half-steps (1, 1.5, 2, 2.5, 3)
    assert (got == "terrorist").sum() == 5


# --------------------------------------------------------------------------- tables


def test_zone_table_order_zeros_and_shares():
    types = pd.Series(
        ["defector", "apostle", "defector", NAN, "hostage", "apostle", "defector"], dtype=object
    )
    out = zone_table(types)
    assert list(out.columns) == ["type", "n", "share"]
    assert out["type"].tolist() == ["apostle", "loyalist", "mercenary", "hostage", "defector", "terrorist"]
    assert out["n"].tolist() == [2, 0, 0, 1, 3, 0]
    np.testing.assert_allclose(out["share"], [2 / 6, 0, 0, 1 / 6, 3 / 6, 0])


def test_zone_table_by_group():
    types = pd.Series(["apostle", "defector", "defector", "terrorist", "apostle"], dtype=object)
    region = pd.Series(["华东", "华北", "华东", "华北", NAN], name="region", dtype=object)
    out = zone_table(types, by=region)
    assert list(out.columns) == ["region", "type", "n", "share"]
    assert len(out) == 12
    east = out[out["region"] == "华东"].set_index("type")
    north = out[out["region"] == "华北"].set_index("type")
    assert east["n"].to_dict() == dict.fromkeys(TYPES, 0) | {"apostle": 1, "defector": 1}
    assert north.loc["terrorist", "share"] == 0.5 and north.loc["apostle", "n"] == 0


def test_zone_table_rejects_unknown_type():
    with pytest.raises(ValueError, match="unknown"):
        zone_table(pd.Series(["apostle", "fan"]))


def test_transition_table():
    wave1 = pd.Series(
        {"k1": "apostle", "k2": "apostle", "k3": "defector", "k4": "mercenary", "k9": "hostage"}
    )
    wave2 = pd.Series({"k1": "apostle", "k2": "mercenary", "k3": "loyalist", "k4": NAN, "k5": "defector"})
    out = transition_table(wave1, wave2)
    assert len(out) == 36 and out["n"].sum() == 3  # k1, k2, k3 linked and classified
    cell = out.set_index(["type_from", "type_to"])
    assert cell.loc[("apostle", "apostle"), "n"] == 1
    assert cell.loc[("apostle", "mercenary"), "row_share"] == 0.5
    assert cell.loc[("defector", "loyalist"), "row_share"] == 1.0
    assert math.isnan(cell.loc[("hostage", "hostage"), "row_share"])
    assert out["n"].sum() == 3
    with pytest.raises(ValueError, match="duplicate"):
        transition_table(pd.Series(["apostle", "apostle"], index=["a", "a"]), wave2)


# --------------------------------------------------------------------------- loyalty curve


def test_loyalty_curve_against_scipy_and_statsmodels():
    sat = pd.Series([1, 1, 1, 2, 2, 2, 2, 3, NAN, 3])
    loy = pd.Series([2.0, 3.0, 4.0, 3.0, 5.0, 4.0, 4.0, 6.0, 5.0, NAN])
    prom = pd.Series([0, 0, 1, 1, 1, 0, 1, 1, 1, 1], dtype=float)
    out = loyalty_curve(sat, loy, prom, conf=0.90)
    assert out["level"].tolist() == [1, 2, 3]
    assert out["n"].tolist() == [3, 4, 1]
    np.testing.assert_allclose(out["loyalty_mean"], [3.0, 4.0, 6.0])
    # level 1: mean 3, sd 1, n 3 -> scipy t interval
    lo, hi = stats.t.interval(0.90, 2, loc=3.0, scale=1.0 / math.sqrt(3))
    assert out.loc[0, "ci_low"] == pytest.approx(lo) and out.loc[0, "ci_high"] == pytest.approx(hi)
    lo, hi = stats.t.interval(0.90, 3, loc=4.0, scale=stats.sem([3.0, 5.0, 4.0, 4.0]))
    assert out.loc[1, "ci_low"] == pytest.approx(lo) and out.loc[1, "ci_high"] == pytest.approx(hi)
    assert math.isnan(out.loc[2, "ci_low"])  # n = 1
    # promoters: level 1: 1/3, level 2: 3/4, level 3: 2/2 (promoter counted where loyalty is missing)
    assert out["n_promoter"].tolist() == [3, 4, 2]
    np.testing.assert_allclose(out["promoter_share"], [1 / 3, 3 / 4, 1.0])
    for i, (k, n) in enumerate([(1, 3), (3, 4), (2, 2)]):
        ref = proportion_confint(k, n, alpha=0.10, method="wilson")
        np.testing.assert_allclose([out.loc[i, "promoter_ci_low"], out.loc[i, "promoter_ci_high"]], ref)


def test_loyalty_curve_without_promoter():
    out = loyalty_curve(pd.Series([1, 2, 2]), pd.Series([1.0, 2.0, 4.0]))
    assert out["promoter_share"].isna().all()
    assert out["loyalty_mean"].tolist() == [1.0, 3.0]


# --------------------------------------------------------------------------- breakpoint


DAVIES = Path(__file__).resolve().parent / "data" / "davies"


def test_breakpoint_exact_hinge_by_hand():
    # y = 2 + 0.5 x up to x = 4, then slope 2.5: y(4) = 4, y(x) = 4 + 2.5 (x - 4)
    x = np.repeat(np.arange(1, 11), 3).astype(float)
    y = np.where(x <= 4, 2 + 0.5 * x, 4 + 2.5 * (x - 4))
    res = loyalty_breakpoint(pd.Series(x), pd.Series(y))
    assert res.breakpoint == pytest.approx(4.0)
    assert res.slope_before == pytest.approx(0.5, abs=1e-8)
    assert res.slope_after == pytest.approx(2.5, abs=1e-8)
    assert res.intercept == pytest.approx(2.0, abs=1e-8)
    assert res.sse == pytest.approx(0.0, abs=1e-8) and res.r2 == pytest.approx(1.0)
    assert res.p < 1e-6 and res.detected is True
    assert res.ci_low == pytest.approx(4.0) and res.ci_high == pytest.approx(4.0)
    frame = res.to_frame()
    assert list(frame.columns) == list(res.to_dict()) and frame.shape == (1, 15)
    assert list(frame.columns[:3]) == ["breakpoint", "p", "detected"]


def test_breakpoint_matches_lstsq_grid_search():
    rng = np.random.default_rng(7)
    x = rng.integers(1, 8, 120).astype(float)
    y = 3 + 0.1 * x + 0.9 * np.maximum(x - 4.5, 0) + rng.normal(0, 0.6, x.size)
    res = loyalty_breakpoint(pd.Series(x), pd.Series(y))
    # independent brute force on the raw (not aggregated) respondents with numpy.linalg.lstsq
    grid = np.round(np.arange(2, 6 + 0.05, 0.1), 10)
    sse = []
    for c in grid:
        design = np.column_stack([np.ones_like(x), x, np.maximum(x - c, 0)])
        _, resid, _, _ = np.linalg.lstsq(design, y, rcond=None)
        sse.append(resid[0])
    sse = np.array(sse)
    c_best = grid[int(np.argmin(sse))]
    assert res.breakpoint == pytest.approx(c_best)
    design = np.column_stack([np.ones_like(x), x, np.maximum(x - c_best, 0)])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    assert res.intercept == pytest.approx(beta[0])
    assert res.slope_before == pytest.approx(beta[1])
    assert res.slope_after == pytest.approx(beta[1] + beta[2])
    assert res.sse == pytest.approx(min(sse))
    # straight line for r2_linear via scipy
    lin = stats.linregress(x, y)
    assert res.r2_linear == pytest.approx(lin.rvalue**2)
    assert res.slope_linear == pytest.approx(lin.slope)
    # a clear break: the profile likelihood-ratio interval, n log(SSE(c) / SSE_min) <= chi2_1(0.95) (Hinkley 1971)
    assert res.detected and res.p < 0.05
    inside = grid[len(x) * np.log(sse / sse.min()) <= stats.chi2.ppf(0.95, 1)]
    assert (res.ci_low, res.ci_high) == pytest.approx((inside.min(), inside.max()))
    assert res.ci_low <= res.breakpoint <= res.ci_high


def _davies_case(name: str) -> tuple[pd.Series, pd.Series]:
    if name == "mobi":
        mobi = pd.read_csv(MOBI)
        return mobi["CUSA1"].astype(float), mobi[["CUSL1", "CUSL2", "CUSL3"]].mean(axis=1)
    d = pd.read_csv(DAVIES / f"data_{name}.csv")
    return d["sat"].astype(float), d["loyalty"].astype(float)


def test_davies_p_matches_r_segmented():
    # davies_reference.csv: R 4.2.2, segmented 1.6-2, davies.test(lm(loyalty ~ sat), ~sat) (davies.R);
    # n <= 300 uses Davies (2002) for the linear model, n > 300 the normal approximation (Davies 1987)
    ref = pd.read_csv(DAVIES / "davies_reference.csv")
    assert len(ref) == 6 and (ref["n"] > 300).any() and (ref["n"] <= 300).any()
    for row in ref.itertuples():
        sat, loy = _davies_case(row.name)
        test = davies_test(sat, loy)
        assert test.n == row.n
        assert test.p == pytest.approx(row.p, rel=1e-8, abs=1e-300), row.name
        res = loyalty_breakpoint(sat, loy)
        assert res.p == pytest.approx(row.p, rel=1e-8, abs=1e-300)
        assert res.detected == (row.p < 0.05)
        if not res.detected:  # no interval without a break
            assert math.isnan(res.ci_low) and math.isnan(res.ci_high)
    # the real ECSI survey: no break (p = 0.27 in R)
    assert not loyalty_breakpoint(*_davies_case("mobi")).detected


def _rejection_rate(n: int, levels: int, reps: int, seed: int, kink: float = 0.0, at: float = 5.0) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        x = rng.integers(1, levels + 1, n).astype(float)
        y = 2 + 0.4 * x + kink * np.maximum(x - at, 0) + rng.normal(0, 1, n)
        hits += davies_test(x, y).p < 0.05
    return hits / reps


def test_davies_size_under_a_straight_line():
    # 1,000 straight lines each: the rejection rate at 5% is about 5% (Davies' bound is slightly
    # conservative: 4.1% and 4.3% here); binomial sd at 5% is 0.7 points
    assert 0.025 <= _rejection_rate(150, 7, 1000, seed=1) <= 0.065  # linear-model branch (n <= 300)
    assert 0.025 <= _rejection_rate(400, 7, 1000, seed=2) <= 0.065  # normal branch (n > 300)


@pytest.mark.slow
def test_davies_size_large_simulation():
    for n, levels, seed in ((120, 5, 11), (250, 10, 12), (800, 11, 13)):
        rate = _rejection_rate(n, levels, 4000, seed=seed)
        assert 0.035 <= rate <= 0.06, (n, levels, rate)  # sd 0.34 points


def test_davies_power_for_a_clear_kink():
    # slope 0.4, then 0.9 from satisfaction 6 on a 10-point scale, n = 300: always detected
    assert _rejection_rate(300, 10, 200, seed=5, kink=0.5, at=6) >= 0.95
    # flat until 5 then steep, 1,500 respondents: detected, the break near 5 and its interval covers it
    rng = np.random.default_rng(2025)
    x = rng.integers(1, 11, 1500).astype(float)
    y = 4 + 1.2 * np.maximum(x - 5.0, 0) + rng.normal(0, 0.8, x.size)
    res = loyalty_breakpoint(pd.Series(x), pd.Series(y))
    assert res.detected and res.p < 1e-10
    assert abs(res.breakpoint - 5.0) <= 0.3
    assert abs(res.slope_before) < 0.1 and abs(res.slope_after - 1.2) < 0.15
    assert res.ci_low <= 5.0 <= res.ci_high and res.ci_high - res.ci_low < 1.5
    assert res.r2 > res.r2_linear
    assert loyalty_breakpoint(pd.Series(x), pd.Series(y)) == res  # deterministic


def test_breakpoint_straight_line_not_detected():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 400).astype(float)
    y = 1 + 0.7 * x + rng.normal(0, 1, x.size)
    res = loyalty_breakpoint(pd.Series(x), pd.Series(y))
    assert not res.detected and res.p >= 0.05
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high)


def _report_ctx(tmp_path: Path, res, language: str):
    from types import SimpleNamespace

    from analysis.store import TABLES, Store

    assert TABLES["loyalty_breakpoint"].columns == ("breakpoint", "p", "detected")
    store = Store(tmp_path)
    path = store.write("loyalty_breakpoint", res.to_frame())
    assert path.read_text(encoding="utf-8").splitlines()[1].split(",")[2] in ("true", "false")  # CONTRACT
    return SimpleNamespace(read=store.read, has=store.exists, language=language)


def test_report_loyalty_text_with_and_without_a_break(tmp_path: Path):
    from analysis import report

    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 400).astype(float)
    line = loyalty_breakpoint(pd.Series(x), pd.Series(1 + 0.7 * x + rng.normal(0, 1, x.size)))
    ctx = _report_ctx(tmp_path / "line", line, "en")
    text = report.loyalty_text(ctx)
    assert "no clear break" in text and "straight relation" in text and f"p = {line.p:.3f}" in text
    assert f"{line.slope_linear:.2f} per point" in text and "at satisfaction" not in text
    zh = report.loyalty_text(_report_ctx(tmp_path / "line_zh", line, "zh"))
    assert "没有明显拐点" in zh and "直线关系" in zh
    y = 4 + 1.2 * np.maximum(x - 4.0, 0) + rng.normal(0, 0.8, x.size)
    kink = loyalty_breakpoint(pd.Series(x), pd.Series(y))
    text = report.loyalty_text(_report_ctx(tmp_path / "kink", kink, "en"))
    assert f"clear break at satisfaction {kink.breakpoint:.1f}" in text and "p < 0.001" in text
    assert f"interval {kink.ci_low:.1f} to {kink.ci_high:.1f}" in text
    zh = report.loyalty_text(_report_ctx(tmp_path / "kink_zh", kink, "zh"))
    assert f"满意度 {kink.breakpoint:.1f} 处有明显拐点" in zh and "p < 0.001" in zh


def test_breakpoint_needs_three_levels():
    with pytest.raises(ValueError, match="3 distinct"):
        loyalty_breakpoint(pd.Series([1.0, 2.0, 2.0]), pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="3 distinct"):
        davies_test([1.0, 2.0, 2.0], [1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- IPA


def test_ipa_quadrants_hand_example():
    imp = pd.Series({"质量": 4.0, "价格": 3.0, "交期": 2.0, "包装": 1.0})
    perf = pd.Series({"包装": 90.0, "质量": 60.0, "价格": 80.0, "交期": 70.0})
    out = ipa(imp, perf)  # grid at the means: importance 2.5, performance 75
    assert list(out.columns) == ["item", "importance", "performance", "quadrant"]
    assert out["item"].tolist() == ["质量", "价格", "交期", "包装"]
    assert out["performance"].tolist() == [60.0, 80.0, 70.0, 90.0]
    assert out["quadrant"].tolist() == [
        "Concentrate here",
        "Keep up the good work",
        "Low priority",
        "Possible overkill",
    ]
    assert (out.attrs["importance_line"], out.attrs["performance_line"]) == (2.5, 75.0)
    assert set(out["quadrant"]) == set(IPA_QUADRANTS)


def test_ipa_median_and_tuple_grid():
    imp = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 10.0})  # mean 4, median 2.5
    perf = pd.Series({"a": 50.0, "b": 60.0, "c": 70.0, "d": 40.0})  # mean 55, median 55
    assert ipa(imp, perf, "mean")["quadrant"].tolist() == [
        "Low priority",
        "Possible overkill",
        "Possible overkill",
        "Concentrate here",
    ]
    assert ipa(imp, perf, "median")["quadrant"].tolist() == [
        "Low priority",
        "Possible overkill",
        "Keep up the good work",
        "Concentrate here",
    ]
    # on the line counts as high on both axes
    assert ipa(imp, perf, (2.0, 60.0))["quadrant"].tolist() == [
        "Low priority",
        "Keep up the good work",
        "Keep up the good work",
        "Concentrate here",
    ]
    with pytest.raises(ValueError, match="same items"):
        ipa(imp, perf.drop("a"))
    with pytest.raises(ValueError, match="grid"):
        ipa(imp, perf, "mode")


def test_improvement_priorities_ordering():
    imp = pd.Series({"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0})
    perf = pd.Series({"A": 60.0, "B": 80.0, "C": 70.0, "D": 90.0})
    # default target = best item (90): gaps 30, 10, 20, 0 -> priorities 120, 30, 40, 0
    out = improvement_priorities(ipa(imp, perf))
    assert list(out.columns) == ["item", "importance", "performance", "gap", "priority", "rank"]
    assert out["item"].tolist() == ["A", "C", "B", "D"]
    assert out["priority"].tolist() == [120.0, 40.0, 30.0, 0.0]
    assert out["rank"].tolist() == [1, 2, 3, 4]
    # target 100: gaps 40, 20, 30, 10 -> 160, 60, 60, 10; B beats C on importance
    out = improvement_priorities(ipa(imp, perf), target=100)
    assert out["item"].tolist() == ["A", "B", "C", "D"]
    assert out["gap"].tolist() == [40.0, 20.0, 30.0, 10.0]
    # target 75: D is above target (gap -15) -> priority 0
    out = improvement_priorities(ipa(imp, perf), target=75).set_index("item")
    assert out.loc["D", "gap"] == -15.0 and out.loc["D", "priority"] == 0.0


# --------------------------------------------------------------------------- real data


def test_mobi_types_cover_everyone():
    mobi = pd.read_csv(MOBI)
    th = default_thresholds(1, 10)
    sat = mobi["CUSA1"].astype(float)
    loy = mobi[["CUSL1", "CUSL2", "CUSL3"]].mean(axis=1)
    types = type_of(sat, loy, th, th)
    assert types.notna().all() and len(types) == 250
    table = zone_table(types).set_index("type")
    assert table["n"].sum() == 250
    # independent counts straight from the definitions
    assert table.loc["apostle", "n"] == int(((sat >= 9) & (loy >= 9)).sum())
    assert table.loc["hostage", "n"] == int(((sat <= 6) & (loy >= 9)).sum())
    curve = loyalty_curve(sat, loy)
    assert curve["n"].sum() == 250
    grouped = loy.groupby(sat).mean()
    np.testing.assert_allclose(curve["loyalty_mean"], grouped.to_numpy())



def test_methods_text_states_the_break_test():
    from analysis import words

    for lang, needle in (("en", "Davies' test"), ("zh", "Davies 检验")):
        text = words.methods_text(words.MethodSettings(loyalty=True), lang)
        assert needle in text and "Hinkley 1971" in text and "p < 0.05" in text
    assert "Davies" not in words.methods_text(words.MethodSettings(loyalty=False), "en")


def test_weighted_zone_shares_and_loyalty_curve_by_hand() -> None:
    """Issue 13: weighted shares = shares of the rows repeated by integer weights; weighted mean loyalty per
    level = np.average; n stays the unweighted count."""
    import numpy as np
    import pandas as pd

    from analysis.weighting import Weights
    from analysis.zones import loyalty_curve, zone_table

    rng = np.random.default_rng(6)
    types = pd.Series(rng.choice(["apostle", "loyalist", "defector", "hostage"], 60))
    counts = pd.Series(rng.integers(1, 4, 60).astype(float))
    w = Weights(weight=counts, groups=pd.DataFrame(index=types.index), method="frequency")
    weighted = zone_table(types, weights=w)
    repeated = zone_table(types.loc[np.repeat(types.index, counts.astype(int))].reset_index(drop=True))
    np.testing.assert_allclose(weighted["share"], repeated["share"], atol=1e-12)
    assert weighted["n"].sum() == 60
    sat = pd.Series(rng.integers(1, 4, 60).astype(float))
    loy = pd.Series(rng.integers(1, 8, 60).astype(float))
    curve = loyalty_curve(sat, loy, weights=w).set_index("level")
    for level in (1.0, 2.0, 3.0):
        at = sat == level
        assert curve.loc[level, "loyalty_mean"] == pytest.approx(np.average(loy[at], weights=counts[at]), abs=1e-12)
        assert curve.loc[level, "n"] == at.sum()
        assert curve.loc[level, "ci_low"] < curve.loc[level, "loyalty_mean"] < curve.loc[level, "ci_high"]


# --------------------------------------------------------------------------- IPA bootstrap (issue 11, 6d)
def _ipa_data(n: int = 80, seed: int = 3) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """Ratings on 1-7 of an outcome y and four items, some answers missing."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    y = latent @ np.array([0.9, 0.5, 0.2, 0.05]) + rng.normal(scale=0.8, size=n)
    cols = {"y": y, **{f"i{k}": latent[:, k] + rng.normal(scale=0.7, size=n) for k in range(4)}}
    data = pd.DataFrame({c: np.clip(np.round(4 + 1.2 * v), 1, 7) for c, v in cols.items()})
    data = data.mask(rng.random(data.shape) < 0.05)
    return data, {c: (1, 7) for c in data.columns}


def _ipa_point(data: pd.DataFrame, ranges, grid="mean") -> pd.DataFrame:
    from analysis.describe import item_stats
    from analysis.drivers import relative_weights

    items = [c for c in data.columns if c != "y"]
    imp = relative_weights(data, "y", items).to_frame().set_index("predictor")["rescaled"]
    perf = item_stats(data.reset_index(drop=True), {i: ranges[i] for i in items}).set_index("item")["index"]
    return ipa(imp, perf, grid)


@pytest.mark.parametrize("grid", ["mean", "median", (0.25, 50.0)])
def test_ipa_stability_equals_a_plain_loop_over_resamples(grid):
    """The vectorised bootstrap = resampling rows with the same draws and redoing the IPA each time (the
    tested relative_weights, item_stats and ipa functions), skipping resamples where it is undefined."""
    from analysis.zones import ipa_stability

    data, ranges = _ipa_data()
    point = _ipa_point(data, ranges, grid)
    n_boot, seed = 60, 11
    got = ipa_stability(point, data, "y", ranges, n_boot=n_boot, seed=seed, grid=grid)
    idx = np.random.default_rng(seed).integers(0, len(data), size=(n_boot, len(data)))
    imps, perfs, same = [], [], []
    for rows in idx:
        sub = data.iloc[rows].reset_index(drop=True)
        try:
            one = _ipa_point(sub, ranges, grid)
        except ValueError:
            continue
        imps.append(one["importance"].to_numpy())
        perfs.append(one["performance"].to_numpy())
        same.append(one["quadrant"].to_numpy() == point["quadrant"].to_numpy())
    assert int(got["n_boot"].iloc[0]) == len(imps) > 50
    np.testing.assert_allclose(got["stability"], np.mean(same, axis=0), atol=1e-12)
    lo, hi = np.quantile(np.array(imps), [0.025, 0.975], axis=0)
    np.testing.assert_allclose(got["importance_ci_low"], lo, rtol=1e-8)
    np.testing.assert_allclose(got["importance_ci_high"], hi, rtol=1e-8)
    lo, hi = np.quantile(np.array(perfs), [0.025, 0.975], axis=0)
    np.testing.assert_allclose(got["performance_ci_low"], lo, rtol=1e-8)
    np.testing.assert_allclose(got["performance_ci_high"], hi, rtol=1e-8)


def test_ipa_stability_is_seeded_and_sees_a_clear_driver():
    from analysis.zones import ipa_stability

    data, ranges = _ipa_data(n=400)
    point = _ipa_point(data, ranges)
    a = ipa_stability(point, data, "y", ranges, n_boot=200, seed=5)
    b = ipa_stability(point, data, "y", ranges, n_boot=200, seed=5)
    pd.testing.assert_frame_equal(a, b)
    # i0 carries most of y, i3 almost nothing: their importance intervals are far apart
    ci = a.set_index("item")
    assert ci.loc["i0", "importance_ci_low"] > 0.4 > 0.1 > ci.loc["i3", "importance_ci_high"]
    assert ((a["stability"] >= 0) & (a["stability"] <= 1)).all()
    assert (a["importance_ci_low"] <= point["importance"]).all()
    assert (point["importance"] <= a["importance_ci_high"]).all()


def test_ipa_stability_without_usable_resamples_is_nan():
    from analysis.zones import ipa_stability

    data = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 2, 3, 5], "b": [2.0, 1, 4, 3]})
    point = ipa(pd.Series({"a": 0.6, "b": 0.4}), pd.Series({"a": 50.0, "b": 40.0}))
    out = ipa_stability(point, data, "y", {c: (1, 7) for c in data}, n_boot=20, seed=1)
    assert out["n_boot"].eq(0).all() or out["stability"].notna().all()
    one = ipa_stability(point, data.iloc[:2], "y", {c: (1, 7) for c in data}, n_boot=20, seed=1)
    assert one["stability"].isna().all() and one["n_boot"].eq(0).all()


def test_ipa_stability_grouped_above_boot_groups_agrees_with_the_row_bootstrap(monkeypatch):
    """Above analysis.pls.BOOT_GROUPS rows the IPA bootstrap resamples random groups of rows by their
    sums (issue 12: linear in n); its intervals agree with the row bootstrap's (widths within 25%)."""
    from analysis import pls
    from analysis.zones import ipa_stability

    data, ranges = _ipa_data(n=1200)
    point = _ipa_point(data, ranges)
    rows = ipa_stability(point, data, "y", ranges, n_boot=400, seed=3)
    monkeypatch.setattr(pls, "BOOT_GROUPS", 300)
    grouped = ipa_stability(point, data, "y", ranges, n_boot=400, seed=3)
    for name in ("importance", "performance"):
        w_rows = rows[f"{name}_ci_high"] - rows[f"{name}_ci_low"]
        w_grouped = grouped[f"{name}_ci_high"] - grouped[f"{name}_ci_low"]
        ratio = (w_grouped / w_rows).to_numpy()
        assert np.all((ratio > 0.75) & (ratio < 1.25)), (name, ratio)
    assert np.all(np.abs(grouped["stability"] - rows["stability"]) < 0.15)
