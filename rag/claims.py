"""Check every claim of an answer against the passage it cites.

An answer is split into sentences (claims), each with the passages it cites.
A passage supports a claim when every number in the claim appears in it as a
value (rag.numbers: 5.5百万 = 550万 = 5.5 million), in English with what it
counts (rag.counts: "two employees" is not "two years"), and one of its sentences
is close to the claim: cross-lingual e5 similarity, or character-bigram
overlap (which works within one language, Japanese included). A claim whose
cited passage does not support it, but another retrieved passage does, is
re-pointed there. A claim that gives an entity a role (X's CEO, XのCEO, le PDG
de X) needs the passage to state that role for X: a small model asked about
a role the transcript only states for someone else (OpenAI's CEO given as
DeepSeek's) otherwise passes every other test. Where the passage gives the
role to nobody, the whole video is asked instead (an episode's intro says
who the guest is; its passages rarely say it again); the question never is. A claim nothing supports is
marked unsupported. Sentences that only talk about the passages ("This is
mentioned in passage [1].") or only say the question again are not claims
and are dropped. A name written in Latin letters is checked in a Japanese or
French claim about English speech too; a katakana name is not (it is a
transliteration). A claim's names must be in the cited video (its title or
text) or in the question; the question counts only when the video says one of
its names as a word of its own, in some spelling (rag.kana's sound keys:
speech recognition writes Streem as Stream): a claim citing another episode
than the one the question is about does not borrow the question's names. A
name of three Latin words or more must be there as written, not only word by
word (a small model makes up official titles from real words). No model generates anything here; the
e5 embedder only measures similarity.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from .context import Passage
from .counts import uncounted
from .ingest import Sentence
from .kana import sound_keys
from .lang import KATAKANA_WORD, LATIN_WORD, as_word, detect_language, latin_share
from .names import NAME, name_phrases, names_in
from .numbers import extract_numbers, spoken_numbers, unsupported_numbers
from .polarity import only_yes_or_no

# From 56 hand-labelled claims of the dev-set answers (tests/data/claim_labels.jsonl): cross-lingual e5
# similarity of true paraphrases ran 0.80-0.90 and of false claims 0.86-0.93, so similarity only
# rejects claims unrelated to every passage; numbers are the strict test.
SIMILARITY_THRESHOLD = 0.80
OVERLAP_THRESHOLD = 0.5
META_SENTENCE = re.compile(  # sentences about the passages given, not about the video
    r"(passages?|パッセージ|文節|箇所|mentioned in (?:the )?(?:passage|text)|stated in (?:the )?(?:passage|text)|"
    r"according to the (?:passage|text)|selon le passage|mentionné dans le passage|cité dans le passage)",
    re.IGNORECASE,
)
LATIN_LETTER = re.compile(r"[A-Za-z]")


ROLE = (
    r"(?:(?:CEO|COO|CTO|CFO|co-?founder|founder|chairman|president|PDG|cofondateur|fondateur|président)s?"
    r"|共同創業者|共同創設者|創業者|創設者|社長|会長|directeurs? généra(?:l|ux))"
)
ENTITY = r"([A-Z][A-Za-z0-9.\-]*[A-Za-z0-9]|[ァ-ヴ][ァ-ヴー]{2,})"
SAME_ROLE = {  # one name per role across the three languages
    "pdg": "ceo",
    "directeurgénéral": "ceo",
    "創業者": "founder",
    "創設者": "founder",
    "fondateur": "founder",
    "共同創業者": "cofounder",
    "共同創設者": "cofounder",
    "cofondateur": "cofounder",
    "社長": "president",
    "président": "president",
    "会長": "chairman",
}
ROLE_BINDINGS = [  # (pattern, group of the entity, group of the role)
    re.compile(ENTITY + r"\s*の\s*(" + ROLE + ")", re.IGNORECASE),
    re.compile(ENTITY + r"['’]s\s+(" + ROLE + ")", re.IGNORECASE),
    re.compile(r"(" + ROLE + r")\s+(?:of|de|d['’]|du)\s*" + ENTITY, re.IGNORECASE),
]


@functools.lru_cache(maxsize=32)  # a whole video's text is asked again for every claim
def role_bindings(text: str) -> frozenset[tuple[str, str]]:
    """(entity, role) pairs a text states: "OpenAIのCEO", "OpenAI's CEO", "CEO of OpenAI", "PDG d'OpenAI"."""
    pairs = set()
    for number, pattern in enumerate(ROLE_BINDINGS):
        for match in pattern.finditer(text):
            entity, role = (match.group(1), match.group(2)) if number < 2 else (match.group(2), match.group(1))
            role = re.sub(r"[\s\-]", "", role.lower())
            role = re.sub(r"^directeursgénéraux$", "directeurgénéral", role)
            role = role[:-1] if role.endswith("s") else role  # plurals: "the founders of X"
            pairs.add((entity.lower(), SAME_ROLE.get(role, role)))
    return frozenset(pairs)


def misassigned_roles(claim: str, evidence: str, aliases: dict[str, list[str]], video: str = "") -> list[str]:
    """Roles the claim gives an entity that the evidence does not state for it (under any of its spellings).
    Where the evidence gives that role to nobody, the whole `video` is asked (its intro says who the guest
    is); where it gives the role to someone else, the claim's entity must be among them."""
    stated = role_bindings(evidence)
    wrong = []
    for entity, role in role_bindings(claim):
        holders = {e for e, r in stated if r == role} or {e for e, r in role_bindings(video) if r == role}
        spellings = {entity}
        for known, variants in aliases.items():
            group = {v.lower() for v in (known, *variants)}
            if entity in group:
                spellings |= group
        if not holders & spellings:
            wrong.append(f"{entity} {role}")
    return wrong


