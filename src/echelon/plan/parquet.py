"""Reading a plan table from Parquet (``demand.parquet``, ``inventory.parquet``; pyarrow).

The table comes out in the form :func:`echelon.plan.tables.read_csv` gives, so that every cell
check of :mod:`echelon.plan.cells` applies unchanged, with the same messages: column names
matched ignoring case and surrounding blanks, text cells trimmed (empty → missing), a null →
an empty cell. Rows are numbered as the same table written as CSV would show them (record
``k``, 1-based, is row ``k + 1``; row 1 would be the header).

Column types: text (also dictionary-encoded) stays text and is checked as in CSV; integers and
floats are numbers (an integer id column becomes its decimal text); a date or a timestamp
without time zone is a day (a time of day is dropped, as for CSV). A timestamp with a time
zone, a day outside 1678–2261, or another type (bool, lists, …) is an error naming the column
(and the rows, for days out of range).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from echelon.errors import DataError
from echelon.fileio import check_input_file
from echelon.plan.cells import rows_error
from echelon.plan.tables import BLANKS, TableSpec, check_columns, read_csv

MAX_PARQUET_BYTES = 4_000_000_000  # a Parquet table: 5,000 items × 45 stores × 730 days fits
FIRST_DAY = np.datetime64("1678-01-01", "D")  # the days datetime64[ns] holds (docs/plan-data.md)
LAST_DAY = np.datetime64("2261-12-31", "D")


#: tables that may be Parquet instead of CSV (by extension; one of the two, not both)
PARQUET_FILES = {"demand.csv": "demand.parquet", "inventory.csv": "inventory.parquet"}


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a Parquet table (by its extension)."""
    return path.suffix.lower() == ".parquet"


def table_path(folder: Path, name: str) -> Path:
    """The file of table ``name`` (``demand.csv``): its Parquet twin where that one is
    present instead; both present is an error."""
    twin = PARQUET_FILES.get(name)
    if twin is None or not os.path.lexists(folder / twin):
        return folder / name
    if os.path.lexists(folder / name):
        raise DataError(
            "two files for one table",
            source=str(folder / twin),
            expected=f"either {name} or {twin}",
            found="both",
            fix="remove one of them",
        )
    return folder / twin


def either_name(name: str) -> str:
    """``demand.csv (or demand.parquet)`` for a table that may be Parquet."""
    twin = PARQUET_FILES.get(name)
    return f"{name} (or {twin})" if twin else name


def read_table(path: Path, spec: TableSpec) -> pd.DataFrame:
    """A table's cells, from CSV or (by extension) Parquet (:mod:`echelon.plan.parquet`)."""
    return read_parquet(path, spec) if is_parquet(path) else read_csv(path, spec)


def read_parquet(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read ``path`` (a Parquet file), check its columns against ``spec`` and add defaults
    (module doc). Index labels are the records' positions (row = label + 2)."""
    source = str(path)
    check_input_file(path, DataError, max_bytes=MAX_PARQUET_BYTES)
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            "cannot read the file as Parquet",
            source=source,
            found=str(exc).strip().splitlines()[-1][:160] if str(exc).strip() else "",
            fix="write the table with pyarrow or pandas' to_parquet (or give a CSV file)",
        ) from None
    names = [str(c).strip(BLANKS).lower() for c in schema.names]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise DataError(
            "duplicate column", source=source, field=twice[0], fix="remove or rename one of them"
        )
    check_columns(pd.DataFrame(columns=names), spec, source)
    wanted = [schema.names[k] for k, c in enumerate(names) if c in spec.columns]
    try:
        table = pq.read_table(path, columns=wanted)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            "cannot read the file as Parquet",
            source=source,
            found=str(exc).strip().splitlines()[-1][:160],
            fix="write the table with pyarrow or pandas' to_parquet (or give a CSV file)",
        ) from None
    out = pd.DataFrame(
        {name.strip(BLANKS).lower(): _column(table.column(name), name, source) for name in wanted}
    )
    for col, default in spec.optional.items():
        if col not in out.columns:
            out[col] = pd.Series(default, index=out.index)
    return out[list(spec.columns)]


def _column(col: pa.ChunkedArray, name: str, source: str) -> pd.Series:
    """One Parquet column as the CSV reader's cells (module doc)."""
    kind = col.type
    if pa.types.is_dictionary(kind):
        col = col.cast(kind.value_type)
        kind = col.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        trimmed = pd.Series(pc.utf8_trim(col, BLANKS).to_pandas(), dtype=object)
        return trimmed.where(trimmed.notna() & (trimmed != ""), np.nan)
    if pa.types.is_integer(kind) and _is_id(name):  # an integer id: its decimal text
        return pd.Series(col.cast(pa.string()).to_pandas(), dtype=object)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return pd.Series(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return _days(col, name, source)
    raise DataError(
        "unsupported column type",
        source=source,
        field=name,
        expected="text, numbers or dates",
        found=f"Parquet type {kind}",
        fix="write the column as text, a number or a date",
    )


def _is_id(name: str) -> bool:
    return name.strip(BLANKS).lower().endswith("_id")


def _days(col: pa.ChunkedArray, name: str, source: str) -> pd.Series:
    """A date or timestamp column as ``datetime64[ns]`` days (NaT where null)."""
    kind = col.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        raise DataError(
            "unparseable date",
            source=source,
            field=name,
            expected="a date YYYY-MM-DD such as 2024-01-31 (no time zone), 1678–2261",
            found=f"timestamps with time zone {kind.tz}",
            fix="write the days without a time zone",
        )
    if pa.types.is_date(kind):
        days = (
            col.cast(pa.int32())
            if pa.types.is_date32(kind)
            else pc.divide(col.cast(pa.int64()), 86_400_000)
        )
        raw = days.to_numpy(zero_copy_only=False)
        null = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        d = np.where(null, 0, raw).astype("int64").astype("datetime64[D]")
    else:
        unit = kind.unit
        ints = col.cast(pa.int64())
        null = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        stamps = np.where(null, 0, ints.to_numpy(zero_copy_only=False)).astype(
            f"datetime64[{unit}]"
        )
        d = stamps.astype("datetime64[D]")
    bad = ~null & ((d < FIRST_DAY) | (d > LAST_DAY))
    if bad.any():
        raise rows_error(
            "unparseable date",
            pd.RangeIndex(len(d))[bad],
            lambda i: str(d[i]),
            source=source,
            field=name,
            expected="a date YYYY-MM-DD such as 2024-01-31 (no time zone), 1678–2261",
            fix="write dates as YYYY-MM-DD",
        )
    out = pd.Series(d.astype("datetime64[ns]"))
    out[null] = pd.NaT
    return out
