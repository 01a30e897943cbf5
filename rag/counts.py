"""What a number counts, in English: "two employees" is not supported by "two years old".

The claim check (rag.claims) accepts a claim's number when the same value
is near the sentence the claim matches; a small model asked for a count
the transcript never gives takes a nearby number of something else ("the
company is just about two years old" → "Alluvium has two employees").
Here a number in an English claim followed by a counted word ("two
employees", "10,000 satellite images") must meet the same value in the
evidence with that word among the next three words there (or the
evidence's counted word among the claim's next three): singular and plural
are the same word. Numbers that are part of a name (V3, COVID-19, GPT-4),
years, percentages, a spelled "one" ("one reason", "ones"), numbers followed
by a function word ("in 2016 he", "two of them") and numbers the question
states ("which two properties …") are not checked. English only: the function words are
English, and across languages the counted word is translated. Nothing else
here.
"""

from __future__ import annotations

import re
import unicodedata

from .numbers import extract_numbers, same_value, spoken_numbers

SPELLED = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"thousand|million|billion|trillion)"
)
COUNT = re.compile(
    r"(?<![\w.\-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + SPELLED + r"(?:[\s-]+" + SPELLED + r")*)"
    r"(?:\s+(?:thousand|million|billion|trillion))?(?!\w)(?![.\-]\w)",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z]+")
FUNCTION_WORDS = frozenset(
    "a an the of in on at to for from by with and or but than that which who whom whose this these those it its "
    "is are was were be been being has have had do does did will would can could may might shall should not no "
    "nor so as if then there their they them he she his her we our you your i me my per about around roughly "
    "approximately nearly almost over under more less most least up down out into onto off percent times".split()
)


def _same_word(a: str, b: str) -> bool:
    def stem(word: str) -> str:
        return re.sub(r"(?<=[a-z])(ies|es|s)$", "", word.lower())

    return stem(a) == stem(b)


def counted(text: str) -> list[tuple[list[float], list[str]]]:
    """(values, the next three words) of every number in an English text that is not part of a name."""
    text = unicodedata.normalize("NFKC", text)
    found = []
    for match in COUNT.finditer(text):
        number = match.group(1)
        values = extract_numbers(number) or spoken_numbers(number)
        after = text[match.end() :]
        if not values or re.match(r"\s*%", after) or re.fullmatch(r"1\d{3}|20\d{2}", number):
            continue
        if values == [1.0] and not number[0].isdigit():
            continue  # "one" is too often no count ("one reason", "the ones")
        words = WORD.findall(after[:60])[:3]
        found.append((values, words))
    return found


def _counts_the_same(words: list[str], following: list[str]) -> bool:
    """The claim's counted word is among the evidence number's next words, or the evidence's among the claim's."""
    if any(_same_word(words[0], w) for w in following):
        return True
    return (
        bool(following)
        and following[0].lower() not in FUNCTION_WORDS
        and any(_same_word(following[0], w) for w in words)
    )


def uncounted(claim: str, evidence: str, ignore: set[float] = frozenset()) -> list[str]:
    """The claim's counts ("two employees") whose value the evidence never gives with that counted word."""
    evidence_counts = counted(evidence)
    missing = []
    for values, words in counted(claim):
        if not words or words[0].lower() in FUNCTION_WORDS or any(v in ignore for v in values):
            continue
        same_value_words = [w for vs, w in evidence_counts if any(same_value(v, e) for v in values for e in vs)]
        if not any(_counts_the_same(words, following) for following in same_value_words):
            missing.append(f"{values[0]:g} {words[0]}")
    return missing
