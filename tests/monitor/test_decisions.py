"""Decision monitoring: approved / rejected / overridden per planner and segment."""

from __future__ import annotations

from echelon.monitor.decisions import decision_lines, decision_summary
from echelon.storage import override_quantity, save_run, set_status
from storage.factories import make_plan_result


def test_counts_and_override_rate_per_planner_and_segment(db_url: str) -> None:
    other = make_plan_result(name="elsewhere", input_hash="c" * 64)
    save_run(db_url, other)  # not planned from the dataset: not counted
    result = make_plan_result(parameters={"options": {"from_store": "d", "nowcast": False}})
    run = save_run(db_url, result).id
    keys = [r.key for r in result.recommendations]  # 6 lines
    set_status(db_url, run, keys[:2], "approve", "ana")
    set_status(db_url, run, keys[2:3], "reject", "bo")
    override_quantity(db_url, run, keys[3], 1.0, "shelf space", "bo")
    lines = decision_lines(db_url, "d")
    assert len(lines) == 6 and set(lines.run_id) == {run}
    summary = decision_summary(lines).set_index(["planner", "segment"])
    total = summary.loc[("all", "all")]
    assert (total.recommended, total.approved, total.rejected, total.overridden) == (6, 2, 1, 1)
    assert total.proposed == 3 and total.override_rate == 1 / 6
    by_planner = summary.drop(index=("all", "all")).groupby(level="planner").sum()
    assert by_planner.loc["ana", "approved"] == 2 and by_planner.loc["bo", "overridden"] == 1
    assert by_planner.loc["—", "recommended"] == 2
    placed = {(p.item, p.location): p.segment for p in result.placements}
    for rec, seg in zip(result.recommendations, lines.segment, strict=True):
        assert seg == placed.get((rec.item, rec.location)) or (
            seg == "—" and (rec.item, rec.location) not in placed
        )
