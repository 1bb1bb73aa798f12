"""Settings of the demo program: questionnaire, latent model, segments, waves and planted dirt.

Plain data only; the functions that use it live in the sibling modules. Every number here
shapes the committed demo files (``params/`` and ``data/raw/``): change one and regenerate
with ``csat demo``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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

#: The screener before the complaint-handling block: only customers who complained answer that block
#: (``asked_if: {item: q_complained, in: [1]}``); 1 = yes, 2 = no.
SCREENER = {
    "id": "q_complained",
    "zh": "过去半年是否向华信投诉或反映过问题",
    "en": "Complained or raised a problem with Huaxin in the past half-year",
    "labels": {1: ("是", "Yes"), 2: ("否", "No")},
}
#: Share of respondents who complained (and so answer the complaint-handling questions).
COMPLAINED_SHARE = 0.35
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
