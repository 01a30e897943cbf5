"""llama.cpp settings measured one at a time on a real RAG prompt: what the defaults are based on.

From the defaults in rag/settings.py (all cores, n_batch = n_ubatch 512,
n_ctx 4096, flash attention on), each setting is varied alone: n_threads
(= n_threads_batch), n_batch, n_ctx, flash attention. For each variant and
chat model: time to first token on the RAG prompt of a dev question (the
whole prompt evaluated from an empty context, as for a new question without
the cached system prompt; median of 3) and decode speed (64 tokens,
llama.cpp's own counters). Also the time saved by the cached system prompt
(rag.generate's `prime`). Writes bench/sweep.json and prints a table.

    .venv/bin/python bench/sweep.py [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rag_prompt(settings):
    """The messages the pipeline sends for the first dev question."""
    from rag.answer import build_messages
    from rag.context import assemble
    from rag.embed import load_embedder
    from rag.lang import detect_language
    from rag.retrieve import retrieve
    from rag.store import load_index

    question = json.loads((ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text().splitlines()[0])["question"]
    embedder = load_embedder(settings)
    index = load_index(settings, embedder.name, embedder.dim)
    hits = retrieve(index, embedder, question, settings.top_k, settings.lexical_weight)
    return build_messages(question, assemble(hits, index, settings.passage_max_chars), detect_language(question))


def measure(settings, messages, primed: bool = False) -> dict:
    import llama_cpp

    from rag.answer import SYSTEM_PROMPT
    from rag.generate import load_generator

    generator = load_generator(settings)
    llm = generator.llm
    ttft = []
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(3):
            llm.reset()
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm.ctx), True)
            if primed:
                generator.prime(SYSTEM_PROMPT, Path(cache))
            started = time.perf_counter()
            llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0)
            ttft.append(time.perf_counter() - started)
    prompt_tokens = llm.n_tokens - 1
    llama_cpp.llama_perf_context_reset(llm.ctx)
    llm.create_completion("Once upon a time", max_tokens=64, temperature=0, seed=0)
    perf = llama_cpp.llama_perf_context(llm.ctx)
    del generator, llm
    return {
        "ttft_s": round(statistics.median(ttft), 3),
        "prompt_tokens": prompt_tokens,
        "decode_tok_s": round(perf.n_eval / perf.t_eval_ms * 1000, 1) if perf.t_eval_ms else None,
    }


def main() -> int:
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--out", default=str(ROOT / "bench" / "sweep.json"))
    args = parser.parse_args()
    base = Settings.load()
    messages = rag_prompt(base)
    cores = base.threads
    variants = [("defaults", {})]
    variants += [(f"n_threads {n}", {"n_threads": n}) for n in sorted({1, cores, cores * 2} - {cores})]
    variants += [(f"n_batch {n}", {"n_batch": n}) for n in (64, 128, 256, 1024)]
    variants += [(f"n_ctx {n}", {"n_ctx": n}) for n in (2048, 8192)]
    variants += [("flash attention off", {"flash_attn": 0})]
    rows = []
    for name in args.models:
        for label, change in variants + [("defaults + cached system prompt", {"primed": True})]:
            primed = change.pop("primed", False)
            figures = measure(base.replace(model=name, **change), messages, primed)
            row = {"model": name, "variant": label, **figures}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    print("model | variant | TTFT s | prompt tokens | decode tok/s")
    for row in rows:
        print(f"{row['model']} | {row['variant']} | {row['ttft_s']} | {row['prompt_tokens']} | {row['decode_tok_s']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
