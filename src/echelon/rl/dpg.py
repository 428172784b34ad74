"""Differentiable-simulator policy gradient (DPG): train an ordering network by backpropagating
the simulated cost through the torch twin of the simulator (:mod:`echelon.rl.diffsim`).

Each Adam iteration simulates ``batch_size`` sample paths of ``horizon`` periods (fresh common
random numbers: replications ``i·batch_size …`` of ``seed``) with the current policy
(:class:`~echelon.rl.dpg_policy.OrderNet`), takes the mean cost per period after ``warmup``
periods and follows its pathwise gradient (demand draws are fixed per path; gradients flow
through the orders and the max(0, ·) of the inventory dynamics, as in Madeka et al. 2022 and
Alvo, Russo & Kanoria 2023). Every ``eval_every`` iterations the policy is scored on a fixed
validation set of paths; the best one is kept. ``steps`` counts simulated periods summed over
the batch (``iterations = steps // (batch_size · horizon)``).
"""

from __future__ import annotations

import copy
import io
import json
import time
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import echelon
from echelon.errors import InputError
from echelon.fileio import atomic_write_bytes, atomic_write_text
from echelon.network.io import network_from_dict, network_to_dict
from echelon.network.model import Network
from echelon.rl.agent import AgentKind, Progress
from echelon.rl.diffsim import DiffSim
from echelon.rl.dpg_policy import FeatureMap, OrderNet, node_demand_stats
from echelon.sim.step import StepEngine

VALIDATION_REP0 = 1_000_000_000  # validation paths: replications from here on (never trained on)
WEIGHTS_FILE = "policy.pt"


class DPGError(InputError):
    """Bad DPG input: a network without demand, a config, an agent folder."""


class DPGConfig(BaseModel):
    """Training settings (periods and units as in docs/model.md)."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(8_000_000, gt=0, description="simulated periods, summed over the batch")
    seed: int = Field(0, ge=0)
    batch_size: int = Field(128, gt=0, description="sample paths per gradient step")
    horizon: int = Field(160, gt=1, description="periods per rollout, warm-up included")
    warmup: int | None = Field(
        None, ge=0, description="periods not counted in the loss (default 3x echelon lead time)"
    )
    tail: int | None = Field(
        None, ge=0, description="last periods whose decisions get no gradient (default 2x)"
    )
    level_factor: float = Field(
        1.0, gt=0, description="multiplies the starting order-up-to levels (mu·L + sd·√L)"
    )
    learning_rate: float = Field(0.01, gt=0)
    final_lr_fraction: float = Field(0.1, gt=0, le=1, description="cosine decay to lr x this")
    width: int = Field(32, gt=0, description="hidden units of the correction network")
    depth: int = Field(2, ge=1, description="hidden layers of the correction network")
    grad_clip: float = Field(10.0, gt=0)
    eval_every: int = Field(20, gt=0, description="iterations between validation scores")
    eval_batch: int = Field(256, gt=0)
    eval_horizon: int = Field(400, gt=1)
    threads: int = Field(1, gt=0, description="torch CPU threads")

    @model_validator(mode="after")
    def _warmup_fits(self) -> DPGConfig:
        if self.warmup is not None and self.warmup >= min(self.horizon, self.eval_horizon):
            raise ValueError(f"warmup {self.warmup} must be below horizon and eval_horizon")
        return self

    def iterations(self) -> int:
        return max(1, self.steps // (self.batch_size * self.horizon))


def _windows(config: DPGConfig, cum: np.ndarray) -> tuple[int, int]:
    """Warm-up and tail of the training rollouts (periods; defaults from the echelon lead time)."""
    w = config.warmup if config.warmup is not None else int(3 * cum.max())
    tail = config.tail if config.tail is not None else int(2 * cum.max())
    if w + tail >= config.horizon or w >= config.eval_horizon:
        raise DPGError(
            "the training horizon leaves no period to learn from",
            field="horizon",
            expected=f"more than warmup + tail = {w} + {tail} periods (and eval_horizon > {w})",
            found=f"horizon {config.horizon}, eval_horizon {config.eval_horizon}",
            fix="raise horizon / eval_horizon or lower warmup / tail",
        )
    return w, tail


def rollout_cost(
    sim: DiffSim,
    fmap: FeatureMap,
    policy: OrderNet,
    demand: np.ndarray,
    warmup: int,
    tail: int = 0,
) -> torch.Tensor:
    """Mean network cost per period after ``warmup`` of every path ``[B]`` (differentiable).

    Only the decisions of periods ``warmup <= t < T - tail`` pass gradients to the policy's
    parameters (the others use detached copies, still differentiable in the state): their
    consequences are counted in full, not cut by the warm-up or the end of the horizon.
    """
    st = sim.reset(demand)
    total = torch.zeros(demand.shape[0], dtype=torch.float64)
    T = demand.shape[1]
    frozen = {k: v.detach() for k, v in policy.state_dict(keep_vars=True).items()}
    for t in range(T):
        feats = fmap.from_sim(sim, st)
        if warmup <= t < T - tail:
            q = policy(feats)
        else:
            q = torch.func.functional_call(policy, frozen, (feats,))
        cost = sim.step(st, q)
        if t >= warmup:
            total = total + cost.sum(dim=1)
    return total / (T - warmup)


def _feature_stats(
    sim: DiffSim, fmap: FeatureMap, policy: OrderNet, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (floor 1e-3 of the scale) of the features along paths of ``policy``."""
    st = sim.reset(demand)
    rows = []
    with torch.no_grad():
        for _t in range(demand.shape[1]):
            f = fmap.from_sim(sim, st)
            rows.append(f)
            sim.step(st, policy(f))
    x = torch.cat(rows).numpy()
    return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-3 * max(1.0, np.abs(x).mean()))


