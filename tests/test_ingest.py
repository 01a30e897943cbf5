import re

from rag.ingest import chunk, clean, read_transcript, split_sentences, weighted_length

from .conftest import SEED


def test_seed_titles_and_chrome_are_removed():
    t = read_transcript(SEED)
    assert t.title == "衝撃的なSam Altmanの告白:「OpenAIは歴史の間違った側にいた」"
    assert t.original_title.startswith("Révélation CHOC de Sam Altman")
    for chrome in ("この記事は約14分で読めます", "7,817 文字", "タイトルとURLをコピーしました", "Apprenez l'IA"):
        assert chrome not in t.text
    assert not t.text.rstrip().endswith("コメント")
    assert t.text.startswith("AIの世界に信じられない展開がありました。")
    assert t.text.endswith("新しい分析でまたお会いしましょう。")


def test_japanese_and_western_sentences():
    text = "これは文です。本当？はい！Next one. And « une phrase » ici? Fin"
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == ["これは文です。", "本当？", "はい！", "Next one.", "And « une phrase » ici?", "Fin"]


def test_decimal_points_do_not_split_sentences():
    text = "わずか5.5百万ドルです。O3 mini. Done"
    assert [text[s.start : s.end] for s in split_sentences(text)] == ["わずか5.5百万ドルです。", "O3 mini.", "Done"]


def test_seed_segmentation_covers_the_text():
    t = read_transcript(SEED)
    assert len(t.sentences) > 100
    sentences = [t.text[s.start : s.end] for s in t.sentences]
    assert re.sub(r"\s+", "", "".join(sentences)) == re.sub(r"\s+", "", t.text)
    assert all(s.strip() == s for s in sentences)
    assert "彼らは、わずか5.5百万ドルで、OpenAIのChatGPTに匹敵するAIモデルを構築したと主張したのです。" in sentences
    assert all(s.endswith(("。", "？", "！", "」", "）")) for s in sentences[:-1] if "\n" not in s)


def test_chunk_offsets_round_trip_and_overlap():
    t = read_transcript(SEED)
    chunks = chunk(t, 600, overlap_sentences=1)
    assert len({c.id for c in chunks}) == len(chunks) and 35 <= len(chunks) <= 50
    for c in chunks:
        assert t.text[c.start : c.end] == c.text
        assert weighted_length(c.text) <= 600 or len(c.sentences) == 1
        assert c.sentences[0].start == c.start and c.sentences[-1].end == c.end
        assert 0 <= c.position < 1
    for a, b in zip(chunks, chunks[1:]):
        assert b.sentences[0] == a.sentences[-1]  # one shared sentence
    covered = set()
    for c in chunks:
        covered.update(c.sentences)
    assert covered == set(t.sentences)


def test_clean_without_chrome_keeps_everything_after_the_title():
    title, original, body = clean("My title\nFirst line.\n\nSecond line.\n")
    assert (title, original, body) == ("My title", "", "First line.\nSecond line.")


def test_a_japanese_character_weighs_as_much_as_two_and_a_half_latin_ones():
    assert weighted_length("abc") == 3 and weighted_length("日本語") == 7.5 and weighted_length("AIの") == 4.5
