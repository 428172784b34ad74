"""Loading and validation of demand history in long format.

Contract: one row per (series, period) with columns ``unique_id`` (item × location key),
``ds`` (period start date), ``y`` (demand in units, a number >= 0). Optional columns: a
``stockout`` flag (1 when the period's sales were cut short by a stockout) and exogenous
columns (events, promotions, price). Periods must be regular (one frequency for all series)
and without gaps. Bad input raises :class:`echelon.errors.DataError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from echelon.errors import DataError
from echelon.fileio import check_input_file, csv_safe_frame

ID, DS, Y = "unique_id", "ds", "y"
STOCKOUT = "stockout"


@dataclass
class DemandData:
    """A validated demand table plus what was learnt about it."""

    df: pd.DataFrame
    freq: str
    exog: list[str] = field(default_factory=list)
    statics: list[str] = field(default_factory=list)
    has_stockout: bool = False
    source: str = "<table>"

    @property
    def n_series(self) -> int:
        return int(self.df[ID].nunique())


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (optionally compressed) or Parquet file, chosen by extension."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise DataError(
            "file not found",
            source=str(p),
            expected="an existing CSV or Parquet file",
            found="no such file",
            fix="check the path",
        )
    check_input_file(p, DataError, max_bytes=None)  # no FIFO, device, folder or broken link
    name = p.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt")):
            return pd.read_csv(p, low_memory=False)
    except (ValueError, OSError) as exc:
        raise DataError(
            "cannot read the file",
            source=str(p),
            expected="a readable CSV or Parquet table",
            found=str(exc).splitlines()[0][:120],
            fix="check the file format",
        ) from exc
    raise DataError(
        "unknown file type",
        source=str(p),
        expected=".csv, .csv.gz or .parquet",
        found=p.suffix or "no extension",
        fix="rename or convert the file",
    )


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write Parquet for ``.parquet``/``.pq``, CSV otherwise (text cells that a spreadsheet
    would run as formulas are neutralized: :func:`echelon.fileio.csv_safe_cell`)."""
    p = Path(path)
    if p.name.lower().endswith((".parquet", ".pq")):
        df.to_parquet(p, index=False)
    else:
        csv_safe_frame(df).to_csv(p, index=False)


def _row(df: pd.DataFrame, idx: object) -> str:
    """CSV line of index label ``idx`` (labels are input positions; line 1 is the header)."""
    return f"row {int(idx) + 2}" if isinstance(idx, int | np.integer) else f"row {idx}"


