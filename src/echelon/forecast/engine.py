"""Which code fits the statistical candidates: statsforecast, or the batched engine.

``Settings.engine`` (:mod:`echelon.forecast.service`) chooses, for the candidates of
:func:`echelon.forecast.models.run_statsforecast`:

- ``"statsforecast"`` (the default): one ``StatsForecast.forecast`` call for the mean
  forecasts of the models with compound paths, statsforecast's ``simulate`` (AutoETS: the
  same numbers in numba, :mod:`echelon.forecast.ets_paths`) for the others;
- ``"batched"``: every series of a model at once from one history matrix
  (:mod:`echelon.forecast.batched`): the means of HistoricAverage, Naive, SeasonalNaive,
  CrostonClassic, CrostonSBA and TSB equal statsforecast's (to the last bit; tests), and
  HistoricAverage and Naive simulate with bootstrapped residuals as statsforecast's
  equations do, from one seeded generator for all series (so their sample paths are not
  statsforecast's draws); ``AutoETS`` is the batched ANN/AAdN model of
  :mod:`echelon.forecast.batched_ets`, not statsforecast's AutoETS.

A model the batched engine lacks (:data:`BATCHED_MEANS`, :data:`BATCHED_PATHS`: e.g. ADIDA,
IMAPA, SeasonalNaive paths) runs through statsforecast under either engine: the fallback is
per model and gives statsforecast's numbers. Units: demand per period.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from echelon.errors import DataError
from echelon.forecast import batched as bt
from echelon.forecast.batched_ets import ets_paths, fit_ets

ENGINES = ("statsforecast", "batched")
#: models whose mean forecasts the batched engine computes
BATCHED_MEANS = (
    "HistoricAverage",
    "Naive",
    "SeasonalNaive",
    "CrostonClassic",
    "CrostonSBA",
    "TSB",
    "AutoETS",
)
#: plan.yaml's ``forecast_engine: auto`` fits with the batched engine above this many
#: series (statsforecast up to it: the demo and small catalogues keep statsforecast's numbers)
AUTO_BATCHED_SERIES = 10_000
#: models whose sample paths the batched engine simulates
BATCHED_PATHS = ("HistoricAverage", "Naive", "AutoETS")


def resolve_engine(choice: str, n_series: int) -> str:
    """The engine of a plan fit: ``choice`` (plan.yaml's ``forecast_engine``), where
    ``"auto"`` is ``"batched"`` above :data:`AUTO_BATCHED_SERIES` series and
    ``"statsforecast"`` up to it."""
    if choice != "auto":
        return check_engine(choice)
    return "batched" if n_series > AUTO_BATCHED_SERIES else "statsforecast"


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES`, else a :class:`DataError`."""
    if engine not in ENGINES:
        raise DataError(
            "unknown forecast engine",
            field="engine",
            expected=" or ".join(ENGINES),
            found=str(engine),
            fix="use engine 'statsforecast' or 'batched'",
        )
    return engine


def batched_means(
    model: str, ys: Sequence[np.ndarray], h: int, season: int, tsb: tuple[float, float]
) -> np.ndarray:
    """Mean forecasts (n, H) of ``model`` on the histories ``ys`` (``tsb``: α_d, α_p)."""
    hist = bt.History.from_arrays(ys)
    if model == "HistoricAverage":
        return bt.historic_average(hist, h).mean
    if model == "Naive":
        return bt.naive(hist, h).mean
    if model == "SeasonalNaive":
        return bt.seasonal_naive(hist, h, max(season, 1)).mean
    if model in ("CrostonClassic", "CrostonSBA"):
        return bt.croston(hist, h, sba=model == "CrostonSBA")
    if model == "TSB":
        return bt.tsb(hist, h, *tsb)
    if model == "AutoETS":
        return fit_ets(hist).mean(h)
    raise KeyError(model)


def model_seed(seed: int, model: str) -> int:
    """The seed of one model's batched sample paths: from ``seed`` and the model name, so
    that a model's paths do not depend on which other models ran."""
    rng = np.random.default_rng([int(seed), zlib.crc32(model.encode())])
    return int(rng.integers(2**31 - 1))


def batched_paths(
    model: str, ys: Sequence[np.ndarray], h: int, n_paths: int, seed: int
) -> np.ndarray:
    """Sample paths (n, P, H) of ``model`` on the histories ``ys`` with bootstrapped
    in-sample residuals (module doc)."""
    hist = bt.History.from_arrays(ys)
    s = model_seed(seed, model)
    if model == "AutoETS":
        return ets_paths(fit_ets(hist), h, n_paths, s)
    if model == "HistoricAverage":
        return bt.bootstrap_paths(model, bt.historic_average(hist, h), n_paths, s)
    if model == "Naive":
        return bt.bootstrap_paths(model, bt.naive(hist, h), n_paths, s)
    raise KeyError(model)
