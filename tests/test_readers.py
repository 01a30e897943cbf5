import functools
import json
import random
import re
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.readers import Cue, decode, is_transcript_file, parse_srt, parse_vtt, parse_whisper_json, read_document

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason="the real corpus (../shared/corpus) is not here")


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def texts(doc) -> list[str]:
    return [c.text for c in doc.cues]


SRT = """1
00:00:01,000 --> 00:00:03,500
Hello and welcome
to the show.

2
00:00:03,500 --> 00:00:06,250
Today we talk about transformers.
"""


def test_srt_basic(tmp_path):
    doc = read_document(write(tmp_path, "a.srt", SRT))
    assert doc.format == "srt"
    assert doc.cues == (
        Cue(1.0, 3.5, "Hello and welcome to the show."),
        Cue(3.5, 6.25, "Today we talk about transformers."),
    )
    assert doc.title == "" and doc.language == ""


def test_srt_with_crlf_and_bom(tmp_path):
    doc = read_document(write(tmp_path, "a.srt", "\ufeff" + SRT.replace("\n", "\r\n")))
    assert texts(doc) == ["Hello and welcome to the show.", "Today we talk about transformers."]


def test_srt_cue_without_text_is_skipped(tmp_path):
    srt = "1\n00:00:01,000 --> 00:00:02,000\n<i> </i>\n\n2\n00:00:02,000 --> 00:00:03,000\n\n3\n00:00:03,000 --> 00:00:04,000\nlast\n"
    assert read_document(write(tmp_path, "a.srt", srt)).cues == (Cue(3.0, 4.0, "last"),)


def test_srt_tags_are_removed(tmp_path):
    srt = '1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<i>Look</i> <b>out</b>,\n<font color="#ffff00">now</font>! a <3 b\n'
    assert texts(read_document(write(tmp_path, "a.srt", srt))) == ["Look out, now! a <3 b"]


def test_srt_lenient_timings_missing_blank_line_and_garbage(tmp_path):
    srt = (
        "1\n00:00:01.5 --> 00:00:02,25  X1:40 X2:600 Y1:20 Y2:50\nfirst\n"
        "2\n00:00:03,000 --> 00:00:04,000\nsecond\n\n"
        "this block has no timing line\nso it is skipped\n\n"
        "3\n123:00:00,000 --> 123:00:01,000\nthird\n"
    )
    doc = read_document(write(tmp_path, "a.srt", srt))
    assert doc.cues == (Cue(1.5, 2.25, "first"), Cue(3.0, 4.0, "second"), Cue(442800.0, 442801.0, "third"))


def test_vtt_timestamps_with_and_without_hours(tmp_path):
    vtt = (
        "WEBVTT\n\n00:01.000 --> 00:02.500\none\n\n100:02.500 --> 100:05.000\ntwo\n\n"
        "1:40:02.500 --> 1:40:03.000\nthree\n\n123:00:00.000 --> 123:00:01.5\nfour\n"
    )
    doc = read_document(write(tmp_path, "a.vtt", vtt))
    assert doc.format == "vtt"
    assert [(c.start, c.end) for c in doc.cues] == [
        (1.0, 2.5),
        (6002.5, 6005.0),
        (6002.5, 6003.0),
        (442800.0, 442801.5),
    ]


def test_vtt_blocks_identifiers_settings_and_header(tmp_path):
    vtt = """WEBVTT - made by hand
Kind: captions
Language: de
Title: Ein Gespräch

NOTE this is a comment
that spans two lines

STYLE
::cue { color: yellow }

REGION
id:fred width:40%

intro
00:00:00.000 --> 00:00:02.000 align:start position:0% line:0
Guten Tag.

2
00:00:02.000 --> 00:00:04.000 region:fred
<c.yellow>Wie</c> <u>geht's</u>? <lang en>Fine</lang> <ruby>漢<rt>かん</rt></ruby>
"""
    doc = read_document(write(tmp_path, "a.vtt", vtt))
    assert texts(doc) == ["Guten Tag.", "Wie geht's? Fine 漢"]
    assert doc.language == "de" and doc.title == "Ein Gespräch"
    assert doc.meta == {"kind": "captions", "language": "de", "title": "Ein Gespräch"}
    cues, meta = parse_vtt(vtt)
    assert [c.start for c in cues] == [0.0, 2.0] and meta["language"] == "de"


