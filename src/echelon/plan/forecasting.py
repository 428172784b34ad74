"""Forecasts for the plan: per item × store demand per period, its error spread and its bias.

Periods: the context's ``history`` — demand per period of ``config.period_days`` days ending
the day before the plan date, bucketed once by the loader (:mod:`echelon.plan.calendar`; a
series' incomplete first period is dropped). Each fit uses the ``config.history_periods`` most
recent periods before its cut-off (all when not set).

Two fits of :func:`echelon.forecast.service.forecast` with a small, fast candidate set
(:data:`PLAN_CANDIDATES`), each with a walk-forward backtest from up to
:data:`BACKTEST_ORIGINS` origins spread over the last year (:func:`backtest_windows`; the
champion per demand class minimises the scaled pinball loss of demand summed over
:data:`SELECT_PERIODS` periods over all of them):

- the **plan fit** on the whole history gives, per item × store, the backtest's error model
  (:class:`echelon.plan.ltd_error.LtdError`: persistent bias, the std of the error of demand
  summed over τ periods, the error paths the simulations resample), ``mean`` = the average
  forecast mean per period over the first :func:`held_periods` periods (the span the plan's
  levels are in force) plus the persistent bias, and ``std`` = the pooled
  one-period error std σ_1; without a backtest, the champion's one-period-ahead predictive
  spread ``(q0.9 − q0.1) / (2 · 1.2816)`` (exactly σ for a normal predictive distribution) and
  no error model (successive periods then independent, σ·√τ);
- the **hold-out fit** on the history before the last ``config.holdout_periods`` periods gives the
  forecast **bias** over those periods, ``(Σ forecast mean − Σ actual) / Σ actual`` (positive =
  over-forecast), the fan charts (:class:`ForecastSeries` with the hold-out actuals) and the
  inputs of the shadow-mode replay (:mod:`echelon.plan.shadow`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from echelon.forecast.data import validate_demand
from echelon.forecast.service import ForecastResult, Settings, forecast
from echelon.plan.context import PlanContext
from echelon.plan.ltd_error import LtdError, error_paths, pooled_models
from echelon.plan.model import ForecastSeries, PlanWarning, WarningKind

PLAN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("AutoETS", "HistoricAverage", "Naive", "AutoETS+season"),
    "erratic": ("AutoETS", "HistoricAverage", "Naive", "AutoETS+season"),
    "intermittent": ("CrostonSBA", "TSB", "HistoricAverage", "TSB+season"),
    "lumpy": ("CrostonSBA", "TSB", "HistoricAverage", "TSB+season"),
    "zero": ("Zero", "HistoricAverage"),
}
PLAN_TAUS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
Z90 = 1.2815515655446004  # Φ⁻¹(0.9): (q0.9 − q0.1) / (2·Z90) is σ for a normal distribution
HISTORY_TAIL = 26  # periods of history kept in a fan chart
MIN_TRAIN = 16  # periods of history a hold-out fit needs; shorter: no hold-out
SEP = "\x1f"  # joins item and location into a forecast series id
BACKTEST_ORIGINS = 6  # walk-forward origins of the error model, spread over the last year
SELECT_PERIODS = 4  # champions minimise the pinball loss of demand summed over this many periods
PLAN_MIN_HISTORY = 24  # periods a backtest origin needs before it
Progress = Callable[[str, float], None]


@dataclass
class SeriesForecast:
    """One item × store: demand per period (units) and how it was forecast."""

    item: str
    location: str
    mean: float  # per period, average over held_periods, plus the persistent backtest bias
    std: float  # forecast-error std per period σ_1 (module doc)
    model: str  # the champion model
    history_mean: float  # per period, over the history used
    history_std: float  # per period, over the history used
    bias: float | None = None  # over the hold-out periods; None without a hold-out
    actual_mean: float | None = None  # actual demand per period over the hold-out periods
    std_from_backtest: bool = True  # False: the fallback, the predictive spread (module doc)
    errors: LtdError | None = None  # the backtest error model; None: no backtest


@dataclass
class PlanForecasts:
    """Forecasts of every item × store (see the module doc for the conventions)."""

    as_of: date
    period_days: int
    history: pd.DataFrame  # all periods: item_id, location_id, ds (period start), y (units)
    series: dict[tuple[str, str], SeriesForecast]
    fan: list[ForecastSeries] = field(default_factory=list)
    holdout: dict[tuple[str, str], SeriesForecast] = field(default_factory=dict)
    holdout_periods: int = 0
    holdout_start: date | None = None  # first day of the hold-out periods (the calendar's)
    seconds: float = 0.0
    warnings: list[PlanWarning] = field(default_factory=list)

    def demand_paths(self, periods: int) -> dict[tuple[str, str], np.ndarray]:
        """The last ``periods`` periods of actual demand per item × store (units per period)."""
        out = {}
        for (item, loc), g in self.history.groupby(["item_id", "location_id"], sort=True):
            out[(str(item), str(loc))] = g["y"].to_numpy(float)[-periods:]
        return out


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


def _settings(hist: pd.DataFrame, period_days: int, horizon: int, seed: int) -> Settings:
    """The forecast settings of a plan fit on ``hist`` (module doc)."""
    _, season = _freq(period_days, hist["ds"])
    n_max = int(hist.groupby(["item_id", "location_id"]).size().max())
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
        candidates=dict(PLAN_CANDIDATES),
        n_windows=windows,
        step=step,
        min_history=PLAN_MIN_HISTORY,
        unconstrain=False,
        sf_window=max(2 * season, round(365 / period_days)) if period_days < 7 else season,
        season_groups=pools,
    )


def _fit(
    hist: pd.DataFrame,
    period_days: int,
    horizon: int,
    seed: int,
    pinned: Mapping[tuple[str, str], str] | None = None,
) -> tuple[ForecastResult, list[str]]:
    """The fit on ``hist`` (every candidate backtested, the champion per demand class), then
    the pinned series refitted with their pinned model (:func:`_pins`); returns the fit and
    the pins that are no candidate of their series ("item at store: model (class)")."""
    df = hist.assign(unique_id=hist["item_id"] + SEP + hist["location_id"])
    freq, _ = _freq(period_days, df["ds"])
    data = validate_demand(df[["unique_id", "ds", "y"]], source="demand.csv", freq=freq)
    st = _settings(hist, period_days, horizon, seed)
    fc = forecast(data, st)
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
    and the pins that are no candidate of their series' demand class (:data:`PLAN_CANDIDATES`;
    those series keep the free choice)."""
    classes = dict(
        zip(fc.classes["unique_id"].astype(str), fc.classes["demand_class"], strict=True)
    )
    chosen = fc.forecasts.groupby("unique_id", sort=False)["model"].first()
    refit: dict[str, list[str]] = {}
    rejected = []
    for (item, loc), model in sorted(pinned.items()):
        uid = item + SEP + loc
        if uid not in classes:
            continue  # not planned: nothing to pin
        cls = str(classes[uid])
        if model not in PLAN_CANDIDATES.get(cls, ()):
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


