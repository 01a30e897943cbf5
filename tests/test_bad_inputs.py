"""Safe under bad input: every bad command line gives one `error:` line, the documented exit status, no traceback,
nothing on stdout and nothing changed on disk.

Each case runs in a scratch folder (its working directory, so the default ./seeds, ./index and ./.models are the
scratch ones). The index there is built with a fake embedder under the real embedder's name, so `rag list` reads
it and no case needs a model file: every bad input must be refused before a model loads.

The table runs in-process, through `rag.cli.main(argv)` with the environment and working directory patched per
case (a subprocess per case took half a minute). A few representative cases, one per subcommand family, also
run the installed `rag` console script, and so do the permission cases (root must drop its override, which only
a new process can). The end-to-end tests at the bottom use the real embedder.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from .conftest import REPO, FakeEmbedder, FakePipeline

RAG = str(Path(sys.executable).parent / "rag")
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_")}, "HF_HUB_OFFLINE": "1"}
REAL = {"RAG_MODELS_DIR": str(REPO / ".models")}  # the set-up's models, for the end-to-end tests
SAFETY_NET = "error: unexpected"

SRT = "".join(
    f"{n}\n00:00:{2 * n:02d},000 --> 00:00:{2 * n + 1:02d},500\nIn part {n} we talk about {{topic}} number {n * 7}.\n\n"
    for n in range(1, 21)
)
VTT = "WEBVTT\n\n" + "".join(
    f"00:00:{n:02d}.000 --> 00:00:{n:02d}.900\nLe chat numéro {n} dort.\n\n" for n in range(30)
)
BINARY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16


class E5Named(FakeEmbedder):
    """The fake embedder under the real one's name: the index it builds passes the manifest checks."""

    name = "multilingual-e5-small"


# what main() sets with os.environ.setdefault: pinned per case, so that monkeypatch restores them afterwards
MAIN_DEFAULTS = {
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
}


