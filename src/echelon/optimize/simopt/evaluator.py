"""Common-random-numbers (CRN) evaluation of policies on the batch simulator.

A policy is a vector of integers ``k``: coordinate ``i`` is ``k[i] · grid[i]`` units of one
policy parameter of one node (:class:`PolicySpace`). :class:`CRNEvaluator` draws the random
numbers of its ``(seed, reps, warmup + periods)`` once, keeps them, and for every candidate
only rewrites the policy columns of the compiled network and calls the numba kernel
(``echelon.sim.batch.run_kernel``): every candidate sees the same demand and lead times, so
differences between candidates are not blurred by sampling noise, and the per-evaluation cost
is the kernel alone (no redrawing, no summary). Results are cached by ``k``.

Units: costs and inventory values in money per period (averages over the counted periods);
fill rates and cycle service levels as fractions. Every KPI is first computed per replication
(an array of length ``reps``) so that confidence intervals follow docs/model.md, "KPIs".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from echelon.network.distributions import ceil_periods
from echelon.network.graph import echelon_demand
from echelon.network.model import Network, ServiceMeasure
from echelon.policies.model import RQ, SS, BaseStock, EchelonBaseStock, PolicyKind, PolicySet
from echelon.sim import kernel as K
from echelon.sim.batch import DRAW_BUDGET_BYTES, chunk_size, run_kernel
from echelon.sim.compiled import NP_POL1, NP_POL2, CompiledNetwork, compile_network
from echelon.sim.draws import Draws, make_draws
from echelon.sim.results import Estimate, SimulationResult, summarize
from echelon.sim.scenario import Scenario

# coordinate names: the policy parameter a coordinate holds
LEVEL, REORDER, SPREAD, QUANTITY = "level", "reorder", "spread", "quantity"


@dataclass(frozen=True)
class Coordinate:
    """One searched parameter: ``value = k · grid`` units, ``k >= lower``.

    ``name`` is ``level`` (base-stock / echelon base-stock level), ``reorder`` (s or r),
    ``spread`` (S − s of an (s, S) policy) or ``quantity`` (Q of an (r, Q) policy).
    """

    node: str
    kind: PolicyKind
    name: str
    grid: float
    lower: int


class PolicySpace:
    """Maps integer vectors to policy sets and back (one or two coordinates per node)."""

    def __init__(self, coords: list[Coordinate]):
        self.coords = coords
        self.lower = np.array([c.lower for c in coords], dtype=np.int64)
        self.grid = np.array([c.grid for c in coords])
        self.nodes: list[str] = list(dict.fromkeys(c.node for c in coords))

    def __len__(self) -> int:
        return len(self.coords)

    def values(self, k: np.ndarray) -> np.ndarray:
        """Parameter values (units) of the vector ``k``."""
        return np.round(np.asarray(k) * self.grid, 10)

    def node_params(self, k: np.ndarray) -> dict[str, dict[str, float]]:
        """``{node: {parameter: value}}`` with the policy's own names (level, s, S, r, Q)."""
        vals = self.values(k)
        out: dict[str, dict[str, float]] = {nid: {} for nid in self.nodes}
        for c, v in zip(self.coords, vals, strict=True):
            out[c.node][c.name] = float(v)
        named: dict[str, dict[str, float]] = {}
        for c in self.coords:
            p = out[c.node]
            if c.kind is PolicyKind.S_S:
                named[c.node] = {"s": p[REORDER], "S": round(p[REORDER] + p[SPREAD], 10)}
            elif c.kind is PolicyKind.R_Q:
                named[c.node] = {"r": p[REORDER], "Q": p[QUANTITY]}
            else:
                named[c.node] = {"level": p[LEVEL]}
        return named

    def to_policy(self, k: np.ndarray, network: str | None = None) -> PolicySet:
        """The policy set of the vector ``k``."""
        policies: dict[str, BaseStock | EchelonBaseStock | SS | RQ] = {}
        kinds = {c.node: c.kind for c in self.coords}
        for nid, p in self.node_params(k).items():
            kind = kinds[nid]
            if kind is PolicyKind.BASE_STOCK:
                policies[nid] = BaseStock(level=p["level"])
            elif kind is PolicyKind.ECHELON_BASE_STOCK:
                policies[nid] = EchelonBaseStock(level=p["level"])
            elif kind is PolicyKind.S_S:
                policies[nid] = SS(s=p["s"], S=p["S"])
            else:
                policies[nid] = RQ(r=p["r"], Q=p["Q"])
        return PolicySet(network=network, method="simopt", policies=policies)

    def from_policy(self, policy: PolicySet) -> np.ndarray:
        """The grid vector nearest to ``policy`` (whose node kinds must match), clipped below."""
        k = np.zeros(len(self.coords), dtype=np.int64)
        for i, c in enumerate(self.coords):
            pol = policy.policies[c.node]
            if isinstance(pol, SS):
                v = pol.s if c.name == REORDER else pol.S - pol.s
            elif isinstance(pol, RQ):
                v = pol.r if c.name == REORDER else pol.Q
            else:
                v = pol.level
            k[i] = max(c.lower, round(v / c.grid))
        return k


