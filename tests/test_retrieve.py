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
