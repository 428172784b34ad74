"""Drift detection on forecast errors: a two-sided tabular CUSUM per item × store.

Each scored period gives a standardized error z = (actual − mean) / std of the plan's forecast
(:func:`echelon.monitor.scoring.standardized_errors`). The tabular CUSUM (Page 1954;
Montgomery, *Introduction to Statistical Quality Control*, 8th ed., §9.1) accumulates

    C⁺_t = max(0, C⁺_{t−1} + z_t − k),   C⁻_t = max(0, C⁻_{t−1} − z_t − k),

and signals when either exceeds h; both restart at 0 after a signal. With k = 0.5 and h = 5
(in standard deviations: tuned to detect a shift of one standard deviation) the in-control
average run length of the two-sided scheme is about 465 periods for independent N(0, 1)
errors (Montgomery, Table 9.3), and a shift of 1 σ is signalled after about 10 periods, of
3 σ after about 2.5.

**The errors are not independent N(0, 1).** The plan's std is its backtest's, not the
realized spread of the weekly errors, and forecast errors are autocorrelated (a level the
forecast lags behind stays missed for weeks, see echelon/plan/ltd_error.py) — and the
textbook run lengths collapse with autocorrelation: :func:`in_control_arl` gives ≈ 240
periods at a lag-1 autocorrelation of 0.1, ≈ 95 at 0.3, ≈ 50 at 0.5. So by default the chart
runs on the **innovations** of the measured error process (:class:`ErrorProcess`, an AR(1)
pooled over the dataset's series: mean, std and lag-1 autocorrelation of z), ``(x_t − φ
x_{t−1}) / √(1 − φ²)`` with ``x = (z − mean) / std`` (:func:`whiten`), which are N(0, 1)
and independent in control, so that k = 0.5, h = 5 keep their textbook meaning. The process
is measured **causally** (:func:`causal_whitened`): each period's z is whitened with the
process fitted on the *earlier* periods only (an expanding window; until
:data:`MIN_PAIRS` consecutive pairs exist, z as it is) — no period is judged with
parameters fitted on it, and no h is tuned on the weeks it is evaluated on. The weekly replay
(bench/weekly_replay.py, bench/drift_variants.py) measures both charts on real M5 errors.

Why not a library: evidently and nannyml compare feature and prediction *distributions* of a
reference and a current window (PSI, KS, ...) and estimate performance without labels; here
the labels (actuals) arrive every week and the question is a persistent shift of one series'
errors, which the CUSUM answers in a dozen lines with known run lengths, without a heavy
dependency. A signal becomes a ``FORECAST_BIAS`` exception of the next plan from the store
(:func:`drift_exceptions`) and a line of ``echelon monitor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from echelon.monitor.scoring import standardized_errors
from echelon.plan.model import ExceptionKind, PlanException, Severity

K = 0.5  # allowance, standard deviations
H = 5.0  # decision interval, standard deviations


@dataclass(frozen=True)
class Alarm:
    """A CUSUM signal: the series, the period it fired, its direction (``up``: actuals above
    the forecast) and the statistic's value (standard deviations)."""

    item_id: str
    location_id: str
    period_start: date
    direction: str
    statistic: float


@dataclass(frozen=True)
class ErrorProcess:
    """The measured process of the standardized errors z of one dataset's plans, an AR(1)
    pooled over its series: ``z_t − mean = phi · (z_{t−1} − mean) + ε_t`` with ``std`` the
    std of z (standard deviations of the plans' forecast std; 1 and phi 0: the textbook
    N(0, 1) assumption); ``pairs``: the consecutive (z_{t−1}, z_t) pairs it was measured on."""

    mean: float = 0.0
    std: float = 1.0
    phi: float = 0.0
    pairs: int = 0


NULL_PROCESS = ErrorProcess()
MIN_PAIRS = 30  # fewer consecutive pairs measured: the textbook process (no whitening)


def cusum(z: np.ndarray, k: float = K, h: float = H) -> list[tuple[int, str, float]]:
    """The signals of the two-sided CUSUM on ``z`` (module doc): (index, direction, value)."""
    up = down = 0.0
    out: list[tuple[int, str, float]] = []
    for t, zt in enumerate(z):
        up = max(0.0, up + zt - k)
        down = max(0.0, down - zt - k)
        if up > h or down > h:
            out.append((t, "up" if up > h else "down", max(up, down)))
            up = down = 0.0
    return out


