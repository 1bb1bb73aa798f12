"""Natural order of group names, shared by every layer (no words, no files).

Groups of a segment appear in one order everywhere (tables, charts, reports): the
order of the survey's segment codebook when it gives one (an ordered pandas
Categorical carries it, :func:`analysis.survey.segment_groups`), otherwise the
*natural* order of the names: numbers inside a name compare as numbers, so
``Tier 2`` comes before ``Tier 10`` and ``9-17`` before ``18-29`` (a plain string
sort gives ``Tier 10, Tier 2`` and ``18-29, 9-17``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["natural_key", "natural_sorted", "levels"]

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def natural_key(value: Any) -> tuple:
    """Sort key of a group name: text parts case-folded, number parts as numbers.

    Input: any value (a number sorts by its value). Output: a tuple of ``(0, number)`` and
    ``(1, text)`` parts; numbers before text at the same position, as in file managers.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ((0, float(value), ""),)
    parts = []
    for i, chunk in enumerate(_NUMBER.split(str(value).strip())):
        if not chunk:
            continue
        parts.append((0, float(chunk), "") if i % 2 else (1, 0.0, chunk.casefold()))
    return tuple(parts)


def natural_sorted(values: Iterable[Any]) -> list:
    """The values in natural order (:func:`natural_key`), ties kept in input order."""
    return sorted(values, key=natural_key)


def levels(groups: pd.Series) -> list:
    """Observed group levels of a column: category order for a Categorical, else natural order."""
    observed = pd.unique(groups.dropna())
    if isinstance(groups.dtype, pd.CategoricalDtype):
        present = set(observed)
        return [c for c in groups.cat.categories if c in present]
    return natural_sorted(observed)
