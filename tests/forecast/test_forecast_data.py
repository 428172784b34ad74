"""Loading and validation of the long-format demand table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from echelon.errors import DataError
from echelon.forecast.data import SeriesTable, load_demand, validate_demand, wide_to_long


def _good() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["a"] * 4 + ["b"] * 4,
            "loc": ["x"] * 8,
            "date": list(pd.date_range("2024-01-01", periods=4).astype(str)) * 2,
            "qty": [1, 0, 2, 3, 0, 0, 5, 1],
        }
    )


def _load(df: pd.DataFrame, tmp_path: Path, **kw: object):
    p = tmp_path / "demand.csv"
    df.to_csv(p, index=False)
    return load_demand(p, id_col=["item", "loc"], ds_col="date", y_col="qty", **kw)


def test_valid_table_is_mapped_and_sorted(tmp_path: Path) -> None:
    d = _load(_good().iloc[::-1], tmp_path)
    assert d.freq == "D"
    assert list(d.df.columns[:3]) == ["unique_id", "ds", "y"]
    assert d.df["unique_id"].tolist()[:4] == ["a_x"] * 4
    assert d.df["ds"].is_monotonic_increasing is False  # two series, each sorted
    assert d.df.groupby("unique_id")["ds"].apply(lambda s: s.is_monotonic_increasing).all()
    assert d.n_series == 2


def _assert_complete(err: DataError, where: str | None = None) -> None:
    line = err.one_line()
    assert err.source and err.source in line
    assert err.expected and err.found is not None and err.fix
    assert "\n" not in line
    if where is not None:
        assert err.where == where


@pytest.mark.parametrize(
    ("mutate", "field", "where", "msg"),
    [
        (
            lambda d: d.assign(qty=d["qty"].astype(object).where(d.index != 2, "lots")),
            "qty",
            "row 4",
            "non-numeric",
        ),
        (lambda d: d.assign(qty=d["qty"].where(d.index != 5, -3)), "qty", "row 7", "negative"),
        (
            lambda d: d.assign(date=d["date"].where(d.index != 1, "31/31/2024")),
            "date",
            "row 3",
            "unparseable",
        ),
        (
            lambda d: pd.concat([d, d.iloc[[3]]], ignore_index=True),
            "item+loc, date",
            "row 10",
            "duplicate",
        ),
        (lambda d: d.drop(index=[1]), "date", "series a_x", "gap"),
        (lambda d: d.drop(columns=["qty"]), "qty", "header", "missing column"),
    ],
)
def test_bad_input_raises_data_error(tmp_path, mutate, field, where, msg) -> None:
    with pytest.raises(DataError) as ei:
        _load(mutate(_good()), tmp_path)
    err = ei.value
    _assert_complete(err, where)
    assert err.field == field
    assert msg in err.message


def test_unknown_frequency(tmp_path: Path) -> None:
    df = _good()
    df["date"] = ["2024-01-01", "2024-01-03", "2024-01-08", "2024-01-11"] * 2
    with pytest.raises(DataError) as ei:
        _load(df, tmp_path)
    assert "frequency" in ei.value.message
    _assert_complete(ei.value)
    with pytest.raises(DataError, match="unknown frequency"):
        _load(_good(), tmp_path, freq="fortnightly-ish")


def test_fill_gaps_fills_with_zero(tmp_path: Path) -> None:
    d = _load(_good().drop(index=[1, 2]), tmp_path, fill_gaps=True, freq="D")
    a = d.df[d.df["unique_id"] == "a_x"]
    assert a["y"].tolist() == [1.0, 0.0, 0.0, 3.0]


def test_stockout_flag_must_be_binary(tmp_path: Path) -> None:
    df = _good().assign(so=[0, 1, 0, 0, 0, 2, 0, 0])
    with pytest.raises(DataError) as ei:
        _load(df, tmp_path, stockout_col="so")
    assert ei.value.where == "row 7" and ei.value.field == "so"


def test_unknown_extension(tmp_path: Path) -> None:
    p = tmp_path / "demand.xlsx"
    p.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        load_demand(p)


def test_parquet_and_wide_carparts(carparts_long: pd.DataFrame, tmp_path: Path) -> None:
    assert carparts_long["unique_id"].nunique() == 80
    assert carparts_long.groupby("unique_id").size().eq(51).all()
    p = tmp_path / "c.parquet"
    carparts_long.to_parquet(p)
    d = load_demand(p)
    assert d.freq == "MS" and len(d.df) == 80 * 51


def test_validate_frame_directly() -> None:
    df = wide_to_long(
        pd.DataFrame({"Part": ["p1"], "Jan-98": [1], "Feb-98": [0], "Mar-98": [2]}),
        "Part",
        date_format="%b-%y",
    )
    d = validate_demand(df)
    assert d.df["y"].tolist() == [1.0, 0.0, 2.0]


def test_series_table_equals_the_per_call_groupbys() -> None:
    """Histories and forecast dates of the once-grouped table equal the per-call pandas code
    (groupby max of ds per series; each series' rows in their table order), rows shuffled."""
    rng = np.random.default_rng(3)
    parts = []
    for k, n in enumerate([1, 5, 40, 12]):
        ds = pd.date_range("2024-01-01", periods=n, freq="W-MON")
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": rng.poisson(3.0, n)}))
    df = pd.concat(parts, ignore_index=True).astype({"y": float})
    df = df.sample(frac=1.0, random_state=2).reset_index(drop=True)
    uids = ["s2", "s0", "s3", "s1"]
    table = SeriesTable.of(df)
    last = df.groupby("unique_id")["ds"].max().loc[uids]
    off = pd.tseries.frequencies.to_offset("W-MON")
    want = np.stack([(last + off * (s + 1)).to_numpy() for s in range(6)], axis=1)
    np.testing.assert_array_equal(table.future_dates(uids, 6, "W-MON"), want)
    for u, got in zip(uids, table.histories(uids), strict=True):
        np.testing.assert_array_equal(got, df.loc[df["unique_id"] == u, "y"].to_numpy())
    with pytest.raises(KeyError):
        table.histories(["s9"])
