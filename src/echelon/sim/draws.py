"""Random draws for the simulator: common random numbers from a seed.

Replication ``r`` of a run with seed ``s`` draws everything from its own stream,
``numpy.random.Generator(PCG64(SeedSequence(s, spawn_key=(r,))))``, in a fixed order: demand
(grouped by distribution kind, in node order), then stochastic lead times, then random-closure
onsets and durations. A replication's draws therefore do not depend on how many replications
run, on the chunking, or on the engine: the batch and step engines consume the same arrays.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from echelon.errors import InputError
from echelon.network.distributions import (
    ConstantDemand,
    EmpiricalDemand,
    EmpiricalLeadTime,
    GammaLeadTime,
    NegativeBinomialDemand,
    NormalDemand,
    NormalLeadTime,
    PoissonDemand,
    ScenarioDemand,
)
from echelon.network.model import Network
from echelon.sim import kernel as K
from echelon.sim.compiled import CompiledNetwork
from echelon.sim.scenario import RandomClosure


@dataclass
class Draws:
    """Draws for replications ``reps`` over ``periods`` periods.

    demand:   float64 [R, T, n_demand_nodes]   external demand, units per period
    lead:     int64   [R, T, n_stochastic_lanes] lead time of a shipment leaving in period t
    onset:    float64 [R, T, n_random_closures] uniform(0,1) onset draws
    duration: int64   [R, T, n_random_closures] closure length if an onset happens in t
    """

    demand: np.ndarray
    lead: np.ndarray
    onset: np.ndarray
    duration: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(demand, lead, onset, duration)``, the order the kernels take them in."""
        return self.demand, self.lead, self.onset, self.duration


def replication_rng(seed: int, rep: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(rep,))))


def stream_states(seed: int, reps: range | list[int]) -> np.ndarray:
    """The initial PCG64 states of the replications' streams, ``uint64[R, 4]`` (state low,
    state high, increment low, increment high), for the kernels' own generator."""
    reps = list(reps)
    out = np.empty((len(reps), 4), dtype=np.uint64)
    mask = (1 << 64) - 1
    for i, r in enumerate(reps):
        s = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(r,))).state["state"]
        out[i] = (s["state"] & mask, s["state"] >> 64, s["inc"] & mask, s["inc"] >> 64)
    return out


