"""Sample paths of fitted AutoETS models, simulated in numba, equal to statsforecast's.

``StatsForecast(models=[AutoETS(...)]).simulate(df, h, n_paths, seed=seed,
error_distribution="bootstrap")`` fits each series and then, per path, draws ``h``
bootstrapped residuals and runs the ETS state recursion one step at a time in Python
(statsforecast 2.1: ``ets.simulate_ets`` → ``etssimulate``, ≈ 80 µs per path). This module
gives the same numbers (bit for bit; ``tests/forecast/test_forecast_ets_paths.py``) with the
recursion and the residual draws in one numba kernel over all series and paths:

- per-series seeds as statsforecast draws them: ``np.random.seed(seed)``, then
  ``np.random.randint(0, 2**31, size=n_series)`` over the series sorted by id;
- each series is fitted with statsforecast's own ``ets_f`` (the AutoETS model selection);
- the residual draws of series ``i`` come from ``PCG64(seeds[i])``: NumPy's
  ``Generator.choice(residuals, h)`` takes, per value, a 32-bit half of a raw 64-bit output
  (low half first, the bit generator keeps the other half for the next call) and maps it to
  an index by Lemire's multiply-shift with rejection; the kernel replays that on the raw
  outputs (``PCG64.random_raw``), for all ``n_paths`` × ``h`` draws of the series in order;
- the recursion (one-step forecast, observation with additive or multiplicative error, state
  update of level, growth and season) is the ETS state-space update of statsforecast's C++
  core, in the same floating-point operations.

Units: demand per period, as the history given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit
from statsforecast.ets import ets_f, simulate_ets
from statsforecast.models import AutoETS

NOTHING, ADDITIVE, MULTIPLICATIVE = 0, 1, 2
COMPONENT = {"N": NOTHING, "A": ADDITIVE, "M": MULTIPLICATIVE}
NA = -99999.0  # statsforecast's "not available" forecast
TOL = 1e-10
HUGE = 1e10
MAX_SEASON = 24  # statsforecast simulates no seasonal state longer than this (zeros instead)


def series_seeds(seed: int, n_series: int) -> np.ndarray:
    """The per-series seeds statsforecast derives from ``seed`` (sets NumPy's global state,
    as statsforecast does)."""
    np.random.seed(seed)
    return np.random.randint(0, 2**31, size=n_series)


@njit(cache=True)
def _draw_index(words: np.ndarray, pos: np.ndarray, n: int) -> int:
    """One ``Generator.integers(0, n)`` draw from the raw 64-bit outputs ``words``; ``pos[0]``
    counts the 32-bit halves used so far (−1 in ``pos[1]`` when ``words`` ran out). A half
    times ``n`` < 2³¹ fits in 63 bits: the arithmetic is exact in int64."""
    if n == 1:
        return 0
    mask = np.int64(0xFFFFFFFF)
    threshold = (mask - (n - 1)) % n
    first = True
    m = np.int64(0)
    while first or (m & mask) < threshold:
        k = pos[0]
        if k // 2 >= len(words):
            pos[1] = -1
            return 0
        w = words[k // 2]
        half = np.int64(w & np.uint64(0xFFFFFFFF)) if k % 2 == 0 else np.int64(w >> np.uint64(32))
        pos[0] = k + 1
        m = half * n
        if first and (m & mask) >= n:
            break
        first = False
    return int(m >> 32)


@njit(cache=True)
def _simulate_kernel(
    state: np.ndarray,
    comp: np.ndarray,
    par: np.ndarray,
    m_season: np.ndarray,
    res_vals: np.ndarray,
    res_start: np.ndarray,
    res_count: np.ndarray,
    words: np.ndarray,
    word_start: np.ndarray,
    word_count: np.ndarray,
    n_paths: int,
    h: int,
    out: np.ndarray,
    ok: np.ndarray,
) -> None:
    """Paths ``out`` (n, n_paths, h) of every series; ``ok[i]`` False where the raw outputs
    of series ``i`` ran out (the caller draws more)."""
    n = state.shape[0]
    s = np.zeros(MAX_SEASON)
    olds = np.zeros(MAX_SEASON)
    pos = np.zeros(2, np.int64)
    for i in range(n):
        error, trend, season = comp[i, 0], comp[i, 1], comp[i, 2]
        alpha, beta, gamma, phi = par[i, 0], par[i, 1], par[i, 2], par[i, 3]
        m = m_season[i]
        w = words[word_start[i] : word_start[i] + word_count[i]]
        res = res_vals[res_start[i] : res_start[i] + res_count[i]]
        pos[0] = 0
        pos[1] = 0
        skip = m > MAX_SEASON and season != NOTHING
        if m < 1:
            m = 1
        has_trend = trend != NOTHING
        for p in range(n_paths):
            e = np.empty(h)
            for t in range(h):
                e[t] = res[_draw_index(w, pos, res_count[i])]
            if pos[1] < 0:
                ok[i] = False
                break
            y = out[i, p]
            y[:] = 0.0
            if skip:
                continue
            lvl = state[i, 0]
            b = state[i, 1] if has_trend else 0.0
            oldb = 0.0
            if season != NOTHING:
                for j in range(m):
                    s[j] = state[i, int(has_trend) + j + 1]
            for t in range(h):
                oldl = lvl
                if has_trend:
                    oldb = b
                if season != NOTHING:
                    for j in range(m):
                        olds[j] = s[j]
                # one-step forecast (statsforecast's Forecast with h = 1: phistar = phi)
                if trend == NOTHING:
                    f0 = oldl
                elif trend == ADDITIVE:
                    f0 = oldl + phi * oldb
                elif oldb < 0:
                    f0 = np.nan
                else:
                    f0 = oldl * math.pow(oldb, phi)
                if season == ADDITIVE:
                    f0 += olds[m - 1]
                elif season == MULTIPLICATIVE:
                    f0 *= olds[m - 1]
                if math.fabs(f0 - NA) < TOL:
                    y[0] = NA
                    break
                if error == ADDITIVE:
                    y[t] = f0 + e[t]
                else:
                    y[t] = f0 * (1.0 + e[t])
                lvl, b = _update(
                    s, oldl, oldb, olds, m, trend, season, alpha, beta, gamma, phi, y[t], b
                )
        ok[i] = ok[i] and pos[1] == 0


@njit(cache=True)
def _update(
    s: np.ndarray,
    oldl: float,
    oldb: float,
    olds: np.ndarray,
    m: int,
    trend: int,
    season: int,
    alpha: float,
    beta: float,
    gamma: float,
    phi: float,
    y: float,
    b: float,
) -> tuple[float, float]:
    """The ETS state update after observing ``y``: (level, growth); the season in ``s``."""
    if trend == NOTHING:
        q = oldl
        phi_b = 0.0
    elif trend == ADDITIVE:
        phi_b = phi * oldb
        q = oldl + phi_b
    elif math.fabs(phi - 1.0) < TOL:
        phi_b = oldb
        q = oldl * oldb
    else:
        phi_b = math.pow(oldb, phi)
        q = oldl * phi_b
    if season == NOTHING:
        p = y
    elif season == ADDITIVE:
        p = y - olds[m - 1]
    elif math.fabs(olds[m - 1]) < TOL:
        p = HUGE
    else:
        p = y / olds[m - 1]
    lvl = q + alpha * (p - q)
    if trend != NOTHING:
        if trend == ADDITIVE:
            r = lvl - oldl
        elif math.fabs(oldl) < TOL:
            r = HUGE
        else:
            r = lvl / oldl
        b = phi_b + (beta / alpha) * (r - phi_b)
    if season != NOTHING:
        if season == ADDITIVE:
            t = y - q
        elif math.fabs(q) < TOL:
            t = HUGE
        else:
            t = y / q
        s[0] = olds[m - 1] + gamma * (t - olds[m - 1])
        for j in range(m - 1):
            s[j + 1] = olds[j]
    return lvl, b


def _nan0(x: float) -> float:
    return 0.0 if math.isnan(x) else float(x)


def fit_models(model: AutoETS, ys: Sequence[np.ndarray]) -> list[dict[str, object]]:
    """statsforecast's fit of ``model`` on every history (as ``AutoETS.simulate`` fits it)."""
    return [
        ets_f(
            y if y.dtype in (np.float32, np.float64) else y.astype(np.float32),
            m=model.season_length,
            model=model.model,
            damped=model.damped,
            phi=model.phi,
        )
        for y in ys
    ]


