"""Checking the cells of a table's columns, every bad row of a column in one message.

Each check (:func:`ids`, :func:`numbers`, :func:`dates`, :func:`no_duplicates`, :func:`known`)
looks at a whole column and raises one :class:`echelon.errors.DataError` naming every offending
row as the user sees it in the file (the header is row 1, the first data row is row 2): one bad
row keeps the single-row message ("row 7: field 'y': negative quantity (expected a number >= 0,
found -3)"); several name the first :data:`MAX_ROWS_SHOWN` rows with what was found in each,
and the count ("rows 2, 5, … (50 rows in all; first 20 shown)"), as :func:`rows_error` writes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from echelon.errors import DataError

MAX_ROWS_SHOWN = 20  # bad rows named one by one in an error message (then the count)
CONTROL = r"[\x00-\x1f\x7f-\x9f]"  # control characters: never part of an id
#: a day as a CSV cell: YYYY-MM-DD, optionally a time of day (dropped); no time zone
DAY = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"


def row_of(idx: object) -> str:
    """The row of a data frame index label as the user sees it (header = row 1)."""
    return f"row {_row_number(idx)}"


def _row_number(idx: object) -> str:
    return str(int(idx) + 2) if isinstance(idx, int | np.integer) else str(idx)


def rows_error(
    message: str,
    rows: Sequence[Any] | pd.Index,
    found: Callable[[Any], str],
    *,
    source: str,
    field: str,
    expected: str,
    fix: str,
) -> DataError:
    """One DataError for every bad row ``rows`` (index labels, in file order).

    One row keeps the single-row wording (``where`` = "row 7", ``found`` = what is in it).
    Several name the first :data:`MAX_ROWS_SHOWN` rows, with what ``found(label)`` says of
    each, and the count: "rows 2, 5, … (50 rows in all; first 20 shown)".
    """
    if len(rows) == 1:
        return DataError(
            message,
            source=source,
            where=row_of(rows[0]),
            field=field,
            expected=expected,
            found=found(rows[0]),
            fix=fix,
        )
    shown = list(rows[:MAX_ROWS_SHOWN])
    more = ", …" if len(rows) > len(shown) else ""
    count = f"{len(rows)} rows in all; first {len(shown)} shown" if more else f"{len(rows)} rows"
    cells = [found(r) for r in shown]
    if len(set(cells)) == 1:
        seen = f"{cells[0]} in each" + (f" of the first {len(shown)}" if more else "")
    else:
        seen = ", ".join(f"{c} ({row_of(r)})" for r, c in zip(shown, cells, strict=True)) + more
    return DataError(
        message,
        source=source,
        where=f"rows {', '.join(_row_number(r) for r in shown)}{more} ({count})",
        field=field,
        expected=expected,
        found=seen,
        fix=fix,
    )


def ids(df: pd.DataFrame, col: str, source: str) -> pd.Series:
    """The id column as strings; a missing id, or one with a control character (tab, newline,
    escape, the unit separator ``\\x1f`` …: they corrupt terminals, CSV exports and the keys
    echelon joins ids with), is an error (every such row in one message)."""
    bad = df[col].isna().to_numpy()
    if bad.any():
        raise rows_error(
            "missing value",
            df.index[bad],
            lambda _: "an empty cell",
            source=source,
            field=col,
            expected="an id",
            fix="fill in the id or remove the row",
        )
    text = df[col].astype(str)
    codes, uniques = pd.factorize(text)  # each distinct id checked once, not once per row
    bad_id = pd.Series(uniques).str.contains(CONTROL, regex=True).to_numpy(dtype=bool)
    control = bad_id[codes]
    if control.any():
        raise rows_error(
            "control character in an id",
            df.index[control],
            lambda i: ascii(text.at[i]),
            source=source,
            field=col,
            expected="an id of printable characters",
            fix="remove the control characters (tabs, escapes, separators) from the id",
        )
    return text


def control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character (C0, DEL or C1)."""
    return re.search(CONTROL, value) is not None


