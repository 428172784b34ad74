"""Importing the Willems (2008) chains: structure, conventions, located errors, simulation."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from echelon.errors import NetworkError
from echelon.network.distributions import (
    DeterministicLeadTime,
    EmpiricalLeadTime,
    NormalDemand,
    NormalLeadTime,
)
from echelon.network.graph import predecessors, validate_graph
from echelon.network.io import load_network
from echelon.network.willems import read_willems
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.sim.batch import simulate

DATA = Path(__file__).parents[2].parent / "shared/data/willems"
CHAINS = sorted(DATA.glob("*.csv")) if DATA.is_dir() else []
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"Willems data not found at {DATA}")


def _raw(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header keys (text after the last '@') and data rows, read independently of the importer."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = [c.rsplit("@", 1)[-1] for c in rows[1]]
    return header, rows[2:]


def _counts(path: Path) -> tuple[int, int]:
    header, rows = _raw(path)
    i_name, i_from = header.index("stageName"), header.index("from")
    stages = sum(1 for r in rows if r[i_name].strip())
    arcs = sum(1 for r in rows if r[i_from].strip())
    return stages, arcs


def test_all_nineteen_chains_are_present() -> None:
    if not DATA.is_dir():
        pytest.skip(f"Willems data not found at {DATA}")
    assert len(CHAINS) == 19


@needs_data
@pytest.mark.parametrize("path", CHAINS, ids=[p.stem for p in CHAINS])
def test_chain_loads_validates_and_simulates(path: Path) -> None:
    net = read_willems(path)
    validate_graph(net)
    stages, arcs = _counts(path)
    assert len(net.nodes) == stages
    assert len(net.lanes) == arcs
    assert net.name == f"willems-{path.stem}"
    assert "MSOM" in (net.description or "") or "Manufacturing & Service" in (net.description or "")

    preds = predecessors(net)
    cost = {n.id: n.holding_cost for n in net.nodes}
    for node in net.nodes:
        # cumulative cost recursion, one term per arc
        expected = float(node.attributes["stageCost"] or 0.0) + sum(cost[p] for p in preds[node.id])
        assert node.holding_cost == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert node.unit_value == node.holding_cost
        assert node.external_supplier == (not preds[node.id])
        if node.demand is not None:
            assert node.max_service_time is not None
            if node.service is not None:
                sl = node.service.target
                # newsvendor critical ratio equals the service level
                p, h = node.penalty_cost, node.holding_cost
                if h > 0:
                    assert p / (p + h) == pytest.approx(sl, rel=1e-9)
        else:
            assert node.penalty_cost == 0.0

    policy = single_echelon_base_stock(net)
    result = simulate(net, policy, periods=200, reps=2, seed=0, warmup=20)
    cost_mean = result.cost_per_period.mean
    assert math.isfinite(cost_mean)
    assert cost_mean > 0


@needs_data
def test_chain_01_known_values() -> None:
    net = read_willems(DATA / "01.csv")
    assert (len(net.nodes), len(net.lanes)) == (8, 10)
    # Manuf_0001 is fed by Part_0001..3 (costs 12, 5, 9) and adds 39
    assert net.node("Manuf_0001").holding_cost == pytest.approx(39 + 12 + 5 + 9)
    # Retail_0002 (stage cost 0) is fed by Manuf_0001 (65) and Manuf_0002 (36 + 26 = 62)
    assert net.node("Retail_0002").holding_cost == pytest.approx(65 + 62)
    part = net.node("Part_0001")
    assert part.external_supplier
    assert isinstance(part.lead_time, EmpiricalLeadTime)
    assert part.lead_time.values == [20.0, 25.0, 50.0]
    assert part.lead_time.probabilities == pytest.approx([0.4, 0.4, 0.2])
    assert part.lead_time.mean() == pytest.approx(28.0)  # stageTime
    assert isinstance(net.node("Manuf_0001").lead_time, DeterministicLeadTime)
    retail = net.node("Retail_0001")
    assert retail.demand == NormalDemand(mean=253, std=36.62)
    assert retail.service is not None and retail.service.target == 0.95
    assert retail.penalty_cost == pytest.approx(65 * 0.95 / 0.05)
    assert retail.max_service_time == 0
    assert retail.attributes["stageClassification"] == "Retail"
    assert retail.attributes["xPos"] == 304
    assert sorted(n.id for n in net.nodes if n.demand is not None) == [
        "Retail_0001",
        "Retail_0002",
        "Retail_0003",
    ]


@needs_data
def test_five_point_stage_time_distribution_and_normal_lead_times() -> None:
    net = read_willems(DATA / "05.csv")
    lt = net.node("Manuf_0002").lead_time
    assert isinstance(lt, EmpiricalLeadTime)
    assert lt.values == [1.0, 2.0, 3.0, 4.0]
    assert lt.probabilities == pytest.approx([0.25, 0.5, 0.2, 0.05])
    assert any(isinstance(n.lead_time, NormalLeadTime) for n in net.nodes)


@needs_data
def test_load_network_dispatches_willems_csv() -> None:
    assert load_network(DATA / "01.csv") == read_willems(DATA / "01.csv")


# --------------------------------------------------------------------------- synthetic files

HEADER = (
    "/@company,/arcs/arc/@from,/arcs/arc/@to,/stages/stage/@avgDemand,"
    "/stages/stage/@maxServiceTime,/stages/stage/@serviceLevel,/stages/stage/@stageCost,"
    "/stages/stage/@stageName,/stages/stage/@stageTime,/stages/stage/@stDevDemand,"
    "/stages/stage/@StageTime_1_p,/stages/stage/@StageTime_1_v,"
    "/stages/stage/@StageTime_2_p,/stages/stage/@StageTime_2_v"
)


def _write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "chain.csv"
    text = "\ufeff/chain" + "," * header.count(",") + "\n" + header + "\n" + "\n".join(rows) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = [
    "1,A,B,,,,,,,,,,,",
    "1,,,,,,2,A,3,,,,,",
    "1,,,10,,0.9,1,B,1,4,,,,",
]


def test_small_file_with_bom_and_blank_max_service_time(tmp_path: Path) -> None:
    net = read_willems(_write(tmp_path, GOOD))
    assert net.name == "willems-chain"
    b = net.node("B")
    assert b.holding_cost == 3.0
    assert b.max_service_time == 0.0  # blank = 0 on demand stages
    assert b.penalty_cost == pytest.approx(3.0 * 0.9 / 0.1)
    assert net.node("A").lead_time == DeterministicLeadTime(value=3)
    assert net.node("A").external_supplier and not b.external_supplier


def test_out_of_range_service_level_is_kept_in_attributes(tmp_path: Path) -> None:
    rows = [*GOOD[:2], "1,,,10,,1.0,1,B,1,4,,,,"]
    b = read_willems(_write(tmp_path, rows)).node("B")
    assert b.service is None
    assert b.attributes["serviceLevel"] == 1.0
    assert b.penalty_cost == 0.0


def test_stage_time_probabilities_are_normalized_within_tolerance(tmp_path: Path) -> None:
    rows = [*GOOD[:1], "1,,,,,,2,A,3,,0.5000004,2,0.5,4", GOOD[2]]
    lt = read_willems(_write(tmp_path, rows)).node("A").lead_time
    assert isinstance(lt, EmpiricalLeadTime)
    assert lt.probabilities is not None
    assert math.fsum(lt.probabilities) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("rows", "where", "field", "text"),
    [
        ([GOOD[0], "1,,,,,,2,A,three,,,,,", GOOD[2]], "row 4", "stageTime", "not a number"),
        (["1,A,C,,,,,,,,,,,", *GOOD[1:]], "row 3", "/arcs/arc/@to", "unknown stage"),
        ([GOOD[0], "1,,,,,,2,A,3,,0.5,2,0.4,4", GOOD[2]], "row 4", "StageTime_k_p", "sum to 1"),
        ([GOOD[0], "1,,,,,,2,A,3,,0.5,2,0.5,", GOOD[2]], "row 4", None, "probability"),
        ([GOOD[0], "1,,,,,,-2,A,3,,,,,", GOOD[2]], "row 4", "stageCost", "out of range"),
        ([*GOOD, "1,,,,,,2,A,3,,,,,"], "row 6", "/stages/stage/@stageName", "duplicate"),
        (["1,A,,,,,,,,,,,,", *GOOD[1:]], "row 3", "/arcs/arc/@to", "both ends"),
    ],
)
def test_located_errors(
    tmp_path: Path, rows: list[str], where: str, field: str | None, text: str
) -> None:
    path = _write(tmp_path, rows)
    with pytest.raises(NetworkError) as info:
        read_willems(path)
    err = info.value
    assert err.source == str(path)
    assert err.where == where
    if field is not None:
        assert err.field == field
    assert text in err.message
    assert err.fix


def test_missing_stage_name_column(tmp_path: Path) -> None:
    header = HEADER.replace("/stages/stage/@stageName", "/stages/stage/@name")
    with pytest.raises(NetworkError) as info:
        read_willems(_write(tmp_path, GOOD, header=header))
    assert info.value.field == "/stages/stage/@stageName"
    assert info.value.where == "row 2"


def test_cycle_is_reported(tmp_path: Path) -> None:
    rows = [*GOOD, "1,B,A,,,,,,,,,,,"]
    with pytest.raises(NetworkError, match="cycle"):
        read_willems(_write(tmp_path, rows))
