"""A planner's changes to a stored run's recommendations: quantity overrides and comments.

- ``override_quantity``: the recommendation's quantity becomes the planner's, with a reason
  (required). The plan's quantity stays in the stored result; the newest override row is what
  :func:`echelon.storage.review.export_approved` exports (value = quantity × unit cost). An
  approved recommendation goes back to proposed (what was approved is not what will be
  ordered any more); an exported one cannot be overridden.
- ``add_comment``: a note on a recommendation; its status does not change.

Both are one audit row each (action ``override`` / ``comment``, who, when, the text).

:func:`reviewed` gives a run's recommendations as the review sees them — current status and
the quantity and value after the newest override — the one view the CLI, the pages and the
API show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from echelon.plan.model import PlanResult, Recommendation
from echelon.plan.model import RecommendationStatus as St
from echelon.storage.db import StorageError, transaction
from echelon.storage.runs import RunId, current_result, resolve_run
from echelon.storage.schema import audit, overrides, recommendations

MAX_TEXT = 2000


@dataclass(frozen=True)
class Override:
    key: str
    quantity: float
    planned_quantity: float
    reason: str
    who: str
    at: datetime


@dataclass(frozen=True)
class ReviewedRecommendation:
    """A stored recommendation with its current status and newest override (if any)."""

    rec: Recommendation
    override: Override | None
    currency: str = ""

    @property
    def quantity(self) -> float:
        """Units that will be ordered: the override's, else the plan's."""
        return self.override.quantity if self.override else self.rec.quantity

    @property
    def value(self) -> float:
        """Money: quantity × unit cost."""
        return self.quantity * self.rec.unit_cost if self.override else self.rec.value


def reviewed(db: str | Path | None, run: RunId) -> tuple[PlanResult, list[ReviewedRecommendation]]:
    """The stored result of ``run`` and its recommendations in plan order, reviewed."""
    with transaction(db, readonly=True) as conn:  # statuses and overrides of one snapshot
        run_id = resolve_run(conn, run)
        result = current_result(conn, run_id)
        changed = current_overrides(conn, run_id)
    return result, [
        ReviewedRecommendation(r, changed.get(r.key), result.currency)
        for r in result.recommendations
    ]


def _text(value: str | None, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise StorageError(f"a {what} is required", field=what, fix=f"give a {what}")
    if len(value) > MAX_TEXT:
        raise StorageError(
            f"the {what} is too long", field=what, expected=f"at most {MAX_TEXT} characters",
            found=f"{len(value)} characters", fix="shorten it",
        )  # fmt: skip
    return value


def _locked(conn: Connection, run_id: int, key: str) -> tuple[int, St, float]:
    row = conn.execute(
        select(recommendations.c.id, recommendations.c.status, recommendations.c.quantity)
        .where(recommendations.c.run_id == run_id, recommendations.c.key == key)
        .with_for_update()
    ).first()
    if row is None:
        raise StorageError(
            f"unknown recommendation key in run {run_id}", field="key", found=repr(key),
            fix=f"see `echelon recommendations {run_id}` for the keys",
        )  # fmt: skip
    return row.id, St(row.status), row.quantity


def override_quantity(
    db: str | Path | None, run: RunId, key: str, quantity: float, reason: str, who: str
) -> Override:
    """Set the quantity of recommendation ``key`` of ``run`` (units, ≥ 0) with a reason."""
    reason, who = _text(reason, "reason"), _text(who, "user")
    if not isinstance(quantity, int | float) or not math.isfinite(quantity) or quantity < 0:
        raise StorageError(
            "the quantity must be a finite number ≥ 0", field="quantity", found=repr(quantity),
            fix="give the number of units to order",
        )  # fmt: skip
    now = datetime.now(UTC)
    with transaction(db) as conn:
        run_id = resolve_run(conn, run)
        rec_id, status, planned = _locked(conn, run_id, key)
        if status == St.EXPORTED:
            raise StorageError(
                f"cannot override recommendation {key!r} of run {run_id}: it is exported",
                fix="an exported order is final",
            )
        before = current_overrides(conn, run_id).get(key)
        old = before.quantity if before else planned
        new_status = St.PROPOSED if status == St.APPROVED else status
        if new_status != status:
            conn.execute(
                update(recommendations)
                .where(recommendations.c.id == rec_id)
                .values(status=new_status.value)
            )
        row = {"run_id": run_id, "key": key, "quantity": float(quantity)}
        row |= {"planned_quantity": planned, "reason": reason, "who": who, "at": now}
        conn.execute(insert(overrides).values(**row))
        _audit(conn, run_id, key, "override", status, new_status, who, now,
               f"quantity {old:g} → {float(quantity):g}: {reason}")  # fmt: skip
    return Override(key, float(quantity), planned, reason, who, now)


def add_comment(db: str | Path | None, run: RunId, key: str, comment: str, who: str) -> None:
    """A comment on recommendation ``key`` of ``run`` (audited; the status is unchanged)."""
    comment, who = _text(comment, "comment"), _text(who, "user")
    with transaction(db) as conn:
        run_id = resolve_run(conn, run)
        _, status, _ = _locked(conn, run_id, key)
        _audit(conn, run_id, key, "comment", status, status, who, datetime.now(UTC), comment)


def current_overrides(conn: Connection, run_id: int) -> dict[str, Override]:
    """The newest override of each recommendation of ``run_id`` that has one."""
    rows = conn.execute(
        select(overrides).where(overrides.c.run_id == run_id).order_by(overrides.c.id)
    ).all()
    return {
        r.key: Override(r.key, r.quantity, r.planned_quantity, r.reason, r.who, r.at) for r in rows
    }


def overrides_of(db: str | Path | None, run: RunId) -> dict[str, Override]:
    """:func:`current_overrides` in its own read transaction."""
    with transaction(db, readonly=True) as conn:
        return current_overrides(conn, resolve_run(conn, run))


def _audit(
    conn: Connection,
    run_id: int,
    key: str,
    action: str,
    before: St,
    after: St,
    who: str,
    at: datetime,
    comment: str,
) -> None:
    conn.execute(
        insert(audit).values(
            run_id=run_id, key=key, action=action, from_status=before.value,
            to_status=after.value, who=who, at=at, comment=comment,
        )
    )  # fmt: skip
