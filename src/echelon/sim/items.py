"""Many items of one network structure simulated in one kernel call (``kernel.run_items``).

The items of a plan share the network's structure — nodes, lanes, lane lead-time distributions
(fitted per lane, not per item), rationing and stockout modes — and differ only in node
parameters (holding cost, unit value, lot multiple, MOQ, base-stock level: ``NP[i]``), the
pipeline's holding cost (``LF[i]``), the initial on-hand and their store demand. A batch keeps
the structure once and those per-item arrays; the draws of all items are arrays
``demand[items, reps, T, demand nodes]`` and ``lead[items, reps, T, stochastic lanes]``.

Random numbers: replication r of item i draws from the stream ``(seed_i, r)`` in the order of
:mod:`echelon.sim.draws`, exactly as ``simulate(net_i, policy_i, ..., seed=seed_i)``; demand
given as paths (``ScenarioDemand`` in ``simulate``) is taken from a numpy array instead of
lists and draws nothing, as there. So every item's KPI sums are those of ``simulate`` on the
item alone (tests/sim/test_items.py); the dynamics are the kernel's own period functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from echelon.errors import NetworkError
from echelon.network.distributions import ConstantDemand
from echelon.network.model import Network
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim import kernel as K
from echelon.sim.compiled import NP_POL1, CompiledNetwork, compile_network
from echelon.sim.draws import make_draws

#: bytes of draws (and KPI sums) a chunk of items may hold (see :func:`items_per_chunk`)
ITEM_BUDGET_BYTES = 256 * 2**20
_SHARED = ("NI", "LI", "in_ptr", "in_lane", "out_ptr", "out_lane")


@dataclass
class ItemBatch:
    """Items of one structure (module doc). ``structure``: the first item's compiled network
    (its shared arrays); per item: ``NP[i, node, NP_*]``, ``LF[i, lane, LF_*]``, the initial
    on-hand ``init[i, node]`` (units) of the policies it was compiled with, ``fixed[i, node]``
    where the node sets its own initial on-hand, and ``unit_value[i, node]`` (money/unit)."""

    structure: CompiledNetwork
    NP: np.ndarray
    LF: np.ndarray
    init: np.ndarray
    fixed: np.ndarray
    unit_value: np.ndarray

    @property
    def items(self) -> int:
        return int(self.NP.shape[0])

    def take(self, rows: np.ndarray) -> ItemBatch:
        """The batch of items ``rows`` only (same structure)."""
        return ItemBatch(
            self.structure, self.NP[rows], self.LF[rows], self.init[rows], self.fixed[rows],
            self.unit_value[rows],
        )  # fmt: skip

    def levels(self, policies: Sequence[PolicySet]) -> np.ndarray:
        """Base-stock levels ``[items, node]`` (units) of one policy set per item."""
        ids = self.structure.ids
        out = np.empty((len(policies), len(ids)))
        for i, pol in enumerate(policies):
            for j, nid in enumerate(ids):
                p = pol.policies[nid]
                if not isinstance(p, BaseStock):
                    raise NetworkError(
                        "batched item simulation takes installation base-stock policies only",
                        where=f"node '{nid}'",
                        found=type(p).__name__,
                        fix="simulate this item with echelon.sim.batch.simulate",
                    )
                out[i, j] = p.level
        return out

    def with_levels(self, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(NP, init)`` with base-stock levels ``levels[items, node]`` (units): the order-up-to
        level and, where the node sets none of its own, the initial on-hand ``max(0, level)``
        (``BaseStock.target_on_hand``)."""
        NP = self.NP.copy()
        NP[:, :, NP_POL1] = levels
        init = np.where(self.fixed, self.init, np.maximum(0.0, levels))
        return NP, init


def compile_items(nets: Sequence[Network], policies: Sequence[PolicySet]) -> ItemBatch:
    """Compile one network and policy set per item; the networks must share their structure."""
    cns = [compile_network(net, pol) for net, pol in zip(nets, policies, strict=True)]
    first = cns[0]
    for net, cn in zip(nets, cns, strict=True):
        same = (
            cn.ids == first.ids
            and cn.horizon == first.horizon
            and cn.has_zero_lead_time == first.has_zero_lead_time
            and cn.demand_nodes == first.demand_nodes
            and cn.stochastic_lanes == first.stochastic_lanes
            and cn.lane_lead_times == first.lane_lead_times
            and all(np.array_equal(getattr(cn, a), getattr(first, a)) for a in _SHARED)
        )
        if not same:
            raise NetworkError(
                "items simulated together must share the network structure",
                where=f"network '{net.name}'",
                expected=f"the nodes, lanes and lane lead times of '{nets[0].name}'",
                fix="simulate items of different structures in separate batches",
            )
    fixed = np.array(
        [[net.node(nid).initial_on_hand is not None for nid in first.ids] for net in nets]
    )
    return ItemBatch(
        structure=first,
        NP=np.stack([cn.NP for cn in cns]),
        LF=np.stack([cn.LF for cn in cns]),
        init=np.stack([cn.init_on_hand for cn in cns]),
        fixed=fixed,
        unit_value=np.stack([cn.unit_value for cn in cns]),
    )


