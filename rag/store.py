"""The on-disk index of a library of transcripts, updated in place one transcript at a time.

Layout of the index folder:
  manifest.json       format version, embedder and dimension, chunking settings, and for each
                      transcript: its sha256, its part, chunk count, format, title, duration
  parts/<key>.json    one transcript: metadata, cleaned text, timed sentences, chunks (sentence ranges)
  parts/<key>.npy     its chunks' normalized embeddings, row i = chunk i
  parts/<key>.sentences.npy  with sentence_vectors: its sentences' embeddings, row i = sentence i
  hnsw-<key>.faiss    from `hnsw_min_chunks` chunks up, the HNSW graph over all parts (bench/retrieval_scale.py)
A part's key is derived from the transcript's sha256, the chunking and the
embedder, so a part never changes once written. `sync_index` makes the index
match the library folder: unchanged transcripts keep their parts, new or
changed ones are embedded alone, removed ones are dropped; the manifest is
written last, atomically, and parts it no longer names are deleted after.
Every transcript to embed is read first (`plan_sync`), so a library file that
is not a transcript fails the update before anything on disk changes, and a
failed write (disk full, read-only folder) leaves the previous index whole.
An interrupted update leaves the previous manifest and every part it names:
the old index stays usable, and parts finished before the interruption are
picked up by the next run instead of being embedded again. Writers hold a
lock on the folder. `load_index` puts the parts together in name order (so
adding and then removing a transcript gives back the same index), checks
the manifest against the settings, and reports, without refusing, library
files the index does not reflect. Searching lives in retrieve.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .episodes import episode_names
from .errors import RagError
from .glossary import read_aliases
from .ingest import Chunk, Sentence, Transcript, chunk, list_sources, read_transcript, sha256_file
from .lexical import BM25

FORMAT_VERSION = 2
REBUILD = "run `rag index build`"
REBUILD_FORCE = "run `rag index build --force`"
PART_NAME = re.compile(r"[A-Za-z0-9_.-]+-[0-9a-f]{16}")
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 2048  # recall@10 0.955 of exact search at 10^6 chunks, 15 ms (bench/retrieval_scale.py)


@dataclass(frozen=True)
class Index:
    manifest: dict
    chunks: list[Chunk]
    transcripts: dict[str, Transcript]
    faiss_index: object  # faiss.Index, row i = chunk i
    aliases: dict = field(default_factory=dict)  # {known name: [transcript spellings]}, see glossary
    bm25: object = None  # rag.lexical.BM25 over the chunk texts, built when the index is loaded
    rows: dict = field(default_factory=dict)  # transcript name -> (first row, end row)
    stale: str = ""  # what in the library folder the index does not reflect, as one sentence ("" when current)
    language: str = ""  # the language most of the library is in (ja, en or fr)
    sentence_vectors: object = None  # np.ndarray, every transcript's sentences in index order; None when not built
    chunk_sentences: object = None  # np.ndarray (chunks, 2): each chunk's first and end row in sentence_vectors
    episodes: object = None  # rag.episodes.EpisodeNames: which transcripts a question names, by title

    def transcript_of(self, chunk: Chunk) -> Transcript:
        return self.transcripts[chunk.source]


def why_not_written(error: OSError) -> str:
    """Why a write failed, in a user's words: the disk is full, the folder is read-only, or the system's own."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if error.errno == errno.EFBIG:
        return "the file size limit was reached"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is read-only"
    return error.strerror or str(error)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name, flush to disk, rename: readers see the old file or the new one, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise RagError(
            f"cannot write {path}: {why_not_written(error)}; free some disk space or fix the folder's permissions, "
            "then run again (the previous index is unchanged)"
        ) from None


