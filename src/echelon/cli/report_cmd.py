"""``echelon report``: write the self-contained HTML report of a stored plan run (or of a
PlanResult JSON file)."""

from __future__ import annotations

from pathlib import Path

import typer

from echelon.cli.render import escape_controls
from echelon.errors import DataError, InputError
from echelon.fileio import check_output_path
from echelon.plan.model import PlanResult


def load_result_json(path: str | Path) -> PlanResult:
    """A :class:`PlanResult` from a JSON file (``PlanResult.model_dump(mode="json")``).

    Raises :class:`echelon.errors.DataError` naming the file for a missing or unreadable file,
    invalid JSON or a document that is not a PlanResult.
    """
    from pydantic import ValidationError

    from echelon.fileio import pydantic_error, read_mapping

    path = Path(path)
    if path.suffix.lower() != ".json":
        raise DataError(
            "a plan result must be a JSON file",
            source=str(path),
            expected="a .json file",
            found=repr(path.suffix or "no extension"),
            fix="give the JSON file of a run (`PlanResult.model_dump_json()`)",
        )
    data = read_mapping(
        path,
        DataError,
        "not a plan result (expected a JSON object)",
        "give the JSON file of a run (`PlanResult.model_dump_json()`)",
    )
    try:
        return PlanResult.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, data, DataError, str(path)) from None


def load_result_db(db_url: str | None, run: str) -> PlanResult:
    """The run ``run`` (an id or ``latest``) from the database at ``db_url`` (None: the
    storage's default database)."""
    from echelon.storage import load_run  # the storage layer is optional for this module

    return load_run(db_url, run)


def default_out(result: PlanResult) -> Path:
    """``report-<name>-<plan date>.html`` in the current folder, the name made file-safe."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in result.name).strip("_")
    return Path(f"report-{safe or 'plan'}-{result.as_of.isoformat()}.html")


def _inputs(from_json: Path | None, db: str | None) -> list[Path]:
    """The files ``echelon report`` reads (never to be overwritten by ``--out``)."""
    if from_json is not None:
        return [from_json]
    from echelon.storage import database_files

    return database_files(db)


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        run: str = typer.Argument("latest", help="run id, or 'latest' (ignored with --from-json)"),
        db: str | None = typer.Option(
            None, "--db", help="database URL (default: the local SQLite database)"
        ),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="HTML file to write (default: report-NAME-DATE.html)"
        ),
        from_json: Path | None = typer.Option(
            None, "--from-json", help="read the run from a PlanResult JSON file instead"
        ),
    ) -> None:
        """Write the self-contained HTML report of a plan run (opens offline in a browser)."""
        from echelon.report import write_report

        if from_json is not None and db is not None:
            raise InputError(
                "give either --db or --from-json, not both",
                source="echelon report",
                fix="drop one of the two options",
            )
        protected = _inputs(from_json, db)
        if out is not None:  # before any work: never a folder, a device or an input
            check_output_path(out, protected=protected, what="--out")
        result = load_result_json(from_json) if from_json is not None else load_result_db(db, run)
        target = out if out is not None else default_out(result)
        check_output_path(target, protected=protected, what="--out")
        path = write_report(result, target)
        size = path.stat().st_size / 1e6
        typer.echo(
            escape_controls(
                f"report written: {path} ({size:.1f} MB; run {result.name!r} of {result.as_of})"
            )
        )
