"""Tables of the run store (SQLAlchemy Core; the same schema on SQLite and PostgreSQL).

- ``schema_version``: one row per schema version applied (currently 1).
- ``runs``: one row per stored plan run — its name, creation time (ISO 8601 UTC, from the
  result), the input hash, the parameters (JSON), the idempotency key, the code version that
  produced it, the whole ``PlanResult`` as JSON and summary columns (``saving`` as a fraction,
  ``service_met``, counts of placements, recommendations and exceptions).
- ``recommendations``: one row per recommendation of a run with its CURRENT status
  (proposed | approved | rejected | exported); quantities in units, money in the run's currency.
- ``audit``: every status change — run, recommendation key, action (approve | reject |
  export | override | comment), from and to status, who, when (UTC) and a free comment.
- ``overrides``: a planner's change of a recommendation's quantity, with the reason; the
  newest row per (run, key) is the quantity that is exported.
- ``users``: people who log in to ``echelon serve`` — name, role (viewer | planner | approver |
  admin), argon2 password hash, active flag.
- ``api_tokens``: tokens of machine clients, stored as SHA-256 hashes (never the token).
- ``approval_rules``: auto-approval rules applied to a run — the largest value approved
  (money), the kinds, whether an exception on the item × location holds an order back, who
  set it, when, and how many recommendations it approved.
- ``logins``: every login, failed login and logout of the workspace — user name, event, client
  address, when (UTC).

The last five were added after schema version 1 without changing it: a version-1 database
that lacks them gets them on first use (``create_all`` creates only the missing tables).
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

overrides = Table(
    "overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(400), nullable=False),
    Column("quantity", Float, nullable=False),  # units, replaces the planned quantity
    Column("planned_quantity", Float, nullable=False),  # units, what the plan recommended
    Column("reason", Text, nullable=False),
    Column("who", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),  # UTC
)
Index("ix_overrides_run_key", overrides.c.run_id, overrides.c.key, overrides.c.id)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(400), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),  # UTC
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex
    Column("created_at", DateTime(timezone=True), nullable=False),  # UTC
)

approval_rules = Table(
    "approval_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("max_value", Float, nullable=False),  # money, the run's currency
    Column("kinds", String(100), nullable=False),  # comma-separated recommendation kinds
    Column("no_exception", Boolean, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),  # UTC
    Column("approved", Integer, nullable=False),  # recommendations it approved
)

logins = Table(
    "logins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("who", String(200), nullable=False),  # the name typed (a failed login: as typed)
    Column("event", String(20), nullable=False),  # login | failed | logout
    Column("client", String(100), nullable=False),  # client address
    Column("at", DateTime(timezone=True), nullable=False),  # UTC
)
Index("ix_logins_at", logins.c.at)
