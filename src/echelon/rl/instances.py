"""Benchmark instances the RL agents are trained and judged on.

- :func:`snyder_shen_6_1`: Snyder & Shen (2019) Example 6.1, 3-stage serial system with
  backorders; optimal echelon base-stock cost 47.67 per period.
- :func:`zipkin_lost_sales`: the single-location lost-sales test bed of Zipkin (2008),
  "Old and new methods for lost-sales inventory systems", Operations Research 56(5):
  Poisson(5) demand per period, holding cost 1 per unit per period, penalty ``p`` per unit lost,
  lead time ``L`` in {1, 2, 3, 4}.
- :func:`orgym_serial_lost_sales`: OR-Gym's ``InvManagement-v1`` (Hubbs et al. 2020), a
  3-stage serial lost-sales system with capacities 100/90/80 and Poisson(20) demand: OR-Gym lead
  times 3/5/10, echelon ``lead_time`` 4/6/11 (the rule below; its trace equals OR-Gym's dynamics
  on a shared demand path, ``tests/rl/test_orgym.py``).

Lead-time convention. In Zipkin's model an order placed at the *start* of period t arrives at
the start of period t + L, so L periods of demand (t … t+L−1) pass before it is on hand. In
echelon's model (docs/model.md) an order is placed at the *end* of period t, after that period's
demand, and with lead time ℓ arrives at the start of period t + ℓ: ℓ − 1 periods of demand pass
before it is on hand. Zipkin's lead time L is therefore echelon's ``lead_time = L + 1``; the
costs are then the same (holding on end-of-period on hand, penalty per unit lost). OR-Gym
orders at the start of a period too (an order placed in period n with lead time L is received in
period n + L, before its demand), so the same rule maps its lead times.
"""

from __future__ import annotations

from collections.abc import Callable

from echelon.examples import example_path
from echelon.network.io import load_network, network_from_dict
from echelon.network.model import Network

ZIPKIN_DEMAND_MEAN = 5.0
ZIPKIN_PENALTIES = (4.0, 9.0, 19.0, 39.0)
ZIPKIN_LEAD_TIMES = (1, 2, 3, 4)


def snyder_shen_6_1() -> Network:
    """Snyder & Shen Example 6.1 (N(5, 1) demand, h 7/4/2, p 37.12, lead times 1/1/2)."""
    return load_network(example_path("snyder_shen_6_1.yaml"))


def zipkin_lost_sales(
    penalty: float = 9.0, lead_time: int = 4, mean: float = ZIPKIN_DEMAND_MEAN
) -> Network:
    """Zipkin (2008) single-location lost-sales instance; ``lead_time`` is Zipkin's L."""
    if lead_time < 1:
        raise ValueError(f"Zipkin's lead time L must be >= 1, got {lead_time}")
    return network_from_dict(
        {
            "name": f"zipkin-lost-sales-p{penalty:g}-L{lead_time}",
            "description": (
                f"Zipkin (2008) lost-sales test bed: Poisson({mean:g}) demand, h 1, p {penalty:g}, "
                f"Zipkin lead time L={lead_time} (echelon lead_time {lead_time + 1}, see "
                "echelon.rl.instances)"
            ),
            "nodes": [
                {
                    "id": "store",
                    "holding_cost": 1.0,
                    "penalty_cost": float(penalty),
                    "stockout": "lost_sales",
                    "demand": {"kind": "poisson", "mean": float(mean)},
                    "lead_time": lead_time + 1,
                    "external_supplier": True,
                    "initial_on_hand": 0.0,
                }
            ],
        },
        source="echelon.rl.instances.zipkin_lost_sales",
    )


# OR-Gym InvManagement-v1 (Hubbs et al. 2020; or_gym/envs/supply_chain/inventory_management.py)
# defaults: p = 2, r = 1.5 / 1.0 / 0.75 / 0.5, k = 0.10 / 0.075 / 0.05 / 0.025, h = 0.15 / 0.10 /
# 0.05, c = 100 / 90 / 80, I0 = 100 / 100 / 200, L = 3 / 5 / 10 (see orgym_serial_lost_sales).
ORGYM_PRICE = 2.0  # money per unit sold at the retailer
ORGYM_RAW_COST = 0.5  # money per unit bought from the raw-material supplier
ORGYM_GOODWILL = 0.10  # money per unit of retailer demand lost
ORGYM_RETAIL_PENALTY = (ORGYM_PRICE - ORGYM_RAW_COST) + ORGYM_GOODWILL
ORGYM_LEAD_TIMES = (3, 5, 10)  # OR-Gym's L per stage (retailer, distributor, manufacturer)


