"""One wave's responses: genuine rows from the latent model plus the planted dirt, and the truth tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .comments import THEME_CODES, make_comment
from .config import (
    _COMMENTS_MID,
    _COMMENTS_NEG,
    _COMMENTS_NEG_EN,
    _COMMENTS_POS,
    _COMMENTS_SPECIAL,
    _ITEMS,
    ATTRIBUTES,
    COMPLAINED_SHARE,
    CONSTRUCTS,
    DIRT,
    ITEM_IDS,
    REASONS,
    SCREENER,
    _WaveSpec,
)
from .dirt import BLANK, MISSING, plant_outliers, plant_straightliners_and_breakoffs, plant_value_issues
from .exports import encode_items, encode_screener, item_headers
from .latent import _delta, _items_from_latent, _latent, _Model
from .operations import _complaints
from .records import WaveData


def _choose_comment(rng: np.random.Generator, eta: pd.Series) -> str | None:
    if rng.random() > 0.33:
        return None
    english = rng.random() < 0.08
    sat = eta["Satisfaction"]
    if sat < -0.4:
        worst = min(ATTRIBUTES, key=lambda c: eta[c])
        if english:
            return _COMMENTS_NEG_EN[worst]
        pool = _COMMENTS_NEG[worst]
        return pool[int(rng.integers(len(pool)))]
    pool = _COMMENTS_POS if sat > 0.9 else _COMMENTS_MID
    return pool[int(rng.integers(len(pool)))]


def _skip_complaint_block(rng: np.random.Generator, codes: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Who complained in the half-year (:data:`COMPLAINED_SHARE`, from its own random stream): the others
    skip the complaint-handling questions by design (``asked_if`` in the survey), so their cells are
    empty. Planted straight-liners answer every question. Returns the complained flags."""
    complained = rng.random(len(kinds)) < COMPLAINED_SHARE
    complained[kinds == "straightliner"] = True
    block = [j for j, it in enumerate(_ITEMS) if it[2] == "ComplaintHandling"]
    codes[np.ix_(~complained, block)] = BLANK
    return complained


