"""The plan re-simulated under disruptions (``echelon scenario``): KPIs per scenario vs baseline.

Every item's policies (meio, single-echelon, current) are simulated for :data:`PERIODS` periods
after the warm-up, on the items' KPI random numbers, once without and once with each scenario
(:class:`echelon.sim.scenario.Scenario`; periods in a scenario are reported periods, 0 = the
first period after the warm-up). KPIs are aggregated as in :mod:`echelon.plan.kpis`.

:func:`default_scenarios` builds three disruptions for a plan's network, all starting at
period :data:`START`:

- ``dc_closure``: the first-tier DC serving the most demand ships nothing for 2 periods;
- ``demand_spike``: demand at every store × 1.5 for 4 periods;
- ``supplier_delay``: shipments into every externally supplied node take 2 more periods for
  4 periods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from echelon.network.graph import echelon_demand
from echelon.plan.kpis import ItemRun, policy_description, policy_kpis
from echelon.plan.model import Kpis, PolicyName
from echelon.plan.placement import Placements, SimRun, run
from echelon.sim.scenario import Closure, DemandSpike, Scenario, SupplierDelay

Progress = Callable[[str, float], None]
PERIODS = 26  # periods counted per scenario run (the disruption is a visible share of them)
START = 4  # first disrupted period of the default scenarios


@dataclass
class ScenarioOutcome:
    """One scenario under one policy: network KPIs without and with the disruption."""

    scenario: str
    description: str
    policy: PolicyName
    baseline: Kpis
    disrupted: Kpis
    stores: dict[str, Kpis]  # per store, with the disruption

    @property
    def fill_rate_change(self) -> float | None:
        """Disrupted minus baseline network fill rate (fraction)."""
        if self.baseline.fill_rate is None or self.disrupted.fill_rate is None:
            return None
        return self.disrupted.fill_rate - self.baseline.fill_rate

    @property
    def stores_below_target(self) -> int:
        """Stores whose fill-rate target is not met with the disruption."""
        return sum(1 for k in self.stores.values() if k.target_met is False)


def default_scenarios(placements: Placements) -> list[Scenario]:
    """DC closure, demand spike and supplier delay for the plan's network (module doc)."""
    plan = next(iter(placements.items.values()))
    net = plan.network
    flows = echelon_demand(net)
    dcs = [n for n, t in plan.tiers.items() if t == 1]
    out = []
    if dcs:
        dc = max(dcs, key=lambda n: flows[n][0])
        out.append(
            Scenario(
                name="dc_closure",
                description=f"{dc} ships nothing for 2 periods",
                disruptions=[Closure(node=dc, start=START, end=START + 2)],
            )
        )
    out.append(
        Scenario(
            name="demand_spike",
            description="demand at every store x1.5 for 4 periods",
            disruptions=[DemandSpike(multiplier=1.5, start=START, end=START + 4)],
        )
    )
    sources = [n.id for n in net.nodes if n.external_supplier]
    out.append(
        Scenario(
            name="supplier_delay",
            description=f"supplier shipments to {', '.join(sources)} take 2 periods longer "
            "for 4 periods",
            disruptions=[
                SupplierDelay(node=s, start=START, end=START + 4, extra_periods=2) for s in sources
            ],
        )
    )
    return out


def run_scenarios(
    placements: Placements,
    reps: int,
    period_days: float,
    scenarios: Sequence[Scenario] | None = None,
    policies: Sequence[PolicyName] = tuple(PolicyName),
    periods: int = PERIODS,
    progress: Progress | None = None,
) -> list[ScenarioOutcome]:
    """Every scenario (default: :func:`default_scenarios`) under every policy, vs baseline.

    Scenario node ids must be locations of the plan's network (checked; ScenarioError if not).
    """
    if not placements.items:
        return []
    scens = list(scenarios) if scenarios is not None else default_scenarios(placements)
    first = next(iter(placements.items.values()))
    for sc in scens:
        sc.check(first.network, source=sc.name)
    stores = first.stores
    out = []
    total = len(policies) * (len(scens) + 1)
    done = 0
    for p in policies:
        base_runs: list[ItemRun] = []
        disrupted: dict[str, list[ItemRun]] = {sc.name: [] for sc in scens}
        for plan in placements.items.values():
            ss = sum(plan.safety_stock(p, n) for n in plan.tiers) * plan.unit_cost
            sim = SimRun(periods, reps, plan.seed)
            base_runs.append(ItemRun(plan, run(plan.network, plan.policies[p], sim), ss))
            for sc in scens:
                res = run(plan.network, plan.policies[p], sim, scenario=sc)
                disrupted[sc.name].append(ItemRun(plan, res, ss))
        desc = policy_description(p, period_days)
        base = policy_kpis(base_runs, p, desc, period_days, stores)
        done += 1
        for sc in scens:
            k = policy_kpis(disrupted[sc.name], p, desc, period_days, stores)
            out.append(
                ScenarioOutcome(
                    sc.name, sc.description or sc.name, p, base.network, k.network, k.stores
                )
            )
            done += 1
            if progress:
                progress("scenarios", done / total)
    return out
