"""Yes/no questions: recognize them, and the words that answer them in each language.

A small model writing freely starts its answer to a yes/no question with
"Yes" (or "Oui", "はい") far more often than the passages say yes; asked for
yes or no alone, over the same passages, it is right far more often. So the
answer step decides the polarity first and makes the answer begin with it
(rag.answer). This module only recognizes the question's form, by the
grammar of its language (an English or French question that starts with a
verb, a Japanese one ending in か without a question word); it does not read
passages or call the model.
"""

from __future__ import annotations

import re

ANSWER_STARTS = {
    "en": {"yes": "Yes,", "no": "No,"},
    "fr": {"yes": "Oui,", "no": "Non,"},
    "ja": {"yes": "はい、", "no": "いいえ、"},
}

ENGLISH_AUXILIARIES = (
    "is are was were am do does did has have had can could will would should shall may might must "
    "isn't aren't wasn't weren't don't doesn't didn't hasn't haven't hadn't can't couldn't won't wouldn't shouldn't"
).split()
ENGLISH_QUESTION_WORDS = "what which who whom whose when where why how".split()
FRENCH_QUESTION_WORDS = (
    "quel quelle quels quelles où quand comment pourquoi combien lequel laquelle lesquels lesquelles"
).split()
FRENCH_RELATIVE_OR_QUESTION = "qui que qu quoi".split()  # interrogative only near the start ("À qui", "Qu'est-ce")
FRENCH_INVERSION = re.compile(r"\w-(?:t-)?(?:il|elle|ils|elles|on|vous|tu|je|nous)\b", re.IGNORECASE)
JAPANESE_QUESTION_WORDS = re.compile(
    r"何|なに|なん[でのだ]|どの|どこ|どちら|どっち|どれ|どう|どんな|誰|だれ|いつ|なぜ|いくつ|いくら|幾"
)
JAPANESE_EMBEDDED_QUESTION = re.compile(r"か(?:を|が|は|に|と|も|の|について|、)")
JAPANESE_QUESTION_END = re.compile(r"か\s*[?？]?\s*$")


POLARITY_WORDS = re.compile(r"\b(?:yes|no|oui|non)\b|はい|いいえ", re.IGNORECASE)


def only_yes_or_no(text: str) -> bool:
    """True when the text says yes or no and nothing else ("No.", "いいえ、いいえ、はい"): no claim to check."""
    return bool(POLARITY_WORDS.search(text)) and not re.sub(r"[\W_]+", "", POLARITY_WORDS.sub("", text))


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower().replace("’", "'"))


def is_yes_no_question(question: str, language: str) -> bool:
    """True when the question asks for yes or no, not for a thing, a choice between things, or a reason."""
    text = question.strip()
    if language == "ja":
        main_clause = JAPANESE_EMBEDDED_QUESTION.split(text)[-1]  # "どう改善するかを相談していますか" asks yes or no
        return bool(JAPANESE_QUESTION_END.search(text)) and not JAPANESE_QUESTION_WORDS.search(main_clause)
    words = _words(text)
    if not words:
        return False
    if language == "fr":
        if text.lower().startswith(("est-ce que", "est-ce qu")):
            return " ou " not in f" {text.lower()} "
        heads = [w.split("'")[0] for w in words]
        if any(w in FRENCH_QUESTION_WORDS for w in heads) or " ou " in f" {text.lower()} ":
            return False
        if any(w in FRENCH_RELATIVE_OR_QUESTION for w in heads[:2]):
            return False
        return bool(FRENCH_INVERSION.search(text))
    clauses = [_words(part) for part in re.split(r"[,;:]", text)]
    opening = clauses[0]
    if " or " in f" {text.lower()} " or opening and opening[0] in ENGLISH_QUESTION_WORDS and len(opening) < 4:
        return False  # a choice, or a wh-question; "When she joined Facebook, was she …" opens with a clause
    if words[0] in ENGLISH_QUESTION_WORDS and len(clauses) == 1:
        return False
    return any(clause and clause[0] in ENGLISH_AUXILIARIES for clause in clauses)
