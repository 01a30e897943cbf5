"""Guess a question's language (ja, en or fr), hold the few sentences we say in each, and tell words apart
by script.

A heuristic over scripts and common French words: enough for the three
languages the assistant supports, not a general language identifier.
"""

from __future__ import annotations

import re

LANGUAGE_NAMES = {"ja": "Japanese", "en": "English", "fr": "French"}
FRENCH_WORDS = {
    "le",
    "la",
    "les",
    "des",
    "du",
    "un",
    "une",
    "est",
    "sont",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "combien",
    "pourquoi",
    "comment",
    "qui",
    "que",
    "quoi",
    "où",
    "selon",
    "dans",
    "vidéo",
    "avec",
    "pour",
    "sur",
    "il",
    "elle",
    "ils",
    "a-t-il",
    "ont",
    "été",
    "et",
    "au",
    "aux",
    "ce",
    "cette",
    "lancé",
}
ENGLISH_WORDS = {"the", "what", "which", "who", "how", "why", "is", "are", "does", "did", "of", "to", "in", "and"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]")

REFUSALS = {
    "ja": "文字起こしには、この質問の答えが見つかりませんでした。",
    "en": "The transcript does not cover this.",
    "fr": "La transcription n'aborde pas cette question.",
}
READING_FURTHER = {  # shown when an answer was not supported and the next passages are tried
    "ja": "（この答えは箇所で裏付けられなかったため、次の箇所を読みます。）",
    "en": "(Not supported by these passages; reading the next ones.)",
    "fr": "(Non étayé par ces passages ; lecture des suivants.)",
}


LATIN_WORD = "a-z0-9à-öø-ÿ"  # the letters (lower-case) and digits of a Latin-script word
KATAKANA_WORD = "ァ-ヴー"


def as_word(word: str) -> str:
    """A regex matching the word where it stands as a word of its script: katakana "タッセ" in "タッセさん", not
    Latin "alpha" in "alphabet" (for lower-case text, or with re.IGNORECASE)."""
    letters = KATAKANA_WORD if re.match(rf"[{KATAKANA_WORD}]", word) else LATIN_WORD
    return rf"(?<![{letters}]){re.escape(word)}(?![{letters}])"


def latin_share(text: str) -> float:
    """Share of letters in Latin script: 1.0 for an English or French text, ~0 for Japanese."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f") / len(letters)


def detect_language(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if letters and sum(1 for c in letters if JAPANESE.match(c)) / len(letters) > 0.2:
        return "ja"
    words = re.findall(r"[a-zà-ÿœç'-]+", text.lower())
    french = sum(1 for w in words if w in FRENCH_WORDS or w.split("'")[-1] in FRENCH_WORDS)
    english = sum(1 for w in words if w in ENGLISH_WORDS)
    if re.search(r"[àâçéèêëîïôûùüÿœ]", text.lower()):
        french += 2
    return "fr" if french > english else "en"
