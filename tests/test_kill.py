"""Kill tests: `rag index build`, `rag add` and `rag batch` killed with SIGKILL at random points lose nothing.

After every kill the index loads and is either what it was before the command or what the command makes,
never a mix; the batch output holds whole answers, and a re-run completes it with every question answered
once. The kill delays are drawn from `random.Random(SEED)` between 0 and the measured duration of an
uninterrupted run, so a failure can be replayed. The index tests use the real embedder (e2e); the batch
test runs the batch runner with the fake pipeline in a child process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO, FakeEmbedder

RAG = str(Path(sys.executable).parent / "rag")
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_")}, "HF_HUB_OFFLINE": "1"}
SEED = 20241128
KILLS = 20
FIGURES: dict[str, dict] = {}  # what each test measured, printed at the end of the module (pytest -s)

TOPICS = ("rockets", "gardens", "bridges", "volcanoes", "violins")


def srt(topic: str, cues: int = 60) -> str:
    return "".join(
        f"{n}\n00:{n // 15:02d}:{4 * n % 60:02d},000 --> 00:{n // 15:02d}:{4 * n % 60:02d},900\n"
        f"In part {n} of this talk about {topic}, the speaker explains detail number {n * 7} at length.\n\n"
        for n in range(1, cues + 1)
    )


def vtt(topic: str, cues: int = 60) -> str:
    return "WEBVTT\n\n" + "".join(
        f"00:{n // 15:02d}:{4 * n % 60:02d}.000 --> 00:{n // 15:02d}:{4 * n % 60:02d}.900\n"
        f"Dans la partie {n} sur les {topic}, on parle du point {n * 3}.\n\n"
        for n in range(1, cues + 1)
    )


def environment(root: Path) -> dict:
    return {
        **ENV,
        "RAG_MODELS_DIR": str(REPO / ".models"),
        "RAG_SOURCES": str(root / "library"),
        "RAG_INDEX_DIR": str(root / "index"),
        "RAG_CHUNK_CHARS": "150",  # small chunks: more of the run is embedding and writing, where kills matter
    }


def rag(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=env, timeout=300)


def timed(*args, env: dict) -> float:
    started = time.perf_counter()
    result = rag(*args, env=env)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - started


def kill_at(args: list[str], env: dict, delay: float) -> bool:
    """Start `rag args`, SIGKILL it after delay seconds; True when the kill landed (it was still running)."""
    process = subprocess.Popen([RAG, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True


def index_state(env: dict):
    """What the index holds, as `rag list --json` and the manifest's transcript entries; None when there is none."""
    result = rag("list", "--json", env=env)
    if result.returncode != 0 or "Traceback" in result.stderr:
        if result.returncode == 1 and result.stderr.startswith("error: there is no index"):
            return None
        return ("broken", result.stderr)  # the kill damaged the index
    manifest = json.loads((Path(env["RAG_INDEX_DIR"]) / "manifest.json").read_text())
    entries = {name: (e["sha256"], e["part"], e["chunks"]) for name, e in manifest["transcripts"].items()}
    return result.stdout, json.dumps(entries, sort_keys=True)


