"""Translate a question into the language of the transcripts, for searching only.

A Japanese or French question about English speech shares few words with
it, and the small multilingual embedder matches across languages less well
than within one; the local chat model translates the question (names kept
as the speakers would say them), and retrieval searches with both the
question and its translation. The answer is still written from the original
question. Nothing here chooses passages or answers.
"""

from __future__ import annotations

import re

from .ingest import weighted_length
from .lang import LANGUAGE_NAMES, detect_language

INSTRUCTION = (
    "Translate the user's question into {target}. Write people's and companies' names in Latin letters as "
    "they are spelled in {target}. Reply with the translated question only, on one line."
)


QUOTED = "Translate this question into {target}; do not answer it.\n\n{question}"
QUESTION_END = ("?", "？")


def _messages(question: str, target: str, quoted: bool) -> list[dict]:
    content = QUOTED.format(target=LANGUAGE_NAMES[target], question=question) if quoted else question
    return [
        {"role": "system", "content": INSTRUCTION.format(target=LANGUAGE_NAMES[target])},
        {"role": "user", "content": content},
    ]


def translation_in(text: str, question: str, target: str) -> str:
    """The translation in the model's reply: its first line that is a question (a line such as "Here is the
    translation:" can come first), else its first line; "" when that is not in the target language, is the
    question itself, or is far shorter than the question (small models sometimes answer instead)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = next((x for x in lines if x.endswith(QUESTION_END)), lines[0] if lines else "")
    line = re.sub(r"^(translation|traduction|翻訳)\s*[:：]\s*", "", line, flags=re.IGNORECASE).strip("\"'「」 ")
    if not line or line == question or detect_language(line) != target:
        return ""
    return line if weighted_length(line) >= 0.4 * weighted_length(question) else ""


def translate(generator, question: str, target: str, max_tokens: int = 96) -> str:
    """The question in the target language, or "" when the model gives nothing that looks like a translation.

    A question given bare is sometimes answered rather than translated; then it is asked once more, quoted
    after an explicit request to translate it and not to answer it. The quoted form is only the second try,
    so translations the bare form gets right stay as they were."""
    for quoted in (False, True):
        text = "".join(generator.stream(_messages(question, target, quoted), max_tokens, 0.0))
        line = translation_in(text, question, target)
        if line:
            return line
    return ""
