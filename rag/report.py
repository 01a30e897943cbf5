"""Write an evaluation's report (JSON, Markdown, HTML, PNG plots) and compare two reports.

Input is what `rag.evaluate.run_eval` returns: per-question results and the
aggregate summary. `write_report` puts report.json (the summary, metric names
at top level), report.md, report.html, metrics.png (metrics by language and
kind) and latency.png (histogram) in a folder, with a table of the worst
questions. `compare` lists each metric's change between two report.json
files and says which ones regressed beyond a tolerance.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from .errors import RagError

HIGHER_IS_BETTER = [
    "key_fact_accuracy",
    "refusal_accuracy",
    "faithfulness",
    "citation_precision",
    "citation_recall",
    "cited_evidence",
    "answer_language_match",
    "retrieval_recall_at_1",
    "retrieval_recall_at_3",
    "retrieval_recall_at_5",
    "retrieval_mrr",
]
LOWER_IS_BETTER = ["false_refusals", "ttft_ms_p50", "total_ms_p50", "total_ms_p90"]


def worst(results: list[dict], count: int = 8) -> list[dict]:
    """Questions that went worst: wrong refusals, unanswered refusals, missing key facts, removed claims."""

    def badness(r):
        if r["answerable"]:
            return (2 if r["refused"] else 1 if not r.get("key_facts_ok") else 0) + sum(
                not c["supported"] for c in r.get("claims", [])
            )
        return 2 if not r["refused"] else 0

    return [r for r in sorted(results, key=badness, reverse=True) if badness(r) > 0][:count]


def _plots(summary: dict, results: list[dict], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    groups = [
        (f"{key[3:]}={name}", values) for key in ("by_lang", "by_kind") for name, values in summary.get(key, {}).items()
    ]
    if groups:
        metrics = ["key_fact_accuracy", "refusal_accuracy"]
        figure, axis = plt.subplots(figsize=(9, 3.6))
        width = 0.38
        for i, metric in enumerate(metrics):
            values = [g[1].get(metric) or 0 for g in groups]
            axis.bar([x + i * width for x in range(len(groups))], values, width, label=metric)
        axis.set_xticks([x + width / 2 for x in range(len(groups))], [g[0] for g in groups], rotation=20)
        axis.set_ylim(0, 1.05)
        axis.legend()
        axis.set_title("Accuracy by language and kind")
        figure.tight_layout()
        figure.savefig(folder / "metrics.png", dpi=110)
        plt.close(figure)
        written.append("metrics.png")
    totals = [r["timings"]["total_ms"] / 1000 for r in results if r["timings"].get("total_ms")]
    if totals:
        figure, axis = plt.subplots(figsize=(6, 3))
        axis.hist(totals, bins=min(15, len(totals)))
        axis.set_xlabel("seconds per answer")
        axis.set_ylabel("questions")
        axis.set_title("Answer latency")
        figure.tight_layout()
        figure.savefig(folder / "latency.png", dpi=110)
        plt.close(figure)
        written.append("latency.png")
    return written


def _headline(summary: dict) -> list[tuple[str, object]]:
    return [
        (k, summary[k])
        for k in HIGHER_IS_BETTER + LOWER_IS_BETTER + ["questions", "claims_checked", "claims_unsupported"]
        if k in summary
    ]


def read_report(path: Path) -> dict:
    """A report.json that `rag eval --out DIR` wrote; RagError naming the fix when the file is not one."""
    path = Path(path)
    fix = "give a report.json written by `rag eval FILE --out DIR`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(f"the report {path} does not exist; {fix}") from None
    except IsADirectoryError:
        raise RagError(f"the report {path} is a folder; {fix} (the report.json inside it)") from None
    except OSError as error:
        raise RagError(f"cannot read the report {path} ({error.strerror or error}); {fix}") from None
    except (ValueError, RecursionError):
        raise RagError(f"the report {path} is not valid JSON; {fix}") from None
    if not isinstance(data, dict):
        raise RagError(f"the report {path} is not a JSON object of metrics; {fix}")
    return data


def write_report(folder: Path, results: list[dict], summary: dict) -> list[str]:
    """Write the report files in folder; RagError when the folder cannot take them."""
    try:
        return _write_report(Path(folder), results, summary)
    except OSError as error:
        from .store import why_not_written

        raise RagError(
            f"cannot write the report in {folder}: {why_not_written(error)}; free some disk space, "
            "fix the folder's permissions or choose another --out"
        ) from None


def _write_report(folder: Path, results: list[dict], summary: dict) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "results.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8"
    )
    plots = _plots(summary, results, folder)
    bad = worst(results)

    md = ["# Evaluation report", "", "| metric | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in _headline(summary)]
    trust = summary.get("judge_agreement")
    if trust and summary.get("faithfulness") is not None:
        md += [
            "",
            f"Faithfulness is the independent judge's verdict (the chat model asked per claim). Against "
            f"{trust['labels']} hand-labelled claims it agreed on {trust['accuracy']:.0%} "
            f"({trust['held_out_accuracy']:.0%} on the half not used to tune it) and found "
            f"{trust['unsupported_recall']:.0%} of the unsupported claims: treat it as a rough measure.",
        ]
    for key in ("by_lang", "by_kind"):
        md += ["", f"## {key[3:]}", "", "| group | questions | key facts | refusals |", "|---|---|---|---|"]
        md += [
            f"| {name} | {g['questions']} | {g['key_fact_accuracy']} | {g['refusal_accuracy']} |"
            for name, g in summary.get(key, {}).items()
        ]
    md += ["", "## Worst questions", ""]
    for r in bad:
        removed = [c["text"] for c in r.get("claims", []) if not c["supported"]]
        cited = ", ".join("[{}] {}".format(c["n"], c["chunk_id"]) for c in r["citations"]) or "none"
        md += [
            f"- **{r['id']}** ({r['lang']}, {r['kind']}) {r['question']}",
            f"  - answer: {r['answer']}",
            f"  - citations: {cited}",
        ]
        md += [f"  - removed as unsupported: {t}" for t in removed]
    md += [""] + [f"![{p}]({p})" for p in plots]
    (folder / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in _headline(summary))
    worst_rows = "".join(
        f"<tr><td>{html.escape(str(r['id']))}</td><td>{html.escape(r['question'])}</td><td>{html.escape(r['answer'])}</td>"
        f"<td>{html.escape(', '.join(c['chunk_id'] for c in r['citations']))}</td></tr>"
        for r in bad
    )
    images = "".join(f'<p><img src="{p}" alt="{p}"></p>' for p in plots)
    page = (
        "<!doctype html><meta charset='utf-8'><title>Evaluation report</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse;margin:1em 0}</style><h1>Evaluation report</h1>"
        f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>{images}<h2>Worst questions</h2>"
        f"<table><tr><th>id</th><th>question</th><th>answer</th><th>citations</th></tr>{worst_rows}</table>"
    )
    (folder / "report.html").write_text(page, encoding="utf-8")
    return ["report.json", "results.jsonl", "report.md", "report.html", *plots]


def compare(
    before: dict, after: dict, tolerance: float = 0.05, latency_tolerance: float = 0.25
) -> tuple[list[dict], bool]:
    """Each shared metric's change; regressed when worse by more than tolerance (latency: by a relative share)."""
    rows, regressed = [], False
    for key in HIGHER_IS_BETTER + LOWER_IS_BETTER:
        a, b = before.get(key), after.get(key)
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            continue
        change = b - a
        if key.endswith(("_ms_p50", "_ms_p90")):
            bad = a > 0 and change / a > latency_tolerance
        elif key in LOWER_IS_BETTER:
            bad = change > tolerance
        else:
            bad = -change > tolerance
        regressed |= bad
        rows.append({"metric": key, "before": a, "after": b, "change": round(change, 4), "regressed": bad})
    return rows, regressed
