"""The plan's forecast stage (``plan_forecasts``: plan fit and hold-out fit, each with its
walk-forward backtest) on synthetic catalogues of growing size.

    PYTHONPATH=src .venv/bin/python bench/forecast_scale.py --items 5 10 --stores 45
    PYTHONPATH=src .venv/bin/python bench/forecast_scale.py --items 5 --profile 25

For each ``--items N`` a catalogue (:mod:`echelon.plan.catalogue`: N items × ``--stores``
stores, 104 + 8 weeks, 30 % intermittent items, Parquet demand) is written and loaded, then
forecast once. Printed per size: CPU seconds of this process (``time.process_time``; the
forecast stage runs in one process), wall seconds (the machine is shared: wall ≥ CPU), CPU
seconds per 1,000 store series, and with two or more sizes the growth exponent b of
``CPU ≈ a·N^b``. ``--profile K`` prints the cProfile top K (cumulative) of the last size.
The numba kernels are compiled (and cached) by a warm-up on a 1-item catalogue first.

``--select-sample K``: series per demand class that backtest every candidate (0: every series,
the per-series code's results; default: the plan's ``PLAN_SELECT_SAMPLE``).

``--engine statsforecast batched``: time the stage with each forecast engine (plan.yaml's
``forecast_engine``; default: the catalogue's, ``auto``). ``--accuracy``: instead of timing
the whole stage, run the plan fit (:func:`echelon.plan.forecast_fit._fit`, its walk-forward
backtest) with each engine and print, per demand class and model, the mean of the plan's
selection loss (scaled pinball of demand summed over ``SELECT_PERIODS`` periods) and of the
per-period scaled pinball over the backtest windows, the champions, and the CPU seconds of
the fit. ``--demo`` does the same on the M5 demo data folder instead of a catalogue.

``--n-jobs 1 2`` instead times statsforecast's own parallelism: ``StatsForecast(models=
[AutoETS(52)], n_jobs=J).forecast`` on ``--series`` random weekly series of 52 periods, each J
twice, wall seconds and CPU seconds of this process and its workers (``resource``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from echelon.forecast.engine import ENGINES
from echelon.plan import forecast_fit
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts


def catalogue(items: int, stores: int, root: Path, engine: str | None = None) -> PlanContext:
    """The loaded context of an ``items`` × ``stores`` catalogue under ``root`` (written once),
    with plan.yaml's ``forecast_engine`` set to ``engine`` (None: as written)."""
    folder = root / f"items-{items}-stores-{stores}"
    if not folder.exists():
        write_catalogue(
            CatalogueParams(items=items, stores=stores, demand_format="parquet"), folder
        )
    return with_engine(load_context(folder), engine)


def with_engine(ctx: PlanContext, engine: str | None) -> PlanContext:
    if engine is None:
        return ctx
    return replace(ctx, config=ctx.config.model_copy(update={"forecast_engine": engine}))


def run(
    items: int, stores: int, root: Path, profile: int = 0, engine: str | None = None
) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, store series) of one forecast stage."""
    ctx = catalogue(items, stores, root, engine)
    prof = cProfile.Profile() if profile else None
    t0, w0 = time.process_time(), time.perf_counter()
    if prof is not None:
        prof.enable()
    plan_forecasts(ctx)
    if prof is not None:
        prof.disable()
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    if prof is not None:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(profile)
    return cpu, wall, items * len(ctx.stores)


def accuracy(ctx: PlanContext, engines: list[str]) -> None:
    """The plan fit's backtest losses per demand class × model with each engine (module doc)."""
    cfg = ctx.config
    hist = ctx.history
    if cfg.history_periods is not None:
        hist = hist.groupby(["item_id", "location_id"]).tail(cfg.history_periods)
    crit = f"ltd_spinball_{min(forecast_fit.SELECT_PERIODS, cfg.horizon)}"
    print(f"series={hist.groupby(['item_id', 'location_id']).ngroups} criterion={crit}")
    for engine in engines:
        t0 = time.process_time()
        fit, _ = forecast_fit._fit(hist, cfg.period_days, cfg.horizon, cfg.seed, engine=engine)
        cpu = time.process_time() - t0
        assert fit.backtest is not None
        sc = fit.backtest.scores
        table = sc.groupby(["demand_class", "model"])[[crit, "spinball"]].mean()
        table["n"] = sc.groupby(["demand_class", "model"]).size()
        print(f"engine={engine}: plan fit CPU {cpu:.1f} s")
        print(table.round(4).to_string())
        champs = fit.backtest.champions[["demand_class", "champion", "score"]]
        print(champs.round(4).to_string(index=False), flush=True)


