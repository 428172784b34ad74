"""Items across a Dask cluster (echelon.plan.parallel): the same placement as in one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.cli_helpers import run_cli
from echelon.errors import InputError
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.parallel import ClusterSpec, chunks, map_items, use_cluster
from echelon.plan.placement import place


def _square(chunk: list[int], offset: int) -> list[int]:
    return [x * x + offset for x in chunk]


def test_chunks_keep_the_order() -> None:
    items = list(range(23))
    parts = chunks(items, 2)
    assert [x for p in parts for x in p] == items and len(parts) == 8
    assert chunks([], 3) == []


def test_map_items_in_process_reports_progress() -> None:
    seen: list[float] = []
    assert map_items(_square, [1, 2, 3], (10,), seen.append) == [11, 14, 19]
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_cluster_spec_checks() -> None:
    with pytest.raises(InputError, match="either --dask or --workers"):
        ClusterSpec(address="tcp://localhost:8786", workers=2)
    with pytest.raises(InputError, match="out of range"):
        ClusterSpec(workers=0)


def test_unreachable_scheduler_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):  # noqa: SIM117
        with use_cluster(ClusterSpec(address="tcp://127.0.0.1:9")):
            pass


def test_two_workers_place_like_one_process(tmp_path: Path) -> None:
    """A LocalCluster of 2 worker processes gives exactly the single-process placement."""
    folder = write_catalogue(
        CatalogueParams(items=5, stores=3, regional_dcs=1, history_weeks=40, seed=11), tmp_path
    )
    ctx = load_context(folder)
    ctx.config = ctx.config.model_copy(update={"sim_periods": 104, "sim_reps": 4})
    fc = plan_forecasts(ctx)
    lead = fit_lead_times(ctx)
    alone = place(ctx, fc, lead)
    seen: list[float] = []
    with use_cluster(ClusterSpec(workers=2)):
        assert map_items(_square, list(range(9)), (1,)) == [x * x + 1 for x in range(9)]
        spread = place(ctx, fc, lead, lambda _stage, f: seen.append(f))
    assert list(spread.items) == list(alone.items)
    assert spread.placements == alone.placements
    for item, plan in alone.items.items():
        other = spread.items[item]
        assert other.policies == plan.policies and other.fill == plan.fill
    assert seen[-1] == 1.0


def test_cli_cluster_options_fail_in_one_line(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "runs.db")
    both = [
        "plan",
        str(tiny_folder),
        "--db",
        db,
        "--quiet",
        "--dask",
        "tcp://x:1",
        "--workers",
        "2",
    ]
    code, _, err = run_cli(both, capsys)
    assert code == 2 and "give either --dask or --workers" in err and "Traceback" not in err
    away = ["plan", str(tiny_folder), "--db", db, "--quiet", "--dask", "tcp://127.0.0.1:9"]
    code, _, err = run_cli(away, capsys)
    assert code == 2 and "cannot reach the Dask scheduler" in err and "Traceback" not in err
    assert not (tmp_path / "runs.db").exists()  # nothing planned, nothing stored