def item_draws(
    cn: CompiledNetwork,
    net: Network,
    seed: int,
    reps: int,
    periods: int,
    paths: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Demand ``[reps, periods, demand nodes]`` and lead times ``[reps, periods, stochastic
    lanes]`` of one item, the numbers ``simulate`` draws for ``net`` with seed ``seed`` where
    the demand of every node of ``paths`` is ``ScenarioDemand`` on the rows of
    ``paths[node][p, t]`` (units per period; replication r takes row ``r mod rows``)."""
    for nid, p in paths.items():
        if p.ndim != 2 or p.shape[1] < periods:
            raise NetworkError(
                "demand paths are shorter than the simulation",
                where=f"node '{nid}'",
                field="paths",
                expected=f"an array [paths, >= {periods}]",
                found=f"shape {p.shape}",
                fix="give longer paths, or simulate fewer periods",
            )
    # paths draw no random numbers, and neither does constant demand: same streams
    placeholder = [
        n.model_copy(update={"demand": ConstantDemand(value=0.0)}) if n.id in paths else n
        for n in net.nodes
    ]
    draws = make_draws(
        cn, net.model_copy(update={"nodes": placeholder}), seed, range(reps), periods
    )
    rows = np.arange(reps)
    for nid, p in paths.items():
        col = cn.demand_nodes.index(cn.index(nid))
        draws.demand[:, :, col] = p[rows % p.shape[0], :periods]
    return draws.demand, draws.lead


def simulate_items(
    batch: ItemBatch,
    levels: np.ndarray | None,
    demand: np.ndarray,
    lead: np.ndarray,
    warmup: int,
) -> np.ndarray:
    """KPI sums ``[items, reps, node, N_K]`` of every item at base-stock ``levels[item, node]``
    (units; None: the policies the batch was compiled with) on the draws
    ``demand[item, rep, t, col]``, ``lead[item, rep, t, lane]`` (one numba call over all
    items × replications); periods ``t >= warmup`` are counted."""
    cn = batch.structure
    NP, init = (batch.NP, batch.init) if levels is None else batch.with_levels(levels)
    acc = np.zeros((demand.shape[0], demand.shape[1], cn.n, K.N_K))
    K.run_items(
        cn.kernel_net, NP, np.ascontiguousarray(batch.LF), init, cn.horizon,
        np.ascontiguousarray(demand), np.ascontiguousarray(lead), warmup, acc,
    )  # fmt: skip
    return acc


def fill_rates(acc: np.ndarray, nodes: Sequence[int]) -> np.ndarray:
    """Mean over replications of every item's fill rate at ``nodes`` (units filled in the
    period demanded / units demanded), ``[items, len(nodes)]``; NaN where a node had no demand
    in any replication. The same number as ``summarize(acc[i]).nodes[j].fill_rate.mean``
    (replications without demand left out; the same summation order)."""
    cols = np.asarray(nodes, dtype=np.int64)
    num = acc[:, :, cols, K.K_FILL].transpose(0, 2, 1)
    den = acc[:, :, cols, K.K_DEM].transpose(0, 2, 1)
    ok = den > 0
    ratio = np.ascontiguousarray(np.where(ok, num / np.where(ok, den, 1.0), np.nan))
    out = ratio.mean(axis=2) if ratio.size else np.zeros(ratio.shape[:2])
    partial = ~ok.all(axis=2)
    for i, j in zip(*np.nonzero(partial), strict=True):
        x = ratio[i, j][ok[i, j]]
        out[i, j] = x.mean() if x.size else np.nan
    return np.asarray(out)


def items_per_chunk(bytes_per_item: int, budget: int = ITEM_BUDGET_BYTES) -> int:
    """Items a chunk may hold: their arrays (``bytes_per_item`` each) fit in ``budget``."""
    return int(max(1, budget // max(1, bytes_per_item)))
