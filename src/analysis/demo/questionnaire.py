"""The demo survey definition (``params/survey.yaml``) and the AHP consistency check of its matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..index import RANDOM_INDEX as _SAATY_RI  # Saaty's random index: the one table
from .comments import CODEBOOK
from .config import _ITEMS, ATTRIBUTES, CONSTRUCTS, LOYALTY, MISSING7, SCALE_LABELS, SCREENER, STRUCTURAL

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
        if construct == "ComplaintHandling" and not any(i["id"] == SCREENER["id"] for i in items):
            items.append({"id": SCREENER["id"], "scale": "yesno", "text": {"en": SCREENER["en"], "zh": SCREENER["zh"]}})
        item: dict = {"id": iid, "scale": scale, "construct": construct}
        if reverse:
            item["reverse"] = True
        if construct == "ComplaintHandling":  # asked only of customers who complained (missing by design)
            item["asked_if"] = {"item": SCREENER["id"], "in": [1]}
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
            "yesno": {
                "min": 1,
                "max": 2,
                "labels": {k: {"zh": zh, "en": en} for k, (zh, en) in SCREENER["labels"].items()},
                "missing": [99, -99],
            },
        },
        "items": items,
        "overall_satisfaction": "q_overall",
        "satisfied_levels": [6, 7],
        "loyalty": ["q_repurchase", "q_recommend_brand", "q_price_tolerance"],
        "repurchase": "q_repurchase",
        "recommend": "q_nps",
        "open_ended": ["q_comment"],
        "comments": {"codebook": CODEBOOK},
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
