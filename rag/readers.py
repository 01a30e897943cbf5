"""Read transcript files (SubRip, WebVTT, Whisper JSON, plain text) into timed cues.

It decodes the bytes (UTF-8, UTF-16, UTF-32, Shift_JIS/CP932, EUC-JP), strips markup, and undoes
YouTube's rolling auto-captions so that each spoken piece comes out once. It deliberately does no
cleaning of plain text (web-page chrome, titles), no sentence splitting and no chunking: callers do that.
Any bad, truncated or binary file gives a RagError, never a traceback.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RagError

SUFFIXES = (".srt", ".vtt", ".json", ".txt")
_EXCLUDED = (".meta.json", ".aliases.json")
_GIVE = "give an .srt, .vtt, .json or .txt transcript"


@dataclass(frozen=True)
class Cue:
    start: float | None  # seconds; None for untimed text
    end: float | None
    text: str  # tags removed, whitespace collapsed, never empty
    speaker: str | None = None


@dataclass(frozen=True)
class Document:
    format: str  # "srt" | "vtt" | "whisper-json" | "whispercpp-json" | "whisperx-json" | "txt"
    cues: tuple[Cue, ...]
    title: str = ""  # when the file carries one (a VTT "Title:" header line), else ""
    language: str = ""  # when the file says: Whisper "language", whisper.cpp result.language, VTT "Language:"
    meta: dict = field(default_factory=dict, compare=False, hash=False)


def is_transcript_file(path: Path) -> bool:
    name = Path(path).name.lower()
    return name.endswith(SUFFIXES) and not name.endswith(_EXCLUDED)


# --- decoding ---------------------------------------------------------------------------------------

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_KANA = re.compile(r"[\u3041-\u30ff]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")
# Half-width katakana, private use, replacement and C1 controls: what the wrong one of two legacy codecs produces.
_ODD = re.compile(r"[\uff61-\uff9f\ue000-\uf8ff\ufffd\u0080-\u009f]")


def _binary(name: str) -> RagError:
    return RagError(f"{name} is not a text file (binary data); {_GIVE}")


def _unknown_encoding(name: str) -> RagError:
    return RagError(
        f"{name} is not a text file in a known encoding (UTF-8, UTF-16, Shift_JIS or EUC-JP); re-save it as UTF-8"
    )


def _utf16_by_nul_pattern(data: bytes) -> str | None:
    """UTF-16 without a BOM: its ASCII (digits, newlines) puts zero bytes at every odd (LE) or even (BE) position."""
    sample = data[:8192]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    major, minor = max(even, odd), min(even, odd)
    if major < 2 or minor * 10 > major or major * 100 < len(sample) // 2:
        return None
    codec = "utf-16-le" if odd > even else "utf-16-be"
    try:
        return data[: len(data) // 2 * 2].decode(codec)
    except UnicodeDecodeError:
        return None


def _japanese_score(text: str) -> tuple[int, int]:
    kana = len(_KANA.findall(text))
    return kana, 2 * kana + len(_KANJI.findall(text)) - 4 * len(_ODD.findall(text))


def _legacy_japanese(data: bytes) -> str | None:
    best: tuple[int, str] | None = None
    for codec in ("cp932", "euc_jp"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        kana, score = _japanese_score(text)
        if kana and (best is None or score > best[0]):
            best = (score, text)
    return best[1] if best else None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken sequences (whisper.cpp can split a character between tokens)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    has_multibyte = any(ord(c) > 0x7F and c != "\ufffd" for c in text)
    return text if has_multibyte and bad * 200 <= len(data) else None


def _decode_bytes(data: bytes, name: str) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if codec.startswith("utf-16"):
                body = body[: len(body) // 2 * 2]
            elif codec.startswith("utf-32"):
                body = body[: len(body) // 4 * 4]
            text = body.decode(codec, errors="replace")
            if text.count("\ufffd") * 100 > len(text) + 1:
                raise _unknown_encoding(name)
            return text
    if b"\x00" in data:
        text = _utf16_by_nul_pattern(data)
        if text is None:
            raise _binary(name)
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # a file cut in the middle of a character
            try:
                return data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                pass
    text = _legacy_japanese(data) or _mostly_utf8(data)
    if text is not None:
        return text
    if sum(b in _CONTROL_BYTES for b in data[:8192]) * 100 > min(len(data), 8192):
        raise _binary(name)
    raise _unknown_encoding(name)


def decode(data: bytes, name: str) -> str:
    """The text of a transcript file's bytes, with LF line ends and no BOM; RagError if it is not text."""
    text = _decode_bytes(data, name).lstrip("\ufeff")  # a file saved twice with a BOM can carry two
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = len(_CONTROL.findall(text))
    if controls:
        if controls >= 3 and controls * 100 > len(text):
            raise _binary(name)
        text = _CONTROL.sub("", text)
    return text


