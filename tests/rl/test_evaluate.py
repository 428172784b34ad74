"""CRN evaluation, shadow-mode trace and demand-history replay (echelon.rl.evaluate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from echelon.errors import DataError, InputError
from echelon.network.io import network_from_dict
from echelon.optimize.clark_scarf import solve_clark_scarf
from echelon.optimize.single_echelon import solve_single_echelon
from echelon.policies.model import BaseStock, PolicySet
from echelon.rl.agent import OrderAgent
from echelon.rl.classical import CappedBaseStockAgent, PolicyAgent
from echelon.rl.evaluate import evaluate_agents, load_demand_history, replay_network
from echelon.rl.instances import orgym_serial_lost_sales, snyder_shen_6_1, zipkin_lost_sales
from echelon.sim.batch import simulate
from echelon.sim.step import StepEngine


class ConstantAgent:
    """Orders the same quantity every period (a stand-in for a trained agent)."""

    def __init__(self, q: float, name: str = "constant") -> None:
        self.q = q
        self.name = name

    def reset(self, engine: StepEngine) -> None:
        pass

    def orders(self, engine: StepEngine) -> np.ndarray:
        return np.full((engine.n_envs, len(engine.ids)), self.q)


def test_constant_agent_satisfies_the_order_agent_protocol() -> None:
    assert isinstance(ConstantAgent(1.0), OrderAgent)
    assert isinstance(PolicyAgent(solve_single_echelon(zipkin_lost_sales()).policy), OrderAgent)


@pytest.mark.parametrize("make", [snyder_shen_6_1, orgym_serial_lost_sales])
def test_policy_agent_reproduces_simulate_exactly(make) -> None:  # type: ignore[no-untyped-def]
    net = make()
    policy = solve_single_echelon(net).policy
    ev = evaluate_agents(net, [PolicyAgent(policy)], 150, 5, seed=7, warmup=20)
    sim = simulate(net, policy, 150, 5, 7, 20)
    got = ev.agents[0].result
    assert got.cost_per_period == sim.cost_per_period
    assert got.fill_rate == sim.fill_rate
    assert [n.lost_sales for n in got.nodes] == [n.lost_sales for n in sim.nodes]


def test_an_agent_against_itself_has_delta_exactly_zero() -> None:
    net = zipkin_lost_sales(9.0, 4)
    agents = [
        ConstantAgent(5.0),
        ConstantAgent(5.0),
        CappedBaseStockAgent(net, {"store": 29}, {"store": 5}),
    ]
    ev = evaluate_agents(net, agents, 200, 6, seed=2, warmup=10)
    assert [a.name for a in ev.agents] == ["constant", "constant#2", "capped-base-stock"]
    assert ev.agents[1].delta.mean == 0.0 and ev.agents[1].delta.ci95 == 0.0
    assert ev.agents[1].delta_fill_rate.mean == 0.0
    assert ev.agents[2].delta.mean != 0.0


def test_paired_delta_is_the_mean_of_per_replication_differences() -> None:
    net = snyder_shen_6_1()
    policy = solve_clark_scarf(net).policy
    cs = PolicyAgent(policy, "clark-scarf")
    moved = {k: v.model_copy(update={"level": v.level + 1.0}) for k, v in policy.policies.items()}
    up = PolicyAgent(PolicySet(policies=moved), "levels+1")  # type: ignore[arg-type]
    ev = evaluate_agents(net, [cs, up], 300, 8, seed=4, warmup=20)
    a, b = ev.agents
    assert b.delta.mean == pytest.approx(float((b.costs - a.costs).mean()), abs=1e-12)
    assert b.delta.mean == pytest.approx(b.cost.mean - a.cost.mean, abs=1e-9)
    assert ev.gap("levels+1") == pytest.approx(b.delta.mean / a.cost.mean)
    # common random numbers: for two close policies the paired CI is far narrower
    assert b.delta.ci95 is not None and a.cost.ci95 is not None
    assert b.delta.ci95 < a.cost.ci95


def test_trace_shows_the_anchor_order_and_the_deviation_of_each_decision() -> None:
    net = zipkin_lost_sales(9.0, 4)
    anchor = CappedBaseStockAgent(net, {"store": 28.0}, name="bs28")
    ev = evaluate_agents(net, [anchor, ConstantAgent(5.0)], 100, 3, seed=0, warmup=10,
                         trace_periods=7)  # fmt: skip
    assert [r.period for r in ev.trace] == list(range(7))
    assert all(r.order == 5.0 and r.node == "store" for r in ev.trace)
    assert all(r.deviation == r.order - r.anchor for r in ev.trace)
    # the anchor's order is the base-stock order in the agent's own state (replication 0)
    eng = StepEngine(net, 110, 3, policy=anchor.policy, warmup=10)
    eng.reset(0)
    for _ in range(10):
        eng.step(np.full((3, 1), 5.0))
    assert ev.trace[0].anchor == pytest.approx(max(0.0, 28.0 - eng.inventory_position()[0, 0]))


def test_replayed_history_gives_the_hand_computed_cost(tmp_path: Path) -> None:
    # lead time 1, base stock 5, backorders: every period starts with 5 on hand, so the cost
    # of period t is 1·(5 − d_t)⁺ + 9·(d_t − 5)⁺
    net = network_from_dict(
        {"nodes": [{"id": "s", "holding_cost": 1.0, "penalty_cost": 9.0, "lead_time": 1,
                    "demand": {"kind": "poisson", "mean": 5.0}, "external_supplier": True}]}
    )  # fmt: skip
    d = np.array([3.0, 7.0, 5.0, 0.0, 9.0, 4.0])
    csv = tmp_path / "hist.csv"
    csv.write_text("node,period,demand\n" + "".join(f"s,{t},{x}\n" for t, x in enumerate(d)))
    history = load_demand_history(csv, net)
    assert np.array_equal(history["s"], d)
    agent = PolicyAgent(PolicySet(policies={"s": BaseStock(level=5.0)}))
    ev = evaluate_agents(net, [agent], None, 1, seed=0, warmup=0, demand=history)
    expected = float(np.mean(np.maximum(5 - d, 0) + 9 * np.maximum(d - 5, 0)))
    assert ev.periods == 6 and ev.demand_source == "history"
    assert ev.agents[0].cost.mean == pytest.approx(expected)


def test_long_format_history_reads_like_the_node_period_table(tmp_path: Path) -> None:
    net = zipkin_lost_sales()
    f = tmp_path / "long.csv"
    f.write_text("unique_id,ds,y\nstore,2024-01-08,4\nstore,2024-01-01,6\nstore,2024-01-15,5\n")
    assert load_demand_history(f, net)["store"].tolist() == [6.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b\n1,2\n", "layout"),
        ("node,period,demand\nstore,0,-1\n", ">= 0"),
        ("node,period,demand\nstore,0,1\nstore,2,1\n", "without gaps"),
        ("node,period,demand\nother,0,1\n", "demand nodes"),
        ("node,period,demand\nstore,0,1\nstore,0,2\n", "duplicate"),
    ],
)
def test_bad_history_files_raise_data_errors(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=match):
        load_demand_history(f, zipkin_lost_sales())


def test_history_shorter_than_the_run_and_bad_counts_are_input_errors() -> None:
    net = zipkin_lost_sales()
    with pytest.raises(DataError, match="shorter"):
        replay_network(net, {"store": [1.0, 2.0, 3.0]}, 5, 1)
    with pytest.raises(InputError, match="periods and reps"):
        evaluate_agents(net, [ConstantAgent(1.0)], 10, 0)
    with pytest.raises(InputError, match="no agent"):
        evaluate_agents(net, [], 10, 1)
