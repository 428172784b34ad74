"""Hostile and odd data folders (issue 19): each must fail with one located DataError.

Like :data:`bad_folders.BAD_FOLDERS`: ``mutate(folder)`` breaks a copy of the tiny folder and
``fragments`` must all appear in the one-line message. The same table runs through the loader
(tests/plan/test_hostile_folders.py) and through ``echelon plan`` (exit 2, no database, no
report).
"""

from __future__ import annotations

import os
from pathlib import Path

from bad_folders import BadFolder, replace_text, set_cell

HUGE = "1e300"


def _plan(setting: str) -> BadFolder:
    """plan.yaml with ``setting`` (``key: value``) in place of (or added to) its own."""
    key = setting.split(":")[0]
    name = f"plan_{key}_{setting.split(':', 1)[1].strip()}"

    def mutate(f: Path) -> None:
        path = f / "plan.yaml"
        lines = [ln for ln in path.read_text().splitlines() if not ln.startswith(f"{key}:")]
        path.write_text("\n".join([*lines, setting]) + "\n")

    return BadFolder(name, mutate, ("plan.yaml", f"'{key}'"))


def _cell(name: str, file: str, row: int, col: str, value: str, *fragments: str) -> BadFolder:
    return BadFolder(
        name, lambda f: set_cell(f / file, row, col, value), (file, f"row {row}", *fragments)
    )


def _bytes(file: str, old: bytes, new: bytes) -> object:
    def mutate(f: Path) -> None:
        data = (f / file).read_bytes()
        assert old in data
        (f / file).write_bytes(data.replace(old, new, 1))

    return mutate


def _link(file: str, target: str) -> object:
    def mutate(f: Path) -> None:
        (f / file).unlink(missing_ok=True)
        os.symlink(target, f / file)

    return mutate


def _loop(file: str) -> object:
    def mutate(f: Path) -> None:
        (f / file).unlink(missing_ok=True)
        os.symlink(f / "loop_b", f / file)
        os.symlink(f / file, f / "loop_b")

    return mutate


def _fifo(file: str) -> object:
    def mutate(f: Path) -> None:
        (f / file).unlink()
        os.mkfifo(f / file)

    return mutate


def _folder(file: str) -> object:
    def mutate(f: Path) -> None:
        (f / file).unlink()
        (f / file).mkdir()

    return mutate


def _rename_node(f: Path, old: str, new: str) -> None:
    replace_text(f / "network.yaml", f"id: {old}", f"id: {new}")
    replace_text(f / "network.yaml", f"to: {old}}}", f"to: {new}}}")


PLAN_CASES = [
    BadFolder(
        "plan_as_of_not_a_day",
        lambda f: replace_text(f / "plan.yaml", "as_of: 2024-04-22", "as_of: 2016-02-30"),
        ("plan.yaml", "day is out of range for month"),
    ),
    BadFolder(
        "plan_as_of_far_beyond_the_data",
        lambda f: replace_text(f / "plan.yaml", "as_of: 2024-04-22", "as_of: 9999-12-27"),
        ("plan.yaml", "'as_of'", "far beyond the demand history", "9999-12-27"),
    ),
    BadFolder(
        "plan_as_of_two_years_after_the_data",
        lambda f: replace_text(f / "plan.yaml", "as_of: 2024-04-22", "as_of: 2026-04-20"),
        ("plan.yaml", "'as_of'", "far beyond the demand history", "at most 366 days"),
    ),
    BadFolder(
        "plan_as_of_a_number",
        lambda f: replace_text(f / "plan.yaml", "as_of: 2024-04-22", "as_of: 1713744000"),
        ("plan.yaml", "'as_of'", "YYYY-MM-DD"),
    ),
    BadFolder(
        "plan_as_of_a_date_time",
        lambda f: replace_text(f / "plan.yaml", "as_of: 2024-04-22", "as_of: '2024-04-22T10:00'"),
        ("plan.yaml", "'as_of'", "YYYY-MM-DD"),
    ),
    _plan("seed: -1"),
    _plan("seed: 18446744073709551616"),
    _plan("seed: 4294967296"),
    _plan("seed: false"),
    _plan("sim_periods: 1000000000"),
    _plan("sim_reps: 100000000"),
    _plan("horizon: 1000000"),
    _plan("history_periods: 100000000"),
    _plan("holdout_periods: 1000000"),
    _plan("period_days: 1000"),
    _plan("budget: 1e300"),
    _plan("excess_days: 1e12"),
    _plan("bias_threshold: 1e9"),
    _plan("change_threshold: 1e9"),
    _plan("transfer_cost: 1e300"),
    _plan("transfer_lead_time: 1e9"),
    _plan("expedite_cost: 1e300"),
    _plan("horizon: true"),
    _plan("sim_reps: 4.0"),
    _plan("holding_rate: true"),
    _plan("default_fill_rate: '0.9'"),
    _plan("clean_outliers: 1"),
    _plan("name: 5"),
    BadFolder(
        "plan_simulation_too_large",
        lambda f: (
            replace_text(f / "plan.yaml", "sim_periods: 104", "sim_periods: 10000"),
            replace_text(f / "plan.yaml", "sim_reps: 4", "sim_reps: 1000"),
        ),
        ("plan.yaml", "sim_periods × sim_reps"),
    ),
    BadFolder(
        "plan_nul_byte",
        _bytes("plan.yaml", b"name: tiny", b"name: ti\0ny"),
        ("plan.yaml",),
    ),
]

