"""The data store: applying a load in one transaction, reading a dataset back, imputations and
forecast scores (tables in :mod:`echelon.storage.data_schema`).

A load (:class:`DataLoad`) is applied by :func:`apply_load` in ONE transaction: a kill before
the commit leaves the store as it was. It is idempotent by content: a load whose SHA-256 is
already recorded for the dataset changes nothing; otherwise each keyed row is added when new,
left alone when equal, and replaced when it differs (a *correction*: one ``data_audit`` row
with the old and new value). A real demand row replaces an imputed one (audited as
``actual``). Snapshot files replace the stored file when their content differs (``file``).

Quantities are units, lead times days, dates calendar days.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, and_, delete, insert, select, update

from echelon.storage.data_schema import (
    data_audit,
    data_demand,
    data_files,
    data_inventory,
    data_lead_times,
    data_loads,
    data_receipts,
    forecast_scores,
    model_registry,
)
from echelon.storage.db import transaction
from echelon.storage.schema import runs

# table name of a load → (table, key columns, value columns)
KEYED: dict[str, tuple[Table, tuple[str, ...], tuple[str, ...]]] = {
    "demand": (data_demand, ("item_id", "location_id", "ds"), ("y",)),
    "inventory": (data_inventory, ("item_id", "location_id", "date"), ("on_hand", "backorders")),
    "receipts": (data_receipts, ("item_id", "location_id", "date"), ("quantity",)),
    "lead_times": (data_lead_times, ("from_id", "to_id", "obs_key"), ("lead_time_days",)),
}
RESCORE_DAYS = 28
TOLERANCE = 1e-9  # a stored value equal to the new one within this is unchanged


@dataclass
class DataLoad:
    """A validated load: its content hash, the snapshot files (name → text) and the keyed
    tables (name of :data:`KEYED` → frame with the key and value columns; dates as
    ``datetime64``), plus the data-quality findings (PlanException dumps)."""

    dataset: str
    content_hash: str
    source: str
    files: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class LoadOutcome:
    """What :func:`apply_load` did: the load's id (the earlier one when ``applied`` is False),
    row counts per table (added / corrected / unchanged) and the findings."""

    load_id: int
    applied: bool
    counts: dict[str, dict[str, int]]
    findings: list[dict[str, Any]]


@dataclass
class StoredData:
    """A dataset as stored: snapshot files and the keyed tables (``demand`` has the
    ``imputed`` and ``method`` columns)."""

    files: dict[str, str]
    tables: dict[str, pd.DataFrame]


def apply_load(db: str | None, load: DataLoad) -> LoadOutcome:
    """Apply ``load`` in one transaction (module doc)."""
    with transaction(db) as conn:
        earlier = conn.execute(
            select(data_loads.c.id, data_loads.c.counts).where(
                data_loads.c.dataset == load.dataset,
                data_loads.c.content_hash == load.content_hash,
            )
        ).first()
        if earlier is not None:
            return LoadOutcome(int(earlier.id), False, {}, [])
        at = datetime.now(UTC)
        load_id = int(
            conn.execute(  # type: ignore[index]
                insert(data_loads).values(
                    dataset=load.dataset,
                    content_hash=load.content_hash,
                    source=load.source,
                    loaded_at=at,
                    counts={},
                    findings=load.findings,
                )
            ).inserted_primary_key[0]
        )
        counts = {"files": _apply_files(conn, load, load_id, at)}
        for name, frame in load.tables.items():
            counts[name] = _upsert(conn, name, load.dataset, frame, load_id, at)
        conn.execute(update(data_loads).where(data_loads.c.id == load_id).values(counts=counts))
    return LoadOutcome(load_id, True, counts, load.findings)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` (one executemany; the kill tests pause here)."""
    if rows:
        conn.execute(insert(table), rows)


def _apply_files(conn: Connection, load: DataLoad, load_id: int, at: datetime) -> dict[str, int]:
    out = {"added": 0, "corrected": 0, "unchanged": 0}
    for name, text in sorted(load.files.items()):
        sha = hashlib.sha256(text.encode()).hexdigest()
        row = conn.execute(
            select(data_files.c.id, data_files.c.sha256).where(
                data_files.c.dataset == load.dataset, data_files.c.name == name
            )
        ).first()
        if row is not None and row.sha256 == sha:
            out["unchanged"] += 1
            continue
        values = {"content": text, "sha256": sha, "load_id": load_id}
        if row is None:
            conn.execute(insert(data_files).values(dataset=load.dataset, name=name, **values))
            out["added"] += 1
            continue
        conn.execute(update(data_files).where(data_files.c.id == row.id).values(**values))
        _audit(conn, load.dataset, load_id, "files", name, "file", row.sha256, sha, at)
        out["corrected"] += 1
    return out


