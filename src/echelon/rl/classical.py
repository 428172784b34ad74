"""Classical ordering agents and exhaustive policy searches on common random numbers.

- :class:`PolicyAgent` places the orders of a :class:`~echelon.policies.model.PolicySet`
  (base stock, echelon base stock, (s, S), (r, Q)) exactly as the batch engine would;
- :class:`CappedBaseStockAgent` orders ``min(max(0, S − IP), cap)`` per node (Xin 2021), IP the
  local inventory position after this period's shipments (docs/model.md, step 4), then the
  node's order rules; with ``cap = inf`` it is installation base stock, bit for bit;
- :func:`best_base_stock` / :func:`best_capped_base_stock` search every integer S (and cap) of
  a single-node network: each candidate runs in its own step-engine environment on the SAME
  replications (common random numbers), so candidates are compared on identical demand;
- :func:`simopt_base_stock` tunes base-stock levels of a multi-node network with
  :func:`echelon.optimize.simopt.solve_simopt`.

Units: levels, caps and orders in units of the node's item; costs per period (money).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from echelon.errors import InputError
from echelon.network.model import Network
from echelon.policies.model import BaseStock, PolicySet
from echelon.rl.agent import OrderAgent
from echelon.sim import kernel as K
from echelon.sim.batch import check_run
from echelon.sim.compiled import NI_POL, NP_POL1, NP_POL2
from echelon.sim.results import Estimate
from echelon.sim.step import StepEngine

DRAW_BUDGET = 32 * 2**20  # bytes of random draws held at once by a grid search


@njit(cache=False)
def _capped_orders(t, net, lead, NS, LS, PIPE, levels, caps, out):  # pragma: no cover - numba
    """Orders of capped base stock per environment (levels/caps ``[B, n]``), on state copies.

    Mirrors ``kernel.policy_orders_batch``: node by node from downstream to upstream, ship
    (which fixes the post-shipping position ``S_IPOS``), then order ``min(max(0, S − IP), cap)``
    through ``kernel.order_node`` (order rules included), so customers' orders reach suppliers.
    """
    NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays = net[:9]
    n = NS.shape[1]
    action = np.zeros(n)
    for b in range(NS.shape[0]):
        ns = NS[b].copy()
        ls = LS[b].copy()
        pipe = PIPE[b].copy()
        lead_t = lead[b, t]
        for j in range(n - 1, -1, -1):
            K.ship_node(j, t, NI, LF, LI, out_ptr, out_lane, delays, lead_t, ns, ls, pipe)
            q = levels[b, j] - ns[j, K.S_IPOS]
            if q < 0.0:
                q = 0.0
            if q > caps[b, j]:
                q = caps[b, j]
            action[j] = q
            K.order_node(
                j, t, False, action, NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays,
                lead_t, ns, ls, pipe,
            )  # fmt: skip
            out[b, j] = ns[j, K.S_Q]


def capped_base_stock_orders(
    engine: StepEngine, levels: np.ndarray, caps: np.ndarray
) -> np.ndarray:
    """Capped base-stock orders ``[n_envs, n_nodes]`` now; ``levels``/``caps`` per env and node."""
    if engine.draws is None:
        raise RuntimeError("call reset(seed) before asking for orders")
    B, n = engine.n_envs, engine.cn.n
    lv = np.ascontiguousarray(np.broadcast_to(levels, (B, n)), dtype=np.float64)
    cp = np.ascontiguousarray(np.broadcast_to(caps, (B, n)), dtype=np.float64)
    out = np.zeros((B, n))
    _capped_orders(
        engine.t, engine.kernel_net, engine.draws.lead, engine.NS, engine.LS, engine.PIPE, lv, cp,
        out,
    )  # fmt: skip
    return out


def policy_orders_of(engine: StepEngine, policy: PolicySet) -> np.ndarray:
    """The orders ``policy`` would place in the engine's current state (any engine policy)."""
    if engine.policy is policy:
        return engine.policy_orders()
    if engine.draws is None:
        raise RuntimeError("call reset(seed) before asking for orders")
    cn = engine.cn
    NP = cn.NP.copy()
    NI = cn.NI.copy()
    for j, nid in enumerate(cn.ids):
        pol = policy.policies.get(nid)
        if pol is None:
            raise InputError(
                "the policy has no entry for a node of the network",
                field="policies",
                expected=f"a policy for node '{nid}'",
                found="none",
                fix="add the node to the policy file",
            )
        NP[j, NP_POL1], NP[j, NP_POL2] = pol.params()
        NI[j, NI_POL] = int(pol.code())
    knet = (NP, NI, *engine.kernel_net[2:])
    out = np.zeros((engine.n_envs, cn.n))
    K.policy_orders_batch(engine.t, knet, engine.draws.lead, engine.NS, engine.LS, engine.PIPE, out)
    return out


