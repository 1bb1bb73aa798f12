"""The whole demo program: survey definition, three waves and the planted effects."""

from __future__ import annotations

import pandas as pd

from .config import _WAVES, DEFAULT_SEED, PLANTED_EFFECTS
from .latent import _customer_pool, _model
from .questionnaire import _AHP_MATRIX, ahp_consistency_ratio, survey_definition
from .records import DemoProgram, WaveData
from .responses import _simulate_wave


def simulate_program(seed: int = DEFAULT_SEED) -> DemoProgram:
    """Simulate the whole demo program: survey definition, three waves and ground truth.

    Parameters
    ----------
    seed : seed of the numpy Generators (independent streams per wave and per complaint log).

    Returns
    -------
    DemoProgram with ``survey`` (dict of ``params/survey.yaml``), ``waves`` (wave id ->
    :class:`WaveData`) and ``effects`` (planted latent shifts vs the baseline wave).
    """
    ratio = ahp_consistency_ratio(_AHP_MATRIX)
    if ratio >= 0.1:
        raise ValueError(f"AHP matrix is inconsistent (CR={ratio:.3f})")
    model = _model()
    pool = _customer_pool(seed)
    waves: dict[str, WaveData] = {}
    previous = None
    for i, spec in enumerate(_WAVES):
        waves[spec.wave], previous = _simulate_wave(spec, seed, i, pool, previous, model)
    baseline = {w.wave: w.baseline for w in _WAVES}
    effects = pd.DataFrame(
        [
            {"wave": w, "baseline": baseline[w], "region": r, "construct": c, "shift": s}
            for w, r, c, s in PLANTED_EFFECTS
        ]
    )
    survey = {**survey_definition(), "weighting": customer_base_margins(pool)}
    return DemoProgram(seed=seed, survey=survey, waves=waves, effects=effects)


def customer_base_margins(pool: pd.DataFrame, segments: tuple[str, ...] = ("region", "channel")) -> dict:
    """The ``weighting:`` block of the demo: the customer base's (the simulated pool's) shares of each
    segment, rounded to 4 decimals with the largest group taking the rounding so each sums to 1."""
    margins = {}
    for seg in segments:
        shares = pool[seg].value_counts(normalize=True).sort_index()
        rounded = {str(g): round(float(x), 4) for g, x in shares.items()}
        largest = max(rounded, key=rounded.get)
        rounded[largest] = round(1 - sum(v for g, v in rounded.items() if g != largest), 4)
        margins[seg] = rounded
    return {"method": "rake", "margins": margins}
