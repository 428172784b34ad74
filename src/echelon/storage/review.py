"""The review workflow of a stored run: approve / reject recommendations, export the approved
ones for an ERP, and the audit trail.

Statuses and the allowed changes (every change is one audit row: who, when in UTC, comment):

- ``approve``: proposed → approved, and rejected → approved (a reviewer may change their mind
  until the recommendation is exported);
- ``reject``: proposed → rejected, and approved → rejected (same rule);
- ``export`` (``export_approved``): approved → exported. Exported is final: an exported
  recommendation can be neither approved nor rejected again. Only the newest run of a plan
  name exports: a newer run keeps the older one's approved orders as firm orders, so exporting
  the older run too would send the ERP the same order twice (refused with the run to use).

Approving what is already approved (or rejecting what is already rejected) is refused, so the
audit trail holds only real changes. ``keys="all"`` acts on the recommendations still
``proposed`` and leaves decided ones alone. A call changes all the named recommendations or
none: one unknown key or one forbidden change rolls the whole call back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from echelon.fileio import atomic_write_text, check_output_path, csv_safe_cell
from echelon.plan.model import RecommendationStatus as St
from echelon.storage.db import StorageError, database_files, transaction
from echelon.storage.runs import RunId, resolve_run
from echelon.storage.schema import audit, recommendations, runs

Action = Literal["approve", "reject"]

#: action → {from status: to status}
TRANSITIONS: dict[str, dict[St, St]] = {
    "approve": {St.PROPOSED: St.APPROVED, St.REJECTED: St.APPROVED},
    "reject": {St.PROPOSED: St.REJECTED, St.APPROVED: St.REJECTED},
    "export": {St.APPROVED: St.EXPORTED},
}

#: columns of the ERP export file, in order (quantity in units, unit_cost and value in the
#: run's currency, arrival as YYYY-MM-DD; source empty = external supplier)
EXPORT_COLUMNS = (
    "run_id",
    "key",
    "kind",
    "item",
    "location",
    "source",
    "quantity",
    "unit_cost",
    "value",
    "arrival",
)


@dataclass(frozen=True)
class AuditEntry:
    """One status change of one recommendation."""

    run_id: int
    key: str
    action: str
    from_status: str
    to_status: str
    who: str
    at: datetime  # UTC
    comment: str | None


def set_status(
    db: str | Path | None,
    run: RunId,
    keys: Sequence[str] | Literal["all"],
    action: Action,
    who: str,
    comment: str | None = None,
) -> list[str]:
    """Approve or reject recommendations of ``run``; returns the keys changed, in plan order.

    ``keys``: recommendation keys, or ``"all"`` for every recommendation still proposed.
    Raises :class:`StorageError` for an unknown run or key, a forbidden change, an empty
    ``who`` or an unknown action; then nothing is changed.
    """
    if action not in ("approve", "reject"):
        raise StorageError(
            "unknown review action",
            field="action",
            expected="approve or reject",
            found=repr(action),
            fix="use approve or reject",
        )
    who = _who(who)
    if keys != "all" and not keys:
        raise StorageError(
            f"no recommendation keys given to {action}",
            fix="name the keys, or use --all for every proposed recommendation",
        )
    with transaction(db) as conn:
        run_id = resolve_run(conn, run)
        rows = lock_statuses(conn, run_id)
        if keys == "all":
            chosen = [r for r in rows if r.status == St.PROPOSED]
        else:
            by_key = {r.key: r for r in rows}
            unknown = [k for k in dict.fromkeys(keys) if k not in by_key]
            if unknown:
                raise StorageError(
                    f"unknown recommendation key{'s' if len(unknown) > 1 else ''} in run {run_id}",
                    found=", ".join(repr(k) for k in unknown[:3])
                    + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""),
                    fix=f"see `echelon recommendations {run_id}` for the keys",
                )
            wanted = set(keys)
            chosen = [r for r in rows if r.key in wanted]
        for r in chosen:
            _check_transition(action, St(r.status), r.key, run_id)
        _apply(conn, run_id, [(r.id, r.key, St(r.status)) for r in chosen], action, who, comment)
    return [r.key for r in chosen]


def lock_statuses(conn: Connection, run_id: int) -> list[Any]:
    """Lock the recommendations of ``run_id`` for a status change and read ``id, key, status``
    of each, in the run's order."""
    return list(
        conn.execute(
            select(recommendations.c.id, recommendations.c.key, recommendations.c.status)
            .where(recommendations.c.run_id == run_id)
            .order_by(recommendations.c.position)
            .with_for_update()
        ).all()
    )


