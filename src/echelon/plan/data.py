"""Loading and validating a plan data folder into a :class:`~echelon.plan.context.PlanContext`.

The folder format is in docs/plan-data.md. :func:`load_context` raises
:class:`echelon.errors.DataError` (one line naming the file, the row — header = row 1 — or the
item/location, the field, what was expected and found, and the fix) for anything that makes the
plan meaningless, and records fixable-by-assumption problems as ``DATA_QUALITY`` findings
(:class:`~echelon.plan.model.PlanException`) in ``PlanContext.findings``:

- fatal: missing folder or required file, an input file (required or optional) that is not a
  readable regular file (a device, FIFO, folder, broken link or link loop), a NUL byte,
  missing/misspelled column, wrong type, a date not strictly YYYY-MM-DD, an id with a control
  character, negative quantity or cost, a number beyond its sanity bound, duplicate row,
  unknown item or location, demand at a node that is not a store, a store × item without any
  demand row, no demand before the plan date, a plan date far beyond the history, dates
  neither daily nor one period apart, a lead-time lane not in the network, a lead time longer
  than the simulated horizon (:mod:`echelon.plan.checks`), and any error of network.yaml,
  plan.yaml or targets.yaml;
- findings: missing days/periods in a demand series (filled with 0), a store × item whose
  history is all zero, demand on or after the plan date (ignored), fewer than 8 full periods of
  history before the held-out ones, an item × location without an inventory row (on hand 0),
  an open order due before the plan date (moved to the plan date), a price below the unit
  cost, a demand distribution on a network node (ignored: demand comes from demand.csv), an
  outlier period of demand (replaced for the plan unless ``clean_outliers: false``;
  :mod:`echelon.plan.outliers`).

The plan date and the planning periods follow one rule each (:mod:`echelon.plan.calendar`);
the context's ``history`` is the demand per period, bucketed once here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from echelon.errors import DataError, InputError
from echelon.fileio import MAX_INPUT_BYTES, pydantic_error, read_bytes, read_mapping
from echelon.network.io import network_from_dict
from echelon.network.model import Network, ServiceMeasure
from echelon.optimize.segments import SegmentTargets
from echelon.plan import tables as t
from echelon.plan.calendar import PlanCalendar
from echelon.plan.checks import check_lead_times, check_node_ids
from echelon.plan.context import EXTERNAL, PlanContext, build_context, store_ids
from echelon.plan.model import PlanConfig, PlanException, Severity
from echelon.plan.outliers import clean_history
from echelon.plan.parquet import (
    MAX_PARQUET_BYTES,
    PARQUET_FILES,
    either_name,
    is_parquet,
    read_table,
    table_path,
)

REQUIRED_FILES = ("network.yaml", "items.csv", "demand.csv", "inventory.csv")
OPTIONAL_FILES = ("on_order.csv", "lead_times.csv", "targets.yaml", "plan.yaml")
INPUT_FILES = REQUIRED_FILES + OPTIONAL_FILES + tuple(PARQUET_FILES.values())
MAX_LISTED = 20  # missing inventory rows listed one by one before a summary finding


def load_context(folder: str | Path) -> PlanContext:
    """Read, validate and normalise the data folder ``folder`` (docs/plan-data.md) into the
    plan's context. Raises DataError on fatal problems; ``context.config.as_of`` is always
    set (the calendar's plan date)."""
    folder = Path(folder)
    input_hash = _check_folder(folder)
    findings: list[PlanException] = []
    config = _load_config(folder / "plan.yaml")
    network = _load_network(folder / "network.yaml", config, findings)
    check_node_ids(network, str(folder / "network.yaml"))
    items = _load_items(folder / "items.csv", findings)
    demand_file = table_path(folder, "demand.csv")
    demand, calendar = _load_demand(demand_file, items, network, config, findings)
    config = config.model_copy(update={"as_of": calendar.as_of})
    inventory = _load_inventory(table_path(folder, "inventory.csv"), items, network, findings)
    on_order = _load_on_order(folder / "on_order.csv", items, network, calendar.as_of, findings)
    lead_times = _load_lead_times(folder / "lead_times.csv", network)
    check_lead_times(
        network,
        lead_times,
        config,
        network_source=str(folder / "network.yaml"),
        observations_source=str(folder / "lead_times.csv"),
    )
    ctx = build_context(
        config=config,
        network=network,
        items=items,
        inventory=inventory,
        demand=demand,
        on_order=on_order,
        lead_times=lead_times,
        targets=_load_targets(folder / "targets.yaml"),
        input_hash=input_hash,
        findings=findings,
        folder=folder,
        calendar=calendar,
    )
    if ctx.history.empty:
        raise DataError(
            "the demand history is shorter than one full period",
            source=str(demand_file),
            field="ds",
            expected=f"at least {config.period_days} days before the plan date {calendar.as_of}",
            found=f"first date {demand['ds'].min().date()}",
            fix="add history or lower plan.yaml period_days",
        )
    ctx.history, outliers = clean_history(ctx.history, config.clean_outliers, str(demand_file))
    ctx.findings.extend(outliers)
    return ctx


# ----------------------------------------------------------------------------- folder & YAML
def _check_folder(folder: Path) -> str:
    """Check the folder and its required files; return the SHA-256 of the input files."""
    if not folder.exists():
        raise DataError(
            "data folder not found",
            source=str(folder),
            fix="check the path (`echelon demo` writes an example data folder)",
        )
    if not folder.is_dir():
        raise DataError("is a file, not a data folder", source=str(folder), fix="give a folder")
    for name in REQUIRED_FILES:
        table_path(folder, name)  # both demand.csv and demand.parquet: an error
        if not any(os.path.lexists(folder / n) for n in (name, PARQUET_FILES.get(name, name))):
            raise DataError(
                "missing required file",
                source=str(folder / name),
                expected=f"the files {', '.join(REQUIRED_FILES)} in the data folder",
                fix=f"add {either_name(name)} (format: docs/plan-data.md)",
            )
    digest = hashlib.sha256()
    for name in sorted(INPUT_FILES):
        path = folder / name
        if not os.path.lexists(path):  # absent; a broken link or a link loop is present
            continue
        cap = MAX_PARQUET_BYTES if is_parquet(path) else MAX_INPUT_BYTES
        content = read_bytes(path, DataError, max_bytes=cap)  # a regular file, size-capped
        digest.update(name.encode() + b"\0" + len(content).to_bytes(8, "little") + content)
    return digest.hexdigest()


def _mapping(path: Path) -> dict[str, Any] | None:
    """A YAML file's mapping (None when the file is absent; an empty file is ``{}``)."""
    if not path.exists():
        return None
    return read_mapping(
        path,
        DataError,
        "the file must be a mapping of fields (name: value)",
        "write one `field: value` per line (docs/plan-data.md)",
        empty_ok=True,
    )


def _load_config(path: Path) -> PlanConfig:
    data = _mapping(path)
    try:
        return PlanConfig.model_validate(data or {})
    except ValidationError as exc:
        raise pydantic_error(exc, data, DataError, str(path)) from None


def _load_network(path: Path, config: PlanConfig, findings: list[PlanException]) -> Network:
    data = _mapping(path)
    assert data is not None  # a required file, checked by _check_folder
    source = str(path)
    if "period_days" in data:
        found = data["period_days"]
        if not isinstance(found, int | float) or float(found) != config.period_days:
            raise DataError(
                "period length differs from the plan's",
                source=source,
                field="period_days",
                expected=f"{config.period_days} (plan.yaml period_days)",
                found=repr(found),
                fix="remove period_days from network.yaml or make the two equal",
            )
    data = {**data, "period_days": config.period_days}
    data.setdefault("currency", config.currency)
    try:
        network = network_from_dict(data, source=source)
    except InputError as exc:
        raise exc.recast(DataError) from None
    for node in network.nodes:
        if node.demand is not None:
            findings.append(
                t.finding(
                    f"{source}: node '{node.id}' has a demand distribution; it is ignored "
                    "(demand comes from demand.csv)",
                    Severity.LOW,
                    location=node.id,
                )
            )
    return network


def _load_targets(path: Path) -> SegmentTargets | None:
    data = _mapping(path)
    if data is None:
        return None
    try:
        targets = SegmentTargets.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, data, DataError, str(path)) from None
    if targets.measure is not ServiceMeasure.FILL_RATE:
        raise DataError(
            "the plan's service targets are fill rates",
            source=str(path),
            field="measure",
            expected="fill_rate",
            found=targets.measure.value,
            fix="set `measure: fill_rate`",
        )
    return targets


