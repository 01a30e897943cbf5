"""The library: timed transcripts in, times out; add, remove and list without a rebuild (fakes, no models)."""

import json

import pytest

from rag.errors import RagError
from rag.ingest import chunk, read_transcript, readable_title
from rag.library import add_files, describe, remove_transcripts, resolve_videos
from rag.moments import deep_link, time_label
from rag.retrieve import retrieve
from rag.store import load_index

from .conftest import FakeEmbedder

VTT = """WEBVTT

00:01.000 --> 00:05.000
So the first thing we did was collect data of people watching

00:05.000 --> 00:09.500
Super Bowl ads. And the very first project we did was with Forbes.

59:58.000 --> 100:02.500
That was in 2011, a long time ago.
"""

WHISPERX = {
    "segments": [
        {"start": 0.5, "end": 3.0, "text": " Welcome to the show.", "speaker": "SPEAKER_00"},
        {
            "start": 3.0,
            "end": 7.25,
            "text": " Thanks, glad to be here talking about glass design.",
            "speaker": "SPEAKER_01",
        },
        {"start": 7.25, "end": 9.0, "text": " It was hard.", "speaker": "SPEAKER_01"},
    ],
    "word_segments": [],
}


def test_cues_become_timed_sentences(tmp_path):
    path = tmp_path / "twiml-039-rana-el-kaliouby.vtt"
    path.write_text(VTT, encoding="utf-8")
    t = read_transcript(path)
    sentences = [(t.text[s.start : s.end], s.start_time, s.end_time) for s in t.sentences]
    assert sentences[0] == (
        "So the first thing we did was collect data of people watching Super Bowl ads.",
        1.0,
        9.5,
    )
    assert sentences[1] == ("And the very first project we did was with Forbes.", 5.0, 9.5)
    assert sentences[2] == ("That was in 2011, a long time ago.", 3598.0, 6002.5)  # past 99 minutes
    assert t.title == "Twiml 039 rana el kaliouby" and t.format == "vtt" and t.duration == 6002.5 and t.timed
    [c] = chunk(t, 400)
    assert (c.start_time, c.end_time) == (1.0, 6002.5) and t.text[c.start : c.end] == c.text


