"""``echelon demo``: a first end-to-end run on the bundled example networks — optimize, then
check the answer in the simulation digital twin, then compare with the single-echelon practice."""

from __future__ import annotations

import typer

from echelon.cli.optimize_cmds import comparison_table, result_table, summary_line
from echelon.cli.render import console, fmt, progress_bar, simulation_tables
from echelon.examples import example_path
from echelon.network.io import load_network
from echelon.optimize.clark_scarf import solve_clark_scarf
from echelon.optimize.gsm.solve import solve_gsm
from echelon.optimize.service import SimSettings, compare_with_single_echelon
from echelon.sim.batch import simulate

TEXTBOOK_COST = 47.67


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        reps: int = typer.Option(200, "--reps", help="replications of the Example 6.1 check"),
        periods: int = typer.Option(
            5000, "--periods", help="periods per replication of the Example 6.1 check"
        ),
        seed: int = typer.Option(1, "--seed"),
    ) -> None:
        """Optimize the bundled example networks, simulate the answers and compare."""
        console.rule("[bold]echelon demo[/]")
        console.print(
            "1. Snyder & Shen Example 6.1 (3-stage serial system): optimal echelon base-stock "
            f"levels by the Clark–Scarf recursion (textbook: 6.49 / 12.02 / 22.71, cost "
            f"{TEXTBOOK_COST} per period), then checked in simulation."
        )
        net = load_network(example_path("snyder_shen_6_1.yaml"))
        opt = solve_clark_scarf(net)
        console.print(result_table(opt, {}))
        console.print(summary_line(opt, net.currency))
        with progress_bar("simulating Example 6.1") as update:
            res = simulate(net, opt.policy, periods, reps, seed=seed, warmup=100, progress=update)
        for table in simulation_tables(res):
            console.print(table)
        c = res.cost_per_period
        verdict = "contains" if c.contains(TEXTBOOK_COST) else "does NOT contain"
        console.print(
            f"Simulated cost: the 95% CI {c.mean:.3f} ± {c.ci95 or 0:.3f} {verdict} the textbook "
            f"{TEXTBOOK_COST} (the recursion's optimum: {opt.objective:.3f})."
        )
        console.print()
        console.print(
            "2. 1 plant → 3 DCs → 10 stores: guaranteed-service placement (GSM), then the "
            "single-echelon practice (each node sets z·σ·√L alone) against the multi-echelon "
            "policy in the same simulator, at equal or better fill rate at every store."
        )
        net2 = load_network(example_path("plant_3dc_10stores.yaml"))
        gsm = solve_gsm(net2)
        console.print(result_table(gsm, {}))
        console.print(summary_line(gsm, net2.currency))
        sim = SimSettings(periods=1000, reps=60, seed=seed, warmup=100)
        with progress_bar("comparing with the single-echelon policy") as update:
            cmp = compare_with_single_echelon(net2, gsm, sim, update)
        console.print(comparison_table(cmp, net2.currency))
        if cmp.saving is not None:
            kept = "kept" if cmp.service_kept else "NOT kept"
            console.print(
                f"Inventory value saving: [bold]{cmp.saving:.1%}[/] "
                f"({fmt(cmp.base_sim.inventory_value, 0)} → "
                f"{fmt(cmp.meio_sim.inventory_value, 0)} {net2.currency}); fill rate at every "
                f"store {kept}."
            )
        console.print(
            "[dim]Next: `echelon optimize NETWORK --method gsm|clark-scarf|simopt --out P.yaml`, "
            "`echelon simulate NETWORK --policy P.yaml`, `echelon compare NETWORK`. See README.md, "
            "docs/model.md and docs/optimize.md.[/]"
        )
