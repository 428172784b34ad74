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
        [--out bench/results/calibration.json] [--items 12] [--stores 8]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

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


def _folder(name: str, root: Path, items: int, stores: int) -> Path:
    if name == "m5":
        return write_demo_folder(root / "m5")
    params = CatalogueParams(
        items=items, stores=stores, regional_dcs=2, **SETTINGS[name]
    )  # fmt: skip
    return write_catalogue(params, root / name)


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


def _stored(out: Path) -> dict[str, Any]:
    """The results already in ``out`` (the sets this run does not measure are kept)."""
    if not out.exists():
        return {}
    stored = json.loads(out.read_text())
    return stored if isinstance(stored, dict) else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="m5," + ",".join(SETTINGS))
    ap.add_argument("--out", type=Path, default=Path("bench/results/calibration.json"))
    ap.add_argument("--items", type=int, default=12)
    ap.add_argument("--stores", type=int, default=8)
    args = ap.parse_args()
    results = _stored(args.out)
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
