"""Reading and checking the CSV tables of a plan data folder (docs/plan-data.md).

Every table is read as text and checked column by column, so that a bad cell is reported with
the file, the row as the user sees it in the file (the header is row 1, the first data row is
row 2), the column, what was expected, what was found and how to fix it — as a
:class:`echelon.errors.DataError`. Column names are matched without surrounding blanks and case;
a missing or unknown column that looks like a known one is reported with the closest name.
The cell checks (:func:`ids`, :func:`numbers`, :func:`dates`, :func:`no_duplicates`,
:func:`known`) live in :mod:`echelon.plan.cells` (re-exported here): each reports every bad
row of a column in one message (the first 20 with what was found, and the count).
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from echelon.errors import DataError
from echelon.fileio import read_bytes
from echelon.plan.calendar import PlanCalendar, plan_date
from echelon.plan.cells import MAX_ROWS_SHOWN as MAX_ROWS_SHOWN
from echelon.plan.cells import dates as dates
from echelon.plan.cells import ids as ids
from echelon.plan.cells import known as known
from echelon.plan.cells import no_duplicates as no_duplicates
from echelon.plan.cells import numbers as numbers
from echelon.plan.cells import row_of as row_of
from echelon.plan.cells import rows_error as rows_error
from echelon.plan.model import ExceptionKind, PlanConfig, PlanException, Severity

MIN_PERIODS = 8  # fewer full periods of history than this is a finding
# sanity bounds of the tables' numbers (docs/plan-data.md): far beyond real data, and small
# enough that every sum and product of the plan stays finite
MAX_UNITS = 1e12  # a quantity: demand, on hand, backorders, an open order
MAX_UNIT_MONEY = 1e9  # unit cost and price, money per unit
MAX_PACK = 1e6  # pack size, units
MAX_MOQ = 1e9  # minimum order quantity, units
MAX_LEAD_DAYS = 3650.0  # a lead-time observation, days
BLANKS = " \t"  # trimmed around cells and column names (a control character inside is an error)
MAX_GAP_DAYS = 366  # the plan date at most this many days after the last demand date


@dataclass(frozen=True)
class TableSpec:
    """The columns of one table: required ones, and optional ones with their defaults."""

    name: str
    required: tuple[str, ...]
    optional: dict[str, object] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


ITEMS = TableSpec(
    "items.csv",
    ("item_id", "unit_cost"),
    {"price": np.nan, "category": "", "pack_size": 1.0, "moq": 0.0},
)
DEMAND = TableSpec("demand.csv", ("item_id", "location_id", "ds", "y"))
INVENTORY = TableSpec("inventory.csv", ("item_id", "location_id", "on_hand"), {"backorders": 0.0})
ON_ORDER = TableSpec("on_order.csv", ("item_id", "location_id", "quantity", "due"))
LEAD_TIMES = TableSpec("lead_times.csv", ("from_id", "to_id", "lead_time_days"))


def read_csv(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read ``path`` as text cells, check its columns against ``spec`` and add defaults.

    Index labels are the data rows' positions in the file (row = label + 2); blank lines are
    dropped without renumbering the others. Cells are strings, empty cells NaN.
    """
    source = str(path)
    text = _text_of(path, spec)
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            "the file is empty",
            source=source,
            expected=f"a header line with {', '.join(spec.required)}",
            found="nothing",
            fix="write the header line and the rows",
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            "cannot read the file as CSV",
            source=source,
            found=str(exc).strip().splitlines()[-1][:160],
            fix="check the separators (commas) and quotes of that line",
        ) from None
    raw.columns = [str(c).strip(BLANKS).lower() for c in raw.columns]
    raw = raw.dropna(how="all")
    check_columns(raw, spec, source)
    for col, default in spec.optional.items():
        if col not in raw.columns:
            raw[col] = pd.Series(default, index=raw.index)
    for col in spec.columns:
        if not pd.api.types.is_numeric_dtype(raw[col]):
            trimmed = raw[col].str.strip(BLANKS)  # not str.strip(): it eats \x1c–\x1f too
            raw[col] = trimmed.where(trimmed != "", np.nan)
    return raw[list(spec.columns)]


def _text_of(path: Path, spec: TableSpec) -> str:
    """The file's text: a regular file within the size cap (:func:`echelon.fileio.read_bytes`:
    no device, pipe or socket), UTF-8 (a byte-order mark is dropped), without NUL bytes (the
    CSV parser would cut the cell at one: ``B\\0X`` read as ``B``)."""
    source = str(path)
    data = read_bytes(path, DataError)
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError(
            "NUL byte in the file",
            source=source,
            where=f"row {line}",
            expected="text without NUL (\\0) characters",
            found=f"a NUL byte at byte {nul}",
            fix=f"remove the NUL characters (is {spec.name} a text CSV file?)",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            "the file is not UTF-8 text",
            source=source,
            found=f"byte {exc.start}",
            fix="save the file as UTF-8 CSV",
        ) from None


