"""Shared fakes and fixtures.

FakeEmbedder maps text to a bag of character bigrams hashed into a small
vector: similar texts get similar vectors, with no model. FakeGenerator
replays a scripted answer piece by piece, like a streaming model, and says the
passages answer the question with probability 1 - refusal_score.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_bf3b1260eecfaf13.txt"
DEV = REPO.parent / "shared" / "eval" / "dev.jsonl"


class FakeEmbedder:
    name = "fake-bigrams"
    dim = 64

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for i in range(len(text) - 1):
            v[int(hashlib.md5(text[i : i + 2].encode()).hexdigest(), 16) % self.dim] += 1
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts):
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    embed_passages = embed_queries


class FakeGenerator:
    name = "fake-model"

    def __init__(self, answer: str, piece_size: int = 3, refusal_score: float | None = None):
        self.answer = answer
        self.piece_size = piece_size
        self.messages = None
        self.refusal_score = refusal_score

    def stream(self, messages, max_tokens, temperature):
        self.messages = messages
        for i in range(0, len(self.answer), self.piece_size):
            yield self.answer[i : i + self.piece_size]

    def choose(self, messages, options):
        """The first option ("yes", "follows") gets 1 - refusal_score (answerable when no score is given)."""
        self.asked_whether = messages
        first, second = options
        yes = 1.0 - (self.refusal_score or 0.0)
        return {first: yes, second: 1.0 - yes}

    def count_tokens(self, text):
        return max(1, len(text) // 2)


@pytest.fixture
def fake_settings(tmp_path):
    from rag.settings import Settings

    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / SEED.name).write_bytes(SEED.read_bytes())
    return Settings.load(
        sources=sources,
        index_dir=tmp_path / "index",
        models_dir=tmp_path / "models",
        embedder="fake-bigrams",
        translate_questions=False,  # the scripted answer would be taken for a translation; tested on its own
    )


@pytest.fixture
def fake_index(fake_settings):
    from rag.store import build_index

    return build_index(fake_settings, FakeEmbedder())


@functools.cache
def dev_questions() -> dict[str, dict]:
    """The seed's dev questions (../shared/eval/dev.jsonl); only end-to-end tests use them."""
    if not DEV.exists():
        pytest.fail(f"{DEV} is missing: the end-to-end tests read the eval questions from ../shared")
    return {q["id"]: q for q in map(json.loads, DEV.read_text().splitlines())}


class FakePipeline:
    """What the UI and the batch runner need of rag.pipeline.Pipeline, over the fake embedder and generator.

    `answer` is the scripted model text; a question in `fail_on` raises RagError ("interrupt": KeyboardInterrupt).
    """

    def __init__(self, settings, index, answer: str = "27ワットです[1]。", fail_on=()):
        import threading

        self.settings, self.index, self.answer, self.fail_on = settings, index, answer, set(fail_on)
        self.lock = threading.Lock()
        self.asked: list[str] = []
        self.seen_history = None

    def add_files(self, paths, log=None):
        from rag.library import add_files
        from rag.store import load_index

        names = add_files(self.settings, FakeEmbedder(), paths, log=log)
        self.index = load_index(self.settings, FakeEmbedder.name)
        return names

    def ask_stream(self, question, history=None, settings=None, videos=frozenset()):
        from rag.answer import ask_stream
        from rag.errors import RagError

        self.asked.append(question)
        self.seen_history = history
        if question in self.fail_on:
            raise KeyboardInterrupt if question == "interrupt" else RagError(f"cannot answer {question}")
        with self.lock:
            yield from ask_stream(
                question,
                self.index,
                FakeEmbedder(),
                FakeGenerator(self.answer),
                settings or self.settings,
                history,
                videos=videos,
            )
