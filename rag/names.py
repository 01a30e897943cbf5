"""The names a text relies on: capitalized or alphanumeric Latin words (PostEra, GPT-4) and katakana words.

Used to check that a claim's names are in its evidence (rag.claims) and to find
the episodes a question names by their titles (rag.episodes). A capitalized
word that only opens a sentence ("Based", "Yes") is not a name. Nothing here
knows about transcripts.
"""

from __future__ import annotations

import re

from .lang import latin_share
from .markers import CITATION

NAME = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z][A-Za-z0-9.\-]*[A-Za-z0-9]|[A-Za-z]+\d[A-Za-z0-9\-]*)|[ァ-ヴ][ァ-ヴー]{2,}")
NOT_NAMES = {
    "The",
    "This",
    "That",
    "These",
    "It",
    "He",
    "She",
    "They",
    "In",
    "On",
    "At",
    "According",
    "As",
    "And",
    "But",
    "So",
    "Le",
    "La",
    "Les",
    "Il",
    "Elle",
    "Ils",
    "Ce",
    "Cette",
    "Selon",
    "Dans",
    "Un",
    "Une",
    "Des",
    "En",
    "Et",
    "Mais",
    "AI",
    "IA",
    "CEO",
    "SF",
    "Q",
    "A",
    "I",
    "US",
    "USA",
}


def names_in(text: str) -> list[str]:
    """Names a claim relies on: capitalized or alphanumeric Latin words, katakana words. A capitalized word
    that opens a sentence ("Based", "Yes") counts only when its form marks a name (PostEra, GPT-4, OpenAI)."""
    text = CITATION.sub(" ", text)
    latin = latin_share(text) > 0.5  # in Japanese, a Latin word opening a sentence is a name
    names = []
    for match in NAME.finditer(text):
        name = match.group()
        opens = not text[: match.start()].strip() or re.search(r"[.!?。！？:]\s*[\"'“«]?\s*$", text[: match.start()])
        if latin and opens and name.isascii() and name.isalpha() and not re.search(r"[A-Z]", name[1:]):
            continue
        if name not in NOT_NAMES:
            names.append(name)
    return list(dict.fromkeys(names))


def name_phrases(text: str, with_openers: bool = False) -> list[str]:
    """The names of names_in with the names right beside them joined (a space, a hyphen or ・ between):
    "Royal Statistical Society", "Flora Tasse", "フローラ・タッセ". With openers, a capitalized word that
    opens a sentence joins the name right after it, so a phrase is read whole ("Age Range Check")."""
    keep = set(names_in(text))
    text = CITATION.sub(" ", text)
    matches = list(NAME.finditer(text))
    if with_openers:
        for word, after in zip(matches, matches[1:]):
            if after.group() in keep and text[word.end() : after.start()] == " " and word.group() not in NOT_NAMES:
                keep.add(word.group())
    spans: list[list[int]] = []  # [start, end] of each phrase
    for match in matches:
        if match.group() not in keep:
            spans.append([match.start(), -1])  # breaks a phrase, dropped below
        elif spans and spans[-1][1] >= 0 and text[spans[-1][1] : match.start()] in (" ", "-", "・"):
            spans[-1][1] = match.end()
        else:
            spans.append([match.start(), match.end()])
    return [text[start:end] for start, end in spans if end >= 0]