def validate_demand(
    raw: pd.DataFrame,
    *,
    source: str = "<table>",
    id_col: str | Sequence[str] = ID,
    ds_col: str = DS,
    y_col: str = Y,
    stockout_col: str | None = None,
    exog: Sequence[str] | None = None,
    statics: Sequence[str] | None = None,
    freq: str | None = None,
    fill_gaps: bool = False,
) -> DemandData:
    """Map columns to unique_id/ds/y, check them and return a sorted :class:`DemandData`.

    ``id_col`` may be a list (e.g. ``["item", "location"]``), joined with ``_``.
    ``freq`` is a pandas alias (``D``, ``W-SUN``, ``MS``); inferred when omitted.
    ``fill_gaps`` fills missing periods with y = 0 instead of rejecting them.
    """
    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    needed = [*ids, ds_col, y_col]
    for col in needed + ([stockout_col] if stockout_col else []) + list(exog or []):
        if col not in raw.columns:
            raise DataError(
                "missing column",
                source=source,
                where="header",
                field=col,
                expected=f"a column named '{col}'",
                found=", ".join(map(str, raw.columns[:8])),
                fix="rename the column or map it with --id-col/--ds-col/--y-col",
            )
    if raw.empty:
        raise DataError("the table has no rows", source=source, expected="demand rows", found="0")
    df = raw.reset_index(drop=True)  # index labels = input row positions
    if len(ids) == 1:
        df[ID] = df[ids[0]].astype(str)
    else:
        df[ID] = df[ids].astype(str).agg("_".join, axis=1)
    ds = pd.to_datetime(df[ds_col], errors="coerce")
    bad = ds.isna() & df[ds_col].notna() | df[ds_col].isna()
    if bad.any():
        i = bad.idxmax()
        raise DataError(
            "unparseable date",
            source=source,
            where=_row(df, i),
            field=ds_col,
            expected="a date such as 2024-01-31",
            found=repr(df.at[i, ds_col]),
            fix="write dates as YYYY-MM-DD",
        )
    y = pd.to_numeric(df[y_col], errors="coerce")
    bad = y.isna()
    if bad.any():
        i = bad.idxmax()
        raise DataError(
            "non-numeric quantity",
            source=source,
            where=_row(df, i),
            field=y_col,
            expected="a number >= 0",
            found=repr(df.at[i, y_col]),
            fix="write the quantity as a number (0 for no demand)",
        )
    if (y < 0).any():
        i = (y < 0).idxmax()
        raise DataError(
            "negative quantity",
            source=source,
            where=_row(df, i),
            field=y_col,
            expected="a number >= 0",
            found=str(df.at[i, y_col]),
            fix="record returns separately; demand must be >= 0",
        )
    df[DS] = ds
    df[Y] = y.astype(float)
    dup = df.duplicated([ID, DS], keep="first")
    if dup.any():
        i = dup.idxmax()
        raise DataError(
            "duplicate key",
            source=source,
            where=_row(df, i),
            field=f"{'+'.join(ids)}, {ds_col}",
            expected="one row per series and date",
            found=f"{df.at[i, ID]!s} on {str(df.at[i, DS])[:10]} twice",
            fix="sum duplicate rows before loading",
        )
    if stockout_col:
        so = pd.to_numeric(df[stockout_col].replace({True: 1, False: 0}), errors="coerce")
        if so.isna().any() or not so.isin([0, 1]).all():
            i = (so.isna() | ~so.isin([0, 1])).idxmax()
            raise DataError(
                "bad stockout flag",
                source=source,
                where=_row(df, i),
                field=stockout_col,
                expected="0 or 1",
                found=repr(df.at[i, stockout_col]),
                fix="use 0/1 flags",
            )
        df[STOCKOUT] = so.astype(int)
    exog_l = list(exog or [])
    keep = [ID, DS, Y] + ([STOCKOUT] if stockout_col else []) + exog_l + list(statics or [])
    df = df[list(dict.fromkeys(keep))].sort_values([ID, DS], kind="stable")
    freq = _check_freq(df, freq, source, ds_col)
    df = _check_gaps(df, freq, source, ds_col, fill_gaps).reset_index(drop=True)
    return DemandData(
        df=df,
        freq=freq,
        exog=exog_l,
        statics=list(statics or []),
        has_stockout=bool(stockout_col),
        source=source,
    )


def _check_freq(df: pd.DataFrame, freq: str | None, source: str, ds_col: str) -> str:
    if freq is not None:
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError as exc:
            raise DataError(
                "unknown frequency",
                source=source,
                field="freq",
                expected="a pandas alias such as D, W-SUN, MS",
                found=repr(freq),
                fix="pass --freq D, W or MS",
            ) from exc
        return freq
    counts = df.groupby(ID, sort=False)[DS].size()
    longest = counts.idxmax()
    dates = pd.DatetimeIndex(df.loc[df[ID] == longest, DS])
    inferred = pd.infer_freq(dates) if len(dates) >= 3 else None
    if inferred is None:
        diffs = dates.to_series().diff().dropna()
        step = diffs.min() if len(diffs) else None
        if step is not None and step == pd.Timedelta(days=1):
            inferred = "D"
        elif step is not None and step == pd.Timedelta(days=7):
            inferred = "W-" + dates[0].day_name()[:3].upper()
        elif len(dates) and (dates.day == 1).all():
            inferred = "MS"
    if inferred is None:
        raise DataError(
            "unknown frequency",
            source=source,
            where=f"series {longest}",
            field=ds_col,
            expected="regular daily, weekly or monthly dates",
            found=f"{len(dates)} irregular dates",
            fix="pass --freq (D, W-SUN, MS, ...)",
        )
    return inferred


