"""The Gymnasium environments: API conformance, and trajectories that are the step engine's."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import echelon.rl  # noqa: F401  (registers the environments)
from echelon.errors import InputError
from echelon.examples import example_path
from echelon.policies.io import load_policy
from echelon.rl.env import EchelonEnv, EnvCore, RLConfigError, anchor_policy
from echelon.rl.instances import orgym_serial_lost_sales, snyder_shen_6_1, zipkin_lost_sales
from echelon.rl.observe import EnvConfig, anchor_kernel_net, anchor_orders
from echelon.rl.vector import EchelonVecEnv, EchelonVectorEnv
from echelon.sim import kernel as K
from echelon.sim.batch import simulate, trace_replication
from echelon.sim.draws import make_draws
from echelon.sim.step import StepEngine

EX61 = snyder_shen_6_1()
EX61_OPTIMAL_COST = 47.67  # Snyder & Shen (2019) Example 6.1, per period


@pytest.fixture(scope="module")
def ex61_anchor():
    return anchor_policy(EX61)


def _check(env: gym.Env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box observation spaces are intended
        check_env(env)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("echelon/Serial-v0", {}),
        ("echelon/Serial-v0", {"action": "raw", "reward": "service", "forecast": True}),
        ("echelon/LostSales-v0", {"penalty": 39.0, "lead_time": 4}),
        ("echelon/LostSales-v0", {"penalty": 9.0, "lead_time": 1, "anchor": "single-echelon"}),
        ("echelon/Network-v0", {"network": str(example_path("snyder_shen_6_1.yaml"))}),
        ("echelon/Network-v0", {"network": orgym_serial_lost_sales(), "anchor": "single-echelon"}),
        ("echelon/Network-v0", {"network": str(example_path("distribution.yaml"))}),
    ],
)
def test_registered_env_passes_gymnasium_env_checker(env_id, kwargs):
    env = gym.make(env_id, episode_periods=20, **kwargs)
    _check(env.unwrapped)
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)


def test_ex61_anchor_is_the_clark_scarf_policy_of_the_example(ex61_anchor):
    published = load_policy(example_path("snyder_shen_6_1.policy.yaml"))
    for nid, pol in published.policies.items():
        assert ex61_anchor.policies[nid].params()[0] == pytest.approx(pol.params()[0], abs=0.01)


def test_lost_sales_anchor_is_the_simulation_optimized_base_stock():
    """Zipkin p = 9, L = 4: the 95 % single-echelon level (33.2) costs about 9.1 per period,
    the best base-stock level (28) about 7.3; the anchor must find the latter's neighbourhood."""
    net = zipkin_lost_sales(9.0, 4)
    anchor = anchor_policy(net)
    assert anchor.method == "simopt"
    heuristic = anchor_policy(net, "single-echelon")
    cost = simulate(net, anchor, periods=500, reps=20, seed=3, warmup=50).cost_per_period.mean
    base = simulate(net, heuristic, periods=500, reps=20, seed=3, warmup=50).cost_per_period.mean
    assert cost < 0.9 * base


def test_zero_adjustment_reproduces_anchor_policy_bit_for_bit(ex61_anchor):
    T, seed, reps = 60, 7, 4
    venv = EchelonVecEnv(EX61, EnvConfig(episode_periods=T), reps, seed=seed, policy=ex61_anchor)
    venv.reset()
    ref = StepEngine(EX61, T + 1, reps, policy=ex61_anchor)
    ref.reset(seed)
    env_costs, ref_costs = [], []
    for _ in range(T):
        engine = venv.core.engine
        assert np.array_equal(anchor_orders(engine, venv.core.anchor_net), ref.policy_orders())
        _, _, _, infos = venv.step(np.zeros((reps, 3)))
        env_costs.append([i["cost"] for i in infos])
        ref_costs.append(ref.step(ref.policy_orders()).sum(axis=1))
    assert np.array_equal(np.array(env_costs), np.array(ref_costs))
    # ... and the batch engine's trajectory (same draws), period by period and node by node
    cn = ref.cn
    draws = make_draws(cn, EX61, seed, range(reps), T + 1)
    for r in range(reps):
        trace = trace_replication(cn, draws, r)[:T, :, K.T_COST].sum(axis=1)
        assert np.array_equal(trace, np.array(env_costs)[:, r])
    sim = simulate(EX61, ex61_anchor, periods=T, reps=reps, seed=seed)
    assert np.array(env_costs).mean() == pytest.approx(sim.cost_per_period.mean, rel=1e-12)


