"""Nowcasting late data: the days a store has not reported yet, estimated and chosen by backtest.

Stores report with a lag (12–48 hours): on the plan date the last one or two days of some stores
are missing. A :class:`Panel` holds the daily demand of every item × store series (units per day,
NaN = not reported); each nowcaster estimates the cells of a ``targets`` mask from the cells
that are known:

- ``zero``: 0 (what planning on unreported days does);
- ``carry_forward``: the series' last reported day;
- ``seasonal_naive``: the same weekday one week earlier;
- ``reporting_ratio``: the mean of the series' same weekday over the last :data:`WEEKS` weeks,
  times the ratio of today's sales to that same-weekday mean at the stores that did report the
  item (a structural estimator: the reporting stores carry the day's common shock — a holiday,
  a SNAP day, the weather);
- ``lstm``: a torch LSTM (:mod:`echelon.monitor.lstm`) on the series' last four weeks and the
  reporting stores' sales of the item, trained on the history with the last days masked.

:func:`backtest` masks the last 1–2 days of a random share of the stores at several origins of
the history and scores each nowcaster by WAPE (Σ|error| / Σ actual over the masked cells);
:func:`choose` takes the lowest. Imputed values are stored as such (``data_demand.imputed``,
``method``) and replaced when the real rows arrive (:mod:`echelon.storage.datastore`).

Why not PyPOTS: its models (SAITS, BRITS, ...) impute gaps anywhere in a multivariate series
for research benchmarks and bring a large dependency tree; the gap here has one shape — the
last days of some series at the edge of the data — which a small LSTM with the reporting
stores as an input learns directly, in the torch the project already pins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

WEEKS = 4  # same-weekday weeks averaged by reporting_ratio
MASK_SHARE = 0.3  # share of stores masked in the backtest
MASK_DAYS = (1, 2)  # days masked at the end, drawn per masked store


@dataclass(frozen=True)
class Panel:
    """Daily demand: ``y[series, day]`` (units, NaN = not reported); ``series`` are
    (item, store) pairs, ``days`` consecutive calendar days."""

    series: list[tuple[str, str]]
    days: pd.DatetimeIndex
    y: np.ndarray

    @property
    def items(self) -> np.ndarray:
        return np.array([s[0] for s in self.series])

    @property
    def stores(self) -> np.ndarray:
        return np.array([s[1] for s in self.series])


Nowcaster = Callable[[Panel, np.ndarray], np.ndarray]


def panel(demand: pd.DataFrame) -> Panel:
    """The panel of real daily rows (item_id, location_id, ds, y); days without a row: NaN."""
    wide = demand.pivot_table(index=["item_id", "location_id"], columns="ds", values="y",
                              aggfunc="sum")  # fmt: skip
    days = pd.date_range(wide.columns.min(), wide.columns.max(), freq="D")
    wide = wide.reindex(columns=days)
    return Panel([(str(i), str(s)) for i, s in wide.index], days, wide.to_numpy(dtype=float))


def unreported(p: Panel) -> np.ndarray:
    """The cells after each series' last reported day (its reporting lag), as a mask."""
    known = ~np.isnan(p.y)
    last = np.where(known.any(axis=1), p.y.shape[1] - 1 - np.argmax(known[:, ::-1], axis=1), -1)
    return np.arange(p.y.shape[1])[None, :] > last[:, None]


def zero(p: Panel, targets: np.ndarray) -> np.ndarray:
    return np.where(targets, 0.0, np.nan)


def carry_forward(p: Panel, targets: np.ndarray) -> np.ndarray:
    """Each target cell: the last known value of its series before it."""
    frame = pd.DataFrame(np.where(targets, np.nan, p.y)).ffill(axis=1).to_numpy()
    return np.where(targets, np.nan_to_num(frame), np.nan)


def seasonal_naive(p: Panel, targets: np.ndarray) -> np.ndarray:
    """Each target cell: the series' value 7 days earlier (estimated the same way if unknown)."""
    y = np.where(targets, np.nan, p.y)
    out = np.full_like(y, np.nan)
    for t in np.flatnonzero(targets.any(axis=0)):
        rows = targets[:, t]
        back = y[rows, t - 7] if t >= 7 else np.zeros(rows.sum())
        out[rows, t] = np.nan_to_num(back)
        y[rows, t] = out[rows, t]
    return out


def weekday_mean(y: np.ndarray, t: int, weeks: int = WEEKS) -> np.ndarray:
    """Per series, the mean of the known values on days t − 7, t − 14, ... (``weeks`` of them;
    0 where none is known)."""
    lags = [t - 7 * w for w in range(1, weeks + 1) if t - 7 * w >= 0]
    if not lags:
        return np.zeros(y.shape[0])
    block = y[:, lags]
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(np.nanmean(block, axis=1))


