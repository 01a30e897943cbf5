"""An independent judge of faithfulness for `rag eval`: does the cited text support the claim?

Two readings by the local chat model are combined. It answers yes or no to
"does the source support the statement?" (P(yes) from its first token,
normalized over yes and no), reading only the source's two sentences most
like the claim (the embedder's choice) with their neighbours: the 1.5B
judges a few sentences better than a whole passage. And it scores the
claim's own tokens twice, after the whole source and the question and after
the question alone: a claim the source supports becomes more likely with it
(the mean gain per token). The score is logit(P(yes)) + `GAIN_WEIGHT` × the
gain; a claim counts as supported from `SUPPORTED_FROM` up (weight and
threshold chosen on one half of the hand labels, reported on the other).
It is independent of the answer's own claim
check (rag.claims compares numbers, names and similarity; it does not ask
the model), so `rag eval` does not let the checker grade itself. How far it
can be trusted is measured against hand labels
(tests/data/judge_labels.jsonl; `agreement`) and printed beside the score.
Nothing here changes an answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .ingest import split_sentences

JUDGE_SYSTEM = (
    "You check statements against a source text from a video transcript. A statement is supported only if "
    "the source text says it: same facts, same numbers, same people and things, same yes or no. A statement "
    "that adds a detail the source does not give, mixes up who did what, or only talks about the source, is "
    "not supported. Reply yes or no.\n\n"
    "Examples:\n"
    "Source: We trained on about forty thousand hours of audio, mostly English podcasts.\n"
    "Statement: The model was trained on roughly 40,000 hours of audio. -> yes\n"
    "Source: We trained on about forty thousand hours of audio, mostly English podcasts.\n"
    "Statement: The model was trained on 4,000 hours of audio. -> no\n"
    "Source: Maria founded the lab in 2015; later Tom joined as its director.\n"
    "Statement: Tom founded the lab. -> no\n"
    "Source: We haven't tried it on phones yet, only on laptops.\n"
    "Statement: Yes, it runs on phones. -> no\n"
    "Source: The survey covered three cities.\n"
    "Statement: The survey covered three cities and cost 2 million euros. -> no\n"
    "Source: The survey covered three cities.\n"
    "Statement: This is stated in the passage. -> no\n"
    "Source: 調査は三つの都市で行われた。\n"
    "Statement: The survey took place in three cities. -> yes"
)
GAIN_SYSTEM = "You answer questions about a video transcript."
# Both chosen on the tune half of the hand labels (bench/judge_agreement.py --choose): the gain's weight from
# 0-4, the threshold as the best accuracy there.
GAIN_WEIGHT = 1.5
SUPPORTED_FROM = 1.66
FOCUS_SENTENCES = 2  # the source sentences most like the claim that P(yes) reads, each with its neighbours
YES_NO = {"yes": ["yes", "Yes", "YES", "はい", "oui", "Oui"], "no": ["no", "No", "NO", "いいえ", "non", "Non"]}


def combined_score(p_yes: float, gain: float, weight: float = GAIN_WEIGHT) -> float:
    """logit(P(yes)) + weight × the source's gain; P(yes) is clipped so a certain yes or no stays finite."""
    p_yes = min(max(p_yes, 1e-4), 1 - 1e-4)
    return math.log(p_yes / (1 - p_yes)) + weight * gain


@dataclass(frozen=True)
class Verdict:
    claim: str
    p_yes: float
    gain: float  # mean log-probability gain per claim token from reading the source

    @property
    def score(self) -> float:
        return combined_score(self.p_yes, self.gain)

    @property
    def supported(self) -> bool:
        return self.score >= SUPPORTED_FROM


