"""Plan contexts built by hand for the stage tests (orders, rebalancing, exceptions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from echelon.network.model import Network, Node
from echelon.plan.context import PlanContext, build_context
from echelon.plan.model import PlanConfig, PlanException

AS_OF = date(2026, 1, 5)
NO_ORDERS = pd.DataFrame({"item_id": [], "location_id": [], "quantity": [], "due": []})


def standalone(locations: Iterable[str]) -> Network:
    """Every location replenished by an external supplier (no internal suppliers)."""
    return Network(name="standalone", nodes=[Node(id=n, external_supplier=True) for n in locations])


def context(
    network: Network,
    items: pd.DataFrame,
    inventory: pd.DataFrame,
    on_order: pd.DataFrame | None = None,
    *,
    config: PlanConfig | None = None,
    findings: Iterable[PlanException] = (),
) -> PlanContext:
    """A context of the given tables, planned as of :data:`AS_OF` (no demand history)."""
    cfg = (config or PlanConfig()).model_copy(update={"as_of": AS_OF})
    return build_context(
        config=cfg,
        network=network,
        items=items,
        inventory=inventory,
        on_order=NO_ORDERS if on_order is None else on_order,
        findings=findings,
    )
