"""The forecast stage at scale (vectorized grouping, numba ETS paths) gives the numbers it gave
before: every number of the plan's forecasts on a small synthetic catalogue equals the golden
digest written by the loop-per-series code (``tests/plan/forecast_digest.py``, commit 55b688c)."""

from __future__ import annotations

import json
from pathlib import Path

from forecast_digest import GOLDEN, plan_digest, sha


def test_plan_forecasts_equal_the_per_series_code(tmp_path: Path) -> None:
    want = json.loads(GOLDEN.read_text())
    got = json.loads(json.dumps(plan_digest(tmp_path), sort_keys=True))
    assert got.keys() == want.keys()
    for key in want:
        if isinstance(want[key], dict):
            assert got[key].keys() == want[key].keys(), key
            for k in want[key]:
                assert got[key][k] == want[key][k], (key, k)
        else:
            assert got[key] == want[key], key


#: :func:`forecast_digest.sha` of the batched engine's digest, written by commit aba9dc2 (before
#: the season index and the training tables were grouped once by series)
BATCHED_SHA = "cef9533d0f7acedf"


def test_batched_engine_forecasts_equal_their_recorded_digest(tmp_path: Path) -> None:
    assert sha(plan_digest(tmp_path, "batched")) == BATCHED_SHA
