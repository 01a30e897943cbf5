import json

import pytest

from rag.batch import done_ids, read_questions, run_batch, write_tables
from rag.errors import RagError

from .conftest import FakePipeline


def test_three_input_formats_and_bad_lines(tmp_path):
    (tmp_path / "q.txt").write_text("First?\n\n  Second?  \n")
    (tmp_path / "q.jsonl").write_text(
        '{"id": "a", "question": "First?"}\nnot json\n{"question": ""}\n{"question": "Third?"}\n{"id": "a", "question": "Dup?"}\n'
    )
    (tmp_path / "q.csv").write_text("id,question\nx,First?\ny,\n,Third?\n")
    txt, _ = read_questions(tmp_path / "q.txt")
    assert [(q.id, q.question) for q in txt] == [("line-1", "First?"), ("line-3", "Second?")]
    jsonl, problems = read_questions(tmp_path / "q.jsonl")
    assert [(q.id, q.question) for q in jsonl] == [("a", "First?"), ("line-4", "Third?")]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 5"]
    csv_questions, problems = read_questions(tmp_path / "q.csv")
    assert [(q.id, q.question) for q in csv_questions] == [("x", "First?"), ("line-4", "Third?")]
    assert problems == ["line 3: empty question; skipped"]
    (tmp_path / "q.doc").write_text("x")
    with pytest.raises(RagError, match="not .txt"):
        read_questions(tmp_path / "q.doc")


def test_resume_after_interruption_loses_nothing(tmp_path, fake_settings, fake_index):
    (tmp_path / "q.txt").write_text("脳の消費電力は？\ninterrupt\n三番目の質問？\n")
    questions, _ = read_questions(tmp_path / "q.txt")
    output = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch(FakePipeline(fake_settings, fake_index, fail_on={"interrupt"}), questions, output, log=lambda m: None)
    assert done_ids(output) == {"line-1"}
    with open(output, "a") as handle:
        handle.write('{"id": "torn')  # an interrupted write
    again = FakePipeline(fake_settings, fake_index)
    summary = run_batch(again, questions, output, log=lambda m: None)
    assert again.asked == ["interrupt", "三番目の質問？"]
    assert summary["skipped"] == 1 and summary["answered"] + summary["refused"] == 2
    records = [json.loads(line) for line in output.read_text().splitlines() if line.startswith('{"id": "line')]
    assert [r["id"] for r in records] == ["line-1", "line-2", "line-3"]
    assert {"question", "answer", "refused", "citations", "claims", "model", "timings"} <= set(records[0])


def test_failures_are_reported_and_the_rest_goes_on(tmp_path, fake_settings, fake_index):
    (tmp_path / "q.txt").write_text("bad\n脳の消費電力は？\n")
    questions, _ = read_questions(tmp_path / "q.txt")
    messages = []
    summary = run_batch(
        FakePipeline(fake_settings, fake_index, fail_on={"bad"}), questions, tmp_path / "o.jsonl", log=messages.append
    )
    assert summary["failed"] == 1 and summary["failures"] == ["line 1 (line-1): cannot answer bad"]
    assert done_ids(tmp_path / "o.jsonl") == {"line-2"}
    write_tables(tmp_path / "o.jsonl", tmp_path / "o.csv", tmp_path / "o.md")
    assert (tmp_path / "o.csv").read_text().startswith("id,question,answer,refused,citations")
    assert "| line-2 | 脳の消費電力は？ |" in (tmp_path / "o.md").read_text()
