"""What the report's tiles and tables show, computed from a :class:`PlanResult` (no HTML here).

Conventions: money in the run's currency; a saving is a fraction of the single-echelon value
(positive = MEIO holds less); fill rates and service levels are fractions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from echelon.plan.model import (
    Kpis,
    Placement,
    PlanException,
    PlanResult,
    PolicyKpis,
    PolicyName,
    exception_order,
    inventory_saving,
)
from echelon.report import formatting as f

MEIO, SINGLE, CURRENT = PolicyName.MEIO, PolicyName.SINGLE_ECHELON, PolicyName.CURRENT


@dataclass
class Tile:
    """One KPI tile: the MEIO value large, the baselines below it."""

    label: str
    main: str
    others: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    good: bool | None = None  # colours the tile: True green, False red, None neutral


@dataclass
class StoreRow:
    """MEIO vs single-echelon (and the current policy) at one store, all items."""

    store: str
    meio: Kpis
    single: Kpis
    current: Kpis | None
    saving: float | None  # 1 − MEIO value / single-echelon value


def policies(result: PlanResult) -> dict[PolicyName, PolicyKpis]:
    """The run's policies by name."""
    return {k.policy: k for k in result.kpis}


def kpi_tiles(result: PlanResult) -> list[Tile]:
    """Tiles for inventory value, fill rate, cycle service level, turns, days of supply, the
    saving and whether the service target is met."""
    pol = policies(result)
    cur = result.currency
    tiles: list[Tile] = []
    metrics: list[tuple[str, str, Any]] = [
        (f"Inventory value ({cur})", "inventory_value", f.money),
        ("Fill rate", "fill_rate", f.pct),
        ("Cycle service level", "cycle_service_level", f.pct),
        ("Inventory turns", "turns", f.turns),
        ("Days of supply", "days_of_supply", f.days),
    ]
    meio = pol.get(MEIO)
    for label, attr, fmt in metrics:
        main = fmt(getattr(meio.network, attr)) if meio else f.DASH
        note = "MEIO, projected"
        if attr == "fill_rate" and meio is not None and meio.network.fill_rate_ci is not None:
            note += f" (95% CI ± {f.ci_points(meio.network.fill_rate_ci)} pp)"
        others = [
            (p.label, fmt(getattr(k.network, attr)))
            for p in PolicyName
            if p is not MEIO and (k := pol.get(p)) is not None
        ]
        tiles.append(Tile(label=label, main=main, others=others, note=note))
    value_saving = result.saving
    if value_saving is None and MEIO in pol and SINGLE in pol:
        value_saving = inventory_saving(
            pol[MEIO].network.inventory_value, pol[SINGLE].network.inventory_value
        )
    tiles.append(
        Tile(
            label="Saving vs single-echelon",
            main=f.pct(value_saving),
            note="inventory value held less by MEIO",
            good=None if value_saving is None else value_saving > 0,
        )
    )
    tiles.append(
        Tile(
            label="Service target met",
            main=f.yes_no(result.service_met),
            note="MEIO simulated fill rate ≥ target at every store",
            good=result.service_met,
        )
    )
    return tiles


def sorted_exceptions(exceptions: Sequence[PlanException]) -> list[PlanException]:
    """In :func:`echelon.plan.model.exception_order` (as the CLI shows them)."""
    return sorted(exceptions, key=exception_order)


def store_rows(result: PlanResult) -> list[StoreRow]:
    """One row per store that has both MEIO and single-echelon KPIs, in the run's location
    order."""
    pol = policies(result)
    meio, single = pol.get(MEIO), pol.get(SINGLE)
    if meio is None or single is None:
        return []
    current = pol.get(CURRENT)
    order = {loc: i for i, loc in enumerate(result.locations)}
    stores = sorted(
        set(meio.stores) & set(single.stores), key=lambda s: (order.get(s, len(order)), s)
    )
    return [
        StoreRow(
            store=s,
            meio=meio.stores[s],
            single=single.stores[s],
            current=current.stores.get(s) if current is not None else None,
            saving=inventory_saving(
                meio.stores[s].inventory_value, single.stores[s].inventory_value
            ),
        )
        for s in stores
    ]


def network_row(result: PlanResult) -> StoreRow | None:
    """The same comparison over the whole network (every location, DCs included)."""
    pol = policies(result)
    meio, single = pol.get(MEIO), pol.get(SINGLE)
    if meio is None or single is None:
        return None
    current = pol.get(CURRENT)
    return StoreRow(
        store="network (all locations)",
        meio=meio.network,
        single=single.network,
        current=current.network if current is not None else None,
        saving=inventory_saving(meio.network.inventory_value, single.network.inventory_value),
    )


def sorted_placements(placements: Sequence[Placement]) -> list[Placement]:
    """By item, then from the top tier down, then by location."""
    return sorted(placements, key=lambda p: (p.item, -p.tier, p.location))


def common_target(placements: Sequence[Placement]) -> float | None:
    """The fill-rate target when every store placement has the same one, else None."""
    targets = {round(p.target, 6) for p in placements if p.target is not None}
    return targets.pop() if len(targets) == 1 else None


def parameter_rows(parameters: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The run's parameters flattened to (dotted key, value as text) rows."""
    rows: list[tuple[str, str]] = []
    for key in sorted(parameters, key=str):
        value = parameters[key]
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += parameter_rows(value, prefix=f"{name}.")
        elif isinstance(value, str):
            rows.append((name, value))
        else:
            rows.append((name, json.dumps(value, ensure_ascii=False, default=str)))
    return rows


def shadow_stores(kpis: Sequence[PolicyKpis]) -> list[str]:
    """Stores that appear in any policy of the shadow replay, sorted."""
    return sorted({s for k in kpis for s in k.stores})
