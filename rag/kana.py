"""Match a katakana word to the Latin words it may transcribe, by their consonants.

A Japanese question writes a guest's name in katakana (マイク・マコート), the
library's titles write it in Latin letters (Mike McCourt), and the small chat
model's translation often garbles it ("Micah Cotter"). Both spellings are
reduced to a sound key: their consonants, with the distinctions katakana
cannot write merged (l/r, v/b, f/h, c/k/q, an r that closes a syllable:
McCourt → マコート), and a consonant repeated with only vowels between
merged too, on both sides (Tasse and タッセ: "ts"; Bob and ボブ: "b");
"C" stands for the sound of "ch" and チ.
マイク and "mike" both give "mk". Vowels are dropped, since katakana adds
them after every consonant. Words that sound
alike share a key (マーケット, "market" and マコート all give "mkt"): which
words may be names, and where they are looked for, is rag.episodes' to
decide. This module only spells.
"""

from __future__ import annotations

import re
import unicodedata

KANA_CONSONANTS = {
    **dict.fromkeys("カキクケコ", "k"),
    **dict.fromkeys("ガギグゲゴ", "g"),
    **dict.fromkeys("サスセソ", "s"),
    "シ": "s",
    **dict.fromkeys("ザズゼゾジヂヅ", "z"),
    **dict.fromkeys("タテト", "t"),
    "チ": "C",
    "ツ": "t",
    **dict.fromkeys("ダデド", "d"),
    **dict.fromkeys("ナニヌネノン", "n"),
    **dict.fromkeys("ハヒフヘホ", "h"),
    **dict.fromkeys("バビブベボヴ", "b"),
    **dict.fromkeys("パピプペポ", "p"),
    **dict.fromkeys("マミムメモ", "m"),
    **dict.fromkeys("ラリルレロ", "r"),
    "ワ": "w",
}
LATIN_SPELLINGS = [  # in this order (sch before ch, ch before c); what katakana hears for each
    ("sch", "s"),
    ("ce", "se"),
    ("ci", "si"),
    ("cy", "sy"),
    ("tch", "C"),
    ("ch", "C"),
    ("sh", "s"),
    ("ph", "h"),
    ("th", "s"),
    ("ck", "k"),
    ("x", "ks"),
    ("c", "k"),
    ("q", "k"),
    ("l", "r"),
    ("v", "b"),
    ("f", "h"),
    ("j", "z"),
]
VOWELS = set("aeiouy")


def kana_key(word: str) -> str:
    """The consonants of a katakana word ("マコート" → "mkt"); "" for any other word."""
    if not re.fullmatch(r"[ァ-ヴー・]+", word):
        return ""
    word = re.sub(r"ウ(?=[ァィェォ])", "ワ", word)  # ウェ, ウィ: "we", "wi"
    return _collapse("".join(KANA_CONSONANTS.get(kana, "") for kana in word))


def latin_key(word: str) -> str:
    """The consonants of a Latin word as katakana would write them ("mccourt" → "mkt"); "" for other words."""
    word = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()  # Éric → eric
    if not re.fullmatch(r"[a-z]+", word):
        return ""
    word = re.sub(r"(?<=[aeiouy])r(?![aeiouy])", "", word)  # McCourt → マコート, Parker → パーカー
    word = re.sub(r"(?<=[aeiouy])w(?![aeiouy])", "", word)  # Drew → ドリュー
    for spelling, sound in LATIN_SPELLINGS:
        word = word.replace(spelling, sound)
    return _collapse("".join(letter for letter in word if letter not in VOWELS))


def _collapse(key: str) -> str:
    return re.sub(r"(.)\1+", r"\1", key)