def export_approved(
    db: str | Path | None, run: RunId, path: str | Path, who: str = "echelon export"
) -> int:
    """Write the approved recommendations of ``run`` to the CSV file ``path`` for an ERP and
    mark them exported; returns how many rows were written.

    ``path`` is checked first (:func:`echelon.fileio.check_output_path`): a folder, a device, a
    FIFO or the database file itself is refused before the database is opened. Text cells are
    neutralized against spreadsheet formulas (:func:`echelon.fileio.csv_safe_cell`).

    Order, all in one transaction: lock and read the approved rows → write the file atomically
    (temp file + rename) → mark them exported and audit → commit. If the file cannot be written
    nothing is marked. If the commit itself fails after the file was written, the rows stay
    approved and the next export writes the same rows again (an ERP keyed on run_id + key
    imports them once). Raises :class:`StorageError` when no recommendation is approved (the
    file is then not touched) or the file cannot be written.
    """
    who = _who(who)
    check_output_path(path, protected=database_files(db), what="--out", error=StorageError)
    with transaction(db) as conn:
        run_id = resolve_run(conn, run)
        records = _lock_approved(conn, run_id)
        try:
            atomic_write_text(path, export_csv(records))  # world-readable, like a plain file
        except OSError as exc:
            raise StorageError(
                "cannot write the export file",
                source=str(path),
                found=exc.strerror or type(exc).__name__,
                fix="check that the folder is writable (nothing was marked exported)",
            ) from None
        _mark_exported(conn, run_id, records, who, f"exported to {Path(path).name}")
    return len(records)


def export_records(
    db: str | Path | None, run: RunId, who: str, comment: str = "exported for download"
) -> list[dict[str, Any]]:
    """The approved recommendations of ``run`` as records (:data:`EXPORT_COLUMNS`), marked
    exported in the same transaction (the web download and the API: the caller sends them);
    StorageError when none is approved. A planner's override replaces the quantity."""
    who = _who(who)
    with transaction(db) as conn:
        run_id = resolve_run(conn, run)
        records = _lock_approved(conn, run_id)
        _mark_exported(conn, run_id, records, who, comment)
    return [{c: r[c] for c in EXPORT_COLUMNS} for r in records]


def export_csv(records: Sequence[dict[str, Any]]) -> str:
    """Export records as the ERP's CSV text (text cells neutralized against formulas)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in records:
        cells = [
            r["run_id"], r["key"], r["kind"], r["item"], r["location"], r["source"] or "",
            _num(r["quantity"]), _num(r["unit_cost"]), _num(r["value"]), r["arrival"] or "",
        ]  # fmt: skip
        # ids from the user's data may start with = + - @: neutralized (OWASP rule)
        writer.writerow([csv_safe_cell(c) for c in cells])
    return buf.getvalue()


def _lock_approved(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """Lock and read the approved recommendations of ``run_id`` as export records (with the
    row id under ``_id``); the quantity is the newest override's where there is one."""
    from echelon.storage.overrides import current_overrides

    _refuse_superseded(conn, run_id)
    rows = conn.execute(
        select(recommendations)
        .where(
            recommendations.c.run_id == run_id,
            recommendations.c.status == St.APPROVED.value,
        )
        .order_by(recommendations.c.position)
        .with_for_update()
    ).all()
    if not rows:
        raise StorageError(
            f"run {run_id} has no approved recommendations to export",
            fix=f"approve some first (`echelon approve {run_id} KEY... --by NAME`)",
        )
    changed = current_overrides(conn, run_id)
    records = []
    for r in rows:
        qty = changed[r.key].quantity if r.key in changed else r.quantity
        value = qty * r.unit_cost if r.key in changed else r.value
        records.append(
            {
                "_id": r.id, "run_id": run_id, "key": r.key, "kind": r.kind, "item": r.item,
                "location": r.location, "source": r.source, "quantity": qty,
                "unit_cost": r.unit_cost, "value": value,
                "arrival": r.arrival.isoformat() if r.arrival is not None else None,
            }
        )  # fmt: skip
    return records


