"""Lead-time-demand error from rolling-origin backtests: what safety stock must cover.

The plan's forecast fit runs a walk-forward backtest from several origins
(:data:`echelon.plan.forecast_fit.BACKTEST_ORIGINS` over the last year). At origin ``o`` the
champion forecasts the next ``H`` periods; its **error path** is ``e[o, h] = actual − f̄_o``
(units per period, h = 1 … H; ``f̄_o`` the forecast averaged over its first ``M ≤ H`` periods,
the flat mean the plan holds while its levels are in force, :func:`error_paths`). Per item ×
store (:class:`LtdError`):

- **bias** (:func:`persistent_bias`): the mean error per period ``b̄`` (units per period),
  kept only where it is persistent — over ``O ≥ MIN_BIAS_ORIGINS`` origins, every origin's
  mean error ``m_o`` has the same sign (a sign test: by chance with probability ``2^(1−O)``;
  a missed season changes sign over the year and is no bias) and ``|b̄| > BIAS_T · sd(m_o) /
  √O``. The plan's mean is ``forecast + b̄`` and the error paths are centred, ``e − b̄``;
- **lead-time-demand error std** ``σ_τ`` for τ = 1 … H (:func:`ltd_curve`): the root mean
  square over the origins of the centred error summed over the first τ periods, ``S_τ[o] =
  Σ_{h ≤ τ} (e[o, h] − b̄)`` — it carries the errors' measured autocorrelation (level shifts,
  missed seasonality), where σ·√τ assumed none;
- **pooling** (:func:`pooled_models`): a few origins give a noisy ``σ_τ``, so each series'
  curve is shrunk towards its group's (its demand class): the group's variance ratio
  ``v_τ = Σ σ_τ² / Σ τ·s²`` (``s²``: a series' mean squared centred per-period error over all
  O × H errors) scales the series' own ``τ·s²``; weights ``O`` (own curve) and
  :data:`POOL_ORIGINS` (the group's), on the variance scale;
- **spread calibration** (:func:`loo_spread`, on by :data:`LOO_SPREAD`): the in-sample rms of
  a few origins under-states the error at a new origin (an origin's level miss is not one of
  the others'), so per group the curve is multiplied by one factor
  ``k ∈ [MIN_SPREAD, MAX_SPREAD]``
  measured leave-one-origin-out on the backtest itself (data before the plan's origin only):
  each origin's error summed over τ is scored against the model of the other origins, and k
  makes its shortage beyond the safety factors of :data:`LOO_SAFETY` equal what that model's
  own bootstrap claims. The bootstrap is scaled to the curve, so placement, tuning,
  single-echelon and the KPI projection all see k;
- **exposure std** (:func:`ltd_std`): ``√(σ_τ² + μ²·σ_L²)`` (units) at any τ ≥ 0 — linear in
  variance between whole periods, extrapolated past H at the mean variance per period of the
  last measured exposure — with a random lead time of std ``σ_L`` periods. It replaces σ·√τ
  (:func:`echelon.policies.normal.exposure_std`) in placement, tuning and single-echelon;
- **simulated demand** (:func:`demand_paths`, :func:`simulation_network`): ``max(0, μ + ê)``
  with μ the plan's mean (bias included) and ``ê`` a block
  bootstrap of the centred error paths (whole H-period paths, so the autocorrelation within an
  exposure is kept; the **same origin** for every store of an item in a block, so the
  correlation between stores is kept too), scaled to the pooled ``σ_H``; a mean error that is
  no persistent bias enters each block with a random sign (:func:`symmetric_errors`), so it
  widens the spread instead of shifting the simulated mean; each period's value is then drawn
  with count noise (:func:`count_noise`), so that the tail of lead-time demand is not capped at
  the largest one the backtest observed. Tuning and the KPI
  projection simulate it, so that projected and realized service are the same quantity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from echelon.network.distributions import ScenarioDemand, ceil_periods
from echelon.network.graph import topological_order
from echelon.network.model import Network
from echelon.plan.ltd_spread import by_code, solve_spread
from echelon.policies.normal import exposure_std

BIAS_T = 2.0  # a mean error this many standard errors from 0 is a persistent bias
MIN_BIAS_ORIGINS = 3  # fewer origins: no bias correction
POOL_ORIGINS = 6.0  # weight (in origins) of the group's curve in a series' shrunk curve
MIN_ORIGINS = 2  # a series with fewer origins has no error model (fallback to its σ)
#: calibrate the spread on the backtest itself: leave one origin out (:func:`loo_spread`)
LOO_SPREAD = True
MAX_SPREAD = 2.0  # the largest spread factor k the calibration may set
MIN_SPREAD = 1.0  # the smallest: below 1 the calibration may narrow an over-dispersed model
MIN_LOO_SCORES = 30  # (series, origin) scores a group needs for its own k; fewer: all series'
#: k per demand class × ABC segment (the segment a series' target comes from), falling back to
#: the demand class, then to all series, below :data:`MIN_LOO_SCORES` (:func:`loo_spread`)
SPREAD_BY_SEGMENT = False
LOO_SAFETY = np.array([0.5, 1.0, 1.5, 2.0])  # safety factors (in σ) whose shortage is matched
LOO_SAMPLE = 2000  # series per group the calibration scores at most (evenly over the ids)
LOO_RELATIVE = False  # True: every safety factor's shortage counts relative to its claim
#: variance per unit of the count noise a simulated period's demand is drawn with (units;
#: :func:`count_noise`); 0 turns it off
COUNT_NOISE = 1.0


@dataclass(frozen=True)
class LtdError:
    """The backtest error model of one item × store (see the module doc).

    ``paths``: centred error paths, origins × H (units per period); ``bias``: the persistent
    mean error per period added to the forecast (units per period, 0 when not persistent);
    ``curve[τ − 1]``: σ_τ, the pooled std of the error of demand summed over τ periods
    (units); ``per_period``: s, the root mean square centred per-period error (units)."""

    paths: np.ndarray
    bias: float
    curve: np.ndarray
    per_period: float
    spread: float = 1.0  # the leave-one-origin-out factor k already in ``curve``

    @property
    def origins(self) -> int:
        """Backtest origins the model was measured on."""
        return int(self.paths.shape[0])

    @property
    def horizon(self) -> int:
        """Periods per error path (the longest exposure measured)."""
        return int(self.paths.shape[1])


def error_paths(
    backtest: pd.DataFrame, champions: Mapping[str, str], mean_periods: int | None = None
) -> dict[str, np.ndarray]:
    """Per series id: the champion's error paths ``actual − flat forecast``, origins × H
    (units per period), from a backtest forecast frame (unique_id, cutoff, ds, model, mean,
    y). The flat forecast of an origin is its forecast mean averaged over its first
    ``mean_periods`` periods (all H when None or more) — what the plan holds
    (:attr:`echelon.plan.forecasting.SeriesForecast.mean`), so that a forecast shape within
    the horizon (a season, a trend) the plan does not hold is error. Origins with fewer than
    H periods are dropped."""
    b = backtest[backtest["model"].to_numpy() == backtest["unique_id"].map(champions).to_numpy()]
    b = b.sort_values(["unique_id", "cutoff", "ds"])
    out: dict[str, np.ndarray] = {}
    if b.empty:
        return out
    # the runs of one (series, cutoff), then the runs of each series: grouped once
    uid, cut = b["unique_id"].astype(str).to_numpy(), b["cutoff"].to_numpy()
    y_all, mean_all = b["y"].to_numpy(float), b["mean"].to_numpy(float)
    run_start = np.r_[0, np.flatnonzero((uid[1:] != uid[:-1]) | (cut[1:] != cut[:-1])) + 1]
    run_len = np.diff(np.r_[run_start, len(b)])
    first = np.r_[0, np.flatnonzero(uid[run_start][1:] != uid[run_start][:-1]) + 1]
    for s0, s1 in zip(first, np.r_[first[1:], len(run_start)], strict=True):
        sizes = run_len[s0:s1]
        h = int(sizes.max())
        full = np.repeat(sizes == h, sizes)
        key = str(uid[run_start[s0]])
        if not full.any():
            out[key] = np.zeros((0, h))
            continue
        rows_of = slice(int(run_start[s0]), int(run_start[s0] + sizes.sum()))
        y = y_all[rows_of][full].reshape(-1, h)
        m = h if mean_periods is None else max(1, min(h, mean_periods))
        flat = mean_all[rows_of][full].reshape(-1, h)[:, :m].mean(axis=1, keepdims=True)
        rows = (y - flat).clip(-1e300, 1e300)
        out[key] = rows[np.isfinite(rows).all(axis=1)]
    return out


def persistent_bias(paths: np.ndarray) -> float:
    """The mean error per period where it is persistent across origins (one sign at every
    origin and 2 standard errors from 0), else 0 (units per period; module doc)."""
    return float(persistent_biases(paths[None])[0])


def persistent_biases(stack: np.ndarray) -> np.ndarray:
    """:func:`persistent_bias` of every series of a stack ``[series, origins, H]`` of error
    paths (units per period), ``[series]``."""
    o = stack.shape[1]
    if o < MIN_BIAS_ORIGINS:
        return np.zeros(stack.shape[0])
    per_origin = stack.mean(axis=2)
    mean = per_origin.mean(axis=1)
    se = per_origin.std(axis=1, ddof=1) / math.sqrt(o)
    same_sign = (per_origin > 0).all(axis=1) | (per_origin < 0).all(axis=1)
    return np.where(same_sign & (np.abs(mean) > BIAS_T * se), mean, 0.0)


def shrunk_variance(
    origins: float, own: np.ndarray, taus: np.ndarray, s2: np.ndarray | float, ratio: np.ndarray
) -> np.ndarray:
    """σ_τ² of a series' curve shrunk towards its group's (module doc, units²): its own
    ``own`` = σ_τ² measured on ``origins`` origins, weight ``origins``, and the group's
    variance ratio ``ratio`` times ``τ·s2`` (``s2``: the series' mean squared centred
    per-period error), weight :data:`POOL_ORIGINS`."""
    return (origins * own + POOL_ORIGINS * taus * s2 * ratio) / (origins + POOL_ORIGINS)


def ltd_curve(centred: np.ndarray) -> np.ndarray:
    """σ_τ for τ = 1 … H: root mean square over the origins of the centred errors summed
    over the first τ periods (units)."""
    sums = np.cumsum(centred, axis=1)
    return np.asarray(np.sqrt((sums**2).mean(axis=0)), dtype=float)


def _own(paths: np.ndarray) -> tuple[float, np.ndarray, float]:
    """A series' persistent bias, own curve and per-period rms centred error."""
    bias = persistent_bias(paths)
    centred = paths - bias
    return bias, ltd_curve(centred), float(np.sqrt((centred**2).mean()))


