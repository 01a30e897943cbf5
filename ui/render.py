"""HTML for the browser UI: answers with their sources, and the transcript view.

Pure functions from an `Answer` (or a transcript) to HTML strings; all
transcript, user and model text is escaped, and a link to the video is only
ever an http(s) address (rag.moments). A timed transcript shows its time
every 30 seconds. Each cited quote gets an anchor id
derived from its transcript offsets; a citation link jumps there and the
page's CSS highlights the target, so no JavaScript is needed.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from rag.moments import time_label

ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'[]()*_`!#~|\\"})


def escape(value: str) -> str:
    """Text for the page: HTML's special characters and Markdown's as numeric entities (the chat renders
    Markdown), so nothing a user, a file or the model wrote becomes markup, a link or a script; only the tags
    built here do."""
    return value.translate(ENTITIES)


_text = escape

ALLOWED_TAGS = {"a", "b", "br", "details", "div", "mark", "p", "span", "summary"}
ALLOWED_ATTRIBUTES = {"class", "id", "href", "data-target", "target", "rel", "open"}
SAFE_HREF = ("#", "https://", "http://")


class _AllowList(HTMLParser):
    """Re-emits a fragment keeping only allowed tags and attributes; all text is escaped again."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        if tag not in ALLOWED_TAGS or self.skipping:
            return
        kept = []
        for name, value in attrs:
            value = value or ""
            if name not in ALLOWED_ATTRIBUTES or (name == "href" and not value.lower().startswith(SAFE_HREF)):
                continue
            kept.append(f' {name}="{html.escape(value)}"' if value or name != "open" else f" {name}")
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping = max(0, self.skipping - 1)
        elif tag in ALLOWED_TAGS and tag != "br" and not self.skipping:
            self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(escape(data))


def allow_listed(fragment: str) -> str:
    """The fragment with only the tags and attributes this module builds (an allow-list, not a block-list):
    a second line of defence behind escaping, since the chat shows this HTML unsanitized by Gradio."""
    parser = _AllowList()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)


CSS = """
#transcript-view { max-height: 78vh; overflow-y: auto; padding: 0 0.6em; line-height: 1.7; }
#transcript-view .transcript-title { font-weight: 700; margin: 0.2em 0; }
#transcript-view .original-title { color: #666; font-style: italic; margin-bottom: 0.8em; }
mark.cited { background: #fff1a8; padding: 0 1px; border-radius: 2px; scroll-margin-top: 30vh; }
mark.cited:target, mark.cited.active { background: #ff9f43; outline: 2px solid #d35400; }
.sources { font-size: 0.92em; }
.sources .source { margin: 0.5em 0; padding: 0.4em 0.6em; border-left: 3px solid #4a90d9; background: rgba(74,144,217,0.07); }
.sources .source.unsupported { border-left-color: #c0392b; }
.sources .meta { color: #555; font-size: 0.9em; }
.sources .removed { color: #c0392b; }
.sources .passage mark { background: #fff1a8; }
.sources .moment { font-weight: 600; }
#transcript-view .ts { color: #888; font-size: 0.8em; margin-right: 0.3em; font-variant-numeric: tabular-nums; }
"""


def anchor_id(source: str, start: int, end: int) -> str:
    return "q-" + re.sub(r"[^A-Za-z0-9]", "_", source) + f"-{start}-{end}"


def position_label(position: float) -> str:
    return f"at {round(position * 100)}% of the video"


def moment_label(title: str, start_time: float | None, position: float) -> str:
    """'Title — 12:34', or 'Title — at 18% of the video' for untimed text."""
    label = time_label(start_time)
    return f"{title} — {label}" if label else f"{title} — {position_label(position)}"


def _quote_in_context(text: str, passage_start: int, quote_start: int, quote_end: int, context: int = 1) -> str:
    """The quote highlighted, with up to `context` sentences of its passage on each side."""
    from rag.ingest import split_sentences

    a, b = quote_start - passage_start, quote_end - passage_start
    if not (0 <= a <= b <= len(text)):
        return _text(text)
    sentences = split_sentences(text)
    before = [s for s in sentences if s.end <= a][-context:]
    after = [s for s in sentences if s.start >= b][:context]
    start = before[0].start if before else a
    end = after[-1].end if after else b
    return (
        ("… " if start > 0 else "")
        + _text(text[start:a])
        + "<mark>"
        + _text(text[a:b])
        + "</mark>"
        + _text(text[b:end])
        + (" …" if end < len(text) else "")
    )


