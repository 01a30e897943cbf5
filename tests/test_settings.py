import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from rag.errors import UsageError
from rag.settings import GENERATION, INDEX, PATHS, RETRIEVAL, Settings, add_arguments, from_args, markdown_table

from .conftest import REPO


def parse(*argv: str) -> Settings:
    parser = argparse.ArgumentParser()
    add_arguments(parser, (PATHS, INDEX, RETRIEVAL, GENERATION))
    return from_args(parser.parse_args(list(argv)))


def test_flag_beats_env_beats_default(monkeypatch):
    assert Settings.load().top_k == Settings().top_k == 4
    monkeypatch.setenv("RAG_TOP_K", "7")
    assert Settings.load().top_k == 7 and parse().top_k == 7
    assert Settings.load(top_k=2).top_k == 2 and parse("-k", "3").top_k == 3 and parse("--top-k", "5").top_k == 5
    monkeypatch.setenv("RAG_INDEX_DIR", "/tmp/x")
    assert Settings.load().index_dir == Path("/tmp/x")


def test_every_setting_has_a_flag_and_a_variable(monkeypatch):
    parser = argparse.ArgumentParser()
    add_arguments(parser, (PATHS, INDEX, RETRIEVAL, GENERATION))
    dests = {action.dest for action in parser._actions}
    table = markdown_table()
    for spec in fields(Settings):
        assert spec.name in dests, spec.name
        assert f"`RAG_{spec.name.upper()}`" in table


def test_booleans_are_booleans(monkeypatch):
    assert Settings().flash_attn is True and Settings().second_chance is True
    assert parse("--no-flash-attn").flash_attn is False and parse("--flash-attn").flash_attn is True
    monkeypatch.setenv("RAG_SECOND_CHANCE", "off")
    assert Settings.load().second_chance is False
    monkeypatch.setenv("RAG_SECOND_CHANCE", "maybe")
    with pytest.raises(UsageError, match="RAG_SECOND_CHANCE"):
        Settings.load()


def test_folders_follow_the_data_directory(monkeypatch, tmp_path):
    assert Settings().sources == Path("seeds") and Settings().models_dir == Path(".models")
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    settings = Settings.load()
    assert (settings.sources, settings.index_dir, settings.models_dir) == (
        tmp_path / "seeds",
        tmp_path / "index",
        tmp_path / ".models",
    )
    assert Settings.load(index_dir=tmp_path / "elsewhere").index_dir == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("top_k", "many", "must be a number"),
        ("top_k", "0", "at least 1"),
        ("top_k", "-3", "at least 1"),
        ("temperature", "-0.5", "at least 0"),
        ("temperature", "nan", "must be a number"),
        ("max_tokens", "0", "at least 1"),
        ("embed_backend", "gpu", "one of auto, onnx, torch"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_fix(monkeypatch, name, value, message):
    monkeypatch.setenv(f"RAG_{name.upper()}", value)
    with pytest.raises(UsageError, match=message) as error:
        Settings.load()
    assert f"RAG_{name.upper()}" in str(error.value)
    monkeypatch.delenv(f"RAG_{name.upper()}")
    with pytest.raises(UsageError, match=message) as error:
        Settings.load(**{name: value})
    assert "--" in str(error.value)


def test_the_readme_lists_every_setting_as_declared():
    assert markdown_table() in (REPO / "README.md").read_text(encoding="utf-8")
