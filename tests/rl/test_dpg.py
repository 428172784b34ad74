"""DPG training and agent: a short run lowers the cost, the agent acts in the step engine with
the very features of training, and save → load keeps its orders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from echelon.errors import InputError
from echelon.network.io import network_from_dict
from echelon.rl.agent import AgentKind, OrderAgent
from echelon.rl.diffsim import DiffSim, DiffSimUnsupportedError
from echelon.rl.dpg import DPGAgent, DPGConfig, DPGError, train_dpg
from echelon.rl.instances import orgym_serial_lost_sales, snyder_shen_6_1, zipkin_lost_sales
from echelon.sim.step import StepEngine

TINY = {"batch_size": 32, "horizon": 60, "eval_batch": 32, "eval_horizon": 80, "eval_every": 5}


@pytest.fixture(scope="module")
def zipkin_agent() -> DPGAgent:
    net = zipkin_lost_sales(9.0, 4)
    return train_dpg(net, DPGConfig(steps=30 * 32 * 60, learning_rate=0.03, **TINY))


def test_short_training_lowers_the_validation_cost(zipkin_agent: DPGAgent) -> None:
    """The start is a capped base-stock policy with a loose cap (the cost of lost sales with
    Zipkin's L = 4 is far above it); 30 Adam steps must lower the validation cost."""
    hist = zipkin_agent.info["history"]
    assert hist[0]["iteration"] == 0
    assert zipkin_agent.info["best_eval_cost"] < 0.97 * hist[0]["eval_cost"]


def test_short_training_on_snyder_shen_lowers_cost_from_a_poor_start() -> None:
    """From a base stock 30% too high, the pathwise gradient moves the levels down."""
    seen: list[float] = []
    cfg = DPGConfig(steps=25 * 32 * 60, learning_rate=0.02, level_factor=1.3, **TINY)
    agent = train_dpg(snyder_shen_6_1(), cfg, lambda s, info: seen.append(info["eval_cost"]))
    assert len(seen) == 5  # 25 iterations, scored every 5
    hist = agent.info["history"]
    assert agent.info["best_eval_cost"] < 0.9 * hist[0]["eval_cost"]
    start = 1.3 * np.array([5 * 4 + 2, 5 * 2 + np.sqrt(2), 5 * 1 + 1])  # mu·L + sd·√L
    assert (np.array(agent.policy.describe()["levels"]) < start).all()


def test_agent_orders_in_step_engine_equal_its_training_orders(zipkin_agent: DPGAgent) -> None:
    """Driven by the agent, the step engine and the torch simulator give the same orders and
    costs on the same draws: the features are built the same way from both."""
    for net in (zipkin_agent.net,):
        eng = StepEngine(net, 50, 6)
        eng.reset(11)
        zipkin_agent.reset(eng)
        sim = DiffSim(net)
        st = sim.reset(eng.draws)
        for _t in range(50):
            q_engine = zipkin_agent.orders(eng)
            with torch.no_grad():
                q_sim = zipkin_agent.sim_orders(sim, st)
            np.testing.assert_allclose(q_engine, q_sim.numpy(), rtol=0, atol=1e-9)
            np.testing.assert_allclose(
                eng.step(q_engine), sim.step(st, q_sim).numpy(), rtol=0, atol=1e-9
            )


def test_agent_on_a_serial_network_matches_torch_twin() -> None:
    net = orgym_serial_lost_sales()
    cfg = DPGConfig(steps=2 * 32 * 100, **{**TINY, "horizon": 100, "warmup": 10, "tail": 10})
    agent = train_dpg(net, cfg)
    assert isinstance(agent, OrderAgent)
    eng = StepEngine(net, 40, 3)
    eng.reset(5)
    sim = DiffSim(net)
    st = sim.reset(eng.draws)
    for _t in range(40):
        q = agent.orders(eng)
        assert q.shape == (3, 3) and (q >= 0).all()
        with torch.no_grad():
            np.testing.assert_allclose(q, agent.sim_orders(sim, st).numpy(), atol=1e-9, rtol=0)
        eng.step(q)
        sim.step(st, torch.as_tensor(q))


def test_save_load_round_trip_keeps_orders(zipkin_agent: DPGAgent, tmp_path: Path) -> None:
    zipkin_agent.save(tmp_path / "agent")
    meta = json.loads((tmp_path / "agent" / "agent.json").read_text())
    assert meta["kind"] == AgentKind.DPG.value == "dpg"
    assert meta["network"]["nodes"][0]["id"] == "store"
    assert meta["config"]["batch_size"] == 32
    loaded = DPGAgent.load(tmp_path / "agent")
    eng = StepEngine(zipkin_agent.net, 30, 4)
    eng.reset(2)
    for _t in range(30):
        a, b = zipkin_agent.orders(eng), loaded.orders(eng)
        np.testing.assert_array_equal(a, b)
        eng.step(a)
    assert loaded.config == zipkin_agent.config


def test_load_rejects_other_kinds_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(DPGError, match="cannot read"):
        DPGAgent.load(tmp_path / "nothing")
    (tmp_path / "ppo").mkdir()
    (tmp_path / "ppo" / "agent.json").write_text(json.dumps({"kind": "ppo"}))
    with pytest.raises(DPGError, match="not a DPG agent"):
        DPGAgent.load(tmp_path / "ppo")


def test_agent_refuses_an_engine_of_another_network(zipkin_agent: DPGAgent) -> None:
    eng = StepEngine(snyder_shen_6_1(), 5, 1)
    eng.reset(0)
    with pytest.raises(DPGError, match="another network"):
        zipkin_agent.reset(eng)


def test_bad_inputs_raise_input_errors() -> None:
    with pytest.raises(InputError, match="horizon"):
        train_dpg(snyder_shen_6_1(), DPGConfig(horizon=10, warmup=5, tail=5))
    no_demand = network_from_dict(
        {"name": "x", "nodes": [{"id": "a", "external_supplier": True, "lead_time": 1}]}
    )
    with pytest.raises(DPGError, match="no external demand"):
        train_dpg(no_demand, DPGConfig(**TINY))
    assembly = network_from_dict(
        {
            "name": "asm",
            "nodes": [
                {"id": "a", "external_supplier": True, "lead_time": 1},
                {"id": "b", "external_supplier": True, "lead_time": 1},
                {"id": "c", "lead_time": 1, "demand": {"kind": "poisson", "mean": 2}},
            ],
            "lanes": [{"from": "a", "to": "c"}, {"from": "b", "to": "c"}],
        }
    )
    with pytest.raises(DiffSimUnsupportedError, match="assembly"):
        train_dpg(assembly, DPGConfig(**TINY))