class PolicyAgent:
    """An :class:`~echelon.rl.agent.OrderAgent` that places a policy set's orders.

    Evaluations build this agent's engine with ``policy`` (so the initial stock is the policy's,
    docs/model.md) and it then reproduces :func:`echelon.sim.batch.simulate` exactly.
    """

    def __init__(self, policy: PolicySet, name: str | None = None) -> None:
        self.policy = policy
        self.name = name or policy.method or "policy"

    def reset(self, engine: StepEngine) -> None:
        """Memoryless: nothing to clear."""

    def orders(self, engine: StepEngine) -> np.ndarray:
        return policy_orders_of(engine, self.policy)


class CappedBaseStockAgent:
    """Order ``min(max(0, S − IP), cap)`` at every node (IP: local position after shipping).

    ``levels`` and ``caps`` map node ids to units (nodes left out: level 0 / no cap). ``policy``
    (installation base stock at ``levels``) sets the initial stock of evaluation engines.
    """

    def __init__(
        self,
        net: Network,
        levels: dict[str, float],
        caps: dict[str, float] | None = None,
        name: str | None = None,
    ) -> None:
        ids = net.node_ids()
        caps = caps or {}
        unknown = sorted((set(levels) | set(caps)) - set(ids))
        if unknown:
            raise InputError(
                "capped base stock names nodes that are not in the network",
                expected="node ids of " + net.name,
                found=", ".join(unknown[:5]),
                fix="use the network's node ids",
            )
        bad = {k: v for k, v in caps.items() if not v >= 0}
        if bad:
            raise InputError(
                "an order cap must be >= 0",
                field="cap",
                found=str(bad),
                fix="give caps in units per period, >= 0",
            )
        self.levels = {i: float(levels.get(i, 0.0)) for i in ids}
        self.caps = {i: float(caps.get(i, math.inf)) for i in ids}
        self.policy = PolicySet(
            policies={i: BaseStock(level=v) for i, v in self.levels.items()},
            method="capped-base-stock",
        )
        self.name = name or "capped-base-stock"
        self._arrays: tuple[list[str], np.ndarray, np.ndarray] | None = None

    def reset(self, engine: StepEngine) -> None:
        self._arrays = None

    def orders(self, engine: StepEngine) -> np.ndarray:
        if self._arrays is None or self._arrays[0] != engine.ids:
            lv = np.array([self.levels[i] for i in engine.ids])
            cp = np.array([self.caps[i] for i in engine.ids])
            self._arrays = (list(engine.ids), lv, cp)
        _, lv, cp = self._arrays
        return capped_base_stock_orders(engine, lv, cp)


# --------------------------------------------------------------------------- CRN grid search


def cost_per_period(acc: np.ndarray, periods: int) -> np.ndarray:
    """Network cost per period of each environment from KPI sums ``acc[B, n, N_K]`` (summed
    as :func:`echelon.sim.results.summarize` does, so the numbers agree to the last bit)."""
    per = acc / periods
    cost = per[:, :, K.K_HOLD] + per[:, :, K.K_PIPE] + per[:, :, K.K_PEN] + per[:, :, K.K_ORD]
    return cost.sum(axis=1)


