"""Candidate models, per-class candidate sets and group borrowing for short histories.

Every candidate yields a :class:`ModelOutput`: mean forecasts (units per period),
per-period quantiles and lead-time demand, all derived from joint sample paths
(see :mod:`echelon.forecast.leadtime`). Intermittent-demand models (Croston, SBA, TSB,
ADIDA, IMAPA, the zero forecast) and every model on an intermittent/lumpy series use
compound Bernoulli × bootstrapped-size paths around the model's mean; AutoETS,
(Seasonal)Naive and HistoricAverage on smooth/erratic series use statsforecast's
``simulate`` with bootstrapped residuals.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    CrostonClassic,
    CrostonSBA,
    HistoricAverage,
    Naive,
    SeasonalNaive,
)

from echelon.forecast import leadtime as ltd
from echelon.forecast.data import SeriesTable
from echelon.forecast.engine import (
    BATCHED_MEANS,
    BATCHED_PATHS,
    batched_means,
    batched_paths,
    check_engine,
)
from echelon.forecast.ets_paths import autoets_paths
from echelon.forecast.seasonal import SeasonIndex, base_model, has_trend, is_seasonal

TSB_ALPHA_D, TSB_ALPHA_P = 0.1, 0.1
INTERMITTENT_MODELS = ("CrostonClassic", "CrostonSBA", "TSB", "ADIDA", "IMAPA")
SIMULATABLE = ("AutoETS", "SeasonalNaive", "Naive", "HistoricAverage")
COUNT_CLASSES = ("intermittent", "lumpy", "zero")

#: Candidates per Syntetos–Boylan class (the zero forecast competes on intermittent data
#: so that it is visibly rejected when it only wins on MASE).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("AutoETS", "SeasonalNaive", "HistoricAverage", "Naive"),
    "erratic": ("AutoETS", "SeasonalNaive", "HistoricAverage", "TSB", "ADIDA"),
    "intermittent": ("CrostonSBA", "TSB", "ADIDA", "IMAPA", "HistoricAverage", "Zero"),
    "lumpy": ("CrostonSBA", "TSB", "ADIDA", "IMAPA", "HistoricAverage", "Zero"),
    "zero": ("Zero", "HistoricAverage"),
}
ALL_MODELS = (*SIMULATABLE, *INTERMITTENT_MODELS, "Zero", "EmpiricalQuantile", "LightGBM")


def make_sf_model(name: str, season: int) -> object:
    """A statsforecast model instance for a candidate name."""
    factories: dict[str, Callable[[], object]] = {
        "AutoETS": lambda: AutoETS(season_length=season if season > 1 else 1),
        "SeasonalNaive": lambda: SeasonalNaive(season_length=max(season, 1)),
        "Naive": Naive,
        "HistoricAverage": HistoricAverage,
        "CrostonClassic": CrostonClassic,
        "CrostonSBA": CrostonSBA,
        "TSB": lambda: TSB(alpha_d=TSB_ALPHA_D, alpha_p=TSB_ALPHA_P),
        "ADIDA": ADIDA,
        "IMAPA": IMAPA,
    }
    if name not in factories:
        raise KeyError(name)
    return factories[name]()


@dataclass
class ModelOutput:
    """Forecasts of one model for a set of series (arrays in the order of ``uids``)."""

    model: str
    uids: list[str]
    ds: np.ndarray  # (n, H) forecast dates
    mean: np.ndarray  # (n, H) units per period
    quantiles: np.ndarray  # (n, H, K)
    leadtime: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    paths: np.ndarray | None = None  # (n, P, H), kept only on request

    def frame(self, taus: Sequence[float]) -> pd.DataFrame:
        """Long frame: unique_id, ds, model, mean, q… ."""
        h = self.mean.shape[1]
        f = pd.DataFrame(
            {
                "unique_id": np.repeat(self.uids, h),
                "ds": self.ds.ravel(),
                "model": self.model,
                "mean": self.mean.ravel(),
            }
        )
        for k, t in enumerate(taus):
            f[f"q{float(t):g}"] = self.quantiles[:, :, k].ravel()
        return f


def future_dates(train: pd.DataFrame, uids: Sequence[str], h: int, freq: str) -> np.ndarray:
    """(n, H) forecast dates following each series' last date."""
    return SeriesTable.of(train).future_dates(uids, h, freq)


