"""A tiny good plan data folder and a table of bad ones (each must fail with a DataError).

``write_tiny_folder(path)`` writes a complete, valid folder: a DC fed by an external supplier
(lead time 2 weeks) and two stores S1, S2 (1 week), items A and B, 16 weeks of daily demand
ending Sunday 2024-04-21 (plan date Monday 2024-04-22), inventory, one open order, lead-time
observations, fill-rate targets and a plan.yaml with small simulation settings.

``BAD_FOLDERS`` lists :class:`BadFolder` cases: ``mutate(folder)`` breaks a copy of the tiny
folder; ``fragments`` must all appear in the one-line error message. The same cases serve the
loader's tests and the CLI's (``echelon plan BAD`` → exit 2, nothing written).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TINY_AS_OF = "2024-04-22"
TINY_DAYS = 16 * 7
TINY_RATES = {("A", "S1"): 20.0, ("A", "S2"): 12.0, ("B", "S1"): 5.0, ("B", "S2"): 3.0}

NETWORK = """\
name: tiny
nodes:
  - id: DC
    external_supplier: true
    lead_time: 2
  - id: S1
    lead_time: 1
  - id: S2
    lead_time: 1
lanes:
  - {from: DC, to: S1}
  - {from: DC, to: S2}
"""
ITEMS = """\
item_id,unit_cost,price,category,pack_size,moq
A,10,15,widgets,1,0
B,4,6,gadgets,6,12
"""
INVENTORY = """\
item_id,location_id,on_hand
A,DC,300
A,S1,60
A,S2,40
B,DC,80
B,S1,15
B,S2,10
"""
ON_ORDER = """\
item_id,location_id,quantity,due
A,DC,150,2024-04-29
"""
LEAD_TIMES = """\
from_id,to_id,lead_time_days
external,DC,13
external,DC,15
external,DC,14
DC,S1,6
DC,S1,7
DC,S2,7
DC,S2,8
"""
TARGETS = """\
measure: fill_rate
targets: {A*: 0.97, default: 0.93}
"""
PLAN = f"""\
name: tiny
as_of: {TINY_AS_OF}
period_days: 7
holdout_periods: 4
horizon: 4
sim_periods: 104
sim_reps: 4
"""


def tiny_demand_csv(seed: int = 7) -> str:
    """16 weeks of Poisson daily demand per item × store (fixed seed: the same bytes)."""
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64(TINY_AS_OF) - TINY_DAYS, np.datetime64(TINY_AS_OF))
    lines = ["item_id,location_id,ds,y"]
    for (item, store), rate in TINY_RATES.items():
        for day, y in zip(days, rng.poisson(rate, len(days)), strict=True):
            lines.append(f"{item},{store},{day},{y}")
    return "\n".join(lines) + "\n"


def write_tiny_folder(path: Path) -> Path:
    """Write the tiny valid data folder at ``path`` and return it."""
    path.mkdir(parents=True, exist_ok=True)
    files = {
        "network.yaml": NETWORK,
        "items.csv": ITEMS,
        "demand.csv": tiny_demand_csv(),
        "inventory.csv": INVENTORY,
        "on_order.csv": ON_ORDER,
        "lead_times.csv": LEAD_TIMES,
        "targets.yaml": TARGETS,
        "plan.yaml": PLAN,
    }
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- editing helpers
def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file; ``row`` as the user sees it (header = row 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def drop_rows(path: Path, keep: Callable[[str], bool]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], *filter(keep, lines[1:])]) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class BadFolder:
    name: str
    mutate: Callable[[Path], None]
    fragments: tuple[str, ...]


def _row_dup(f: Path) -> None:
    lines = (f / "demand.csv").read_text(encoding="utf-8").splitlines()
    append_line(f / "demand.csv", lines[5])


def _every_third_day(line: str) -> bool:
    day = np.datetime64(line.split(",")[2], "D").astype(int)
    return bool(day % 3 == 0)


BAD_FOLDERS: list[BadFolder] = [
    BadFolder("missing_folder", shutil.rmtree, ("data folder not found",)),
    BadFolder(
        "missing_demand_file",
        lambda f: (f / "demand.csv").unlink(),
        ("demand.csv", "missing required file"),
    ),
    BadFolder(
        "missing_network_file",
        lambda f: (f / "network.yaml").unlink(),
        ("network.yaml", "missing required file"),
    ),
    BadFolder(
        "misspelled_demand_column",
        lambda f: replace_text(f / "demand.csv", "location_id", "locaton_id"),
        ("demand.csv", "row 1", "missing column", "rename column 'locaton_id' to 'location_id'"),
    ),
    BadFolder(
        "misspelled_optional_column",
        lambda f: replace_text(f / "items.csv", "pack_size", "pack_szie"),
        ("items.csv", "row 1", "unknown column", "'pack_szie'", "rename it to 'pack_size'"),
    ),
    BadFolder(
        "semicolon_separated",
        lambda f: (f / "inventory.csv").write_text(
            (f / "inventory.csv").read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8"
        ),
        ("inventory.csv", "missing column", "separate the columns with commas, not ';'"),
    ),
    BadFolder(
        "broken_csv_line",
        lambda f: set_cell(f / "inventory.csv", 4, "on_hand", "40,7"),
        ("inventory.csv", "cannot read the file as CSV", "line 4"),
    ),
    BadFolder(
        "missing_items_column",
        lambda f: (f / "items.csv").write_text("item_id,price\nA,15\nB,6\n", encoding="utf-8"),
        ("items.csv", "'unit_cost'", "missing column"),
    ),
    BadFolder(
        "negative_on_hand",
        lambda f: set_cell(f / "inventory.csv", 3, "on_hand", "-5"),
        ("inventory.csv", "row 3", "'on_hand'", "negative on-hand quantity"),
    ),
    BadFolder(
        "unknown_location_in_inventory",
        lambda f: set_cell(f / "inventory.csv", 2, "location_id", "S9"),
        ("inventory.csv", "row 2", "unknown location", "'S9'"),
    ),
    BadFolder(
        "duplicate_demand_row",
        _row_dup,
        ("demand.csv", "duplicate row", "row 6"),
    ),
    BadFolder(
        "duplicate_item",
        lambda f: append_line(f / "items.csv", "A,11,15,widgets,1,0"),
        ("items.csv", "row 4", "duplicate row", "'item_id'"),
    ),
    BadFolder(
        "duplicate_inventory_row",
        lambda f: append_line(f / "inventory.csv", "B,S2,4"),
        ("inventory.csv", "row 8", "duplicate row"),
    ),
    BadFolder(
        "unparseable_date",
        lambda f: set_cell(f / "demand.csv", 5, "ds", "2024-13-45"),
        ("demand.csv", "row 5", "'ds'", "unparseable date", "2024-13-45"),
    ),
    BadFolder(
        "unknown_item_in_demand",
        lambda f: set_cell(f / "demand.csv", 9, "item_id", "Z"),
        ("demand.csv", "row 9", "'item_id'", "unknown item", "'Z'"),
    ),
    BadFolder(
        "non_numeric_quantity",
        lambda f: set_cell(f / "demand.csv", 4, "y", "abc"),
        ("demand.csv", "row 4", "'y'", "non-numeric quantity"),
    ),
    BadFolder(
        "negative_demand",
        lambda f: set_cell(f / "demand.csv", 7, "y", "-3"),
        ("demand.csv", "row 7", "'y'", "negative quantity"),
    ),
    BadFolder(
        "negative_moq",
        lambda f: set_cell(f / "items.csv", 3, "moq", "-1"),
        ("items.csv", "row 3", "'moq'", "negative"),
    ),
    BadFolder(
        "zero_unit_cost",
        lambda f: set_cell(f / "items.csv", 2, "unit_cost", "0"),
        ("items.csv", "row 2", "'unit_cost'"),
    ),
    BadFolder(
        "bad_plan_field",
        lambda f: replace_text(f / "plan.yaml", "period_days: 7", "period_days: 0"),
        ("plan.yaml", "'period_days'"),
    ),
    BadFolder(
        "unknown_plan_field",
        lambda f: append_line(f / "plan.yaml", "horizn: 5"),
        ("plan.yaml", "'horizn'", "unknown field"),
    ),
    BadFolder(
        "lead_time_lane_not_in_network",
        lambda f: append_line(f / "lead_times.csv", "S1,S2,3"),
        ("lead_times.csv", "row 9", "not in the network", "S1 -> S2"),
    ),
    BadFolder(
        "negative_lead_time",
        lambda f: set_cell(f / "lead_times.csv", 2, "lead_time_days", "-1"),
        ("lead_times.csv", "row 2", "'lead_time_days'", "negative lead time"),
    ),
    BadFolder(
        "demand_at_dc",
        lambda f: set_cell(f / "demand.csv", 3, "location_id", "DC"),
        ("demand.csv", "row 3", "not a store", "'DC'"),
    ),
    BadFolder(
        "empty_demand",
        lambda f: (f / "demand.csv").write_text("item_id,location_id,ds,y\n", encoding="utf-8"),
        ("demand.csv", "no demand rows"),
    ),
    BadFolder(
        "store_item_without_history",
        lambda f: drop_rows(f / "demand.csv", lambda line: not line.startswith("B,S2,")),
        ("demand.csv", "item 'B' at store 'S2'", "no demand history"),
    ),
    BadFolder(
        "network_unknown_node",
        lambda f: replace_text(f / "network.yaml", "{from: DC, to: S2}", "{from: DC, to: S3}"),
        ("network.yaml", "unknown node id", "'S3'"),
    ),
    BadFolder(
        "network_yaml_syntax",
        lambda f: append_line(f / "network.yaml", "  - {from: DC, to: [S1"),
        ("network.yaml", "invalid YAML"),
    ),
    BadFolder(
        "network_period_mismatch",
        lambda f: replace_text(f / "network.yaml", "name: tiny", "name: tiny\nperiod_days: 1"),
        ("network.yaml", "'period_days'", "differs"),
    ),
    BadFolder(
        "targets_not_fill_rate",
        lambda f: replace_text(f / "targets.yaml", "fill_rate", "cycle_service_level"),
        ("targets.yaml", "'measure'", "fill_rate"),
    ),
    BadFolder(
        "targets_out_of_range",
        lambda f: replace_text(f / "targets.yaml", "0.97", "1.5"),
        ("targets.yaml", "'targets'"),
    ),
    BadFolder(
        "on_order_bad_due_date",
        lambda f: set_cell(f / "on_order.csv", 2, "due", "next week"),
        ("on_order.csv", "row 2", "'due'", "unparseable date"),
    ),
    BadFolder(
        "items_not_utf8",
        lambda f: (f / "items.csv").write_bytes(b"item_id,unit_cost\n\xff\xfe,1\n"),
        ("items.csv", "not UTF-8"),
    ),
    BadFolder(
        "inventory_is_a_folder",
        lambda f: ((f / "inventory.csv").unlink(), (f / "inventory.csv").mkdir()),
        ("inventory.csv", "is a folder, not a file"),
    ),
    BadFolder(
        "demand_neither_daily_nor_weekly",
        lambda f: drop_rows(f / "demand.csv", _every_third_day),
        ("demand.csv", "'ds'", "neither daily nor one period apart"),
    ),
]
