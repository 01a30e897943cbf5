"""Turn a transcript file into clean text, timed sentences and overlapping chunks.

Timed files (SRT, WebVTT, Whisper JSON; read by rag.readers) are cues cut
mid-sentence: their text is joined, split into sentences again, and every
sentence keeps the time span of the cues it covers (a sentence longer than
`LONG_SENTENCE` characters is cut at cue boundaries, since speech
recognition does not always punctuate). A speaker label starts a new line
("SPEAKER_00: ..."), so it stays with its text and is searchable.

Plain text (`.txt`) may come from a web page: a title line, the page's
chrome ("この記事は約14分で読めます。", "7,817 文字"), the original-language
title, the text, and trailing "コメント" / "タイトルとURLをコピーしました".
We keep the titles as metadata and drop the chrome; its sentences have no
times, only a position in the text.

Metadata comes from an optional sidecar `<name>.meta.json` (title, url,
language, date, speakers), else from the file; a title defaults to a readable
form of the file name. Every offset refers to the cleaned text
(`Transcript.text`), so `text[start:end]` gives back the chunk. This module
does no embedding and no I/O beyond reading the file and its sidecar.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError
from .lang import latin_share
from .readers import Cue, decode, is_transcript_file, read_document

READING_TIME = re.compile(r"^この記事は約\d+分で読めます。?$")
CHARACTER_COUNT = re.compile(r"^[\d,]+\s*文字$")
TRAILING_CHROME = {"コメント", "タイトルとURLをコピーしました"}
# A sentence ends after 。！？!? (and closing quotes/brackets), or after .  followed by space.
SENTENCE_END = re.compile(r"[。！？!?]+[」』）)\"'”]*|\.(?=\s)|\n+")
LONG_SENTENCE = 400  # characters; a longer timed sentence is cut at cue boundaries
WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
WIDE_WEIGHT = 2.5  # a Japanese character carries about as much as 2.5 Latin ones
META_FIELDS = ("title", "url", "language", "date", "speakers")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    start_time: float | None = None  # seconds, for timed transcripts
    end_time: float | None = None


@dataclass(frozen=True)
class Transcript:
    source: str  # file name
    sha256: str  # of the file (and its sidecar)
    title: str
    original_title: str
    text: str  # cleaned text; all offsets point into it
    sentences: tuple[Sentence, ...]
    format: str = "txt"  # srt, vtt, whisper-json, whispercpp-json, whisperx-json, txt
    url: str = ""
    language: str = ""
    date: str = ""
    speakers: tuple[str, ...] = ()
    duration: float | None = None  # seconds: the last cue's end, for timed transcripts

    @property
    def timed(self) -> bool:
        return self.duration is not None


@dataclass(frozen=True)
class Chunk:
    id: str  # "<source stem>#<n>"
    source: str
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]  # offsets in the cleaned transcript text
    position: float  # where the chunk starts, as a fraction of the transcript (0..1)
    start_time: float | None = None  # seconds, for timed transcripts
    end_time: float | None = None


def clean(raw: str) -> tuple[str, str, str]:
    """Return (title, original_title, body) with the page chrome removed.

    Layout: title, optional tagline, chrome lines (reading time, character
    count), then the original-language title and its truncated description
    ("..."), then the body. Files without the chrome are all body after the title.
    """
    lines = [line.strip() for line in raw.replace("\r\n", "\n").split("\n")]
    while lines and (not lines[-1] or lines[-1] in TRAILING_CHROME):
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        return "", "", ""
    title, rest = lines[0], lines[1:]
    chrome = [i for i, line in enumerate(rest) if READING_TIME.match(line) or CHARACTER_COUNT.match(line)]
    original_title = ""
    if chrome:
        rest = rest[chrome[-1] + 1 :]
        while rest and not rest[0]:
            rest.pop(0)
        if rest and latin_share(rest[0]) > 0.5:
            original_title = rest.pop(0)
            if rest and rest[0].endswith(("...", "…")) and latin_share(rest[0]) > 0.5:
                rest.pop(0)  # the original video's truncated description
    body = "\n".join(line for line in rest if line)
    return title, original_title, body


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentence spans of text (Japanese and Western punctuation, and line breaks), whitespace trimmed."""
    spans = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    sentences = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            sentences.append(Sentence(a + offset, b + offset))
    return sentences


