"""The planted data problems of a wave: break-offs, straightliners, outliers and unreadable cells.

Works on the wave's code matrix (respondents x items, questionnaire order) in place. Besides the
real codes the matrix holds two sentinels, :data:`MISSING` (a defined no-answer code) and
:data:`BLANK` (an empty cell, or a cell holding a planted value issue).
"""

from __future__ import annotations

import numpy as np

from .config import _BAD_LABELS, _ITEMS, DIRT, ITEM_IDS

MISSING, BLANK = -1000, -2000  # sentinels in the code matrix


def straightline_blocks(min_items: int = 5) -> list[np.ndarray]:
    """Straight-lining blocks: the whole battery, and every scale and construct with >= 5 items."""
    out = [np.arange(len(_ITEMS))]
    for pos in (1, 2):  # scale, construct
        for key in dict.fromkeys(it[pos] for it in _ITEMS):
            cols = np.array([j for j, it in enumerate(_ITEMS) if it[pos] == key])
            if len(cols) >= min_items:
                out.append(cols)
    return out


def straightlined(codes: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
    """Rows whose answered items (>= 5) of a block all carry the same code (any block if ``cols`` is None)."""
    if cols is None:
        return np.logical_or.reduce([straightlined(codes, b) for b in straightline_blocks()])
    block = codes[:, cols]
    valid = block >= -100
    n_ans = valid.sum(axis=1)
    hi = np.where(valid, block, -(10**6)).max(axis=1)
    lo = np.where(valid, block, 10**6).min(axis=1)
    return (n_ans >= 5) & (hi == lo)


def plant_straightliners_and_breakoffs(
    rng: np.random.Generator, codes: np.ndarray, kinds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Give the ``straightliner`` rows one level everywhere and the ``incomplete`` rows a break-off.

    Then nudge any genuine-like row (genuine, duplicate_id, speeder) that is a straightliner by
    chance, so the first matching cleaning rule is always the planted one. Returns the row indices
    of the straightliners and of the break-offs. Raises RuntimeError if a genuine-like row is still
    a straightliner or answers fewer than 60% of the items.
    """
    n_items = codes.shape[1]
    sl = np.flatnonzero(kinds == "straightliner")
    levels = rng.choice([7, 4, 1, 6], size=len(sl), p=[0.45, 0.35, 0.12, 0.08])
    codes[sl] = levels[:, None]
    inc = np.flatnonzero(kinds == "incomplete")
    for r in inc:  # break-off after k items
        k = int(rng.integers(4, 15))
        codes[r, k:] = BLANK
        codes[r, :k] = np.where(codes[r, :k] == MISSING, 1 + rng.integers(3, 7), codes[r, :k])
    genuine_like = np.isin(kinds, ["genuine", "duplicate_id", "speeder"])
    # no genuine-like row may be a straightliner or incomplete by chance
    for block in straightline_blocks():
        for r in np.flatnonzero(genuine_like & straightlined(codes, block)):
            j = int(block[np.flatnonzero(codes[r, block] >= -100)[0]])
            codes[r, j] = codes[r, j] - 1 if codes[r, j] > 2 else codes[r, j] + 1
    if np.any(straightlined(codes[genuine_like])):
        raise RuntimeError("demo: a genuine row is a straightliner")
    answered = (codes >= -100).sum(axis=1) / n_items
    if np.any(answered[genuine_like] < 0.6):
        raise RuntimeError("demo: a genuine row is too incomplete")
    return sl, inc


def plant_outliers(rng: np.random.Generator, codes: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Multivariate outliers among ``eligible`` rows: attributes top, satisfaction bottom, loyalty top,
    NPS 0. Returns their row indices."""
    outliers = rng.choice(eligible, size=DIRT["outlier"], replace=False)
    cons = np.array([it[2] for it in _ITEMS])
    for r in outliers:
        row = np.where(cons == "Satisfaction", 1, 7)
        row[cons == "Recommendation"] = 0
        row[cons == "Loyalty"] = 7
        row[ITEM_IDS.index("q_pack_damage")] = 1
        row[ITEM_IDS.index("q_price_reasonable")] = 6
        codes[r] = row
    return outliers


def plant_value_issues(
    rng: np.random.Generator, codes: np.ndarray, eligible: np.ndarray, fmt: str, n_gen: int
) -> tuple[dict[tuple[int, int], object], np.ndarray]:
    """One out-of-range code or unmatched label in distinct ``eligible`` rows.

    Returns ``{(row, item column): value as written}`` and the rows used; the cells become
    :data:`BLANK` in ``codes``. Raises RuntimeError if that made a genuine row a straightliner.
    """
    n_items = codes.shape[1]
    n_oor, n_bad = DIRT["out_of_range"], DIRT["unmatched_label"]
    issue_rows = rng.choice(eligible, size=n_oor + n_bad, replace=False)
    issue_cols = rng.integers(0, n_items, size=n_oor + n_bad)
    issues: dict[tuple[int, int], object] = {}
    bad_labels = _BAD_LABELS[fmt]
    for k, (r, j) in enumerate(zip(issue_rows, issue_cols, strict=True)):
        if k < n_oor:
            if _ITEMS[j][1] == "nps11":
                value: object = [11, 77][k % 2]
            else:
                value = [8, 0, 77, 9][k % 4]
            if fmt == "csv_labels_gbk":
                value = str(value)
        else:
            value = bad_labels[k % len(bad_labels)]
        issues[int(r), int(j)] = value
        codes[r, j] = BLANK  # stands for "not an answer" in the checks below
    if np.any(straightlined(codes[:n_gen])):
        raise RuntimeError("demo: value issues created a straightliner")
    return issues, issue_rows
