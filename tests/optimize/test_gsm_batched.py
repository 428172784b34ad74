"""The batched GSM (``solve_gsm_items``) equals ``solve_gsm`` item by item: the same service
times and the same cost (to 1e-9) on random trees, spanning trees of the Willems chains, the
Willems chains themselves (the MIP fallback) and the demo's item networks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.errors import NetworkError
from echelon.optimize.gsm import GSMInstance, build_instance, solve_gsm
from echelon.optimize.gsm.batched import ItemArrays, solve_gsm_items, solve_tree_items
from echelon.optimize.result import OptimizationResult

WILLEMS = Path(__file__).resolve().parents[3] / "shared" / "data" / "willems"
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same(batched: list[OptimizationResult], insts: list[GSMInstance], **kw: object) -> None:
    assert len(batched) == len(insts)
    for got, inst in zip(batched, insts, strict=True):
        ref = solve_gsm(inst, **kw)  # type: ignore[arg-type]
        assert got.objective == pytest.approx(ref.objective, rel=1e-9, abs=1e-9)
        assert list(got.nodes) == list(ref.nodes)
        for nid, d in ref.nodes.items():
            assert got.nodes[nid].committed_service_time == d.committed_service_time, nid
            assert got.nodes[nid].net_replenishment_time == d.net_replenishment_time, nid
            assert got.nodes[nid].base_stock_level == pytest.approx(d.base_stock_level, abs=1e-9)
        assert got.details["solver"] == ref.details["solver"]


def variants(inst: GSMInstance, count: int, seed: int) -> list[GSMInstance]:
    """``count`` items on ``inst``'s structure: costs, z, σ, μ scaled at random (some σ = 0)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = inst.n
        out.append(
            dataclasses.replace(
                inst,
                holding_cost=inst.holding_cost * rng.uniform(0.2, 3.0, n),
                z=np.abs(inst.z) * rng.uniform(0.5, 1.5, n),
                sigma=inst.sigma * rng.uniform(0.0, 2.0, n) * (rng.random(n) < 0.9),
                mean=inst.mean * rng.uniform(0.5, 2.0, n),
                lead_time_sd=rng.uniform(0.0, 1.0, n) * (rng.random() < 0.5),
            )
        )
    return out