def held_periods(horizon: int, holdout_periods: int) -> int:
    """Periods the plan's levels are in force, over which its flat mean is averaged: the
    shadow-mode window (``holdout_periods``, the span one plan is replayed for) where there is
    one, else the forecast ``horizon``; at most the horizon (periods). A seasonal or trending
    forecast averaged over a longer span than the levels serve misstates the demand they
    meet (bench/README.md, calibration)."""
    return max(1, min(horizon, holdout_periods)) if holdout_periods > 0 else max(1, horizon)


def _error_models(fc: ForecastResult, models: pd.Series, held: int) -> dict[str, LtdError]:
    """Per series id: the error model of the champion's backtest (empty without one),
    against the flat mean over ``held`` periods, pooled by demand class
    (:func:`echelon.plan.ltd_error.pooled_models`)."""
    if fc.backtest is None or fc.backtest.forecasts.empty:
        return {}
    champions = {str(k): str(v) for k, v in models.items()}
    paths = error_paths(fc.backtest.forecasts, champions, held)
    classes = fc.classes
    groups = dict(zip(classes["unique_id"].astype(str), classes["demand_class"], strict=True))
    return pooled_models(paths, groups)


def _summaries(
    fc: ForecastResult, hist: pd.DataFrame, actual: pd.DataFrame | None, held: int
) -> dict[tuple[str, str], SeriesForecast]:
    """Per item × store: the :class:`SeriesForecast` of the fit ``fc`` (mean over its first
    ``held`` periods, :func:`held_periods`), with the hold-out bias against ``actual``."""
    f = fc.forecasts
    spread = (f["q0.9"] - f["q0.1"]).clip(lower=0.0) / (2.0 * Z90)
    g = f.assign(spread=spread).groupby("unique_id", sort=True)
    means = g.head(held).groupby("unique_id", sort=True)["mean"].mean()
    stds, models = g["spread"].first(), g["model"].first()
    errors = _error_models(fc, models, held)
    hstats = hist.groupby(["item_id", "location_id"])["y"].agg(["mean", "std"])
    h_mean, h_std = hstats["mean"].to_dict(), hstats["std"].to_dict()
    paths = _by_series(f, "unique_id", "mean")
    actuals = {} if actual is None else _by_series(_with_uid(actual), "unique_id", "y")
    out: dict[tuple[str, str], SeriesForecast] = {}
    for uid in means.index:
        item, loc = str(uid).split(SEP)
        bias = actual_mean = None
        if actual is not None:
            a = actuals.get(uid, np.zeros(0))
            fm = paths[uid][: len(a)]
            tot = float(a.sum())
            bias = float((fm.sum() - tot) / tot) if tot > 0 else None
            actual_mean = float(a.mean()) if len(a) else None
        hm, hs = float(h_mean[(item, loc)]), float(h_std[(item, loc)])
        err = errors.get(str(uid))
        out[(item, loc)] = SeriesForecast(
            item=item,
            location=loc,
            mean=max(0.0, float(means[uid]) + (err.bias if err is not None else 0.0)),
            std=max(0.0, float(err.curve[0]) if err is not None else float(stds[uid])),
            std_from_backtest=err is not None,
            errors=err,
            model=str(models[uid]),
            history_mean=hm,
            history_std=0.0 if np.isnan(hs) else hs,
            bias=bias,
            actual_mean=actual_mean,
        )
    return out


