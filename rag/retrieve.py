"""Find the chunks that best match a question.

Dense search over the e5 vectors of the index. Returns `Hit`s, best first.
It does not build prompts or talk to the chat model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ingest import Chunk


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int  # 1-based

    def to_json(self) -> dict:
        return {
            "chunk_id": self.chunk.id,
            "score": round(self.score, 4),
            "text": self.chunk.text,
            "source": self.chunk.source,
            "start": self.chunk.start,
            "end": self.chunk.end,
        }


def retrieve(index, embedder, question: str, k: int) -> list[Hit]:
    query = embedder.embed_queries([question])
    k = max(1, min(k, len(index.chunks)))
    scores, ids = index.faiss_index.search(np.ascontiguousarray(query, dtype=np.float32), k)
    return [
        Hit(index.chunks[i], float(s), rank) for rank, (i, s) in enumerate(zip(ids[0], scores[0]), start=1) if i >= 0
    ]
