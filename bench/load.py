"""Load test of `rag ui`: N simulated users ask at once; time to first token, full answer, errors, memory.

    .venv/bin/python bench/load.py --start                      # starts `rag ui` on a free local port, stops it after
    .venv/bin/python bench/load.py --url http://127.0.0.1:7860 --server-pid PID
    .venv/bin/python bench/load.py --start --users 1 2 --questions my.txt --timeout 120 --time-limit 600

Each user is its own Gradio session (a `gradio_client.Client`), submits one question to the app's answer
endpoint (found in the app's API description: the one that takes the question Textbox and returns the
Chatbot, `/answer`) at the same moment as the others, and reads the streamed updates as they arrive.
Before the levels, a warm-up asks the questions one by one (not counted: the first answers after a
start pay for lazy loads; --warmup 0 measures a cold start). Per request: the first update (the app's "…" placeholder), the time to the first streamed model text
(TTFT), the time to the final checked answer, success (an answer that is not a "⚠" message) or the error.
A request is lost when it was submitted but not completed within --timeout (or the --time-limit of the
whole run); it is then cancelled. Per number of users: throughput (successful answers per minute of
wall time), p50/p95 TTFT and answer time over the successful requests, errors, lost requests, and the
server's peak RSS (VmHWM of /proc/PID/status, so it can only grow from one level to the next).

Only a server on this machine is targeted (127.0.0.1 or localhost); the questions default to the
Japanese, English and French examples of ui/app.py. Results go to bench/load.json and a Markdown table.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost")
POLL_S = 0.01  # how often a user looks for a new streamed update (the TTFT resolution)
PLACEHOLDER = "…"  # the app's first update, before the model writes


def example_questions() -> list[str]:
    """EXAMPLES from ui/app.py, read without importing the app (no Gradio, no models in this process)."""
    tree = ast.parse((REPO / "ui" / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise SystemExit("error: no EXAMPLES in ui/app.py; give --questions FILE")


def read_questions(path: str) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".jsonl"):
        questions = [json.loads(line)["question"] for line in text.splitlines() if line.strip()]
    else:
        questions = [line.strip() for line in text.splitlines() if line.strip()]
    if not questions:
        raise SystemExit(f"error: no questions in {path}; give one a line (.txt) or JSON lines with a question")
    return questions


def loopback_url(url: str) -> str | None:
    """The URL with a trailing slash, or None when it is not a server on this machine."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or host not in LOOPBACK:
        return None
    return url if url.endswith("/") else url + "/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int | None) -> dict:
    """VmHWM (peak resident set) and VmRSS of a process, in MB; empty when unknown."""
    if pid is None:
        return {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    values = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)  # kB
    return values