@dataclass
class Evaluation:
    """KPIs of one policy on one set of draws, one value per replication.

    cost: total cost per period (holding + pipeline holding + penalty + ordering), money;
    holding: holding + pipeline holding cost per period, money;
    on_hand_value / transit_value: average on-hand / in-transit inventory value, money
    (see :class:`CRNEvaluator`); service: the constrained KPI of each service target node.
    """

    cost: np.ndarray
    holding: np.ndarray
    on_hand_value: np.ndarray
    transit_value: np.ndarray
    service: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def inventory_value(self) -> np.ndarray:
        return self.on_hand_value + self.transit_value

    @staticmethod
    def mean(x: np.ndarray) -> float:
        """Replication mean (NaN replications, e.g. a fill rate without demand, are skipped)."""
        y = x[~np.isnan(x)]
        return float(y.mean()) if y.size else float("nan")

    @staticmethod
    def estimate(x: np.ndarray) -> Estimate:
        return Estimate.of(x)


class CRNEvaluator:
    """Evaluates policy vectors of ``space`` on fixed draws ``(seed, reps, warmup + periods)``.

    Inventory value (money) = Σ_j v_j · on hand_j + in-transit value, where the units in
    transit on a lane are valued at the unit value of the lane's supplier (the node's own unit
    value for its external supplier's lane: ordered units are owned). A node with several
    inbound lanes splits its in-transit units among them in proportion to ``quantity × lead
    time`` (exact in expectation in steady state). Nodes without ``unit_value`` count 0.

    ``service_targets`` maps node ids to the measure whose per-replication value
    :class:`Evaluation` reports in ``service`` (fill rate or cycle service level).
    """

    def __init__(
        self,
        net: Network,
        space: PolicySpace,
        *,
        periods: int,
        reps: int,
        seed: int,
        warmup: int,
        scenario: Scenario | None = None,
        service_targets: dict[str, ServiceMeasure] | None = None,
        start: np.ndarray | None = None,
        on_evaluation: Callable[[int], None] | None = None,
    ):
        self.net = net
        self.space = space
        self.periods, self.reps, self.seed, self.warmup = periods, reps, seed, warmup
        self.scenario = scenario
        self.service_targets = dict(service_targets or {})
        self.on_evaluation = on_evaluation
        k0 = space.from_policy(_any_policy(space)) if start is None else start
        self.cn: CompiledNetwork = compile_network(net, space.to_policy(k0), scenario, warmup)
        self._pos = {nid: i for i, nid in enumerate(self.cn.ids)}
        self._transit_unit_value = _transit_unit_values(net, self.cn)
        self._values = np.where(np.isnan(self.cn.unit_value), 0.0, self.cn.unit_value)
        total = warmup + periods
        self._chunk = chunk_size(self.cn, total, reps)
        self._draws: list[tuple[int, int, Draws]] | None = None
        cn = self.cn
        cols = len(cn.demand_nodes) + len(cn.stochastic_lanes) + 2 * len(cn.random_closures) + 1
        if reps * total * 8 * cols <= DRAW_BUDGET_BYTES:  # keep the draws, else redraw each time
            self._draws = list(self._iter_draws())
        self.cache: dict[tuple[int, ...], Evaluation] = {}
        self.evaluations = 0  # distinct simulations run
        self.cache_hits = 0

    def _iter_draws(self) -> Iterator[tuple[int, int, Draws]]:
        total = self.warmup + self.periods
        for lo in range(0, self.reps, self._chunk):
            hi = min(self.reps, lo + self._chunk)
            yield lo, hi, make_draws(self.cn, self.net, self.seed, range(lo, hi), total)

    def _apply(self, k: np.ndarray) -> None:
        """Write the policy of ``k`` into the compiled network (parameters, initial stock)."""
        policy = self.space.to_policy(k)
        fresh = compile_network(self.net, policy, self.scenario, self.warmup)
        self.cn.NP[:, NP_POL1] = fresh.NP[:, NP_POL1]
        self.cn.NP[:, NP_POL2] = fresh.NP[:, NP_POL2]
        self.cn.NI[:] = fresh.NI
        self.cn.init_on_hand[:] = fresh.init_on_hand

    def run(self, k: np.ndarray) -> np.ndarray:
        """Simulate ``k`` on this evaluator's draws; KPI sums ``[reps, n, N_K]`` (uncached)."""
        self._apply(k)
        acc = np.zeros((self.reps, self.cn.n, K.N_K))
        chunks = self._draws if self._draws is not None else self._iter_draws()
        for lo, hi, draws in chunks:
            run_kernel(self.cn, draws, self.warmup, out=acc[lo:hi])
        self.evaluations += 1
        if self.on_evaluation is not None:
            self.on_evaluation(self.evaluations)
        return acc

    def __call__(self, k: np.ndarray) -> Evaluation:
        key = tuple(int(v) for v in k)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache_hits += 1
            return hit
        ev = self.kpis(self.run(np.asarray(key, dtype=np.int64)))
        self.cache[key] = ev
        return ev

    def kpis(self, acc: np.ndarray) -> Evaluation:
        """Per-replication KPIs of the sums ``acc`` (see :class:`Evaluation`)."""
        per = acc / self.periods
        hold = per[:, :, K.K_HOLD] + per[:, :, K.K_PIPE]
        cost = hold + per[:, :, K.K_PEN] + per[:, :, K.K_ORD]
        service: dict[str, np.ndarray] = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for nid, measure in self.service_targets.items():
                j = self._pos[nid]
                a = acc[:, j, :]
                if measure is ServiceMeasure.FILL_RATE:
                    num, den = a[:, K.K_FILL], a[:, K.K_DEM]
                    service[nid] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
                else:
                    bad, cyc = a[:, K.K_CYCBAD], a[:, K.K_CYC]
                    service[nid] = np.where(cyc > 0, 1 - bad / np.where(cyc > 0, cyc, 1), np.nan)
        return Evaluation(
            cost=cost.sum(axis=1),
            holding=hold.sum(axis=1),
            on_hand_value=per[:, :, K.K_OH] @ self._values,
            transit_value=per[:, :, K.K_TRANSIT] @ self._transit_unit_value,
            service=service,
        )

    def summary(self, acc: np.ndarray) -> SimulationResult:
        """The simulator's own KPI summary of ``acc`` (as ``echelon.sim.batch.simulate``)."""
        return summarize(
            acc,
            self.cn.ids,
            self.cn.demand_nodes,
            self.cn.unit_value,
            self.periods,
            self.net.period_days,
            self.net.name,
            self.warmup,
            self.seed,
        )


