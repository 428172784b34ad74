"""ABC/XYZ segmentation and per-segment service targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.errors import OptimizationError
from echelon.network.distributions import NormalDemand, PoissonDemand
from echelon.network.model import Lane, Network, Node, ServiceMeasure
from echelon.optimize.segments import (
    SegmentTargets,
    apply_segment_targets,
    classify_history,
    classify_network,
    load_segment_targets,
)


def star(demands: list[tuple[float, float]], values: list[float] | None = None) -> Network:
    nodes = [Node(id="dc", holding_cost=1.0, external_supplier=True, lead_time=2)]
    lanes = []
    for i, (mu, sd) in enumerate(demands):
        demand = PoissonDemand(mean=mu) if sd < 0 else NormalDemand(mean=mu, std=sd)
        nodes.append(
            Node(id=f"s{i}", holding_cost=1.0, demand=demand, lead_time=1,
                 unit_value=None if values is None else values[i])
        )  # fmt: skip
        lanes.append(Lane(**{"from": "dc", "to": f"s{i}"}))
    return Network(name="star", nodes=nodes, lanes=lanes)


def test_pareto_abc_and_cv_xyz() -> None:
    # values 70, 20, 6, 4 (% of total): cumulative share before each 0, 70, 90, 96
    net = star([(70, 7), (20, 14), (6, 9), (4, -1)])
    seg = classify_network(net)
    assert [seg[f"s{i}"].abc for i in range(4)] == ["A", "A", "B", "C"]
    # CV: 0.1 -> X, 0.7 -> Y, 1.5 -> Z, Poisson(4) 0.5 -> Y (x cut-off is strict)
    assert [seg[f"s{i}"].xyz for i in range(4)] == ["X", "Y", "Z", "Y"]


def test_unit_values_weigh_the_abc_ranking() -> None:
    net = star([(10, 1), (50, 5)], values=[100.0, 1.0])  # 1,000 vs 50 money per period
    seg = classify_network(net)
    assert seg["s0"].abc == "A" and seg["s1"].abc == "C"


def test_targets_follow_the_lookup_order() -> None:
    rules = SegmentTargets(targets={"AX": 0.99, "A*": 0.97, "*Z": 0.9, "default": 0.95})
    assert rules.target_for("AX") == 0.99
    assert rules.target_for("AY") == 0.97
    assert rules.target_for("BZ") == 0.9
    assert rules.target_for("CY") == 0.95


def test_apply_sets_targets_on_demand_nodes_only() -> None:
    net = star([(70, 7), (20, 14), (6, 9), (4, -1)])
    rules = SegmentTargets(
        measure=ServiceMeasure.FILL_RATE, targets={"A*": 0.99, "B*": 0.97, "default": 0.9}
    )
    new, _ = apply_segment_targets(net, rules)
    got = {n.id: n.service.target for n in new.nodes if n.service}
    assert got == {"s0": 0.99, "s1": 0.99, "s2": 0.97, "s3": 0.9}
    assert all(n.service.measure is ServiceMeasure.FILL_RATE for n in new.nodes if n.service)
    assert net.node("s0").service is None  # the input is not modified


def test_missing_segment_target_is_a_clear_error() -> None:
    net = star([(70, 7), (4, -1)])
    with pytest.raises(OptimizationError, match="no service target for segment"):
        apply_segment_targets(net, SegmentTargets(targets={"A*": 0.99}))


def test_targets_file_errors_name_the_file_and_field(tmp_path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets: {QX: 0.9}\n")
    with pytest.raises(OptimizationError, match=r"targets\.yaml") as info:
        load_segment_targets(path)
    assert "QX" in str(info.value)
    path.write_text("targets: {AX: 1.5}\n")
    with pytest.raises(OptimizationError, match=r"\(0, 1\)"):
        load_segment_targets(path)
    path.write_text("abc: {a: 0.9, b: 0.8}\ntargets: {default: 0.9}\n")
    with pytest.raises(OptimizationError, match="must be >= a"):
        load_segment_targets(path)


def test_history_classification_uses_sample_statistics() -> None:
    ds = pd.date_range("2024-01-01", periods=8, freq="D")
    big = [100, 101, 99, 100, 100, 98, 102, 100]
    lumpy = [0, 0, 9, 0, 0, 0, 7, 0]
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "big", "ds": ds, "y": big}),
            pd.DataFrame({"unique_id": "lumpy", "ds": ds, "y": lumpy}),
        ]
    )
    seg = classify_history(df)
    assert seg["big"].code == "AX"
    assert seg["lumpy"].xyz == "Z"
    assert seg["big"].annual_value == pytest.approx(100 * 365)


@given(st.lists(st.floats(0.1, 1000), min_size=1, max_size=30))
def test_abc_is_monotone_in_value(means: list[float]) -> None:
    net = star([(m, 0.1 * m) for m in means])
    seg = classify_network(net)
    rank = {"A": 0, "B": 1, "C": 2}
    ordered = sorted(range(len(means)), key=lambda i: -means[i])
    classes = [rank[seg[f"s{i}"].abc] for i in ordered]
    assert classes == sorted(classes)  # a larger value never gets a lower class
    assert classes[0] == 0  # the largest node is always A
    a_value = sum(means[i] for i in range(len(means)) if seg[f"s{i}"].abc == "A")
    assert a_value >= 0.8 * sum(means) * (1 - 1e-9) or all(c == 0 for c in classes)
    assert np.all(np.isfinite([s.cv for s in seg.values()]))
