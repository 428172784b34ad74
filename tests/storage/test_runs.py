"""Saving, idempotence, listing and loading of plan runs — on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest

from echelon.plan.model import RecommendationStatus
from echelon.storage import StorageError, list_runs, load_run, run_key, save_run, set_status
from echelon.storage import runs as runs_module
from storage.databases import row_counts
from storage.factories import make_plan_result


def test_saved_run_loads_back_equal_to_the_result(db_url: str) -> None:
    result = make_plan_result()
    ref = save_run(db_url, result)
    assert ref.created and ref.id >= 1
    assert load_run(db_url, ref.id) == result
    assert load_run(db_url, "latest") == result
    assert load_run(db_url, str(ref.id)) == result


def test_resaving_the_same_inputs_and_parameters_returns_the_stored_run(db_url: str) -> None:
    first = save_run(db_url, make_plan_result())
    before = row_counts(db_url)
    again = save_run(db_url, make_plan_result(created_at="2026-11-26T08:00:00+00:00"))
    assert again.id == first.id
    assert not again.created
    assert again.created_at == first.created_at  # the stored run, not the new result
    assert row_counts(db_url) == before


def test_resaving_keeps_the_review_statuses_of_the_stored_run(db_url: str) -> None:
    ref = save_run(db_url, make_plan_result())
    key = make_plan_result().recommendations[0].key
    set_status(db_url, ref.id, [key], "approve", "ana")
    save_run(db_url, make_plan_result())
    statuses = {r.key: r.status for r in load_run(db_url, ref.id).recommendations}
    assert statuses[key] is RecommendationStatus.APPROVED


def test_other_parameters_or_inputs_make_a_new_run(db_url: str) -> None:
    a = save_run(db_url, make_plan_result())
    b = save_run(db_url, make_plan_result(parameters={"period_days": 7, "seed": 1}))
    c = save_run(db_url, make_plan_result(input_hash="b" * 64))
    assert len({a.id, b.id, c.id}) == 3
    assert all(r.created for r in (a, b, c))
    assert [r.id for r in list_runs(db_url)] == [c.id, b.id, a.id]


def test_a_new_code_version_makes_a_new_run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = make_plan_result()
    assert run_key(result, "0.1.0") != run_key(result, "0.2.0")
    first = save_run(db_url, result)
    running = runs_module.__version__
    monkeypatch.setattr(runs_module, "__version__", "99.0.0")
    second = save_run(db_url, result)
    assert second.created and second.id != first.id
    assert [r.code_version for r in list_runs(db_url)] == ["99.0.0", running]


def test_run_key_ignores_the_order_of_parameters() -> None:
    a = make_plan_result(parameters={"seed": 0, "period_days": 7})
    b = make_plan_result(parameters={"period_days": 7, "seed": 0})
    assert run_key(a) == run_key(b)


def test_list_runs_reports_the_summary_columns_and_status_counts(db_url: str) -> None:
    result = make_plan_result(n_orders=6)
    ref = save_run(db_url, result)
    keys = [r.key for r in result.recommendations]
    set_status(db_url, ref.id, keys[:3], "approve", "ana")
    set_status(db_url, ref.id, keys[3:4], "reject", "ana")
    (summary,) = list_runs(db_url)
    assert summary.id == ref.id
    assert summary.name == "demo"
    assert summary.as_of == "2016-04-25"
    assert summary.input_hash == "a" * 64
    assert summary.saving == pytest.approx(1 - 1830.25 / 2210.5)
    assert summary.service_met is True
    assert summary.n_recommendations == 8
    assert summary.n_placements == len(result.placements)
    assert summary.n_exceptions == 2
    assert summary.statuses == {"proposed": 4, "approved": 3, "rejected": 1, "exported": 0}


def test_empty_database_lists_no_runs_and_has_no_latest(db_url: str) -> None:
    assert list_runs(db_url) == []
    with pytest.raises(StorageError, match="holds no runs yet"):
        load_run(db_url, "latest")


@pytest.mark.parametrize("run", [7, "7", "seven", ""])
def test_unknown_run_is_a_clear_error(db_url: str, run: int | str) -> None:
    save_run(db_url, make_plan_result())
    with pytest.raises(StorageError) as err:
        load_run(db_url, run)
    assert "echelon runs" in str(err.value)
    assert "\n" not in str(err.value)


def test_result_with_a_nan_is_refused_and_nothing_is_written(db_url: str) -> None:
    result = make_plan_result()
    result.kpis[0].network.turns = math.nan
    with pytest.raises(StorageError, match=r"result\.kpis\[0\]\.network\.turns"):
        save_run(db_url, result)
    assert list_runs(db_url) == []


def test_duplicate_recommendation_keys_are_refused(db_url: str) -> None:
    result = make_plan_result()
    result.recommendations.append(result.recommendations[0])
    with pytest.raises(StorageError, match="share one key"):
        save_run(db_url, result)
    assert list_runs(db_url) == []


def test_an_error_in_the_middle_of_a_save_writes_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_run(db_url, make_plan_result(name="earlier"))
    before = row_counts(db_url)

    insert = runs_module.insert_recommendations

    def crash(conn, rows):  # type: ignore[no-untyped-def]
        insert(conn, rows[: len(rows) // 2])  # half the rows are in, then the save fails
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runs_module, "insert_recommendations", crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_run(db_url, make_plan_result(input_hash="c" * 64))
    assert row_counts(db_url) == before
    assert [r.name for r in list_runs(db_url)] == ["earlier"]


def test_a_concurrent_identical_save_returns_the_run_stored_first(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stored the same run between our look-up and our insert: the unique
    run key refuses the second insert and save_run returns the stored run."""
    first = save_run(db_url, make_plan_result())
    real_find = runs_module._find
    calls = []

    def find_missing_once(conn, key):  # type: ignore[no-untyped-def]
        calls.append(key)
        return None if len(calls) == 1 else real_find(conn, key)

    monkeypatch.setattr(runs_module, "_find", find_missing_once)
    again = save_run(db_url, make_plan_result())
    assert len(calls) == 2
    assert (again.id, again.created) == (first.id, False)
    assert row_counts(db_url)["runs"] == 1
