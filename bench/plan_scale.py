"""How `echelon plan` scales with the catalogue: seconds per stage, per 1,000 series, memory.

    PYTHONPATH=src .venv/bin/python bench/plan_scale.py --items 50 --stores 45
    PYTHONPATH=src .venv/bin/python bench/plan_scale.py --items 50 500 --stores 45 --out /tmp/cat
    PYTHONPATH=src .venv/bin/python bench/plan_scale.py --items 20 --workers 1 2   # Dask speed-up
    PYTHONPATH=src .venv/bin/python bench/plan_scale.py --items 500 --format parquet --load-only

For each ``--items N`` a synthetic catalogue (:mod:`echelon.plan.catalogue`: 1 national DC
→ ``--dcs`` regional DCs → ``--stores`` stores, 104 + 8 weeks of negative-binomial demand,
30 % intermittent items) is written to ``OUT/items-N`` and planned by the whole service
(`plan_and_store`: load → forecast → place → KPIs → shadow → orders → exceptions → store →
report) in a fresh process, so that each run's peak memory is its own. Printed per run: the
seconds of every stage (from the pipeline's progress calls: a stage runs from its first call to
its last; ``load`` is before the first call, ``store+report`` after the last), seconds per
1,000 store series, and the peak resident memory (``resource.getrusage``, maxrss). With two or
more sizes, the growth exponent ``b`` of ``seconds ≈ a · N^b`` (least squares on logs); with
``--workers 1 2``, the wall-clock speed-up of the stages that run on the Dask cluster (place and
shadow, each and together) and of the whole plan, and per stage the CPU seconds of the workers
(``workers' CPU``, read from them at every progress call) next to the client's; numba's threads
in each worker: ``parallel.worker_env`` (set ``NUMBA_NUM_THREADS`` to choose them).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

STAGE_ORDER = ("load", "forecast", "place", "kpis", "shadow", "orders", "exceptions")
PARALLEL_STAGES = ("place", "shadow")  # the stages that run on a Dask cluster


def run_one(
    items: int,
    stores: int,
    dcs: int,
    folder: Path,
    fmt: str,
    seed: int,
    workers: int | None,
    load_only: bool = False,
) -> dict[str, Any]:
    """Write the catalogue and plan it in this process (``workers``: the place stage on a
    local Dask cluster of that many processes; ``load_only``: only time ``load_context``); the
    measurements as a dict."""
    from echelon.plan.catalogue import CatalogueParams, write_catalogue
    from echelon.plan.parallel import ClusterSpec, worker_cpu_seconds
    from echelon.plan.service import plan_and_store

    params = CatalogueParams(
        items=items,
        stores=stores,
        regional_dcs=dcs,
        seed=seed,
        demand_format="parquet" if fmt == "parquet" else "csv",
    )
    t0 = time.perf_counter()
    write_catalogue(params, folder)
    written = time.perf_counter() - t0
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    cpu_first: dict[str, float] = {}
    cpu_last: dict[str, float] = {}

    worker_cpu: dict[str, float] = {}  # the workers' CPU seconds at each stage's last call

    def progress(stage: str, _fraction: float) -> None:
        if (used := worker_cpu_seconds()) is not None:
            worker_cpu.setdefault("", used)  # at the first call
            worker_cpu[stage] = used
        now, cpu = time.perf_counter(), time.process_time()
        first.setdefault(stage, now)
        last[stage] = now
        cpu_first.setdefault(stage, cpu)
        cpu_last[stage] = cpu

    if load_only:
        from echelon.plan.data import load_context

        start = time.perf_counter()
        rows = len(load_context(folder).history)
        return {
            "items": items,
            "stores": stores,
            "rows": rows,
            "write_seconds": written,
            "load_seconds": time.perf_counter() - start,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    start, cpu_start = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        plan_and_store(
            folder,
            str(Path(tmp) / "echelon.db"),
            report=Path(tmp) / "report.html",
            progress=progress,
            cluster=ClusterSpec(workers=workers) if workers else None,
        )
        end, cpu_end = time.perf_counter(), time.process_time()
    stages = _stage_seconds(start, end, first, last)
    cpu = _stage_seconds(cpu_start, cpu_end, cpu_first, cpu_last)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the cluster's, once it closed
    return {
        "items": items,
        "stores": stores,
        "workers": workers or 0,
        "series": items * stores,
        "write_seconds": written,
        "seconds": end - start,
        "stages": stages,
        "cpu_seconds": cpu_end - cpu_start,
        "cpu_stages": cpu,
        "worker_cpu_stages": _worker_stages(worker_cpu),
        "children_cpu_seconds": children.ru_utime + children.ru_stime,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _stage_seconds(
    start: float, end: float, first: dict[str, float], last: dict[str, float]
) -> dict[str, float]:
    """Seconds per stage (of the clock whose readings ``first``/``last`` hold): ``load``
    before the first progress call, a stage from the previous stage's last call to its own
    last, ``store+report`` after the last call."""
    stages = {"load": min(first.values(), default=end) - start}
    previous_end = start + stages["load"]
    for stage in STAGE_ORDER[1:]:
        if stage in first:
            stages[stage] = last[stage] - previous_end
            previous_end = last[stage]
    stages["store+report"] = end - previous_end
    return stages


def _worker_stages(readings: dict[str, float]) -> dict[str, float]:
    """The workers' CPU seconds per stage from their readings at each stage's last progress
    call (``""``: at the very first call), a stage from the previous stage's last call to its
    own as for the wall-clock (:func:`_stage_seconds`)."""
    stages = ["", *(st for st in STAGE_ORDER if st in readings)]
    return {b: readings[b] - readings[a] for a, b in pairwise(stages)}


def growth_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of log(seconds) on log(size) (least squares)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def report(run: dict[str, Any]) -> None:
    per_k = run["seconds"] / run["series"] * 1000
    print(
        f"items {run['items']:>6,} × stores {run['stores']}"
        f"{f', {w} Dask workers' if (w := run['workers']) else ''}: {run['series']:,} series, "
        f"{run['seconds']:.1f} s ({per_k:.2f} s per 1,000 series), peak {run['peak_mb']:,.0f} MB "
        f"(catalogue written in {run['write_seconds']:.1f} s)"
    )
    print(
        f"  CPU {run['cpu_seconds']:.1f} s (this process; wall-clock is inflated by load), "
        f"{run.get('children_cpu_seconds', 0.0):.1f} s (its child processes: the workers)"
    )
    workers = run.get("worker_cpu_stages") or {}
    for stage, sec in run["stages"].items():
        cpu = run["cpu_stages"].get(stage, math.nan)
        on = f"  workers' CPU {workers[stage]:9.2f} s" if stage in workers else ""
        print(
            f"  {stage:<13} {sec:9.2f} s  {sec / run['series'] * 1000:8.3f} s/1k series"
            f"  CPU {cpu:9.2f} s{on}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, nargs="+", default=[50])
    ap.add_argument("--stores", type=int, default=45)
    ap.add_argument("--dcs", type=int, default=4, help="regional DCs")
    ap.add_argument("--out", type=Path, default=None, help="folder for the catalogues")
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, nargs="+", default=[0], help="0: no Dask cluster")
    ap.add_argument("--load-only", action="store_true", help="only write and load the folder")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="plan-scale-"))
    if args.child:  # one size, in this process: print its JSON
        n = args.items[0]
        w = args.workers[0] or None
        folder = out / f"items-{n}"
        run = run_one(n, args.stores, args.dcs, folder, args.format, args.seed, w, args.load_only)
        print(json.dumps(run))
        return
    runs = []
    for n, w in [(n, w) for w in args.workers for n in args.items]:
        cmd = [sys.executable, __file__, "--child", "--items", str(n), "--stores", str(args.stores)]
        cmd += ["--dcs", str(args.dcs), "--out", str(out), "--format", args.format]
        cmd += ["--seed", str(args.seed), "--workers", str(w)]
        cmd += ["--load-only"] if args.load_only else []
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"items {n}: failed\n{done.stderr[-3000:]}", file=sys.stderr)
            sys.exit(1)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if args.load_only:
            r = runs[-1]
            print(
                f"items {n:,} × stores {r['stores']}: {r['rows']:,} history rows, written in "
                f"{r['write_seconds']:.1f} s, loaded in {r['load_seconds']:.1f} s, "
                f"peak {r['peak_mb']:,.0f} MB"
            )
            continue
        report(runs[-1])
    if args.load_only:
        return
    for w in args.workers:
        same = [r for r in runs if r["workers"] == w]
        if len(same) >= 2:
            b = growth_exponent([r["items"] for r in same], [r["seconds"] for r in same])
            sizes = ", ".join(str(r["items"]) for r in same)
            print(f"growth exponent (seconds ~ N^b, N = {sizes}, workers {w}): b = {b:.3f}")
    if len(args.workers) >= 2:
        for line in speed_ups(runs, args.workers[0]):
            print(line)


def speed_ups(runs: list[dict[str, Any]], base_workers: int) -> list[str]:
    """Wall-clock speed-up of every run over the run of the same size with ``base_workers``:
    per parallel stage (:data:`PARALLEL_STAGES`), the two together and the whole plan."""
    base = {r["items"]: r for r in runs if r["workers"] == base_workers}
    out = []
    for r in runs:
        b = base.get(r["items"])
        if r["workers"] == base_workers or b is None:
            continue
        parts = []
        for name, stages in [*((s, (s,)) for s in PARALLEL_STAGES), ("both", PARALLEL_STAGES)]:
            one, other = (sum(x["stages"].get(s, 0.0) for s in stages) for x in (b, r))
            parts.append(f"{name} {one:.1f} → {other:.1f} s = {one / other:.2f}x")
        parts.append(f"whole plan {b['seconds'] / r['seconds']:.2f}x")
        out.append(
            f"speed-up, {r['workers']} vs {base_workers} workers, N = {r['items']}: "
            + "; ".join(parts)
        )
    return out


if __name__ == "__main__":
    main()
