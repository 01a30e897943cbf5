import numpy as np

from rag.context import assemble
from rag.lang import latin_share
from rag.lexical import BM25, tokenize
from rag.retrieve import Hit, expand_aliases, retrieve

from .conftest import FakeEmbedder


def test_tokens_are_script_aware():
    assert tokenize("Stargateの投資額は5,000億ドル") == [
        "stargate",
        "5000",
        "の投",
        "投資",
        "資額",
        "額は",
        "億ド",
        "ドル",
    ]
    assert tokenize("What is the price of o3-mini?") == ["price", "o3-mini", "o3", "mini"]
    assert tokenize("わずか5.5百万ドル, Originality.ai") == [
        "5.5",
        "originality.ai",
        "originality",
        "ai",
        "わず",
        "ずか",
        "百万",
        "万ド",
        "ドル",
    ]
    assert latin_share("How much?") == 1.0 and latin_share("いくら？") == 0.0


def test_bm25_prefers_the_chunk_with_the_rare_term():
    bm = BM25.build(["OpenAIの話です。", "WeWorkでは何十億ドルもの投資", "ドルの話"])
    scores = bm.scores("WeWorkの例")
    assert int(np.argmax(scores)) == 1
    assert bm.known_share("WeWork Zebra") == 0.5


def test_alias_expansion():
    aliases = {"DeepSeek": ["DepSIC"]}
    assert expand_aliases("What did DeepSeek claim?", aliases) == "What did DeepSeek claim? (DepSIC)"
    assert expand_aliases("DepSICとDeepSeek", aliases) == "DepSICとDeepSeek"
    assert expand_aliases("Stargate?", aliases) == "Stargate?"


def test_lexical_side_finds_an_exact_name(fake_index):
    def rank(weight):
        hits = retrieve(fake_index, FakeEmbedder(), "Originality.ai", 10, lexical_weight=weight)
        return next(h.rank for h in hits if "Originality.ai" in h.chunk.text)

    assert rank(0.5) < rank(0.0) and rank(0.5) <= 3
    hits = retrieve(fake_index, FakeEmbedder(), "Originality.ai", 3, lexical_weight=0.2)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_adjacent_hits_merge_and_thoughts_complete(fake_index):
    chunks = fake_index.chunks
    hits = [Hit(chunks[5], 0.9, 1), Hit(chunks[20], 0.8, 2), Hit(chunks[6], 0.7, 3), Hit(chunks[5], 0.6, 4)]
    passages = assemble(hits, fake_index, budget_chars=10_000)
    assert [p.chunk_ids for p in passages] == [(chunks[5].id, chunks[6].id, chunks[5].id), (chunks[20].id,)]
    first = passages[0]
    text = fake_index.transcripts[first.source].text
    assert first.start <= chunks[5].start and first.end >= chunks[6].end
    assert text[first.start : first.end] == first.text
    assert [p.rank for p in passages] == [1, 2]


def test_passages_stay_within_budget(fake_index):
    hit = Hit(fake_index.chunks[10], 1.0, 1)
    [passage] = assemble([hit], fake_index, budget_chars=0)
    assert (passage.start, passage.end) == (hit.chunk.start, hit.chunk.end)


class VectorsOnly:
    """An index of hand-made vectors: three chunks of two sentences each, no lexical side."""

    def __init__(self, chunk_vectors, sentence_vectors):
        from rag.ingest import Chunk
        from rag.store import flat_index

        self.chunks = [Chunk(f"talk#{n}", "talk.vtt", n, n + 1, f"chunk {n}", (), n / 3) for n in range(3)]
        self.faiss_index = flat_index(np.array(chunk_vectors, dtype=np.float32))
        self.bm25, self.aliases, self.rows = None, {}, {"talk.vtt": (0, 3)}
        self.sentence_vectors = None if sentence_vectors is None else np.array(sentence_vectors, dtype=np.float32)
        self.chunk_sentences = np.array([[0, 2], [2, 4], [4, 6]])


class Question:
    name, dim = "question", 2

    def embed_queries(self, texts):
        return np.array([[1.0, 0.0]], dtype=np.float32)


def unit(cosine):
    return [cosine, float(np.sqrt(1 - cosine**2))]


def test_a_chunk_whose_one_sentence_answers_displaces_one_that_matches_throughout():
    chunks = [unit(0.9), unit(0.8), unit(0.7)]
    sentences = [unit(0.5), unit(0.5), unit(0.3), unit(0.4), unit(0.95), unit(0.6)]  # chunk 2 holds the answer
    chosen = [h.chunk.id for h in retrieve(VectorsOnly(chunks, sentences), Question(), "q", 2, lexical_weight=0)]
    assert chosen == ["talk#0", "talk#2"]  # in the search's order
    unranked = [h.chunk.id for h in retrieve(VectorsOnly(chunks, None), Question(), "q", 2, lexical_weight=0)]
    assert unranked == ["talk#0", "talk#1"]


def test_the_best_sentence_weighs_as_much_as_the_search_score():
    from rag.retrieve import chosen_by_best_sentence

    # combined: 1.0 + 0.18, 0.5 + 0.0, 0.0 + 1.0
    assert chosen_by_best_sentence(np.array([2.0, 1.5, 1.0]), np.array([0.5, 0.4, 0.95]), 2).tolist() == [0, 2]
    assert chosen_by_best_sentence(np.array([2.0, 1.5, 1.0]), np.array([0.5, 0.4, 0.45]), 2).tolist() == [0, 1]


