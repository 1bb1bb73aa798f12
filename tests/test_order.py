"""Natural order of group names (analysis.order), checked against orders written out by hand."""

from __future__ import annotations

import pandas as pd

from analysis.order import levels, natural_key, natural_sorted


def test_numbers_inside_names_compare_as_numbers() -> None:
    names = ["Tier 10", "Tier 2", "tier 1", "60+", "18-29", "9-17", "30-44", "b", "A"]
    assert sorted(names) == ["18-29", "30-44", "60+", "9-17", "A", "Tier 10", "Tier 2", "b", "tier 1"]  # plain
    assert natural_sorted(names) == ["9-17", "18-29", "30-44", "60+", "A", "b", "tier 1", "Tier 2", "Tier 10"]


def test_numbers_and_mixed_types() -> None:
    assert natural_sorted([10, 2, 1.5]) == [1.5, 2, 10]
    assert natural_sorted(["10", 2, "1"]) == ["1", 2, "10"]
    assert natural_key("华东") == ((1, 0.0, "华东"),)


def test_levels_keep_category_order_and_drop_absent_groups() -> None:
    cat = pd.Series(pd.Categorical(["Silver", "Gold", None], categories=["Gold", "Bronze", "Silver"], ordered=True))
    assert levels(cat) == ["Gold", "Silver"]
    assert levels(pd.Series(["g10", "g9", None, "g9"])) == ["g9", "g10"]