def test_speakers_stay_with_their_text_and_a_sidecar_sets_the_metadata(tmp_path):
    path = tmp_path / "glass.json"
    path.write_text(json.dumps(WHISPERX), encoding="utf-8")
    (tmp_path / "glass.meta.json").write_text(
        json.dumps({"title": "Optimizing glass", "url": "https://www.youtube.com/watch?v=x1", "date": "2021-05-01"}),
        encoding="utf-8",
    )
    t = read_transcript(path)
    assert t.text.splitlines() == [
        "SPEAKER_00: Welcome to the show.",
        "SPEAKER_01: Thanks, glad to be here talking about glass design. It was hard.",
    ]
    assert t.speakers == ("SPEAKER_00", "SPEAKER_01") and t.format == "whisperx-json"
    assert (t.title, t.url, t.date) == ("Optimizing glass", "https://www.youtube.com/watch?v=x1", "2021-05-01")
    hard = next(s for s in t.sentences if t.text[s.start : s.end] == "It was hard.")
    assert (hard.start_time, hard.end_time) == (7.25, 9.0)
    (tmp_path / "glass.meta.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(RagError, match="glass.meta.json is not a JSON object"):
        read_transcript(path)


def test_a_long_unpunctuated_stretch_is_cut_at_cue_boundaries(tmp_path):
    cues = "".join(
        f"{n}\n00:00:{n:02d},000 --> 00:00:{n + 1:02d},000\nand then we kept on talking about the model {n}\n\n"
        for n in range(1, 40)
    )
    path = tmp_path / "rambling.srt"
    path.write_text(cues, encoding="utf-8")
    t = read_transcript(path)
    assert len(t.sentences) > 3 and all(s.end - s.start <= 500 for s in t.sentences)
    assert [s.start_time for s in t.sentences] == sorted(s.start_time for s in t.sentences)


def test_times_and_links():
    assert (time_label(754.9), time_label(3725), time_label(None)) == ("12:34", "1:02:05", "")
    assert deep_link("https://www.youtube.com/watch?v=abc", 754.9) == "https://www.youtube.com/watch?v=abc&t=754s"
    assert deep_link("https://youtu.be/abc?t=3", 60) == "https://youtu.be/abc?t=60s"
    assert deep_link("https://example.org/talk.mp4", 61) == "https://example.org/talk.mp4#t=61"
    assert deep_link("javascript:alert(1)", 5) == deep_link("https://x.org/a", None) == ""
    assert readable_title("twiml-281-tracking-co2_emissions.vtt") == "Twiml 281 tracking co2 emissions"


def test_add_then_remove_gives_back_the_same_index(fake_settings, fake_index, tmp_path):
    outside = tmp_path / "incoming"
    outside.mkdir()
    (outside / "talk.vtt").write_text(VTT, encoding="utf-8")
    (outside / "talk.meta.json").write_text('{"title": "Emotion AI"}', encoding="utf-8")
    probe = [h.chunk.id for h in retrieve(fake_index, FakeEmbedder(), "DeepSeekの費用", 5)]

    assert add_files(fake_settings, FakeEmbedder(), [outside / "talk.vtt"]) == ["talk.vtt"]
    added = load_index(fake_settings, "fake-bigrams")
    assert (fake_settings.sources / "talk.meta.json").exists() and added.stale == ""
    assert [(e.name, e.title, e.format, e.duration) for e in describe(added)] == [
        ("000_bf3b1260eecfaf13.txt", "衝撃的なSam Altmanの告白:「OpenAIは歴史の間違った側にいた」", "txt", None),
        ("talk.vtt", "Emotion AI", "vtt", 6002.5),
    ]
    hits = retrieve(added, FakeEmbedder(), "Super Bowl ads", 2, videos=resolve_videos(added, ["emotion ai"]))
    assert hits and {h.chunk.source for h in hits} == {"talk.vtt"}

    assert remove_transcripts(fake_settings, FakeEmbedder(), ["talk"], list(added.transcripts)) == ["talk.vtt"]
    after = load_index(fake_settings, "fake-bigrams")
    assert [c.id for c in after.chunks] == [c.id for c in fake_index.chunks]
    assert [h.chunk.id for h in retrieve(after, FakeEmbedder(), "DeepSeekの費用", 5)] == probe
    assert not (fake_settings.sources / "talk.meta.json").exists()
    assert sorted(p.name for p in (fake_settings.index_dir / "parts").iterdir()) == sorted(
        p.name
        for p in (fake_settings.index_dir / "parts").iterdir()
        if p.name.removesuffix(".npy").removesuffix(".json").removesuffix(".sentences")
        in {e["part"] for e in after.manifest["transcripts"].values()}
    )


def test_bad_files_and_names_are_refused_before_anything_changes(fake_settings, fake_index, tmp_path):
    (tmp_path / "scan.srt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    before = sorted(p.name for p in fake_settings.sources.iterdir())
    with pytest.raises(RagError, match="scan.srt"):
        add_files(fake_settings, FakeEmbedder(), [tmp_path / "scan.srt"])
    with pytest.raises(RagError, match="notes.docx is not a transcript"):
        add_files(fake_settings, FakeEmbedder(), [tmp_path / "notes.docx"])
    with pytest.raises(RagError, match="does not exist"):
        add_files(fake_settings, FakeEmbedder(), [tmp_path / "missing.vtt"])
    assert sorted(p.name for p in fake_settings.sources.iterdir()) == before
    with pytest.raises(RagError, match="rag list"):
        remove_transcripts(fake_settings, FakeEmbedder(), ["nothing-like-this"], list(fake_index.transcripts))
    with pytest.raises(RagError, match="rag list"):
        resolve_videos(fake_index, ["nothing-like-this"])


def test_the_same_name_in_two_formats_is_refused(fake_settings, fake_index, tmp_path):
    (tmp_path / "talk.vtt").write_text(VTT, encoding="utf-8")
    add_files(fake_settings, FakeEmbedder(), [tmp_path / "talk.vtt"])
    (tmp_path / "talk.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello.\n", encoding="utf-8")
    with pytest.raises(RagError, match="already holds talk.vtt"):
        add_files(fake_settings, FakeEmbedder(), [tmp_path / "talk.srt"])
