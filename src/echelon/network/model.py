"""The typed supply-network model.

A network is a directed acyclic graph of **nodes** (stages / stock locations) and **lanes**
(``from`` supplies ``to``). Serial, assembly (bill of materials: ``quantity`` units of the
``from`` item per unit of the ``to`` item), distribution and general mixed networks are all
expressed the same way. A node without inbound lanes must say ``external_supplier: true``: it
is replenished by an outside supplier with unlimited stock.

Units and conventions (docs/model.md has the full statement):
- costs are money per unit of the node's own item; holding cost per unit **per period**;
- ``penalty_cost`` is per unit backordered **per period** (backorder mode) or per unit lost
  (lost-sales mode);
- ``lead_time`` of a node is its replenishment lead time in periods (transport + processing):
  the default for every inbound lane, or the external supplier's lead time;
- ``capacity`` caps the quantity a node can order (start) per period; ``min_order_qty`` and
  ``lot_multiple`` round each positive order; ``fixed_order_cost`` is paid per order placed.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from echelon.network.distributions import (
    DemandDistribution,
    DeterministicLeadTime,
    LeadTimeDistribution,
)

#: sanity bounds on network numbers (a value beyond them is a typo or a hostile file, and would
#: make the simulator allocate or overflow): lead times in periods, quantities in units, money
#: per unit
MAX_LEAD_TIME_PERIODS = 10_000
MAX_QUANTITY = 1e12
MAX_MONEY = 1e12
MAX_PERIOD_DAYS = 3_660.0

_MONEY_FIELDS = ("holding_cost", "unit_value", "penalty_cost", "fixed_order_cost")
_QUANTITY_FIELDS = ("capacity", "min_order_qty", "lot_multiple", "initial_on_hand")


def _check_lead_time(lead_time: LeadTimeDistribution | None, where: str) -> None:
    if lead_time is None:
        return
    try:
        periods: float = lead_time.max_periods()
    except OverflowError:  # mean + 6 std beyond float range
        periods = math.inf
    if periods > MAX_LEAD_TIME_PERIODS:
        raise ValueError(
            f"{where} of up to {periods:,} periods is above the limit of "
            f"{MAX_LEAD_TIME_PERIODS:,} periods; check the value and its unit (periods)"
        )


class StockoutMode(StrEnum):
    """What happens to demand a node cannot ship from stock."""

    BACKORDER = "backorder"
    LOST_SALES = "lost_sales"


class ServiceMeasure(StrEnum):
    CYCLE_SERVICE_LEVEL = "cycle_service_level"
    FILL_RATE = "fill_rate"


class Rationing(StrEnum):
    """How a node that is short splits its on-hand stock among its customers."""

    PROPORTIONAL = "proportional"
    PRIORITY = "priority"


def _lead_time_shorthand(value: Any) -> Any:
    """Accept a bare number as a deterministic lead time (``lead_time: 2``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):  # YAML 1.1 reads `1e9` (no dot) as text
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, int | float):
        return {"kind": "deterministic", "value": value}
    return value


LeadTime = Annotated[
    LeadTimeDistribution,
    BeforeValidator(_lead_time_shorthand, json_schema_input_type=float | LeadTimeDistribution),
]


class ServiceTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    measure: ServiceMeasure = ServiceMeasure.CYCLE_SERVICE_LEVEL
    target: float = Field(gt=0, lt=1, description="e.g. 0.95")


class Node(BaseModel):
    """A stage / stock location holding one item."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str = Field(min_length=1)
    name: str | None = None
    holding_cost: float = Field(0.0, ge=0, description="money per unit per period")
    unit_value: float | None = Field(
        None, ge=0, description="money per unit, for inventory value (default: none reported)"
    )
    demand: DemandDistribution | None = Field(None, description="external demand per period")
    stockout: StockoutMode = StockoutMode.BACKORDER
    penalty_cost: float = Field(
        0.0, ge=0, description="per unit per period backordered, or per unit lost"
    )
    service: ServiceTarget | None = None
    lead_time: LeadTime = Field(default_factory=lambda: DeterministicLeadTime(value=0))
    external_supplier: bool = False
    capacity: float | None = Field(None, gt=0, description="max units ordered per period")
    min_order_qty: float = Field(0.0, ge=0, description="units")
    lot_multiple: float = Field(0.0, ge=0, description="units; 0 = any quantity")
    fixed_order_cost: float = Field(0.0, ge=0, description="money per order placed")
    max_service_time: float | None = Field(
        None, ge=0, description="periods; GSM bound on the committed service time"
    )
    rationing: Rationing = Rationing.PROPORTIONAL
    priority: int = Field(0, description="lower is served first under priority rationing")
    initial_on_hand: float | None = Field(None, ge=0, description="units at period 0")
    attributes: dict[str, str | float | int | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sane_numbers(self) -> Node:
        for name, limit, unit in [(f, MAX_MONEY, "money per unit") for f in _MONEY_FIELDS] + [
            (f, MAX_QUANTITY, "units") for f in _QUANTITY_FIELDS
        ]:
            value = getattr(self, name)
            if value is not None and value > limit:
                raise ValueError(f"{name} {value:g} is above the limit of {limit:g} ({unit})")
        if self.demand is not None and max(self.demand.mean(), self.demand.std()) > MAX_QUANTITY:
            raise ValueError(f"demand above the limit of {MAX_QUANTITY:g} units per period")
        _check_lead_time(self.lead_time, "lead_time")
        if self.max_service_time is not None and self.max_service_time > MAX_LEAD_TIME_PERIODS:
            raise ValueError(f"max_service_time is above {MAX_LEAD_TIME_PERIODS:,} periods")
        return self

    @model_validator(mode="after")
    def _order_rules(self) -> Node:
        if self.capacity is not None and self.min_order_qty > self.capacity:
            raise ValueError(
                f"min_order_qty {self.min_order_qty:g} exceeds capacity {self.capacity:g}; "
                "lower min_order_qty or raise capacity"
            )
        if self.capacity is not None and self.lot_multiple > self.capacity:
            raise ValueError(
                f"lot_multiple {self.lot_multiple:g} exceeds capacity {self.capacity:g}; "
                "no order could be placed"
            )
        return self

    @property
    def is_demand_node(self) -> bool:
        return self.demand is not None


class Lane(BaseModel):
    """``from`` supplies ``to``; ``quantity`` units of ``from`` make one unit of ``to``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)
    quantity: float = Field(
        1.0, gt=0, le=MAX_QUANTITY, description="units of 'from' per unit of 'to' (BOM)"
    )
    lead_time: LeadTime | None = Field(None, description="overrides the 'to' node's lead_time")

    @model_validator(mode="after")
    def _sane_lead_time(self) -> Lane:
        _check_lead_time(self.lead_time, "lead_time")
        return self


class Network(BaseModel):
    """A supply network: nodes, lanes and the length of a period."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = "network"
    description: str | None = None
    period_days: float = Field(
        1.0, gt=0, le=MAX_PERIOD_DAYS, description="length of one period in days"
    )
    currency: str = ""
    nodes: list[Node] = Field(min_length=1)
    lanes: list[Lane] = Field(default_factory=list)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def lane_lead_time(self, lane: Lane) -> LeadTimeDistribution:
        """The lead time of a lane: its own, or the ``to`` node's replenishment lead time."""
        return lane.lead_time if lane.lead_time is not None else self.node(lane.target).lead_time

    @property
    def periods_per_year(self) -> float:
        return 365.0 / self.period_days
