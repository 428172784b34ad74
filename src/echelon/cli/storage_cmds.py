"""``echelon runs | recommendations | approve | reject | export | audit``: the run store's
review workflow, thin layers over :mod:`echelon.storage`.

``--db`` takes a file path (SQLite) or a URL (``postgresql://user:pass@host:port/db``); the
default is ``$ECHELON_DB`` or ``echelon.db`` in the current folder. RUN is a run number or
``latest``.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.table import Table

from echelon.cli.render import console, fmt, plain
from echelon.fileio import check_output_path
from echelon.plan.model import RecommendationStatus
from echelon.storage import (
    StorageError,
    audit_log,
    database_files,
    export_approved,
    list_runs,
    set_status,
)
from echelon.storage.overrides import ReviewedRecommendation, reviewed

DB_HELP = (
    "database: SQLite file or postgresql://USER:PASS@HOST:PORT/DB "
    "(default $ECHELON_DB or ./echelon.db)"
)
RUN_HELP = "run number (see `echelon runs`) or 'latest'"


def _db_option() -> str | None:
    return typer.Option(None, "--db", help=DB_HELP)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password file
        return "unknown"


def runs_table(db: str | None) -> Table | None:
    """Every stored run with its summary; None when there is none."""
    rows = list_runs(db)
    if not rows:
        return None
    table = Table(title="stored plan runs (newest first)")
    cols = ["run", "name", "created (UTC)", "as of", "input hash", "saving", "service met"]
    cols += ["recs", "proposed", "approved", "rejected", "exported", "exceptions"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("name", "created (UTC)") else "right")
    for r in rows:
        met = "—" if r.service_met is None else ("yes" if r.service_met else "[red]no[/]")
        table.add_row(
            str(r.id),
            plain(r.name),
            r.created_at[:19].replace("T", " "),
            plain(r.as_of),
            plain(r.input_hash[:12]),
            "—" if r.saving is None else f"{100 * r.saving:.1f}%",
            met,
            str(r.n_recommendations),
            *(str(r.statuses[s]) for s in ("proposed", "approved", "rejected", "exported")),
            str(r.n_exceptions),
        )
    return table


def _review(
    action: str, run: str, keys: list[str], all_: bool, by: str, comment: str | None, db: str | None
) -> None:
    if all_ and keys:
        raise StorageError(
            f"give recommendation keys or --all, not both, to {action}",
            fix=f"`echelon {action} {run} --all --by NAME` acts on every proposed one",
        )
    chosen = "all" if all_ else keys
    done = set_status(db, run, chosen, "approve" if action == "approve" else "reject", by, comment)
    verb = "approved" if action == "approve" else "rejected"
    if not done:
        console.print(f"nothing to {action}: run {plain(run)} has no proposed recommendations")
        return
    plural = "s" if len(done) != 1 else ""
    console.print(f"{verb} {len(done)} recommendation{plural} of run {plain(run)}:")
    for key in done:
        console.print(f"  {plain(key)}")


def _review_note(row: ReviewedRecommendation) -> str:
    """An override (planned quantity, reason, who) and/or where a firm order comes from."""
    notes = []
    if row.override is not None:
        o = row.override
        notes.append(
            f"planned {fmt(o.planned_quantity, 1)} → {fmt(o.quantity, 1)} by {plain(o.who)}: "
            f"{plain(o.reason)}"
        )
    if row.rec.firm_run is not None:
        notes.append(f"firm (kept from run {row.rec.firm_run})")
    return "; ".join(notes) or "—"


def register(app: typer.Typer) -> None:
    @app.command("runs")
    def runs_cmd(db: str | None = _db_option()) -> None:
        """List the stored plan runs with their savings and review progress."""
        table = runs_table(db)
        if table is None:
            console.print("no runs stored yet — `echelon plan DATA_DIR` stores one")
            return
        console.print(table)

    @app.command("recommendations")
    def recommendations_cmd(
        run: str = typer.Argument("latest", help=RUN_HELP),
        status: str | None = typer.Option(
            None, "--status", help="only this status: proposed | approved | rejected | exported"
        ),
        db: str | None = _db_option(),
    ) -> None:
        """List a run's recommendations with their keys and current status."""
        allowed = [s.value for s in RecommendationStatus]
        if status is not None and status not in allowed:
            raise StorageError(
                "unknown status",
                field="status",
                expected=" | ".join(allowed),
                found=repr(status),
                fix="use one of the statuses listed",
            )
        result, rows = reviewed(db, run)
        table = Table(
            title=f"recommendations of run {plain(run)} ({plain(result.name)}, as of "
            f"{result.as_of})"
        )
        value = f"value ({plain(result.currency)})"
        cols = ["key", "kind", "item", "to", "from", "quantity", value]
        for col in [*cols, "arrival", "status", "override / firm"]:  # keys unwrapped: pasted
            table.add_column(
                col, justify="right" if col in cols[5:7] else "left", no_wrap=col == "key"
            )
        for row in rows:
            r = row.rec
            if status is not None and r.status.value != status:
                continue
            table.add_row(
                plain(r.key),
                plain(r.kind.value),
                plain(r.item),
                plain(r.location),
                plain(r.source or "supplier"),
                fmt(row.quantity, 1),
                fmt(row.value, 2),
                r.arrival.isoformat() if r.arrival else "—",
                r.status.value,
                _review_note(row),
            )
        console.print(table)

    @app.command("approve")
    def approve_cmd(
        run: str = typer.Argument(..., help=RUN_HELP),
        keys: list[str] = typer.Argument(None, help="recommendation keys (see `recommendations`)"),
        all_: bool = typer.Option(False, "--all", help="every recommendation still proposed"),
        by: str = typer.Option(..., "--by", help="who approves (kept in the audit trail)"),
        comment: str | None = typer.Option(None, "--comment", help="why (audit trail)"),
        db: str | None = _db_option(),
    ) -> None:
        """Approve recommendations of a run (proposed or rejected → approved)."""
        _review("approve", run, keys or [], all_, by, comment, db)

    @app.command("reject")
    def reject_cmd(
        run: str = typer.Argument(..., help=RUN_HELP),
        keys: list[str] = typer.Argument(None, help="recommendation keys (see `recommendations`)"),
        all_: bool = typer.Option(False, "--all", help="every recommendation still proposed"),
        by: str = typer.Option(..., "--by", help="who rejects (kept in the audit trail)"),
        comment: str | None = typer.Option(None, "--comment", help="why (audit trail)"),
        db: str | None = _db_option(),
    ) -> None:
        """Reject recommendations of a run (proposed or approved → rejected)."""
        _review("reject", run, keys or [], all_, by, comment, db)

    @app.command("export")
    def export_cmd(
        run: str = typer.Argument(..., help=RUN_HELP),
        out: Path = typer.Option(..., "--out", "-o", help="CSV file to write for the ERP"),
        by: str | None = typer.Option(None, "--by", help="who exports (default: your user)"),
        db: str | None = _db_option(),
    ) -> None:
        """Write a run's approved recommendations to a CSV for an ERP; marks them exported."""
        # before anything is read or marked: never a folder, a device or the database itself
        check_output_path(out, protected=database_files(db), what="--out", error=StorageError)
        n = export_approved(db, run, out, who=by or _user())
        console.print(
            f"exported {n} approved recommendation{'s' if n != 1 else ''} of run {plain(run)} "
            f"to {plain(str(out))}"
        )

    @app.command("audit")
    def audit_cmd(
        run: str = typer.Argument(..., help=RUN_HELP),
        db: str | None = _db_option(),
    ) -> None:
        """Show who changed which recommendation of a run, when (UTC) and why."""
        entries = audit_log(db, run)
        if not entries:
            console.print(f"run {plain(run)}: no status changes yet")
            return
        table = Table(title=f"audit trail of run {plain(run)}")
        for col in ("when (UTC)", "who", "action", "key", "from", "to", "comment"):
            table.add_column(col)
        for e in entries:
            table.add_row(
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                plain(e.who),
                plain(e.action),
                plain(e.key),
                plain(e.from_status),
                plain(e.to_status),
                plain(e.comment or ""),
            )
        console.print(table)