def _cpu_with_children() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def n_jobs_check(jobs: list[int], series: int) -> None:
    """Wall and CPU seconds of statsforecast's AutoETS forecast with each ``n_jobs``."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=52, freq="W-MON")
    df = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{k:05d}" for k in range(series)], 52),
            "ds": np.tile(ds, series),
            "y": rng.gamma(2.0, 5.0, 52 * series) + 1.0,
        }
    )
    for j in [*jobs, *jobs]:
        sf = StatsForecast(models=[AutoETS(season_length=52)], freq="W-MON", n_jobs=j)
        c0, w0 = _cpu_with_children(), time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sf.forecast(df=df, h=13)
        wall, cpu = time.perf_counter() - w0, _cpu_with_children() - c0
        print(f"n_jobs={j} series={series}: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, nargs="+", default=[5])
    ap.add_argument("--stores", type=int, default=45)
    ap.add_argument("--out", type=Path, default=None, help="folder for the catalogues")
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument(
        "--select-sample",
        type=int,
        default=None,
        help="series per class that backtest every candidate (0: all series; default: the "
        "plan's PLAN_SELECT_SAMPLE)",
    )
    ap.add_argument("--engine", nargs="+", default=[None], choices=[None, *ENGINES, "auto"])
    ap.add_argument("--accuracy", action="store_true", help="backtest losses per engine")
    ap.add_argument("--demo", action="store_true", help="--accuracy on the M5 demo folder")
    ap.add_argument("--n-jobs", type=int, nargs="+", default=None)
    ap.add_argument("--series", type=int, default=1000)
    args = ap.parse_args()
    if args.n_jobs:
        n_jobs_check(args.n_jobs, args.series)
        return
    if args.select_sample is not None:
        forecast_fit.PLAN_SELECT_SAMPLE = args.select_sample or None
    print(f"select_sample={forecast_fit.PLAN_SELECT_SAMPLE}", flush=True)
    root = args.out or Path(tempfile.mkdtemp())
    engines = [e for e in args.engine if e is not None] or list(ENGINES)
    if args.accuracy or args.demo:
        for n in [0] if args.demo else args.items:
            ctx = demo_context(root) if args.demo else catalogue(n, args.stores, root)
            accuracy(ctx, engines)
        return
    for engine in args.engine:
        run(1, 4, root, engine=engine)  # warm-up: numba compilation, imports
        cpus = []
        for k, n in enumerate(args.items):
            prof = args.profile if k == len(args.items) - 1 else 0
            cpu, wall, series = run(n, args.stores, root, prof, engine)
            cpus.append(cpu)
            print(
                f"engine={engine or 'as written'} items={n} series={series}: CPU {cpu:.1f} s, "
                f"wall {wall:.1f} s, {1000 * cpu / series:.1f} CPU s per 1,000 series",
                flush=True,
            )
        if len(args.items) > 1:
            b = np.polyfit(np.log(args.items), np.log(cpus), 1)[0]
            print(f"engine={engine or 'as written'} growth exponent (CPU): {b:.2f}")


def demo_context(root: Path) -> PlanContext:
    """The M5 demo data folder (``make demo``'s), written under ``root`` once."""
    from echelon.plan.demo_data import write_demo_folder

    folder = root / "demo"
    if not folder.exists():
        write_demo_folder(folder)
    return load_context(folder)


if __name__ == "__main__":
    main()
