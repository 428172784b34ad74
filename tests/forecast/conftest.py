"""Shared fixtures of the forecasting tests (small slices of the shared data sets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _need(name: str) -> Path:
    p = DATA / name
    if not p.exists():
        pytest.skip(f"shared data {p} not available")
    return p


@pytest.fixture(scope="session")
def carparts_long() -> pd.DataFrame:
    """80 complete carparts series in long format (unique_id, ds, y), monthly."""
    from echelon.forecast.data import wide_to_long

    wide = pd.read_csv(_need("carparts.csv")).dropna().iloc[:80]
    return wide_to_long(wide, "Part", date_format="%b-%y")


@pytest.fixture(scope="session")
def carparts_400() -> pd.DataFrame:
    """Every sixth complete carparts series (about 420), long format."""
    from echelon.forecast.data import wide_to_long

    wide = pd.read_csv(_need("carparts.csv")).dropna().iloc[::6]
    return wide_to_long(wide, "Part", date_format="%b-%y")


@pytest.fixture(scope="session")
def m5_small() -> pd.DataFrame:
    """Four M5 store × department series, last 420 days, with snap/event columns."""
    df = pd.read_csv(_need("m5_store_dept_daily.csv.gz"), parse_dates=["ds"])
    keep = ["CA_1_FOODS_3", "TX_2_HOBBIES_1", "WI_3_HOUSEHOLD_1", "CA_3_FOODS_1"]
    df = df[df["unique_id"].isin(keep) & (df["ds"] > df["ds"].max() - pd.Timedelta(days=420))]
    state = df["store_id"].str[:2]
    df = df.assign(
        snap=np.select(
            [state == "CA", state == "TX"], [df["snap_CA"], df["snap_TX"]], df["snap_WI"]
        ),
        event=df["event_type_1"].notna().astype(int),
    )
    return df[["unique_id", "ds", "y", "snap", "event", "dept_id"]].reset_index(drop=True)


@pytest.fixture()
def poisson_panel():
    """Factory of synthetic i.i.d. Poisson demand panels."""
    return _poisson_panel


def _poisson_panel(n_series: int, n: int, rate: float, seed: int, freq: str = "D") -> pd.DataFrame:
    """Synthetic i.i.d. Poisson demand panel."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-01", periods=n, freq=freq)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], n),
            "ds": np.tile(ds, n_series),
            "y": rng.poisson(rate, n * n_series).astype(float),
        }
    )
