"""``echelon runs | recommendations | approve | reject | export | audit`` through the entry
point, on SQLite and PostgreSQL: what a planner sees, and one-line errors with exit code 2."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import run_cli

from echelon.cli import app as app_module
from echelon.cli import storage_cmds
from echelon.storage import audit_log, load_run, save_run
from storage.databases import BACKENDS, fresh_database
from storage.factories import make_plan_result

if "echelon.cli.storage_cmds" not in app_module.COMMAND_MODULES:  # until app.py lists it
    storage_cmds.register(app_module.app)

KEYS = [r.key for r in make_plan_result().recommendations]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (SQLite file or PostgreSQL schema; see tests/storage)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


def _statuses(db: str) -> list[str]:
    return [r.status.value for r in load_run(db, "latest").recommendations]


def test_runs_lists_stored_runs_with_saving_and_review_counts(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["runs", "--db", db_url], capsys)
    assert code == 0 and "no runs stored yet" in out
    save_run(db_url, make_plan_result(name="weekly"))
    code, out, _ = run_cli(["runs", "--db", db_url], capsys)
    assert code == 0
    assert "weekly" in out and "17.2%" in out and "aaaaaaaaaaaa" in out


def test_approve_reject_export_audit_round_trip(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = str(save_run(db_url, make_plan_result()).id)
    code, out, _ = run_cli(
        ["approve", run, KEYS[0], KEYS[4], "--by", "Ana", "--comment", "ok", "--db", db_url],
        capsys,
    )
    assert code == 0 and "approved 2 recommendations" in out
    code, out, _ = run_cli(["reject", "latest", "--all", "--by", "Bo", "--db", db_url], capsys)
    assert code == 0 and "rejected 4 recommendations" in out
    assert _statuses(db_url) == [
        "approved",
        "rejected",
        "rejected",
        "rejected",
        "approved",
        "rejected",
    ]

    dest = tmp_path / "erp.csv"
    code, out, _ = run_cli(
        ["export", run, "--out", str(dest), "--by", "erp", "--db", db_url], capsys
    )
    assert code == 0 and "exported 2 approved recommendations" in out
    with dest.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["run_id"], r["key"], r["quantity"]) for r in rows] == [
        (run, KEYS[0], "12"),
        (run, KEYS[4], "5"),
    ]
    assert _statuses(db_url)[0] == "exported"

    code, out, _ = run_cli(["audit", run, "--db", db_url], capsys)
    assert code == 0
    assert all(word in out for word in ("Ana", "Bo", "erp", "approve", "reject", "export", "ok"))
    assert len(audit_log(db_url, run)) == 8

    code, out, _ = run_cli(["recommendations", run, "--status", "exported", "--db", db_url], capsys)
    assert code == 0 and "transfer" in out and "expedite" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "9", "--all", "--by", "x"], "unknown run 9"),
        (["approve", "1", "order:NOPE", "--by", "x"], "unknown recommendation key"),
        (["approve", "1", KEYS[0], "--all", "--by", "x"], "not both"),
        (["approve", "1", "--by", "x"], "no recommendation keys"),
        (["reject", "1", KEYS[0], "--by", ""], "who made the change is required"),
        (["export", "1", "--out", "OUT"], "no approved recommendations"),
        (["audit", "one"], "by its number or 'latest'"),
        (["recommendations", "1", "--status", "done"], "unknown status"),
    ],
)
def test_bad_requests_print_one_line_and_exit_2(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    save_run(db_url, make_plan_result())
    args = [str(tmp_path / "x.csv") if a == "OUT" else a for a in args]
    code, out, err = run_cli([*args, "--db", db_url], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out
    assert set(_statuses(db_url)) == {"proposed"}


def test_forbidden_transition_exits_2_and_names_the_rule(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    save_run(db_url, make_plan_result())
    assert run_cli(["approve", "1", KEYS[0], "--by", "a", "--db", db_url], capsys)[0] == 0
    code, _, err = run_cli(["approve", "1", KEYS[0], "--by", "a", "--db", db_url], capsys)
    assert code == 2 and "already approved" in err


def test_unsupported_database_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["runs", "--db", "mysql://u:p@h/db"], capsys)
    assert code == 2 and "unsupported database URL scheme" in err
