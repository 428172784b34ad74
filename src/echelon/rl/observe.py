"""Observations, actions and rewards of the RL environments, as pure functions of a StepEngine.

The environments (:mod:`echelon.rl.env`, :mod:`echelon.rl.vector`) and the trained agents
(:mod:`echelon.rl.ppo`) build observations and orders with the SAME objects defined here, so an
agent acting in a bare :class:`~echelon.sim.step.StepEngine` sees exactly what it saw in training.

Conventions. Quantities are divided by the node's scale: its mean demand per period (the
external demand it must supply, along the bill of materials, ``echelon_demand``), or 1 where
that is 0. Actions are in [-1, 1] per node (nodes in ``engine.ids`` order):

- ``raw``: order quantities in [0, ``max_order_j``] (the node's capacity, or
  ``max_order_factor`` × its scale), piecewise linear in ``a_j`` with ``a = -1`` → 0,
  ``a = 0`` → the mean demand per period (the scale, at most ``max_order_j``), ``a = 1`` →
  ``max_order_j``: an untrained policy starts by ordering the mean demand;
- ``anchor``: ``q_j = max(0, anchor_j + a_j · adjust_scale · scale_j)``, where ``anchor_j`` is
  what the classical anchor policy would order now; ``a = 0`` reproduces the anchor policy.

Rewards are per period: ``-reward_scale · cost`` (money per period summed over nodes), or, with
``reward = "service"``, additionally ``-reward_scale · service_weight · unmet`` while the
episode's external fill rate so far is below ``fill_rate_target`` (``unmet``: units of this
period's external demand not filled at once), so service comes first and cost second.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from echelon.network.graph import echelon_demand
from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.sim import compiled as C
from echelon.sim import kernel as K
from echelon.sim.compiled import compile_network
from echelon.sim.step import StepEngine


class EnvConfig(BaseModel):
    """How an environment observes, acts and is rewarded (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["anchor", "raw"] = "anchor"
    anchor: Literal["auto", "clark-scarf", "gsm", "simopt", "single-echelon"] = "auto"
    adjust_scale: float = Field(0.5, gt=0, description="anchor mode: max adjustment / scale")
    max_order_factor: float = Field(4.0, gt=0, description="raw mode: max order / scale")
    demand_history: int = Field(2, ge=1, description="periods of recent demand observed")
    forecast: bool = Field(False, description="observe an exponentially smoothed demand level")
    forecast_alpha: float = Field(0.1, gt=0, le=1)
    reward: Literal["cost", "service"] = "cost"
    fill_rate_target: float = Field(0.95, gt=0, le=1)
    service_weight: float = Field(10.0, gt=0, description="money per unit unmet, x cost scale")
    reward_scale: float | None = Field(None, gt=0, description="None: 1 / cost scale")
    episode_periods: int = Field(256, ge=1, description="periods per training episode")


def node_scales(net: Network, ids: list[str]) -> np.ndarray:
    """Mean demand per period each node supplies (units), 1 where it is 0; ``ids`` order."""
    flows = echelon_demand(net)
    s = np.array([flows[i][0] for i in ids], dtype=np.float64)
    return np.where(s > 1e-9, s, 1.0)


def cost_scale(net: Network, ids: list[str]) -> float:
    """A cost per period of the network's order of magnitude: Σ_j (h_j + p_j) · scale_j."""
    sc = node_scales(net, ids)
    total = sum(
        (net.node(i).holding_cost + net.node(i).penalty_cost) * s
        for i, s in zip(ids, sc, strict=True)
    )
    return float(total) if total > 0 else 1.0


def anchor_kernel_net(engine: StepEngine, anchor: PolicySet) -> tuple[np.ndarray | bool, ...]:
    """The engine's kernel network with the anchor policy's parameters in place of its own."""
    acn = compile_network(engine.net, anchor)
    if acn.ids != engine.ids:
        raise ValueError("the anchor policy was compiled for a different node order")
    net = list(engine.kernel_net)
    NP = engine.cn.NP.copy()
    NI = engine.cn.NI.copy()
    NP[:, [C.NP_POL1, C.NP_POL2]] = acn.NP[:, [C.NP_POL1, C.NP_POL2]]
    NI[:, C.NI_POL] = acn.NI[:, C.NI_POL]
    net[0], net[1] = NP, NI
    return tuple(net)


def anchor_orders(engine: StepEngine, kernel_net: tuple[np.ndarray | bool, ...]) -> np.ndarray:
    """What the anchor policy would order now, ``[n_envs, n_nodes]`` (order rules applied)."""
    if engine.draws is None:
        raise RuntimeError("call engine.reset(seed) first")
    out = np.zeros((engine.n_envs, engine.cn.n))
    K.policy_orders_batch(engine.t, kernel_net, engine.draws.lead, engine.NS, engine.LS,
                          engine.PIPE, out)  # fmt: skip
    return out


class Observer:
    """Builds the observation ``[n_envs, dim]`` (float32) of a step engine at a decision epoch.

    Features, each divided by the node's scale: on hand, external backorders, on order,
    inventory position and echelon inventory position per node; the backlog of each internal
    lane (supplier's units); the pipeline of each lane due 1 … ``pipe_slots`` periods ahead
    (customer's units); the last ``demand_history`` periods of external demand per demand node; with
    ``forecast``, an exponentially smoothed demand level per demand node. Call :meth:`reset`
    after every ``engine.reset`` (it clears the demand memory).
    """

    def __init__(
        self, net: Network, engine: StepEngine, config: EnvConfig, pipe_slots: int | None = None
    ) -> None:
        cn = engine.cn
        self.config = config
        self.ids = list(cn.ids)
        self.scale = node_scales(net, self.ids)
        self.src = cn.LI[:, C.LI_SRC].copy()
        self.dst = cn.LI[:, C.LI_DST].copy()
        self.qty = cn.LF[:, C.LF_QTY].copy()
        self.internal = np.flatnonzero(self.src >= 0)
        self.dem = np.array(cn.demand_nodes, dtype=np.int64)
        self.order = list(range(cn.n))  # topological: suppliers first
        # pipeline slots observed: 1 … slots periods ahead (fixed at training time)
        self.slots = engine.PIPE.shape[2] - 1 if pipe_slots is None else pipe_slots
        n, nd = cn.n, len(self.dem)
        self.dim = 5 * n + len(self.internal) + cn.m * self.slots
        self.dim += nd * config.demand_history + (nd if config.forecast else 0)
        self.history = np.zeros((engine.n_envs, config.demand_history, nd))
        self.level = np.zeros((engine.n_envs, nd))

    def reset(self, engine: StepEngine) -> None:
        """Forget the demand memory (filled with the mean demand per period)."""
        mean = self.scale[self.dem]
        self.history = np.broadcast_to(
            mean, (engine.n_envs, self.config.demand_history, len(self.dem))
        ).copy()
        self.level = np.broadcast_to(mean, (engine.n_envs, len(self.dem))).copy()

    def echelon_position(self, ip: np.ndarray) -> np.ndarray:
        """EIP_j = IP_j + Σ_{e=(j→k)} a_e · EIP_k (docs/model.md), ``[n_envs, n_nodes]``."""
        eip = ip.copy()
        for j in reversed(self.order):
            for e in self.internal:
                if self.src[e] == j:
                    eip[:, j] += self.qty[e] * eip[:, self.dst[e]]
        return eip

    def observe(self, engine: StepEngine) -> np.ndarray:
        """The observation now; also records this period's demand in the memory."""
        d = engine.demand[:, self.dem]
        self.history = np.concatenate([d[:, None, :], self.history[:, :-1, :]], axis=1)
        a = self.config.forecast_alpha
        self.level = a * d + (1.0 - a) * self.level
        s = self.scale
        ip = engine.inventory_position()
        parts = [
            engine.on_hand / s,
            engine.backorders / s,
            engine.on_order / s,
            ip / s,
            self.echelon_position(ip) / s,
            engine.lane_backlog[:, self.internal] / s[self.src[self.internal]],
        ]
        if self.slots > 0:
            pipe = np.zeros((engine.n_envs, len(self.dst), self.slots))
            have = engine.pipeline()[:, :, 1 : 1 + self.slots]
            pipe[:, :, : have.shape[2]] = have
            parts.append((pipe / s[self.dst][None, :, None]).reshape(engine.n_envs, -1))
        parts.append((self.history / s[self.dem]).reshape(engine.n_envs, -1))
        if self.config.forecast:
            parts.append(self.level / s[self.dem])
        return np.concatenate(parts, axis=1).astype(np.float32)


class ActionMap:
    """Maps actions in [-1, 1] ``[n_envs, n_nodes]`` to order quantities (module docstring)."""

    def __init__(self, net: Network, engine: StepEngine, config: EnvConfig) -> None:
        self.mode = config.action
        scale = node_scales(net, engine.ids)
        cap = engine.cn.NP[:, C.NP_CAP]
        self.max_order = np.where(np.isfinite(cap), cap, config.max_order_factor * scale)
        self.mid = np.minimum(scale, self.max_order)
        self.width = config.adjust_scale * scale

    def orders(self, action: np.ndarray, anchor: np.ndarray | None) -> np.ndarray:
        """Orders (units) for ``action``; ``anchor`` (the anchor's orders) in anchor mode."""
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if self.mode == "raw":
            return np.where(a < 0, (a + 1.0) * self.mid, self.mid + a * (self.max_order - self.mid))
        if anchor is None:
            raise ValueError("anchor mode needs the anchor policy's orders")
        return np.maximum(0.0, anchor + a * self.width)


class Reward:
    """Reward per environment for one period (module docstring); reads the engine's KPI sums."""

    def __init__(self, net: Network, engine: StepEngine, config: EnvConfig) -> None:
        self.config = config
        self.scale = (
            config.reward_scale
            if config.reward_scale is not None
            else 1.0 / cost_scale(net, engine.ids)
        )
        self.dem = np.array(engine.cn.demand_nodes, dtype=np.int64)
        self.unit_penalty = (
            config.service_weight
            * cost_scale(net, engine.ids)
            / max(
                float(node_scales(net, engine.ids)[self.dem].sum()) if len(self.dem) else 1.0, 1e-9
            )
        )
        self._filled = np.zeros(engine.n_envs)
        self._demand = np.zeros(engine.n_envs)

    def reset(self, engine: StepEngine) -> None:
        self._filled = np.zeros(engine.n_envs)
        self._demand = np.zeros(engine.n_envs)

    def __call__(self, engine: StepEngine, cost: np.ndarray) -> np.ndarray:
        """``cost``: each node's cost of the period just stepped ``[n_envs, n_nodes]``."""
        total = cost.sum(axis=1)
        if self.config.reward == "cost" or len(self.dem) == 0:
            return -self.scale * total
        acc = engine.ACC[:, self.dem]
        filled = acc[:, :, K.K_EXTFILL].sum(axis=1)
        demand = acc[:, :, K.K_EXTDEM].sum(axis=1)
        unmet = np.maximum(0.0, (demand - self._demand) - (filled - self._filled))
        self._filled, self._demand = filled, demand
        rate = np.where(demand > 0, filled / np.maximum(demand, 1e-12), 1.0)
        missed = rate < self.config.fill_rate_target
        return -self.scale * (total + np.where(missed, self.unit_penalty * unmet, 0.0))
