"""``echelon simulate``: run the digital twin on a network under a policy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from echelon.cli.render import console, plain, progress_bar, simulation_tables
from echelon.network.io import load_network
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.policies.io import check_policy, load_policy
from echelon.sim.batch import simulate
from echelon.sim.scenario import load_scenario


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate_cmd(
        network: Path = typer.Argument(
            ..., help="network file: YAML/JSON, Willems or edge-list CSV"
        ),
        policy: Path | None = typer.Option(
            None, "--policy", "-p", help="policy file (default: single-echelon base stock)"
        ),
        periods: int = typer.Option(
            1000, "--periods", "-T", help="periods counted per replication"
        ),
        reps: int = typer.Option(100, "--reps", "-R", help="replications"),
        seed: int = typer.Option(0, "--seed", "-s", help="random seed (common random numbers)"),
        warmup: int = typer.Option(
            100, "--warmup", "-W", help="periods simulated and dropped first"
        ),
        scenario: Path | None = typer.Option(None, "--scenario", help="disruption scenario file"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Simulate NETWORK under a policy and print KPIs with 95% confidence intervals."""
        net = load_network(network)
        if policy is None:
            pol = single_echelon_base_stock(net)
            note = "policy: single-echelon base stock (no --policy given)"
        else:
            pol = load_policy(policy)
            check_policy(pol, net, source=str(policy))
            note = f"policy: {policy}"
        scen = load_scenario(scenario, net) if scenario is not None else None
        show = not as_json and sys.stderr.isatty()
        with progress_bar("simulating", enabled=show) as update:
            result = simulate(
                net, pol, periods=periods, reps=reps, seed=seed, warmup=warmup, scenario=scen,
                progress=update,
            )  # fmt: skip
        result.notes.insert(0, note)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        for table in simulation_tables(result, net.currency):
            console.print(table)
        for line in result.notes:
            console.print(f"[dim]{plain(line)}[/]")
        rate = result.node_periods / result.seconds if result.seconds else 0.0
        console.print(
            f"[dim]{result.node_periods:,} node-periods in {result.seconds:.2f} s "
            f"({rate:,.0f} per second)[/]"
        )
