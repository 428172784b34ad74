"""A JSON digest of :class:`echelon.plan.forecasting.PlanForecasts` (every number it holds),
for the regression test that the forecast stage at scale gives what it gave before
(``tests/plan/test_forecast_scale.py``). Floats are kept exactly (JSON writes ``repr``).

Regenerate the golden file (only when a change of the numbers is intended)::

    PYTHONPATH=src .venv/bin/python tests/plan/forecast_digest.py
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import PlanForecasts, SeriesForecast, plan_forecasts

GOLDEN = Path(__file__).parent / "data" / "forecast_scale_golden.json"
#: 4 items (one intermittent) × 3 stores, 104 + 8 weeks: both fits, both model families
PARAMS = CatalogueParams(items=4, stores=3, regional_dcs=1, seed=11)


def _num(x: float | None) -> Any:
    if x is None:
        return None
    return repr(float(x)) if not math.isfinite(float(x)) else float(x)


def _series(s: SeriesForecast) -> dict[str, Any]:
    err = s.errors
    return {
        "mean": _num(s.mean),
        "std": _num(s.std),
        "model": s.model,
        "history_mean": _num(s.history_mean),
        "history_std": _num(s.history_std),
        "bias": _num(s.bias),
        "actual_mean": _num(s.actual_mean),
        "std_from_backtest": s.std_from_backtest,
        "errors": None
        if err is None
        else {
            "paths": [[_num(v) for v in row] for row in err.paths],
            "bias": _num(err.bias),
            "curve": [_num(v) for v in err.curve],
            "per_period": _num(err.per_period),
        },
    }


def digest(fc: PlanForecasts) -> dict[str, Any]:
    """Every number and label of ``fc`` as plain JSON values."""
    return {
        "series": {f"{i}|{loc}": _series(s) for (i, loc), s in sorted(fc.series.items())},
        "holdout": {f"{i}|{loc}": _series(s) for (i, loc), s in sorted(fc.holdout.items())},
        "holdout_periods": fc.holdout_periods,
        "holdout_start": str(fc.holdout_start),
        "fan": [json.loads(f.model_dump_json()) for f in fc.fan],
        "warnings": [w.message for w in fc.warnings],
    }


def plan_digest(folder: Path, engine: str | None = None) -> dict[str, Any]:
    """The digest of the forecast stage on the catalogue :data:`PARAMS` written to ``folder``,
    with plan.yaml's ``forecast_engine`` set to ``engine`` (None: the catalogue's)."""
    write_catalogue(PARAMS, folder)
    ctx = load_context(folder)
    if engine is not None:
        ctx = replace(ctx, config=ctx.config.model_copy(update={"forecast_engine": engine}))
    return digest(plan_forecasts(ctx))


def sha(d: dict[str, Any]) -> str:
    """A short SHA-256 of a digest's JSON (keys sorted, floats as ``repr``)."""
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


if __name__ == "__main__":
    import tempfile

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out.write_text(json.dumps(plan_digest(Path(tmp)), indent=0, sort_keys=True) + "\n")
    print(out, out.stat().st_size, "bytes")