def _build(
    net: Network, config: DPGConfig
) -> tuple[DiffSim, FeatureMap, OrderNet, tuple[int, int]]:
    sim = DiffSim(net)
    if not any(node.demand is not None for node in net.nodes):
        raise DPGError("the network has no external demand", source=net.name, fix="add demand")
    fmap = FeatureMap(sim)
    mu, sd, cum = node_demand_stats(net, sim)
    scale = np.maximum(mu, 1e-6)
    level0 = config.level_factor * (mu * cum + sd * np.sqrt(cum))
    cap0 = mu + 4.0 * sd + 1e-6
    n = sim.n
    policy = OrderNet(
        fmap.size, scale, level0, cap0, config.width, config.depth,
        np.zeros(fmap.size), np.ones(fmap.size), (3 * n, 4 * n),
    )  # fmt: skip
    return sim, fmap, policy, _windows(config, cum)


def train_dpg(net: Network, config: DPGConfig, progress: Progress | None = None) -> DPGAgent:
    """Train a DPG agent on ``net`` (module docstring); raises ``DiffSimUnsupportedError`` for
    networks the differentiable simulator does not model."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    sim, fmap, policy, (warmup, tail) = _build(net, config)
    B, T = config.batch_size, config.horizon
    val_reps = list(range(VALIDATION_REP0, VALIDATION_REP0 + config.eval_batch))
    val_demand = sim.draws_of(config.seed, val_reps, config.eval_horizon).demand
    fm, fs = _feature_stats(sim, fmap, policy, val_demand)
    policy.feat_mean.copy_(torch.as_tensor(fm))
    policy.feat_std.copy_(torch.as_tensor(fs))

    def validate() -> float:
        with torch.no_grad():
            return float(rollout_cost(sim, fmap, policy, val_demand, warmup).mean())

    iters = config.iterations()
    opt = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=iters, eta_min=config.learning_rate * config.final_lr_fraction
    )
    best_cost = validate()
    best = copy.deepcopy(policy.state_dict())
    history: list[dict[str, float]] = [{"iteration": 0, "eval_cost": best_cost}]
    for it in range(iters):
        demand = sim.draws_of(config.seed, list(range(it * B, (it + 1) * B)), T).demand
        loss = rollout_cost(sim, fmap, policy, demand, warmup, tail).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
        opt.step()
        sched.step()
        if (it + 1) % config.eval_every == 0 or it + 1 == iters:
            cost = validate()
            history.append({"iteration": it + 1, "eval_cost": cost, "train_cost": loss.item()})
            if cost < best_cost:
                best_cost = cost
                best = copy.deepcopy(policy.state_dict())
            if progress is not None:
                progress((it + 1) * B * T, {"eval_cost": cost, "train_cost": loss.item()})
    policy.load_state_dict(best)
    info = {
        "iterations": iters,
        "warmup": warmup,
        "tail": tail,
        "best_eval_cost": best_cost,
        "train_seconds": time.perf_counter() - t0,
        "history": history,
    }
    return DPGAgent(net, config, policy, info)


class DPGAgent:
    """A trained DPG policy, acting in step engines (:class:`echelon.rl.agent.OrderAgent`)."""

    kind = AgentKind.DPG

    def __init__(
        self, net: Network, config: DPGConfig, policy: OrderNet, info: dict[str, Any]
    ) -> None:
        self.net = net
        self.config = config
        self.policy = policy
        self.info = info
        self.name = f"dpg-{net.name}"
        self._sim = DiffSim(net)
        self._fmap = FeatureMap(self._sim)

    def reset(self, engine: StepEngine) -> None:
        if engine.ids != self._sim.ids:
            raise DPGError(
                "the agent was trained on another network",
                where=self.name,
                expected=f"nodes {self._sim.ids}",
                found=f"nodes {engine.ids}",
                fix="evaluate the agent on the network it was trained on",
            )

    def orders(self, engine: StepEngine) -> np.ndarray:
        """Orders ``[n_envs, n_nodes]`` (units, nodes in ``engine.ids`` order)."""
        with torch.no_grad():
            return self.policy(self._fmap.from_engine(engine)).numpy().copy()

    def sim_orders(self, sim: DiffSim, st: Any) -> torch.Tensor:
        """The same orders from a :class:`DiffSim` state (the features of training)."""
        return self.policy(self._fmap.from_sim(sim, st))

    # ----------------------------------------------------------------- persistence
    def save(self, folder: Path) -> None:
        """``agent.json`` (kind, network, config, architecture, training info) + weights."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(self.policy.state_dict(), buf)
        atomic_write_bytes(folder / WEIGHTS_FILE, buf.getvalue())
        p = self.policy
        meta = {
            "kind": AgentKind.DPG.value,
            "echelon_version": echelon.__version__,
            "name": self.name,
            "network": network_to_dict(self.net),
            "config": self.config.model_dump(mode="json"),
            "architecture": {
                "n_features": self._fmap.size,
                "n_nodes": self._sim.n,
                "eip_slice": list(p.eip_slice),
            },
            "feature_scaling": {"mean": p.feat_mean.tolist(), "std": p.feat_std.tolist()},
            "node_scale": p.scale.tolist(),
            "policy": p.describe(),
            "weights": WEIGHTS_FILE,
            "info": self.info,
        }
        atomic_write_text(folder / "agent.json", json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Rebuild an agent written by :meth:`save`: the network from ``agent.json``, the
        weights from its ``"weights"`` file — a file inside ``folder`` only, read with
        ``torch.load(weights_only=True)`` (nothing is unpickled; echelon.rl.store)."""
        from echelon.rl.store import AgentStoreError, read_agent_meta, read_state_dict

        folder = Path(folder)
        src = str(folder / "agent.json")
        try:
            meta = read_agent_meta(folder)
        except AgentStoreError as exc:
            raise DPGError(
                "cannot read the DPG agent", source=exc.source, found=exc.message,
                expected=exc.expected, fix=exc.fix,
            ) from None  # fmt: skip
        try:
            if meta.get("kind") != AgentKind.DPG.value:
                raise DPGError(
                    "not a DPG agent", source=src, field="kind", expected="'dpg'",
                    found=repr(meta.get("kind")), fix="load it with echelon.rl.store.load_agent",
                )  # fmt: skip
            net = network_from_dict(meta["network"], source=src)
            config = DPGConfig.model_validate(meta["config"])
            arch = meta["architecture"]
            n, nf = int(arch["n_nodes"]), int(arch["n_features"])
            s0, s1 = (int(x) for x in arch["eip_slice"])
            weights = meta["weights"]
        except (OSError, KeyError, TypeError, ValueError, ValidationError) as exc:
            raise DPGError(
                "cannot read the DPG agent", source=src,
                found=f"{type(exc).__name__}: {str(exc).splitlines()[0][:100] if str(exc) else ''}",
                fix="point to a folder written by DPGAgent.save",
            ) from None  # fmt: skip
        state = read_state_dict(folder, weights, src)
        _check_shapes(state, n, nf, config, src)
        policy = OrderNet(
            nf, np.ones(n), np.ones(n), np.ones(n), config.width, config.depth,
            np.zeros(nf), np.ones(nf), (s0, s1),
        )  # fmt: skip
        policy.load_state_dict(state)
        return cls(net, config, policy, meta.get("info", {}))


def _check_shapes(state: dict[str, Any], n: int, nf: int, config: DPGConfig, src: str) -> None:
    """The weights have exactly the names and shapes of an OrderNet for ``agent.json`` (so a
    tampered width or depth cannot make the loader allocate more than the weights file holds)."""
    expected: dict[str, tuple[int, ...]] = {
        "scale": (n,), "feat_mean": (nf,), "feat_std": (nf,), "level": (n,), "cap": (n,),
    }  # fmt: skip
    d = nf
    for i in range(config.depth):
        expected[f"mlp.{2 * i}.weight"] = (config.width, d)
        expected[f"mlp.{2 * i}.bias"] = (config.width,)
        d = config.width
    expected[f"mlp.{2 * config.depth}.weight"] = (n, d)
    expected[f"mlp.{2 * config.depth}.bias"] = (n,)
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        raise DPGError(
            "the weights do not match the architecture in agent.json", source=src,
            expected=f"an OrderNet of {n} nodes, {nf} features, {config.depth}x{config.width}",
            found=f"{len(found)} tensors of other names or shapes", fix="re-train the agent",
        )  # fmt: skip
