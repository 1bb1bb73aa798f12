"""The complaint log of a wave (the operational KPIs: response, resolution and follow-up times)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .config import REGIONS, _WaveSpec

_CATEGORIES = {"交期": 0.25, "质量": 0.30, "包装": 0.15, "服务": 0.15, "价格": 0.10, "其他": 0.05}


def _complaints(spec: _WaveSpec, pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per complaint in the wave's half-year, with the service-process timestamps."""
    cfg = spec.complaints
    n_base = int(rng.poisson(cfg["rate"] * spec.customers))
    south = np.flatnonzero(pool["region"].to_numpy() == "华南")
    n_south = int(rng.poisson(cfg["south_delay"] * spec.customers * REGIONS["华南"]))
    who = np.concatenate([rng.choice(len(pool), size=n_base), rng.choice(south, size=n_south)])
    cats = list(_CATEGORIES)
    category = list(rng.choice(cats, size=n_base, p=list(_CATEGORIES.values()))) + ["交期"] * n_south
    start = dt.datetime.combine(spec.period[0], dt.time(0, 0))
    days = (spec.period[1] - spec.period[0]).days + 1
    rows = []
    for k in range(len(who)):
        day = int(rng.integers(0, days))
        opened = start + dt.timedelta(
            days=day, hours=int(rng.integers(8, 18)), minutes=int(rng.integers(0, 60))
        )
        if rng.random() < cfg["within_24h"]:
            resp_h = float(np.clip(rng.lognormal(np.log(3.0), 1.0), 0.1, 23.5))
        else:
            resp_h = float(rng.uniform(25, 72))
        first = opened + dt.timedelta(minutes=max(1, round(resp_h * 60)))
        res_days = float(rng.lognormal(np.log(cfg["resolve_days"]), 0.6))
        resolved = max(
            first + dt.timedelta(minutes=30), opened + dt.timedelta(minutes=round(res_days * 1440))
        )
        # call-back during office hours: 0-2 days after resolution (within 72 h), or 4-10 days, or never
        u = rng.random()
        after = int(rng.integers(0, 3)) if u < cfg["followup_3d"] else int(rng.integers(4, 11))
        follow: dt.datetime | None = dt.datetime.combine(
            resolved.date() + dt.timedelta(days=after),
            dt.time(int(rng.integers(9, 18)), int(rng.integers(0, 60))),
        )
        if follow <= resolved:
            follow += dt.timedelta(days=1)
        if cfg["followup_3d"] <= u < cfg["followup_3d"] + cfg["never"]:
            follow = None
        c = pool.iloc[int(who[k])]
        rows.append(
            {
                "opened_dt": opened,
                "customer_type": c["customer_type"],
                "region": c["region"],
                "channel": c["channel"],
                "opened": opened.strftime("%Y-%m-%d %H:%M"),
                "first_response": first.strftime("%Y-%m-%d %H:%M"),
                "resolved": resolved.strftime("%Y-%m-%d %H:%M"),
                "followed_up": follow.strftime("%Y-%m-%d %H:%M") if follow else None,
                "category": str(category[k]),
            }
        )
    df = pd.DataFrame(rows).sort_values("opened_dt", kind="stable").drop(columns="opened_dt")
    df.insert(0, "complaint_id", [f"CP{spec.wave}-{i:04d}" for i in range(1, len(df) + 1)])
    return df.reset_index(drop=True).astype(object)
