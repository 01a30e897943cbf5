"""Read the numbers in a text as values, whatever the language writes them as.

"5.5百万" = "550万" = "5.5 million" = "5,5 millions" = 5,500,000, and
"5,000億ドル" = "500 billion" = "$500B" = 5e11. A claim check compares
values, so an English answer about a Japanese transcript can be checked
against it. Comma rules: a comma followed by exactly three digits groups
thousands ("5,000"), otherwise it is a French decimal comma ("5,5").
Years, counts and percentages are plain values. `rescale_japanese_numbers`
rewrites each Japanese large number in English or French words for the
passages an English or French question is answered from (3,400億ドル → "340
billion dollars"): small models copy the digits with the wrong scale ("3,400
billion") otherwise, even with the right value written beside them. Nothing
else here.
"""

from __future__ import annotations

import re
import unicodedata

from .markers import CITATION

JAPANESE_UNITS = {
    "千": 1e3,
    "万": 1e4,
    "百万": 1e6,
    "千万": 1e7,
    "億": 1e8,
    "十億": 1e9,
    "百億": 1e10,
    "千億": 1e11,
    "兆": 1e12,
}
WORD_UNITS = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "b": 1e9,
    "bn": 1e9,
    "trillion": 1e12,
    "trillions": 1e12,
    "mille": 1e3,
    "milliers": 1e3,
    "million(s)": 1e6,
    "milliard": 1e9,
    "milliards": 1e9,
    "billion(s)": 1e9,
    "md": 1e9,
    "mds": 1e9,
}
NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:[ ,\u202f]\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)"  # 1,000 / 1 000 / 5.5 / 5,5 / 2000
    r"\s*(百万|千万|十億|百億|千億|千|万|億|兆|(?:thousand|millions?|billions?|trillions?|milliards?|mille|milliers|mds?|mn|bn|k|m|b)\b)?",
    re.IGNORECASE,
)


def _value(digits: str) -> float:
    digits = digits.replace("\u202f", " ")
    if re.fullmatch(r"\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?", digits):
        return float(re.sub(r"[ ,]", "", digits))
    return float(digits.replace(",", "."))


def extract_numbers(text: str) -> list[float]:
    """Every number in text as a value, with Japanese and English/French multipliers applied."""
    text = CITATION.sub(" ", unicodedata.normalize("NFKC", text))
    values = []
    for match in NUMBER.finditer(text):
        value = _value(match.group(1))
        unit = (match.group(2) or "").lower()
        if unit in JAPANESE_UNITS:
            value *= JAPANESE_UNITS[unit]
        elif unit in WORD_UNITS:
            value *= WORD_UNITS[unit]
        values.append(value)
    return values


def same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


def unsupported_numbers(claim: str, evidence: str, ignore: set[float] = frozenset()) -> list[float]:
    """The claim's numbers that the evidence does not contain (as values), except those in ignore."""
    found = extract_numbers(evidence)
    return [v for v in extract_numbers(claim) if v not in ignore and not any(same_value(v, f) for f in found)]


SCALES = [(1e12, "trillion", None), (1e9, "billion", "milliard"), (1e6, "million", "million")]
NARROW_SPACE = "\u202f"
CURRENCIES = {"ドル": ("dollars", "dollars"), "ユーロ": ("euros", "euros"), "円": ("yen", "yens")}
JAPANESE_AMOUNT = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(百万|千万|十億|百億|千億|万|億|兆)"
JAPANESE_NUMBER = re.compile(JAPANESE_AMOUNT + r"(ドル|ユーロ|円)?")
JAPANESE_RANGE = re.compile(JAPANESE_AMOUNT + r"\s*(?:から|〜|～|~)\s*" + JAPANESE_AMOUNT + r"(ドル|ユーロ|円)?")
RANGE_WORD = {"en": " to ", "fr": " à "}


def spell_value(value: float, language: str) -> str:
    """340 billion / 340 milliards / 5.5 million / 5,5 millions / 2.5 trillion / 2 500 milliards / 100,000."""
    french = language == "fr"
    for scale, english, french_word in SCALES:
        if value >= scale and not (french and scale == 1e12):  # French says "2 500 milliards"
            mantissa = f"{value / scale:,.2f}".rstrip("0").rstrip(".")
            if not french:
                return f"{mantissa} {english}"
            plural = "s" if value / scale >= 2 else ""
            return f"{mantissa.replace(',', NARROW_SPACE).replace('.', ',')} {french_word}{plural}"
    whole = f"{value:,.0f}"
    return whole.replace(",", NARROW_SPACE) if french else whole


def rescale_japanese_numbers(text: str, language: str) -> str:
    """Text with each number written with a Japanese unit spelled in the language's own scale; ja text unchanged.

    A range (250億から400億ドル) becomes one phrase: "25 billion to 40 billion dollars".
    """
    if language == "ja":
        return text

    def spelled(digits: str, unit: str, currency: str | None) -> str:
        words = spell_value(_value(digits) * JAPANESE_UNITS[unit], language)
        if currency in CURRENCIES:
            of = "de " if language == "fr" and not words[-1].isdigit() else ""
            words += f" {of}{CURRENCIES[currency][language == 'fr']}"
        return words

    def spaced(words: str, match: re.Match) -> str:
        following = match.string[match.end() : match.end() + 1]
        return words + (" " if following and not re.match(r"[\s。、.,!?！？)）」]", following) else "")

    def rescale_range(match: re.Match) -> str:
        low = spelled(match.group(1), match.group(2), None)
        high = spelled(match.group(3), match.group(4), match.group(5))
        return spaced(low + RANGE_WORD.get(language, " to ") + high, match)

    def rescale(match: re.Match) -> str:
        return spaced(spelled(match.group(1), match.group(2), match.group(3)), match)

    return JAPANESE_NUMBER.sub(rescale, JAPANESE_RANGE.sub(rescale_range, text))
