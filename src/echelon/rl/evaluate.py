"""Evaluation and shadow mode: agents and classical policies on the same sample paths.

Every agent drives its own :class:`~echelon.sim.step.StepEngine` on replications 0..R−1 of one
seed (common random numbers: the same demand and lead-time draws for all), or on a replayed
demand history. KPIs are those of the batch simulator (:func:`echelon.sim.results.summarize`,
per replication over the periods after the warm-up, mean ± 95% CI). Deltas against the reference
are paired by replication (``agent − reference``), which removes the demand noise the two share.
The trace shows, for the first replication, each decision of an agent next to what the anchor
(the reference, a classical memoryless policy) would order in the same state.

Units: costs per period (money); orders and stock in units of the node's item.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from echelon.errors import DataError, InputError
from echelon.network.distributions import ScenarioDemand
from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.rl.agent import OrderAgent
from echelon.rl.classical import CappedBaseStockAgent, PolicyAgent, cost_per_period
from echelon.sim import kernel as K
from echelon.sim.results import Estimate, SimulationResult, summarize
from echelon.sim.step import StepEngine


@dataclass
class TraceRow:
    """One decision of an agent: reported period, node, anchor's and agent's orders (units)."""

    agent: str
    period: int
    node: str
    anchor: float
    order: float

    @property
    def deviation(self) -> float:
        return self.order - self.anchor

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "period": self.period, "node": self.node,
            "anchor": self.anchor, "order": self.order, "deviation": self.deviation,
        }  # fmt: skip


@dataclass
class AgentResult:
    """One agent's KPIs, its per-replication cost per period and its deltas vs the reference."""

    name: str
    result: SimulationResult
    costs: np.ndarray  # [R] cost per period of each replication
    delta: Estimate  # cost per period, agent − reference (paired by replication)
    delta_fill_rate: Estimate  # fill rate at demand nodes, agent − reference

    @property
    def cost(self) -> Estimate:
        return self.result.cost_per_period

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cost_per_period": self.cost.to_dict(),
            "delta_cost": self.delta.to_dict(),
            "delta_fill_rate": self.delta_fill_rate.to_dict(),
            "kpis": self.result.to_dict(),
        }


@dataclass
class Evaluation:
    """The agents side by side on common random numbers (or one replayed demand history)."""

    network: str
    periods: int
    reps: int
    seed: int
    warmup: int
    reference: str
    agents: list[AgentResult]
    trace: list[TraceRow] = field(default_factory=list)
    demand_source: str | None = None
    seconds: float = 0.0

    def agent(self, name: str) -> AgentResult:
        for a in self.agents:
            if a.name == name:
                return a
        raise KeyError(name)

    def gap(self, name: str) -> float | None:
        """Relative cost difference of ``name`` vs the reference (0.05 = 5% more costly)."""
        ref = self.agent(self.reference).cost.mean
        d = self.agent(name).delta.mean
        return None if ref == 0 or math.isnan(ref) else d / ref

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "periods": self.periods,
            "reps": self.reps,
            "seed": self.seed,
            "warmup": self.warmup,
            "reference": self.reference,
            "demand_source": self.demand_source,
            "seconds": self.seconds,
            "agents": [a.to_dict() | {"gap": self.gap(a.name)} for a in self.agents],
            "trace": [r.to_dict() for r in self.trace],
        }