def readable_title(path: Path) -> str:
    """'twiml-039-rana-el-kaliouby' -> 'Twiml 039 rana el kaliouby'."""
    words = re.sub(r"[-_.\s]+", " ", Path(path).stem).strip()
    return words[:1].upper() + words[1:] if words else Path(path).name


def sidecar_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).stem + ".meta.json")


def read_sidecar(path: Path) -> dict:
    """The sidecar's known fields, checked; {} when there is none."""
    sidecar = sidecar_path(path)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8-sig"))
        if not isinstance(data, dict):
            raise ValueError
    except OSError as error:
        raise RagError(
            f"cannot read {sidecar.name} ({error.strerror or error}); make it a readable file or remove it"
        ) from None
    except (ValueError, RecursionError):
        raise RagError(
            f'{sidecar.name} is not a JSON object like {{"title": "...", "url": "https://..."}}; fix or remove it'
        ) from None
    meta = {}
    for name in META_FIELDS:
        value = data.get(name)
        if name == "speakers" and isinstance(value, list):
            meta[name] = tuple(str(v) for v in value)
        elif isinstance(value, (str, int, float)) and name != "speakers":
            meta[name] = str(value).strip()
    return meta


def timed_text(cues: list[Cue]) -> tuple[str, list[tuple[int, int, float, float]]]:
    """Join cues into text; return it with each cue's (start, end) offsets and (start, end) times.

    Cues are joined with a space; a change of speaker starts a new line with the speaker's label.
    """
    parts: list[str] = []
    spans: list[tuple[int, int, float, float]] = []
    length = 0
    speaker = None
    for cue in cues:
        if cue.speaker and cue.speaker != speaker:
            separator = ("\n" if parts else "") + f"{cue.speaker}: "
            speaker = cue.speaker
        else:
            separator = " " if parts else ""
        parts.append(separator)
        length += len(separator)
        start_time = cue.start or 0.0
        spans.append((length, length + len(cue.text), start_time, max(start_time, cue.end or start_time)))
        parts.append(cue.text)
        length += len(cue.text)
    return "".join(parts), spans


def timed_sentences(text: str, spans: list[tuple[int, int, float, float]]) -> list[Sentence]:
    """Sentences of a timed text, each with the times of the cues it covers; long ones cut at cue boundaries."""
    cue_ends = [s[1] for s in spans]

    def cue_at(offset: int) -> int:
        """The cue holding the character at offset; a separator or speaker label belongs to the cue after it."""
        return min(len(spans) - 1, bisect.bisect_right(cue_ends, offset))

    sentences = []
    for sentence in split_sentences(text):
        pieces = [(sentence.start, sentence.end)]
        if sentence.end - sentence.start > LONG_SENTENCE:
            cuts = [s[0] for s in spans if sentence.start < s[0] < sentence.end]
            pieces, start = [], sentence.start
            for cut in cuts:
                if cut - start >= LONG_SENTENCE // 2:
                    pieces.append((start, cut))
                    start = cut
            pieces.append((start, sentence.end))
        for a, b in pieces:
            while b > a and text[b - 1].isspace():
                b -= 1
            while a < b and text[a].isspace():
                a += 1
            if b <= a:
                continue
            first, last = cue_at(a), cue_at(b - 1)
            end_time = max(spans[i][3] for i in range(first, last + 1))
            sentences.append(Sentence(a, b, spans[first][2], max(end_time, spans[first][2])))
    return sentences


