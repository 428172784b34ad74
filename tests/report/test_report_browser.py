"""The report in headless Chromium: it draws every chart without a console or page error,
requests nothing outside the file, runs no injected script, fits 1280 px, and the fan-chart
selector switches series. A full-page screenshot is saved next to the report.

Uses the system Chromium (/usr/bin/chromium; never downloads a browser). Without it the test
is skipped locally and fails on CI (``CI=true``), where `make system-deps` installs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_factories import EVIL_STORE, make_result

from browsers import ARGS, CHROMIUM, require_browser
from echelon.report import write_report


def test_report_renders_in_headless_chromium_without_errors(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    result = make_result()
    path = write_report(result, tmp_path / "report.html")
    problems: list[str] = []
    foreign: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "assert")
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on(
                "request",
                lambda r: (
                    None if r.url.startswith(("file:", "data:", "blob:")) else foreign.append(r.url)
                ),
            )
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-report-ready=true]", timeout=30_000)

            assert page.locator("#network-chart .main-svg").count() >= 1
            assert page.locator("#curve-chart .main-svg").count() >= 1
            assert page.locator("#fan-chart .main-svg").count() >= 1
            assert page.locator(".plotly .main-svg").count() >= 3
            # nodes drawn with their names as text, markup shown literally
            node_text = page.locator("#network-chart .textpoint").all_text_contents()
            assert EVIL_STORE in node_text and "DC_US" in node_text
            # the curve draws a line per policy; the fan chart bands, mean and actuals
            assert page.locator("#curve-chart .scatterlayer .trace").count() >= 2
            first_title = page.locator("#fan-chart .gtitle").text_content()
            assert first_title == "FOODS_1 at CA_1 · model AutoETS"

            options = page.locator("#fan-select option")
            assert options.count() == len(result.forecasts)
            page.select_option("#fan-select", "9")
            page.wait_for_selector("#fan-chart[data-shown='9']", timeout=10_000)
            series = result.forecasts[9]
            title = page.locator("#fan-chart .gtitle").text_content()
            assert title == f"{series.item} at {series.location} · model AutoETS"
            assert page.locator("#fan-chart .legendtext").all_text_contents()[-1] == (
                "actual (hold-out)"
            )

            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1280  # no page-wide horizontal scroll at 1280 px
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert foreign == []
    assert dialogs == []
    assert shot.stat().st_size > 50_000


def test_browser_check_is_skipped_locally_but_fails_on_ci_without_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-chromium"
    with pytest.raises(pytest.skip.Exception):
        require_browser(missing, ci=False)
    with pytest.raises(pytest.fail.Exception):
        require_browser(missing, ci=True)
