"""A live Huitong web server on a free loopback port and a real Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from graph import accounts
from graph.falkordb_backend import FalkorStore
from settings import Settings

CHROMIUM = Path(os.environ.get("HUITONG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DEMO_PASSWORD = "demo browser pass"


@dataclass(frozen=True)
class LiveServer:
    url: str


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    password: str


@pytest.fixture(scope="session")
def live_server(settings: Settings, demo: FalkorStore) -> Iterator[LiveServer]:
    from webapp import create_app

    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_user(demo: FalkorStore) -> DemoUser:
    """An ordinary demo member (demo people have no password of their own: give one a known password)."""
    member = next(p for p in accounts.list_people(demo)
                  if p["roles"] == ["member"] and p["active"] is not False and p["departments"][:1] == ["FIN-ACC"])
    accounts.set_password(demo, member["id"], DEMO_PASSWORD)
    return DemoUser(member["username"], member["name"], DEMO_PASSWORD)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (install Debian `chromium` or set HUITONG_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()
