"""Demand forecasting: probabilistic per-period forecasts and lead-time demand distributions.

Built on statsforecast, mlforecast + LightGBM and utilsforecast. Frames are long format
(``unique_id``, ``ds``, ``y``); quantile columns are named ``q0.5``, ``q0.9``, ...
"""

from echelon.forecast.data import DemandData, load_demand, validate_demand
from echelon.forecast.service import ForecastResult, backtest, forecast

__all__ = [
    "DemandData",
    "ForecastResult",
    "backtest",
    "forecast",
    "load_demand",
    "validate_demand",
]
