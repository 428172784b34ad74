"""The plan's forecast fits: the candidate models per demand class, the walk-forward backtest
windows and the fit itself (:func:`_fit`, with the pinned models refitted), which
:mod:`echelon.plan.forecasting` summarises per item × store. Demand in units per period of
``config.period_days`` days; horizons, windows and steps in periods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from echelon.forecast.backtest import BacktestResult
from echelon.forecast.data import validate_demand
from echelon.forecast.engine import resolve_engine
from echelon.forecast.service import ForecastResult, Settings, forecast

PLAN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("AutoETS", "HistoricAverage", "Naive", "AutoETS+season"),
    "erratic": ("AutoETS", "HistoricAverage", "Naive", "AutoETS+season"),
    "intermittent": ("CrostonSBA", "TSB", "HistoricAverage", "TSB+season"),
    "lumpy": ("CrostonSBA", "TSB", "HistoricAverage", "TSB+season"),
    "zero": ("Zero", "HistoricAverage"),
}
PLAN_TAUS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
SEP = "\x1f"  # joins item and location into a forecast series id
BACKTEST_ORIGINS = 6  # walk-forward origins of the error model, spread over the last year
SELECT_PERIODS = 4  # champions minimise the pinball loss of demand summed over this many periods
PLAN_MIN_HISTORY = 24  # periods a backtest origin needs before it
#: series per demand class that backtest every candidate; the others backtest their class's
#: champion only (``Settings.select_sample``; whole items are drawn: the season pools)
PLAN_SELECT_SAMPLE: int | None = None  # off: no CPU gain measured at 40-100 items (bench/README.md)
#: the pooled-trend challenger (:mod:`echelon.forecast.seasonal`), added to every class but
#: "zero" when :data:`PLAN_TREND` is on; on by default since it was measured on every set
#: (bench/README.md, 2026-12-05 wt96)
TREND_CANDIDATE = "HistoricAverage+trend"
PLAN_TREND = True


def plan_candidates() -> dict[str, tuple[str, ...]]:
    """The candidates per demand class: :data:`PLAN_CANDIDATES`, with
    :data:`TREND_CANDIDATE` in every class but "zero" when :data:`PLAN_TREND` is on."""
    if not PLAN_TREND:
        return dict(PLAN_CANDIDATES)
    return {c: m if c == "zero" else (*m, TREND_CANDIDATE) for c, m in PLAN_CANDIDATES.items()}


def _freq(period_days: int, ds: pd.Series) -> tuple[str, int]:
    """A pandas frequency alias for the period grid and its season length (periods)."""
    if period_days == 1:
        return "D", 7
    if period_days == 7:
        return "W-" + pd.Timestamp(ds.iloc[0]).day_name()[:3].upper(), 52
    return f"{period_days}D", max(1, round(365 / period_days))


def backtest_windows(n_max: int, horizon: int, period_days: int) -> tuple[int, int]:
    """(origins, step in periods) of the plan's backtest: up to :data:`BACKTEST_ORIGINS`
    origins ``step`` apart over the last year, as many as the longest series (``n_max``
    periods) allows with :data:`PLAN_MIN_HISTORY` periods before the earliest."""
    year = max(1, round(365 / period_days))
    step = max(1, (year - horizon) // (BACKTEST_ORIGINS - 1))
    room = n_max - horizon - PLAN_MIN_HISTORY - 1
    return max(1, min(BACKTEST_ORIGINS, room // step + 1)), step


def _settings(
    hist: pd.DataFrame, period_days: int, horizon: int, seed: int, engine: str = "auto"
) -> Settings:
    """The forecast settings of a plan fit on ``hist`` (module doc); ``engine``: plan.yaml's
    ``forecast_engine`` (:func:`echelon.forecast.engine.resolve_engine`)."""
    _, season = _freq(period_days, hist["ds"])
    sizes = hist.groupby(["item_id", "location_id"]).size()
    n_max = int(sizes.max())
    uids = hist["item_id"] + SEP + hist["location_id"]
    pools = dict(zip(uids, hist["item_id"], strict=True))  # season: pooled per item
    windows, step = backtest_windows(n_max, horizon, period_days)
    return Settings(
        horizon=horizon,
        taus=PLAN_TAUS,
        lead_times=(min(SELECT_PERIODS, horizon),),
        season=season,
        n_paths=200,
        seed=seed,
        candidates=plan_candidates(),
        n_windows=windows,
        step=step,
        min_history=PLAN_MIN_HISTORY,
        unconstrain=False,
        sf_window=max(2 * season, round(365 / period_days)) if period_days < 7 else season,
        season_groups=pools,
        select_sample=PLAN_SELECT_SAMPLE,
        engine=resolve_engine(engine, len(sizes)),
    )


def _fit(
    hist: pd.DataFrame,
    period_days: int,
    horizon: int,
    seed: int,
    pinned: Mapping[tuple[str, str], str] | None = None,
    scored: BacktestResult | None = None,
    engine: str = "auto",
) -> tuple[ForecastResult, list[str]]:
    """The fit on ``hist`` (every candidate backtested, the champion per demand class; with
    ``scored``, the champions and error models of those backtest windows instead, run before:
    :func:`echelon.plan.forecasting.earlier_windows`), then the pinned series refitted with
    their pinned model (:func:`_pins`); returns the fit and the pins that are no candidate of
    their series ("item at store: model (class)")."""
    df = hist.assign(unique_id=hist["item_id"] + SEP + hist["location_id"])
    freq, _ = _freq(period_days, df["ds"])
    data = validate_demand(df[["unique_id", "ds", "y"]], source="demand.csv", freq=freq)
    st = _settings(hist, period_days, horizon, seed, engine)
    if scored is None:
        fc = forecast(data, st)
    else:
        fc = replace(forecast(data, st, champions=scored.champions), backtest=scored)
    refit, rejected = _pins(fc, pinned or {})
    for model, uids in refit.items():
        sub = validate_demand(
            df.loc[df["unique_id"].isin(uids), ["unique_id", "ds", "y"]],
            source="demand.csv",
            freq=freq,
        )
        classes = sorted({*PLAN_CANDIDATES, "short"})
        table = pd.DataFrame({"demand_class": classes, "champion": [model] * len(classes)})
        fc = _replace_series(fc, forecast(sub, st, champions=table), set(uids))
    return fc, rejected


def _pins(
    fc: ForecastResult, pinned: Mapping[tuple[str, str], str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Pinned model → the series ids to refit with it (those whose free champion differs),
    and the pins that are no candidate of their series' demand class (:func:`plan_candidates`;
    those series keep the free choice)."""
    classes = dict(
        zip(fc.classes["unique_id"].astype(str), fc.classes["demand_class"], strict=True)
    )
    chosen = fc.forecasts.groupby("unique_id", sort=False)["model"].first()
    refit: dict[str, list[str]] = {}
    rejected = []
    candidates = plan_candidates()
    for (item, loc), model in sorted(pinned.items()):
        uid = item + SEP + loc
        if uid not in classes:
            continue  # not planned: nothing to pin
        cls = str(classes[uid])
        if model not in candidates.get(cls, ()):
            rejected.append(f"{item} at {loc}: {model} ({cls})")
        elif str(chosen.get(uid)) != model:
            refit.setdefault(model, []).append(uid)
    return refit, rejected


def _replace_series(fc: ForecastResult, new: ForecastResult, uids: set[str]) -> ForecastResult:
    """``fc`` with the forecasts and lead-time demand of the series ``uids`` from ``new``
    (its backtest and classes kept)."""

    def swap(old: pd.DataFrame, repl: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        kept = old[~old["unique_id"].astype(str).isin(uids)] if len(old) else old
        both = pd.concat([kept, repl], ignore_index=True) if len(repl) else kept
        return both.sort_values(by).reset_index(drop=True)

    return replace(
        fc,
        forecasts=swap(fc.forecasts, new.forecasts, ["unique_id", "ds"]),
        leadtime=swap(fc.leadtime, new.leadtime, ["unique_id", "lead_time"]),
    )
