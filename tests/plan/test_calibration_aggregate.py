"""The between-draw aggregation of ``bench/calibration.py --seeds`` (issue 14)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "calibration.py"


def _calibration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_calibration", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cal = _calibration()


def _draw(meio: float, se: float, projected: float, saving: float) -> dict[str, Any]:
    """A :func:`measure`-shaped result with one class A (target 98 %)."""
    cell = {"ci": 0.001, "projected": projected}
    return {
        "classes": [
            {
                "class": "A",
                "series": 10,
                "target": 0.98,
                "meio": {**cell, "realized": meio},
                "single_echelon": {**cell, "realized": se},
            }
        ],
        "saving_at_realized": saving,
        "inventory_value": {"meio": 100.0, "single_echelon": 120.0},
        "cpu_seconds": 1.0,
    }


def test_mean_ci_is_the_t_interval_of_the_draw_means() -> None:
    # values 0.90, 0.94, 0.98: mean 0.94, s = 0.04, t_{0.975, 2} = 4.302653
    mean, half = cal.mean_ci([0.90, 0.94, 0.98])
    assert mean == pytest.approx(0.94)
    assert half == pytest.approx(4.302652729911275 * 0.04 / math.sqrt(3), rel=1e-9)
    assert cal.mean_ci([0.9]) == (0.9, None)


def test_aggregate_per_class_and_policy() -> None:
    draws = [_draw(0.95, 0.97, 0.981, 0.10), _draw(0.97, 0.99, 0.979, 0.20)]
    agg = cal.aggregate(draws)
    (a,) = agg["classes"]
    meio = a["meio"]
    assert meio["realized"] == pytest.approx(0.96)
    # two draws: t_{0.975, 1} = 12.706205, s = 0.01·√2, half-width = t · s / √2 = 0.127062
    assert meio["ci"] == pytest.approx(12.706204736174707 * 0.01, rel=1e-9)
    assert meio["projected"] == pytest.approx(0.98)
    assert meio["gap"] == pytest.approx(0.02)
    assert not meio["mean_at_margin"]  # 0.96 < 0.98 − 0.015
    assert meio["ci_reaches_margin"]
    assert a["single_echelon"]["mean_at_margin"]  # 0.98 ≥ 0.965
    assert agg["saving_at_realized"] == pytest.approx(0.15)
    assert agg["inventory_value"] == {"meio": 100.0, "single_echelon": 120.0}


def test_aggregate_skips_draws_without_realized_service() -> None:
    draws = [_draw(0.95, 0.97, 0.98, 0.1), _draw(0.97, 0.99, 0.98, 0.1)]
    draws[1]["classes"][0]["meio"]["realized"] = None
    meio = cal.aggregate(draws)["classes"][0]["meio"]
    assert meio["draws"] == 1 and meio["realized"] == pytest.approx(0.95) and meio["ci"] is None


def test_aggregate_of_a_class_never_served_is_empty() -> None:
    draws = [_draw(0.95, 0.97, 0.98, 0.1)]
    draws[0]["classes"][0]["meio"]["realized"] = None
    meio = cal.aggregate(draws)["classes"][0]["meio"]
    assert meio["draws"] == 0 and meio["realized"] is None
    assert "| A |" in cal.draws_table("x", cal.aggregate(draws), [1])
