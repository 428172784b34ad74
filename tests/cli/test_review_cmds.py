"""``echelon override`` and ``echelon auto-approve`` through the entry point: the override is
listed by ``echelon recommendations``, the rule's approvals are audited as the rule's, and bad
input is one line with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import run_cli

from echelon.storage import audit_log, save_run
from storage.factories import make_plan_result

KEY = "order:HOBBIES_1:DC_CA->CA_2"


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "runs.db")
    save_run(path, make_plan_result())
    return path


def test_override_is_listed_with_planned_quantity_reason_and_user(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["override", "1", KEY, "4", "--reason", "shelf reset", "--by", "bob", "--db", db], capsys
    )
    assert code == 0 and "15.0 → 4.0 units by bob" in " ".join(out.split()), out + err
    code, out, _ = run_cli(["recommendations", "1", "--db", db], capsys)
    flat = " ".join(out.split())
    assert code == 0 and "planned 15.0 → 4.0 by bob:" in flat and "shelf reset" in flat, flat
    code, _, err = run_cli(["override", "1", KEY, "4", "--reason", " ", "--by", "b", "--db", db],
                           capsys)  # fmt: skip
    assert code == 2 and "a reason is required" in err and "Traceback" not in err


def test_auto_approve_applies_a_rule_audited_as_the_rule(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["auto-approve", "1", "--max-value", "100", "--by", "alice", "--db", db], capsys
    )
    flat = " ".join(out.split())
    assert code == 0 and "rule #1 approved 2 recommendations" in flat, out + err
    assert {a.who for a in audit_log(db, 1)} == {
        "rule #1: order of value ≤ 100.00 USD without an exception"
    }
    code, _, err = run_cli(
        ["auto-approve", "1", "--max-value", "5", "--kind", "orders", "--by", "a", "--db", db],
        capsys,
    )
    assert code == 2 and "'orders'" in err and "Traceback" not in err
