"""The DPG policy: state features and an order-up-to network with a learned correction.

Features (units of each node's item) are built the same way from the differentiable simulator
(:class:`~echelon.rl.diffsim.DiffSim`) in training and from a step engine when the agent acts:
on hand, external backorders, local and echelon inventory positions of every node (the echelon
ones net of what lost-sales stores are about to lose), the units due
``1..L`` periods from now on every lane, and the backlogs of the network lanes.

The order of node j is ``q_j = min(max(0, S_j + c_j(x) − EIP_j), r_j)``: an echelon
order-up-to level ``S_j`` (a parameter), a state-dependent correction ``c_j(x)`` (a small MLP on
the standardized features, zero at the start) and a learned cap ``r_j`` — a capped echelon
base-stock policy when the correction is zero. Levels and caps are learned in units of
``scale_j`` (mean demand per period through node j).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from echelon.network.model import Network
from echelon.rl.diffsim import DiffSim, SimState
from echelon.sim.step import StepEngine

Tensor = torch.Tensor


class FeatureMap:
    """Which state quantities make the feature vector of a network (node/lane order of
    ``DiffSim``, the same as the step engine's)."""

    def __init__(self, sim: DiffSim) -> None:
        self.n = sim.n
        self.lead = list(sim.lead)
        self.out_lanes = sim.out_lanes
        self.dst = sim.dst
        self.net_lanes = [e for e in range(sim.m) if sim.src[e] >= 0]
        # lost-sales nodes without customers lose max(0, BO - OH) when they ship (step 3)
        self.lost_leaf = torch.tensor(
            [1.0 if sim.lost_mode[j] and not sim.out_lanes[j] else 0.0 for j in range(sim.n)],
            dtype=torch.float64,
        )

    @property
    def size(self) -> int:
        return 4 * self.n + sum(self.lead) + len(self.net_lanes)

    def echelon(self, ip: Tensor) -> Tensor:
        """Echelon inventory positions ``[B, n]`` from the local ones (lane quantity 1)."""
        eip: list[Tensor | None] = [None] * self.n
        for j in range(self.n - 1, -1, -1):
            x = ip[:, j]
            for e in self.out_lanes[j]:
                x = x + eip[self.dst[e]]  # type: ignore[operator]
            eip[j] = x
        return torch.stack(eip, dim=1)  # type: ignore[arg-type]

    def build(self, oh: Tensor, bo: Tensor, ip: Tensor, pipe: Tensor, bl: Tensor) -> Tensor:
        """Feature vector ``[B, size]`` from the raw quantities. The echelon positions are
        those after this period's shipping at lost-sales nodes without customers (what they
        lose leaves the position, as in the policies of docs/model.md step 4)."""
        after = ip + self.lost_leaf * torch.relu(bo - oh)
        return torch.cat([oh, bo, ip, self.echelon(after), pipe, bl], dim=1)

    def from_sim(self, sim: DiffSim, st: SimState) -> Tensor:
        bl = [st.bl[e] for e in self.net_lanes]
        bl_t = torch.stack(bl, dim=1) if bl else st.demand.new_zeros((st.demand.shape[0], 0))
        return self.build(
            sim.stack(st.oh), sim.stack(st.bo), sim.inventory_position(st), sim.pipeline(st), bl_t
        )

    def from_engine(self, engine: StepEngine) -> Tensor:
        pipe_all = engine.pipeline()
        pipe = np.concatenate(
            [pipe_all[:, e, 1 : L + 1] for e, L in enumerate(self.lead)]
            + [np.zeros((engine.n_envs, 0))],
            axis=1,
        )
        bl = engine.lane_backlog[:, self.net_lanes]
        parts = (engine.on_hand, engine.backorders, engine.inventory_position(), pipe, bl)
        oh, bo, ip, pi, b = (torch.as_tensor(np.array(x, dtype=np.float64)) for x in parts)
        return self.build(oh, bo, ip, pi, b)

    def eip_of(self, feats: Tensor) -> Tensor:
        """The echelon positions inside a feature vector."""
        return feats[:, 3 * self.n : 4 * self.n]


def node_demand_stats(net: Network, sim: DiffSim) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node (``sim.ids`` order): mean and std of the external demand per period at or below
    it, and its echelon lead time (periods of demand a level covers: ``max(L, 1)`` plus its
    customers' deepest)."""
    n = sim.n
    mu, var, cum = np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(n - 1, -1, -1):
        node = net.node(sim.ids[j])
        if node.demand is not None:
            mu[j] += node.demand.mean()
            var[j] += node.demand.std() ** 2
        deepest = 0.0
        for e in sim.out_lanes[j]:
            k = sim.dst[e]
            mu[j] += mu[k]
            var[j] += var[k]
            deepest = max(deepest, cum[k])
        cum[j] = max(sim.lead[sim.in_lane[j]], 1) + deepest
    return mu, np.sqrt(var), cum


def _softplus_inv(y: float) -> float:
    return y + math.log(-math.expm1(-y)) if y < 30 else y


class OrderNet(nn.Module):
    """Orders ``[B, n]`` from features ``[B, F]`` (module docstring); float64 throughout."""

    scale: Tensor  # buffers: units per node, feature standardization
    feat_mean: Tensor
    feat_std: Tensor

    def __init__(
        self,
        n_features: int,
        scale: np.ndarray,
        level0: np.ndarray,
        cap0: np.ndarray,
        width: int,
        depth: int,
        feat_mean: np.ndarray,
        feat_std: np.ndarray,
        eip_slice: tuple[int, int],
    ) -> None:
        super().__init__()
        n = len(scale)
        self.eip_slice = eip_slice
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float64))
        self.register_buffer("feat_mean", torch.as_tensor(feat_mean, dtype=torch.float64))
        self.register_buffer("feat_std", torch.as_tensor(feat_std, dtype=torch.float64))
        self.level = nn.Parameter(torch.as_tensor(level0 / scale, dtype=torch.float64))
        self.cap = nn.Parameter(
            torch.tensor([_softplus_inv(c / s) for c, s in zip(cap0, scale, strict=True)])
        )
        layers: list[nn.Module] = []
        d = n_features
        for _ in range(depth):
            layers += [nn.Linear(d, width, dtype=torch.float64), nn.Tanh()]
            d = width
        last = nn.Linear(d, n, dtype=torch.float64)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        layers.append(last)
        self.mlp = nn.Sequential(*layers)

    def forward(self, feats: Tensor) -> Tensor:
        x = (feats - self.feat_mean) / self.feat_std
        target = self.scale * (self.level + self.mlp(x))
        eip = feats[:, self.eip_slice[0] : self.eip_slice[1]]
        cap = self.scale * nn.functional.softplus(self.cap)
        return torch.minimum(torch.relu(target - eip), cap)

    @torch.no_grad()
    def describe(self) -> dict[str, list[float]]:
        """Levels and caps in units (the policy when the correction is zero)."""
        cap = self.scale * nn.functional.softplus(self.cap)
        return {
            "levels": (self.scale * self.level).tolist(),
            "caps": cap.tolist(),
        }