def latest_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """One score per series and period (a period scored by several runs: its latest run), with
    its standardized error ``z``, oldest period first."""
    latest = scores.sort_values("run_id").drop_duplicates(
        ["item_id", "location_id", "period_start"], keep="last"
    )
    return latest.assign(z=standardized_errors(latest)).sort_values(
        ["item_id", "location_id", "period_start"], kind="stable"
    )


def fit_process(scores: pd.DataFrame) -> ErrorProcess:
    """The pooled AR(1) of the standardized errors of ``scores`` (:class:`ErrorProcess`): the
    mean and std of every z, and the lag-1 autocorrelation of the consecutive pairs of each
    series (weekly periods one period apart), clipped to [0, 0.95]."""
    latest = latest_scores(scores)
    if latest.empty:
        return NULL_PROCESS
    z = latest["z"].to_numpy(float)
    mean, std = float(z.mean()), float(z.std(ddof=1)) if len(z) > 1 else 1.0
    prev, cur = [], []
    for _, g in latest.groupby(["item_id", "location_id"], sort=False):
        days = pd.to_datetime(g["period_start"]).to_numpy()
        gz = g["z"].to_numpy(float)
        step = np.diff(days) == np.median(np.diff(days)) if len(days) > 2 else np.ones(0, bool)
        prev.append(gz[:-1][step])
        cur.append(gz[1:][step])
    a, b = np.concatenate(prev) - mean, np.concatenate(cur) - mean
    if len(a) < MIN_PAIRS or not std > 0:
        return ErrorProcess(mean, std if std > 0 else 1.0, 0.0, len(a))
    phi = float(np.clip((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()), 0.0, 0.95))
    return ErrorProcess(mean, std, phi, len(a))


def whiten(z: np.ndarray, process: ErrorProcess) -> np.ndarray:
    """The innovations of ``z`` under ``process``, scaled to N(0, 1) in control:
    ``(x_t − phi · x_{t−1}) / (std · √(1 − phi²))`` with ``x = z − mean`` (the first period:
    ``x_1 / std``)."""
    x = (np.asarray(z, float) - process.mean) / process.std
    if len(x) == 0 or process.phi == 0:
        return x
    out = np.empty_like(x)
    out[0] = x[0]
    out[1:] = (x[1:] - process.phi * x[:-1]) / np.sqrt(1.0 - process.phi**2)
    return out


def causal_whitened(latest: pd.DataFrame, min_pairs: int = MIN_PAIRS) -> np.ndarray:
    """Each row's z of ``latest`` (:func:`latest_scores`) whitened by the process measured on
    the periods *before* its own (an expanding window, :func:`fit_process` by running sums):
    a period is never judged with parameters fitted on it. Until ``min_pairs`` consecutive
    pairs are measured, the textbook process (z as it is)."""
    days = pd.to_datetime(latest["period_start"])
    z = latest["z"].to_numpy(float)
    same = (latest["item_id"].eq(latest["item_id"].shift())
            & latest["location_id"].eq(latest["location_id"].shift())).to_numpy()  # fmt: skip
    gap = days.diff().to_numpy()
    step = np.median(gap[same]) if same.any() else None
    paired = same & (gap == step)
    prev = np.where(paired, np.roll(z, 1), np.nan)
    periods = np.sort(days.unique())
    at = np.searchsorted(periods, days.to_numpy())
    sums = np.zeros((len(periods) + 1, 8))  # n, Σz, Σz², pairs, Σa, Σb, Σab, Σa² (b² below)
    sq_b = np.zeros(len(periods) + 1)
    np.add.at(sums[:, 0], at + 1, 1.0)
    np.add.at(sums[:, 1], at + 1, z)
    np.add.at(sums[:, 2], at + 1, z * z)
    a, b, pat = prev[paired], z[paired], at[paired] + 1
    for col, v in ((3, np.ones(len(a))), (4, a), (5, b), (6, a * b), (7, a * a)):
        np.add.at(sums[:, col], pat, v)
    np.add.at(sq_b, pat, b * b)
    cum, cum_b = np.cumsum(sums, axis=0), np.cumsum(sq_b)
    out = z.copy()
    for t in range(len(periods)):
        n, sz, szz, npairs, sa, sb, sab, saa = cum[t]  # periods before periods[t]
        if npairs < min_pairs or n < 2:
            continue
        m = sz / n
        sd = float(np.sqrt(max(szz - n * m * m, 0.0) / (n - 1)))
        caa = saa - 2 * m * sa + npairs * m * m
        cbb = cum_b[t] - 2 * m * sb + npairs * m * m
        cab = sab - m * sa - m * sb + npairs * m * m
        phi = float(np.clip(cab / np.sqrt(caa * cbb), 0.0, 0.95)) if caa > 0 < cbb else 0.0
        if not sd > 0:
            continue
        rows = at == t
        x = (z[rows] - m) / sd
        xp = (prev[rows] - m) / sd
        white = (x - phi * xp) / np.sqrt(1.0 - phi**2)
        out[rows] = np.where(np.isnan(xp), x, white)
    return out


