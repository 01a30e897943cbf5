"""The library on real data: build, load, search, add and remove, times in citations.

    .venv/bin/python bench/library.py                 # the 40 episodes of ../shared/eval/library-40.txt
    .venv/bin/python bench/library.py --all           # all 537 episodes of ../shared/corpus/twiml-vtt
    .venv/bin/python bench/library.py --reuse DIR     # measure an index already built in DIR

Builds the library from the corpus's WebVTT files (symbolic links in a work
folder) with `rag index build` in a child process (wall time, chunks/s, peak
RSS, size on disk), loads it (time), runs the library-dev questions through
retrieval (evidence from the right episode in the top 1/3/5, right episode in
the top 5, by language; query p50/p95), checks that the time span of every
retrieved passage holding the evidence contains the evidence's cue start
(±2 s), and times `rag add` of one more episode and `rag remove` of it (the
index after both must equal the index before: same chunk ids, same hits).
Writes bench/library[-all].json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rag(*args: str) -> tuple[float, int]:
    """Run the rag command; (seconds, peak RSS of the child in MB)."""
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "rag"), *args], check=True)
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1)


def time_checks(items, index, embedder, settings, steps, generator) -> dict:
    """For library questions: does a retrieved passage holding the evidence span the evidence's cue start?
    The eval files give the cue start of the first evidence string only, so only it is looked for."""
    from rag.answer import make_query
    from rag.evaluate import holds_evidence, in_source

    found = contained = 0
    misses = []
    for item in items:
        if not item.get("answerable", True) or item.get("evidence_time") is None:
            continue
        query = steps.translate(make_query(item["question"], index, settings), index, generator, settings)
        hits = steps.retrieve(query, index, embedder, settings)
        for passage in steps.passages(hits, index, settings):
            if in_source(item, passage.source) and holds_evidence(passage.text, item["evidence"][0]):
                found += 1
                t = item["evidence_time"]
                if passage.start_time - 2 <= t <= passage.end_time + 2:
                    contained += 1
                else:
                    misses.append([item["id"], passage.start_time, passage.end_time, t])
                break
    return {"passages_found": found, "time_contains_evidence": round(contained / max(1, found), 3), "misses": misses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="all 537 episodes as the library")
    parser.add_argument("--work", default="/tmp/rag-library-bench", help="work folder")
    parser.add_argument("--reuse", action="store_true", help="keep an index already built in the work folder")
    parser.add_argument("--chunk-chars", type=int, default=None)
    args = parser.parse_args()

    from rag.answer import STEPS, SYSTEM_PROMPT, make_query
    from rag.evaluate import read_eval_file, retrieval_report
    from rag.generate import load_generator
    from rag.pipeline import load_search
    from rag.settings import Settings
    from rag.store import load_index

    corpus = SHARED / "corpus" / "twiml-vtt"
    stems = (
        sorted(p.stem for p in corpus.glob("*.vtt"))
        if args.all
        else (SHARED / "eval" / "library-40.txt").read_text().split()
    )
    work = Path(args.work)
    library, index_dir = work / "library", work / "index"
    extra = next((p for p in sorted(corpus.glob("*.vtt")) if p.stem not in stems), None)  # to add and remove
    overrides = {"sources": library, "index_dir": index_dir, "models_dir": ROOT / ".models"}
    if args.chunk_chars:
        overrides["chunk_chars"] = args.chunk_chars
    settings = Settings.load(**overrides)
    flags = ["--sources", str(library), "--index-dir", str(index_dir), "--models-dir", str(ROOT / ".models")]
    flags += ["--chunk-chars", str(settings.chunk_chars)]
    report: dict = {"episodes": len(stems), "chunk_chars": settings.chunk_chars}

    if not args.reuse or not (index_dir / "manifest.json").exists():
        shutil.rmtree(work, ignore_errors=True)
        library.mkdir(parents=True)
        for stem in stems:
            (library / f"{stem}.vtt").symlink_to(corpus / f"{stem}.vtt")
        seconds, peak = rag("index", "build", *flags)
        manifest = json.loads((index_dir / "manifest.json").read_text())
        report["build"] = {
            "seconds": round(seconds, 1),
            "chunks": manifest["chunks"],
            "chunks_per_s": round(manifest["chunks"] / seconds, 1),
            "peak_rss_mb": peak,
            "index_mb": folder_mb(index_dir),
        }
    else:  # --reuse: the build figures are the earlier run's, when it built this same index
        earlier = json.loads(report_path(args.all).read_text()).get("build") if report_path(args.all).exists() else None
        chunks = json.loads((index_dir / "manifest.json").read_text())["chunks"]
        if earlier and earlier.get("chunks") == chunks:
            report["build"] = {**earlier, "measured_in_an_earlier_run": True}

    started = time.perf_counter()
    index = load_index(settings, settings.embedder)
    report["load_seconds"] = round(time.perf_counter() - started, 2)
    embedder, index = load_search(settings)
    items = read_eval_file(SHARED / "eval" / "library-dev.jsonl")
    generator = load_generator(settings, SYSTEM_PROMPT)  # translates ja/fr questions for searching
    retrieval_report(items[:3], index, embedder, settings, generator=generator)  # warm-up
    retrieval = retrieval_report(items, index, embedder, settings, generator=generator)
    latencies = []
    for item in items:  # search alone, as `rag retrieve` on an English question (translation excluded)
        query = STEPS.translate(make_query(item["question"], index, settings), index, generator, settings)
        t = time.perf_counter()
        STEPS.retrieve(query, index, embedder, settings)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    report["retrieval"] = {k: v for k, v in retrieval.items() if k != "by_kind"}
    report["query_ms"] = {
        "p50": round(statistics.median(latencies), 1),
        "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
    }
    report["times"] = time_checks(items, index, embedder, settings, STEPS, generator)

    if extra is None:  # every episode is in the library already
        return write(report, args.all)
    before = [c.id for c in index.chunks]
    probe = [
        h.chunk.id for h in STEPS.retrieve(make_query(items[0]["question"], index, settings), index, embedder, settings)
    ]
    add_seconds, _ = rag("add", str(extra), *flags)
    remove_seconds, _ = rag("remove", extra.stem, *flags)
    after_index = load_index(settings, settings.embedder)
    after = [c.id for c in after_index.chunks]
    again = [
        h.chunk.id
        for h in STEPS.retrieve(
            make_query(items[0]["question"], after_index, settings), after_index, embedder, settings
        )
    ]
    report["add_remove"] = {
        "episode": extra.stem,
        "add_seconds": round(add_seconds, 1),
        "remove_seconds": round(remove_seconds, 1),
        "same_chunk_ids": before == after,
        "same_hits": probe == again,
    }
    return write(report, args.all)


def report_path(every_episode: bool) -> Path:
    return ROOT / "bench" / ("library-all.json" if every_episode else "library.json")


def write(report: dict, every_episode: bool) -> int:
    out = report_path(every_episode)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