# ----------------------------------------------------------------------------- tables
def _load_items(path: Path, findings: list[PlanException]) -> pd.DataFrame:
    src = str(path)
    raw = t.read_csv(path, t.ITEMS)
    if raw.empty:
        raise DataError(
            "no items", source=src, expected="one row per item", found="0 rows", fix="add items"
        )
    item = t.ids(raw, "item_id", src)
    unit_cost = t.numbers(
        raw,
        "unit_cost",
        src,
        what="unit cost",
        strict=True,
        maximum=t.MAX_UNIT_MONEY,
        fix="give the cost per unit (> 0)",
    )
    raw["price"] = raw["price"].where(raw["price"].notna(), raw["unit_cost"])
    raw["pack_size"] = raw["pack_size"].fillna("1")
    raw["moq"] = raw["moq"].fillna("0")
    items = pd.DataFrame(
        {
            "item_id": item,
            "unit_cost": unit_cost,
            "price": t.numbers(raw, "price", src, what="price", maximum=t.MAX_UNIT_MONEY),
            "category": raw["category"].fillna("").astype(str),
            "pack_size": t.numbers(
                raw, "pack_size", src, what="pack size", maximum=t.MAX_PACK
            ).replace(0.0, 1.0),
            "moq": t.numbers(raw, "moq", src, what="minimum order quantity", maximum=t.MAX_MOQ),
        }
    )
    t.no_duplicates(items, ["item_id"], src, "item")
    for _, row in items[items["price"] < items["unit_cost"]].iterrows():
        findings.append(
            t.finding(
                f"{src}: item '{row.item_id}' sells below its unit cost "
                f"(price {row.price:g} < unit_cost {row.unit_cost:g})",
                Severity.LOW,
                item=row.item_id,
                value=float(row.price),
            )
        )
    return items.reset_index(drop=True)


