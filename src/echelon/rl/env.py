"""Gymnasium environments over the step engine (one network, one period per step).

Registered ids (see :mod:`echelon.rl`): ``echelon/Serial-v0`` (Snyder & Shen Example 6.1),
``echelon/LostSales-v0`` (Zipkin 2008, kwargs ``penalty`` and ``lead_time``: Zipkin's L) and
``echelon/Network-v0`` (kwarg ``network``: a path or a :class:`Network`). Every other kwarg is a
field of :class:`~echelon.rl.observe.EnvConfig`; ``policy`` (a PolicySet) overrides the anchor
policy that ``EnvConfig.anchor`` would compute.

An episode is ``episode_periods`` periods (then ``truncated``: the system has no natural end).
Episode k after ``reset(seed=s)`` is replication k of seed s of the step engine, so runs are
reproducible and two policies can be compared on common random numbers. Observation, action and
reward are those of :mod:`echelon.rl.observe`; ``info["cost"]`` is the period's cost (money,
summed over nodes) and ``info["node_cost"]`` the cost per node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from echelon.errors import InputError
from echelon.network.io import load_network
from echelon.network.model import Network, StockoutMode
from echelon.policies.model import PolicySet
from echelon.rl.instances import snyder_shen_6_1, zipkin_lost_sales
from echelon.rl.observe import (
    ActionMap,
    EnvConfig,
    Observer,
    Reward,
    anchor_kernel_net,
    anchor_orders,
)
from echelon.sim.step import StepEngine


class RLConfigError(InputError):
    """An RL environment or training setting that cannot be used."""


def anchor_policy(net: Network, kind: str = "auto") -> PolicySet:
    """The classical policy the ``anchor`` action space adjusts.

    ``auto``: the exact Clark–Scarf echelon base-stock levels for a serial backorder system;
    else, with backorders, the guaranteed-service (GSM) base-stock levels; with lost sales (which
    neither models), the cost-minimizing installation base-stock levels found by
    simulation-optimization (``simopt``: 20 replications × 500 periods of seed 0, at most 200
    simulations); the single-echelon heuristic if all else fails.
    """
    from echelon.optimize.clark_scarf import solve_clark_scarf
    from echelon.optimize.gsm.solve import solve_gsm
    from echelon.optimize.simopt.solve import solve_simopt
    from echelon.optimize.single_echelon import solve_single_echelon

    backorders = all(n.stockout is StockoutMode.BACKORDER for n in net.nodes)
    if kind == "simopt" or (kind == "auto" and not backorders):
        try:
            return solve_simopt(net, periods=500, reps=20, max_evaluations=200).policy
        except InputError:
            if kind == "simopt":
                raise
    if kind == "clark-scarf" or (kind == "auto" and backorders):
        try:
            return solve_clark_scarf(net).policy
        except InputError:
            if kind == "clark-scarf":
                raise
    if kind == "gsm" or (kind == "auto" and backorders):
        try:
            return solve_gsm(net, time_limit=10.0).policy
        except InputError:
            if kind == "gsm":
                raise
    return solve_single_echelon(net).policy


def as_network(network: Network | str | Path) -> Network:
    """A :class:`Network`, loading it if given a path."""
    if isinstance(network, Network):
        return network
    if isinstance(network, str | Path):
        return load_network(network)
    raise RLConfigError(
        "network must be a Network or the path of a network file",
        field="network",
        found=type(network).__name__,
        fix="pass network='path/to/network.yaml'",
    )


def env_config(config: EnvConfig | None = None, **overrides: Any) -> EnvConfig:
    """An :class:`EnvConfig` from a base config and keyword overrides (bad ones raise)."""
    data = {} if config is None else config.model_dump()
    unknown = sorted(set(overrides) - set(EnvConfig.model_fields))
    if unknown:
        raise RLConfigError(
            "unknown environment setting",
            found=", ".join(unknown),
            expected="one of " + ", ".join(EnvConfig.model_fields),
            fix="remove or correct the keyword argument",
        )
    data.update(overrides)
    try:
        return EnvConfig.model_validate(data)
    except ValueError as exc:
        raise RLConfigError(
            "invalid environment setting", found=str(exc).splitlines()[0], fix="see EnvConfig"
        ) from None


class EnvCore:
    """A step engine of ``n_envs`` environments plus the observer, action map and reward.

    Pure array interface shared by :class:`EchelonEnv` and the vectorized environments. The
    engine runs ``episode_periods + 1`` periods so that the state after the last step is a full
    decision epoch (its observation is the truncated episode's final observation).
    """

    def __init__(
        self,
        net: Network,
        config: EnvConfig,
        n_envs: int = 1,
        anchor: PolicySet | None = None,
    ) -> None:
        self.net = net
        self.config = config
        self.anchor = anchor if anchor is not None else anchor_policy(net, config.anchor)
        self.periods = config.episode_periods
        self.engine = StepEngine(net, self.periods + 1, n_envs, policy=self.anchor)
        self.observer = Observer(net, self.engine, config)
        self.action_map = ActionMap(net, self.engine, config)
        self.reward = Reward(net, self.engine, config)
        self.anchor_net = anchor_kernel_net(self.engine, self.anchor)
        self.n_envs = n_envs
        self.n_nodes = len(self.engine.ids)

    def reset(self, seed: int, reps: list[int]) -> np.ndarray:
        """Start an episode (env b on replication ``reps[b]`` of ``seed``); observation."""
        self.engine.reset(seed, reps)
        self.observer.reset(self.engine)
        self.reward.reset(self.engine)
        return self.observer.observe(self.engine)

    def orders(self, action: np.ndarray) -> np.ndarray:
        """Order quantities (units) for an action batch ``[n_envs, n_nodes]``."""
        anchor = (
            anchor_orders(self.engine, self.anchor_net) if self.config.action == "anchor" else None
        )
        return self.action_map.orders(action, anchor)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """One period: (observation, reward, cost per node, truncated)."""
        cost = self.engine.step(self.orders(action))
        reward = self.reward(self.engine, cost)
        obs = self.observer.observe(self.engine)
        return obs, reward, cost, self.engine.t >= self.periods


class EchelonEnv(gym.Env[np.ndarray, np.ndarray]):
    """One network as a Gymnasium environment (observation/action: see echelon.rl.observe)."""

    def __init__(
        self,
        network: Network | str | Path,
        config: EnvConfig | None = None,
        policy: PolicySet | None = None,
        **overrides: Any,
    ) -> None:
        self.metadata = {"render_modes": []}
        self.net = as_network(network)
        self.config = env_config(config, **overrides)
        self.core = EnvCore(self.net, self.config, 1, policy)
        n = self.core.n_nodes
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n,), np.float32)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, (self.core.observer.dim,), np.float32
        )
        self._seed: int | None = None
        self._episode = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self._seed is None:
            self._seed = int(self.np_random.integers(2**31 - 1)) if seed is None else int(seed)
            self._episode = 0
        obs = self.core.reset(self._seed, [self._episode])
        self._episode += 1
        return obs[0], {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = np.asarray(action, dtype=np.float64).reshape(1, self.core.n_nodes)
        obs, reward, cost, truncated = self.core.step(a)
        info = {"cost": float(cost[0].sum()), "node_cost": cost[0].copy()}
        return obs[0], float(reward[0]), False, truncated, info


def serial_env(**kwargs: Any) -> EchelonEnv:
    """``echelon/Serial-v0``: Snyder & Shen Example 6.1."""
    return EchelonEnv(snyder_shen_6_1(), **kwargs)


def lost_sales_env(penalty: float = 9.0, lead_time: int = 4, **kwargs: Any) -> EchelonEnv:
    """``echelon/LostSales-v0``: Zipkin (2008) lost sales, penalty p, Zipkin lead time L."""
    if lead_time < 1 or penalty <= 0:
        raise RLConfigError(
            "Zipkin's instance needs lead_time >= 1 and penalty > 0",
            found=f"lead_time={lead_time}, penalty={penalty}",
            fix="e.g. penalty=9, lead_time=4",
        )
    return EchelonEnv(zipkin_lost_sales(penalty, lead_time), **kwargs)


def network_env(network: Network | str | Path, **kwargs: Any) -> EchelonEnv:
    """``echelon/Network-v0``: any network file or Network object."""
    return EchelonEnv(network, **kwargs)
