"""Random draws for the simulator: common random numbers from a seed.

Replication ``r`` of a run with seed ``s`` draws everything from its own stream,
``numpy.random.Generator(PCG64(SeedSequence(s, spawn_key=(r,))))``, in a fixed order: demand
(grouped by distribution kind, in node order), then stochastic lead times, then random-closure
onsets and durations. A replication's draws therefore do not depend on how many replications
run, on the chunking, or on the engine: the batch and step engines consume the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from echelon.sim.compiled import CompiledNetwork


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


def replication_rng(seed: int, rep: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(rep,))))


def make_draws(
    cn: CompiledNetwork, net: Network, seed: int, reps: range | list[int], periods: int
) -> Draws:
    """Draw demand, lead times and disruptions for the given replication indices."""
    reps = list(reps)
    R, T = len(reps), periods
    nd, ns, nr = len(cn.demand_nodes), len(cn.stochastic_lanes), len(cn.random_closures)
    demand = np.empty((R, T, nd))
    lead = np.empty((R, T, ns), dtype=np.int64)
    onset = np.empty((R, T, nr))
    duration = np.empty((R, T, nr), dtype=np.int64)
    dists = [net.node(cn.ids[j]).demand for j in cn.demand_nodes]
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
    for i, r in enumerate(reps):
        rng = replication_rng(seed, r)
        out = demand[i]
        for kind in (
            ConstantDemand,
            NormalDemand,
            PoissonDemand,
            NegativeBinomialDemand,
            EmpiricalDemand,
            ScenarioDemand,
        ):
            cols = groups.get(kind)
            if not cols:
                continue
            ds = [dists[c] for c in cols]
            out[:, cols] = _draw_demand(kind, ds, rng, T, r)
        for c, e in enumerate(cn.stochastic_lanes):
            lead[i, :, c] = _draw_lead(cn.lane_lead_times[e], rng, T)
        for c, (_j, rc) in enumerate(cn.random_closures):
            onset[i, :, c] = rng.random(T)
            if rc.duration is not None:
                w = rc.duration.weights()
                idx = rng.choice(len(w), size=T, p=w)
                duration[i, :, c] = np.ceil(np.asarray(rc.duration.values)[idx] - 1e-9)
            else:
                assert rc.mean_duration is not None
                duration[i, :, c] = rng.geometric(1.0 / rc.mean_duration, size=T)
    return Draws(demand, lead, onset, duration)


def _draw_demand(kind: type, ds: list, rng: np.random.Generator, T: int, rep: int) -> np.ndarray:
    k = len(ds)
    if kind is ConstantDemand:
        return np.broadcast_to(np.array([d.value for d in ds]), (T, k))
    if kind is NormalDemand:
        mu = np.array([d.mean() for d in ds])
        sd = np.array([d.std() for d in ds])
        return np.maximum(0.0, mu + sd * rng.standard_normal((T, k)))
    if kind is PoissonDemand:
        return rng.poisson(np.array([d.mean() for d in ds]), size=(T, k)).astype(np.float64)
    if kind is NegativeBinomialDemand:
        params = np.array([d.numpy_params() for d in ds])
        return rng.negative_binomial(params[:, 0], params[:, 1], size=(T, k)).astype(np.float64)
    if kind is EmpiricalDemand:
        cols = []
        for d in ds:
            idx = rng.choice(len(d.values), size=T, p=d.weights())
            cols.append(np.asarray(d.values, dtype=np.float64)[idx])
        return np.stack(cols, axis=1)
    if kind is ScenarioDemand:
        return np.stack(
            [np.asarray(d.paths[rep % len(d.paths)][:T], dtype=np.float64) for d in ds], axis=1
        )
    raise TypeError(kind)  # pragma: no cover


def _draw_lead(lt: object, rng: np.random.Generator, T: int) -> np.ndarray:
    if isinstance(lt, NormalLeadTime):
        x = lt.mean() + lt.std() * rng.standard_normal(T)
        cap = lt.max_periods()
    elif isinstance(lt, GammaLeadTime):
        shape, scale = lt.shape_scale()
        x = rng.gamma(shape, scale, size=T)
        cap = lt.max_periods()
    elif isinstance(lt, EmpiricalLeadTime):
        idx = rng.choice(len(lt.values), size=T, p=lt.weights())
        x = np.asarray(lt.values, dtype=np.float64)[idx]
        cap = lt.max_periods()
    else:  # pragma: no cover - deterministic lanes are not sampled
        raise TypeError(type(lt))
    return np.clip(np.ceil(x - 1e-9), 0, cap).astype(np.int64)
