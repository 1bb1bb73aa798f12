"""The demo survey program: Huaxin Industrial's half-yearly satisfaction survey.

A seeded simulator of a realistic customer-satisfaction program (DOMAIN.md):
华信实业 / Huaxin Industrial, a B2B/B2C manufacturer, surveys its customers
every half year (ISO 9001 clause 8.2.1). Three waves (2025H1, 2025H2, 2026H1)
are generated from an ECSI-style latent model, written in three different raw
export formats with planted data problems, together with the survey
definition, the wave files and the complaint logs. Everything is regenerated
byte-identically by::

    python -m analysis.simulate [--root DIR] [--seed N]

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
scores and the complaint log; and ``effects``, the planted latent shifts
(2025H2: +0.1 sd on every antecedent construct; 2026H1: a delivery problem in
华南, Delivery -0.8 sd, propagating to satisfaction and loyalty via the paths).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm

from analysis.index import RANDOM_INDEX as _SAATY_RI  # Saaty's random index: the one table

__all__ = [
    "DEFAULT_SEED",
    "DemoProgram",
    "WaveData",
    "ahp_consistency_ratio",
    "main",
    "render_files",
    "simulate_program",
    "survey_definition",
    "write_program",
]

#: Seed used for the committed demo files.
DEFAULT_SEED = 20250601

# --------------------------------------------------------------------------------------------------
# Questionnaire
# --------------------------------------------------------------------------------------------------

SAT7 = (
    ("很不满意", "Very dissatisfied"),
    ("不满意", "Dissatisfied"),
    ("不太满意", "Somewhat dissatisfied"),
    ("一般", "Neutral"),
    ("较满意", "Fairly satisfied"),
    ("满意", "Satisfied"),
    ("很满意", "Very satisfied"),
)
LIKELY7 = (
    ("肯定不会", "Definitely not"),
    ("不会", "Would not"),
    ("可能不会", "Probably not"),
    ("说不准", "Not sure"),
    ("可能会", "Probably"),
    ("会", "Would"),
    ("肯定会", "Definitely"),
)
AGREE7 = (
    ("完全不同意", "Strongly disagree"),
    ("不同意", "Disagree"),
    ("有点不同意", "Somewhat disagree"),
    ("中立", "Neither agree nor disagree"),
    ("有点同意", "Somewhat agree"),
    ("同意", "Agree"),
    ("完全同意", "Strongly agree"),
)
MISSING7 = [99, -99, "不适用", "N/A", "不清楚"]
SCALE_LABELS = {"sat7": SAT7, "likely7": LIKELY7, "agree7": AGREE7}

# (id, scale, construct, zh, en, loading, offset, reverse, p_missing)
_ITEMS: tuple[tuple[str, str, str, str, str, float, float, bool, float], ...] = (
    ("q_img_reputation", "sat7", "Image", "企业信誉", "Company reputation", 0.82, 0.15, False, 0.01),
    ("q_img_trust", "sat7", "Image", "值得信赖程度", "Trustworthiness", 0.85, 0.10, False, 0.01),
    ("q_img_innovation", "sat7", "Image", "技术实力与创新", "Technical strength and innovation", 0.74, -0.10, False, 0.02),
    ("q_exp_quality", "sat7", "Expectation", "合作前对产品质量的期望", "Expected product quality before ordering", 0.78, 0.10, False, 0.02),
    ("q_exp_service", "sat7", "Expectation", "合作前对服务的期望", "Expected service before ordering", 0.80, 0.05, False, 0.02),
    ("q_exp_reliability", "sat7", "Expectation", "对按承诺交付的信心", "Confidence that promises are kept", 0.76, 0.00, False, 0.02),
    ("q_pq_appearance", "sat7", "ProductQuality", "产品外观", "Product appearance", 0.74, 0.20, False, 0.01),
    ("q_pq_size", "sat7", "ProductQuality", "产品尺寸与规格", "Product size and specification", 0.80, 0.10, False, 0.01),
    ("q_pq_performance", "sat7", "ProductQuality", "产品性能", "Product performance", 0.86, 0.05, False, 0.01),
    ("q_pq_consistency", "sat7", "ProductQuality", "批次质量一致性", "Batch-to-batch consistency", 0.82, -0.15, False, 0.02),
    ("q_del_ontime", "sat7", "Delivery", "交期准时", "On-time delivery", 0.86, -0.10, False, 0.01),
    ("q_del_leadtime", "sat7", "Delivery", "交货周期", "Delivery lead time", 0.82, -0.20, False, 0.01),
    ("q_del_accuracy", "sat7", "Delivery", "订单准确性（品种、数量）", "Order accuracy (items, quantities)", 0.76, 0.15, False, 0.01),
    ("q_pack_protect", "sat7", "Packaging", "包装防护", "Protective packaging", 0.84, 0.05, False, 0.01),
    ("q_pack_label", "sat7", "Packaging", "包装标识清晰", "Clear packaging labels", 0.78, 0.15, False, 0.01),
    ("q_pack_damage", "agree7", "Packaging", "包装破损经常发生", "Packaging damage happens often", 0.72, 0.30, True, 0.02),
    ("q_ch_timely", "sat7", "ComplaintHandling", "投诉处理及时性", "Timeliness of complaint handling", 0.84, -0.15, False, 0.08),
    ("q_ch_outcome", "sat7", "ComplaintHandling", "投诉处理结果", "Outcome of complaint handling", 0.86, -0.20, False, 0.08),
    ("q_ch_followup", "sat7", "ComplaintHandling", "投诉处理后的回访", "Follow-up after a complaint", 0.78, -0.25, False, 0.09),
    ("q_ts_consult", "sat7", "TechService", "技术咨询与服务", "Technical consultation and service", 0.80, 0.00, False, 0.04),
    ("q_ts_attitude", "sat7", "TechService", "服务态度", "Service attitude", 0.82, 0.25, False, 0.01),
    ("q_ts_speed", "sat7", "TechService", "响应速度", "Response speed", 0.84, -0.05, False, 0.01),
    ("q_price_reasonable", "sat7", "Price", "价格合理性", "Reasonableness of price", 0.84, -0.30, False, 0.01),
    ("q_price_value", "sat7", "Price", "性价比", "Value for money", 0.86, -0.10, False, 0.01),
    ("q_price_compare", "sat7", "Price", "与同类供应商相比的价格", "Price compared with other suppliers", 0.76, -0.25, False, 0.03),
    ("q_overall", "sat7", "Satisfaction", "总体满意度", "Overall satisfaction", 0.90, 0.00, False, 0.005),
    ("q_sat_expect", "sat7", "Satisfaction", "与期望相比的满意程度", "Satisfaction compared with expectations", 0.84, -0.10, False, 0.01),
    ("q_sat_ideal", "sat7", "Satisfaction", "与理想供应商相比", "Compared with an ideal supplier", 0.80, -0.30, False, 0.02),
    ("q_repurchase", "likely7", "Loyalty", "继续向华信采购的可能性", "Likelihood of buying from Huaxin again", 0.86, 0.20, False, 0.01),
    ("q_recommend_brand", "likely7", "Loyalty", "向同行推荐华信的可能性", "Likelihood of recommending Huaxin to peers", 0.84, 0.00, False, 0.01),
    ("q_price_tolerance", "likely7", "Loyalty", "价格上涨5%仍继续采购", "Would keep buying after a 5% price rise", 0.74, -0.30, False, 0.02),
    ("q_nps", "nps11", "Recommendation", "向朋友或同事推荐华信的可能性（0-10分）", "How likely to recommend Huaxin to a friend or colleague (0-10)", 0.80, 0.00, False, 0.01),
)  # fmt: skip
ITEM_IDS = [it[0] for it in _ITEMS]
CONSTRUCTS = [
    "Image",
    "Expectation",
    "ProductQuality",
    "Delivery",
    "Packaging",
    "ComplaintHandling",
    "TechService",
    "Price",
    "Satisfaction",
    "Loyalty",
]
ATTRIBUTES = ["ProductQuality", "Delivery", "Packaging", "ComplaintHandling", "TechService", "Price"]

# --------------------------------------------------------------------------------------------------
# Latent model
# --------------------------------------------------------------------------------------------------

#: Loading of each exogenous construct on the general (partly customer-persistent) factor.
EXOGENOUS = {
    "Image": 0.55,
    "Delivery": 0.45,
    "Packaging": 0.35,
    "ComplaintHandling": 0.45,
    "TechService": 0.50,
}
#: Linear structural equations, target -> {source: standardised coefficient}, in causal order.
STRUCTURAL = {
    "Expectation": {"Image": 0.50},
    "ProductQuality": {"Expectation": 0.45},
    "Price": {"ProductQuality": 0.45},
    "Satisfaction": {
        "Image": 0.14,
        "Expectation": 0.06,
        "ProductQuality": 0.27,
        "Delivery": 0.30,
        "Packaging": 0.10,
        "ComplaintHandling": 0.12,
        "TechService": 0.15,
        "Price": 0.17,
    },
}
#: Loyalty = sum(coef * source) + coef_sat * softplus(satisfaction) (standardised) + noise.
LOYALTY = {"Image": 0.12, "ComplaintHandling": 0.10, "Satisfaction": 0.70}
#: Loyalty on latent satisfaction: slope ``_BASE_SLOPE`` below the kink ``_KINK``, 1 + that above.
_KINK, _SHARPNESS, _BASE_SLOPE = 0.45, 3.0, 0.5
#: Share of the general factor's variance that is a persistent customer effect.
_CUSTOMER_SHARE = 0.5
#: Static segment differences (all waves): (column, value, construct, latent shift).
SEGMENT_EFFECTS = (
    ("customer_type", "重点客户", "TechService", 0.15),
    ("customer_type", "重点客户", "Image", 0.10),
    ("customer_type", "政府机构", "Price", -0.10),
    ("channel", "电商", "Packaging", -0.25),
    ("region", "西部", "Delivery", -0.15),
)
_ANTECEDENTS = CONSTRUCTS[:8]
#: Planted changes vs the baseline wave: (wave, region or "all", construct, shift in latent sd).
PLANTED_EFFECTS = tuple(("2025H2", "all", c, 0.10) for c in _ANTECEDENTS) + (
    ("2026H1", "华南", "Delivery", -0.80),
)

# marginal category probabilities of the continuous response (left-skewed 7-level scale)
_P_SAT7 = [0.02, 0.03, 0.06, 0.12, 0.25, 0.32, 0.20]
_P_LIKELY7 = [0.04, 0.06, 0.10, 0.20, 0.25, 0.20, 0.15]
_P_NPS11 = [0.02, 0.01, 0.02, 0.03, 0.03, 0.06, 0.08, 0.16, 0.21, 0.20, 0.18]

REGIONS = {"华东": 0.35, "华南": 0.25, "华北": 0.25, "西部": 0.15}
CHANNELS = {"直销": 0.35, "经销商": 0.45, "电商": 0.20}
CUSTOMER_TYPES = {"重点客户": 0.15, "普通客户": 0.75, "政府机构": 0.10}
_POOL_SIZE = 6500

# --------------------------------------------------------------------------------------------------
# Waves
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WaveSpec:
    wave: str
    baseline: str | None
    raw: str  # file name under data/raw
    fmt: str  # csv_codes | csv_labels_gbk | xlsx_mixed
    n_kept: int
    response_rate: float
    customers: int
    fieldwork: tuple[dt.date, dt.date]
    period: tuple[dt.date, dt.date]
    median_duration: float
    complaints: dict = field(default_factory=dict)


_WAVES = (
    _WaveSpec(
        "2025H1", None, "2025H1.csv", "csv_codes", 2230, 0.85, 5200,
        (dt.date(2025, 5, 6), dt.date(2025, 6, 20)), (dt.date(2025, 1, 1), dt.date(2025, 6, 30)), 480.0,
        {"rate": 0.040, "within_24h": 0.92, "resolve_days": 6.5, "followup_3d": 0.80, "never": 0.06, "south_delay": 0.0},
    ),
    _WaveSpec(
        "2025H2", "2025H1", "2025H2.csv", "csv_labels_gbk", 2360, 0.82, 5350,
        (dt.date(2025, 11, 4), dt.date(2025, 12, 19)), (dt.date(2025, 7, 1), dt.date(2025, 12, 31)), 465.0,
        {"rate": 0.025, "within_24h": 1.00, "resolve_days": 3.8, "followup_3d": 0.95, "never": 0.02, "south_delay": 0.0},
    ),
    _WaveSpec(
        "2026H1", "2025H2", "2026H1.xlsx", "xlsx_mixed", 2110, 0.76, 5420,
        (dt.date(2026, 5, 5), dt.date(2026, 6, 19)), (dt.date(2026, 1, 1), dt.date(2026, 6, 30)), 450.0,
        {"rate": 0.024, "within_24h": 0.97, "resolve_days": 1.7, "followup_3d": 1.00, "never": 0.0, "south_delay": 0.04},
    ),
)  # fmt: skip
#: Constructs whose items the 2026H1 XLSX export writes as English labels (the rest as codes).
_XLSX_LABEL_CONSTRUCTS = {"Delivery", "Packaging", "Loyalty"}
#: Planted dirt per wave (rows, or cells for the last two).
DIRT = {
    "duplicate_id": 10,
    "duplicate_row": 10,
    "incomplete": 20,
    "speeder": 30,
    "straightliner": 25,
    "outlier": 5,
    "out_of_range": 40,
    "unmatched_label": 10,
}
REASONS = ["duplicate_id", "duplicate_row", "incomplete", "speeder", "straightliner"]

_COMMENTS_NEG = {
    "ProductQuality": [
        "不同批次的质量差异较大，希望加强出厂检验。",
        "产品尺寸偶尔超差，影响装配。",
        "性能不够稳定，希望改进。",
    ],
    "Delivery": [
        "交期经常延误，影响我们的生产计划。",
        "交货周期太长，希望缩短。",
        "最近几次发货数量不对。",
        "催了很多次才发货。",
    ],
    "Packaging": ["包装太简单，运输途中有破损。", "外箱标识不清楚，收货时难以核对。"],
    "ComplaintHandling": ["投诉后很久没人处理。", "问题处理结果不满意，也没有回访。"],
    "TechService": ["技术咨询电话经常打不通。", "售后响应速度慢，需要改进。"],
    "Price": ["价格偏高，希望有更多优惠。", "与同类供应商相比，性价比一般。", "希望付款条件更灵活一些。"],
}
_COMMENTS_NEG_EN = {
    "ProductQuality": "Quality varies too much between batches.",
    "Delivery": "Delivery was late twice this quarter.",
    "Packaging": "Please improve the packaging, several boxes arrived damaged.",
    "ComplaintHandling": "Nobody called back after my complaint.",
    "TechService": "Technical support is hard to reach.",
    "Price": "Good quality, but the price is high.",
}
_COMMENTS_POS = [
    "产品质量稳定，继续保持。",
    "服务态度很好，响应及时。",
    "交货准时，包装也很好。",
    "技术支持很专业，解决问题快。",
    "合作多年，总体满意。",
    "希望继续保持现在的服务水平。",
    "Very responsive technical team, thank you!",
]
_COMMENTS_MID = [
    "希望增加线上下单和物流跟踪功能。",
    "建议定期拜访客户，了解我们的需求。",
    "希望提供更多产品规格选择。",
    "没有特别的意见。",
    "总体还可以，价格再优惠一些就更好了。",
    "Please send the monthly statement earlier.",
]
#: Comments that test HTML escaping in the reports (one of each per wave).
_COMMENTS_SPECIAL = [
    "<script>alert(1)</script>",
    "价格 & 交期都要改进，<b>请尽快</b>回复",
    'Quality is "OK", but price & delivery need work <b>urgently</b>',
]
_BAD_LABELS = {
    "csv_codes": ["满意的", "good", "5分", "还行", "OK"],
    "csv_labels_gbk": ["满意的", "还行", "good", "非常满意！", "一般般"],
    "xlsx_mixed": ["good", "满意的", "satisfied-ish", "fine", "还行"],
}


# --------------------------------------------------------------------------------------------------
# Public data structures
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Survey definition
# --------------------------------------------------------------------------------------------------

#: Saaty pairwise comparison of the index constructs (row vs column); reciprocals are exact decimals.
_AHP_MATRIX = [
    [1, 2, 5, 2, 2, 4],
    [0.5, 1, 4, 2, 2, 2],
    [0.2, 0.25, 1, 0.5, 0.5, 0.5],
    [0.5, 0.5, 2, 1, 1, 2],
    [0.5, 0.5, 2, 1, 1, 2],
    [0.25, 0.5, 2, 0.5, 0.5, 1],
]


def ahp_consistency_ratio(matrix: Sequence[Sequence[float]]) -> float:
    """Saaty's consistency ratio CR = CI / RI of a pairwise comparison matrix.

    ``CI = (lambda_max - n) / (n - 1)`` with ``lambda_max`` the principal eigenvalue and RI
    Saaty's random index (Saaty 1980, *The Analytic Hierarchy Process*). CR < 0.1 is acceptable.
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    lam = float(np.max(np.linalg.eigvals(a).real))
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = _SAATY_RI[n]
    return ci / ri if ri else 0.0


