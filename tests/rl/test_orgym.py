"""``orgym-serial`` against OR-Gym's own ``InvManagement-v1`` dynamics on a shared demand path.

:class:`OrGymLostSales` is the peer's rule, transcribed from OR-Gym's
``or_gym/envs/supply_chain/inventory_management.py`` (``InvManagementMasterEnv._STEP`` with
``backlog=False``, user-supplied demand; Hubbs et al. 2020) — the package itself is unmaintained
and not a dependency. OR-Gym's period n: every stage orders (capped by its supplier's capacity
and by the supplier's on hand at the start of the period; the rest is lost), shipments placed
``L`` periods ago arrive, retail demand is served, the rest is lost. echelon orders at the end of
period n − 1 what OR-Gym orders at the start of period n, from the same stock, so OR-Gym's order
of period n + 1 is echelon's order of period n, and OR-Gym's lead time L is echelon's L + 1.

Compared per period (units, money per period): on hand and pipeline at the end of echelon's
period n = OR-Gym's at the start of n + 1 once its orders of n + 1 have left the suppliers; units
sold, shipped and lost; and echelon's cost against OR-Gym's profit through the exact relation
``cost = −profit + (2 − 0.5)·demand − 0.5·(raw bought − sold) − internal goodwill + free
pipeline`` (:func:`echelon_cost_from_orgym`): with the retail penalty 1.60 nothing else is left.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.network.io import network_from_dict
from echelon.network.model import Network
from echelon.policies.model import BaseStock, PolicySet
from echelon.rl.classical import PolicyAgent
from echelon.rl.evaluate import evaluate_agents
from echelon.rl.instances import (
    ORGYM_GOODWILL,
    ORGYM_LEAD_TIMES,
    ORGYM_PRICE,
    ORGYM_RAW_COST,
    ORGYM_RETAIL_PENALTY,
    orgym_serial_lost_sales,
)
from echelon.sim import kernel as K
from echelon.sim.step import StepEngine

# InvManagement-v1 defaults (OR-Gym's __init__), stages retailer, distributor, manufacturer, raw
I0 = (100, 100, 200)
PRICE = (ORGYM_PRICE, 1.5, 1.0, 0.75)  # p, then r[:-1]: a stage's cost is its supplier's price
COST = (1.5, 1.0, 0.75, ORGYM_RAW_COST)  # r
GOODWILL = (ORGYM_GOODWILL, 0.075, 0.05, 0.025)  # k
HOLD = (0.15, 0.10, 0.05)  # h
CAPACITY = (100, 90, 80)  # c: capacity of each stage's supplier
STAGES = ("retailer", "distributor", "manufacturer")


class OrGymLostSales:
    """OR-Gym ``InvManagement-v1`` with lost sales, driven by a given demand path.

    Arrays as in OR-Gym: ``I[n]`` / ``T[n]`` on hand / pipeline at the start of period n per
    stage, ``R[n]`` shipments from each stage's supplier, ``S[n]`` units sold per stage (retail
    sales, then each supplier's shipments), ``LS[n]`` unfulfilled demand and orders, ``P[n]``
    the chain's profit of period n discounted by ``alpha**n``.
    """

    def __init__(self, demand: np.ndarray, lead_times: tuple[int, ...], alpha: float = 1.0):
        n = len(demand)
        self.demand = np.asarray(demand, dtype=float)
        self.L = np.asarray(lead_times)
        self.alpha = alpha
        self.I = np.zeros((n + 1, 3))
        self.T = np.zeros((n + 1, 3))
        self.R = np.zeros((n, 3))
        self.S = np.zeros((n, 4))
        self.LS = np.zeros((n, 4))
        self.P = np.zeros(n)
        self.I[0] = I0
        self.period = 0

    def step(self, action: np.ndarray) -> float:
        """OR-Gym's ``_STEP(action)``: one period; returns its profit."""
        R = np.maximum(action, 0).astype(int)
        n = self.period
        I = self.I[n].copy()  # noqa: E741  (OR-Gym's name)
        T = self.T[n].copy()
        c = np.asarray(CAPACITY)
        Im1 = np.append(I[1:], np.inf)  # suppliers' stock before this period's receipts
        Rcopy = R.copy()
        R = np.minimum(R, c)  # OR-Gym: R[R >= c] = c[R >= c]
        R = np.minimum(R, Im1).astype(int)  # OR-Gym: R[R >= Im1] = Im1[R >= Im1]
        self.R[n] = R
        RnL = np.zeros(3)
        for i in range(3):
            if n - self.L[i] >= 0:
                RnL[i] = self.R[n - self.L[i], i]
                I[i] += RnL[i]
        D = self.demand[n]
        S0 = min(I[0], D)
        S = np.append(S0, R)
        self.S[n] = S
        I = I - S[:-1]  # noqa: E741
        T = T - RnL + R
        self.I[n + 1] = I
        self.T[n + 1] = T
        U = np.append(D, Rcopy) - S  # lost sales (backlog=False)
        self.LS[n] = U
        II = np.append(I, 0)
        RR = np.append(R, S[-1])
        h = np.append(HOLD, 0)
        P = self.alpha**n * np.sum(
            np.asarray(PRICE) * S - (np.asarray(COST) * RR + np.asarray(GOODWILL) * U + h * II)
        )
        self.P[n] = P
        self.period += 1
        return float(P)

    def base_stock_action(self, z: np.ndarray) -> np.ndarray:
        """OR-Gym's ``base_stock_action``: order up to echelon levels ``z`` (lost sales: no B)."""
        n = self.period
        IP = np.cumsum(self.I[n] + self.T[n])
        Im1 = np.append(self.I[n, 1:], np.inf)
        return np.minimum(np.minimum(np.asarray(CAPACITY), np.maximum(z - IP, 0)), Im1)