def _refuse_superseded(conn: Connection, run_id: int) -> None:
    """Refuse to export from a run that a newer run of the same plan name has superseded: the
    newer plan kept its approved orders as firm orders (:mod:`echelon.plan.firm`), so exporting
    them here as well would send the ERP the same order twice."""
    name = conn.execute(select(runs.c.name).where(runs.c.id == run_id)).scalar_one()
    newer = conn.execute(
        select(runs.c.id).where(runs.c.name == name, runs.c.id > run_id).order_by(runs.c.id.desc())
    ).first()
    if newer is not None:
        raise StorageError(
            f"run {run_id} is superseded by run {newer.id} of plan {name!r}: its approved "
            "orders were carried into the newer run as firm orders",
            fix=f"export from run {newer.id} (approve there what is still to be sent)",
        )


def _mark_exported(
    conn: Connection, run_id: int, records: list[dict[str, Any]], who: str, comment: str
) -> None:
    rows = [(r["_id"], r["key"], St.APPROVED) for r in records]
    _apply(conn, run_id, rows, "export", who, comment)


def audit_log(db: str | Path | None, run: RunId) -> list[AuditEntry]:
    """Every status change of ``run``'s recommendations, oldest first."""
    with transaction(db, readonly=True) as conn:
        run_id = resolve_run(conn, run)
        rows = conn.execute(
            select(audit).where(audit.c.run_id == run_id).order_by(audit.c.id)
        ).all()
    return [
        AuditEntry(
            run_id=r.run_id,
            key=r.key,
            action=r.action,
            from_status=r.from_status,
            to_status=r.to_status,
            who=r.who,
            at=_utc(r.at),
            comment=r.comment,
        )
        for r in rows
    ]


def _check_transition(action: str, current: St, key: str, run_id: int) -> None:
    if current in TRANSITIONS[action]:
        return
    target = {"approve": St.APPROVED, "reject": St.REJECTED}[action]
    if current == target:
        why = f"it is already {current.value}"
    else:
        why = f"it is {current.value}, which is final"
    raise StorageError(
        f"cannot {action} recommendation {key!r} of run {run_id}: {why}",
        fix=f"see `echelon audit {run_id}` for its history",
    )


def _apply(
    conn: Connection,
    run_id: int,
    rows: list[tuple[int, str, St]],
    action: str,
    who: str,
    comment: str | None,
) -> None:
    now = datetime.now(UTC)
    trail = []
    for rec_id, key, current in rows:
        new = TRANSITIONS[action][current]
        conn.execute(
            update(recommendations).where(recommendations.c.id == rec_id).values(status=new.value)
        )
        trail.append(
            {
                "run_id": run_id,
                "key": key,
                "action": action,
                "from_status": current.value,
                "to_status": new.value,
                "who": who,
                "at": now,
                "comment": comment,
            }
        )
    if trail:
        conn.execute(insert(audit), trail)


def _who(who: str) -> str:
    who = (who or "").strip()
    if not who:
        raise StorageError(
            "who made the change is required for the audit trail",
            field="by",
            fix="give a name, e.g. --by 'Jane Planner'",
        )
    return who


def _num(x: float) -> str:
    """A number for the CSV: shortest exact text, integers without a decimal point."""
    return format(x, ".15g")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