def restore(copy: Path | None, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    if copy is not None:
        shutil.copytree(copy, target)


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*.tmp"))


def unfinished(env: dict, state) -> bool:
    """Whether the index folder holds work the manifest does not name yet: parts or temporary files."""
    named = {part for _, part, _ in json.loads(state[1]).values()} if state and state[0] != "broken" else set()
    parts = Path(env["RAG_INDEX_DIR"]) / "parts"
    found = {p.name if p.name.startswith(".") else p.stem for p in parts.glob("*")}
    return bool(found - named) if parts.is_dir() else False


def kill_series(name, args, env, duration, allowed, rng, reset, kills=KILLS) -> dict:
    """Kill `rag args` `kills` times; after each, the index must be one of `allowed` (else: corrupted).

    Figures: kills that landed (the command was still running), kills that left the old state with finished
    parts not yet in the manifest (killed mid-update), and how often each allowed state was found."""
    landed = corrupted = mid_update = 0
    seen = {"before": 0, "after": 0}
    for _ in range(kills):
        landed += kill_at(args, env, rng.uniform(0, duration))
        state = index_state(env)
        corrupted += state not in allowed
        mid_update += state == allowed[0] and unfinished(env, state)
        label = ("before", "after")[allowed.index(state)] if state in allowed else "corrupted"
        seen[label] = seen.get(label, 0) + 1
        reset(state)
    figures = {
        "kills": kills,
        "landed": landed,
        "killed_mid_update": mid_update,
        "corrupted": corrupted,
        "states": seen,
    }
    FIGURES[name] = figures
    return figures


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    if not (REPO / ".models" / "multilingual-e5-small" / "modules.json").exists():
        pytest.skip("run ./test.sh: the set-up prepares the embedder")
    return tmp_path_factory.mktemp("kill")


@pytest.mark.e2e
def test_index_build_killed_anywhere_leaves_the_old_or_the_new_index(workspace):
    started = time.perf_counter()
    rng = random.Random(SEED)
    root = workspace / "build"
    library = root / "library"
    library.mkdir(parents=True)
    (library / "a.srt").write_text(srt(TOPICS[0]), encoding="utf-8")
    (library / "b.vtt").write_text(vtt(TOPICS[1]), encoding="utf-8")
    (library / "c.srt").write_text(srt(TOPICS[2]), encoding="utf-8")
    env = environment(root)

    # 1. From nothing: after a kill there is no index, or the whole one.
    duration = timed("index", "build", env=env)
    built = index_state(env)
    assert built is not None
    shutil.rmtree(root / "index")

    def from_scratch(state):
        if state is not None:
            shutil.rmtree(root / "index")  # start again; leftovers of a killed run are kept otherwise

    first = kill_series(
        "index build (from nothing)", ["index", "build"], env, duration, [None, built], rng, from_scratch, KILLS // 2
    )

    # 2. An update (one transcript changed, one removed, one new): the old index or the new one, never a mix.
    rag("index", "build", env=env)
    old = index_state(env)
    shutil.copytree(root / "index", root / "index-old")
    (library / "b.vtt").write_text(vtt(TOPICS[1]).replace("point", "moment"), encoding="utf-8")
    (library / "c.srt").unlink()
    (library / "d.srt").write_text(srt(TOPICS[3]), encoding="utf-8")
    duration_update = timed("index", "build", env=env)
    new = index_state(env)
    assert new not in (None, old)

    def back_to_old(state):
        if state == new:
            restore(root / "index-old", root / "index")

    restore(root / "index-old", root / "index")
    second = kill_series(
        "index build (update)", ["index", "build"], env, duration_update, [old, new], rng, back_to_old, KILLS // 2
    )

    # 3. Whatever the kills left, an uninterrupted build completes and equals a clean build.
    assert rag("index", "build", env=env).returncode == 0
    clean_env = {**env, "RAG_INDEX_DIR": str(root / "index-clean")}
    assert rag("index", "build", env=clean_env).returncode == 0
    assert index_state(env) == index_state(clean_env) == new
    parts = sorted(p.name for p in (root / "index" / "parts").iterdir())
    assert parts == sorted(p.name for p in (root / "index-clean" / "parts").iterdir())
    for part in parts:
        if part.endswith(".json"):  # same text and chunks; vectors may differ in the last bits between runs
            assert (root / "index" / "parts" / part).read_bytes() == (
                root / "index-clean" / "parts" / part
            ).read_bytes()
    assert leftovers(root / "index") == []
    FIGURES["index build (from nothing)"]["seconds_per_run"] = round(duration, 1)
    FIGURES["index build (update)"]["seconds_per_run"] = round(duration_update, 1)
    FIGURES["index build"] = {"runtime_s": round(time.perf_counter() - started, 1)}
    assert first["kills"] + second["kills"] >= KILLS
    assert first["corrupted"] == second["corrupted"] == 0, FIGURES
    assert first["landed"] + second["landed"] >= KILLS // 2, FIGURES  # most kills hit a running build


@pytest.mark.e2e
def test_add_killed_anywhere_leaves_the_old_set_or_the_old_set_plus_the_new_one(workspace):
    started = time.perf_counter()
    rng = random.Random(SEED + 1)
    root = workspace / "add"
    library = root / "library"
    library.mkdir(parents=True)
    (library / "a.srt").write_text(srt(TOPICS[0]), encoding="utf-8")
    (library / "b.vtt").write_text(vtt(TOPICS[1]), encoding="utf-8")
    incoming = root / "incoming" / "e.srt"
    incoming.parent.mkdir()
    incoming.write_text(srt(TOPICS[4], cues=90), encoding="utf-8")
    env = environment(root)
    assert rag("index", "build", env=env).returncode == 0
    old = index_state(env)
    shutil.copytree(root / "index", root / "index-old")
    shutil.copytree(library, root / "library-old")
    duration = timed("add", str(incoming), env=env)
    new = index_state(env)
    assert new is not None and json.loads(new[1]).keys() == {"a.srt", "b.vtt", "e.srt"}
    restore(root / "index-old", root / "index")
    restore(root / "library-old", library)
    torn_copies = copied_not_indexed = 0

    def check_library_then_reset(state):
        nonlocal torn_copies, copied_not_indexed
        names = sorted(p.name for p in library.iterdir() if not p.name.startswith("."))
        assert names in (["a.srt", "b.vtt"], ["a.srt", "b.vtt", "e.srt"]), names
        if "e.srt" in names and (library / "e.srt").read_bytes() != incoming.read_bytes():
            torn_copies += 1
        copied_not_indexed += "e.srt" in names and state == old
        if state == new:
            restore(root / "index-old", root / "index")
            restore(root / "library-old", library)

    figures = kill_series("add", ["add", str(incoming)], env, duration, [old, new], rng, check_library_then_reset)
    figures["torn_copies"], figures["copied_not_yet_indexed"] = torn_copies, copied_not_indexed

    assert rag("add", str(incoming), env=env).returncode == 0
    assert index_state(env) == new
    assert leftovers(root / "index") == [] and leftovers(library) == []
    figures["seconds_per_run"] = round(duration, 1)
    figures["runtime_s"] = round(time.perf_counter() - started, 1)
    assert figures["corrupted"] == 0 and torn_copies == 0, figures
    assert figures["landed"] >= KILLS // 2, figures


BATCH_CHILD = """
import sys, time
from pathlib import Path
from rag.batch import read_questions, run_batch
from rag.settings import Settings
from rag.store import load_index
from tests.conftest import FakePipeline

class Slow(FakePipeline):
    def ask_stream(self, question, **kwargs):
        time.sleep(0.005)
        yield from super().ask_stream(question, **kwargs)

root = Path(sys.argv[1])
settings = Settings.load(
    sources=root / "library", index_dir=root / "index", embedder="fake-bigrams", translate_questions=False
)
questions, _ = read_questions(root / "questions.jsonl")
run_batch(Slow(settings, load_index(settings, "fake-bigrams")), questions, root / "answers.jsonl", log=lambda m: None)
"""


@pytest.mark.e2e  # 20 child processes killed: ~10 s, too slow for the unit run
def test_batch_killed_anywhere_answers_every_question_exactly_once(tmp_path):
    from rag.settings import Settings
    from rag.store import build_index

    started = time.perf_counter()
    rng = random.Random(SEED + 2)
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "talk.srt").write_text(srt("rockets", cues=20), encoding="utf-8")
    build_index(Settings.load(sources=tmp_path / "library", index_dir=tmp_path / "index"), FakeEmbedder())
    ids = [f"q{n:02d}" for n in range(30)]
    (tmp_path / "questions.jsonl").write_text(
        "".join(
            json.dumps({"id": i, "question": f"What is detail number {n * 7} about rockets?"}) + "\n"
            for n, i in enumerate(ids)
        )
    )
    output = tmp_path / "answers.jsonl"
    command = [sys.executable, "-c", BATCH_CHILD, str(tmp_path)]

    def child(delay: float | None) -> bool:
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, stderr = process.communicate(timeout=delay if delay is not None else 120)
            assert process.returncode == 0, stderr.decode()
            return False
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return True

    child(None)  # a first run warms the file cache; kills are timed against a warm run
    output.unlink()
    begun = time.perf_counter()
    child(None)
    duration = time.perf_counter() - begun
    output.unlink()

    landed = torn = 0
    answered_after_kill = []
    for _ in range(KILLS):
        landed += child(rng.uniform(0, duration))
        lines = output.read_bytes().split(b"\n") if output.exists() else [b""]
        torn += lines[-1] != b""  # an unfinished last line, which the next run must cut off
        records = [json.loads(line) for line in lines[:-1]]  # every finished line is a whole answer
        assert len({r["id"] for r in records}) == len(records)
        answered_after_kill.append(len(records))
        if len(records) == len(ids):
            output.unlink()  # done: start over, so that later kills land mid-run too

    child(None)
    lines = output.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # no torn line left unparsed
    answered = [r["id"] for r in records]
    lost, duplicated = sorted(set(ids) - set(answered)), len(answered) - len(set(answered))
    FIGURES["batch"] = {
        "kills": KILLS,
        "landed": landed,
        "torn_tails_seen": torn,
        "answers_on_disk_after_each_kill": answered_after_kill,
        "lost": len(lost),
        "duplicated": duplicated,
        "seconds_per_run": round(duration, 2),
        "runtime_s": round(time.perf_counter() - started, 1),
    }
    assert output.read_bytes().endswith(b"\n")
    assert not lost and not duplicated and sorted(answered) == ids, FIGURES["batch"]
    assert all(r["answer"] and "citations" in r for r in records)
    assert landed >= KILLS // 2, FIGURES["batch"]


def teardown_module(module):
    if FIGURES:
        print("\nkill-test figures:", json.dumps(FIGURES, indent=1), file=sys.stderr)
