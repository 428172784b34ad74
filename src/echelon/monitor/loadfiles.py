"""Reading one load for ``echelon ingest DIR|FILE``: the files, checked like a plan data folder.

A load is a folder or one file, named like the files of a data folder (docs/plan-data.md):

- snapshot files, stored whole and replaced by a newer one: ``network.yaml``, ``items.csv``,
  ``plan.yaml``, ``targets.yaml``, ``on_order.csv`` (the open orders as they are now);
- appended tables, one row per key: ``demand.csv`` (item_id, location_id, ds, y: units sold
  per day), ``inventory.csv`` (item_id, location_id, on_hand, optional backorders and
  ``date``, the snapshot's day; without it: the day after the load's — else the store's —
  last demand day), ``receipts.csv`` (item_id, location_id, date, quantity: units received),
  ``lead_times.csv`` (from_id, to_id, lead_time_days, optional ``ship_date``).

Every cell is checked with the data folder's checks (:mod:`echelon.plan.tables`; one error names
the file, every bad row, the field, what was expected and found); ids must be known to the
network and item master of the load, or else of the store. Exact duplicate rows are dropped (a
finding); rows that share a key but differ are an error. The load's content hash is SHA-256
over the names and bytes of its files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from echelon.errors import DataError
from echelon.fileio import read_bytes
from echelon.network.model import Network
from echelon.plan import data as folder_loader
from echelon.plan import tables as t
from echelon.plan.model import PlanException, Severity

SNAPSHOT_FILES = ("network.yaml", "items.csv", "plan.yaml", "targets.yaml", "on_order.csv")
TABLE_FILES = ("demand.csv", "inventory.csv", "receipts.csv", "lead_times.csv")
LOAD_FILES = SNAPSHOT_FILES + TABLE_FILES
INVENTORY = t.TableSpec(
    "inventory.csv", ("item_id", "location_id", "on_hand"), {"backorders": "0", "date": None}
)
RECEIPTS = t.TableSpec("receipts.csv", ("item_id", "location_id", "date", "quantity"))
LEAD_TIMES = t.TableSpec("lead_times.csv", ("from_id", "to_id", "lead_time_days"),
                         {"ship_date": None})  # fmt: skip
EARLIEST = date(1900, 1, 1)  # open orders are checked, not moved: every due date is later
KEYS = {
    "demand.csv": ["item_id", "location_id", "ds"],
    "inventory.csv": ["item_id", "location_id", "date"],
    "receipts.csv": ["item_id", "location_id", "date"],
}


@dataclass(frozen=True)
class Reference:
    """What the load's ids are checked against: the network and item ids (from the load or
    the store) and the store's last demand day."""

    network: Network
    item_ids: list[str]
    last_demand_day: date | None = None


@dataclass
class LoadFiles:
    """The validated content of one load (module doc): snapshot file texts, keyed tables and
    findings (duplicate rows dropped)."""

    source: str
    content_hash: str
    reference: Reference
    files: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[PlanException] = field(default_factory=list)


def load_paths(target: Path) -> dict[str, Path]:
    """The load's files by name: the known files of a folder, or one file."""
    if not os.path.lexists(target):
        raise DataError("no such file or folder", source=str(target), fix="check the path")
    if target.is_dir():
        found = {n: target / n for n in LOAD_FILES if os.path.lexists(target / n)}
        if not found:
            raise DataError(
                "nothing to ingest in the folder",
                source=str(target),
                expected=f"one of {', '.join(LOAD_FILES)}",
                found=", ".join(sorted(p.name for p in target.iterdir())[:10]) or "an empty folder",
                fix="name the files like a plan data folder (docs/plan-data.md)",
            )
        return found
    if target.name not in LOAD_FILES:
        raise DataError(
            "unknown file name for ingest",
            source=str(target),
            expected=f"one of {', '.join(LOAD_FILES)}",
            found=target.name,
            fix="rename the file after what it holds",
        )
    return {target.name: target}


def content_hash(paths: dict[str, Path]) -> tuple[str, dict[str, bytes]]:
    """SHA-256 over the sorted names and bytes of the files, and the bytes."""
    digest = hashlib.sha256()
    data: dict[str, bytes] = {}
    for name in sorted(paths):
        data[name] = read_bytes(paths[name], DataError)
        digest.update(name.encode() + b"\0" + len(data[name]).to_bytes(8, "little") + data[name])
    return digest.hexdigest(), data


def read_load(target: Path, stored: dict[str, str], last_demand_day: date | None) -> LoadFiles:
    """Read and check the load at ``target`` (module doc). ``stored``: the store's snapshot
    files (for the network and items when the load brings none)."""
    paths = load_paths(target)
    digest, data = content_hash(paths)
    findings: list[PlanException] = []
    ref = _reference(paths, stored, last_demand_day, findings)
    out = LoadFiles(str(target), digest, ref, findings=findings)
    for name in SNAPSHOT_FILES:
        if name in paths:
            if name == "on_order.csv":
                folder_loader._load_on_order(paths[name], _items(ref), ref.network,
                                             EARLIEST, [])  # fmt: skip
            out.files[name] = data[name].decode("utf-8-sig")
    if "demand.csv" in paths:
        out.tables["demand"] = _demand(paths["demand.csv"], ref, out.findings)
    last = _last_day(out.tables.get("demand"), last_demand_day)
    if "inventory.csv" in paths:
        out.tables["inventory"] = _inventory(paths["inventory.csv"], ref, last, out.findings)
    if "receipts.csv" in paths:
        out.tables["receipts"] = _receipts(paths["receipts.csv"], ref, out.findings)
    if "lead_times.csv" in paths:
        out.tables["lead_times"] = _lead_times(paths["lead_times.csv"], ref.network, digest)
    return out


