"""The spread factor k per demand class × ABC segment
(:func:`echelon.plan.ltd_error.loo_spread` with ``segments``): segments with different
out-of-sample spreads get their own k, a segment with too few scores takes its class's, and
without segments nothing changes."""

from __future__ import annotations

import numpy as np
import pytest

from echelon.plan import ltd_error
from echelon.plan.ltd_error import pooled_models
from echelon.plan.ltd_spread import solve_spread


def _level(series: int, origins: int, seed: int, prefix: str) -> dict[str, np.ndarray]:
    """Error paths with a per-origin level miss of std 3 on noise of std 1 (k > 1)."""
    rng = np.random.default_rng(seed)
    return {
        f"{prefix}{i}": rng.normal(0.0, 3.0, size=(origins, 1))
        + rng.normal(0.0, 1.0, size=(origins, 8))
        for i in range(series)
    }


def _iid(series: int, origins: int, seed: int, prefix: str) -> dict[str, np.ndarray]:
    """I.i.d. normal error paths over many origins (k ≈ 1)."""
    rng = np.random.default_rng(seed)
    return {f"{prefix}{i}": rng.normal(0.0, 1.0, size=(origins, 8)) for i in range(series)}


def test_segments_of_one_class_get_their_own_spread() -> None:
    paths = {**_level(300, 6, 2, "a"), **_iid(300, 40, 3, "c")}
    groups = {u: "smooth" for u in paths}
    segments = {u: u[0].upper() for u in paths}
    apart = pooled_models(paths, groups, segments)
    shared = pooled_models(paths, groups)
    k_a, k_c = apart["a0"].spread, apart["c0"].spread
    assert k_a > 1.2
    assert 1.0 <= k_c < 1.05
    # one factor for the class is the many-origin segment's: the level misses stay narrow
    assert k_c <= shared["a0"].spread == shared["c0"].spread < k_a - 0.1
    assert {m.spread for u, m in apart.items() if u[0] == "a"} == {k_a}


def test_a_segment_with_too_few_scores_takes_its_class_factor() -> None:
    # 2 series × 6 origins = 12 scores < MIN_LOO_SCORES in segment C: the class's k, which is
    # the k of the class without segments (the same scores and claims)
    paths = {**_level(300, 6, 2, "a"), **_level(2, 6, 7, "c")}
    groups = {u: "smooth" for u in paths}
    segments = {u: u[0].upper() for u in paths}
    assert ltd_error.MIN_LOO_SCORES > 2 * 6
    apart = pooled_models(paths, groups, segments)
    shared = pooled_models(paths, groups)
    assert apart["c0"].spread == pytest.approx(shared["c0"].spread, rel=1e-9)
    assert apart["a0"].spread != apart["c0"].spread


def test_a_class_with_too_few_scores_falls_back_to_all_series() -> None:
    paths = {**_level(300, 6, 2, "a"), **_iid(2, 6, 7, "c")}
    groups = {u: ("lumpy" if u[0] == "c" else "smooth") for u in paths}
    segments = {u: "C" for u in paths}
    apart = pooled_models(paths, groups, segments)
    plain = pooled_models(paths, groups)  # the lumpy class alone has too few: all series' k
    assert apart["c0"].spread == pytest.approx(plain["c0"].spread, rel=1e-9)


def test_one_segment_everywhere_is_the_class_factor_exactly() -> None:
    paths = {**_level(100, 6, 2, "a"), **_iid(100, 12, 3, "c")}
    groups = {u: ("lumpy" if u[0] == "c" else "smooth") for u in paths}
    plain = pooled_models(paths, groups)
    one = pooled_models(paths, groups, dict.fromkeys(paths, "A"))
    for u, m in plain.items():
        assert one[u].spread == pytest.approx(m.spread, rel=1e-12)
        np.testing.assert_allclose(one[u].curve, m.curve, rtol=1e-12)


def test_an_over_dispersed_model_is_narrowed_only_below_one_when_allowed() -> None:
    # held-out errors at half the claimed spread: z = x / 2 with the claim the shortage of x
    x = np.random.default_rng(4).normal(size=20000)
    safety = ltd_error.LOO_SAFETY
    claimed = np.maximum(0.0, x[:, None] - safety).sum(axis=0)[None]
    codes = np.zeros(len(x), dtype=np.int64)
    (k,) = solve_spread(x / 2.0, codes, claimed, safety, (0.3, 2.0), False)
    assert k == pytest.approx(0.5, rel=1e-6)
    (k1,) = solve_spread(x / 2.0, codes, claimed, safety, (1.0, 2.0), False)
    assert k1 == 1.0
    (k2,) = solve_spread(x * 3.0, codes, claimed, safety, (0.3, 2.0), False)
    assert k2 == 2.0
