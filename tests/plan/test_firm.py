"""Firm orders (plan/firm.py): the rule, planning around them, and the next plan keeping them
through the plan service and the CLI."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.cli_helpers import run_cli
from echelon.plan.context import PlanContext
from echelon.plan.firm import FirmOrder, firm_orders, still_due, with_firm
from echelon.plan.model import (
    Explanation,
    PlanResult,
    Recommendation,
    RecommendationKind,
    RecommendationStatus,
)
from echelon.plan.service import plan_and_store
from echelon.storage import (
    StorageError,
    dispose_engines,
    export_records,
    override_quantity,
    set_status,
)

St = RecommendationStatus
K = RecommendationKind


@pytest.fixture(autouse=True)
def _fresh_engines() -> None:
    dispose_engines()


def _rec(kind: K, status: St, qty: float = 10.0, firm_run: int | None = None) -> Recommendation:
    return Recommendation(
        key=f"{kind.value}:A:DC->S1", kind=kind, item="A", location="S1", source="DC",
        quantity=qty, unit_cost=2.0, value=2 * qty, arrival=date(2024, 5, 6),
        explanation=Explanation(summary="x"), status=status, firm_run=firm_run,
    )  # fmt: skip


def _result(recs: list[Recommendation]) -> PlanResult:
    from storage.factories import make_plan_result

    return make_plan_result().model_copy(update={"recommendations": recs})


@given(
    kind=st.sampled_from(list(K)),
    status=st.sampled_from(list(St)),
    override=st.one_of(st.none(), st.floats(0, 1e6)),
    kept_before=st.booleans(),
)
def test_the_rule(kind: K, status: St, override: float | None, kept_before: bool) -> None:
    rec = _rec(kind, status, firm_run=3 if kept_before else None)
    changed = {} if override is None else {rec.key: override}
    got = firm_orders(_result([rec]), 7, changed)
    quantity = rec.quantity if override is None else override
    decided = status in (St.APPROVED, St.EXPORTED) or override is not None or kept_before
    expect = kind != K.EXPEDITE and status != St.REJECTED and decided and quantity > 0
    assert bool(got) == expect
    if got:
        (f,) = got
        assert f.quantity == quantity and f.due == rec.arrival
        assert f.status == status and f.run_id == (3 if kept_before else 7)
        # the key is stable once kept: kept again, it does not grow another suffix
        assert f.key == (rec.key if kept_before else f"{rec.key}@firm-7")


def _firm(qty: float, due: date, source: str | None = "DC") -> FirmOrder:
    return FirmOrder("order:A:DC->S1@firm-1", K.ORDER, "A", "S1", source, qty, 10.0, due,
                     St.APPROVED, 1, "approved")  # fmt: skip


def test_planning_around_a_firm_order(tiny_data: PlanContext) -> None:
    """On order at the location, owed by the internal source; arrived or already listed
    orders are dropped; the context itself is unchanged."""
    ctx = tiny_data
    due = ctx.as_of + timedelta(days=14)
    arrived = _firm(5.0, ctx.as_of)
    listed = FirmOrder("order:A:external->DC@firm-1", K.ORDER, "A", "DC", None, 150.0, 10.0,
                       date(2024, 4, 29), St.EXPORTED, 1, "exported")  # fmt: skip
    kept = still_due([_firm(40.0, due), arrived, listed], ctx)
    assert [f.quantity for f in kept] == [40.0]
    after = with_firm(ctx, kept)
    before_s1, before_dc = ctx.stock.position("A", "S1"), ctx.stock.position("A", "DC")
    assert after.stock.position("A", "S1").on_order == before_s1.on_order + 40.0
    assert after.stock.position("A", "DC").backorders == before_dc.backorders + 40.0
    assert after.stock.position("A", "DC").inventory_position == pytest.approx(
        before_dc.inventory_position - 40.0
    )
    assert any(o.location == "S1" and o.due == due for o in after.stock.open_orders["A"])
    assert ctx.stock.position("A", "S1") == before_s1  # not mutated
    external = with_firm(ctx, [_firm(8.0, due, source=None)])
    assert external.stock.position("A", "DC") == before_dc  # nobody owes an external order


def test_the_next_plan_keeps_firm_orders(tiny_folder: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    first = plan_and_store(tiny_folder, db)
    by_key = {r.key: r for r in first.result.recommendations}
    approved, overridden = "order:A:DC->S1", "order:B:DC->S2"
    assert approved in by_key and overridden in by_key
    set_status(db, first.run_id, [approved], "approve", "alice")
    override_quantity(db, first.run_id, overridden, 120.0, "promotion ends", "bob")

    second = plan_and_store(tiny_folder, db)
    assert second.created and second.run_id == first.run_id + 1
    recs = {r.key: r for r in second.result.recommendations}
    a, b = recs[f"{approved}@firm-1"], recs[f"{overridden}@firm-1"]
    assert (a.quantity, a.arrival, a.status, a.firm_run) == (
        by_key[approved].quantity,
        by_key[approved].arrival,
        St.APPROVED,
        1,
    )
    assert (b.quantity, b.status, b.firm_run) == (120.0, St.PROPOSED, 1)
    assert [r.key for r in second.result.recommendations[:2]] == [a.key, b.key]
    # planned around: A at S1 counts the firm order in its inventory position
    new_a = recs.get(approved)
    s1_before = by_key[approved].inventory_position
    assert new_a is None or new_a.inventory_position >= s1_before + a.quantity - 60.0 - 1e-6
    assert second.result.parameters["options"]["firm"][0]["key"] == a.key

    # the same inputs and the same decisions: the stored run, nothing new
    again = plan_and_store(tiny_folder, db)
    assert (again.run_id, again.created) == (second.run_id, False)

    # a rejected firm order is dropped by the next plan; the other is kept once
    set_status(db, second.run_id, [a.key], "reject", "carol", "not any more")
    third = plan_and_store(tiny_folder, db)
    keys = [r.key for r in third.result.recommendations]
    assert a.key not in keys and keys.count(b.key) == 1


def test_an_approved_order_kept_by_a_newer_run_is_exported_once(
    tiny_folder: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "runs.db")
    first = plan_and_store(tiny_folder, db)
    key = "order:A:DC->S1"
    set_status(db, first.run_id, [key], "approve", "alice")
    second = plan_and_store(tiny_folder, db)
    # the older run is superseded: exporting it as well would send the order twice
    with pytest.raises(StorageError, match=f"superseded by run {second.run_id}"):
        export_records(db, first.run_id, "erp")
    sent = export_records(db, second.run_id, "erp")
    assert [r["key"] for r in sent] == [f"{key}@firm-1"]


def test_cli_plan_keeps_and_lists_firm_orders(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "runs.db")
    code, out, err = run_cli(["plan", str(tiny_folder), "--db", db, "--quiet"], capsys)
    assert code == 0, out + err
    key = "order:A:DC->S1"
    code, out, err = run_cli(["approve", "1", key, "--by", "alice", "--db", db], capsys)
    assert code == 0, out + err
    code, out, err = run_cli(["plan", str(tiny_folder), "--db", db, "--quiet"], capsys)
    assert code == 0, out + err
    flat = " ".join(out.split())
    assert "Kept 1 firm order(s) decided in run(s) 1" in flat and "Stored as run 2" in flat
    code, out, err = run_cli(["recommendations", "2", "--status", "approved", "--db", db], capsys)
    assert code == 0, out + err
    flat = " ".join(out.split())
    assert f"{key}@firm-1" in flat and "firm (kept from run 1)" in flat
