"""Tables of the data store: what ``echelon ingest`` appends, week after week (issue 16).

The run store (:mod:`echelon.storage.schema`) keeps plans; these tables keep the data they are
planned from, per *dataset* (a name: one network's data), so that ``echelon plan --from-store
NAME`` plans from what is stored:

- ``data_loads``: one row per applied load — dataset, SHA-256 of its content (unique per
  dataset: the same content twice is applied once), where it came from, when (UTC), the row
  counts (added / corrected / unchanged per table) and the data-quality findings (JSON);
- ``data_files``: the snapshot files of a dataset (network.yaml, items.csv, plan.yaml,
  targets.yaml, on_order.csv) as text, replaced as a whole by a load that brings a new one;
- ``data_demand``: demand per item × location × day (units); ``imputed`` rows are nowcasts
  (``method`` names the nowcaster) that the real row replaces when it arrives;
- ``data_inventory``: on-hand snapshots per item × location × date (units);
- ``data_receipts``: units received per item × location × date;
- ``data_lead_times``: lead-time observations (days) per lane, keyed by ``obs_key`` (the ship
  date, or the load and row for observations without one);
- ``data_audit``: every correction of a stored row, every imputation and every real value
  replacing an imputed one (old and new value) — apart from ``audit``, whose ``run_id`` is a
  key of ``runs``;
- ``forecast_scores``: a stored run's store forecast for one period against the actual demand
  (units; written by ``echelon ingest`` when the period is complete);
- ``model_registry``: every evaluation of a dataset's nowcaster — the champion after it, the
  data window, the features, the backtest WAPE of every candidate, whether it promoted a new
  champion and why (:mod:`echelon.monitor.retrain`); kind ``forecast:<segment>`` rows are the
  plan's forecast champion of one ABC/XYZ segment after a stored plan
  (:mod:`echelon.monitor.champions`);
- ``forecast_promotions``: a change of a segment's forecast champion that moved the segment's
  safety stock value by more than the threshold — pending until an approver approves or
  rejects it (superseded by a later evaluation that changes the segment's champion); while
  not approved, the run's
  recommendations of the segment are not auto-approvable (:mod:`echelon.storage.rules`).

New tables of schema version 1: a store that lacks them gets them on first use
(``create_all`` creates only the missing tables).
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
    String,
    Table,
    Text,
    UniqueConstraint,
)

from echelon.storage.schema import metadata

_ID = 200  # length of an item or location id

data_loads = Table(
    "data_loads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),  # SHA-256 hex of the load's files
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),  # UTC
    Column("counts", JSON, nullable=False),  # table → {added, corrected, unchanged}
    Column("findings", JSON, nullable=False),  # PlanException dumps
    UniqueConstraint("dataset", "content_hash", name="uq_data_loads_content"),
)

data_files = Table(
    "data_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("name", String(40), nullable=False),
    Column("content", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("load_id", Integer, ForeignKey("data_loads.id"), nullable=False),
    UniqueConstraint("dataset", "name", name="uq_data_files_name"),
)

data_demand = Table(
    "data_demand",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("item_id", String(_ID), nullable=False),
    Column("location_id", String(_ID), nullable=False),
    Column("ds", Date, nullable=False),
    Column("y", Float, nullable=False),  # units sold that day
    Column("imputed", Boolean, nullable=False, default=False),
    Column("method", String(40)),  # the nowcaster of an imputed row
    Column("load_id", Integer, ForeignKey("data_loads.id")),  # None: an imputation
    UniqueConstraint("dataset", "item_id", "location_id", "ds", name="uq_data_demand_key"),
)

data_inventory = Table(
    "data_inventory",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("item_id", String(_ID), nullable=False),
    Column("location_id", String(_ID), nullable=False),
    Column("date", Date, nullable=False),  # the snapshot's date (stock at the start of it)
    Column("on_hand", Float, nullable=False),  # units
    Column("backorders", Float, nullable=False),  # units
    Column("load_id", Integer, ForeignKey("data_loads.id"), nullable=False),
    UniqueConstraint("dataset", "item_id", "location_id", "date", name="uq_data_inventory_key"),
)

data_receipts = Table(
    "data_receipts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("item_id", String(_ID), nullable=False),
    Column("location_id", String(_ID), nullable=False),
    Column("date", Date, nullable=False),
    Column("quantity", Float, nullable=False),  # units received that day
    Column("load_id", Integer, ForeignKey("data_loads.id"), nullable=False),
    UniqueConstraint("dataset", "item_id", "location_id", "date", name="uq_data_receipts_key"),
)

data_lead_times = Table(
    "data_lead_times",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("from_id", String(_ID), nullable=False),
    Column("to_id", String(_ID), nullable=False),
    Column("obs_key", String(120), nullable=False),
    Column("lead_time_days", Float, nullable=False),
    Column("load_id", Integer, ForeignKey("data_loads.id"), nullable=False),
    UniqueConstraint("dataset", "from_id", "to_id", "obs_key", name="uq_data_lead_times_key"),
)

data_audit = Table(
    "data_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("load_id", Integer, ForeignKey("data_loads.id")),  # None: an imputation
    Column("table_name", String(40), nullable=False),
    Column("key", String(600), nullable=False),
    Column("action", String(30), nullable=False),  # correct | impute | actual | file
    Column("old", Text),
    Column("new", Text),
    Column("at", DateTime(timezone=True), nullable=False),  # UTC
)
Index("ix_data_audit_dataset", data_audit.c.dataset, data_audit.c.id)

forecast_scores = Table(
    "forecast_scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", String(_ID), nullable=False),
    Column("location_id", String(_ID), nullable=False),
    Column("segment", String(20)),
    Column("period_start", Date, nullable=False),
    Column("actual", Float, nullable=False),  # units in the period
    Column("mean", Float, nullable=False),  # the run's forecast mean, units per period
    Column("std", Float, nullable=False),  # the run's forecast std, units per period
    UniqueConstraint("run_id", "item_id", "location_id", "period_start", name="uq_scores_key"),
)

model_registry = Table(
    "model_registry",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("kind", String(40), nullable=False),  # "nowcaster"
    Column("model", String(80), nullable=False),  # the champion after this evaluation
    Column("data_start", Date, nullable=False),  # first day of the data it was chosen on
    Column("data_end", Date, nullable=False),  # last day
    Column("features", JSON, nullable=False),  # what the models see (list of text)
    Column("metrics", JSON, nullable=False),  # backtest WAPE per candidate (fraction)
    Column("promoted", Boolean, nullable=False),  # this evaluation changed the champion
    Column("reason", Text, nullable=False),  # why the champion is the champion
    Column("at", DateTime(timezone=True), nullable=False),  # UTC
)
Index(
    "ix_model_registry_dataset",
    model_registry.c.dataset,
    model_registry.c.kind,
    model_registry.c.id,
)

forecast_promotions = Table(
    "forecast_promotions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("segment", String(20), nullable=False),
    Column("registry_id", Integer, ForeignKey("model_registry.id"), nullable=False),
    Column("old_model", String(80), nullable=False),  # the registered champion
    Column("new_model", String(80), nullable=False),  # the plan's champion
    Column("change", Float),  # relative change of the segment's safety stock value; None: ∞
    Column("status", String(20), nullable=False),  # pending | approved | rejected | superseded
    Column("requested_at", DateTime(timezone=True), nullable=False),  # UTC
    Column("decided_by", String(200)),
    Column("decided_at", DateTime(timezone=True)),  # UTC
)
Index("ix_forecast_promotions_run", forecast_promotions.c.run_id, forecast_promotions.c.segment)
