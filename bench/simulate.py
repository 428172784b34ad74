"""Simulator throughput: node-periods per second, and the ratio against stockpyl's simulator.

Run from the repository root::

    .venv/bin/python bench/simulate.py            # full sizes (a few minutes)
    .venv/bin/python bench/simulate.py --quick    # small sizes (smoke test, seconds)

Cases, all in one process:

- ``stockpyl ex6.1``: stockpyl's own simulator on Snyder & Shen Example 6.1 (3-stage serial,
  local base-stock levels 6.49, 5.53, 10.69), one long run — the reference speed;
- ``echelon ex6.1``: echelon on the same instance, one replication of the same length (the same
  work as stockpyl), then many replications;
- ``willems NN``: the Willems (2008) chain whose stage count is closest to 1,500, with the
  single-echelon base-stock policy;
- ``distribution``: 1 plant -> 10 DCs -> 989 stores, 1,000 replications.

A warm-up call on a tiny network first loads (or compiles) the numba kernels, so JIT time is
excluded from every throughput and reported on its own. For each echelon case the split between
drawing the random numbers and the kernel is measured in a second run of the same case, calling
the engine's parts directly: ``make_draws`` (the kernels' own PCG64 generator for constant /
normal draws, NumPy otherwise), then ``run_kernel`` on those draws. ``simulate`` itself draws
inside the kernel where it can (``draws.kernel_plan``), so its time is not the sum of the two.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from echelon.network import Network, network_from_dict
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.policies.io import policy_from_dict
from echelon.policies.model import PolicySet
from echelon.sim import batch
from echelon.sim.compiled import compile_network
from echelon.sim.draws import make_draws

ROOT = Path(__file__).resolve().parents[1]
WILLEMS_DIR = ROOT.parent / "shared" / "data" / "willems"
if not WILLEMS_DIR.exists():  # a checkout elsewhere: the shared data next to /work/main
    WILLEMS_DIR = Path("/work/shared/data/willems")

EX61_LEVELS = {"s1": 6.49, "s2": 5.53, "s3": 10.69}  # local base-stock levels (S&S Ex. 6.1)
EX61_COST = 47.67  # expected cost per period of these levels (Snyder & Shen)


@dataclass
class Row:
    case: str
    nodes: int
    reps: int
    periods: int
    seconds: float
    node_periods: int
    cpu_seconds: float = math.nan
    draw_seconds: float | None = None
    kernel_seconds: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.node_periods / self.seconds if self.seconds > 0 else math.nan


# ---------------------------------------------------------------------------------------------
# networks


def example_6_1() -> tuple[Network, PolicySet]:
    """Snyder & Shen Example 6.1 in echelon's format (stage 3 upstream, demand at stage 1)."""
    net = network_from_dict(
        {
            "name": "example_6_1",
            "nodes": [
                {"id": "s3", "holding_cost": 2, "external_supplier": True, "lead_time": 2},
                {"id": "s2", "holding_cost": 4, "lead_time": 1},
                {
                    "id": "s1",
                    "holding_cost": 7,
                    "penalty_cost": 37.12,
                    "lead_time": 1,
                    "demand": {"kind": "normal", "mean": 5, "std": 1},
                },
            ],
            "lanes": [{"from": "s3", "to": "s2"}, {"from": "s2", "to": "s1"}],
        }
    )
    pol = policy_from_dict(
        {"policies": {k: {"kind": "base_stock", "level": v} for k, v in EX61_LEVELS.items()}}
    )
    return net, pol