def test_single_env_episode_k_is_replication_k_of_the_seed(ex61_anchor):
    T, seed = 15, 11
    env = EchelonEnv(EX61, policy=ex61_anchor, episode_periods=T)
    ref = StepEngine(EX61, T + 1, 2, policy=ex61_anchor)
    ref.reset(seed)
    costs = np.zeros((2, T))
    ref_costs = np.zeros((2, T))
    for k in range(2):
        env.reset(seed=seed) if k == 0 else env.reset()
        for t in range(T):
            _, _, terminated, truncated, info = env.step(np.zeros(3, dtype=np.float32))
            costs[k, t] = info["cost"]
            assert not terminated and truncated == (t == T - 1)
    for t in range(T):
        ref_costs[:, t] = ref.step(ref.policy_orders()).sum(axis=1)
    assert np.array_equal(costs, ref_costs)


def test_anchor_orders_do_not_depend_on_the_engines_own_policy(ex61_anchor):
    bare = StepEngine(EX61, 30, 3)  # no policy: the evaluator's engine may carry none
    ref = StepEngine(EX61, 30, 3, policy=ex61_anchor)
    bare.reset(5)
    ref.reset(5)
    kn = anchor_kernel_net(bare, ex61_anchor)
    for _ in range(10):
        # the two engines start differently (no policy: empty); drive them with the same orders
        q = ref.policy_orders()
        assert np.array_equal(anchor_orders(ref, anchor_kernel_net(ref, ex61_anchor)), q)
        orders = anchor_orders(bare, kn)
        assert np.all(orders >= 0)
        bare.step(orders)
        ref.step(q)
    assert np.array_equal(anchor_orders(bare, kn), anchor_orders(bare, kn))


def test_ex61_anchor_env_cost_matches_the_published_optimum(ex61_anchor):
    venv = EchelonVecEnv(EX61, EnvConfig(episode_periods=400), 64, seed=2, policy=ex61_anchor)
    venv.reset()
    costs = []
    for t in range(400):
        _, _, dones, infos = venv.step(np.zeros((64, 3)))
        if t >= 50:  # warm-up
            costs.append([i["cost"] for i in infos])
    assert dones.all()
    assert np.mean(costs) == pytest.approx(EX61_OPTIMAL_COST, rel=0.02)


def test_vector_env_truncates_all_envs_together_and_resets(ex61_anchor):
    venv = EchelonVecEnv(EX61, EnvConfig(episode_periods=5), 3, seed=1, policy=ex61_anchor)
    first = venv.reset()
    for t in range(5):
        obs, _, dones, infos = venv.step(np.zeros((3, 3)))
        assert dones.all() == (t == 4)
    assert all(i["TimeLimit.truncated"] for i in infos)
    assert infos[0]["terminal_observation"].shape == first.shape[1:]
    assert not np.array_equal(obs, first)  # episode 2 runs replications 3..5
    assert venv.core.engine.t == 0