def check_folder(path: Path, option: str) -> None:
    """A folder setting must not name a file (a missing folder is each caller's business)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise RagError(f"{path} is a file, not a folder; fix {option}")


def make_folder(
    folder: Path, what: str = "index folder", fix: str = "fix its permissions or choose --index-dir"
) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RagError(f"cannot create the {what} {folder}: {why_not_written(error)}; {fix}") from None


@contextmanager
def writer_lock(folder: Path):
    """One writer at a time per index folder (a second `rag add` waits for the first)."""
    make_folder(folder)
    try:
        handle = open(folder / ".lock", "a")
    except OSError as error:
        raise RagError(
            f"cannot write to the index folder {folder}: {why_not_written(error)}; fix its permissions or choose --index-dir"
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def chunking_of(settings) -> dict:
    """What a part's content depends on besides its file and the embedder (sentence_vectors only when on, so
    indexes built before that setting existed stay valid)."""
    chunking = {"target_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences}
    return chunking | ({"sentence_vectors": True} if settings.sentence_vectors else {})


def part_key(name: str, sha256: str, chunking: dict, embedder_name: str) -> str:
    digest = hashlib.sha256(json.dumps([FORMAT_VERSION, sha256, chunking, embedder_name]).encode()).hexdigest()
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem)[:60] + "-" + digest[:16]


def _part_json(transcript: Transcript, chunks: list[Chunk]) -> dict:
    index_of = {s: i for i, s in enumerate(transcript.sentences)}
    return {
        "source": transcript.source,
        "sha256": transcript.sha256,
        "title": transcript.title,
        "original_title": transcript.original_title,
        "format": transcript.format,
        "url": transcript.url,
        "language": transcript.language,
        "date": transcript.date,
        "speakers": list(transcript.speakers),
        "duration": transcript.duration,
        "text": transcript.text,
        "sentences": [[s.start, s.end, s.start_time, s.end_time] for s in transcript.sentences],
        "chunks": [[index_of[c.sentences[0]], index_of[c.sentences[-1]]] for c in chunks],
    }


def _from_part_json(data: dict) -> tuple[Transcript, list[Chunk]]:
    sentences = tuple(Sentence(*row) for row in data["sentences"])
    transcript = Transcript(
        data["source"],
        data["sha256"],
        data["title"],
        data["original_title"],
        data["text"],
        sentences,
        data["format"],
        data["url"],
        data["language"],
        data["date"],
        tuple(data["speakers"]),
        data["duration"],
    )
    stem, text, total = Path(data["source"]).stem, data["text"], max(1, len(data["text"]))
    chunks = []
    for n, (first, last) in enumerate(data["chunks"]):
        group = sentences[first : last + 1]
        start, end = group[0].start, group[-1].end
        times = [s.end_time for s in group if s.end_time is not None]
        chunks.append(
            Chunk(
                f"{stem}#{n}",
                data["source"],
                start,
                end,
                text[start:end],
                group,
                start / total,
                group[0].start_time,
                max(times) if times else None,
            )
        )
    return transcript, chunks


def library_state(settings) -> dict[str, str]:
    """{file name: sha256} of the transcripts in the library folder."""
    check_folder(settings.sources, "--sources / RAG_SOURCES")
    sources = list_sources(settings.sources)
    stems: dict[str, str] = {}
    for path in sources:
        if path.stem in stems:
            raise RagError(
                f"two transcripts share the name {path.stem} ({stems[path.stem]}, {path.name}) in {settings.sources}; "
                "keep one of them"
            )
        stems[path.stem] = path.name
    return {p.name: sha256_file(p) for p in sources}


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


def well_formed(manifest) -> bool:
    """A manifest of this format names, for every transcript, a part and its chunk count (older formats pass)."""
    if not isinstance(manifest, dict):
        return False
    if manifest.get("format_version") != FORMAT_VERSION:
        return True  # check_manifest says which format it is
    entries = manifest.get("transcripts")
    return (
        isinstance(entries, dict)
        and isinstance(manifest.get("chunks"), int)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("part"), str)
            and PART_NAME.fullmatch(e["part"]) is not None
            and isinstance(e.get("chunks"), int)
            and isinstance(e.get("sha256"), str)
            for e in entries.values()
        )
    )


def _read_manifest(folder: Path) -> dict | None:
    """The manifest, None when there is none; RagError when it is damaged or cannot be read."""
    check_folder(folder, "--index-dir / RAG_INDEX_DIR")
    damaged = RagError(f"the index in {folder} is damaged (manifest.json); {REBUILD_FORCE}")
    try:
        text = (folder / "manifest.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except PermissionError:
        raise RagError(f"cannot read the index in {folder} (permission denied); fix its permissions") from None
    except (OSError, ValueError):
        raise damaged from None
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError):
        raise damaged from None
    if not well_formed(manifest):
        raise damaged
    return manifest


@dataclass(frozen=True)
class Plan:
    """What an update will embed, read (and so checked) before anything on disk changes."""

    embedder_name: str
    state: dict  # {file name: sha256} of the library
    keys: dict  # {file name: part key}
    ready: dict  # {file name: (Transcript, chunks)} of the transcripts whose parts are missing


def plan_sync(settings, embedder_name: str, force: bool = False, allow_empty: bool = False) -> Plan:
    """Read the library and every transcript the index lacks; a bad or empty library fails here, cheaply."""
    folder = Path(settings.index_dir)
    check_folder(folder, "--index-dir / RAG_INDEX_DIR")
    state = library_state(settings)
    if not state and not allow_empty:
        raise RagError(
            f"no transcripts (.srt, .vtt, .json, .txt) in {settings.sources}; add one with `rag add FILE` "
            "or fix --sources / RAG_SOURCES"
        )
    chunking = chunking_of(settings)
    keys = {name: part_key(name, sha, chunking, embedder_name) for name, sha in state.items()}
    ready = {
        name: _read_for_index(settings, name)
        for name, key in keys.items()
        if force or not _part_done(folder / "parts", key, settings.sentence_vectors)
    }
    return Plan(embedder_name, state, keys, ready)


def _part_done(parts: Path, key: str, sentences: bool) -> bool:
    names = (f"{key}.json", f"{key}.npy") + ((f"{key}.sentences.npy",) if sentences else ())
    return all((parts / name).exists() for name in names)


def sentence_texts(transcript: Transcript) -> list[str]:
    return [transcript.text[s.start : s.end] for s in transcript.sentences]


def _read_for_index(settings, name: str) -> tuple[Transcript, list[Chunk]]:
    try:
        transcript = read_transcript(Path(settings.sources) / name)
    except RagError as error:
        problem = str(error).split("; ")[0]  # the reader's fix is for `rag add`; here the file is in the library
        raise RagError(
            f"{problem}, in the library {settings.sources}; fix or remove that file", error.exit_code
        ) from None
    return transcript, chunk(transcript, settings.chunk_chars, settings.chunk_overlap_sentences)


def sync_index(
    settings,
    embedder,
    force: bool = False,
    log: Callable[[str], None] | None = None,
    allow_empty: bool = False,
    plan: Plan | None = None,
) -> dict:
    """Make the index match the library folder; embed only new or changed transcripts. Returns the manifest.

    With force, every transcript is read and embedded again. An empty library is an error unless
    allow_empty (the last transcript was removed). `plan` (plan_sync) is what the caller already read.
    """
    log = log or (lambda message: None)
    folder = Path(settings.index_dir)
    if plan is None or plan.embedder_name != embedder.name:
        plan = plan_sync(settings, embedder.name, force=force, allow_empty=allow_empty)
    chunking = chunking_of(settings)
    with writer_lock(folder):
        try:
            old = _read_manifest(folder) or {}
        except RagError:
            old = {}  # a damaged manifest: build everything again
        compatible = (
            old.get("format_version") == FORMAT_VERSION
            and old.get("embedder") == embedder.name
            and old.get("dim") == embedder.dim
        )
        parts = folder / "parts"
        entries, todo = {}, []
        for name, key in plan.keys.items():
            previous = old.get("transcripts", {}).get(name) if compatible else None
            if force or not _part_done(parts, key, settings.sentence_vectors):
                todo.append((name, key))
            elif previous and previous.get("part") == key:
                entries[name] = previous
            else:  # finished by an interrupted earlier run, or embedded under this key before
                entries[name] = _entry_from_part(parts, key)
        if todo:
            make_folder(parts)
            total_started = time.perf_counter()
            transcripts = []
            for name, key in todo:
                transcript, chunks = plan.ready.get(name) or _read_for_index(settings, name)
                transcripts.append((transcript, chunks, key))
            total = sum(len(c) for _, c, _ in transcripts)
            sentences = (
                f" and {sum(len(t.sentences) for t, _, _ in transcripts)} sentences"
                if settings.sentence_vectors
                else ""
            )
            log(f"embedding {total} chunks{sentences} from {len(transcripts)} new or changed transcript(s) ...")
            done_chunks, logged = 0, time.perf_counter()
            for number, (transcript, chunks, key) in enumerate(transcripts, start=1):
                vectors = np.ascontiguousarray(embedder.embed_passages([c.text for c in chunks]), dtype=np.float32)
                write_atomic(parts / f"{key}.npy", _npy_bytes(vectors))
                if settings.sentence_vectors:
                    sentence_vectors = embedder.embed_passages(sentence_texts(transcript))
                    write_atomic(
                        parts / f"{key}.sentences.npy",
                        _npy_bytes(np.ascontiguousarray(sentence_vectors, dtype=np.float32)),
                    )
                write_atomic(
                    parts / f"{key}.json",
                    json.dumps(_part_json(transcript, chunks), ensure_ascii=False).encode("utf-8"),
                )
                entries[transcript.source] = _entry(transcript, chunks, key)
                done_chunks += len(chunks)
                if len(transcripts) > 1 and (time.perf_counter() - logged > 5 or number == len(transcripts)):
                    logged = time.perf_counter()
                    rate = done_chunks / max(1e-9, time.perf_counter() - total_started)
                    log(
                        f"  {number}/{len(transcripts)} transcripts, {done_chunks}/{total} chunks "
                        f"({rate:.0f}/s, {(total - done_chunks) / max(rate, 1e-9):.0f} s left)"
                    )
        entries = dict(sorted(entries.items()))
        count = sum(e["chunks"] for e in entries.values())
        manifest = {
            "format_version": FORMAT_VERSION,
            "embedder": embedder.name,
            "dim": embedder.dim,
            "chunking": chunking,
            "transcripts": entries,
            "chunks": count,
            "vector_index": "hnsw" if count >= settings.hnsw_min_chunks else "flat",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if manifest["vector_index"] == "hnsw":
            manifest["hnsw_file"] = _write_hnsw(folder, entries, settings.hnsw_min_chunks, log)
        unchanged = {k: v for k, v in old.items() if k != "created"} == {
            k: v for k, v in manifest.items() if k != "created"
        }
        if not unchanged:
            write_atomic(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        _collect_garbage(folder, manifest)
        return manifest if not unchanged else old


def _entry(transcript: Transcript, chunks: list[Chunk], key: str) -> dict:
    return {
        "sha256": transcript.sha256,
        "part": key,
        "chunks": len(chunks),
        "format": transcript.format,
        "title": transcript.title,
        "duration": transcript.duration,
    }


def _entry_from_part(parts: Path, key: str) -> dict:
    """The manifest entry of a part finished by an interrupted earlier run."""
    try:
        transcript, chunks = _from_part_json(json.loads((parts / f"{key}.json").read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, IndexError, OSError, RecursionError):
        raise RagError(f"the index part {key} is damaged; {REBUILD_FORCE}") from None
    return _entry(transcript, chunks, key)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_hnsw(folder: Path, entries: dict, hnsw_min_chunks: int, log) -> str:
    import faiss

    key = hashlib.sha256(json.dumps([e["part"] for e in entries.values()]).encode()).hexdigest()[:16]
    name = f"hnsw-{key}.faiss"
    if not (folder / name).exists():
        log("building the HNSW graph over all chunks ...")
        vectors = np.concatenate([np.load(folder / "parts" / f"{e['part']}.npy") for e in entries.values()])
        index = make_faiss_index(vectors, hnsw_min_chunks)
        write_atomic(folder / name, faiss.serialize_index(index).tobytes())
    return name


def _collect_garbage(folder: Path, manifest: dict) -> None:
    """Delete what the manifest no longer names; best effort, since the new index is already in place."""
    keep = {f"{e['part']}.{ext}" for e in manifest["transcripts"].values() for ext in ("json", "npy", "sentences.npy")}
    parts = folder / "parts"
    doomed = [
        p for p in (parts.iterdir() if parts.is_dir() else ()) if p.name not in keep and not p.name.startswith(".")
    ]
    doomed += [p for p in folder.glob("hnsw-*.faiss") if p.name != manifest.get("hnsw_file")]
    doomed += list(folder.glob(".*.tmp")) + list(parts.glob(".*.tmp"))  # left by an interrupted writer
    doomed += [folder / old for old in ("vectors.faiss", "chunks.jsonl", "sources.json")]  # format 1
    for path in doomed:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def make_faiss_index(vectors: np.ndarray, hnsw_min_chunks: int):
    """Exact inner-product search for small corpora; an HNSW graph from hnsw_min_chunks vectors up."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) < hnsw_min_chunks:
        return flat_index(vectors)
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    index.add(vectors)
    return index


