from rag.evaluate import calibrate, covered_groups, evidence_rank, holds_evidence


def test_key_facts_compare_after_nfkc_and_lowercase():
    groups = [["5.5百万", "550万", "5.5 million"], ["H800"]]
    assert covered_groups("They spent 5.5 Million on ｈ800 chips", groups) == 2
    assert covered_groups("５５０万ドル", groups) == 1
    assert covered_groups("nothing", groups) == 0


def test_evidence_split_by_a_chunk_boundary_counts_by_either_half():
    evidence = "同時に5,000億ドルという途方もない投資額です"
    assert holds_evidence("…同時に5,000億ドルという途方もない投資額です。", evidence)
    assert holds_evidence("同時に5,000億ドル", evidence[: len(evidence) // 2] + "x")
    assert not holds_evidence("まったく関係のない文", evidence)
    assert evidence_rank(["a", "b 同時に5,000億ドルという途方もない投資額です"], [evidence]) == 2


def test_calibration_moves_answers_into_refusals():
    results = [
        {"answerable": True, "refusal_score": 0.2, "key_facts_ok_if_answered": True},
        {"answerable": True, "refusal_score": 0.85, "key_facts_ok_if_answered": True},
        {"answerable": False, "refusal_score": 0.95, "key_facts_ok_if_answered": None},
    ]
    low, high = calibrate(results, thresholds=(0.8, 0.9))
    assert low == {"threshold": 0.8, "key_fact_accuracy": 0.5, "false_refusals": 0.5, "refusal_accuracy": 1.0}
    assert high == {"threshold": 0.9, "key_fact_accuracy": 1.0, "false_refusals": 0.0, "refusal_accuracy": 1.0}


def test_scoring_batch_output_without_generating(tmp_path, fake_settings, fake_index):
    import json

    from rag.answer import ask
    from rag.evaluate import score_answers

    from .conftest import FakeEmbedder, FakeGenerator

    item = {
        "id": "q1",
        "lang": "ja",
        "kind": "fact",
        "question": "脳の消費電力は？",
        "answerable": True,
        "key_facts": [["27"]],
        "evidence": ["脳の平均消費電力は27ワットと推定しています"],
    }
    unanswerable = {
        "id": "q2",
        "lang": "ja",
        "kind": "unanswerable",
        "question": "株価は？",
        "answerable": False,
        "key_facts": [],
        "evidence": [],
    }
    answered = ask(
        item["question"],
        fake_index,
        FakeEmbedder(),
        FakeGenerator("脳の平均消費電力は27ワットと推定しています[1]。"),
        fake_settings,
    )
    refused = ask(unanswerable["question"], fake_index, FakeEmbedder(), FakeGenerator("NOT_FOUND"), fake_settings)
    path = tmp_path / "answers.jsonl"
    path.write_text(
        json.dumps({"id": "q1", **answered.to_json()}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "other", **refused.to_json()}, ensure_ascii=False)
        + "\nbroken\n"
    )
    results, summary = score_answers([item, unanswerable], path)
    assert summary["key_fact_accuracy"] == 1.0 and summary["refusal_accuracy"] == 1.0  # q2 matched by its question
    assert results[0]["claims_kept"] == 1.0 and "faithfulness" not in results[0]  # no judge without a model
    assert summary["unanswered_in_file"] == []


def test_retrieval_figures_of_a_file_with_no_answerable_question_are_empty_not_an_error(fake_index, fake_settings):
    from rag.evaluate import retrieval_report

    from .conftest import FakeEmbedder

    items = [{"id": "u1", "lang": "en", "kind": "unanswerable", "question": "Who won?", "answerable": False}]
    report = retrieval_report(items, fake_index, FakeEmbedder(), fake_settings)
    assert report["questions"] == 0 and report["recall_at_5"] is None and report["latency_ms_p50"] is None


def test_evidence_first_puts_the_chunk_holding_the_evidence_first_and_only_for_the_first_attempt():
    from dataclasses import dataclass, replace

    from rag.answer import STEPS, Query
    from rag.evaluate import evidence_first
    from rag.ingest import Chunk
    from rag.retrieve import Hit

    def chunk(source, n, text):
        return Chunk(f"{source}#{n}", f"{source}.vtt", 0, len(text), text, (), 0.0)

    chunks = [
        chunk("other", 0, "we had a data set of around 80,000 images, in another episode"),
        chunk("carbon", 0, "Welcome to the podcast."),
        chunk("carbon", 1, "So we had a data set of around 80,000 images in the end."),
        chunk("carbon", 2, "The plants are in China."),
    ]

    @dataclass
    class Index:
        chunks: list
        rows = {"other.vtt": (0, 1), "carbon.vtt": (1, 4)}

    searched = [Hit(chunks[1], 0.9, 1), Hit(chunks[3], 0.8, 2), Hit(chunks[0], 0.7, 3)]
    steps = replace(STEPS, retrieve=lambda query, index, embedder, settings, exclude=frozenset(): searched)
    item = {
        "question": "How many images?",
        "source": "carbon",
        "answerable": True,
        "evidence": ["we had a data set of around 80,000 images"],
    }
    unanswerable = {"question": "Who is the CEO?", "answerable": False, "evidence": []}
    perfect = evidence_first(steps, [item, unanswerable])
    settings = type("Settings", (), {"top_k": 3})()

    def ids(question, exclude=frozenset()):
        hits = perfect.retrieve(Query(question, "en", question), Index(chunks), None, settings, exclude)
        return [(h.chunk.id, h.rank) for h in hits]

    # the question's own episode, not the other episode's chunk that also says it; still top_k hits
    assert ids("How many images?") == [("carbon#1", 1), ("carbon#0", 2), ("carbon#2", 3)]
    assert ids("How many images?", exclude=frozenset({"carbon#0"})) == [
        ("carbon#0", 1),
        ("carbon#2", 2),
        ("other#0", 3),
    ]
    assert ids("Who is the CEO?") == [("carbon#0", 1), ("carbon#2", 2), ("other#0", 3)]