def _check_gaps(
    df: pd.DataFrame, freq: str, source: str, ds_col: str, fill_gaps: bool
) -> pd.DataFrame:
    off = pd.tseries.frequencies.to_offset(freq)
    grid = pd.date_range(df[DS].min(), df[DS].max(), freq=off)
    pos = pd.Series(np.arange(len(grid)), index=grid)
    agg = df.groupby(ID, sort=False)[DS].agg(["min", "max", "size"])
    bad_uid = None
    if agg["min"].isin(grid).all() and agg["max"].isin(grid).all():
        expect = pos.loc[agg["max"]].to_numpy() - pos.loc[agg["min"]].to_numpy() + 1
        wrong = np.flatnonzero(expect != agg["size"].to_numpy())
        if len(wrong):
            j = int(wrong[0])
            bad_uid = (agg.index[j], int(expect[j]), int(agg["size"].iloc[j]))
    on_grid = df[DS].isin(grid)
    if not on_grid.all():
        i = (~on_grid).idxmax()
        raise DataError(
            "date off the frequency grid",
            source=source,
            where=_row(df, i),
            field=ds_col,
            expected=f"dates of frequency {freq}",
            found=str(df.at[i, DS])[:10],
            fix="align dates to period starts or pass the right --freq",
        )
    if bad_uid is None:
        return df
    if not fill_gaps:
        uid, expect, k = bad_uid
        raise DataError(
            "gap in the series",
            source=source,
            where=f"series {uid}",
            field=ds_col,
            expected=f"{expect} consecutive periods",
            found=f"{k} periods",
            fix="add the missing periods with y = 0 or pass --fill-gaps",
        )
    parts = []
    for uid, g in df.groupby(ID, sort=False):
        idx = pd.date_range(g[DS].min(), g[DS].max(), freq=off)
        g2 = g.set_index(DS).reindex(idx).rename_axis(DS).reset_index()
        g2[ID] = uid
        g2[Y] = g2[Y].fillna(0.0)
        parts.append(g2)
    out = pd.concat(parts, ignore_index=True)
    if STOCKOUT in out:
        out[STOCKOUT] = out[STOCKOUT].fillna(0).astype(int)
    return out[df.columns]


def load_demand(path: str | Path, **kwargs: object) -> DemandData:
    """Read ``path`` and validate it (see :func:`validate_demand` for options)."""
    raw = read_table(path)
    return validate_demand(raw, source=str(path), **kwargs)  # type: ignore[arg-type]


def wide_to_long(wide: pd.DataFrame, id_col: str, date_format: str | None = None) -> pd.DataFrame:
    """Turn a wide table (one column per period) into unique_id/ds/y; drops empty cells."""
    long = wide.melt(id_vars=id_col, var_name=DS, value_name=Y).dropna(subset=[Y])
    long[DS] = pd.to_datetime(long[DS], format=date_format)
    long = long.rename(columns={id_col: ID})
    long[ID] = long[ID].astype(str)
    return long.sort_values([ID, DS], kind="stable").reset_index(drop=True)


def season_length(freq: str) -> int:
    """Seasonal period for a pandas frequency alias: D → 7, W → 52, M/MS → 12, Q → 4."""
    f = freq.upper()
    if f.startswith("D") or f.startswith("B"):
        return 7
    if f.startswith("W"):
        return 52
    if f.startswith("M"):
        return 12
    if f.startswith("Q"):
        return 4
    return 1


def series_rows(ids: np.ndarray | pd.Series) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Rows of every series, grouped once: (series ids in order of first appearance, row
    order, bounds) — the rows of series ``k`` are ``order[bounds[k]:bounds[k + 1]]``, in
    their order in ``ids``."""
    codes, uniq = pd.factorize(np.asarray(ids))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return pd.Index(uniq), order, bounds


@dataclass(frozen=True)
class SeriesTable:
    """A training table's rows grouped once by series (:func:`series_rows`): each series'
    demand (units, its rows in their table order) and last date, looked up by id."""

    index: pd.Index  # series ids, in order of first appearance
    y: np.ndarray  # demand of every row, series after series
    bounds: np.ndarray  # the rows of series k are y[bounds[k]:bounds[k + 1]]
    last: np.ndarray  # last date (the max of ds) of every series

    @classmethod
    def of(cls, train: pd.DataFrame) -> SeriesTable:
        index, order, bounds = series_rows(train[ID])
        ds = train[DS].to_numpy()[order]
        last = np.maximum.reduceat(ds, bounds[:-1]) if len(ds) else ds[:0]
        return cls(index, train[Y].to_numpy(float)[order], bounds, last)

    def positions(self, uids: Sequence[str]) -> np.ndarray:
        """Position of every id of ``uids`` in :attr:`index`; KeyError for an unknown id."""
        pos = self.index.get_indexer(pd.Index(list(uids)))
        if (pos < 0).any():
            raise KeyError(str(np.asarray(uids, dtype=object)[pos < 0][0]))
        return np.asarray(pos)

    def histories(self, uids: Sequence[str]) -> list[np.ndarray]:
        """Demand history arrays in the order of ``uids`` (views of one private array)."""
        return [self.y[self.bounds[k] : self.bounds[k + 1]] for k in self.positions(uids)]

    def future_dates(self, uids: Sequence[str], h: int, freq: str) -> np.ndarray:
        """(n, H) forecast dates following each series' last date."""
        last = pd.Series(self.last[self.positions(uids)])
        off = pd.tseries.frequencies.to_offset(freq)
        steps = [last + off * (s + 1) for s in range(h)]
        return np.stack([s.to_numpy() for s in steps], axis=1)
