import math

import pytest

from rag.errors import RagError
from rag.ingest import Chunk
from rag.rerank import Remembered, check_rerank_model, question_likelihoods, reranked
from rag.retrieve import Hit


def _hits(*texts_and_scores):
    return [
        Hit(Chunk(f"talk#{i}", "talk.vtt", i, i + 1, text, (), i / 10), score, rank)
        for rank, (i, (text, score)) in enumerate(enumerate(texts_and_scores), start=1)
    ]


class ScriptedScorer:
    """log P(question | passage) per passage text, as a chat model's continuation log-probabilities."""

    def __init__(self, by_passage: dict[str, list[float]]):
        self.by_passage = by_passage
        self.asked = []

    def continuation_logprobs(self, messages, continuation):
        self.asked.append((messages, continuation))
        passage = next(p for p in self.by_passage if p in messages[-1]["content"])
        return self.by_passage[passage]


def test_a_passage_that_makes_the_question_likely_rises_into_the_top_k():
    hits = _hits(("intro naming the guest", 1.0), ("sponsor read", 0.9), ("more intro", 0.8), ("the answer", 0.5))
    scorer = ScriptedScorer(
        {"intro naming the guest": [-3.0, -3.0], "sponsor read": [-4.0], "more intro": [-3.5], "the answer": [-0.5]}
    )
    likelihoods = question_likelihoods(scorer, hits, "Where did she do her postdoc?")

    assert likelihoods == [-3.0, -4.0, -3.5, -0.5]
    assert [m[-1]["content"].startswith("Passage:\n") for m, _ in scorer.asked] == [True] * 4
    assert {question for _, question in scorer.asked} == {"Where did she do her postdoc?"}
    top = reranked(hits, likelihoods, 2)
    assert [h.chunk.text for h in top] == ["intro naming the guest", "the answer"]
    assert [h.rank for h in top] == [1, 2]
    assert "the answer" not in [h.chunk.text for h in hits[:2]]  # the search alone would not have read it


def test_the_search_order_stands_when_the_model_cannot_tell_the_passages_apart():
    hits = _hits(("a", 0.9), ("b", 0.8), ("c", 0.7))
    assert [h.chunk.text for h in reranked(hits, [-2.0, -2.0, -2.0], 3)] == ["a", "b", "c"]
    assert reranked([], [], 4) == []


def test_a_passage_the_model_could_not_read_counts_as_the_least_likely_of_the_others():
    hits = _hits(("long", 0.9), ("short", 0.8), ("other", 0.7))
    scorer = ScriptedScorer({"long": [], "short": [-1.0], "other": [-1.2]})
    likelihoods = question_likelihoods(scorer, hits, "q")
    assert likelihoods == [None, -1.0, -1.2]
    assert [h.chunk.text for h in reranked(hits, likelihoods, 3)] == ["short", "long", "other"]
    assert [h.chunk.text for h in reranked(hits, [None, None, None], 3)] == ["long", "short", "other"]


def test_a_second_chance_reads_no_passage_twice():
    hits = _hits(("alpha", 0.9), ("bravo", 0.8))
    scorer = ScriptedScorer({"alpha": [-1.0], "bravo": [-2.0]})
    remembered = Remembered(scorer)
    first = question_likelihoods(remembered, hits, "q")
    again = question_likelihoods(remembered, hits, "q")
    assert first == again == [-1.0, -2.0]
    assert len(scorer.asked) == 2
    question_likelihoods(remembered, hits, "another question")
    assert len(scorer.asked) == 4


def test_a_likelihood_that_is_not_a_number_counts_as_unknown():
    hits = _hits(("alpha", 0.9), ("bravo", 0.8), ("charlie", 0.7))
    scorer = ScriptedScorer({"alpha": [-math.inf], "bravo": [math.nan], "charlie": [-1.0]})
    assert question_likelihoods(scorer, hits, "q") == [None, None, -1.0]


def test_asking_for_reranking_without_its_model_is_one_line_naming_the_setting(fake_settings):
    check_rerank_model(fake_settings)  # off: nothing to check
    with pytest.raises(RagError) as error:
        check_rerank_model(fake_settings.replace(rerank_depth=15))
    message = str(error.value)
    assert message.startswith("--rerank-depth needs the qwen2.5-coder-0.5b model") and "rag models prepare" in message
    assert "\n" not in message