def evaluate_agents(
    net: Network,
    agents: Sequence[OrderAgent],
    periods: int | None,
    reps: int,
    seed: int = 0,
    warmup: int = 100,
    demand: Mapping[str, Sequence[float] | np.ndarray] | None = None,
    *,
    reference: int = 0,
    trace_periods: int = 20,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Run every agent on replications 0..reps−1 of ``seed`` for ``warmup + periods`` periods.

    ``demand`` (node id → demand per period) replays a history at those demand nodes instead of
    drawing demand; ``periods`` None then means all of it after the warm-up. ``agents[reference]``
    is the reference of the deltas and, if classical (memoryless), the anchor of the trace of the
    first ``trace_periods`` periods after the warm-up. ``progress(done, total)`` counts periods.
    """
    t0 = time.perf_counter()
    if not agents:
        raise InputError("no agent to evaluate", fix="pass at least one agent or policy")
    if not 0 <= reference < len(agents):
        raise InputError("reference index out of range", field="reference", found=str(reference))
    source = None
    if demand is not None:
        net, periods = replay_network(net, demand, periods, warmup)
        source = "history"
    if periods is None or periods < 1 or reps < 1 or warmup < 0:
        raise InputError(
            "periods and reps must be >= 1 and warmup >= 0",
            found=f"periods={periods}, reps={reps}, warmup={warmup}",
            fix="pass --periods 1 or more and --reps 1 or more",
        )
    names = _unique_names([a.name for a in agents])
    ref_agent = agents[reference]
    anchor = ref_agent if isinstance(ref_agent, PolicyAgent | CappedBaseStockAgent) else None
    ref_policy = _engine_policy(ref_agent, None)
    total = warmup + periods
    done = 0
    runs: list[tuple[np.ndarray, SimulationResult, np.ndarray]] = []
    trace: list[TraceRow] = []
    for k, agent in enumerate(agents):
        eng = StepEngine(net, total, reps, policy=_engine_policy(agent, ref_policy), warmup=warmup)
        eng.reset(seed)
        agent.reset(eng)
        shadow = anchor is not None and k != reference
        while not eng.done:
            orders = agent.orders(eng)
            if shadow and warmup <= eng.t < warmup + trace_periods:
                assert anchor is not None
                base = anchor.orders(eng)
                trace += [
                    TraceRow(names[k], eng.t - warmup, nid, float(base[0, j]), float(orders[0, j]))
                    for j, nid in enumerate(eng.ids)
                ]
            eng.step(orders)
            if progress is not None and (eng.t % 100 == 0 or eng.done):
                progress(done + eng.t, len(agents) * total)
        done += total
        cn = eng.cn
        res = summarize(
            eng.ACC.copy(), cn.ids, cn.demand_nodes, cn.unit_value, periods, net.period_days,
            net.name, warmup, seed,
        )  # fmt: skip
        runs.append((cost_per_period(eng.ACC, periods), res, _fill_rates(eng)))
    ref_cost, _, ref_fill = runs[reference]
    results = [
        AgentResult(
            name=names[k],
            result=res,
            costs=cost,
            delta=Estimate.of(cost - ref_cost),
            delta_fill_rate=Estimate.of(fill - ref_fill),
        )
        for k, (cost, res, fill) in enumerate(runs)
    ]
    return Evaluation(
        network=net.name, periods=periods, reps=reps, seed=seed, warmup=warmup,
        reference=names[reference], agents=results, trace=trace, demand_source=source,
        seconds=time.perf_counter() - t0,
    )  # fmt: skip


def _engine_policy(agent: OrderAgent, fallback: PolicySet | None) -> PolicySet | None:
    """The policy that sets an agent's initial stock: its own, its anchor's, or the reference's."""
    for attr in ("policy", "anchor"):
        pol = getattr(agent, attr, None)
        if isinstance(pol, PolicySet):
            return pol
    return fallback


def _fill_rates(eng: StepEngine) -> np.ndarray:
    dn = eng.cn.demand_nodes
    dem = eng.ACC[:, dn, K.K_EXTDEM].sum(axis=1)
    fill = eng.ACC[:, dn, K.K_EXTFILL].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dem > 0, fill / np.where(dem > 0, dem, 1.0), np.nan)


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


# --------------------------------------------------------------------------- demand history


