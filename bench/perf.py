"""Speed of the answer pipeline on this machine, against llama.cpp itself and the memory-bandwidth limit.

For each chat model, in its own subprocess (so peak RSS is its own): model
load time; pp512 and tg128 measured through llama-cpp-python the way
llama-bench measures them (a 512-token prompt evaluated in one batch after
a reset; 128 generated tokens timed by llama.cpp's own counters); the same
two figures from `llama-bench` built from the same vendored llama.cpp source
(bench/setup_llama_bench.sh), run in the same session; and the real pipeline
on the dev questions: median time to first token, prompt tokens, end-to-end
answer time. Memory bandwidth is measured in the same run (numpy copy of a
1 GiB buffer, read + write bytes counted) and decode speed is reported as a
share of bandwidth ÷ model bytes.

Before the chat models, the index side: `rag index build` on the seed and on
synthetic corpora of 100 and 1,000 transcripts (the seed's sentences
shuffled into a new order per copy), then, on each index, the load time and
the per-question latency of query embedding and of the hybrid search
(dense + BM25 fusion), median over the dev questions.

Writes bench/perf.json and prints two tables.

    .venv/bin/python bench/perf.py [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--questions 10] [--scales 1 100 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def memory_bandwidth_gbs(size_bytes: int = 1 << 30, repeats: int = 5) -> float:
    import numpy as np

    a = np.ones(size_bytes // 8)
    b = np.empty_like(a)
    np.copyto(b, a)  # touch every page first
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - started)
    return 2 * a.nbytes / best / 1e9  # read + write


def llama_bench(binary: str, model: Path, threads: int) -> dict:
    out = subprocess.run(
        [binary, "-m", str(model), "-p", "512", "-n", "128", "-t", str(threads), "-r", "3", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LD_LIBRARY_PATH": str(Path(binary).parent)},
    )
    rows = json.loads(out.stdout)
    figures = {}
    for row in rows:
        name = "pp512" if row.get("n_prompt") else "tg128"
        figures[name] = round(row["avg_ts"], 2)
    return figures


def write_corpus(folder: Path, copies: int) -> None:
    """The seed itself (copies == 1), or that many transcripts of its sentences in shuffled orders."""
    from rag.ingest import read_transcript

    seed = ROOT / "seeds" / "000_bf3b1260eecfaf13.txt"
    folder.mkdir(parents=True)
    if copies == 1:
        for path in seed.parent.iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
        return
    transcript = read_transcript(seed)
    sentences = [transcript.text[s.start : s.end] for s in transcript.sentences]
    shuffle = random.Random(0).shuffle
    for n in range(copies):
        shuffle(sentences)
        (folder / f"synthetic_{n:04d}.txt").write_text("\n".join(sentences), encoding="utf-8")


class Precomputed:
    """An embedder that returns a vector computed beforehand."""

    def __init__(self, vector, embedder):
        self.vector, self.name, self.dim = vector, embedder.name, embedder.dim

    def embed_queries(self, texts):
        return self.vector


def index_scaling(scales: list[int], questions: list[str]) -> list[dict]:
    from rag.embed import load_embedder
    from rag.retrieve import retrieve
    from rag.settings import Settings
    from rag.store import build_index, load_index

    settings = Settings.load()
    embedder = load_embedder(settings)
    rows = []
    for copies in scales:
        with tempfile.TemporaryDirectory(prefix="rag-perf-") as work:
            run = settings.replace(sources=Path(work) / "sources", index_dir=Path(work) / "index")
            write_corpus(run.sources, copies)
            print(f"index build, {copies}x the seed ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            build_index(run, embedder, log=lambda line: print(line, file=sys.stderr, flush=True))
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            index = load_index(run, embedder.name, embedder.dim)
            load_s = time.perf_counter() - started
            embed_ms, search_ms = [], []
            for question in questions:
                started = time.perf_counter()
                vector = embedder.embed_queries([question])
                embed_ms.append((time.perf_counter() - started) * 1000)
                embedded = Precomputed(vector, embedder)  # time the search alone
                started = time.perf_counter()
                retrieve(index, embedded, question, settings.top_k, settings.lexical_weight)
                search_ms.append((time.perf_counter() - started) * 1000)
            rows.append(
                {
                    "corpus": f"{copies}x seed",
                    "transcripts": len(index.transcripts),
                    "chunks": len(index.chunks),
                    "vector_index": index.manifest.get("vector_index"),
                    "build_s": round(build_s, 1),
                    "chunks_per_s": round(len(index.chunks) / build_s, 1),
                    "index_mb": round(sum(f.stat().st_size for f in run.index_dir.iterdir()) / 1e6, 1),
                    "load_s": round(load_s, 2),
                    "query_embed_ms_p50": round(statistics.median(embed_ms), 1),
                    "search_ms_p50": round(statistics.median(search_ms), 1),
                    "search_ms_p95": round(sorted(search_ms)[int(0.95 * (len(search_ms) - 1))], 1),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def measure_model(name: str, questions: int) -> dict:
    """Runs inside a subprocess: everything for one chat model."""
    import llama_cpp

    from rag.answer import ask
    from rag.embed import load_embedder
    from rag.models import chat_model_path
    from rag.settings import Settings
    from rag.store import load_index

    settings = Settings.load(model=name)
    path = chat_model_path(settings)
    started = time.perf_counter()
    from rag.generate import load_generator

    generator = load_generator(settings)
    load_s = time.perf_counter() - started
    llm = generator.llm

    embedder = load_embedder(settings)
    index = load_index(settings, embedder.name, embedder.dim)
    dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    items = [json.loads(line) for line in dev.read_text().splitlines()][:questions]
    from rag.answer import SYSTEM_PROMPT

    generator.prime(SYSTEM_PROMPT, Path(settings.models_dir) / "kv")  # as rag.pipeline does
    ttft, totals, prompt_tokens = [], [], []
    for item in items:
        answer = ask(item["question"], index, embedder, generator, settings)
        ttft.append(answer.timings["ttft_ms"])
        totals.append(answer.timings["total_ms"])
        prompt_tokens.append(llm.n_tokens - answer.timings["tokens"])
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the answer path's own peak

    # pp512: one 512-token prompt from a cold context; tg128: 128 tokens, llama.cpp's own timer
    text = (ROOT / "seeds" / "000_bf3b1260eecfaf13.txt").read_text(encoding="utf-8")
    tokens = llm.tokenize(text.encode(), add_bos=True)[:512]
    pp = []
    for _ in range(3):
        llm.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm.ctx), True)
        t = time.perf_counter()
        llm.eval(tokens)
        pp.append(len(tokens) / (time.perf_counter() - t))
    tg = []
    for _ in range(3):
        llama_cpp.llama_perf_context_reset(llm.ctx)
        llm.create_completion("Once upon a time", max_tokens=128, temperature=0, seed=0)
        perf = llama_cpp.llama_perf_context(llm.ctx)
        tg.append(perf.n_eval / perf.t_eval_ms * 1000 if perf.t_eval_ms else 0.0)

    return {
        "model": name,
        "model_bytes": path.stat().st_size,
        "load_s": round(load_s, 2),
        "ours_pp512_tok_s": round(statistics.median(pp), 2),
        "ours_tg128_tok_s": round(statistics.median(tg), 2),
        "rag_prompt_tokens_median": int(statistics.median(prompt_tokens)),
        "ttft_ms_median": round(statistics.median(ttft), 1),
        "answer_ms_median": round(statistics.median(totals), 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--questions", type=int, default=10, help="dev questions for TTFT and answer time")
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 100, 1000], help="corpus sizes in seeds")
    parser.add_argument("--out", default=str(ROOT / "bench" / "perf.json"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model in this process
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.one:
        print(json.dumps(measure_model(args.one, args.questions)))
        return 0

    dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    questions = [json.loads(line)["question"] for line in dev.read_text().splitlines()]
    index_rows = index_scaling(args.scales, questions) if args.scales else []

    bench = subprocess.run(
        ["bash", str(ROOT / "bench" / "setup_llama_bench.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    bandwidth = memory_bandwidth_gbs()
    print(f"memory bandwidth (numpy copy, read+write): {bandwidth:.1f} GB/s", file=sys.stderr)
    from rag.settings import Settings

    threads = Settings.load().threads
    rows = []
    for name in args.models:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--questions", str(args.questions)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        from rag.models import CHAT_MODELS

        reference = llama_bench(bench, Path(Settings.load().models_dir) / CHAT_MODELS[name].file, threads)
        row.update({f"llama_bench_{k}_tok_s": v for k, v in reference.items()})
        row["pp_ratio"] = round(row["ours_pp512_tok_s"] / reference["pp512"], 3)
        row["tg_ratio"] = round(row["ours_tg128_tok_s"] / reference["tg128"], 3)
        row["bandwidth_gbs"] = round(bandwidth, 1)
        row["decode_share_of_bandwidth_limit"] = round(
            row["ours_tg128_tok_s"] / (bandwidth * 1e9 / row["model_bytes"]), 3
        )
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    Path(args.out).write_text(json.dumps({"chat_models": rows, "index": index_rows}, indent=1))
    if index_rows:
        print(" | ".join(index_rows[0]))
        for row in index_rows:
            print(" | ".join(str(v) for v in row.values()))
        print()
    header = [
        "model",
        "load_s",
        "ours_pp512_tok_s",
        "llama_bench_pp512_tok_s",
        "pp_ratio",
        "ours_tg128_tok_s",
        "llama_bench_tg128_tok_s",
        "tg_ratio",
        "decode_share_of_bandwidth_limit",
        "rag_prompt_tokens_median",
        "ttft_ms_median",
        "answer_ms_median",
        "peak_rss_mb",
    ]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row.get(h)) for h in header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
