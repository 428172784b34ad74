"""The plan's context: a validated data folder as typed pieces, built once by the loader.

Every stage of the plan takes the :class:`PlanContext` (or the typed pieces it needs):

- ``calendar`` — plan date, period grid (:mod:`echelon.plan.calendar`);
- ``items`` — the item master as :class:`ItemRecord` per item id (units, money);
- ``network``, ``stores`` (nodes without outbound lanes, in file order), ``tiers`` (0 =
  stores, 1 + the highest tier a node supplies), ``suppliers`` (location → the location that
  replenishes it, None = the external supplier);
- ``stock`` — today's :class:`Position` per item × location (on hand + on order − backorders)
  and the open orders grouped by item (:class:`StockSnapshot`);
- ``demand`` (the validated rows) and ``history`` (demand per period, ``calendar.bucket``);
- ``lead_times`` (observations), ``targets`` (per segment), ``findings`` (data quality),
  ``input_hash`` (SHA-256 of the input files, for idempotence);
- ``pinned`` — item × store → the forecast model the plan must use (the registered champion of
  its segment, :func:`echelon.monitor.challengers.pinned_champions`; set by
  :func:`echelon.plan.service.plan_and_store`, empty: the backtest chooses).

:func:`build_context` is the one constructor (the loader calls it after validation; tests that
build a plan by hand call it too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from echelon.network.graph import tiers as graph_tiers
from echelon.plan.calendar import PlanCalendar, plan_date
from echelon.plan.model import PlanConfig, PlanException

if TYPE_CHECKING:
    from echelon.network.model import Network
    from echelon.optimize.segments import SegmentTargets

EXTERNAL = "external"  # the source name of the external supplier (keys, lead_times.csv)


@dataclass(frozen=True)
class ItemRecord:
    """One row of the item master: money per unit, units per pack and per minimum order."""

    item_id: str
    unit_cost: float  # money per unit (> 0)
    price: float  # money per unit (the unit cost where items.csv gives none)
    category: str = ""
    pack_size: float = 1.0  # units per pack (≥ 1 after validation; orders are whole packs)
    moq: float = 0.0  # minimum order quantity, units

    @property
    def shortage_cost(self) -> float:
        """Money per unit short: the lost margin ``price − unit_cost``, at least 1% of the
        unit cost so that it stays positive."""
        return max(self.price - self.unit_cost, 0.01 * self.unit_cost, 1e-6)

    @property
    def sale_value(self) -> float:
        """Money per unit sold (the price, or the unit cost when the price is 0)."""
        return self.price or self.unit_cost


@dataclass(frozen=True)
class Position:
    """Stock of one item at one location today, units."""

    on_hand: float = 0.0
    on_order: float = 0.0  # every open order to the location, in transit included
    backorders: float = 0.0

    @property
    def inventory_position(self) -> float:
        """On hand + on order − backorders (units)."""
        return self.on_hand + self.on_order - self.backorders

    @property
    def available(self) -> float:
        """What can be shipped now: on hand − backorders (units; negative = owed)."""
        return self.on_hand - self.backorders

    def plus_on_order(self, units: float) -> Position:
        """This position with ``units`` more on order (a transfer in: +, out: −)."""
        return Position(self.on_hand, self.on_order + units, self.backorders)


@dataclass(frozen=True)
class OpenOrder:
    """One open order (on_order.csv row): units due at a location on a date."""

    location: str
    quantity: float  # units
    due: date


@dataclass
class StockSnapshot:
    """Today's stock: positions per (item, location) and open orders per item."""

    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    open_orders: dict[str, list[OpenOrder]] = field(default_factory=dict)

    def position(self, item: str, location: str) -> Position:
        """The position of ``item`` at ``location`` (all zero when the snapshot has none)."""
        return self.positions.get((item, location), Position())

    @classmethod
    def from_frames(cls, inventory: pd.DataFrame, on_order: pd.DataFrame | None) -> StockSnapshot:
        """From the inventory table (item_id, location_id, on_hand, optional backorders) and
        the open orders (item_id, location_id, quantity, due), grouped once."""
        snap = cls()
        bo = inventory["backorders"] if "backorders" in inventory.columns else None
        for k, (item, loc, on_hand) in enumerate(
            zip(inventory["item_id"], inventory["location_id"], inventory["on_hand"], strict=True)
        ):
            back = 0.0 if bo is None else float(bo.iloc[k])
            snap.positions[(str(item), str(loc))] = Position(float(on_hand), 0.0, back)
        if on_order is None or on_order.empty:
            return snap
        sums = on_order.groupby(["item_id", "location_id"], sort=True)["quantity"].sum()
        for (item, loc), qty in sums.items():  # type: ignore[misc]
            key = (str(item), str(loc))
            snap.positions[key] = snap.position(*key).plus_on_order(float(qty))
        for item, rows in on_order.groupby("item_id", sort=True):
            snap.open_orders[str(item)] = [
                OpenOrder(str(loc), float(q), pd.Timestamp(due).date())
                for loc, q, due in zip(
                    rows["location_id"], rows["quantity"], rows["due"], strict=True
                )
            ]
        return snap


