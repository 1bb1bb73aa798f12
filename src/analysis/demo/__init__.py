"""The demo survey program: Huaxin Industrial's half-yearly satisfaction survey.

A seeded simulator of a realistic customer-satisfaction program (DOMAIN.md):
华信实业 / Huaxin Industrial, a B2B/B2C manufacturer, surveys its customers
every half year (ISO 9001 clause 8.2.1). Three waves (2025H1, 2025H2, 2026H1)
are generated from an ECSI-style latent model, written in three different raw
export formats with planted data problems, together with the survey
definition, the wave files and the complaint logs. Everything is regenerated
byte-identically by::

    csat demo [--root DIR]
    python -m analysis.demo [--root DIR] [--seed N]

Model
-----
Standardised latent variables follow the structural model in :data:`STRUCTURAL`
(exogenous constructs share a general factor, part of which is a persistent
customer effect so that linked customers correlate across waves). Loyalty is a
*convex* function of satisfaction (a softplus), so loyalty rises steeply only
at high satisfaction: the quality-insensitive zone (Jones & Sasser, 1995,
"Why satisfied customers defect", HBR 73(6)). Items are
``loading * latent + noise`` discretised with thresholds giving a left-skewed
7-level distribution (the ordinal-probit measurement model, e.g. Muthen 1984).

Ground truth (:class:`DemoProgram`)
-----------------------------------
Per wave: the raw table exactly as written, ``truth_rows`` (``row``: 1-based
data row of the raw file, ``reason``: the expected cleaning reason, empty when
kept), ``truth_values`` (planted out-of-range / unmatched values), the latent
scores, the complaint log and ``truth_comments`` (each comment's language, planted themes
as codebook codes, tone, traditional characters, typed contact details); and ``effects``, the planted latent shifts
(2025H2: +0.1 sd on every antecedent construct; 2026H1: a delivery problem in
华南, Delivery -0.8 sd, propagating to satisfaction and loyalty via the paths).

Modules
-------
``config``        questionnaire, latent model, segments, waves, planted dirt (plain data)
``questionnaire`` the survey definition (``params/survey.yaml``) and the AHP consistency ratio
``latent``        latent scores and item codes; the customer pool
``dirt``          the planted data problems (straightliners, break-offs, outliers, value issues)
``responses``     one wave: respondents, codes, durations, comments, the truth tables
``comments``      the comments' phrase banks and the survey's codebook
``exports``       the three raw export formats (cells, CSV and XLSX bytes)
``operations``    the complaint logs
``program``       :func:`simulate_program`, the whole program
``write``         the files (:func:`render_files`, :func:`write_program`) and the command line
"""

from __future__ import annotations

from .config import DEFAULT_SEED, DIRT, REASONS
from .program import simulate_program
from .questionnaire import ahp_consistency_ratio, survey_definition
from .records import DemoProgram, WaveData
from .write import main, render_files, write_program

__all__ = [
    "DEFAULT_SEED",
    "DIRT",
    "REASONS",
    "DemoProgram",
    "WaveData",
    "ahp_consistency_ratio",
    "main",
    "render_files",
    "simulate_program",
    "survey_definition",
    "write_program",
]