def with_retailer(net: Network, **fields: object) -> Network:
    """``net`` with the retailer's ``fields`` replaced."""
    data = net.model_dump(mode="json", by_alias=True, exclude_none=True)
    for node in data["nodes"]:
        if node["id"] == "retailer":
            node.update(fields)
    return network_from_dict(data, source="test")


def on_path(net: Network, demand: np.ndarray) -> Network:
    """``net`` with the retailer's demand replaced by the one path ``demand``."""
    return with_retailer(net, demand={"kind": "scenarios", "paths": [[float(d) for d in demand]]})


def run_echelon(actions: np.ndarray, demand: np.ndarray) -> dict[str, np.ndarray]:
    """echelon's trace of the instance; period n places OR-Gym's orders of period n + 1.

    Per period and node (columns retailer, distributor, manufacturer): end-of-period on hand,
    in transit into the node, units shipped, lost sales, orders placed (after the capacity), cost
    (the step engine's), pipeline holding cost.
    """
    net = on_path(orgym_serial_lost_sales(), demand)
    n = len(demand)
    eng = StepEngine(net, n, 1)
    col = [eng.ids.index(s) for s in STAGES]
    eng.reset(0)
    keys = {"oh": K.K_OH, "transit": K.K_TRANSIT, "ship": K.K_SHIP, "lost": K.K_LOST,
            "order": K.K_QORD, "pipe": K.K_PIPE}  # fmt: skip
    out = {k: np.zeros((n, 3)) for k in [*keys, "cost"]}
    for t in range(n):
        before = eng.ACC[0].copy()
        orders = np.zeros((1, len(eng.ids)))
        orders[0, col] = actions[t + 1]
        cost = eng.step(orders)[0]
        delta = eng.ACC[0] - before
        for k, idx in keys.items():
            out[k][t] = delta[col, idx]
        out["cost"][t] = cost[col]
    return out


