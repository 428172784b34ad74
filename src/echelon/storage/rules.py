"""Auto-approval rules of a stored run: approve the recommendations a planner would wave
through, and audit every automatic decision as the rule's.

A rule (:class:`ApprovalRule`) approves every recommendation of the run that is still
``proposed``, whose kind is one of ``kinds`` (default: orders only), whose value — quantity ×
unit cost in the run's currency, after a planner's override — is at most ``max_value``, and,
with ``no_exception`` (the default), for whose item × location the plan raised no exception
(nor one naming only the item). Recommendations of a segment whose forecast promotion waits
for approval (:mod:`echelon.storage.promotions`) are never auto-approved. Applying a rule
(:func:`apply_rule`) is one transaction: the rule is stored with the run (``approval_rules``:
who set it, when, how many it approved) and each approval is one audit row whose user is the
rule (``rule #N: ...``) and whose comment says who set it. Decided, rejected or exported
recommendations are left alone, so applying a rule twice approves nothing the second time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from echelon.plan.model import PlanResult, RecommendationKind
from echelon.plan.model import RecommendationStatus as St
from echelon.storage.db import StorageError, transaction
from echelon.storage.overrides import ReviewedRecommendation, reviewed
from echelon.storage.promotions import held_segments
from echelon.storage.review import _apply, _who, lock_statuses
from echelon.storage.runs import RunId, resolve_run
from echelon.storage.schema import approval_rules

KINDS = tuple(k.value for k in RecommendationKind)


@dataclass(frozen=True)
class ApprovalRule:
    """Approve proposed recommendations of ``kinds`` worth at most ``max_value`` (money)."""

    max_value: float
    kinds: tuple[str, ...] = (RecommendationKind.ORDER.value,)
    no_exception: bool = True

    def __post_init__(self) -> None:
        if not math.isfinite(self.max_value) or self.max_value < 0:
            raise StorageError(
                "the rule's largest value must be a finite amount ≥ 0", field="max_value",
                found=repr(self.max_value), fix="give an amount in the run's currency",
            )  # fmt: skip
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise StorageError(
                "unknown recommendation kind in the rule", field="kinds",
                expected=" | ".join(KINDS), found=", ".join(map(repr, bad)) or "none",
                fix="name one or more of the kinds",
            )  # fmt: skip

    def describe(self, currency: str) -> str:
        kinds = "/".join(self.kinds)
        tail = " without an exception" if self.no_exception else ""
        return f"{kinds} of value ≤ {self.max_value:,.2f} {currency}{tail}"


@dataclass(frozen=True)
class StoredRule:
    id: int
    rule: ApprovalRule
    set_by: str
    at: datetime
    approved: int


def matches(
    rule: ApprovalRule,
    result: PlanResult,
    rows: list[ReviewedRecommendation],
    held: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """Keys of the recommendations ``rule`` approves (module doc), in plan order; ``held``:
    the segments whose forecast promotion is not approved."""
    flagged = {(e.item, e.location) for e in result.exceptions if e.item is not None}
    segment = {(p.item, p.location): p.segment for p in result.placements}
    return [
        r.rec.key
        for r in rows
        if r.rec.status == St.PROPOSED
        and segment.get((r.rec.item, r.rec.location)) not in held
        and r.rec.kind.value in rule.kinds
        and r.value <= rule.max_value + 1e-9
        and not (
            rule.no_exception
            and ((r.rec.item, r.rec.location) in flagged or (r.rec.item, None) in flagged)
        )
    ]


def apply_rule(
    db: str | Path | None, run: RunId, rule: ApprovalRule, set_by: str
) -> tuple[StoredRule, list[str]]:
    """Store ``rule`` with ``run`` and approve what it matches (module doc); the stored rule
    and the keys approved."""
    set_by = _who(set_by)
    result, rows = reviewed(db, run)
    now = datetime.now(UTC)
    with transaction(db) as conn:
        run_id = resolve_run(conn, run)
        wanted = set(matches(rule, result, rows, held_segments(conn, run_id)))
        locked = lock_statuses(conn, run_id)
        # still proposed now (a reviewer may have decided one since it was read)
        chosen = [r for r in locked if r.key in wanted and r.status == St.PROPOSED.value]
        pk = conn.execute(
            insert(approval_rules).values(
                run_id=run_id, max_value=rule.max_value, kinds=",".join(rule.kinds),
                no_exception=rule.no_exception, set_by=set_by, at=now, approved=len(chosen),
            )
        ).inserted_primary_key  # fmt: skip
        assert pk is not None
        rule_id = int(pk[0])
        who = f"rule #{rule_id}: {rule.describe(result.currency)}"[:200]
        comment = f"automatic approval by rule #{rule_id}, set by {set_by}"
        _apply(conn, run_id, [(r.id, r.key, St.PROPOSED) for r in chosen], "approve", who,
               comment)  # fmt: skip
    return StoredRule(rule_id, rule, set_by, now, len(chosen)), [r.key for r in chosen]


def rules_of(db: str | Path | None, run: RunId) -> list[StoredRule]:
    """The auto-approval rules applied to ``run``, oldest first."""
    with transaction(db, readonly=True) as conn:
        run_id = resolve_run(conn, run)
        rows = conn.execute(
            select(approval_rules)
            .where(approval_rules.c.run_id == run_id)
            .order_by(approval_rules.c.id)
        ).all()
    return [
        StoredRule(
            r.id,
            ApprovalRule(r.max_value, tuple(r.kinds.split(",")), r.no_exception),
            r.set_by,
            r.at,
            r.approved,
        )
        for r in rows
    ]
