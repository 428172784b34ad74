"""Decision outcomes: realized service and inventory of overridden vs accepted orders, from
the scores of later weeks (hand-computed)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from echelon.monitor.outcomes import decision_outcomes
from echelon.storage import override_quantity, save_run, set_status
from echelon.storage.datastore import save_scores
from storage.factories import AS_OF, make_plan_result

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import run_cli


def decided(db_url: str) -> None:
    """A stored run with two accepted orders, one overridden, and the actuals after it."""
    result = make_plan_result(parameters={"options": {"from_store": "d", "nowcast": False}})
    run = save_run(db_url, result).id
    keys = [r.key for r in result.recommendations]
    # store orders (lead time 1 period: cover = 2 periods), position P = IP + quantity:
    # 0 FOODS_1→CA_1 40 + 12 = 52, 1 HOBBIES_1→CA_1 41 + 13 = 54, 2 FOODS_1→CA_2 42 + 30
    # (overridden from 14) = 72, 3 HOBBIES_1→CA_2 43 + 15 = 58 (only one period scored)
    override_quantity(db_url, run, keys[2], 30.0, "promotion next week", "bo")
    set_status(db_url, run, keys[:4], "approve", "ana")
    week = [pd.Timestamp(AS_OF), pd.Timestamp(AS_OF + timedelta(days=7))]
    actual = {("FOODS_1", "CA_1"): [30, 30], ("HOBBIES_1", "CA_1"): [20, 10],
              ("FOODS_1", "CA_2"): [40, 20], ("HOBBIES_1", "CA_2"): [5]}  # fmt: skip
    scores = pd.DataFrame(
        [(run, i, loc, "AX", week[k], float(a), 1.0, 1.0)
         for (i, loc), ys in actual.items() for k, a in enumerate(ys)],
        columns=["run_id", "item_id", "location_id", "segment", "period_start", "actual",
                 "mean", "std"],
    )  # fmt: skip
    save_scores(db_url, "d", scores)


def test_overridden_vs_accepted_by_hand(db_url: str) -> None:
    decided(db_url)
    out = decision_outcomes(db_url, "d").set_index("group")
    acc, ovr, both = out.loc["accepted"], out.loc["overridden"], out.loc["all"]
    assert (acc.lines, acc.demand) == (2, 90.0)
    assert acc.service == pytest.approx((52 + 30) / 90)
    assert acc.inventory_left == pytest.approx((54 - 30) * 7.25)  # FOODS_1 at CA_1 ran short
    assert acc.inventory_per_line == pytest.approx((54 - 30) * 7.25 / 2)
    assert (ovr.lines, ovr.demand, ovr.service) == (1, 60.0, 1.0)
    assert ovr.inventory_left == pytest.approx((72 - 60) * 2.5)
    assert both.lines == 3 and both.service == pytest.approx(142 / 150)


def test_nothing_decided_or_scored_is_an_empty_table(db_url: str) -> None:
    result = make_plan_result(parameters={"options": {"from_store": "d", "nowcast": False}})
    save_run(db_url, result)
    assert decision_outcomes(db_url, "d").empty


def test_echelon_monitor_shows_the_outcomes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "store.db")
    decided(db)
    code, out, err = run_cli(["monitor", "--db", db, "--name", "d"], capsys)
    assert code == 0, err
    assert "Did overrides help?" in out
    assert "overridden" in out and "100.0%" in out and "91.1%" in out  # 82 / 90 accepted