def run_orgym(actions: np.ndarray, demand: np.ndarray) -> OrGymLostSales:
    env = OrGymLostSales(demand, ORGYM_LEAD_TIMES)
    for t in range(len(demand)):
        env.step(actions[t])
    return env


def echelon_cost_from_orgym(env: OrGymLostSales) -> np.ndarray:
    """What echelon's cost of period n is in OR-Gym's terms (n = 0 … N − 2).

    −profit + chain margin × demand − raw cost × (raw bought − sold) − internal goodwill (OR-Gym
    only) + pipeline at the start of n + 1 at the supplier's holding cost (echelon only).
    """
    n = len(env.P) - 1
    S, LS, T = env.S[:n], env.LS[:n], env.T[1 : n + 1]
    margin = ORGYM_PRICE - ORGYM_RAW_COST
    internal_goodwill = LS[:, 1:] @ np.asarray(GOODWILL[1:])
    free_pipeline = T[:, 0] * HOLD[1] + T[:, 1] * HOLD[2]  # into retailer / distributor
    return (
        -env.P[:n]
        + margin * env.demand[:n]
        - ORGYM_RAW_COST * (S[:, 3] - S[:, 0])
        - internal_goodwill
        + free_pipeline
    )


def check_same_trace(actions: np.ndarray, demand: np.ndarray) -> tuple[OrGymLostSales, dict]:
    """Run both on the same orders and demand; assert the traces agree period by period."""
    n = len(demand)
    env = run_orgym(actions, demand)
    ech = run_echelon(actions, demand)
    m = n - 1  # echelon's period n needs OR-Gym's period n + 1
    shipped_next = env.S[1 : m + 1]  # OR-Gym's shipments at the start of n + 1: [sold, R0, R1, R2]
    after = env.I[1 : m + 1].copy()
    after[:, 1:] -= shipped_next[:, 1:3]  # distributor and manufacturer ship them from stock
    np.testing.assert_allclose(ech["oh"][:m], after, atol=1e-9, rtol=0)
    pipeline = env.T[1 : m + 1] + shipped_next[:, 1:]
    np.testing.assert_allclose(ech["transit"][:m], pipeline, atol=1e-9, rtol=0)
    np.testing.assert_allclose(ech["ship"][:m, 0], env.S[:m, 0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(ech["ship"][:m, 1:], shipped_next[:, 1:3], atol=1e-9, rtol=0)
    np.testing.assert_allclose(ech["order"][:m, 2], shipped_next[:, 3], atol=1e-9, rtol=0)
    np.testing.assert_allclose(ech["lost"][:m, 0], env.LS[:m, 0], atol=1e-9, rtol=0)
    # OR-Gym's lost orders = asked − shipped (beyond capacity or beyond the supplier's stock)
    np.testing.assert_allclose(
        actions[1 : m + 1, :2] - ech["ship"][:m, 1:], env.LS[1 : m + 1, 1:3], atol=1e-9, rtol=0
    )
    np.testing.assert_allclose(
        ech["cost"][:m].sum(axis=1), echelon_cost_from_orgym(env), atol=1e-9, rtol=0
    )
    return env, ech


@pytest.fixture(scope="module")
def poisson_path() -> np.ndarray:
    return np.random.default_rng(2020).poisson(20.0, 300).astype(float)


def test_instance_maps_orgym_lead_times_and_chain_margin() -> None:
    net = orgym_serial_lost_sales()
    lt = {n.id: n.lead_time.value for n in net.nodes}
    assert lt == {"retailer": 4.0, "distributor": 6.0, "manufacturer": 11.0}
    assert math.isclose(ORGYM_RETAIL_PENALTY, 1.60)
    assert {n.id: n.capacity for n in net.nodes} == dict(zip(STAGES, CAPACITY, strict=True))


def test_orgym_invmanagement_v1_trace_equal(poisson_path: np.ndarray) -> None:
    """OR-Gym's own base-stock rule on Poisson(20) demand, replayed in echelon."""
    n = len(poisson_path)
    env = OrGymLostSales(poisson_path, ORGYM_LEAD_TIMES)
    z = np.array([70.0, 160.0, 300.0])  # echelon levels; tight enough to lose sales and orders
    actions = np.zeros((n + 1, 3))
    for t in range(n):
        actions[t] = env.base_stock_action(z) if t > 0 else 0.0  # echelon has no period −1
        env.step(actions[t])
    actions[n] = env.base_stock_action(z)
    env2, ech = check_same_trace(actions, poisson_path)
    assert env2.LS[:, 0].sum() > 0 and ech["lost"][:, 0].sum() > 0  # lost sales exercised
    assert ech["pipe"].sum() > 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(5, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 45), min_size=n, max_size=n),
            st.lists(
                st.tuples(st.integers(0, 125), st.integers(0, 115), st.integers(0, 100)),
                min_size=n + 1,
                max_size=n + 1,
            ),
        )
    )
)
def test_orgym_invmanagement_v1_trace_equal_any_orders(case) -> None:
    """Orders beyond the capacity or the supplier's stock, any demand: the same trace."""
    demand, acts = case
    actions = np.asarray(acts, dtype=float)
    actions[0] = 0.0  # OR-Gym's first orders have no echelon counterpart
    check_same_trace(actions, np.asarray(demand, dtype=float))