@dataclass(frozen=True)
class ClaimCheck:
    text: str  # the claim without its citation markers
    cited: tuple[int, ...]  # passage numbers the model cited
    supported: bool
    support: int | None  # the passage number that supports it (may differ from cited: re-pointed)
    quote: Sentence | None  # the supporting sentence, offsets in the transcript
    score: float  # best similarity or overlap found in the supporting (or cited) passage
    missing: tuple  # numbers (values) and names of the claim absent from the cited passage

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "citations": [self.support] if self.support else list(self.cited),
            "cited_by_model": list(self.cited),
            "supported": self.supported,
            "score": round(self.score, 3),
            "missing": [f"{m:g}" if isinstance(m, float) else m for m in self.missing],
        }


SAYS_WHERE = re.compile(
    r"(述べられて|記載されて|書かれて|mentioned|stated|indicated|mentionné|indiqué|cité)", re.IGNORECASE
)


QUOTED = re.compile(r"\"[^\"]*\"?|“[^”]*”?|「[^」]*」?|«[^»]*»?")


def is_meta(claim: str) -> bool:
    """A sentence about the passages rather than about the video: it names them (quoting them counts as
    naming), or it is a short "this is stated in [1]" (これは[1]で述べられています) with nothing else in it;
    a sentence with no letters at all is no claim either."""
    if not any(c.isalpha() for c in claim):
        return True
    claim = QUOTED.sub("", claim).strip()
    if extract_numbers(claim):
        return False
    names_them = bool(META_SENTENCE.search(claim)) and len(claim) < 120
    return names_them or (bool(SAYS_WHERE.search(claim)) and len(claim) < 30)


def adds_nothing(claim: str, question: str) -> bool:
    """The claim only says the question again: every pair of letters in it is in the question (case,
    spaces and punctuation aside), so it states no answer; an added "yes", name or number is new."""
    letters = _bigrams(re.sub(r"[^\w]", "", claim))
    return bool(question) and bool(letters) and letters <= _bigrams(re.sub(r"[^\w]", "", question))


def _flat(text: str) -> str:
    return re.sub(r"[\s\-_]+", " ", text.lower())


def _spellings(name: str, aliases: dict[str, list[str]]) -> set[str]:
    """The name and its glossary spellings."""
    spellings = {name}
    for known, variants in aliases.items():
        group = {known, *variants}
        if any(name.lower() == g.lower() for g in group):
            spellings |= group
    return spellings


def _written(name: str, flat_text: str, aliases: dict[str, list[str]]) -> bool:
    """The name, or a glossary spelling of it, is in the text (as _flat gives it)."""
    return any(_flat(spelling) in flat_text for spelling in _spellings(name, aliases))


PHRASE_WORDS = 3  # a name of this many Latin words or more must be written as one: "Meta Llama" may be composed