def _labels(scale: str) -> dict[int, dict[str, str]]:
    return {k + 1: {"zh": zh, "en": en} for k, (zh, en) in enumerate(SCALE_LABELS[scale])}


#: Display names of the constructs in the reports (``constructs:`` in the survey definition).
CONSTRUCT_NAMES = {
    "Image": ("企业形象", "Image"),
    "Expectation": ("客户期望", "Expectation"),
    "ProductQuality": ("产品质量", "Product quality"),
    "Delivery": ("交付", "Delivery"),
    "Packaging": ("包装", "Packaging"),
    "ComplaintHandling": ("投诉处理", "Complaint handling"),
    "TechService": ("技术服务", "Technical service"),
    "Price": ("价格与价值", "Price and value"),
    "Satisfaction": ("客户满意", "Satisfaction"),
    "Loyalty": ("客户忠诚", "Loyalty"),
    "Recommendation": ("推荐意愿", "Recommendation"),
}


def survey_definition() -> dict:
    """The demo survey definition (``params/survey.yaml``) as a plain dict.

    Follows CONTRACT.md section 1 plus the agreed extensions (multilingual labels,
    ``index``/``ahp``, ``targets``, ``cleaning``, ``satisfied_levels``, ``repurchase``).
    """
    items = []
    for iid, scale, construct, zh, en, *_rest in _ITEMS:
        reverse = _rest[2]
        item: dict = {"id": iid, "scale": scale, "construct": construct}
        if reverse:
            item["reverse"] = True
        item["text"] = {"en": en, "zh": zh}
        items.append(item)
    paths = [[src, tgt] for tgt, eq in STRUCTURAL.items() for src in eq] + [
        [src, "Loyalty"] for src in LOYALTY
    ]
    order = {c: i for i, c in enumerate(CONSTRUCTS)}
    paths.sort(key=lambda p: (order[p[1]], order[p[0]]))
    return {
        "title": {"en": "Huaxin Industrial customer satisfaction survey", "zh": "华信实业客户满意度调查"},
        "language": "zh",
        "respondent_id": "resp_id",
        "customer_id": "cust_no",
        "pii": ["name", "phone", "email"],
        "segments": ["region", "channel", "customer_type"],
        "duration": "duration_sec",
        "scales": {
            "sat7": {"min": 1, "max": 7, "labels": _labels("sat7"), "missing": list(MISSING7)},
            "agree7": {"min": 1, "max": 7, "labels": _labels("agree7"), "missing": list(MISSING7)},
            "likely7": {"min": 1, "max": 7, "labels": _labels("likely7"), "missing": list(MISSING7)},
            "nps11": {"min": 0, "max": 10, "missing": [99, -99]},
        },
        "items": items,
        "overall_satisfaction": "q_overall",
        "satisfied_levels": [6, 7],
        "loyalty": ["q_repurchase", "q_recommend_brand", "q_price_tolerance"],
        "repurchase": "q_repurchase",
        "recommend": "q_nps",
        "open_ended": ["q_comment"],
        "paths": paths,
        "constructs": {c: {"zh": zh, "en": en} for c, (zh, en) in CONSTRUCT_NAMES.items()},
        "index": {
            "weights": "ahp",
            "constructs": list(ATTRIBUTES),
            "ahp": {"labels": list(ATTRIBUTES), "matrix": [list(r) for r in _AHP_MATRIX]},
        },
        "targets": {
            "satisfaction_rate": {"min": 0.90},
            "index_change": {"min": 5},
            "nps": {"min": 30},
            "response_rate": {"min": 0.80},
            "repurchase_rate": {"min": 0.70},
            "complaint_rate_change": {"max": -0.30},
            "resolution_time_change": {"max": -0.50},
            "response_within_24h": {"min": 1.0},
            "followup_within_3d": {"min": 1.0},
        },
        "cleaning": {
            "min_answered": 0.5,
            "speeder_fraction": 0.3333,
            "straightline_min_items": 5,
            "max_unreadable": 0.20,
            "outlier_alpha": 0.001,
        },
    }