def histories(train: pd.DataFrame, uids: Sequence[str]) -> list[np.ndarray]:
    """Demand history arrays in the order of ``uids`` (rows of each series in their order)."""
    return SeriesTable.of(train).histories(uids)


def _finish(
    name: str,
    uids: list[str],
    ds: np.ndarray,
    mean: np.ndarray,
    paths: np.ndarray,
    taus: Sequence[float],
    lead_times: Sequence[int],
    keep_paths: bool,
) -> ModelOutput:
    lt = {int(L): ltd.leadtime_stats(paths, int(L), taus) for L in lead_times}
    return ModelOutput(
        model=name,
        uids=uids,
        ds=ds,
        mean=mean,
        quantiles=ltd.path_quantiles(paths, taus),
        leadtime=lt,
        paths=paths if keep_paths else None,
    )


def run_statsforecast(
    train: pd.DataFrame,
    h: int,
    assignments: dict[str, dict[str, list[str]]],
    *,
    freq: str,
    season: int,
    taus: Sequence[float],
    lead_times: Sequence[int] = (),
    n_paths: int = 500,
    seed: int = 0,
    keep_paths: bool = False,
    pools: dict[str, np.ndarray] | None = None,
    season_index: SeasonIndex | None = None,
    engine: str = "statsforecast",
) -> dict[str, ModelOutput]:
    """Run candidates. ``assignments[model]`` = {"compound": uids, "simulate": uids}.

    ``pools`` optionally overrides the size pool (non-zero sizes) of a series (group borrowing).
    Seasonal candidates (``<base>+season``) need ``season_index`` (:func:`run_seasonal`).
    ``engine``: which code fits the models (:mod:`echelon.forecast.engine`).
    """
    batched = check_engine(engine) == "batched"
    kw = dict(
        freq=freq, season=season, taus=taus, lead_times=lead_times, n_paths=n_paths, engine=engine
    )
    out: dict[str, ModelOutput] = {}
    for m in [m for m in assignments if is_seasonal(m)]:
        if season_index is None:
            raise ValueError(f"{m}: a seasonal candidate needs a season index")
        out[m] = run_seasonal(
            train, h, m, assignments[m], season_index, seed=seed, keep_paths=keep_paths, **kw
        )
    assignments = {m: a for m, a in assignments.items() if not is_seasonal(m)}
    rng = np.random.default_rng(seed)
    # 1) mean forecasts for everything needing compound paths, one statsforecast call
    comp_models = sorted(m for m, a in assignments.items() if a.get("compound"))
    comp_ids = sorted({u for m in comp_models for u in assignments[m]["compound"]})
    means: pd.DataFrame | None = None
    sf_comp = [m for m in comp_models if m != "Zero" and not (batched and m in BATCHED_MEANS)]
    if comp_ids and sf_comp:
        sub = train[train["unique_id"].isin(comp_ids)][["unique_id", "ds", "y"]]
        sf = StatsForecast(models=[make_sf_model(m, season) for m in sf_comp], freq=freq, n_jobs=1)
        means = sf.forecast(df=sub, h=h).set_index("unique_id")
    table = SeriesTable.of(train)  # the rows grouped once for every model below
    for m in comp_models:
        uids = sorted(assignments[m]["compound"])
        hist = table.histories(uids)
        if m == "Zero":
            mu = np.zeros((len(uids), h))
        elif batched and m in BATCHED_MEANS:
            mu = batched_means(m, hist, h, season, (TSB_ALPHA_D, TSB_ALPHA_P))
        else:
            assert means is not None
            mu = means.loc[uids, m].to_numpy(float).reshape(len(uids), h)
        mu = np.clip(np.nan_to_num(mu), 0.0, None)
        if pools:
            hist = [pools.get(u, hh) for u, hh in zip(uids, hist, strict=True)]
        paths = ltd.compound_paths(mu, ltd.size_pools(hist), n_paths, rng)
        ds = table.future_dates(uids, h, freq)
        out[m] = _finish(m, uids, ds, mu, paths, taus, lead_times, keep_paths)
    # 2) simulated paths (bootstrapped residuals) for smooth/erratic series
    sim_models = sorted(m for m, a in assignments.items() if a.get("simulate"))
    for m in sim_models:
        uids = sorted(assignments[m]["simulate"])
        if batched and m in BATCHED_PATHS:
            raw = batched_paths(m, table.histories(uids), h, n_paths, seed)
        else:
            sub = train[train["unique_id"].isin(uids)][["unique_id", "ds", "y"]]
            raw = _simulate(sub, uids, m, season, h, freq, n_paths, seed)
        paths = np.clip(raw, 0.0, None)
        mu = paths.mean(axis=1)  # mean of the (non-negative) simulated demand
        ds = table.future_dates(uids, h, freq)
        res = _finish(m, uids, ds, mu, paths, taus, lead_times, keep_paths)
        if m in out:  # same model also ran with compound paths on other series
            out[m] = merge_outputs(out[m], res)
        else:
            out[m] = res
    return out


