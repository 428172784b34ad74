"""The batch engine: R replications × T periods × all nodes in one numba call per chunk."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from echelon.errors import InputError
from echelon.network.model import Network
from echelon.policies.io import check_policy
from echelon.policies.model import PolicySet
from echelon.sim import kernel as K
from echelon.sim.compiled import CompiledNetwork, compile_network
from echelon.sim.draws import Draws, KernelPlan, kernel_plan, make_draws, stream_states
from echelon.sim.results import SimulationResult, summarize
from echelon.sim.scenario import Scenario

DRAW_BUDGET_BYTES = 256 * 2**20


def check_run(periods: int, reps: int, warmup: int) -> None:
    for name, value, low in (("periods", periods, 1), ("reps", reps, 1), ("warmup", warmup, 0)):
        if value < low:
            raise InputError(
                f"{name} must be at least {low}",
                field=name,
                expected=f"an integer >= {low}",
                found=str(value),
                fix=f"pass --{name} {max(low, 1)} or more",
            )


def chunk_size(cn: CompiledNetwork, periods: int, reps: int) -> int:
    """Replications per chunk: their draws fit in ``DRAW_BUDGET_BYTES``."""
    cols = len(cn.demand_nodes) + len(cn.stochastic_lanes) + 2 * len(cn.random_closures) + 1
    per_rep = periods * 8 * cols
    return int(max(1, min(reps, DRAW_BUDGET_BYTES // per_rep)))


def run_kernel(
    cn: CompiledNetwork, draws: Draws, warmup: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Run the batch kernel on prepared draws; return KPI sums ``[R, n, N_K]``.

    ``out``, if given, is a zeroed ``[R, n, N_K]`` array that receives them (and is returned).
    """
    R = draws.demand.shape[0]
    acc = np.zeros((R, cn.n, K.N_K)) if out is None else out
    K.run_batch(cn.kernel_net, cn.horizon, *draws.arrays, warmup, acc)
    return acc


def run_kernel_drawing(
    cn: CompiledNetwork,
    plan: KernelPlan,
    states: np.ndarray,
    periods: int,
    warmup: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Like :func:`run_kernel` on ``make_draws`` of the same replications, each replication
    drawing its own numbers in the kernel (``states``: :func:`draws.stream_states`)."""
    R = states.shape[0]
    acc = np.zeros((R, cn.n, K.N_K)) if out is None else out
    K.run_batch_drawn(cn.kernel_net, cn.horizon, states, periods, plan.arrays, warmup, acc)
    return acc


def trace_replication(cn: CompiledNetwork, draws: Draws, rep: int = 0) -> np.ndarray:
    """The full trajectory ``TR[t, node, T_*]`` of one replication (for tests and debugging)."""
    T = draws.demand.shape[1]
    tr = np.zeros((T, cn.n, K.N_T))
    acc = np.zeros((cn.n, K.N_K))
    demand, lead, onset, duration = (a[rep] for a in draws.arrays)
    K.run_one(cn.kernel_net, cn.horizon, demand, lead, onset, duration, 0, acc, tr)
    return tr


def simulate(
    net: Network,
    policy: PolicySet,
    periods: int,
    reps: int,
    seed: int = 0,
    warmup: int = 0,
    scenario: Scenario | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate ``reps`` replications of ``warmup + periods`` periods; KPIs over ``periods``.

    Replication r uses the random stream (seed, r): results for a given seed do not depend on
    chunking or on the number of threads. ``progress(done, total)`` is called after each chunk.
    """
    check_run(periods, reps, warmup)
    check_policy(policy, net)
    start = time.perf_counter()
    cn = compile_network(net, policy, scenario, warmup)
    total = warmup + periods
    chunk = chunk_size(cn, total, reps)
    acc = np.zeros((reps, cn.n, K.N_K))
    plan = kernel_plan(cn, net)
    for lo in range(0, reps, chunk):
        hi = min(reps, lo + chunk)
        if plan is not None:  # the kernel draws (the same numbers as make_draws)
            states = stream_states(seed, range(lo, hi))
            run_kernel_drawing(cn, plan, states, total, warmup, out=acc[lo:hi])
        else:
            draws = make_draws(cn, net, seed, range(lo, hi), total)
            run_kernel(cn, draws, warmup, out=acc[lo:hi])
            del draws
        if progress is not None:
            progress(hi, reps)
    result = summarize(
        acc,
        cn.ids,
        cn.demand_nodes,
        cn.unit_value,
        periods,
        net.period_days,
        net.name,
        warmup,
        seed,
    )
    result.seconds = time.perf_counter() - start
    result.node_periods = reps * total * cn.n
    if reps == 1:
        result.notes.append("one replication: no confidence intervals (use --reps 2 or more)")
    return result
