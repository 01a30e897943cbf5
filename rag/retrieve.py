"""Find the chunks that best match a question: dense e5 search fused with BM25.

Dense search carries cross-lingual questions; BM25 over script-aware tokens
(rag.lexical) catches exact names and figures. Plain reciprocal-rank fusion
lets the lexical side drown English and French questions about a Japanese
transcript, so the fusion is score-aware: each side's scores are min-max
normalized over the candidates, and the lexical side's weight is scaled by
how much it can say — fully for a question in the transcript's script, by
the share of the question's words the transcript contains otherwise. Names
from the alias glossary are added to the question first. Every chunk of
a transcript whose title or speakers the question names (rag.episodes) gets
TITLE_WEIGHT x that match added: in a library the question's names pick
the episode, and speech recognition misspells them in the text; those names
are then left out of the BM25 query (they picked the episode; inside it they
match its intro and sponsor reads, not the answer). The top k take no more
than MAX_ADJACENT chunks in a row of one video (five neighbouring chunks of
one intro were the commonest miss). When the index
holds sentence vectors, the top SENTENCE_DEPTH hits compete for the k places
by their score plus their best sentence's likeness to the question: in a
long episode the chunks that share the question's names (intro, sponsor
read) outscore the chunk whose one sentence answers. This module does not
build prompts or talk to the chat model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .glossary import mentions
from .ingest import Chunk
from .lang import as_word, latin_share

SENTENCE_DEPTH = 20  # hits that compete by their best sentence; chosen with SENTENCE_WEIGHT on the tune half
SENTENCE_WEIGHT = 1.0
STRIP_NAMED = True  # the names that picked an episode leave the BM25 query: library-dev +1 at 40 and 537 episodes
MAX_ADJACENT = 3  # chosen on the tune half of library-dev (2 and 3 tie there); 2 lost a seed question
TITLE_WEIGHT = 0.5  # chosen on the tune half of library-dev (40 and 537 episodes); no language lost a question


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
            "start_time": self.chunk.start_time,
            "end_time": self.chunk.end_time,
        }


def expand_aliases(question: str, aliases: dict[str, list[str]]) -> str:
    """The question followed by the transcript's spellings of the names it mentions."""
    extra = [s for name, spellings in aliases.items() if mentions(question, name) for s in spellings]
    extra = [s for s in extra if not mentions(question, s)]
    return f"{question} ({', '.join(extra)})" if extra else question


