"""The forecast stage at scale (vectorized grouping, numba ETS paths) gives the numbers it gave
before: every number of the plan's forecasts on a small synthetic catalogue equals the golden
digest written by the loop-per-series code (``tests/plan/forecast_digest.py``, commit 55b688c),
with the leave-one-origin-out spread calibration off (it came later, wt90); with it on (the
default) only the σ_τ curves and σ_1 change, by one factor k ≥ 1 per series."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from forecast_digest import GOLDEN, plan_digest, sha

from echelon.plan import forecast_fit, ltd_error


@pytest.fixture(autouse=True)
def _without_the_trend_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digests record the plan's candidates before the pooled-trend challenger joined them
    (``forecast_fit.PLAN_TREND``, on by default since 2026-12-05; bench/README.md, wt96)."""
    monkeypatch.setattr(forecast_fit, "PLAN_TREND", False)


def _digest(tmp_path: Path, engine: str | None = None) -> dict:
    return json.loads(json.dumps(plan_digest(tmp_path, engine), sort_keys=True))


def test_plan_forecasts_equal_the_per_series_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ltd_error, "LOO_SPREAD", False)
    want = json.loads(GOLDEN.read_text())
    got = _digest(tmp_path)
    assert got.keys() == want.keys()
    for key in want:
        if isinstance(want[key], dict):
            assert got[key].keys() == want[key].keys(), key
            for k in want[key]:
                assert got[key][k] == want[key][k], (key, k)
        else:
            assert got[key] == want[key], key


def test_the_spread_calibration_scales_only_the_curves(tmp_path: Path) -> None:
    want = json.loads(GOLDEN.read_text())
    got = _digest(tmp_path)
    factors = []
    for part in ("series", "holdout"):
        for key, w in want[part].items():
            g = got[part][key]
            assert {k: v for k, v in g.items() if k not in ("std", "errors")} == {
                k: v for k, v in w.items() if k not in ("std", "errors")
            }
            ge, we = g["errors"], w["errors"]
            if we is None:
                assert ge is None and g["std"] == w["std"]
                continue
            assert {k: ge[k] for k in ("paths", "bias", "per_period")} == {
                k: we[k] for k in ("paths", "bias", "per_period")
            }
            k = ge["curve"][0] / we["curve"][0]
            assert ge["curve"] == pytest.approx([k * v for v in we["curve"]], rel=1e-12)
            assert g["std"] == pytest.approx(k * w["std"], rel=1e-12)
            factors.append(k)
    assert min(factors) >= 1.0 and max(factors) <= ltd_error.MAX_SPREAD
    assert max(factors) > 1.05  # the calibration did inflate some demand class here
    for key in ("fan", "warnings", "holdout_periods", "holdout_start"):
        assert got[key] == want[key], key
    assert sha(got) == CALIBRATED_SHA


#: :func:`forecast_digest.sha` of the default (calibrated) digest, written by wt90
CALIBRATED_SHA = "541bd403a28f93ab"

#: :func:`forecast_digest.sha` of the batched engine's digest, written by commit aba9dc2 (before
#: the season index and the training tables were grouped once by series)
BATCHED_SHA = "cef9533d0f7acedf"


def test_batched_engine_forecasts_equal_their_recorded_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ltd_error, "LOO_SPREAD", False)
    assert sha(plan_digest(tmp_path, "batched")) == BATCHED_SHA