def _simulate(
    sub: pd.DataFrame,
    uids: list[str],
    name: str,
    season: int,
    h: int,
    freq: str,
    n_paths: int,
    seed: int,
) -> np.ndarray:
    """Sample paths (n, n_paths, h) of model ``name`` on the series ``uids`` (sorted) of
    ``sub``: statsforecast's ``simulate`` with bootstrapped residuals; AutoETS's paths from
    :mod:`echelon.forecast.ets_paths` (the same numbers, simulated in numba)."""
    model = make_sf_model(name, season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(model, AutoETS):
            ordered = sub.sort_values(["unique_id", "ds"], kind="stable")
            ys = histories(ordered, uids)
            return autoets_paths(model, ys, h, n_paths, seed)
        sf = StatsForecast(models=[model], freq=freq, n_jobs=1)
        sim = sf.simulate(h=h, df=sub, n_paths=n_paths, seed=seed, error_distribution="bootstrap")
    sim = sim.sort_values(["unique_id", "sample_id", "ds"])
    return np.asarray(sim[name].to_numpy(float).reshape(len(uids), n_paths, h))


def run_seasonal(
    train: pd.DataFrame,
    h: int,
    name: str,
    assignment: dict[str, list[str]],
    index: SeasonIndex,
    *,
    seed: int,
    keep_paths: bool,
    **kw: Any,
) -> ModelOutput:
    """A seasonal candidate ``<base>+season``: the base model fitted on the demand divided by
    the pooled seasonal index (:mod:`echelon.forecast.seasonal`), its forecasts and sample
    paths multiplied by the index of the forecast dates (units per period); a trend candidate
    ``<base>+trend`` divides and multiplies by the index times the pool's trend factor."""
    base = base_model(name)
    uids = sorted({u for v in assignment.values() for u in v})
    sub = train[train["unique_id"].isin(uids)][["unique_id", "ds", "y"]].copy()
    sub["y"] = sub["y"] / _factors(index, name, sub["unique_id"].to_numpy(), sub["ds"].to_numpy())
    res = run_statsforecast(sub, h, {base: assignment}, seed=seed, keep_paths=True, **kw)[base]
    n_fut = res.ds.shape[1]
    fut = _factors(index, name, np.repeat(res.uids, n_fut), res.ds.ravel()).reshape(-1, n_fut)
    assert res.paths is not None
    paths = res.paths * fut[:, None, :]
    taus, lead_times = kw["taus"], kw["lead_times"]
    return _finish(name, res.uids, res.ds, res.mean * fut, paths, taus, lead_times, keep_paths)


def _factors(index: SeasonIndex, name: str, uids: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """The factor candidate ``name`` divides its rows by: ``s(t)``, times ``g(t)`` for a
    trend candidate (:mod:`echelon.forecast.seasonal`; dimensionless)."""
    s = index.factors_at(uids, ds)
    return s * index.trend_factors_at(uids, ds) if has_trend(name) else s


def merge_outputs(a: ModelOutput, b: ModelOutput) -> ModelOutput:
    """Concatenate two outputs of the same model over disjoint series."""
    lt = {
        L: tuple(np.concatenate([x, y]) for x, y in zip(a.leadtime[L], b.leadtime[L], strict=True))
        for L in a.leadtime
    }
    paths = (
        np.concatenate([a.paths, b.paths]) if a.paths is not None and b.paths is not None else None
    )
    return ModelOutput(
        model=a.model,
        uids=a.uids + b.uids,
        ds=np.concatenate([a.ds, b.ds]),
        mean=np.concatenate([a.mean, b.mean]),
        quantiles=np.concatenate([a.quantiles, b.quantiles]),
        leadtime=lt,  # type: ignore[arg-type]
        paths=paths,
    )


def assign(
    classes: pd.DataFrame,
    candidates: dict[str, tuple[str, ...]] | None = None,
    season: int = 1,
) -> dict[str, dict[str, list[str]]]:
    """Map each candidate model to the series it must run on, split by path method.

    SeasonalNaive is skipped for series shorter than two seasons (``n_obs`` column).
    """
    cand = candidates or CANDIDATES
    out: dict[str, dict[str, list[str]]] = {}
    for cls, grp in classes.groupby("demand_class"):
        for m in cand.get(str(cls), ()):
            if base_model(m) in ("LightGBM", "EmpiricalQuantile"):
                continue
            uids = grp["unique_id"].tolist()
            if m == "SeasonalNaive" and "n_obs" in grp:
                uids = grp.loc[grp["n_obs"] >= 2 * season, "unique_id"].tolist()
            if not uids:
                continue
            simulated = base_model(m) in SIMULATABLE and cls not in COUNT_CLASSES
            method = "simulate" if simulated else "compound"
            out.setdefault(m, {}).setdefault(method, []).extend(uids)
    return out


def empirical_quantile(
    train: pd.DataFrame,
    uids: Sequence[str],
    h: int,
    *,
    freq: str,
    taus: Sequence[float],
    lead_times: Sequence[int] = (),
) -> ModelOutput:
    """Baseline: per-period quantiles of the history; lead-time quantiles of its L-sums."""
    table = SeriesTable.of(train)
    hist = table.histories(uids)
    q = np.stack([np.quantile(x, list(taus)) for x in hist])
    mean = np.array([x.mean() for x in hist])
    lt = {}
    for L in lead_times:
        qs = ltd.empirical_leadtime_quantiles(hist, int(L), taus)
        sd = np.array(
            [np.std(np.convolve(x, np.ones(int(L)), "valid")) if len(x) >= L else 0.0 for x in hist]
        )
        lt[int(L)] = (mean * L, sd, qs)
    return ModelOutput(
        model="EmpiricalQuantile",
        uids=list(uids),
        ds=table.future_dates(uids, h, freq),
        mean=np.repeat(mean[:, None], h, axis=1),
        quantiles=np.repeat(q[:, None, :], h, axis=1),
        leadtime=lt,
    )


def group_borrow(
    train: pd.DataFrame,
    short: Sequence[str],
    groups: pd.Series | None,
    *,
    recent: int,
    k: float = 6.0,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Shrink short/new series towards their group (department, store).

    Mean rate μ = (n·own + k·group) / (n + k), where ``own`` is the series' mean over its
    n periods and ``group`` the mean over the last ``recent`` periods of the other members;
    the size pool of a series is its own non-zero sizes plus the group's. Returns a frame
    (unique_id, rate) and the pools. ``groups`` maps unique_id → group label (None: one group).
    """
    g = groups if groups is not None else pd.Series("all", index=train["unique_id"].unique())
    t = train.assign(group=train["unique_id"].map(g).fillna("all"))
    short_set = set(short)
    rows, pools = [], {}
    for grp, members in t.groupby("group"):
        long_m = members[~members["unique_id"].isin(short_set)]
        recent_m = long_m.groupby("unique_id").tail(recent) if len(long_m) else members
        g_rate = float(recent_m["y"].mean()) if len(recent_m) else 0.0
        g_sizes = recent_m["y"].to_numpy(float)
        g_sizes = g_sizes[g_sizes > 0]
        for uid, s in members[members["unique_id"].isin(short_set)].groupby("unique_id"):
            y = s["y"].to_numpy(float)
            n = len(y)
            rate = (n * y.mean() + k * g_rate) / (n + k) if n else g_rate
            rows.append({"unique_id": uid, "group": grp, "rate": rate})
            pools[str(uid)] = np.concatenate([y[y > 0], g_sizes])
    return pd.DataFrame(rows, columns=["unique_id", "group", "rate"]), pools
