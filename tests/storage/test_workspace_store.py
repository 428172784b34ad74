"""The run store's workspace tables on SQLite and PostgreSQL: a planner's quantity overrides
(validated, audited, exported), comments, users and API tokens."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from echelon.storage import (
    StorageError,
    add_comment,
    audit_log,
    export_approved,
    load_run,
    override_quantity,
    save_run,
    set_status,
)
from echelon.storage.overrides import overrides_of
from echelon.storage.users import (
    add_user,
    authenticate,
    create_token,
    get_user,
    list_users,
    set_active,
    user_for_token,
)
from storage.factories import make_plan_result

KEY = "order:FOODS_1:DC_CA->CA_1"


@pytest.mark.parametrize(
    ("key", "quantity", "reason", "found"),
    [
        (KEY, -1.0, "r", "≥ 0"),
        (KEY, math.nan, "r", "≥ 0"),
        (KEY, math.inf, "r", "≥ 0"),
        (KEY, 5.0, "  ", "reason is required"),
        (KEY, 5.0, "x" * 2001, "too long"),
        ("order:nope", 5.0, "r", "unknown recommendation key"),
    ],
)
def test_a_bad_override_changes_nothing(
    db_url: str, key: str, quantity: float, reason: str, found: str
) -> None:
    run = save_run(db_url, make_plan_result()).id
    with pytest.raises(StorageError, match=found):
        override_quantity(db_url, run, key, quantity, reason, "pat")
    assert audit_log(db_url, run) == [] and overrides_of(db_url, run) == {}


def test_the_export_file_uses_the_newest_override(db_url: str, tmp_path: Path) -> None:
    run = save_run(db_url, make_plan_result()).id
    override_quantity(db_url, run, KEY, 30, "first", "pat")
    override_quantity(db_url, run, KEY, 24, "second thoughts", "pat")
    add_comment(db_url, run, KEY, "checked with the store", "pat")
    set_status(db_url, run, [KEY], "approve", "ann")
    assert export_approved(db_url, run, tmp_path / "out.csv", who="ann") == 1
    (row,) = csv.DictReader((tmp_path / "out.csv").open())
    assert (row["quantity"], row["value"]) == ("24", "60")
    trail = [(a.action, a.who, a.from_status, a.to_status) for a in audit_log(db_url, run)]
    assert trail == [
        ("override", "pat", "proposed", "proposed"),
        ("override", "pat", "proposed", "proposed"),
        ("comment", "pat", "proposed", "proposed"),
        ("approve", "ann", "proposed", "approved"),
        ("export", "ann", "approved", "exported"),
    ]
    assert audit_log(db_url, run)[1].comment == "quantity 30 → 24: second thoughts"
    assert load_run(db_url, run).recommendations[0].quantity == 12  # the plan's stays stored


def test_users_tokens_and_disabling(db_url: str) -> None:
    ann = add_user(db_url, "ann", "approver", "long-password")
    with pytest.raises(StorageError, match="already exists"):
        add_user(db_url, "ann", "viewer", "long-password")
    with pytest.raises(StorageError, match="unknown role"):
        add_user(db_url, "bo", "boss", "long-password")
    with pytest.raises(StorageError, match="at least 8"):
        add_user(db_url, "bo", "viewer", "short")
    with pytest.raises(StorageError, match="unknown user"):
        create_token(db_url, "nobody")
    token = create_token(db_url, "ann", "erp")
    assert user_for_token(db_url, token) == ann and user_for_token(db_url, "ech_x") is None
    assert authenticate(db_url, "ann", "long-password") == ann
    set_active(db_url, "ann", False)
    assert authenticate(db_url, "ann", "long-password") is None
    assert user_for_token(db_url, token) is None
    assert get_user(db_url, ann.id) is not None and not list_users(db_url)[0].active
    assert not list_users(db_url)[0].can("read")
