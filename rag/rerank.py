"""Re-order the search's top hits by how likely a small chat model finds the question after each passage.

Opt-in (`rerank_depth`): the top N hits of the search are each shown to the
0.5B chat model as "Passage: … Write one question that this passage
answers.", and the mean log-probability of the question (its translation
into the library's language, when there is one) as the reply is read. The
hits are then ordered by their search score plus that likelihood, each
z-normalized over the N: a passage that answers the question makes the
question likely, where an intro that only shares its names does not. It
costs one prompt evaluation per passage (~0.7 s with the 0.5B on two cores),
so it is off by default. This module does not search and decides nothing
about refusals.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from .errors import RagError
from .retrieve import Hit

RERANK_MODEL = "qwen2.5-coder-0.5b"
PASSAGE_PROMPT = "Passage:\n{passage}\n\nWrite one question that this passage answers."


class QuestionScorer(Protocol):
    def continuation_logprobs(self, messages: list[dict], continuation: str) -> list[float]: ...


@dataclass
class Remembered:
    """A scorer that evaluates each (prompt, question) once: a second chance re-orders the same top hits
    without reading them again."""

    scorer: QuestionScorer
    seen: dict = field(default_factory=dict)
    limit: int = 512

    def continuation_logprobs(self, messages: list[dict], continuation: str) -> list[float]:
        key = (json.dumps(messages, ensure_ascii=False), continuation)
        if key not in self.seen:
            if len(self.seen) >= self.limit:
                self.seen.pop(next(iter(self.seen)))
            self.seen[key] = self.scorer.continuation_logprobs(messages, continuation)
        return self.seen[key]


def question_likelihoods(scorer: QuestionScorer, hits: list[Hit], question: str) -> list[float | None]:
    """The mean log-probability of the question as the model's reply to each hit's passage prompt (None where
    the prompt does not fit the model's context or the model gives no finite value)."""
    likelihoods = []
    for hit in hits:
        messages = [{"role": "user", "content": PASSAGE_PROMPT.format(passage=hit.chunk.text)}]
        logprobs = scorer.continuation_logprobs(messages, question)
        mean = float(np.mean(logprobs)) if logprobs else math.nan
        likelihoods.append(mean if math.isfinite(mean) else None)
    return likelihoods


def _standardized(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    spread = float(array.std())
    return (array - array.mean()) / spread if spread > 0 else np.zeros_like(array)


def reranked(hits: list[Hit], likelihoods: list[float | None], k: int) -> list[Hit]:
    """The k hits with the best search score + question likelihood (both z-normalized over the hits), best
    first and numbered again; ties keep the order the hits came in. A hit without a likelihood counts as the
    least likely of the others."""
    if not hits:
        return []
    known = [x for x in likelihoods if x is not None]
    floor = min(known) if known else 0.0
    filled = [floor if x is None else x for x in likelihoods]
    combined = _standardized([h.score for h in hits]) + _standardized(filled)
    order = np.argsort(-combined, kind="stable")[:k]
    return [replace(hits[j], rank=rank) for rank, j in enumerate(order, start=1)]


def check_rerank_model(settings):
    """The re-ordering model's path when re-ordering is asked for (None when not); a one-line RagError when
    that model is not prepared."""
    from .models import chat_model_path

    if not settings.rerank_depth:
        return None
    try:
        return chat_model_path(settings.replace(model=RERANK_MODEL))
    except RagError as error:
        raise RagError(f"--rerank-depth needs the {RERANK_MODEL} model: {error}") from None


@functools.cache
def _load_scorer(path: str, threads: int, n_batch: int, flash_attn: bool) -> Remembered:
    from pathlib import Path

    from .generate import LlamaGenerator

    return Remembered(LlamaGenerator(Path(path), RERANK_MODEL, 2048, threads, n_batch, flash_attn))


def load_scorer(settings) -> QuestionScorer:
    """The re-ordering model (settings.rerank_depth set), loaded once per process and remembering the passages
    it has read."""
    path = check_rerank_model(settings)
    return _load_scorer(str(path), settings.threads, settings.n_batch, settings.flash_attn)
