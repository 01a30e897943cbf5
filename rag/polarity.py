"""Yes/no questions: recognize them, and the words that answer them in each language.

A small model writing freely starts its answer to a yes/no question with
"Yes" (or "Oui", "はい") far more often than the passages say yes; asked for
yes or no alone, over the same passages, it is right more often. So the
answer step decides the polarity first and makes the answer begin with it
(rag.answer). This module only recognizes the question's form, by the
grammar of its language: in English a clause of the question opening with
an auxiliary verb ("According to X, is …"), in French verb-subject
inversion or "est-ce que", in Japanese a main clause ending in か; in each,
no question word, no choice ("or", "ou", それとも) and no request ("Can you
…", "Pouvez-vous …", "…てくれますか"). It does not read passages or call the
model. A question it misses is answered as any other; one it takes wrongly
for a yes/no question gets a forced "Yes," or "No,", so it errs on the side
of missing.
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
ENGLISH_QUESTION_WORDS = "what which who whom whose why how".split()
ENGLISH_SUBORDINATORS = "when where while after before if once since".split()  # "When she joined, was she …"
ENGLISH_REQUEST = re.compile(r"(?:can|could|would|will)\s+you\b|do\s+you\s+know\b", re.IGNORECASE)  # at the start
FRENCH_QUESTION_WORDS = (
    "quel quelle quels quelles où quand comment pourquoi combien lequel laquelle lesquels lesquelles"
).split()
FRENCH_RELATIVE_OR_QUESTION = "qui que qu quoi".split()  # interrogative only at a clause's start ("À qui")
FRENCH_INVERSION = re.compile(r"\w-(?:t-)?(?:il|elle|ils|elles|on|vous|tu|je|nous)\b", re.IGNORECASE)
FRENCH_REQUEST = re.compile(r"\b(?:pouvez|pourriez|peux|pourrais|voulez|veux)-(?:vous|tu)\b|-(?:moi|nous)\b", re.I)
JAPANESE_QUESTION_WORDS = re.compile(
    r"何|なに|なん[でのだと]|どの|どこ|どちら|どっち|どれ|どう|どんな|どなた|誰|だれ|いつ|なぜ|いくつ|いくら|いかが|いずれ|幾"
)
JAPANESE_EMBEDDED_QUESTION = re.compile(r"(?<=[るただいうくすつぬぶむぐ])か(?:を|が|は|に|と|も|の|について)")
JAPANESE_CHOICE = re.compile(r"それとも|か、")
JAPANESE_REQUEST = re.compile(r"て(?:くれ|くださ|もらえ|いただけ)")
JAPANESE_QUESTION_END = re.compile(r"か\s*[?？。]?\s*$")


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
        if JAPANESE_CHOICE.search(text) or JAPANESE_REQUEST.search(text):
            return False
        embedded = [m.start() for m in JAPANESE_EMBEDDED_QUESTION.finditer(text)]
        asks_what = any(  # a question word before "…かを" asks inside an embedded clause: "どう改善するかを相談…か"
            not any(start >= word.end() for start in embedded) for word in JAPANESE_QUESTION_WORDS.finditer(text)
        )
        return bool(JAPANESE_QUESTION_END.search(text)) and not asks_what
    words = _words(text)
    if not words:
        return False
    clauses = [_words(part) for part in re.split(r"[,;:]", text)]
    if language == "fr":
        if " ou " in f" {text.lower()} " or FRENCH_REQUEST.search(text):
            return False
        if text.lower().startswith(("est-ce que", "est-ce qu")):
            return True
        if any(w.split("'")[0] in FRENCH_QUESTION_WORDS for w in words):
            return False
        if any(w.split("'")[0] in FRENCH_RELATIVE_OR_QUESTION for clause in clauses for w in clause[:2]):
            return False
        return bool(FRENCH_INVERSION.search(text))
    if " or " in f" {text.lower()} " or ENGLISH_REQUEST.match(text) or words[0] in ENGLISH_QUESTION_WORDS:
        return False
    if words[0] in ENGLISH_SUBORDINATORS and len(clauses) == 1:
        return False  # "When did …", "Where was …"
    return any(clause and clause[0] in ENGLISH_AUXILIARIES for clause in clauses)
