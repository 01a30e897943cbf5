"""Turn a transcript file into clean text, sentences and overlapping chunks.

The transcripts come from a web page: a title line, the page's chrome
("この記事は約14分で読めます。", "7,817 文字"), the original-language title,
the text, and trailing "コメント" / "タイトルとURLをコピーしました". We keep
the titles as metadata and drop the chrome. Every offset refers to the
cleaned text (`Transcript.text`), so `text[start:end]` gives back the chunk.
This module does no embedding and no I/O beyond reading the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .lang import latin_share

READING_TIME = re.compile(r"^この記事は約\d+分で読めます。?$")
CHARACTER_COUNT = re.compile(r"^[\d,]+\s*文字$")
TRAILING_CHROME = {"コメント", "タイトルとURLをコピーしました"}
# A sentence ends after 。！？!? (and closing quotes/brackets), or after .  followed by space.
SENTENCE_END = re.compile(r"[。！？!?]+[」』）)\"'”]*|\.(?=\s)|\n+")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Transcript:
    source: str  # file name
    sha256: str
    title: str
    original_title: str
    text: str  # cleaned text; all offsets point into it
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Chunk:
    id: str  # "<source stem>#<n>"
    source: str
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]  # offsets in the cleaned transcript text
    position: float  # where the chunk starts, as a fraction of the transcript (0..1)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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


def read_transcript(path: Path) -> Transcript:
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    title, original_title, body = clean(raw)
    return Transcript(
        source=path.name,
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        title=title,
        original_title=original_title,
        text=body,
        sentences=tuple(split_sentences(body)),
    )


def chunk(transcript: Transcript, target_chars: int, overlap_sentences: int = 1) -> list[Chunk]:
    """Group whole sentences into chunks of about target_chars; consecutive chunks share sentences.

    A sentence longer than target_chars becomes a chunk of its own. Chunks
    never cross a paragraph (line) boundary unless a paragraph is shorter
    than the target, in which case they may.
    """
    if target_chars < 1:
        raise ValueError("target_chars must be positive")
    sentences = transcript.sentences
    stem = Path(transcript.source).stem
    chunks: list[Chunk] = []
    first = 0
    total = max(len(transcript.text), 1)
    while first < len(sentences):
        last = first
        while last + 1 < len(sentences) and sentences[last + 1].end - sentences[first].start <= target_chars:
            last += 1
        group = sentences[first : last + 1]
        start, end = group[0].start, group[-1].end
        chunks.append(
            Chunk(
                id=f"{stem}#{len(chunks)}",
                source=transcript.source,
                start=start,
                end=end,
                text=transcript.text[start:end],
                sentences=tuple(group),
                position=start / total,
            )
        )
        if last + 1 >= len(sentences):
            break
        first = max(last + 1 - overlap_sentences, first + 1)
    return chunks


def list_sources(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.txt") if p.is_file())
