"""Which transcripts a question names: its names matched against each transcript's title and speakers.

A question about one video of a library usually names its guest or company
("According to Laurence Watson, of Carbon Tracker, …"). Speech recognition
spells such names unreliably in the text; a title (from a sidecar, or the
file name) usually does not. Each transcript scores the summed rarity of the
question's name words found in its title or speaker list (inverse document
frequency over the library's titles), divided by the best transcript's
score, so 0..1. Only names count (rag.names), so words such as "the", "data"
or "learning" in titles match nothing; a name of several words counts where
the title holds at least half of them; a library of one transcript scores
nothing. A katakana word of a full name in the question (a ・ beside it)
also counts for the Latin title words with its sound key (rag.kana:
マコート for McCourt), when the index's speech tells names from loanwords:
only title words that few transcripts say (a guest's name; not "data")
and that are no stop words. This module does not search: retrieval adds the score,
weighted, to every chunk of the transcript (rag.retrieve), so it lifts the
named episode without filtering the others out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .kana import kana_key, latin_keys
from .lexical import tokenize
from .names import name_phrases

MIN_SOUND_KEY = 2  # consonants a sound key needs to match (rag.kana)
SAID_SHARE = 0.05  # a title word said in more transcripts than this share (data, biases) is no name to transcribe
WORD = re.compile(r"[ァ-ヴー]+|[a-zà-ÿ][a-zà-ÿ0-9]*")  # katakana runs; Latin words, lower-cased first


def name_words(text: str) -> set[str]:
    """Lower-cased words of length 2 or more, digits alone left out (an episode number matches nothing)."""
    return {w for w in WORD.findall(text.lower()) if len(w) > 1}


def found_in(names: list[list[set[str]]], title_words: frozenset[str]) -> set[str]:
    """The title words that the names match: a name (each of its words given with its other spellings) counts
    where the title holds at least half of its words ("Eric Topol" for a file name cut to "…with-eric-to",
    not "Royal Statistical Society" for a title with "society" in it)."""
    found: set[str] = set()
    for name in names:
        matched = [spellings & title_words for spellings in name]
        if 2 * sum(1 for m in matched if m) >= len(name):
            found |= set().union(*matched)
    return found


@dataclass(frozen=True)
class EpisodeNames:
    words: tuple[frozenset[str], ...]  # each transcript's title and speaker words, in row order
    rarity: dict  # word -> log(transcripts / transcripts whose title has it)
    row_transcript: np.ndarray  # chunk row -> position in `words`
    sounds: dict = field(default_factory=dict)  # rag.kana sound key -> the Latin title words that have it

    @classmethod
    def build(cls, labels: list[str], rows: list[tuple[int, int]], spoken_in=None) -> EpisodeNames:
        """labels[i]: transcript i's title and speakers as one text; rows[i]: its chunk rows [first, end).
        spoken_in(word, row_transcript): how many transcripts say the word (None: katakana matches nothing)."""
        words = tuple(frozenset(name_words(label)) for label in labels)
        counts: dict[str, int] = {}
        for group in words:
            for word in group:
                counts[word] = counts.get(word, 0) + 1
        rarity = {word: math.log(len(words) / count) for word, count in counts.items()}
        row_transcript = np.zeros(max((end for _, end in rows), default=0), dtype=np.int64)
        for position, (first, end) in enumerate(rows):
            row_transcript[first:end] = position
        sounds: dict[str, set[str]] = {}
        rarely_said = max(2, SAID_SHARE * len(words))
        for word in counts:
            keys = {key for key in latin_keys(word) if len(key) >= MIN_SOUND_KEY}
            if keys and spoken_in is not None and spoken_in(word, row_transcript) <= rarely_said:
                for key in keys:
                    sounds.setdefault(key, set()).add(word)
        return cls(words, rarity, row_transcript, sounds)

    def names(self, question: str) -> list[list[set[str]]]:
        """The question's names, each a list of its words with their spellings in the titles: a katakana
        word of a full name (a ・ beside it: フローラ・タッセ, サム・アルトマン; a lone katakana word is as
        often a loanword: モデル, データ) with the Latin title words it sounds like."""
        return [
            [
                {
                    word,
                    *(
                        self.sounds.get(kana_key(word), ())
                        if re.search(f"・{re.escape(word)}|{re.escape(word)}・", question)
                        else ()
                    ),
                }
                for word in sorted(name_words(name))
            ]
            for name in name_phrases(question)
        ]

    def transcript_scores(self, question: str) -> np.ndarray:
        """Each transcript's match with the question's names (`found_in`), 0..1 (all 0 when none is named)."""
        names = self.names(question)
        scores = np.zeros(len(self.words), dtype=np.float32)
        for position, group in enumerate(self.words):
            scores[position] = sum(self.rarity[word] for word in found_in(names, group))
        best = float(scores.max()) if len(scores) else 0.0
        return scores / best if best > 0 else np.zeros_like(scores)

    def named_words(self, question: str, scores: np.ndarray | None = None) -> set[str]:
        """The question's name words that count for its best-matching transcripts, with the title words a
        katakana one matched there (empty when none is named; two transcripts tie when the same guest has two
        episodes). `scores`: its transcript_scores, if known."""
        scores = self.transcript_scores(question) if scores is None else scores
        if not len(scores) or scores.max() <= 0:
            return set()
        names = self.names(question)
        found = set().union(*(found_in(names, self.words[best]) for best in np.flatnonzero(scores >= scores.max())))
        matched = {word for name in names for spellings in name if spellings & found for word in spellings}
        return found | {word for word in matched if re.match(r"[ァ-ヴー]", word)}  # the question's own katakana

    def row_scores(self, question: str, rows: np.ndarray, scores: np.ndarray | None = None) -> np.ndarray:
        """The match of each given chunk row's transcript with the question's names (`scores`: its
        transcript_scores, if known)."""
        return (self.transcript_scores(question) if scores is None else scores)[self.row_transcript[rows]]


def episode_names(transcripts: dict, rows: dict, bm25=None) -> EpisodeNames:
    """EpisodeNames of an index: transcripts {name: Transcript}, rows {name: (first row, end row)}; with the
    index's BM25 (rag.lexical), a katakana word of a question also matches the title words that sound like it
    and that few transcripts say (names, not loanwords)."""
    ordered = sorted(rows, key=lambda name: rows[name][0])
    labels = [
        " ".join([transcripts[name].title, *getattr(transcripts[name], "speakers", ())]) if name in transcripts else ""
        for name in ordered
    ]

    def spoken_in(word: str, row_transcript: np.ndarray) -> int:
        if tokenize(word) != [word]:  # a stop word ("with", "about") has no postings but is said everywhere
            return len(ordered)
        docs = bm25.postings.get(word)
        return 0 if docs is None else len(np.unique(row_transcript[docs[0]]))

    return EpisodeNames.build(labels, [tuple(rows[name]) for name in ordered], spoken_in if bm25 else None)
