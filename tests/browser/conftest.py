"""A live portal on a free port and Debian's Chromium driven by Playwright.

Never a downloaded browser: always /usr/bin/chromium with the flags this machine needs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.applications import Starlette

from audit_portal.config import PROJECT_ROOT

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
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


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
    # bypass_csp lets axe-core be injected; the portal's own CSP is tested over HTTP.
    context = browser.new_context(base_url=live_server, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser: Browser, live_server: str, clean_db: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the current page; return its violations (empty means none)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("async () => (await axe.run(document)).violations")


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
    )
