"""Browser test infrastructure: Debian chromium driven by Playwright (never downloaded),
and the portal served by a real threaded werkzeug server on 127.0.0.1 with a free port.

``live_server(**overrides)`` starts one app per call; ``phone`` is a page in a
390×844 touch context. Checks for pages (axe-core, labels, sideways scroll) are in
``tests/browser/helpers.py``. The demo gateway sends its signed
notifications over real HTTP to that server (``http_notifier``), exactly as in production.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app.db import db_session
from tests.conftest import make_test_app, unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        unavailable("chromium", FileNotFoundError(CHROMIUM))
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001
        pw.stop()
        unavailable("chromium", exc)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page in a phone-sized context (390×844, touch, Czech)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="cs-CZ")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@dataclass
class LiveServer:
    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        self.app.extensions["db_engine"].dispose()


@pytest.fixture
def live_server(db_url: str) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``live_server(**config_overrides)`` serves a test app over real HTTP."""
    started: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        # Bind first so the app knows its own address (BASE_URL) before it is built.
        url_db = overrides.pop("DATABASE_URL", db_url)
        holder: dict[str, Flask] = {}
        server = make_server("127.0.0.1", 0, lambda env, sr: holder["app"](env, sr), threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        config: dict[str, Any] = {
            "BASE_URL": url,
            "SERVER_NAME": None,
            "DEMO_GATEWAY_NOTIFIER": None,  # the real http_notifier
            "WTF_CSRF_ENABLED": True,
            **overrides,
        }
        app = make_test_app(url_db, **config)
        holder["app"] = app
        thread = threading.Thread(target=server.serve_forever, name=f"live-{server.server_port}", daemon=True)
        thread.start()
        live = LiveServer(app=app, url=url, server=server, thread=thread)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()
    db_session.remove()
