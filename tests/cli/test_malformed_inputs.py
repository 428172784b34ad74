"""Table-driven: malformed network / policy / scenario files give one clear line and exit 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from echelon.cli.app import main

GOOD_NETWORK = """
nodes:
  - {id: shop, holding_cost: 1, penalty_cost: 9, demand: {kind: poisson, mean: 5}, lead_time: 1}
  - {id: dc, holding_cost: 0.5, lead_time: 2, external_supplier: true}
lanes:
  - {from: dc, to: shop}
"""
GOOD_POLICY = """
policies:
  shop: {kind: base_stock, level: 8}
  dc: {kind: base_stock, level: 12}
"""


def _net(text: str) -> str:
    return textwrap.dedent(text)


# (case id, network text, policy text or None, extra CLI args, expected fragments)
CASES = [
    ("yaml-syntax", "nodes: [\n  - id: a\n", None, [], ["network.yaml", "invalid YAML", "line"]),
    (
        "negative-holding-cost",
        GOOD_NETWORK.replace("holding_cost: 1,", "holding_cost: -1,"),
        None,
        [],
        ["node 'shop'", "holding_cost", "greater than or equal to 0", "found -1"],
    ),
    (
        "unknown-node-in-lane",
        GOOD_NETWORK.replace("{from: dc, to: shop}", "{from: dc, to: shopp}"),
        None,
        [],
        ["lane dc -> shopp", "unknown node id", "'shopp'", "fix:"],
    ),
    (
        "cycle",
        GOOD_NETWORK.replace("external_supplier: true", "external_supplier: false")
        + "  - {from: shop, to: dc}\n",
        None,
        [],
        ["cycle", "dc -> shop -> dc"],
    ),
    (
        "demand-node-without-supply",
        GOOD_NETWORK.replace("lanes:\n  - {from: dc, to: shop}\n", "lanes: []\n"),
        None,
        [],
        ["node 'shop'", "no supply path", "external_supplier"],
    ),
    (
        "probabilities-not-summing-to-one",
        GOOD_NETWORK.replace(
            "lead_time: 2,",
            "lead_time: {kind: empirical, values: [1, 2], probabilities: [0.5, 0.6]},",
        ),
        None,
        [],
        ["node 'dc'", "lead_time", "sum to 1", "1.1"],
    ),
    (
        "duplicate-node-id",
        GOOD_NETWORK.replace("id: dc,", "id: shop,").replace("{from: dc,", "{from: shop,"),
        None,
        [],
        ["duplicate node id"],
    ),
    (
        "unknown-field",
        GOOD_NETWORK.replace("holding_cost: 0.5,", "holding_cots: 0.5,"),
        None,
        [],
        ["node 'dc'", "holding_cots", "unknown field"],
    ),
    (
        "unknown-demand-kind",
        GOOD_NETWORK.replace("kind: poisson", "kind: gaussian"),
        None,
        [],
        ["node 'shop'", "demand", "gaussian"],
    ),
    (
        "negative-binomial-underdispersed",
        GOOD_NETWORK.replace(
            "{kind: poisson, mean: 5}", "{kind: negative_binomial, mean: 5, std: 2}"
        ),
        None,
        [],
        ["node 'shop'", "std² > mean"],
    ),
    ("no-nodes", "name: empty\n", None, [], ["nodes", "required field is missing"]),
    (
        "moq-above-capacity",
        GOOD_NETWORK.replace("lead_time: 2,", "lead_time: 2, capacity: 10, min_order_qty: 20,"),
        None,
        [],
        ["node 'dc'", "min_order_qty 20 exceeds capacity 10"],
    ),
    (
        "lane-quantity-zero",
        GOOD_NETWORK.replace("{from: dc, to: shop}", "{from: dc, to: shop, quantity: 0}"),
        None,
        [],
        ["lane dc -> shop", "quantity", "greater than 0"],
    ),
    ("network-not-a-mapping", "- a\n- b\n", None, [], ["must be a mapping", "found list"]),
    (
        "policy-missing-node",
        GOOD_NETWORK,
        "policies:\n  shop: {kind: base_stock, level: 8}\n",
        [],
        ["policy.yaml", "node 'dc'", "no policy"],
    ),
    (
        "policy-unknown-node",
        GOOD_NETWORK,
        GOOD_POLICY + "  plant: {kind: base_stock, level: 3}\n",
        [],
        ["policy.yaml", "node 'plant'", "not in the network"],
    ),
    (
        "policy-s-above-S",
        GOOD_NETWORK,
        GOOD_POLICY.replace("{kind: base_stock, level: 8}", "{kind: s_S, s: 9, S: 4}"),
        [],
        ["policy.yaml", "node 'shop'", "must be >= s"],
    ),
    (
        "policy-unknown-kind",
        GOOD_NETWORK,
        GOOD_POLICY.replace("kind: base_stock, level: 8", "kind: min_max, level: 8"),
        [],
        ["policy.yaml", "node 'shop'", "min_max"],
    ),
    ("zero-periods", GOOD_NETWORK, GOOD_POLICY, ["--periods", "0"], ["periods must be at least 1"]),
    (
        "scenario-unknown-node",
        GOOD_NETWORK,
        GOOD_POLICY,
        ["--scenario", "SCENARIO"],
        ["scenario.yaml", "disruptions[0]", "unknown node id", "'atlantis'"],
    ),
]


def _write_case(tmp: Path, network: str, policy: str | None, extra: list[str]) -> list[str]:
    net_path = tmp / "network.yaml"
    net_path.write_text(_net(network))
    args = ["simulate", str(net_path), "--periods", "20", "--reps", "2", "--warmup", "0"]
    if policy is not None:
        pol_path = tmp / "policy.yaml"
        pol_path.write_text(_net(policy))
        args += ["--policy", str(pol_path)]
    if "SCENARIO" in extra:
        scen = tmp / "scenario.yaml"
        scen.write_text("disruptions:\n  - {kind: closure, node: atlantis, start: 0, end: 5}\n")
        extra = [str(scen) if a == "SCENARIO" else a for a in extra]
    return args + extra


@pytest.mark.parametrize(
    ("case", "network", "policy", "extra", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_malformed_input_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case, network, policy, extra, fragments
) -> None:
    args = _write_case(tmp_path, network, policy, extra)
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2, case
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, f"{case}: {fragment!r} not in {err!r}"


def test_at_least_twelve_cases() -> None:
    assert len(CASES) >= 12


def test_unknown_extension_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "net.txt"
    bad.write_text("x")
    for path, fragment in (
        (bad, "unknown network file type"),
        (tmp_path / "nope.yaml", "file not found"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["simulate", str(path)])
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip()
        assert fragment in err and len(err.splitlines()) == 1


def test_real_console_command_exits_2_without_traceback(tmp_path: Path) -> None:
    """The installed ``echelon`` entry point, as a user runs it."""
    args = _write_case(tmp_path, CASES[1][1], None, [])
    exe = Path(sys.executable).with_name("echelon")
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "holding_cost" in proc.stderr
