"""A differentiable simulator: docs/model.md's sequence of events in torch, for policy gradients.

The same events as the step engine (:class:`echelon.sim.step.StepEngine`), written with
differentiable torch operations (float64) over a batch of ``B`` sample paths, for the networks
the RL instances need: serial and distribution (tree) networks — every node has one supplier, a
network lane with quantity 1 or its external supplier —, backorders or lost sales, deterministic
lead times, proportional rationing and order capacities (orders are clamped to ``capacity``).
Costs per node and period are docs/model.md step 5: holding ``h·OH``, pipeline holding at the
supplier's holding cost, and the penalty per unit backordered per period (backorders) or per unit
lost (lost sales). Anything else raises :class:`DiffSimUnsupportedError`.

Like the step engine, :meth:`DiffSim.reset` and :meth:`DiffSim.step` stop at the decision epoch
(after receipts and this period's demand). Demand comes from the step engine's own
:class:`~echelon.sim.draws.Draws` (``draws.demand[B, T, n_demand_nodes]``); there is no gradient
through the draws, only through the orders (pathwise gradient).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from echelon.errors import InputError
from echelon.network.distributions import is_stochastic
from echelon.network.model import Network, Rationing
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim.compiled import (
    LF_HSRC,
    LF_QTY,
    LI_DST,
    LI_LTFIX,
    LI_SRC,
    NI_DEMCOL,
    NI_LOST,
    NP_CAP,
    NP_H,
    NP_P,
    CompiledNetwork,
    compile_network,
)
from echelon.sim.draws import Draws

EPS = 1e-9  # orders of at most 1e-9 units count as no order (docs/model.md step 4)
Tensor = torch.Tensor


class DiffSimUnsupportedError(InputError):
    """The network uses a feature the differentiable simulator does not model."""


def check_supported(net: Network) -> None:
    """Raise :class:`DiffSimUnsupportedError` naming the first unsupported feature of ``net``."""

    def bad(feature: str, where: str, found: str, fix: str) -> DiffSimUnsupportedError:
        return DiffSimUnsupportedError(
            f"the differentiable simulator does not support {feature}",
            source=net.name,
            where=where,
            expected="serial or distribution network, deterministic lead times, capacities only",
            found=found,
            fix=fix,
        )

    inbound: dict[str, int] = {}
    for lane in net.lanes:
        inbound[lane.target] = inbound.get(lane.target, 0) + 1
        where = f"lane {lane.source} -> {lane.target}"
        if lane.quantity != 1.0:
            raise bad("bills of materials", where, f"quantity {lane.quantity:g}", "use quantity 1")
        if is_stochastic(net.lane_lead_time(lane)):
            raise bad("stochastic lead times", where, "a random lead time", "use a fixed one")
    for node in net.nodes:
        where = f"node '{node.id}'"
        n_in = inbound.get(node.id, 0) + (1 if node.external_supplier else 0)
        if n_in != 1:
            raise bad("assembly (several suppliers)", where, f"{n_in} suppliers", "use a tree")
        if node.external_supplier and is_stochastic(node.lead_time):
            raise bad("stochastic lead times", where, "a random lead time", "use a fixed one")
        if node.min_order_qty > 0 or node.lot_multiple > 0:
            raise bad("MOQ / lot multiples", where, "an order rule", "drop min_order_qty/lot")
        if node.fixed_order_cost > 0:
            raise bad("fixed order costs", where, "fixed_order_cost > 0", "set it to 0")
        if node.rationing is Rationing.PRIORITY:
            raise bad("priority rationing", where, "rationing: priority", "use proportional")


@dataclass
class SimState:
    """State of a batch at a decision epoch: lists of ``[B]`` float64 tensors.

    Nodes in topological order (``DiffSim.ids``), lanes as in the compiled network (network
    lanes, then supplier lanes). ``ring[e][k]``: units on lane e due ``k`` periods from now.
    """

    t: int
    demand: Tensor  # [B, T, n_demand_nodes]
    oh: list[Tensor]
    oo: list[Tensor]
    bo: list[Tensor]  # external demand not yet shipped, this period's included
    lost: list[Tensor]  # external demand lost in the last period (lost-sales nodes)
    bl: list[Tensor]  # lane backlogs
    buf: list[Tensor]
    transit: list[Tensor]
    ring: list[list[Tensor]]

    @property
    def horizon(self) -> int:
        return int(self.demand.shape[1])

    @property
    def done(self) -> bool:
        return self.t >= self.horizon


class DiffSim:
    """Differentiable twin of the step engine for serial / distribution networks.

    ``policy`` only sets the initial on-hand, exactly as the step engine's (default: each node's
    ``initial_on_hand``, else 0).
    """

    def __init__(self, net: Network, policy: PolicySet | None = None) -> None:
        check_supported(net)
        if policy is None:
            policy = PolicySet(policies={n.id: BaseStock(level=0.0) for n in net.nodes})
        self.net = net
        self.cn: CompiledNetwork = compile_network(net, policy)
        cn = self.cn
        self.n, self.m = cn.n, cn.m
        self.src = [int(cn.LI[e, LI_SRC]) for e in range(self.m)]
        self.dst = [int(cn.LI[e, LI_DST]) for e in range(self.m)]
        self.lead = [int(cn.LI[e, LI_LTFIX]) for e in range(self.m)]
        self.hsrc = [float(cn.LF[e, LF_HSRC]) for e in range(self.m)]
        assert all(float(cn.LF[e, LF_QTY]) == 1.0 for e in range(self.m))
        self.in_lane = [int(cn.in_lane[cn.in_ptr[j]]) for j in range(self.n)]
        self.out_lanes = [
            [int(e) for e in cn.out_lane[cn.out_ptr[j] : cn.out_ptr[j + 1]]] for j in range(self.n)
        ]
        self.h = [float(x) for x in cn.NP[:, NP_H]]
        self.p = [float(x) for x in cn.NP[:, NP_P]]
        self.cap = [float(x) for x in cn.NP[:, NP_CAP]]
        self.lost_mode = [bool(x == 1) for x in cn.NI[:, NI_LOST]]
        self.dcol = [int(x) for x in cn.NI[:, NI_DEMCOL]]
        self.init_oh = [float(x) for x in cn.init_on_hand]

    @property
    def ids(self) -> list[str]:
        return self.cn.ids

    def draws_of(self, seed: int, reps: list[int], periods: int) -> Draws:
        """The step engine's draws for replications ``reps`` (see ``sim.draws.make_draws``)."""
        from echelon.sim.draws import make_draws

        return make_draws(self.cn, self.net, seed, reps, periods)

    # ------------------------------------------------------------------ events
    def reset(self, demand: Draws | np.ndarray | Tensor) -> SimState:
        """Period 0 at its decision epoch; ``demand[B, T, n_demand_nodes]`` (units per period)."""
        d = demand.demand if isinstance(demand, Draws) else demand
        dt = torch.as_tensor(d, dtype=torch.float64)
        B = int(dt.shape[0])
        z = torch.zeros(B, dtype=torch.float64)
        st = SimState(
            t=0,
            demand=dt,
            oh=[z + v for v in self.init_oh],
            oo=[z] * self.n,
            bo=[z] * self.n,
            lost=[z] * self.n,
            bl=[z] * self.m,
            buf=[z] * self.m,
            transit=[z] * self.m,
            ring=[[z] * (L + 1) for L in self.lead],
        )
        self._begin(st)
        return st

    def _receive(self, st: SimState, j: int) -> None:
        """Step 1 for node j: arrivals due now join its buffer; it makes min(buffer, on order)."""
        e = self.in_lane[j]
        x = st.ring[e][0]
        st.ring[e][0] = x * 0.0
        b = st.buf[e] + x
        st.transit[e] = st.transit[e] - x
        y = torch.clamp_min(torch.minimum(b, st.oo[j]), 0.0)
        st.buf[e] = torch.clamp_min(b - y, 0.0)
        st.oh[j] = st.oh[j] + y
        st.oo[j] = st.oo[j] - y

    def _begin(self, st: SimState) -> None:
        """Steps 1-2 of period ``st.t``: receive, observe external demand."""
        for j in range(self.n):
            self._receive(st, j)
            c = self.dcol[j]
            if c >= 0:
                st.bo[j] = st.bo[j] + st.demand[:, st.t, c]

    def _ship(self, st: SimState, j: int, ships: list[Tensor]) -> Tensor:
        """Step 3 for node j; returns its inventory position after shipping."""
        req_ext = st.bo[j]
        ipos = st.oh[j] + st.oo[j] - req_ext
        total = req_ext
        for e in self.out_lanes[j]:
            ipos = ipos - st.bl[e]
            total = total + st.bl[e]
        avail = st.oh[j]
        enough = avail >= total
        f = torch.where(enough, torch.ones_like(avail), avail / torch.where(enough, 1.0, total))
        st.oh[j] = torch.clamp_min(avail - total, 0.0)
        s = req_ext * f
        left = req_ext - s
        if self.lost_mode[j]:
            st.lost[j] = left
            st.bo[j] = left * 0.0
        else:
            st.bo[j] = left
        canc = None
        for e in self.out_lanes[j]:
            r = st.bl[e]
            s = r * f
            ships[e] = s
            left = r - s
            if self.lost_mode[j]:  # the unshipped part of the customer's order is cancelled
                st.bl[e] = left * 0.0
                k = self.dst[e]
                st.oo[k] = torch.clamp_min(st.oo[k] - left, 0.0)
                canc = left if canc is None else canc + left
            else:
                st.bl[e] = left
        if self.lost_mode[j]:
            ipos = ipos + st.lost[j]
            if canc is not None:
                ipos = ipos + canc
        return ipos

    def step(self, st: SimState, orders: Tensor) -> Tensor:
        """Steps 3-5 of period ``st.t`` with ``orders[B, n]`` (units; clamped to [0, capacity],
        at most 1e-9 counts as 0), then steps 1-2 of the next period. Returns the cost of each
        node in the period ``[B, n]`` (money per period). ``st`` is advanced in place."""
        if st.done:
            raise RuntimeError(f"the horizon of {st.horizon} periods is over; call reset()")
        ships: list[Tensor | None] = [None] * self.m
        for j in range(self.n - 1, -1, -1):
            self._ship(st, j, ships)  # type: ignore[arg-type]
            q = orders[:, j]
            if self.cap[j] < np.inf:
                q = torch.clamp_max(q, self.cap[j])
            q = torch.where(q > EPS, q, q * 0.0)
            st.oo[j] = st.oo[j] + q
            e = self.in_lane[j]
            if self.src[e] < 0:  # the external supplier ships at once
                ships[e] = q
            else:
                st.bl[e] = st.bl[e] + q
        for e in range(self.m):
            x = ships[e]
            if x is not None:
                L = self.lead[e]
                st.ring[e][L] = st.ring[e][L] + x
                st.transit[e] = st.transit[e] + x
        cost = self._end(st)
        for e in range(self.m):
            st.ring[e] = [*st.ring[e][1:], st.ring[e][0] * 0.0]
        st.t += 1
        if not st.done:
            self._begin(st)
        return cost

    def _end(self, st: SimState) -> Tensor:
        """Step 5: zero-lead-time receipts, then the cost of every node ``[B, n]``."""
        costs = []
        for j in range(self.n):
            e = self.in_lane[j]
            if self.lead[e] == 0:
                self._receive(st, j)
            hold = self.h[j] * st.oh[j]
            pipe = self.hsrc[e] * (st.transit[e] + st.buf[e])
            pen = self.p[j] * (st.lost[j] if self.lost_mode[j] else st.bo[j])
            costs.append(hold + pipe + pen)
        return torch.stack(costs, dim=1)

    # ------------------------------------------------------------------ observation
    def inventory_position(self, st: SimState) -> Tensor:
        """Local inventory position ``OH + OO − BO − Σ outbound backlogs`` ``[B, n]``."""
        ip = []
        for j in range(self.n):
            x = st.oh[j] + st.oo[j] - st.bo[j]
            for e in self.out_lanes[j]:
                x = x - st.bl[e]
            ip.append(x)
        return torch.stack(ip, dim=1)

    def pipeline(self, st: SimState) -> Tensor:
        """Units due ``k = 1..L_e`` periods from now on every lane, concatenated ``[B, ΣL_e]``."""
        parts = [st.ring[e][k] for e in range(self.m) for k in range(1, self.lead[e] + 1)]
        if not parts:
            return st.demand.new_zeros((st.demand.shape[0], 0))
        return torch.stack(parts, dim=1)

    def stack(self, xs: list[Tensor]) -> Tensor:
        return torch.stack(xs, dim=1)
