"""How far the faithfulness judge can be trusted: its verdicts against claims labelled by hand.

    .venv/bin/python bench/judge_agreement.py [--model qwen2.5-coder-1.5b]

Reads tests/data/judge_labels.jsonl (claims from answers on the seed and on
the podcast library, each labelled supported or not by reading the passage it
cites; the passages are read back from seeds/ and ../shared/corpus by their
offsets), asks the judge (rag.judge) about every claim, and writes the
agreement (accuracy, precision and recall on the unsupported claims; all, by
corpus, and without the "meta" sentences) to rag/data/judge_agreement.json,
which `rag eval` prints beside the faithfulness it measures. The claim
check's own verdicts on the same claims (recorded when they were answered)
are scored the same way, for comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def passage_text(label: dict, cache: dict) -> str:
    from rag.ingest import read_transcript

    folder = ROOT / "seeds" if label["corpus"] == "seed" else ROOT.parent / "shared" / "corpus" / "twiml-vtt"
    if label["source"] not in cache:
        cache[label["source"]] = read_transcript(folder / label["source"]).text
    text = cache[label["source"]]
    return "\n\n".join(text[a:b] for a, b in label["spans"])


def choose_weight(rows: list[dict], half) -> None:
    """For each weight of the gain, the threshold with the best accuracy on the tune half, and both halves'."""
    from rag.judge import combined_score

    def score(row, weight):
        return combined_score(row["p_yes"], row["gain"], weight)

    def accuracy(group, weight, threshold):
        return sum((score(r, weight) >= threshold) == r["supported"] for r in group) / len(group)

    tune, held = [r for r in rows if half(r) == "tune"], [r for r in rows if half(r) != "tune"]
    for weight in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        thresholds = sorted({round(score(r, weight), 2) for r in tune})
        best = max(thresholds, key=lambda t: accuracy(tune, weight, t))
        print(
            f"weight {weight}: threshold {best}, accuracy tune {accuracy(tune, weight, best):.3f} "
            f"held-out {accuracy(held, weight, best):.3f}",
            file=sys.stderr,
        )


def main() -> int:
    from rag.answer import SYSTEM_PROMPT
    from rag.embed import load_embedder
    from rag.generate import load_generator
    from rag.judge import SUPPORTED_FROM, Verdict, agreement, judge_claim
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--labels", default=str(ROOT / "tests" / "data" / "judge_labels.jsonl"))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="score the readings in bench/judge_agreement.jsonl again at today's threshold (no model; keeps the time measured)",
    )
    parser.add_argument(
        "--choose", action="store_true", help="also print the best threshold on the tune half for each gain weight"
    )
    args = parser.parse_args()

    labels = [json.loads(line) for line in Path(args.labels).read_text(encoding="utf-8").splitlines()]
    rows, seconds = [], 0.0
    report_path = ROOT / "rag" / "data" / "judge_agreement.json"
    earlier_seconds = json.loads(report_path.read_text())["seconds_per_claim"] if report_path.exists() else None
    if args.reuse:
        earlier = [json.loads(line) for line in (ROOT / "bench" / "judge_agreement.jsonl").read_text().splitlines()]
        for label, verdict in zip(labels, earlier, strict=True):
            again = Verdict(label["claim"], verdict["p_yes"], verdict["gain"])
            rows.append({**label, "p_yes": again.p_yes, "gain": again.gain, "judge": again.supported})
    else:
        settings = Settings.load(model=args.model)
        generator, embedder = load_generator(settings, SYSTEM_PROMPT), load_embedder(settings)
        cache: dict = {}
        started = time.perf_counter()
        for label in labels:
            verdict = judge_claim(generator, label["claim"], passage_text(label, cache), label["question"], embedder)
            rows.append(
                {**label, "p_yes": round(verdict.p_yes, 4), "gain": round(verdict.gain, 4), "judge": verdict.supported}
            )
        seconds = time.perf_counter() - started

    def scores(group: list[dict], key: str) -> dict:
        return agreement([r[key] for r in group], [r["supported"] for r in group])

    def half(row: dict) -> str:  # a fixed half of the labels, to choose SUPPORTED_FROM on
        return (
            "tune" if int(hashlib.sha256((row["id"] + row["claim"]).encode()).hexdigest(), 16) % 2 == 0 else "held-out"
        )

    if args.choose:
        choose_weight(rows, half)

    report = {
        "model": args.model,
        "labels": len(rows),
        "supported_from": SUPPORTED_FROM,
        "seconds_per_claim": round(seconds / len(rows), 2) if seconds else earlier_seconds,
        "judge": {
            "all": scores(rows, "judge"),
            "tune": scores([r for r in rows if half(r) == "tune"], "judge"),
            "held_out": scores([r for r in rows if half(r) == "held-out"], "judge"),
            "seed": scores([r for r in rows if r["corpus"] == "seed"], "judge"),
            "library": scores([r for r in rows if r["corpus"] == "library"], "judge"),
            "without_meta": scores([r for r in rows if not r["meta"]], "judge"),
        },
        "claim_check": {
            "all": scores(rows, "claim_check"),
            "without_meta": scores([r for r in rows if not r["meta"]], "claim_check"),
        },
        "measured": time.strftime("%Y-%m-%d"),
    }
    report_path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    (ROOT / "bench" / "judge_agreement.jsonl").write_text(
        "".join(
            json.dumps({k: r[k] for k in ("id", "claim", "supported", "p_yes", "gain", "judge")}, ensure_ascii=False)
            + "\n"
            for r in rows
        ),
        encoding="utf-8",
    )
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
