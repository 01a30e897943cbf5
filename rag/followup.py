"""Decide whether a question follows the previous exchange, and make a follow-up searchable.

"How much did they spend?" after a question about DeepSeek means "How much
did DeepSeek spend?"; "Combien de watts consomme le cerveau ?" after it means
just that. `follows_previous` asks the chat model, with six worked examples,
whether the new question follows the previous exchange or starts a new topic
(the first token's probability). A follow-up
becomes a contextual query: the previous question and answer, then the new
question; retrieval interleaves the hits of this query with those of the
bare question. (Asking the 1.5B model to rewrite the question kept the names
in only 3 of 6 test follow-ups and often changed their language; this code
path found the evidence for 6 of 6.) Reading history files is here too;
answering is not.
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
    except IsADirectoryError:
        raise RagError(f"the history file {path} is a folder; give the path to a JSON list of turns") from None
    except OSError as error:
        raise RagError(
            f"cannot read the history file {path} ({error.strerror or error}); make it readable or give another file"
        ) from None
    except (ValueError, RecursionError):
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


FOLLOWS_SYSTEM = (
    "You decide whether a new question in a conversation refers back to the previous exchange or starts a new topic."
)
FOLLOWS_ASK = (
    "Previous question: {previous}\nPrevious answer: {answer}\nNew question: {question}\n"
    "Does the new question follow the previous exchange or start a new topic? Reply follows or new."
)
FOLLOWS_EXAMPLES = (  # general knowledge, on purpose about nothing in any transcript
    ("How tall is the Eiffel Tower?", "It is 330 metres tall.", "When was it built?", "follows"),
    ("How tall is the Eiffel Tower?", "It is 330 metres tall.", "Quel est le prix d'un billet pour le Louvre ?", "new"),
    ("Who won the 2010 World Cup?", "Spain won it.", "Who scored the goal in the final?", "follows"),
    ("Who won the 2010 World Cup?", "Spain won it.", "富士山の高さはどれくらいですか？", "new"),
    ("What does the recipe need?", "Flour, eggs and milk.", "And how long does it bake?", "follows"),
    ("What does the recipe need?", "Flour, eggs and milk.", "How many people live in Tokyo?", "new"),
)
# P(follows) of the 1.5B model sits between 0.1 and 0.45 whatever the question; 0.25 is the midpoint of the
# means of the tune half of tests/data/follow_or_new.jsonl (follows 0.28, new 0.21). A yes/no question without
# examples gave P(yes) 0.6-0.8 to every question, follow-up or not.
FOLLOWS_FROM = 0.25


def follows_messages(question: str, history: list[dict], max_answer_chars: int = 200) -> list[dict]:
    last = history[-1]
    messages = [{"role": "system", "content": FOLLOWS_SYSTEM}]
    for previous, answer, new, label in FOLLOWS_EXAMPLES:
        messages.append({"role": "user", "content": FOLLOWS_ASK.format(previous=previous, answer=answer, question=new)})
        messages.append({"role": "assistant", "content": label})
    user = FOLLOWS_ASK.format(
        previous=last["question"].strip(), answer=last.get("answer", "").strip()[:max_answer_chars], question=question
    )
    return messages + [{"role": "user", "content": user}]


def follows_probability(generator, question: str, history: list[dict]) -> float:
    """The chat model's P(follows) for the question after the last turn (first token, six worked examples)."""
    choices = {"follows": ["follows", "Follows", "follow"], "new": ["new", "New"]}
    return generator.choose(follows_messages(question, history), choices)["follows"]


def follows_previous(generator, question: str, history: list[dict]) -> bool:
    """Whether the question depends on the last turn (P(follows) >= FOLLOWS_FROM); never without history."""
    return bool(history) and follows_probability(generator, question, history) >= FOLLOWS_FROM
