"""Synthetic network generators: determinism, shapes, validity."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.errors import InputError
from echelon.network.graph import find_cycle, predecessors, successors, validate_graph
from echelon.network.model import Network
from echelon.network.synthetic import (
    AttributeRules,
    distribution_tree,
    huang_attributes,
    random_dag,
    serial,
)

HUANG = Path(__file__).parents[2].parent / "shared/data/huang_2022"


def _check_generated(net: Network) -> None:
    """Properties every generated network has (module docstring of synthetic)."""
    validate_graph(net)
    preds, succs = predecessors(net), successors(net)
    cost = {n.id: n.holding_cost for n in net.nodes}
    for lane in net.lanes:
        assert cost[lane.target] > cost[lane.source]  # increasing downstream
    for node in net.nodes:
        assert node.external_supplier == (not preds[node.id])
        assert (node.demand is not None) == (not succs[node.id])
        lt = node.lead_time.mean()
        assert lt == int(lt) and 1 <= lt <= 4
        if node.demand is not None:
            assert node.service is not None
            sl = node.service.target
            p, h = node.penalty_cost, node.holding_cost
            assert p / (p + h) == pytest.approx(sl)
            assert 20 <= node.demand.mean() <= 100
            assert 0.1 <= node.demand.std() / node.demand.mean() <= 0.5


def test_serial() -> None:
    net = serial(4, seed=7)
    _check_generated(net)
    assert net.node_ids() == ["stage_1", "stage_2", "stage_3", "stage_4"]
    assert [(ln.source, ln.target) for ln in net.lanes] == [
        ("stage_1", "stage_2"),
        ("stage_2", "stage_3"),
        ("stage_3", "stage_4"),
    ]
    assert serial(4, seed=7) == net
    assert serial(4, seed=8) != net


def test_distribution_tree_benchmark_size() -> None:
    net = distribution_tree((10, 99), seed=1)
    _check_generated(net)
    assert len(net.nodes) == 1001
    assert len(net.lanes) == 1000
    assert sum(n.demand is not None for n in net.nodes) == 990
    assert sum(n.external_supplier for n in net.nodes) == 1
    assert sum(n.id.startswith("dc_") for n in net.nodes) == 10
    assert distribution_tree((10, 99), seed=1) == net


def test_distribution_tree_integer_fanout() -> None:
    net = distribution_tree(3, levels=3, seed=0)
    assert len(net.nodes) == 1 + 3 + 9 + 27
    _check_generated(net)
    with pytest.raises(InputError):
        distribution_tree((2, 2), levels=3)


def test_random_dag_exact_counts_and_determinism() -> None:
    net = random_dag(60, 150, seed=11)
    _check_generated(net)
    assert len(net.nodes) == 60 and len(net.lanes) == 150
    assert len({(ln.source, ln.target) for ln in net.lanes}) == 150
    assert random_dag(60, 150, seed=11) == net
    assert random_dag(60, 150, seed=12) != net


def test_random_dag_complete_and_too_dense() -> None:
    net = random_dag(8, 28, seed=0)  # every pair: a tournament order
    assert len(net.lanes) == 28
    assert find_cycle(net) is None
    with pytest.raises(InputError, match="too many edges"):
        random_dag(8, 29)


@settings(max_examples=60, deadline=None)
@given(
    n_nodes=st.integers(1, 40),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_dag_is_acyclic_and_valid_for_any_seed(
    n_nodes: int, density: float, seed: int
) -> None:
    n_edges = int(density * n_nodes * (n_nodes - 1) // 2)
    net = random_dag(n_nodes, n_edges, seed=seed)
    assert find_cycle(net) is None
    assert len(net.lanes) == n_edges
    assert len({(ln.source, ln.target) for ln in net.lanes}) == n_edges
    _check_generated(net)


def test_attribute_rules_are_checked() -> None:
    with pytest.raises(InputError):
        serial(3, rules=AttributeRules(service_levels=(0.9, 1.0)))
    with pytest.raises(InputError):
        serial(3, rules=AttributeRules(lead_time_low=5, lead_time_high=2))


@pytest.mark.skipif(not HUANG.is_dir(), reason=f"Huang data not found at {HUANG}")
def test_huang_attributes() -> None:
    path = HUANG / "edges_5000.csv"
    net = huang_attributes(path, seed=3)
    _check_generated(net)
    assert (len(net.nodes), len(net.lanes)) == (4000, 5000)
    assert sum(n.external_supplier for n in net.nodes) == 1270
    assert sum(n.demand is not None for n in net.nodes) == 1282
    assert net.name == "huang-edges_5000"
    again = huang_attributes(path, seed=3)
    assert [n.holding_cost for n in again.nodes] == [n.holding_cost for n in net.nodes]
    other = huang_attributes(path, seed=4)
    assert [n.holding_cost for n in other.nodes] != [n.holding_cost for n in net.nodes]
