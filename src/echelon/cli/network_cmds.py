"""Network commands: ``echelon validate``, ``schema``, ``convert`` and ``policy``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from echelon.cli.render import console, escape_controls, plain
from echelon.errors import InputError, NetworkError, PolicyError
from echelon.fileio import check_output_path
from echelon.network.graph import predecessors, successors, topological_order
from echelon.network.io import load_network, network_json_schema, save_network
from echelon.network.model import Network
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.policies.io import save_policy
from echelon.policies.model import BaseStock

STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json")
POLICY_ROWS_SHOWN = 30


class SchemaKind(StrEnum):
    NETWORK = "network"
    POLICY = "policy"
    SCENARIO = "scenario"


def max_depth(net: Network) -> int:
    """Number of nodes on the longest supply path (a single node has depth 1)."""
    preds = predecessors(net)
    depth: dict[str, int] = {}
    for nid in topological_order(net):
        depth[nid] = 1 + max((depth[p] for p in preds[nid]), default=0)
    return max(depth.values())


def _components(net: Network) -> int:
    parent = {n.id: n.id for n in net.nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for lane in net.lanes:
        a, b = find(lane.source), find(lane.target)
        if a != b:
            parent[a] = b
    return len({find(n) for n in parent})


def network_shape(net: Network) -> str:
    """``serial``, ``distribution``, ``assembly``, ``tree`` (a spanning tree mixing both) or
    ``general``; a network of several unconnected parts is described as a forest."""
    preds, succs = predecessors(net), successors(net)
    most_in = max(len(v) for v in preds.values())
    most_out = max(len(v) for v in succs.values())
    parts = _components(net)
    is_forest = len(net.lanes) == len(net.nodes) - parts
    if not is_forest:
        return "general"
    if most_in <= 1 and most_out <= 1:
        shape = "serial"
    elif most_in <= 1:
        shape = "distribution"
    elif most_out <= 1:
        shape = "assembly"
    else:
        shape = "tree"
    return shape if parts == 1 else f"{shape} forest ({parts} parts)"


def summary(net: Network) -> dict[str, Any]:
    """Counts shown by ``echelon validate``."""
    return {
        "nodes": len(net.nodes),
        "lanes": len(net.lanes),
        "demand_nodes": sum(n.is_demand_node for n in net.nodes),
        "sources": sum(n.external_supplier for n in net.nodes),
        "max_depth": max_depth(net),
        "shape": network_shape(net),
    }


def _check_suffix(path: Path, what: str, error: type[InputError]) -> None:
    if path.suffix.lower() not in STRUCTURED_SUFFIXES:
        raise error(
            f"cannot tell the output format of the {what} file",
            source=str(path),
            expected=".yaml, .yml or .json",
            found=path.suffix or "no extension",
            fix=f"name the {what} file with one of those extensions",
        )


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_cmd(
        network: Path = typer.Argument(
            ..., help="network file: YAML/JSON, Willems or edge-list CSV"
        ),
    ) -> None:
        """Load and check NETWORK; print a one-line summary (exit 2 on bad input)."""
        net = load_network(network)
        s = summary(net)
        typer.echo(
            escape_controls(
                f"OK {network}: network '{net.name}', {s['nodes']} nodes, {s['lanes']} lanes, "
                f"{s['demand_nodes']} demand nodes, {s['sources']} sources, "
                f"max depth {s['max_depth']}, {s['shape']}"
            )
        )

    @app.command("schema")
    def schema_cmd(
        kind: SchemaKind = typer.Option(
            SchemaKind.NETWORK, "--kind", "-k", help="which file format"
        ),
    ) -> None:
        """Print the JSON schema of a file format (network, policy or scenario)."""
        if kind is SchemaKind.NETWORK:
            schema = network_json_schema()
        elif kind is SchemaKind.POLICY:
            from echelon.policies.model import PolicySet

            schema = PolicySet.model_json_schema()
        else:
            from echelon.sim.scenario import Scenario

            schema = Scenario.model_json_schema()
        typer.echo(json.dumps(schema, indent=2))

    @app.command("convert")
    def convert_cmd(
        network: Path = typer.Argument(
            ..., help="network file: YAML/JSON, Willems or edge-list CSV"
        ),
        out: Path = typer.Argument(..., help="output file, .yaml/.yml or .json"),
    ) -> None:
        """Convert NETWORK to the echelon YAML or JSON format (by OUT's extension)."""
        _check_suffix(out, "network", NetworkError)
        check_output_path(out, protected=[network], what="OUT", error=NetworkError)
        net = load_network(network)
        save_network(net, out)
        typer.echo(f"wrote {out} ({len(net.nodes)} nodes, {len(net.lanes)} lanes)")

    @app.command("policy")
    def policy_cmd(
        network: Path = typer.Argument(
            ..., help="network file: YAML/JSON, Willems or edge-list CSV"
        ),
        out: Path = typer.Option(..., "--out", "-o", help="policy file to write, .yaml or .json"),
        target: float = typer.Option(
            0.95, "--target", help="cycle service level for nodes without their own target"
        ),
    ) -> None:
        """Write the single-echelon base-stock policy of NETWORK (levels in units)."""
        if not 0.0 < target < 1.0:
            raise PolicyError(
                "service target out of range",
                field="--target",
                expected="a number strictly between 0 and 1",
                found=f"{target:g}",
                fix="pass e.g. --target 0.95",
            )
        _check_suffix(out, "policy", PolicyError)
        check_output_path(out, protected=[network], what="--out", error=PolicyError)
        net = load_network(network)
        pol = single_echelon_base_stock(net, default_target=target)
        save_policy(pol, out)
        table = Table(title=f"{plain(net.name)}: base stock")
        table.add_column("node")
        table.add_column("level (units)", justify="right")
        items = list(pol.policies.items())
        for nid, p in items[:POLICY_ROWS_SHOWN]:
            level = p.level if isinstance(p, BaseStock) else float("nan")
            table.add_row(plain(nid), f"{level:,.2f}")
        console.print(table)
        if len(items) > POLICY_ROWS_SHOWN:
            console.print(f"… and {len(items) - POLICY_ROWS_SHOWN} more nodes (see {out})")
        console.print(f"wrote {out}")
