"""Turn retrieved chunks into the passages the model reads.

Chunks overlap by a sentence, so the best hits are often neighbours: those
that overlap or touch are merged into one passage. A passage that starts
mid-thought (a connective or demonstrative such as "しかし", "これは", "But")
gets the sentence before it, and one that ends without a full stop gets the
sentence after it, while it stays within a budget of weighted characters
(rag.ingest.weighted_length). Passages keep
transcript offsets, so citations can point into the transcript. No model is
involved here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .ingest import Sentence, weighted_length
from .retrieve import Hit

OPENS_MID_THOUGHT = re.compile(
    r"^(しかし|また|そして|それ|これ|この|その|そこ|つまり|さらに|ですから|したがって|なぜなら|一方|同時に|例えば|実際|でも|だから|ただし|もちろん|"
    r"(but|and|so|this|that|these|those|it|they|he|she|however|also|then|mais|et|donc|ce|cette|ces|il|elle|ils|cependant|alors)\b)",
    re.IGNORECASE,
)
ENDS_THOUGHT = re.compile(r"[。！？!?.」』）)\"”]$")


@dataclass(frozen=True)
class Passage:
    source: str
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]
    chunk_ids: tuple[str, ...]  # the retrieved chunks it covers, best first
    position: float  # where it starts in the video, 0..1
    rank: int  # best rank among its chunks
    start_time: float | None = None  # seconds, for timed transcripts
    end_time: float | None = None


def _sentence_range(sentences: tuple[Sentence, ...], start: int, end: int) -> tuple[int, int]:
    starts = [s.start for s in sentences]
    first = max(0, bisect.bisect_right(starts, start) - 1)
    last = max(first, bisect.bisect_left(starts, end) - 1)
    return first, last


def assemble(hits: list[Hit], index, budget_chars: int = 1000) -> list[Passage]:
    """Merge overlapping or adjacent hits and complete thoughts at the edges; best rank first."""
    groups: list[dict] = []  # {source, first, last (sentence indices), chunk_ids, rank}
    for hit in hits:
        transcript = index.transcript_of(hit.chunk)
        first, last = _sentence_range(transcript.sentences, hit.chunk.start, hit.chunk.end)
        for group in groups:
            if group["source"] == hit.chunk.source and first <= group["last"] + 1 and last >= group["first"] - 1:
                group["first"], group["last"] = min(first, group["first"]), max(last, group["last"])
                group["chunk_ids"].append(hit.chunk.id)
                break
        else:
            groups.append(
                {
                    "source": hit.chunk.source,
                    "first": first,
                    "last": last,
                    "chunk_ids": [hit.chunk.id],
                    "rank": hit.rank,
                }
            )

    merged: list[dict] = []  # a later hit may bridge two groups
    for group in sorted(groups, key=lambda g: (g["source"], g["first"])):
        previous = merged[-1] if merged else None
        if previous and previous["source"] == group["source"] and group["first"] <= previous["last"] + 1:
            previous["last"] = max(previous["last"], group["last"])
            first_rank = min(previous["rank"], group["rank"])
            ordered = [previous, group] if previous["rank"] <= group["rank"] else [group, previous]
            previous["chunk_ids"] = ordered[0]["chunk_ids"] + ordered[1]["chunk_ids"]
            previous["rank"] = first_rank
        else:
            merged.append(dict(group))

    passages = []
    for group in sorted(merged, key=lambda g: g["rank"]):
        transcript = index.transcripts[group["source"]]
        sentences, text = transcript.sentences, transcript.text
        first, last = group["first"], group["last"]

        def size(a, b, sentences=sentences, text=text):
            return weighted_length(text[sentences[a].start : sentences[b].end])

        if (
            first > 0
            and OPENS_MID_THOUGHT.match(text[sentences[first].start : sentences[first].end])
            and size(first - 1, last) <= budget_chars
        ):
            first -= 1
        if (
            last + 1 < len(sentences)
            and not ENDS_THOUGHT.search(text[sentences[last].start : sentences[last].end])
            and size(first, last + 1) <= budget_chars
        ):
            last += 1
        start, end = sentences[first].start, sentences[last].end
        times = [s.end_time for s in sentences[first : last + 1] if s.end_time is not None]
        passages.append(
            Passage(
                source=group["source"],
                start=start,
                end=end,
                text=text[start:end],
                sentences=tuple(sentences[first : last + 1]),
                chunk_ids=tuple(group["chunk_ids"]),
                position=start / max(1, len(text)),
                rank=group["rank"],
                start_time=sentences[first].start_time,
                end_time=max(times) if times else None,
            )
        )
    return passages