# --------------------------------------------------------------------------------------------------
# Latent model
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# One wave
# --------------------------------------------------------------------------------------------------

_MISSING, _BLANK = -1000, -2000  # sentinels in the code matrix


def _blocks(min_items: int = 5) -> list[np.ndarray]:
    """Straight-lining blocks: the whole battery, and every scale and construct with >= 5 items."""
    out = [np.arange(len(_ITEMS))]
    for pos in (1, 2):  # scale, construct
        for key in dict.fromkeys(it[pos] for it in _ITEMS):
            cols = np.array([j for j, it in enumerate(_ITEMS) if it[pos] == key])
            if len(cols) >= min_items:
                out.append(cols)
    return out


def _straightlined(codes: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
    """Rows whose answered items (>= 5) of a block all carry the same code (any block if ``cols`` is None)."""
    if cols is None:
        return np.logical_or.reduce([_straightlined(codes, b) for b in _blocks()])
    block = codes[:, cols]
    valid = block >= -100
    n_ans = valid.sum(axis=1)
    hi = np.where(valid, block, -(10**6)).max(axis=1)
    lo = np.where(valid, block, 10**6).min(axis=1)
    return (n_ans >= 5) & (hi == lo)


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
    codes = np.where(miss, _MISSING, codes)

    sl = np.flatnonzero(kinds_a == "straightliner")
    levels = rng.choice([7, 4, 1, 6], size=len(sl), p=[0.45, 0.35, 0.12, 0.08])
    codes[sl] = levels[:, None]
    inc = np.flatnonzero(kinds_a == "incomplete")
    for r in inc:  # break-off after k items
        k = int(rng.integers(4, 15))
        codes[r, k:] = _BLANK
        codes[r, :k] = np.where(codes[r, :k] == _MISSING, 1 + rng.integers(3, 7), codes[r, :k])
    genuine_like = np.isin(kinds_a, ["genuine", "duplicate_id", "speeder"])
    # no genuine-like row may be a straightliner or incomplete by chance
    for block in _blocks():
        for r in np.flatnonzero(genuine_like & _straightlined(codes, block)):
            j = int(block[np.flatnonzero(codes[r, block] >= -100)[0]])
            codes[r, j] = codes[r, j] - 1 if codes[r, j] > 2 else codes[r, j] + 1
    if np.any(_straightlined(codes[genuine_like])):
        raise RuntimeError("simulate: a genuine row is a straightliner")
    answered = (codes >= -100).sum(axis=1) / n_items
    if np.any(answered[genuine_like] < 0.6):
        raise RuntimeError("simulate: a genuine row is too incomplete")

    # planted multivariate outliers: attributes top, satisfaction bottom, loyalty top, nps 0
    eligible = np.setdiff1d(np.arange(n_gen), sources)
    outliers = rng.choice(eligible, size=DIRT["outlier"], replace=False)
    cons = np.array([it[2] for it in _ITEMS])
    for r in outliers:
        row = np.where(cons == "Satisfaction", 1, 7)
        row[cons == "Recommendation"] = 0
        row[cons == "Loyalty"] = 7
        row[ITEM_IDS.index("q_pack_damage")] = 1
        row[ITEM_IDS.index("q_price_reasonable")] = 6
        codes[r] = row

    # value issues: one cell in distinct genuine rows (not duplicate sources, not outliers)
    eligible = np.setdiff1d(eligible, outliers)
    n_oor, n_bad = DIRT["out_of_range"], DIRT["unmatched_label"]
    issue_rows = rng.choice(eligible, size=n_oor + n_bad, replace=False)
    issue_cols = rng.integers(0, n_items, size=n_oor + n_bad)
    issues: dict[tuple[int, int], object] = {}
    bad_labels = _BAD_LABELS[spec.fmt]
    for k, (r, j) in enumerate(zip(issue_rows, issue_cols, strict=True)):
        if k < n_oor:
            if _ITEMS[j][1] == "nps11":
                value: object = [11, 77][k % 2]
            else:
                value = [8, 0, 77, 9][k % 4]
            if spec.fmt == "csv_labels_gbk":
                value = str(value)
        else:
            value = bad_labels[k % len(bad_labels)]
        issues[int(r), int(j)] = value
        codes[r, j] = _BLANK  # stands for "not an answer" in the checks below
    if np.any(_straightlined(codes[:n_gen])):
        raise RuntimeError("simulate: value issues created a straightliner")

    # duplicates: duplicate_row copies everything; duplicate_id keeps the person, new answers
    for r in np.flatnonzero(kinds_a == "duplicate_row"):
        codes[r] = codes[source[r]]

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
    comments: list[str | None] = [_choose_comment(rng, eta.iloc[r]) for r in range(n)]
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
        raise RuntimeError("simulate: speeder cut does not separate planted speeders")
    if np.any(fast[np.isin(kinds_a, ["duplicate_id", "duplicate_row"])]):
        raise RuntimeError("simulate: a duplicate is also fast")

    # -- encode cells -------------------------------------------------------------------------------
    headers = [it[3] if spec.fmt == "csv_labels_gbk" else it[0] for it in _ITEMS]
    miss_pick = rng.random((n, n_items)) < 0.3
    item_cells: list[list[object]] = []
    for j, (_iid, scale, construct, *_r) in enumerate(_ITEMS):
        col: list[object] = []
        labelled = scale != "nps11" and (
            spec.fmt == "csv_labels_gbk" or (spec.fmt == "xlsx_mixed" and construct in _XLSX_LABEL_CONSTRUCTS)
        )
        lang = 0 if spec.fmt == "csv_labels_gbk" else 1
        for r in range(n):
            src = source[r] if kinds_a[r] == "duplicate_row" else r
            if (src, j) in issues:
                col.append(issues[src, j])
                continue
            c = int(codes[r, j])
            if c == _BLANK:
                col.append(None)
            elif c == _MISSING:
                if scale == "nps11":
                    col.append(None if spec.fmt == "csv_labels_gbk" else (99 if miss_pick[src, j] else -99))
                elif spec.fmt == "csv_labels_gbk":
                    col.append("不清楚" if miss_pick[src, j] else "不适用")
                elif labelled:
                    col.append("N/A")
                else:
                    col.append(99 if miss_pick[src, j] else -99)
            elif labelled:
                col.append(SCALE_LABELS[scale][c - 1][lang])
            else:
                col.append(c)
        item_cells.append(col)

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
    for h, col in zip(headers, item_cells, strict=True):
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
    )
    return wave, gen_cust