def crn_costs(
    net: Network,
    levels: np.ndarray,
    caps: np.ndarray,
    periods: int,
    reps: int,
    seed: int = 0,
    warmup: int = 100,
) -> np.ndarray:
    """Cost per period ``[C, reps]`` of C capped base-stock candidates (``levels``/``caps``
    ``[C, n_nodes]``, nodes in topological order), every candidate on replications 0..reps−1 of
    ``seed`` (common random numbers). Candidates run as environments of one step engine, in
    chunks that keep the draws under ``DRAW_BUDGET`` bytes."""
    check_run(periods, reps, warmup)
    C = levels.shape[0]
    total = warmup + periods
    pairs = [(c, r) for c in range(C) for r in range(reps)]
    chunk = max(1, min(len(pairs), DRAW_BUDGET // (8 * total * max(1, len(net.nodes)))))
    out = np.zeros((C, reps))
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        cand = np.array([c for c, _ in part])
        eng = StepEngine(net, total, n_envs=len(part), warmup=warmup)
        eng.reset(seed, reps=[r for _, r in part])
        lv, cp = levels[cand], caps[cand]
        while not eng.done:
            eng.step(capped_base_stock_orders(eng, lv, cp))
        cost = cost_per_period(eng.ACC, periods)
        for k, (c, r) in enumerate(part):
            out[c, r] = cost[k]
    return out


@dataclass
class GridResult:
    """An exhaustive CRN search: the best parameters, their cost, and the whole grid.

    ``cost`` is the search estimate (the grid's minimum on the search draws: optimistic);
    ``final`` re-evaluates the best on independent replications (seed + 1).
    """

    network: str
    level: float
    cap: float | None
    cost: Estimate
    final: Estimate
    levels: np.ndarray  # [C] candidates' S
    caps: np.ndarray  # [C] candidates' cap (inf: none)
    means: np.ndarray  # [C] cost per period
    ci95: np.ndarray  # [C]
    periods: int
    reps: int
    seed: int
    warmup: int
    notes: list[str] = field(default_factory=list)

    def agent(self, net: Network) -> CappedBaseStockAgent:
        node = net.nodes[0].id
        caps = None if self.cap is None else {node: self.cap}
        name = "best-base-stock" if self.cap is None else "best-capped-base-stock"
        return CappedBaseStockAgent(net, {node: self.level}, caps, name=name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "level": self.level,
            "cap": self.cap,
            "cost_search": self.cost.to_dict(),
            "cost": self.final.to_dict(),
            "runs": {
                "periods": self.periods,
                "reps": self.reps,
                "seed": self.seed,
                "warmup": self.warmup,
            },
            "grid": [
                {
                    "level": float(s),
                    "cap": None if math.isinf(c) else float(c),
                    "mean": float(m),
                    "ci95": float(h),
                }
                for s, c, m, h in zip(self.levels, self.caps, self.means, self.ci95, strict=True)
            ],
            "notes": self.notes,
        }


def default_level_grid(net: Network, spread: float = 4.0) -> list[int]:
    """Integer S from about (mean − 1 sd) to (mean + ``spread`` sd) of lead-time demand."""
    node = _single_node(net)
    assert node.demand is not None
    mu, sd = node.demand.mean(), node.demand.std()
    ell = max(1.0, node.lead_time.mean())
    lo = max(0, math.floor(mu * ell - sd * math.sqrt(ell)))
    hi = math.ceil(mu * ell + spread * sd * math.sqrt(ell)) + 1
    return list(range(lo, hi + 1))


def default_cap_grid(net: Network) -> list[int]:
    """Integer caps from mean − 1 sd to mean + 3 sd of demand per period."""
    node = _single_node(net)
    assert node.demand is not None
    mu, sd = node.demand.mean(), node.demand.std()
    return list(range(max(1, math.floor(mu - sd)), math.ceil(mu + 3.0 * sd) + 1))


def best_base_stock(
    net: Network,
    levels: Sequence[float] | None = None,
    periods: int = 2000,
    reps: int = 50,
    seed: int = 0,
    warmup: int = 100,
) -> GridResult:
    """Best installation base-stock level S of a single-node network, by exhaustive CRN search."""
    grid = np.asarray(default_level_grid(net) if levels is None else levels, dtype=float)
    return _search(net, grid, np.full(grid.size, np.inf), periods, reps, seed, warmup)


def best_capped_base_stock(
    net: Network,
    levels: Sequence[float] | None = None,
    caps: Sequence[float] | None = None,
    periods: int = 2000,
    reps: int = 50,
    seed: int = 0,
    warmup: int = 100,
) -> GridResult:
    """Best capped base-stock (S, cap) of a single-node network over the grid levels × caps."""
    ls = default_level_grid(net, spread=5.0) if levels is None else list(levels)
    cs = default_cap_grid(net) if caps is None else list(caps)
    S, Cp = np.meshgrid(np.asarray(ls, float), np.asarray(cs, float), indexing="ij")
    return _search(net, S.ravel(), Cp.ravel(), periods, reps, seed, warmup)


def _search(
    net: Network,
    levels: np.ndarray,
    caps: np.ndarray,
    periods: int,
    reps: int,
    seed: int,
    warmup: int,
) -> GridResult:
    _single_node(net)
    if levels.size == 0:
        raise InputError("the search grid is empty", field="levels", fix="give some levels")
    costs = crn_costs(net, levels[:, None], caps[:, None], periods, reps, seed, warmup)
    ests = [Estimate.of(row) for row in costs]
    means = np.array([e.mean for e in ests])
    half = np.array([np.nan if e.ci95 is None else e.ci95 for e in ests])
    best = int(np.argmin(means))
    final = crn_costs(net, levels[best : best + 1, None], caps[best : best + 1, None], periods,
                      reps, seed + 1, warmup)[0]  # fmt: skip
    notes = []
    if best in (0, levels.size - 1) or (
        np.isfinite(caps[best])
        and caps[best] in (caps.min(), caps.max())
        and caps.min() < caps.max()
    ):
        notes.append("the best candidate is on the edge of the grid: widen the grid")
    return GridResult(
        network=net.name,
        level=float(levels[best]),
        cap=None if math.isinf(caps[best]) else float(caps[best]),
        cost=ests[best],
        final=Estimate.of(final),
        levels=levels,
        caps=caps,
        means=means,
        ci95=half,
        periods=periods,
        reps=reps,
        seed=seed,
        warmup=warmup,
        notes=notes,
    )


def simopt_base_stock(
    net: Network,
    periods: int = 1000,
    reps: int = 40,
    seed: int = 0,
    warmup: int | None = None,
    max_evaluations: int = 400,
) -> tuple[PolicySet, Estimate, dict[str, Any]]:
    """Simulation-optimized installation base-stock levels (``echelon.optimize.simopt``).

    Returns the policy, its cost per period on the independent final evaluation, and the
    result's details."""
    from echelon.optimize.simopt import solve_simopt

    res = solve_simopt(
        net, kind="base_stock", objective="cost", periods=periods, reps=reps, seed=seed,
        warmup=warmup, max_evaluations=max_evaluations,
    )  # fmt: skip
    cost = res.details.get("cost")
    est = (
        Estimate(float(cost["mean"]), cost.get("ci95"))
        if isinstance(cost, dict)
        else Estimate(float(res.objective), None)
    )
    policy = res.policy.model_copy(update={"method": "simopt-base-stock"})
    return policy, est, dict(res.details)


def _single_node(net: Network) -> Any:
    if len(net.nodes) != 1 or net.nodes[0].demand is None:
        raise InputError(
            "the exhaustive base-stock search needs a single-node network with demand",
            source=net.name,
            expected="one node with external demand",
            found=f"{len(net.nodes)} nodes",
            fix="use the simulation-optimized base stock (simopt) for multi-node networks",
        )
    return net.nodes[0]


CLASSICAL = ("optimal", "gsm", "single-echelon", "best-base-stock", "best-capped-base-stock",
             "simopt-base-stock")  # fmt: skip


def classical_agent(
    net: Network,
    name: str,
    *,
    periods: int = 2000,
    reps: int = 40,
    seed: int = 1,
    warmup: int = 100,
) -> tuple[OrderAgent, dict[str, Any]]:
    """A named classical policy for ``net`` as an agent, plus how it was found.

    ``optimal``: Clark–Scarf echelon base stock (serial backorder systems); ``gsm``; ``single-
    echelon``; ``best-base-stock`` / ``best-capped-base-stock``: exhaustive CRN search (single
    node); ``simopt-base-stock``: simulation-optimized base stock. Searches use ``seed`` (keep it
    apart from the evaluation seed), ``reps`` × ``periods`` after ``warmup``.
    """
    info: dict[str, Any] = {"method": name}
    if name in ("best-base-stock", "best-capped-base-stock"):
        search = best_base_stock if name == "best-base-stock" else best_capped_base_stock
        grid = search(net, periods=periods, reps=reps, seed=seed, warmup=warmup)
        info |= {"level": grid.level, "cap": grid.cap, "cost": grid.final.to_dict(),
                 "notes": grid.notes}  # fmt: skip
        return grid.agent(net), info
    if name == "simopt-base-stock":
        policy, est, _ = simopt_base_stock(net, periods=periods, reps=reps, seed=seed)
        info["cost"] = est.to_dict()
        return PolicyAgent(policy, name), info
    from echelon.optimize.result import OptimizeMethod
    from echelon.optimize.service import optimize_network

    methods = {"optimal": OptimizeMethod.CLARK_SCARF, "gsm": OptimizeMethod.GSM,
               "single-echelon": OptimizeMethod.SINGLE_ECHELON}  # fmt: skip
    if name not in methods:
        raise InputError(
            "unknown classical policy",
            field="vs",
            expected=" | ".join(CLASSICAL) + " or a policy file",
            found=repr(name),
            fix="name one of them, or give a policy file (.yaml/.json)",
        )
    res = optimize_network(net, methods[name])
    info["objective"] = res.objective
    return PolicyAgent(res.policy, name), info
