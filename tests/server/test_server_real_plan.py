"""The workspace over a run planned for real (the tiny data folder through
``echelon.plan.service.plan_and_store``), and ``echelon serve`` started as a command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from server_factories import bearer, login, password, seed

from echelon.plan.service import plan_and_store
from echelon.storage.users import add_user
from plan.bad_folders import write_tiny_folder


def test_every_page_of_a_planned_run_renders_and_its_orders_export(tmp_path: Path) -> None:
    db = str(tmp_path / "plan.db")
    stored = plan_and_store(write_tiny_folder(tmp_path / "data"), db)
    for role in ("viewer", "approver"):
        add_user(db, role, role, password(role))
    c, _ = login(db, "viewer")
    run = stored.run_id
    for path in ("/", "", "/exceptions", "/recommendations", "/audit"):
        url = path if path == "/" else f"/runs/{run}{path}"
        assert c.get(url).status_code == 200, url
    cells = {(e.item, e.location) for e in stored.result.exceptions if e.item and e.location}
    cells |= {(r.item, r.location) for r in stored.result.recommendations}
    for item, location in sorted(cells):
        page = c.get(f"/runs/{run}/cell", params={"item": item, "location": location})
        assert page.status_code == 200 and "Recommendations" in page.text
        assert 'id="cell-policy"' in page.text and 'id="cell-position"' in page.text
    placed = next(iter(stored.result.placements))
    page = c.get(f"/runs/{run}/cell", params={"item": placed.item, "location": placed.location})
    if placed.explanation.safety_stock is not None:
        assert 'id="ss-parts"' in page.text
    keys = [r.key for r in stored.result.recommendations]
    auth = bearer(db, "approver")
    c.post(f"/api/v1/runs/{run}/recommendations/approve", json={"keys": keys}, headers=auth)
    records = c.post(f"/api/v1/runs/{run}/export", headers=auth).json()
    assert [r["key"] for r in records] == keys


def test_echelon_serve_starts_and_answers(tmp_path: Path) -> None:
    db = str(tmp_path / "serve.db")
    seed(db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "echelon.cli.app", "serve", "--db", db, "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "ECHELON_SECRET": "s" * 32})  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"{base}/health").json() == {"status": "ok"}
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert httpx.get(f"{base}/", follow_redirects=False).status_code == 303
        assert httpx.get(f"{base}/api/v1/runs").status_code == 401
    finally:
        proc.terminate()
        proc.wait(20)
