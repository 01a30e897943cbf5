"""Dense search at scale: exact IndexFlatIP against the HNSW graph the index switches to.

Synthetic corpora of 10^5 and 10^6 chunk vectors are made from the real e5
vectors of the seed transcript (its sentences and chunks): each synthetic
vector mixes two real ones plus Gaussian noise, then is normalized, so the
corpus has the clustered shape of real embeddings rather than uniform noise.
Queries are the real e5 vectors of the dev questions. For each size the
script prints build time, p50/p95 single-query latency, recall@10 of HNSW
against exact search, and memory (serialized index size and RSS growth),
and writes the table as JSON.

    .venv/bin/python bench/retrieval_scale.py [--sizes 100000 1000000] [--out bench/retrieval_scale.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_vectors():
    from rag.embed import load_embedder
    from rag.ingest import chunk, list_sources, read_transcript
    from rag.settings import Settings

    settings = Settings.load()
    embedder = load_embedder(settings)
    texts = []
    for path in list_sources(settings.sources):
        t = read_transcript(path)
        texts += [t.text[s.start : s.end] for s in t.sentences]
        texts += [c.text for c in chunk(t, settings.chunk_chars, settings.chunk_overlap_sentences)]
    eval_file = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
    questions = (
        [json.loads(line)["question"] for line in eval_file.read_text().splitlines()]
        if eval_file.exists()
        else texts[:30]
    )
    return embedder.embed_passages(texts), embedder.embed_queries(questions)


def synthetic(base: np.ndarray, n: int, seed: int = 0, noise: float = 0.04) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        a, b = rng.integers(0, len(base), m), rng.integers(0, len(base), m)
        w = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        block = w * base[a] + (1 - w) * base[b] + noise * rng.standard_normal((m, base.shape[1]), dtype=np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(kind: str, vectors: np.ndarray, queries: np.ndarray, k: int = 10):
    import faiss

    from rag.store import make_faiss_index

    before = rss_mb()
    started = time.perf_counter()
    index = make_faiss_index(vectors, hnsw_min_chunks=0 if kind == "hnsw" else len(vectors) + 1)
    build_s = time.perf_counter() - started
    grown = rss_mb() - before
    latencies, results = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        latencies.append((time.perf_counter() - t) * 1000)
        results.append(ids[0])
    size_mb = faiss.serialize_index(index).nbytes / 1e6
    return (
        index,
        {
            "build_s": round(build_s, 1),
            "latency_ms_p50": round(statistics.median(latencies), 2),
            "latency_ms_p95": round(sorted(latencies)[int(0.95 * len(latencies)) - 1], 2),
            "index_mb": round(size_mb, 1),
            "rss_growth_mb": round(grown, 1),
        },
        np.array(results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    parser.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    args = parser.parse_args()
    import faiss

    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads", file=sys.stderr)
    base, questions = real_vectors()
    queries = np.vstack([questions, synthetic(base, 70, seed=99)])  # 30 real questions + 70 held-out mixtures
    rows = []
    for n in args.sizes:
        vectors = synthetic(base, n)
        flat, flat_row, exact = measure("flat", vectors, queries)
        del flat
        rows.append({"chunks": n, "index": "flat", **flat_row, "recall_at_10_vs_flat": 1.0})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        hnsw, hnsw_row, _ = measure("hnsw", vectors, queries)
        for ef in args.ef_search:
            hnsw.hnsw.efSearch = ef
            latencies, approx = [], []
            for q in queries:
                t = time.perf_counter()
                approx.append(hnsw.search(q[None, :], 10)[1][0])
                latencies.append((time.perf_counter() - t) * 1000)
            recall = float(np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact)]))
            rows.append(
                {
                    "chunks": n,
                    "index": f"hnsw ef={ef}",
                    **hnsw_row,
                    "latency_ms_p50": round(statistics.median(latencies), 2),
                    "latency_ms_p95": round(sorted(latencies)[int(0.95 * len(latencies)) - 1], 2),
                    "recall_at_10_vs_flat": round(recall, 4),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        del hnsw
        del vectors
    print(
        f"{'chunks':>9} {'index':>13} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9} {'index MB':>9} {'RSS +MB':>8}"
    )
    for r in rows:
        print(
            f"{r['chunks']:>9} {r['index']:>13} {r['build_s']:>8} {r['latency_ms_p50']:>7} {r['latency_ms_p95']:>7} "
            f"{r['recall_at_10_vs_flat']:>9} {r['index_mb']:>9} {r['rss_growth_mb']:>8}"
        )
    Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