DATE_CASES = [
    _cell("demand_partial_date", "demand.csv", 5, "ds", "2024-03", "'ds'", "unparseable date"),
    _cell("demand_year_only", "demand.csv", 5, "ds", "2024", "'ds'", "unparseable date"),
    _cell("demand_compact_date", "demand.csv", 5, "ds", "20240110", "'ds'", "unparseable date"),
    _cell("demand_slashed_date", "demand.csv", 5, "ds", "2024/01/10", "'ds'", "unparseable date"),
    _cell("demand_day_first", "demand.csv", 5, "ds", "10-01-2024", "'ds'", "unparseable date"),
    _cell("demand_feb_30", "demand.csv", 5, "ds", "2024-02-30", "'ds'", "unparseable date"),
    _cell(
        "demand_time_zone_among_plain_dates",
        "demand.csv",
        5,
        "ds",
        "2024-01-03T00:00:00+02:00",
        "'ds'",
        "no time zone",
    ),
    _cell("demand_utc_suffix", "demand.csv", 6, "ds", "2024-01-03T00:00Z", "'ds'", "unparseable"),
    _cell("demand_year_1500", "demand.csv", 5, "ds", "1500-01-03", "'ds'", "unparseable date"),
    _cell("on_order_partial_date", "on_order.csv", 2, "due", "2024-05", "'due'", "unparseable"),
    _cell("on_order_due_year_9999", "on_order.csv", 2, "due", "9999-12-31", "'due'", "unparseable"),
]

CELL_CASES = [
    BadFolder(
        "demand_nul_in_an_id",
        _bytes("demand.csv", b"\nB,S1,", b"\nB\0X,S1,"),
        ("demand.csv", "NUL byte", "row "),
    ),
    BadFolder("items_nul_in_an_id", _bytes("items.csv", b"\nB,", b"\nB\0X,"), ("items.csv", "NUL")),
    BadFolder(
        "inventory_nul_in_a_number",
        _bytes("inventory.csv", b"A,S1,60", b"A,S1,6\x000"),
        ("inventory.csv", "NUL byte", "row 3"),
    ),
    _cell("item_id_unit_separator", "items.csv", 3, "item_id", "B\x1fX", "control character"),
    _cell("item_id_escape_sequence", "items.csv", 3, "item_id", "B\x1b[31m", "control character"),
    _cell("item_id_tab_inside", "items.csv", 2, "item_id", "A\tB", "control character"),
    _cell("item_id_c1_control", "items.csv", 2, "item_id", "A\x9b", "control character"),
    _cell("demand_location_separator", "demand.csv", 4, "location_id", "S1\x1fX", "control"),
    _cell("inventory_item_bell", "inventory.csv", 2, "item_id", "A\x07", "control character"),
    _cell("lead_time_to_id_control", "lead_times.csv", 2, "to_id", "DC\x1f", "control"),
    BadFolder(
        "network_node_unit_separator",
        lambda f: _rename_node(f, "S2", '"S2\\x1fX"'),
        ("network.yaml", "control character in a node id"),
    ),
    BadFolder(
        "network_node_escape",
        lambda f: _rename_node(f, "S2", '"S2\\e[2J"'),
        ("network.yaml", "control character in a node id"),
    ),
    BadFolder(
        "network_node_named_external",
        lambda f: _rename_node(f, "S2", "external"),
        ("network.yaml", "reserved node id", "'external'"),
    ),
]

