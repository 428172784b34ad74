"""``echelon demo``: the planning workflow end to end on the bundled M5 (Walmart) data.

It writes the demo data folder (10 stores → 3 state DCs → 1 national DC, the 7 departments as
items; assumptions in docs/plan-data.md), runs ``echelon plan`` on it with progress bars, stores
the run in a SQLite file, writes the HTML report and prints the summary: MEIO versus the
single-echelon practice and the current policy, today's orders and the exceptions. With
``--textbook`` a short textbook check (Snyder & Shen Example 6.1 by the Clark–Scarf recursion,
checked in simulation) comes first.
"""

from __future__ import annotations

from pathlib import Path

import typer

from echelon.cli.render import console, plain

TEXTBOOK_COST = 47.67


def textbook_check(seed: int, reps: int, periods: int) -> None:
    """Snyder & Shen Example 6.1: optimal echelon base-stock levels, simulated cost vs 47.67."""
    from echelon.examples import example_path
    from echelon.network.io import load_network
    from echelon.optimize.clark_scarf import solve_clark_scarf
    from echelon.sim.batch import simulate

    net = load_network(example_path("snyder_shen_6_1.yaml"))
    opt = solve_clark_scarf(net)
    levels = " / ".join(
        f"{d.echelon_base_stock:.2f}" for d in opt.nodes.values() if d.echelon_base_stock
    )
    res = simulate(net, opt.policy, periods, reps, seed=seed, warmup=100)
    c = res.cost_per_period
    verdict = "contains" if c.contains(TEXTBOOK_COST) else "does NOT contain"
    console.print(
        f"Textbook check — Snyder & Shen Example 6.1: Clark–Scarf echelon base-stock levels "
        f"{levels} (book: 6.49 / 12.02 / 22.71); simulated cost {c.mean:.3f} ± {c.ci95 or 0:.3f} "
        f"per period over {reps} × {periods} periods {verdict} the book's {TEXTBOOK_COST}."
    )


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        out: Path = typer.Option(
            Path("echelon-demo"), "--out", help="folder for the data, database and report"
        ),
        seed: int = typer.Option(0, "--seed", help="seed of the demo data's snapshot"),
        textbook: bool = typer.Option(
            False, "--textbook/--no-textbook", help="first check Snyder & Shen Example 6.1"
        ),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
    ) -> None:
        """Plan the bundled M5 network end to end: data → plan → stored run → HTML report."""
        from echelon.cli.plan_cmds import print_summary, stage_progress
        from echelon.plan.service import demo_and_store
        from echelon.storage import redact_url

        console.rule("[bold]echelon demo[/]")
        if textbook:
            textbook_check(seed=1, reps=40, periods=2000)
        with stage_progress(not quiet) as update:
            folder, stored = demo_and_store(
                out, seed=seed, progress=update, on_items=update.set_items
            )
        result, run_id, new = stored.result, stored.run_id, stored.created
        db = plain(redact_url(stored.db or ""))  # never a password on the screen
        report = plain(stored.report)
        console.print(
            f"Demo data folder written to {plain(folder)}: M5 (Walmart) daily sales of 7 "
            "departments at 10 stores (CA_1–4, TX_1–3, WI_1–3), planned weekly through 3 state "
            "DCs and 1 national DC (assumptions: docs/plan-data.md)."
        )
        console.rule(f"[bold]plan '{plain(result.name)}' as of {result.as_of}[/]")
        print_summary(result, limit=8)
        verdict = "stored as run" if new else "identical to stored run"
        console.print(
            f"Run {verdict} [bold]{run_id}[/] in {db}; report: {report}. "
            f"[dim]Next: `echelon runs --db {db}`, `echelon approve {run_id} --all --by NAME "
            f"--db {db}`, `echelon export {run_id} --out orders.csv --db {db}`; your own data: "
            "`echelon plan DATA_DIR` (docs/plan-data.md).[/]"
        )
