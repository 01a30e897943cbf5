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