def _upsert(
    conn: Connection, name: str, dataset: str, frame: pd.DataFrame, load_id: int, at: datetime
) -> dict[str, int]:
    """Add, keep or correct the rows of one keyed table (module doc)."""
    table, keys, values = KEYED[name]
    new = _records(frame, keys, values)
    stored = _stored_rows(conn, table, dataset, keys, values, new)
    added: list[dict[str, Any]] = []
    changed = 0
    for rec in new:
        key = tuple(rec[k] for k in keys)
        old = stored.get(key)
        if old is None:
            added.append({**rec, "dataset": dataset, "load_id": load_id})
            continue
        imputed = bool(old.get("imputed", False))
        if not imputed and all(abs(old[v] - rec[v]) <= TOLERANCE for v in values):
            continue
        fix = {v: rec[v] for v in values} | {"load_id": load_id}
        if name == "demand":
            fix |= {"imputed": False, "method": None}
        conn.execute(update(table).where(table.c.id == old["id"]).values(**fix))
        action = "actual" if imputed else "correct"
        before = json.dumps({v: old[v] for v in values})
        _audit(conn, dataset, load_id, name, _key_text(key), action, before, json.dumps(fix), at)
        changed += 1
    insert_rows(conn, table, added)
    return {"added": len(added), "corrected": changed, "unchanged": len(new) - len(added) - changed}


def _records(
    frame: pd.DataFrame, keys: Sequence[str], values: Sequence[str]
) -> list[dict[str, Any]]:
    out = frame[list(keys) + list(values)].copy()
    for col in keys:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
    recs: list[dict[str, Any]] = out.to_dict("records")  # type: ignore[assignment]
    for rec in recs:
        for v in values:
            rec[v] = float(rec[v])
    return recs


