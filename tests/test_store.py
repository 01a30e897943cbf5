import json

import pytest

from rag.errors import RagError
from rag.store import build_index, check_manifest, expected_manifest, index_is_current, load_index

from .conftest import FakeEmbedder


def test_build_then_load_round_trips(fake_settings, fake_index):
    loaded = load_index(fake_settings, "fake-bigrams", 64)
    assert [c.id for c in loaded.chunks] == [c.id for c in fake_index.chunks]
    assert loaded.faiss_index.ntotal == len(loaded.chunks)
    manifest = json.loads((fake_settings.index_dir / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["dim"] == 64
    assert manifest["chunking"] == {"target_chars": 240, "overlap_sentences": 1}
    assert set(manifest["sources"]) == {"000_bf3b1260eecfaf13.txt"} and manifest["created"]
    transcript = loaded.transcript_of(loaded.chunks[3])
    assert transcript.text[loaded.chunks[3].start : loaded.chunks[3].end] == loaded.chunks[3].text
    assert not list(fake_settings.index_dir.glob("*.tmp"))


def test_manifest_mismatches_name_what_to_rebuild(fake_settings, fake_index):
    found = json.loads((fake_settings.index_dir / "manifest.json").read_text())
    expected = expected_manifest(fake_settings, "fake-bigrams", 64)
    assert check_manifest(found, expected) is None
    assert "embedder" in check_manifest(found, {**expected, "embedder": "other"})
    assert check_manifest(found, {**expected, "dim": 384}) == (
        "the index holds 64-dimensional vectors, the embedder makes 384; run `rag index build`"
    )
    assert "chunked" in check_manifest(found, {**expected, "chunking": {"target_chars": 100, "overlap_sentences": 1}})
    assert "format" in check_manifest({**found, "format_version": 0}, expected)


def test_changed_or_added_transcript_is_reported(fake_settings, fake_index):
    source = next(fake_settings.sources.glob("*.txt"))
    source.write_text(source.read_text() + "\n追加の文。", encoding="utf-8")
    (fake_settings.sources / "new.txt").write_text("Title\nSome text.", encoding="utf-8")
    with pytest.raises(RagError, match=r"changed: 000_bf3b1260eecfaf13.txt; new: new.txt.*rag index build"):
        load_index(fake_settings, "fake-bigrams", 64)
    assert not index_is_current(fake_settings, "fake-bigrams")


def test_missing_and_damaged_index(fake_settings, tmp_path):
    with pytest.raises(RagError, match="there is no index"):
        load_index(fake_settings, "fake-bigrams", 64)
    build_index(fake_settings, FakeEmbedder())
    vectors = fake_settings.index_dir / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(RagError, match="damaged"):
        load_index(fake_settings, "fake-bigrams", 64)


def test_failed_build_keeps_the_previous_index(fake_settings, fake_index, monkeypatch):
    before = {p.name: p.read_bytes() for p in fake_settings.index_dir.iterdir()}

    class Broken(FakeEmbedder):
        def embed_passages(self, texts):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(fake_settings.replace(chunk_chars=120), Broken())
    after = {p.name: p.read_bytes() for p in fake_settings.index_dir.iterdir()}
    assert after == before


def test_large_corpora_switch_to_hnsw(fake_settings):
    settings = fake_settings.replace(hnsw_min_chunks=10)
    index = build_index(settings, FakeEmbedder())
    assert index.manifest["vector_index"] == "hnsw"
    loaded = load_index(settings, "fake-bigrams", 64)
    assert hasattr(loaded.faiss_index, "hnsw") and loaded.faiss_index.hnsw.efSearch == 2048
    from rag.retrieve import retrieve

    hits = retrieve(loaded, FakeEmbedder(), "Originality.ai", 3)
    assert "Originality.ai" in hits[0].chunk.text
    small = build_index(fake_settings, FakeEmbedder())
    assert small.manifest["vector_index"] == "flat"
