"""Auto-approval rules (storage/rules.py) on SQLite and PostgreSQL: what a rule approves,
that each automatic approval is audited as the rule's, and that a second application or a
decided recommendation is left alone."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.storage import (
    StorageError,
    audit_log,
    load_run,
    override_quantity,
    save_run,
    set_status,
)
from echelon.storage.overrides import ReviewedRecommendation
from echelon.storage.rules import ApprovalRule, apply_rule, matches, rules_of
from storage.factories import make_plan_result

# the factory's orders: FOODS_1@CA_1 30.00 USD (a stockout exception), HOBBIES_1@CA_1 94.25,
# FOODS_1@CA_2 35.00, HOBBIES_1@CA_2 108.75; a transfer 36.25 and an expedite 76.25
FLAGGED = "order:FOODS_1:DC_CA->CA_1"


def test_a_rule_approves_small_orders_without_exceptions_audited_as_the_rule(
    db_url: str,
) -> None:
    run = save_run(db_url, make_plan_result()).id
    stored, keys = apply_rule(db_url, run, ApprovalRule(100.0), "alice")
    assert keys == ["order:HOBBIES_1:DC_CA->CA_1", "order:FOODS_1:DC_CA->CA_2"]
    assert stored.approved == 2 and stored.set_by == "alice"
    statuses = {r.key: r.status.value for r in load_run(db_url, run).recommendations}
    assert [k for k, s in statuses.items() if s == "approved"] == keys
    trail = audit_log(db_url, run)
    assert [a.key for a in trail] == keys
    for a in trail:
        assert a.who.startswith(f"rule #{stored.id}: order of value ≤ 100.00 USD")
        assert a.action == "approve" and a.comment and "set by alice" in a.comment
    # applied again: nothing left to approve; both applications are listed with the run
    again, none = apply_rule(db_url, run, ApprovalRule(100.0), "bob")
    assert none == [] and again.approved == 0
    assert [(s.set_by, s.approved) for s in rules_of(db_url, run)] == [("alice", 2), ("bob", 0)]


def test_exceptions_kinds_overrides_and_decided_ones(db_url: str) -> None:
    run = save_run(db_url, make_plan_result()).id
    set_status(db_url, run, ["order:FOODS_1:DC_CA->CA_2"], "reject", "carol")
    override_quantity(db_url, run, "order:HOBBIES_1:DC_CA->CA_2", 2.0, "smaller", "bob")
    rule = ApprovalRule(40.0, ("order", "transfer"), no_exception=False)
    _, keys = apply_rule(db_url, run, rule, "alice")
    # the flagged order is in without the exception test; the override's value (14.50) counts;
    # the rejected one stays rejected
    assert keys == [FLAGGED, "order:HOBBIES_1:DC_CA->CA_2", "transfer:HOBBIES_1:CA_1->CA_2"]


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [((-1.0,), "≥ 0"), ((math.nan,), "finite"), ((10.0, ("orders",)), "'orders'"),
     ((10.0, ()), "none")],
)  # fmt: skip
def test_bad_rules_are_refused(rule: tuple, fragment: str) -> None:
    with pytest.raises(StorageError, match=fragment):
        ApprovalRule(*rule)


@given(a=st.floats(0, 200), b=st.floats(0, 200), no_exception=st.booleans())
def test_matches_is_monotone_in_the_value_and_within_it(
    a: float, b: float, no_exception: bool
) -> None:
    result = make_plan_result()
    rows = [ReviewedRecommendation(r, None, "USD") for r in result.recommendations]
    low, high = sorted((a, b))
    small = matches(
        ApprovalRule(low, ("order", "transfer", "expedite"), no_exception), result, rows
    )
    large = matches(
        ApprovalRule(high, ("order", "transfer", "expedite"), no_exception), result, rows
    )
    assert set(small) <= set(large)
    values = {r.rec.key: r.value for r in rows}
    assert all(values[k] <= low + 1e-9 for k in small)
    assert (FLAGGED in large) == (not no_exception and values[FLAGGED] <= high)
