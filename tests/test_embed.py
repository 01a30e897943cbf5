"""Choosing the embedding backend, and embedding large corpora with progress (fakes, no models)."""

import numpy as np
import pytest

import rag.embed as embed
from rag.errors import UsageError
from rag.settings import Settings
from rag.store import embed_with_progress

from .conftest import FakeEmbedder


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "modules.json").write_text("[]")
    monkeypatch.setattr(embed, "OnnxEmbedder", lambda folder, model_file, name, threads: ("onnx", model_file.name))
    monkeypatch.setattr(embed, "SentenceTransformerEmbedder", lambda folder, name, threads: ("torch", None))
    return tmp_path


def test_auto_uses_the_onnx_export_when_the_folder_has_one(folder):
    settings = Settings.load(embedder=str(folder))
    assert embed.load_embedder(settings) == ("torch", None)
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.onnx").write_bytes(b"")
    assert embed.load_embedder(settings) == ("onnx", "model.onnx")
    assert embed.load_embedder(settings.replace(embed_backend="torch")) == ("torch", None)


def test_asking_for_a_missing_or_unknown_backend_says_what_to_do(folder):
    with pytest.raises(UsageError, match="rag models prepare"):
        embed.load_embedder(Settings.load(embedder=str(folder), embed_backend="onnx"))
    with pytest.raises(UsageError, match="one of auto, onnx, torch"):
        embed.load_embedder(Settings.load(embedder=str(folder), embed_backend="tensorrt"))


def test_large_corpora_are_embedded_in_blocks_with_progress_and_in_order():
    texts = [f"passage number {i}" for i in range(25)]
    lines = []
    vectors = embed_with_progress(FakeEmbedder(), texts, lines.append, block=10)
    assert np.allclose(vectors, FakeEmbedder().embed_passages(texts))
    assert [line.split()[1] for line in lines] == ["10/25", "20/25", "25/25"]
    assert all("left" in line for line in lines)
    few = []
    embed_with_progress(FakeEmbedder(), texts[:5], few.append, block=10)
    assert few == []
