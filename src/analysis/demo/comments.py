"""The demo's open-ended comments: several hundred distinct Chinese and English comments whose themes and
tone follow the respondent's latent scores, some in traditional characters, some with a phone number, an
e-mail address or an ID number typed in; with the ground truth the tests recover.

A comment is one to three clauses from the phrase banks below: about the respondent's worst attribute
when dissatisfied (and maybe the second worst), the best when satisfied, both ("X is fine, but Y") or a
suggestion no code covers in between. Themes are the attribute constructs; the survey's codebook
(:data:`CODEBOOK`) has one code per theme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: theme (attribute construct) -> codebook code
THEME_CODES = {
    "ProductQuality": "quality",
    "Delivery": "delivery",
    "Packaging": "packaging",
    "ComplaintHandling": "complaints",
    "TechService": "service",
    "Price": "price",
}

#: The demo survey's codebook (params/survey.yaml ``comments.codebook``).
CODEBOOK = {
    "quality": {
        "zh": ["质量", "品质", "性能", "尺寸", "批次", "次品", "不良"],
        "en": ["quality", "defect", "defects", "defective", "batch", "batches", "performance"],
        "about": "ProductQuality",
    },
    "delivery": {
        "zh": ["交期", "交货", "发货", "到货", "物流", "延误", "送货"],
        "en": ["delivery", "deliveries", "delivered", "shipping", "shipment", "shipments", "lead time", "late"],
        "about": "Delivery",
    },
    "packaging": {
        "zh": ["包装", "外箱", "破损", "标识"],
        "en": ["packaging", "packed", "boxes", "box", "label", "labels", "damaged"],
        "about": "Packaging",
    },
    "complaints": {
        "zh": ["投诉", "回访", "处理结果", "没人处理"],
        "en": ["complaint", "complaints", "re:follow[- ]?up", "called back"],
        "about": "ComplaintHandling",
    },
    "service": {
        "zh": ["技术支持", "技术咨询", "售后", "客服", "服务态度", "响应", "工程师"],
        "en": ["technical support", "support team", "engineer", "engineers", "service team", "after-sales"],
        "about": "TechService",
    },
    "price": {
        "zh": ["价格", "报价", "优惠", "性价比", "付款", "贵"],
        "en": ["price", "prices", "pricing", "expensive", "discount", "discounts", "payment terms"],
        "about": "Price",
    },
}

_ZH_NEG = {
    "ProductQuality": ["不同批次的质量差异较大", "产品尺寸偶尔超差，影响装配", "性能不够稳定，经常出故障", "这批货次品太多，很失望",
                       "质量问题反复出现，一直没有改善", "品质不如以前了，很不满意"],
    "Delivery": ["交期经常延误，影响我们的生产计划", "交货周期太长，等得太久", "最近几次发货数量不对", "催了很多次才发货",
                 "到货时间总是拖延", "物流太慢，经常晚到一周"],
    "Packaging": ["包装太简单，运输途中有破损", "外箱标识不清楚，收货时难以核对", "包装破损严重，货物受损",
                  "包装太差，纸箱一压就坏", "外箱经常破损，很麻烦"],
    "ComplaintHandling": ["投诉后很久没人处理", "问题处理结果不满意，也没有回访", "投诉了三次都没有解决，非常失望",
                          "投诉处理太慢，推来推去", "投诉以后一直没人回复"],
    "TechService": ["技术咨询电话经常打不通", "售后响应速度慢，问题拖了很久", "客服态度差，问题一直没解决",
                    "工程师不专业，来了也解决不了问题", "售后服务太差了"],
    "Price": ["价格偏高，比同行贵不少", "与同类供应商相比，性价比很差", "价格太贵了，希望有更多优惠",
              "今年又涨价了，价格不合理", "报价太高，很难接受"],
}
_ZH_POS = {
    "ProductQuality": ["产品质量稳定，继续保持", "质量很好，基本没有次品", "产品性能可靠，用得放心", "品质一直很稳定，非常满意"],
    "Delivery": ["交货准时，从不耽误", "发货很快，到货及时", "交期有保障，非常满意", "物流很快，送货准时"],
    "Packaging": ["包装很好，没有任何破损", "包装结实，标识清楚", "外箱标识清晰，收货很方便"],
    "ComplaintHandling": ["投诉处理及时，结果满意", "投诉后当天就有人回访，很好", "上次投诉处理得很快，很满意"],
    "TechService": ["技术支持很专业，解决问题快", "售后服务很好，响应及时", "客服态度很好，很耐心", "工程师很专业，服务周到"],
    "Price": ["价格合理，性价比高", "报价公道，优惠也多", "性价比很高，值得长期合作"],
}
_EN_NEG = {
    "ProductQuality": ["Quality varies too much between batches", "Too many defective parts in the last order",
                       "Product performance is unreliable and disappointing"],
    "Delivery": ["Delivery was late twice this quarter", "Shipments are always late", "Lead time is far too long"],
    "Packaging": ["Several boxes arrived damaged, the packaging is poor", "The labels on the boxes are unclear and wrong"],
    "ComplaintHandling": ["Nobody called back after my complaint", "My complaint was ignored for weeks, terrible"],
    "TechService": ["Technical support is hard to reach and slow", "The support team never solves our problems"],
    "Price": ["The price is too high and keeps rising", "Too expensive compared with other suppliers"],
}
_EN_POS = {
    "ProductQuality": ["Excellent quality, very consistent", "Great product quality, no defects at all"],
    "Delivery": ["Delivery is always on time, great job", "Fast and reliable shipping"],
    "Packaging": ["The packaging is excellent and sturdy", "Boxes always arrive in perfect condition, good packaging"],
    "ComplaintHandling": ["Our complaint was handled quickly and well", "Great follow-up after our complaint"],
    "TechService": ["Very responsive technical support, thank you", "The engineers are helpful and professional"],
    "Price": ["Fair price and good value", "Good discounts and a fair price"],
}
_ZH_SUGGEST = ["希望增加线上下单功能", "建议定期拜访客户，了解我们的需求", "希望提供更多产品规格选择", "希望开通线上对账",
               "建议每季度组织一次交流会", "希望电子发票能早点开"]
_EN_SUGGEST = ["Please send the monthly statement earlier", "An online ordering portal would be useful",
               "Please visit us more often to discuss our needs"]
_ZH_OPEN = ["", "", "", "总的来说，", "说实话，", "合作多年，"]
_ZH_CLOSE = ["。", "。", "！", "，希望改进。", "，请重视。"]
_ZH_CLOSE_POS = ["。", "！", "，谢谢！", "，辛苦了！"]
_EN_CLOSE = [".", ".", "!", ". Please fix this."]
_EN_CLOSE_POS = [".", "!", ". Thanks!"]
_ZH_BUT = ["，但是", "，不过", "；可惜"]
_EN_BUT = [", but ", "; however, "]
_PHONES = ["13912345678", "139-1234-5678", "186 2345 6789", "(021) 6123-4567", "+86 137 0000 1234"]
_EMAILS = ["wang.li@example.com", "purchasing@example.cn", "zhang_3@example.org"]
#: synthetic ID numbers with a valid GB 11643 check digit (no real person's)
_IDS = ["110101198001010010", "310101199003070019"]


@dataclass(frozen=True)
class PlantedComment:
    """A generated comment and what was planted in it."""

    text: str
    language: str
    themes: tuple[str, ...]
    tone: str  # positive, negative, mixed, neutral
    traditional: bool
    pii: str  # "", phone, email, id


def _pick(rng: np.random.Generator, pool: list[str]) -> str:
    return pool[int(rng.integers(len(pool)))]


def _ranked(eta: pd.Series) -> list[str]:
    return sorted(THEME_CODES, key=lambda c: (float(eta[c]), c))


def make_comment(rng: np.random.Generator, eta: pd.Series, english: bool) -> PlantedComment:
    """One comment for a respondent with latent scores ``eta`` (constructs), in English or Chinese."""
    sat = float(eta["Satisfaction"])
    ranked = _ranked(eta)
    if sat < -0.4:
        themes = [ranked[0]] + ([ranked[1]] if rng.random() < 0.35 else [])
        tone = "negative"
    elif sat > 0.9:
        themes = [ranked[-1]] + ([ranked[-2]] if rng.random() < 0.3 else [])
        tone = "positive"
    elif rng.random() < 0.45:
        themes, tone = [], "neutral"
    else:
        themes, tone = [ranked[-1], ranked[0]], "mixed"
    text = _english(rng, themes, tone) if english else _chinese(rng, themes, tone)
    traditional = False
    if not english and rng.random() < 0.12:
        from opencc import OpenCC

        text, traditional = OpenCC("s2t").convert(text), True
    pii = ""
    u = rng.random()
    if u < 0.05:
        pii, number = "phone", _pick(rng, _PHONES)
        text += f" Call me on {number}." if english else f"有事请打我电话{number}。"
    elif u < 0.07:
        pii, mail = "email", _pick(rng, _EMAILS)
        text += f" Contact: {mail}" if english else f"联系邮箱：{mail}"
    elif u < 0.08 and not english:
        pii = "id"
        text += f"（开票人身份证号{_pick(rng, _IDS)}）"
    return PlantedComment(text, "en" if english else "zh", tuple(sorted(themes)), tone, traditional, pii)


def _chinese(rng: np.random.Generator, themes: list[str], tone: str) -> str:
    if tone == "neutral":
        return _pick(rng, _ZH_SUGGEST) + "。"
    if tone == "mixed":
        good, bad = themes
        return _pick(rng, _ZH_POS[good]) + _pick(rng, _ZH_BUT) + _pick(rng, _ZH_NEG[bad]) + "。"
    bank = _ZH_NEG if tone == "negative" else _ZH_POS
    clauses = "；".join(_pick(rng, bank[t]) for t in themes)
    close = _pick(rng, _ZH_CLOSE if tone == "negative" else _ZH_CLOSE_POS)
    return _pick(rng, _ZH_OPEN) + clauses + close


def _english(rng: np.random.Generator, themes: list[str], tone: str) -> str:
    if tone == "neutral":
        return _pick(rng, _EN_SUGGEST) + "."
    if tone == "mixed":
        good, bad = themes
        bad_clause = _pick(rng, _EN_NEG[bad])
        return _pick(rng, _EN_POS[good]) + _pick(rng, _EN_BUT) + bad_clause[0].lower() + bad_clause[1:] + "."
    bank = _EN_NEG if tone == "negative" else _EN_POS
    clauses = ". ".join(_pick(rng, bank[t]) for t in themes)
    return clauses + _pick(rng, _EN_CLOSE if tone == "negative" else _EN_CLOSE_POS)
