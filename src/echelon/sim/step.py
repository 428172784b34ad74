"""The step engine: ``reset(seed)`` / ``step(orders)`` over a batch of environments.

It runs the same kernel functions as the batch engine (docs/model.md). The decision epoch of
period t is after steps 1–2 (receive, observe demand): ``reset`` and ``step`` return there, and
``step(orders)`` then runs steps 3–4 node by node from downstream to upstream with the given
orders of period t (order rules included) in place of the policy's, counts the costs and moves on
to period t + 1. Environment b of a reset with seed s uses replication b's
random stream (or the replication indices given), so driving the step engine with the policy's
own orders (:meth:`StepEngine.policy_orders`) reproduces the batch engine's trajectory exactly.
"""

from __future__ import annotations

import numpy as np

from echelon.network.model import Network
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim import kernel as K
from echelon.sim.compiled import CompiledNetwork, compile_network
from echelon.sim.draws import Draws, make_draws
from echelon.sim.scenario import Scenario


class StepEngine:
    """A batch of ``n_envs`` simulated networks advanced one period at a time.

    ``orders`` are quantities per node (in topological order, :attr:`ids`), units of the node's
    item; the node's order rules (MOQ, lot multiple, capacity) are applied to them. ``policy``
    sets the initial on-hand and is what :meth:`policy_orders` evaluates; without one, nodes
    start with their ``initial_on_hand`` (or 0).
    """

    def __init__(
        self,
        net: Network,
        horizon: int,
        n_envs: int = 1,
        policy: PolicySet | None = None,
        scenario: Scenario | None = None,
        warmup: int = 0,
    ) -> None:
        if policy is None:
            policy = PolicySet(policies={n.id: BaseStock(level=0.0) for n in net.nodes})
        self.net = net
        self.policy = policy
        self.horizon = horizon
        self.n_envs = n_envs
        self.warmup = warmup
        self.cn: CompiledNetwork = compile_network(net, policy, scenario, warmup)
        cn = self.cn
        self.kernel_net = cn.kernel_net  # built once: the kernels are called every period
        B = n_envs
        self.NS = np.zeros((B, cn.n, K.N_S))
        self.LS = np.zeros((B, cn.m, K.N_L))
        self.PIPE = np.zeros((B, cn.m, cn.horizon))
        self.closed_until = np.zeros((B, cn.n), dtype=np.int64)
        self.ACC = np.zeros((B, cn.n, K.N_K))
        self.t = 0
        self.draws: Draws | None = None

    @property
    def ids(self) -> list[str]:
        return self.cn.ids

    def reset(self, seed: int, reps: list[int] | None = None) -> None:
        """Start period 0 of every environment (env b uses replication ``reps[b]``, default b)."""
        reps = list(range(self.n_envs)) if reps is None else list(reps)
        if len(reps) != self.n_envs:
            raise ValueError(f"reps has {len(reps)} entries for {self.n_envs} environments")
        self.draws = make_draws(self.cn, self.net, seed, reps, self.horizon)
        self.ACC[:] = 0.0
        self.t = 0
        d = self.draws
        K.reset_batch(
            self.kernel_net, d.demand, d.onset, d.duration, self.NS, self.LS, self.PIPE,
            self.closed_until,
        )  # fmt: skip

    @property
    def done(self) -> bool:
        return self.t >= self.horizon

    def step(self, orders: np.ndarray) -> np.ndarray:
        """Apply period t's orders ``[n_envs, n_nodes]``; return each node's cost of period t."""
        if self.draws is None:
            raise RuntimeError("call reset(seed) before step()")
        if self.done:
            raise RuntimeError(f"the horizon of {self.horizon} periods is over; call reset()")
        orders = np.ascontiguousarray(orders, dtype=np.float64).reshape(self.n_envs, self.cn.n)
        cost = np.zeros((self.n_envs, self.cn.n))
        d = self.draws
        K.step_batch(
            self.t, self.t >= self.warmup, orders, self.kernel_net, *d.arrays, self.NS, self.LS,
            self.PIPE, self.closed_until, self.ACC, cost,
        )  # fmt: skip
        self.t += 1
        return cost

    def policy_orders(self) -> np.ndarray:
        """The orders ``[n_envs, n_nodes]`` the policy would place now (after order rules)."""
        if self.draws is None:
            raise RuntimeError("call reset(seed) before policy_orders()")
        if self.done:
            raise RuntimeError(f"the horizon of {self.horizon} periods is over; call reset()")
        out = np.zeros((self.n_envs, self.cn.n))
        K.policy_orders_batch(
            self.t, self.kernel_net, self.draws.lead, self.NS, self.LS, self.PIPE, out
        )
        return out

    # ----------------------------------------------------------------- observation
    @property
    def on_hand(self) -> np.ndarray:
        return self.NS[:, :, K.S_OH]

    @property
    def on_order(self) -> np.ndarray:
        return self.NS[:, :, K.S_OO]

    @property
    def backorders(self) -> np.ndarray:
        """External demand not yet shipped, this period's demand included (before shipping)."""
        return self.NS[:, :, K.S_BO]

    @property
    def demand(self) -> np.ndarray:
        """External demand observed in the current period."""
        return self.NS[:, :, K.S_DNEW]

    @property
    def lane_backlog(self) -> np.ndarray:
        return self.LS[:, :, K.L_BL]

    @property
    def in_transit(self) -> np.ndarray:
        return self.LS[:, :, K.L_TRANSIT]

    def pipeline(self) -> np.ndarray:
        """Units due per lane ``k`` periods from now, ``[n_envs, n_lanes, horizon]`` (k = 0..)."""
        H = self.PIPE.shape[2]
        idx = (self.t + np.arange(H)) % H
        return self.PIPE[:, :, idx]

    def inventory_position(self) -> np.ndarray:
        """Local inventory position per node (docs/model.md), before this period's orders."""
        ip = self.on_hand + self.on_order - self.backorders
        cn = self.cn
        for e in range(cn.m):
            src = cn.LI[e, 0]
            if src >= 0:
                ip[:, src] -= self.LS[:, e, K.L_BL]
        return ip