def check_columns(raw: pd.DataFrame, spec: TableSpec, source: str) -> None:
    """Refuse a duplicate, missing or misspelt column (the closest known name in the fix)."""
    cols = list(raw.columns)
    for col in cols:
        twin = re.fullmatch(r"(.+)\.\d+", col)  # pandas renames a repeated column 'x' to 'x.1'
        if twin and twin.group(1) in cols:
            raise DataError(
                "duplicate column",
                source=source,
                where="row 1 (header)",
                field=twin.group(1),
                fix="remove or rename one of the two columns",
            )
    unknown = [c for c in cols if c not in spec.columns]
    for col in spec.required:
        if col not in cols:
            near = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
            fix = f"rename column '{near[0]}' to '{col}'" if near else f"add a column '{col}'"
            seps = [sep for sep in (";", "\t", "|") if len(cols) == 1 and sep in cols[0]]
            if seps:
                fix = f"separate the columns with commas, not {seps[0]!r}"
            raise DataError(
                "missing column",
                source=source,
                where="row 1 (header)",
                field=col,
                expected=", ".join(spec.required),
                found=", ".join(cols) or "no columns",
                fix=fix,
            )
    for col in unknown:
        near = difflib.get_close_matches(col, list(spec.columns), n=1, cutoff=0.75)
        if near and near[0] not in cols:
            raise DataError(
                "unknown column",
                source=source,
                where="row 1 (header)",
                field=col,
                expected=f"one of {', '.join(spec.columns)}",
                found=f"'{col}'",
                fix=f"rename it to '{near[0]}' (or remove it)",
            )


def finding(
    message: str,
    severity: Severity,
    *,
    item: str | None = None,
    location: str | None = None,
    value: float | None = None,
) -> PlanException:
    """A non-fatal data-quality finding (it becomes a DATA_QUALITY exception of the plan)."""
    return PlanException(
        kind=ExceptionKind.DATA_QUALITY,
        severity=severity,
        message=message,
        item=item,
        location=location,
        value=value,
    )


def step_days(ds: pd.Series) -> int:
    """The smallest spacing in days between distinct dates (1 with fewer than two dates)."""
    days = np.unique(ds.to_numpy(dtype="datetime64[D]"))
    if len(days) < 2:
        return 1
    return int(np.diff(days).astype(int).min())


def complete_series(
    demand: pd.DataFrame,
    src: str,
    item_ids: Sequence[str],
    stores: Sequence[str],
    config: PlanConfig,
    findings: list[PlanException],
) -> tuple[pd.DataFrame, PlanCalendar]:
    """Check the dates of a demand table, fix the plan's calendar, fill missing days with 0.

    Dates must be daily or ``period_days`` apart on one grid. The plan date ``as_of`` follows
    :func:`echelon.plan.calendar.plan_date`; rows on or after it are dropped (a finding).
    Every item × store needs rows. Each series runs from its first date to the day (period)
    before ``as_of``; missing days (periods) get y = 0.
    """
    p = config.period_days
    days = np.unique(demand["ds"].to_numpy(dtype="datetime64[D]"))
    if len(days) < 2:
        raise DataError(
            "too little history",
            source=src,
            field="ds",
            expected="at least two dates",
            found=f"only {days[0]}",
            fix="add the demand history (daily, or one row per period)",
        )
    step = step_days(demand["ds"])
    if step not in (1, p):
        raise DataError(
            "dates are neither daily nor one period apart",
            source=src,
            field="ds",
            expected=f"consecutive days, or dates {p} days apart (plan.yaml period_days)",
            found=f"dates {step} days apart",
            fix="write daily sales, or set period_days in plan.yaml to the data's period",
        )
    origin = pd.Timestamp(days[0])
    if step > 1:
        off = ((demand["ds"] - origin).dt.days % step) != 0
        if off.any():
            raise rows_error(
                "date off the period grid",
                demand.index[off.to_numpy()],
                lambda i: str(demand.loc[i, "ds"])[:10],
                source=src,
                field="ds",
                expected=f"period start dates {step} days apart from {origin.date()}",
                fix="give every period's demand on the period's first day",
            )
    as_of = plan_date(config.as_of, pd.Timestamp(days[-1]).date(), step)
    start = pd.Timestamp(as_of)
    _plan_date_near(start, pd.Timestamp(days[-1]), step, str(Path(src).with_name("plan.yaml")))
    if step > 1 and (start - origin).days % step:
        raise DataError(
            "the plan date is not a period boundary of the per-period demand",
            source=src,
            field="ds",
            expected=f"periods starting {step} days apart up to the plan date {as_of}",
            found=f"periods starting on {origin.date()}",
            fix="set as_of in plan.yaml to a period start",
        )
    late = (demand["ds"] >= start).to_numpy()
    if late.any():
        findings.append(
            finding(
                f"{src}: {int(late.sum())} rows dated on or after the plan date {as_of} ignored",
                Severity.MEDIUM,
                value=float(late.sum()),
            )
        )
        demand = demand[~late]
    if demand.empty:
        raise DataError(
            "no demand before the plan date",
            source=src,
            field="ds",
            expected=f"dates before {as_of}",
            found=f"first date {origin.date()}",
            fix="set as_of in plan.yaml after the history",
        )
    _every_store_item(demand, src, item_ids, stores)
    return _fill(demand, src, step, start, config, findings), PlanCalendar(as_of, p, step)