def test_vtt_voice_tags_and_entities(tmp_path):
    vtt = (
        "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Ada Lovelace>Numbers &amp; notes&nbsp;are &lt;fun&gt;.</v>\n\n"
        "00:01.000 --> 00:02.000\n<v.loud Charles>Indeed</v>\n\n00:02.000 --> 00:03.000\nNobody\n"
    )
    doc = read_document(write(tmp_path, "a.vtt", vtt))
    assert doc.cues == (
        Cue(0.0, 1.0, "Numbers & notes are <fun>.", "Ada Lovelace"),
        Cue(1.0, 2.0, "Indeed", "Charles"),
        Cue(2.0, 3.0, "Nobody"),
    )


# The shape yt-dlp saves for YouTube's automatic captions: a cue shows the previous line again above the
# new one (which carries a timestamp per word), and a 10 ms cue repeats the finished line on its own.
# \x20 is the line of one space those files hold (it does not end a cue: only an empty line does).
YOUTUBE = """WEBVTT
Kind: captions
Language: en

00:00:00.160 --> 00:00:02.270 align:start position:0%
\x20
[Music]

00:00:02.270 --> 00:00:02.280 align:start position:0%
[Music]
\x20

00:00:02.280 --> 00:00:04.630 align:start position:0%
[Music]
so<00:00:02.600><c> today</c><00:00:02.960><c> we're</c><00:00:03.200><c> going</c><00:00:03.440><c> to</c><00:00:03.680><c> train</c>

00:00:04.630 --> 00:00:04.640 align:start position:0%
so today we're going to train
\x20

00:00:04.640 --> 00:00:07.110 align:start position:0%
so today we're going to train
a<00:00:04.880><c> small</c><00:00:05.200><c> model</c><00:00:05.600><c> on</c><00:00:05.920><c> a</c><00:00:06.080><c> laptop</c>

00:00:07.110 --> 00:00:07.120 align:start position:0%
a small model on a laptop
\x20

00:00:07.120 --> 00:00:09.350 align:start position:0%
a small model on a laptop
no<00:00:07.440><c> GPU</c><00:00:07.840><c> no</c><00:00:08.160><c> cloud</c>

00:00:09.350 --> 00:00:09.360 align:start position:0%
no GPU no cloud
\x20

00:00:09.360 --> 00:00:11.000 align:start position:0%
no GPU no cloud
no<00:00:09.600><c> GPU</c><00:00:09.900><c> no</c><00:00:10.200><c> cloud</c>

00:00:11.000 --> 00:00:11.010 align:start position:0%
no GPU no cloud
\x20
"""


def test_youtube_rolling_auto_captions_come_out_once(tmp_path):
    doc = read_document(write(tmp_path, "yt.en.vtt", YOUTUBE))
    assert texts(doc) == [
        "[Music]",
        "so today we're going to train",
        "a small model on a laptop",
        "no GPU no cloud",
        "no GPU no cloud",  # said twice: kept twice
    ]
    assert " ".join(texts(doc)).split() == (
        "[Music] so today we're going to train a small model on a laptop no GPU no cloud no GPU no cloud".split()
    )
    assert [c.start for c in doc.cues] == [0.16, 2.28, 4.64, 7.12, 9.36]
    assert all(a.end <= b.start for a, b in zip(doc.cues, doc.cues[1:]))
    assert doc.language == "en"


def test_youtube_rolling_captions_without_word_timings(tmp_path):
    vtt = (
        "WEBVTT\n\n00:00.000 --> 00:02.000\nfirst line of speech\n\n"
        "00:02.000 --> 00:04.000\nfirst line of speech\nsecond line here\n\n"
        "00:04.000 --> 00:06.000\nsecond line here\nthird and last\n"
    )
    assert texts(read_document(write(tmp_path, "a.vtt", vtt))) == [
        "first line of speech",
        "second line here",
        "third and last",
    ]


def test_repeated_cues_are_kept_outside_rolling_captions(tmp_path):
    vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\nThank you.\n\n00:01.000 --> 00:02.000\nThank you.\n"
    assert texts(read_document(write(tmp_path, "a.vtt", vtt))) == ["Thank you.", "Thank you."]


def test_overlapping_cues_keep_file_order_and_disorder_is_sorted(tmp_path):
    overlapping = "WEBVTT\n\n00:00.000 --> 00:03.000\nA\n\n00:01.000 --> 00:02.000\nB\n\n00:01.000 --> 00:04.000\nC\n"
    doc = read_document(write(tmp_path, "a.vtt", overlapping))
    assert [(c.start, c.end, c.text) for c in doc.cues] == [(0.0, 3.0, "A"), (1.0, 2.0, "B"), (1.0, 4.0, "C")]
    shuffled = "WEBVTT\n\n00:05.000 --> 00:06.000\nlate\n\n00:01.000 --> 00:02.000\nearly\n\n00:05.000 --> 00:05.500\nlate too\n"
    assert texts(read_document(write(tmp_path, "b.vtt", shuffled))) == ["early", "late", "late too"]


