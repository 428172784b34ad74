"""CPU seconds of the plan's simulation stages — place, KPIs, shadow — per 1,000 store series.

    PYTHONPATH=src .venv/bin/python bench/tuning_scale.py --items 5 10 20 --stores 45
    PYTHONPATH=src .venv/bin/python bench/tuning_scale.py --items 5 --shared-windows

For each ``--items N`` a synthetic catalogue (:mod:`echelon.plan.catalogue`: 1 national DC →
4 regional DCs → ``--stores`` stores, 104 + 8 weeks, Parquet demand) is written and loaded,
forecast (``plan_forecasts``, timed too) and then, on those forecasts:

- **place**: ``place_with_mix`` (GSM, store-level tuning by simulation);
- **kpis**: ``project_kpis`` (3 policies + 14 stock-to-service curve points);
- **shadow**: ``shadow_windows`` + ``rolling_shadow`` (``config.shadow_origins`` windows), split
  into its re-forecasting (``origin_view``), re-placement (``place_with_mix``) and the rest
  (the replays). ``--shared-windows``: the earlier origins reuse the plan fit's backtest windows
  (``fresh_backtests=False``) instead of a backtest of their own (the default).

Seconds are CPU seconds of this process (``time.process_time``: every thread), the honest
measure on a shared machine; wall seconds are printed next to them. Printed per size and
stage: CPU s, CPU s per 1,000 store series, and with two or more sizes the growth exponent b
of ``seconds ≈ a·N^b``. Numba compilation falls in the first size's place stage unless the
cache is warm.
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import echelon.plan.rolling as rolling_mod
import echelon.plan.shadow as shadow_mod
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.kpis import project_kpis
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.rolling import rolling_shadow, shadow_windows
from echelon.plan.stock_mix import place_with_mix


@contextmanager
def timed_calls(module: Any, name: str, spent: list[float]) -> Iterator[None]:
    """Add the CPU seconds of every call of ``module.name`` to ``spent[0]`` while inside."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kw: Any) -> Any:
        t0 = time.process_time()
        try:
            return original(*args, **kw)
        finally:
            spent[0] += time.process_time() - t0

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


def measure(n: int, stores: int, fresh: bool) -> dict[str, tuple[float, float]]:
    """(CPU s, wall s) of every stage on a catalogue of ``n`` items."""
    folder = Path(tempfile.mkdtemp()) / f"items-{n}"
    write_catalogue(CatalogueParams(items=n, stores=stores, demand_format="parquet"), folder)
    ctx = load_context(folder)
    out: dict[str, tuple[float, float]] = {}

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        c0, w0 = time.process_time(), time.perf_counter()
        res = fn()
        out[name] = (time.process_time() - c0, time.perf_counter() - w0)
        return res

    fc = stage("forecast", lambda: plan_forecasts(ctx))
    lead = fit_lead_times(ctx)
    placed, _ = stage("place", lambda: place_with_mix(ctx, fc, lead))
    stage("kpis", lambda: project_kpis(placed, ctx.config))
    kw: dict[str, Any] = {} if fresh else {"fresh_backtests": False}
    if "fresh_backtests" not in inspect.signature(shadow_windows).parameters:
        kw = {}  # code before the option: every origin is backtested afresh anyway
    refit, replace = [0.0], [0.0]
    with (
        timed_calls(rolling_mod, "origin_view", refit),
        timed_calls(shadow_mod, "place_with_mix", replace),
    ):
        _, rolling = stage(
            "shadow", lambda: rolling_shadow(ctx, shadow_windows(ctx, fc, lead, **kw))
        )
    out["shadow: re-forecast"] = (refit[0], float("nan"))
    out["shadow: re-place"] = (replace[0], float("nan"))
    if rolling is not None:  # what the shadow found: realized MEIO fill per class, saving
        real = {s.segment: s.realized.get("meio") for s in rolling.segments}
        print(f"items={n} rolling shadow: realized meio fill {real}, saving {rolling.saving}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--stores", type=int, default=45)
    ap.add_argument("--shared-windows", action="store_true")
    args = ap.parse_args()
    cpu: dict[str, list[float]] = {}
    for n in args.items:
        res = measure(n, args.stores, not args.shared_windows)
        per = 1000.0 / (n * args.stores)
        for name, (c, w) in res.items():
            cpu.setdefault(name, []).append(c)
            print(
                f"items={n} series={n * args.stores} {name}: CPU {c:.1f} s "
                f"({c * per:.1f} CPU s / 1k series), wall {w:.1f} s",
                flush=True,
            )
    if len(args.items) > 1:
        x = np.log(np.asarray(args.items, float))
        for name, secs in cpu.items():
            b = np.polyfit(x, np.log(np.maximum(secs, 1e-6)), 1)[0]
            print(f"growth exponent {name}: {b:.2f}")


if __name__ == "__main__":
    main()