def _item_location(
    raw: pd.DataFrame, src: str, items: pd.DataFrame, network: Network
) -> tuple[pd.Series, pd.Series]:
    item = t.ids(raw, "item_id", src)
    loc = t.ids(raw, "location_id", src)
    t.known(
        item, set(items["item_id"]), src, field="item_id", what="item", where_allowed="items.csv"
    )
    nodes = network.node_ids()
    t.known(loc, nodes, src, field="location_id", what="location", where_allowed="network.yaml")
    return item, loc


def _load_demand(
    path: Path,
    items: pd.DataFrame,
    network: Network,
    config: PlanConfig,
    findings: list[PlanException],
) -> tuple[pd.DataFrame, PlanCalendar]:
    src = str(path)
    raw = read_table(path, t.DEMAND)
    if raw.empty:
        raise DataError(
            "no demand rows",
            source=src,
            expected="daily (or per-period) sales of every item at every store",
            found="0 rows",
            fix="add the demand history",
        )
    demand = demand_cells(raw, src, items, network)
    t.no_duplicates(demand, ["item_id", "location_id", "ds"], src, "item × location × date")
    stores = store_ids(network)
    return t.complete_series(demand, src, list(items["item_id"]), stores, config, findings)


def demand_cells(
    raw: pd.DataFrame, src: str, items: pd.DataFrame, network: Network
) -> pd.DataFrame:
    """The cells of a demand table read from ``src``, checked (known items and stores, dates,
    quantities ≥ 0 in units): ``item_id, location_id, ds, y``. Duplicates and gaps are the
    caller's (the folder loader and the data store's ingest differ there)."""
    item, loc = _item_location(raw, src, items, network)
    stores = store_ids(network)
    not_store = ~loc.isin(stores)
    if not_store.any():
        supplies: dict[str, list[str]] = {}
        for lane in network.lanes:
            supplies.setdefault(lane.source, []).append(lane.target)
        raise t.rows_error(
            "demand recorded at a location that is not a store",
            loc.index[not_store.to_numpy()],
            lambda i: (
                f"'{loc.at[i]}', which supplies {', '.join(sorted(supplies[str(loc.at[i])]))}"
            ),
            source=src,
            field="location_id",
            expected="a store (a node of network.yaml without outbound lanes)",
            fix="record demand at the stores only (a DC's demand is its stores' orders)",
        )
    fix = "record returns separately; demand >= 0"
    y = t.numbers(raw, "y", src, what="quantity", maximum=t.MAX_UNITS, fix=fix)
    ds = t.dates(raw, "ds", src)
    return pd.DataFrame({"item_id": item, "location_id": loc, "ds": ds, "y": y})


