"""PPO (stable-baselines3) on the vectorized environment, and the trained :class:`PPOAgent`.

Inventory defaults: observations and rewards normalized by running statistics (SB3
``VecNormalize``), actions in [-1, 1] (:mod:`echelon.rl.observe`), γ = 0.99, small initial
exploration noise, and the anchor action space (a bounded adjustment of the optimizer's
base-stock policy). With ``keep_best`` the weights with the lowest periodic evaluation cost
(deterministic actions, its own evaluation seed) are kept. ``steps`` counts environment periods
simulated in training, summed over the batch.
"""

from __future__ import annotations

import copy
import io
import json
import math
import time
from pathlib import Path
from typing import Any, Self

import gymnasium as gym
import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecNormalize

import echelon
from echelon.fileio import atomic_write_bytes, atomic_write_text
from echelon.network.io import network_from_dict, network_to_dict
from echelon.network.model import Network
from echelon.policies.io import policy_from_dict
from echelon.policies.model import PolicySet
from echelon.rl.agent import AgentKind, Progress
from echelon.rl.env import RLConfigError, anchor_policy
from echelon.rl.observe import ActionMap, EnvConfig, Observer, anchor_kernel_net, anchor_orders
from echelon.rl.vector import EchelonVecEnv
from echelon.sim import kernel as K
from echelon.sim.step import StepEngine

COST_COLUMNS = [K.K_HOLD, K.K_PIPE, K.K_PEN, K.K_ORD]
MODEL_FILE = "model.zip"  # written by echelon < 0.2 (an SB3 archive); read for its weights only
WEIGHTS_FILE = "policy.pt"  # the policy's torch state dict (weights_only)
AGENT_FILE = "agent.json"


