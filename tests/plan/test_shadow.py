"""Shadow mode: a replay against actual demand checked by hand, and the whole hold-out replay
of a small network."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from test_kpis import constant_item
from test_placement import small_plan_data

from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.placement import Placements, place
from echelon.plan.shadow import WARMUP_PERIODS, replay, replay_network, replay_runs, shadow_mode
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim.batch import simulate


def test_replay_against_actual_demand_matches_a_hand_computation() -> None:
    plan = constant_item("a", 50.0, 150.0, 2.0, 1)  # current: level 150 = the starting stock
    plan.policies["meio"] = PolicySet(policies={"S": BaseStock(level=0.0)})  # never orders
    ds = pd.date_range("2024-01-01", periods=6, freq="7D")
    history = pd.DataFrame({"item_id": "a", "location_id": "S", "ds": ds, "y": 50.0})
    kpis = {k.policy: k for k in replay(Placements([], {"a": plan}), history, 4, 2, 7.0)}
    # warm-up: 2 periods of 50 leave 50 on hand; the 4 held-out periods ship 50 of 200
    assert kpis["meio"].network.fill_rate == pytest.approx(0.25)
    assert kpis["current"].network.fill_rate == pytest.approx(1.0)
    assert kpis["current"].network.inventory_value == pytest.approx(100.0 * 2.0)


def test_shadow_mode_replays_the_held_out_periods_for_every_policy() -> None:
    data = small_plan_data()
    fc = plan_forecasts(data)
    res = shadow_mode(data, fc, fit_lead_times(data))
    assert res is not None
    assert res.periods == data.config.holdout_periods == 8
    assert res.end == data.as_of - timedelta(days=1)
    assert res.start == res.end - timedelta(days=8 * 7 - 1)
    assert [k.policy for k in res.kpis] == ["meio", "single_echelon", "current"]
    for k in res.kpis:
        assert k.network.fill_rate is not None and 0.0 <= k.network.fill_rate <= 1.0
        assert set(k.stores) == {"S1", "S2"}
    assert "current policy" in res.current_policy


def test_no_holdout_gives_no_shadow_result() -> None:
    data = small_plan_data(holdout_periods=0)
    assert shadow_mode(data, plan_forecasts(data), fit_lead_times(data)) is None


def test_batched_replays_equal_the_per_item_simulation() -> None:
    """replay_runs (items batched) = simulate of each item's replay network alone."""
    data = small_plan_data(sim_reps=3)
    fc = plan_forecasts(data)
    placed = place(data, fc, fit_lead_times(data))
    hold, reps = 8, 3
    runs = replay_runs(placed, data.history, hold, reps)
    for p, item_runs in runs.items():
        for r in item_runs:
            plan = r.plan
            ys = {
                s: data.history[
                    (data.history["item_id"] == plan.item) & (data.history["location_id"] == s)
                ].sort_values("ds")["y"].to_numpy(float)
                for s in plan.stores
            }  # fmt: skip
            warm = min(WARMUP_PERIODS, min(len(y) for y in ys.values()) - hold)
            paths = {s: [max(0.0, float(v)) for v in y[-(hold + warm) :]] for s, y in ys.items()}
            net = replay_network(plan, paths)
            ref = simulate(net, plan.policies[p], hold, reps, plan.seed, warm)
            for got, want in zip(r.result.nodes, ref.nodes, strict=True):
                assert (got.id, got.fill_rate, got.avg_on_hand) == (
                    want.id, want.fill_rate, want.avg_on_hand,
                )  # fmt: skip