def judge_messages(claim: str, source: str, question: str = "") -> list[dict]:
    asked = f"Question that was asked: {question}\n" if question else ""
    user = (
        f"Source text:\n<source>\n{source}\n</source>\n\n{asked}Statement: {claim}\n\n"
        "Does the source text support the statement? Reply yes or no."
    )
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def source_gain(generator, claim: str, source: str, question: str = "") -> float:
    """How much likelier the chat model finds the claim's tokens after the source than without it (mean)."""
    asked = f"Question: {question}"
    with_source = [
        {"role": "system", "content": GAIN_SYSTEM},
        {"role": "user", "content": f"Source text:\n{source}\n\n{asked}"},
    ]
    alone = [{"role": "system", "content": GAIN_SYSTEM}, {"role": "user", "content": asked}]
    read, unread = (generator.continuation_logprobs(messages, claim) for messages in (with_source, alone))
    if not read or len(read) != len(unread):
        return 0.0
    return sum(a - b for a, b in zip(read, unread)) / len(read)


def focus(claim: str, source: str, embedder=None, sentences: int = FOCUS_SENTENCES) -> str:
    """The source's `sentences` most like the claim (by the embedder), each with the sentence before and after,
    in the source's order; the whole source without an embedder."""
    spans = split_sentences(source)
    if embedder is None or not spans:
        return source
    texts = [source[s.start : s.end] for s in spans]
    likeness = embedder.embed_passages(texts) @ embedder.embed_queries([claim])[0]
    best = sorted(int(i) for i in np.argsort(-likeness)[:sentences])
    kept = sorted({j for i in best for j in range(max(0, i - 1), min(len(texts), i + 2))})
    return " ".join(texts[j].strip() for j in kept)


def judge_claim(generator, claim: str, source: str, question: str = "", embedder=None) -> Verdict:
    """P(yes) over the source's focus (`focus`), the gain over the whole source."""
    p_yes = generator.choose(judge_messages(claim, focus(claim, source, embedder), question), YES_NO)["yes"]
    return Verdict(claim, p_yes, source_gain(generator, claim, source, question))


def agreement(verdicts: list[bool], labels: list[bool]) -> dict:
    """How the judge compares with hand labels: accuracy, and precision/recall on the unsupported claims."""
    pairs = list(zip(verdicts, labels))
    flagged = [label for verdict, label in pairs if not verdict]  # the judge says unsupported
    unsupported = [verdict for verdict, label in pairs if not label]  # the labels say unsupported
    return {
        "claims": len(pairs),
        "accuracy": round(sum(v == lab for v, lab in pairs) / len(pairs), 3) if pairs else None,
        "unsupported_labelled": len(unsupported),
        "unsupported_precision": round(sum(not lab for lab in flagged) / len(flagged), 3) if flagged else None,
        "unsupported_recall": round(sum(not v for v in unsupported) / len(unsupported), 3) if unsupported else None,
    }


class EmbeddedOnce:
    """An embedder that embeds each passage text once (claims citing one passage share its sentences)."""

    def __init__(self, embedder):
        self.embedder, self.vectors = embedder, {}

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if new:
            self.vectors.update(zip(new, self.embedder.embed_passages(new)))
        return np.stack([self.vectors[t] for t in texts])


def judge_answer(generator, record: dict, embedder=None) -> list[dict]:
    """Verdicts on the claims an answer shows (`rag ask --json` output): each against the passage it cites."""
    passages = {p["n"]: p["text"] for p in record.get("passages", [])}
    embedder = EmbeddedOnce(embedder) if embedder is not None else None
    verdicts = []
    for claim in record.get("claims", []):
        cited = [n for n in claim["citations"] if n in passages]
        if not claim["supported"] or not cited:
            continue
        source = "\n\n".join(passages[n] for n in cited)
        verdict = judge_claim(generator, claim["text"], source, record.get("question", ""), embedder)
        verdicts.append(
            {
                "text": claim["text"],
                "p_yes": round(verdict.p_yes, 4),
                "gain": round(verdict.gain, 4),
                "supported": verdict.supported,
            }
        )
    return verdicts
