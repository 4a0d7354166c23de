"""Browser tests: the real server (`python -m app serve`) driven by Playwright in Debian's Chromium.

Chromium is looked for at /usr/bin/chromium (Debian's package `chromium`; Playwright's own browser
download does not work here). Without it these tests are skipped with a message, except when
CI=true, where they fail. Every request to a host other than localhost fails the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("GRAFO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


def _need_chromium():
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(log_name: str, env: dict | None = None):
    """`python -m app serve` on a free port (with `env` added to the environment), until the block ends."""
    port = _free_port()
    (ROOT / "test-output").mkdir(exist_ok=True)
    log = open(ROOT / "test-output" / log_name, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/api/examples", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start; see {log.name}")
        time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server_url():
    _need_chromium()
    with running_server("browser-server.log") as url:
        yield url


class PageWatch:
    """What a page did that a test may want to fail on: console errors and requests leaving localhost."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []


@pytest.fixture
def watch():
    return PageWatch()


def localhost_only_context(browser, server_url, watch, **options):
    """A 1280×720 browser context whose requests to any host but localhost fail (and are noted)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=server_url, **options)

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            watch.foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context


@pytest.fixture
def page(browser, server_url, watch):
    context = localhost_only_context(browser, server_url, watch, accept_downloads=True)
    pg = context.new_page()
    pg.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.console_errors.append(f"pageerror: {e}"))
    yield pg
    context.close()
    assert not watch.foreign_requests, f"requests left localhost: {watch.foreign_requests}"


def wait_for_graph(page, after: int = 0, timeout: float = 30_000):
    """Wait until the graph has been laid out and painted more than `after` times."""
    page.wait_for_function(f"window.__grafo && window.__grafo.painted > {after}", timeout=timeout)
    page.wait_for_timeout(150)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def in_view(page, node):
    """Graph node locator `node`, brought into view first (as search or the minimap would): a first
    view shows a readable part of a graph too large to read whole, and a click needs the node on screen."""
    page.evaluate("(id) => window.__grafo.pane.reveal(id)", node.get_attribute("data-id"))
    return node
