"""The browser UI: chat about a library of transcripts, with checked sources beside it.

`build_app(pipeline)` makes a Gradio Blocks app: a chat that streams answers,
each followed by a collapsible Sources block (for each citation the video's
title and the moment, `Title — 12:34`, a link to that second when the
transcript's sidecar gives the video's address, the supporting quote
highlighted, whether the claim check supported it, and any removed
statements); a filter of the videos to search (none chosen: all); an upload
that adds transcripts to the library (size and type checked, safe names,
progress while embedding); and the transcript of the cited video beside the
chat, where a click on a citation scrolls to and highlights the quote. The
model and index are loaded once (`rag ui`) and shared by every session;
answers queue on one lock. Callbacks turn every error into a chat message,
and everything a user, a file or the model wrote is shown as text.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from rag.answer import Answer, check_question
from rag.errors import RagError, UsageError
from rag.followup import parse_history
from rag.models import CHAT_MODELS
from rag.moments import time_label

from .render import CSS, escape, render_answer, render_transcript

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
            plain.append({"role": message["role"], "content": html.unescape(content)})  # shown escaped
    return parse_history(plain, "the chat")


MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # an hour of speech is ~0.1-1 MB of subtitles
UPLOAD_SUFFIXES = (".srt", ".vtt", ".json", ".txt")


def video_choices(index) -> list[tuple[str, str]]:
    """(label, transcript name) for the video filter and the transcript selector."""
    return [
        (f"{t.title} ({time_label(t.duration)})" if t.timed else t.title, name) for name, t in index.transcripts.items()
    ]


def titles(index) -> dict[str, str]:
    return {name: t.title for name, t in index.transcripts.items()}


def transcript_html(pipeline, name: str | None, quotes: dict) -> str:
    index = pipeline.index
    if name not in index.transcripts:
        name = next(iter(index.transcripts))
    return render_transcript(index.transcripts[name], {tuple(q) for q in quotes.get(name, [])})


def respond(
    pipeline,
    question: str,
    messages: list[dict],
    quotes: dict,
    videos: list[str] | None,
    shown: str | None,
    top_k: int,
    temperature: float,
    max_tokens: int,
    model: str,
):
    """Stream one answer into the chat; yields (messages, transcript html, quotes, textbox value, shown video).

    Every text that came from the user, a transcript or the model is escaped before it reaches the page.
    """
    messages = list(messages or [])
    quotes = {k: list(v) for k, v in (quotes or {}).items()}
    history = history_turns(messages)
    try:
        question = check_question(question, pipeline.settings.max_question_chars)
        if model not in CHAT_MODELS and model != pipeline.settings.model:
            raise RagError("choose a chat model from the list")
        chosen = frozenset(v for v in (videos or []) if v in pipeline.index.transcripts)
    except RagError as error:
        messages += [
            {"role": "user", "content": escape(question or " ")},
            {"role": "assistant", "content": f"⚠ {escape(str(error))}"},
        ]
        yield messages, gr.skip(), quotes, "", gr.skip()
        return
    messages += [{"role": "user", "content": escape(question)}, {"role": "assistant", "content": "…"}]
    yield messages, gr.skip(), quotes, "", gr.skip()
    settings = pipeline.settings.replace(
        top_k=int(top_k), temperature=float(temperature), max_tokens=int(max_tokens), model=model
    )
    streamed = ""
    try:
        for item in pipeline.ask_stream(question, history, settings, videos=chosen):
            if isinstance(item, Answer):
                messages[-1] = {"role": "assistant", "content": render_answer(item, titles(pipeline.index))}
                for c in item.citations:
                    quotes.setdefault(c.source, [])
                    if [c.quote_start, c.quote_end] not in quotes[c.source]:
                        quotes[c.source].append([c.quote_start, c.quote_end])
                cited = item.citations[0].source if item.citations else shown
                yield messages, transcript_html(pipeline, cited, quotes), quotes, "", cited
            else:
                streamed += item
                messages[-1] = {"role": "assistant", "content": escape(streamed)}
                yield messages, gr.skip(), quotes, "", gr.skip()
    except RagError as error:
        messages[-1] = {"role": "assistant", "content": f"⚠ {escape(str(error))}"}
        yield messages, gr.skip(), quotes, "", gr.skip()
    except Exception as error:  # never a traceback in the page
        log.exception("answering failed")
        messages[-1] = {
            "role": "assistant",
            "content": f"⚠ Something went wrong while answering ({type(error).__name__}); the details are in the server log.",
        }
        yield messages, gr.skip(), quotes, "", gr.skip()


def safe_upload_name(name: str) -> str:
    """The uploaded file's base name with only letters, digits, '-', '_' and '.' (no path, no hidden file)."""
    base = Path(str(name).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "transcript"
    return stem[:80] + suffix


def add_uploads(pipeline, files, progress=None) -> tuple[str, list[tuple[str, str]]]:
    """Add uploaded transcripts to the library; returns (a message, the new video choices)."""
    if not files:
        return "Choose .srt, .vtt, Whisper .json or .txt files first.", video_choices(pipeline.index)
    with tempfile.TemporaryDirectory() as work:
        staged = []
        for file in files:
            path = Path(getattr(file, "name", file))
            name = safe_upload_name(getattr(file, "orig_name", None) or path.name)
            if Path(name).suffix not in UPLOAD_SUFFIXES:
                return f"⚠ {escape(name)} is not a transcript; upload .srt, .vtt, .json or .txt files.", video_choices(
                    pipeline.index
                )
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                return (
                    f"⚠ {escape(name)} is larger than {MAX_UPLOAD_BYTES // 2**20} MB; upload a smaller file.",
                    video_choices(pipeline.index),
                )
            target = Path(work) / name
            shutil.copyfile(path, target)
            staged.append(target)
        notes: list[str] = []

        def note(message: str) -> None:
            notes.append(message)
            if progress is not None:
                progress(None, desc=message[:120])

        try:
            names = pipeline.add_files(staged, log=note)
        except RagError as error:
            return f"⚠ {escape(str(error))}", video_choices(pipeline.index)
    titles = ", ".join(escape(pipeline.index.transcripts[n].title) for n in names)
    return f"Added to the library: {titles}.", video_choices(pipeline.index)


def build_app(pipeline) -> gr.Blocks:
    models = list(CHAT_MODELS) + ([pipeline.settings.model] if pipeline.settings.model not in CHAT_MODELS else [])
    first = next(iter(pipeline.index.transcripts))
    with gr.Blocks(title="Ask the transcripts", analytics_enabled=False) as app:  # nothing leaves the machine
        gr.Markdown("### Ask the transcripts\nAnswers come only from the transcripts; every citation is checked.")
        quotes = gr.State({})
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(  # every text is escaped (ui.render.escape): only the tags built there render
                    label="Conversation", height=560, elem_id="chat", sanitize_html=False
                )
                question = gr.Textbox(
                    placeholder="Ask in Japanese, English or French…", show_label=False, elem_id="question", max_lines=4
                )
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="send")
                    stop = gr.Button("Stop", elem_id="stop")
                    clear = gr.Button("Clear", elem_id="clear")
                videos = gr.Dropdown(
                    video_choices(pipeline.index),
                    value=[],
                    multiselect=True,
                    label="Search in (empty: every video)",
                    elem_id="videos",
                )
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
                with gr.Accordion("Add transcripts to the library", open=False):
                    uploads = gr.File(
                        file_count="multiple",
                        file_types=list(UPLOAD_SUFFIXES),
                        label="SRT, WebVTT, Whisper JSON or text",
                        elem_id="upload",
                    )
                    add = gr.Button("Add to the library", elem_id="add")
                    status = gr.Markdown(elem_id="upload-status")
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
                    model = gr.Dropdown(models, value=pipeline.settings.model, label="Chat model")
            with gr.Column(scale=2):
                shown = gr.Dropdown(video_choices(pipeline.index), value=first, label="Transcript", elem_id="shown")
                view = gr.HTML(transcript_html(pipeline, first, {}), elem_id="transcript")

        inputs = [question, chat, quotes, videos, shown, top_k, temperature, max_tokens, model]
        outputs = [chat, view, quotes, question, shown]

        def answer(*args):
            yield from respond(pipeline, *args)

        def upload(files, progress=gr.Progress()):  # noqa: B008 (how Gradio asks for a progress bar)
            message, choices = add_uploads(pipeline, files, progress)
            return message, gr.update(choices=choices), gr.update(choices=choices), None

        events = [question.submit(answer, inputs, outputs), send.click(answer, inputs, outputs)]
        stop.click(None, None, None, cancels=events)
        clear.click(
            lambda name: ([], transcript_html(pipeline, name, {}), {}, "", name), shown, outputs, cancels=events
        )
        shown.change(lambda name, q: transcript_html(pipeline, name, q), [shown, quotes], view)
        add.click(upload, uploads, [status, videos, shown, uploads], concurrency_limit=1)
    return app


