"""Loading and validating plan data folders; planning periods; the M5 demo folder."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_folders import BAD_FOLDERS, BadFolder, drop_rows, set_cell, write_tiny_folder
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.errors import DataError, InputError
from echelon.network.model import Network, Node
from echelon.plan.context import (
    EXTERNAL,
    OpenOrder,
    PlanContext,
    Position,
    build_context,
    store_ids,
)
from echelon.plan.data import load_context
from echelon.plan.demo_data import AS_OF, HISTORY_WEEKS, HOLDOUT_WEEKS, write_demo_folder
from echelon.plan.model import ExceptionKind, PlanConfig, Severity

ROOT = Path(__file__).resolve().parents[2]
SHARED_M5 = ROOT.parent / "shared" / "data" / "m5_store_dept_daily.csv.gz"
BUNDLED_M5 = ROOT / "src" / "echelon" / "data" / "m5" / "m5_store_dept_daily.csv.gz"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ----------------------------------------------------------------------------- good folders
def test_tiny_folder_loads_with_string_ids_and_datetime_dates(tiny_data: PlanContext) -> None:
    d = tiny_data
    assert d.findings == []
    assert d.config.as_of == date(2024, 4, 22)
    assert store_ids(d.network) == ["S1", "S2"]
    assert d.network.period_days == 7
    assert list(d.items) == ["A", "B"]
    assert d.demand["ds"].dtype == "datetime64[ns]"
    assert d.demand["item_id"].map(type).eq(str).all()
    assert len(d.demand) == 4 * 16 * 7
    assert d.demand["ds"].max() == pd.Timestamp("2024-04-21")
    assert d.stock.position("A", "DC").on_hand == 300
    assert d.stock.open_orders["A"][0] == OpenOrder("DC", 150.0, date(2024, 4, 29))
    assert d.stock.position("A", "DC").inventory_position == 300 + 150
    assert d.lead_times is not None and set(d.lead_times["from_id"]) == {EXTERNAL, "DC"}
    assert d.targets is not None and d.targets.target_for("AX") == 0.97
    assert len(d.input_hash) == 64


def test_optional_files_may_be_absent(tiny_folder: Path) -> None:
    for name in ("on_order.csv", "lead_times.csv", "targets.yaml", "plan.yaml"):
        (tiny_folder / name).unlink()
    d = load_context(tiny_folder)
    assert d.stock.open_orders == {}
    assert d.lead_times is None and d.targets is None
    assert d.config.period_days == PlanConfig().period_days
    assert d.as_of == date(2024, 4, 22)  # the day after the last demand date


def test_header_case_and_blanks_are_ignored(tiny_folder: Path) -> None:
    path = tiny_folder / "inventory.csv"
    header = " Item_ID , LOCATION_ID,on_hand"
    path.write_text(path.read_text().replace("item_id,location_id,on_hand", header))
    stock = load_context(tiny_folder).stock
    assert sum(p.on_hand for p in stock.positions.values()) == 505


def test_loading_writes_nothing_into_the_folder(tiny_folder: Path) -> None:
    before = _snapshot(tiny_folder)
    load_context(tiny_folder)
    assert _snapshot(tiny_folder) == before
    assert sorted(p.name for p in tiny_folder.iterdir()) == sorted(before)


# ----------------------------------------------------------------------------- bad folders
@pytest.mark.parametrize("case", BAD_FOLDERS, ids=[c.name for c in BAD_FOLDERS])
def test_bad_folder_raises_one_line_data_error_naming_file_and_place(
    case: BadFolder, tmp_path: Path
) -> None:
    folder = write_tiny_folder(tmp_path / case.name)
    case.mutate(folder)
    before = _snapshot(folder) if folder.is_dir() else None
    with pytest.raises(DataError) as info:
        load_context(folder)
    message = str(info.value)
    assert "\n" not in message
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(info.value, InputError) and info.value.fix
    if before is not None:
        assert _snapshot(folder) == before


def test_bad_folder_table_covers_at_least_fourteen_distinct_problems() -> None:
    assert len({c.name for c in BAD_FOLDERS}) == len(BAD_FOLDERS) >= 14


# ----------------------------------------------------------------------------- findings
def _kinds(d: PlanContext) -> list[tuple[Severity, str | None, str | None]]:
    assert all(f.kind is ExceptionKind.DATA_QUALITY for f in d.findings)
    return [(f.severity, f.item, f.location) for f in d.findings]


def test_gap_in_daily_series_is_filled_with_zero_and_reported(tiny_folder: Path) -> None:
    drop_rows(tiny_folder / "demand.csv", lambda line: not line.startswith(("A,S2,2024-02-0",)))
    d = load_context(tiny_folder)
    assert _kinds(d) == [(Severity.MEDIUM, "A", "S2")]  # 9 of 112 days: more than 5 %
    assert d.findings[0].value == 9  # 2024-02-01 ... 2024-02-09
    series = d.demand[(d.demand["item_id"] == "A") & (d.demand["location_id"] == "S2")]
    assert len(series) == 16 * 7
    gap = series[(series["ds"] >= "2024-02-01") & (series["ds"] <= "2024-02-09")]
    assert len(gap) == 9 and gap["y"].eq(0).all()


def test_all_zero_history_is_a_finding(tiny_folder: Path) -> None:
    path = tiny_folder / "demand.csv"
    lines = path.read_text().splitlines()
    lines = [",".join([*ln.split(",")[:3], "0"]) if ln.startswith("B,S2,") else ln for ln in lines]
    path.write_text("\n".join(lines) + "\n")
    d = load_context(tiny_folder)
    assert _kinds(d) == [(Severity.MEDIUM, "B", "S2")] and "no demand" in d.findings[0].message


def test_missing_inventory_row_means_zero_on_hand_and_a_finding(tiny_folder: Path) -> None:
    drop_rows(tiny_folder / "inventory.csv", lambda line: not line.startswith("B,S1,"))
    d = load_context(tiny_folder)
    assert _kinds(d) == [(Severity.MEDIUM, "B", "S1")]
    assert d.stock.position("B", "S1") == Position()
    assert len(d.stock.positions) == 6


def test_overdue_order_is_moved_to_the_plan_date(tiny_folder: Path) -> None:
    set_cell(tiny_folder / "on_order.csv", 2, "due", "2024-04-15")
    d = load_context(tiny_folder)
    assert _kinds(d) == [(Severity.MEDIUM, "A", "DC")]
    assert d.stock.open_orders["A"][0].due == date(2024, 4, 22)


def test_demand_on_or_after_the_plan_date_is_ignored(tiny_folder: Path) -> None:
    path = tiny_folder / "plan.yaml"
    path.write_text(path.read_text().replace("as_of: 2024-04-22", "as_of: 2024-04-15"))
    d = load_context(tiny_folder)
    assert [f.value for f in d.findings] == [4 * 7]  # 7 days × 4 series
    assert d.demand["ds"].max() == pd.Timestamp("2024-04-14")
    assert d.as_of == date(2024, 4, 15)


def test_plan_date_after_the_history_counts_the_missing_days_as_zero(tiny_folder: Path) -> None:
    path = tiny_folder / "plan.yaml"
    path.write_text(path.read_text().replace("as_of: 2024-04-22", "as_of: 2024-04-25"))
    d = load_context(tiny_folder)
    assert _kinds(d) == [(Severity.HIGH, None, None)] and d.findings[0].value == 3
    assert d.demand["ds"].max() == pd.Timestamp("2024-04-24")


@pytest.mark.parametrize(("first_day", "flagged"), [("2024-01-29", False), ("2024-02-05", True)])
def test_fewer_than_eight_periods_before_the_holdout_is_a_finding(
    tiny_folder: Path, first_day: str, flagged: bool
) -> None:
    # plan date 2024-04-22, 4 periods held out: 12 weeks leave 8 to fit, 11 weeks leave 7
    drop_rows(tiny_folder / "demand.csv", lambda line: line.split(",")[2] >= first_day)
    d = load_context(tiny_folder)
    assert _kinds(d) == ([(Severity.HIGH, None, None)] if flagged else [])
    if flagged:
        assert d.findings[0].value == 11


# ----------------------------------------------------------------------------- input hash
def test_input_hash_depends_on_input_bytes_only(tiny_folder: Path, tmp_path: Path) -> None:
    h = load_context(tiny_folder).input_hash
    copy = shutil.copytree(tiny_folder, tmp_path / "elsewhere")
    (copy / "notes.txt").write_text("not an input file")
    assert load_context(copy).input_hash == h
    set_cell(copy / "inventory.csv", 2, "on_hand", "301")
    assert load_context(copy).input_hash != h
    (tiny_folder / "targets.yaml").unlink()
    assert load_context(tiny_folder).input_hash != h


# ----------------------------------------------------------------------------- periods
def test_period_demand_weeks_end_the_day_before_the_plan_date(tiny_data: PlanContext) -> None:
    p = tiny_data.history
    assert list(p.columns) == ["item_id", "location_id", "ds", "y"]
    assert p["ds"].dtype == "datetime64[ns]"
    assert p["ds"].max() == pd.Timestamp("2024-04-15")  # Monday; ends Sunday 04-21
    assert p.groupby(["item_id", "location_id"]).size().eq(16).all()
    d = tiny_data.demand
    last = d[(d["item_id"] == "B") & (d["location_id"] == "S1") & (d["ds"] >= "2024-04-15")]
    got = p[(p["item_id"] == "B") & (p["location_id"] == "S1")]["y"].iloc[-1]
    assert got == last["y"].sum()
    assert len(tiny_data.calendar.bucket(tiny_data.demand, periods=4)) == 4 * 4


def test_period_demand_drops_an_incomplete_first_period(tiny_folder: Path) -> None:
    path = tiny_folder / "plan.yaml"
    path.write_text(path.read_text().replace("as_of: 2024-04-22", "as_of: 2024-04-19"))
    d = load_context(tiny_folder)  # days 2024-01-01 .. 2024-04-18 = 109 days = 15 weeks + 4
    p = d.history  # the production path: what the forecasts are fitted on
    assert p["ds"].min() == pd.Timestamp("2024-01-05")
    assert p["ds"].max() == pd.Timestamp("2024-04-12")
    kept = d.demand[d.demand["ds"] >= "2024-01-05"]
    assert p["y"].sum() == kept["y"].sum()


def test_per_period_demand_loads_and_keeps_its_periods(tiny_folder: Path) -> None:
    daily = load_context(tiny_folder)
    weekly = daily.history
    rows = ["item_id,location_id,ds,y"] + [
        f"{r.item_id},{r.location_id},{r.ds.date()},{r.y:g}" for r in weekly.itertuples()
    ]
    (tiny_folder / "demand.csv").write_text("\n".join(rows) + "\n")
    d = load_context(tiny_folder)
    assert d.findings == [] and d.as_of == date(2024, 4, 22)
    pd.testing.assert_frame_equal(d.history, weekly)


def _hand_data(y: np.ndarray, as_of: date, period_days: int) -> PlanContext:
    """One daily series of ``y`` ending the day before ``as_of`` (a context built by hand)."""
    ds = pd.date_range(end=pd.Timestamp(as_of) - pd.Timedelta(days=1), periods=len(y), freq="D")
    demand = pd.DataFrame({"item_id": "A", "location_id": "S1", "ds": ds, "y": y.astype(float)})
    return build_context(
        config=PlanConfig(as_of=as_of, period_days=period_days),
        network=Network(nodes=[Node(id="S1", external_supplier=True)]),
        items=pd.DataFrame({"item_id": ["A"], "unit_cost": [1.0]}),
        demand=demand,
        inventory=pd.DataFrame({"item_id": ["A"], "location_id": ["S1"], "on_hand": [0.0]}),
    )


@settings(max_examples=40, deadline=None)
@given(
    y=st.lists(st.integers(0, 1000), min_size=1, max_size=60),
    offset=st.integers(0, 6),
    period_days=st.integers(1, 10),
)
def test_period_demand_conserves_units_of_complete_periods(
    y: list[int], offset: int, period_days: int
) -> None:
    as_of = date(2024, 1, 1) + timedelta(days=offset)
    data = _hand_data(np.array(y), as_of, period_days)
    p = data.history
    full = len(y) // period_days
    assert len(p) == full
    assert p["y"].sum() == sum(y[len(y) - full * period_days :])
    back = (pd.Timestamp(as_of) - p["ds"]).dt.days
    assert back.mod(period_days).eq(0).all() and (full == 0 or back.min() == period_days)


# ----------------------------------------------------------------------------- demo folder
def test_demo_folder_loads_clean_with_the_documented_shape(demo_data: PlanContext) -> None:
    d = demo_data
    assert d.findings == []
    assert d.as_of == AS_OF == date(2016, 4, 25)
    assert len(d.network.nodes) == 14 and len(store_ids(d.network)) == 10
    assert list(d.items) == [
        "FOODS_1", "FOODS_2", "FOODS_3", "HOBBIES_1", "HOBBIES_2", "HOUSEHOLD_1", "HOUSEHOLD_2"
    ]  # fmt: skip
    assert len(d.demand) == 70 * (HISTORY_WEEKS + HOLDOUT_WEEKS) * 7
    assert len(d.history) == 70 * (HISTORY_WEEKS + HOLDOUT_WEEKS)
    assert all(r.unit_cost < r.price for r in d.items.values())
    assert len(d.stock.positions) == 7 * 14
    assert all(p.on_hand >= 0 for p in d.stock.positions.values())
    orders = [o for rows in d.stock.open_orders.values() for o in rows]
    assert orders and all(o.due >= AS_OF and o.quantity > 0 for o in orders)
    assert d.targets is not None and d.targets.target_for("AX") == 0.98
    assert d.lead_times is not None
    supplier = d.lead_times[d.lead_times["from_id"] == EXTERNAL]["lead_time_days"]
    assert 14 <= supplier.mean() <= 22  # drawn from N(18, 3) days


def test_demo_demand_equals_the_m5_source(demo_data: PlanContext) -> None:
    if not SHARED_M5.exists():
        pytest.skip("shared M5 data not available")
    with gzip.open(SHARED_M5, "rt") as fh:
        m5 = pd.read_csv(fh, usecols=["store_id", "dept_id", "ds", "y"], parse_dates=["ds"])
    window = m5[(m5["ds"] >= demo_data.demand["ds"].min()) & (m5["ds"] < pd.Timestamp(AS_OF))]
    assert window["y"].sum() == demo_data.demand["y"].sum()
    ca3 = window[(window["store_id"] == "CA_3") & (window["dept_id"] == "FOODS_3")]["y"].sum()
    d = demo_data.demand
    assert d[(d["location_id"] == "CA_3") & (d["item_id"] == "FOODS_3")]["y"].sum() == ca3


def test_bundled_m5_file_is_the_shared_file() -> None:
    if not SHARED_M5.exists():
        pytest.skip("shared M5 data not available")
    assert BUNDLED_M5.read_bytes() == SHARED_M5.read_bytes()


def test_demo_snapshot_is_reproducible_by_seed(demo_folder: Path, tmp_path: Path) -> None:
    again = _snapshot(write_demo_folder(tmp_path / "same", seed=0))
    assert again == _snapshot(demo_folder)
    other = _snapshot(write_demo_folder(tmp_path / "other", seed=1))
    assert other["demand.csv"] == again["demand.csv"]
    assert other["lead_times.csv"] != again["lead_times.csv"]
    assert sum(len(b) for b in again.values()) < 3_000_000


def test_demo_current_policy_holds_about_its_cover_at_the_stores(demo_data: PlanContext) -> None:
    recent = demo_data.calendar.bucket(demo_data.demand, periods=8)
    weekly = recent.groupby(["item_id", "location_id"])["y"].mean()
    on_hand = [demo_data.stock.position(str(i), str(loc)).on_hand for i, loc in weekly.index]
    cover = np.array(on_hand) / weekly.to_numpy()
    # order up to 3 weeks of sales at the end of a week, then one week of sales and a receipt:
    # between 1 and 3 weeks on hand at the snapshot
    assert np.all((cover > 1.0) & (cover < 3.0))


def test_backorders_are_read_and_lower_the_inventory_position(tiny_folder: Path) -> None:
    path = tiny_folder / "inventory.csv"
    lines = path.read_text().splitlines()
    rows = [lines[0] + ",backorders"] + [
        line + (",12" if line.startswith("A,S1,") else ",") for line in lines[1:]
    ]
    path.write_text("\n".join(rows) + "\n")
    d = load_context(tiny_folder)
    pos = d.stock.position("A", "S1")
    assert pos.backorders == 12 and pos.inventory_position == pos.on_hand + pos.on_order - 12
    assert d.stock.position("B", "S1").backorders == 0  # a blank cell owes nothing


def test_negative_backorders_are_refused(tiny_folder: Path) -> None:
    path = tiny_folder / "inventory.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",backorders"] + [f"{r},-1" for r in lines[1:]]) + "\n")
    with pytest.raises(DataError, match="backorders"):
        load_context(tiny_folder)
