"""BM25 over script-aware tokens: character bigrams for Japanese, words for Latin script.

Japanese has no spaces, so its text is cut into overlapping character
bigrams (and single kanji/katakana runs of one character are kept as
unigrams); Latin-script text is cut into lower-cased words, and numbers keep
their digits without thousands separators ("5,000億" -> "5000", "億").
Hyphenated or dotted words count whole and by part ("o3-mini" -> "o3-mini",
"o3", "mini"). This module
only scores chunks for a query; fusing with dense scores is retrieve's job.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .lang import ENGLISH_WORDS, FRENCH_WORDS

JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[0-9a-zà-ÿœ]+(?:[-'.,][0-9a-zà-ÿœ]+)*")
THOUSANDS = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
STOPWORDS = (
    ENGLISH_WORDS
    | FRENCH_WORDS
    | {
        "a",
        "an",
        "was",
        "were",
        "or",
        "it",
        "its",
        "for",
        "on",
        "at",
        "by",
        "with",
        "about",
        "according",
        "video",
        "vidéo",
    }
)
JAPANESE_PARTICLES = set("のはがをにでとへもやかな")


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    tokens = []
    for match in LATIN_WORD.finditer(text):
        word = THOUSANDS.sub("", match.group())
        parts = [] if re.fullmatch(r"[\d.,]+", word) else [p for p in re.split(r"[-'.,]", word) if p]
        for token in [word, *parts] if len(parts) > 1 else [word]:
            if token not in STOPWORDS:
                tokens.append(token)
    for match in JAPANESE_RUN.finditer(text):
        run = match.group()
        if len(run) == 1:
            if run not in JAPANESE_PARTICLES:
                tokens.append(run)
            continue
        tokens += [run[i : i + 2] for i in range(len(run) - 1)]
    return tokens


@dataclass(frozen=True)
class BM25:
    postings: dict[str, tuple[np.ndarray, np.ndarray]]  # token -> (doc ids, term frequencies)
    lengths: np.ndarray
    k1: float = 1.2
    b: float = 0.75

    @classmethod
    def build(cls, texts: list[str]) -> BM25:
        lists: dict[str, tuple[list[int], list[int]]] = {}
        lengths = []
        for doc, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            for token, tf in counts.items():
                docs, tfs = lists.setdefault(token, ([], []))
                docs.append(doc)
                tfs.append(tf)
        postings = {
            token: (np.array(docs, dtype=np.int32), np.array(tfs, dtype=np.float32))
            for token, (docs, tfs) in lists.items()
        }
        return cls(postings, np.array(lengths, dtype=np.float32))

    def scores(self, query: str) -> np.ndarray:
        n = len(self.lengths)
        result = np.zeros(n, dtype=np.float32)
        if n == 0:
            return result
        average = float(self.lengths.mean()) or 1.0
        for token in set(tokenize(query)):
            posting = self.postings.get(token)
            if posting is None:
                continue
            docs, tf = posting
            idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[docs] / average)
            result[docs] += idf * tf * (self.k1 + 1) / norm  # a token's doc ids are unique
        return result

    def known_share(self, query: str) -> float:
        """Share of the query's tokens that occur in the corpus at all."""
        tokens = tokenize(query)
        return sum(1 for t in tokens if t in self.postings) / len(tokens) if tokens else 0.0
