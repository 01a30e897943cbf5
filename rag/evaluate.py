"""Score answers against an eval file (the schema of shared/eval/dev.jsonl).

Pure scoring functions (key facts, evidence, refusals, language) and a
runner that answers every question with the real pipeline and aggregates by
language and kind. It does not judge claims one by one: that is the
citation checker's job.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

from .errors import RagError
from .lang import detect_language


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def covered_groups(answer: str, key_facts: list[list[str]]) -> int:
    text = normalize(answer)
    return sum(1 for group in key_facts if any(normalize(option) in text for option in group))


def in_source(item: dict, source: str | None) -> bool:
    """A library question's evidence counts only from its own episode (the item's `source`, a file stem)."""
    return not item.get("source") or (source is not None and Path(source).stem == item["source"])


def holds_evidence(passage: str, evidence: str) -> bool:
    """A passage holds the evidence if it contains it (or either half, when a chunk boundary splits it)."""
    passage, evidence = " ".join(passage.split()), " ".join(evidence.split())
    if evidence in passage:
        return True
    half = len(evidence) // 2
    return len(evidence) >= 8 and (evidence[:half] in passage or evidence[half:] in passage)


def evidence_rank(passages: list[str], evidence: list[str]) -> int | None:
    for rank, passage in enumerate(passages, start=1):
        if any(holds_evidence(passage, e) for e in evidence):
            return rank
    return None


def first_retrieved_texts(record: dict, item: dict) -> list[str]:
    """The texts of the first attempt's hits (what retrieval found for the question), best first;
    a hit from another episode than the question's is kept as "" so ranks stay ranks."""
    attempts = record.get("attempts") or [{"retrieved": record.get("retrieved", [])}]
    return [h["text"] if in_source(item, h.get("source")) else "" for h in attempts[0]["retrieved"]]


def evidence_first(steps, items: list[dict]):
    """The answer steps with retrieval made perfect for the eval's answerable questions: the first chunk of the
    question's own transcript that holds its evidence is put first among the passages (the other top_k - 1
    hits follow), so an eval run shows how many answers the reading loses when retrieval loses none. Only the
    first attempt is changed; a question without evidence in any chunk keeps what the search found."""
    from dataclasses import replace

    from .retrieve import Hit

    by_question = {i["question"]: i for i in items if i.get("answerable", True) and i.get("evidence")}

    def retrieve(query, index, embedder, settings, exclude=frozenset()):
        hits = steps.retrieve(query, index, embedder, settings, exclude)
        item = by_question.get(query.question)
        if exclude or item is None:
            return hits
        own = (index.chunks[row] for name, (a, b) in index.rows.items() if in_source(item, name) for row in range(a, b))
        chunk = next((c for c in own if any(holds_evidence(c.text, e) for e in item["evidence"])), None)
        if chunk is None:
            return hits
        rest = [h for h in hits if h.chunk.id != chunk.id][: settings.top_k - 1]
        return [Hit(chunk, 1.0, 1)] + [Hit(h.chunk, h.score, rank) for rank, h in enumerate(rest, start=2)]

    return replace(steps, retrieve=retrieve)


SPLITS = ("all", "tune", "held-out")


def split_items(items: list[dict], split: str) -> list[dict]:
    """A fixed half of an eval set: within each (language, answerable) group, ordered by a hash of the id,
    every other question is "tune", the rest "held-out". Tune on one, report the other beside it."""
    if split == "all":
        return items
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for item in items:
        groups[(item.get("lang"), item.get("answerable", True))].append(item)
    chosen = set()
    for group in groups.values():
        ordered = sorted(group, key=lambda i: hashlib.sha256(str(i.get("id", i["question"])).encode()).hexdigest())
        chosen |= {id(i) for n, i in enumerate(ordered) if (n % 2 == 0) == (split == "tune")}
    return [i for i in items if id(i) in chosen]


