"""``echelon demo``: a first end-to-end run on the bundled example networks."""

from __future__ import annotations

import typer

from echelon.cli.render import console, progress_bar, simulation_tables
from echelon.examples import example_path
from echelon.network.io import load_network
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.policies.io import load_policy
from echelon.sim.batch import simulate

TEXTBOOK_COST = 47.67


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        reps: int = typer.Option(200, "--reps", help="replications per simulation"),
        periods: int = typer.Option(5000, "--periods", help="periods per replication"),
        seed: int = typer.Option(1, "--seed"),
    ) -> None:
        """Simulate the bundled example networks and print their KPIs."""
        console.rule("[bold]echelon demo[/]")
        console.print(
            "1. Snyder & Shen Example 6.1: 3-stage serial system under its optimal echelon "
            f"base-stock policy (textbook long-run cost {TEXTBOOK_COST} per period)."
        )
        net = load_network(example_path("snyder_shen_6_1.yaml"))
        pol = load_policy(example_path("snyder_shen_6_1.policy.yaml"))
        with progress_bar("simulating Example 6.1") as update:
            res = simulate(net, pol, periods, reps, seed=seed, warmup=100, progress=update)
        for table in simulation_tables(res):
            console.print(table)
        c = res.cost_per_period
        verdict = "contains" if c.contains(TEXTBOOK_COST) else "does NOT contain"
        console.print(
            f"The 95% CI {c.mean:.3f} ± {c.ci95 or 0:.3f} {verdict} the textbook {TEXTBOOK_COST}."
        )
        console.print()
        console.print(
            "2. A plant → 2 DCs → 4 stores network under the single-echelon base-stock "
            "practice (each node sets z·σ·√L alone)."
        )
        net2 = load_network(example_path("distribution.yaml"))
        pol2 = single_echelon_base_stock(net2)
        with progress_bar("simulating the distribution network") as update:
            res2 = simulate(net2, pol2, 365, reps, seed=seed, warmup=60, progress=update)
        for table in simulation_tables(res2, net2.currency):
            console.print(table)
        console.print(
            "[dim]Next: `echelon simulate NETWORK --policy POLICY`, `echelon validate NETWORK`, "
            "`echelon schema`. See README.md and docs/model.md.[/]"
        )
