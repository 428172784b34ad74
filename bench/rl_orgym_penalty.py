"""Is "stop supplying" the best policy of ``orgym-serial``? The retail penalty 1.60 vs 0.60.

Run from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python bench/rl_orgym_penalty.py

For the retail lost-sale penalty 1.60 (the instance: OR-Gym's chain margin 2 − 0.5 plus
goodwill 0.10) and the old 0.60 (the retailer's own margin 2 − 1.5 plus goodwill), on the
correctly mapped network (lead times 4/6/11): finds the simulation-optimized base stock
(``simopt_base_stock``, the same search as bench/rl.py: 2,000 periods × 40 reps, seed 12346,
400 evaluations at most), then evaluates it, the other penalty's optimum and "stop supplying"
(levels 100 / 100 / 0: the manufacturer buys nothing, the initial stock flows down and is sold
in the warm-up) on bench/rl.py's evaluation paths (100 × 1,000 periods after a warm-up of 100,
seed 12345).
Prints cost per period (money, mean ± 95% CI) and fill rate; writes nothing.
"""

from __future__ import annotations

import time

from echelon.network.io import network_from_dict
from echelon.network.model import Network
from echelon.policies.model import BaseStock, PolicySet
from echelon.rl.agent import OrderAgent
from echelon.rl.classical import PolicyAgent, simopt_base_stock
from echelon.rl.evaluate import evaluate_agents
from echelon.rl.instances import ORGYM_RETAIL_PENALTY, orgym_serial_lost_sales

OLD_PENALTY = 0.60  # before issue 17: the retailer's own margin 2 - 1.5 plus goodwill 0.10
STOP_LEVELS = {"retailer": 100.0, "distributor": 100.0, "manufacturer": 0.0}  # units


def with_penalty(penalty: float) -> Network:
    """``orgym-serial`` with the retailer's lost-sale penalty set to ``penalty`` (per unit)."""
    data = orgym_serial_lost_sales().model_dump(mode="json", by_alias=True, exclude_none=True)
    for node in data["nodes"]:
        if node["id"] == "retailer":
            node["penalty_cost"] = penalty
    return network_from_dict(data, source="bench/rl_orgym_penalty.py")


def main() -> None:
    penalties = (ORGYM_RETAIL_PENALTY, OLD_PENALTY)
    nets = {p: with_penalty(p) for p in penalties}
    optima: dict[float, PolicyAgent] = {}
    for p, net in nets.items():
        t0 = time.process_time()
        pol, _, _ = simopt_base_stock(net, periods=2000, reps=40, seed=12346, max_evaluations=400)
        levels = {k: getattr(v, "level", None) for k, v in pol.policies.items()}
        optima[p] = PolicyAgent(pol, f"simopt optimum at penalty {p:.2f}")
        print(f"penalty {p:.2f}: simopt levels {levels} ({time.process_time() - t0:.1f} s CPU)")
    stop = PolicySet(policies={k: BaseStock(level=v) for k, v in STOP_LEVELS.items()})
    for p, net in nets.items():
        agents: list[OrderAgent] = [*optima.values(), PolicyAgent(stop, "stop supplying")]
        ev = evaluate_agents(net, agents, periods=1000, reps=100, seed=12345, warmup=100)
        print(f"evaluated at penalty {p:.2f} (100 x 1,000 periods, seed 12345):")
        for r in ev.agents:
            print(f"  {r.name}: cost {r.cost.mean:.3f} ± {r.cost.ci95:.3f}, "
                  f"fill rate {r.result.fill_rate.mean:.2%}")  # fmt: skip


if __name__ == "__main__":
    main()
