import json

import pytest

from rag.answer import ask
from rag.errors import RagError
from rag.followup import contextual_query, parse_history, previous_exchange_note, read_history
from rag.retrieve import retrieve, retrieve_in_context

from .conftest import FakeEmbedder, FakeGenerator


def test_history_formats(tmp_path):
    turns = [{"question": "Q1", "answer": "A1"}]
    assert parse_history(turns) == turns
    messages = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
    assert parse_history(messages) == [{"question": "Q1", "answer": "A1"}, {"question": "Q2", "answer": ""}]
    path = tmp_path / "history.json"
    path.write_text(json.dumps(turns))
    assert read_history(path) == turns
    for bad in ('{"question": "x"}', "[1]", "not json"):
        path.write_text(bad)
        with pytest.raises(RagError, match="history"):
            read_history(path)
    with pytest.raises(RagError, match="does not exist"):
        read_history(tmp_path / "missing.json")


def test_contextual_query_and_note():
    history = [
        {"question": "Old?", "answer": "Old answer."},
        {"question": "What did DeepSeek claim?", "answer": "5.5M"},
    ]
    assert contextual_query("How many GPUs?", history) == "What did DeepSeek claim? 5.5M How many GPUs?"
    assert contextual_query("How many GPUs?", []) == "How many GPUs?"
    assert "What did DeepSeek claim?" in previous_exchange_note(history)[0]
    assert previous_exchange_note([]) == []


def test_interleaving_keeps_both_queries_hits(fake_index):
    embedder = FakeEmbedder()
    alone = retrieve(fake_index, embedder, "Originality.ai", 4)
    context = retrieve(fake_index, embedder, "Stargate 1994年 SF映画", 4)
    hits = retrieve_in_context(fake_index, embedder, "Originality.ai", "Stargate 1994年 SF映画", 4)
    assert hits[0].chunk.id == context[0].chunk.id
    assert alone[0].chunk.id in {h.chunk.id for h in hits[:2]}
    assert len({h.chunk.id for h in hits}) == len(hits) == 4
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert (
        retrieve_in_context(fake_index, embedder, "q", "q", 3)[0].chunk.id
        == retrieve(fake_index, embedder, "q", 3)[0].chunk.id
    )


def test_follow_up_reaches_prompt_and_answer(fake_settings, fake_index):
    generator = FakeGenerator("2000台です[1]。")
    history = [{"question": "DeepSeekはいくらでモデルを作りましたか？", "answer": "550万ドルです。"}]
    answer = ask("何台のGPUを使いましたか？", fake_index, FakeEmbedder(), generator, fake_settings, history)
    assert 'Earlier question: "DeepSeekはいくらでモデルを作りましたか？"' in generator.messages[1]["content"]
    assert answer.question == "何台のGPUを使いましたか？"
    assert answer.searched_for.startswith("DeepSeekはいくらで") and answer.searched_for.endswith(
        "何台のGPUを使いましたか？"
    )


class Probability:
    """A generator whose P(follows) is fixed; records what it was asked."""

    def __init__(self, p):
        self.p, self.asked = p, []

    def choose(self, messages, options):
        self.asked.append((messages, options))
        return {"follows": self.p, "new": 1 - self.p}


def test_follows_is_decided_by_the_threshold_and_never_without_history():
    from rag.followup import FOLLOWS_EXAMPLES, FOLLOWS_FROM, follows_previous

    turn = [{"question": "What is Stargate?", "answer": "An AI project [1]."}]
    assert follows_previous(Probability(FOLLOWS_FROM), "Who invested in it?", turn)
    assert not follows_previous(Probability(FOLLOWS_FROM - 0.01), "Who invested in it?", turn)
    silent = Probability(1.0)
    assert not follows_previous(silent, "Who invested in it?", []) and silent.asked == []
    probe = Probability(0.5)
    follows_previous(probe, "Who invested in it?", turn)
    [(messages, options)] = probe.asked
    assert len(messages) == 2 + 2 * len(FOLLOWS_EXAMPLES) and set(options) == {"follows", "new"}
    assert "What is Stargate?" in messages[-1]["content"] and "Who invested in it?" in messages[-1]["content"]
