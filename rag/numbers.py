"""Read the numbers in a text as values, whatever the language writes them as.

"5.5百万" = "550万" = "5.5 million" = "5,5 millions" = 5,500,000, and
"5,000億ドル" = "500 billion" = "$500B" = 5e11. A claim check compares
values, so an English answer about a Japanese transcript can be checked
against it. Comma rules: a comma followed by exactly three digits groups
thousands ("5,000"), otherwise it is a French decimal comma ("5,5").
Years, counts and percentages are plain values. Numbers spelled out in words
("eight", "forty five thousand", "quatre-vingt-dix", "fourth", "二十") count on
the evidence's side (`spoken_numbers`): speech transcripts spell them out, and a
claim that says "8" is supported by "eight". `rescale_japanese_numbers`
rewrites each Japanese large number in English or French words for the
passages an English or French question is answered from (3,400億ドル → "340
billion dollars"): small models copy the digits with the wrong scale ("3,400
billion") otherwise, even with the right value written beside them. Nothing
else here.
"""

from __future__ import annotations

import re
import unicodedata

from .markers import BRACKET_VARIANTS, CITATION

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
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:[ ,\u202f]\d{3})+(?!\d)(?:\.\d+|(?<=[ \u202f]\d{3}),\d+)?|\d+(?:[.,]\d+)?)"  # 1,000 / 1 000,5 / 5,5
    r"\s*(百万|千万|十億|百億|千億|千|万|億|兆|(?:thousand|millions?|billions?|trillions?|milliards?|mille|milliers|mds?|mn|bn|k|m|b)\b)?",
    re.IGNORECASE,
)


def _value(digits: str) -> float:
    grouped = re.fullmatch(r"(\d{1,3}(?:[ ,\u202f]\d{3})+)(?:[.,](\d+))?", digits)  # 1,000.5 / 2 500,5
    if grouped:
        return float(re.sub(r"[ ,\u202f]", "", grouped.group(1)) + "." + (grouped.group(2) or "0"))
    return float(digits.replace(",", "."))


def extract_numbers(text: str) -> list[float]:
    """Every number in text as a value, with Japanese and English/French multipliers applied."""
    text = CITATION.sub(" ", unicodedata.normalize("NFKC", text).translate(BRACKET_VARIANTS))
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


SMALL_WORDS = {
    **dict.fromkeys(["zero", "zéro"], 0),
    **dict.fromkeys(["one", "un", "une"], 1),
    **dict.fromkeys(["two", "deux"], 2),
    **dict.fromkeys(["three", "trois"], 3),
    **dict.fromkeys(["four", "quatre"], 4),
    **dict.fromkeys(["five", "cinq"], 5),
    **dict.fromkeys(["six"], 6),
    **dict.fromkeys(["seven", "sept"], 7),
    **dict.fromkeys(["eight", "huit"], 8),
    **dict.fromkeys(["nine", "neuf"], 9),
    **dict.fromkeys(["ten", "dix"], 10),
    **dict.fromkeys(["eleven", "onze"], 11),
    **dict.fromkeys(["twelve", "douze"], 12),
    **dict.fromkeys(["thirteen", "treize"], 13),
    **dict.fromkeys(["fourteen", "quatorze"], 14),
    **dict.fromkeys(["fifteen", "quinze"], 15),
    **dict.fromkeys(["sixteen", "seize"], 16),
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    **dict.fromkeys(["twenty", "vingt", "vingts"], 20),
    **dict.fromkeys(["thirty", "trente"], 30),
    **dict.fromkeys(["forty", "quarante"], 40),
    **dict.fromkeys(["fifty", "cinquante"], 50),
    **dict.fromkeys(["sixty", "soixante"], 60),
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINAL_WORDS = {  # "the fourth layer" supports "4th" and 第4層; "first" and "second" are seldom numbers in speech
    "deuxième": 2,
    **dict.fromkeys(["third", "troisième"], 3),
    **dict.fromkeys(["fourth", "quatrième"], 4),
    **dict.fromkeys(["fifth", "cinquième"], 5),
    **dict.fromkeys(["sixth", "sixième"], 6),
    **dict.fromkeys(["seventh", "septième"], 7),
    **dict.fromkeys(["eighth", "huitième"], 8),
    **dict.fromkeys(["ninth", "neuvième"], 9),
    **dict.fromkeys(["tenth", "dixième"], 10),
    **dict.fromkeys(["eleventh", "onzième"], 11),
    **dict.fromkeys(["twelfth", "douzième"], 12),
    **dict.fromkeys(["twentieth", "vingtième"], 20),
    **dict.fromkeys(["thirtieth", "trentième"], 30),
}
SPOKEN_VALUES = {**SMALL_WORDS, **ORDINAL_WORDS}
MULTIPLIER_WORDS = {
    **dict.fromkeys(["hundred", "hundreds", "cent", "cents"], 100),
    **dict.fromkeys(["thousand", "thousands", "mille"], 1e3),
    **dict.fromkeys(["million", "millions"], 1e6),
    **dict.fromkeys(["billion", "billions", "milliard", "milliards"], 1e9),
    **dict.fromkeys(["trillion", "trillions"], 1e12),
}
KANJI_DIGITS = dict(zip("〇一二三四五六七八九", range(10)))
KANJI_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
KANJI_LARGE_UNITS = {"万": 1e4, "億": 1e8, "兆": 1e12}
KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十百千万億兆]+")


