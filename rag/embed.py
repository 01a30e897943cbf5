"""Text embeddings behind a tiny protocol.

`Embedder` is what the index and retrieval need: normalized vectors for
queries and for passages (e5 wants different prefixes for each). Two real
backends, both imported only when a model is loaded and always from a local
folder (nothing is fetched from a hub): ONNX Runtime running the ONNX export
that `rag models prepare` writes beside the weights (rag.onnxexport; the
same vectors as PyTorch, about twice the passages per second and no torch
import, bench/embed_backends.py), and sentence-transformers on PyTorch for
any other model folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import UsageError
from .models import ONNX_FILE, embedder_path


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    def __init__(self, folder: Path, name: str | None = None, threads: int | None = None):
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


class OnnxEmbedder:
    """Mean-pooled, normalized vectors from an ONNX encoder and the folder's tokenizer.json."""

    max_tokens = 512

    def __init__(self, folder: Path, model_file: Path, name: str, threads: int | None = None):
        import json

        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("<pad>") or 1, pad_token="<pad>")
        config = Path(folder) / "config_sentence_transformers.json"
        self.prompts = json.loads(config.read_text()).get("prompts", {}) if config.exists() else {}
        self.name = name
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def _encode(self, texts: list[str], kind: str, batch_size: int = 16) -> np.ndarray:
        prefix = self.prompts.get(kind, "")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([prefix + texts[i] for i in batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[batch] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage")


def load_embedder(settings) -> Embedder:
    """The ONNX backend when the folder has an export (and --embed-backend allows), else PyTorch.

    Both give the same vectors (cosine >= 0.9999), so they share one name and one index.
    """
    folder = embedder_path(settings)
    backend = settings.embed_backend
    onnx_file = folder / ONNX_FILE
    if backend == "onnx" and not onnx_file.exists():
        raise UsageError(f"{onnx_file} is missing; run `rag models prepare` or choose --embed-backend torch")
    if backend != "torch" and onnx_file.exists():
        return OnnxEmbedder(folder, onnx_file, name=settings.embedder, threads=settings.threads)
    return SentenceTransformerEmbedder(folder, name=settings.embedder, threads=settings.threads)
