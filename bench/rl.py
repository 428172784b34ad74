"""Deep RL agents (DPG, PPO) against classical policies on the benchmark instances.

Run from the repository root (one instance should train in under 15 minutes)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/rl.py                   # full run, all instances
    .venv/bin/python bench/rl.py --instances zipkin-p9-L4 --algos dpg  # a subset
    .venv/bin/python bench/rl.py --quick                             # tiny budgets (smoke test)

Per instance (``echelon.rl.instances``): train DPG with its default configuration and PPO for
1,000,000 steps, reporting PPO's final weights (``--dpg-steps`` / ``--ppo-steps`` override the
budgets), find the classical policies —
Clark–Scarf optimum (serial backorder systems), best base stock and best capped base stock by
exhaustive CRN search (single-node instances), simulation-optimized base stock (all) — with
search seeds apart from the evaluation seed, then evaluate everything on the SAME
``--reps`` × ``--periods`` sample paths (default 100 × 1,000 = 100,000 periods after a warm-up
of 100 per replication, seed 12345). Costs are per period, mean ± 95% CI over replications;
Δ is paired (agent − reference, same replications), the reference being the best classical
policy of the instance; gap = Δ / reference cost. Writes ``bench/results/rl.md``.
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from pathlib import Path
from typing import Any

import torch

from echelon.fileio import atomic_write_text
from echelon.network.model import Network
from echelon.rl.agent import OrderAgent
from echelon.rl.classical import (
    PolicyAgent,
    best_base_stock,
    best_capped_base_stock,
    simopt_base_stock,
)
from echelon.rl.evaluate import Evaluation, evaluate_agents
from echelon.rl.instances import INSTANCES
from echelon.sim.results import Estimate

OUT = Path(__file__).parent / "results" / "rl.md"
PPO_STEPS = 1_000_000  # PPO's training budget here (environment periods)
KNOWN_OPTIMUM = {"snyder-shen-6.1": 47.67}  # Snyder & Shen (2019) Example 6.1, per period


def classical(net: Network, name: str, a: argparse.Namespace) -> tuple[list[OrderAgent], dict]:
    """The instance's classical policies as agents (best first) and how each was found."""
    agents: list[OrderAgent] = []
    info: dict[str, Any] = {}
    search = {"periods": a.search_periods, "reps": a.search_reps, "seed": a.seed + 1}
    if all(n.stockout.value == "backorder" for n in net.nodes):
        from echelon.errors import InputError
        from echelon.optimize.clark_scarf import solve_clark_scarf

        t0 = time.perf_counter()
        try:
            res = solve_clark_scarf(net)
        except InputError:  # not a serial system: no exact optimum here
            res = None
        if res is not None:
            agents.append(PolicyAgent(res.policy, "clark-scarf (optimal)"))
            info["clark-scarf (optimal)"] = {
                "seconds": time.perf_counter() - t0,
                "objective": res.objective,
            }
    if len(net.nodes) == 1:
        for label, fn in (("best capped base stock", best_capped_base_stock),
                          ("best base stock", best_base_stock)):  # fmt: skip
            t0 = time.perf_counter()
            grid = fn(net, **search)
            agent = grid.agent(net)
            agent.name = label
            agents.append(agent)
            info[label] = {"seconds": time.perf_counter() - t0, "S": grid.level, "cap": grid.cap}
    t0 = time.perf_counter()
    policy, _, _ = simopt_base_stock(net, periods=a.search_periods, reps=a.search_reps,
                                     seed=a.seed + 1, max_evaluations=a.simopt_evals)  # fmt: skip
    agents.append(PolicyAgent(policy, "simopt base stock"))
    levels = {k: getattr(v, "level", None) for k, v in policy.policies.items()}
    info["simopt base stock"] = {"seconds": time.perf_counter() - t0, "levels": levels}
    return agents, info


def train(net: Network, algo: str, steps: int | None, seed: int) -> tuple[OrderAgent, dict]:
    t0 = time.perf_counter()
    if algo == "dpg":
        from echelon.rl.dpg import DPGConfig, train_dpg

        dcfg = DPGConfig(seed=seed) if steps is None else DPGConfig(steps=steps, seed=seed)
        agent: OrderAgent = train_dpg(net, dcfg)
        done = dcfg.iterations() * dcfg.batch_size * dcfg.horizon
    else:
        from echelon.rl.ppo import PPOConfig, train_ppo

        # The final weights, not the best evaluation checkpoint: with the anchor action space the
        # untrained policy IS the anchor, so keep_best could return a policy nothing was learnt in.
        pcfg = PPOConfig(steps=steps or PPO_STEPS, seed=seed, keep_best=False)
        agent = train_ppo(net, pcfg)
        done = int(getattr(agent, "info", {}).get("steps", pcfg.steps))
    agent.name = algo
    return agent, {"seconds": time.perf_counter() - t0, "steps": done}


