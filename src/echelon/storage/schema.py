"""Tables of the run store (SQLAlchemy Core; the same schema on SQLite and PostgreSQL).

- ``schema_version``: one row per schema version applied (currently 1).
- ``runs``: one row per stored plan run — its name, creation time (ISO 8601 UTC, from the
  result), the input hash, the parameters (JSON), the idempotency key, the code version that
  produced it, the whole ``PlanResult`` as JSON and summary columns (``saving`` as a fraction,
  ``service_met``, counts of placements, recommendations and exceptions).
- ``recommendations``: one row per recommendation of a run with its CURRENT status
  (proposed | approved | rejected | exported); quantities in units, money in the run's currency.
- ``audit``: every status change — run, recommendation key, action (approve | reject |
  export), from and to status, who, when (UTC) and a free comment.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

STORAGE_SCHEMA_VERSION = 1

metadata = MetaData()

_Json = JSON().with_variant(JSONB(), "postgresql")

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),  # ISO 8601 UTC, PlanResult.created_at
    Column("saved_at", DateTime(timezone=True), nullable=False),  # UTC
    Column("as_of", Date, nullable=False),
    Column("input_hash", String(128), nullable=False, index=True),
    Column("parameters", _Json, nullable=False),
    Column("run_key", String(64), nullable=False, unique=True),  # idempotency key, SHA-256
    Column("code_version", String(40), nullable=False),
    Column("result", _Json, nullable=False),  # PlanResult.model_dump(mode="json")
    Column("currency", String(12), nullable=False),
    Column("saving", Float),  # fraction
    Column("service_met", Boolean),
    Column("n_placements", Integer, nullable=False),
    Column("n_recommendations", Integer, nullable=False),
    Column("n_exceptions", Integer, nullable=False),
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # order within the run's result
    Column("key", String(400), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("item", String(200), nullable=False),
    Column("location", String(200), nullable=False),
    Column("source", String(200)),  # None = external supplier
    Column("quantity", Float, nullable=False),  # units
    Column("unit_cost", Float, nullable=False),  # money per unit
    Column("value", Float, nullable=False),  # money
    Column("arrival", Date),
    Column("status", String(20), nullable=False),
    UniqueConstraint("run_id", "key", name="uq_recommendations_run_key"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(400), nullable=False),
    Column("action", String(20), nullable=False),
    Column("from_status", String(20), nullable=False),
    Column("to_status", String(20), nullable=False),
    Column("who", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),  # UTC
    Column("comment", Text),
)
Index("ix_audit_run", audit.c.run_id, audit.c.id)
