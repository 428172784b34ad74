"""The pooled-trend candidate flag (``forecast_fit.PLAN_TREND``): off, the plan's candidates are
exactly :data:`PLAN_CANDIDATES`; on, ``HistoricAverage+trend`` joins every class but "zero"."""

from __future__ import annotations

import pytest

from echelon.plan import forecast_fit
from echelon.plan.forecast_fit import PLAN_CANDIDATES, TREND_CANDIDATE, plan_candidates


def test_flag_is_on_by_default() -> None:
    assert forecast_fit.PLAN_TREND is True  # measured on every set (bench/README.md, wt96)


def test_flag_off_is_the_candidate_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forecast_fit, "PLAN_TREND", False)
    assert plan_candidates() == PLAN_CANDIDATES
    assert all(TREND_CANDIDATE not in m for m in plan_candidates().values())


def test_flag_on_adds_the_trend_candidate_but_not_to_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forecast_fit, "PLAN_TREND", True)
    got = plan_candidates()
    assert set(got) == set(PLAN_CANDIDATES)
    assert got["zero"] == PLAN_CANDIDATES["zero"]
    for cls in ("smooth", "erratic", "intermittent", "lumpy"):
        assert got[cls] == (*PLAN_CANDIDATES[cls], TREND_CANDIDATE)