def _simulate_wave(
    spec: _WaveSpec, seed: int, index: int, pool: pd.DataFrame, previous: np.ndarray | None, model: _Model
) -> tuple[WaveData, np.ndarray]:
    """Simulate one wave: genuine rows from the latent model plus the planted dirt (:data:`DIRT`).

    Returns the wave and the pool indices of its kept customers (for linking the next wave).
    Raises RuntimeError if the planted truth would be ambiguous (e.g. a genuine row below the
    speeder cut), so the truth tables always equal what the cleaning rules find.
    """
    rng = np.random.default_rng([seed, 1 + index])
    n_items = len(_ITEMS)

    # -- respondents: ~40% of the previous wave's (kept) customers come back --------------------
    n_gen = spec.n_kept
    n_extra = DIRT["incomplete"] + DIRT["speeder"] + DIRT["straightliner"]
    all_idx = np.arange(len(pool))
    if previous is None:
        chosen = rng.choice(all_idx, size=n_gen + n_extra, replace=False)
    else:
        back = rng.choice(previous, size=round(0.4 * len(previous)), replace=False)
        others = rng.choice(np.setdiff1d(all_idx, previous), size=n_gen + n_extra - len(back), replace=False)
        # returning customers are all kept (genuine) respondents of this wave
        head = np.concatenate([back, others[: n_gen - len(back)]])
        chosen = np.concatenate([head[rng.permutation(n_gen)], others[n_gen - len(back) :]])
    gen_cust = chosen[:n_gen]
    extra_cust = chosen[n_gen:]

    kinds: list[str] = ["genuine"] * n_gen
    cust: list[int] = list(gen_cust)
    source: list[int] = [-1] * n_gen
    # duplicate_id / duplicate_row sources: distinct genuine rows
    sources = rng.choice(n_gen, size=DIRT["duplicate_id"] + DIRT["duplicate_row"], replace=False)
    for k, s in enumerate(sources):
        kinds.append("duplicate_id" if k < DIRT["duplicate_id"] else "duplicate_row")
        cust.append(int(gen_cust[s]))
        source.append(int(s))
    extra_kinds = ["incomplete"] * DIRT["incomplete"] + ["speeder"] * DIRT["speeder"]
    extra_kinds += ["straightliner"] * DIRT["straightliner"]
    for k, c in zip(extra_kinds, extra_cust, strict=True):
        kinds.append(k)
        cust.append(int(c))
        source.append(-1)
    kinds_a = np.array(kinds, dtype=object)
    n = len(kinds)
    customers = pool.iloc[np.array(cust)].reset_index(drop=True)

    # -- latent scores and item codes -------------------------------------------------------------
    eta = _latent(rng, customers["u"].to_numpy(), _delta(spec, customers), model)
    codes = _items_from_latent(rng, eta)
    noisy = _items_from_latent(rng, eta, noise=1.8)  # speeders answer carelessly
    codes[kinds_a == "speeder"] = noisy[kinds_a == "speeder"]
    p_missing = np.array([it[8] for it in _ITEMS])
    miss = rng.random((n, n_items)) < p_missing
    codes = np.where(miss, MISSING, codes)
    complained = _skip_complaint_block(np.random.default_rng([seed, 200 + index]), codes, kinds_a)

    sl, inc = plant_straightliners_and_breakoffs(rng, codes, kinds_a)
    genuine_like = np.isin(kinds_a, ["genuine", "duplicate_id", "speeder"])
    # planted outliers, then value issues: distinct genuine rows (not duplicate sources, not outliers)
    eligible = np.setdiff1d(np.arange(n_gen), sources)
    outliers = plant_outliers(rng, codes, eligible)
    complained[outliers] = True  # an outlier answers every question
    eligible = np.setdiff1d(eligible, outliers)
    issues, issue_rows = plant_value_issues(rng, codes, eligible, spec.fmt, n_gen)

    # duplicates: duplicate_row copies everything; duplicate_id keeps the person, new answers
    for r in np.flatnonzero(kinds_a == "duplicate_row"):
        codes[r] = codes[source[r]]
        complained[r] = complained[source[r]]
    screener = np.where(complained, 1, 2)
    screener[np.isin(kinds_a, ["incomplete"])] = BLANK  # a break-off stops before the screener

    # -- durations --------------------------------------------------------------------------------
    med = spec.median_duration
    dur = np.exp(np.log(med) + 0.32 * rng.standard_normal(n))
    dur = np.clip(dur, 0.5 * med, 2400)
    slow = rng.random(n) < 0.01
    dur = np.where(slow, rng.uniform(1800, 7200, n), dur)
    sp_rows = kinds_a == "speeder"
    dur[sp_rows] = rng.uniform(35, 0.25 * med, sp_rows.sum())
    dur[sl] = rng.uniform(0.42 * med, 0.85 * med, len(sl))
    for r in inc:
        dur[r] = max(20.0, dur[r] * (codes[r] >= -100).mean())
    dur = np.round(dur).astype(np.int64)
    for r in np.flatnonzero(kinds_a == "duplicate_row"):
        dur[r] = dur[source[r]]

    # -- other columns ----------------------------------------------------------------------------
    # who comments and in which language follows the original draws (so every other column is unchanged);
    # the text comes from the phrase banks (analysis.demo.comments) on a stream of its own
    comments: list[str | None] = [_choose_comment(rng, eta.iloc[r]) for r in range(n)]
    crng = np.random.default_rng([seed, 200 + index])
    planted_comments: dict[int, object] = {}
    for r in range(n):
        if comments[r] is not None and genuine_like[r]:
            english = comments[r].isascii()
            pc = make_comment(crng, eta.iloc[r], english)
            comments[r], planted_comments[r] = pc.text, pc
    for r in np.flatnonzero(~genuine_like):
        comments[r] = None
    specials = rng.choice(np.setdiff1d(eligible, issue_rows), size=len(_COMMENTS_SPECIAL), replace=False)
    for r, text in zip(specials, _COMMENTS_SPECIAL, strict=True):
        comments[r] = text
    nets = np.array(["198.51.100", "203.0.113", "192.0.2"])  # documentation ranges (RFC 5737)
    ips = [f"{a}.{b}" for a, b in zip(nets[rng.integers(0, 3, n)], rng.integers(1, 255, n), strict=True)]
    for r in np.flatnonzero(kinds_a == "duplicate_row"):
        comments[r] = comments[source[r]]
        ips[r] = ips[source[r]]

    # -- order of submission ----------------------------------------------------------------------
    t = np.sort(rng.random(n))[rng.permutation(n)]
    for r in np.flatnonzero(np.isin(kinds_a, ["duplicate_id", "duplicate_row"])):
        t[r] = t[source[r]] + rng.uniform(0.0005, 0.02)
    order = np.argsort(t, kind="stable")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    resp = [""] * n
    counter = 0
    for r in order:
        if kinds_a[r] != "duplicate_id":
            counter += 1
            resp[r] = f"{spec.wave}-{counter:05d}"
    for r in np.flatnonzero(kinds_a == "duplicate_id"):
        resp[r] = resp[source[r]]

    # -- speeder cut check -------------------------------------------------------------------------
    cut = 0.3333 * float(np.median(dur))
    fast = dur < cut
    must_be_fast = sp_rows
    may_be_fast = np.isin(kinds_a, ["incomplete", "duplicate_id", "duplicate_row"])
    if np.any(fast & ~must_be_fast & ~may_be_fast) or not np.all(fast[must_be_fast]):
        raise RuntimeError("demo: speeder cut does not separate planted speeders")
    if np.any(fast[np.isin(kinds_a, ["duplicate_id", "duplicate_row"])]):
        raise RuntimeError("demo: a duplicate is also fast")

    # -- encode cells -------------------------------------------------------------------------------
    headers = item_headers(spec.fmt)
    miss_pick = rng.random((n, n_items)) < 0.3
    item_cells = encode_items(spec.fmt, codes, issues, source, kinds_a, miss_pick)

    raw_cols: dict[str, list[object]] = {
        "resp_id": resp,
        "cust_no": list(customers["cust_no"]),
        "name": list(customers["name"]),
        "phone": list(customers["phone"]),
        "email": list(customers["email"]),
        "region": list(customers["region"]),
        "channel": list(customers["channel"]),
        "customer_type": list(customers["customer_type"]),
        "duration_sec": [int(d) for d in dur],
    }
    for h, col, it in zip(headers, item_cells, _ITEMS, strict=True):
        if it[2] == "ComplaintHandling" and SCREENER["id"] not in raw_cols and SCREENER["zh"] not in raw_cols:
            raw_cols[SCREENER["zh"] if spec.fmt == "csv_labels_gbk" else SCREENER["id"]] = encode_screener(
                spec.fmt, screener
            )
        raw_cols[h] = col
    raw_cols["q_comment"] = comments
    raw_cols["ip_address"] = ips
    raw = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in raw_cols.items()})
    raw = raw.iloc[order].reset_index(drop=True)

    reason = np.where(np.isin(kinds_a, REASONS), kinds_a, "")
    planted = np.where(kinds_a == "genuine", "", kinds_a).astype(object)
    planted[outliers] = "outlier"
    truth_rows = pd.DataFrame(
        {
            "row": pos + 1,
            "resp_id": resp,
            "reason": reason.astype(object),
            "planted": planted,
        }
    )
    truth_rows = truth_rows.sort_values("row").reset_index(drop=True)
    truth_comments = pd.DataFrame(
        [
            {
                "row": int(pos[r]) + 1,
                "language": pc.language,
                "codes": ";".join(sorted(THEME_CODES[t] for t in pc.themes)),
                "tone": pc.tone,
                "traditional": pc.traditional,
                "pii": pc.pii,
                "text": pc.text,
            }
            for r, pc in planted_comments.items()
            if comments[r] == pc.text
        ],
        columns=["row", "language", "codes", "tone", "traditional", "pii", "text"],
    ).sort_values("row").reset_index(drop=True)
    tv = [
        {
            "row": int(pos[r]) + 1,
            "column": ITEM_IDS[j],
            "header": headers[j],
            "value": str(v),
            "kind": "out_of_range" if isinstance(v, int) or str(v).isdigit() else "unmatched_label",
        }
        for (r, j), v in issues.items()
    ]
    truth_values = pd.DataFrame(tv).sort_values(["row", "column"]).reset_index(drop=True)
    has_latent = np.isin(kinds_a, ["genuine", "duplicate_id", "speeder", "incomplete"])
    latent = eta.loc[has_latent].assign(row=pos[has_latent] + 1)
    latent = latent[["row", *CONSTRUCTS]].sort_values("row").reset_index(drop=True)

    ops_rng = np.random.default_rng([seed, 100 + index])
    complaints = _complaints(spec, pool, ops_rng)
    invited = round(n_gen / spec.response_rate)
    wave = WaveData(
        wave=spec.wave,
        baseline=spec.baseline,
        raw_file=spec.raw,
        operations_file=f"{spec.wave}_complaints.csv",
        fmt=spec.fmt,
        invited=int(invited),
        customers=spec.customers,
        fieldwork=spec.fieldwork,
        raw=raw,
        truth_rows=truth_rows,
        truth_values=truth_values,
        latent=latent,
        complaints=complaints,
        truth_comments=truth_comments,
    )
    return wave, gen_cust
