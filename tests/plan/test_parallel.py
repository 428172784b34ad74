"""Items across a Dask cluster (echelon.plan.parallel): the same placement and shadow mode as in
one process; chunk sizes and the workers' environment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cli.cli_helpers import run_cli
from echelon.errors import InputError
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.model import PolicyName
from echelon.plan.parallel import (
    ClusterSpec,
    cluster_workers,
    later,
    map_items,
    split,
    use_cluster,
    worker_env,
)
from echelon.plan.placement import place
from echelon.plan.rolling import rolling_shadow, shadow_windows
from echelon.sim.results import SimulationResult


def _square(chunk: list[int], offset: int) -> list[int]:
    return [x * x + offset for x in chunk]


def test_split_keeps_the_order_and_sizes_chunks_by_workers() -> None:
    items = list(range(23))
    assert [len(p) for p in split(items, 7)] == [6, 6, 6, 5]  # ceil(23 / 7) = 4 chunks
    assert [len(p) for p in split(items, 7, workers=2)] == [6, 6, 6, 5]  # 4: a multiple of 2
    assert [len(p) for p in split(items, 7, workers=3)] == [4, 4, 4, 4, 4, 3]
    assert [len(p) for p in split(items, 100, workers=2)] == [12, 11]  # one chunk per worker
    assert [len(p) for p in split(items, 100)] == [23]
    assert [len(p) for p in split(items[:3], 1, workers=8)] == [1, 1, 1]  # never empty chunks
    for size, workers in [(7, 1), (7, 2), (5, 3), (1, 4), (30, 2)]:
        parts = split(items, size, workers)
        assert [x for p in parts for x in p] == items
        assert max(map(len, parts)) <= size and max(map(len, parts)) - min(map(len, parts)) <= 1
    assert split([], 3, 2) == []
    assert cluster_workers() == 1  # no cluster


def test_worker_env_shares_the_cores() -> None:
    assert worker_env(2, cores=2, environ={}) == {"NUMBA_NUM_THREADS": "1"}
    assert worker_env(1, cores=2, environ={}) == {"NUMBA_NUM_THREADS": "2"}
    assert worker_env(3, cores=16, environ={}) == {"NUMBA_NUM_THREADS": "5"}
    assert worker_env(4, cores=2, environ={}) == {"NUMBA_NUM_THREADS": "1"}
    assert worker_env(2, cores=2, environ={"NUMBA_NUM_THREADS": "2"}) == {}  # the user's


def test_later_without_a_cluster_runs_when_asked() -> None:
    calls: list[int] = []

    def square(x: int) -> int:
        calls.append(x)
        return x * x

    pending = later(square, 3)
    assert calls == []
    assert pending.result() == 9 and pending.result() == 9 and calls == [3]
    now = later(square, 4, eager=True)
    assert calls == [3, 4] and now.result() == 16 and calls == [3, 4]


class _FakeClient:
    """Counts scatters (the futures are stand-in objects)."""

    def __init__(self) -> None:
        self.scattered: list[object] = []

    def scatter(self, data: list[object], broadcast: bool, hash: bool) -> list[object]:
        assert broadcast and not hash
        self.scattered.extend(data)
        return [object() for _ in data]


def test_shared_inputs_are_sent_once_while_in_use() -> None:
    from echelon.plan import parallel

    fake = _FakeClient()
    session = parallel._Session(fake, 2)
    data, other = {"a": 1}, {"a": 1}  # equal but not the same object: sent apart
    first = parallel.shared_future(session, data)
    assert parallel.shared_future(session, data) is first and fake.scattered == [data]
    parallel.shared_future(session, other)
    assert len(fake.scattered) == 2
    for k in range(parallel.KEEP_SENT - 1):  # `data` is now the least recently used of 9
        parallel.shared_future(session, [k])
    assert parallel.shared_future(session, other) is not None and len(fake.scattered) == 9
    parallel.shared_future(session, data)  # let go: sent again
    assert len(fake.scattered) == 10 and len(session.sent) == parallel.KEEP_SENT


def _by_policy() -> dict[PolicyName, int]:
    return {p: k for k, p in enumerate(PolicyName)}


def _numba_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


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


def test_two_workers_place_and_shadow_like_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A LocalCluster of 2 worker processes gives exactly the single-process placement and
    rolling shadow mode (its placements on the cluster, its earlier origins' forecasts too)."""
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    folder = write_catalogue(
        CatalogueParams(items=5, stores=3, regional_dcs=1, history_weeks=48, seed=11), tmp_path
    )
    ctx = load_context(folder)
    ctx.config = ctx.config.model_copy(
        update={"sim_periods": 104, "sim_reps": 4, "shadow_origins": 3}
    )
    fc = plan_forecasts(ctx)
    lead = fit_lead_times(ctx)
    alone = place(ctx, fc, lead)
    windows = shadow_windows(ctx, fc, lead)
    assert len(windows) == 3  # every origin planned: the test covers the earlier ones
    seen: list[float] = []
    with use_cluster(ClusterSpec(workers=2)):
        assert cluster_workers() == 2
        assert [f.result() for f in _session().warming] == [None, None]  # modules imported
        assert map_items(_square, list(range(9)), (1,)) == [x * x + 1 for x in range(9)]
        assert later(_square, [3, 4], 1).result() == [10, 17]
        keys = later(_by_policy).result()  # a dict's enum keys come back as enums
        assert [type(k) for k in keys] == [PolicyName] * len(PolicyName)
        threads = {str(t) for t in _client_run(_numba_threads)}  # cores // 2 each
        assert threads == {worker_env(2, environ={})["NUMBA_NUM_THREADS"]}
        spread = place(ctx, fc, lead, lambda _stage, f: seen.append(f))
        windows_spread = shadow_windows(ctx, fc, lead)
    assert list(spread.items) == list(alone.items)
    assert spread.placements == alone.placements
    for item, plan in alone.items.items():
        other = spread.items[item]
        assert other.policies == plan.policies and other.fill == plan.fill
    assert seen[-1] == 1.0
    assert [w.start for w in windows_spread] == [w.start for w in windows]
    for a, b in zip(windows, windows_spread, strict=True):
        for p, runs in a.runs.items():
            got = b.runs[p]
            assert [r.plan.item for r in got] == [r.plan.item for r in runs]
            for x, y in zip(runs, got, strict=True):
                assert x.plan.policies == y.plan.policies and x.safety_value == y.safety_value
                assert _same(x.result) == _same(y.result)
    first, rolling = rolling_shadow(ctx, windows)
    first_spread, rolling_spread = rolling_shadow(ctx, windows_spread)
    assert first is not None and first_spread is not None
    assert first.model_dump_json() == first_spread.model_dump_json()
    assert rolling is not None and rolling_spread is not None
    assert rolling.model_dump_json() == rolling_spread.model_dump_json()


def _same(result: SimulationResult) -> str:
    """Every number of a simulation's result but its seconds, NaN equal to NaN."""
    return repr(replace(result, seconds=0.0))


def _session() -> Any:
    from echelon.plan import parallel

    session = parallel._SESSION.get()
    assert session is not None
    return session


def _client_run(fn: object) -> list[object]:
    """``fn()`` on every worker of the current cluster."""
    return list(_session().client.run(fn).values())


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