# --------------------------------------------------------------------------------------------------
# Complaint log
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Program
# --------------------------------------------------------------------------------------------------


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
    return DemoProgram(seed=seed, survey=survey_definition(), waves=waves, effects=effects)


# --------------------------------------------------------------------------------------------------
# Rendering files
# --------------------------------------------------------------------------------------------------


def _flow(obj: object) -> str:
    text = yaml.safe_dump(obj, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**6)
    return text.strip().removesuffix("...").strip()


def _survey_yaml(survey: dict) -> str:
    s = survey
    out = [
        "# Huaxin Industrial (华信实业) half-yearly customer satisfaction survey (ISO 9001 clause 8.2.1).",
        "# Demo program generated by `python -m analysis.simulate`; regenerate rather than edit by hand.",
        "# Schema: CONTRACT.md section 1 plus index/targets/cleaning/satisfied_levels/repurchase.",
    ]
    for key in ["title", "language", "respondent_id", "customer_id", "pii", "segments", "duration"]:
        out.append(f"{key}: {_flow(s[key])}")
    out.append("scales:")
    for name, sc in s["scales"].items():
        out.append(f"  {name}:")
        out.append(f"    min: {sc['min']}")
        out.append(f"    max: {sc['max']}")
        if "labels" in sc:
            out.append("    labels:")
            for code, lab in sc["labels"].items():
                out.append(f"      {code}: {_flow(lab)}")
        out.append(f"    missing: {_flow(sc['missing'])}")
    out.append("items:                # questionnaire order; `construct` groups items into blocks")
    last = None
    for it in s["items"]:
        if it["construct"] != last:
            out.append(f"  # {it['construct']}")
            last = it["construct"]
        out.append(f"  - {_flow(it)}")
    for key in [
        "overall_satisfaction",
        "satisfied_levels",
        "loyalty",
        "repurchase",
        "recommend",
        "open_ended",
    ]:
        out.append(f"{key}: {_flow(s[key])}")
    out.append("paths:                # ECSI-style structural model: [source, target]")
    for p in s["paths"]:
        out.append(f"  - {_flow(p)}")
    out.append("constructs:           # display names of the constructs in the reports")
    for name, text in s["constructs"].items():
        out.append(f"  {name}: {_flow(text)}")
    idx = s["index"]
    out += [
        "index:                # overall satisfaction index: AHP weights over the attribute constructs",
        f"  weights: {idx['weights']}",
        f"  constructs: {_flow(idx['constructs'])}",
        "  ahp:",
        f"    labels: {_flow(idx['ahp']['labels'])}",
        "    matrix:           # Saaty 1-9 pairwise comparisons, row vs column (CR < 0.1)",
    ]
    for row in idx["ahp"]["matrix"]:
        out.append(f"      - {_flow(row)}")
    out.append("targets:              # improvement-plan targets checked by the KPI table")
    for k, v in s["targets"].items():
        out.append(f"  {k}: {_flow(v)}")
    out.append("cleaning:             # rule thresholds (these are the defaults)")
    for k, v in s["cleaning"].items():
        out.append(f"  {k}: {_flow(v)}")
    text = "\n".join(out) + "\n"
    if yaml.safe_load(text) != survey:
        raise AssertionError("survey.yaml does not round-trip")
    return text


