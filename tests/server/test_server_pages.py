"""The pages: what they show, the worklist's filters, acting on a recommendation from the
worklist with HTMX, the CSV download, markup in the data rendered inert, and the CLI."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from server_factories import EVIL, htmx, login, password, seed

from echelon.storage import audit_log, list_runs
from storage.databases import fresh_database

KEY = "order:FOODS_1:DC_CA->CA_1"


def test_runs_list_and_dashboard_show_kpis_progress_and_figures(
    seeded: tuple[str, int],
) -> None:
    db, run = seeded
    c, _ = login(db, "viewer")
    runs = c.get("/").text
    assert f'href="/runs/{run}"' in runs and "17.2%" in runs  # saving vs single-echelon
    assert "<progress" in runs
    page = c.get(f"/runs/{run}").text
    for text in (
        "Saving vs single-echelon",
        "Stock-to-service curve",
        "Shadow mode",
        'data-plot="curve-chart"',
        'data-plot="network-chart"',
        "single-echelon",
        "current policy",
    ):
        assert text in page, text  # fmt: skip
    assert 'src="/vendor/plotly.min.js"' in page
    assert "export-button" not in page  # a viewer may not export


def test_worklist_filters_and_sorts(seeded: tuple[str, int]) -> None:
    db, run = seeded
    c, _ = login(db, "viewer")
    everything = c.get(f"/runs/{run}/exceptions").text
    assert everything.index("runs out in 3 days") < everything.index("negative demand rows")
    high = c.get(f"/runs/{run}/exceptions?severity=high").text
    assert "runs out in 3 days" in high and "negative demand" not in high
    kind = c.get(f"/runs/{run}/exceptions?kind=data_quality").text
    assert "runs out" not in kind and "negative demand" in kind
    loc = c.get(f"/runs/{run}/exceptions?location=ca_1&item=FOODS").text
    assert "runs out in 3 days" in loc and "negative demand" not in loc
    by_kind = c.get(f"/runs/{run}/exceptions?sort=kind").text
    assert by_kind.index("negative demand") < by_kind.index("runs out")  # data_quality < stockout
    assert 'hx-get="/runs/1/cell?item=FOODS_1&amp;location=CA_1"' in everything


def test_planner_overrides_from_the_worklist_and_approver_approves_and_downloads(
    tmp_path: Path,
) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        run = seed(db)
        planner, token = login(db, "planner")
        cell = planner.get(f"/runs/{run}/cell?item=FOODS_1&location=CA_1", headers=htmx(token))
        assert "<html" not in cell.text and 'value="order:FOODS_1:DC_CA-&gt;CA_1"' in cell.text
        assert 'class="override"' in cell.text and 'class="approve"' not in cell.text
        form = {"key": KEY, "quantity": "15", "reason": "shelf reset"}
        card = planner.post(f"/runs/{run}/override", data=form, headers=htmx(token)).text
        assert card.startswith('<article class="rec status-proposed"')
        assert "quantity set to 15 by planner" in card and "shelf reset" in card
        refused = planner.post(f"/runs/{run}/override", data=form | {"reason": " "},
                               headers=htmx(token))  # fmt: skip
        assert refused.status_code == 200 and "a reason is required" in refused.text

        approver, token2 = login(db, "approver")
        card = approver.post(f"/runs/{run}/approve", data={"key": KEY, "comment": "ok"},
                             headers=htmx(token2)).text  # fmt: skip
        assert "status-approved" in card and "approved by approver" in card
        download = approver.post(f"/runs/{run}/export", data={"csrf_token": token2})
        assert download.headers["content-disposition"].startswith("attachment")
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert [(r["key"], r["quantity"]) for r in rows] == [(KEY, "15")]
        audit = approver.get(f"/runs/{run}/audit").text
        assert (
            audit.count('class="who">planner<') == 1 and audit.count('class="who">approver<') == 2
        )
        assert [a.who for a in audit_log(db, run)] == ["planner", "approver", "approver"]


def test_markup_in_ids_and_comments_is_escaped_everywhere(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        run = seed(db, evil=True)
        c, token = login(db, "admin")
        key = f"order:{EVIL}:DC_CA->{EVIL}"
        c.post(f"/runs/{run}/comment", data={"key": key, "comment": EVIL}, headers=htmx(token))
        pages = ["/", f"/runs/{run}", f"/runs/{run}/exceptions", f"/runs/{run}/recommendations",
                 f"/runs/{run}/audit", f"/runs/{run}/cell?item={EVIL}&location={EVIL}"]  # fmt: skip
        for path in pages:
            html = c.get(path, params=None).text
            assert "<script>alert" not in html and "<img src=x" not in html, path
            assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), path
        assert "&lt;script&gt;alert" in c.get(f"/runs/{run}/audit").text


def test_users_cli_adds_lists_and_makes_tokens(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "echelon.cli.app", *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env,
                              timeout=120)  # fmt: skip

    added = cli("users", "add", "ann", "--role", "approver", "--password-stdin", "--db", db,
                stdin=password("x") + "\n")  # fmt: skip
    assert added.returncode == 0 and "added user ann (approver)" in added.stdout
    assert cli("users", "add", "ann", "--role", "viewer", "--password-stdin", "--db", db,
               stdin="long-enough-pw\n").returncode == 2  # fmt: skip
    assert cli("users", "add", "bo", "--role", "boss", "--password-stdin", "--db", db,
               stdin="long-enough-pw\n").returncode == 2  # fmt: skip
    assert "ann approver active" in cli("users", "list", "--db", db).stdout
    token = cli("users", "token", "ann", "--db", db).stdout.strip()
    assert token.startswith("ech_") and len(token) > 40
    helped = cli("serve", "--help")
    assert helped.returncode == 0 and "--port" in helped.stdout
    assert list_runs(db) == []
