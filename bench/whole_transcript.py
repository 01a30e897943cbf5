"""Trial: the whole transcript in the prompt, its KV state evaluated once and kept on disk.

Instead of retrieving four passages per question, the model gets every
passage of the transcript (consecutive, non-overlapping, ~240 characters of
whole sentences, numbered [1]..[n]) in a prompt prefix that is the same for
every question; its KV state is evaluated once, saved to disk and loaded, so
a question pays only for its own tokens. Everything after the prompt is the
shipped pipeline (refusal score, claim check over the cited passages,
scoring). Measures the one-time cost, the state file, and answer quality and
speed on the dev set, to compare with `rag eval` on the same session.

    .venv/bin/python bench/whole_transcript.py [--model qwen2.5-coder-1.5b] [--limit 30]

Writes bench/whole_transcript.json. Not used by the product: see models.md
for the result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def segments(index, budget: int) -> list:
    """Consecutive passages of whole sentences, about `budget` characters each, covering every transcript."""
    from rag.context import Passage

    passages = []
    for source, transcript in index.transcripts.items():
        group: list = []
        for sentence in transcript.sentences:
            group.append(sentence)
            if sum(s.end - s.start for s in group) >= budget or sentence is transcript.sentences[-1]:
                start, end = group[0].start, group[-1].end
                passages.append(
                    Passage(
                        source,
                        start,
                        end,
                        transcript.text[start:end],
                        tuple(group),
                        (f"{Path(source).stem}#p{len(passages)}",),
                        start / max(1, len(transcript.text)),
                        len(passages) + 1,
                    )
                )
                group = []
    return passages


def main() -> int:

    import dataclasses

    import rag.answer as answer
    from rag.evaluate import run_eval
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--n-ctx", type=int, default=8192)
    args = parser.parse_args()

    settings = Settings.load(model=args.model, n_ctx=args.n_ctx)
    pipeline = Pipeline.load(settings)
    generator = pipeline.generator(settings)
    llm = generator.llm
    passages = segments(pipeline.index, settings.chunk_chars)
    numbered = "\n\n".join(f"[{n}] {answer.neutralize_instructions(p.text)}" for n, p in enumerate(passages, 1))
    prefix_text = f"Passages from the transcript:\n<passages>\n{numbered}\n</passages>\n\n"

    def build_messages(query, _passages):
        question, language, notes = query.question, query.language, query.notes
        note = "".join(f"Note: {n}\n" for n in notes) + ("\n" if notes else "")
        user = (
            f"{prefix_text}{note}Question: <question>{question}</question>\n\n"
            f"Answer in {answer.LANGUAGE_NAMES[language]}, citing the passages like [1]. "
            f"If the passages do not answer the question, reply NOT_FOUND."
        )
        return [{"role": "system", "content": answer.SYSTEM_PROMPT}, {"role": "user", "content": user}]

    steps = dataclasses.replace(answer.STEPS, prompt=build_messages, passages=lambda hits, index, settings: passages)

    # The shared prefix: the common start of two prompts that differ only in the question.
    started = time.perf_counter()
    probes = (answer.Query(probe, "en", probe) for probe in "ab")
    tokens = generator.evaluate_shared_prefix(*(build_messages(probe, passages) for probe in probes))
    prefix_eval_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as work:
        state = Path(work) / "transcript.kv"
        started = time.perf_counter()
        assert generator.save_prefix(state, tokens)
        save_s = time.perf_counter() - started
        state_mb = state.stat().st_size / 1e6
        started = time.perf_counter()
        assert generator.load_prefix(state) and llm.n_tokens == len(tokens)
        load_s = time.perf_counter() - started

    dev = [json.loads(line) for line in (ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text().splitlines()]
    results, summary = run_eval(dev[: args.limit], pipeline.index, pipeline.embedder, generator, settings, steps=steps)
    report = {
        "model": args.model,
        "passages": len(passages),
        "prefix_tokens": len(tokens),
        "prefix_eval_s": round(prefix_eval_s, 1),  # both probe prompts; the second reuses the first's prefix
        "state_file_mb": round(state_mb, 1),
        "state_save_s": round(save_s, 2),
        "state_load_s": round(load_s, 2),
        **{k: v for k, v in summary.items() if k != "calibration"},
        "calibration": summary["calibration"],
    }
    (ROOT / "bench" / "whole_transcript.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