def flat_index(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def is_hnsw(index) -> bool:
    return hasattr(index, "hnsw")


def check_manifest(found: dict, settings, embedder_name: str) -> str | None:
    """None when the index can serve these settings, else what to rebuild, as one sentence."""
    if found.get("format_version") != FORMAT_VERSION:
        return f"the index was written in format {found.get('format_version')}, this version reads {FORMAT_VERSION}; {REBUILD}"
    if found.get("embedder") != embedder_name:
        return f"the index was built with the embedder {found.get('embedder')}, not {embedder_name}; {REBUILD}"
    if found.get("chunking") != chunking_of(settings):
        return (
            f"the index was chunked with {found.get('chunking')}, the settings say {chunking_of(settings)}; {REBUILD}"
        )
    return None


def staleness(manifest: dict, state: dict[str, str]) -> str:
    """What in the library folder the index does not reflect, as one sentence ("" when current)."""
    old = {name: e["sha256"] for name, e in manifest.get("transcripts", {}).items()}
    changed = sorted(name for name in state if name in old and old[name] != state[name])
    added, removed = sorted(set(state) - set(old)), sorted(set(old) - set(state))
    if not (changed or added or removed):
        return ""
    parts = [
        f"{label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
        for label, names in (("changed", changed), ("new", added), ("not in the folder", removed))
        if names
    ]
    return f"the library changed since the index was built ({'; '.join(parts)}); {REBUILD} to update it"


def load_index(settings, embedder_name: str) -> Index:
    import faiss

    folder = Path(settings.index_dir)
    check_folder(settings.sources, "--sources / RAG_SOURCES")
    manifest = _read_manifest(folder)
    if manifest is None:
        raise RagError(f"there is no index in {folder}; {REBUILD}")
    if not manifest.get("transcripts"):
        raise RagError(f"the library in {settings.sources} is empty; add a transcript with `rag add FILE`")
    problem = check_manifest(manifest, settings, embedder_name)
    if problem:
        raise RagError(problem)
    transcripts, chunks, rows, vectors = {}, [], {}, []
    with_sentences = bool(manifest.get("chunking", {}).get("sentence_vectors"))
    sentence_vectors, chunk_sentences, sentence_count = [], [], 0
    try:
        for name, entry in manifest["transcripts"].items():
            part = folder / "parts" / entry["part"]
            data = json.loads(part.with_suffix(".json").read_text(encoding="utf-8"))
            transcript, part_chunks = _from_part_json(data)
            transcripts[name] = transcript
            rows[name] = (len(chunks), len(chunks) + len(part_chunks))
            chunks += part_chunks
            if manifest.get("vector_index") != "hnsw":
                vectors.append(np.load(part.with_suffix(".npy"), allow_pickle=False))
            if with_sentences:
                found = np.load(folder / "parts" / f"{entry['part']}.sentences.npy", allow_pickle=False)
                if len(found) != len(transcript.sentences):
                    raise ValueError("sentence vectors")
                sentence_vectors.append(found)
                spans = np.array(data["chunks"], dtype=np.int64).reshape(-1, 2) + sentence_count
                chunk_sentences.append(spans + np.array([0, 1]))
                sentence_count += len(found)
        if manifest.get("vector_index") == "hnsw":
            data = np.frombuffer((folder / manifest["hnsw_file"]).read_bytes(), dtype=np.uint8)
            faiss_index = faiss.deserialize_index(data)
            faiss.downcast_index(faiss_index).hnsw.efSearch = HNSW_EF_SEARCH
        else:
            faiss_index = flat_index(np.concatenate(vectors))
    except RagError:
        raise
    except Exception as error:  # unreadable, truncated or hand-edited files
        raise RagError(f"the index in {folder} is damaged ({type(error).__name__}); {REBUILD_FORCE}") from None
    if faiss_index.ntotal != len(chunks) or len(chunks) != manifest.get("chunks"):
        raise RagError(
            f"the index in {folder} is inconsistent ({faiss_index.ntotal} vectors, {len(chunks)} chunks); {REBUILD_FORCE}"
        )
    try:
        stale = staleness(manifest, library_state(settings))
    except RagError as error:
        stale = str(error)
    bm25 = BM25.build([c.text for c in chunks])
    return Index(
        manifest,
        chunks,
        transcripts,
        faiss_index,
        read_aliases(settings.sources),
        bm25,
        rows,
        stale,
        main_language(transcripts.values()),
        np.concatenate(sentence_vectors) if with_sentences else None,
        np.concatenate(chunk_sentences) if with_sentences else None,
        episode_names(transcripts, rows, bm25),
    )


def main_language(transcripts) -> str:
    """The language most of the text is in (ja, en or fr), judged on the start of each transcript."""
    from .lang import detect_language

    weight: dict[str, int] = {}
    for transcript in transcripts:
        language = transcript.language[:2].lower() if transcript.language[:2].lower() in ("ja", "en", "fr") else ""
        language = language or detect_language(transcript.text[:2000])
        weight[language] = weight.get(language, 0) + len(transcript.text)
    return max(weight, key=weight.get) if weight else ""


def check_dimension(index: Index, embedder) -> None:
    """The index's vectors must have the embedder's dimension (checked once the embedder is loaded)."""
    if index.manifest.get("dim") != embedder.dim:
        raise RagError(
            f"the index holds {index.manifest.get('dim')}-dimensional vectors, the embedder makes {embedder.dim}; {REBUILD}"
        )


def index_is_current(settings, embedder_name: str) -> bool:
    try:
        manifest = _read_manifest(Path(settings.index_dir))
        return (
            manifest is not None
            and check_manifest(manifest, settings, embedder_name) is None
            and not staleness(manifest, library_state(settings))
        )
    except (OSError, ValueError, RagError):
        return False


def build_index(settings, embedder, force: bool = False, log=None) -> Index:
    """Bring the index up to date with the library folder (sync_index), then load it."""
    sync_index(settings, embedder, force=force, log=log)
    return load_index(settings, embedder.name)
