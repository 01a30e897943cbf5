"""The `rag` command's contract: exit codes, one-line errors, nothing damaged.

These run the installed console script as a user would. Those that need the
embedder use the real converted model (prepared by the set-up).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

RAG = str(Path(sys.executable).parent / "rag")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def run(*args, env=None):
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=env or ENV, timeout=300)


def assert_one_line_error(result, code):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_questions_exit_1(question):
    result = run("ask", question)
    assert_one_line_error(result, 1)
    assert result.stdout == ""


def test_usage_errors_exit_2():
    assert run("ask").returncode == 2
    assert run("ask", "q", "--top-kk", "3").returncode == 2
    assert_one_line_error(run("models", "prepare", "--only", "gpt-9"), 2)


def test_missing_model_file_exit_1(tmp_path):
    result = run("ask", "What is Stargate?", "--model", str(tmp_path / "missing.gguf"))
    assert_one_line_error(result, 1)
    assert "--model" in result.stderr


def test_wrong_gguf_is_refused_by_its_checksum(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF" + b"\0" * 100)
    result = run("ask", "What is Stargate?", "--model", "qwen2.5-coder-0.5b", "--models-dir", str(models))
    assert_one_line_error(result, 1)
    assert "rag models prepare" in result.stderr


@pytest.fixture(scope="module")
def index_copy(tmp_path_factory):
    if not (REPO / "index" / "manifest.json").exists():
        pytest.skip("run ./test.sh: the set-up builds the index")
    folder = tmp_path_factory.mktemp("index")
    shutil.copytree(REPO / "index", folder, dirs_exist_ok=True)  # manifest.json and parts/
    return folder


def test_missing_index_exit_1(tmp_path):
    result = run("retrieve", "What is Stargate?", "--index-dir", str(tmp_path / "none"))
    assert_one_line_error(result, 1)
    assert "rag index build" in result.stderr


@pytest.mark.e2e  # the real embedder and the set-up's index
def test_corrupted_index_exit_1_and_is_left_alone(index_copy):
    damaged = index_copy.parent / "damaged"
    shutil.copytree(index_copy, damaged)
    part = next((damaged / "parts").glob("*.npy"))
    part.write_bytes(part.read_bytes()[:100])  # a truncated part
    before = {p: p.read_bytes() for p in damaged.rglob("*") if p.is_file()}
    result = run("retrieve", "What is Stargate?", "--index-dir", str(damaged))
    assert_one_line_error(result, 1)
    assert "damaged" in result.stderr and "rag index build" in result.stderr
    assert {p: p.read_bytes() for p in damaged.rglob("*") if p.is_file()} == before


@pytest.mark.e2e  # the real embedder and the set-up's index
def test_stale_index_says_what_to_rebuild(index_copy):
    result = run("retrieve", "What is Stargate?", "--index-dir", str(index_copy), "--chunk-chars", "500")
    assert_one_line_error(result, 1)
    assert "chunked" in result.stderr and "rag index build" in result.stderr


@pytest.mark.e2e  # the real embedder and the set-up's index
def test_retrieve_json_shape(index_copy):
    result = run(
        "retrieve", "Where does the name Stargate come from?", "-k", "5", "--json", "--index-dir", str(index_copy)
    )
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 5
    assert set(hits[0]) == {"chunk_id", "score", "text", "source", "start", "end", "start_time", "end_time"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert any("1994年" in h["text"] for h in hits[:3])
