from pathlib import Path

import pytest

from rag.errors import UsageError
from rag.settings import Settings


def test_flag_beats_env_beats_default(monkeypatch):
    assert Settings.load().top_k == Settings().top_k
    monkeypatch.setenv("RAG_TOP_K", "7")
    assert Settings.load().top_k == 7
    assert Settings.load(top_k=2).top_k == 2
    monkeypatch.setenv("RAG_INDEX_DIR", "/tmp/x")
    assert Settings.load().index_dir == Path("/tmp/x")


def test_bad_number_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "many")
    with pytest.raises(UsageError, match="RAG_TOP_K"):
        Settings.load()