def est(e: Estimate, d: int = 3) -> str:
    if e.ci95 is None or math.isnan(e.mean):
        return f"{e.mean:.{d}f}"
    return f"{e.mean:.{d}f} ± {e.ci95:.{d}f}"


def rows(inst: str, ev: Evaluation, info: dict[str, dict]) -> list[str]:
    out = []
    for r in ev.agents:
        meta = info.get(r.name, {})
        gap = ev.gap(r.name)
        ref = r.name == ev.reference
        params = ", ".join(f"{k} {v}" for k, v in meta.items() if k in ("S", "cap", "levels"))
        out.append(
            f"| {inst} | {r.name} | {est(r.cost)} | {'—' if ref else est(r.delta)} | "
            f"{'—' if ref or gap is None else f'{gap:+.2%}'} | {r.result.fill_rate.mean:.2%} | "
            f"{meta.get('steps', '—') if 'steps' in meta else '—'} | "
            f"{meta.get('seconds', 0.0):,.1f} | {params} |"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", nargs="+", default=list(INSTANCES), choices=list(INSTANCES))
    p.add_argument("--algos", nargs="*", default=["dpg", "ppo"], choices=["dpg", "ppo"])
    p.add_argument("--dpg-steps", type=int, default=None, help="default: DPGConfig's")
    p.add_argument("--ppo-steps", type=int, default=None, help=f"default: {PPO_STEPS:,}")
    p.add_argument("--periods", type=int, default=1000, help="evaluation periods per rep")
    p.add_argument("--reps", type=int, default=100, help="evaluation replications")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--seed", type=int, default=12345, help="evaluation seed")
    p.add_argument("--train-seed", type=int, default=0)
    p.add_argument("--search-periods", type=int, default=2000)
    p.add_argument("--search-reps", type=int, default=40)
    p.add_argument("--simopt-evals", type=int, default=400)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--quick", action="store_true", help="tiny budgets: a smoke test")
    a = p.parse_args(argv)
    if a.quick:
        a.dpg_steps, a.ppo_steps = a.dpg_steps or 20_480, a.ppo_steps or 4096
        a.periods, a.reps, a.search_periods, a.search_reps = 200, 10, 200, 8
        a.simopt_evals = 30
    torch.set_num_threads(1)
    lines = [
        "# Deep RL vs classical policies",
        "",
        f"`bench/rl.py` on {platform.machine()} ({platform.python_version()}), torch threads 1. "
        f"Evaluation: {a.reps} reps × {a.periods} periods (warm-up {a.warmup}), seed {a.seed}, "
        "common random numbers for every row of an instance; cost per period, mean ± 95% CI; "
        "Δ paired vs the instance's reference (first row); training steps = environment periods "
        "simulated in training; seconds = training or search wall time.",
        "",
        *(
            [
                "**Smoke test (`--quick`): budgets too small for the numbers to mean anything.**",
                "",
            ]
            if a.quick
            else []
        ),
        "| instance | policy / agent | cost/period | Δ vs reference | gap | fill rate | "
        "train steps | seconds | parameters |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for inst in a.instances:
        net = INSTANCES[inst]()
        agents, info = classical(net, inst, a)
        for algo in a.algos:
            steps = a.dpg_steps if algo == "dpg" else a.ppo_steps
            try:
                agent, meta = train(net, algo, steps, a.train_seed)
            except Exception as exc:  # a failed algorithm is a row of the table
                print(f"{inst}: {algo} failed: {type(exc).__name__}: {exc}")
                lines.append(f"| {inst} | {algo} | failed: {type(exc).__name__}: {exc} |||||||")
                continue
            agents.append(agent)
            info[agent.name] = meta
        ev = evaluate_agents(net, agents, a.periods, a.reps, a.seed, a.warmup)
        new = rows(inst, ev, info)
        if inst in KNOWN_OPTIMUM:
            new.append(f"| {inst} | known optimum (literature) | {KNOWN_OPTIMUM[inst]:.2f} "
                       "| | | | | | |")  # fmt: skip
        lines += new
        print("\n".join(new), flush=True)
    atomic_write_text(a.out, "\n".join(lines) + "\n")
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