def _wave_dict(w: WaveData) -> dict:
    d: dict = {"wave": w.wave, "raw": f"../../data/raw/{w.raw_file}", "invited": w.invited}
    if w.baseline:
        d["baseline"] = w.baseline
    d["operations"] = f"../../data/raw/{w.operations_file}"
    d["customers"] = w.customers
    d["fieldwork"] = {"start": w.fieldwork[0], "end": w.fieldwork[1]}
    return d


def _wave_yaml(w: WaveData) -> str:
    d = _wave_dict(w)
    notes = {
        "csv_codes": "UTF-8 CSV with BOM, comma separated, numeric codes (-99/99 = no answer)",
        "csv_labels_gbk": "GBK CSV, semicolon separated, Chinese labels and Chinese item headers",
        "xlsx_mixed": "XLSX, numeric codes mixed with English labels in some columns",
    }
    out = [
        f"# Wave {w.wave} of the Huaxin Industrial demo program (generated by `python -m analysis.simulate`).",
        f"# Raw export: {notes[w.fmt]}.",
        f"wave: {w.wave}",
        f"raw: {d['raw']}",
        f"invited: {w.invited}                # invitations sent (response rate = kept responses / invited)",
    ]
    if w.baseline:
        out.append(f"baseline: {w.baseline}")
    out += [
        f"operations: {d['operations']}   # complaint log for the operational KPIs",
        f"customers: {w.customers}              # active customers in the half-year (complaint rate)",
        f"fieldwork: {_flow(d['fieldwork'])}",
    ]
    text = "\n".join(out) + "\n"
    if yaml.safe_load(text) != d:
        raise AssertionError(f"{w.wave}.yaml does not round-trip")
    return text


