"""``echelon override | auto-approve``: a planner's quantity change and the auto-approval
rules of a run, thin layers over :mod:`echelon.storage.overrides` and
:mod:`echelon.storage.rules` (the workspace's pages and API call the same functions)."""

from __future__ import annotations

import typer

from echelon.cli.render import console, fmt, plain
from echelon.cli.storage_cmds import RUN_HELP, _db_option


def register(app: typer.Typer) -> None:
    @app.command("override")
    def override_cmd(
        run: str = typer.Argument(..., help=RUN_HELP),
        key: str = typer.Argument(..., help="recommendation key (see `recommendations`)"),
        quantity: float = typer.Argument(..., min=0, help="units to order instead"),
        reason: str = typer.Option(..., "--reason", help="why (required, audit trail)"),
        by: str = typer.Option(..., "--by", help="who overrides (audit trail)"),
        db: str | None = _db_option(),
    ) -> None:
        """Override a recommendation's quantity with a reason (it becomes firm: the next plan
        of the same name keeps it)."""
        from echelon.storage.overrides import override_quantity

        done = override_quantity(db, run, key, quantity, reason, by)
        console.print(
            f"{plain(key)}: {fmt(done.planned_quantity, 1)} → {fmt(done.quantity, 1)} units "
            f"by {plain(done.who)}"
        )

    @app.command("auto-approve")
    def auto_approve_cmd(
        run: str = typer.Argument(..., help=RUN_HELP),
        max_value: float = typer.Option(
            ..., "--max-value", min=0, help="approve what is worth at most this (run currency)"
        ),
        kind: list[str] = typer.Option(
            ["order"], "--kind", help="recommendation kinds (repeat): order | transfer | expedite"
        ),
        with_exceptions: bool = typer.Option(
            False, "--with-exceptions", help="also where the item × location has an exception"
        ),
        by: str = typer.Option(..., "--by", help="who sets the rule (audit trail)"),
        db: str | None = _db_option(),
    ) -> None:
        """Apply an auto-approval rule to a run: every proposed recommendation of the kinds,
        worth at most --max-value and without an exception, is approved by the rule."""
        from echelon.storage.rules import ApprovalRule, apply_rule

        rule = ApprovalRule(max_value, tuple(dict.fromkeys(kind)), not with_exceptions)
        stored, keys = apply_rule(db, run, rule, by)
        console.print(
            f"rule #{stored.id} approved {len(keys)} recommendation{'s' if len(keys) != 1 else ''}"
            f" of run {plain(run)} (audited as the rule, set by {plain(stored.set_by)})"
        )
        for k in keys:
            console.print(f"  {plain(k)}")