class Outcome(NamedTuple):
    """What a command did: exit status and its decoded stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


def run(*args, cwd: Path, env: dict | None = None, prefix: tuple = ()) -> subprocess.CompletedProcess:
    """The installed console script, in a new process."""
    return subprocess.run([*prefix, RAG, *args], cwd=cwd, capture_output=True, env={**ENV, **(env or {})}, timeout=120)


@pytest.fixture
def rag_main(monkeypatch, capfd):
    """rag.cli.main in this process, as the console script would run it: the same environment (no RAG_* variables
    but the case's, HF_HUB_OFFLINE=1), cwd, argv decoded as Python decodes a real one; monkeypatch undoes it all."""
    from rag.cli import main

    def call(*args, cwd: Path, env: dict | None = None) -> Outcome:
        for name in [name for name in os.environ if name.startswith("RAG_")]:
            monkeypatch.delenv(name)
        for name, value in MAIN_DEFAULTS.items():
            monkeypatch.setenv(name, os.environ.get(name, value))
        for name, value in {"HF_HUB_OFFLINE": "1", **(env or {})}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(cwd)
        argv = [os.fsdecode(a) if isinstance(a, bytes) else a for a in args]  # bytes: surrogateescape, as sys.argv
        capfd.readouterr()
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's usage errors (rag.cli.Parser.error) exit rather than return
            code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
            if isinstance(stop.code, str):  # as the interpreter would print it
                print(stop.code, file=sys.stderr)
        stdout, stderr = capfd.readouterr()
        return Outcome(code, stdout, stderr)

    return call


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under folder, with its bytes (None for a folder or an unreadable file)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        try:
            found[relative] = None if path.is_dir() else path.read_bytes()
        except OSError:
            found[relative] = None
    return found


def decoded(output: bytes | str) -> str:
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output


def assert_refused(result: subprocess.CompletedProcess | Outcome, code: int, fragment: str) -> None:
    """The contract for a bad input: exit status, exactly one `error:` line naming the problem, no traceback."""
    stderr, stdout = decoded(result.stderr), decoded(result.stdout)
    assert result.returncode == code, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert not errors[0].startswith(SAFETY_NET), stderr  # refused on purpose, not by the last-resort handler
    assert fragment in errors[0], stderr
    assert result.stdout in (b"", ""), stdout


def make_world(root: Path) -> Path:
    """A scratch folder: a library of two transcripts, its (fake-embedded) index, damaged copies and bad files."""
    from rag.settings import Settings
    from rag.store import build_index

    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "alpha.srt").write_text(SRT.replace("{topic}", "rockets"), encoding="utf-8")
    (seeds / "beta.srt").write_text(SRT.replace("{topic}", "gardens"), encoding="utf-8")
    build_index(Settings.load(sources=seeds, index_dir=root / "index"), E5Named())
    manifest = json.loads((root / "index" / "manifest.json").read_text())

    def index_copy(name: str, change) -> None:
        shutil.copytree(root / "index", root / name)
        change(root / name)

    index_copy("damaged-json", lambda f: (f / "manifest.json").write_text('{"format_version": 2, "transc'))
    index_copy("damaged-list", lambda f: (f / "manifest.json").write_text("[]"))
    index_copy("damaged-shape", lambda f: (f / "manifest.json").write_text('{"format_version": 2}'))
    escaping = json.loads(json.dumps(manifest))
    next(iter(escaping["transcripts"].values()))["part"] = "../../../etc/passwd"
    index_copy("damaged-path", lambda f: (f / "manifest.json").write_text(json.dumps(escaping)))
    index_copy("missing-part", lambda f: next((f / "parts").glob("*.json")).unlink())

    (root / "empty-lib").mkdir()
    (root / "bad-lib").mkdir()
    (root / "bad-lib" / "scan.srt").write_bytes(BINARY)
    (root / "bad-lib" / "blank.srt").write_text("\n\n")
    (root / "bad-lib" / "other.json").write_text('{"not": "whisper"}')
    (root / "afile").write_text("a file, not a folder\n")
    (root / "adir").mkdir()
    (root / "models").mkdir()

    files = {
        "q.txt": "What is this about?\n",
        "nul.txt": "What\x00 is this?\n",
        "q.xlsx": "What is this about?\n",
        "noq.csv": "id,text\n1,What is this about?\n",
        "bad.jsonl": 'not json\n{"q": 1}\n[1, 2]\n{"question": ""}\n{"question": "a\\u0000b"}\n',
        "bad.json": "not json\n",
        "obj.json": '{"question": "q", "answer": "a"}',
        "ints.json": "[1, 2]",
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "dev.jsonl": '{"id": "d1", "question": "What is this about?", "answerable": true}\n',
        "notjson.jsonl": "not json\n",
        "r.json": '{"key_fact_accuracy": 0.5}',
        "broken.json": '{"key_fact_accuracy": 0.',
        "list.json": "[0.5]",
        "empty.json": "{}",
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    for name in ("bin.txt", "binhist.json", "bin.jsonl", "foreign.jsonl"):
        (root / name).write_bytes(BINARY)
    (root / "questions.txt").mkdir()  # a folder with a questions file's name

    incoming = root / "incoming"
    incoming.mkdir()
    (incoming / "scan.srt").write_bytes(BINARY)
    (incoming / "doc.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (incoming / "talk.vtt").write_text(VTT, encoding="utf-8")
    (incoming / "talk.meta.json").write_text('{"title": "Broken', encoding="utf-8")
    (incoming / "blank.srt").write_text("\n \n")
    (incoming / "other.json").write_text('{"not": "whisper"}')
    (incoming / "folder.srt").mkdir()
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return make_world(tmp_path_factory.mktemp("world"))


LONG = "x" * 2001
# (id, arguments, extra environment, exit status, a fragment of the error line)
CASES = [
    # every subcommand: missing, extra or wrong-typed arguments (argparse: usage errors, exit 2)
    ("no-command", [], {}, 2, "required: COMMAND"),
    ("unknown-command", ["frobnicate"], {}, 2, "invalid choice"),
    ("ask-no-question", ["ask"], {}, 2, "required: question"),
    ("ask-extra-argument", ["ask", "q", "extra"], {}, 2, "unrecognized arguments: extra"),
    ("ask-unknown-flag", ["ask", "q", "--top-kk", "3"], {}, 2, "unrecognized arguments"),
    ("retrieve-no-question", ["retrieve"], {}, 2, "required: question"),
    ("add-no-file", ["add"], {}, 2, "required: FILE"),
    ("remove-no-name", ["remove"], {}, 2, "required: NAME"),
    ("list-extra-argument", ["list", "extra"], {}, 2, "unrecognized arguments: extra"),
    ("index-no-action", ["index"], {}, 2, "required: ACTION"),
    ("index-build-extra", ["index", "build", "extra"], {}, 2, "unrecognized arguments: extra"),
    ("models-no-action", ["models"], {}, 2, "required: ACTION"),
    ("models-unknown-model", ["models", "prepare", "--only", "gpt-9"], {}, 2, "unknown chat model gpt-9"),
    ("batch-no-output", ["batch", "q.txt"], {}, 2, "required: -o"),
    ("batch-no-input", ["batch", "-o", "out.jsonl"], {}, 2, "required: input"),
    ("eval-nothing", ["eval"], {}, 2, "give an eval file"),
    ("eval-compare-one-report", ["eval", "--compare", "r.json"], {}, 2, "expected 2 arguments"),
    ("eval-limit-not-a-number", ["eval", "dev.jsonl", "--limit", "abc"], {}, 2, "--limit"),
    ("eval-limit-zero", ["eval", "dev.jsonl", "--limit", "0"], {}, 2, "at least 1"),
    ("eval-tolerance-nan", ["eval", "--compare", "r.json", "r.json", "--tolerance", "nan"], {}, 2, "--tolerance"),
    ("eval-tolerance-negative", ["eval", "--compare", "r.json", "r.json", "--tolerance=-1"], {}, 2, "at least 0"),
    ("eval-split-bad", ["eval", "dev.jsonl", "--split", "bogus"], {}, 2, "invalid choice: 'bogus'"),
    ("eval-evidence-first-retrieval", ["eval", "dev.jsonl", "--evidence-first", "--retrieval"], {}, 2, "leave out"),
    ("ui-port-too-big", ["ui", "--port", "99999"], {}, 2, "1 to 65535"),
    ("ui-port-not-a-number", ["ui", "--port", "abc"], {}, 2, "whole number"),
    ("settings-extra", ["settings", "extra"], {}, 2, "unrecognized arguments"),
    # out-of-range settings (usage errors, exit 2)
    ("top-k-zero", ["ask", "q", "-k", "0"], {}, 2, "top_k must be at least 1"),
    ("top-k-negative", ["ask", "q", "-k", "-3"], {}, 2, "top_k must be at least 1"),
    ("top-k-word", ["retrieve", "q", "-k", "abc"], {}, 2, "top_k must be a number"),
    ("temperature-negative", ["ask", "q", "--temperature", "-1"], {}, 2, "temperature must be at least 0"),
    ("temperature-infinite", ["ask", "q", "--temperature", "inf"], {}, 2, "finite"),
    ("lexical-weight-nan", ["retrieve", "q", "--lexical-weight", "nan"], {}, 2, "lexical_weight must be a number"),
    ("max-tokens-zero", ["ask", "q", "--max-tokens", "0"], {}, 2, "max_tokens must be at least 1"),
    ("n-ctx-tiny", ["ask", "q", "--n-ctx", "10"], {}, 2, "n_ctx must be at least 256"),
    ("chunk-chars-zero", ["index", "build", "--chunk-chars", "0"], {}, 2, "chunk_chars must be at least 20"),
    ("embed-backend-unknown", ["retrieve", "q", "--embed-backend", "cuda"], {}, 2, "embed_backend must be one of"),
    ("env-top-k-word", ["ask", "q"], {"RAG_TOP_K": "abc"}, 2, "RAG_TOP_K"),
    ("env-flash-attn-maybe", ["ask", "q"], {"RAG_FLASH_ATTN": "maybe"}, 2, "RAG_FLASH_ATTN"),
    ("index-dir-empty", ["list", "--index-dir", ""], {}, 2, "index_dir is empty"),
    ("env-sources-empty", ["list"], {"RAG_SOURCES": " "}, 2, "RAG_SOURCES"),
    ("history-empty-name", ["ask", "q", "--history", ""], {}, 2, "--history is empty"),
    # questions
    ("ask-empty", ["ask", ""], {}, 1, "the question is empty"),
    ("ask-whitespace", ["ask", " \t \n "], {}, 1, "the question is empty"),
    ("ask-2001-chars", ["ask", LONG], {}, 1, "2001 characters"),
    ("retrieve-empty", ["retrieve", ""], {}, 1, "the question is empty"),
    ("retrieve-2001-chars", ["retrieve", LONG], {}, 1, "2001 characters"),
    ("ask-binary", ["ask", b"\xff\xfe\xc3\x28 ?"], {}, 1, "not UTF-8"),
    ("retrieve-binary", ["retrieve", b"caf\xe9 ?"], {}, 1, "not UTF-8"),
    ("ask-control-character", ["ask", "what\x01is this?"], {}, 1, "control character"),
    ("ask-escape-sequence", ["ask", "\x1b[2Jwhat?"], {}, 1, "control character"),
    # --history files
    ("history-missing", ["ask", "q", "--history", "missing.json"], {}, 1, "does not exist"),
    ("history-not-json", ["ask", "q", "--history", "bad.json"], {}, 1, "not valid JSON"),
    ("history-binary", ["ask", "q", "--history", "binhist.json"], {}, 1, "not valid JSON"),
    ("history-an-object", ["ask", "q", "--history", "obj.json"], {}, 1, "must be a JSON list"),
    ("history-list-of-numbers", ["ask", "q", "--history", "ints.json"], {}, 1, "neither"),
    ("history-nested-too-deep", ["ask", "q", "--history", "deep.json"], {}, 1, "not valid JSON"),
    ("history-a-folder", ["ask", "q", "--history", "adir"], {}, 1, "is a folder"),
    # rag batch
    ("batch-missing-input", ["batch", "missing.txt", "-o", "out.jsonl"], {}, 1, "does not exist"),
    ("batch-input-a-folder", ["batch", "questions.txt", "-o", "out.jsonl"], {}, 1, "is a folder"),
    ("batch-binary-input", ["batch", "bin.txt", "-o", "out.jsonl"], {}, 1, "not a text file"),
    ("batch-binary-jsonl", ["batch", "bin.jsonl", "-o", "out.jsonl"], {}, 1, "not a text file"),
    ("batch-nul-in-text", ["batch", "nul.txt", "-o", "out.jsonl"], {}, 1, "not a text file"),
    ("batch-unknown-suffix", ["batch", "q.xlsx", "-o", "out.jsonl"], {}, 1, "not .txt, .jsonl or .csv"),
    ("batch-csv-no-question-column", ["batch", "noq.csv", "-o", "out.jsonl"], {}, 1, "no 'question' column"),
    ("batch-jsonl-only-bad-lines", ["batch", "bad.jsonl", "-o", "out.jsonl"], {}, 1, "holds no questions"),
    ("batch-output-missing-folder", ["batch", "q.txt", "-o", "nowhere/out.jsonl"], {}, 1, "does not exist"),
    ("batch-output-under-a-file", ["batch", "q.txt", "-o", "afile/out.jsonl"], {}, 1, "is a file, not a folder"),
    ("batch-output-a-folder", ["batch", "q.txt", "-o", "adir"], {}, 1, "is a folder"),
    ("batch-output-empty-name", ["batch", "q.txt", "-o", ""], {}, 1, "is a folder"),
    ("batch-output-is-the-input", ["batch", "q.txt", "-o", "q.txt"], {}, 1, "is the questions file"),
    ("batch-output-foreign-file", ["batch", "q.txt", "-o", "foreign.jsonl"], {}, 1, "not a `rag batch` output"),
    ("batch-no-models", ["batch", "q.txt", "-o", "out.jsonl"], {}, 1, "rag models prepare"),
    # rag eval
    ("eval-missing-file", ["eval", "missing.jsonl"], {}, 1, "does not exist"),
    ("eval-not-json", ["eval", "notjson.jsonl"], {}, 1, "line 1 is not a JSON object"),
    ("eval-binary-file", ["eval", "bin.jsonl"], {}, 1, "not UTF-8"),
    ("eval-a-folder", ["eval", "adir"], {}, 1, "is a folder"),
    ("eval-compare-missing", ["eval", "--compare", "r.json", "missing.json"], {}, 1, "does not exist"),
    ("eval-compare-broken-json", ["eval", "--compare", "r.json", "broken.json"], {}, 1, "not valid JSON"),
    ("eval-compare-a-list", ["eval", "--compare", "list.json", "r.json"], {}, 1, "not a JSON object of metrics"),
    ("eval-compare-a-folder", ["eval", "--compare", "r.json", "adir"], {}, 1, "is a folder"),
    ("eval-compare-no-shared-metric", ["eval", "--compare", "empty.json", "r.json"], {}, 1, "share no metric"),
    ("eval-answers-missing", ["eval", "dev.jsonl", "--answers", "missing.jsonl"], {}, 1, "does not exist"),
    ("eval-out-a-file", ["eval", "dev.jsonl", "--out", "afile"], {}, 1, "is a file, not a folder"),
    # rag add / remove
    ("add-missing-file", ["add", "incoming/missing.srt"], {}, 1, "does not exist"),
    ("add-a-folder", ["add", "incoming/folder.srt"], {}, 1, "is a folder"),
    ("add-binary-srt", ["add", "incoming/scan.srt"], {}, 1, "not a text file"),
    ("add-pdf", ["add", "incoming/doc.pdf"], {}, 1, "not a transcript file"),
    ("add-broken-meta-json", ["add", "incoming/talk.vtt"], {}, 1, "talk.meta.json is not a JSON object"),
    ("add-srt-without-cues", ["add", "incoming/blank.srt"], {}, 1, "blank.srt"),
    ("add-json-not-whisper", ["add", "incoming/other.json"], {}, 1, "other.json"),
    ("add-good-then-bad", ["add", "seeds/alpha.srt", "incoming/scan.srt"], {}, 1, "scan.srt"),
    ("remove-unknown-name", ["remove", "nothing-like-this"], {}, 1, "no transcript in the library is called"),
    # rag list / retrieve: index and library folders
    ("list-no-index", ["list", "--index-dir", "nowhere"], {}, 1, "there is no index"),
    ("list-sources-a-file", ["list", "--sources", "afile"], {}, 1, "afile is a file, not a folder"),
    ("list-index-dir-a-file", ["list", "--index-dir", "afile"], {}, 1, "afile is a file, not a folder"),
    ("list-manifest-broken-json", ["list", "--index-dir", "damaged-json"], {}, 1, "damaged (manifest.json)"),
    ("list-manifest-a-list", ["list", "--index-dir", "damaged-list"], {}, 1, "damaged (manifest.json)"),
    ("list-manifest-no-transcripts", ["list", "--index-dir", "damaged-shape"], {}, 1, "damaged (manifest.json)"),
    ("list-manifest-part-escapes", ["list", "--index-dir", "damaged-path"], {}, 1, "damaged (manifest.json)"),
    ("list-missing-part", ["list", "--index-dir", "missing-part"], {}, 1, "rag index build --force"),
    ("list-data-dir-a-file", ["list", "--data-dir", "afile"], {}, 1, "afile is a file, not a folder"),
    ("retrieve-no-index", ["retrieve", "q", "--index-dir", "nowhere"], {}, 1, "there is no index"),
    ("retrieve-sources-a-file", ["retrieve", "q", "--sources", "afile"], {}, 1, "afile is a file, not a folder"),
    ("retrieve-manifest-broken", ["retrieve", "q", "--index-dir", "damaged-json"], {}, 1, "damaged (manifest.json)"),
    ("retrieve-manifest-a-list", ["retrieve", "q", "--index-dir", "damaged-list"], {}, 1, "damaged (manifest.json)"),
    ("retrieve-manifest-shape", ["retrieve", "q", "--index-dir", "damaged-shape"], {}, 1, "damaged (manifest.json)"),
    ("retrieve-missing-part", ["retrieve", "q", "--index-dir", "missing-part"], {}, 1, "damaged"),
    # rag index build
    ("build-empty-library", ["index", "build", "--sources", "empty-lib"], {}, 1, "no transcripts"),
    ("build-missing-library", ["index", "build", "--sources", "nowhere"], {}, 1, "no transcripts"),
    ("build-only-bad-files", ["index", "build", "--sources", "bad-lib", "--index-dir", "new"], {}, 1, "bad-lib"),
    ("build-sources-a-file", ["index", "build", "--sources", "afile"], {}, 1, "afile is a file, not a folder"),
    # models
    ("ask-models-dir-empty", ["ask", "q", "--models-dir", "models"], {}, 1, "rag models prepare"),
    ("ask-model-etc-passwd", ["ask", "q", "--model", "/etc/passwd"], {}, 1, "not a GGUF model file"),
    ("ask-model-a-folder", ["ask", "q", "--model", "adir"], {}, 1, "neither a file nor one of"),
    ("ask-model-missing", ["ask", "q", "--model", "missing.gguf"], {}, 1, "neither a file nor one of"),
    ("env-model-etc-passwd", ["ask", "q"], {"RAG_MODEL": "/etc/passwd"}, 1, "not a GGUF model file"),
    ("retrieve-embedder-missing", ["retrieve", "q", "--embedder", "no-such-model"], {}, 1, "fix --embedder"),
    ("build-embedder-missing", ["index", "build", "--force", "--embedder", "nowhere/e5"], {}, 1, "fix --embedder"),
    ("add-embedder-missing", ["add", "incoming/talk.vtt", "--embedder", "nowhere"], {}, 1, "fix --embedder"),
    ("prepare-models-dir-a-file", ["models", "prepare", "--models-dir", "afile"], {}, 1, "afile is a file"),
]


@pytest.mark.parametrize(("args", "env", "code", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_line_and_changes_nothing(world, rag_main, args, env, code, fragment):
    before = snapshot(world)
    result = rag_main(*args, cwd=world, env=env)
    assert_refused(result, code, fragment)
    assert snapshot(world) == before


# one case per subcommand family through the installed console script: the entry point must behave too
THROUGH_THE_SCRIPT = (
    "no-command",  # argparse's usage error, through sys.exit in the script
    "models-unknown-model",
    "build-only-bad-files",
    "list-manifest-broken-json",
    "add-binary-srt",
    "ask-binary",  # a real argv that is not UTF-8
    "batch-output-foreign-file",
    "eval-limit-zero",
)
SCRIPT_CASES = [c for c in CASES if c[0] in THROUGH_THE_SCRIPT]


@pytest.mark.parametrize(
    ("args", "env", "code", "fragment"), [c[1:] for c in SCRIPT_CASES], ids=[c[0] for c in SCRIPT_CASES]
)
def test_the_console_script_refuses_bad_input_too(world, args, env, code, fragment):
    before = snapshot(world)
    result = run(*args, cwd=world, env=env)
    assert_refused(result, code, fragment)
    assert snapshot(world) == before


# Answer records of the wrong shape (`rag eval --answers`) are skipped like any other bad line; with none
# left, the command says so.
MALFORMED_ANSWERS = {
    "answers-record-without-fields": '{"id": "d1", "question": "What is this about?"}\n',
    "answers-citations-not-objects": '{"id": "d1", "question": "q", "answer": "a", "refused": false, "citations": [1]}\n',
}


@pytest.mark.parametrize("answers", list(MALFORMED_ANSWERS.values()), ids=list(MALFORMED_ANSWERS))
def test_malformed_answer_records_are_refused(tmp_path, rag_main, answers):
    (tmp_path / "dev.jsonl").write_text('{"id": "d1", "question": "What is this about?"}\n')
    (tmp_path / "answers.jsonl").write_text(answers)
    result = rag_main("eval", "dev.jsonl", "--answers", "answers.jsonl", cwd=tmp_path)
    assert_refused(result, 1, "answers")


def test_the_table_is_wide():
    assert len(CASES) >= 45 and len({c[0] for c in CASES}) == len(CASES)
    assert len(SCRIPT_CASES) == len(THROUGH_THE_SCRIPT)


def test_a_nul_byte_cannot_reach_the_command_line(world):
    with pytest.raises(ValueError, match="null byte"):  # so NUL questions are tested through batch files above
        run("ask", "a\x00b", cwd=world)


# --- permissions: root reads and writes anything, so as root the command runs without that privilege -----------


def obeying_permissions() -> tuple:
    """A command prefix under which chmod bites: none for a user; for root, setpriv dropping the DAC override."""
    if os.geteuid() != 0:
        return ()
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
    try:
        subprocess.run([*prefix, "true"], check=True, timeout=60)
    except (subprocess.SubprocessError, OSError):
        pytest.skip("running as root without setpriv: chmod would not bite")
    return prefix


PERMISSION_CASES = [
    ("history-unreadable", "unreadable.json", 0o000, ["ask", "q", "--history", "unreadable.json"], "cannot read"),
    ("batch-input-unreadable", "unreadable.txt", 0o000, ["batch", "unreadable.txt", "-o", "out.jsonl"], "cannot read"),
    ("batch-output-read-only", "ro", 0o555, ["batch", "q.txt", "-o", "ro/out.jsonl"], "read-only"),
    ("eval-file-unreadable", "unreadable.jsonl", 0o000, ["eval", "unreadable.jsonl"], "cannot read"),
    ("eval-report-unreadable", "unreadable.json", 0o000, ["eval", "--compare", "r.json", "unreadable.json"], "read"),
    ("add-unreadable-srt", "unreadable.srt", 0o000, ["add", "unreadable.srt"], "cannot read"),
    ("list-index-unreadable", "index", 0o000, ["list"], "permission denied"),
    ("model-unreadable", "model.gguf", 0o000, ["ask", "q", "--model", "model.gguf"], "cannot read the chat model"),
]
# each needs a process of its own (~0.3 s); these repeat another case's check on another file, so only the full run
PERMISSION_E2E = ("batch-input-unreadable", "eval-report-unreadable")


@pytest.mark.parametrize(
    ("name", "mode", "args", "fragment"),
    [
        pytest.param(*c[1:], id=c[0], marks=[pytest.mark.e2e] if c[0] in PERMISSION_E2E else [])
        for c in PERMISSION_CASES
    ],
)
def test_unreadable_and_read_only_files_are_refused(tmp_path, name, mode, args, fragment):
    prefix = obeying_permissions()
    world = make_world(tmp_path / "world")
    path = world / name
    if not path.exists():
        if name == "ro":
            path.mkdir()
        else:
            path.write_bytes(b"GGUF" if name.endswith(".gguf") else b"[]")
    path.chmod(mode)
    try:
        before = snapshot(world)
        result = run(*args, cwd=world, prefix=prefix)
        assert_refused(result, 1, fragment)
        assert snapshot(world) == before
    finally:
        path.chmod(0o755)


# --- a full disk while writing answers (no model: the batch runner with the fake pipeline) -------------------


def test_a_full_disk_stops_the_batch_with_one_line_and_keeps_the_answers(fake_settings, fake_index, tmp_path):
    """/dev/full fails every write with ENOSPC; a file size limit makes a regular file fail after a few lines."""
    from rag.batch import read_questions, run_batch
    from rag.errors import RagError

    (tmp_path / "q.txt").write_text("".join(f"質問{n}は？\n" for n in range(40)))
    questions, _ = read_questions(tmp_path / "q.txt")
    with pytest.raises(RagError, match="disk is full"):
        run_batch(FakePipeline(fake_settings, fake_index), questions, Path("/dev/full"), log=lambda m: None)

    output = tmp_path / "out.jsonl"
    run_batch(FakePipeline(fake_settings, fake_index), questions[:3], output, log=lambda m: None)
    kept = output.read_bytes()
    script = (
        "import resource, signal, sys; from pathlib import Path\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({len(kept) + 3000}, {len(kept) + 3000}))\n"
        "from rag.settings import Settings; from rag.store import load_index; from rag.batch import *\n"
        "from rag.errors import RagError; from tests.conftest import FakePipeline\n"
        f"settings = Settings.load(sources={str(fake_settings.sources)!r}, index_dir={str(fake_settings.index_dir)!r},"
        " embedder='fake-bigrams', translate_questions=False)\n"
        "pipeline = FakePipeline(settings, load_index(settings, 'fake-bigrams'))\n"
        f"questions, _ = read_questions(Path({str(tmp_path / 'q.txt')!r}))\n"
        "try:\n"
        f"    run_batch(pipeline, questions, Path({str(output)!r}), log=lambda m: None)\n"
        "except RagError as error:\n"
        "    print(error); sys.exit(1)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "file size limit" in result.stdout, result.stdout + result.stderr
    written = output.read_bytes()
    assert written.startswith(kept) and written.endswith(b"\n")  # the old answers intact, no torn line
    assert all(json.loads(line)["id"] for line in written.splitlines())


def test_a_full_disk_while_indexing_is_named_and_the_old_index_stays(fake_settings, fake_index, monkeypatch):
    import errno

    from rag import store
    from rag.errors import RagError

    (fake_settings.sources / "talk.vtt").write_text(VTT, encoding="utf-8")
    before = snapshot(fake_settings.index_dir)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", full)
    with pytest.raises(RagError, match="the disk is full.*the previous index is unchanged"):
        store.sync_index(fake_settings, FakeEmbedder())
    assert snapshot(fake_settings.index_dir) == before
    assert list(store.load_index(fake_settings, "fake-bigrams").transcripts) == list(fake_index.transcripts)


# --- end to end: the real embedder --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_world(tmp_path_factory) -> Path:
    if not (REPO / ".models" / "multilingual-e5-small" / "modules.json").exists():
        pytest.skip("run ./test.sh: the set-up prepares the embedder")
    root = tmp_path_factory.mktemp("real")
    (root / "seeds").mkdir()
    (root / "seeds" / "alpha.srt").write_text(SRT.replace("{topic}", "rockets"), encoding="utf-8")
    (root / "seeds" / "beta.srt").write_text(SRT.replace("{topic}", "gardens"), encoding="utf-8")
    result = run("index", "build", cwd=root, env=REAL)
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.e2e
def test_a_shift_jis_transcript_is_added(real_world, tmp_path):
    text = "日本の宇宙開発\n" + "".join(f"ロケット{n}号機は{1990 + n}年に打ち上げられました。\n" for n in range(20))
    (tmp_path / "uchu.txt").write_bytes(text.encode("shift_jis"))
    result = run("add", str(tmp_path / "uchu.txt"), "--json", cwd=real_world, env=REAL)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == ["uchu.txt"]
    listed = json.loads(run("list", "--json", cwd=real_world).stdout)
    assert [e["title"] for e in listed if e["name"] == "uchu.txt"] == ["日本の宇宙開発"]
    assert run("remove", "uchu", cwd=real_world, env=REAL).returncode == 0


def limited_file_size(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.e2e
def test_a_failed_index_write_keeps_the_old_index(real_world, tmp_path):
    """A file size limit makes every index write past 2 kB fail (EFBIG), as a full disk would; nothing changes."""
    incoming = tmp_path / "gamma.vtt"
    incoming.write_text(VTT, encoding="utf-8")
    before = snapshot(real_world)
    for args in (["add", str(incoming)], ["index", "build", "--force"]):
        result = subprocess.run(
            [RAG, *args],
            cwd=real_world,
            capture_output=True,
            env={**ENV, **REAL},
            timeout=300,
            preexec_fn=limited_file_size(2000),
        )
        assert_refused(result, 1, "file size limit")
        assert "the previous index is unchanged" in result.stderr.decode()
        assert snapshot(real_world) == before, args
    assert run("list", "--json", cwd=real_world).returncode == 0


@pytest.mark.e2e
def test_read_only_index_and_library_are_refused(real_world, tmp_path):
    prefix = obeying_permissions()
    shared = tmp_path / "read-only"
    try:
        shutil.copytree(real_world / "seeds", shared / "seeds")
        shutil.copytree(real_world / "index", shared / "index")
        (shared / "gamma.vtt").write_text(VTT, encoding="utf-8")
        for path in [shared, *shared.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = snapshot(shared)
        for args in (["add", "gamma.vtt"], ["index", "build", "--force"], ["remove", "alpha"]):
            result = run(*args, cwd=shared, prefix=prefix, env=REAL)
            assert_refused(result, 1, "read-only")
            assert snapshot(shared) == before, args
    finally:
        for path in [shared, *shared.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
