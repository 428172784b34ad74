"""``echelon ingest`` and ``echelon monitor``: the data store of the weekly loop, thin layers
over :mod:`echelon.monitor` (``echelon plan --from-store NAME`` plans from it).

A dataset name is letters, digits, ``.``, ``_`` and ``-`` (at most 100). Data (ids, messages,
paths) print through :func:`echelon.cli.render.plain`: inert.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.table import Table

from echelon.cli.render import console, fmt, plain
from echelon.errors import InputError

DB_HELP = (
    "database: SQLite file or postgresql://USER:PASS@HOST:PORT/DB "
    "(default $ECHELON_DB or ./echelon.db)"
)
NAME_HELP = "dataset name in the store (one network's data)"
DATASET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SHOWN = 15  # findings / alerts printed


def dataset_name(name: str, option: str = "--name") -> str:
    """``name`` if it is a valid dataset name (module doc), else a one-line error."""
    if not DATASET.fullmatch(name):
        raise InputError(
            "invalid dataset name",
            field=option,
            expected="letters, digits, '.', '_' or '-' (at most 100, starting with a letter "
            "or digit)",
            found=repr(name),
            fix="choose a simple name such as m5",
        )
    return name


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        target: Path = typer.Argument(..., help="folder or file to load (docs/weekly.md)"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        name: str = typer.Option("default", "--name", help=NAME_HELP),
    ) -> None:
        """Append demand, inventory, receipts and lead times to the data store (idempotent)."""
        from echelon.monitor.ingest import ingest

        done = ingest(target, db, dataset_name(name))
        if not done.applied:
            console.print(
                f"Same content as load [bold]{done.load_id}[/] of dataset "
                f"'{plain(done.dataset)}': nothing changed."
            )
            return
        console.print(f"Load [bold]{done.load_id}[/] into dataset '{plain(done.dataset)}':")
        for table, c in done.counts.items():
            console.print(
                f"  {table}: {c['added']} added, {c['corrected']} corrected, "
                f"{c['unchanged']} unchanged"
            )
        if done.scores_added:
            console.print(f"  forecast scores: {done.scores_added} added")
        for ev in done.evaluations:
            what = {None: "champion kept", "promoted": "PROMOTED", "pending": "promotion "
                    "waits for approval"}[ev.status]  # fmt: skip
            console.print(f"  retraining, segment {plain(ev.segment)}: {what} — "
                          f"{plain(ev.decision.reason)}")  # fmt: skip
        for f in done.findings[:SHOWN]:
            console.print(f"[yellow]{f.severity.value}:[/] {plain(f.message)}")
        if len(done.findings) > SHOWN:
            console.print(f"… {len(done.findings) - SHOWN} more findings (`echelon monitor`)")

    monitor_app = typer.Typer(
        help="Forecast accuracy, drift, reporting lag, decisions and model cards of a dataset; "
        "`echelon monitor approve-promotion ID --by NAME` approves a forecast promotion, "
        "`reject-promotion ID --by NAME --reason TEXT` rejects it.",
        no_args_is_help=False,
    )
    app.add_typer(monitor_app, name="monitor")

    @monitor_app.callback(invoke_without_command=True)
    def monitor_cmd(
        ctx: typer.Context,
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        name: str = typer.Option("default", "--name", help=NAME_HELP),
    ) -> None:
        """Forecast accuracy per segment, drift alerts and reporting lag of a dataset."""
        if ctx.invoked_subcommand is not None:
            return
        show_monitoring(db, dataset_name(name))

    @monitor_app.command("approve-promotion")
    def approve_promotion_cmd(
        promotion: int = typer.Argument(..., help="id of a pending forecast promotion"),
        by: str = typer.Option(..., "--by", help="who approves (for the audit trail)"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Approve a forecast champion's promotion that waits for approval (audited)."""
        from echelon.storage.promotions import approve_promotion

        row = approve_promotion(db, promotion, by)
        console.print(
            f"Promotion {row['id']} approved by {plain(row['decided_by'])}: segment "
            f"{plain(row['segment'])} of dataset '{plain(row['dataset'])}' is forecast by "
            f"{plain(row['new_model'])} (was {plain(row['old_model'])}); the recommendations "
            f"of run {row['run_id']} in it can be auto-approved again."
        )

    @monitor_app.command("reject-promotion")
    def reject_promotion_cmd(
        promotion: int = typer.Argument(..., help="id of a pending forecast promotion"),
        by: str = typer.Option(..., "--by", help="who rejects (for the audit trail)"),
        reason: str = typer.Option(..., "--reason", help="why (kept in the audit trail)"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Reject a forecast champion's promotion that waits for approval (audited, with the
        reason); the old champion stays."""
        from echelon.storage.promotions import reject_promotion

        row = reject_promotion(db, promotion, by, reason)
        console.print(
            f"Promotion {row['id']} rejected by {plain(row['decided_by'])}: segment "
            f"{plain(row['segment'])} of dataset '{plain(row['dataset'])}' stays forecast by "
            f"{plain(row['old_model'])} (not {plain(row['new_model'])}); the recommendations "
            f"of run {row['run_id']} in it stay held from auto-approval."
        )


def show_monitoring(db: str | None, name: str) -> None:
    """Print the monitoring of dataset ``name`` (accuracy, drift, lag, decisions, cards)."""
    from echelon.monitor.report import monitoring_view

    view = monitoring_view(db, name)
    summary = view.summary
    console.rule(f"[bold]monitoring of dataset '{plain(name)}'[/]")
    console.print(
        f"{summary.loads} loads, {summary.runs} plans from the store, {summary.scored} "
        f"scored series-periods, last demand day {summary.last_day or '—'}"
    )
    if summary.lag:
        late = ", ".join(f"{plain(s)} ({d} d)" for s, d in sorted(summary.lag.items()) if d)
        console.print(f"Reporting lag: {late or 'every store is up to date'}")
    console.print(metrics_table(summary.metrics))
    console.print(
        "Drift alerts (two-sided CUSUM on the whitened errors, k = 0.5, h = 5): "
        f"{len(summary.alarms)}"
    )
    for a in summary.alarms[-SHOWN:]:
        console.print(
            f"  {a.period_start}  {plain(a.item_id)} at {plain(a.location_id)}: "
            f"{a.direction} ({a.statistic:.1f})"
        )
    console.print(decisions_table(view.decisions))
    console.print(outcomes_table(view.outcomes))
    console.print("[bold]Model card: forecast models of the plans[/]")
    for line in view.forecast_card:
        console.print(f"  {plain(line)}")
    console.print("[bold]Model card: nowcaster[/]")
    for line in view.nowcaster_card:
        console.print(f"  {plain(line)}")


def metrics_table(metrics: object) -> Table:
    """Forecast accuracy per segment (scores of the plans against actuals)."""
    import pandas as pd

    assert isinstance(metrics, pd.DataFrame)
    table = Table(title="Forecast accuracy (plans' store forecasts vs actuals)",
                  title_justify="left")  # fmt: skip
    for col in ("segment", "series-periods", "WAPE", "bias", "scaled pinball", "80% coverage"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for row in metrics.to_dict("records"):
        table.add_row(
            plain(row["segment"]), str(row["n"]), f"{row['wape']:.1%}", f"{row['bias']:+.1%}",
            fmt(row["pinball"], 3), f"{row['coverage']:.1%}",
        )  # fmt: skip
    return table


def decisions_table(summary: object) -> Table:
    """Recommended vs approved vs overridden per planner and segment."""
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    table = Table(title="Decisions on the plans' recommendations", title_justify="left")
    for col in ("planner", "segment", "recommended", "approved", "rejected", "overridden",
                "proposed", "override rate"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("planner", "segment") else "right")
    for row in summary.to_dict("records"):
        table.add_row(
            plain(row["planner"]), plain(row["segment"]),
            *(str(row[c]) for c in ("recommended", "approved", "rejected", "overridden",
                                    "proposed")),
            f"{row['override_rate']:.1%}",
        )  # fmt: skip
    return table


def outcomes_table(outcomes: object) -> Table:
    """Realized service and inventory left of overridden vs accepted orders."""
    import pandas as pd

    assert isinstance(outcomes, pd.DataFrame)
    table = Table(title="Did overrides help? Decided orders against the actuals of their cover "
                  "(lead time + 1 period)", title_justify="left")  # fmt: skip
    for col in ("group", "orders", "demand (units)", "realized service", "inventory left",
                "per order"):  # fmt: skip
        table.add_column(col, justify="left" if col == "group" else "right")
    for row in outcomes.to_dict("records"):
        service = "—" if pd.isna(row["service"]) else f"{row['service']:.1%}"
        table.add_row(
            plain(row["group"]), str(row["lines"]), fmt(row["demand"], 0), service,
            fmt(row["inventory_left"], 2), fmt(row["inventory_per_line"], 2),
        )  # fmt: skip
    return table
