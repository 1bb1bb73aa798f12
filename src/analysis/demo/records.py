"""The simulated program and its waves, with the ground truth the tests check the pipeline against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class WaveData:
    """One simulated wave with its ground truth.

    Attributes
    ----------
    wave, baseline : wave id and baseline wave id (``None`` for the first wave).
    raw_file, operations_file : file names under ``data/raw``.
    fmt : raw export format (``csv_codes``, ``csv_labels_gbk``, ``xlsx_mixed``).
    invited, customers : invited respondents and active customers in the period.
    fieldwork : (start, end) dates.
    raw : the raw table exactly as written (object columns: ints, strings, ``None`` = empty).
    truth_rows : ``row`` (1-based data row), ``resp_id``, ``reason`` (expected cleaning reason,
        ``""`` when kept), ``planted`` (what was planted, incl. ``outlier``).
    truth_values : ``row``, ``column`` (item id), ``header`` (raw header), ``value`` (as text),
        ``kind`` (``out_of_range`` / ``unmatched_label``).
    latent : ``row`` plus one column per construct (latent scores; rows without a model draw,
        straightliners and duplicate-row copies, are absent).
    complaints : the complaint log as written.
    truth_comments : ``row``, ``language``, ``codes`` (planted themes as codebook codes, ``;``-separated),
        ``tone`` (positive / negative / mixed / neutral), ``traditional``, ``pii`` (phone / email / id or
        empty), ``text`` (as written): every generated comment of a genuine-like row (the HTML-escaping
        specials are absent).
    """

    wave: str
    baseline: str | None
    raw_file: str
    operations_file: str
    fmt: str
    invited: int
    customers: int
    fieldwork: tuple[dt.date, dt.date]
    raw: pd.DataFrame
    truth_rows: pd.DataFrame
    truth_values: pd.DataFrame
    latent: pd.DataFrame
    complaints: pd.DataFrame
    truth_comments: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_kept(self) -> int:
        """Number of rows the cleaning rules should keep."""
        return int((self.truth_rows["reason"] == "").sum())


@dataclass(frozen=True)
class DemoProgram:
    """The simulated program: survey definition, waves and planted effects.

    ``effects`` has columns ``wave``, ``baseline``, ``region`` (``all`` or a region),
    ``construct``, ``shift`` (latent intercept shift in sd units vs the baseline wave).
    """

    seed: int
    survey: dict
    waves: dict[str, WaveData]
    effects: pd.DataFrame
