"""The forecast models of a dataset's plans in the model registry, and the approval of their
promotions (:mod:`echelon.monitor.champions` decides; this module stores).

- :func:`registered_champions`: each segment's registered champion (the ``model`` of its
  latest ``forecast:<segment>`` registry row) and the safety stock value of the latest
  evaluation that planned with it;
- :func:`record_verdicts`: one transaction per stored plan — a registry row per segment (a
  pending promotion leaves the old champion registered) and a ``forecast_promotions`` row per
  pending one; when a verdict changes the segment's champion (promoted, or a new pending
  promotion) the older pending promotions of the segment become ``superseded`` — a verdict
  that keeps the champion leaves them pending, so a plan between the request and the decision
  (it plans with the registered champion) does not take the decision away;
- :func:`approve_promotion`: an approver approves a pending promotion — its status, a registry
  row promoting the new champion and a run audit row (``approve_promotion``), one transaction;
- :func:`reject_promotion`: an approver rejects a pending promotion with a reason — its
  status ``rejected``, a registry row keeping the old champion (who, why; its metrics carry
  ``rejected_promotion``: the promotion's id) and a run audit row (``reject_promotion``, the
  reason in its comment), one transaction;
- :func:`last_rejection`: the registry id of a segment's latest rejection row — the retraining
  policy counts a challenger's consecutive wins only after it;
- :func:`held_segments`: the segments of a run whose promotion is not approved (the
  auto-approval rules leave their recommendations alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from echelon.storage.data_schema import forecast_promotions, model_registry
from echelon.storage.db import StorageError, transaction
from echelon.storage.schema import audit

KIND = "forecast:"  # registry kind prefix, followed by the segment
FEATURES = [
    "each item × store's demand per period up to the plan date",
    "champion per demand class among the plan's candidates by a one-window backtest "
    "(echelon/plan/forecasting.py)",
]


def registered_champions(db: str | None, dataset: str) -> dict[str, tuple[str, float]]:
    """Segment → (registered champion, safety stock value it was last planned with)."""
    out: dict[str, tuple[str, float]] = {}
    planned: dict[tuple[str, str], float] = {}
    for row in forecast_entries(db, dataset):  # oldest first: the latest wins
        seg = str(row["kind"])[len(KIND) :]
        metrics = row["metrics"]
        planned[(seg, str(metrics["plan_model"]))] = float(metrics["safety_stock_value"])
        model = str(row["model"])
        out[seg] = (model, planned.get((seg, model), float(metrics["safety_stock_value"])))
    return out


def forecast_entries(db: str | None, dataset: str) -> list[dict[str, Any]]:
    """The ``forecast:<segment>`` registry rows of ``dataset``, oldest first."""
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(
            select(model_registry)
            .where(model_registry.c.dataset == dataset, model_registry.c.kind.like(KIND + "%"))
            .order_by(model_registry.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def record_verdicts(
    db: str | None,
    dataset: str,
    run_id: int,
    verdicts: Sequence[Any],
    window: tuple[date, date],
) -> list[int]:
    """Store the verdicts of run ``run_id`` (module doc); the ids of the pending promotions."""
    now = datetime.now(UTC)
    pending = []
    with transaction(db) as conn:
        for v in verdicts:
            c = v.champion
            kept_old = v.status == "pending"
            reg_id = _registry_row(
                conn, dataset, f"{KIND}{c.segment}", v.registered if kept_old else c.model,
                window, _metrics(c), v.status == "promoted", v.reason, now,
            )  # fmt: skip
            if v.status != "kept":  # the champion changes: older requests are moot
                conn.execute(
                    update(forecast_promotions)
                    .where(
                        forecast_promotions.c.dataset == dataset,
                        forecast_promotions.c.segment == c.segment,
                        forecast_promotions.c.status == "pending",
                    )
                    .values(status="superseded", decided_at=now)
                )
            if kept_old:
                pk = conn.execute(
                    insert(forecast_promotions).values(
                        dataset=dataset, run_id=run_id, segment=c.segment, registry_id=reg_id,
                        old_model=v.registered, new_model=c.model,
                        change=v.change if v.change != float("inf") else None,
                        status="pending", requested_at=now,
                    )
                ).inserted_primary_key  # fmt: skip
                assert pk is not None
                pending.append(int(pk[0]))
    return pending


def _metrics(c: Any) -> dict[str, Any]:
    return {
        "holdout_wape": c.wape, "share": c.share, "series": c.series,
        "safety_stock_value": c.safety_stock_value, "plan_model": c.model,
    }  # fmt: skip


def _registry_row(
    conn: Connection, dataset: str, kind: str, model: str, window: tuple[date, date],
    metrics: dict[str, Any], promoted: bool, reason: str, at: datetime,
) -> int:  # fmt: skip
    pk = conn.execute(
        insert(model_registry).values(
            dataset=dataset, kind=kind, model=model, data_start=window[0], data_end=window[1],
            features=FEATURES, metrics=metrics, promoted=promoted, reason=reason, at=at,
        )
    ).inserted_primary_key  # fmt: skip
    assert pk is not None
    return int(pk[0])


def promotions(db: str | None, dataset: str) -> list[dict[str, Any]]:
    """The forecast promotions of ``dataset`` that needed approval, oldest first."""
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(
            select(forecast_promotions)
            .where(forecast_promotions.c.dataset == dataset)
            .order_by(forecast_promotions.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def approve_promotion(db: str | None, promotion_id: int, by: str) -> dict[str, Any]:
    """Approve pending promotion ``promotion_id`` as ``by`` (module doc); the promotion row."""
    from echelon.storage.review import _who

    by = _who(by)
    now = datetime.now(UTC)
    with transaction(db) as conn:
        row, reg = _pending(conn, promotion_id, "approve")
        reason = f"approved by {by}: {reg['reason'].replace(': waits for approval', '')}"
        _registry_row(
            conn, row["dataset"], reg["kind"], row["new_model"],
            (reg["data_start"], reg["data_end"]), dict(reg["metrics"]), True, reason, now,
        )  # fmt: skip
        _decide(conn, row, "approved", by, now, "")
        return {**dict(row), "status": "approved", "decided_by": by, "decided_at": now}


def reject_promotion(db: str | None, promotion_id: int, by: str, reason: str) -> dict[str, Any]:
    """Reject pending promotion ``promotion_id`` as ``by`` with ``reason`` (module doc): the
    old champion stays registered (a registry row that says who rejected what and why), the
    promotion is ``rejected`` and a run audit row (``reject_promotion``) carries the reason —
    one transaction. The run's recommendations of the segment stay held (not approved)."""
    from echelon.storage.review import _who

    by = _who(by)
    why = " ".join(reason.split())
    if not why:
        raise StorageError(
            f"cannot reject forecast promotion {promotion_id} without a reason",
            field="--reason", expected="why the promotion is rejected", found="empty",
            fix="give e.g. --reason 'the new model over-forecasts the promotion weeks'",
        )  # fmt: skip
    now = datetime.now(UTC)
    with transaction(db) as conn:
        row, reg = _pending(conn, promotion_id, "reject")
        text = (
            f"promotion #{promotion_id} to {row['new_model']} rejected by {by}: {why}; "
            f"{row['old_model']} stays the champion"
        )
        metrics = {**dict(reg["metrics"]), "rejected_promotion": promotion_id}
        _registry_row(
            conn, row["dataset"], reg["kind"], row["old_model"],
            (reg["data_start"], reg["data_end"]), metrics, False, text, now,
        )  # fmt: skip
        _decide(conn, row, "rejected", by, now, f"; reason: {why}")
        return {**dict(row), "status": "rejected", "decided_by": by, "decided_at": now}


