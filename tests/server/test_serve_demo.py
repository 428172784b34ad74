"""``echelon serve --demo``: the demo's database and data folder, and a demo admin created
once with a random password (never a fixed one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from echelon.cli.serve_cmds import DEMO_USER, demo_setup
from echelon.storage import StorageError, save_run
from echelon.storage.users import authenticate, list_users
from storage.factories import make_plan_result


def test_demo_setup_creates_one_admin_with_a_random_password(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="make demo"):
        demo_setup(tmp_path)
    save_run(str(tmp_path / "echelon.db"), make_plan_result())
    (tmp_path / "data").mkdir()
    db, folders, password = demo_setup(tmp_path)
    assert db == str(tmp_path / "echelon.db") and folders == {"demo": tmp_path / "data"}
    assert password is not None and len(password) >= 12
    user = authenticate(db, DEMO_USER, password)
    assert user is not None and user.role == "admin"
    again = demo_setup(tmp_path)
    assert again[2] is None and [u.name for u in list_users(db)] == [DEMO_USER]
    _, _, other = demo_setup(_fresh(tmp_path / "other"))
    assert other != password


def _fresh(path: Path) -> Path:
    path.mkdir()
    save_run(str(path / "echelon.db"), make_plan_result())
    return path