class PPOConfig(BaseModel):
    """PPO training settings (SB3 names); ``env`` says how the environment observes and acts."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(300_000, ge=1, description="environment periods in training (all envs)")
    seed: int = 0
    env: EnvConfig = Field(default_factory=EnvConfig)
    n_envs: int = Field(16, ge=1)
    n_steps: int = Field(256, ge=1, description="periods per env per rollout")
    batch_size: int = Field(512, ge=2)
    n_epochs: int = Field(10, ge=1)
    learning_rate: float = Field(3e-4, gt=0)
    gamma: float = Field(0.99, gt=0, le=1)
    gae_lambda: float = Field(0.95, ge=0, le=1)
    clip_range: float = Field(0.2, gt=0)
    ent_coef: float = Field(0.0, ge=0)
    vf_coef: float = Field(0.5, ge=0)
    max_grad_norm: float = Field(0.5, gt=0)
    net_arch: list[int] = Field(default_factory=lambda: [64, 64])
    log_std_init: float = Field(-1.0, description="initial log std of the Gaussian actions")
    normalize_obs: bool = True
    normalize_reward: bool = True
    clip_obs: float = Field(10.0, gt=0)
    eval_every: int = Field(50_000, ge=0, description="steps between evaluations (0: never)")
    eval_reps: int = Field(16, ge=1)
    eval_periods: int = Field(500, ge=1)
    eval_warmup: int = Field(50, ge=0)
    eval_seed: int = Field(10_007, description="evaluation seed (keep apart from test seeds)")
    keep_best: bool = True
    threads: int = Field(1, ge=1, description="torch threads")


class PPOAgent:
    """A trained PPO policy as an :class:`~echelon.rl.agent.OrderAgent` (deterministic)."""

    kind = AgentKind.PPO

    def __init__(
        self,
        net: Network,
        config: PPOConfig,
        anchor: PolicySet,
        policy: ActorCriticPolicy,
        obs_mean: np.ndarray,
        obs_var: np.ndarray,
        pipe_slots: int,
        name: str = "ppo",
        info: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.net = net
        self.config = config
        self.anchor = anchor
        self.policy = policy
        self.obs_mean = np.asarray(obs_mean, dtype=np.float64)
        self.obs_var = np.asarray(obs_var, dtype=np.float64)
        self.pipe_slots = pipe_slots
        self.info: dict[str, Any] = dict(info or {})
        self._engine: StepEngine | None = None
        self._observer: Observer | None = None
        self._actions: ActionMap | None = None
        self._anchor_net: tuple[np.ndarray | bool, ...] | None = None

    def reset(self, engine: StepEngine) -> None:
        """Bind to ``engine`` (after its reset) and clear the demand memory."""
        if engine is not self._engine:
            if sorted(engine.ids) != sorted(self.net.node_ids()):
                raise RLConfigError(
                    "the agent was trained on another network",
                    expected=f"nodes {sorted(self.net.node_ids())}",
                    found=f"nodes {sorted(engine.ids)}",
                    fix="evaluate the agent on the network it was trained on",
                )
            self._engine = engine
            self._observer = Observer(self.net, engine, self.config.env, self.pipe_slots)
            dim = self.policy.observation_space.shape
            if dim != (self._observer.dim,):
                raise RLConfigError(
                    "the agent's policy does not fit its network's observations",
                    expected=f"{self._observer.dim} observed features",
                    found=f"a policy for {dim}",
                    fix="re-train the agent",
                )
            self._actions = ActionMap(self.net, engine, self.config.env)
            self._anchor_net = anchor_kernel_net(engine, self.anchor)
        assert self._observer is not None
        self._observer.reset(engine)

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """Observations as the policy saw them in training (VecNormalize's formula)."""
        if not self.config.normalize_obs:
            return obs.astype(np.float32)
        z = (obs - self.obs_mean) / np.sqrt(self.obs_var + 1e-8)
        return np.clip(z, -self.config.clip_obs, self.config.clip_obs).astype(np.float32)

    def orders(self, engine: StepEngine) -> np.ndarray:
        """Orders ``[n_envs, n_nodes]`` (units) now; call once per period, in order."""
        if engine is not self._engine:
            raise RuntimeError("call agent.reset(engine) after engine.reset(seed)")
        assert self._observer is not None and self._actions is not None
        assert self._anchor_net is not None
        obs = self.normalize(self._observer.observe(engine))
        action, _ = self.policy.predict(obs, deterministic=True)
        anchor = (
            anchor_orders(engine, self._anchor_net) if self.config.env.action == "anchor" else None
        )
        return self._actions.orders(np.asarray(action, dtype=np.float64), anchor)

    def save(self, folder: Path) -> None:
        """Write ``agent.json`` and the policy's weights (``policy.pt``, a torch state dict
        loadable with ``weights_only=True``) into ``folder``; no pickled objects."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(self.policy.state_dict(), buf)
        atomic_write_bytes(folder / WEIGHTS_FILE, buf.getvalue())
        (folder / MODEL_FILE).unlink(missing_ok=True)  # an older save's SB3 archive
        obs_dim, n_actions = _dims(self.policy.state_dict(), self.config, "policy")
        doc = {
            "kind": str(AgentKind.PPO),
            "name": self.name,
            "echelon_version": echelon.__version__,
            "network": network_to_dict(self.net),
            "config": self.config.model_dump(mode="json"),
            "anchor": self.anchor.model_dump(mode="json"),
            "normalization": {
                "obs_mean": self.obs_mean.tolist(),
                "obs_var": self.obs_var.tolist(),
                "epsilon": 1e-8,
                "clip_obs": self.config.clip_obs,
            },
            "pipe_slots": self.pipe_slots,
            "weights": WEIGHTS_FILE,
            "spaces": {"observation_dim": obs_dim, "action_dim": n_actions},
            "info": self.info,
        }
        atomic_write_text(folder / AGENT_FILE, json.dumps(doc, indent=2))

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Rebuild an agent written by :meth:`save` (or by an older echelon, whose SB3
        ``model.zip`` is read for its ``policy.pth`` state dict only): the policy network is
        rebuilt from ``agent.json`` and gets the weights; nothing is unpickled."""
        from echelon.rl.store import (
            AgentStoreError,
            load_state_dict,
            read_agent_meta,
            read_state_dict,
            read_zip_member,
        )

        folder = Path(folder)
        path = folder / AGENT_FILE
        src = str(path)
        if not path.exists():
            raise RLConfigError(
                "not a saved PPO agent",
                source=str(folder),
                expected=f"{AGENT_FILE} and {WEIGHTS_FILE}",
                fix="pass the folder written by PPOAgent.save",
            )
        doc = read_agent_meta(folder)
        if doc.get("kind") != str(AgentKind.PPO):
            raise RLConfigError(
                "the saved agent is not a PPO agent",
                source=src,
                field="kind",
                expected="ppo",
                found=str(doc.get("kind")),
            )
        try:
            net = network_from_dict(doc["network"], source=src)
            config = PPOConfig.model_validate(doc["config"])
            anchor = policy_from_dict(doc["anchor"], source=src)
            norm = doc["normalization"]
            mean = np.asarray(norm["obs_mean"], dtype=np.float64)
            var = np.asarray(norm["obs_var"], dtype=np.float64)
            pipe_slots = int(doc["pipe_slots"])
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise AgentStoreError(
                "agent.json is incomplete or invalid", source=src,
                found=f"{type(exc).__name__}: {str(exc).splitlines()[0][:100]}",
                fix="re-train the agent",
            ) from None  # fmt: skip
        if "weights" in doc:
            state = read_state_dict(folder, doc["weights"], src)
        elif (folder / MODEL_FILE).exists() or (folder / MODEL_FILE).is_symlink():
            legacy = folder / MODEL_FILE
            state = load_state_dict(read_zip_member(legacy, "policy.pth", src), str(legacy))
        else:
            raise RLConfigError(
                "not a saved PPO agent", source=str(folder),
                expected=f"{AGENT_FILE} with its weights ({WEIGHTS_FILE})",
                fix="pass the folder written by PPOAgent.save",
            )  # fmt: skip
        obs_dim, n_actions = _dims(state, config, src)
        if mean.shape != (obs_dim,) or var.shape != (obs_dim,) or not (var >= 0).all():
            raise AgentStoreError(
                "the normalization does not match the weights", source=src,
                field="normalization", expected=f"{obs_dim} means and variances >= 0",
                found=f"{mean.size} means, {var.size} variances", fix="re-train the agent",
            )  # fmt: skip
        policy = build_policy(config, obs_dim, n_actions)
        policy.load_state_dict(state)
        return cls(
            net, config, anchor, policy, mean, var, pipe_slots,
            name=str(doc.get("name", "ppo")), info=doc.get("info", {}),
        )  # fmt: skip


def build_policy(config: PPOConfig, obs_dim: int, n_actions: int) -> ActorCriticPolicy:
    """The SB3 actor-critic network PPO trains for ``config`` (same spaces and arguments as
    ``PPO("MlpPolicy", ...)`` in training), in evaluation mode, on the CPU."""
    policy = ActorCriticPolicy(
        gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
        gym.spaces.Box(-1.0, 1.0, (n_actions,), np.float32),
        lambda _: 0.0,
        net_arch=list(config.net_arch),
        log_std_init=config.log_std_init,
    )
    policy.set_training_mode(False)
    return policy


def _dims(state: dict[str, Any], config: PPOConfig, source: str) -> tuple[int, int]:
    """Observation and action sizes of a policy state dict, after checking that its names
    and shapes are exactly those of ``config.net_arch`` (so nothing larger than the weights
    themselves is ever allocated)."""
    from echelon.rl.store import AgentStoreError

    try:
        n_actions = int(state["log_std"].shape[0])
        first = "mlp_extractor.policy_net.0.weight" if config.net_arch else "action_net.weight"
        obs_dim = int(state[first].shape[1])
    except (KeyError, IndexError, AttributeError):
        obs_dim = n_actions = -1
    expected: dict[str, tuple[int, ...]] = {"log_std": (n_actions,)}
    prev = obs_dim
    for i, h in enumerate(config.net_arch):
        for part in ("policy_net", "value_net"):
            expected[f"mlp_extractor.{part}.{2 * i}.weight"] = (h, prev)
            expected[f"mlp_extractor.{part}.{2 * i}.bias"] = (h,)
        prev = h
    expected |= {"action_net.weight": (n_actions, prev), "action_net.bias": (n_actions,),
                 "value_net.weight": (1, prev), "value_net.bias": (1,)}  # fmt: skip
    found = {k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}
    if obs_dim < 1 or n_actions < 1 or found != expected:
        raise AgentStoreError(
            "the weights do not match the network architecture in agent.json",
            source=source, expected=f"an MLP policy with hidden layers {config.net_arch}",
            found=f"{len(state)} tensors of other names or shapes", fix="re-train the agent",
        )  # fmt: skip
    return obs_dim, n_actions


def evaluate_cost(
    agent: PPOAgent, periods: int, reps: int, seed: int, warmup: int = 0
) -> tuple[float, float]:
    """Mean cost per period over ``reps`` replications (common random numbers of ``seed``) and
    the 95% confidence half-width across replications (money per period)."""
    engine = StepEngine(agent.net, warmup + periods, reps, policy=agent.anchor, warmup=warmup)
    engine.reset(seed)
    agent.reset(engine)
    while not engine.done:
        engine.step(agent.orders(engine))
    per_rep = engine.ACC[:, :, COST_COLUMNS].sum(axis=(1, 2)) / periods
    half = 1.96 * per_rep.std(ddof=1) / math.sqrt(reps) if reps > 1 else float("nan")
    return float(per_rep.mean()), float(half)


class _Monitor(BaseCallback):
    """Reports training cost, evaluates now and then, and remembers the best weights."""

    def __init__(self, trainer: _Trainer, progress: Progress | None) -> None:
        super().__init__()
        self.trainer = trainer
        self.progress = progress
        self.costs: list[float] = []
        self.next_eval = trainer.config.eval_every

    def _on_step(self) -> bool:
        self.costs.extend(info["cost"] for info in self.locals["infos"])
        return True

    def _on_rollout_end(self) -> None:
        info: dict[str, float] = {"train_cost": float(np.mean(self.costs))} if self.costs else {}
        self.costs = []
        cfg = self.trainer.config
        if cfg.eval_every and self.num_timesteps >= self.next_eval:
            self.next_eval += cfg.eval_every
            info["eval_cost"] = self.trainer.evaluate()
        if self.progress is not None:
            self.progress(int(self.num_timesteps), info)


class _Trainer:
    def __init__(self, net: Network, config: PPOConfig) -> None:
        self.net = net
        self.config = config
        self.anchor = anchor_policy(net, config.env.anchor)
        base = EchelonVecEnv(net, config.env, config.n_envs, config.seed, self.anchor)
        self.pipe_slots = base.core.observer.slots
        self.venv = VecNormalize(
            base,
            norm_obs=config.normalize_obs,
            norm_reward=config.normalize_reward,
            clip_obs=config.clip_obs,
            gamma=config.gamma,
        )
        self.model = PPO(
            "MlpPolicy",
            self.venv,
            n_steps=config.n_steps,
            batch_size=config.batch_size,
            n_epochs=config.n_epochs,
            learning_rate=config.learning_rate,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            clip_range=config.clip_range,
            ent_coef=config.ent_coef,
            vf_coef=config.vf_coef,
            max_grad_norm=config.max_grad_norm,
            policy_kwargs={"net_arch": list(config.net_arch), "log_std_init": config.log_std_init},
            seed=config.seed,
            device="cpu",
            verbose=0,
        )
        self.best: tuple[float, dict[str, Any], np.ndarray, np.ndarray, int] | None = None

    def agent(self) -> PPOAgent:
        rms = self.venv.obs_rms
        assert isinstance(rms, RunningMeanStd)
        return PPOAgent(
            self.net, self.config, self.anchor, self.model.policy, rms.mean.copy(), rms.var.copy(),
            self.pipe_slots,
        )  # fmt: skip

    def evaluate(self) -> float:
        cfg = self.config
        agent = self.agent()
        cost, _ = evaluate_cost(
            agent, cfg.eval_periods, cfg.eval_reps, cfg.eval_seed, cfg.eval_warmup
        )
        if cfg.keep_best and (self.best is None or cost < self.best[0]):
            state = copy.deepcopy(self.model.policy.state_dict())
            self.best = (cost, state, agent.obs_mean, agent.obs_var, self.model.num_timesteps)
        return cost


def train_ppo(net: Network, config: PPOConfig, progress: Progress | None = None) -> PPOAgent:
    """Train PPO on ``net``; return the final agent or, with ``keep_best``, the weights with the
    lowest evaluation cost (the untrained policy, evaluated before training, included)."""
    if config.batch_size > config.n_envs * config.n_steps:
        raise RLConfigError(
            "batch_size is larger than a rollout",
            field="batch_size",
            expected=f"<= n_envs * n_steps = {config.n_envs * config.n_steps}",
            found=str(config.batch_size),
            fix="lower batch_size or raise n_steps",
        )
    torch.set_num_threads(config.threads)
    start = time.perf_counter()
    trainer = _Trainer(net, config)
    if config.eval_every:  # the untrained policy (about the anchor policy) is a candidate too
        first = trainer.evaluate()
        if progress is not None:
            progress(0, {"eval_cost": first})
    trainer.model.learn(total_timesteps=config.steps, callback=_Monitor(trainer, progress))
    final = trainer.evaluate() if config.eval_every else float("nan")
    agent = trainer.agent()
    chosen = "final"
    if trainer.best is not None and trainer.best[0] < final:
        _, state, mean, var, _ = trainer.best
        trainer.model.policy.load_state_dict(state)
        agent.obs_mean, agent.obs_var = mean, var
        chosen = "best"
    seconds, steps = time.perf_counter() - start, int(trainer.model.num_timesteps)
    agent.info = {
        "seconds": seconds,  # wall-clock training time, evaluations included
        "steps": steps,  # environment periods simulated in training (all environments)
        "eval_cost_final": final if math.isfinite(final) else None,  # money per period
        "eval_cost_best": trainer.best[0] if trainer.best else None,
        "weights": chosen,
        "weights_step": trainer.best[4] if chosen == "best" and trainer.best else steps,
    }
    return agent