def test_raw_material_term_is_the_change_in_chain_stock(poisson_path: np.ndarray) -> None:
    """Σ (raw bought − sold) = chain stock at the end − at the start: the long-run terms of
    echelon's cost and OR-Gym's profit differ by a policy-independent demand term only, once
    the pipeline and internal goodwill are set aside."""
    rng = np.random.default_rng(7)
    n = len(poisson_path)
    actions = rng.integers(0, 40, size=(n + 1, 3)).astype(float)
    actions[0] = 0.0
    env = run_orgym(actions, poisson_path)
    bought_less_sold = (env.S[:, 3] - env.S[:, 0]).sum()
    assert bought_less_sold == pytest.approx(env.I[n].sum() + env.T[n].sum() - sum(I0))


def base_stock(levels: tuple[float, float, float], name: str) -> PolicyAgent:
    """Installation base stock at ``levels`` (retailer, distributor, manufacturer; units)."""
    pols = {s: BaseStock(level=lv) for s, lv in zip(STAGES, levels, strict=True)}
    return PolicyAgent(PolicySet(policies=pols), name)


@pytest.mark.parametrize("penalty", [ORGYM_RETAIL_PENALTY, 0.60])
def test_stopping_supply_is_worse_only_with_the_chain_margin(penalty: float) -> None:
    """With 1.60 per lost sale, supplying (simopt's levels 99/113/207, bench/results/rl.md)
    beats losing every sale; with the old 0.60 — below the 0.70 of pipeline holding a unit
    sold carries in echelon (docs/rl.md, "OR-Gym") — losing every sale is cheaper."""
    net = with_retailer(orgym_serial_lost_sales(), penalty_cost=penalty)
    # stop supplying: the manufacturer buys nothing; its stock and the distributor's flow down
    # and are sold during the warm-up, after which every sale is lost
    agents = [base_stock((100, 100, 0), "stop supplying"), base_stock((99, 113, 207), "supply")]
    ev = evaluate_agents(net, agents, periods=400, reps=8, seed=3, warmup=100)
    stop, supply = ev.agents
    assert stop.result.fill_rate.mean == 0.0
    assert stop.cost.mean == pytest.approx(penalty * 20.0, rel=0.02)  # penalty x Poisson(20)
    assert supply.result.fill_rate.mean > 0.9
    delta = supply.delta  # supply − stop, paired, money per period
    assert delta.ci95 is not None
    if penalty == ORGYM_RETAIL_PENALTY:
        assert delta.mean + delta.ci95 < 0
    else:
        assert delta.mean - delta.ci95 > 0
