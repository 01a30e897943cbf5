"""A real browser against the real app: headless Debian Chromium driven by Playwright.

Starts `rag ui` with the real models on a free local port, asks a dev
question, waits for the streamed answer, checks the citation marker and the
Sources panel with the evidence, clicks the citation and checks that the
transcript view scrolls to and highlights the quote, and saves a screenshot
in test-output/. `./test.sh` installs Chromium (Debian's `chromium`) and
Playwright for Python; no browser is downloaded by Playwright.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO, dev_questions

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ui(name: str, *flags: str):
    """`rag ui` on a free port, its log in test-output/; (process, url, log file)."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing; ./test.sh installs it (apt-get install chromium)")
    port = free_port()
    rag = str(Path(sys.executable).parent / "rag")
    (REPO / "test-output").mkdir(exist_ok=True)
    log = open(REPO / "test-output" / f"{name}-server.log", "w")
    server = subprocess.Popen(
        [rag, "ui", "--port", str(port), *flags],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return server, f"http://127.0.0.1:{port}/", log


def wait_until_up(server, url: str, name: str) -> None:
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(1)
        assert server.poll() is None, (REPO / "test-output" / f"{name}-server.log").read_text()
    server.kill()
    pytest.fail("the UI did not start within 180 s")


@pytest.fixture(scope="module")
def app_url():
    server, url, log = start_ui("ui")
    wait_until_up(server, url, "ui")
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


def open_app(browser, url: str):
    """A new page on the app, once its question box is there."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="load")
    page.wait_for_selector("#question textarea", timeout=60_000)
    return page


def test_ask_see_sources_click_citation(app_url):
    from playwright.sync_api import sync_playwright

    item = dev_questions()["dev-26"]  # French question about a Japanese transcript
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = open_app(browser, app_url)
        page.fill("#question textarea", item["question"])
        page.click("#send")
        page.wait_for_selector("#chat .sources-panel", timeout=180_000)

        answer = page.locator("#chat .sources-panel").last.locator("xpath=..")
        text = answer.inner_text()
        assert "[1]" in text or "[2]" in text, text
        assert "27" in text.split("Sources")[0], text
        sources = page.locator("#chat .sources").last.inner_text()
        assert any(e[:12] in sources for e in item["evidence"]), sources
        assert "supported by this passage" in sources

        link = page.locator("#chat a.cite-link").last
        target = link.get_attribute("data-target")
        link.click()
        page.wait_for_function(
            "(id) => document.getElementById(id) && document.getElementById(id).matches(':target')",
            arg=target,
            timeout=10_000,
        )
        state = page.evaluate(
            """(id) => { const e = document.getElementById(id), box = document.getElementById('transcript-view');
                 const r = e.getBoundingClientRect(), b = box.getBoundingClientRect();
                 return {background: getComputedStyle(e).backgroundColor, visible: r.top >= b.top && r.bottom <= b.bottom,
                         text: e.textContent} }""",
            target,
        )
        assert state["background"] == "rgb(255, 159, 67)", state
        assert state["visible"], state
        assert "27ワット" in state["text"], state
        page.screenshot(path=str(REPO / "test-output" / "ui.png"))
        (REPO / "test-output" / "ui-answer.json").write_text(
            json.dumps({"answer": text, "sources": sources}, ensure_ascii=False)
        )
        browser.close()


def test_two_users_at_once_are_queued_and_both_answered(app_url):
    from playwright.sync_api import sync_playwright

    questions = dev_questions()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = [open_app(browser, app_url), open_app(browser, app_url)]
        for page, qid in zip(pages, ["dev-13", "dev-06"]):
            page.fill("#question textarea", questions[qid]["question"])
        for page in pages:
            page.click("#send")
        for page, expected in zip(pages, ["Meta", "1994"]):
            page.wait_for_selector("#chat .sources-panel", timeout=240_000)
            assert expected in page.inner_text("#chat")
        browser.close()


CORAL = (
    "1\n00:12:30,000 --> 00:12:34,500\nWelcome back. Today we visit the coral reef survey team in Okinawa.\n\n"
    "2\n00:12:34,500 --> 00:12:41,000\nThe team counted four hundred and twelve coral colonies on the northern "
    "reef last spring.\n\n"
    "3\n00:12:41,000 --> 00:12:46,000\nThat is twice as many as in their survey of 2019.\n"
)
EVIL = (
    "1\n00:00:01,000 --> 00:00:05,000\nThe launch code is <script>window.__xss = 2; document.title = 'owned'</script> "
    "safe.\n\n"
    '2\n00:00:05,000 --> 00:00:09,000\nPress <img src=x onerror="window.__xss = 3"> to start the machine.\n\n'
    '3\n00:00:09,000 --> 00:00:12,000\nThe machine makes <b onmouseover="window.__xss = 4">bread</b> every morning.\n'
)


@pytest.fixture(scope="module")
def library_app(tmp_path_factory):
    """`rag ui` over a library of its own (the seed), which the tests add transcripts to."""
    folder = tmp_path_factory.mktemp("ui-library")
    (folder / "library").mkdir()
    for path in (REPO / "seeds").iterdir():
        (folder / "library" / path.name).write_bytes(path.read_bytes())
    flags = ["--sources", str(folder / "library"), "--index-dir", str(folder / "index")]
    rag = str(Path(sys.executable).parent / "rag")
    subprocess.run(
        [rag, "index", "build", *flags], check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    server, url, log = start_ui("ui-library", *flags)
    wait_until_up(server, url, "ui-library")
    yield url, folder
    server.terminate()
    server.wait(timeout=30)
    log.close()


def upload(page, path: Path) -> str:
    """Add a transcript through the page's upload; returns the status message."""
    page.get_by_text("Add transcripts to the library").click()
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_timeout(1000)
    page.click("#add")
    page.wait_for_function(
        "() => /Added|⚠/.test(document.querySelector('#upload-status')?.innerText || '')", timeout=180_000
    )
    return page.inner_text("#upload-status")


def test_upload_an_srt_and_ask_about_it_with_its_time(library_app, tmp_path):
    from playwright.sync_api import sync_playwright

    url, folder = library_app
    srt = tmp_path / "coral-reef-survey.srt"
    srt.write_text(CORAL, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = open_app(browser, url)
        assert "Added to the library: Coral reef survey" in upload(page, srt)
        assert (folder / "library" / "coral-reef-survey.srt").exists()
        page.fill("#question textarea", "How many coral colonies did the survey team count on the northern reef?")
        page.click("#send")
        page.wait_for_selector("#chat .sources-panel", timeout=240_000)
        answer = page.locator("#chat .sources-panel").last.locator("xpath=..").inner_text()
        assert "412" in answer or "four hundred" in answer.lower(), answer
        sources = page.locator("#chat .sources").last.inner_text()
        assert re.search(r"Coral reef survey — 12:3\d", sources), sources
        assert "Coral reef survey" in page.inner_text("#transcript")  # the view follows the cited video
        assert "12:30" in page.inner_text("#transcript")  # with its times
        page.locator("#chat .sources-panel").last.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(REPO / "test-output" / "ui-library.png"))
        browser.close()


def test_nothing_a_user_or_a_transcript_typed_runs_in_the_page(library_app, tmp_path):
    from playwright.sync_api import sync_playwright

    url, _ = library_app
    evil = tmp_path / "machine-manual.srt"
    evil.write_text(EVIL, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = open_app(browser, url)
        title = page.title()
        assert "Added to the library" in upload(page, evil)
        for question in (
            '<img src=x onerror="window.__xss = 1">What does the machine make every morning?',
            "[click here](javascript:window.__xss=5) What is the launch code of the machine?",
        ):
            page.fill("#question textarea", question)
            page.click("#send")
            page.wait_for_function(
                "n => document.querySelectorAll('#chat .sources-panel').length >= n",
                arg=1 if "img" in question else 2,
                timeout=240_000,
            )
        if "launch code" not in page.inner_text("#transcript"):  # the view follows the cited video, else choose it
            page.locator("#shown input").click()
            page.get_by_role("option", name=re.compile("Machine manual")).click()
        page.wait_for_function("() => /launch code/.test(document.querySelector('#transcript').innerText)")
        page.hover("#transcript")
        chat, view = page.inner_text("#chat"), page.inner_text("#transcript")
        assert "<img src=x" in chat  # shown as text
        assert "<script>" in view and "onerror" in view  # the transcript's markup shown as text
        state = page.evaluate(
            """() => ({xss: window.__xss, title: document.title,
                      scripts: [...document.querySelectorAll('#chat script, #transcript script')].length,
                      handlers: [...document.querySelectorAll('#chat *, #transcript *')].filter(
                          e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                      js_links: [...document.querySelectorAll('a')].filter(
                          a => a.href.startsWith('javascript:')).length})"""
        )
        assert state == {"xss": None, "title": title, "scripts": 0, "handlers": 0, "js_links": 0}, state
        browser.close()
