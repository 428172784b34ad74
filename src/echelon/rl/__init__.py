"""Deep reinforcement learning on the simulation digital twin (Gymnasium, PPO, and a
differentiable-simulator policy gradient), always judged against classical policies.

Importing this package registers the Gymnasium environments ``echelon/Serial-v0``,
``echelon/LostSales-v0`` and ``echelon/Network-v0`` (:mod:`echelon.rl.env`); they are built
lazily by ``gymnasium.make``.
"""

import gymnasium as _gym

_ENVS = {
    "echelon/Serial-v0": "echelon.rl.env:serial_env",
    "echelon/LostSales-v0": "echelon.rl.env:lost_sales_env",
    "echelon/Network-v0": "echelon.rl.env:network_env",
}
for _id, _entry in _ENVS.items():
    if _id not in _gym.registry:
        _gym.register(id=_id, entry_point=_entry)