def orgym_serial_lost_sales(mean: float = 20.0) -> Network:
    """OR-Gym ``InvManagement-v1`` as an echelon network; ``mean`` in units per period.

    Lead times. OR-Gym receives in period n what was ordered in period n − L, before period n's
    demand: its order leaves at the start of a period. echelon orders at the end of a period
    (docs/model.md), so OR-Gym's order of period n is echelon's of period n − 1 and arrives
    ``lead_time`` = L + 1 periods later: OR-Gym's 3 / 5 / 10 are echelon's 4 / 6 / 11
    (echelon's 3 / 5 / 10 reproduce OR-Gym with 2 / 4 / 9).

    Lost-sale penalty (money per unit). OR-Gym's reward is the chain's profit per period,
    Σ_stages price × units sold − cost × units bought − goodwill × units unfilled − holding; a
    stage's cost is its supplier's price, so the internal prices 1.5 / 1.0 / 0.75 cancel and the
    chain earns 2 per unit sold at the retailer and pays 0.5 per unit bought from the
    raw-material supplier. A unit of retail demand lost forgoes the sale (2), saves the raw
    material that would have been bought for it (0.5) and costs the goodwill 0.10:
    (2 − 0.5) + 0.10 = 1.60 = ``ORGYM_RETAIL_PENALTY``. The old 0.60, the retailer's own margin
    (2 − 1.5) + 0.10, left out the upstream stages' margins; below the 0.70 of pipeline holding
    that echelon charges per unit sold (docs/rl.md, "OR-Gym"), it made "stop supplying" the
    optimum (bench/rl_orgym_penalty.py).

    What echelon's cost does not share with OR-Gym's profit (tests/rl/test_orgym.py states the
    exact per-period relation): echelon charges units in transit at the supplier's holding cost,
    OR-Gym holds the pipeline for free; internal shortfalls are cancelled at the customer without
    OR-Gym's 0.075 / 0.05 goodwill; the raw material is paid for when ordered in OR-Gym, when sold
    here (the same in the long run). Profit is undiscounted here (OR-Gym's default 0.97ⁿ).
    """
    lt = [lead + 1 for lead in ORGYM_LEAD_TIMES]
    return network_from_dict(
        {
            "name": "orgym-serial-lost-sales",
            "description": (
                "OR-Gym InvManagement-v1 (3-stage serial, lost sales): "
                f"Poisson({mean:g}) demand at the retailer, OR-Gym lead times 3/5/10 (echelon "
                f"{lt[0]}/{lt[1]}/{lt[2]}), capacities 100/90/80 (units ordered per period), "
                f"holding 0.15/0.10/0.05, retail lost-sale penalty {ORGYM_RETAIL_PENALTY:.2f} "
                "(chain margin 2 − 0.5 + goodwill 0.10)"
            ),
            "nodes": [
                {
                    "id": "retailer",
                    "holding_cost": 0.15,
                    "penalty_cost": ORGYM_RETAIL_PENALTY,
                    "stockout": "lost_sales",
                    "demand": {"kind": "poisson", "mean": float(mean)},
                    "lead_time": lt[0],
                    "capacity": 100.0,
                    "initial_on_hand": 100.0,
                    "unit_value": 1.5,
                },
                {
                    "id": "distributor",
                    "holding_cost": 0.10,
                    "stockout": "lost_sales",
                    "lead_time": lt[1],
                    "capacity": 90.0,
                    "initial_on_hand": 100.0,
                    "unit_value": 1.0,
                },
                {
                    "id": "manufacturer",
                    "holding_cost": 0.05,
                    "stockout": "lost_sales",
                    "lead_time": lt[2],
                    "capacity": 80.0,
                    "initial_on_hand": 200.0,
                    "external_supplier": True,
                    "unit_value": 0.75,
                },
            ],
            "lanes": [
                {"from": "distributor", "to": "retailer"},
                {"from": "manufacturer", "to": "distributor"},
            ],
        },
        source="echelon.rl.instances.orgym_serial_lost_sales",
    )


INSTANCES: dict[str, Callable[[], Network]] = {
    "snyder-shen-6.1": snyder_shen_6_1,
    "zipkin-p9-L4": lambda: zipkin_lost_sales(9.0, 4),
    "zipkin-p39-L4": lambda: zipkin_lost_sales(39.0, 4),
    "orgym-serial": orgym_serial_lost_sales,
}
