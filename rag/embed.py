"""Text embeddings behind a tiny protocol.

`Embedder` is what the index and retrieval need: normalized vectors for
queries and for passages (e5 wants different prefixes for each). The real
backend is sentence-transformers, imported only when a model is loaded, and
always from a local folder: nothing is fetched from a hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    def __init__(self, folder: Path, name: str | None = None, threads: int | None = None):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.name = name or Path(folder).name
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.prompts = self.model.prompts or {}

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        prompt_name = kind if kind in self.prompts else None
        vectors = self.model.encode(
            list(texts), prompt_name=prompt_name, normalize_embeddings=True, batch_size=16, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage")


def load_embedder(settings) -> Embedder:
    from .models import embedder_path

    return SentenceTransformerEmbedder(embedder_path(settings), name=settings.embedder, threads=settings.threads)
