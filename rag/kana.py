"""Match a katakana word to the Latin words it may transcribe, by their consonants.

A Japanese question writes a guest's name in katakana (マイク・マコート), the
library's titles write it in Latin letters (Mike McCourt), and the small chat
model's translation often garbles it ("Micah Cotter"). Both spellings are
reduced to sound keys: their consonants, with the distinctions katakana
cannot write merged (l/r, v/b, f/h, c/k/q, s/z; a silent h; an r that
closes a syllable: McCourt → マコート) and a consonant repeated with only
vowels between counted once, on both sides (Tasse and タッセ: "ts"). Vowels
are dropped, since katakana adds them after every consonant; "C" stands for
the sound of "ch" and チ. A Latin spelling that katakana hears more than
one way (ch in Charles, Michael, Charlotte; th in Smith, Thomas; g before e
or i; a closing ng) gives the word one key for each reading. Words that
sound alike share a key (マーケット, "market" and マコート all give "mkt";
"research" has ラシュカ's "rsk"): which words may be names, and where they
are looked for, is rag.episodes' to decide. This module only spells.
"""

from __future__ import annotations

import re
import unicodedata

KANA_CONSONANTS = {
    **dict.fromkeys("カキクケコ", "k"),
    **dict.fromkeys("ガギグゲゴ", "g"),
    **dict.fromkeys("サスセソシザズゼゾジヂヅ", "s"),  # s and z merged: James is ジェームズ
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
DIGRAPHS = [("sch", "s"), ("tch", "C"), ("zh", "s"), ("sh", "s"), ("ph", "f")]  # before the readings below
AMBIGUOUS = [  # spellings katakana hears more than one way; a word gets a key for each reading
    (re.compile("ch"), ("C", "k", "s")),  # Charles, Michael, Charlotte
    (re.compile("th"), ("s", "t")),  # Smith, Thomas
    (re.compile(r"g(?=[eiy])"), ("g", "s")),  # Gibson, George
    (re.compile(r"ng(?![aeiouy])"), ("ng", "n")),  # King, Wang
]
LATIN_SPELLINGS = [  # in this order (ce before c); what katakana hears for each
    ("ce", "se"),
    ("ci", "si"),
    ("cy", "sy"),
    ("ck", "k"),
    ("c", "k"),
    ("x", "ks"),
    ("q", "k"),
    ("l", "r"),
    ("v", "b"),
    ("f", "h"),
    ("j", "s"),
    ("z", "s"),
]
VOWELS = set("aeiouy")


def kana_key(word: str) -> str:
    """The consonants of a katakana word ("マコート" → "mkt"); "" for any other word."""
    if not re.fullmatch(r"[ァ-ヴー・]+", word):
        return ""
    word = re.sub(r"ウ(?=[ァィェォ])", "ワ", word)  # ウェ, ウィ: "we", "wi"
    return _collapse("".join(KANA_CONSONANTS.get(kana, "") for kana in word))


def latin_keys(word: str) -> set[str]:
    """The consonants of a Latin word as katakana would write them, one key for each reading of its
    ambiguous spellings ("mccourt" → {"mkt"}; "michael" → {"mCr", "mkr", "msr"}); empty for other words."""
    word = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()  # Éric → eric
    if not re.fullmatch(r"[a-z]+", word):
        return set()
    word = re.sub(r"([b-df-hj-np-tv-z])\1", r"\1", word)  # Matthew → mathew
    word = re.sub(r"(?<=[aeiouy])r(?![aeiouy])", "", word)  # McCourt → マコート, Parker → パーカー
    word = re.sub(r"(?<=[aeiouy])w(?![aeiouy])", "", word)  # Drew → ドリュー
    for spelling, sound in DIGRAPHS:
        word = word.replace(spelling, sound)
    readings = [word]
    for pattern, sounds in AMBIGUOUS:
        readings = list(dict.fromkeys(pattern.sub(sound, reading) for reading in readings for sound in sounds))
    keys = set()
    for reading in readings:
        reading = re.sub(r"h(?![aeiouy])", "", reading)  # a silent h: John → ジョン, Sarah → サラ
        for spelling, sound in LATIN_SPELLINGS:
            reading = reading.replace(spelling, sound)
        keys.add(_collapse("".join(letter for letter in reading if letter not in VOWELS)))
    return keys - {""}


def _collapse(key: str) -> str:
    return re.sub(r"(.)\1+", r"\1", key)


def sound_keys(word: str) -> set[str]:
    """Every key of a word, katakana or Latin (empty for any other)."""
    return (latin_keys(word) | {kana_key(word)}) - {""}
