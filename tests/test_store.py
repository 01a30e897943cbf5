import json

import numpy as np
import pytest

from rag.errors import RagError
from rag.retrieve import retrieve
from rag.store import build_index, check_manifest, index_is_current, load_index, sync_index

from .conftest import FakeEmbedder

SRT = "1\n00:00:01,000 --> 00:00:04,000\nHello and welcome to the show.\n\n2\n00:00:04,000 --> 00:00:09,500\nToday we talk about coal plants seen from space.\n"


class CountingEmbedder(FakeEmbedder):
    def __init__(self):
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded += texts
        return super().embed_passages(texts)


def test_build_then_load_round_trips(fake_settings, fake_index):
    loaded = load_index(fake_settings, "fake-bigrams")
    assert [c.id for c in loaded.chunks] == [c.id for c in fake_index.chunks]
    assert loaded.faiss_index.ntotal == len(loaded.chunks)
    manifest = json.loads((fake_settings.index_dir / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["dim"] == 64 and manifest["chunks"] == len(loaded.chunks)
    assert manifest["chunking"] == {"target_chars": 600, "overlap_sentences": 1}
    [(name, entry)] = manifest["transcripts"].items()
    assert name == "000_bf3b1260eecfaf13.txt" and entry["format"] == "txt" and entry["duration"] is None
    assert (fake_settings.index_dir / "parts" / f"{entry['part']}.npy").exists()
    transcript = loaded.transcript_of(loaded.chunks[3])
    assert transcript.text[loaded.chunks[3].start : loaded.chunks[3].end] == loaded.chunks[3].text
    assert not list(fake_settings.index_dir.rglob("*.tmp")) and loaded.stale == ""


def test_manifest_mismatches_name_what_to_rebuild(fake_settings, fake_index):
    found = json.loads((fake_settings.index_dir / "manifest.json").read_text())
    assert check_manifest(found, fake_settings, "fake-bigrams") is None
    assert check_manifest(found, fake_settings, "other") == (
        "the index was built with the embedder fake-bigrams, not other; run `rag index build`"
    )
    assert "chunked" in check_manifest(found, fake_settings.replace(chunk_chars=100), "fake-bigrams")
    assert "format 1" in check_manifest({**found, "format_version": 1}, fake_settings, "fake-bigrams")


def test_a_changed_library_is_reported_and_only_the_change_is_embedded(fake_settings, fake_index):
    source = next(fake_settings.sources.glob("*.txt"))
    source.write_text(source.read_text() + "\n追加の文。", encoding="utf-8")
    (fake_settings.sources / "new.srt").write_text(SRT, encoding="utf-8")
    stale = load_index(fake_settings, "fake-bigrams")  # still usable, says what is missing
    assert "changed: 000_bf3b1260eecfaf13.txt; new: new.srt" in stale.stale and "rag index build" in stale.stale
    assert not index_is_current(fake_settings, "fake-bigrams")
    embedder = CountingEmbedder()
    sync_index(fake_settings, embedder)
    updated = load_index(fake_settings, "fake-bigrams")
    assert updated.stale == "" and index_is_current(fake_settings, "fake-bigrams")
    assert len(embedder.embedded) == len(updated.chunks)  # both re-read, nothing else
    embedder.embedded.clear()
    sync_index(fake_settings, embedder)
    assert embedder.embedded == []  # nothing to do


def test_missing_and_damaged_index(fake_settings, tmp_path):
    with pytest.raises(RagError, match="there is no index"):
        load_index(fake_settings, "fake-bigrams")
    build_index(fake_settings, FakeEmbedder())
    [part] = (fake_settings.index_dir / "parts").glob("*.npy")
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(RagError, match="damaged"):
        load_index(fake_settings, "fake-bigrams")
    (fake_settings.index_dir / "manifest.json").write_text('{"broken": ')
    with pytest.raises(RagError, match="damaged"):
        load_index(fake_settings, "fake-bigrams")
    assert len(build_index(fake_settings, FakeEmbedder(), force=True).chunks) > 20  # --force repairs it


def test_an_interrupted_update_keeps_the_old_index_and_the_finished_parts(fake_settings, fake_index):
    before = load_index(fake_settings, "fake-bigrams")
    (fake_settings.sources / "a.srt").write_text(SRT, encoding="utf-8")
    (fake_settings.sources / "b.srt").write_text(SRT.replace("coal", "gas"), encoding="utf-8")

    class Interrupted(CountingEmbedder):
        def embed_passages(self, texts):
            if any("gas" in t for t in texts):
                raise KeyboardInterrupt
            return super().embed_passages(texts)

    with pytest.raises(KeyboardInterrupt):
        sync_index(fake_settings, Interrupted())
    after = load_index(fake_settings, "fake-bigrams")
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks] and "new: a.srt, b.srt" in after.stale
    embedder = CountingEmbedder()
    sync_index(fake_settings, embedder)
    assert embedder.embedded and all("gas" in t or "welcome" in t for t in embedder.embedded)  # a.srt was kept
    library = load_index(fake_settings, "fake-bigrams")
    assert set(library.transcripts) == {"000_bf3b1260eecfaf13.txt", "a.srt", "b.srt"}
    assert len(library.episodes.row_transcript) == len(library.chunks)  # every chunk knows its transcript's title
    first, end = library.rows["b.srt"]
    assert set(library.episodes.row_transcript[first:end]) == {2} and library.transcripts["b.srt"].title == "B"


def test_timed_chunks_carry_their_times(fake_settings):
    (fake_settings.sources / "talk.srt").write_text(SRT, encoding="utf-8")
    index = build_index(fake_settings, FakeEmbedder())
    chunks = [c for c in index.chunks if c.source == "talk.srt"]
    assert chunks[0].start_time == 1.0 and chunks[-1].end_time == 9.5
    assert index.transcripts["talk.srt"].title == "Talk" and index.transcripts["talk.srt"].duration == 9.5
    hits = retrieve(index, FakeEmbedder(), "coal plants from space", 2, videos=frozenset({"talk.srt"}))
    assert hits and all(h.chunk.source == "talk.srt" for h in hits)
    assert hits[0].to_json()["start_time"] is not None


def test_large_corpora_switch_to_hnsw(fake_settings):
    settings = fake_settings.replace(hnsw_min_chunks=10)
    index = build_index(settings, FakeEmbedder())
    assert index.manifest["vector_index"] == "hnsw"
    assert hasattr(index.faiss_index, "hnsw") and index.faiss_index.hnsw.efSearch == 2048
    hits = retrieve(index, FakeEmbedder(), "Originality.ai", 3)
    small = build_index(fake_settings, FakeEmbedder())
    assert small.manifest["vector_index"] == "flat"
    assert [h.chunk.id for h in hits] == [h.chunk.id for h in retrieve(small, FakeEmbedder(), "Originality.ai", 3)]
    assert not list(fake_settings.index_dir.glob("hnsw-*.faiss"))  # the graph no longer used is deleted


def test_sentence_vectors_are_built_loaded_and_checked(fake_settings):
    settings = fake_settings.replace(sentence_vectors=True)
    index = build_index(settings, FakeEmbedder())
    assert index.manifest["chunking"] == {"target_chars": 600, "overlap_sentences": 1, "sentence_vectors": True}
    transcript = index.transcript_of(index.chunks[3])
    assert index.sentence_vectors.shape == (len(transcript.sentences), 64)
    first, end = index.chunk_sentences[3]
    assert transcript.sentences[first:end] == index.chunks[3].sentences  # one transcript: rows are its indices
    sentence = transcript.sentences[first]
    expected = FakeEmbedder().embed_passages([transcript.text[sentence.start : sentence.end]])[0]
    assert np.allclose(index.sentence_vectors[first], expected)
    with pytest.raises(RagError, match="chunked with"):
        load_index(fake_settings, "fake-bigrams")  # an index with sentences is not the one the default asks for
    [sentences] = (settings.index_dir / "parts").glob("*.sentences.npy")
    sentences.write_bytes(sentences.read_bytes()[: -64 * 4])  # one sentence's vector missing
    with pytest.raises(RagError, match="damaged"):
        load_index(settings, "fake-bigrams")
