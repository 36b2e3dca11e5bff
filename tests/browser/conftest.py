"""A live portal on a free port and Debian's Chromium driven by Playwright.

Never a downloaded browser: always /usr/bin/chromium with the flags this machine needs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.applications import Starlette

from tests.browser.helpers import SCREENSHOTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent.name == "browser":
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(app: Starlette) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: str, clean_db: object) -> Iterator[Page]:
    """A browser tab with the portal's real Content-Security-Policy in force."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser: Browser, live_server: str, clean_db: object) -> Iterator[Callable[..., Page]]:
    """More tabs, each its own browser profile (another person), closed at the end."""
    contexts = []

    def make(*, javascript: bool = True) -> Page:
        context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page_without_js(browser: Browser, live_server: str, clean_db: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the screenshots of the journeys' key pages are, so people look at them."""
    if SCREENSHOTS.exists() and any(SCREENSHOTS.glob("*.png")):
        count = len(list(SCREENSHOTS.glob("*.png")))
        terminalreporter.write_line(f"Screenshots of key pages ({count}): {SCREENSHOTS}")
