"""The optimization service: one entry point per use, shared by the CLI, the API and reports.

- :func:`optimize_network` runs one method (GSM, Clark–Scarf, simulation-optimization or the
  single-echelon baseline) with optional segment service targets and a budget cap;
- :func:`compare_with_single_echelon` evaluates the single-echelon baseline and a multi-echelon
  policy in the same simulator with the same random numbers and lays them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from echelon.errors import OptimizationError
from echelon.network.model import Network
from echelon.optimize.checks import require_demand
from echelon.optimize.result import NodeDecision, OptimizationResult, OptimizeMethod
from echelon.optimize.segments import Segment, SegmentTargets, apply_segment_targets
from echelon.optimize.single_echelon import solve_single_echelon
from echelon.policies.model import RQ, SS, PolicySet
from echelon.sim.batch import simulate
from echelon.sim.results import SimulationResult

Progress = Callable[[int, int], None]


@dataclass
class SimSettings:
    """How a policy is evaluated in simulation: periods counted, replications, seed, warm-up."""

    periods: int = 2000
    reps: int = 100
    seed: int = 0
    warmup: int = 100


def with_targets(
    net: Network, targets: SegmentTargets | None, source: str | None = None
) -> tuple[Network, dict[str, Segment]]:
    """Apply segment service targets (when given) and return the network and the segments."""
    if targets is None:
        return net, {}
    return apply_segment_targets(net, targets, source)


def optimize_network(
    net: Network,
    method: OptimizeMethod,
    *,
    budget: float | None = None,
    time_limit: float = 60.0,
    sim: SimSettings | None = None,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
) -> OptimizationResult:
    """Run one optimization method on ``net`` (service targets already applied)."""
    require_demand(net)
    options = dict(options or {})
    sim = sim or SimSettings()
    if method is OptimizeMethod.GSM:
        from echelon.optimize.budget import solve_within_budget
        from echelon.optimize.gsm.solve import solve_gsm

        def gsm(n: Network) -> OptimizationResult:
            return solve_gsm(n, time_limit=time_limit, **options)

        return gsm(net) if budget is None else solve_within_budget(net, budget, gsm)
    if budget is not None and method is not OptimizeMethod.SIMOPT:
        raise OptimizationError(
            f"--budget is not available with --method {method}",
            field="budget",
            expected="--method gsm or simopt",
            found=str(method),
            fix="drop --budget, or use --method gsm (safety-stock investment) or simopt "
            "(average inventory value)",
        )
    if method is OptimizeMethod.SINGLE_ECHELON:
        return solve_single_echelon(net)
    if method is OptimizeMethod.CLARK_SCARF:
        from echelon.optimize.clark_scarf import solve_clark_scarf

        return solve_clark_scarf(net, **options)
    from echelon.optimize.simopt.solve import solve_simopt

    return solve_simopt(
        net, budget=budget, periods=sim.periods, reps=sim.reps, seed=sim.seed,
        warmup=sim.warmup, progress=progress, **options,
    )  # fmt: skip


@dataclass
class NodeComparison:
    """One node under the baseline and the multi-echelon policy (simulated means)."""

    node: str
    is_demand: bool
    base_level: float
    meio_level: float
    base_on_hand: float
    meio_on_hand: float
    base_value: float | None
    meio_value: float | None
    base_fill_rate: float
    meio_fill_rate: float
    base_fill_rate_ci: float | None
    meio_fill_rate_ci: float | None
    base_csl: float
    meio_csl: float


@dataclass
class Comparison:
    """Single-echelon vs multi-echelon, evaluated with the same random numbers."""

    network: str
    baseline: OptimizationResult
    meio: OptimizationResult
    base_sim: SimulationResult
    meio_sim: SimulationResult
    nodes: list[NodeComparison] = field(default_factory=list)
    placed: OptimizationResult | None = None  # the method's own policy, before matching
    placed_sim: SimulationResult | None = None
    matched: bool = False

    @property
    def saving(self) -> float | None:
        """Relative reduction of the average inventory value (on hand), or ``None``."""
        b, m = self.base_sim.inventory_value, self.meio_sim.inventory_value
        if b is None or m is None or b <= 0:
            return None
        return (b - m) / b

    def _placement(self) -> dict[str, Any]:
        assert self.placed is not None and self.placed_sim is not None
        return _placement_dict(self.placed, self.placed_sim)

    @property
    def service_kept(self) -> bool:
        """True when every demand node's simulated fill rate is at least the baseline's."""
        return all(n.meio_fill_rate >= n.base_fill_rate - 1e-12 for n in self.nodes if n.is_demand)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "baseline_method": str(self.baseline.method),
            "meio_method": str(self.meio.method),
            "periods": self.base_sim.periods,
            "replications": self.base_sim.replications,
            "seed": self.base_sim.seed,
            "inventory_value": {
                "single_echelon": self.base_sim.inventory_value,
                "meio": self.meio_sim.inventory_value,
                "saving": self.saving,
            },
            "holding_cost": {
                "single_echelon": self.base_sim.holding_cost.to_dict(),
                "meio": self.meio_sim.holding_cost.to_dict(),
            },
            "cost_per_period": {
                "single_echelon": self.base_sim.cost_per_period.to_dict(),
                "meio": self.meio_sim.cost_per_period.to_dict(),
            },
            "service_kept_at_every_demand_node": self.service_kept,
            "service_matched_by_simulation": self.matched,
            "placement": None if self.placed is None else self._placement(),
            "nodes": {
                n.node: {k: v for k, v in vars(n).items() if k != "node"} for n in self.nodes
            },
        }


def _placement_dict(placed: OptimizationResult, sim: SimulationResult) -> dict[str, Any]:
    return {
        "method": str(placed.method),
        "objective": placed.objective,
        "gap": placed.gap,
        "inventory_value": sim.inventory_value,
        "fill_rate": sim.fill_rate.to_dict(),
        "nodes": {nid: d.to_dict() for nid, d in placed.nodes.items()},
    }


def evaluate(
    net: Network, policy: PolicySet, sim: SimSettings, progress: Progress | None = None
) -> SimulationResult:
    """Simulate ``policy`` with the settings ``sim`` (same seed ⇒ same random numbers)."""
    return simulate(
        net, policy, periods=sim.periods, reps=sim.reps, seed=sim.seed, warmup=sim.warmup,
        progress=progress,
    )  # fmt: skip


def _level(result: OptimizationResult, node: str) -> float:
    """The order-up-to level (base stock, echelon base stock, S of (s,S), r+Q of (r,Q))."""
    pol = result.policy.policies[node]
    if isinstance(pol, SS):
        return pol.S
    if isinstance(pol, RQ):
        return pol.r + pol.Q
    return pol.level


MATCH_SERVICE_MAX_NODES = 200  # service matching runs a simulation search: small networks only
SEARCH_SEED_OFFSET = 7919  # the matching search never sees the comparison's random numbers
MAX_FILL_RATE_TARGET = 0.9999
TARGETS_NOT_MET = "targets not met"  # simopt's status when a final fill rate is below target


def match_service(
    net: Network,
    meio: OptimizationResult,
    fill_rates: dict[str, float],
    sim: SimSettings,
    progress: Progress | None = None,
) -> OptimizationResult:
    """Least-inventory policy, searched from ``meio``'s policy by simulation-optimization, whose
    fill rate at every demand node is at least ``fill_rates`` (see docs/optimize.md)."""
    from echelon.optimize.simopt.solve import solve_simopt

    targets = {k: min(v, MAX_FILL_RATE_TARGET) for k, v in fill_rates.items()}
    search_seed = sim.seed + SEARCH_SEED_OFFSET

    def search(start: PolicySet) -> OptimizationResult:
        return solve_simopt(
            net, start=start, objective="inventory", fill_rate_targets=targets,
            periods=max(200, sim.periods // 2), reps=max(20, sim.reps // 2), seed=search_seed,
            final_seed=search_seed + 1, warmup=sim.warmup, progress=progress,
        )  # fmt: skip

    matched = search(meio.policy)
    if matched.status == TARGETS_NOT_MET:  # the placement was too far off: start from baseline
        fallback = search(solve_single_echelon(net).policy)
        if fallback.status != TARGETS_NOT_MET:
            fallback.details["placement_start_failed"] = True
            matched = fallback
    matched.details["started_from"] = str(meio.method)
    matched.details["started_from_objective"] = meio.objective
    matched.nodes = {
        nid: _merge(meio.nodes.get(nid), d) for nid, d in matched.nodes.items()
    }  # keep the placement's service times beside the matched levels
    return matched


def _merge(placed: NodeDecision | None, matched: NodeDecision) -> NodeDecision:
    if placed is None:
        return matched
    matched.committed_service_time = placed.committed_service_time
    matched.inbound_service_time = placed.inbound_service_time
    matched.net_replenishment_time = placed.net_replenishment_time
    return matched


def compare_with_single_echelon(
    net: Network,
    meio: OptimizationResult,
    sim: SimSettings | None = None,
    progress: Progress | None = None,
    match: bool | None = None,
) -> Comparison:
    """Simulate the single-echelon baseline and the multi-echelon policy on the same random
    numbers (``sim.seed``).

    With ``match`` (default: networks of at most ``MATCH_SERVICE_MAX_NODES`` nodes) the
    multi-echelon policy is first adjusted by :func:`match_service` so that every demand node's
    fill rate is at least the baseline's — the comparison is then at equal or better service.
    """
    sim = sim or SimSettings()
    baseline = solve_single_echelon(net)
    base_sim = evaluate(net, baseline.policy, sim, progress)
    placed_sim = evaluate(net, meio.policy, sim, progress)
    if match is None:
        match = len(net.nodes) <= MATCH_SERVICE_MAX_NODES
    placed = meio
    if match:
        fill = {n.id: base_sim.node(n.id).fill_rate.mean for n in net.nodes if n.demand}
        meio = match_service(net, meio, fill, sim, progress)
        meio_sim = evaluate(net, meio.policy, sim, progress)
    else:
        meio_sim = placed_sim
    rows = []
    for node in net.nodes:
        b, m = base_sim.node(node.id), meio_sim.node(node.id)
        value = node.unit_value
        rows.append(
            NodeComparison(
                node=node.id,
                is_demand=node.demand is not None,
                base_level=_level(baseline, node.id),
                meio_level=_level(meio, node.id),
                base_on_hand=b.avg_on_hand.mean,
                meio_on_hand=m.avg_on_hand.mean,
                base_value=None if value is None else b.avg_on_hand.mean * value,
                meio_value=None if value is None else m.avg_on_hand.mean * value,
                base_fill_rate=b.fill_rate.mean,
                meio_fill_rate=m.fill_rate.mean,
                base_fill_rate_ci=b.fill_rate.ci95,
                meio_fill_rate_ci=m.fill_rate.ci95,
                base_csl=b.cycle_service_level.mean,
                meio_csl=m.cycle_service_level.mean,
            )
        )
    return Comparison(
        net.name, baseline, meio, base_sim, meio_sim, rows,
        placed=placed, placed_sim=placed_sim, matched=match,
    )  # fmt: skip