def _plan_date_near(as_of: pd.Timestamp, last: pd.Timestamp, step: int, source: str) -> None:
    """The plan date may follow the history by at most :data:`MAX_GAP_DAYS` days (the days in
    between count as no demand; a plan date years away plans on a history of zeros)."""
    gap = (as_of - last).days - step
    if gap > MAX_GAP_DAYS:
        raise DataError(
            "the plan date is far beyond the demand history",
            source=source,
            field="as_of",
            expected=f"at most {MAX_GAP_DAYS} days after the last demand date {last.date()}",
            found=f"{as_of.date()}, {gap:,} days after it",
            fix="correct as_of in plan.yaml (or remove it: the day after the history)",
        )


def _every_store_item(
    demand: pd.DataFrame, src: str, item_ids: Sequence[str], stores: Sequence[str]
) -> None:
    present = set(zip(demand["item_id"], demand["location_id"], strict=True))
    for item in item_ids:
        for store in stores:
            if (item, store) not in present:
                raise DataError(
                    "no demand history for a store × item",
                    source=src,
                    where=f"item '{item}' at store '{store}'",
                    expected="rows for every item of items.csv at every store",
                    found="no rows",
                    fix="add rows with y = 0 for days without sales (or remove the item)",
                )


def _fill(
    demand: pd.DataFrame,
    src: str,
    step: int,
    as_of: pd.Timestamp,
    config: PlanConfig,
    findings: list[PlanException],
) -> pd.DataFrame:
    keys = ["item_id", "location_id"]
    unit = "days" if step == 1 else "periods"
    end = as_of - pd.Timedelta(days=step)
    last = demand["ds"].max()
    stats = demand.groupby(keys, sort=True)["ds"].agg(["min", "size"])
    first = stats["min"]
    span = ((end - first).dt.days // step + 1).to_numpy()
    within = ((last - first).dt.days // step + 1).to_numpy() - stats["size"].to_numpy()
    offsets = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    full = pd.DataFrame(
        {
            "item_id": np.repeat(stats.index.get_level_values(0).to_numpy(), span),
            "location_id": np.repeat(stats.index.get_level_values(1).to_numpy(), span),
            "ds": np.repeat(first.to_numpy(), span) + pd.to_timedelta(offsets * step, unit="D"),
        }
    )
    out = full.merge(demand, on=[*keys, "ds"], how="left")
    out["y"] = out["y"].fillna(0.0).astype(float)
    out["ds"] = out["ds"].astype("datetime64[ns]")
    for (item, loc), gap, n in zip(stats.index, within, span, strict=True):
        if gap > 0:
            findings.append(
                finding(
                    f"{src}: item '{item}' at '{loc}': {gap} missing {unit} filled with 0",
                    Severity.LOW if gap <= 0.05 * n else Severity.MEDIUM,
                    item=str(item),
                    location=str(loc),
                    value=float(gap),
                )
            )
    trailing = (end - last).days // step
    if trailing > 0:
        findings.append(
            finding(
                f"{src}: the history ends on {last.date()}, {trailing} {unit} before the plan "
                f"date {as_of.date()}; those {unit} count as no demand",
                Severity.HIGH,
                value=float(trailing),
            )
        )
    totals = out.groupby(keys, sort=True)["y"].sum()
    for item, loc in totals.index[(totals == 0).to_numpy()]:
        findings.append(
            finding(
                f"{src}: item '{item}' at '{loc}' has no demand in the history; no stock is "
                "planned for it",
                Severity.MEDIUM,
                item=str(item),
                location=str(loc),
                value=0.0,
            )
        )
    periods = (as_of - demand["ds"].min()).days // config.period_days
    fit = periods - config.holdout_periods
    if fit < MIN_PERIODS:
        findings.append(
            finding(
                f"{src}: only {periods} full periods of history, {fit} of them before the "
                f"{config.holdout_periods} held out (fewer than {MIN_PERIODS}); forecasts and "
                "safety stocks are unreliable",
                Severity.HIGH,
                value=float(periods),
            )
        )
    return out.sort_values([*keys, "ds"], kind="stable").reset_index(drop=True)
