"""`echelon plan` and `echelon demo` end to end: bad folders, idempotence, a kill mid-run, and
the demo's acceptance numbers (MEIO holds less than single-echelon at target fill rates)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from bad_folders import BAD_FOLDERS, BadFolder

from cli.cli_helpers import run_cli
from echelon.plan.model import PlanResult
from echelon.storage import dispose_engines, list_runs, load_run
from storage.databases import BACKENDS, fresh_database
from storage.pause_in_save import paused_cli_command


@pytest.fixture(autouse=True)
def _fresh_engines() -> None:
    dispose_engines()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL schema (make test starts a server)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


def _bump_seed(folder: Path, by: int) -> None:
    """Change the plan's seed in plan.yaml (new parameters: a new run)."""
    plan_yaml = folder / "plan.yaml"
    config = yaml.safe_load(plan_yaml.read_text()) or {}
    plan_yaml.write_text(yaml.safe_dump({**config, "seed": int(config.get("seed", 0)) + by}))


@pytest.mark.parametrize("case", BAD_FOLDERS, ids=[c.name for c in BAD_FOLDERS])
def test_bad_folder_exits_2_and_writes_nothing(
    case: BadFolder, tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case.mutate(tiny_folder)
    db = tmp_path / "runs.db"
    report = tmp_path / "report.html"
    code, out, err = run_cli(
        ["plan", str(tiny_folder), "--db", str(db), "--report", str(report), "--quiet"], capsys
    )
    assert code == 2, out + err
    line = err.strip()
    assert "\n" not in line and "Traceback" not in err
    for fragment in case.fragments:
        assert fragment in " ".join(line.split()), (fragment, line)
    assert not db.exists() and not report.exists()


def test_plan_stores_run_and_rerun_is_idempotent(
    tiny_folder: Path, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = db_url
    out_json = tmp_path / "result.json"
    code, out, err = run_cli(
        ["plan", str(tiny_folder), "--db", db, "--json", str(out_json), "--quiet"], capsys
    )
    assert code == 0, err
    assert "Stored as run 1" in out and "Projected KPIs" in out
    result = PlanResult.model_validate(json.loads(out_json.read_text()))
    assert {k.policy for k in result.kpis} == {"meio", "single_echelon", "current"}
    locations = {(p.item, p.location) for p in result.placements}
    assert locations == {(i, n) for i in ("A", "B") for n in ("DC", "S1", "S2")}
    assert result == load_run(db, 1)
    code, out, err = run_cli(["plan", str(tiny_folder), "--db", db, "--quiet"], capsys)
    assert code == 0, err
    assert "nothing new stored" in out
    assert [r.id for r in list_runs(db)] == [1]


def test_unchanged_inputs_return_the_stored_run_without_planning(
    tiny_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run key needs only the input hash, the parameters and the version: a re-run finds
    the stored run before any stage runs (here planning would fail)."""
    from echelon.plan import pipeline, service

    db = str(tmp_path / "runs.db")
    first = service.plan_and_store(tiny_folder, db)
    assert first.created

    def no_planning(*args: object, **kwargs: object) -> None:
        raise AssertionError("planned again although the inputs did not change")

    monkeypatch.setattr(pipeline, "run_plan", no_planning)
    again = service.plan_and_store(tiny_folder, db)
    assert not again.created and again.run_id == first.run_id and again.result == first.result
    _bump_seed(tiny_folder, 5)
    with pytest.raises(AssertionError, match="planned again"):
        service.plan_and_store(tiny_folder, db)  # a changed parameter is a new run


@pytest.mark.parametrize("target", ["db", "input", "folder"])
def test_an_output_that_would_destroy_an_input_is_refused_before_any_work(
    target: str, tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.db"
    code, _, err = run_cli(["plan", str(tiny_folder), "--db", str(db), "--quiet"], capsys)
    assert code == 0, err
    before = db.read_bytes()
    inputs = {p.name: p.read_bytes() for p in tiny_folder.iterdir()}
    out = {"db": db, "input": tiny_folder / "demand.csv", "folder": tmp_path}[target]
    _bump_seed(tiny_folder, 9)
    inputs["plan.yaml"] = (tiny_folder / "plan.yaml").read_bytes()
    for flag in ("--json", "--report"):
        code, _, err = run_cli(
            ["plan", str(tiny_folder), "--db", str(db), flag, str(out), "--quiet"], capsys
        )
        assert code == 2 and "\n" not in err.strip() and "Traceback" not in err, err
    assert db.read_bytes() == before  # nothing stored
    assert {p.name: p.read_bytes() for p in tiny_folder.iterdir()} == inputs


def test_plan_killed_in_the_save_transaction_leaves_previous_state(
    tiny_folder: Path, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = db_url
    code, _, err = run_cli(["plan", str(tiny_folder), "--db", db, "--quiet"], capsys)
    assert code == 0, err
    before = load_run(db, 1)
    dispose_engines()
    # new inputs (another seed) → a new run, killed inside its save transaction
    plan_yaml = tiny_folder / "plan.yaml"
    config = yaml.safe_load(plan_yaml.read_text()) or {}
    plan_yaml.write_text(yaml.safe_dump({**config, "seed": int(config.get("seed", 0)) + 7}))
    marker = tmp_path / "paused"
    cmd = paused_cli_command(
        sys.executable, marker, ["plan", str(tiny_folder), "--db", db, "--quiet"]
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the plan never reached its save transaction"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert [r.id for r in list_runs(db)] == [1]  # no partial run
    assert load_run(db, 1) == before
    code, out, err = run_cli(["plan", str(tiny_folder), "--db", db, "--quiet"], capsys)
    assert code == 0, err
    assert "Stored as run" in out  # PostgreSQL may skip the id the killed transaction took
    runs = list_runs(db)
    assert len(runs) == 2 and runs[1].id == 1
    assert load_run(db, runs[0].id).input_hash != before.input_hash


@pytest.mark.slow
def test_demo_plan_meio_holds_less_at_target_fill_rates(
    demo_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shutil.copytree(demo_folder, tmp_path / "data")
    db = str(tmp_path / "runs.db")
    report = tmp_path / "report.html"
    code, out, err = run_cli(
        ["plan", str(folder), "--db", db, "--report", str(report), "--quiet"], capsys
    )
    assert code == 0, err
    result = load_run(db, "latest")
    by = {k.policy.value: k for k in result.kpis}
    meio, single = by["meio"].network, by["single_echelon"].network
    assert meio.inventory_value is not None and single.inventory_value is not None
    assert meio.inventory_value < single.inventory_value
    assert result.saving == pytest.approx(1 - meio.inventory_value / single.inventory_value)
    assert result.service_met is True
    assert len(by["meio"].stores) == 10
    assert all(k.target_met for k in by["meio"].stores.values())
    assert f"saving {result.saving:.1%}" in " ".join(out.split())
    assert result.shadow is not None and result.shadow.periods == 8
    assert {k.policy for k in result.shadow.kpis} >= {"meio", "current"}
    assert report.stat().st_size > 1_000_000  # plotly.js bundled


def test_scenario_command_compares_disruptions(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spike = tmp_path / "spike.yaml"
    spike.write_text(
        "name: big_spike\ndescription: demand x3 at S1\n"
        "disruptions:\n  - {kind: demand_spike, node: S1, multiplier: 3, start: 1, end: 6}\n"
    )
    code, out, err = run_cli(
        ["scenario", str(tiny_folder), "--scenario", str(spike), "--reps", "3", "--quiet"], capsys
    )
    assert code == 0, err
    assert "big_spike" in out and "MEIO" in out and "current policy" in out
    code, _, err = run_cli(
        ["scenario", str(tiny_folder), "--scenario", str(tmp_path / "nope.yaml"), "--quiet"],
        capsys,
    )
    assert code == 2 and "nope.yaml" in err