def test_end_before_start_is_clamped(tmp_path):
    assert parse_srt("1\n00:00:05,000 --> 00:00:04,000\nbackwards\n") == [Cue(5.0, 5.0, "backwards")]


WHISPER = {
    "text": " Hello there. General Kenobi.",
    "segments": [
        {"id": 0, "seek": 0, "start": 0.0, "end": 2.52, "text": " Hello there.", "tokens": [1, 2], "temperature": 0.0},
        {"id": 1, "seek": 0, "start": 2.52, "end": 4.0004, "text": " General  Kenobi.", "tokens": [3]},
        {"id": 2, "start": "soon", "end": 5.0, "text": " no time"},
        {"id": 3, "start": 5.0, "end": 6.0, "text": 42},
        {"id": 4, "start": float("nan"), "end": 6.0, "text": " NaN"},
    ],
    "language": "en",
}


def test_openai_whisper_json(tmp_path):
    doc = read_document(write(tmp_path, "w.json", json.dumps(WHISPER)))
    assert doc.format == "whisper-json" and doc.language == "en"
    assert doc.cues == (Cue(0.0, 2.52, "Hello there."), Cue(2.52, 4.0, "General Kenobi."))


def test_whisper_cpp_json_offsets_are_milliseconds(tmp_path):
    data = {
        "systeminfo": "AVX = 1 | NEON = 0",
        "model": {"type": "base", "multilingual": True, "vocab": 51865},
        "params": {"model": "models/ggml-base.bin", "language": "auto", "translate": False},
        "result": {"language": "ja"},
        "transcription": [
            {
                "timestamps": {"from": "00:00:00,000", "to": "00:00:03,120"},
                "offsets": {"from": 0, "to": 3120},
                "text": " こんにちは。",
            },
            {"timestamps": {"from": "00:00:03,120", "to": "00:01:05,500"}, "text": " 今日は\n晴れです。"},
            {"offsets": {"from": 65500, "to": 66000}, "text": " ", "speaker": "0"},
            {"offsets": {"from": 66000, "to": 67000}, "text": " [BLANK_AUDIO]", "speaker": "?"},
            {"offsets": {"from": 67000, "to": 68000}, "text": " はい。", "speaker": "1"},
        ],
    }
    doc = read_document(write(tmp_path, "w.json", json.dumps(data, ensure_ascii=False)))
    assert doc.format == "whispercpp-json" and doc.language == "ja" and doc.meta == {"model": "base"}
    assert doc.cues == (
        Cue(0.0, 3.12, "こんにちは。"),
        Cue(3.12, 65.5, "今日は 晴れです。"),
        Cue(66.0, 67.0, "[BLANK_AUDIO]"),
        Cue(67.0, 68.0, "はい。", "1"),
    )
    # whisper.cpp does not escape control characters inside strings
    raw = '{"result": {"language": "en"}, "transcription": [{"offsets": {"from": 0, "to": 10}, "text": "a\tb"}]}'
    assert texts(read_document(write(tmp_path, "raw.json", raw))) == ["a b"]


def test_whisperx_json_keeps_speakers(tmp_path):
    data = {
        "segments": [
            {
                "start": 0.031,
                "end": 1.5,
                "text": " Hi, I'm Ana.",
                "speaker": "SPEAKER_00",
                "words": [{"word": "Hi,", "start": 0.031, "end": 0.2, "score": 0.9, "speaker": "SPEAKER_00"}],
            },
            {"start": 1.6, "end": 2.0, "text": " Hello.", "speaker": "SPEAKER_01", "words": []},
            {"start": 2.1, "end": 2.5, "text": " (no speaker found)", "words": []},
        ],
        "word_segments": [{"word": "Hi,", "start": 0.031, "end": 0.2, "score": 0.9}],
        "language": "en",
    }
    doc = read_document(write(tmp_path, "x.json", json.dumps(data)))
    assert doc.format == "whisperx-json"
    assert [(c.text, c.speaker) for c in doc.cues] == [
        ("Hi, I'm Ana.", "SPEAKER_00"),
        ("Hello.", "SPEAKER_01"),
        ("(no speaker found)", None),
    ]
    assert doc.cues[0].start == 0.031


