"""The forecast stage at scale (vectorized grouping, numba ETS paths) gives the numbers it gave
before: every number of the plan's forecasts on a small synthetic catalogue equals the golden
digest written by the loop-per-series code (``tests/plan/forecast_digest.py``, commit 55b688c)."""

from __future__ import annotations

import json
from pathlib import Path

from forecast_digest import GOLDEN, plan_digest


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