def numbers(
    df: pd.DataFrame,
    col: str,
    source: str,
    *,
    what: str,
    minimum: float = 0.0,
    maximum: float,
    strict: bool = False,
    fix: str | None = None,
) -> pd.Series:
    """The column as finite floats ``>= minimum`` (``> minimum`` when ``strict``) and
    ``<= maximum`` (a sanity bound: far beyond any real value, so that sums and products of
    the plan stay finite).

    Every empty, non-numeric or out-of-range cell of the column is reported in one message.
    """
    cells = df[col]
    values = pd.to_numeric(cells, errors="coerce").astype(float)
    v = values.to_numpy()
    finite = np.isfinite(v)
    empty = cells.isna().to_numpy()
    low = finite & (((v <= minimum) if strict else (v < minimum)) | (v > maximum))
    number_fix = f"write the {what} as a number"
    range_fix = fix or f"correct the {what}"
    kinds = {
        "missing": (empty, number_fix),
        "non-numeric": (~finite & ~empty, number_fix),
        "negative": (low & (v < 0), range_fix),
        "too large": (low & (v > maximum), f"check the {what}: at most {maximum:g}"),
        "out of range": (low & (v >= 0) & (v <= maximum), range_fix),
    }
    present = {name: kind for name, kind in kinds.items() if kind[0].any()}
    if not present:
        return values
    adjectives = _either([k for k in present if k not in ("out of range", "too large")])
    message = " or ".join(
        [f"{adjectives} {what}"] * bool(adjectives)
        + [f"{what} out of range"] * ("out of range" in present)
        + [f"{what} too large"] * ("too large" in present)
    )

    def seen(i: Any) -> str:
        cell: Any = cells.at[i]
        value: Any = values.at[i]
        if pd.isna(cell):
            return "an empty cell"
        return str(cell) if np.isfinite(value) else repr(cell)

    raise rows_error(
        message,
        df.index[~finite | low],
        seen,
        source=source,
        field=col,
        expected=f"a number {'>' if strict else '>='} {minimum:g}"
        + (f" and <= {maximum:g}" if "too large" in present else ""),
        fix="; ".join(dict.fromkeys(f for _, f in present.values())),
    )


def dates(df: pd.DataFrame, col: str, source: str) -> pd.Series:
    """The column as ``datetime64[ns]`` days: strictly ``YYYY-MM-DD`` (a time of day after it
    is dropped; a partial date such as ``2014-03``, a time zone, another layout or a day that
    does not exist is an error — every such row in one message). A ``datetime64`` column (read
    from Parquet) holds days already; only its missing cells are errors."""
    cells = df[col]
    if pd.api.types.is_datetime64_dtype(cells):  # days already (a Parquet date column)
        parsed = cells
    else:
        text = cells.astype(str)
        shaped = text.str.fullmatch(DAY).fillna(False).to_numpy(dtype=bool)
        shaped &= cells.notna().to_numpy()
        parsed = pd.to_datetime(text.str[:10].where(shaped), errors="coerce", format="%Y-%m-%d")
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise rows_error(
            "unparseable date",
            df.index[bad],
            lambda i: _text(cells.at[i]),
            source=source,
            field=col,
            expected="a date YYYY-MM-DD such as 2024-01-31 (no time zone), 1678–2261",
            fix="write dates as YYYY-MM-DD",
        )
    return parsed.astype("datetime64[ns]")


def no_duplicates(df: pd.DataFrame, keys: Sequence[str], source: str, what: str) -> None:
    """Raise on the rows whose ``keys`` repeat an earlier row's (all of them in one message)."""
    keys = list(keys)
    later = df.duplicated(keys, keep="first").to_numpy()
    if not later.any():
        return
    group = df.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first_of = pd.Series(df.index).groupby(group).first()
    where = pd.Series(group, index=df.index)

    def seen(i: Any) -> str:
        shown = ", ".join(
            str(v.date()) if isinstance(v, pd.Timestamp) else str(v)
            for v in df.loc[i, keys].to_numpy()
        )
        return f"{shown} also in {row_of(first_of.at[where.at[i]])}"

    raise rows_error(
        "duplicate row",
        df.index[later],
        seen,
        source=source,
        field=", ".join(keys),
        expected=f"one row per {what}",
        fix="remove the repeated row or add the two rows into one",
    )


def known(
    values: pd.Series,
    allowed: Collection[str],
    source: str,
    *,
    field: str,
    what: str,
    where_allowed: str,
) -> None:
    """Raise on the values that are not in ``allowed`` (every such row in one message)."""
    bad = ~values.isin(list(allowed)).to_numpy()
    if not bad.any():
        return
    rows = values.index[bad]
    choices = [str(a) for a in allowed]
    unknown = list(dict.fromkeys(str(values.at[i]) for i in rows[:MAX_ROWS_SHOWN]))
    near = {u: difflib.get_close_matches(u, choices, n=1, cutoff=0.6) for u in unknown}
    hints = [f"'{m[0]}' for '{u}'" for u, m in near.items() if m]
    if len(unknown) == 1:
        hint = f" (did you mean '{near[unknown[0]][0]}'?)" if hints else ""
        fix = f"correct the id{hint} or add it to {where_allowed}"
    else:
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        fix = f"correct the ids{hint} or add them to {where_allowed}"
    raise rows_error(
        f"unknown {what}",
        rows,
        lambda i: f"'{values.at[i]}'",
        source=source,
        field=field,
        expected=f"{'an' if what[0] in 'aeiou' else 'a'} {what} of {where_allowed}",
        fix=fix,
    )


def _either(words: Sequence[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _text(cell: Any) -> str:
    return "an empty cell" if pd.isna(cell) else repr(cell)