def simulate_fitted(
    fits: Sequence[dict[str, object]], h: int, n_paths: int, seeds: np.ndarray
) -> np.ndarray:
    """Paths (n, n_paths, h) of fitted ETS models with bootstrapped residuals, as
    ``statsforecast.ets.simulate_ets(fit, h, n_paths, seed, "bootstrap")`` gives them."""
    n = len(fits)
    out = np.zeros((n, n_paths, h))
    if n == 0:
        return out
    width = 2 + MAX_SEASON
    state = np.zeros((n, width))
    comp = np.zeros((n, 3), np.int64)
    par = np.zeros((n, 4))
    m_season = np.zeros(n, np.int64)
    pools: list[np.ndarray] = []
    slow = np.zeros(n, bool)
    for i, f in enumerate(fits):
        last = np.asarray(f["states"])[-1]
        k = min(len(last), width)
        state[i, :k] = last[:k]
        c = f["components"]
        comp[i] = [COMPONENT[str(c[0])], COMPONENT[str(c[1])], COMPONENT[str(c[2])]]  # type: ignore[index]
        pr = np.asarray(f["par"], float)
        par[i] = [pr[0], _nan0(pr[1]), _nan0(pr[2]), _nan0(pr[3])]
        m_season[i] = int(f["m"])  # type: ignore[call-overload]
        res = f.get("residuals")
        r = np.zeros(0) if res is None else np.asarray(res, float)
        r = r[~np.isnan(r)]
        slow[i] = len(r) == 0  # no residuals to bootstrap: statsforecast's own code (raises)
        pools.append(r)
    counts = np.array([len(r) for r in pools], np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    vals = np.concatenate(pools) if counts.sum() else np.zeros(1)
    need = np.full(n, n_paths * ((h + 1) // 2) + 8, np.int64)
    todo = np.flatnonzero(~slow)
    while len(todo):
        words = [np.random.PCG64(int(seeds[i])).random_raw(int(need[i])) for i in todo]
        wc = np.array([len(w) for w in words], np.int64)
        ws = np.concatenate([[0], np.cumsum(wc)[:-1]]).astype(np.int64)
        ok = np.ones(len(todo), bool)
        sub = np.zeros((len(todo), n_paths, h))
        _simulate_kernel(
            state[todo], comp[todo], par[todo], m_season[todo],
            vals, starts[todo], counts[todo], np.concatenate(words), ws, wc,
            n_paths, h, sub, ok,
        )  # fmt: skip
        out[todo[ok]] = sub[ok]
        todo = todo[~ok]
        need[todo] *= 2
    for j in np.flatnonzero(slow).tolist():
        out[j] = simulate_ets(fits[j], h, n_paths, int(seeds[j]), "bootstrap")
    np.random.seed(int(seeds[-1]))  # statsforecast leaves NumPy's global state so
    return out


def autoets_paths(
    model: AutoETS, ys: Sequence[np.ndarray], h: int, n_paths: int, seed: int
) -> np.ndarray:
    """Paths (n, n_paths, h) of ``StatsForecast(models=[model]).simulate(df, h, n_paths,
    seed=seed, error_distribution="bootstrap")`` for the histories ``ys`` of the series in
    id order (each sorted by date)."""
    seeds = series_seeds(seed, len(ys))
    return simulate_fitted(fit_models(model, ys), h, n_paths, seeds)
