"""UI callbacks and rendering, with the fake embedder and generator (no browser)."""

from rag.ingest import Transcript
from ui.app import history_turns, respond
from ui.render import anchor_id, render_answer, render_transcript

from .conftest import FakePipeline


def run(pipeline, question, messages=(), quotes=()):
    """Every update, snapshotted when it was yielded (Gradio serializes at each yield)."""
    updates = []
    for chat, view, kept, box in respond(
        pipeline, question, list(messages), list(quotes), 4, 0.0, 100, "qwen2.5-coder-1.5b"
    ):
        updates.append(([dict(m) for m in chat], view, list(kept), box))
    return updates


def test_history_from_chat_messages_drops_the_sources_block():
    messages = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1 [1]\n\n<details><summary>Sources</summary>...</details>"},
        {"role": "user", "content": [{"type": "text", "text": "Q2"}]},
    ]
    assert history_turns(messages) == [{"question": "Q1", "answer": "A1 [1]"}, {"question": "Q2", "answer": ""}]


def test_streamed_answer_ends_with_sources_and_marked_transcript(fake_settings, fake_index):
    pipeline = FakePipeline(
        fake_settings, fake_index, "Originality.aiは回答がChatGPTと非常に似ていることが分かった[1]。"
    )
    updates = run(pipeline, "Originality.aiは何を発見しましたか？")
    messages, transcript_html, quotes, box = updates[-1]
    assert box == "" and messages[-2] == {"role": "user", "content": "Originality.aiは何を発見しましたか？"}
    final = messages[-1]["content"]
    assert final.startswith("Originality.ai") and '<details class="sources-panel" open>' in final
    assert 'class="cite-link"' in final and "<mark>" in final and "✓ supported" in final
    [(start, end)] = quotes
    assert f'id="{anchor_id("000_bf3b1260eecfaf13.txt", start, end)}"' in transcript_html
    assert any(m[0][-1]["content"] != final for m in updates[1:-1])  # it streamed before the end


def test_follow_up_passes_the_earlier_turn(fake_settings, fake_index):
    pipeline = FakePipeline(fake_settings, fake_index, "2000台です[1]。")
    earlier = [
        {"role": "user", "content": "DeepSeekの費用は？"},
        {"role": "assistant", "content": "550万ドル[1]\n\n<details>x</details>"},
    ]
    run(pipeline, "何台のGPU？", earlier)
    assert pipeline.seen_history == [{"question": "DeepSeekの費用は？", "answer": "550万ドル[1]"}]


def test_bad_input_becomes_a_chat_message(fake_settings, fake_index):
    pipeline = FakePipeline(fake_settings, fake_index, "x")
    for question in ("   ", "x" * 2001):
        [(messages, _, _, _)] = run(pipeline, question)
        assert messages[-1]["role"] == "assistant" and messages[-1]["content"].startswith("⚠")


def test_refusal_shows_the_closest_passages(fake_settings, fake_index):
    pipeline = FakePipeline(fake_settings, fake_index, "NOT_FOUND")
    messages, _, quotes, _ = run(pipeline, "Quel est le prix de ChatGPT Pro ?")[-1]
    assert "La transcription n'aborde pas cette question." in messages[-1]["content"]
    assert "Closest passages" in messages[-1]["content"] and quotes == []


def test_transcript_and_answers_are_escaped():
    transcript = Transcript("a.txt", "x", "<b>Title</b>", "", "1 < 2 & <script>alert(1)</script>\nnext", ())
    page = render_transcript(transcript, {(0, 5)})
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;Title" in page
    assert '<mark class="cited" id="q-a_txt-0-5">1 &lt; 2</mark>' in page and "<br>" in page

    class Fake:
        answer, refused, citations, passages, removed_claims = "<img src=x onerror=alert(1)>", False, [], [], []

    assert "<img" not in render_answer(Fake())


def test_the_app_sends_no_analytics(fake_settings, fake_index):
    from ui.app import build_app

    app = build_app(FakePipeline(fake_settings, fake_index, "x"))
    assert app.analytics_enabled is False
