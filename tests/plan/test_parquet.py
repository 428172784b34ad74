"""Parquet input (echelon.plan.parquet): demand.parquet / inventory.parquet load to the same
context as their CSV, with the same checks and messages (docs/plan-data.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bad_folders import set_cell

from echelon.errors import DataError
from echelon.plan.data import load_context


def _to_parquet(folder: Path, name: str, *, typed: bool) -> Path:
    """Replace ``name``.csv by ``name``.parquet: all columns text, or typed (ids text, dates
    date32, numbers float64)."""
    csv = folder / f"{name}.csv"
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    cols: dict[str, pa.Array] = {}
    for col in df.columns:
        if not typed or col.endswith("_id") or col == "category":
            cols[col] = pa.array(df[col].where(df[col] != "", None), pa.string())
        elif col in ("ds", "due"):
            cols[col] = pa.array(pd.to_datetime(df[col]).dt.date, pa.date32())
        else:
            cols[col] = pa.array(pd.to_numeric(df[col]), pa.float64())
    out = folder / f"{name}.parquet"
    pq.write_table(pa.table(cols), out)
    csv.unlink()
    return out


def _error(folder: Path) -> str:
    with pytest.raises(DataError) as exc:
        load_context(folder)
    return str(exc.value)


@pytest.mark.parametrize("typed", [True, False])
def test_parquet_loads_like_csv(tiny_folder: Path, tmp_path: Path, typed: bool) -> None:
    csv_ctx = load_context(tiny_folder)
    pq_folder = shutil.copytree(tiny_folder, tmp_path / "pq")
    _to_parquet(pq_folder, "demand", typed=typed)
    _to_parquet(pq_folder, "inventory", typed=typed)
    ctx = load_context(pq_folder)
    pd.testing.assert_frame_equal(ctx.history, csv_ctx.history)
    pd.testing.assert_frame_equal(ctx.demand, csv_ctx.demand)
    assert ctx.stock == csv_ctx.stock
    assert ctx.as_of == csv_ctx.as_of
    assert [f.message for f in ctx.findings] == [
        f.message.replace("demand.csv", "demand.parquet") for f in csv_ctx.findings
    ]
    assert ctx.input_hash != csv_ctx.input_hash  # the hash covers the Parquet bytes


def test_bad_cells_give_the_csv_messages(tiny_folder: Path, tmp_path: Path) -> None:
    """Every bad row of a column in one message, rows numbered as in the CSV file."""
    for row in (3, 5, 40):
        set_cell(tiny_folder / "demand.csv", row, "y", "x" if row != 40 else "-2")
    csv_message = _error(tiny_folder)
    assert "rows 3, 5, 40" in csv_message
    _to_parquet(tiny_folder, "demand", typed=False)
    assert _error(tiny_folder) == csv_message.replace("demand.csv", "demand.parquet")


def test_typed_parquet_errors(tiny_folder: Path) -> None:
    path = _to_parquet(tiny_folder, "demand", typed=True)
    table = pq.read_table(path)
    y = table.column("y").to_pylist()
    y[0], y[6] = -1.0, None
    pq.write_table(table.set_column(3, "y", pa.array(y, pa.float64())), path)
    message = _error(tiny_folder)
    assert "demand.parquet: rows 2, 8" in message and "field 'y'" in message
    assert "an empty cell (row 8)" in message and "-1.0 (row 2)" in message


def test_parquet_column_checks(tiny_folder: Path) -> None:
    path = _to_parquet(tiny_folder, "demand", typed=True)
    table = pq.read_table(path)
    pq.write_table(table.rename_columns(["item_id", "location_id", "ds", "qty_y"]), path)
    assert "missing column" in _error(tiny_folder)
    pq.write_table(table.rename_columns(["Item_ID ", "location_id", "DS", "y"]), path)
    load_context(tiny_folder)  # names matched ignoring case and blanks
    pq.write_table(table.set_column(3, "y", pa.array([True] * len(table))), path)
    assert "unsupported column type" in _error(tiny_folder)
    stamps = pa.array(pd.to_datetime(table.column("ds").to_pandas()), pa.timestamp("s", "UTC"))
    pq.write_table(table.set_column(2, "ds", stamps), path)
    assert "time zone UTC" in _error(tiny_folder)
    path.write_bytes(b"PAR1 not a parquet file")
    assert "cannot read the file as Parquet" in _error(tiny_folder)


def test_timestamps_drop_the_time_of_day(tiny_folder: Path, tmp_path: Path) -> None:
    want = load_context(tiny_folder).history
    path = _to_parquet(tiny_folder, "demand", typed=True)
    table = pq.read_table(path)
    days = pd.to_datetime(table.column("ds").to_pandas()) + pd.Timedelta(hours=13)
    pq.write_table(table.set_column(2, "ds", pa.array(days, pa.timestamp("ms"))), path)
    pd.testing.assert_frame_equal(load_context(tiny_folder).history, want)


def test_one_file_per_table(tiny_folder: Path) -> None:
    shutil.copy(tiny_folder / "demand.csv", tiny_folder / "keep.csv")
    _to_parquet(tiny_folder, "demand", typed=True)
    shutil.copy(tiny_folder / "keep.csv", tiny_folder / "demand.csv")
    assert "two files for one table" in _error(tiny_folder)
    (tiny_folder / "demand.csv").unlink()
    (tiny_folder / "demand.parquet").unlink()
    message = _error(tiny_folder)
    assert "missing required file" in message and "demand.csv (or demand.parquet)" in message