def last_rejection(db: str | None, dataset: str, segment: str) -> int:
    """The registry id of the latest row of ``segment`` that rejected a promotion (0: none);
    registry ids grow with time, so the rows evaluated after the rejection have larger ids."""
    return max(
        (
            int(e["id"])
            for e in forecast_entries(db, dataset)
            if e["kind"] == KIND + segment and "rejected_promotion" in dict(e["metrics"])
        ),
        default=0,
    )


def _pending(
    conn: Connection, promotion_id: int, verb: str
) -> tuple[Any, Any]:  # fmt: skip
    """The pending promotion row (locked) and its registry row; a clear error otherwise."""
    row = conn.execute(
        select(forecast_promotions).where(forecast_promotions.c.id == promotion_id)
        .with_for_update()
    ).mappings().first()  # fmt: skip
    if row is None or row["status"] != "pending":
        found = "no such promotion" if row is None else f"it is {row['status']}"
        raise StorageError(
            f"cannot {verb} forecast promotion {promotion_id}: {found}",
            field="ID", expected="the id of a pending promotion", found=found,
            fix="`echelon monitor --name DATASET` lists the pending promotions",
        )  # fmt: skip
    reg = conn.execute(
        select(model_registry).where(model_registry.c.id == row["registry_id"])
    ).mappings().one()  # fmt: skip
    return row, reg


def _decide(conn: Connection, row: Any, status: str, by: str, now: datetime, why: str) -> None:
    """Mark the promotion ``status`` by ``by`` and write its run audit row."""
    conn.execute(
        update(forecast_promotions)
        .where(forecast_promotions.c.id == row["id"])
        .values(status=status, decided_by=by, decided_at=now)
    )
    action = "approve_promotion" if status == "approved" else "reject_promotion"
    conn.execute(
        insert(audit).values(
            run_id=row["run_id"], key=f"promotion:{row['segment']}", action=action,
            from_status="pending", to_status=status, who=by, at=now,
            comment=f"forecast champion of segment {row['segment']}: "
            f"{row['old_model']} → {row['new_model']}{why}",
        )
    )  # fmt: skip


def held_segments(conn: Connection, run_id: int) -> set[str]:
    """Segments of run ``run_id`` whose forecast promotion is not approved."""
    rows = conn.execute(
        select(forecast_promotions.c.segment).where(
            forecast_promotions.c.run_id == run_id, forecast_promotions.c.status != "approved"
        )
    ).scalars()
    return {str(s) for s in rows}


def held_segments_of(db: str | Path | None, run_id: int) -> set[str]:
    """:func:`held_segments` in its own read transaction."""
    with transaction(db, readonly=True) as conn:
        return held_segments(conn, run_id)
