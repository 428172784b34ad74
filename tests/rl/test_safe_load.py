"""Loading an agent folder never unpickles: tampered PPO and DPG folders (tampered_agents.py)
give one line and create no file; an old SB3 ``model.zip`` still loads, from its weights only."""

from __future__ import annotations

import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from echelon.errors import InputError
from echelon.rl.store import load_agent
from echelon.sim.step import StepEngine

pytest.importorskip("stable_baselines3")

from echelon.rl.dpg import DPGConfig, train_dpg
from echelon.rl.instances import snyder_shen_6_1, zipkin_lost_sales
from echelon.rl.ppo import PPOAgent, PPOConfig, train_ppo
from rl.tampered_agents import (
    COMMON,
    DPG_ONLY,
    PPO_ONLY,
    Tamper,
    legacy_model_zip,
    marker_of,
    payload_pickle,
    payload_torch,
)

TINY_PPO = {"steps": 64, "n_envs": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 1}


@pytest.fixture(scope="module")
def ppo_agent() -> PPOAgent:
    return train_ppo(snyder_shen_6_1(), PPOConfig(**TINY_PPO, eval_every=0, seed=1))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, ppo_agent: PPOAgent) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("saved")
    ppo_agent.save(root / "ppo")
    dpg = train_dpg(zipkin_lost_sales(9.0, 4), DPGConfig(steps=4000, seed=5))
    dpg.save(root / "dpg")
    return {"ppo": root / "ppo", "dpg": root / "dpg"}


def _orders(agent: object, seed: int = 4) -> np.ndarray:
    net = agent.net  # type: ignore[attr-defined]
    engine = StepEngine(net, 30, 3, policy=getattr(agent, "anchor", None))
    engine.reset(seed)
    agent.reset(engine)  # type: ignore[attr-defined]
    out = []
    while not engine.done:
        q = agent.orders(engine)  # type: ignore[attr-defined]
        out.append(q)
        engine.step(q)
    return np.array(out)


def test_the_payloads_are_live(tmp_path: Path) -> None:
    """Unpickled the unsafe way, each payload does create the marker file."""
    folder = tmp_path / "agent"
    folder.mkdir()
    pickle.loads(payload_pickle(folder))
    assert marker_of(folder).exists()
    marker_of(folder).unlink()
    torch.load(io.BytesIO(payload_torch(folder)), weights_only=False)
    assert marker_of(folder).exists()


CASES = [("ppo", t) for t in COMMON + PPO_ONLY] + [("dpg", t) for t in COMMON + DPG_ONLY]


@pytest.mark.parametrize(("kind", "tamper"), CASES, ids=[f"{k}-{t.name}" for k, t in CASES])
def test_tampered_agent_gives_one_line_and_runs_no_code(
    kind: str, tamper: Tamper, saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "agent"
    shutil.copytree(saved[kind], folder)
    tamper.mutate(folder)
    with pytest.raises(InputError) as exc:
        load_agent(folder)
    message = str(exc.value)
    assert "\n" not in message
    for fragment in tamper.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not marker_of(folder).exists(), "a payload ran"


def test_at_least_thirty_tampered_cases() -> None:
    assert len(CASES) >= 30


def test_saved_ppo_folder_holds_no_pickled_object(saved: dict[str, Path]) -> None:
    names = sorted(p.name for p in saved["ppo"].iterdir())
    assert names == ["agent.json", "policy.pt"]
    state = torch.load(saved["ppo"] / "policy.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_save_load_keeps_ppo_orders(ppo_agent: PPOAgent, saved: dict[str, Path]) -> None:
    assert np.array_equal(_orders(ppo_agent), _orders(load_agent(saved["ppo"])))


def test_legacy_sb3_zip_loads_from_its_weights_only(
    ppo_agent: PPOAgent, saved: dict[str, Path], tmp_path: Path
) -> None:
    """An agent saved by an older echelon (SB3 model.zip) loads; its pickled ``data`` (here a
    payload) is never read."""
    folder = tmp_path / "agent"
    shutil.copytree(saved["ppo"], folder)
    legacy_model_zip(folder, ppo_agent.policy.state_dict())
    loaded = load_agent(folder)
    assert not marker_of(folder).exists()
    assert np.array_equal(_orders(ppo_agent), _orders(loaded))
