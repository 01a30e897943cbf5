"""The on-disk index: vectors in FAISS, chunks and sentences beside them, and a manifest.

Layout of the index folder:
  manifest.json   format version, embedder and dimension, chunking settings,
                  sha256 of each source, creation time
  vectors.faiss   normalized chunk embeddings (row i = chunk i): exact IndexFlatIP, or an
                  HNSW graph from `hnsw_min_chunks` chunks up (bench/retrieval_scale.py)
  chunks.jsonl    one chunk a line
  sources.json    each transcript's title, original title and cleaned text
Every file is written to a temporary name and renamed, manifest last, so an
interrupted build leaves the previous index (or none) and never a mix.
`load_index` checks the manifest against the current settings and sources
and says what to rebuild. Searching lives in retrieve.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import RagError
from .glossary import read_aliases
from .ingest import Chunk, Sentence, Transcript, chunk, list_sources, read_transcript, sha256_file, split_sentences
from .lexical import BM25

FORMAT_VERSION = 1
REBUILD = "run `rag index build`"


@dataclass(frozen=True)
class Index:
    manifest: dict
    chunks: list[Chunk]
    transcripts: dict[str, Transcript]
    faiss_index: object  # faiss.Index
    aliases: dict = field(default_factory=dict)  # {known name: [transcript spellings]}, see glossary
    bm25: object = None  # rag.lexical.BM25 over the chunk texts, built when the index is loaded

    def transcript_of(self, chunk: Chunk) -> Transcript:
        return self.transcripts[chunk.source]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def expected_manifest(settings, embedder_name: str, dim: int | None) -> dict:
    sources = list_sources(settings.sources)
    if not sources:
        raise RagError(f"no transcripts (*.txt) in {settings.sources}; add one or fix --sources / RAG_SOURCES")
    return {
        "format_version": FORMAT_VERSION,
        "embedder": embedder_name,
        "dim": dim,
        "chunking": {"target_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences},
        "sources": {p.name: sha256_file(p) for p in sources},
    }


def embed_with_progress(embedder, texts: list[str], log, block: int = 1024) -> np.ndarray:
    """Embed passages in blocks, logging progress and the rate when there is more than one block."""
    if len(texts) <= block:
        return embedder.embed_passages(texts)
    parts, started = [], time.perf_counter()
    for start in range(0, len(texts), block):
        parts.append(embedder.embed_passages(texts[start : start + block]))
        done = start + len(parts[-1])
        rate = done / (time.perf_counter() - started)
        log(f"  embedded {done}/{len(texts)} chunks ({rate:.0f}/s, {(len(texts) - done) / rate:.0f} s left)")
    return np.concatenate(parts)


def build_index(settings, embedder, log=None) -> Index:
    import faiss

    log = log or (lambda message: None)
    manifest = expected_manifest(settings, embedder.name, embedder.dim)
    transcripts = {}
    chunks: list[Chunk] = []
    for path in list_sources(settings.sources):
        transcript = read_transcript(path)
        if not transcript.text:
            raise RagError(f"{path} has no text after cleaning; remove it or fix the file")
        transcripts[transcript.source] = transcript
        chunks += chunk(transcript, settings.chunk_chars, settings.chunk_overlap_sentences)
    log(f"embedding {len(chunks)} chunks from {len(transcripts)} transcript(s) ...")
    vectors = embed_with_progress(embedder, [c.text for c in chunks], log)
    faiss_index = make_faiss_index(np.ascontiguousarray(vectors, dtype=np.float32), settings.hnsw_min_chunks)

    folder = Path(settings.index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        **manifest,
        "chunks": len(chunks),
        "vector_index": "hnsw" if is_hnsw(faiss_index) else "flat",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_atomic(folder / "vectors.faiss", faiss.serialize_index(faiss_index).tobytes())
    chunk_lines = "".join(json.dumps(_chunk_to_json(c), ensure_ascii=False) + "\n" for c in chunks)
    _write_atomic(folder / "chunks.jsonl", chunk_lines.encode("utf-8"))
    sources = {
        name: {"title": t.title, "original_title": t.original_title, "sha256": t.sha256, "text": t.text}
        for name, t in transcripts.items()
    }
    _write_atomic(folder / "sources.json", json.dumps(sources, ensure_ascii=False).encode("utf-8"))
    _write_atomic(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return Index(
        manifest, chunks, transcripts, faiss_index, read_aliases(settings.sources), BM25.build([c.text for c in chunks])
    )


HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 2048  # recall@10 0.955 of exact search at 10^6 chunks, 15 ms (bench/retrieval_scale.py)


def make_faiss_index(vectors: np.ndarray, hnsw_min_chunks: int):
    """Exact inner-product search for small corpora; an HNSW graph from hnsw_min_chunks vectors up."""
    import faiss

    dim = vectors.shape[1]
    if len(vectors) >= hnsw_min_chunks:
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def is_hnsw(index) -> bool:
    return hasattr(index, "hnsw")


def _chunk_to_json(c: Chunk) -> dict:
    data = asdict(c)
    data["sentences"] = [[s.start, s.end] for s in c.sentences]
    return data


def _chunk_from_json(data: dict) -> Chunk:
    return Chunk(**{**data, "sentences": tuple(Sentence(a, b) for a, b in data["sentences"])})


def check_manifest(found: dict, expected: dict) -> str | None:
    """None when the index fits the current settings and sources, else what is stale, as one sentence."""
    if found.get("format_version") != expected["format_version"]:
        return f"the index was written in format {found.get('format_version')}, this version reads {expected['format_version']}; {REBUILD}"
    if found.get("embedder") != expected["embedder"]:
        return f"the index was built with the embedder {found.get('embedder')}, not {expected['embedder']}; {REBUILD}"
    if expected.get("dim") is not None and found.get("dim") != expected["dim"]:
        return (
            f"the index holds {found.get('dim')}-dimensional vectors, the embedder makes {expected['dim']}; {REBUILD}"
        )
    if found.get("chunking") != expected["chunking"]:
        return f"the index was chunked with {found.get('chunking')}, the settings say {expected['chunking']}; {REBUILD}"
    old, new = found.get("sources", {}), expected["sources"]
    changed = sorted(name for name in new if name in old and old[name] != new[name])
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    if changed or added or removed:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (("changed", changed), ("new", added), ("removed", removed))
            if names
        ]
        return f"the transcripts changed since the index was built ({'; '.join(parts)}); {REBUILD}"
    return None


def load_index(settings, embedder_name: str, dim: int | None = None) -> Index:
    import faiss

    folder = Path(settings.index_dir)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise RagError(f"there is no index in {folder}; {REBUILD}")
    try:
        manifest = json.loads(manifest_path.read_text())
        problem = check_manifest(manifest, expected_manifest(settings, embedder_name, dim))
        if problem:
            raise RagError(problem)
        faiss_index = faiss.deserialize_index(np.frombuffer((folder / "vectors.faiss").read_bytes(), dtype=np.uint8))
        if is_hnsw(faiss_index):
            faiss.downcast_index(faiss_index).hnsw.efSearch = HNSW_EF_SEARCH
        chunks = [_chunk_from_json(json.loads(line)) for line in (folder / "chunks.jsonl").read_text().splitlines()]
        sources = json.loads((folder / "sources.json").read_text())
    except RagError:
        raise
    except Exception as error:  # unreadable, truncated or hand-edited files
        raise RagError(f"the index in {folder} is damaged ({type(error).__name__}); {REBUILD}") from None
    if faiss_index.ntotal != len(chunks) or len(chunks) != manifest.get("chunks"):
        raise RagError(
            f"the index in {folder} is inconsistent ({faiss_index.ntotal} vectors, {len(chunks)} chunks); {REBUILD}"
        )
    transcripts = {}
    for name, data in sources.items():
        transcripts[name] = Transcript(
            name,
            data["sha256"],
            data["title"],
            data["original_title"],
            data["text"],
            tuple(split_sentences(data["text"])),
        )
    return Index(
        manifest, chunks, transcripts, faiss_index, read_aliases(settings.sources), BM25.build([c.text for c in chunks])
    )


def check_dimension(index: Index, embedder) -> None:
    """The index's vectors must have the embedder's dimension (checked once the embedder is loaded)."""
    if index.manifest.get("dim") != embedder.dim:
        raise RagError(
            f"the index holds {index.manifest.get('dim')}-dimensional vectors, the embedder makes {embedder.dim}; {REBUILD}"
        )


def index_is_current(settings, embedder_name: str) -> bool:
    try:
        manifest = json.loads((Path(settings.index_dir) / "manifest.json").read_text())
        return check_manifest(manifest, expected_manifest(settings, embedder_name, None)) is None
    except (OSError, ValueError, RagError):
        return False
