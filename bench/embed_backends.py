"""Embedding backends side by side: PyTorch, ONNX Runtime fp32 (the default) and ONNX Runtime int8.

For each, in one run: load time, index build on the seed, passage throughput
on the seed's chunks, single-query latency on the dev questions, the lowest
cosine to PyTorch's vectors, and retrieval recall@1/3/5 and MRR on the dev
set (index rebuilt with that backend, hybrid retrieval as shipped). A backend
is adopted only if its recall stays within 0.01 of PyTorch's and it is
faster. The int8 model is exported into a temporary copy of the model folder.

    .venv/bin/python bench/embed_backends.py

Writes bench/embed_backends.json and prints a table.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    from rag.embed import OnnxEmbedder, load_embedder
    from rag.evaluate import retrieval_report
    from rag.models import embedder_path
    from rag.onnxexport import INT8_FILE, export_onnx
    from rag.settings import Settings
    from rag.store import build_index

    dev = [json.loads(line) for line in (ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text().splitlines()]
    rows, reference = [], None
    with tempfile.TemporaryDirectory(prefix="rag-embed-bench-") as work:
        base = Settings.load()
        copy = Path(work) / "e5-int8"
        shutil.copytree(embedder_path(base), copy, ignore=shutil.ignore_patterns("onnx"))
        export_onnx(copy, {}, int8=True)
        for backend in ("torch", "onnx", "onnx-int8"):
            settings = base.replace(index_dir=Path(work) / backend, embed_backend=backend)
            started = time.perf_counter()
            if backend == "onnx-int8":
                embedder = OnnxEmbedder(copy, copy / INT8_FILE, name=base.embedder, threads=base.threads)
            else:
                embedder = load_embedder(settings)
            load_s = time.perf_counter() - started
            started = time.perf_counter()
            index = build_index(settings, embedder)
            build_s = time.perf_counter() - started
            texts = [c.text for c in index.chunks]
            rounds = []
            for _ in range(3):
                started = time.perf_counter()
                vectors = embedder.embed_passages(texts)
                rounds.append(time.perf_counter() - started)
            query_ms = []
            for item in dev:
                started = time.perf_counter()
                embedder.embed_queries([item["question"]])
                query_ms.append((time.perf_counter() - started) * 1000)
            reference = vectors if reference is None else reference
            report = retrieval_report(dev, index, embedder, settings)
            row = {
                "backend": backend,
                "load_s": round(load_s, 2),
                "seed_index_build_s": round(build_s, 2),
                "passages_per_s": round(len(texts) / statistics.median(rounds), 1),
                "query_ms_p50": round(statistics.median(query_ms), 1),
                "cosine_to_torch_min": round(float(np.min(np.sum(vectors * reference, axis=1))), 4),
                **{k: report[k] for k in ("recall_at_1", "recall_at_3", "recall_at_5", "mrr")},
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    (ROOT / "bench" / "embed_backends.json").write_text(json.dumps(rows, indent=1))
    print(" | ".join(rows[0]))
    for row in rows:
        print(" | ".join(str(v) for v in row.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