def test_whisper_json_times_are_clamped_and_a_bare_segment_list_is_read():
    doc = parse_whisper_json(
        [{"start": -0.5, "end": -1, "text": "early"}, {"start": 2, "end": 1, "text": "back"}], "l.json"
    )
    assert doc.format == "whisper-json" and doc.cues == (Cue(0.0, 0.0, "early"), Cue(2.0, 2.0, "back"))


def test_whisper_json_without_usable_segments_is_an_error():
    with pytest.raises(RagError, match=r"w\.json holds no segments"):
        parse_whisper_json({"segments": [{"start": None, "end": 1, "text": "x"}, "junk"]}, "w.json")


@pytest.mark.parametrize(
    "content",
    ['{"segments": [', "not json at all", "[" * 100_000, "{\"text\": 'single quotes'}"],
    ids=["truncated", "text", "deep", "quotes"],
)
def test_invalid_json_is_an_error_naming_the_file(tmp_path, content):
    with pytest.raises(RagError, match=r"^bad\.json is not valid JSON"):
        read_document(write(tmp_path, "bad.json", content))


@pytest.mark.parametrize("data", [{"name": "x", "items": [1, 2]}, [1, 2, 3], "text", {"segments": "x"}])
def test_unrelated_json_is_an_error(tmp_path, data):
    with pytest.raises(RagError, match=r"^other\.json is not a Whisper transcript"):
        read_document(write(tmp_path, "other.json", json.dumps(data)))


JAPANESE_SRT = "1\n00:00:01,000 --> 00:00:02,000\nこんにちは、世界。\n\n2\n00:00:02,000 --> 00:00:03,500\n今日はＡＩの話をします。\n"
JAPANESE_CUES = [Cue(1.0, 2.0, "こんにちは、世界。"), Cue(2.0, 3.5, "今日はＡＩの話をします。")]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "shift_jis", "cp932", "euc_jp", "utf-16", "utf-16-be-bom", "utf-32"]
)
def test_japanese_encodings(tmp_path, encoding):
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + JAPANESE_SRT.encode("utf-16-be")
    else:
        data = JAPANESE_SRT.encode(encoding)
    assert list(read_document(write(tmp_path, "ja.srt", data)).cues) == JAPANESE_CUES


def test_cp932_only_characters(tmp_path):
    text = "①　髙橋さんの話～ﾃｽﾄです。\n"
    assert decode(text.encode("cp932"), "x.txt") == text
    assert texts(read_document(write(tmp_path, "ja.txt", text.encode("cp932")))) == [text.strip()]


def test_euc_jp_that_also_decodes_as_cp932():
    text = "こんにちは。ありがとう。\n"
    data = text.encode("euc_jp")
    assert data.decode("cp932") != text  # both codecs accept these bytes: the Japanese-looking one must win
    assert decode(data, "x.txt") == text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path, codec):
    assert list(read_document(write(tmp_path, "ja.srt", JAPANESE_SRT.encode(codec))).cues) == JAPANESE_CUES
    plain = "これは日本語の文章です。\n二行目もあります。\n"
    doc = read_document(write(tmp_path, "ja.txt", plain.encode(codec)))
    assert texts(doc) == ["これは日本語の文章です。", "二行目もあります。"]


def test_decode_normalises_line_ends_and_bom():
    assert decode(b"\xef\xbb\xbfa\r\nb\rc\n", "x.srt") == "a\nb\nc\n"
    assert decode(b"abc" + "é".encode()[:1], "cut.srt") == "abc"  # cut inside a character


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(7).randbytes(2000),
        b"\x00" * 4096,
        random.Random(8).randbytes(3000).replace(b"\x00", b"\x01"),
        bytes(range(1, 32)) * 50,
    ],
    ids=["png", "nul", "random", "controls"],
)
@pytest.mark.parametrize("name", ["talk.srt", "talk.vtt", "talk.json", "talk.txt"])
def test_binary_files_are_errors_naming_the_file(tmp_path, data, name):
    with pytest.raises(RagError, match=rf"^{re.escape(name)} is not a text file"):
        read_document(write(tmp_path, name, data))


def test_latin1_is_not_guessed(tmp_path):
    with pytest.raises(RagError, match=r"^fr\.srt is not a text file in a known encoding.*UTF-8"):
        read_document(write(tmp_path, "fr.srt", "1\n00:00:01,000 --> 00:00:02,000\nà bientôt, café\n", "latin-1"))