def replay_network(
    net: Network,
    demand: Mapping[str, Sequence[float] | np.ndarray],
    periods: int | None,
    warmup: int,
) -> tuple[Network, int]:
    """``net`` with each demand node's demand replaced by its history (a scenario path: every
    replication replays it), and the periods counted after the warm-up."""
    dem_nodes = [n.id for n in net.nodes if n.demand is not None]
    missing = [i for i in dem_nodes if i not in demand]
    extra = [i for i in demand if i not in dem_nodes]
    if missing or extra:
        raise DataError(
            "the demand history must cover exactly the network's demand nodes",
            expected=", ".join(dem_nodes[:6]),
            found=f"missing {missing[:4]}, not demand nodes {extra[:4]}",
            fix="give one series per demand node, named by node id",
        )
    lengths = {len(v) for v in demand.values()}
    length = min(lengths)
    if len(lengths) != 1 or length <= warmup:
        raise DataError(
            "demand histories must have one common length, longer than the warm-up",
            expected=f"more than {warmup} periods per node",
            found=f"lengths {sorted(lengths)[:5]}",
            fix="align the series, or lower --warmup",
        )
    if periods is None:
        periods = length - warmup
    if warmup + periods > length:
        raise DataError(
            "the demand history is shorter than the evaluation",
            expected=f"{warmup + periods} periods (warm-up + periods)",
            found=f"{length}",
            fix="lower --periods or --warmup",
        )
    nodes = []
    for node in net.nodes:
        if node.id in demand:
            path = [float(x) for x in demand[node.id]]
            node = node.model_copy(update={"demand": ScenarioDemand(paths=[path])})
        nodes.append(node)
    return net.model_copy(update={"nodes": nodes}), periods


def load_demand_history(path: str | Path, net: Network) -> dict[str, np.ndarray]:
    """Read a demand history: columns ``node, period, demand`` (period 0, 1, …) or the long
    forecasting format ``unique_id, ds, y`` (unique_id = node id; rows sorted by date)."""
    from echelon.forecast.data import read_table

    src = str(path)
    df = read_table(path)
    cols = set(df.columns)
    if {"node", "period", "demand"} <= cols:
        key, time_col, val = "node", "period", "demand"
    elif {"unique_id", "ds", "y"} <= cols:
        key, time_col, val = "unique_id", "ds", "y"
        df = df.assign(ds=pd.to_datetime(df["ds"], errors="coerce"))
        if df["ds"].isna().any():
            raise DataError("unreadable dates", source=src, field="ds", fix="use ISO dates")
    else:
        raise DataError(
            "unknown demand table layout",
            source=src,
            expected="columns node,period,demand or unique_id,ds,y",
            found=", ".join(map(str, df.columns[:6])),
            fix="rename the columns",
        )
    values = pd.to_numeric(df[val], errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise DataError(
            "demand must be a number >= 0", source=src, field=val,
            found=f"{int(values.isna().sum() + (values < 0).sum())} bad rows",
            fix="fill or drop the bad rows",
        )  # fmt: skip
    df = df.assign(**{val: values, key: df[key].astype(str)})
    if df.duplicated([key, time_col]).any():
        raise DataError(
            "duplicate periods", source=src, field=time_col, fix="one row per node and period"
        )
    out: dict[str, np.ndarray] = {}
    times = None
    for nid, g in df.sort_values([key, time_col]).groupby(key, sort=False):
        t = g[time_col].to_numpy()
        if times is None:
            times = t
        elif len(t) != len(times) or (t != times).any():
            raise DataError(
                "every node needs the same periods", source=src, where=f"node '{nid}'",
                field=time_col, fix="align the series (no gaps)",
            )  # fmt: skip
        out[str(nid)] = g[val].to_numpy(dtype=np.float64)
    if key == "node" and times is not None and (times != np.arange(len(times))).any():
        raise DataError(
            "periods must be 0, 1, 2, … without gaps", source=src, field="period",
            found=f"{times[:3].tolist()} …", fix="number the periods from 0",
        )  # fmt: skip
    try:
        replay_network(net, out, None, 0)  # checks the nodes
    except DataError as exc:
        raise exc.with_source(src) from None
    return out