def _reference(
    paths: dict[str, Path],
    stored: dict[str, str],
    last_demand_day: date | None,
    findings: list[PlanException],
) -> Reference:
    """The network and items of the load, else of the store (parsed with the folder loader)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="echelon-ingest-") as tmp:
        folder = Path(tmp)
        for name in ("plan.yaml", "network.yaml", "items.csv"):
            if name in paths:
                continue
            if name in stored:
                (folder / name).write_text(stored[name], encoding="utf-8")
            elif name != "plan.yaml":
                raise DataError(
                    f"the store has no {name} for this dataset yet",
                    source=str(next(iter(paths.values()))),
                    fix=f"ingest a folder with {name} first (or give --name of a stored dataset)",
                )

        def path(name: str) -> Path:
            return paths.get(name, folder / name)

        config = folder_loader._load_config(path("plan.yaml"))
        network = folder_loader._load_network(path("network.yaml"), config, findings)
        items = folder_loader._load_items(path("items.csv"), findings)
    return Reference(network, list(items["item_id"]), last_demand_day)


def _items(ref: Reference) -> pd.DataFrame:
    return pd.DataFrame({"item_id": ref.item_ids})


def _last_day(demand: pd.DataFrame | None, stored: date | None) -> date | None:
    if demand is None or demand.empty:
        return stored
    last = pd.Timestamp(demand["ds"].max()).date()
    return last if stored is None else max(last, stored)


def _item_location(raw: pd.DataFrame, src: str, ref: Reference) -> tuple[pd.Series, pd.Series]:
    return folder_loader._item_location(raw, src, _items(ref), ref.network)


def _dedupe(frame: pd.DataFrame, keys: list[str], src: str, findings: list[PlanException]):
    """Drop exact duplicate rows (a finding); rows with the same key and other values are an
    error naming all of them."""
    exact = frame.duplicated(keep="first").to_numpy()
    if exact.any():
        rows = ", ".join(t.row_of(i).removeprefix("row ") for i in frame.index[exact][:20])
        findings.append(
            t.finding(
                f"{src}: {int(exact.sum())} duplicate rows dropped (rows {rows})",
                Severity.LOW,
                value=float(exact.sum()),
            )
        )
        frame = frame[~exact]
    t.no_duplicates(frame, keys, src, " × ".join(keys))
    return frame


def _demand(path: Path, ref: Reference, findings: list[PlanException]) -> pd.DataFrame:
    src = str(path)
    raw = t.read_csv(path, t.DEMAND)
    frame = folder_loader.demand_cells(raw, src, _items(ref), ref.network)
    return _dedupe(frame, KEYS["demand.csv"], src, findings).reset_index(drop=True)


def _inventory(
    path: Path, ref: Reference, last: date | None, findings: list[PlanException]
) -> pd.DataFrame:
    src = str(path)
    raw = t.read_csv(path, INVENTORY)
    item, loc = _item_location(raw, src, ref)
    if raw["date"].isna().any():
        if last is None:
            raise DataError(
                "an inventory snapshot without a date, and no demand to date it by",
                source=src,
                field="date",
                expected="a date column (YYYY-MM-DD), or demand in the load or the store",
                fix="add a column 'date' with the snapshot's day",
            )
        raw["date"] = raw["date"].fillna((last + timedelta(days=1)).isoformat())
    frame = pd.DataFrame(
        {
            "item_id": item,
            "location_id": loc,
            "date": t.dates(raw, "date", src),
            "on_hand": t.numbers(raw, "on_hand", src, what="on-hand quantity",
                                 maximum=t.MAX_UNITS),
            "backorders": t.numbers(raw, "backorders", src, what="backorder quantity",
                                    maximum=t.MAX_UNITS),
        }
    )  # fmt: skip
    return _dedupe(frame, KEYS["inventory.csv"], src, findings).reset_index(drop=True)


def _receipts(path: Path, ref: Reference, findings: list[PlanException]) -> pd.DataFrame:
    src = str(path)
    raw = t.read_csv(path, RECEIPTS)
    item, loc = _item_location(raw, src, ref)
    frame = pd.DataFrame(
        {
            "item_id": item,
            "location_id": loc,
            "date": t.dates(raw, "date", src),
            "quantity": t.numbers(raw, "quantity", src, what="quantity", maximum=t.MAX_UNITS),
        }
    )
    return _dedupe(frame, KEYS["receipts.csv"], src, findings).reset_index(drop=True)


def _lead_times(path: Path, network: Network, digest: str) -> pd.DataFrame:
    """Observations checked by the folder loader; keyed by ship date, else load and row."""
    frame = folder_loader._load_lead_times(path, network)
    assert frame is not None
    raw = t.read_csv(path, LEAD_TIMES)
    ship = raw["ship_date"]
    keys = [f"load {digest[:16]} row {k + 2}" for k in range(len(raw))]
    if ship.notna().any():
        dated = t.dates(raw[ship.notna()], "ship_date", str(path))
        for pos, label in enumerate(raw.index):
            if label in dated.index:
                keys[pos] = str(pd.Timestamp(dated.at[label]).date())  # type: ignore[arg-type]
    seen: dict[tuple[str, str, str], int] = {}
    for pos, key in enumerate(keys):  # two shipments on one lane and day: #2, #3 ...
        lane = (str(frame.at[pos, "from_id"]), str(frame.at[pos, "to_id"]), key)
        seen[lane] = seen.get(lane, 0) + 1
        if seen[lane] > 1:
            keys[pos] = f"{key} #{seen[lane]}"
    frame["obs_key"] = keys
    return frame
