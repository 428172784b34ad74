"""``echelon report``: from a PlanResult JSON file or from storage (a stand-in loader here),
bad input gives one line and exit status 2, and nothing is written."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from report_factories import make_result

from echelon.cli import app as cli_app
from echelon.cli import report_cmd
from echelon.plan.model import PlanResult


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    """Register the command unless ``echelon.cli.app`` already lists it."""
    names = {c.name for c in cli_app.app.registered_commands}
    if "report" not in names:
        report_cmd.register(cli_app.app)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        cli_app.main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def result() -> PlanResult:
    return make_result()


def test_report_from_json_writes_the_html(
    tmp_path: Path, result: PlanResult, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "run.json"
    src.write_text(result.model_dump_json(), encoding="utf-8")
    out = tmp_path / "r.html"
    code, stdout, err = _run(["report", "--from-json", str(src), "--out", str(out)], capsys)
    assert (code, err) == (0, "")
    assert f"report written: {out}" in stdout
    html = out.read_text(encoding="utf-8")
    assert 'id="fan-select"' in html and "M5 demo &lt;plan&gt; ✓" in html


def test_report_loads_the_run_from_storage(
    tmp_path: Path,
    result: PlanResult,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls: list[tuple[str | None, str]] = []

    def load_run(db_url: str | None, run: str) -> PlanResult:
        calls.append((db_url, run))
        return result

    stand_in = types.SimpleNamespace(load_run=load_run, database_files=lambda db: [])
    monkeypatch.setitem(sys.modules, "echelon.storage", stand_in)
    monkeypatch.chdir(tmp_path)
    code, _, _ = _run(["report", "7", "--db", "sqlite:///plans.db"], capsys)
    assert code == 0 and calls == [("sqlite:///plans.db", "7")]
    assert (tmp_path / "report-M5_demo__plan-2016-04-25.html").is_file()
    code, _, _ = _run(["report", "-o", "x.html"], capsys)
    assert code == 0 and calls[-1] == (None, "latest")


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (None, "missing.json", "file not found"),
        ("{not json", "bad.json", "invalid JSON"),
        ("[1, 2]", "list.json", "not a plan result"),
        ('{"name": "x"}', "partial.json", "required field is missing"),
        ("name: x", "run.yaml", "a plan result must be a JSON file"),
    ],
)
def test_bad_result_file_gives_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    name: str,
    expected: str,
) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_text(content, encoding="utf-8")
    out = tmp_path / "r.html"
    code, stdout, err = _run(["report", "--from-json", str(src), "--out", str(out)], capsys)
    assert code == 2 and stdout == ""
    assert expected in err and str(src) in err.replace("\n", "")
    assert "Traceback" not in err
    assert not out.exists()


def test_db_and_json_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["report", "--db", "sqlite:///a.db", "--from-json", "r.json"], capsys)
    assert code == 2 and "not both" in err


def test_report_of_a_run_stored_in_sqlite(
    tmp_path: Path, result: PlanResult, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = pytest.importorskip("echelon.storage")
    db = tmp_path / "plans.db"
    ref = storage.save_run(str(db), result)
    out = tmp_path / "stored.html"
    try:
        code, _, err = _run(["report", "latest", "--db", str(db), "--out", str(out)], capsys)
        missing, _, err_missing = _run(["report", "999", "--db", str(db)], capsys)
    finally:
        storage.dispose_engines()
    assert (code, err) == (0, "")
    html = out.read_text(encoding="utf-8")
    assert "M5 demo &lt;plan&gt; ✓" in html and "<td>approved</td><td>transfer</td>" in html
    assert ref is not None
    assert missing == 2 and "999" in err_missing and "Traceback" not in err_missing
