"""PPO training (tiny budget), the PPOAgent contract, and save → load → identical orders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from echelon.errors import InputError
from echelon.network.io import network_to_dict
from echelon.rl.agent import AgentKind, OrderAgent
from echelon.rl.instances import snyder_shen_6_1, zipkin_lost_sales
from echelon.rl.observe import EnvConfig
from echelon.rl.ppo import PPOAgent, PPOConfig, evaluate_cost, train_ppo
from echelon.rl.vector import EchelonVecEnv
from echelon.sim.step import StepEngine

EX61 = snyder_shen_6_1()
TINY = {"steps": 2048, "n_envs": 8, "n_steps": 128, "batch_size": 256, "n_epochs": 2}


@pytest.fixture(scope="module")
def ex61_agent() -> PPOAgent:
    calls: list[tuple[int, dict[str, float]]] = []
    config = PPOConfig(**TINY, eval_every=1024, eval_reps=4, eval_periods=100, seed=3)
    agent = train_ppo(EX61, config, lambda steps, info: calls.append((steps, info)))
    agent.info["progress_calls"] = calls
    return agent


def _drive(agent: PPOAgent, seed: int, periods: int = 40, n_envs: int = 3) -> np.ndarray:
    engine = StepEngine(agent.net, periods, n_envs, policy=agent.anchor)
    engine.reset(seed)
    agent.reset(engine)
    out = []
    while not engine.done:
        q = agent.orders(engine)
        out.append(q)
        engine.step(q)
    return np.array(out)


def test_trained_agent_is_an_order_agent_with_nonnegative_orders(ex61_agent):
    assert isinstance(ex61_agent, OrderAgent)
    orders = _drive(ex61_agent, seed=1)
    assert orders.shape == (40, 3, 3)
    assert np.all(orders >= 0)
    assert ex61_agent.info["steps"] >= TINY["steps"]


def test_training_reports_progress_with_training_and_evaluation_costs(ex61_agent):
    calls = ex61_agent.info["progress_calls"]
    assert [s for s, _ in calls] == [0, 1024, 2048]
    assert all(info["train_cost"] > 0 for _, info in calls[1:])
    assert all(info["eval_cost"] > 0 for _, info in calls)


def test_actions_are_deterministic(ex61_agent):
    assert np.array_equal(_drive(ex61_agent, seed=4), _drive(ex61_agent, seed=4))


def test_save_then_load_gives_identical_orders(ex61_agent, tmp_path):
    ex61_agent.save(tmp_path / "agent")
    doc = json.loads((tmp_path / "agent" / "agent.json").read_text())
    assert doc["kind"] == AgentKind.PPO == "ppo"
    assert doc["network"] == network_to_dict(EX61)
    assert len(doc["normalization"]["obs_mean"]) == len(doc["normalization"]["obs_var"])
    loaded = PPOAgent.load(tmp_path / "agent")
    assert loaded.config == ex61_agent.config
    assert np.array_equal(_drive(loaded, seed=9), _drive(ex61_agent, seed=9))


def test_agent_observes_the_engine_exactly_as_the_training_env_does(ex61_agent):
    """Driving the env with the policy and a bare StepEngine with agent.orders: same path."""
    agent = ex61_agent
    venv = EchelonVecEnv(agent.net, agent.config.env, 3, seed=6, policy=agent.anchor)
    obs = venv.reset()
    engine = StepEngine(agent.net, agent.config.env.episode_periods + 1, 3, policy=agent.anchor)
    engine.reset(6)
    agent.reset(engine)
    for _ in range(30):
        action, _ = agent.policy.predict(agent.normalize(obs), deterministic=True)
        obs, _, _, infos = venv.step(action)
        cost = engine.step(agent.orders(engine)).sum(axis=1)
        assert np.array_equal(cost, [i["cost"] for i in infos])


def test_agent_works_on_an_engine_without_the_anchor_policy(ex61_agent):
    engine = StepEngine(EX61, 20, 2)  # an evaluator's bare engine: no policy, empty start
    engine.reset(0)
    ex61_agent.reset(engine)
    while not engine.done:
        engine.step(ex61_agent.orders(engine))
    assert engine.ACC.sum() > 0


def test_untrained_anchor_agent_is_near_the_ex61_optimum(ex61_agent):
    """The anchor action space starts at the Clark–Scarf policy: cost close to 47.67."""
    mean, half = evaluate_cost(ex61_agent, periods=400, reps=20, seed=77, warmup=50)
    assert half > 0
    assert mean == pytest.approx(47.67, rel=0.06)


def test_training_is_reproducible_for_a_seed():
    net = zipkin_lost_sales(9.0, 1)
    config = PPOConfig(
        **TINY, eval_every=0, seed=5, env=EnvConfig(action="raw", anchor="single-echelon")
    )
    a, b = train_ppo(net, config), train_ppo(net, config)
    assert np.array_equal(_drive(a, seed=2), _drive(b, seed=2))
    json.dumps(a.info, allow_nan=False)  # no evaluation: no NaN written to agent.json


def test_bad_settings_and_folders_raise_input_errors(tmp_path, ex61_agent):
    with pytest.raises(InputError):
        train_ppo(EX61, PPOConfig(steps=10, n_envs=2, n_steps=4, batch_size=64))
    with pytest.raises(InputError):
        PPOAgent.load(tmp_path)
    with pytest.raises(InputError):
        ex61_agent.reset(StepEngine(zipkin_lost_sales(9.0, 1), 5, 1))
    ex61_agent.save(tmp_path / "a")
    doc = json.loads((tmp_path / "a" / "agent.json").read_text())
    doc["kind"] = "dpg"
    (tmp_path / "a" / "agent.json").write_text(json.dumps(doc))
    with pytest.raises(InputError):
        PPOAgent.load(tmp_path / "a")
