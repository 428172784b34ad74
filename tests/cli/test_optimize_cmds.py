"""``echelon optimize`` / ``echelon compare``: output contract and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

from echelon.policies.io import load_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "echelon" / "examples"
DIST = str(EXAMPLES / "plant_3dc_10stores.yaml")
SERIAL = str(EXAMPLES / "snyder_shen_6_1.yaml")
NO_DEMAND = """
nodes:
  - {id: dc, holding_cost: 0.5, lead_time: 2, external_supplier: true}
  - {id: shop, holding_cost: 1, lead_time: 1}
lanes:
  - {from: dc, to: shop}
"""


def test_single_echelon_json_and_policy_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "policy.yaml"
    code, stdout, err = run_cli(
        ["optimize", DIST, "--method", "single-echelon", "--json", "--out", str(out)], capsys
    )
    assert code == 0, err
    data = json.loads(stdout)
    for key in ("method", "objective", "gap", "seconds", "nodes"):
        assert key in data
    assert data["method"] == "single-echelon"
    node = data["nodes"]["s01"]
    for key in ("committed_service_time", "net_replenishment_time", "safety_stock"):
        assert key in node
    assert load_policy(out).policies["s01"].level == pytest.approx(node["base_stock_level"])
    code, stdout, err = run_cli(
        ["simulate", DIST, "--policy", str(out), "-T", "50", "-R", "2", "--json"], capsys
    )
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "text", "fragments"),
    [
        (["--method", "single-echelon", "--budget", "10"], None, ["--budget is not available"]),
        (["--method", "single-echelon"], NO_DEMAND, ["no demand node", "fix:"]),
        (["--targets", "TARGETS"], None, ["targets.yaml", "'QX'"]),
        (["--method", "nonsense"], None, ["nonsense"]),
    ],
)
def test_bad_optimize_input_is_one_line_exit_2(
    tmp_path: Path, capsys, args: list[str], text: str | None, fragments: list[str]
) -> None:
    network = DIST
    if text is not None:
        path = tmp_path / "network.yaml"
        path.write_text(text)
        network = str(path)
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets: {QX: 0.9}\n")
    args = [str(targets) if a == "TARGETS" else a for a in args]
    code, _, err = run_cli(["optimize", network, *args], capsys)
    assert code == 2
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_gsm_json_has_the_documented_fields(tmp_path: Path, capsys) -> None:
    out = tmp_path / "gsm.policy.yaml"
    code, stdout, err = run_cli(["optimize", DIST, "--json", "--out", str(out)], capsys)
    assert code == 0, err
    data = json.loads(stdout)
    assert data["method"] == "gsm" and data["gap"] is not None and data["gap"] <= 1e-4
    fields = ("committed_service_time", "net_replenishment_time", "safety_stock")
    for nid, node in data["nodes"].items():
        for key in (*fields, "base_stock_level"):
            assert node[key] is not None, (nid, key)
    total = sum(n["safety_stock_cost"] for n in data["nodes"].values())
    assert data["objective"] == pytest.approx(total, rel=1e-9)
    # stores serve from stock (no max_service_time given means 0)
    assert all(data["nodes"][f"s{i:02d}"]["committed_service_time"] == 0 for i in range(1, 11))
    assert set(load_policy(out).policies) == set(data["nodes"])


def test_clark_scarf_json_gives_echelon_levels(capsys) -> None:
    code, stdout, err = run_cli(["optimize", SERIAL, "-m", "clark-scarf", "--json"], capsys)
    assert code == 0, err
    data = json.loads(stdout)
    levels = [data["nodes"][s]["echelon_base_stock"] for s in ("stage1", "stage2", "stage3")]
    assert levels == pytest.approx([6.49, 12.02, 22.71], abs=0.01)
    assert data["objective"] == pytest.approx(47.66, abs=0.01)
    assert data["gap"] == 0


def test_clark_scarf_on_a_distribution_network_says_what_to_use(capsys) -> None:
    code, _, err = run_cli(["optimize", DIST, "-m", "clark-scarf"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "gsm" in err and "simopt" in err


@pytest.mark.slow
def test_compare_keeps_service_with_less_inventory(capsys) -> None:
    """Acceptance: MEIO vs single-echelon on 1 plant -> 3 DCs -> 10 stores."""
    args = ["compare", DIST, "--json", "-T", "1000", "-R", "60", "--seed", "3"]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    data = json.loads(stdout)
    assert data["service_matched_by_simulation"] is True
    stores = [v for k, v in data["nodes"].items() if k.startswith("s")]
    assert len(stores) == 10
    for row in stores:
        assert row["meio_fill_rate"] >= row["base_fill_rate"]
    inv = data["inventory_value"]
    assert inv["meio"] < inv["single_echelon"]
    assert inv["saving"] == pytest.approx(1 - inv["meio"] / inv["single_echelon"])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--service-time", "s01=2"], ["node 's01'", "infeasible", "[0, 0]", "found 2"]),
        (["--service-time", "nowhere=1"], ["unknown node id", "'nowhere'"]),
        (["--service-time", "dc_north"], ["NODE=PERIODS", "'dc_north'"]),
        (["-m", "simopt", "--service-time", "dc_north=1"], ["gsm only", "fix:"]),
        (["--budget", "10"], ["below the minimum", "found 10.00", "fix:"]),
    ],
)
def test_infeasible_gsm_inputs_are_one_line_exit_2(
    capsys, args: list[str], fragments: list[str]
) -> None:
    code, _, err = run_cli(["optimize", DIST, *args], capsys)
    assert code == 2 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_a_fixed_service_time_is_honoured(capsys) -> None:
    code, stdout, err = run_cli(["optimize", DIST, "--json", "--service-time", "plant=5"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["nodes"]["plant"]["committed_service_time"] == 5


def test_order_rules_trigger_a_simulation_recheck(tmp_path: Path, capsys) -> None:
    import yaml

    data = yaml.safe_load(Path(DIST).read_text())
    for node in data["nodes"]:
        if node["id"] == "s01":
            node["lot_multiple"] = 24
    path = tmp_path / "lots.yaml"
    path.write_text(yaml.safe_dump(data))
    code, stdout, err = run_cli(["optimize", str(path), "--json", "-T", "300", "-R", "4"], capsys)
    assert code == 0, err
    result = json.loads(stdout)
    assert result["order_rule_nodes"] == ["s01"]
    assert "check" in result
    # rounding orders up to lots of 24 only adds stock: s01 keeps its target (98% fill rate)
    assert result["check"]["nodes"]["s01"]["fill_rate"]["mean"] >= 0.98
    code, stdout, err = run_cli(["optimize", str(path), "-T", "300", "-R", "4"], capsys)
    assert code == 0, err
    assert "ignores order rules" in stdout and "met" in stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--search", "cmaes"], ["simopt only", "fix:"]),
        (["-m", "simopt", "--search", "annealing"], ["unknown --search", "annealing"]),
        (["--aggregate-fill-rate", "1.5"], ["aggregate-fill-rate", "(0, 1]"]),
        (["--aggregate-fill-rate", "0.97", "-m", "simopt"], ["--method", "fix:"]),
        (["--aggregate-fill-rate", "0.97", "--budget", "5"], ["--budget"]),
        (["--aggregate-fill-rate", "0.97", "--aggregate-measure", "euros"], ["unit or value"]),
    ],
)
def test_bad_search_and_aggregate_input_is_one_line_exit_2(
    capsys, args: list[str], fragments: list[str]
) -> None:
    code, _, err = run_cli(["optimize", DIST, *args], capsys)
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2, err
    for fragment in fragments:
        assert fragment in err, err


def test_simopt_prints_and_writes_installation_and_echelon_levels(tmp_path: Path, capsys) -> None:
    out = tmp_path / "simopt.policy.yaml"
    args = ["optimize", SERIAL, "-m", "simopt", "-T", "150", "-R", "4", "-W", "20"]
    code, stdout, err = run_cli([*args, "--search", "cmaes", "--json", "--out", str(out)], capsys)
    assert code == 0, err
    data = json.loads(stdout)
    assert data["details"]["search_method"] == "cmaes"
    nodes = data["nodes"]
    for node in nodes.values():
        assert node["base_stock_level"] is not None and node["echelon_base_stock"] is not None
    # serial stage1 <- stage2 <- stage3: E2 = l2 + E1
    assert nodes["stage2"]["echelon_base_stock"] == pytest.approx(
        nodes["stage2"]["base_stock_level"] + nodes["stage1"]["echelon_base_stock"]
    )
    meta = load_policy(out).metadata
    assert meta["echelon_levels"]["stage3"] == pytest.approx(nodes["stage3"]["echelon_base_stock"])
    assert meta["installation_levels"]["stage3"] == pytest.approx(
        nodes["stage3"]["base_stock_level"]
    )
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    assert "ech." in stdout and "installation_levels" in stdout


def test_aggregate_fill_rate_reports_the_saving(tmp_path: Path, capsys) -> None:
    out = tmp_path / "mix.policy.yaml"
    args = ["optimize", DIST, "--aggregate-fill-rate", "0.95", "-T", "200", "-R", "4", "-W", "30"]
    code, stdout, err = run_cli([*args, "--json", "--out", str(out)], capsys)
    assert code == 0, err
    data = json.loads(stdout)
    assert data["aggregate_target"] == 0.95 and data["measure"] == "unit"
    curves = data["investment_curves"]
    assert curves["mix"] <= curves["uniform"] + 1e-9
    assert curves["lower_bound"] <= curves["mix"] + 1e-9
    for key in ("mix", "uniform"):
        assert 0 < data["simulated"][key]["aggregate_fill_rate"] <= 1
    assert set(data["nodes"]) == {f"s{i:02d}" for i in range(1, 11)}  # the 10 stores
    pol = load_policy(out)
    some = next(iter(data["nodes"]))
    assert pol.policies[some].level == pytest.approx(data["nodes"][some]["level"])
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    assert "saving" in stdout and "uniform" in stdout
