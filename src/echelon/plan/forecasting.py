"""Forecasts for the plan: per item × store demand per period, its error spread and its bias.

Periods: the context's ``history`` — demand per period of ``config.period_days`` days ending
the day before the plan date, bucketed once by the loader (:mod:`echelon.plan.calendar`; a
series' incomplete first period is dropped). Each fit uses the ``config.history_periods`` most
recent periods before its cut-off (all when not set).

Two fits of :func:`echelon.forecast.service.forecast` (:func:`echelon.plan.forecast_fit._fit`)
with a small, fast candidate set (:data:`echelon.plan.forecast_fit.PLAN_CANDIDATES`; fitted by
statsforecast or the batched engine, plan.yaml's ``forecast_engine``,
:func:`echelon.forecast.engine.resolve_engine`), each with a walk-forward backtest from up to
:data:`~echelon.plan.forecast_fit.BACKTEST_ORIGINS` origins spread over the last year
(:func:`echelon.plan.forecast_fit.backtest_windows`; the champion per demand class minimises
the scaled pinball loss of demand summed over :data:`~echelon.plan.forecast_fit.SELECT_PERIODS`
periods over all of them; in a catalogue with more than
:data:`~echelon.plan.forecast_fit.PLAN_SELECT_SAMPLE` series of a class (when set; off by
default), every candidate is backtested on a random sample of whole items holding at least
that many series of every class, and the other series backtest only their class's champion,
:func:`echelon.forecast.service.selection_sample`):

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
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from echelon.forecast.backtest import BacktestResult, choose_champions
from echelon.forecast.data import series_rows
from echelon.forecast.service import ForecastResult
from echelon.plan.context import PlanContext
from echelon.plan.forecast_fit import PLAN_TAUS, SEP, _fit
from echelon.plan.ltd_error import LtdError, error_paths, pooled_models
from echelon.plan.model import ForecastSeries, PlanWarning, WarningKind
from echelon.plan.shadow_sample import shadow_sample
from echelon.plan.store_segments import spread_segments

Z90 = 1.2815515655446004  # Φ⁻¹(0.9): (q0.9 − q0.1) / (2·Z90) is σ for a normal distribution
HISTORY_TAIL = 26  # periods of history kept in a fan chart
MIN_TRAIN = 16  # periods of history a hold-out fit needs; shorter: no hold-out
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
    #: the plan fit's backtest for the rolling shadow mode's earlier origins (the shadow
    #: sample's series; :func:`origin_view`); None without one or without such origins
    backtest: BacktestResult | None = None

    def demand_paths(self, periods: int) -> dict[tuple[str, str], np.ndarray]:
        """The last ``periods`` periods of actual demand per item × store (units per period)."""
        out = {}
        for (item, loc), g in self.history.groupby(["item_id", "location_id"], sort=True):
            out[(str(item), str(loc))] = g["y"].to_numpy(float)[-periods:]
        return out


def held_periods(horizon: int, holdout_periods: int) -> int:
    """Periods the plan's levels are in force, over which its flat mean is averaged: the
    shadow-mode window (``holdout_periods``, the span one plan is replayed for) where there is
    one, else the forecast ``horizon``; at most the horizon (periods). A seasonal or trending
    forecast averaged over a longer span than the levels serve misstates the demand they
    meet (bench/README.md, calibration)."""
    return max(1, min(horizon, holdout_periods)) if holdout_periods > 0 else max(1, horizon)


def _error_models(
    fc: ForecastResult, models: pd.Series, held: int, segments: Mapping[str, str] | None = None
) -> dict[str, LtdError]:
    """Per series id: the error model of the champion's backtest (empty without one),
    against the flat mean over ``held`` periods, pooled by demand class, its spread factor
    per ``segments`` within it (:func:`echelon.plan.ltd_error.pooled_models`)."""
    if fc.backtest is None or fc.backtest.forecasts.empty:
        return {}
    champions = {str(k): str(v) for k, v in models.items()}
    paths = error_paths(fc.backtest.forecasts, champions, held)
    classes = fc.classes
    groups = dict(zip(classes["unique_id"].astype(str), classes["demand_class"], strict=True))
    return pooled_models(paths, groups, segments)


def _summaries(
    fc: ForecastResult,
    hist: pd.DataFrame,
    actual: pd.DataFrame | None,
    held: int,
    segments: Mapping[str, str] | None = None,
) -> dict[tuple[str, str], SeriesForecast]:
    """Per item × store: the :class:`SeriesForecast` of the fit ``fc`` (mean over its first
    ``held`` periods, :func:`held_periods`), with the hold-out bias against ``actual``."""
    f = fc.forecasts
    spread = (f["q0.9"] - f["q0.1"]).clip(lower=0.0) / (2.0 * Z90)
    g = f.assign(spread=spread).groupby("unique_id", sort=True)
    means = g.head(held).groupby("unique_id", sort=True)["mean"].mean()
    stds, models = g["spread"].first(), g["model"].first()
    errors = _error_models(fc, models, held, segments)
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
    index, order, bounds = series_rows(df[key])
    vals = df[col].to_numpy(float)[order]
    return {str(u): vals[bounds[k] : bounds[k + 1]] for k, u in enumerate(index)}


def _fan(
    fc: ForecastResult,
    hist: pd.DataFrame,
    actual: pd.DataFrame,
    plan_models: Mapping[tuple[str, str], str],
) -> list[ForecastSeries]:
    """The fan chart of every series (ids sorted): the last :data:`HISTORY_TAIL` periods of
    ``hist``, the forecasts and quantiles of ``fc``, the actuals of ``actual`` on the forecast
    periods (None where there is none), and the plan fit's model of the series (``plan_models``:
    item × store → model). Every table is grouped once."""
    f = fc.forecasts
    fids = f["unique_id"].astype(str).to_numpy()
    act = _with_uid(actual).drop_duplicates(["unique_id", "ds"], keep="last")
    known = f[["unique_id", "ds"]].merge(
        act[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="left", indicator=True
    )
    found = (known["_merge"] == "both").to_numpy()
    a_vals = known["y"].astype(float).to_numpy()
    f_dates = pd.to_datetime(f["ds"]).dt.date.to_numpy()
    cols = {"mean": f["mean"].astype(float).to_numpy()}
    cols |= {f"{t:g}": f[f"q{t:g}"].astype(float).to_numpy() for t in PLAN_TAUS}
    models = f["model"].to_numpy()
    h = _with_uid(hist)
    h_index, h_order, h_bounds = series_rows(h["unique_id"].astype(str))
    h_dates = pd.to_datetime(h["ds"]).dt.date.to_numpy()[h_order]
    h_y = h["y"].astype(float).to_numpy()[h_order]
    h_pos = dict(zip(h_index, range(len(h_index)), strict=True))
    f_index, f_order, f_bounds = series_rows(fids)
    out = []
    for k in np.argsort(f_index.to_numpy(dtype=str), kind="stable"):
        uid = str(f_index[k])
        rows = f_order[f_bounds[k] : f_bounds[k + 1]]
        item, loc = uid.split(SEP)
        j = h_pos.get(uid)
        lo, hi = (0, 0) if j is None else (h_bounds[j], h_bounds[j + 1])
        lo = max(lo, hi - HISTORY_TAIL)
        out.append(
            ForecastSeries(
                item=item,
                location=loc,
                model=str(models[rows[0]]),
                plan_model=plan_models.get((item, loc)),
                history_ds=h_dates[lo:hi].tolist(),
                history=h_y[lo:hi].tolist(),
                ds=f_dates[rows].tolist(),
                actual=[float(a_vals[r]) if found[r] else None for r in rows],
                mean=cols["mean"][rows].tolist(),
                quantiles={f"{t:g}": cols[f"{t:g}"][rows].tolist() for t in PLAN_TAUS},
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
    fit, unpinned = _fit(
        hist, cfg.period_days, cfg.horizon, cfg.seed, ctx.pinned, engine=cfg.forecast_engine
    )
    segs = spread_segments(ctx, full, SEP)
    series = _summaries(fit, hist, None, held, segs)
    result = PlanForecasts(ctx.as_of, int(cfg.period_days), full, series)
    plan_fit = fit
    if hold > 0:
        if progress:
            progress("forecast", 0.5)
        cut = pd.Timestamp(ctx.calendar.holdout_start(hold))
        fit, train, test = _origin_fit(ctx, cut, hold)
        result.holdout = _summaries(fit, train, test, held, segs)
        plan_models = {key: s.model for key, s in result.series.items()}
        result.fan = _fan(fit, train, test, plan_models)
        result.holdout_periods = hold
        result.holdout_start = cut.date()
        for key, s in result.series.items():
            h = result.holdout.get(key)
            s.bias = h.bias if h is not None else None
            s.actual_mean = h.actual_mean if h is not None else None
        result.backtest = shadow_backtest(ctx, plan_fit, hold)
    result.warnings = [*_fallback_warnings(result, cfg.holdout_periods), *_pin_warnings(unpinned)]
    if progress:
        progress("forecast", 1.0)
    result.seconds = time.perf_counter() - start
    return result


def _origin_fit(
    ctx: PlanContext, cut: pd.Timestamp, hold: int, backtest: BacktestResult | None = None
) -> tuple[ForecastResult, pd.DataFrame, pd.DataFrame]:
    """The fit on the history before ``cut`` (its ``history_periods`` most recent periods)
    and the ``hold`` periods from ``cut`` on: (fit, train, test). With ``backtest`` (the plan
    fit's), the champions and error models come from its windows run entirely before ``cut``
    (:func:`earlier_windows`) instead of a backtest of their own; where none is, the origin
    is backtested afresh."""
    cfg = ctx.config
    full = ctx.history
    train = full[full["ds"] < cut]
    end = cut + pd.Timedelta(days=hold * cfg.period_days)
    test = full[(full["ds"] >= cut) & (full["ds"] < end)]
    if cfg.history_periods is not None:
        train = train.groupby(["item_id", "location_id"]).tail(cfg.history_periods)
    scored = None if backtest is None else earlier_windows(backtest, cut)
    horizon = max(cfg.horizon, hold)
    engine = cfg.forecast_engine
    fit, _ = _fit(train, cfg.period_days, horizon, cfg.seed, ctx.pinned, scored, engine)
    return fit, train, test


def earlier_windows(backtest: BacktestResult, cut: pd.Timestamp) -> BacktestResult | None:
    """The windows of ``backtest`` whose every scored period is before ``cut`` (trained and
    scored on data before it), with the champions chosen on them alone; None when none is."""
    f = backtest.forecasts
    if f.empty:
        return None
    last = f.groupby("cutoff")["ds"].max()
    keep = set(last.index[last < cut])
    if not keep:
        return None
    scores = backtest.scores[backtest.scores["cutoff"].isin(keep)]
    return BacktestResult(
        scores=scores,
        forecasts=f[f["cutoff"].isin(keep)],
        champions=choose_champions(scores, backtest.criterion),
        criterion=backtest.criterion,
    )


def shadow_backtest(ctx: PlanContext, fit: ForecastResult, hold: int) -> BacktestResult | None:
    """The plan fit's backtest kept for the rolling shadow mode's earlier origins (``as_of −
    k·hold`` periods, k ≥ 2): the windows run before the latest of them, the rows of the shadow
    sample's series (:func:`echelon.plan.shadow_sample.shadow_sample`) and the columns the
    champions and error models read; None without such a window or origin."""
    if fit.backtest is None or ctx.config.shadow_origins < 2:
        return None
    cut = pd.Timestamp(ctx.as_of - timedelta(days=2 * hold * ctx.config.period_days))
    bt = earlier_windows(fit.backtest, cut)
    if bt is None:
        return None
    items = set(shadow_sample(ctx))
    uid = bt.forecasts["unique_id"].astype(str)
    codes, ids = pd.factorize(uid)  # each series id split once, not each row's
    keep = np.array([str(u).split(SEP)[0] in items for u in ids], dtype=bool)
    rows = pd.Series(keep[codes] if len(ids) else np.zeros(len(uid), bool), index=uid.index)
    uids = set(uid[rows])
    score_cols = ["unique_id", "cutoff", "model", "demand_class", bt.criterion, "mase"]
    return BacktestResult(
        scores=bt.scores.loc[bt.scores["unique_id"].astype(str).isin(uids), score_cols],
        forecasts=bt.forecasts.loc[rows, ["unique_id", "cutoff", "ds", "model", "mean", "y"]],
        champions=bt.champions,
        criterion=bt.criterion,
    )


def origin_view(
    ctx: PlanContext, cut: date, hold: int, backtest: BacktestResult | None = None
) -> PlanForecasts | None:
    """The forecasts as of an earlier origin ``cut`` (only the history before it), for a
    shadow-mode window of ``hold`` periods; None when a series has fewer than
    :data:`MIN_TRAIN` periods before it. ``backtest``: the plan fit's
    (:attr:`PlanForecasts.backtest`), whose windows before ``cut`` stand in for the origin's own
    backtest (:func:`_origin_fit`); None: the origin is backtested afresh."""
    before = ctx.history[ctx.history["ds"] < pd.Timestamp(cut)]
    if before.empty or int(before.groupby(["item_id", "location_id"]).size().min()) < MIN_TRAIN:
        return None
    fit, train, test = _origin_fit(ctx, pd.Timestamp(cut), hold, backtest)
    held = held_periods(ctx.config.horizon, hold)
    segs = spread_segments(ctx, before, SEP)
    return PlanForecasts(
        cut, ctx.config.period_days, before, _summaries(fit, train, test, held, segs)
    )


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