def reporting_ratio(p: Panel, targets: np.ndarray) -> np.ndarray:
    """Same-weekday mean × the reporting stores' ratio of today to their same-weekday mean
    (module doc); without a reporting store of the item: the same-weekday mean."""
    y = np.where(targets, np.nan, p.y)
    items = p.items
    out = np.full_like(y, np.nan)
    for t in np.flatnonzero(targets.any(axis=0)):
        base = weekday_mean(y, int(t))
        known = ~np.isnan(y[:, t])
        for item in np.unique(items[targets[:, t]]):
            same = items == item
            rep = same & known
            rows = same & targets[:, t]
            denom = base[rep].sum()
            ratio = y[rep, t].sum() / denom if rep.any() and denom > 0 else 1.0
            out[rows, t] = base[rows] * ratio
    return out


BASELINES: dict[str, Nowcaster] = {
    "zero": zero,
    "carry_forward": carry_forward,
    "seasonal_naive": seasonal_naive,
    "reporting_ratio": reporting_ratio,
}


def mask_last_days(
    p: Panel, origin: int, rng: np.random.Generator, share: float = MASK_SHARE
) -> tuple[Panel, np.ndarray]:
    """The panel cut after day ``origin`` with the last 1–2 days of a random ``share`` of the
    stores masked; returns the cut panel (masked cells NaN) and the mask."""
    cut = p.y[:, : origin + 1].copy()
    stores = np.unique(p.stores)
    chosen = rng.choice(stores, size=max(1, round(share * len(stores))), replace=False)
    mask = np.zeros_like(cut, dtype=bool)
    for store in chosen:
        days = int(rng.choice(MASK_DAYS))
        mask[p.stores == store, origin + 1 - days : origin + 1] = True
    mask &= ~np.isnan(cut)
    cut[mask] = np.nan
    return Panel(p.series, p.days[: origin + 1], cut), mask


def wape(estimate: np.ndarray, actual: np.ndarray, mask: np.ndarray) -> float:
    """Σ|estimate − actual| / Σ actual over the masked cells."""
    total = float(actual[mask].sum())
    return float(np.abs(estimate[mask] - actual[mask]).sum() / max(total, 1e-9))


def backtest(
    p: Panel,
    methods: dict[str, Nowcaster],
    origins: Sequence[int],
    seed: int = 0,
    share: float = MASK_SHARE,
) -> dict[str, float]:
    """WAPE of each nowcaster over the masked cells of every origin (pooled; module doc)."""
    rng = np.random.default_rng(seed)
    err = dict.fromkeys(methods, 0.0)
    total = 0.0
    for origin in origins:
        cut, mask = mask_last_days(p, origin, rng, share)
        actual = p.y[:, : origin + 1]
        total += float(actual[mask].sum())
        for name, method in methods.items():
            est = method(cut, mask)
            err[name] += float(np.abs(est[mask] - actual[mask]).sum())
    return {name: e / max(total, 1e-9) for name, e in err.items()}


def choose(scores: dict[str, float]) -> str:
    """The nowcaster with the lowest backtest WAPE (ties: the first in ``scores``)."""
    return min(scores, key=lambda name: scores[name])


def backtest_origins(p: Panel, count: int = 8, spacing: int = 7) -> list[int]:
    """``count`` origins ``spacing`` days apart ending one week before the panel's end."""
    last = p.y.shape[1] - 1 - spacing
    return [last - spacing * k for k in range(count) if last - spacing * k > 7 * (WEEKS + 1)]


@dataclass(frozen=True)
class NowcastOutcome:
    """What :func:`nowcast_frame` chose: the method, every candidate's backtest WAPE and the
    nowcast rows (item_id, location_id, ds, y, method)."""

    method: str
    scores: dict[str, float]
    rows: pd.DataFrame


def candidates(p: Panel, seed: int = 0) -> dict[str, Nowcaster]:
    """The baselines, and the LSTM fitted on ``p`` where torch is installed."""
    methods = dict(BASELINES)
    try:
        from echelon.monitor.lstm import LstmNowcaster

        methods["lstm"] = LstmNowcaster(seed=seed).fit(p)
    except ModuleNotFoundError:  # torch is an optional extra: the baselines remain
        pass
    return methods


def nowcast_frame(
    demand: pd.DataFrame, seed: int = 0, pick: Callable[[dict[str, float]], str] = choose
) -> NowcastOutcome:
    """Nowcast every unreported day of the real rows ``demand`` (up to the latest day any store
    reported) with the nowcaster ``pick`` takes from the backtest WAPEs on the same data (by
    default the lowest; the store applies the retraining policy, :mod:`echelon.monitor.retrain`)."""
    p = panel(demand)
    targets = unreported(p)
    methods = candidates(p, seed)
    scores = backtest(p, methods, backtest_origins(p), seed=seed)
    method = pick(scores)
    est = methods[method](p, targets)
    rows, days = np.nonzero(targets)
    frame = pd.DataFrame(
        {
            "item_id": [p.series[r][0] for r in rows],
            "location_id": [p.series[r][1] for r in rows],
            "ds": p.days[days],
            "y": est[rows, days],
            "method": method,
        }
    )
    return NowcastOutcome(method, scores, frame)