def distribution_network(stores: int = 989, dcs: int = 10, seed: int = 7) -> Network:
    """1 plant -> ``dcs`` DCs -> ``stores`` stores; normal demand at stores, lead times 1-3."""
    rng = np.random.default_rng(seed)
    nodes: list[dict[str, Any]] = [
        {"id": "plant", "holding_cost": 1.0, "external_supplier": True, "lead_time": 3}
    ]
    lanes: list[dict[str, Any]] = []
    for d in range(dcs):
        nodes.append({"id": f"dc{d}", "holding_cost": 2.0, "lead_time": 2})
        lanes.append({"from": "plant", "to": f"dc{d}"})
    for s in range(stores):
        mean = float(rng.uniform(5.0, 20.0))
        nodes.append(
            {
                "id": f"store{s}",
                "holding_cost": 4.0,
                "penalty_cost": 40.0,
                "lead_time": 1,
                "demand": {"kind": "normal", "mean": round(mean, 3), "std": round(0.3 * mean, 3)},
            }
        )
        lanes.append({"from": f"dc{s % dcs}", "to": f"store{s}"})
    return network_from_dict({"name": "distribution", "nodes": nodes, "lanes": lanes})


def willems_stage_count(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[1]
    col = header.index("/stages/stage/@stageName")
    return sum(1 for r in rows[2:] if col < len(r) and r[col].strip())


def closest_willems(target: int = 1500) -> tuple[Path, int] | None:
    files = sorted(WILLEMS_DIR.glob("*.csv"))
    if not files:
        return None
    counts = [(abs(willems_stage_count(f) - target), f) for f in files]
    best = min(counts)[1]
    return best, willems_stage_count(best)


# ---------------------------------------------------------------------------------------------
# runs


def run_stockpyl(periods: int, seed: int) -> tuple[Row, float]:
    from stockpyl.instances import load_instance
    from stockpyl.policy import Policy
    from stockpyl.sim import simulation

    net = load_instance("example_6_1")
    for node in net.nodes:
        level = EX61_LEVELS[f"s{node.index}"]
        node.inventory_policy = Policy(type="BS", base_stock_level=level, node=node)
    cpu = time.process_time()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = simulation(net, periods, rand_seed=1, progress_bar=False, consistency_checks="N")
    sec = time.perf_counter() - start
    cpu = time.process_time() - cpu
    n = len(net.nodes)
    return Row("stockpyl ex6.1", n, 1, periods, sec, n * periods, cpu), total / periods


def run_echelon(
    case: str, net: Network, pol: PolicySet, periods: int, reps: int, warmup: int, split: bool
) -> tuple[Row, Any]:
    cpu = time.process_time()
    res = batch.simulate(net, pol, periods, reps, seed=1, warmup=warmup)
    cpu = time.process_time() - cpu
    row = Row(case, len(net.nodes), reps, warmup + periods, res.seconds, res.node_periods, cpu)
    if split:
        row.draw_seconds, row.kernel_seconds = split_times(net, pol, periods, reps, warmup)
    return row, res


def split_times(
    net: Network, pol: PolicySet, periods: int, reps: int, warmup: int
) -> tuple[float, float]:
    """Seconds spent drawing random numbers and in the kernel, for the same run as simulate."""
    cn = compile_network(net, pol, None, warmup)
    total = warmup + periods
    chunk = batch.chunk_size(cn, total, reps)
    t_draw = t_kern = 0.0
    for lo in range(0, reps, chunk):
        hi = min(reps, lo + chunk)
        t0 = time.perf_counter()
        draws = make_draws(cn, net, 1, range(lo, hi), total)
        t1 = time.perf_counter()
        batch.run_kernel(cn, draws, warmup)
        t2 = time.perf_counter()
        t_draw += t1 - t0
        t_kern += t2 - t1
    return t_draw, t_kern


def fmt(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def print_table(rows: list[Row], ref_rate: float, threads: int) -> None:
    head = [
        "case",
        "nodes",
        "reps",
        "periods",
        "node-periods",
        "seconds",
        "node-periods/s",
        "per core",
        "per CPU-s",
        "vs stockpyl",
        "draws s",
        "kernel s",
    ]
    body = []
    for r in rows:
        body.append(
            [
                r.case,
                f"{r.nodes:,}",
                f"{r.reps:,}",
                f"{r.periods:,}",
                f"{r.node_periods:,}",
                fmt(r.seconds, 3),
                f"{r.rate:,.0f}",
                f"{r.rate / threads:,.0f}",
                f"{r.node_periods / r.cpu_seconds:,.0f}" if r.cpu_seconds > 0 else "-",
                f"{r.rate / ref_rate:,.0f}x" if ref_rate > 0 else "-",
                fmt(r.draw_seconds, 3),
                fmt(r.kernel_seconds, 3),
            ]
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(b, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--no-split", action="store_true", help="skip the draws/kernel split runs")
    args = ap.parse_args(argv)
    q = args.quick
    split = not args.no_split
    threads = numba.get_num_threads()

    # sizes: (periods, reps, warmup)
    sp_periods = 200 if q else 4_000
    ex_many = (200, 200, 20) if q else (1_000, 20_000, 100)
    will = (30, 10, 10) if q else (300, 200, 50)
    dist = (20, 20, 5) if q else (100, 1_000, 20)
    dist_net = distribution_network(stores=89 if q else 989, dcs=10)

    print(f"echelon simulator benchmark ({'quick' if q else 'full'}); numba threads: {threads}")

    # JIT warm-up: load (or compile) the kernels on a tiny run, timed separately
    net61, pol61 = example_6_1()
    t0 = time.perf_counter()
    batch.simulate(net61, pol61, 5, 2, seed=0)
    jit = time.perf_counter() - t0
    print(f"kernel warm-up (numba compile or cache load): {jit:.2f} s (excluded below)")

    rows: list[Row] = []
    sp_row, sp_cost = run_stockpyl(sp_periods, seed=1)
    rows.append(sp_row)
    ref_rate = sp_row.rate

    r1, res1 = run_echelon("echelon ex6.1, 1 rep", net61, pol61, sp_periods, 1, 0, False)
    rows.append(r1)
    p, r, w = ex_many
    r2, res2 = run_echelon("echelon ex6.1 (serial 3)", net61, pol61, p, r, w, split)
    rows.append(r2)

    found = closest_willems(1500)
    if found is None:
        print(f"willems: no chains under {WILLEMS_DIR}; case skipped")
    else:
        path, stages = found
        try:
            from echelon.network import load_network

            wnet = load_network(path)
        except Exception as exc:  # the importer may not be there yet
            print(f"willems {path.name}: could not load ({type(exc).__name__}: {exc}); skipped")
        else:
            wpol = single_echelon_base_stock(wnet)
            p, r, w = will
            row, _ = run_echelon(f"willems {path.stem} chain", wnet, wpol, p, r, w, split)
            row.note = f"{stages} stage rows"
            rows.append(row)

    dpol = single_echelon_base_stock(dist_net)
    p, r, w = dist
    row, _ = run_echelon("distribution 1-10-stores", dist_net, dpol, p, r, w, split)
    rows.append(row)

    print()
    print_table(rows, ref_rate, threads)
    print(
        "per core = node-periods/s / numba threads; per CPU-s = node-periods / CPU seconds of "
        "the process (all threads; robust when other processes share the cores); "
        "draws s / kernel s: the same run repeated, timing make_draws (random numbers) and "
        "run_kernel on them separately; simulate draws inside the kernel for constant/normal "
        "demand and normal lead times (the rest of 'seconds' is compiling the network and "
        "summarizing the KPIs)"
    )
    print()
    c1 = res1.cost_per_period.mean
    c2, h2 = res2.cost_per_period.mean, res2.cost_per_period.ci95
    print(f"Example 6.1 cost per period (book: {EX61_COST}):")
    print(f"  stockpyl, 1 run of {sp_periods:,} periods:  {sp_cost:.3f}")
    print(f"  echelon,  1 run of {sp_periods:,} periods:  {c1:.3f}")
    print(f"  echelon,  {res2.replications:,} reps x {res2.periods:,} periods: {c2:.3f} ± {h2:.3f}")
    best = max(rows[1:], key=lambda x: x.rate)
    print(
        f"speed vs stockpyl (same process): same work {r1.rate / ref_rate:,.0f}x; "
        f"best case ({best.case}) {best.rate / ref_rate:,.0f}x"
    )
    for r in rows:
        if r.note:
            print(f"  {r.case}: {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