def test_unknown_suffix_and_unreadable_paths(tmp_path):
    with pytest.raises(RagError, match=r"^notes\.docx has an unsupported suffix \(\.docx\).*\.srt, \.vtt"):
        read_document(write(tmp_path, "notes.docx", "x"))
    with pytest.raises(RagError, match=r"^cannot read missing\.srt"):
        read_document(tmp_path / "missing.srt")
    (tmp_path / "folder.vtt").mkdir()
    with pytest.raises(RagError, match=r"^cannot read folder\.vtt"):
        read_document(tmp_path / "folder.vtt")


@pytest.mark.parametrize("name", ["empty.srt", "empty.vtt"])
def test_timed_file_without_cues_is_an_error(tmp_path, name):
    with pytest.raises(RagError, match=rf"^{re.escape(name)} holds no cues with text"):
        read_document(write(tmp_path, name, "WEBVTT\n\nNOTE nothing here\n"))


def test_content_is_sniffed_when_the_suffix_lies(tmp_path):
    vtt_as_txt = read_document(write(tmp_path, "a.txt", "WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n"))
    assert vtt_as_txt.format == "vtt" and vtt_as_txt.cues == (Cue(1.0, 2.0, "hi"),)
    srt_as_txt = read_document(write(tmp_path, "b.txt", SRT))
    assert srt_as_txt.format == "srt" and len(srt_as_txt.cues) == 2
    vtt_as_srt = read_document(write(tmp_path, "c.SRT", "\ufeffWEBVTT\n\n00:01.000 --> 00:02.000\n<v Bo>hi</v>\n"))
    assert vtt_as_srt.format == "vtt" and vtt_as_srt.cues == (Cue(1.0, 2.0, "hi", "Bo"),)
    headerless = read_document(write(tmp_path, "d.vtt", "00:01.000 --> 00:02.000\nno header\n"))
    assert headerless.cues == (Cue(1.0, 2.0, "no header"),)


def test_plain_text_gives_untimed_cues(tmp_path):
    doc = read_document(write(tmp_path, "a.txt", "  タイトル  \n\n本文の一行目。\n  second --> line\n"))
    assert doc.format == "txt" and doc.title == ""
    assert doc.cues == (
        Cue(None, None, "タイトル"),
        Cue(None, None, "本文の一行目。"),
        Cue(None, None, "second --> line"),
    )


def test_is_transcript_file():
    assert all(map(is_transcript_file, [Path("a.srt"), Path("b.VTT"), Path("c.json"), Path("d.txt")]))
    assert not any(map(is_transcript_file, [Path("x.meta.json"), Path("x.aliases.json"), Path("x.md"), Path("srt")]))


@pytest.mark.parametrize(
    "name,content",
    [
        ("t.srt", JAPANESE_SRT.encode("shift_jis")),
        ("t.srt", b"\xff\xfe" + JAPANESE_SRT.encode("utf-16-le")),
        ("t.vtt", YOUTUBE.encode()),
        ("t.json", json.dumps(WHISPER).encode()),
    ],
    ids=["sjis-srt", "utf16-srt", "youtube-vtt", "whisper-json"],
)
def test_truncated_files_never_crash(tmp_path, name, content):
    for cut in range(0, len(content), max(1, len(content) // 60)):
        try:
            doc = read_document(write(tmp_path, name, content[:cut]))
        except RagError as exc:
            assert str(exc).startswith(name) and "\n" not in str(exc)
        else:
            assert all(c.text and c.start <= c.end for c in doc.cues)


@functools.cache
def corpus_vtt() -> dict[str, object]:
    return {p.stem: read_document(p) for p in sorted((CORPUS / "twiml-vtt").glob("*.vtt"))}


@needs_corpus
def test_corpus_vtt_files_all_read():
    docs = corpus_vtt()
    assert len(docs) == 537
    for name, doc in docs.items():
        assert doc.format == "vtt" and doc.cues, name
        assert all(c.text and c.start <= c.end for c in doc.cues), name


@needs_corpus
def test_corpus_srt_and_vtt_agree():
    srts = sorted((CORPUS / "twiml-srt").glob("*.srt"))
    assert len(srts) == 40
    for path in srts:
        srt, vtt = read_document(path), corpus_vtt()[path.stem]
        assert srt.format == "srt" and len(srt.cues) == len(vtt.cues), path.name
        assert [c.text for c in srt.cues] == [c.text for c in vtt.cues], path.name
        assert all(abs(a.start - b.start) <= 0.001 and abs(a.end - b.end) <= 0.001 for a, b in zip(srt.cues, vtt.cues))
        starts = [c.start for c in srt.cues]
        assert starts == sorted(starts), path.name
