"""The plan's forecast champions in the model registry and the approval gate on promotions
that move a segment's safety stock value by more than the threshold."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.monitor.champions import (
    Registered,
    forecast_card,
    gate,
    pending_exceptions,
    relative_change,
    segment_champions,
)
from echelon.plan.model import ExceptionKind, Severity
from echelon.storage import audit_log
from echelon.storage.db import StorageError
from echelon.storage.promotions import (
    approve_promotion,
    forecast_entries,
    held_segments_of,
    promotions,
    record_verdicts,
    registered_champions,
)
from echelon.storage.rules import ApprovalRule, apply_rule
from monitor.stores import MODELS, WINDOW, stored_run, with_models

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import run_cli


def test_segment_champion_share_wape_and_safety_stock_by_hand() -> None:
    result = with_models(MODELS)
    champs = segment_champions(result)
    assert set(champs) == {"AX", "BY"}
    ax, by = champs["AX"], champs["BY"]
    assert (ax.model, ax.series, ax.share) == ("AutoETS", 2, 1.0)
    assert ax.wape == pytest.approx((2 + 5) * 2 / (30 * 2))  # |10−12| + |20−15| over 10 + 20
    assert by.model == "CrostonSBA" and by.share == 0.5  # a tie goes to the first name
    ssv = sum(p.safety_stock_value for p in result.placements if p.segment == "AX")
    assert ax.safety_stock_value == pytest.approx(ssv)
    assert segment_champions(result.model_copy(update={"forecasts": []})) == {}


def test_the_champion_is_the_plan_fit_model_not_the_hold_out_fit_one() -> None:
    result = with_models(dict.fromkeys(MODELS, "GroupPrior"))  # the hold-out fit: too short
    fan = [f.model_copy(update={"plan_model": MODELS[(f.item, f.location)]})
           for f in result.forecasts]  # fmt: skip
    champs = segment_champions(result.model_copy(update={"forecasts": fan}))
    assert (champs["AX"].model, champs["BY"].model) == ("AutoETS", "CrostonSBA")
    assert segment_champions(result)["AX"].model == "GroupPrior"  # an older run: no plan_model


def test_gate_first_kept_small_and_large_promotions() -> None:
    champs = segment_champions(with_models(MODELS))
    ax = champs["AX"].safety_stock_value
    first = gate(champs, {})
    assert [v.status for v in first] == ["promoted", "promoted"]
    assert first[0].reason.startswith("first selection")
    reg = {"AX": Registered("AutoETS", ax * 0.5), "BY": Registered("TSB", champs["BY"]
           .safety_stock_value / 1.1)}  # fmt: skip
    verdicts = {v.champion.segment: v for v in gate(champs, reg, threshold=0.2)}
    assert verdicts["AX"].status == "kept"  # the same model, whatever the safety stock did
    assert verdicts["BY"].status == "promoted" and "within 20%" in verdicts["BY"].reason
    assert verdicts["BY"].change == pytest.approx(0.1)
    strict = {v.champion.segment: v for v in gate(champs, reg, threshold=0.05)}
    assert strict["BY"].status == "pending" and "waits for approval" in strict["BY"].reason
    (exc,) = pending_exceptions(list(strict.values()), "m5")
    assert exc.kind == ExceptionKind.LARGE_CHANGE and exc.severity == Severity.HIGH
    assert "segment BY" in exc.message and exc.value == pytest.approx(0.1)


MONEY = st.one_of(st.just(0.0), st.floats(1e-3, 1e6))  # amounts of money, not denormals


@given(before=MONEY, after=MONEY, threshold=st.floats(0, 2))
def test_a_new_champion_waits_exactly_when_the_change_exceeds_the_threshold(
    before: float, after: float, threshold: float
) -> None:
    champs = segment_champions(with_models(MODELS))
    c = champs["AX"]
    champ = {"AX": type(c)(c.segment, c.model, c.series, c.share, c.wape, after)}
    (v,) = gate(champ, {"AX": Registered("Naive", before)}, threshold)
    change = relative_change(before, after)
    assert v.status == ("pending" if change > threshold else "promoted")
    assert change >= 0 and (math.isinf(change) == (before == 0 and after > 0))


def test_a_pending_promotion_holds_auto_approval_until_approved(db_url: str) -> None:
    run1, r1 = stored_run(db_url, MODELS, "a")
    record_verdicts(db_url, "d", run1, gate(segment_champions(r1), {}), WINDOW)
    reg = registered_champions(db_url, "d")
    assert reg["AX"][0] == "AutoETS" and reg["BY"][0] == "CrostonSBA"
    changed = {**MODELS, ("FOODS_1", "CA_1"): "Naive", ("FOODS_1", "CA_2"): "Naive"}
    run2, r2 = stored_run(db_url, changed, "b")
    champs = segment_champions(r2)
    doubled = {"AX": Registered("AutoETS", champs["AX"].safety_stock_value / 2),
               "BY": Registered("CrostonSBA", champs["BY"].safety_stock_value)}  # fmt: skip
    (pid,) = record_verdicts(db_url, "d", run2, gate(champs, doubled), WINDOW)
    assert registered_champions(db_url, "d")["AX"][0] == "AutoETS"  # still the old one
    assert held_segments_of(db_url, run2) == {"AX"}
    _, approved = apply_rule(db_url, run2, ApprovalRule(1e9, no_exception=False), "ana")
    ax_lines = {
        r.key
        for r in r2.recommendations
        if (r.item, r.location) in {("FOODS_1", "CA_1"), ("FOODS_1", "CA_2")}
    }
    assert approved and not ax_lines & set(approved)  # the held segment's orders stay proposed

    row = approve_promotion(db_url, pid, "boss")
    assert row["status"] == "approved" and row["decided_by"] == "boss"
    assert registered_champions(db_url, "d")["AX"][0] == "Naive"
    last = forecast_entries(db_url, "d")[-1]
    assert last["promoted"] and last["reason"].startswith("approved by boss")
    trail = [e for e in audit_log(db_url, run2) if e.action == "approve_promotion"]
    assert len(trail) == 1 and trail[0].who == "boss" and trail[0].key == "promotion:AX"
    assert held_segments_of(db_url, run2) == set()
    _, later = apply_rule(db_url, run2, ApprovalRule(1e9, no_exception=False), "ana")
    assert ax_lines & set(later) and set(later) <= ax_lines
    with pytest.raises(StorageError, match="it is approved"):
        approve_promotion(db_url, pid, "boss")
    card = "\n".join(forecast_card(forecast_entries(db_url, "d"), promotions(db_url, "d")))
    assert "segment AX: champion Naive" in card and f"promotion #{pid}" in card
    assert "approved by boss" in card


def test_a_later_plan_supersedes_a_pending_promotion(db_url: str) -> None:
    run1, r1 = stored_run(db_url, MODELS, "a")
    zero = {s: Registered("Zero", 0.0) for s in ("AX", "BY")}  # any safety stock is from 0
    ids = record_verdicts(db_url, "d", run1, gate(segment_champions(r1), zero), WINDOW)
    assert len(ids) == 2 and {p["change"] for p in promotions(db_url, "d")} == {None}
    run2, r2 = stored_run(db_url, MODELS, "b")
    record_verdicts(db_url, "d", run2, gate(segment_champions(r2), zero), WINDOW)
    status = [p["status"] for p in promotions(db_url, "d")]
    assert status == ["superseded", "superseded", "pending", "pending"]
    with pytest.raises(StorageError, match="superseded"):
        approve_promotion(db_url, ids[0], "boss")
    assert held_segments_of(db_url, run1) == {"AX", "BY"}  # never approved: still held
    with pytest.raises(StorageError, match="no such promotion"):
        approve_promotion(db_url, 999, "boss")


def test_a_plan_that_keeps_the_champion_leaves_the_promotion_pending(db_url: str) -> None:
    run1, r1 = stored_run(db_url, MODELS, "a")
    champs = {"AX": segment_champions(r1)["AX"]}  # AutoETS
    (pid,) = record_verdicts(db_url, "d", run1, gate(champs, {"AX": Registered("Zero", 0.0)}),
                             WINDOW)  # fmt: skip
    zero = with_models(dict.fromkeys(MODELS, "Zero"))  # the next plan keeps the old champion
    (kept,) = gate({"AX": segment_champions(zero)["AX"]}, registered(db_url))
    assert kept.status == "kept"
    run2, _ = stored_run(db_url, MODELS, "b")
    assert record_verdicts(db_url, "d", run2, [kept], WINDOW) == []
    assert [(p["id"], p["status"]) for p in promotions(db_url, "d")] == [(pid, "pending")]
    assert approve_promotion(db_url, pid, "boss")["status"] == "approved"  # still decidable


def registered(db: str) -> dict[str, Registered]:
    return {s: Registered(m, v) for s, (m, v) in registered_champions(db, "d").items()}


def test_approve_promotion_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "store.db")
    run, result = stored_run(db, MODELS, "a")
    zero = {"AX": Registered("Zero", 0.0)}
    champs = {"AX": segment_champions(result)["AX"]}
    (pid,) = record_verdicts(db, "d", run, gate(champs, zero), WINDOW)
    code, out, err = run_cli(["monitor", "--db", db, "--name", "d"], capsys)
    assert code == 0, err
    assert "segment AX: champion Zero" in out and "PENDING" in out
    assert f"approve-promotion {pid}" in out
    code, out, err = run_cli(["monitor", "approve-promotion", str(pid), "--db", db], capsys)
    assert code == 2 and "--by" in err and "Traceback" not in err
    args = ["monitor", "approve-promotion", str(pid), "--by", "boss", "--db", db]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert "approved by boss" in out and "AutoETS (was Zero)" in out
    code, out, err = run_cli(args, capsys)
    assert code == 2 and "cannot approve forecast promotion" in err and "Traceback" not in err
    code, out, _ = run_cli(["monitor", "--db", db, "--name", "d"], capsys)
    assert code == 0 and "segment AX: champion AutoETS" in out and "PENDING" not in out
