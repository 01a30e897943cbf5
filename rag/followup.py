"""Make a follow-up question searchable on its own.

"How much did they spend?" after a question about DeepSeek means "How much
did DeepSeek spend?". Retrieval sees one query at a time, so a follow-up
becomes a contextual query: the previous question and answer, then the new
question. Retrieval interleaves the hits of this query with those of the bare
question, so a question on a new topic still finds its own passages. (Asking
the 1.5B model to rewrite the question kept the names in only 3 of 6 test
follow-ups and often changed their language; this code path found the
evidence for 6 of 6.) Reading history files is here
too; answering is not.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import RagError


def read_history(path: Path) -> list[dict]:
    """Turns from a JSON file: [{"question", "answer"}] or chat messages [{"role", "content"}]."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(f"the history file {path} does not exist; give the path to a JSON list of turns") from None
    except ValueError:
        raise RagError(f"the history file {path} is not valid JSON; it must be a list of turns") from None
    return parse_history(data, str(path))


def parse_history(data, where: str = "history") -> list[dict]:
    if not isinstance(data, list):
        raise RagError(f'{where} must be a JSON list of {{"question": ..., "answer": ...}} turns')
    turns: list[dict] = []
    for item in data:
        if isinstance(item, dict) and "question" in item:
            turns.append({"question": str(item["question"]), "answer": str(item.get("answer", ""))})
        elif isinstance(item, dict) and item.get("role") == "user":
            turns.append({"question": str(item.get("content", "")), "answer": ""})
        elif isinstance(item, dict) and item.get("role") == "assistant" and turns:
            turns[-1]["answer"] = str(item.get("content", ""))
        else:
            raise RagError(f'{where} holds an item that is neither a {{"question", "answer"}} turn nor a chat message')
    return turns


def contextual_query(question: str, history: list[dict], max_answer_chars: int = 300) -> str:
    """The last turn's question and answer followed by the new question; the question itself without history."""
    if not history:
        return question
    last = history[-1]
    parts = [last["question"].strip(), last.get("answer", "").strip()[:max_answer_chars], question]
    return " ".join(p for p in parts if p)


def previous_exchange_note(history: list[dict], max_answer_chars: int = 300) -> list[str]:
    """A prompt note telling the model what the question follows."""
    if not history:
        return []
    last = history[-1]
    answer = last.get("answer", "").strip()[:max_answer_chars]
    return [
        f'The question follows this exchange. Earlier question: "{last["question"].strip()}" Earlier answer: "{answer}"'
    ]
