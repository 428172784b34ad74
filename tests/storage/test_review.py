"""Review workflow: status transitions, the audit trail and the ERP export — on SQLite and
PostgreSQL — plus a property test of the status machine against a plain-Python model."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.storage import (
    StorageError,
    audit_log,
    dispose_engines,
    export_approved,
    load_run,
    save_run,
    set_status,
)
from storage.databases import row_counts
from storage.factories import make_plan_result

KEYS = [r.key for r in make_plan_result().recommendations]


def _statuses(db: str, run: int) -> dict[str, str]:
    return {r.key: r.status.value for r in load_run(db, run).recommendations}


def _bring_to(db: str, run: int, key: str, status: str, tmp: Path) -> None:
    if status in ("approved", "exported"):
        set_status(db, run, [key], "approve", "setup")
    if status == "rejected":
        set_status(db, run, [key], "reject", "setup")
    if status == "exported":
        export_approved(db, run, tmp / "setup.csv")


# start status, action → new status, or None when the change is refused
TRANSITION_TABLE = [
    ("proposed", "approve", "approved"),
    ("proposed", "reject", "rejected"),
    ("approved", "approve", None),
    ("approved", "reject", "rejected"),
    ("rejected", "approve", "approved"),
    ("rejected", "reject", None),
    ("exported", "approve", None),
    ("exported", "reject", None),
]


@pytest.mark.parametrize(("start", "action", "expected"), TRANSITION_TABLE)
def test_status_transitions_follow_the_documented_table(
    db_url: str, tmp_path: Path, start: str, action: str, expected: str | None
) -> None:
    run = save_run(db_url, make_plan_result()).id
    key = KEYS[0]
    _bring_to(db_url, run, key, start, tmp_path)
    n_audit = len(audit_log(db_url, run))
    if expected is None:
        with pytest.raises(StorageError, match=f"cannot {action}") as err:
            set_status(db_url, run, [key], action, "ana")  # type: ignore[arg-type]
        assert "already" in str(err.value) or "final" in str(err.value)
        assert _statuses(db_url, run)[key] == start
        assert len(audit_log(db_url, run)) == n_audit
    else:
        assert set_status(db_url, run, [key], action, "ana") == [key]  # type: ignore[arg-type]
        assert _statuses(db_url, run)[key] == expected
        last = audit_log(db_url, run)[-1]
        assert (last.key, last.from_status, last.to_status) == (key, start, expected)


def test_every_change_is_audited_with_who_when_and_comment(db_url: str) -> None:
    run = save_run(db_url, make_plan_result()).id
    before = datetime.now(UTC)
    set_status(db_url, run, KEYS[:2], "approve", "  Ana Planner ", "budget ok")
    set_status(db_url, run, KEYS[1:2], "reject", "Bo", None)
    after = datetime.now(UTC)
    log = audit_log(db_url, run)
    assert [(e.key, e.action, e.from_status, e.to_status, e.who, e.comment) for e in log] == [
        (KEYS[0], "approve", "proposed", "approved", "Ana Planner", "budget ok"),
        (KEYS[1], "approve", "proposed", "approved", "Ana Planner", "budget ok"),
        (KEYS[1], "reject", "approved", "rejected", "Bo", None),
    ]
    for e in log:
        assert e.at.tzinfo is not None and e.at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert before.replace(microsecond=0) <= e.at <= after


def test_one_bad_key_changes_nothing(db_url: str) -> None:
    run = save_run(db_url, make_plan_result()).id
    with pytest.raises(StorageError, match="unknown recommendation key") as err:
        set_status(db_url, run, [KEYS[0], "order:NOPE:X->Y"], "approve", "ana")
    assert "'order:NOPE:X->Y'" in str(err.value)
    assert set(_statuses(db_url, run).values()) == {"proposed"}
    assert audit_log(db_url, run) == []


def test_one_forbidden_change_changes_nothing(db_url: str) -> None:
    run = save_run(db_url, make_plan_result()).id
    set_status(db_url, run, [KEYS[1]], "approve", "ana")
    with pytest.raises(StorageError, match="already approved"):
        set_status(db_url, run, [KEYS[0], KEYS[1]], "approve", "ana")
    assert _statuses(db_url, run)[KEYS[0]] == "proposed"
    assert len(audit_log(db_url, run)) == 1


def test_all_acts_only_on_proposed_recommendations(db_url: str) -> None:
    run = save_run(db_url, make_plan_result()).id
    set_status(db_url, run, [KEYS[2]], "reject", "ana")
    done = set_status(db_url, run, "all", "approve", "bo")
    assert done == [k for k in KEYS if k != KEYS[2]]
    statuses = _statuses(db_url, run)
    assert statuses[KEYS[2]] == "rejected"
    assert set_status(db_url, run, "all", "approve", "bo") == []


@pytest.mark.parametrize(
    ("keys", "action", "who", "message"),
    [
        ([], "approve", "ana", "no recommendation keys"),
        (KEYS[:1], "approve", "  ", "who made the change is required"),
        (KEYS[:1], "delete", "ana", "unknown review action"),
    ],
)
def test_bad_review_requests_are_clear_errors(
    db_url: str, keys: list[str], action: str, who: str, message: str
) -> None:
    run = save_run(db_url, make_plan_result()).id
    with pytest.raises(StorageError, match=message):
        set_status(db_url, run, keys, action, who)  # type: ignore[arg-type]


def test_export_writes_the_approved_rows_for_an_erp_and_marks_them(
    db_url: str, tmp_path: Path
) -> None:
    result = make_plan_result()
    run = save_run(db_url, result).id
    set_status(db_url, run, [KEYS[5], KEYS[1]], "approve", "ana")
    out = tmp_path / "erp" / "orders.csv"
    assert export_approved(db_url, run, out, who="erp-bot") == 2
    assert out.read_text(encoding="utf-8") == (
        "run_id,key,kind,item,location,source,quantity,unit_cost,value,arrival\n"
        f"{run},order:HOBBIES_1:DC_CA->CA_1,order,HOBBIES_1,CA_1,DC_CA,13,7.25,94.25,2016-05-02\n"
        f"{run},expedite:FOODS_1:supplier->DC_US,expedite,FOODS_1,DC_US,,30.5,2.5,76.25,"
        "2016-05-02\n"
    )
    statuses = _statuses(db_url, run)
    assert statuses[KEYS[1]] == statuses[KEYS[5]] == "exported"
    exported = [e for e in audit_log(db_url, run) if e.action == "export"]
    assert [(e.key, e.from_status, e.to_status, e.who) for e in exported] == [
        (KEYS[1], "approved", "exported", "erp-bot"),
        (KEYS[5], "approved", "exported", "erp-bot"),
    ]
    assert [p.name for p in out.parent.iterdir()] == ["orders.csv"]  # no temp file left
    assert out.stat().st_mode & 0o777 == 0o644


def test_export_with_nothing_approved_leaves_the_file_alone(db_url: str, tmp_path: Path) -> None:
    run = save_run(db_url, make_plan_result()).id
    set_status(db_url, run, KEYS[:1], "approve", "ana")
    out = tmp_path / "orders.csv"
    export_approved(db_url, run, out)
    first = out.read_text(encoding="utf-8")
    with pytest.raises(StorageError, match="no approved recommendations"):
        export_approved(db_url, run, out)
    assert out.read_text(encoding="utf-8") == first


def test_export_that_cannot_write_marks_nothing(db_url: str, tmp_path: Path) -> None:
    run = save_run(db_url, make_plan_result()).id
    set_status(db_url, run, KEYS[:3], "approve", "ana")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(StorageError, match="cannot use this --out path"):
        export_approved(db_url, run, blocker / "orders.csv")
    assert [_statuses(db_url, run)[k] for k in KEYS[:3]] == ["approved"] * 3
    assert [e.action for e in audit_log(db_url, run)] == ["approve"] * 3


def test_review_of_an_unknown_run_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="holds no runs yet"):
        set_status(db_url, "latest", "all", "approve", "ana")
    save_run(db_url, make_plan_result())
    for call in (
        lambda: set_status(db_url, 42, "all", "approve", "ana"),
        lambda: export_approved(db_url, 42, tmp_path / "x.csv"),
        lambda: audit_log(db_url, 42),
    ):
        with pytest.raises(StorageError, match="unknown run 42"):
            call()
    assert not (tmp_path / "x.csv").exists()


ALLOWED = {
    ("approve", "proposed"): "approved",
    ("approve", "rejected"): "approved",
    ("reject", "proposed"): "rejected",
    ("reject", "approved"): "rejected",
}

step = st.one_of(
    st.tuples(st.sampled_from(["approve", "reject"]), st.sets(st.sampled_from(KEYS), min_size=1)),
    st.tuples(st.sampled_from(["approve", "reject"]), st.just("all")),
    st.tuples(st.just("export"), st.just("")),
)


@settings(max_examples=20, deadline=None)
@given(steps=st.lists(step, max_size=8))
def test_status_machine_matches_a_plain_model(steps: list[tuple[str, object]]) -> None:
    """Any sequence of reviews and exports: the stored statuses equal the model's, a refused
    call changes nothing, and the audit trail holds exactly one row per change."""
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "runs.db")
        run = save_run(db, make_plan_result()).id
        model = dict.fromkeys(KEYS, "proposed")
        changes = 0
        for action, keys in steps:
            if action == "export":
                approved = [k for k in KEYS if model[k] == "approved"]
                if approved:
                    assert export_approved(db, run, Path(tmp) / "out.csv") == len(approved)
                    model.update(dict.fromkeys(approved, "exported"))
                    changes += len(approved)
                else:
                    with pytest.raises(StorageError):
                        export_approved(db, run, Path(tmp) / "out.csv")
                continue
            if keys == "all":
                chosen = [k for k in KEYS if model[k] == "proposed"]
            else:
                chosen = [k for k in KEYS if k in keys]  # type: ignore[operator]
            ok = all((action, model[k]) in ALLOWED for k in chosen)
            if ok:
                assert set_status(db, run, keys, action, "p") == chosen  # type: ignore[arg-type]
                for k in chosen:
                    model[k] = ALLOWED[(action, model[k])]
                changes += len(chosen)
            else:
                with pytest.raises(StorageError):
                    set_status(db, run, keys, action, "p")  # type: ignore[arg-type]
            assert _statuses(db, run) == model
        assert _statuses(db, run) == model
        assert len(audit_log(db, run)) == changes
        assert row_counts(db)["audit"] == changes
        dispose_engines()