def _kanji_value(run: str) -> float | None:
    """二十 = 20, 三千五百 = 3500, 八万 = 80000; None for a run that is not a well-formed numeral."""
    total, section, digit = 0.0, 0.0, None
    for char in run:
        if char in KANJI_DIGITS:
            if digit is not None:
                return None
            digit = KANJI_DIGITS[char]
        elif char in KANJI_SMALL_UNITS:
            section += (1 if digit is None else digit) * KANJI_SMALL_UNITS[char]
            digit = None
        else:
            section += digit or 0
            if section == 0:
                return None
            total += section * KANJI_LARGE_UNITS[char]
            section, digit = 0.0, None
    return total + section + (digit or 0)


def spoken_numbers(text: str) -> list[float]:
    """Numbers written in words: "eight", "forty thousand", "quatre-vingt-dix", "the fourth", "二十". Read on the
    evidence's side only (a transcript of speech often spells numbers out); in a claim, "one" or 一 is too often
    no number."""
    values: list[float] = []
    text = unicodedata.normalize("NFKC", text)
    words = re.findall(r"[a-zà-ÿ]+|[^\sa-zà-ÿ]", text.lower().replace("-", " "))
    total, current = None, None  # the number read so far: total (thousands and up) + current (below)

    def flush():
        nonlocal total, current
        if total is not None or current is not None:
            values.append((total or 0) + (current or 0))
        total = current = None

    for position, word in enumerate(words):
        if word in ("a", "an") and position + 1 < len(words) and words[position + 1] in MULTIPLIER_WORDS:
            flush()
            current = 1  # a thousand, a hundred
        elif word in SPOKEN_VALUES:
            small = SPOKEN_VALUES[word]
            if current is None:
                current = small
            elif current == 4 and small == 20:
                current = 80  # quatre-vingt(s)
            elif current in (60, 80) and 10 <= small < 20:
                current += small  # soixante-dix, quatre-vingt-dix
            elif (current >= 100 and current % 100 == 0) or (current % 10 == 0 and current % 100 and small < 10):
                current += small  # two hundred (and) fifty, forty five
            else:
                flush()
                current = small
        elif word in MULTIPLIER_WORDS and (current is not None or total is not None or word in ("cent", "mille")):
            multiplier = MULTIPLIER_WORDS[word]
            current = (1 if current is None else current) * multiplier
            if multiplier >= 1e3:
                total, current = (total or 0) + current, None
        elif word == "and" and (current is not None or total is not None):
            continue
        else:
            flush()
    flush()
    for match in KANJI_NUMBER.finditer(text):
        if match.start() and text[match.start() - 1] in "0123456789.,":
            continue  # a unit after digits (5.5百万), read by extract_numbers
        value = _kanji_value(match.group())
        if value is not None:
            values.append(value)
    return values


def same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


def unsupported_numbers(claim: str, evidence: str, ignore: set[float] = frozenset()) -> list[float]:
    """The claim's numbers that the evidence does not contain (as values, in digits or words), except those
    in ignore."""
    found = extract_numbers(evidence) + spoken_numbers(evidence)
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
        exact = same_value(round(value / scale, 2), value / scale)  # else a smaller scale: 1,234.5 million
        if value >= scale and exact and not (french and scale == 1e12):  # French says "2 500 milliards"
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
