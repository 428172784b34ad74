"""What every ordering agent offers: orders for a batch of step-engine environments.

An agent (trained RL agent or classical policy) looks at a :class:`~echelon.sim.step.StepEngine`
at a decision epoch (after receipts and this period's demand, docs/model.md) and returns the
order quantities ``[n_envs, n_nodes]`` (units of each node's item, nodes in ``engine.ids``
order). Evaluations drive the step engine with these orders on common random numbers, so every
agent and policy is judged by the same simulator and the same sample paths.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from echelon.sim.step import StepEngine


@runtime_checkable
class OrderAgent(Protocol):
    """Anything that can place orders in a step engine."""

    name: str

    def reset(self, engine: StepEngine) -> None:
        """Called after ``engine.reset(seed)``, before the first decision (clear any memory)."""

    def orders(self, engine: StepEngine) -> np.ndarray:
        """Orders ``[engine.n_envs, len(engine.ids)]`` for the current period."""
        ...


class AgentKind(StrEnum):
    """How a saved agent was made; ``agent.json`` in its folder names it (``"kind"``)."""

    PPO = "ppo"  # stable-baselines3 PPO on the Gymnasium environment (echelon.rl.ppo)
    DPG = "dpg"  # differentiable-simulator policy gradient in torch (echelon.rl.dpg)


# The training entry points (each module owns its config model, a pydantic BaseModel with at
# least ``steps: int`` — environment periods simulated in training, summed over the batch — and
# ``seed: int``):
#
#   echelon.rl.ppo.train_ppo(net: Network, config: PPOConfig, progress: Progress | None) -> PPOAgent
#   echelon.rl.dpg.train_dpg(net: Network, config: DPGConfig, progress: Progress | None) -> DPGAgent
#
# ``progress(steps_done, info)`` is called now and then (``info`` may hold "eval_cost", the cost
# per period of a periodic evaluation). A trained agent is an :class:`OrderAgent` with
# ``save(folder: Path) -> None`` writing ``agent.json`` (kind, network as a dict, config, echelon
# version, anything needed to rebuild it) plus its weights, and a classmethod
# ``load(folder: Path) -> Self``; ``echelon.rl.store.load_agent(folder)`` dispatches on the kind.
Progress = Callable[[int, dict[str, float]], None]