AUTH_FORMAT = "USER:PASSWORD"


def is_loopback(host: str) -> bool:
    """Whether an address to listen on is reachable only from this machine: 127.x, ::1 or localhost."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # 0.0.0.0, another address, or a host name other than localhost: reachable


def parse_account(text: str, where: str) -> tuple[str, str]:
    """(user, password) from USER:PASSWORD; errors name where the value came from, never the value itself."""
    user, colon, password = text.partition(":")
    fix = f"give {AUTH_FORMAT}"
    if not text.strip():
        raise UsageError(f"{where} is empty; {fix}")
    if not colon:
        raise UsageError(f"{where} has no ':' between user and password; {fix}")
    if not user.strip():
        raise UsageError(f"{where} has an empty user name; {fix}")
    if user != user.strip():
        raise UsageError(f"{where} has spaces around the user name (the login page strips them); remove them")
    if not password:
        raise UsageError(f"{where} has an empty password; {fix}")
    return user, password


def auth_accounts(flag_values: list[str] | None, env_value: str | None) -> list[tuple[str, str]]:
    """The login accounts from --auth (repeatable), else RAG_UI_AUTH (USER:PASSWORD, several separated by commas).

    As for every setting, flags win over the variable. A malformed value is a usage error.
    """
    if flag_values:
        entries = [(value, f"--auth value {i}") for i, value in enumerate(flag_values, 1)]
        origin = "--auth"
    elif env_value is not None:
        if not env_value.strip():
            raise UsageError(f"RAG_UI_AUTH is empty; give {AUTH_FORMAT}[,{AUTH_FORMAT}...] or unset it")
        entries = [(item.strip(), f"RAG_UI_AUTH item {i}") for i, item in enumerate(env_value.split(","), 1)]
        origin = "RAG_UI_AUTH"
    else:
        return []
    accounts: list[tuple[str, str]] = []
    for value, where in entries:
        user, password = parse_account(value, where)
        if any(user == known for known, _ in accounts):
            raise UsageError(f"the user {user!r} is given twice in {origin}; give each user once")
        accounts.append((user, password))
    return accounts


def exposure_warnings(host: str, accounts: list[tuple[str, str]], share: bool = False) -> list[str]:
    """One-line warnings for an app reachable beyond this machine (never showing a password)."""
    lines = []
    login = f"a login is required ({len(accounts)} account{'s' if len(accounts) != 1 else ''})"
    how = f"add --auth {AUTH_FORMAT} (or RAG_UI_AUTH={AUTH_FORMAT}) to require a login"
    if not is_loopback(host):
        if accounts:
            lines.append(
                f"warning: --host {host} listens beyond this machine; {login}, but over plain HTTP, "
                "so passwords and answers cross the network unencrypted"
            )
        else:
            lines.append(
                f"warning: --host {host} listens beyond this machine and no login is set: anyone on the network "
                f"can use the app (ask questions, add transcripts); {how}"
            )
    if share:
        lines.append(
            f"warning: --share publishes this app through a public link; {login}"
            if accounts
            else f"warning: --share publishes this app through a public link that anyone can use; {how}"
        )
    return lines


def launch_options(
    host: str = "127.0.0.1", port: int = 7860, share: bool = False, accounts: list[tuple[str, str]] | None = None
) -> dict:
    """The keyword arguments of Gradio's `Blocks.launch` for `rag ui`.

    `auth` is Gradio's list of (user, password) tuples, or None for no login (an empty list would lock
    everyone out). What Gradio would otherwise take from GRADIO_* variables is pinned: no server-side
    rendering by a Node proxy, no MCP server; uploads above MAX_UPLOAD_BYTES are refused before they are
    written to disk.
    """
    return {
        "server_name": host,
        "server_port": port,
        "share": share,
        "auth": [tuple(a) for a in accounts] if accounts else None,
        "css": CSS,
        "show_error": False,
        "footer_links": [],
        "ssr_mode": False,
        "mcp_server": False,
        "max_file_size": MAX_UPLOAD_BYTES,
    }


def launch(
    pipeline,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    accounts: list[tuple[str, str]] | None = None,
) -> None:
    app = build_app(pipeline)
    app.queue(default_concurrency_limit=1, max_size=32)
    app.launch(**launch_options(host, port, share, accounts))
