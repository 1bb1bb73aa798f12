"""The latent model (ECSI-style structural equations, convex loyalty) and the customer pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from .config import (
    _BASE_SLOPE,
    _CUSTOMER_SHARE,
    _ITEMS,
    _KINK,
    _P_LIKELY7,
    _P_NPS11,
    _P_SAT7,
    _POOL_SIZE,
    _SHARPNESS,
    _WAVES,
    CHANNELS,
    CONSTRUCTS,
    CUSTOMER_TYPES,
    EXOGENOUS,
    LOYALTY,
    PLANTED_EFFECTS,
    REGIONS,
    SEGMENT_EFFECTS,
    STRUCTURAL,
    _WaveSpec,
)


def _thresholds(p: Sequence[float]) -> np.ndarray:
    return norm.ppf(np.cumsum(p)[:-1])


def _softplus(x: np.ndarray) -> np.ndarray:
    """Convex link of loyalty on satisfaction: gentle slope, then steep above the kink."""
    z = _SHARPNESS * (x - _KINK)
    return _BASE_SLOPE * x + np.logaddexp(0.0, z) / _SHARPNESS


@dataclass(frozen=True)
class _Model:
    exo_resid: dict[str, float]
    endo_resid: dict[str, float]
    g_mean: float
    g_sd: float
    loyalty_resid: float


def _model() -> _Model:
    """Residual sds giving unit latent variances (linear part exact; loyalty via Stein's lemma)."""
    shocks: dict[str, np.ndarray] = {}
    dim = 1 + len(CONSTRUCTS)
    g = np.zeros(dim)
    g[0] = 1.0
    exo_resid, endo_resid = {}, {}
    for k, (c, a) in enumerate(EXOGENOUS.items()):
        w = a * g
        w[1 + k] = np.sqrt(1 - a**2)
        exo_resid[c] = float(np.sqrt(1 - a**2))
        shocks[c] = w
    k = len(EXOGENOUS)
    for tgt, eq in STRUCTURAL.items():
        w = sum(coef * shocks[src] for src, coef in eq.items())
        var = float(w @ w)
        if var >= 0.95:
            raise ValueError(f"structural model: {tgt} has explained variance {var:.2f}")
        k += 1
        w = w.copy()
        w[k] = np.sqrt(1 - var)
        endo_resid[tgt] = float(np.sqrt(1 - var))
        shocks[tgt] = w
    # standardise the softplus of satisfaction under N(0, 1) with Gauss-Hermite quadrature
    x, wq = np.polynomial.hermite_e.hermegauss(120)
    wq = wq / wq.sum()
    sp = _softplus(x)
    g_mean = float(wq @ sp)
    g_sd = float(np.sqrt(wq @ (sp - g_mean) ** 2))
    dsp = _BASE_SLOPE + 1 / (1 + np.exp(-_SHARPNESS * (x - _KINK)))  # derivative of the link
    e_dg = float(wq @ dsp) / g_sd  # E[g'(S)] of the standardised softplus
    b_i, b_ch, b_s = LOYALTY["Image"], LOYALTY["ComplaintHandling"], LOYALTY["Satisfaction"]
    cov = {(a, b): float(shocks[a] @ shocks[b]) for a in shocks for b in shocks}
    cross = b_i * cov["Satisfaction", "Image"] + b_ch * cov["Satisfaction", "ComplaintHandling"]
    var = (
        b_i**2
        + b_ch**2
        + b_s**2
        + 2 * b_i * b_ch * cov["Image", "ComplaintHandling"]
        + 2 * b_s * e_dg * cross
    )
    return _Model(exo_resid, endo_resid, g_mean, g_sd, float(np.sqrt(1 - var)))


def _latent(
    rng: np.random.Generator, u: np.ndarray, delta: dict[str, np.ndarray], model: _Model
) -> pd.DataFrame:
    """Latent scores for ``len(u)`` respondents with persistent customer effects ``u``."""
    n = len(u)
    gen = np.sqrt(_CUSTOMER_SHARE) * u + np.sqrt(1 - _CUSTOMER_SHARE) * rng.standard_normal(n)
    eta: dict[str, np.ndarray] = {}
    for c, a in EXOGENOUS.items():
        eta[c] = a * gen + model.exo_resid[c] * rng.standard_normal(n) + delta[c]
    for tgt, eq in STRUCTURAL.items():
        lin = sum(coef * eta[src] for src, coef in eq.items())
        eta[tgt] = lin + model.endo_resid[tgt] * rng.standard_normal(n) + delta[tgt]
    gs = (_softplus(eta["Satisfaction"]) - model.g_mean) / model.g_sd
    eta["Loyalty"] = (
        LOYALTY["Image"] * eta["Image"]
        + LOYALTY["ComplaintHandling"] * eta["ComplaintHandling"]
        + LOYALTY["Satisfaction"] * gs
        + model.loyalty_resid * rng.standard_normal(n)
        + delta["Loyalty"]
    )
    return pd.DataFrame({c: eta[c] for c in CONSTRUCTS})


def _items_from_latent(rng: np.random.Generator, eta: pd.DataFrame, noise: float = 1.0) -> np.ndarray:
    """Raw integer codes (before any missing value), one column per item in questionnaire order."""
    n = len(eta)
    tau = {"sat7": _thresholds(_P_SAT7), "agree7": _thresholds(_P_SAT7), "likely7": _thresholds(_P_LIKELY7)}
    tau["nps11"] = _thresholds(_P_NPS11)
    out = np.empty((n, len(_ITEMS)), dtype=np.int64)
    for j, (_iid, scale, construct, _zh, _en, lam, offset, reverse, _p) in enumerate(_ITEMS):
        latent = eta["Loyalty" if construct == "Recommendation" else construct].to_numpy()
        lam_eff = lam / noise
        ystar = lam_eff * latent + np.sqrt(1 - lam_eff**2) * rng.standard_normal(n) + offset
        code = np.searchsorted(tau[scale], ystar) + (0 if scale == "nps11" else 1)
        out[:, j] = 8 - code if reverse else code
    return out


# --------------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------------


def _customer_pool(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 0])
    n = _POOL_SIZE
    region = rng.choice(list(REGIONS), size=n, p=list(REGIONS.values()))
    ctype = rng.choice(list(CUSTOMER_TYPES), size=n, p=list(CUSTOMER_TYPES.values()))
    channel = rng.choice(list(CHANNELS), size=n, p=list(CHANNELS.values()))
    channel = np.where((ctype == "政府机构") & (rng.random(n) < 0.7), "直销", channel)
    channel = np.where((ctype == "重点客户") & (rng.random(n) < 0.5), "直销", channel)
    k = np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "cust_no": [f"C{i:06d}" for i in k],
            "name": [f"测试用户{i:04d}" for i in k],
            "phone": [f"139-0000-{i:04d}" for i in k],
            "email": [f"user{i:04d}@example.com" for i in k],
            "region": region.astype(object),
            "channel": channel.astype(object),
            "customer_type": ctype.astype(object),
            "u": rng.standard_normal(n),
        }
    )


def _delta(spec: _WaveSpec, customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """Latent intercept shifts per respondent: planted wave effects (cumulative) + segment effects."""
    n = len(customers)
    delta = {c: np.zeros(n) for c in CONSTRUCTS}
    order = [w.wave for w in _WAVES]
    upto = set(order[: order.index(spec.wave) + 1])
    for wave, region, construct, shift in PLANTED_EFFECTS:
        if wave in upto:
            mask = np.ones(n, bool) if region == "all" else (customers["region"].to_numpy() == region)
            delta[construct] = delta[construct] + shift * mask
    for col, value, construct, shift in SEGMENT_EFFECTS:
        delta[construct] = delta[construct] + shift * (customers[col].to_numpy() == value)
    return delta