def alarms(
    scores: pd.DataFrame,
    k: float = K,
    h: float = H,
    process: ErrorProcess | None = None,
) -> list[Alarm]:
    """Every signal over the scores (one CUSUM per series over its periods, oldest first; a
    period scored by several runs counts once, by its latest run), on the errors whitened by
    ``process`` — by default (None) by the process measured on the earlier periods of the
    scores (:func:`causal_whitened`); :data:`NULL_PROCESS`: the textbook chart on z."""
    if scores.empty:
        return []
    latest = latest_scores(scores)
    if process is None:
        latest = latest.assign(w=causal_whitened(latest))
    else:
        latest = latest.assign(w=np.concatenate([
            whiten(g["z"].to_numpy(float), process)
            for _, g in latest.groupby(["item_id", "location_id"], sort=False)
        ]))  # fmt: skip
    out: list[Alarm] = []
    for (item, loc), group in latest.groupby(["item_id", "location_id"], sort=True):
        days = list(group["period_start"])
        for t, direction, value in cusum(group["w"].to_numpy(dtype=float), k, h):
            out.append(Alarm(str(item), str(loc), pd.Timestamp(days[t]).date(), direction, value))
    return out


def in_control_arl(
    phi: float, k: float = K, h: float = H, chains: int = 4000, periods: int = 4000,
    seed: int = 0,
) -> float:  # fmt: skip
    """The in-control average run length (periods) of the two-sided CUSUM (k, h) on a
    stationary AR(1) N(0, 1) process of lag-1 autocorrelation ``phi``, by simulation: mean
    first signal over ``chains`` chains (a chain without a signal in ``periods`` counts
    ``periods``: a lower bound then)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(chains)
    up = np.zeros(chains)
    down = np.zeros(chains)
    first = np.full(chains, float(periods))
    alive = np.ones(chains, bool)
    scale = np.sqrt(1.0 - phi**2)
    for t in range(periods):
        if t:
            x = phi * x + scale * rng.standard_normal(chains)
        up = np.maximum(0.0, up + x - k)
        down = np.maximum(0.0, down - x - k)
        hit = alive & ((up > h) | (down > h))
        first[hit] = t + 1
        alive &= ~hit
        if not alive.any():
            break
    return float(first.mean())


def drift_exceptions(db: str | None, dataset: str) -> list[PlanException]:
    """The signals of the latest scored period of ``dataset``, as plan exceptions."""
    from echelon.storage.datastore import read_scores

    scores = read_scores(db, dataset)
    if scores.empty:
        return []
    last = pd.Timestamp(scores["period_start"].max()).date()
    return [to_exception(a) for a in alarms(scores) if a.period_start == last]


def to_exception(alarm: Alarm) -> PlanException:
    """A signal as a ``FORECAST_BIAS`` exception (high severity)."""
    side = "above" if alarm.direction == "up" else "below"
    return PlanException(
        kind=ExceptionKind.FORECAST_BIAS,
        severity=Severity.HIGH,
        message=(
            f"forecast drift: actual demand of '{alarm.item_id}' at '{alarm.location_id}' has "
            f"run {side} the plans' forecasts (CUSUM of the whitened errors "
            f"{alarm.statistic:.1f} > {H:g} standard deviations in the period from "
            f"{alarm.period_start}); check for a change in demand"
        ),
        item=alarm.item_id,
        location=alarm.location_id,
        value=round(alarm.statistic, 3),
    )