@dataclass
class PlanContext:
    """A validated data folder (module doc). Built by :func:`build_context`."""

    folder: Path
    config: PlanConfig  # with ``as_of`` set to the calendar's plan date
    calendar: PlanCalendar
    network: Network
    items: dict[str, ItemRecord]  # sorted by item id
    stores: list[str]
    tiers: dict[str, int]
    suppliers: dict[str, str | None]
    stock: StockSnapshot
    demand: pd.DataFrame  # item_id, location_id, ds, y: the validated rows (daily or periods)
    history: pd.DataFrame  # item_id, location_id, ds (period start), y: demand per period
    lead_times: pd.DataFrame | None  # from_id, to_id, lead_time_days (observations)
    targets: SegmentTargets | None
    input_hash: str
    findings: list[PlanException] = field(default_factory=list)
    # (item, store) → the forecast model it must use (the registered champion); empty: free
    pinned: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        return self.calendar.as_of

    @property
    def item_ids(self) -> list[str]:
        return list(self.items)

    def capacities(self) -> dict[str, float]:
        """Location → capacity (units per period, all items) where the network sets one."""
        return {n.id: float(n.capacity) for n in self.network.nodes if n.capacity is not None}


def item_records(items: pd.DataFrame) -> dict[str, ItemRecord]:
    """The item master (validated frame) as records by item id, sorted by id."""
    out: dict[str, ItemRecord] = {}
    for row in items.sort_values("item_id", kind="stable").to_dict("records"):
        out[str(row["item_id"])] = ItemRecord(
            item_id=str(row["item_id"]),
            unit_cost=_number(row.get("unit_cost")),
            price=_number(row.get("price")) or _number(row.get("unit_cost")),
            category=str(row.get("category") or ""),
            pack_size=_number(row.get("pack_size")) or 1.0,
            moq=_number(row.get("moq")),
        )
    return out


def _number(x: object) -> float:
    """A finite non-negative number from a validated cell (missing → 0)."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) and v > 0 else 0.0


def store_ids(network: Network) -> list[str]:
    """The stores: nodes without outbound lanes (they face the demand), in file order."""
    sources = {lane.source for lane in network.lanes}
    return [n.id for n in network.nodes if n.id not in sources]


def network_suppliers(network: Network) -> dict[str, str | None]:
    """Location → the source of its first inbound lane (None: replenished externally)."""
    out: dict[str, str | None] = {n.id: None for n in network.nodes}
    for lane in network.lanes:
        if out[lane.target] is None:
            out[lane.target] = lane.source
    return out


def build_context(
    *,
    config: PlanConfig,
    network: Network,
    items: pd.DataFrame | Mapping[str, ItemRecord],
    inventory: pd.DataFrame,
    demand: pd.DataFrame | None = None,
    on_order: pd.DataFrame | None = None,
    lead_times: pd.DataFrame | None = None,
    targets: SegmentTargets | None = None,
    input_hash: str = "",
    findings: Iterable[PlanException] = (),
    folder: Path | str = ".",
    calendar: PlanCalendar | None = None,
) -> PlanContext:
    """The one constructor of a :class:`PlanContext` (module doc).

    ``demand``: validated rows (None: no history, then ``config.as_of`` is required);
    ``calendar``: the loader's (default: :func:`echelon.plan.calendar.plan_date` on the last
    demand date and the smallest gap between distinct dates)."""
    if demand is None:
        if config.as_of is None:
            raise ValueError("a context without demand needs config.as_of")
        demand = pd.DataFrame(
            {
                "item_id": pd.Series(dtype=object),
                "location_id": pd.Series(dtype=object),
                "ds": pd.Series(dtype="datetime64[ns]"),
                "y": pd.Series(dtype=float),
            }
        )
    if calendar is None:
        step = _step(demand)
        last = pd.Timestamp(demand["ds"].max()).date() if len(demand) else config.as_of
        assert last is not None
        calendar = PlanCalendar(plan_date(config.as_of, last, step), config.period_days, step)
    records = dict(items) if isinstance(items, Mapping) else item_records(items)
    tiers = graph_tiers(network)
    return PlanContext(
        folder=Path(folder),
        config=config.model_copy(update={"as_of": calendar.as_of}),
        calendar=calendar,
        network=network,
        items=dict(sorted(records.items())),
        stores=store_ids(network),
        tiers=tiers,
        suppliers=network_suppliers(network),
        stock=StockSnapshot.from_frames(inventory, on_order),
        demand=demand,
        history=calendar.bucket(demand),
        lead_times=lead_times,
        targets=targets,
        input_hash=input_hash,
        findings=list(findings),
    )


def _step(demand: pd.DataFrame) -> int:
    """The spacing of the demand rows in days: the smallest gap between distinct dates."""
    from echelon.plan.tables import step_days

    return step_days(demand["ds"]) if len(demand) else 1