class TwoEpisodes:
    """Hand-made vectors: a#0 (another episode) matches the question a little better than b#0; a#1 far less."""

    def __init__(self, titles):
        from rag.episodes import EpisodeNames
        from rag.ingest import Chunk
        from rag.store import flat_index

        self.chunks = [Chunk(f"a#{n}", "a.vtt", n, n + 1, "a", (), 0.0) for n in range(2)]
        self.chunks.append(Chunk("b#0", "b.vtt", 0, 1, "b", (), 0.0))
        self.faiss_index = flat_index(np.array([unit(0.9), unit(0.1), unit(0.85)], dtype=np.float32))
        self.bm25, self.aliases, self.rows = None, {}, {"a.vtt": (0, 2), "b.vtt": (2, 3)}
        self.episodes = EpisodeNames.build(titles, [(0, 2), (2, 3)])


def test_the_episode_the_question_names_is_lifted_not_filtered():
    index = TwoEpisodes(["Talk with Alpha Lee", "Talk with Flora Tasse"])
    named = retrieve(index, Question(), "What did Flora Tasse build?", 2, lexical_weight=0)
    assert [h.chunk.id for h in named] == ["b#0", "a#0"]  # the other episode stays, below
    unnamed = retrieve(index, Question(), "What did she build?", 2, lexical_weight=0)
    assert [h.chunk.id for h in unnamed] == ["a#0", "b#0"]


def test_a_long_stretch_of_one_video_leaves_room_for_other_places():
    from rag.ingest import Chunk
    from rag.retrieve import spread_out

    chunks = [Chunk(f"a#{n}", "a.vtt", n, n + 1, "a", (), 0.0) for n in range(8)]
    chunks += [Chunk("b#0", "b.vtt", 0, 1, "b", (), 0.0)]
    # rows 0-3 follow one another: the fourth in a row waits for the rows after it
    assert spread_out(np.array([0, 1, 2, 3, 6, 4]), chunks, 5, 3).tolist() == [0, 1, 2, 4, 3]
    assert spread_out(np.array([0, 1, 2, 3, 6, 4]), chunks, 5, 4).tolist() == [0, 1, 2, 3, 4]
    assert spread_out(np.array([0, 1, 2, 3]), chunks, 4, 3).tolist() == [0, 1, 2, 3]  # nothing else: it comes back
    assert spread_out(np.array([7, 8, 6, 5]), chunks, 4, 1).tolist() == [0, 1, 2, 3]  # row 8, another video, is taken
    # a whole stretch waits, not every other chunk of it: rows 0-6 in a row, then two elsewhere
    stretch = np.array([0, 1, 2, 3, 4, 5, 6, 8])
    assert stretch[spread_out(stretch, chunks, 4, 3)].tolist() == [0, 1, 2, 8]


class IntroAndAnswer:
    """One episode's intro (names the guest) and answer (the question's other words), equal to the dense side."""

    def __init__(self):
        from rag.episodes import EpisodeNames
        from rag.ingest import Chunk
        from rag.store import flat_index

        texts = [
            "Today Flora Tasse of Streem joins us; Flora Tasse talks about Streem and remote help.",
            "Measuring a room on a textured mesh works because the camera keeps moving.",
            "Another talk about compilers and their measuring tools.",
        ]
        self.chunks = [Chunk(f"a#{n}", "a.vtt", n, n + 1, t, (), 0.0) for n, t in enumerate(texts[:2])]
        self.chunks.append(Chunk("b#0", "b.vtt", 0, 1, texts[2], (), 0.0))
        self.faiss_index = flat_index(np.array([unit(0.8), unit(0.8), unit(0.7)], dtype=np.float32))
        self.bm25, self.aliases, self.rows = BM25.build(texts), {}, {"a.vtt": (0, 2), "b.vtt": (2, 3)}
        self.episodes = EpisodeNames.build(["Remote help with Flora Tasse", "Compilers"], [(0, 2), (2, 3)])


def test_names_that_picked_the_episode_do_not_also_pick_its_passage(monkeypatch):
    import rag.retrieve

    question = "Why does Flora Tasse measure a room on a mesh?"
    assert IntroAndAnswer().episodes.named_words(question) == {"flora", "tasse"}
    hits = retrieve(IntroAndAnswer(), Question(), question, 2, lexical_weight=0.5)
    assert [h.chunk.id for h in hits] == ["a#1", "a#0"]
    monkeypatch.setattr(rag.retrieve, "STRIP_NAMED", False)
    hits = retrieve(IntroAndAnswer(), Question(), question, 2, lexical_weight=0.5)
    assert [h.chunk.id for h in hits] == ["a#0", "a#1"]  # the intro's names outweigh the answer's words


def test_named_words_leave_the_query_where_they_stand_as_words():
    from rag.retrieve import without_words

    assert (
        without_words("Flora Tasseさんはどう測りますか？ Tassel", {"flora", "tasse"}) == "さんはどう測りますか？ Tassel"
    )
    assert without_words("フローラ・タッセさんは", {"タッセ"}) == "フローラ・ さんは"
    assert without_words("What did Topol say?", set()) == "What did Topol say?"
