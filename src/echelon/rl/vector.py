"""A natively vectorized environment for stable-baselines3: one StepEngine, ``n_envs`` networks.

All environments run in lockstep in one :class:`~echelon.rl.env.EnvCore` (no copies, no
processes): one numba call steps the whole batch. Every episode has ``episode_periods`` periods,
so all environments end together; they are then truncated (``TimeLimit.truncated`` and
``terminal_observation`` in the infos, so PPO bootstraps the value) and reset at once. Episode k
of environment b uses replication ``k · n_envs + b`` of the seed: common random numbers across
runs with the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvObs, VecEnvStepReturn

from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.rl.env import EnvCore, RLConfigError
from echelon.rl.observe import EnvConfig


class EchelonVecEnv(VecEnv):
    """SB3 ``VecEnv`` over one step engine of ``n_envs`` environments."""

    render_mode = None

    def __init__(
        self,
        net: Network,
        config: EnvConfig,
        n_envs: int,
        seed: int = 0,
        policy: PolicySet | None = None,
    ) -> None:
        if n_envs < 1:
            raise RLConfigError("n_envs must be at least 1", found=str(n_envs), fix="n_envs=16")
        self.core = EnvCore(net, config, n_envs, policy)
        n = self.core.n_nodes
        super().__init__(
            n_envs,
            gym.spaces.Box(-np.inf, np.inf, (self.core.observer.dim,), np.float32),
            gym.spaces.Box(-1.0, 1.0, (n,), np.float32),
        )
        self.base_seed = int(seed)
        self.episode = 0
        self._actions: np.ndarray | None = None

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Restart the episode count on ``seed`` (applied at the next reset)."""
        if seed is not None:
            self.base_seed = int(seed)
            self.episode = 0
        return [self.base_seed] * self.num_envs

    def reset(self) -> VecEnvObs:
        return self._reset_all()

    def _reset_all(self) -> np.ndarray:
        n = self.num_envs
        reps = [self.episode * n + b for b in range(n)]
        self.episode += 1
        return self.core.reset(self.base_seed, reps)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, -1)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_async must be called before step_wait")
        obs, reward, cost, truncated = self.core.step(self._actions)
        self._actions = None
        total = cost.sum(axis=1)
        infos: list[dict[str, Any]] = [{"cost": float(c)} for c in total]
        dones = np.full(self.num_envs, truncated)
        if truncated:
            for b, info in enumerate(infos):
                info["terminal_observation"] = obs[b].copy()
                info["TimeLimit.truncated"] = True
            obs = self._reset_all()
        return obs, reward.astype(np.float32), dones, infos

    def close(self) -> None:
        return None

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices: Any) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)


class EchelonVectorEnv(gym.vector.VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """The same lockstep batch as a Gymnasium ``VectorEnv`` (same-step autoreset).

    When the episodes end (all together), ``step`` returns the first observation of the next
    episodes and ``infos["final_obs"]`` the last ones. ``reset(seed=s)`` restarts the episode
    count: episode k of environment b is replication ``k · num_envs + b`` of ``s``.
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(
        self,
        net: Network,
        config: EnvConfig,
        num_envs: int,
        seed: int = 0,
        policy: PolicySet | None = None,
    ) -> None:
        self._vec = EchelonVecEnv(net, config, num_envs, seed, policy)
        self.core = self._vec.core
        self.num_envs = num_envs
        self.single_observation_space = self._vec.observation_space
        self.single_action_space = self._vec.action_space
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if isinstance(seed, list):
            seed = seed[0]
        self._vec.seed(seed)
        return self._vec._reset_all(), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        self._vec.step_async(actions)
        obs, reward, dones, infos = self._vec.step_wait()
        assert isinstance(obs, np.ndarray)
        out: dict[str, Any] = {"cost": np.array([i["cost"] for i in infos])}
        if dones.all():
            out["final_obs"] = np.array([i["terminal_observation"] for i in infos])
            out["_final_obs"] = np.ones(self.num_envs, dtype=bool)
        return obs, reward.astype(np.float64), np.zeros(self.num_envs, bool), dones, out
