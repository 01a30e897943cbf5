import json

from rag.report import compare, worst, write_report


def result(qid, answerable=True, refused=False, ok=True, removed=0):
    return {
        "id": qid,
        "lang": "en",
        "kind": "fact",
        "answerable": answerable,
        "question": "q?",
        "answer": "a <b>",
        "refused": refused,
        "key_facts_ok": ok,
        "citations": [{"n": 1, "chunk_id": "c#1", "quote": "x"}],
        "claims": [{"text": "t", "supported": False}] * removed,
        "timings": {"total_ms": 1000.0},
    }


def test_report_files_and_worst_questions(tmp_path):
    results = [
        result("good"),
        result("missed", ok=False),
        result("wrongly-refused", refused=True),
        result("unrefused", answerable=False),
    ]
    summary = {
        "questions": 4,
        "key_fact_accuracy": 0.33,
        "faithfulness": 0.9,
        "by_lang": {"en": {"questions": 4, "key_fact_accuracy": 0.33, "refusal_accuracy": 0.0}},
    }
    written = write_report(tmp_path, results, summary)
    assert json.loads((tmp_path / "report.json").read_text())["key_fact_accuracy"] == 0.33
    assert {"metrics.png", "latency.png", "report.md", "report.html"} <= set(written)
    assert [r["id"] for r in worst(results)] == ["wrongly-refused", "unrefused", "missed"]
    assert "a &lt;b&gt;" in (tmp_path / "report.html").read_text()
    assert "**missed**" in (tmp_path / "report.md").read_text()


def test_compare_flags_regressions_beyond_tolerance():
    before = {"key_fact_accuracy": 0.80, "false_refusals": 0.04, "ttft_ms_p50": 3000.0, "faithfulness": 0.95}
    after = {"key_fact_accuracy": 0.78, "false_refusals": 0.12, "ttft_ms_p50": 3300.0, "faithfulness": 0.95}
    rows, regressed = compare(before, after, tolerance=0.05)
    flags = {r["metric"]: r["regressed"] for r in rows}
    assert flags == {"key_fact_accuracy": False, "faithfulness": False, "false_refusals": True, "ttft_ms_p50": False}
    assert regressed
    assert not compare(before, before)[1]