def pooled_models(
    paths: Mapping[str, np.ndarray],
    groups: Mapping[str, str],
    segments: Mapping[str, str] | None = None,
) -> dict[str, LtdError]:
    """The error model of every series with at least :data:`MIN_ORIGINS` origins, its curve
    shrunk towards its group's variance ratio (module doc). ``groups``: series id → group;
    ``segments``: series id → ABC segment, whose k :func:`loo_spread` measures within each
    group (None: one k per group)."""
    own = {u: _own(p) for u, p in paths.items() if p.shape[0] >= MIN_ORIGINS}
    if not own:
        return {}
    h = min(p.shape[1] for u, p in paths.items() if u in own)
    taus = np.arange(1, h + 1, dtype=float)
    num: dict[str, np.ndarray] = {}
    den: dict[str, np.ndarray] = {}
    for u, (_, curve, s) in own.items():
        g = groups.get(u, "")
        num[g] = num.get(g, np.zeros(h)) + curve[:h] ** 2
        den[g] = den.get(g, np.zeros(h)) + taus * s**2
    spread = loo_spread(paths, groups, h, num, den, segments) if LOO_SPREAD else {}
    out = {}
    for u, (bias, curve, s) in own.items():
        g = groups.get(u, "")
        ratio = np.where(den[g] > 0, num[g] / np.where(den[g] > 0, den[g], 1.0), 1.0)
        var = shrunk_variance(float(paths[u].shape[0]), curve[:h] ** 2, taus, s**2, ratio)
        k = spread.get(spread_key(u, groups, segments), 1.0)
        var = var * k**2 if k != 1.0 else var
        out[u] = LtdError(paths[u][:, :h] - bias, bias, np.sqrt(var), s, k)
    return out


