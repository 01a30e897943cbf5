"""The browser UI: chat about the transcript, with checked sources beside it.

`build_app(pipeline)` makes a Gradio Blocks app: a chat that streams answers,
each followed by a collapsible Sources block (the supporting quote
highlighted, its position in the video, whether the claim check supported
it, and any removed statements), and the cleaned transcript beside it, where
a click on a citation scrolls to and highlights the quote. The model and
index are loaded once (`rag ui`) and shared by every session; requests queue
on one lock. Callbacks turn every error into a chat message.
"""

from __future__ import annotations

import logging

import gradio as gr

from rag.answer import Answer, check_question
from rag.errors import RagError
from rag.followup import parse_history
from rag.models import CHAT_MODELS

from .render import CSS, render_answer, render_transcript

log = logging.getLogger("rag.ui")

EXAMPLES = [
    "DeepSeekはどれくらいの費用でChatGPTに匹敵するモデルを作ったと主張しましたか？",
    "Where does the name Stargate come from?",
    "Combien de watts consomme le cerveau humain selon la vidéo ?",
]


def history_turns(messages: list[dict]) -> list[dict]:
    """Earlier {"question", "answer"} turns from the chat's messages, answers without their Sources block."""
    plain = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):  # Gradio may hand back [{"type": "text", "text": ...}]
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        content = str(content or "")
        if message.get("role") == "assistant":
            content = content.split("<details", 1)[0].strip()
        if message.get("role") in ("user", "assistant"):
            plain.append({"role": message["role"], "content": content})
    return parse_history(plain, "the chat")


def respond(
    pipeline,
    question: str,
    messages: list[dict],
    quotes: list,
    top_k: int,
    temperature: float,
    max_tokens: int,
    model: str,
):
    """Stream one answer into the chat; yields (messages, transcript html, quotes, textbox value)."""
    messages = list(messages or [])
    history = history_turns(messages)
    transcript = next(iter(pipeline.index.transcripts.values()))
    try:
        question = check_question(question, pipeline.settings.max_question_chars)
    except RagError as error:
        messages += [{"role": "user", "content": question or " "}, {"role": "assistant", "content": f"⚠ {error}"}]
        yield messages, gr.skip(), quotes, ""
        return
    messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    yield messages, gr.skip(), quotes, ""
    settings = pipeline.settings.replace(
        top_k=int(top_k),
        temperature=float(temperature),
        max_tokens=int(max_tokens),
        model=model or pipeline.settings.model,
    )
    streamed = ""
    try:
        for item in pipeline.ask_stream(question, history, settings):
            if isinstance(item, Answer):
                messages[-1] = {"role": "assistant", "content": render_answer(item)}
                quotes = sorted(set(map(tuple, quotes)) | {(c.quote_start, c.quote_end) for c in item.citations})
                yield messages, render_transcript(transcript, set(quotes)), quotes, ""
            else:
                streamed += item
                messages[-1] = {"role": "assistant", "content": streamed}
                yield messages, gr.skip(), quotes, ""
    except RagError as error:
        messages[-1] = {"role": "assistant", "content": f"⚠ {error}"}
        yield messages, gr.skip(), quotes, ""
    except Exception as error:  # never a traceback in the page
        log.exception("answering failed")
        messages[-1] = {
            "role": "assistant",
            "content": f"⚠ Something went wrong while answering ({type(error).__name__}); the details are in the server log.",
        }
        yield messages, gr.skip(), quotes, ""


def build_app(pipeline) -> gr.Blocks:
    transcript = next(iter(pipeline.index.transcripts.values()))
    models = list(CHAT_MODELS) + ([pipeline.settings.model] if pipeline.settings.model not in CHAT_MODELS else [])
    with gr.Blocks(title="Ask the transcript", analytics_enabled=False) as app:  # nothing leaves the machine
        gr.Markdown(
            f"### Ask the transcript — {transcript.title}\nAnswers come only from the transcript; every citation is checked."
        )
        quotes = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=560, elem_id="chat", sanitize_html=False)
                question = gr.Textbox(
                    placeholder="Ask in Japanese, English or French…", show_label=False, elem_id="question", max_lines=4
                )
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="send")
                    stop = gr.Button("Stop", elem_id="stop")
                    clear = gr.Button("Clear", elem_id="clear")
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
                with gr.Accordion("Settings", open=False):
                    top_k = gr.Slider(
                        1, 8, value=pipeline.settings.top_k, step=1, label="Passages given to the model (top-k)"
                    )
                    temperature = gr.Slider(
                        0.0, 1.0, value=pipeline.settings.temperature, step=0.05, label="Temperature"
                    )
                    max_tokens = gr.Slider(
                        32, 512, value=pipeline.settings.max_tokens, step=8, label="Longest answer (tokens)"
                    )
                    model = gr.Dropdown(
                        models,
                        value=pipeline.settings.model,
                        label="Chat model (name or GGUF path)",
                        allow_custom_value=True,
                    )
            with gr.Column(scale=2):
                gr.Markdown("#### Transcript")
                view = gr.HTML(render_transcript(transcript, set()), elem_id="transcript")

        inputs = [question, chat, quotes, top_k, temperature, max_tokens, model]
        outputs = [chat, view, quotes, question]

        def answer(*args):
            yield from respond(pipeline, *args)

        events = [question.submit(answer, inputs, outputs), send.click(answer, inputs, outputs)]
        stop.click(None, None, None, cancels=events)
        clear.click(lambda: ([], render_transcript(transcript, set()), [], ""), None, outputs, cancels=events)
    return app


def launch(pipeline, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    app = build_app(pipeline)
    app.queue(default_concurrency_limit=1, max_size=32)
    app.launch(server_name=host, server_port=port, share=share, css=CSS, show_error=False, footer_links=[])
