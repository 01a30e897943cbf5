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


def translate(generator, question: str, target: str, max_tokens: int = 96) -> str:
    """The question in the target language; "" when the model gives nothing that looks like a translation
    (another language, or far shorter than the question: small models sometimes answer instead)."""
    messages = [
        {"role": "system", "content": INSTRUCTION.format(target=LANGUAGE_NAMES[target])},
        {"role": "user", "content": question},
    ]
    text = "".join(generator.stream(messages, max_tokens, 0.0)).strip()
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^(translation|traduction|翻訳)\s*[:：]\s*", "", line, flags=re.IGNORECASE).strip("\"'「」 ")
    if not line or line == question or detect_language(line) != target:
        return ""
    return line if weighted_length(line) >= 0.4 * weighted_length(question) else ""
