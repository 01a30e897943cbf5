"""What each answer step costs before the first token, on the seed (one process, one run, ratios).

    .venv/bin/python bench/step_costs.py [--model qwen2.5-coder-1.5b] [--questions 12]

For each answerable Japanese dev question (no translation needed), from the
primed system prompt: the answerability check alone, the answer's first
token after the check (the passages already in the context), and the answer's
first token with no check (what the pipeline cost before the check); plus the
translation of each English and French question. Writes bench/step_costs.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def first_token_seconds(generator, messages) -> float:
    started = time.perf_counter()
    for _ in generator.stream(messages, 1, 0.0):
        break
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--questions", type=int, default=12)
    args = parser.parse_args()

    from rag.answer import STEPS, SYSTEM_PROMPT, make_query
    from rag.evaluate import read_eval_file
    from rag.generate import load_generator
    from rag.pipeline import load_search
    from rag.settings import Settings
    from rag.translate import translate

    settings = Settings.load(**({"model": args.model} if args.model else {}))
    embedder, index = load_search(settings)
    generator = load_generator(settings, SYSTEM_PROMPT)
    primed = generator.llm.save_state()
    items = read_eval_file(ROOT.parent / "shared" / "eval" / "dev.jsonl")
    rows = []
    for item in [i for i in items if i["lang"] == "ja" and i.get("answerable", True)][: args.questions]:
        query = make_query(item["question"], index, settings)
        started = time.perf_counter()
        passages = STEPS.passages(STEPS.retrieve(query, index, embedder, settings), index, settings)
        retrieve_s = time.perf_counter() - started
        prompt = STEPS.prompt(query, passages)
        generator.llm.load_state(primed)
        started = time.perf_counter()
        STEPS.answerable(generator, query, passages)
        check_s = time.perf_counter() - started
        after_check_s = first_token_seconds(generator, prompt)
        generator.llm.load_state(primed)
        alone_s = first_token_seconds(generator, prompt)
        rows.append(
            {
                "id": item["id"],
                "prompt_tokens": generator.count_tokens(prompt[1]["content"]),
                "retrieve_s": retrieve_s,
                "check_s": check_s,
                "answer_after_check_s": after_check_s,
                "answer_without_check_s": alone_s,
            }
        )
    translations = []
    for item in [i for i in items if i["lang"] in ("en", "fr")][: args.questions]:
        started = time.perf_counter()
        translate(generator, item["question"], "ja")
        translations.append(time.perf_counter() - started)

    def median(key):
        return round(statistics.median(r[key] for r in rows), 2)

    report = {
        "model": generator.name,
        "questions": len(rows),
        "prompt_tokens_median": median("prompt_tokens"),
        "retrieve_s": median("retrieve_s"),
        "check_s": median("check_s"),
        "answer_first_token_after_check_s": median("answer_after_check_s"),
        "ttft_with_check_s": round(statistics.median(r["check_s"] + r["answer_after_check_s"] for r in rows), 2),
        "ttft_without_check_s": median("answer_without_check_s"),
        "translate_s": round(statistics.median(translations), 2) if translations else None,
        "rows": rows,
    }
    (ROOT / "bench" / "step_costs.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