# --- cue text ---------------------------------------------------------------------------------------

_TS = r"(?:(\d{1,10}):)?(\d{1,10}):(\d{1,2})(?:[.,](\d{1,9}))?"
_TIMING = re.compile(rf"\s*{_TS}\s*-->\s*{_TS}")
_HEADER = re.compile(r"([A-Za-z][\w-]*)\s*[:=]\s*(.*)")
_TAG = re.compile(
    r"<(?:\d+(?::\d+)+(?:[.,]\d+)?|/?(?:[ibus]|c|v|font|ruby|rp|rt|lang|span|em|strong)(?:[\s.][^<>]*)?/?)>",
    re.IGNORECASE,
)
_INLINE_TIME = re.compile(r"<\d+(?::\d+)+(?:[.,]\d+)?>")
_RUBY_TEXT = re.compile(r"<rt(?:[\s.][^<>]*)?>.*?</rt>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ASS = re.compile(r"\{\\[^{}]*\}")
_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?\s+([^<>]+)>", re.IGNORECASE)
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|nbsp|lrm|rlm|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": " ", "lrm": "", "rlm": ""}


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _ENTITIES[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code <= 0xDFFF else ""


def _unescape(text: str) -> str:
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _clean_line(line: str, vtt: bool) -> str:
    if "<" not in line and "{" not in line and "&" not in line:
        return " ".join(line.split())
    if "<" in line:
        line = _BREAK.sub(" ", line)
        if "<rt" in line.lower():
            line = _RUBY_TEXT.sub("", line)
        line = _TAG.sub("", line)
    if "{" in line:
        line = _ASS.sub("", line)
    if vtt:
        line = _unescape(line)
    return " ".join(line.split())


def _ms(hours: str | None, minutes: str, seconds: str, fraction: str | None) -> int:
    total = ((int(hours) * 60 if hours else 0) + int(minutes)) * 60 + int(seconds)
    if not fraction:
        return total * 1000
    if len(fraction) <= 3:
        return total * 1000 + int(fraction.ljust(3, "0"))
    return total * 1000 + round(int(fraction) / 10 ** (len(fraction) - 3))


# --- SubRip and WebVTT -----------------------------------------------------------------------------


@dataclass
class _Raw:
    start: int  # milliseconds
    end: int
    lines: list[str]


_SPACE_LINE = re.compile(r"^[^\S\n]+$", re.MULTILINE)
_BLOCK_KEYWORDS = ("NOTE", "STYLE", "REGION")


def _scan(text: str, vtt: bool) -> tuple[list[_Raw], dict[str, str]]:
    """Cut the text into timed cues; in VTT only a truly empty line ends a cue (YouTube puts " " lines in cues)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not vtt:
        text = _SPACE_LINE.sub("", text)
    blocks = text.split("\n\n")
    meta: dict[str, str] = {}
    head = blocks[0].split("\n")
    if vtt and head[0].lstrip().startswith("WEBVTT"):
        i = 1
        while i < len(head) and "-->" not in head[i]:  # header lines run to the first blank or timing line
            m = _HEADER.fullmatch(head[i].strip())
            if m and m.group(2).strip():
                meta[m.group(1).lower()] = m.group(2).strip()
            i += 1
        blocks[0] = "\n".join(head[i:])
    raws: list[_Raw] = []
    for block in blocks:
        if "-->" not in block:
            continue  # an index or identifier alone, a NOTE, STYLE or REGION block, or garbage
        lines = block.split("\n")
        if vtt and block.lstrip().startswith(_BLOCK_KEYWORDS):
            if block.split(None, 1)[0] in _BLOCK_KEYWORDS:
                continue
        current: list[str] | None = None
        for line in lines:
            m = _TIMING.match(line) if "-->" in line else None
            if m:
                if current and current[-1].strip().isdigit():  # the next cue's index, with no blank line before it
                    current.pop()
                current = []
                g = m.groups()
                raws.append(_Raw(_ms(*g[:4]), _ms(*g[4:]), current))
            elif current is not None:
                current.append(line)
    return raws, meta


def _is_rolling(lines: list[list[str]], karaoke: bool) -> bool:
    """YouTube auto-captions: each two-line cue repeats the previous cue's last line first."""
    if karaoke:
        return True
    multi = carried = 0
    for prev, cur in zip(lines, lines[1:]):
        if len(cur) >= 2:
            multi += 1
            carried += bool(prev) and cur[0] == prev[-1]
    return carried >= 2 and carried * 2 >= multi


def _cues(raws: list[_Raw], vtt: bool) -> list[Cue]:
    cleaned: list[list[str]] = []
    speakers: list[str | None] = []
    karaoke = False
    for raw in raws:
        speaker = None
        lines = []
        for line in raw.lines:
            if vtt and "<" in line:
                karaoke = karaoke or _INLINE_TIME.search(line) is not None
                voice = _VOICE.search(line) if speaker is None else None
                if voice:
                    speaker = " ".join(_unescape(voice.group(1)).split()) or None
            line = _clean_line(line, vtt)
            if line:
                lines.append(line)
        speakers.append(speaker)
        cleaned.append(lines)

    out: list[Cue] = []
    if _is_rolling(cleaned, karaoke):
        shown: list[str] = []  # the lines emitted last, to recognise the repeated ones
        for raw, lines, speaker in zip(raws, cleaned, speakers):
            for k in range(min(len(lines), len(shown)), 0, -1):
                if lines[:k] == shown[-k:]:
                    lines = lines[k:]
                    break
            if lines:
                out.append(_cue(raw.start, raw.end, " ".join(lines), speaker))
                shown = (shown + lines)[-4:]
    else:
        out = [_cue(r.start, r.end, " ".join(ls), s) for r, ls, s in zip(raws, cleaned, speakers) if ls]
    return _in_order(out)


def _cue(start_ms: int, end_ms: int, text: str, speaker: str | None = None) -> Cue:
    start_ms = max(start_ms, 0)
    return Cue(start_ms / 1000, max(end_ms, start_ms) / 1000, text, speaker)


def _in_order(cues: list[Cue]) -> list[Cue]:
    if any(b.start < a.start for a, b in zip(cues, cues[1:])):
        return sorted(cues, key=lambda c: c.start)
    return cues


def parse_srt(text: str) -> list[Cue]:
    raws, _ = _scan(text, vtt=False)
    return _cues(raws, vtt=False)


def parse_vtt(text: str) -> tuple[list[Cue], dict]:
    raws, meta = _scan(text, vtt=True)
    return _cues(raws, vtt=True), meta


# --- Whisper JSON ----------------------------------------------------------------------------------


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        m = _TIMING.match(f"{value} --> 0:0")
        if m:
            return _ms(*m.groups()[:4]) / 1000
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:
            return None
        return seconds if math.isfinite(seconds) else None
    return None


def _segment_cue(start: float | None, end: float | None, text: object, speaker: object) -> Cue | None:
    if start is None or end is None or not isinstance(text, str):
        return None
    text = " ".join(text.split())
    if not text:
        return None
    speaker = " ".join(speaker.split()) if isinstance(speaker, str) else None
    return _cue(round(start * 1000), round(end * 1000), text, speaker or None)


def parse_whisper_json(data: object, name: str) -> Document:
    """openai-whisper, whisper.cpp (-oj/-ojf) or WhisperX output; RagError for other JSON."""
    if isinstance(data, list) and data and all(isinstance(s, dict) for s in data):
        data = {"segments": data}  # a bare list of segments, as many scripts save them
    cues: list[Cue] = []
    meta: dict = {}
    if isinstance(data, dict) and isinstance(data.get("transcription"), list):
        fmt = "whispercpp-json"
        result, params, model = data.get("result"), data.get("params"), data.get("model")
        language = result.get("language") if isinstance(result, dict) else None
        if not language and isinstance(params, dict):
            language = params.get("language")
        if isinstance(model, dict) and isinstance(model.get("type"), str):
            meta["model"] = model["type"]
        for item in data["transcription"]:
            if not isinstance(item, dict):
                continue
            offsets, stamps = item.get("offsets"), item.get("timestamps")
            start = end = None
            if isinstance(offsets, dict):
                start, end = _seconds(offsets.get("from")), _seconds(offsets.get("to"))
                start, end = (start / 1000 if start is not None else None), (end / 1000 if end is not None else None)
            if (start is None or end is None) and isinstance(stamps, dict):
                start, end = _seconds(stamps.get("from")), _seconds(stamps.get("to"))
            speaker = item.get("speaker")
            cue = _segment_cue(start, end, item.get("text"), None if speaker == "?" else speaker)  # "?": not known
            if cue:
                cues.append(cue)
    elif isinstance(data, dict) and isinstance(data.get("segments"), list):
        segments = data["segments"]
        speakers = any(isinstance(s, dict) and "speaker" in s for s in segments)
        fmt = "whisperx-json" if speakers or "word_segments" in data else "whisper-json"
        language = data.get("language")
        for seg in segments:
            if isinstance(seg, dict):
                start, end = _seconds(seg.get("start")), _seconds(seg.get("end"))
                cue = _segment_cue(start, end, seg.get("text"), seg.get("speaker"))
                if cue:
                    cues.append(cue)
    else:
        raise RagError(
            f'{name} is not a Whisper transcript (expected the "segments" of openai-whisper or WhisperX, '
            f'or the "transcription" of whisper.cpp -oj); give the JSON file that Whisper wrote'
        )
    if not cues:
        raise RagError(f"{name} holds no segments with times and text; give a Whisper JSON transcript that has some")
    return Document(fmt, tuple(_in_order(cues)), language=language if isinstance(language, str) else "", meta=meta)


# --- files -----------------------------------------------------------------------------------------


def _looks_like_srt(text: str) -> bool:
    head = [line for line in text.split("\n", 20)[:20] if line.strip()][:3]
    return any("-->" in line and _TIMING.match(line) for line in head)


def _read(data: bytes, name: str, suffix: str) -> Document:
    text = decode(data, name)
    kind = suffix[1:]
    if kind in ("txt", "srt") and text.lstrip().startswith("WEBVTT"):
        kind = "vtt"
    elif kind == "txt" and _looks_like_srt(text):
        kind = "srt"

    if kind == "json":
        try:
            parsed = json.loads(text, strict=False)  # whisper.cpp leaves control characters unescaped
        except (ValueError, RecursionError) as exc:
            raise RagError(
                f"{name} is not valid JSON ({exc}); give the JSON file that Whisper wrote, unedited"
            ) from exc
        return parse_whisper_json(parsed, name)
    if kind == "txt":
        return Document("txt", tuple(Cue(None, None, s) for s in (line.strip() for line in text.split("\n")) if s))
    if kind == "srt":
        cues, meta = parse_srt(text), {}
    else:
        cues, meta = parse_vtt(text)
    if not cues:
        raise RagError(f"{name} holds no cues with text; {_GIVE} with timed lines of text")
    return Document(kind, tuple(cues), title=meta.get("title", ""), language=meta.get("language", ""), meta=meta)


def read_document(path: Path) -> Document:
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RagError(f"{name} has an unsupported suffix ({suffix or 'none'}); {_GIVE}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RagError(f"cannot read {name} ({exc.strerror or exc}); check that it exists and is readable") from exc
    try:
        return _read(data, name, suffix)
    except RagError:
        raise
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError, OverflowError) as exc:
        # A parser slip on some odd input must still reach the user as a one-line error, not a traceback.
        raise RagError(f"{name} could not be read ({type(exc).__name__}: {exc}); {_GIVE} that is complete") from exc