def _any_policy(space: PolicySpace) -> PolicySet:
    """A policy on the lower bounds of ``space`` (used only to compile the network)."""
    return space.to_policy(space.lower.copy())


def _transit_unit_values(net: Network, cn: CompiledNetwork) -> np.ndarray:
    """Value (money) of one unit in transit into each node (docstring of CRNEvaluator)."""
    out = np.zeros(cn.n)
    values = np.where(np.isnan(cn.unit_value), 0.0, cn.unit_value)
    for j in range(cn.n):
        num = den = 0.0
        for k in range(cn.in_ptr[j], cn.in_ptr[j + 1]):
            e = cn.in_lane[k]
            src = int(cn.LI[e, 0])
            v = values[j] if src < 0 else values[src]
            # expected units in transit on e (the supplier's units) ∝ quantity × lead time
            w = cn.LF[e, 0] * ceil_periods(cn.lane_lead_times[e].mean())
            num += w * v
            den += w
        out[j] = num / den if den > 0 else 0.0
    return out


def pipeline_value(net: Network, cn: CompiledNetwork) -> float:
    """Expected in-transit value (money) in steady state with every demand met (Little's law):
    ``Σ_lanes v_supplier · quantity · mean demand of the customer's echelon · lead time``.

    A lower bound on the inventory value of any policy in backorder mode: it does not depend on
    the policy (lead times are rounded up to whole periods, as the simulator does)."""
    flows = echelon_demand(net)
    values = np.where(np.isnan(cn.unit_value), 0.0, cn.unit_value)
    total = 0.0
    for e in range(cn.m):
        src, dst = int(cn.LI[e, 0]), int(cn.LI[e, 1])
        v = values[dst] if src < 0 else values[src]
        lt = cn.lane_lead_times[e].mean()
        total += v * cn.LF[e, 0] * flows[cn.ids[dst]][0] * ceil_periods(lt)
    return float(total)
