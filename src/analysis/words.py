"""Every word a reader sees, and the one way numbers are written in a report.

Words live in the language files ``analysis/i18n/en.yaml`` and ``zh.yaml``
(package data), one entry per concept, under dotted keys such as
``metric.csi`` or ``section.summary``. :func:`word` looks a key up in a
language, falls back to English, and raises :class:`KeyError` for a key
neither file has (``tests/test_words.py`` checks that both files have the same
keys and placeholders, and that every key the code uses exists).

Numbers are written by :func:`number`, :func:`integer`, :func:`percent`,
:func:`signed`, :func:`interval` and :func:`p_value`. A p-value is written
with three decimals and never as ``0.000`` or ``1.000``: below 0.001 it reads
``< 0.001`` and above 0.999 ``> 0.999`` (APA Publication Manual, 7th ed.,
section 6.36, which reports exact p to two or three decimals and p < .001
below that; the leading zero is kept here because the reports are not APA
journal text and the Chinese report writes 0.05, not .05).

:func:`methods_paragraphs` writes the methods text from :class:`MethodSettings`,
the settings an analysis actually used: only the analyses that ran get a
paragraph, and every number in it (bootstrap resamples, cleaning thresholds,
index weights) is the one used.

Recognisers of export formats (the Chinese date characters of a complaint
log, for example) are data too: :func:`recognisers` loads
``analysis/i18n/recognisers.yaml``.
"""

from __future__ import annotations

import html
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "escape_markdown",
    "LANGUAGES",
    "MethodSettings",
    "category_labels",
    "has_word",
    "integer",
    "interval",
    "join",
    "keys",
    "label_of",
    "language_code",
    "methods_paragraphs",
    "methods_text",
    "number",
    "p_text",
    "p_value",
    "percent",
    "placeholders",
    "recognisers",
    "share_words",
    "signed",
    "slug",
    "word",
]

#: Languages with a language file; the first is the fallback.
LANGUAGES: tuple[str, ...] = ("en", "zh")

#: Groups of category names whose data values (zones.csv ``type``, ipa.csv ``quadrant`` ...) get labels.
CATEGORY_GROUPS: tuple[str, ...] = ("customer_type", "zone", "loyalty_level", "quadrant")


# --------------------------------------------------------------------------- loading
def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = "" if value is None else str(value)
    return out


