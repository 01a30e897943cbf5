"""Answer a list of questions into a JSONL file, resumably.

Input: `.txt` (one question a line), `.jsonl` (objects with `question` and
optional `id`) or `.csv` (a `question` column, optional `id`). Each answer is
written as one JSONL line (`id`, `question`, then every field of
`rag ask --json`) and flushed to disk before the next question starts, so an
interrupted run loses at most the question in flight; a re-run skips the ids
already in the output. Bad input lines are reported with their line number
and skipped. The pipeline (models, index) is loaded once by the caller, and
llama.cpp reuses the prompt prefix the questions share.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError


@dataclass(frozen=True)
class Question:
    line: int
    id: str
    question: str


def read_questions(path: Path) -> tuple[list[Question], list[str]]:
    """The questions of an input file, and one message per bad line."""
    path = Path(path)
    if not path.exists():
        raise RagError(f"the input file {path} does not exist; give a .txt, .jsonl or .csv file of questions")
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".jsonl", ".csv"):
        raise RagError(f"{path.name} is not .txt, .jsonl or .csv; rename it or convert it to one of those")
    text = path.read_text(encoding="utf-8-sig")
    questions, problems = [], []
    if suffix == ".txt":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                questions.append(Question(number, f"line-{number}", line.strip()))
    elif suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                question = str(data["question"]).strip()
                if not question:
                    raise ValueError
                questions.append(Question(number, str(data.get("id") or f"line-{number}"), question))
            except (ValueError, KeyError, TypeError):
                problems.append(f'line {number}: not a JSON object with a non-empty "question"; skipped')
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise RagError(
                f"{path.name} has no 'question' column; add a header row with 'question' (and optionally 'id')"
            )
        for number, row in enumerate(reader, start=2):
            question = (row.get("question") or "").strip()
            if not question:
                problems.append(f"line {number}: empty question; skipped")
                continue
            questions.append(Question(number, (row.get("id") or "").strip() or f"line-{number}", question))
    seen: set[str] = set()
    unique = []
    for q in questions:
        if q.id in seen:
            problems.append(f"line {q.line}: duplicate id {q.id!r}; skipped")
            continue
        seen.add(q.id)
        unique.append(q)
    return unique, problems


def done_ids(output: Path) -> set[str]:
    """Ids already answered in an output file (a torn last line from an interruption is ignored)."""
    ids = set()
    if Path(output).exists():
        for line in Path(output).read_text(encoding="utf-8").splitlines():
            try:
                ids.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return ids


def _progress(done: int, total: int, started: float, label: str) -> str:
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done) if done else 0
    width = 24
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {elapsed:.0f}s elapsed, ETA {eta:.0f}s  {label}"


def run_batch(
    pipeline, questions: list[Question], output: Path, log=None, videos: frozenset[str] = frozenset()
) -> dict:
    """Answer the questions not yet in output, appending one flushed line each; return a summary."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    from .answer import Answer

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    skip = done_ids(output)
    todo = [q for q in questions if q.id not in skip]
    if skip:
        log(f"resuming: {len(questions) - len(todo)} of {len(questions)} questions are already in {output}")
    if output.exists() and output.stat().st_size and not output.read_bytes().endswith(b"\n"):
        with open(output, "ab") as handle:  # an interrupted write left a torn line: start a fresh one
            handle.write(b"\n")
    summary = {
        "questions": len(questions),
        "skipped": len(questions) - len(todo),
        "answered": 0,
        "refused": 0,
        "failed": 0,
        "failures": [],
    }
    started = time.perf_counter()
    interactive = sys.stderr.isatty()
    with open(output, "a", encoding="utf-8") as out:
        for number, q in enumerate(todo, start=1):
            try:
                answer = None
                for item in pipeline.ask_stream(q.question, videos=videos):
                    if isinstance(item, Answer):
                        answer = item
                record = {
                    "id": q.id,
                    "question": q.question,
                    **{k: v for k, v in answer.to_json().items() if k != "question"},
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                os.fsync(out.fileno())
                summary["refused" if answer.refused else "answered"] += 1
            except RagError as error:
                summary["failed"] += 1
                summary["failures"].append(f"line {q.line} ({q.id}): {error}")
                log(f"line {q.line} ({q.id}): {error}")
            line = _progress(number, len(todo), started, q.id)
            if interactive:
                sys.stderr.write("\r" + line + ("\n" if number == len(todo) else ""))
                sys.stderr.flush()
            else:
                log(line)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["questions_per_minute"] = (
        round(len(todo) / summary["seconds"] * 60, 2) if summary["seconds"] and todo else None
    )
    return summary


def write_tables(output: Path, csv_path: Path | None, md_path: Path | None) -> None:
    """Tables of an output JSONL: id, question, answer, refused, cited passages."""
    rows = []
    for line in Path(output).read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        cited = "; ".join(f"[{c['n']}] {c['chunk_id']}" for c in data.get("citations", []))
        rows.append([data["id"], data["question"], data["answer"], "yes" if data.get("refused") else "no", cited])
    header = ["id", "question", "answer", "refused", "citations"]
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    if md_path:

        def cell(value: str) -> str:
            return str(value).replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        Path(md_path).write_text("\n".join(lines) + "\n", encoding="utf-8")
