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


@pytest.fixture(scope="module")
def app_url():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing; ./test.sh installs it (apt-get install chromium)")
    port = free_port()
    rag = str(Path(sys.executable).parent / "rag")
    (REPO / "test-output").mkdir(exist_ok=True)
    log = open(REPO / "test-output" / "ui-server.log", "w")
    server = subprocess.Popen(
        [rag, "ui", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(1)
        assert server.poll() is None, (REPO / "test-output" / "ui-server.log").read_text()
    else:
        server.kill()
        pytest.fail("the UI did not start within 180 s")
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_ask_see_sources_click_citation(app_url):
    from playwright.sync_api import sync_playwright

    item = dev_questions()["dev-26"]  # French question about a Japanese transcript
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url, wait_until="load")
        page.wait_for_selector("#question textarea", timeout=60_000)
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
        pages = [browser.new_page(), browser.new_page()]
        for page, qid in zip(pages, ["dev-13", "dev-06"]):
            page.goto(app_url, wait_until="load")
            page.wait_for_selector("#question textarea", timeout=60_000)
            page.fill("#question textarea", questions[qid]["question"])
        for page in pages:
            page.click("#send")
        for page, expected in zip(pages, ["Meta", "1994"]):
            page.wait_for_selector("#chat .sources-panel", timeout=240_000)
            assert expected in page.inner_text("#chat")
        browser.close()
