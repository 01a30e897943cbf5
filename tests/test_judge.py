"""The faithfulness judge's arithmetic, with a scripted model: its yes/no reading and the source's gain."""

import math

import numpy as np

from rag.judge import GAIN_WEIGHT, SUPPORTED_FROM, Verdict, agreement, focus, judge_answer, judge_claim, source_gain


class ScriptedModel:
    """P(yes) is fixed; the claim's tokens are likelier when the prompt holds the source text."""

    def __init__(self, p_yes: float, with_source: list[float], without: list[float]):
        self.p_yes, self.with_source, self.without, self.prompts = p_yes, with_source, without, []

    def choose(self, messages, options):
        self.prompts.append(messages)
        return {"yes": self.p_yes, "no": 1 - self.p_yes}

    def continuation_logprobs(self, messages, continuation):
        self.prompts.append(messages)
        return self.with_source if "Source text" in messages[-1]["content"] else self.without


def test_gain_is_the_mean_per_token_rise_from_reading_the_source():
    model = ScriptedModel(0.5, [-0.1, -0.2, -0.3], [-2.1, -1.2, -0.3])
    assert math.isclose(source_gain(model, "Twenty watts.", "The brain uses twenty watts.", "How many?"), 1.0)
    assert "The brain uses twenty watts." in model.prompts[0][-1]["content"]
    assert "The brain uses" not in model.prompts[1][-1]["content"]
    assert source_gain(ScriptedModel(0.5, [], []), "x", "y") == 0.0  # nothing scored: no evidence either way


def test_a_claim_counts_as_supported_from_the_combined_score():
    def p_for(logit):
        return 1 / (1 + math.exp(-logit))

    assert Verdict("c", p_for(SUPPORTED_FROM - GAIN_WEIGHT * 0.5 + 1e-6), 0.5).supported
    assert not Verdict("c", p_for(SUPPORTED_FROM - GAIN_WEIGHT * 0.5 - 1e-6), 0.5).supported
    assert Verdict("c", 0.8, 0.5).supported  # a yes, and the source makes the claim likelier
    assert not Verdict("c", 0.8, -1.0).supported  # the same yes, but the claim was likelier without the source
    assert not Verdict("c", 0.2, 0.3).supported
    assert Verdict("c", 1.0, 0.0).score < 10  # P(yes) is clipped: no infinite score


def test_judge_answer_reads_each_supported_cited_claim_against_its_passages():
    record = {
        "question": "How many watts?",
        "passages": [{"n": 1, "text": "The brain uses twenty watts."}, {"n": 2, "text": "Data centres use more."}],
        "claims": [
            {"text": "The brain uses 20 watts.", "citations": [1], "supported": True},
            {"text": "Removed by the claim check.", "citations": [1], "supported": False},
            {"text": "Cites nothing shown.", "citations": [7], "supported": True},
        ],
    }
    verdicts = judge_answer(ScriptedModel(0.9, [-0.1], [-2.0]), record)
    assert [v["text"] for v in verdicts] == ["The brain uses 20 watts."]
    assert verdicts[0]["supported"] and verdicts[0]["gain"] == 1.9
    assert judge_claim(ScriptedModel(0.9, [-3.0], [-0.1]), "c", "s").supported is False


def test_agreement_counts_unsupported_claims_found_and_false_alarms():
    figures = agreement([True, False, False, True], [True, False, True, False])
    assert figures["accuracy"] == 0.5 and figures["unsupported_labelled"] == 2
    assert figures["unsupported_precision"] == 0.5 and figures["unsupported_recall"] == 0.5


class KeywordEmbedder:
    """A text's vector says which of a few words it holds: enough to tell which sentences a claim is like."""

    words = ("brain", "watts", "servers", "weather", "budget")

    def embed_queries(self, texts):
        return np.array([[1.0 if w in t.lower() else 0.0 for w in self.words] for t in texts])

    embed_passages = embed_queries


SOURCE = (
    "We met in Paris. The weather was bad. A brain runs on twenty watts. That is a light bulb. "
    "Servers need far more. The budget was small. We left early. The weather cleared."
)


def test_the_yes_or_no_reads_the_sentences_most_like_the_claim_with_their_neighbours():
    shown = focus("The brain uses twenty watts, less than servers.", SOURCE, KeywordEmbedder())
    assert (
        shown
        == "The weather was bad. A brain runs on twenty watts. That is a light bulb. Servers need far more. The budget was small."
    )
    assert "Paris" not in shown and "left early" not in shown
    assert focus("The brain uses twenty watts.", SOURCE) == SOURCE  # no embedder: the whole source


def test_the_gain_still_reads_the_whole_source():
    model = ScriptedModel(0.9, [-0.1], [-2.0])
    judge_claim(model, "A brain runs on 20 watts; servers need more.", SOURCE, "How many watts?", KeywordEmbedder())
    asked, with_source = model.prompts[0][-1]["content"], model.prompts[1][-1]["content"]
    assert "twenty watts" in asked and "We met in Paris" not in asked
    assert "We met in Paris" in with_source and "The weather cleared" in with_source


def test_claims_citing_one_passage_embed_its_sentences_once():
    class Counting(KeywordEmbedder):
        embedded: list = []

        def embed_passages(self, texts):
            self.embedded.extend(texts)
            return self.embed_queries(texts)

    record = {
        "question": "How many watts?",
        "passages": [{"n": 1, "text": SOURCE}],
        "claims": [
            {"text": "A brain runs on twenty watts.", "citations": [1], "supported": True},
            {"text": "Servers need far more.", "citations": [1], "supported": True},
        ],
    }
    embedder = Counting()
    verdicts = judge_answer(ScriptedModel(0.9, [-0.1], [-2.0]), record, embedder)
    assert len(verdicts) == 2 and len(embedder.embedded) == 8  # the source's eight sentences, once