def _stored_rows(
    conn: Connection,
    table: Table,
    dataset: str,
    keys: Sequence[str],
    values: Sequence[str],
    new: list[dict[str, Any]],
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The stored rows that share a key with ``new``, by key (one query over the date range
    of the load for dated tables, else the whole dataset's table)."""
    if not new:
        return {}
    cols = [table.c.id, *(table.c[k] for k in keys), *(table.c[v] for v in values)]
    if "imputed" in table.c:
        cols.append(table.c.imputed)
    where = [table.c.dataset == dataset]
    day = next((k for k in keys if k in ("ds", "date")), None)
    if day is not None:
        days = [rec[day] for rec in new]
        where += [table.c[day] >= min(days), table.c[day] <= max(days)]
    rows = conn.execute(select(*cols).where(and_(*where))).mappings().all()
    return {tuple(r[k] for k in keys): dict(r) for r in rows}


def _key_text(key: tuple[Any, ...]) -> str:
    return "|".join(str(k) for k in key)


def _audit(
    conn: Connection,
    dataset: str,
    load_id: int | None,
    table: str,
    key: str,
    action: str,
    old: str | None,
    new: str | None,
    at: datetime,
) -> None:
    conn.execute(
        insert(data_audit).values(
            dataset=dataset, load_id=load_id, table_name=table, key=key,
            action=action, old=old, new=new, at=at,
        )
    )  # fmt: skip


def read_dataset(db: str | None, dataset: str) -> StoredData:
    """The dataset's files and keyed tables (empty frames where nothing is stored)."""
    with transaction(db, readonly=True) as conn:
        files = {
            str(r.name): str(r.content)
            for r in conn.execute(
                select(data_files.c.name, data_files.c.content).where(
                    data_files.c.dataset == dataset
                )
            )
        }
        tables: dict[str, pd.DataFrame] = {}
        for name, (table, keys, values) in KEYED.items():
            extra = ["imputed", "method"] if name == "demand" else []
            cols = [table.c[c] for c in (*keys, *values, *extra)]
            rows = conn.execute(select(*cols).where(table.c.dataset == dataset)).all()
            frame = pd.DataFrame(rows, columns=[*keys, *values, *extra])
            for col in keys:
                if col in ("ds", "date"):
                    frame[col] = pd.to_datetime(frame[col])
            tables[name] = frame.sort_values(list(keys), kind="stable").reset_index(drop=True)
    return StoredData(files, tables)


def datasets(db: str | None) -> list[str]:
    """The datasets with at least one load, sorted."""
    with transaction(db, readonly=True) as conn:
        return sorted(
            str(d) for d in conn.execute(select(data_loads.c.dataset).distinct()).scalars()
        )


def save_imputations(db: str | None, dataset: str, rows: pd.DataFrame) -> int:
    """Store nowcasts (item_id, location_id, ds, y, method) as imputed demand rows where no
    row is stored yet, each audited (``impute``); earlier imputations of the same days are
    replaced. Returns the rows written."""
    at = datetime.now(UTC)
    recs = _records(rows.assign(method=rows["method"]), ("item_id", "location_id", "ds"), ("y",))
    methods = list(rows["method"])
    written = 0
    with transaction(db) as conn:
        stored = _stored_rows(conn, data_demand, dataset, ("item_id", "location_id", "ds"),
                              ("y",), recs)  # fmt: skip
        for rec, method in zip(recs, methods, strict=True):
            key = (rec["item_id"], rec["location_id"], rec["ds"])
            old = stored.get(key)
            if old is not None and not old["imputed"]:
                continue  # the real value is there
            if old is not None:
                conn.execute(delete(data_demand).where(data_demand.c.id == old["id"]))
            conn.execute(
                insert(data_demand).values(
                    dataset=dataset, **rec, imputed=True, method=method, load_id=None
                )
            )
            _audit(conn, dataset, None, "demand", _key_text(key), "impute", None,
                   json.dumps({"y": rec["y"], "method": method}), at)  # fmt: skip
            written += 1
    return written


def data_audit_log(db: str | None, dataset: str) -> list[dict[str, Any]]:
    """The dataset's data audit trail, oldest first."""
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(
            select(data_audit).where(data_audit.c.dataset == dataset).order_by(data_audit.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def loads(db: str | None, dataset: str) -> list[dict[str, Any]]:
    """The dataset's loads, oldest first (id, content hash, source, when, counts, findings)."""
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(
            select(data_loads).where(data_loads.c.dataset == dataset).order_by(data_loads.c.id)
        ).mappings()
        return [dict(r) for r in rows]


SCORE_COLUMNS = ("run_id", "item_id", "location_id", "segment", "period_start", "actual",
                 "mean", "std")  # fmt: skip


def save_scores(db: str | None, dataset: str, scores: pd.DataFrame) -> int:
    """Store forecast scores (:data:`SCORE_COLUMNS`) not stored yet; returns the rows added."""
    if scores.empty:
        return 0
    recs: list[dict[str, Any]] = scores[list(SCORE_COLUMNS)].to_dict("records")  # type: ignore[assignment]
    with transaction(db) as conn:
        have = {
            (int(r.run_id), str(r.item_id), str(r.location_id), r.period_start)
            for r in conn.execute(
                select(
                    forecast_scores.c.run_id, forecast_scores.c.item_id,
                    forecast_scores.c.location_id, forecast_scores.c.period_start,
                ).where(forecast_scores.c.dataset == dataset)
            )
        }  # fmt: skip
        rows = []
        for rec in recs:
            day = pd.Timestamp(rec["period_start"]).date()
            if (int(rec["run_id"]), str(rec["item_id"]), str(rec["location_id"]), day) in have:
                continue
            rows.append({**rec, "period_start": day, "dataset": dataset,
                         "run_id": int(rec["run_id"])})  # fmt: skip
        insert_rows(conn, forecast_scores, rows)
    return len(rows)


def read_scores(db: str | None, dataset: str) -> pd.DataFrame:
    """The dataset's forecast scores (:data:`SCORE_COLUMNS`), by period, run and series."""
    with transaction(db, readonly=True) as conn:
        cols = [forecast_scores.c[c] for c in SCORE_COLUMNS]
        rows = conn.execute(select(*cols).where(forecast_scores.c.dataset == dataset)).all()
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    return frame.sort_values(["period_start", "run_id", "item_id", "location_id"]).reset_index(
        drop=True
    )


@dataclass(frozen=True)
class StoreRun:
    """A stored run planned from a dataset: id, plan date, days per period, result (JSON)."""

    id: int
    as_of: date
    period_days: int
    result: dict[str, Any]


def store_runs(db: str | None, dataset: str, *, unscored: bool = False) -> list[StoreRun]:
    """The runs planned from ``dataset`` (``parameters.options.from_store``), oldest first;
    ``unscored``: only those without forecast scores yet or planned in the last
    :data:`RESCORE_DAYS` days before the latest (a late store's series are scored when its
    data arrive)."""
    with transaction(db, readonly=True) as conn:
        scored = set(
            conn.execute(
                select(forecast_scores.c.run_id).where(forecast_scores.c.dataset == dataset)
            ).scalars()
        )
        heads = [
            r
            for r in conn.execute(
                select(runs.c.id, runs.c.as_of, runs.c.parameters).order_by(runs.c.id)
            )
            if (r.parameters or {}).get("options", {}).get("from_store") == dataset
        ]
        recent = max((r.as_of for r in heads), default=None)
        ids = [
            int(r.id)
            for r in heads
            if not unscored or int(r.id) not in scored or (recent - r.as_of).days <= RESCORE_DAYS
        ]
        out = []
        for run_id in ids:
            row = conn.execute(select(runs.c.as_of, runs.c.result).where(runs.c.id == run_id)).one()
            out.append(StoreRun(run_id, row.as_of, int(row.result["period_days"]), row.result))
    return out


def registry_entries(db: str | None, dataset: str, kind: str) -> list[dict[str, Any]]:
    """The model registry rows of ``dataset`` and ``kind``, oldest first."""
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(
            select(model_registry)
            .where(model_registry.c.dataset == dataset, model_registry.c.kind == kind)
            .order_by(model_registry.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def add_registry_entry(db: str | None, **values: Any) -> int:
    """Record one model evaluation (columns of ``model_registry``; ``at`` = now, UTC)."""
    with transaction(db) as conn:
        result = conn.execute(insert(model_registry).values(**values, at=datetime.now(UTC)))
        return int(result.inserted_primary_key[0])  # type: ignore[index]