def _read_yaml(name: str) -> Any:
    text = resources.files("analysis").joinpath("i18n", name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 5x faster, once a process


@cache
def _table(language: str) -> dict[str, str]:
    return _flatten(_read_yaml(f"{language}.yaml") or {})


@cache
def recognisers() -> dict[str, Any]:
    """The recognisers of export formats (``i18n/recognisers.yaml``) as a dict (cached; do not modify)."""
    return dict(_read_yaml("recognisers.yaml") or {})


def language_code(language: str | None) -> str:
    """``"zh"`` for any Chinese language tag (``zh``, ``zh-CN``, ``zh_Hans``), else ``"en"``."""
    return "zh" if str(language or "").lower().startswith("zh") else "en"


def keys(language: str = "en") -> set[str]:
    """Every key of a language file."""
    return set(_table(language_code(language)))


def has_word(key: str) -> bool:
    """Whether ``key`` exists in the English file (the fallback of every language)."""
    return key in _table(LANGUAGES[0])


def word(key: str, language: str | None = "en", /, **fields: Any) -> str:
    """The text of ``key`` in ``language`` (``en`` or ``zh``), with ``{placeholders}`` filled from ``fields``.

    Input: a dotted key (``"metric.csi"``), a language (any ``zh*`` tag is Chinese; anything
    else English) and the placeholder values. Output: the text; the English text when the
    language file lacks the key. Raises :class:`KeyError` when no language file has it.
    Placeholders are filled only when ``fields`` are given, so a text may contain braces.
    """
    lang = language_code(language)
    text = _table(lang).get(key)
    if text is None:
        text = _table(LANGUAGES[0]).get(key)
    if text is None:
        raise KeyError(f"no word '{key}' in analysis/i18n/{lang}.yaml or en.yaml")
    return text.format(**fields) if fields else text


#: Markdown's punctuation (CommonMark: any ASCII punctuation may be backslash-escaped); ``&``, ``<``,
#: ``>`` and quotes are escaped as HTML entities instead.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:=$^])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def escape_markdown(text: Any) -> str:
    """``text`` (a survey title, wave id, label, segment group ...: anything from an input file) as
    literal Markdown text: never a heading, list, link, image, emphasis or HTML element.

    Markdown punctuation is backslash-escaped (``[md](javascript:x)`` shows as typed, and no
    ``javascript:`` link can come of it), ``&``, ``<``, ``>`` and quotes become HTML entities
    (``<img onerror=...>`` shows as text), line breaks become spaces (no new block can start).
    None and NaN give ``""``. Every analyst-supplied text that goes into a Markdown string of a
    report passes through here; HTML strings use :func:`analysis.publish.escape_text`.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    flat = _LINE_BREAKS.sub(" ", str(text))
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", flat), quote=True)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def slug(name: str) -> str:
    """The key form of a data value: ``"Concentrate here"`` -> ``"concentrate_here"``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def label_of(group: str, name: Any, language: str | None) -> str:
    """The display name of a category value (``label_of("customer_type", "apostle", "zh")`` -> its label),
    the value itself when the language files have no entry for it."""
    key = f"{group}.{slug(name)}"
    return word(key, language) if has_word(key) else str(name)


def category_labels(language: str | None, names: Iterable[str] | None = None) -> dict[str, str]:
    """Data value -> display name for customer types, zones, loyalty levels and IPA quadrants.

    ``names`` are the data values to label (e.g. ``zones.TYPES + zones.IPA_QUADRANTS``);
    without them, the keys of the language files' category groups. Pass the result as a
    chart's ``labels=``.
    """
    if names is None:
        prefixes = tuple(f"{g}." for g in CATEGORY_GROUPS)
        names = [k.split(".", 1)[1] for k in sorted(_table(LANGUAGES[0])) if k.startswith(prefixes)]
    out: dict[str, str] = {}
    for name in names:
        for group in CATEGORY_GROUPS:
            key = f"{group}.{slug(name)}"
            if has_word(key):
                out[name] = word(key, language)
                break
    return out


# --------------------------------------------------------------------------- numbers
def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def number(x: Any, digits: int = 1, missing: str = "") -> str:
    """``x`` with ``digits`` decimals (``70.98`` -> ``"71.0"``); ``missing`` for None/NaN."""
    return missing if _missing(x) else f"{float(x):.{digits}f}"


def integer(x: Any, language: str | None = "en", missing: str = "") -> str:
    """A count with the language's thousands separator (en ``5,000``, zh ``5000``)."""
    if _missing(x):
        return missing
    text = f"{round(float(x)):,d}"
    return text.replace(",", word("format.thousands", language))


def percent(x: Any, digits: int = 1, missing: str = "") -> str:
    """A share (0-1) as percent: ``0.503`` -> ``"50.3%"``; ``missing`` for None/NaN."""
    return missing if _missing(x) else f"{float(x) * 100:.{digits}f}%"


def signed(x: Any, digits: int = 1, unit: str = "", missing: str = "") -> str:
    """A change with its sign: ``2.34`` -> ``"+2.3"``, ``-0.5`` -> ``"-0.5"``; ``unit`` appended."""
    return missing if _missing(x) else f"{float(x):+.{digits}f}{unit}"


def interval(lo: Any, hi: Any, digits: int = 1, as_percent: bool = False, missing: str = "") -> str:
    """An interval ``"lo – hi"`` (``as_percent``: both ends as percent); ``missing`` when an end is missing."""
    if _missing(lo) or _missing(hi):
        return missing
    fmt = percent if as_percent else number
    return f"{fmt(lo, digits)} – {fmt(hi, digits)}"


def p_value(p: Any, missing: str = "") -> str:
    """A p-value for reading: three decimals, ``"< 0.001"`` below 0.001 and ``"> 0.999"`` above 0.999.

    Never ``"0.000"`` or ``"1.000"`` (nor the ``0.00`` / ``1.00`` of two-decimal rounding): a test
    never proves an effect absent or certain. ``missing`` for None/NaN.
    """
    if _missing(p):
        return missing
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    if p > 0.999:
        return "> 0.999"
    return f"{p:.3f}"


def p_text(p: Any, missing: str = "") -> str:
    """A p-value inside a sentence: ``"p = 0.046"``, ``"p < 0.001"``."""
    if _missing(p):
        return missing
    shown = p_value(p)
    return f"p {shown}" if shown[0] in "<>" else f"p = {shown}"


def join(
    items: Sequence[Any], language: str | None, last: bool = False, last_key: str = "format.list_last"
) -> str:
    """Items as a list in running text: ``a, b, c`` (en) or ``a、b、c`` (zh); ``last=True`` joins the
    final pair with the language's "and" (``a, b and c``), the word ``last_key``."""
    texts = [str(i) for i in items]
    sep = word("format.list_separator", language)
    if not last or len(texts) < 2:
        return sep.join(texts)
    return sep.join(texts[:-1]) + word(last_key, language) + texts[-1]


def share_words(x: float, language: str | None) -> str:
    """A fraction as words where it has a common name (a half, a third, a quarter), else a percent."""
    for value, key in ((0.5, "format.half"), (1 / 3, "format.third"), (0.25, "format.quarter")):
        if abs(x - value) < 1e-3:  # 0.333 in a survey file means a third
            return word(key, language)
    return percent(x, 0)


# --------------------------------------------------------------------------- the methods text
@dataclass(frozen=True)
class MethodSettings:
    """What an analysis of a wave actually did: the facts the methods text states.

    Build it from the survey definition and the tables the run wrote (``report.methods_text``
    does); every paragraph of :func:`methods_paragraphs` needs only these fields.

    min_answered, speeder_fraction, straightline_min_items, outlier_alpha : the cleaning rules used
    has_respondent_id, has_duration : whether duplicate ids / speeders could be checked
    satisfied_levels : overall-satisfaction codes counted as satisfied
    index_method : equal, ahp, entropy or pls; index_weights : dimension label -> weight
    nps : a recommend item was analysed; segments : the segments compared (none: no group tests)
    min_cell : smallest group shown; baseline : the baseline wave compared with (None: no change)
    drivers : key drivers were estimated; model : the PLS model ran, with model_n complete
    responses, model_boot resamples and the model_scheme inner weighting
    loyalty : satisfaction-loyalty zones ran; ipa : the importance-performance analysis ran
    index_equal_items : dimensions (labels) whose items counted equally under PLS weights (a negative
    outer weight); index_zero_effect : dimensions given weight 0 (a negative total effect);
    index_no_positive : no positive total effect, equal dimension weights
    validity : the discriminant-validity checks (HTMT with intervals, loadings) ran
    change_paired : customers linked to the baseline and paired in the CSI change (0: independent waves)
    drivers_n : responses the key drivers used (None: not known)
    asked_constructs : dimensions (labels) asked only of some respondents (``asked_if``), left out of
    the drivers and of the main model; model_n_asked : respondents asked, on whom their paths were estimated
    n_tests : omnibus group tests in the Holm family; n_changes : rows of the wave-change Holm family
    weighting : rake / poststratify when the estimates are weighted (None: unweighted);
    weighting_segments : the segments weighted to
    """

    min_answered: float = 0.5
    speeder_fraction: float = 1 / 3
    straightline_min_items: int = 5
    outlier_alpha: float = 0.001
    has_respondent_id: bool = True
    has_duration: bool = True
    satisfied_levels: tuple[int, ...] = ()
    index_method: str = "equal"
    index_weights: Mapping[str, float] = field(default_factory=dict)
    nps: bool = False
    segments: tuple[str, ...] = ()
    min_cell: int = 5
    baseline: str | None = None
    drivers: bool = True
    model: bool = False
    model_n: int | None = None
    model_boot: int | None = None
    model_scheme: str = "path"
    loyalty: bool = False
    ipa: bool = True
    ipa_boot: int | None = None
    ipa_stable: float = 0.9
    index_equal_items: tuple[str, ...] = ()
    index_zero_effect: tuple[str, ...] = ()
    index_no_positive: bool = False
    validity: bool = False
    change_paired: int = 0
    drivers_n: int | None = None
    asked_constructs: tuple[str, ...] = ()
    model_n_asked: int | None = None
    n_tests: int | None = None
    n_changes: int | None = None
    weighting: str | None = None
    weighting_segments: tuple[str, ...] = ()


def methods_paragraphs(settings: MethodSettings, language: str | None) -> list[str]:
    """The methods text as one markdown paragraph per analysis that ran, in ``language``.

    Input: the :class:`MethodSettings` of the run. Output: the paragraphs (``method.*``
    entries of the language files with their placeholders filled), in report order:
    cleaning, top-2-box, index, NPS (with a recommend item), reliability (with composite
    reliability and AVE only when the model ran), group differences (with segments),
    change (with a baseline), key drivers, CSI model (with paths; the bootstrap count is
    the one used), customer types (with loyalty items), priorities (with the IPA).
    """
    s, lang = settings, language

    def w(key: str, **fields: Any) -> str:
        return word(f"method.{key}", lang, **fields)

    rules = [w("rule_duplicates") if s.has_respondent_id else w("rule_duplicate_rows")]
    rules.append(w("rule_incomplete", share=share_words(s.min_answered, lang)))
    if s.has_duration:
        rules.append(w("rule_speeder", share=share_words(s.speeder_fraction, lang)))
    rules.append(w("rule_straightline", n=s.straightline_min_items))
    out = [w("cleaning", rules=join(rules, lang, last=True), outlier_alpha=f"{s.outlier_alpha:g}")]
    levels = join(s.satisfied_levels, lang, True, "format.number_list_last") if s.satisfied_levels else "–"
    if s.weighting:
        method = word("weighting.poststratified" if s.weighting == "poststratify" else "weighting.raked", lang)
        out.append(w("weighting", method=method, segments=join(list(s.weighting_segments), lang)))
    out.append(w("top2box", levels=levels))
    shown = join([f"{name} {x:.2f}" for name, x in s.index_weights.items()], lang)
    method = (
        word(f"weights.{s.index_method}", lang) if has_word(f"weights.{s.index_method}") else s.index_method
    )
    index_text = w("index", method=method, weights=shown)
    if s.index_equal_items:
        index_text += word("index_note.method_equal_items", lang, constructs=join(s.index_equal_items, lang))
    if s.index_zero_effect:
        index_text += word("index_note.method_zero_effect", lang, constructs=join(s.index_zero_effect, lang))
    if s.index_no_positive:
        index_text += word("index_note.method_no_positive", lang)
    out.append(index_text)
    if s.nps:
        out.append(w("nps"))
    out.append(w("reliability_model") if s.model else w("reliability"))
    if s.segments:
        n_tests = integer(s.n_tests, lang, missing="–")
        key = "groups_weighted" if s.weighting else "groups"
        out.append(w(key, segments=join(list(s.segments), lang), min_cell=s.min_cell, n_tests=n_tests))
    if s.baseline and s.weighting:
        out.append(w("change_weighted", baseline=s.baseline))
    elif s.baseline:
        nps_change = w("change_nps") if s.nps else ""
        n_changes = integer(s.n_changes, lang, missing="–")
        if s.change_paired:
            out.append(
                w("change_paired", baseline=s.baseline, n=s.change_paired, nps_change=nps_change, n_changes=n_changes)
            )
        else:
            out.append(w("change", baseline=s.baseline, nps_change=nps_change, n_changes=n_changes))
    asked = join(list(s.asked_constructs), lang) if s.asked_constructs else ""
    if s.drivers:
        text = w("drivers")
        if s.drivers_n is not None:
            text += " " + w("drivers_n", n=integer(s.drivers_n, lang))
        if asked:
            text += " " + w("drivers_asked", constructs=asked)
        out.append(text)
    if s.model:
        text = w(
            "model",
            scheme=word(f"pls_scheme.{s.model_scheme}", lang)
            if has_word(f"pls_scheme.{s.model_scheme}")
            else s.model_scheme,
            n=integer(s.model_n, lang, missing="–"),
            n_boot=integer(s.model_boot, lang, missing="–"),
        )
        if asked and s.model_n_asked is not None:
            text += " " + w("model_asked", constructs=asked, n=integer(s.model_n_asked, lang))
        out.append(text)
    if s.validity:
        out.append(word("validity.method", lang))
    if s.loyalty:
        out.append(w("zones"))
    if s.ipa:
        boot = w("ipa_boot", n_boot=integer(s.ipa_boot, lang), stable=percent(s.ipa_stable, 0))
        out.append(boot if s.ipa_boot else w("ipa"))
    return out


def methods_text(settings: MethodSettings, language: str | None) -> str:
    """The methods text as a markdown bullet list (see :func:`methods_paragraphs`)."""
    return "\n".join(f"- {p}" for p in methods_paragraphs(settings, language)) + "\n"
