"""Answer a list of questions into a JSONL file, resumably.

Input: `.txt` (one question a line), `.jsonl` (objects with `question` and
optional `id`) or `.csv` (a `question` column, optional `id`). Each answer is
written as one JSONL line (`id`, `question`, then every field of
`rag ask --json`) and flushed to disk before the next question starts, so an
interrupted run loses at most the question in flight; a re-run cuts off a
line the interruption left unfinished and skips the ids already in the output.
The output's folder must exist, and one run at a time writes an output (a
lock). A write that fails (disk full) stops the run with the answers so far
intact. Bad input lines (and control characters such as NUL) are reported
with their line number and skipped. Input files may be UTF-8, UTF-16 or a
Japanese legacy encoding (rag.readers.decode). The pipeline (models, index)
is loaded once by the caller, and llama.cpp reuses the prompt prefix the
questions share.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError
from .readers import decode
from .store import why_not_written, write_atomic


@dataclass(frozen=True)
class Question:
    line: int
    id: str
    question: str


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_input(path: Path) -> str:
    """The text of a questions file (UTF-8, UTF-16 or a Japanese legacy encoding); RagError when it is not one."""
    if not path.exists():
        raise RagError(f"the input file {path} does not exist; give a .txt, .jsonl or .csv file of questions")
    if path.is_dir():
        raise RagError(f"the input {path} is a folder; give a .txt, .jsonl or .csv file of questions")
    if path.suffix.lower() not in (".txt", ".jsonl", ".csv"):
        raise RagError(f"{path.name} is not .txt, .jsonl or .csv; rename it or convert it to one of those")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RagError(
            f"cannot read {path} ({error.strerror or error}); make it readable or give another file"
        ) from None
    try:
        return decode(data, path.name)
    except RagError:
        raise RagError(
            f"{path.name} is not a text file (binary data or an unknown encoding); save the questions as UTF-8 text"
        ) from None


def read_questions(path: Path) -> tuple[list[Question], list[str]]:
    """The questions of an input file, and one message per bad line."""
    path = Path(path)
    suffix = path.suffix.lower()
    text = read_input(path)
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
            except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
                problems.append(f'line {number}: not a JSON object with a non-empty "question"; skipped')
    else:
        try:
            questions, problems = _read_csv(text, path.name)
        except csv.Error as error:
            raise RagError(
                f"{path.name} is not a readable CSV file ({error}); fix it or save it again as CSV"
            ) from None
    seen: set[str] = set()
    unique = []
    for q in questions:
        if CONTROL.search(q.question) or CONTROL.search(q.id):
            problems.append(f"line {q.line}: control characters (such as NUL) in the question or id; skipped")
            continue
        if q.id in seen:
            problems.append(f"line {q.line}: duplicate id {q.id!r}; skipped")
            continue
        seen.add(q.id)
        unique.append(q)
    return unique, problems


def _read_csv(text: str, name: str) -> tuple[list[Question], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in reader.fieldnames:
        raise RagError(f"{name} has no 'question' column; add a header row with 'question' (and optionally 'id')")
    questions, problems = [], []
    for number, row in enumerate(reader, start=2):
        question = (row.get("question") or "").strip()
        if not question:
            problems.append(f"line {number}: empty question; skipped")
            continue
        questions.append(Question(number, (row.get("id") or "").strip() or f"line-{number}", question))
    return questions, problems


def _records(output: Path):
    """The answer records of an output file; torn or foreign lines are passed over."""
    if not Path(output).is_file():  # absent, or a device such as /dev/stdout: nothing to resume
        return
    with open(output, "rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(record, dict) and "id" in record:
                yield record


def done_ids(output: Path) -> set[str]:
    """Ids already answered in an output file (a torn last line from an interruption is ignored)."""
    return {str(record["id"]) for record in _records(output)}


def check_output(output: Path, source: Path | None = None) -> None:
    """Refuse, before any work, an output that is a folder, the input, in no folder, unwritable or someone else's."""
    output = Path(output)
    if output.is_dir():
        raise RagError(f"the output {output} is a folder; give a file name such as -o answers.jsonl")
    if source is not None and output.exists() and output.resolve() == Path(source).resolve():
        raise RagError(f"the output {output} is the questions file; give another -o such as answers.jsonl")
    if output.parent.exists() and not output.parent.is_dir():
        raise RagError(f"{output.parent} is a file, not a folder; give another -o")
    if not output.parent.is_dir():
        raise RagError(f"the folder {output.parent} does not exist; create it or give another -o")
    existed = output.exists()
    try:
        with open(output, "ab"):
            pass
    except OSError as error:
        raise RagError(
            f"cannot write {output}: {why_not_written(error)}; give another -o or fix its permissions"
        ) from None
    if not existed:
        output.unlink(missing_ok=True)
    elif output.is_file() and output.stat().st_size:
        with open(output, "rb") as handle:
            start = handle.read(7)
        if not b'{"id": '.startswith(start):  # a first line torn by an interruption is still ours
            raise RagError(
                f"{output} exists and is not a `rag batch` output; give another -o (re-running resumes only its own output)"
            )


