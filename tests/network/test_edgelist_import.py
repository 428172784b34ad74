"""Importing plain edge lists (with an optional nodes table)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from echelon.errors import NetworkError
from echelon.network.distributions import DeterministicLeadTime, NormalDemand
from echelon.network.edgelist import read_edge_list
from echelon.network.io import load_network
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.sim.batch import simulate

HUANG = Path(__file__).parents[2].parent / "shared/data/huang_2022/edges_5000.csv"


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


EDGES = "from,to,quantity,lead_time\nplant,dc,1,2\ndc,s1,,1\ndc,s2,2,\n"
NODES = (
    "id,holding_cost,demand_mean,demand_std,lead_time,penalty_cost,service_target\n"
    "plant,1,,,3,,\n"
    "dc,2,,,,,\n"
    "s1,3,10,2,,9,0.9\n"
    "s2,3,5,,,9,\n"
)


def test_edges_only(tmp_path: Path) -> None:
    net = read_edge_list(_csv(tmp_path, "net.csv", EDGES))
    assert net.name == "net"
    assert net.node_ids() == ["plant", "dc", "s1", "s2"]
    assert [n.id for n in net.nodes if n.external_supplier] == ["plant"]
    assert all(n.demand is None for n in net.nodes)
    lanes = {(ln.source, ln.target): ln for ln in net.lanes}
    assert lanes[("plant", "dc")].lead_time == DeterministicLeadTime(value=2)
    assert lanes[("dc", "s2")].quantity == 2.0
    assert lanes[("dc", "s2")].lead_time is None
    assert lanes[("dc", "s1")].quantity == 1.0


def test_nodes_table_and_defaults(tmp_path: Path) -> None:
    edges = _csv(tmp_path, "net.csv", EDGES)
    nodes = _csv(tmp_path, "nodes.csv", NODES)
    net = read_edge_list(edges, defaults={"holding_cost": 0.5, "lead_time": 1}, nodes=nodes)
    s1, s2, plant, dc = (net.node(i) for i in ("s1", "s2", "plant", "dc"))
    assert s1.demand == NormalDemand(mean=10, std=2)
    assert s1.service is not None and s1.service.target == 0.9
    assert s1.penalty_cost == 9
    assert s2.demand == NormalDemand(mean=5, std=0)
    assert plant.lead_time == DeterministicLeadTime(value=3)
    assert dc.lead_time == DeterministicLeadTime(value=1)  # from defaults
    assert dc.holding_cost == 2 and dc.demand is None
    result = simulate(net, single_echelon_base_stock(net), periods=100, reps=2, seed=1)
    assert math.isfinite(result.cost_per_period.mean)


def test_nodes_only_in_the_table_become_isolated_sources(tmp_path: Path) -> None:
    edges = _csv(tmp_path, "net.csv", "from,to\na,b\n")
    nodes = _csv(tmp_path, "nodes.csv", "id,demand_mean\nb,4\nlonely,3\n")
    net = read_edge_list(edges, nodes=nodes)
    assert net.node("lonely").external_supplier
    assert net.node("lonely").demand is not None


def test_load_network_dispatches_edge_lists(tmp_path: Path) -> None:
    path = _csv(tmp_path, "net.csv", EDGES)
    assert load_network(path) == read_edge_list(path)


@pytest.mark.parametrize(
    ("edges", "nodes", "where", "field", "text"),
    [
        ("source_id,to\na,b\n", None, "row 1", "from", "missing column"),
        ("from,to,cost\na,b,1\n", None, "row 1", "cost", "unknown column"),
        ("from,to,lead_time\na,b,2\nb,c,soon\n", None, "row 3", "lead_time", "not a number"),
        ("from,to,quantity\na,b,0\n", None, "row 2", "quantity", "out of range"),
        ("from,to\na,b\n,c\n", None, "row 3", "from", "blank node id"),
        ("from,to\na,b\na,b\n", None, "row 3", None, "duplicate lane"),
        ("from,to\na,a\n", None, "row 2", None, "itself"),
        ("from,to\na,b\n", "holding_cost\n1\n", "row 1", "id", "missing column"),
        ("from,to\na,b\n", "id,holding_cost\na,cheap\n", "row 2", "holding_cost", "not a number"),
        ("from,to\na,b\n", "id,demand_mean\nb,3\n,4\n", "row 3", "id", "blank node id"),
        ("from,to\na,b\n", "id,service_target\nb,95\n", "row 2", "service_target", "range"),
        ("from,to\na,b\n", "id,demand_std\nb,3\n", "row 2", "demand_mean", "demand_std"),
    ],
)
def test_located_errors(
    tmp_path: Path, edges: str, nodes: str | None, where: str, field: str | None, text: str
) -> None:
    edge_path = _csv(tmp_path, "edges.csv", edges)
    node_path = _csv(tmp_path, "nodes.csv", nodes) if nodes is not None else None
    with pytest.raises(NetworkError) as info:
        read_edge_list(edge_path, nodes=node_path)
    err = info.value
    assert err.source == str(node_path if nodes is not None else edge_path)
    assert err.where == where
    if field is not None:
        assert err.field == field
    assert text in err.message
    assert err.fix


def test_cycle_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="cycle"):
        read_edge_list(_csv(tmp_path, "edges.csv", "from,to\na,b\nb,c\nc,b\n"))


@pytest.mark.skipif(not HUANG.is_file(), reason=f"Huang data not found at {HUANG}")
def test_huang_pred_succ_header_is_accepted() -> None:
    net = read_edge_list(HUANG)
    assert (len(net.nodes), len(net.lanes)) == (4000, 5000)
    assert sum(n.external_supplier for n in net.nodes) == 1270
