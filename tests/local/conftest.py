"""Your own code (issue 14): scripts, `with grafo.record()`, `grafo.trace()`, notebooks, saved files.

Browser checks open saved pages from file:// in Debian's Chromium (tests/browser's setup) with every
request that is not a file:, data: or blob: URL refused and noted: the pages must work offline. Without
Chromium they are skipped with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM, _need_chromium

OFFLINE_SCHEMES = ("file:", "data:", "blob:", "about:")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    _need_chromium()  # skipped with the reason, or failed under CI=true
    return CHROMIUM


@pytest.fixture(scope="session")
def local_browser(browser):
    """The suite's one Chromium (tests/conftest.py): Playwright's sync API allows one instance at a time."""
    return browser


class Offline:
    """A page whose requests may only be file:, data: or blob: (others are refused and noted)."""

    def __init__(self, browser, allow_hosts: tuple[str, ...] = ()):
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.route("**/*", self._guard)
        self.allow_hosts = allow_hosts
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _guard(self, route) -> None:
        url = route.request.url
        if url.startswith(OFFLINE_SCHEMES) or any(url.startswith(host) for host in self.allow_hosts):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline_page(local_browser):
    offline = Offline(local_browser)
    yield offline
    offline.close()
    assert not offline.refused, f"the page asked the network for {offline.refused}"


def graph_shown(frame, timeout_ms: float = 20_000) -> int:
    """Wait until a page (or an iframe's frame) has painted its graph; how many nodes it drew."""
    frame.wait_for_function("document.body && document.body.dataset.graphReady", timeout=timeout_ms)
    return frame.locator("#graph .node").count()
