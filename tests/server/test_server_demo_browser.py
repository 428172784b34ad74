"""Acceptance 1 of the workspace, in headless Chromium on the demo database: a planner opens
the exceptions worklist and overrides an order with a reason; an approver approves it and
exports; the audit shows both users; the next plan — a zip of the demo folder uploaded from
the browser and planned as a background job with a progress bar — keeps the firm order.

The demo is the M5 data folder of ``echelon demo`` with fewer simulation replications and
periods (the flow is the real one, the plan just takes less time). A screenshot of each main
page is written under the test's temporary folder, or ``$ECHELON_SCREENSHOTS`` when set; no
console error, no dialog, no failed response and no request outside 127.0.0.1 is allowed.
Uses the system Chromium (tests/browsers.py): skipped locally without it, fails on CI.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from live_server import login, serving, watched_page
from server_factories import SECRET, password

from browsers import require_browser
from echelon.plan.demo_data import write_demo_folder
from echelon.plan.model import PlanResult, exception_order
from echelon.plan.service import plan_and_store
from echelon.server.app import create_app
from echelon.storage import list_runs, load_run
from echelon.storage.users import add_user

FAST = {"sim_reps": 4, "sim_periods": 104, "shadow_origins": 1}  # fewer simulations only
NEXT_PLAN_S = 900  # the upload's plan on a busy machine


def small_demo(path: Path) -> Path:
    """The demo data folder with :data:`FAST` simulation settings in its plan.yaml."""
    folder = write_demo_folder(path, seed=0)
    config = yaml.safe_load((folder / "plan.yaml").read_text()) | FAST
    (folder / "plan.yaml").write_text(yaml.safe_dump(config))
    return folder


def _zip(folder: Path, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f"m5-demo/{f.name}")
    return path


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str, Path, PlanResult]]:
    """(base URL, database, zip of the demo folder, the stored demo run)."""
    require_browser()
    folder = small_demo(tmp_path / "data")
    db = str(tmp_path / "echelon.db")
    stored = plan_and_store(folder, db, options={"command": "demo"})
    for role in ("planner", "approver"):
        add_user(db, role, role, password(role))
    app = create_app(db, secret=SECRET, work_dir=tmp_path / "uploads")
    with serving(app) as base:
        yield base, db, _zip(folder, tmp_path / "m5-demo.zip"), stored.result


def _target(result: PlanResult) -> tuple[str, str, str, float]:
    """The first exception of the worklist that has an order on its item × location: (item,
    location, the order's key, its planned quantity)."""
    for e in sorted(result.exceptions, key=exception_order):
        rec = next((r for r in result.recommendations
                    if (r.item, r.location) == (e.item, e.location)), None)  # fmt: skip
        if rec is not None:
            return rec.item, rec.location, rec.key, rec.quantity
    raise AssertionError("the demo has no exception with an order")


def test_demo_override_approve_export_audit_and_the_next_plan_keeps_it(
    demo: tuple[str, str, Path, PlanResult], tmp_path: Path
) -> None:
    base, db, upload, result = demo
    item, location, key, planned = _target(result)
    quantity = max(1.0, float(round(planned / 2)))
    shots = Path(os.environ.get("ECHELON_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with watched_page(base, problems) as page:
        _planner_overrides(page, base, (item, location, key, quantity), shots)
        page.click("header.top button[type=submit]")  # log out
        page.wait_for_selector("form.login")
        _approver_approves_and_exports(page, base, (item, location, key, quantity), shots)
        page.click("header.top button[type=submit]")
        page.wait_for_selector("form.login")
        new_run = _next_plan_keeps_it(page, base, upload, key, quantity, shots)
    print(f"screenshots in {shots}")
    assert problems == []
    kept = {r.key: r for r in load_run(db, new_run).recommendations}[f"{key}@firm-1"]
    assert (kept.quantity, kept.status.value, kept.firm_run) == (quantity, "exported", 1)
    assert [r.id for r in list_runs(db)] == [new_run, 1]


def _planner_overrides(page: Any, base: str, target: tuple[str, str, str, float],
                       shots: Path) -> None:  # fmt: skip
    item, location, key, quantity = target
    login(page, base, "planner")
    page.screenshot(path=str(shots / "runs.png"), full_page=True)
    page.goto(f"{base}/runs/1")
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    page.goto(f"{base}/runs/1/exceptions")
    page.screenshot(path=str(shots / "worklist.png"), full_page=True)
    page.goto(f"{base}/runs/1/exceptions?item={item}&location={location}")
    page.click("a.open-cell")
    card = page.locator(f'#cell article.rec[data-key="{key}"]')
    card.locator("input[name=quantity]").fill(f"{quantity:g}")
    card.locator("input[name=reason]").fill("promotion ends early")
    card.locator("button.override").click()
    page.wait_for_selector("#cell .msg.good")
    assert (
        f"quantity set to {quantity:g} by planner" in page.locator("#cell .msg.good").inner_text()
    )
    page.screenshot(path=str(shots / "worklist-override.png"), full_page=True)
    page.goto(f"{base}/runs/1/cell?item={item}&location={location}")
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    assert page.locator("#cell-policy").count() == 1 and page.locator("#cell-position").count() == 1
    page.screenshot(path=str(shots / "item-location.png"), full_page=True)


def _approver_approves_and_exports(
    page: Any, base: str, target: tuple[str, str, str, float], shots: Path
) -> None:
    item, location, key, quantity = target
    login(page, base, "approver")
    page.goto(f"{base}/runs/1/recommendations?status=proposed")  # paged: find it by status
    shown = page.locator("article.rec").count()
    page.click("a.load-more")  # the demo has more than one page: HTMX adds the next one
    page.wait_for_selector(f"article.rec >> nth={shown}")
    page.goto(f"{base}/runs/1/recommendations?item={item}&location={location}")
    card = page.locator(f'article.rec[data-key="{key}"]')
    assert "promotion ends early" in card.inner_text()
    card.locator("button.approve").click()
    page.wait_for_selector(f'article.rec.status-approved[data-key="{key}"]')
    page.screenshot(path=str(shots / "recommendations.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#export-button")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [(r["key"], float(r["quantity"])) for r in rows] == [(key, quantity)]
    page.goto(f"{base}/runs/1/audit")
    who = page.locator("#audit td.who").all_inner_texts()
    assert sorted(set(who)) == ["approver", "planner"]
    page.screenshot(path=str(shots / "audit.png"), full_page=True)


def _next_plan_keeps_it(
    page: Any, base: str, upload: Path, key: str, quantity: float, shots: Path
) -> int:
    login(page, base, "planner")
    page.goto(f"{base}/plans/new")
    page.set_input_files("input[name=file]", str(upload))
    page.click("#upload-button")
    page.wait_for_selector("#job-progress")
    page.screenshot(path=str(shots / "job-progress.png"), full_page=True)
    page.wait_for_selector("#job-done, #job-error", timeout=NEXT_PLAN_S * 1000)
    assert page.locator("#job-error").count() == 0, page.locator("#job-error").inner_text()
    page.screenshot(path=str(shots / "job-done.png"), full_page=True)
    page.click("#job-run")
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    new_run = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.goto(f"{base}/runs/{new_run}/recommendations?status=exported")
    card = page.locator(f'article.rec[data-key="{key}@firm-1"]')
    text = card.inner_text()
    assert "Firm order kept from run #1" in text and "exported" in text, text
    assert f"{quantity:,.0f} u" in text or f"{quantity:g} u" in text, text
    page.screenshot(path=str(shots / "next-plan-firm.png"), full_page=True)
    page.goto(f"{base}/jobs")
    page.screenshot(path=str(shots / "jobs.png"), full_page=True)
    return new_run
