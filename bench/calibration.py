"""Calibration of the plan's service claims: projected vs realized fill rate (issue 14).

For each data set — the M5 demo folder and synthetic catalogues with a known process
(:mod:`echelon.plan.catalogue`, three parameter settings) — the plan is prepared and replayed
in rolling shadow mode (``shadow_origins`` windows of ``holdout_periods`` periods, each planned
only with the data before its origin, :mod:`echelon.plan.rolling`). Printed per ABC class:
target, realized fill rate (actual demand the plans had not seen, ± 95 % CI) and projected
fill rate (the plans' own simulated fill rates, weighted by the same demand) for MEIO and
single-echelon; then the inventory values and the saving of MEIO over single-echelon at the
realized service. The realized numbers are measurements on held-out data; the projected ones
are in-model claims.

    .venv/bin/python bench/calibration.py [--sets m5,seasonal,trend,intermittent]
        [--out bench/results/calibration.json] [--items 12] [--stores 8] [--seeds K]

With ``--seeds K`` each synthetic set is measured on K catalogue draws (the set's seed +
100·k, k = 0 … K−1) and, per class and policy, the mean over draws of the realized fill rate
with a between-draw 95 % t-interval, the mean projected fill rate and the mean gap
(projected − realized) are printed and stored under ``"draws"`` in the ``--out`` json (the
single-draw results there are kept). Fill rates are fractions of demand; gaps in the same
units (printed as percentage points).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from scipy import stats

from echelon.plan import forecast_fit, ltd_error
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.demo_data import write_demo_folder
from echelon.plan.model import PolicyName
from echelon.plan.pipeline import prepare
from echelon.plan.rolling import rolling_shadow, shadow_windows

PLANNED = (PolicyName.MEIO, PolicyName.SINGLE_ECHELON)
#: the synthetic settings (on top of the catalogue defaults: NB with r = 2, annual season 0.3,
#: 30 % intermittent items, lead times 4 / 1 / 1 weeks)
SETTINGS: dict[str, dict[str, Any]] = {
    "seasonal": {"season_amplitude": 0.4, "intermittent_share": 0.0, "seed": 1},
    "trend": {"trend": 0.3, "dispersion": 1.0, "intermittent_share": 0.2, "seed": 2},
    "intermittent": {"intermittent_share": 0.6, "demand_probability": 0.3, "seed": 3},
}


#: the catalogue seed step between draws of one set (``--seeds``)
SEED_STEP = 100


def _folder(name: str, root: Path, items: int, stores: int, draw: int = 0) -> Path:
    """The data folder of set ``name``; ``draw`` k offsets its catalogue seed by 100·k."""
    if name == "m5":
        return write_demo_folder(root / "m5")
    setting = {**SETTINGS[name], "seed": SETTINGS[name]["seed"] + SEED_STEP * draw}
    params = CatalogueParams(items=items, stores=stores, regional_dcs=2, **setting)
    return write_catalogue(params, root / f"{name}-{draw}")


def measure(folder: Path) -> dict[str, Any]:
    """Rolling shadow mode of the plan of ``folder``: per class and policy the target,
    realized (± CI) and projected fill rate; inventory values; the saving at realized
    service."""
    start, cpu = time.perf_counter(), time.process_time()
    ctx = load_context(folder)
    prep = prepare(ctx)
    _, rolling = rolling_shadow(ctx, shadow_windows(ctx, prep.forecasts, prep.lead_times))
    if rolling is None:
        raise SystemExit(f"{folder}: no rolling shadow mode (history too short)")
    by = {k.policy: k.network for k in rolling.kpis}
    classes = []
    for seg in rolling.segments:
        row: dict[str, Any] = {"class": seg.segment, "series": seg.series, "target": seg.target}
        for p in PLANNED:
            row[p.value] = {
                "realized": seg.realized.get(p.value),
                "ci": seg.realized_ci.get(p.value),
                "projected": seg.projected.get(p.value),
            }
        classes.append(row)
    return {
        "windows": len(rolling.origins),
        "periods": rolling.periods,
        "classes": classes,
        "fill_rate": {p.value: by[p].fill_rate for p in PLANNED},
        "inventory_value": {p.value: by[p].inventory_value for p in PLANNED},
        "saving_at_realized": rolling.saving,
        "seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }


def _pct(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{100 * x:.1f}"


def table(name: str, m: dict[str, Any]) -> str:
    """A markdown table of one data set's measurement."""
    lines = [
        f"**{name}** ({m['windows']} windows × {m['periods']} periods, "
        f"{m['seconds']} s wall, {m.get('cpu_seconds', '?')} s CPU)",
        "",
        "| class | series | target | MEIO realized | MEIO projected | SE realized | SE projected |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in m["classes"]:
        cells = []
        for p in PLANNED:
            v = c[p.value]
            ci = f" ± {_pct(v['ci'])}" if v["ci"] else ""
            cells += [_pct(v["realized"]) + ci, _pct(v["projected"])]
        lines.append(
            f"| {c['class']} | {c['series']} | {_pct(c['target'])} | " + " | ".join(cells) + " |"
        )
    inv = m["inventory_value"]
    lines += [
        "",
        f"inventory value MEIO {inv['meio']:,.0f} vs SE {inv['single_echelon']:,.0f}; "
        f"fill rate {_pct(m['fill_rate']['meio'])} vs {_pct(m['fill_rate']['single_echelon'])} "
        f"%; saving at realized service {_pct(m['saving_at_realized'])} %",
    ]
    return "\n".join(lines)


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """The mean of ``values`` (one per catalogue draw) and the half-width of its 95 %
    t-interval (``t_{0.975, K−1} · s / √K``); ``None`` for fewer than 2 values."""
    k = len(values)
    mean = sum(values) / k
    if k < 2:
        return mean, None
    return mean, float(stats.t.ppf(0.975, k - 1)) * statistics.stdev(values) / math.sqrt(k)


#: the acceptance margin of issue 14: realized fill rate ≥ target − 1.5 points (fraction)
MARGIN = 0.015


def _policy_over_draws(cells: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """One policy's cells of one class over the draws (``realized`` / ``projected`` fill
    rates, fractions; draws without a realized value are left out)."""
    kept = [c for c in cells if c["realized"] is not None and c["projected"] is not None]
    if not kept:
        return {"realized": None, "ci": None, "projected": None, "gap": None, "draws": 0}
    realized, ci = mean_ci([c["realized"] for c in kept])
    gap, gap_ci = mean_ci([c["projected"] - c["realized"] for c in kept])
    return {
        "realized": realized,
        "ci": ci,
        "projected": sum(c["projected"] for c in kept) / len(kept),
        "gap": gap,
        "gap_ci": gap_ci,
        "draws": len(kept),
        "mean_at_margin": realized >= target - MARGIN,
        "ci_reaches_margin": realized + (ci or 0.0) >= target - MARGIN,
    }


def aggregate(draws: list[dict[str, Any]]) -> dict[str, Any]:
    """Per class and policy over catalogue draws (each a :func:`measure` result): mean
    realized fill rate with its between-draw 95 % CI half-width, mean projected, mean gap
    (projected − realized, ± CI), whether the mean and the CI's upper end reach target − 1.5
    points; the mean saving at realized service (± CI) and mean inventory values."""
    by_class: dict[str, list[dict[str, Any]]] = {}
    for d in draws:
        for c in d["classes"]:
            by_class.setdefault(c["class"], []).append(c)
    classes = []
    for name in sorted(by_class):
        cells = by_class[name]
        target = cells[0]["target"]
        row: dict[str, Any] = {
            "class": name,
            "target": target,
            "series": sum(c["series"] for c in cells) / len(cells),
        }
        for p in PLANNED:
            row[p.value] = _policy_over_draws([c[p.value] for c in cells], target)
        classes.append(row)
    saving, saving_ci = mean_ci([d["saving_at_realized"] for d in draws])
    return {
        "classes": classes,
        "saving_at_realized": saving,
        "saving_ci": saving_ci,
        "inventory_value": {
            p.value: sum(d["inventory_value"][p.value] for d in draws) / len(draws) for p in PLANNED
        },
        "cpu_seconds": round(sum(d["cpu_seconds"] for d in draws), 1),
    }


def draws_table(name: str, agg: dict[str, Any], seeds: list[int]) -> str:
    """A markdown table of one set's :func:`aggregate` (fill rates in %, gaps in points)."""
    lines = [
        f"**{name}** over catalogue seeds {', '.join(map(str, seeds))} "
        f"({agg['cpu_seconds']} s CPU); realized mean ± between-draw 95 % CI",
        "",
        "| class | series/draw | target | MEIO realized | MEIO projected | MEIO gap "
        "| SE realized | SE projected | SE gap |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in agg["classes"]:
        cells = []
        for p in PLANNED:
            v = c[p.value]
            ci = f" ± {_pct(v['ci'])}" if v["ci"] is not None else ""
            cells += [_pct(v["realized"]) + ci, _pct(v["projected"]), _pct(v["gap"])]
        lines.append(
            f"| {c['class']} | {c['series']:.1f} | {_pct(c['target'])} | "
            + " | ".join(cells)
            + " |"
        )
    inv = agg["inventory_value"]
    ci = f" ± {_pct(agg['saving_ci'])}" if agg["saving_ci"] is not None else ""
    lines += [
        "",
        f"mean inventory value MEIO {inv['meio']:,.0f} vs SE {inv['single_echelon']:,.0f}; "
        f"saving at realized service {_pct(agg['saving_at_realized'])}{ci} %",
    ]
    return "\n".join(lines)


def _stored(out: Path) -> dict[str, Any]:
    """The results already in ``out`` (the sets this run does not measure are kept)."""
    if not out.exists():
        return {}
    stored = json.loads(out.read_text())
    return stored if isinstance(stored, dict) else {}


def _run_draws(
    names: list[str], k: int, items: int, stores: int, out: Path, results: dict[str, Any]
) -> None:
    """``--seeds k``: each set on ``k`` catalogue draws, aggregated under ``"draws"``."""
    if "m5" in names:
        raise SystemExit("--seeds applies to the synthetic sets only (m5 has one draw)")
    stored = results.setdefault("draws", {})
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            per_draw = [measure(_folder(name, Path(tmp), items, stores, j)) for j in range(k)]
            seeds = [SETTINGS[name]["seed"] + SEED_STEP * j for j in range(k)]
            agg = aggregate(per_draw)
            key = f"{name}-{items}x{stores}"
            stored[key] = {"seeds": seeds, **agg, "per_draw": per_draw}
            print(draws_table(f"{name} ({items} items × {stores} stores)", agg, seeds), flush=True)
            print(flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="m5," + ",".join(SETTINGS))
    ap.add_argument("--out", type=Path, default=Path("bench/results/calibration.json"))
    ap.add_argument("--items", type=int, default=12)
    ap.add_argument("--stores", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=0, help="catalogue draws per synthetic set")
    ap.add_argument(
        "--trend",
        choices=("on", "off"),
        help="the pooled-trend candidate (forecast_fit.PLAN_TREND; default: the code's)",
    )
    ap.add_argument(
        "--spread-by-segment",
        action="store_true",
        help="the LOO spread factor per demand class × ABC segment (ltd_error.SPREAD_BY_SEGMENT)",
    )
    ap.add_argument("--min-spread", type=float, help="ltd_error.MIN_SPREAD (default 1)")
    ap.add_argument("--count-noise", type=float, help="ltd_error.COUNT_NOISE (default 1)")
    args = ap.parse_args()
    if args.trend is not None:
        forecast_fit.PLAN_TREND = args.trend == "on"
    if args.count_noise is not None:
        ltd_error.COUNT_NOISE = args.count_noise
    ltd_error.MIN_SPREAD = args.min_spread or ltd_error.MIN_SPREAD
    ltd_error.SPREAD_BY_SEGMENT = args.spread_by_segment or ltd_error.SPREAD_BY_SEGMENT
    results = _stored(args.out)
    if args.seeds:
        _run_draws(args.sets.split(","), args.seeds, args.items, args.stores, args.out, results)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            results[name] = measure(_folder(name, Path(tmp), args.items, args.stores))
            if name != "m5":
                results[name]["size"] = {"items": args.items, "stores": args.stores}
            print(table(name, results[name]), flush=True)
            print(flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
