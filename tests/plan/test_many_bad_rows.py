"""A table with many bad rows is reported in one message: the first 20 rows, what was found in
each, and the count (issue 12, acceptance 6) — through `echelon plan` and through the loader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bad_folders import append_line, set_cell

from cli.cli_helpers import run_cli
from echelon.errors import DataError
from echelon.plan.cells import MAX_ROWS_SHOWN, rows_error
from echelon.plan.data import load_context


def _error(folder: Path) -> str:
    with pytest.raises(DataError) as info:
        load_context(folder)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_fifty_bad_demand_rows_give_one_line_naming_the_first_20_and_the_count(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_rows = list(range(3, 3 + 2 * 50, 2))  # rows 3, 5, ..., 101 (header = row 1)
    for n, row in enumerate(bad_rows):
        set_cell(tiny_folder / "demand.csv", row, "y", f"x{n}")
    db = tmp_path / "runs.db"
    code, out, err = run_cli(["plan", str(tiny_folder), "--db", str(db), "--quiet"], capsys)
    print(err)  # the message, verbatim, for the closing note (pytest -s)
    assert code == 2, out + err
    line = " ".join(err.split())
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    shown = ", ".join(str(r) for r in bad_rows[:20])
    assert f"demand.csv: rows {shown}, … (50 rows in all; first 20 shown)" in line
    assert "field 'y': non-numeric quantity" in line
    assert "found 'x0' (row 3), 'x1' (row 5)," in line and "'x19' (row 41), …)" in line
    assert "row 43" not in line and "'x20'" not in line
    assert "— fix: write the quantity as a number" in line
    assert not db.exists()


def test_one_bad_row_keeps_the_single_row_message(tiny_folder: Path) -> None:
    set_cell(tiny_folder / "demand.csv", 4, "y", "abc")
    message = _error(tiny_folder)
    assert message.endswith(
        "demand.csv: row 4: field 'y': non-numeric quantity (expected a number >= 0, "
        "found 'abc') — fix: write the quantity as a number"
    )


def test_different_problems_in_one_column_are_reported_together(tiny_folder: Path) -> None:
    set_cell(tiny_folder / "demand.csv", 3, "y", "x")
    set_cell(tiny_folder / "demand.csv", 5, "y", "-2")
    set_cell(tiny_folder / "demand.csv", 6, "y", "")
    message = _error(tiny_folder)
    assert "rows 3, 5, 6 (3 rows): field 'y': missing, non-numeric or negative quantity" in (
        message
    )
    assert "found 'x' (row 3), -2 (row 5), an empty cell (row 6))" in message
    assert "fix: write the quantity as a number; record returns separately" in message


def test_every_repeated_row_is_named_with_its_first_copy(tiny_folder: Path) -> None:
    lines = (tiny_folder / "demand.csv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:4]:
        append_line(tiny_folder / "demand.csv", line)
    n = len(lines)
    message = _error(tiny_folder)
    assert f"rows {n + 1}, {n + 2}, {n + 3} (3 rows)" in message
    assert f"A, S1, 2024-01-01 also in row 2 (row {n + 1})" in message
    assert f"A, S1, 2024-01-03 also in row 4 (row {n + 3})" in message


def test_unknown_ids_are_all_listed_with_hints(tiny_folder: Path) -> None:
    set_cell(tiny_folder / "inventory.csv", 2, "location_id", "S11")
    set_cell(tiny_folder / "inventory.csv", 5, "location_id", "XX")
    message = _error(tiny_folder)
    assert "rows 2, 5 (2 rows): field 'location_id': unknown location" in message
    assert "found 'S11' (row 2), 'XX' (row 5))" in message
    assert "did you mean 'S1' for 'S11'?" in message and "add them to network.yaml" in message


def test_same_finding_in_every_row_is_written_once(tiny_folder: Path) -> None:
    for row in range(2, 32):
        set_cell(tiny_folder / "demand.csv", row, "ds", "2024-13-45")
    message = _error(tiny_folder)
    assert "(30 rows in all; first 20 shown): field 'ds': unparseable date" in message
    assert "found '2024-13-45' in each of the first 20)" in message


def test_missing_ids_are_all_listed(tiny_folder: Path) -> None:
    set_cell(tiny_folder / "demand.csv", 3, "item_id", "")
    set_cell(tiny_folder / "demand.csv", 8, "item_id", "")
    message = _error(tiny_folder)
    assert "demand.csv: rows 3, 8 (2 rows): field 'item_id': missing value" in message
    assert "found an empty cell in each)" in message


def test_lead_times_on_unknown_lanes_are_all_listed(tiny_folder: Path) -> None:
    append_line(tiny_folder / "lead_times.csv", "S1,S2,3")
    append_line(tiny_folder / "lead_times.csv", "S2,S1,4")
    message = _error(tiny_folder)
    assert "lead_times.csv: rows 9, 10 (2 rows)" in message
    assert "found S1 -> S2 (row 9), S2 -> S1 (row 10))" in message


@pytest.mark.parametrize("count", [2, MAX_ROWS_SHOWN, MAX_ROWS_SHOWN + 1, 500])
def test_rows_error_names_at_most_20_rows_and_always_the_count(count: int) -> None:
    err = rows_error(
        "bad",
        list(range(count)),
        lambda i: f"v{i}",
        source="t.csv",
        field="c",
        expected="good",
        fix="fix it",
    )
    where = err.where or ""
    named = [int(n) for n in re.findall(r"\d+", where.split("(")[0])]
    assert named == [i + 2 for i in range(min(count, MAX_ROWS_SHOWN))]
    if count > MAX_ROWS_SHOWN:
        assert where.endswith(f", … ({count} rows in all; first {MAX_ROWS_SHOWN} shown)")
        assert (err.found or "").endswith(", …")
    else:
        assert where.endswith(f" ({count} rows)") and "…" not in str(err)
    assert (err.found or "").count("(row ") == min(count, MAX_ROWS_SHOWN)


def test_every_demand_row_at_a_dc_is_named_in_one_message(tiny_folder: Path) -> None:
    for row in (2, 4, 6):  # three rows moved from a store to the DC
        set_cell(tiny_folder / "demand.csv", row, "location_id", "DC")
    message = _error(tiny_folder)
    assert "rows 2, 4, 6 (3 rows)" in message
    assert "not a store" in message and "'DC', which supplies S1, S2 in each" in message