def _normalize(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _dense(index, vector: np.ndarray, pool: int, rows: np.ndarray | None) -> dict[int, float]:
    """{row: cosine} of the `pool` nearest chunks, among `rows` when given."""
    if rows is None:
        scores, ids = index.faiss_index.search(vector, pool)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
    vectors = np.stack([index.faiss_index.reconstruct(int(i)) for i in rows]) if len(rows) else np.zeros((0, 1))
    scores = vectors @ vector[0] if len(rows) else np.zeros(0)
    best = np.argsort(-scores, kind="stable")[:pool]
    return {int(rows[j]): float(scores[j]) for j in best}


def without_words(text: str, words: set[str]) -> str:
    """The text with these words (rag.episodes name words: lower-case Latin or katakana) taken out, in any
    case, where they stand as words of their script: "Tasse" goes from "Flora Tasseさん", not from "Tassel"."""
    for word in sorted(words):
        text = re.sub(as_word(word), " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip() if words else text


def allowed_rows(index, videos: frozenset[str]) -> np.ndarray | None:
    """The chunk rows of the given transcripts; None for the whole library."""
    if not videos:
        return None
    return np.concatenate([np.arange(*index.rows[name]) for name in sorted(videos)]).astype(np.int64)


def retrieve(
    index, embedder, question: str, k: int, lexical_weight: float = 0.2, videos: frozenset[str] = frozenset()
) -> list[Hit]:
    """The k best chunks for the question, from the whole library or only the given transcripts."""
    query = expand_aliases(question, getattr(index, "aliases", {}) or {})
    vector = np.ascontiguousarray(embedder.embed_queries([query]), dtype=np.float32)
    rows = allowed_rows(index, videos)
    total = index.faiss_index.ntotal if rows is None else len(rows)
    if total == 0:
        return []
    k = max(1, min(k, total))
    pool = min(total, max(100, 10 * k))
    dense = _dense(index, vector, pool, rows)

    episodes = getattr(index, "episodes", None) if TITLE_WEIGHT else None
    named_scores = episodes.transcript_scores(question) if episodes is not None else None
    named = episodes.named_words(question, named_scores) if episodes is not None and STRIP_NAMED else set()
    lexical_query = without_words(query, named)
    lexical = index.bm25.scores(lexical_query) if lexical_weight > 0 and index.bm25 is not None else None
    candidates = list(dense)
    if lexical is not None:
        if rows is not None:
            mask = np.zeros(len(lexical), dtype=bool)
            mask[rows] = True
            lexical = np.where(mask, lexical, 0.0)
        top_lexical = np.argsort(-lexical)[:pool]
        extra = [int(i) for i in top_lexical if lexical[i] > 0 and int(i) not in dense]
        if extra:
            vectors = np.stack([index.faiss_index.reconstruct(i) for i in extra])
            dense.update({i: float(s) for i, s in zip(extra, vectors @ vector[0])})
            candidates += extra
    ids = np.array(candidates)
    fused = _normalize(np.array([dense[i] for i in candidates], dtype=np.float32))
    if lexical is not None:
        script = latin_share(question)
        weight = lexical_weight * ((1 - script) + script * index.bm25.known_share(lexical_query))
        fused = fused + weight * _normalize(lexical[ids])
    if episodes is not None:
        fused = fused + TITLE_WEIGHT * episodes.row_scores(question, ids, named_scores)
    sentences = getattr(index, "sentence_vectors", None)
    ranked = np.argsort(-fused, kind="stable")
    depth = max(k, SENTENCE_DEPTH) if sentences is not None else k
    order = ranked[spread_out(ids[ranked], index.chunks, depth, MAX_ADJACENT)] if MAX_ADJACENT else ranked[:depth]
    if sentences is not None and len(order) > k:
        spans = index.chunk_sentences[ids[order]]
        best = np.array([float((sentences[a:b] @ vector[0]).max()) if b > a else -1.0 for a, b in spans])
        order = order[chosen_by_best_sentence(fused[order], best, k)]
    return [Hit(index.chunks[int(ids[j])], float(fused[j]), rank) for rank, j in enumerate(order, start=1)]


def spread_out(rows: np.ndarray, chunks: list, k: int, max_adjacent: int) -> np.ndarray:
    """Positions of the first k rows (best first) such that no more than max_adjacent of them follow one
    another in one video; a row that would make a longer run (counting the rows already waiting: a whole
    stretch of intro waits, not every other chunk of it) waits until the rows after it are used."""
    chosen: list[int] = []
    waiting: list[int] = []
    seen: set[int] = set()
    for position, row in enumerate(int(r) for r in rows):
        if len(chosen) == k:
            break
        source = chunks[row].source
        run = 1
        for step in (-1, 1):
            neighbour = row + step
            while neighbour in seen and chunks[neighbour].source == source:
                run, neighbour = run + 1, neighbour + step
        seen.add(row)
        (waiting if run > max_adjacent else chosen).append(position)
    return np.array((chosen + waiting)[:k], dtype=np.int64)


def chosen_by_best_sentence(scores: np.ndarray, best_sentence: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k hits (of these top hits, best first) that stay, in their first order.

    Each hit competes with its score plus SENTENCE_WEIGHT x the likeness of its best sentence to the
    question, both min-max normalized over these hits: a chunk whose one sentence answers displaces a
    chunk that matches the question's names throughout (an episode's intro). The hits that stay keep
    the search's order, which the passages' numbering follows."""
    combined = _normalize(scores) + SENTENCE_WEIGHT * _normalize(best_sentence)
    return np.sort(np.argsort(-combined, kind="stable")[:k])


def retrieve_in_context(
    index,
    embedder,
    question: str,
    context_query: str,
    k: int,
    lexical_weight: float = 0.2,
    videos: frozenset[str] = frozenset(),
) -> list[Hit]:
    """Interleave the hits of the contextual query and of the bare question (context first), without repeats."""
    if context_query == question:
        return retrieve(index, embedder, question, k, lexical_weight, videos)
    with_context = retrieve(index, embedder, context_query, k, lexical_weight, videos)
    alone = retrieve(index, embedder, question, k, lexical_weight, videos)
    hits, seen = [], set()
    for hit in (h for pair in zip(with_context, alone) for h in pair):
        if hit.chunk.id not in seen:
            seen.add(hit.chunk.id)
            hits.append(Hit(hit.chunk, hit.score, len(hits) + 1))
    return hits[:k]