NUMBER_CASES = [
    _cell("lead_time_days_1e9", "lead_times.csv", 2, "lead_time_days", "1e9", "too large"),
    _cell(
        "lead_time_days_beyond_the_simulation",
        "lead_times.csv",
        2,
        "lead_time_days",
        "1000",
        "longer than the simulated horizon",
    ),
    BadFolder(
        "network_lead_time_500_periods",
        lambda f: replace_text(f / "network.yaml", "lead_time: 2", "lead_time: 500"),
        ("network.yaml", "node 'DC'", "longer than the simulated horizon", "500 periods"),
    ),
    BadFolder(
        "network_lane_lead_time_500_periods",
        lambda f: replace_text(
            f / "network.yaml", "{from: DC, to: S1}", "{from: DC, to: S1, lead_time: 500}"
        ),
        ("network.yaml", "lane DC -> S1", "longer than the simulated horizon"),
    ),
    BadFolder(
        "network_lead_time_infinite",
        lambda f: replace_text(f / "network.yaml", "lead_time: 2", "lead_time: .inf"),
        ("network.yaml", "lead_time"),
    ),
    _cell("unit_cost_1e308", "items.csv", 2, "unit_cost", "1e308", "'unit_cost'", "too large"),
    _cell("price_1e308", "items.csv", 2, "price", "1e308", "'price'", "too large"),
    _cell("moq_1e15", "items.csv", 3, "moq", "1e15", "'moq'", "too large"),
    _cell("pack_size_1e15", "items.csv", 3, "pack_size", "1e15", "'pack_size'", "too large"),
    _cell("demand_1e300", "demand.csv", 4, "y", HUGE, "'y'", "too large"),
    _cell("demand_overflows_to_inf", "demand.csv", 4, "y", "1e400", "'y'", "non-numeric"),
    _cell("on_hand_1e300", "inventory.csv", 3, "on_hand", HUGE, "'on_hand'", "too large"),
    _cell("on_order_1e300", "on_order.csv", 2, "quantity", HUGE, "'quantity'", "too large"),
    _cell("unit_cost_nan", "items.csv", 2, "unit_cost", "nan", "'unit_cost'", "non-numeric"),
]

FILE_CASES = [
    BadFolder(
        "items_link_to_dev_zero",
        _link("items.csv", "/dev/zero"),
        ("items.csv", "not a regular"),
    ),
    BadFolder(
        "demand_link_to_dev_null",
        _link("demand.csv", "/dev/null"),
        ("demand.csv", "regular"),
    ),
    BadFolder(
        "targets_fifo",
        _fifo("targets.yaml"),
        ("targets.yaml", "not a regular file", "FIFO"),
    ),
    BadFolder(
        "plan_fifo",
        _fifo("plan.yaml"),
        ("plan.yaml", "not a regular file"),
    ),
    BadFolder(
        "inventory_fifo",
        _fifo("inventory.csv"),
        ("inventory.csv", "not a regular file"),
    ),
    BadFolder(
        "on_order_dangling_link",
        _link("on_order.csv", "/nonexistent/x.csv"),
        ("on_order.csv", "broken link"),
    ),
    BadFolder(
        "lead_times_dangling_link",
        _link("lead_times.csv", "gone.csv"),
        ("lead_times.csv", "broken link"),
    ),
    BadFolder(
        "targets_link_loop",
        _loop("targets.yaml"),
        ("targets.yaml", "cannot read the file"),
    ),
    BadFolder(
        "plan_link_loop",
        _loop("plan.yaml"),
        ("plan.yaml", "cannot read the file"),
    ),
    BadFolder(
        "network_dangling_link",
        _link("network.yaml", "nowhere.yaml"),
        ("network.yaml", "broken link"),
    ),
    BadFolder(
        "on_order_is_a_folder",
        _folder("on_order.csv"),
        ("on_order.csv", "is a folder"),
    ),
    BadFolder(
        "plan_is_a_folder",
        _folder("plan.yaml"),
        ("plan.yaml", "is a folder"),
    ),
]

HOSTILE_FOLDERS: list[BadFolder] = [
    *PLAN_CASES,
    *DATE_CASES,
    *CELL_CASES,
    *NUMBER_CASES,
    *FILE_CASES,
]