def _with_uid(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(unique_id=df["item_id"] + SEP + df["location_id"])


def _by_series(df: pd.DataFrame, key: str, col: str) -> dict[str, np.ndarray]:
    """``col`` of every series of ``df`` (grouped once, rows in their order)."""
    return {str(k): g[col].to_numpy(float) for k, g in df.groupby(key, sort=False)}


def _fan(fc: ForecastResult, hist: pd.DataFrame, actual: pd.DataFrame) -> list[ForecastSeries]:
    out = []
    tails = dict(tuple(_with_uid(hist).groupby("unique_id", sort=False)))
    actuals = dict(tuple(_with_uid(actual).groupby("unique_id", sort=False)))
    empty = actual.iloc[0:0]
    for uid, g in fc.forecasts.groupby("unique_id", sort=True):
        item, loc = str(uid).split(SEP)
        h = tails[uid].tail(HISTORY_TAIL) if uid in tails else hist.iloc[0:0]
        a = actuals.get(uid, empty)
        known = dict(zip(a["ds"], a["y"].astype(float), strict=True))
        ds = pd.to_datetime(g["ds"]).tolist()
        qs = {f"{t:g}": g[f"q{t:g}"].astype(float).tolist() for t in PLAN_TAUS}
        out.append(
            ForecastSeries(
                item=item,
                location=loc,
                model=str(g["model"].iloc[0]),
                history_ds=[d.date() for d in pd.to_datetime(h["ds"])],
                history=h["y"].astype(float).tolist(),
                ds=[d.date() for d in ds],
                actual=[known.get(d) for d in ds],
                mean=g["mean"].astype(float).tolist(),
                quantiles=qs,
            )
        )
    return out


def plan_forecasts(ctx: PlanContext, progress: Progress | None = None) -> PlanForecasts:
    """Forecast every item × store (plan fit and hold-out fit; see the module doc)."""
    start = time.perf_counter()
    cfg = ctx.config
    full = ctx.history
    keep = cfg.history_periods
    hist = full if keep is None else full.groupby(["item_id", "location_id"]).tail(keep)
    n_per = int(full.groupby(["item_id", "location_id"]).size().min())
    hold = int(cfg.holdout_periods) if n_per - cfg.holdout_periods >= MIN_TRAIN else 0
    if progress:
        progress("forecast", 0.0)
    held = held_periods(cfg.horizon, cfg.holdout_periods)
    fit, unpinned = _fit(hist, cfg.period_days, cfg.horizon, cfg.seed, ctx.pinned)
    series = _summaries(fit, hist, None, held)
    result = PlanForecasts(ctx.as_of, int(cfg.period_days), full, series)
    if hold > 0:
        if progress:
            progress("forecast", 0.5)
        cut = pd.Timestamp(ctx.calendar.holdout_start(hold))
        fit, train, test = _origin_fit(ctx, cut, hold)
        result.holdout = _summaries(fit, train, test, held)
        result.fan = _fan(fit, train, test)
        result.holdout_periods = hold
        result.holdout_start = cut.date()
        for key, s in result.series.items():
            h = result.holdout.get(key)
            s.bias = h.bias if h is not None else None
            s.actual_mean = h.actual_mean if h is not None else None
    result.warnings = [*_fallback_warnings(result, cfg.holdout_periods), *_pin_warnings(unpinned)]
    if progress:
        progress("forecast", 1.0)
    result.seconds = time.perf_counter() - start
    return result


def _origin_fit(
    ctx: PlanContext, cut: pd.Timestamp, hold: int
) -> tuple[ForecastResult, pd.DataFrame, pd.DataFrame]:
    """The fit on the history before ``cut`` (its ``history_periods`` most recent periods)
    and the ``hold`` periods from ``cut`` on: (fit, train, test)."""
    cfg = ctx.config
    full = ctx.history
    train = full[full["ds"] < cut]
    end = cut + pd.Timedelta(days=hold * cfg.period_days)
    test = full[(full["ds"] >= cut) & (full["ds"] < end)]
    if cfg.history_periods is not None:
        train = train.groupby(["item_id", "location_id"]).tail(cfg.history_periods)
    fit, _ = _fit(train, cfg.period_days, max(cfg.horizon, hold), cfg.seed, ctx.pinned)
    return fit, train, test


def origin_view(ctx: PlanContext, cut: date, hold: int) -> PlanForecasts | None:
    """The forecasts as of an earlier origin ``cut`` (only the history before it), for a
    shadow-mode window of ``hold`` periods; None when a series has fewer than
    :data:`MIN_TRAIN` periods before it."""
    before = ctx.history[ctx.history["ds"] < pd.Timestamp(cut)]
    if before.empty or int(before.groupby(["item_id", "location_id"]).size().min()) < MIN_TRAIN:
        return None
    fit, train, test = _origin_fit(ctx, pd.Timestamp(cut), hold)
    held = held_periods(ctx.config.horizon, hold)
    return PlanForecasts(cut, ctx.config.period_days, before, _summaries(fit, train, test, held))


def _fallback_warnings(fc: PlanForecasts, holdout_asked: int) -> list[PlanWarning]:
    """What the forecasts could not do as documented: no hold-out window, or an error spread
    taken from the predictive quantiles because the series had no backtest."""
    out = []
    if holdout_asked > 0 and fc.holdout_periods == 0:
        out.append(
            PlanWarning(
                kind=WarningKind.NO_HOLDOUT,
                message=f"the shortest series has fewer than {MIN_TRAIN} periods before the "
                f"{holdout_asked} held out: no hold-out fit, no forecast bias and no shadow mode",
                value=float(holdout_asked),
            )
        )
    spread = sorted(f"{i} at {loc}" for (i, loc), s in fc.series.items() if not s.std_from_backtest)
    if spread:
        shown = ", ".join(spread[:5]) + (f" and {len(spread) - 5} more" if len(spread) > 5 else "")
        out.append(
            PlanWarning(
                kind=WarningKind.FALLBACK,
                message=f"{len(spread)} series without a backtest window ({shown}): their "
                "forecast-error spread is the model's predictive spread, not a measured error",
                value=float(len(spread)),
            )
        )
    return out


def _pin_warnings(rejected: list[str]) -> list[PlanWarning]:
    """One warning for the pinned models that are no candidate of their series."""
    if not rejected:
        return []
    shown = "; ".join(rejected[:5]) + (
        f" and {len(rejected) - 5} more" if len(rejected) > 5 else ""
    )
    return [
        PlanWarning(
            kind=WarningKind.FALLBACK,
            message=f"{len(rejected)} pinned forecast models are no candidate of their series' "
            f"demand class ({shown}): those series use the champion chosen by the backtest",
            value=float(len(rejected)),
        )
    ]