def sha256_file(path: Path) -> str:
    """The file's sha256; with a sidecar, of both (editing the sidecar changes the transcript's metadata)."""
    sidecar = sidecar_path(path)
    try:
        digest = hashlib.sha256(Path(path).read_bytes())
        if sidecar.exists():
            digest.update(b"\0meta\0" + sidecar.read_bytes())
    except OSError as error:
        raise RagError(
            f"cannot read {error.filename or path} ({error.strerror or error}); make it a readable file or remove it"
        ) from None
    return digest.hexdigest()


def read_transcript(path: Path) -> Transcript:
    """Read a transcript file (.srt, .vtt, Whisper .json, .txt) and its sidecar into a Transcript."""
    path = Path(path)
    document = read_document(path)
    meta = read_sidecar(path)
    if document.format == "txt":
        raw = decode(path.read_bytes(), path.name)
        title, original_title, text = clean(raw)
        sentences, duration = split_sentences(text), None
    else:
        original_title = ""
        title = document.title
        text, spans = timed_text(list(document.cues))
        sentences = timed_sentences(text, spans)
        duration = max(s[3] for s in spans) if spans else 0.0
    if not text.strip():
        raise RagError(f"{path.name} has no text; remove it or fix the file")
    speakers = tuple(dict.fromkeys(c.speaker for c in document.cues if c.speaker))
    return Transcript(
        source=path.name,
        sha256=sha256_file(path),
        title=meta.get("title") or title or readable_title(path),
        original_title=original_title,
        text=text,
        sentences=tuple(sentences),
        format=document.format,
        url=meta.get("url", ""),
        language=meta.get("language") or document.language,
        date=meta.get("date", ""),
        speakers=meta.get("speakers") or speakers,
        duration=duration,
    )


def weighted_length(text: str) -> float:
    """Length in Latin-equivalent characters: a Japanese (wide) character counts WIDE_WEIGHT."""
    wide = len(WIDE.findall(text))
    return len(text) - wide + WIDE_WEIGHT * wide


def cumulative_weights(text: str) -> list[float]:
    """weights[i] = weighted_length(text[:i])."""
    wide = {m.start() for m in WIDE.finditer(text)}
    return [0.0, *itertools.accumulate(WIDE_WEIGHT if i in wide else 1.0 for i in range(len(text)))]


def chunk(transcript: Transcript, target_chars: int, overlap_sentences: int = 1) -> list[Chunk]:
    """Group whole sentences into chunks of about target_chars; consecutive chunks share sentences.

    Sizes are weighted lengths (`weighted_length`), so a chunk holds about as much in Japanese as in
    English or French. A sentence longer than target_chars becomes a chunk of its own.
    """
    if target_chars < 1:
        raise ValueError("target_chars must be positive")
    sentences = transcript.sentences
    stem = Path(transcript.source).stem
    chunks: list[Chunk] = []
    first = 0
    total = max(len(transcript.text), 1)
    weights = cumulative_weights(transcript.text)
    while first < len(sentences):
        last = first
        while (
            last + 1 < len(sentences)
            and weights[sentences[last + 1].end] - weights[sentences[first].start] <= target_chars
        ):
            last += 1
        group = sentences[first : last + 1]
        start, end = group[0].start, group[-1].end
        times = [s.end_time for s in group if s.end_time is not None]
        chunks.append(
            Chunk(
                id=f"{stem}#{len(chunks)}",
                source=transcript.source,
                start=start,
                end=end,
                text=transcript.text[start:end],
                sentences=tuple(group),
                position=start / total,
                start_time=group[0].start_time,
                end_time=max(times) if times else None,
            )
        )
        if last + 1 >= len(sentences):
            break
        first = max(last + 1 - overlap_sentences, first + 1)
    return chunks


def list_sources(folder: Path) -> list[Path]:
    """The transcript files of a library folder (.srt, .vtt, .json, .txt; not sidecars), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and is_transcript_file(p))
    except OSError as error:
        raise RagError(f"cannot list the library {folder} ({error.strerror or error}); fix its permissions") from None