def _drop_torn_tail(handle) -> None:
    """Cut an unfinished last line (the run before was killed mid-write); its question is answered again."""
    size = handle.seek(0, os.SEEK_END)
    if not size:
        return
    handle.seek(max(0, size - 1))
    if handle.read(1) == b"\n":
        return
    position = size
    while position > 0:
        step = min(65536, position)
        handle.seek(position - step)
        block = handle.read(step)
        cut = block.rfind(b"\n")
        if cut >= 0:
            handle.truncate(position - step + cut + 1)
            return
        position -= step
    handle.truncate(0)


def _append(handle, data: bytes, output: Path, regular: bool) -> None:
    """Append one line and flush it to disk; on failure cut it off again, so the file keeps whole lines only."""
    fd = handle.fileno()
    size = os.fstat(fd).st_size if regular else 0
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if regular:
            os.fsync(fd)
    except OSError as error:
        if regular:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass
        raise RagError(
            f"cannot write answers to {output}: {why_not_written(error)}; free some space or give another -o, "
            "then run again (the answers already written are kept and skipped)"
        ) from None


def _locked(handle, output: Path) -> None:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RagError(f"another `rag batch` is writing {output}; wait for it to finish or give another -o") from None
    except OSError:
        pass  # a file system without locks: go on unguarded


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
    check_output(output)
    regular = output.is_file() or not output.exists()
    with open(output, "a+b" if regular else "ab", buffering=0) as out:
        _locked(out, output)
        if regular:
            _drop_torn_tail(out)
        skip = done_ids(output)
        todo = [q for q in questions if q.id not in skip]
        if skip:
            log(f"resuming: {len(questions) - len(todo)} of {len(questions)} questions are already in {output}")
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
        for number, q in enumerate(todo, start=1):
            try:
                answer = None
                for item in pipeline.ask_stream(q.question, videos=videos):
                    if isinstance(item, Answer):
                        answer = item
            except RagError as error:
                summary["failed"] += 1
                summary["failures"].append(f"line {q.line} ({q.id}): {error}")
                log(f"line {q.line} ({q.id}): {error}")
            else:
                record = {
                    "id": q.id,
                    "question": q.question,
                    **{k: v for k, v in answer.to_json().items() if k != "question"},
                }
                _append(out, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"), output, regular)
                summary["refused" if answer.refused else "answered"] += 1
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
    for data in _records(output):
        cited = "; ".join(
            f"[{c.get('n')}] {c.get('chunk_id')}" for c in data.get("citations") or [] if isinstance(c, dict)
        )
        refused = "yes" if data.get("refused") else "no"
        rows.append([data["id"], data.get("question", ""), data.get("answer", ""), refused, cited])
    header = ["id", "question", "answer", "refused", "citations"]

    def cell(value: str) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    tables = []
    if csv_path:
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *rows])
        tables.append((Path(csv_path), buffer.getvalue()))
    if md_path:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        tables.append((Path(md_path), "\n".join(lines) + "\n"))
    for path, text in tables:
        try:
            write_atomic(path, text.encode("utf-8"))
        except RagError:
            raise RagError(
                f"cannot write {path}; free some disk space or fix the folder's permissions (the answers are in {output})"
            ) from None