def missing_names(claim: str, evidence: str, aliases: dict[str, list[str]], also: tuple[str, ...] = ()) -> list[str]:
    """The claim's names absent from the evidence, counting glossary spellings as the same name; `also`: more
    names to look for when the claim writes them (the question's, which may open the claim's sentence). A name
    of PHRASE_WORDS Latin words or more must be there as written, not only word by word: a small model makes up
    official titles from real words ("Scripps Research Translational Institute COVID-19 Cluster Detection Study")."""
    names = names_in(claim)
    names += [name for name in also if name not in names and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", claim)]
    flat_evidence = _flat(evidence)
    missing = [name for name in names if not _written(name, flat_evidence, aliases)]
    for phrase in name_phrases(claim, with_openers=True):
        words = NAME.findall(phrase)
        latin = all(re.fullmatch(r"[A-Za-z0-9.\-]+", word) for word in words)
        if len(words) >= PHRASE_WORDS and latin and not set(words) & set(missing):
            if not _written(phrase, flat_evidence, aliases):
                missing.append(phrase)
    return missing


MIN_HEARD_KEY = 3  # characters a sound key (rag.kana) needs before a misheard spelling counts (Streem / Stream)
MIN_SAID_LETTERS = 3  # a shorter piece of a name (the "Li" of Fei-Fei Li, the "19" of COVID-19) tells no video apart


@dataclass(frozen=True)
class Heard:
    """What a video says, for telling whether it says a name."""

    text: str  # lower-case, runs of spaces, hyphens and underscores as one space
    joined: frozenset[str]  # each two neighbouring words written as one ("open ai" → "openai")
    keys: frozenset[str]  # sound keys of the words it capitalizes inside a sentence, and of its katakana words


def _opens_sentence(text: str, position: int) -> bool:
    before = text[max(0, position - 4) : position].rstrip(" \"“'«")
    return not before or before[-1] in ".!?。！？\n"


@functools.lru_cache(maxsize=32)  # a whole video's text is asked again for every claim
def heard_in(video: str) -> Heard:
    """The video's Heard. Only capitalized words give sound keys, and not those opening a sentence: common
    words would sound like names (Raschka like "risk")."""
    words = re.findall(rf"[{LATIN_WORD}]+|[{KATAKANA_WORD}]+", video.lower())
    named = [
        match.group().lower()
        for match in re.finditer(rf"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ]+|[{KATAKANA_WORD}]+", video)
        if match.group()[0] in KATAKANA_WORD or not _opens_sentence(video, match.start())
    ]
    keys = {key for word in set(named) for key in sound_keys(word) if len(key) >= MIN_HEARD_KEY}
    return Heard(_flat(video), frozenset(a + b for a, b in zip(words, words[1:])), frozenset(keys))


def said_in_video(name: str, video: str, aliases: dict[str, list[str]]) -> bool:
    """The video says this name as a word of its own (not "alpha" in "alphabet"), in some spelling: as written,
    a glossary spelling, split in two ("open AI" for OpenAI), or, for a name long enough to tell (MIN_HEARD_KEY),
    a capitalized or katakana word that sounds the same (speech recognition writes Streem as Stream)."""
    heard = heard_in(video)
    for spelling in _spellings(name, aliases):
        flat = _flat(spelling)
        if len(re.findall(rf"[a-zà-öø-ÿ{KATAKANA_WORD}]", flat)) < MIN_SAID_LETTERS:
            continue
        if re.search(as_word(flat), heard.text) or flat.replace(" ", "") in heard.joined:
            return True
    return bool(sound_keys(name) & heard.keys)


def video_says_a_name_of(question: str, video: str, aliases: dict[str, list[str]]) -> bool:
    """The video says one of the question's names, in some spelling (a word of a name phrase: "Melika" of
    "Melika Payvand"). Only then may a claim use the question's names without the video writing them; a
    question none of whose names the video says is about another video, or about something this one never
    mentions."""
    return any(
        said_in_video(word, video, aliases)
        for phrase in name_phrases(question)
        for word in re.split(r"[ \-・]", phrase)
        if word
    )


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", text.lower())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(claim: str, sentence: str) -> float:
    a = _bigrams(claim)
    return len(a & _bigrams(sentence)) / len(a) if a else 0.0


def _assess(text: str, n: int, similarity: np.ndarray, offsets, sentence_texts, sentence_spans):
    """(close, score, best sentence, its neighbourhood's text) of claim `text` in passage n (1-based)."""
    sims = similarity[offsets[n - 1] : offsets[n]]
    texts = sentence_texts[n - 1]
    overlaps = np.array([overlap(text, t) for t in texts])
    best = int(np.argmax(np.maximum(sims, overlaps)))
    window = "".join(texts[max(0, best - 1) : best + 2])
    close = bool(sims.max() >= SIMILARITY_THRESHOLD or overlaps.max() >= OVERLAP_THRESHOLD)
    return close, float(max(sims.max(), overlaps.max())), sentence_spans[n - 1][best], window


def inherit_citations(claims: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """A claim without a marker takes the next claim's (a paragraph-final [n] covers it), else the previous one's."""
    result = list(claims)
    following: list[int] = []
    for i in range(len(result) - 1, -1, -1):
        text, cited = result[i]
        if cited:
            following = cited
        elif following:
            result[i] = (text, following)
    previous: list[int] = []
    for i, (text, cited) in enumerate(result):
        if cited:
            previous = cited
        elif previous:
            result[i] = (text, previous)
    return result


def check_claims(
    claims: list[tuple[str, list[int]]],
    passages: list[Passage],
    transcripts: dict,
    embedder,
    question: str = "",
    aliases: dict[str, list[str]] | None = None,
) -> list[ClaimCheck]:
    """Check (claim, cited passage numbers) pairs against the numbered passages; meta sentences and sentences
    that only repeat the question or only say yes or no are dropped.

    A claim is supported by the passages it cites when one of them is close
    to it, every number it states is in the neighbourhood (the best sentence
    and the ones beside it) of the cited passages, and, when claim and passage
    share a language, every name it uses is in the passage's video or, when that
    video says one of the question's names, in the question. Otherwise the best
    single other passage that supports it that way takes the citation.
    """
    claims = inherit_citations(
        [
            (text, cited)
            for text, cited in claims
            if text.strip() and not is_meta(text) and not adds_nothing(text, question) and not only_yes_or_no(text)
        ]
    )
    if not claims or not passages:
        return [ClaimCheck(t, tuple(c), False, None, None, 0.0, ()) for t, c in claims]
    sentence_spans = [list(p.sentences) for p in passages]
    sentence_texts = [
        [transcripts[p.source].text[s.start : s.end] for s in spans] for p, spans in zip(passages, sentence_spans)
    ]
    sentence_vectors = embedder.embed_passages([t for texts in sentence_texts for t in texts])
    claim_vectors = embedder.embed_queries([t for t, _ in claims])
    offsets = np.cumsum([0] + [len(t) for t in sentence_texts])
    ignore = set(extract_numbers(question))  # numbers the question itself states need no support
    asked = ignore | set(spoken_numbers(question))  # and the counts it asks about ("which two properties")
    aliases = aliases or {}
    asked_names = tuple(names_in(question))
    vouched: dict[str, bool] = {}  # per cited video: may the question's names count (video_says_a_name_of)

    def lacking(text: str, window: str, passage_text: str, source: str) -> tuple:
        """Numbers must be near the matching sentence; names somewhere in the same video (its title and text), or
        in the question when the video says one of its names (video_says_a_name_of). Names count when written in the
        passage's script: any name when claim and passage share a language, only Latin-script names in a
        Japanese or French claim about Latin-script speech (across scripts names get transliterated: Stargate /
        スターゲート). A speaker's name is rarely repeated in each passage of a talk."""
        language, passage_language = detect_language(text), detect_language(passage_text)
        counts = uncounted(text, window, asked) if language == "en" == passage_language else []
        if source not in vouched:
            vouched[source] = video_says_a_name_of(question, source, aliases)
        evidence = f"{question}\n{source}" if vouched[source] else source
        if language == passage_language:
            names = missing_names(text, evidence, aliases, asked_names)
        elif latin_share(passage_text) > 0.5:
            names = [n for n in missing_names(text, evidence, aliases, asked_names) if LATIN_LETTER.search(n)]
        else:
            names = []
        return (
            *unsupported_numbers(text, window, ignore),
            *counts,
            *names,
            *misassigned_roles(text, passage_text, aliases, source),
        )

    def source_of(numbers) -> str:
        names = dict.fromkeys(passages[n - 1].source for n in numbers)
        return "\n".join(
            f"{transcripts[name].title}\n{transcripts[name].text}" for name in names if name in transcripts
        )

    results = []
    for (text, cited), vector in zip(claims, claim_vectors):
        similarity = sentence_vectors @ vector
        verdicts = {
            n: _assess(text, n, similarity, offsets, sentence_texts, sentence_spans)
            for n in range(1, len(passages) + 1)
        }
        valid = [n for n in dict.fromkeys(cited) if n in verdicts]
        cited_text = " ".join(passages[n - 1].text for n in valid)
        missing = lacking(text, "".join(verdicts[n][3] for n in valid), cited_text, source_of(valid)) if valid else ()
        close = [n for n in valid if verdicts[n][0]]
        if close and not missing:
            n = max(close, key=lambda m: verdicts[m][1])
        else:
            others = [
                m
                for m in verdicts
                if m not in valid
                and verdicts[m][0]
                and not lacking(text, verdicts[m][3], passages[m - 1].text, source_of([m]))
            ]
            n = max(others, key=lambda m: verdicts[m][1]) if others else None
        if n is None:
            score = max((verdicts[m][1] for m in valid), default=max(v[1] for v in verdicts.values()))
            if not valid:
                everything = " ".join(p.text for p in passages)
                missing = lacking(text, everything, everything, source_of(range(1, len(passages) + 1)))
            results.append(ClaimCheck(text, tuple(cited), False, None, None, score, missing))
        else:
            _, score, sentence, _ = verdicts[n]
            results.append(ClaimCheck(text, tuple(cited), True, n, sentence, score, missing))
    return results
