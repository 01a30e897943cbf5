"""Check every claim of an answer against the passage it cites.

An answer is split into sentences (claims), each with the passages it cites.
A passage supports a claim when every number in the claim appears in it as a
value (rag.numbers: 5.5百万 = 550万 = 5.5 million), and one of its sentences
is close to the claim: cross-lingual e5 similarity, or character-bigram
overlap (which works within one language, Japanese included). A claim whose
cited passage does not support it, but another retrieved passage does, is
re-pointed there. A claim nothing supports is marked unsupported. Sentences
that only talk about the passages ("This is mentioned in passage [1].") are
not claims and are dropped. No model generates anything here; the e5
embedder only measures similarity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .context import Passage
from .ingest import Sentence
from .numbers import extract_numbers, unsupported_numbers

# Calibrated on the dev set's answers (see models.md, "Claim check").
SIMILARITY_THRESHOLD = 0.86
OVERLAP_THRESHOLD = 0.5
META_SENTENCE = re.compile(
    r"(passages?|パッセージ|文節|引用|記載されて|述べられて|mentioned in|stated in|according to the (?:passage|text)|"
    r"selon le passage|mentionné dans|cité dans)",
    re.IGNORECASE,
)
CITATION = re.compile(r"\[(\d+(?:\s*[,、，]\s*\d+)*)\]")


@dataclass(frozen=True)
class ClaimCheck:
    text: str  # the claim without its citation markers
    cited: tuple[int, ...]  # passage numbers the model cited
    supported: bool
    support: int | None  # the passage number that supports it (may differ from cited: re-pointed)
    quote: Sentence | None  # the supporting sentence, offsets in the transcript
    score: float  # best similarity or overlap found in the supporting (or cited) passage
    missing_numbers: tuple[float, ...]  # numbers of the claim absent from the cited passage

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "citations": [self.support] if self.support else list(self.cited),
            "cited_by_model": list(self.cited),
            "supported": self.supported,
            "score": round(self.score, 3),
            "missing_numbers": list(self.missing_numbers),
        }


def is_meta(claim: str) -> bool:
    """A sentence about the passages rather than about the video."""
    return bool(META_SENTENCE.search(claim)) and not extract_numbers(claim) and len(claim) < 120


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", text.lower())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(claim: str, sentence: str) -> float:
    a = _bigrams(claim)
    return len(a & _bigrams(sentence)) / len(a) if a else 0.0


def check_claims(
    claims: list[tuple[str, list[int]]], passages: list[Passage], transcripts: dict, embedder, question: str = ""
) -> list[ClaimCheck]:
    """Check (claim, cited passage numbers) pairs against the numbered passages."""
    claims = [(text, cited) for text, cited in claims if text.strip() and not is_meta(text)]
    if not claims or not passages:
        return [ClaimCheck(t, tuple(c), False, None, None, 0.0, ()) for t, c in claims]
    sentence_spans = [list(p.sentences) for p in passages]
    sentence_texts = [
        [transcripts[p.source].text[s.start : s.end] for s in spans] for p, spans in zip(passages, sentence_spans)
    ]
    flat = [t for texts in sentence_texts for t in texts]
    sentence_vectors = embedder.embed_passages(flat)
    claim_vectors = embedder.embed_queries([t for t, _ in claims])
    offsets = np.cumsum([0] + [len(t) for t in sentence_texts])
    question_numbers = set(extract_numbers(question))

    results = []
    for (text, cited), vector in zip(claims, claim_vectors):
        similarity = sentence_vectors @ vector

        def assess(n: int):
            """(supported, score, best sentence, missing numbers) for passage n (1-based)."""
            a, b = offsets[n - 1], offsets[n]
            sims = similarity[a:b]
            overlaps = np.array([overlap(text, t) for t in sentence_texts[n - 1]])
            best = int(np.argmax(np.maximum(sims, overlaps)))
            missing = unsupported_numbers(text, passages[n - 1].text, ignore=question_numbers)
            score = float(max(sims.max(), overlaps.max()))
            close = sims.max() >= SIMILARITY_THRESHOLD or overlaps.max() >= OVERLAP_THRESHOLD
            return close and not missing, score, sentence_spans[n - 1][best], missing

        valid = [n for n in cited if 1 <= n <= len(passages)]
        outcome = None
        for n in valid:
            ok, score, sentence, missing = assess(n)
            if ok:
                outcome = ClaimCheck(text, tuple(cited), True, n, sentence, score, ())
                break
        if outcome is None:
            first_missing = tuple(assess(valid[0])[3]) if valid else ()
            others = [(assess(n), n) for n in range(1, len(passages) + 1) if n not in valid]
            supporting = sorted(((r[1], n, r) for r, n in others if r[0]), reverse=True)
            if supporting:
                score, n, (_, _, sentence, _) = supporting[0]
                outcome = ClaimCheck(text, tuple(cited), True, n, sentence, score, first_missing)
            else:
                score = max((assess(n)[1] for n in valid), default=0.0)
                outcome = ClaimCheck(text, tuple(cited), False, None, None, score, first_missing)
        results.append(outcome)
    return results