def spanning_tree(inst: GSMInstance) -> GSMInstance:
    """``inst`` with the lanes that close a cycle (union–find, in lane order) removed."""
    parent = list(range(inst.n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    keep = []
    for k, (i, j) in enumerate(zip(inst.arc_src.tolist(), inst.arc_dst.tolist(), strict=True)):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
            keep.append(k)
    idx = np.asarray(keep, np.int64)
    return dataclasses.replace(
        inst, arc_src=inst.arc_src[idx], arc_dst=inst.arc_dst[idx], arc_delay=inst.arc_delay[idx]
    )


@st.composite
def trees(draw: st.DrawFn) -> list[GSMInstance]:
    """2–4 items on one random tree of 1–7 nodes (assembly and distribution arcs, delays)."""
    n = draw(st.integers(1, 7))
    arcs: list[tuple[int, int]] = []
    for j in range(1, n):
        i = draw(st.integers(0, j - 1))
        arcs.append((i, j) if draw(st.booleans()) else (j, i))
    times = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    outdeg = [sum(1 for a, _ in arcs if a == j) for j in range(n)]
    bounds = [
        draw(st.sampled_from([0, 1, 3])) if outdeg[j] == 0 else draw(st.sampled_from([None, 2]))
        for j in range(n)
    ]
    delays = draw(st.lists(st.integers(0, 1), min_size=len(arcs), max_size=len(arcs)))
    inbound = draw(st.integers(0, 1))
    values = st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)
    items = []
    for _ in range(draw(st.integers(2, 4))):
        items.append(
            GSMInstance.from_arrays(
                [f"n{j}" for j in range(n)],
                times,
                draw(values),
                draw(values),
                draw(values),
                arcs,
                max_service=bounds,
                arc_delay=delays,
                min_inbound=[inbound] * n,
            )
        )
    return items


@FAST
@given(trees())
def test_random_trees_match_solve_gsm_item_by_item(items: list[GSMInstance]) -> None:
    assert_same(solve_gsm_items(items), items)


@FAST
@given(trees(), st.integers(1, 3))
def test_chunking_does_not_change_the_answer(items: list[GSMInstance], chunk: int) -> None:
    arrays = ItemArrays.stack(items)
    whole = solve_tree_items(items[0], arrays)
    pieces = solve_tree_items(items[0], arrays, chunk_cells=chunk)
    assert np.array_equal(whole.committed, pieces.committed)
    assert np.array_equal(whole.value, pieces.value)


@pytest.mark.skipif(not (WILLEMS / "01.csv").exists(), reason="shared Willems data missing")
@pytest.mark.parametrize("chain", ["01", "05", "09", "11", "13"])
def test_spanning_trees_of_the_willems_chains(chain: str) -> None:
    from echelon.network.io import load_network

    tree = spanning_tree(build_instance(load_network(WILLEMS / f"{chain}.csv")))
    items = variants(tree, 6, seed=int(chain))
    results = solve_gsm_items(items)
    assert all(r.details["solver"] == "tree" for r in results)
    assert_same(results, items)


@pytest.mark.skipif(not (WILLEMS / "01.csv").exists(), reason="shared Willems data missing")
def test_a_willems_chain_that_is_not_a_tree_falls_back_to_the_mip() -> None:
    from echelon.network.io import load_network

    items = variants(build_instance(load_network(WILLEMS / "01.csv")), 2, seed=1)
    results = solve_gsm_items(items)
    assert all(r.details["solver"] != "tree" for r in results)
    assert_same(results, items)


def test_items_of_different_structures_keep_their_order() -> None:
    a = GSMInstance.from_arrays(
        ["u", "d"], [2, 1], [1.0, 2.0], [1.6, 1.6], [1.0, 2.0], [(0, 1)], max_service=[None, 0]
    )
    b = GSMInstance.from_arrays(
        ["u", "d"], [3, 1], [1.0, 2.0], [1.6, 1.6], [1.0, 2.0], [(0, 1)], max_service=[None, 1]
    )
    items = [a, b, dataclasses.replace(a, holding_cost=np.array([5.0, 1.0])), b]
    assert_same(solve_gsm_items(items), items)


def test_no_items_and_bad_arrays() -> None:
    assert solve_gsm_items([]) == []
    inst = GSMInstance.from_arrays(
        ["u", "d"], [2, 1], [1.0, 2.0], [1.6, 1.6], [1.0, 2.0], [(0, 1)], max_service=[None, 0]
    )
    arrays = ItemArrays.stack([inst, inst])
    bad = dataclasses.replace(arrays, sigma=arrays.sigma[:, :1])
    with pytest.raises(NetworkError, match="items, nodes"):
        solve_tree_items(inst, bad)
    cycle = GSMInstance.from_arrays(
        ["a", "b", "c"],
        [1, 1, 1],
        [1.0] * 3,
        [1.6] * 3,
        [1.0] * 3,
        [(0, 1), (0, 2), (1, 2)],
        max_service=[None, None, 0],
    )
    with pytest.raises(NetworkError, match="forest"):
        solve_tree_items(cycle, ItemArrays.stack([cycle]))
    with pytest.raises(NetworkError, match="lead_time_variance"):
        solve_gsm_items([inst], lead_time_variance=[True, False])


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> object:
    from echelon.plan.data import load_context
    from echelon.plan.demo_data import write_demo_folder

    return load_context(write_demo_folder(tmp_path_factory.mktemp("demo") / "m5-demo", seed=0))


def test_the_demo_item_networks(demo_data: object) -> None:
    """The networks ``plan/placement.py`` gives ``solve_gsm``: the demo's items with demand
    from their history (the forecasts' shape, without running the forecasts)."""
    from echelon.plan import placement
    from echelon.plan.context import PlanContext
    from echelon.plan.forecasting import PlanForecasts, SeriesForecast
    from echelon.plan.leadtimes import fit_lead_times

    ctx = demo_data
    assert isinstance(ctx, PlanContext)
    stats = ctx.history.groupby(["item_id", "location_id"])["y"].agg(["mean", "std"])
    series = {
        (str(i), str(loc)): SeriesForecast(
            str(i),
            str(loc),
            float(r["mean"]),
            float(np.nan_to_num(r["std"])),
            "history",
            float(r["mean"]),
            float(np.nan_to_num(r["std"])),
        )
        for (i, loc), r in stats.iterrows()
    }
    fc = PlanForecasts(ctx.as_of, ctx.config.period_days, pd.DataFrame(), series)
    lead_times = fit_lead_times(ctx)
    targets = placement.store_targets(ctx, ctx.history)
    nets = [placement.item_network(ctx, i, fc, lead_times, targets) for i in ctx.items]
    gsm_nets = [placement.gsm_network(n) for n in nets]
    flags = [placement.stochastic_lead_times(n) for n in nets]
    level = ctx.config.default_fill_rate
    results = solve_gsm_items(gsm_nets, lead_time_variance=flags, default_service_level=level)
    for net, flag, got in zip(gsm_nets, flags, results, strict=True):
        insts = [build_instance(net, default_service_level=level, lead_time_variance=flag)]
        assert_same([got], insts)
    assert len(results) == len(ctx.items) > 1
