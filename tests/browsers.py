"""Headless Chromium for the browser tests (the report file, the workspace): Debian's
``/usr/bin/chromium`` driven by Playwright, never a downloaded browser. Without it a test is
skipped locally and fails under CI=true (``make test`` installs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# the machine's network is closed: no background requests, no component updates
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_browser(chromium: Path = CHROMIUM, ci: bool | None = None) -> None:
    """Skip (locally) or fail (on CI) when Chromium or Playwright is missing."""
    missing = None
    if not chromium.exists():
        missing = f"{chromium} is not installed"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed"
    if missing is None:
        return
    if on_ci() if ci is None else ci:
        pytest.fail(f"browser test cannot run on CI: {missing}")
    pytest.skip(missing)
