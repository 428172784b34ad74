"""Hostile and odd data folders (issue 19) through the loader and through `echelon plan`."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_folders import BadFolder, write_tiny_folder
from hostile_folders import HOSTILE_FOLDERS

from cli.cli_helpers import run_cli
from echelon.errors import DataError
from echelon.plan.data import load_context

IDS = [c.name for c in HOSTILE_FOLDERS]


@pytest.mark.parametrize("case", HOSTILE_FOLDERS, ids=IDS)
def test_hostile_folder_raises_one_located_line(case: BadFolder, tmp_path: Path) -> None:
    folder = write_tiny_folder(tmp_path / "data")
    case.mutate(folder)
    with pytest.raises(DataError) as info:
        load_context(folder)
    message = str(info.value)
    assert "\n" not in message and info.value.fix
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("case", HOSTILE_FOLDERS, ids=IDS)
def test_hostile_folder_exits_2_and_writes_nothing(
    case: BadFolder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tiny_folder(tmp_path / "data")
    case.mutate(folder)
    db, report = tmp_path / "runs.db", tmp_path / "report.html"
    code, out, err = run_cli(
        ["plan", str(folder), "--db", str(db), "--report", str(report), "--quiet"], capsys
    )
    assert code == 2, out + err
    line = " ".join(err.strip().split())
    assert "\n" not in err.strip() and "Traceback" not in err
    for fragment in case.fragments:
        assert fragment in line, (fragment, line)
    assert not db.exists() and not report.exists()


def test_hostile_table_names_are_unique() -> None:
    assert len(set(IDS)) == len(IDS) >= 60
