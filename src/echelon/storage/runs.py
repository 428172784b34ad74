"""Saving, listing and loading plan runs.

A run is saved in ONE transaction (the run row, then its recommendations): a crash or a kill
before the commit leaves the database exactly as it was. Saving is idempotent: the run's key
is SHA-256 over (input hash, parameters, echelon version), and saving a result whose key is
already stored returns the stored run untouched (its statuses and audit trail included) — no
new rows. A new echelon version makes a new run even for the same inputs and parameters,
because its numbers may differ and each stored run must be reproducible by the code named in
it. ``parameters`` should therefore hold only what changes the numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from echelon import __version__
from echelon.plan.model import PlanResult, RecommendationStatus
from echelon.storage.db import StorageError, _db_error, get_engine, transaction
from echelon.storage.schema import recommendations, runs

RunId = int | str  # a run id, its digits as text, or "latest"


@dataclass(frozen=True)
class RunRef:
    """A stored run. ``created`` is False when an identical run was already stored."""

    id: int
    name: str
    created_at: str  # ISO 8601, UTC
    input_hash: str
    created: bool


@dataclass(frozen=True)
class RunSummary:
    """One line of ``list_runs``: the summary columns and the status counts."""

    id: int
    name: str
    created_at: str
    as_of: str
    input_hash: str
    code_version: str
    currency: str
    saving: float | None  # fraction of single-echelon inventory value saved by MEIO
    service_met: bool | None
    n_placements: int
    n_recommendations: int
    n_exceptions: int
    statuses: dict[str, int] = field(default_factory=dict)  # status → count


def key_of(input_hash: str, parameters: dict[str, Any], code_version: str | None = None) -> str:
    """The idempotency key of a run: SHA-256 of its input hash, its parameters (JSON) and the
    code version (default: the running echelon's version). Known before anything is planned."""
    code_version = __version__ if code_version is None else code_version
    blob = json.dumps(
        {"input_hash": input_hash, "parameters": parameters, "code_version": code_version},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def run_key(result: PlanResult, code_version: str | None = None) -> str:
    """The idempotency key of a result (:func:`key_of` of its input hash and parameters)."""
    params = result.model_dump(mode="json", include={"parameters"})["parameters"]
    return key_of(result.input_hash, params, code_version)


def find_run(db: str | Path | None, key: str) -> RunRef | None:
    """The stored run with idempotency ``key`` (None when there is none)."""
    with transaction(db, readonly=True) as conn:
        return _find(conn, key)


def save_run(db: str | Path | None, result: PlanResult) -> RunRef:
    """Store ``result`` as a new run in one transaction, or return the identical stored run.

    The recommendations are stored with the status they carry (normally ``proposed``).
    Raises :class:`StorageError` for a result that cannot be stored (duplicate recommendation
    keys, NaN or infinite numbers) or a database that cannot be reached.
    """
    dumped = result.model_dump(mode="json")
    _check_finite(dumped, "result")
    keys = [r.key for r in result.recommendations]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise StorageError(
            "two recommendations share one key",
            where=f"run '{result.name}'",
            found=repr(dup),
            fix="recommendation keys must be unique within a run (a bug in the plan: report it)",
        )
    key = run_key(result)
    engine = get_engine(db)
    try:
        with engine.begin() as conn:
            existing = _find(conn, key)
            if existing is not None:
                return existing
            run_id = _insert(conn, result, dumped, key)
        return RunRef(run_id, result.name, result.created_at, result.input_hash, True)
    except IntegrityError:  # another process stored the same run at the same time
        with engine.begin() as conn:
            existing = _find(conn, key)
        if existing is None:
            raise
        return existing
    except DBAPIError as exc:
        raise _db_error(exc, engine.url) from None


def _find(conn: Connection, key: str) -> RunRef | None:
    row = conn.execute(
        select(runs.c.id, runs.c.name, runs.c.created_at, runs.c.input_hash).where(
            runs.c.run_key == key
        )
    ).first()
    if row is None:
        return None
    return RunRef(row.id, row.name, row.created_at, row.input_hash, False)


def _insert(conn: Connection, result: PlanResult, dumped: dict[str, Any], key: str) -> int:
    values = {
        "name": result.name,
        "created_at": result.created_at,
        "saved_at": datetime.now(UTC),
        "as_of": result.as_of,
        "input_hash": result.input_hash,
        "parameters": dumped["parameters"],
        "run_key": key,
        "code_version": __version__,
        "result": dumped,
        "currency": result.currency,
        "saving": result.saving,
        "service_met": result.service_met,
        "n_placements": len(result.placements),
        "n_recommendations": len(result.recommendations),
        "n_exceptions": len(result.exceptions),
    }
    pk = conn.execute(insert(runs).values(**values)).inserted_primary_key
    assert pk is not None
    run_id = int(pk[0])
    rows = [
        {
            "run_id": run_id,
            "position": i,
            "key": r.key,
            "kind": str(r.kind),
            "item": r.item,
            "location": r.location,
            "source": r.source,
            "quantity": r.quantity,
            "unit_cost": r.unit_cost,
            "value": r.value,
            "arrival": r.arrival,
            "status": str(r.status),
        }
        for i, r in enumerate(result.recommendations)
    ]
    insert_recommendations(conn, rows)
    return run_id


def insert_recommendations(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert a run's recommendation rows (inside the run's transaction)."""
    if rows:
        conn.execute(insert(recommendations), rows)


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise StorageError(
            "the result holds a number that is not finite",
            where=path,
            found=repr(value),
            fix="a NaN or infinite figure is a bug in the plan: report it",
        )
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]")


def resolve_run(conn: Connection, run: RunId) -> int:
    """The id of ``run`` (an id, its digits, or "latest"); StorageError if it is not stored."""
    if isinstance(run, str) and run.strip().lower() == "latest":
        latest = conn.execute(select(func.max(runs.c.id))).scalar()
        if latest is None:
            raise StorageError(
                "the database holds no runs yet",
                fix="store a run first (`echelon plan DATA_DIR`)",
            )
        return int(latest)
    try:
        run_id = int(run)
    except (TypeError, ValueError):
        raise StorageError(
            "a run is named by its number or 'latest'",
            field="run",
            found=repr(run),
            fix="see `echelon runs` for the stored runs",
        ) from None
    if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise StorageError(
            f"unknown run {run_id}",
            field="run",
            fix="see `echelon runs` for the stored runs",
        )
    return run_id


def list_runs(db: str | Path | None = None) -> list[RunSummary]:
    """Every stored run, newest first, with its summary and recommendation status counts."""
    with transaction(db, readonly=True) as conn:
        counts: dict[int, dict[str, int]] = {}
        for run_id, status, n in conn.execute(
            select(recommendations.c.run_id, recommendations.c.status, func.count()).group_by(
                recommendations.c.run_id, recommendations.c.status
            )
        ):
            counts.setdefault(run_id, {})[status] = n
        rows = conn.execute(
            select(
                runs.c.id,
                runs.c.name,
                runs.c.created_at,
                runs.c.as_of,
                runs.c.input_hash,
                runs.c.code_version,
                runs.c.currency,
                runs.c.saving,
                runs.c.service_met,
                runs.c.n_placements,
                runs.c.n_recommendations,
                runs.c.n_exceptions,
            ).order_by(runs.c.id.desc())
        ).all()
    statuses = [s.value for s in RecommendationStatus]
    return [
        RunSummary(
            id=r.id,
            name=r.name,
            created_at=r.created_at,
            as_of=r.as_of.isoformat(),
            input_hash=r.input_hash,
            code_version=r.code_version,
            currency=r.currency,
            saving=r.saving,
            service_met=r.service_met,
            n_placements=r.n_placements,
            n_recommendations=r.n_recommendations,
            n_exceptions=r.n_exceptions,
            statuses={s: counts.get(r.id, {}).get(s, 0) for s in statuses},
        )
        for r in rows
    ]


#: parsed results by (database URL, run id, run key, saved at): a stored result never changes
#: (only the statuses in ``recommendations`` do), so it is parsed once per process
_PARSED: OrderedDict[tuple[str, int, str, str], PlanResult] = OrderedDict()
_PARSED_MAX = 16
_PARSED_LOCK = threading.Lock()


def _parsed(conn: Connection, run_id: int) -> PlanResult:
    """The stored result of ``run_id`` as a model (statuses as saved), from the cache when it
    was parsed before; callers copy it before changing anything (``model_copy``)."""
    row = conn.execute(select(runs.c.run_key, runs.c.saved_at).where(runs.c.id == run_id)).one()
    key = (str(conn.engine.url), run_id, row.run_key, str(row.saved_at))
    with _PARSED_LOCK:
        hit = _PARSED.get(key)
        if hit is not None:
            _PARSED.move_to_end(key)
            return hit
    data = conn.execute(select(runs.c.result).where(runs.c.id == run_id)).scalar_one()
    if isinstance(data, str):  # a driver that hands JSON back as text
        data = json.loads(data)
    result = PlanResult.model_validate(data)
    with _PARSED_LOCK:
        _PARSED[key] = result
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return result


def load_run(db: str | Path | None, run: RunId = "latest") -> PlanResult:
    """The stored ``PlanResult`` of ``run`` with the CURRENT status of each recommendation."""
    with transaction(db, readonly=True) as conn:
        return current_result(conn, resolve_run(conn, run))


def current_result(conn: Connection, run_id: int) -> PlanResult:
    """:func:`load_run` of the stored run ``run_id`` inside the caller's transaction."""
    result = _parsed(conn, run_id)
    current = dict(
        conn.execute(
            select(recommendations.c.key, recommendations.c.status).where(
                recommendations.c.run_id == run_id
            )
        ).all()
    )
    recs = []
    for r in result.recommendations:  # a copy only where the status changed since the save
        status = RecommendationStatus(current.get(r.key, r.status))
        recs.append(r if status == r.status else r.model_copy(update={"status": status}))
    return result.model_copy(update={"recommendations": recs})
