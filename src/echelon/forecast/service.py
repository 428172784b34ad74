"""The forecasting pipeline as called by the CLI: ``forecast(...)`` and ``backtest(...)``.

Pipeline: (optional) unconstrain stockout periods → Syntetos–Boylan classification →
candidates per class (statsforecast; LightGBM on smooth/erratic series when asked) →
champion per class chosen by a walk-forward backtest on scaled (lead-time) pinball loss →
refit the champion on the full history → per-period quantiles and lead-time demand from
sample paths. Series shorter than ``min_history`` periods borrow strength from their group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from echelon.errors import DataError
from echelon.forecast import leadtime as ltd
from echelon.forecast.backtest import BacktestResult, choose_champions, cutoffs, walk_forward
from echelon.forecast.censored import unconstrain
from echelon.forecast.classify import classify
from echelon.forecast.data import DemandData, season_length
from echelon.forecast.engine import check_engine
from echelon.forecast.lgbm import LGBMQuantileModel, quantile_cube
from echelon.forecast.metrics import qcol
from echelon.forecast.models import (
    CANDIDATES,
    ModelOutput,
    assign,
    empirical_quantile,
    future_dates,
    group_borrow,
    merge_outputs,
    run_statsforecast,
)
from echelon.forecast.seasonal import fit_index, is_seasonal

DEFAULT_TAUS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
Progress = Callable[[str, float], None]


@dataclass
class Settings:
    """Pipeline options. ``taus``: quantile levels; ``lead_times`` in periods.

    ``lgbm_window`` / ``sf_window``: periods of history given to LightGBM / the statsforecast
    models (None = all); ``min_history``: shorter series borrow from their ``group_col``.
    ``season_groups``: series id → pool of the seasonal candidates' index
    (:mod:`echelon.forecast.seasonal`; None: each series its own pool).
    ``select_sample``: at most about this many series per demand class backtest every
    candidate, the others only their class's champion (:func:`selection_sample`; None: all).
    ``engine``: ``"statsforecast"`` or ``"batched"``, which code fits the statistical
    candidates (:mod:`echelon.forecast.engine`).
    """

    horizon: int
    taus: Sequence[float] = DEFAULT_TAUS
    lead_times: Sequence[int] = ()
    season: int | None = None
    n_paths: int = 500
    seed: int = 0
    lgbm: bool = False
    lgbm_window: int | None = None
    sf_window: int | None = None
    min_history: int | None = None
    group_col: str | None = None
    season_groups: Mapping[str, str] | None = None
    candidates: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(CANDIDATES))
    n_windows: int = 2
    step: int | None = None
    unconstrain: bool = True
    select_sample: int | None = None  # series per class that backtest every candidate
    engine: str = "statsforecast"


@dataclass
class ForecastResult:
    """Per-period forecasts, lead-time demand, classes and champions (with reasons)."""

    forecasts: pd.DataFrame
    leadtime: pd.DataFrame
    classes: pd.DataFrame
    champions: pd.DataFrame
    backtest: BacktestResult | None = None
    explanations: pd.DataFrame | None = None


def _noop(_: str, __: float) -> None:
    return None


def _check(data: DemandData, st: Settings) -> None:
    check_engine(st.engine)
    if st.horizon < 1:
        raise DataError(
            "horizon must be >= 1",
            field="horizon",
            expected="an integer >= 1",
            found=str(st.horizon),
            fix="pass --horizon 1 or more",
        )
    for t in st.taus:
        if not 0 < float(t) < 1:
            raise DataError(
                "quantile level out of range",
                field="quantiles",
                expected="levels strictly between 0 and 1",
                found=str(t),
                fix="e.g. --quantiles 0.5,0.9,0.95",
            )
    for L in st.lead_times:
        if not 1 <= int(L) <= st.horizon:
            raise DataError(
                "lead time outside the horizon",
                field="lead_times",
                expected=f"1 <= L <= horizon ({st.horizon})",
                found=str(L),
                fix="raise --horizon or lower --lead-time",
            )


def _prepare(data: DemandData, st: Settings) -> tuple[pd.DataFrame, int, int]:
    _check(data, st)
    season = st.season or season_length(data.freq)
    df = data.df
    if data.has_stockout and st.unconstrain:
        df = unconstrain(df, window=4 * max(season, 7), season=season)
    min_hist = st.min_history or max(8, min(2 * season, 24))
    return df, season, min_hist


def run_candidates(
    train: pd.DataFrame,
    data: DemandData,
    st: Settings,
    season: int,
    min_hist: int,
    *,
    champions: dict[str, str] | None = None,
    X_future: pd.DataFrame | None = None,
    keep_paths: bool = False,
    baseline: bool = False,
) -> tuple[dict[str, ModelOutput], pd.DataFrame, LGBMQuantileModel | None]:
    """Fit candidates (or only each class's champion) on ``train``; returns outputs, classes."""
    h = st.horizon
    classes = classify(train)
    n_obs = train.groupby("unique_id").size()
    short = n_obs[n_obs < min_hist].index.tolist()
    classes.loc[classes["unique_id"].isin(short), "demand_class"] = "short"
    cand: dict[str, tuple[str, ...]] = (
        {c: (m,) for c, m in champions.items()} if champions is not None else dict(st.candidates)
    )
    if st.lgbm and champions is None:
        for c in ("smooth", "erratic"):
            cand[c] = (*cand.get(c, ()), "LightGBM")
    regular = classes[classes["demand_class"] != "short"]
    sf_train = train if st.sf_window is None else train.groupby("unique_id").tail(st.sf_window)
    todo = assign(regular, cand, season)
    index = None
    if any(is_seasonal(m) for m in todo):
        index = fit_index(train[train["unique_id"].isin(regular["unique_id"])], st.season_groups)
    outputs = run_statsforecast(
        sf_train,
        h,
        todo,
        freq=data.freq,
        season=season,
        taus=st.taus,
        lead_times=st.lead_times,
        n_paths=st.n_paths,
        seed=st.seed,
        keep_paths=keep_paths,
        season_index=index,
        engine=st.engine,
    )
    if champions is not None:  # a champion that cannot run on a series: HistoricAverage
        covered = {u for o in outputs.values() for u in o.uids}
        lgbm_c = {c for c, ms in cand.items() if "LightGBM" in ms}
        missing = regular.loc[
            ~regular["unique_id"].isin(covered) & ~regular["demand_class"].isin(lgbm_c),
            "unique_id",
        ].tolist()
        if missing:
            extra = run_statsforecast(
                sf_train,
                h,
                {"HistoricAverage": {"compound": missing}},
                freq=data.freq,
                season=season,
                taus=st.taus,
                lead_times=st.lead_times,
                n_paths=st.n_paths,
                seed=st.seed,
                keep_paths=keep_paths,
                engine=st.engine,
            )["HistoricAverage"]
            ha = outputs.get("HistoricAverage")
            outputs["HistoricAverage"] = merge_outputs(ha, extra) if ha is not None else extra
    model = None
    lgbm_cls = [c for c, ms in cand.items() if "LightGBM" in ms]
    lgbm_ids = regular.loc[regular["demand_class"].isin(lgbm_cls), "unique_id"].tolist()
    if lgbm_ids:
        exog = list(data.exog) if (X_future is not None or not data.exog) else []
        model = LGBMQuantileModel(
            freq=data.freq,
            season=season,
            taus=st.taus,
            exog=exog,
            train_window=st.lgbm_window,
            seed=st.seed,
        )
        sub = train[train["unique_id"].isin(lgbm_ids)]
        model.fit(sub, h)
        xf = X_future[X_future["unique_id"].isin(lgbm_ids)] if X_future is not None else None
        pred = model.predict(h, xf)
        uids = sorted(lgbm_ids)
        q = quantile_cube(pred, uids, st.taus)
        assert model.rho is not None
        rho = model.rho.reindex(uids).fillna(0.0).to_numpy()
        rng = np.random.default_rng(st.seed + 1)
        paths = ltd.copula_paths(q, st.taus, rho, st.n_paths, rng)
        mean = pred.set_index("unique_id").loc[uids, "mean"].to_numpy().reshape(len(uids), h)
        lt = {int(L): ltd.leadtime_stats(paths, int(L), st.taus) for L in st.lead_times}
        outputs["LightGBM"] = ModelOutput(
            "LightGBM",
            uids,
            future_dates(train, uids, h, data.freq),
            mean,
            q,
            lt,
            paths if keep_paths else None,
        )
    if short:
        groups = None
        if st.group_col and st.group_col in train.columns:
            groups = train.drop_duplicates("unique_id").set_index("unique_id")[st.group_col]
        rates, pools = group_borrow(train, short, groups, recent=max(season, min_hist))
        uids = sorted(short)
        mu = np.repeat(rates.set_index("unique_id").loc[uids, "rate"].to_numpy()[:, None], h, 1)
        rng = np.random.default_rng(st.seed + 2)
        paths = ltd.compound_paths(mu, ltd.size_pools([pools[u] for u in uids]), st.n_paths, rng)
        lt = {int(L): ltd.leadtime_stats(paths, int(L), st.taus) for L in st.lead_times}
        outputs["GroupPrior"] = ModelOutput(
            "GroupPrior",
            uids,
            future_dates(train, uids, h, data.freq),
            mu,
            ltd.path_quantiles(paths, st.taus),
            lt,
            paths if keep_paths else None,
        )
    if baseline:
        uids = sorted(regular["unique_id"])
        outputs["EmpiricalQuantile"] = empirical_quantile(
            train, uids, h, freq=data.freq, taus=st.taus, lead_times=st.lead_times
        )
    return outputs, classes, model


def backtest_span(st: Settings) -> int:
    """Periods from the earliest backtest origin to the end of the history: the last window's
    H periods plus ``step`` (default H) between each of the ``n_windows`` origins."""
    return st.horizon + (st.step or st.horizon) * (st.n_windows - 1)


def criterion_of(st: Settings) -> str:
    """Selection metric: scaled pinball of the longest lead time, else per-period."""
    return f"ltd_spinball_{max(st.lead_times)}" if st.lead_times else "spinball"


def backtest(
    data: DemandData, st: Settings, progress: Progress = _noop, baseline: bool = True
) -> BacktestResult:
    """Walk-forward backtest of all candidates; champions per demand class."""
    df, season, min_hist = _prepare(data, st)
    origins = cutoffs(df, st.horizon, st.n_windows, st.step, data.freq)
    if df.groupby("unique_id").size().max() <= backtest_span(st) + 2:
        raise DataError(
            "history too short for the backtest",
            source=data.source,
            expected=f"more than {backtest_span(st) + 2} periods",
            found=str(df.groupby("unique_id").size().max()),
            fix="lower --horizon or --windows",
        )
    exog_cols = ["unique_id", "ds", *data.exog]

    def walk(
        frame: pd.DataFrame, cfg: Settings, part: float, done: float
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        def run(
            train: pd.DataFrame, test: pd.DataFrame
        ) -> tuple[dict[str, ModelOutput], pd.DataFrame]:
            xf = test[exog_cols] if data.exog else None
            outs, cls, _ = run_candidates(
                train, data, cfg, season, min_hist, X_future=xf, baseline=baseline
            )
            return outs, cls

        return walk_forward(
            frame,
            st.horizon,
            origins,
            run,
            taus=st.taus,
            lead_times=st.lead_times,
            season=season,
            on_window=lambda k: progress("backtest", done + part * (k + 1) / len(origins)),
        )

    progress("backtest", 0.0)
    crit = criterion_of(st)
    sample = selection_sample(df, st)
    if sample is None:
        scores, fc = walk(df, st, 1.0, 0.0)
        champs = choose_champions(scores, crit)
        return BacktestResult(scores=scores, forecasts=fc, champions=champs, criterion=crit)
    chosen_in = df["unique_id"].isin(sample)
    scores, fc = walk(df[chosen_in], st, 0.5, 0.0)
    champs = choose_champions(scores, crit)
    best = dict(zip(champs["demand_class"], champs["champion"], strict=True))
    only = {c: (best[c],) if c in best else m for c, m in st.candidates.items()}
    rest_scores, rest_fc = walk(df[~chosen_in], replace(st, candidates=only), 0.5, 0.5)
    scores = pd.concat([scores, rest_scores], ignore_index=True)
    fc = pd.concat([fc, rest_fc], ignore_index=True)
    return BacktestResult(scores=scores, forecasts=fc, champions=champs, criterion=crit)


def selection_sample(df: pd.DataFrame, st: Settings) -> set[str] | None:
    """The series that backtest every candidate when ``st.select_sample`` is set: whole
    season pools (``st.season_groups``; else single series) drawn at random (``st.seed``)
    until every demand class (of the whole history) has at least ``select_sample`` series
    in the sample; None when that takes every series, or without ``select_sample``, or with
    LightGBM (a global model, trained on every series). The others backtest only their
    class's champion, chosen on the sample: the criterion is a mean over series, and
    ``select_sample`` series × the backtest origins estimate it (module doc of
    :mod:`echelon.forecast.backtest`)."""
    if st.select_sample is None or st.lgbm:
        return None
    classes = classify(df)
    ids = classes["unique_id"].astype(str).to_numpy()
    groups = st.season_groups or {}
    pool = np.array([str(groups.get(u, u)) for u in ids], dtype=object)
    names = np.unique(pool)
    order = np.random.default_rng(st.seed).permutation(len(names))
    need = {str(c): min(int(st.select_sample), int(n)) for c, n in
            classes["demand_class"].value_counts().items()}  # fmt: skip
    cls = classes["demand_class"].astype(str).to_numpy()
    members = pd.Series(np.arange(len(ids))).groupby(pool).apply(list).to_dict()
    have = dict.fromkeys(need, 0)
    picked: list[int] = []
    for k in order:
        if all(have[c] >= need[c] for c in need):
            break
        rows = members[names[k]]
        if not any(have[cls[r]] < need[cls[r]] for r in rows):
            continue
        picked += rows
        for r in rows:
            have[cls[r]] += 1
    if len(picked) == len(ids):
        return None
    return {str(ids[r]) for r in picked}


def forecast(
    data: DemandData,
    st: Settings,
    *,
    X_future: pd.DataFrame | None = None,
    champions: pd.DataFrame | None = None,
    progress: Progress = _noop,
    explain: bool = False,
) -> ForecastResult:
    """Forecast the next ``st.horizon`` periods of every series.

    Champions come from ``champions`` (a :func:`backtest` table) or from a walk-forward
    backtest of ``st.n_windows`` windows run here. Returns per-period quantiles
    (unique_id, ds, model, mean, q…) and lead-time demand (unique_id, lead_time, mean, std, q…).
    """
    df, season, min_hist = _prepare(data, st)
    bt = None
    if champions is None:
        n_max = int(df.groupby("unique_id").size().max())
        if n_max > backtest_span(st) + min_hist:
            bt = backtest(data, st, progress, baseline=False)
            champions = bt.champions
        else:
            champions = pd.DataFrame(columns=["demand_class", "champion"])
    chosen = dict(zip(champions["demand_class"], champions["champion"], strict=True))
    progress("fit", 0.0)
    classes = classify(df)
    for c in set(classes["demand_class"]) - set(chosen):
        chosen[c] = (st.candidates.get(c) or ("HistoricAverage",))[0]
    outs, classes, model = run_candidates(
        df, data, st, season, min_hist, champions=chosen, X_future=X_future, keep_paths=False
    )
    progress("fit", 1.0)
    fc = pd.concat([o.frame(st.taus) for o in outs.values()], ignore_index=True)
    fc = fc.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    lts = []
    for o in outs.values():
        for L, (m, s, q) in o.leadtime.items():
            f = pd.DataFrame(
                {"unique_id": o.uids, "model": o.model, "lead_time": L, "mean": m, "std": s}
            )
            for k, t in enumerate(st.taus):
                f[qcol(t)] = q[:, k]
            lts.append(f)
    lt = (
        pd.concat(lts, ignore_index=True).sort_values(["unique_id", "lead_time"])
        if lts
        else pd.DataFrame()
    )
    expl = None
    if explain and model is not None:
        xf = X_future if model.exog else None
        expl = model.explain(st.horizon, xf)
    return ForecastResult(
        forecasts=fc,
        leadtime=lt.reset_index(drop=True),
        classes=classes,
        champions=champions,
        backtest=bt,
        explanations=expl,
    )
