"""What `echelon plan` and `echelon demo` print: ids literally (markup and emoji codes inert,
keys pasteable into `approve`), and never a database password."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cli.cli_helpers import run_cli
from echelon.plan import service
from echelon.plan.service import plan_and_store
from echelon.storage import dispose_engines

ODD = "B:a:[red]x"  # Rich markup and an emoji code in an item id


@pytest.fixture(autouse=True)
def _fresh_engines() -> None:
    dispose_engines()


def _rename_item(folder: Path, old: str, new: str) -> None:
    for name in ("items.csv", "demand.csv", "inventory.csv"):
        path = folder / name
        lines = path.read_text().splitlines()
        path.write_text(
            "\n".join(f"{new}{ln[len(old) :]}" if ln.startswith(f"{old},") else ln for ln in lines)
            + "\n"
        )


def test_ids_with_markup_and_emoji_codes_print_as_typed(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _rename_item(tiny_folder, "B", ODD)
    db = str(tmp_path / "runs.db")
    code, out, err = run_cli(
        ["plan", str(tiny_folder), "--db", db, "--quiet", "--top", "50"], capsys
    )
    assert code == 0, out + err
    assert ODD in out and "🅰" not in out
    result = plan_and_store(tiny_folder, db).result
    keys = [r.key for r in result.recommendations if r.item == ODD]
    assert keys and all("B%3Aa%3A[red]x" in k for k in keys)
    code, out, _ = run_cli(["recommendations", "1", "--db", db], capsys)
    assert code == 0 and all(k in out for k in keys)
    code, out, err = run_cli(["approve", "1", keys[0], "--by", "alice", "--db", db], capsys)
    assert code == 0, out + err


def test_the_demo_never_prints_a_database_password(
    tiny_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = plan_and_store(tiny_folder, str(tmp_path / "runs.db"))
    secret_url = "postgresql://planner:s3cret@db.example:5432/echelon?password=hunter2"
    fake = dataclasses.replace(stored, db=secret_url)
    monkeypatch.setattr(service, "demo_and_store", lambda out, **_: (tiny_folder, fake))
    code, out, err = run_cli(["demo", "--out", str(tmp_path / "demo"), "--quiet"], capsys)
    assert code == 0, out + err
    text = " ".join(out.split())
    assert "s3cret" not in text and "hunter2" not in text
    assert "planner:***@db.example" in text