@settings(max_examples=25, deadline=None)
@given(
    action=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    mode=st.sampled_from(["anchor", "raw"]),
)
def test_orders_stay_in_the_action_space_bounds(ex61_anchor, action, mode):
    core = EnvCore(EX61, EnvConfig(action=mode, episode_periods=3), 1, ex61_anchor)
    core.reset(0, [0])
    a = np.array([action])
    q = core.orders(a)
    assert np.all(q >= 0)
    if mode == "raw":
        assert np.all(q <= core.action_map.max_order + 1e-12)
    else:
        anchor = anchor_orders(core.engine, core.anchor_net)
        assert np.all(np.abs(q - anchor) <= core.action_map.width + 1e-12)


def test_raw_orders_respect_capacities():
    core = EnvCore(
        orgym_serial_lost_sales(),
        EnvConfig(action="raw", anchor="single-echelon", episode_periods=3),
        2,
    )
    core.reset(0, [0, 1])
    q = core.orders(np.ones((2, 3)))
    caps = {"retailer": 100.0, "distributor": 90.0, "manufacturer": 80.0}
    assert np.array_equal(q[0], [caps[i] for i in core.engine.ids])
    assert np.array_equal(core.orders(-np.ones((2, 3))), np.zeros((2, 3)))


def test_service_reward_adds_a_dominant_penalty_only_while_fill_rate_target_is_missed(
    ex61_anchor,
):
    cfg = EnvConfig(reward="service", fill_rate_target=0.99, episode_periods=40)
    core = EnvCore(EX61, cfg, 8, ex61_anchor)
    core.reset(3, list(range(8)))
    seen_missed = seen_met = False
    for _ in range(40):
        action = np.full((8, 3), -1.0)  # order little: service collapses
        action[:4] = 0.0  # the anchor policy: service about 99 %
        _, reward, cost, _ = core.step(action)
        acc = core.engine.ACC[:, core.engine.cn.demand_nodes[0]]
        rate = acc[:, K.K_EXTFILL] / acc[:, K.K_EXTDEM]
        plain = -core.reward.scale * cost.sum(axis=1)
        missed = rate < 0.99
        assert np.all(reward[~missed] == plain[~missed])
        assert np.all(reward[missed] <= plain[missed])
        seen_missed |= bool(missed.any())
        seen_met |= bool((~missed).any())
    assert seen_missed and seen_met


def test_observation_is_normalized_by_mean_demand(ex61_anchor):
    core = EnvCore(EX61, EnvConfig(episode_periods=3), 1, ex61_anchor)
    obs = core.reset(0, [0])
    n = 3
    on_hand = core.engine.on_hand[0] / 5.0  # every stage supplies N(5, 1) per period
    assert np.allclose(obs[0, :n], on_hand)
    assert obs.shape == (1, core.observer.dim)


def test_bad_environment_settings_raise_input_errors():
    with pytest.raises(RLConfigError):
        EchelonEnv(EX61, no_such_setting=1)
    with pytest.raises(InputError):
        EchelonEnv(EX61, adjust_scale=-1.0)
    with pytest.raises(InputError):
        EchelonEnv(42)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        gym.make("echelon/LostSales-v0", lead_time=0)


def test_gymnasium_vector_env_runs_the_same_batch_as_the_sb3_vec_env(ex61_anchor):
    cfg = EnvConfig(episode_periods=6)
    genv = EchelonVectorEnv(EX61, cfg, 4, policy=ex61_anchor)
    venv = EchelonVecEnv(EX61, cfg, 4, seed=8, policy=ex61_anchor)
    obs, _ = genv.reset(seed=8)
    assert np.array_equal(obs, venv.reset())
    assert genv.observation_space.contains(obs)
    rng = np.random.default_rng(0)
    for t in range(12):
        action = rng.uniform(-1, 1, (4, 3)).astype(np.float32)
        obs, reward, terminated, truncated, info = genv.step(action)
        vobs, vreward, dones, _ = venv.step(action)
        assert np.array_equal(obs, vobs) and np.allclose(reward, vreward)
        assert not terminated.any() and np.array_equal(truncated, dones)
        assert ("final_obs" in info) == (t % 6 == 5)
