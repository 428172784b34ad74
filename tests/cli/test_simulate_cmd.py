"""`echelon simulate` end to end (in-process through the real entry point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli as _run

from echelon.examples import example_path


def test_simulate_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        [
            "simulate",
            str(example_path("snyder_shen_6_1.yaml")),
            "--policy",
            str(example_path("snyder_shen_6_1.policy.yaml")),
            "--periods",
            "2000",
            "--reps",
            "20",
            "--seed",
            "3",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    cost = data["cost_per_period"]
    assert set(cost) == {"mean", "ci95"}
    assert abs(cost["mean"] - 47.67) < 5 * cost["ci95"]
    stage1 = data["nodes"]["stage1"]
    for key in ("fill_rate", "avg_on_hand", "avg_backorders"):
        assert set(stage1[key]) == {"mean", "ci95"}
    assert 0.9 < stage1["fill_rate"]["mean"] < 1.0
    assert data["replications"] == 20 and data["periods"] == 2000 and data["seed"] == 3


def test_simulate_table_and_default_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        ["simulate", str(example_path("distribution.yaml")), "--periods", "200", "--reps", "5"],
        capsys,
    )
    assert code == 0
    assert "cost per period" in out and "store_nyc" in out
    assert "single-echelon base stock" in out


def test_simulate_with_scenario_changes_the_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scen = tmp_path / "closure.yaml"
    scen.write_text("disruptions:\n  - {kind: closure, node: dc_east, start: 10, end: 40}\n")
    base = ["simulate", str(example_path("distribution.yaml")), "--periods", "100", "--reps", "5"]
    _, plain, _ = _run([*base, "--json"], capsys)
    code, disrupted, _ = _run([*base, "--json", "--scenario", str(scen)], capsys)
    assert code == 0
    fr_plain = json.loads(plain)["nodes"]["store_boston"]["fill_rate"]["mean"]
    fr_closed = json.loads(disrupted)["nodes"]["store_boston"]["fill_rate"]["mean"]
    assert fr_closed < fr_plain - 0.05
    # the other region is not supplied by dc_east and keeps its service
    la_plain = json.loads(plain)["nodes"]["store_la"]["fill_rate"]["mean"]
    la_closed = json.loads(disrupted)["nodes"]["store_la"]["fill_rate"]["mean"]
    assert la_closed == pytest.approx(la_plain, abs=1e-12)
