"""UI callbacks and rendering, with the fake embedder and generator (no browser)."""

from rag.ingest import Transcript
from ui.app import history_turns, respond
from ui.render import allow_listed, anchor_id, escape, render_answer, render_transcript

from .conftest import FakePipeline


def run(pipeline, question, messages=(), quotes=None, videos=(), model="qwen2.5-coder-1.5b"):
    """Every update, snapshotted when it was yielded (Gradio serializes at each yield)."""
    updates = []
    for chat, view, kept, box, shown in respond(
        pipeline, question, list(messages), dict(quotes or {}), list(videos), None, 4, 0.0, 100, model
    ):
        updates.append(([dict(m) for m in chat], view, {k: list(v) for k, v in kept.items()}, box, shown))
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
    messages, transcript_html, quotes, box, shown = updates[-1]
    assert box == "" and messages[-2] == {"role": "user", "content": "Originality.aiは何を発見しましたか？"}
    final = messages[-1]["content"]
    assert final.startswith("Originality.ai") and '<details class="sources-panel" open>' in final
    assert 'class="cite-link"' in final and "<mark>" in final and "✓ supported" in final
    [[start, end]] = quotes["000_bf3b1260eecfaf13.txt"]
    assert shown == "000_bf3b1260eecfaf13.txt"
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
        [(messages, _, _, _, _)] = run(pipeline, question)
        assert messages[-1]["role"] == "assistant" and messages[-1]["content"].startswith("⚠")


def test_refusal_shows_the_closest_passages(fake_settings, fake_index):
    pipeline = FakePipeline(fake_settings, fake_index, "NOT_FOUND")
    messages, _, quotes, _, _ = run(pipeline, "Quel est le prix de ChatGPT Pro ?")[-1]
    assert "La transcription n&#39;aborde pas cette question." in messages[-1]["content"]
    assert "Closest passages" in messages[-1]["content"] and quotes == {}


def test_transcript_and_answers_are_escaped():
    transcript = Transcript("a.txt", "x", "<b>Title</b>", "", "1 < 2 & <script>alert(1)</script>\nnext", ())
    page = render_transcript(transcript, {(0, 5)})
    assert "<script>" not in page and "&#60;script&#62;" in page and "&#60;b&#62;Title" in page
    assert '<mark class="cited" id="q-a_txt-0-5">1 &#60; 2</mark>' in page and "<br>" in page

    class Fake:
        answer, refused, citations, passages, removed_claims = "<img src=x onerror=alert(1)>", False, [], [], []

    assert "<img" not in render_answer(Fake())


def test_markdown_in_text_stays_text():
    shown = escape("[click](javascript:alert(1)) **bold** ![x](http://e/x.png) <i>")
    assert not any(c in shown for c in "[]()*!<>") and shown.count("&#") == 17


def test_only_allowed_tags_and_attributes_survive():
    fragment = (
        '<div class="source" onclick="x()"><a href="javascript:alert(1)">a</a><a href="#q-1" data-target="q-1">b</a>'
        '<img src=x onerror=alert(1)><script>alert(2)</script><iframe src="https://e"></iframe>'
        '<a href="https://youtu.be/x?t=5&amp;s=1" target="_blank">c</a><details open><summary>s</summary></details></div>'
    )
    assert allow_listed(fragment) == (
        '<div class="source"><a>a</a><a href="#q-1" data-target="q-1">b</a>'
        '<a href="https://youtu.be/x?t=5&amp;s=1" target="_blank">c</a><details open><summary>s</summary></details></div>'
    )


def test_history_from_the_chat_is_read_as_the_user_wrote_it():
    messages = [
        {"role": "user", "content": escape("C'est quoi [Stargate] ?")},
        {"role": "assistant", "content": escape("Un projet [1].") + '\n\n<details class="sources-panel">…</details>'},
    ]
    assert history_turns(messages) == [{"question": "C'est quoi [Stargate] ?", "answer": "Un projet [1]."}]


def test_the_app_sends_no_analytics(fake_settings, fake_index):
    from ui.app import build_app

    app = build_app(FakePipeline(fake_settings, fake_index, "x"))
    assert app.analytics_enabled is False


SRT = (
    "1\n00:12:30,000 --> 00:12:34,000\nThe satellite team trained on forty thousand images.\n\n"
    "2\n00:12:34,000 --> 00:12:40,000\nThat took us about six months.\n"
)


def test_an_uploaded_transcript_is_searchable_and_cited_with_its_time(fake_settings, fake_index, tmp_path):
    from types import SimpleNamespace

    from ui.app import add_uploads

    (tmp_path / "upload.srt").write_text(SRT, encoding="utf-8")
    upload = SimpleNamespace(name=str(tmp_path / "upload.srt"), orig_name="../../Coal Plants <b>.srt")
    pipeline = FakePipeline(fake_settings, fake_index, "They trained on forty thousand images [1].")
    message, choices = add_uploads(pipeline, [upload])
    assert message.startswith("Added to the library") and "&#60;b&#62;" not in message
    assert (fake_settings.sources / "Coal_Plants_b.srt").exists()  # a safe name, in the library folder only
    assert ("Coal Plants b (12:40)", "Coal_Plants_b.srt") in choices
    messages, view, quotes, _, shown = run(
        pipeline, "How many images did the satellite team train on?", videos=["Coal_Plants_b.srt"]
    )[-1]
    assert shown == "Coal_Plants_b.srt" and "Coal Plants b — 12:30" in messages[-1]["content"]
    assert '<span class="ts">12:30</span>' in view


def test_bad_uploads_change_nothing(fake_settings, fake_index, tmp_path):
    from ui.app import add_uploads

    pipeline = FakePipeline(fake_settings, fake_index, "x")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "junk.srt").write_bytes(bytes(range(256)) * 4)
    before = sorted(p.name for p in fake_settings.sources.iterdir())
    for name in ("notes.pdf", "junk.srt"):
        message, _ = add_uploads(pipeline, [str(tmp_path / name)])
        assert message.startswith("⚠") and name.split(".")[0] in message
    assert sorted(p.name for p in fake_settings.sources.iterdir()) == before


def test_only_the_servers_models_can_be_chosen(fake_settings, fake_index):
    pipeline = FakePipeline(fake_settings, fake_index, "x")
    [(messages, *_)] = run(pipeline, "What is Stargate?", model="/etc/passwd")
    assert messages[-1]["content"].startswith("⚠") and "model" in messages[-1]["content"]