def render_sources(answer, titles: dict[str, str] | None = None) -> str:
    """The Sources block for one answer: cited passages with their quotes, or the closest passages of a refusal."""
    titles = titles or {}
    parts = ['<div class="sources">']
    if answer.refused:
        parts.append("<p><b>Closest passages</b> (none of them answers the question):</p>")
        for n, passage in enumerate(answer.passages[:3], start=1):
            label = moment_label(titles.get(passage.source, passage.source), passage.start_time, passage.position)
            parts.append(
                f'<div class="source"><span class="meta">{n}. {_text(label)}</span>'
                f'<div class="passage">{_text(passage.text)}</div></div>'
            )
    for c in answer.citations:
        target = anchor_id(c.source, c.quote_start, c.quote_end)
        status = "✓ supported by this passage" if c.supported else "✗ not supported"
        label = _text(moment_label(c.title or c.source, c.quote_start_time, c.position))
        if c.url:
            label += f' <a class="video-link" href="{_text(c.url)}" target="_blank" rel="noopener noreferrer">▶ open the video here</a>'
        parts.append(
            f'<div class="source{"" if c.supported else " unsupported"}">'
            f'<a class="cite-link" href="#{target}" data-target="{target}">[{c.n}]</a> '
            f'<span class="moment">{label}</span><br>'
            f'<span class="meta">{status} (score {c.score:.2f}) · {_text(c.chunk_id)}</span>'
            f'<div class="passage">{_quote_in_context(c.text, c.start, c.quote_start, c.quote_end)}</div></div>'
        )
    for claim in getattr(answer, "removed_claims", []):
        lacking = ", ".join(f"{m:g}" if isinstance(m, float) else str(m) for m in claim.missing)
        parts.append(
            f'<div class="source unsupported"><span class="removed">✗ Removed, not supported by the transcript:</span> '
            f"“{_text(claim.text)}”"
            + (f' <span class="meta">(not in the passage: {escape(lacking)})</span>' if lacking else "")
            + "</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_answer(answer, titles: dict[str, str] | None = None) -> str:
    """The chat message for a finished answer: the checked text, then a collapsible Sources block."""
    count = len(answer.citations) or len(answer.passages[:3])
    label = "Sources" if answer.citations else "Closest passages"
    return allow_listed(
        f"{_text(answer.answer)}\n\n"
        f'<details class="sources-panel" open><summary>{label} ({count})</summary>'
        f"{render_sources(answer, titles)}</details>"
    )


def time_marks(transcript, every: float = 30.0) -> dict[int, str]:
    """{offset: "12:34"} at the first sentence of every `every` seconds, for a timed transcript."""
    marks, next_at = {}, 0.0
    for sentence in transcript.sentences:
        if sentence.start_time is not None and sentence.start_time >= next_at:
            marks[sentence.start] = time_label(sentence.start_time)
            next_at = (sentence.start_time // every + 1) * every
    return marks


def render_transcript(transcript, quotes: set[tuple[int, int]]) -> str:
    """The cleaned transcript with its titles; every cited quote marked with its anchor."""
    text = transcript.text
    marks = time_marks(transcript)

    def plain(a: int, b: int) -> str:
        out, cursor = [], a
        for offset in sorted(o for o in marks if a <= o < b):
            out.append(_text(text[cursor:offset]) + f'<span class="ts">{marks[offset]}</span>')
            cursor = offset
        return "".join(out) + _text(text[cursor:b])

    pieces, cursor = [], 0
    for start, end in sorted(q for q in quotes if 0 <= q[0] < q[1] <= len(text)):
        if start < cursor:
            continue
        pieces.append(plain(cursor, start))
        pieces.append(f'<mark class="cited" id="{anchor_id(transcript.source, start, end)}">{plain(start, end)}</mark>')
        cursor = end
    pieces.append(plain(cursor, len(text)))
    body = "".join(pieces).replace("\n", "<br>\n")
    original = (
        f'<div class="original-title">{escape(transcript.original_title)}</div>' if transcript.original_title else ""
    )
    return allow_listed(
        f'<div id="transcript-view"><div class="transcript-title">{escape(transcript.title)}</div>'
        f'{original}<div class="transcript-body">{body}</div></div>'
    )
