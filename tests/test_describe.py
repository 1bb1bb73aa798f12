"""Tests of analysis.describe against statsmodels, scipy and hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from analysis import describe

SAT7 = {1: "很不满意", 2: "不满意", 3: "不太满意", 4: "一般", 5: "较满意", 6: "满意", 7: "很满意"}


@pytest.mark.parametrize(
    ("k", "n", "conf"), [(0, 10, 0.95), (3, 10, 0.95), (10, 10, 0.9), (47, 250, 0.99), (1, 1, 0.95)]
)
def test_wilson_matches_statsmodels(k, n, conf):
    low, high = describe.wilson_interval(k, n, conf)
    ref = proportion_confint(k, n, alpha=1 - conf, method="wilson")
    assert low == pytest.approx(ref[0], abs=1e-12)
    assert high == pytest.approx(ref[1], abs=1e-12)


def test_wilson_empty_and_invalid():
    assert all(math.isnan(v) for v in describe.wilson_interval(0, 0))
    with pytest.raises(ValueError):
        describe.wilson_interval(5, 3)


def test_item_stats_by_hand():
    data = pd.DataFrame({"a": [1, 2, 4, 5, 5, np.nan], "b": [7, 7, 6, 1, 4, 4]})
    out = describe.item_stats(data, {"a": (1, 5), "b": (1, 7)}).set_index("item")
    assert list(out.columns[:4]) == ["n", "mean", "sd", "median"]
    a = out.loc["a"]
    # answered 1, 2, 4, 5, 5: mean 17/5, squared deviations 5.76+1.96+0.36+2.56+2.56 = 13.2
    assert a["n"] == 5
    assert a["mean"] == pytest.approx(3.4)
    assert a["sd"] == pytest.approx(math.sqrt(13.2 / 4))
    assert a["median"] == 4 and a["min"] == 1 and a["max"] == 5
    assert a["top2box"] == pytest.approx(3 / 5)  # 4, 5, 5
    assert a["bottom2box"] == pytest.approx(2 / 5)  # 1, 2
    assert a["index"] == pytest.approx((3.4 - 1) / 4 * 100)  # 60
    # t interval of the mean from statsmodels, rescaled to 0-100
    lo, hi = DescrStatsW(np.array([1, 2, 4, 5, 5.0])).tconfint_mean(alpha=0.05)
    assert a["index_low"] == pytest.approx((lo - 1) / 4 * 100)
    assert a["index_high"] == pytest.approx((hi - 1) / 4 * 100)
    ref = proportion_confint(3, 5, method="wilson")
    assert (a["top2box_low"], a["top2box_high"]) == pytest.approx(ref)
    b = out.loc["b"]
    assert b["top2box"] == pytest.approx(3 / 6)  # 7, 7, 6
    assert b["bottom2box"] == pytest.approx(1 / 6)  # 1
    assert b["index"] == pytest.approx((29 / 6 - 1) / 6 * 100)
    top3 = describe.item_stats(data, {"b": (1, 7)}, top=3).iloc[0]
    assert top3["top2box"] == pytest.approx(3 / 6)  # levels 5-7: still 7, 7, 6


def test_item_stats_rejects_out_of_scale_codes():
    with pytest.raises(ValueError, match="outside its scale"):
        describe.item_stats(pd.DataFrame({"a": [1, 99]}), {"a": (1, 5)})


def test_distribution_lists_every_level():
    data = pd.DataFrame({"q": [1, 1, 3, np.nan, 5]})
    out = describe.distribution(data, {"q": (1, 5)}, labels={"q": {1: "差", 5: "好"}})
    assert list(out["level"]) == [1, 2, 3, 4, 5]
    assert list(out["n"]) == [2, 0, 1, 0, 1]
    assert list(out["share"]) == pytest.approx([0.5, 0, 0.25, 0, 0.25])
    assert list(out["label"]) == ["差", "2", "3", "4", "好"]


def test_satisfaction_rate_by_hand():
    values = pd.Series([7, 6, 5, 4, 3, 6, np.nan, 7, 2, 5])
    out = describe.satisfaction_rate(values, satisfied_levels=[5, 6, 7])
    assert out.n == 9 and out.k == 6
    assert out.value == pytest.approx(6 / 9) and out.metric == "satisfaction_rate"
    assert list(out.to_frame().columns) == ["metric", "value", "ci_low", "ci_high", "n"]
    assert (out.ci_low, out.ci_high) == pytest.approx(proportion_confint(6, 9, method="wilson"))


def test_nps_by_hand():
    # 20 answers: 9 promoters (9-10), 6 passives (7-8), 5 detractors (0-6), plus one missing
    values = pd.Series([10] * 5 + [9] * 4 + [8] * 3 + [7] * 3 + [6, 5, 3, 0, 2] + [np.nan])
    out = describe.nps(values)
    assert out.n == 20
    assert out.parts["promoters"] == pytest.approx(0.45)
    assert out.parts["passives"] == pytest.approx(0.30)
    assert out.parts["detractors"] == pytest.approx(0.25)
    assert out.value == pytest.approx(20.0)
    # se = sqrt((p + q - (p - q)^2) / n) = sqrt((0.70 - 0.04) / 20) = sqrt(0.033) = 0.181659
    assert out.se == pytest.approx(18.1659, abs=1e-4)
    # adjusted Wald: p' = 9.75/23 = 0.423913, q' = 5.75/23 = 0.250000, nps' = 0.173913
    # var' = (0.673913 - 0.173913^2) / 23 = 0.643667 / 23 = 0.0279855, se' = 0.167289
    # CI = 0.173913 -/+ 1.959964 * 0.167289 = (-0.153967, 0.501793)
    assert out.ci_low == pytest.approx(-15.3967, abs=1e-3)
    assert out.ci_high == pytest.approx(50.1793, abs=1e-3)
    row = out.to_frame()
    assert list(row.columns) == [
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "se",
        "promoters",
        "passives",
        "detractors",
    ]


def test_nps_rejects_codes_outside_0_10():
    with pytest.raises(ValueError):
        describe.nps(pd.Series([3, 11]))


def test_response_rate():
    out = describe.response_rate(960, 1200)
    assert out.value == pytest.approx(0.8) and (out.n, out.k, out.total) == (960, 960, 1200)
    # a complete count of the invited and the responding customers: no sampling interval (issue 11 k)
    assert math.isnan(out.ci_low) and math.isnan(out.ci_high) and out.method == "census"
    assert math.isnan(describe.response_rate(960, None).value)
    with pytest.raises(ValueError):
        describe.response_rate(10, 5)


def test_sample_profile_suppresses_small_cells():
    data = pd.DataFrame(
        {"region": ["华东"] * 10 + ["华南"] * 6 + ["华北"] * 3 + ["西部"], "channel": ["web"] * 20}
    )
    out = describe.sample_profile(data, ["region", "channel"], min_cell=5)
    region = out[out["segment"] == "region"].set_index("group")["n"]
    # 华北 (3) + 西部 (1) = 4 < 5 would reveal itself, so 华南 (6) is merged too
    assert region.to_dict() == {"华东": 10, "(suppressed: n<5)": 10}
    assert out.loc[out["segment"] == "channel", "share"].tolist() == [1.0]
    data2 = pd.DataFrame({"region": ["A"] * 10 + ["B"] * 3 + ["C"] * 2})
    out2 = describe.sample_profile(data2, ["region"]).set_index("group")["n"].to_dict()
    assert out2 == {"A": 10, "(suppressed: n<5)": 5}
    assert (describe.sample_profile(data2, ["region"])["n"] >= 5).all()


def test_sample_profile_lists_groups_in_their_order():
    """Issue 11, 6l: codebook (category) order, else natural order; not by size."""
    ages = ["60+"] * 5 + ["18-29"] * 20 + ["9-17"] * 6 + ["30-44"] * 9
    out = describe.sample_profile(pd.DataFrame({"age": ages}), ["age"])
    assert out["group"].tolist() == ["9-17", "18-29", "30-44", "60+"]
    tier = pd.Categorical(["Gold"] * 5 + ["Silver"] * 9 + ["Bronze"] * 7, categories=["Bronze", "Silver", "Gold"])
    out = describe.sample_profile(pd.DataFrame({"tier": tier}), ["tier"])
    assert out["group"].tolist() == ["Bronze", "Silver", "Gold"]


def test_wilson_interval_matches_the_formula():
    """statsmodels' Wilson interval against the score formula written out (Wilson 1927)."""
    z = 1.959963984540054
    for k, n in [(0, 10), (3, 10), (10, 10), (57, 133)]:
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        assert describe.wilson_interval(k, n) == pytest.approx(
            (max(0, centre - half), min(1, centre + half)), abs=1e-15
        )
    assert all(math.isnan(v) for v in describe.wilson_interval(0, 0))


def test_nps_shares_is_the_one_definition():
    assert describe.nps_shares(np.array([10, 9, 8, 7, 6, 0, np.nan])) == (2 / 6, 2 / 6)
    with pytest.raises(ValueError):
        describe.nps_shares(np.array([5.5]))