def _load_inventory(
    path: Path, items: pd.DataFrame, network: Network, findings: list[PlanException]
) -> pd.DataFrame:
    src = str(path)
    raw = read_table(path, t.INVENTORY)
    item, loc = _item_location(raw, src, items, network)
    on_hand = t.numbers(
        raw,
        "on_hand",
        src,
        what="on-hand quantity",
        maximum=t.MAX_UNITS,
        fix="on hand is >= 0 (count backorders apart)",
    )
    raw["backorders"] = raw["backorders"].fillna("0")  # optional: a blank cell owes nothing
    backorders = t.numbers(
        raw,
        "backorders",
        src,
        what="backorder quantity",
        maximum=t.MAX_UNITS,
        fix="backorders are units owed, >= 0",
    )
    inv = pd.DataFrame(
        {"item_id": item, "location_id": loc, "on_hand": on_hand, "backorders": backorders}
    )
    t.no_duplicates(inv, ["item_id", "location_id"], src, "item × location")
    have = set(zip(inv["item_id"], inv["location_id"], strict=True))
    missing = [(i, n) for i in items["item_id"] for n in network.node_ids() if (i, n) not in have]
    for i, n in missing[:MAX_LISTED]:
        findings.append(
            t.finding(
                f"{src}: no inventory row for item '{i}' at '{n}'; on hand taken as 0",
                Severity.MEDIUM,
                item=i,
                location=n,
                value=0.0,
            )
        )
    if len(missing) > MAX_LISTED:
        findings.append(
            t.finding(
                f"{src}: {len(missing) - MAX_LISTED} more item × location pairs without an "
                "inventory row; on hand taken as 0",
                Severity.MEDIUM,
                value=float(len(missing) - MAX_LISTED),
            )
        )
    if missing:
        extra = pd.DataFrame(missing, columns=["item_id", "location_id"]).assign(
            on_hand=0.0, backorders=0.0
        )
        inv = pd.concat([inv, extra], ignore_index=True)
    return inv.sort_values(["item_id", "location_id"], kind="stable").reset_index(drop=True)


def _load_on_order(
    path: Path,
    items: pd.DataFrame,
    network: Network,
    as_of: date,
    findings: list[PlanException],
) -> pd.DataFrame:
    empty = pd.DataFrame(
        {
            "item_id": pd.Series(dtype=object),
            "location_id": pd.Series(dtype=object),
            "quantity": pd.Series(dtype=float),
            "due": pd.Series(dtype="datetime64[ns]"),
        }
    )
    if not path.exists():
        return empty
    src = str(path)
    raw = t.read_csv(path, t.ON_ORDER)
    if raw.empty:
        return empty
    item, loc = _item_location(raw, src, items, network)
    orders = pd.DataFrame(
        {
            "item_id": item,
            "location_id": loc,
            "quantity": t.numbers(raw, "quantity", src, what="quantity", maximum=t.MAX_UNITS),
            "due": t.dates(raw, "due", src),
        }
    )
    start = pd.Timestamp(as_of)
    for i in orders.index[(orders["due"] < start).to_numpy()]:
        row = orders.loc[i]
        findings.append(
            t.finding(
                f"{src}: {t.row_of(i)}: open order of {row.quantity:g} units of '{row.item_id}' "
                f"for '{row.location_id}' was due {row.due.date()}, before the plan date "
                f"{as_of}; taken as arriving on {as_of}",
                Severity.MEDIUM,
                item=row.item_id,
                location=row.location_id,
                value=float(row.quantity),
            )
        )
    orders["due"] = orders["due"].where(orders["due"] >= start, start)
    return orders.reset_index(drop=True)


def _load_lead_times(path: Path, network: Network) -> pd.DataFrame | None:
    if not path.exists():
        return None
    src = str(path)
    raw = t.read_csv(path, t.LEAD_TIMES)
    frm = t.ids(raw, "from_id", src)
    to = t.ids(raw, "to_id", src)
    nodes = network.node_ids()
    t.known(
        frm,
        [*nodes, EXTERNAL],
        src,
        field="from_id",
        what="location",
        where_allowed=f"network.yaml (or '{EXTERNAL}')",
    )
    t.known(to, nodes, src, field="to_id", what="location", where_allowed="network.yaml")
    lanes = {(lane.source, lane.target) for lane in network.lanes}
    lanes |= {(EXTERNAL, n.id) for n in network.nodes if n.external_supplier}
    pairs = pd.Series(list(zip(frm, to, strict=True)), index=raw.index)
    _lanes_known(pairs, lanes, src)
    days = t.numbers(
        raw,
        "lead_time_days",
        src,
        what="lead time",
        maximum=t.MAX_LEAD_DAYS,
        fix="lead time is >= 0 days",
    )
    return pd.DataFrame({"from_id": frm, "to_id": to, "lead_time_days": days}).reset_index(
        drop=True
    )


def _lanes_known(pairs: pd.Series, lanes: Iterable[tuple[str, str]], src: str) -> None:
    allowed = set(lanes)
    bad = {i: f"{pair[0]} -> {pair[1]}" for i, pair in pairs.items() if pair not in allowed}
    if bad:
        raise t.rows_error(
            "lead time observed on a lane that is not in the network",
            list(bad),
            bad.__getitem__,
            source=src,
            field="from_id, to_id",
            expected=f"a lane of network.yaml, or {EXTERNAL} -> a node with "
            "external_supplier: true",
            fix="correct the ids or add the lane to network.yaml",
        )