def _csv_bytes(df: pd.DataFrame, sep: str, encoding: str, bom: bool) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(df.columns))
    for row in df.itertuples(index=False, name=None):
        writer.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


_FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)


def _xlsx_bytes(df: pd.DataFrame, sheet: str = "Responses") -> bytes:
    """An XLSX file whose bytes depend only on ``df`` (fixed document times and zip entry times)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    wb.properties.creator = "analysis.simulate"
    ws = wb.create_sheet(sheet)
    ws.append(list(df.columns))
    for row in df.itertuples(index=False, name=None):
        ws.append(list(row))
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0
            dst.writestr(zi, src.read(info.filename), compresslevel=6)
    return out.getvalue()


def _readme(program: DemoProgram) -> str:
    lines = [
        "# Demo raw data: Huaxin Industrial (华信实业) customer satisfaction program",
        "",
        f"Generated by `python -m analysis.simulate` (seed {program.seed}); regenerate instead of editing.",
        "All names, phone numbers, e-mail and IP addresses are fake (测试用户, 139-0000-xxxx,",
        "example.com, documentation IP ranges).",
        "",
        "| wave | file | format | data rows | kept | invited | complaints |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    fmts = {
        "csv_codes": "UTF-8 with BOM, `,`, numeric codes, -99/99 = no answer",
        "csv_labels_gbk": "GBK, `;`, Chinese labels, Chinese item headers (`text.zh`)",
        "xlsx_mixed": "XLSX, codes plus English labels (Delivery, Packaging, Loyalty)",
    }
    for w in program.waves.values():
        lines.append(
            f"| {w.wave} | `{w.raw_file}` | {fmts[w.fmt]} | {len(w.raw)} | {w.n_kept} | {w.invited} "
            f"| `{w.operations_file}` ({len(w.complaints)}) |"
        )
    lines += [
        "",
        "Planted problems per wave (expected cleaning reason, first matching rule wins):",
        "",
    ]
    for k in [*REASONS, "outlier", "out_of_range", "unmatched_label"]:
        what = {
            "duplicate_id": "rows repeating an earlier `resp_id` with different answers",
            "duplicate_row": "re-submissions identical to an earlier row except `resp_id`",
            "incomplete": "break-offs answering fewer than half of the rated items",
            "speeder": "`duration_sec` below a third of the median",
            "straightliner": "the same level on every rated item",
            "outlier": "multivariate outliers (flagged, kept)",
            "out_of_range": "cells with codes outside the scale (8, 0, 77, 11 ...): set to missing",
            "unmatched_label": "cells matching no label (满意的, good ...): set to missing",
        }[k]
        lines.append(f"- `{k}` ({DIRT[k]}): {what}")
    lines += [
        "",
        "Planted changes: 2025H2 +0.1 sd on every antecedent construct; 2026H1 a delivery",
        "problem in 华南 (Delivery latent -0.8 sd, reaching satisfaction and loyalty through the",
        "paths; more 交期 complaints). `ip_address` is an undeclared column that cleaning drops.",
        "",
    ]
    return "\n".join(lines)


def render_files(program: DemoProgram) -> dict[str, bytes]:
    """All generated files as ``{path relative to the repository root: bytes}``."""
    files: dict[str, bytes] = {"params/survey.yaml": _survey_yaml(program.survey).encode("utf-8")}
    for w in program.waves.values():
        files[f"params/waves/{w.wave}.yaml"] = _wave_yaml(w).encode("utf-8")
        if w.fmt == "csv_codes":
            data = _csv_bytes(w.raw, ",", "utf-8", bom=True)
        elif w.fmt == "csv_labels_gbk":
            data = _csv_bytes(w.raw, ";", "gbk", bom=False)
        else:
            data = _xlsx_bytes(w.raw)
        files[f"data/raw/{w.raw_file}"] = data
        files[f"data/raw/{w.operations_file}"] = _csv_bytes(w.complaints, ",", "utf-8", bom=False)
    files["data/raw/README.md"] = _readme(program).encode("utf-8")
    return files


def _atomic_write(path: Path, data: bytes) -> None:
    from analysis.store import atomic_write

    atomic_write(path, lambda p: p.write_bytes(data))  # the store's writer sets 0644


def write_program(program: DemoProgram, root: str | os.PathLike[str]) -> list[Path]:
    """Write every generated file under ``root`` (atomically: temp file + ``os.replace``)."""
    root = Path(root)
    written = []
    for rel, data in render_files(program).items():
        path = root / rel
        _atomic_write(path, data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m analysis.simulate [--root DIR] [--seed N]``."""
    parser = argparse.ArgumentParser(prog="python -m analysis.simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="repository root to write params/ and data/raw/ into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    program = simulate_program(seed=args.seed)
    for path in write_program(program, args.root):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