def read_eval_file(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise RagError(f"the eval file {path} does not exist; give the path to a .jsonl file")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            item["question"]
        except (ValueError, KeyError, TypeError):
            raise RagError(f"{path} line {number} is not a JSON object with a question; fix that line") from None
        items.append(item)
    return items


def score(item: dict, record: dict, threshold: float | None = None) -> dict:
    """Per-question metrics for one answer, given as `rag ask --json` / `rag batch` output.

    When threshold is given (calibration), the answer was generated with refusals off and
    counts as refused if its refusal score reaches the threshold; the
    model's answer is kept (`model_answer`) so other thresholds can be scored.
    """
    from .lang import REFUSALS

    score_value = record.get("refusal_score")
    refused = record["refused"] or (threshold is not None and score_value is not None and score_value >= threshold)
    language = record.get("language") or detect_language(item["question"])
    shown = REFUSALS[language] if refused else record["answer"]
    evidence = item.get("evidence", [])
    answerable = item.get("answerable", True)
    key_facts = item.get("key_facts", [])
    citations = record.get("citations", [])
    claims = record.get("claims", [])
    result = {
        "id": item.get("id"),
        "lang": item.get("lang"),
        "kind": item.get("kind"),
        "answerable": answerable,
        "question": item["question"],
        "answer": shown,
        "model_answer": record["answer"],
        "refused": refused,
        "refusal_score": score_value,
        "evidence_rank": evidence_rank(first_retrieved_texts(record, item), evidence) if answerable else None,
        "answer_language_ok": detect_language(shown) == detect_language(item["question"]),
        "citations": [{"n": c["n"], "chunk_id": c["chunk_id"], "quote": c["quote"]} for c in citations],
        "claims": claims,
        "passages": [{"n": p["n"], "source": p.get("source"), "text": p["text"]} for p in record.get("passages", [])],
        "streamed": record.get("streamed", ""),
        "timings": record.get("timings", {}),
    }
    if answerable:
        facts_ok = not record["refused"] and covered_groups(record["answer"], key_facts) == len(key_facts)
        result["key_facts_ok_if_answered"] = facts_ok
        result["key_facts_ok"] = facts_ok and not refused
        result["cited_evidence"] = not refused and any(
            holds_evidence(c["text"], e) for c in citations if in_source(item, c.get("source")) for e in evidence
        )
        holding = {
            p["n"]
            for p in record.get("passages", [])
            if in_source(item, p.get("source")) and any(holds_evidence(p["text"], e) for e in evidence)
        }
        cited = {c["n"] for c in citations}
        result["citation_recall"] = None if refused or not holding else len(holding & cited) / len(holding)
        result["citation_precision"] = (
            None
            if refused or not cited
            else sum(
                1
                for c in citations
                if c.get("supported")
                or (in_source(item, c.get("source")) and any(holds_evidence(c["text"], e) for e in evidence))
            )
            / len(cited)
        )
    if not refused and claims:
        result["claims_kept"] = sum(c["supported"] for c in claims) / len(claims)  # the claim check's own view
    judged = record.get("judged") or []
    result["judged"] = judged
    if not refused and judged:
        result["faithfulness"] = sum(j["supported"] for j in judged) / len(judged)
    return result


def is_answer_record(data) -> bool:
    """Whether a line of `rag batch` output has the fields scoring reads, with their types."""

    def objects_with(values, *keys) -> bool:
        return isinstance(values, list) and all(isinstance(v, dict) and all(k in v for k in keys) for v in values)

    return (
        isinstance(data, dict)
        and isinstance(data.get("question"), str)
        and isinstance(data.get("answer"), str)
        and isinstance(data.get("refused"), bool)
        and objects_with(data.get("citations", []), "n", "chunk_id", "quote", "text")
        and objects_with(data.get("claims", []), "supported")
        and objects_with(data.get("passages", []), "n", "text")
    )


def score_answers(items: list[dict], answers_path: Path) -> tuple[list[dict], dict]:
    """Score answers already written by `rag batch` (matched by id, else by question text)."""
    records = {}
    for number, line in enumerate(Path(answers_path).read_text(encoding="utf-8").splitlines(), start=1):
        try:
            data = json.loads(line)
            if not is_answer_record(data):
                raise ValueError
            records[str(data["id"])] = data
            records.setdefault(data["question"], data)
        except (ValueError, KeyError, TypeError):
            print(f"{answers_path} line {number} is not an answer record; skipped", file=sys.stderr)
    results = []
    missing = []
    for item in items:
        record = records.get(str(item.get("id"))) or records.get(item["question"])
        if record is None:
            missing.append(item.get("id") or item["question"][:40])
            continue
        results.append(score(item, record))
    if not results:
        raise RagError(
            f"none of the eval questions has an answer in {answers_path}; run `rag batch` on the eval file first"
        )
    summary = aggregate(results)
    summary["unanswered_in_file"] = missing
    return results, summary


def calibrate(results: list[dict], thresholds=(0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)) -> list[dict]:
    """Key-fact accuracy, false refusals and unanswerable refusals at each refusal threshold."""
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    rows = []
    for t in thresholds:

        def refused(r, t=t):
            return r["refusal_score"] is not None and r["refusal_score"] >= t

        rows.append(
            {
                "threshold": t,
                "key_fact_accuracy": round(
                    sum(r["key_facts_ok_if_answered"] and not refused(r) for r in answerable) / max(1, len(answerable)),
                    3,
                ),
                "false_refusals": round(sum(refused(r) for r in answerable) / max(1, len(answerable)), 3),
                "refusal_accuracy": round(sum(refused(r) for r in unanswerable) / max(1, len(unanswerable)), 3),
            }
        )
    return rows


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a rate k/n; None without questions."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)


RATES = {  # name: (which results count, the outcome counted)
    "key_fact_accuracy": (lambda r: r["answerable"], lambda r: r["key_facts_ok"]),
    "refusal_accuracy": (lambda r: not r["answerable"], lambda r: r["refused"]),
    "false_refusals": (lambda r: r["answerable"], lambda r: r["refused"]),
    "cited_evidence": (lambda r: r["answerable"] and not r["refused"], lambda r: r["cited_evidence"]),
    "answer_language_match": (lambda r: not r["refused"], lambda r: r["answer_language_ok"]),
    "retrieval_recall_at_k": (lambda r: r["answerable"], lambda r: r["evidence_rank"] is not None),
}


def rates(results: list[dict]) -> dict[str, dict]:
    """Each rate with its count and 95% interval: {name: {"value", "k", "n", "ci"}}; value None without questions."""
    out = {}
    for name, (counted, outcome) in RATES.items():
        group = [r for r in results if counted(r)]
        k, n = sum(1 for r in group if outcome(r)), len(group)
        out[name] = {"value": round(k / n, 3) if n else None, "k": k, "n": n, "ci": wilson(k, n)}
    return out


def describe_rate(rate: dict) -> str:
    """'0.88 (22/25; 95% CI 0.70-0.96)', or 'n/a (no questions)'."""
    if not rate["n"]:
        return "n/a (no questions)"
    low, high = rate["ci"]
    return f"{rate['value']:.2f} ({rate['k']}/{rate['n']}; 95% CI {low:.2f}-{high:.2f})"


def judge_trust() -> dict | None:
    """How well the faithfulness judge agreed with hand labels (rag/data/judge_agreement.json), if measured."""
    path = Path(__file__).parent / "data" / "judge_agreement.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text(encoding="utf-8"))
    every = report["judge"]["all"]
    return {
        "labels": every["claims"],
        "accuracy": every["accuracy"],
        "unsupported_recall": every["unsupported_recall"],
        "unsupported_precision": every["unsupported_precision"],
        "held_out_accuracy": report["judge"].get("held_out", {}).get("accuracy"),
        "model": report["model"],
        "measured": report["measured"],
    }


def aggregate(results: list[dict]) -> dict:
    ttft = [r["timings"]["ttft_ms"] for r in results if r["timings"].get("ttft_ms") is not None]
    totals = sorted(r["timings"]["total_ms"] for r in results if r["timings"].get("total_ms") is not None)

    def mean_of(key):
        values = [r[key] for r in results if r.get(key) is not None]
        return round(sum(values) / len(values), 3) if values else None

    speeds = [r["timings"]["decode_tok_s"] for r in results if r["timings"].get("decode_tok_s")]
    counted = rates(results)
    summary = {
        "questions": len(results),
        **{name: rate["value"] for name, rate in counted.items()},
        "claims_checked": sum(len(r.get("claims", [])) for r in results),
        "claims_unsupported": sum(1 for r in results for c in r.get("claims", []) if not c["supported"]),
        "claims_re_pointed": sum(
            1
            for r in results
            for c in r.get("claims", [])
            if c["supported"] and c["cited_by_model"] and c["citations"][0] not in c["cited_by_model"]
        ),
        "faithfulness": mean_of("faithfulness"),  # the independent judge's (rag.judge), per answer
        "claims_judged": sum(len(r.get("judged", [])) for r in results),
        "claims_judged_unsupported": sum(1 for r in results for j in r.get("judged", []) if not j["supported"]),
        "claims_kept": mean_of("claims_kept"),  # the claim check's own verdicts: not a faithfulness measure
        "citation_precision": mean_of("citation_precision"),
        "citation_recall": mean_of("citation_recall"),
        "ttft_ms_p50": round(statistics.median(ttft), 1) if ttft else None,
        "total_ms_p50": round(statistics.median(totals), 1) if totals else None,
        "total_ms_p90": round(totals[int(0.9 * (len(totals) - 1))], 1) if totals else None,
        "decode_tok_s_median": round(statistics.median(speeds), 2) if speeds else None,
        "rates": counted,
        "judge_agreement": judge_trust(),
    }
    for key in ("lang", "kind"):
        groups = defaultdict(list)
        for r in results:
            groups[r[key]].append(r)
        summary[f"by_{key}"] = {
            name: {"questions": len(group), **{k: v["value"] for k, v in rates(group).items()}, "rates": rates(group)}
            for name, group in sorted(groups.items())
        }
    return summary


def retrieval_report(items: list[dict], index, embedder, settings, depth: int = 5, steps=None, generator=None) -> dict:
    """Recall@1/3/5 and MRR of the evidence in the retrieved chunks (from the question's episode, for
    library questions), the right episode in the top 5, latency; by language and kind. With a generator,
    questions are translated for searching as in answers (the latency then includes the translation)."""
    import time

    from .answer import STEPS, make_query

    steps = steps or STEPS
    deep = settings.replace(top_k=depth)

    rows = []
    for item in items:
        if not item.get("answerable", True):
            continue
        started = time.perf_counter()
        query = steps.translate(make_query(item["question"], index, deep), index, generator, deep)
        hits = steps.retrieve(query, index, embedder, deep)
        elapsed = (time.perf_counter() - started) * 1000
        texts = [h.chunk.text if in_source(item, h.chunk.source) else "" for h in hits]
        rank = evidence_rank(texts, item.get("evidence", []))
        episode = next(
            (r for r, h in enumerate(hits, 1) if item.get("source") and in_source(item, h.chunk.source)), None
        )
        rows.append(
            {
                "id": item.get("id"),
                "lang": item.get("lang"),
                "kind": item.get("kind"),
                "rank": rank,
                "episode_rank": episode,
                "ms": elapsed,
            }
        )

    def figures(group):
        if not group:  # no answerable question: nothing to find
            return {
                "questions": 0,
                **dict.fromkeys(["recall_at_1", "recall_at_3", "recall_at_5", "mrr", "episode_at_5"]),
            }
        ranks = [r["rank"] for r in group]
        return {
            "questions": len(group),
            **{f"recall_at_{k}": round(sum(1 for x in ranks if x and x <= k) / len(group), 3) for k in (1, 3, 5)},
            "mrr": round(sum(1 / x for x in ranks if x) / len(group), 3),
            "episode_at_5": round(
                sum(1 for r in group if r["episode_rank"] and r["episode_rank"] <= 5) / len(group), 3
            ),
        }

    report = {**figures(rows), "latency_ms_p50": round(statistics.median(r["ms"] for r in rows), 1) if rows else None}
    report["misses_at_5"] = [r["id"] for r in rows if not r["rank"]]
    for key in ("lang", "kind"):
        groups = defaultdict(list)
        for r in rows:
            groups[r[key]].append(r)
        report[f"by_{key}"] = {name: figures(group) for name, group in sorted(groups.items())}
    return report


def run_eval(
    items: list[dict],
    index,
    embedder,
    generator,
    settings,
    progress=True,
    steps=None,
    calibration=False,
    judge=True,
    perfect_retrieval=False,
) -> tuple[list[dict], dict]:
    """Answer every item as `rag ask` would and aggregate; with judge, each claim an answer shows is also
    judged against the passage it cites by the independent judge (rag.judge), which gives `faithfulness`.

    With calibration, every question is answered from its first passages whatever the answerability
    score (no refusal, no second chance), refusals are scored offline at the configured threshold, and
    the summary gets a table of other thresholds (to choose a model's threshold, models.md).

    With perfect_retrieval, each answerable question's evidence is put first among its passages
    (`evidence_first`); recall@1/3/5 and MRR still come from the real search.
    """
    from .answer import STEPS, ask
    from .judge import judge_answer
    from .models import refusal_threshold

    threshold = refusal_threshold(settings)
    run_with = settings.replace(refusal_threshold=2.0, second_chance=False) if calibration else settings
    steps = steps or STEPS
    answer_steps = evidence_first(steps, items) if perfect_retrieval else steps
    results = []
    for number, item in enumerate(items, start=1):
        answer = ask(item["question"], index, embedder, generator, run_with, steps=answer_steps)
        record = answer.to_json()
        if judge and not answer.refused:
            record["judged"] = judge_answer(generator, record, embedder)
        results.append(score(item, record, threshold if calibration else None))
        if progress:
            r = results[-1]
            mark = "refused" if r["refused"] else ("ok" if r.get("key_facts_ok") else "-")
            print(
                f"[{number}/{len(items)}] {item.get('id')} {mark}: {answer.answer[:70]!r}", file=sys.stderr, flush=True
            )
    summary = aggregate(results)
    retrieval = retrieval_report(items, index, embedder, settings, steps=steps, generator=generator)
    summary.update({f"retrieval_recall_at_{k}": retrieval[f"recall_at_{k}"] for k in (1, 3, 5)})
    summary["retrieval_mrr"] = retrieval["mrr"]
    summary["refusal_threshold"] = threshold
    if perfect_retrieval:
        summary["perfect_retrieval"] = True
    if calibration:
        summary["calibration"] = calibrate(results)
    return results, summary