@dataclass
class KernelPlan:
    """Draws the kernels can make themselves (``kernel.draw_rep``), bit for bit the numbers of
    :func:`make_draws`: constant or normal demand, normal stochastic lead times, no random
    closures. Columns and parameters as in ``kernel.draw_rep``."""

    nd: int
    ns: int
    dc_cols: np.ndarray
    dc_val: np.ndarray
    dn_cols: np.ndarray
    dn_mu: np.ndarray
    dn_sd: np.ndarray
    ln_mu: np.ndarray
    ln_sd: np.ndarray
    ln_cap: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The parameter arrays as the kernels take them (``plan`` of ``kernel.draw_rep``)."""
        return (
            self.dc_cols, self.dc_val, self.dn_cols, self.dn_mu, self.dn_sd, self.ln_mu,
            self.ln_sd, self.ln_cap,
        )  # fmt: skip


def kernel_plan(cn: CompiledNetwork, net: Network) -> KernelPlan | None:
    """The :class:`KernelPlan` of a network, or None when some draw needs NumPy."""
    if cn.random_closures:
        return None
    by_id = {node.id: node for node in net.nodes}
    dists = [by_id[cn.ids[j]].demand for j in cn.demand_nodes]
    if any(type(d) not in (ConstantDemand, NormalDemand) for d in dists):
        return None
    lts = [cn.lane_lead_times[e] for e in cn.stochastic_lanes]
    if any(type(lt) is not NormalLeadTime for lt in lts):
        return None
    dc = [(c, d) for c, d in enumerate(dists) if isinstance(d, ConstantDemand)]
    dn = [(c, d) for c, d in enumerate(dists) if isinstance(d, NormalDemand)]
    return KernelPlan(
        nd=len(dists),
        ns=len(lts),
        dc_cols=np.array([c for c, _ in dc], dtype=np.int64),
        dc_val=np.array([d.value for _, d in dc], dtype=np.float64),
        dn_cols=np.array([c for c, _ in dn], dtype=np.int64),
        dn_mu=np.array([d.mean() for _, d in dn], dtype=np.float64),
        dn_sd=np.array([d.std() for _, d in dn], dtype=np.float64),
        ln_mu=np.array([lt.mean() for lt in lts], dtype=np.float64),
        ln_sd=np.array([lt.std() for lt in lts], dtype=np.float64),
        ln_cap=np.array([lt.max_periods() for lt in lts], dtype=np.float64),
    )


def make_draws(
    cn: CompiledNetwork, net: Network, seed: int, reps: range | list[int], periods: int
) -> Draws:
    """Draw demand, lead times and disruptions for the given replication indices.

    The parameters of every distribution are prepared once; replications are then filled
    independently (each from its own stream, into its own rows), on up to
    ``numba.get_num_threads()`` threads for large batches. NumPy releases the GIL while it
    fills arrays, and a replication's values do not depend on which thread draws them.
    """
    reps = list(reps)
    R, T = len(reps), periods
    nd, ns, nr = len(cn.demand_nodes), len(cn.stochastic_lanes), len(cn.random_closures)
    demand = np.empty((R, T, nd))
    lead = np.empty((R, T, ns), dtype=np.int64)
    onset = np.empty((R, T, nr))
    duration = np.empty((R, T, nr), dtype=np.int64)
    plan = kernel_plan(cn, net)
    if plan is not None:  # the same numbers, drawn by the kernels' generator (in parallel)
        K.draw_batch(stream_states(seed, reps), plan.arrays, demand, lead)
        return Draws(demand, lead, onset, duration)
    by_id = {node.id: node for node in net.nodes}
    dists = [by_id[cn.ids[j]].demand for j in cn.demand_nodes]
    groups: dict[type, list[int]] = {}
    for col, d in enumerate(dists):
        groups.setdefault(type(d), []).append(col)
    for col, d in enumerate(dists):
        if isinstance(d, ScenarioDemand) and d.length < T:
            raise InputError(
                "scenario demand paths are shorter than the simulation",
                where=f"node '{cn.ids[cn.demand_nodes[col]]}'",
                field="demand.paths",
                expected=f"at least {T} periods (warm-up included)",
                found=f"{d.length} periods",
                fix="give longer paths, or simulate fewer periods / a shorter warm-up",
            )
    demand_plan = [
        _DemandGroup.of(kind, groups[kind], [dists[c] for c in groups[kind]], nd)
        for kind in _DEMAND_ORDER
        if groups.get(kind)
    ]
    lead_plan = _lead_plan([cn.lane_lead_times[e] for e in cn.stochastic_lanes])
    closure_plan = [_closure_params(rc) for _j, rc in cn.random_closures]

    def fill(i: int) -> None:
        r = reps[i]
        rng = replication_rng(seed, r)
        out = demand[i]
        for g in demand_plan:
            g.draw(rng, T, r, out)
        for lp in lead_plan:
            lp.draw(rng, T, lead[i])
        for c, (values, weights, mean_duration) in enumerate(closure_plan):
            onset[i, :, c] = rng.random(T)
            if values is not None:
                idx = rng.choice(len(weights), size=T, p=weights)
                duration[i, :, c] = np.ceil(values[idx] - 1e-9)
            else:
                duration[i, :, c] = rng.geometric(1.0 / mean_duration, size=T)

    def fill_block(bounds: tuple[int, int]) -> None:
        for i in range(*bounds):
            fill(i)

    workers = min(numba.get_num_threads(), R)
    if workers > 1 and T * (nd + ns + nr) >= PARALLEL_MIN_DRAWS:
        blocks = min(R, 4 * workers)
        bounds = [(b * R // blocks, (b + 1) * R // blocks) for b in range(blocks)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(fill_block, bounds):
                pass
    else:
        fill_block((0, R))
    return Draws(demand, lead, onset, duration)


# draws per replication below which threads do not pay (Python overhead holds the GIL)
PARALLEL_MIN_DRAWS = 20_000

_DEMAND_ORDER: tuple[type, ...] = (
    ConstantDemand,
    NormalDemand,
    PoissonDemand,
    NegativeBinomialDemand,
    EmpiricalDemand,
    ScenarioDemand,
)


@dataclass
class _DemandGroup:
    """The demand nodes of one distribution kind: their columns and prepared parameters."""

    kind: type
    cols: slice | np.ndarray
    full: bool  # the group covers every demand column (draw straight into the output)
    ds: list
    a: np.ndarray
    b: np.ndarray
    values: list[np.ndarray]
    weights: list[np.ndarray]

    @staticmethod
    def of(kind: type, cols: list[int], ds: list, nd: int) -> _DemandGroup:
        contiguous = cols == list(range(cols[0], cols[0] + len(cols)))
        where: slice | np.ndarray = (
            slice(cols[0], cols[0] + len(cols)) if contiguous else np.array(cols, dtype=np.int64)
        )
        a = b = np.zeros(0)
        values: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        if kind is ConstantDemand:
            a = np.array([d.value for d in ds], dtype=np.float64)
        elif kind is NormalDemand:
            a = np.array([d.mean() for d in ds])
            b = np.array([d.std() for d in ds])
        elif kind is PoissonDemand:
            a = np.array([d.mean() for d in ds])
        elif kind is NegativeBinomialDemand:
            params = np.array([d.numpy_params() for d in ds])
            a, b = params[:, 0], params[:, 1]
        elif kind is EmpiricalDemand:
            values = [np.asarray(d.values, dtype=np.float64) for d in ds]
            weights = [d.weights() for d in ds]
        return _DemandGroup(kind, where, contiguous and len(cols) == nd, ds, a, b, values, weights)

    def draw(self, rng: np.random.Generator, T: int, rep: int, out: np.ndarray) -> None:
        """Fill this group's columns of ``out[T, nd]`` (same values as drawing column by column
        in the documented order)."""
        kind = self.kind
        k = len(self.ds)
        if kind is ConstantDemand:
            out[:, self.cols] = self.a
        elif kind is NormalDemand:
            z = out if self.full else np.empty((T, k))
            rng.standard_normal((T, k), out=z)
            # max(0, mu + sd*z), computed in place: the same IEEE operations
            np.multiply(z, self.b, out=z)
            np.add(z, self.a, out=z)
            np.maximum(z, 0.0, out=z)
            if not self.full:
                out[:, self.cols] = z
        elif kind is PoissonDemand:
            out[:, self.cols] = rng.poisson(self.a, size=(T, k))
        elif kind is NegativeBinomialDemand:
            out[:, self.cols] = rng.negative_binomial(self.a, self.b, size=(T, k))
        elif kind is EmpiricalDemand:
            cols = []
            for v, w in zip(self.values, self.weights, strict=True):
                idx = rng.choice(len(v), size=T, p=w)
                cols.append(v[idx])
            out[:, self.cols] = np.stack(cols, axis=1)
        elif kind is ScenarioDemand:
            out[:, self.cols] = np.stack(
                [np.asarray(d.paths[rep % len(d.paths)][:T], dtype=np.float64) for d in self.ds],
                axis=1,
            )
        else:  # pragma: no cover
            raise TypeError(kind)


@dataclass
class _LeadRun:
    """Consecutive stochastic lanes (columns ``lo:hi``) drawn with one NumPy call.

    Lanes draw one after the other, T values each; for normal and gamma lead times, one call
    of shape ``(lanes, T)`` consumes the stream in exactly that order.
    """

    kind: type
    lo: int
    hi: int
    a: np.ndarray  # normal: mean; gamma: shape; empirical: values
    b: np.ndarray  # normal: std; gamma: scale; empirical: weights
    cap: np.ndarray

    def draw(self, rng: np.random.Generator, T: int, out: np.ndarray) -> None:
        if self.kind is NormalLeadTime:
            x = self.a[:, None] + self.b[:, None] * rng.standard_normal((self.hi - self.lo, T))
        elif self.kind is GammaLeadTime:
            x = rng.gamma(self.a[:, None], self.b[:, None], size=(self.hi - self.lo, T))
        else:  # one empirical lane
            idx = rng.choice(len(self.a), size=T, p=self.b)
            x = self.a[idx][None, :]
        out[:, self.lo : self.hi] = np.clip(np.ceil(x - 1e-9), 0, self.cap[:, None]).T


def _lead_plan(lts: list) -> list[_LeadRun]:
    runs: list[_LeadRun] = []
    lo = 0
    while lo < len(lts):
        kind = type(lts[lo])
        if kind is EmpiricalLeadTime:
            lt = lts[lo]
            runs.append(
                _LeadRun(
                    kind,
                    lo,
                    lo + 1,
                    np.asarray(lt.values, dtype=np.float64),
                    lt.weights(),
                    np.array([lt.max_periods()], dtype=np.float64),
                )
            )
            lo += 1
            continue
        if kind not in (NormalLeadTime, GammaLeadTime):  # pragma: no cover
            raise TypeError(kind)
        hi = lo
        while hi < len(lts) and type(lts[hi]) is kind:
            hi += 1
        grp = lts[lo:hi]
        if kind is NormalLeadTime:
            a = np.array([lt.mean() for lt in grp])
            b = np.array([lt.std() for lt in grp])
        else:
            ss = np.array([lt.shape_scale() for lt in grp])
            a, b = ss[:, 0], ss[:, 1]
        cap = np.array([lt.max_periods() for lt in grp], dtype=np.float64)
        runs.append(_LeadRun(kind, lo, hi, a, b, cap))
        lo = hi
    return runs


def _closure_params(rc: RandomClosure) -> tuple[np.ndarray | None, np.ndarray, float]:
    if rc.duration is not None:
        return np.asarray(rc.duration.values), rc.duration.weights(), 0.0
    assert rc.mean_duration is not None
    return None, np.zeros(0), rc.mean_duration