def start_server(rag: str, data_dir: Path, timeout: float) -> tuple[subprocess.Popen, str, Path, float]:
    """`rag ui` on a free loopback port; returns (process, url, log path, seconds until it answered)."""
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"rag-load-server-{port}.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("RAG_UI_AUTH", None)  # loopback only, and the simulated users do not log in
    started = time.perf_counter()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [rag, "ui", "--host", "127.0.0.1", "--port", str(port)],
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl+C here reaches it only through stop_server
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: rag ui exited with status {server.returncode}; its log:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return server, url, log_path, time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"error: rag ui did not answer within {timeout:.0f} s; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    """Ctrl+C, then SIGTERM, then SIGKILL, to this one process."""
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if server.poll() is not None:
            return
        server.send_signal(sig)
        try:
            server.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def connect(url: str, auth: tuple[str, str] | None):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False, auth=auth)


def answer_endpoint(client) -> str:
    """The named endpoint that takes the question (a Textbox first) and returns the chat (a Chatbot)."""
    info = client.view_api(print_info=False, return_format="dict")
    named = info.get("named_endpoints", {})
    found = [
        name
        for name, spec in named.items()
        if spec.get("parameters")
        and spec["parameters"][0].get("component") == "Textbox"
        and any(r.get("component") == "Chatbot" for r in spec.get("returns", []))
    ]
    if not found:
        raise SystemExit(f"error: no answer endpoint among {sorted(named)}; give --api-name")
    return "/answer" if "/answer" in found else sorted(found)[0]


def assistant_text(output) -> str:
    """The last assistant message's text in one update of the endpoint (chat, transcript, textbox, shown)."""
    chat = output[0] if isinstance(output, (list, tuple)) and output else output
    if not isinstance(chat, list):
        return ""
    for message in reversed(chat):
        if isinstance(message, dict) and message.get("role") == "assistant":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def ask(client, api_name: str, question: str, start: threading.Barrier, timeout: float, run_deadline: float) -> dict:
    """One user's request, streamed; times are seconds from submission."""
    record = {"question": question, "first_update_s": None, "ttft_s": None, "total_s": None, "updates": 0}
    start.wait()
    submitted = time.perf_counter()
    deadline = min(submitted + timeout, run_deadline)
    record["submitted_s"] = submitted  # made relative to the level's start by the caller
    try:
        job = client.submit(question, api_name=api_name)
    except Exception as error:
        return {**record, "status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
    seen, last = 0, None
    while True:
        done = job.done()
        outputs = job.outputs()
        now = time.perf_counter()
        for output in outputs[seen:]:
            last = output
            record["updates"] += 1
            if record["first_update_s"] is None:
                record["first_update_s"] = round(now - submitted, 3)
            text = assistant_text(output).strip()
            if record["ttft_s"] is None and text and text != PLACEHOLDER:
                record["ttft_s"] = round(now - submitted, 3)
        seen = len(outputs)
        if done:
            break
        if now > deadline:
            job.cancel()
            why = "the run's --time-limit" if run_deadline <= submitted + timeout else f"--timeout {timeout:g} s"
            return {**record, "status": "lost", "error": f"not completed within {why}"}
        time.sleep(POLL_S)
    record["total_s"] = round(time.perf_counter() - submitted, 3)
    try:
        job.result(timeout=1)
    except Exception as error:
        return {**record, "status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
    text = assistant_text(last).split("<details", 1)[0].strip()
    record["answer"] = text[:300]
    if not text or text == PLACEHOLDER:
        return {**record, "status": "error", "error": "no answer in the final update"}
    if text.startswith("⚠"):
        return {**record, "status": "error", "error": text[:300]}
    return {**record, "status": "ok"}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def run_level(url, auth, api_name, users, questions, timeout, run_deadline, server_pid) -> dict:
    """N users, each its own session, asking at the same moment."""
    clients = [connect(url, auth) for _ in range(users)]  # sessions opened before the clock starts
    barrier = threading.Barrier(users + 1)
    results: list[dict | None] = [None] * users

    def user(i: int) -> None:
        try:
            results[i] = ask(clients[i], api_name, questions[i % len(questions)], barrier, timeout, run_deadline)
        except Exception as error:  # never lose a record: a crash in the user is an error
            results[i] = {"question": questions[i % len(questions)], "status": "error", "error": repr(error)[:300]}

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(max(0.0, run_deadline - time.perf_counter()) + 5)
    wall = time.perf_counter() - began
    for client in clients:
        client.close()
    requests = []
    for i, record in enumerate(results):
        record = record or {"question": questions[i % len(questions)], "status": "lost", "error": "user never returned"}
        if "submitted_s" in record:
            record["submitted_s"] = round(record["submitted_s"] - began, 3)
        requests.append({"user": i, **record})
    ok = [r for r in requests if r["status"] == "ok"]
    ttft = [r["ttft_s"] for r in ok if r["ttft_s"] is not None]
    total = [r["total_s"] for r in ok]
    return {
        "users": users,
        "submitted": sum("submitted_s" in r for r in requests),
        "answered": len(ok),
        "errors": sum(r["status"] == "error" for r in requests),
        "lost": sum(r["status"] == "lost" for r in requests),
        "wall_s": round(wall, 2),
        "answers_per_min": round(len(ok) / wall * 60, 2) if wall > 0 else None,
        "ttft_p50_s": percentile(ttft, 50),
        "ttft_p95_s": percentile(ttft, 95),
        "answer_p50_s": percentile(total, 50),
        "answer_p95_s": percentile(total, 95),
        "server_memory_mb": memory_mb(server_pid),
        "requests": requests,
    }


def markdown(levels: list[dict]) -> str:
    def cell(value, unit=""):
        return "–" if value is None else f"{value}{unit}"

    rows = [
        "| users | answered | errors | lost | wall | answers/min | TTFT p50 / p95 | answer p50 / p95 | server peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        if level.get("skipped"):
            rows.append(f"| {level['users']} | skipped: {level['skipped']} |  |  |  |  |  |  |  |")
            continue
        peak = level["server_memory_mb"].get("VmHWM")
        rows.append(
            f"| {level['users']} | {level['answered']}/{level['users']} | {level['errors']} | {level['lost']} "
            f"| {level['wall_s']} s | {cell(level['answers_per_min'])} "
            f"| {cell(level['ttft_p50_s'], ' s')} / {cell(level['ttft_p95_s'], ' s')} "
            f"| {cell(level['answer_p50_s'], ' s')} / {cell(level['answer_p95_s'], ' s')} "
            f"| {cell(None if peak is None else round(peak / 1024, 2), ' GB')} |"
        )
    return "\n".join(rows)


def parse_auth(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, colon, password = text.partition(":")
    return (user, password) if colon and user and password else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", default="http://127.0.0.1:7860/", help="a running rag ui on this machine")
    target.add_argument("--start", action="store_true", help="start `rag ui` on a free local port, stop it at the end")
    parser.add_argument("--server-pid", type=int, help="the running server's process id, for its peak RSS")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 4, 8, 16], help="simultaneous users, per level")
    parser.add_argument(
        "--questions", help="a .txt (one a line) or .jsonl (question) file; default: ui/app.py EXAMPLES"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="questions asked one by one before the levels, not counted (default: each question once, at most 3): "
        "the first answers after a start pay for lazy loads",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a request counts as lost")
    parser.add_argument("--time-limit", type=float, default=1800, help="seconds for the whole run, start included")
    parser.add_argument("--start-timeout", type=float, default=300, help="seconds for --start's server to answer")
    parser.add_argument("--data-dir", default=".", help="where --start runs `rag ui` (holds index/, seeds/)")
    parser.add_argument("--api-name", help="the answer endpoint (default: found in the app's API description)")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="log in, when the server was started with --auth")
    parser.add_argument("--out", default=str(REPO / "bench" / "load.json"), help="results (JSON)")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.users) or args.timeout <= 0 or args.time_limit <= 0:
        parser.error("--users, --timeout and --time-limit must be positive")
    if args.warmup is not None and args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    if not args.start and loopback_url(args.url) is None:
        parser.error(
            f"--url must be http://127.0.0.1:PORT or http://localhost:PORT (this machine only), got {args.url!r}"
        )
    auth = parse_auth(args.auth)
    if args.auth is not None and auth is None:
        parser.error("--auth must be USER:PASSWORD")
    questions = read_questions(args.questions) if args.questions else example_questions()
    # loopback needs no proxy, whatever the environment says
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    began = time.perf_counter()
    run_deadline = began + args.time_limit
    server, server_pid, server_info = None, args.server_pid, {}
    if args.server_pid is not None and not Path(f"/proc/{args.server_pid}").exists():
        raise SystemExit(f"error: no process {args.server_pid}; give the pid of the running rag ui")
    try:
        if args.start:
            rag = str(Path(sys.executable).parent / "rag")
            budget = min(args.start_timeout, args.time_limit)
            server, url, log_path, start_s = start_server(rag, Path(args.data_dir).resolve(), budget)
            server_pid = server.pid
            server_info = {"started_by_bench": True, "start_s": round(start_s, 1), "log": str(log_path)}
            print(f"rag ui up in {start_s:.1f} s at {url} (pid {server_pid})", file=sys.stderr)
        else:
            url = loopback_url(args.url)
        try:
            probe = connect(url, auth)
        except Exception as error:
            raise SystemExit(
                f"error: cannot open {url} ({type(error).__name__}: {' '.join(str(error).split())[:200]}); "
                "is rag ui running there (give --auth if it asks for a login)?"
            ) from None
        api_name = args.api_name or answer_endpoint(probe)
        probe.close()
        print(f"answer endpoint {api_name}; questions: {len(questions)}", file=sys.stderr)
        warmups = []
        for question in questions[: min(len(questions), 3) if args.warmup is None else args.warmup]:
            client = connect(url, auth)
            record = ask(client, api_name, question, threading.Barrier(1), args.timeout, run_deadline)
            client.close()
            record.pop("submitted_s", None)
            warmups.append(record)
            print(f"warm-up: {record['status']} in {record['total_s']} s: {question[:50]}", file=sys.stderr)
        server_info["memory_mb_before"] = memory_mb(server_pid)  # after the warm-up, before the levels
        levels = []
        for users in args.users:
            if time.perf_counter() + 5 > run_deadline:
                levels.append({"users": users, "skipped": "--time-limit reached"})
                continue
            level = run_level(url, auth, api_name, users, questions, args.timeout, run_deadline, server_pid)
            levels.append(level)
            print(
                f"{users} users: {level['answered']} answered, {level['errors']} errors, {level['lost']} lost "
                f"in {level['wall_s']} s",
                file=sys.stderr,
            )
        server_info.update({"pid": server_pid, "memory_mb_at_end": memory_mb(server_pid)})
    finally:
        if server is not None:
            stop_server(server)
    report = {
        "url": url,
        "api_name": api_name,
        "questions": questions,
        "timeout_s": args.timeout,
        "time_limit_s": args.time_limit,
        "run_s": round(time.perf_counter() - began, 1),
        "machine": {"cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg(), "python": platform.python_version()},
        "server": server_info,
        "warmup": warmups,
        "levels": levels,
    }
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(markdown(levels))
    print(f"\n{report['run_s']} s in all; written to {args.out}", file=sys.stderr)
    return 0 if all(level.get("lost", 0) == 0 and level.get("errors", 0) == 0 for level in levels) else 1


if __name__ == "__main__":
    sys.exit(main())
