"""A workspace server on 127.0.0.1 in a thread, and the watchers of the browser tests: every
console error or warning, page error, dialog, failed response and request outside the server
is collected as a problem."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from server_factories import password

from browsers import ARGS, CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def watch(page: Any, base: str, problems: list[str]) -> None:
    """Collect the page's problems (module doc) into ``problems``."""
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "assert", "warning") else None)  # fmt: skip
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith((base, "data:")) else problems.append(
        f"outside request: {r.url}"))  # fmt: skip
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400
            else None)  # fmt: skip


def login(page: Any, base: str, role: str) -> None:
    """Log in as the user ``role`` (password :func:`server_factories.password`)."""
    page.goto(f"{base}/login")
    page.fill("input[name=name]", role)
    page.fill("input[name=password]", password(role))
    page.click("button[type=submit]")
    page.wait_for_selector("#runs")


@contextmanager
def watched_page(base: str, problems: list[str]) -> Iterator[Any]:
    """A page of Debian's headless chromium (downloads accepted) whose console errors and
    requests outside ``base`` are collected in ``problems`` (:func:`watch`); closed after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1360, "height": 900},
                                      accept_downloads=True)  # fmt: skip
            page = ctx.new_page()
            watch(page, base, problems)
            yield page
        finally:
            browser.close()