def spread_key(u: str, groups: Mapping[str, str], segments: Mapping[str, str] | None) -> str:
    """The key of series ``u``'s spread factor: its group, with its segment where given."""
    g = groups.get(u, "")
    return g if segments is None else f"{g}|{segments.get(u, '')}"


def loo_spread(
    paths: Mapping[str, np.ndarray],
    groups: Mapping[str, str],
    h: int,
    num: Mapping[str, np.ndarray],
    den: Mapping[str, np.ndarray],
    segments: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """Per group: the spread factor k ∈ [:data:`MIN_SPREAD`, :data:`MAX_SPREAD`] of the
    leave-one-origin-out calibration (module doc). For every series with more than
    :data:`MIN_ORIGINS` origins and each origin o, the model of the other origins (the same
    bias, centring and pooling rules; the group's variance ratio ``num / den`` with this
    series' own terms measured without o) scores o's error summed over τ = 1 … ``h``
    periods, ``z = S_τ[o] / σ_τ``; the model's own claim is the bootstrap of the other
    origins (their sums with the random-sign level, scaled to σ_H). k makes the expected
    shortage ``Σ (z / k − c)⁺`` over the safety factors ``c`` of :data:`LOO_SAFETY` (in σ)
    equal the claimed one; a group with fewer than :data:`MIN_LOO_SCORES` (series, origin)
    scores takes the factor of all series together. With ``segments`` (series id → ABC
    segment) k is per group × segment (keys :func:`spread_key`), one below
    :data:`MIN_LOO_SCORES` taking its group's, then all series'. A group of more than
    :data:`LOO_SAMPLE` series scores every n-th of its ids (sorted)."""
    names = sorted({spread_key(u, groups, segments) for u in paths})
    code = {g: i for i, g in enumerate(names)}
    coarse = sorted({groups.get(u, "") for u in paths})
    coarse_of = {spread_key(u, groups, segments): groups.get(u, "") for u in paths}
    parent = np.array([coarse.index(coarse_of[g]) for g in names], dtype=np.int64)
    taus = np.arange(1, h + 1, dtype=float)
    members: dict[str, list[str]] = {}
    for u in sorted(paths):
        if paths[u].shape[0] > MIN_ORIGINS:
            members.setdefault(groups.get(u, ""), []).append(u)
    scored = {u for us in members.values() for u in us[:: -(-len(us) // LOO_SAMPLE)]}
    by_origins: dict[int, list[str]] = {}
    for u, p in paths.items():
        if u in scored:
            by_origins.setdefault(int(p.shape[0]), []).append(u)
    zs, zcodes = [np.zeros(0)], [np.zeros(0, dtype=np.int64)]
    claimed, scores = np.zeros((len(names), len(LOO_SAFETY))), np.zeros(len(names))
    for o, us in by_origins.items():
        x = np.stack([paths[u][:, :h] for u in us])
        gi = np.array([code[spread_key(u, groups, segments)] for u in us])
        gnum = np.stack([num[groups.get(u, "")] for u in us])
        gden = np.stack([den[groups.get(u, "")] for u in us])
        full = x - persistent_biases(x)[:, None, None]
        full_own = (np.cumsum(full, axis=2) ** 2).mean(axis=1)
        full_s2 = (full**2).mean(axis=(1, 2))[:, None]
        for j in range(o):
            rest = np.delete(x, j, axis=1)
            b = persistent_biases(rest)[:, None]
            c = rest - b[:, :, None]
            sums = np.cumsum(c, axis=2)
            own = (sums**2).mean(axis=1)
            s2 = (c**2).mean(axis=(1, 2))[:, None]
            gn, gd = gnum - full_own + own, gden - taus * full_s2 + taus * s2
            ratio = np.where(gd > 0, gn / np.where(gd > 0, gd, 1.0), 1.0)
            sigma = np.sqrt(np.maximum(0.0, shrunk_variance(o - 1.0, own, taus, s2, ratio)))
            ok = (sigma > 0).all(axis=1) & (own[:, -1] > 0)
            if not ok.any():
                continue
            sigma, sums, g = sigma[ok], sums[ok], gi[ok]
            level = c[ok].mean(axis=(1, 2))[:, None, None] * taus
            scale = sigma[:, -1] / np.sqrt(own[ok, -1])
            boot = np.concatenate([sums, sums - 2.0 * level], axis=1)
            boot = boot * (scale[:, None, None] / sigma[:, None, :])
            loss = np.maximum(0.0, boot[..., None] - LOO_SAFETY).mean(axis=1).sum(axis=1)
            claimed += by_code(g, loss, len(names))
            scores += np.bincount(g, minlength=len(names))
            z = (np.cumsum(x[ok, j, :] - b[ok], axis=1) / sigma).ravel()
            tail = z > LOO_SAFETY[0]
            zs.append(z[tail])
            zcodes.append(np.repeat(g, h)[tail])
    z, zc = np.concatenate(zs), np.concatenate(zcodes)
    # codes: the groups (× segments), then the groups alone, then the slot of all series
    f, every = len(names), len(names) + len(coarse)
    claimed = np.concatenate(
        [claimed, by_code(parent, claimed, len(coarse)), claimed.sum(axis=0)[None]]
    )
    scores = np.concatenate([scores, np.bincount(parent, scores, len(coarse)), [scores.sum()]])
    z_all = np.concatenate([z, z, z])
    zc_all = np.concatenate([zc, f + parent[zc], np.full(len(zc), every)])
    bounds = (MIN_SPREAD, MAX_SPREAD)
    k = solve_spread(z_all, zc_all, claimed, LOO_SAFETY, bounds, LOO_RELATIVE)
    if scores[every] < MIN_LOO_SCORES:
        return {}
    ok = scores >= MIN_LOO_SCORES
    up = np.where(ok[f + parent], k[f + parent], k[every])
    return {g: float(k[i] if ok[i] else up[i]) for g, i in code.items()}


def ltd_std(
    model: LtdError, periods: float, mean: float = 0.0, lead_time_std: float = 0.0
) -> float:
    """Std (units) of the forecast error of demand over an exposure of ``periods`` periods
    (τ ≥ 0), with a random lead time of std ``lead_time_std`` periods and per-period demand
    ``mean`` (units); 0 for an exposure of 0 periods (module doc)."""
    if periods <= 0:
        return 0.0
    var = np.concatenate([[0.0], model.curve**2])
    h = len(var) - 1
    if periods <= h:
        v = float(np.interp(periods, np.arange(h + 1, dtype=float), var))
    else:
        v = float(var[h]) * periods / h
    return math.sqrt(v + (mean * lead_time_std) ** 2)


def effective_std(model: LtdError, periods: float) -> float:
    """The per-period std (units per period) whose σ·√τ equals the measured σ_τ at an
    exposure of ``periods`` periods (≥ 1): what a model that assumes independent periods (the
    GSM, the single-echelon formula) must be given."""
    tau = max(1.0, periods)
    return ltd_std(model, tau) / math.sqrt(tau)


def demand_paths(
    models: Mapping[str, LtdError],
    means: Mapping[str, float],
    paths: int,
    periods: int,
    seed: int,
) -> dict[str, list[list[float]]]:
    """:func:`demand_path_arrays` as lists (one list of ``periods`` values per path)."""
    return {
        k: v.tolist() for k, v in demand_path_arrays(models, means, paths, periods, seed).items()
    }


def demand_path_arrays(
    models: Mapping[str, LtdError],
    means: Mapping[str, float],
    paths: int,
    periods: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Simulated demand per store (key of ``models``): ``paths`` paths of ``periods`` periods,
    ``[paths, periods]``, ``max(0, mean + ê)`` (``means``: the plan's mean per period, bias
    included; ``ê``: the block bootstrap of the centred error paths, the same origin for every
    store in a block, scaled to the pooled σ_H; units per period; module doc), each value then
    drawn with :func:`count_noise`. The stores' models share their horizon; a store with fewer
    origins takes the block's origin modulo its own count."""
    if not models:
        return {}
    first = next(iter(models.values()))
    o, h = max(m.origins for m in models.values()), first.horizon
    blocks = -(-periods // h)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, o, size=(paths, blocks))
    signs = rng.choice(np.array([-1.0, 1.0]), size=(paths, blocks, 1))
    out = {}
    for key, m in models.items():
        own = float(ltd_curve(m.paths)[-1])
        scale = float(m.curve[-1]) / own if own > 0 else 1.0
        residual, level = symmetric_errors(m.paths)
        blocked = residual[pick % m.origins] + signs * level
        err = blocked.reshape(paths, blocks * h)[:, :periods] * scale
        out[key] = np.maximum(0.0, means[key] + err)
    return count_noise(out, seed)


def count_noise(demand: Mapping[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Each simulated period's demand ``x`` (units) replaced by a gamma draw of mean ``x`` and
    variance ``COUNT_NOISE · x`` (a period without demand stays without): the resampled
    periods are the few dozen the backtest observed, so their largest lead-time demand is the
    largest observed one; a period *like* an observed one of ``x`` units (a Poisson rate
    whose posterior, given the count x, is Gamma(x, 1)) can bring more or less. The mean and
    P(zero) are kept; the variance per period grows by ``COUNT_NOISE · x``. Independent
    between stores and periods; its own random stream (``seed``), so the blocks are those of
    :func:`demand_path_arrays` without it."""
    if COUNT_NOISE <= 0:
        return dict(demand)
    rng = np.random.default_rng([seed, 1])
    out = {}
    for key, x in demand.items():
        shape = x / COUNT_NOISE
        pos = shape > 0
        drawn = np.zeros_like(x)
        drawn[pos] = rng.gamma(shape[pos], COUNT_NOISE)
        out[key] = drawn
    return out


def symmetric_errors(centred: np.ndarray) -> tuple[np.ndarray, float]:
    """(residual paths, level): the centred error paths (origins × H, units per period) split
    into their mean error per period ``level`` (units per period) and ``centred − level``.

    A mean error that is not a persistent bias (:func:`persistent_bias` found no sign
    agreement) is a level the forecasts missed in either direction: the simulated blocks add
    it with a random sign (one sign for every store of an item in a block,
    :func:`demand_path_arrays`), so it widens the spread instead of shifting the simulated
    mean away from the plan's. The second moment of the error summed over the whole path is
    unchanged: ``mean_o (R_H[o] ± level·H)² = mean_o S_H[o]²`` because the residuals' sums
    ``R_H`` average to 0 over the origins."""
    if centred.size == 0:
        return centred, 0.0
    level = float(centred.mean())
    return centred - level, level


def exposure_error_std(
    model: LtdError | None, std: float, periods: float, mean: float, lead_time_std: float
) -> float:
    """The std (units) safety stock covers over ``periods`` periods of exposure: the measured
    :func:`ltd_std` where the series has an error model, else σ·√τ with the per-period
    ``std`` (:func:`echelon.policies.normal.exposure_std`). Per-period ``mean`` (units),
    lead-time std ``lead_time_std`` (periods)."""
    if model is None:
        return exposure_std(std, periods, mean, lead_time_std)
    return ltd_std(model, periods, mean, lead_time_std)


def longest_supply_periods(net: Network) -> int:
    """The longest chain of whole-period lead times from an external supplier to a node
    (periods, ≥ 1): the largest net replenishment time a node of ``net`` can plan for."""
    depth: dict[str, int] = {}
    for nid in topological_order(net):
        node = net.node(nid)
        inbound = [ln for ln in net.lanes if ln.target == nid]
        own = ceil_periods(node.lead_time.mean()) if node.external_supplier else 0
        up = [depth[ln.source] + ceil_periods(net.lane_lead_time(ln).mean()) for ln in inbound]
        depth[nid] = max([own, *up])
    return max(1, max(depth.values(), default=1))


def simulation_network(
    net: Network,
    models: Mapping[str, LtdError],
    means: Mapping[str, float],
    paths: int,
    periods: int,
    seed: int,
) -> Network:
    """``net`` with the demand of every store of ``models`` replaced by :func:`demand_paths`
    (``paths`` paths of ``periods`` periods, warm-up included); other nodes unchanged."""
    sims = demand_paths(models, means, paths, periods, seed)
    nodes = [
        n.model_copy(update={"demand": ScenarioDemand(paths=sims[n.id])}) if n.id in sims else n
        for n in net.nodes
    ]
    return net.model_copy(update={"nodes": nodes})


def error_networks(
    net: Network,
    models: Mapping[str, LtdError],
    means: Mapping[str, float],
    paths: int,
    periods: int,
    seeds: tuple[int, int],
) -> tuple[Network | None, Network | None]:
    """The KPI and the tuning-search simulation networks (:func:`simulation_network` with
    ``seeds[0]`` and ``seeds[1]``); (None, None) where no store has an error model."""
    if not models:
        return None, None
    kpi, search = (simulation_network(net, models, means, paths, periods, s) for s in seeds)
    return kpi, search
