"""`echelon validate / schema / convert / policy` through the real entry point (in process)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_helpers import run_cli as _run

from echelon.network.io import load_network
from echelon.network.model import Network
from echelon.network.synthetic import distribution_tree, random_dag, serial
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.policies.io import load_policy

WILLEMS_01 = Path(__file__).parents[2].parent / "shared/data/willems/01.csv"


def _write_json(net: Network, path: Path) -> Path:
    """Full dump, independent of save_network (whose round trip is tested below)."""
    path.write_text(json.dumps(net.model_dump(mode="json", by_alias=True)))
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: serial(3, seed=0),
            "3 nodes, 2 lanes, 1 demand nodes, 1 sources, max depth 3, serial",
        ),
        (
            lambda: distribution_tree((2, 3), seed=0),
            "9 nodes, 8 lanes, 6 demand nodes, 1 sources, max depth 3, distribution",
        ),
    ],
)
def test_validate_summary(
    make: Callable[[], Network], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_json(make(), tmp_path / "net.json")
    code, out, err = _run(["validate", str(path)], capsys)
    assert code == 0, err
    assert out.startswith("OK ")
    assert expected in out
    assert len(out.strip().splitlines()) == 1


def test_validate_shapes_of_edge_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "from,to\na,c\nb,c\nc,d\n": "assembly",
        "from,to\na,b\nc,b\nb,d\nb,e\n": "tree",
        "from,to\na,b\na,c\nb,d\nc,d\n": "general",
        "from,to\na,b\nc,d\n": "serial forest (2 parts)",
    }
    for text, shape in cases.items():
        path = tmp_path / "edges.csv"
        path.write_text(text)
        code, out, err = _run(["validate", str(path)], capsys)
        assert code == 0, err
        assert out.strip().endswith(shape), (text, out)


def test_validate_general_dag_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "edges.csv"
    path.write_text("from,to\na,b\nb,c\na,c\nc,d\n")
    code, out, _ = _run(["validate", str(path)], capsys)
    assert code == 0
    assert "max depth 4, general" in out


@pytest.mark.skipif(not WILLEMS_01.is_file(), reason="Willems data not found")
def test_validate_willems_chain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["validate", str(WILLEMS_01)], capsys)
    assert code == 0
    assert "8 nodes, 10 lanes, 3 demand nodes, 3 sources, max depth 3, general" in out


def test_validate_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "edges.csv"
    path.write_text("from,to\na,b\nb,oops,\n,c\n")
    code, out, err = _run(["validate", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "row 4" in err and "blank node id" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("kind", "key"),
    [(None, "nodes"), ("network", "nodes"), ("policy", "policies"), ("scenario", "disruptions")],
)
def test_schema(kind: str | None, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["schema"] if kind is None else ["schema", "--kind", kind]
    code, out, _ = _run(args, capsys)
    assert code == 0
    schema = json.loads(out)
    assert key in schema["properties"]


def test_schema_rejects_unknown_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = _run(["schema", "--kind", "fleet"], capsys)
    assert code == 2


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_convert_writes_the_network(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "edges.csv"
    src.write_text("from,to,quantity\na,b,2\nb,c,1\n")
    out_path = tmp_path / f"net{suffix}"
    code, _, err = _run(["convert", str(src), str(out_path)], capsys)
    assert code == 0, err
    text = out_path.read_text()
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert [n["id"] for n in data["nodes"]] == ["a", "b", "c"]
    assert [(ln["from"], ln["to"]) for ln in data["lanes"]] == [("a", "b"), ("b", "c")]
    assert load_network(out_path) == load_network(src)


def test_convert_rejects_unknown_output_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "edges.csv"
    src.write_text("from,to\na,b\n")
    code, _, err = _run(["convert", str(src), str(tmp_path / "net.txt")], capsys)
    assert code == 2
    assert ".txt" in err
    assert not (tmp_path / "net.txt").exists()


def test_convert_round_trips_distributions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = random_dag(12, 20, seed=2)
    src = _write_json(net, tmp_path / "net.json")
    out_path = tmp_path / "net.yaml"
    code, _, err = _run(["convert", str(src), str(out_path)], capsys)
    assert code == 0, err
    assert load_network(out_path) == net


def test_policy_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = serial(3, seed=4)
    src = _write_json(net, tmp_path / "net.json")
    out_path = tmp_path / "policy.yaml"
    code, out, err = _run(["policy", str(src), "--out", str(out_path), "--target", "0.9"], capsys)
    assert code == 0, err
    pol = load_policy(out_path)
    assert pol == single_echelon_base_stock(net, default_target=0.9)
    assert pol.metadata["default_target"] == 0.9
    for node_id in net.node_ids():
        assert node_id in out
    level = pol.policies["stage_1"].params()[0]
    assert f"{level:,.2f}" in out


def test_policy_rejects_bad_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "edges.csv"
    src.write_text("from,to\na,b\n")
    out_path = tmp_path / "policy.yaml"
    code, _, err = _run(["policy", str(src), "--out", str(out_path), "--target", "95"], capsys)
    assert code == 2
    assert "--target" in err
    assert not out_path.exists()
