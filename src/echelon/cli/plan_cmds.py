"""``echelon plan DATA_DIR`` and ``echelon scenario``: thin layers over
:mod:`echelon.plan.service` — they call it and display what it returns. Data (ids, names,
messages, paths) is printed through :func:`echelon.cli.render.plain`: markup, emoji codes and
control characters print as typed, inert.

The data folder is validated before anything is computed or written (bad input: one line, exit
2, nothing stored). The run is stored in one transaction; the same inputs and parameters give
the same stored run at once (idempotent, checked before planning).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from echelon.cli.render import console, fmt, plain
from echelon.monitor.champions import THRESHOLD
from echelon.plan.model import PlanResult, PolicyKpis, PolicyName, RecommendationKind, RollingShadow

if TYPE_CHECKING:
    from echelon.plan.parallel import ClusterSpec

DB_HELP = (
    "database: SQLite file or postgresql://USER:PASS@HOST:PORT/DB "
    "(default $ECHELON_DB or ./echelon.db)"
)
STAGE_LABELS = {
    "forecast": "forecasting demand",
    "place": "placing safety stock (GSM + simulation)",
    "kpis": "projecting KPIs (simulation)",
    "shadow": "shadow mode on held-out periods",
    "orders": "today's orders and rebalancing",
    "exceptions": "exceptions",
}


class StageBars:
    """The progress bars of the pipeline's stages: call it as ``update(stage, fraction)``;
    :meth:`set_items` (the number of items, once the folder is loaded) turns every bar's
    count into items done / total, with the elapsed time and an ETA."""

    def __init__(self, bars: Progress | None) -> None:
        from echelon.plan.pipeline import STAGES

        self.bars = bars
        self.stages = STAGES
        self.items = 0
        self.tasks: dict[str, TaskID] = {}
        if bars is not None:
            for stage in STAGES:
                label = STAGE_LABELS.get(stage, stage)
                self.tasks[stage] = bars.add_task(label, total=1.0, start=False, count="")

    def set_items(self, items: int) -> None:
        """Count every stage in items from now on (``items``: the items of the plan)."""
        self.items = items
        if self.bars is not None:
            for task in self.tasks.values():
                self.bars.update(task, count=f"0/{items:,} items")

    def __call__(self, stage: str, fraction: float) -> None:
        task = self.tasks.get(stage)
        if self.bars is None or task is None:
            return
        for earlier in self.stages[: self.stages.index(stage)]:  # stages run in order
            self._set(self.tasks[earlier], 1.0)
        self.bars.start_task(task)
        self._set(task, min(1.0, max(0.0, fraction)))

    def finish(self) -> None:
        for task in self.tasks.values():
            self._set(task, 1.0)

    def _set(self, task: TaskID, fraction: float) -> None:
        assert self.bars is not None
        count = f"{round(fraction * self.items):,}/{self.items:,} items" if self.items else ""
        self.bars.update(task, completed=fraction, count=count)


@contextmanager
def stage_progress(enabled: bool = True) -> Iterator[StageBars]:
    """One Rich progress bar per pipeline stage (on stderr) with items done / total (once
    :meth:`StageBars.set_items` is called), elapsed time and ETA; yields the bars."""
    if not enabled:
        yield StageBars(None)
        return
    bars = Progress(
        TextColumn("[bold]{task.description:<42}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[count]:>18}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with bars:
        update = StageBars(bars)
        yield update
        update.finish()


def kpi_table(kpis: list[PolicyKpis], currency: str, title: str) -> Table:
    """Network KPIs of each policy, side by side."""
    table = Table(title=title, title_justify="left")
    for col in ("policy", f"inventory value ({currency})", "safety stock value", "fill rate"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for col in ("CSL", "turns/yr", "days of supply", "target met"):
        table.add_column(col, justify="right")
    for k in kpis:
        n = k.network
        fill = "—" if n.fill_rate is None else f"{n.fill_rate:.2%}"
        if n.fill_rate_ci is not None and n.fill_rate is not None:
            fill += f" ± {n.fill_rate_ci:.2%}"
        met = "—" if n.target_met is None else ("yes" if n.target_met else "[red]no[/]")
        table.add_row(
            k.policy.label,
            fmt(n.inventory_value, 0),
            fmt(n.safety_stock_value, 0),
            fill,
            "—" if n.cycle_service_level is None else f"{n.cycle_service_level:.1%}",
            fmt(n.turns, 1),
            fmt(n.days_of_supply, 1),
            met,
        )
    return table


def store_table(result: PlanResult) -> Table:
    """Simulated fill rate per store: MEIO versus single-echelon (all items)."""
    table = Table(title="Fill rate per store (simulated, all items)", title_justify="left")
    for col in ("store", *(p.label for p in PolicyName), "MEIO target met"):
        table.add_column(col, justify="left" if col == "store" else "right")
    meio = result.policy(PolicyName.MEIO)
    if meio is None:
        return table
    for store, k in meio.stores.items():
        row = [plain(store), "—" if k.fill_rate is None else f"{k.fill_rate:.2%}"]
        for other in (PolicyName.SINGLE_ECHELON, PolicyName.CURRENT):
            by = result.policy(other)
            o = by.stores.get(store) if by is not None else None
            row.append("—" if o is None or o.fill_rate is None else f"{o.fill_rate:.2%}")
        row.append("—" if k.target_met is None else ("yes" if k.target_met else "[red]no[/]"))
        table.add_row(*row)
    return table


def recommendation_table(result: PlanResult, limit: int) -> Table:
    """The largest recommendations by value, with their explanation."""
    recs = sorted(result.recommendations, key=lambda r: -r.value)[:limit]
    table = Table(
        title=f"Today's recommendations (largest {len(recs)} of {len(result.recommendations)})",
        title_justify="left",
    )
    for col in ("kind", "item", "to", "from", "units", f"value ({result.currency})", "why"):
        table.add_column(col, justify="right" if col in ("units", "value") else "left")
    for r in recs:
        table.add_row(
            r.kind.value,
            plain(r.item),
            plain(r.location),
            plain(r.source or "supplier"),
            fmt(r.quantity, 0),
            fmt(r.value, 0),
            plain(r.explanation.summary),
        )
    return table


def exception_table(result: PlanResult, limit: int) -> Table:
    exc = result.exceptions[:limit]
    table = Table(
        title=f"Exceptions for review ({len(exc)} of {len(result.exceptions)}, most severe first)",
        title_justify="left",
    )
    for col in ("severity", "kind", "item", "location", "message"):
        table.add_column(col)
    for e in exc:
        table.add_row(
            e.severity.value,
            e.kind.value,
            plain(e.item or ""),
            plain(e.location or ""),
            plain(e.message),
        )
    return table


def rolling_table(rolling: RollingShadow) -> Table:
    """Realized fill rate per ABC class and policy over the rolling shadow-mode windows."""
    n, first = len(rolling.origins), min(rolling.origins)
    table = Table(
        title=f"Realized service: {n} shadow-mode windows of {rolling.periods} periods from "
        f"{first}, each planned only with the data before it (actual demand, not simulated; "
        "in brackets the fill rate the plans projected)",
        title_justify="left",
    )
    for col in ("class", "series", "target", *(p.label for p in PolicyName)):
        table.add_column(col, justify="left" if col == "class" else "right")
    for seg in rolling.segments:
        cells = []
        for p in PolicyName:
            real, ci = seg.realized.get(p.value), seg.realized_ci.get(p.value)
            text = "—" if real is None else f"{real:.2%}" + (f" ± {ci:.2%}" if ci else "")
            projected = seg.projected.get(p.value)
            text += "" if projected is None else f" ({projected:.1%})"
            short = real is not None and p is PolicyName.MEIO and real < seg.target - 0.015
            cells.append(f"[red]{text}[/]" if short else text)
        table.add_row(plain(seg.segment), str(seg.series), f"{seg.target:.1%}", *cells)
    return table


def realized_line(result: PlanResult) -> str:
    """The saving at realized service next to the projected one."""
    rolling = result.rolling_shadow
    assert rolling is not None
    by = {k.policy: k.network for k in rolling.kpis}
    meio, single = by[PolicyName.MEIO], by[PolicyName.SINGLE_ECHELON]

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.1%}"

    return (
        f"Saving of MEIO over single-echelon: projected {pct(result.saving)} (simulated, at "
        f"the targets); realized {pct(rolling.saving)} at realized fill rates "
        f"{pct(meio.fill_rate)} vs {pct(single.fill_rate)} (inventory value "
        f"{fmt(meio.inventory_value, 0)} vs {fmt(single.inventory_value, 0)} {result.currency})."
    )


def stock_mix_line(result: PlanResult) -> str:
    """The aggregate target's outcome: the chosen targets against one uniform target."""
    m = result.stock_mix
    assert m is not None
    saving = "—" if m.saving is None else f"{m.saving:.1%}"
    return (
        f"Aggregate {m.measure} fill-rate target {m.target:.1%} over {m.series} item × store "
        f"series (simulated): targets chosen per series ({m.lowest_target:.1%}–"
        f"{m.highest_target:.1%}) reach {m.mix_fill_rate:.2%} with inventory value "
        f"{fmt(m.mix_inventory_value, 0)} {result.currency}; one uniform target reaches "
        f"{m.uniform_fill_rate:.2%} with {fmt(m.uniform_inventory_value, 0)}: saving "
        f"[bold]{saving}[/]."
    )


def print_summary(result: PlanResult, limit: int = 10) -> None:
    """The plan's summary: KPIs, saving, stores, shadow mode, recommendations, exceptions."""
    cur = result.currency
    console.print(kpi_table(result.kpis, cur, "Projected KPIs by simulation (network, all items)"))
    meio = result.policy(PolicyName.MEIO)
    single = result.policy(PolicyName.SINGLE_ECHELON)
    if result.saving is not None and meio is not None and single is not None:
        kept = "met" if result.service_met else "[red]NOT met[/]"
        console.print(
            f"MEIO versus single-echelon: inventory value "
            f"{fmt(single.network.inventory_value, 0)} → {fmt(meio.network.inventory_value, 0)} "
            f"{cur}, saving [bold]{result.saving:.1%}[/]; fill-rate target at every store {kept}."
        )
    if result.stock_mix is not None:
        console.print(stock_mix_line(result))
    console.print(store_table(result))
    if result.shadow is not None:
        sh = result.shadow
        console.print(
            kpi_table(
                sh.kpis,
                cur,
                f"Shadow mode: replayed against actual demand of {sh.periods} held-out periods "
                f"({sh.start} … {sh.end})",
            )
        )
        console.print(f"[dim]current policy: {plain(sh.current_policy)}[/]")
    if result.rolling_shadow is not None:
        console.print(rolling_table(result.rolling_shadow))
        console.print(realized_line(result))
    counts = {k: 0 for k in RecommendationKind}
    value = {k: 0.0 for k in RecommendationKind}
    for r in result.recommendations:
        counts[r.kind] += 1
        value[r.kind] += r.value
    console.print(
        "Recommendations: "
        + ", ".join(f"{counts[k]} {k.value}s ({fmt(value[k], 0)} {cur})" for k in counts)
    )
    if result.recommendations:
        console.print(recommendation_table(result, limit))
    if result.exceptions:
        console.print(exception_table(result, limit))
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {plain(w.message)}")


def register(app: typer.Typer) -> None:
    register_scenario(app)

    @app.command("plan")
    def plan_cmd(
        data_dir: Path | None = typer.Argument(None, help="data folder (docs/plan-data.md)"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        report: Path | None = typer.Option(None, "--report", help="also write the HTML report"),
        json_out: Path | None = typer.Option(None, "--json", help="also write the result JSON"),
        top: int = typer.Option(10, "--top", help="rows of recommendations/exceptions shown"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
        from_store: str | None = typer.Option(
            None, "--from-store", help="plan a dataset of the data store (`echelon ingest`)"
        ),
        nowcast: bool = typer.Option(
            False, "--nowcast", help="with --from-store: plan on the nowcasts of late data"
        ),
        promotion_threshold: float = typer.Option(
            THRESHOLD,
            "--promotion-threshold",
            help="with --from-store: a new forecast champion that moves its segment's safety "
            "stock value by more than this fraction waits for approval",
        ),
        dask: str | None = typer.Option(
            None, "--dask", help="Dask scheduler tcp://HOST:8786: items across its workers"
        ),
        workers: int | None = typer.Option(
            None, "--workers", help="a local Dask cluster of N worker processes"
        ),
    ) -> None:
        """Plan from a data folder: forecasts, placement, today's orders, exceptions, KPIs."""
        from echelon.plan.parallel import ClusterSpec

        cluster = ClusterSpec(address=dask, workers=workers)
        with stage_progress(not quiet) as update:
            stored = _plan(data_dir, from_store, (nowcast, promotion_threshold), db, report,
                           json_out, update, cluster)  # fmt: skip
        result, run_id, new = stored.result, stored.run_id, stored.created
        console.rule(f"[bold]plan '{plain(result.name)}' as of {result.as_of}[/]")
        print_summary(result, top)
        firm = [r for r in result.recommendations if r.firm_run is not None]
        if firm:
            runs = ", ".join(str(n) for n in sorted({r.firm_run for r in firm if r.firm_run}))
            console.print(
                f"Kept {len(firm)} firm order(s) decided in run(s) {runs} (approved, exported or "
                "overridden): counted as open orders, today's orders are net of them."
            )
        if new:
            console.print(f"Stored as run [bold]{run_id}[/] (input hash {result.input_hash[:12]}).")
        else:
            console.print(
                f"Same inputs and parameters as run [bold]{run_id}[/]: nothing new stored."
            )
        if report is not None:
            console.print(f"Report written to {plain(report)}")
        console.print(
            f"[dim]Next: `echelon approve {run_id} --all --by NAME`, `echelon export {run_id} "
            f"--out orders.csv`, `echelon report {run_id} --out report.html`.[/]"
        )


def _plan(
    data_dir: Path | None,
    from_store: str | None,
    settings: tuple[bool, float],
    db: str | None,
    report: Path | None,
    json_out: Path | None,
    update: StageBars,
    cluster: ClusterSpec,
) -> Any:
    """Plan a data folder, or with ``from_store`` a dataset of the data store (``settings``:
    plan on nowcasts, the forecast-promotion threshold)."""
    from echelon.errors import InputError

    if (data_dir is None) == (from_store is None):
        raise InputError(
            "give a data folder or --from-store NAME (one of the two)",
            fix="`echelon plan DATA_DIR` or `echelon plan --from-store NAME --db URL`",
        )
    if from_store is not None:
        from echelon.cli.monitor_cmds import dataset_name
        from echelon.monitor.store_plan import plan_from_store

        nowcast, threshold = settings
        return plan_from_store(db, dataset_name(from_store, "--from-store"), use_nowcast=nowcast,
                               report=report, json_out=json_out, progress=update,
                               on_items=update.set_items, cluster=cluster,
                               promotion_threshold=threshold)  # fmt: skip
    from echelon.plan.service import plan_and_store

    assert data_dir is not None
    return plan_and_store(data_dir, db, report=report, json_out=json_out, progress=update,
                          on_items=update.set_items, cluster=cluster)  # fmt: skip


def scenario_table(outcomes: list[Any], currency: str) -> Table:
    """Network KPIs per scenario and policy: without and with the disruption."""
    table = Table(title="Disruption scenarios (network, all items)", title_justify="left")
    for col in ("scenario", "policy", "fill rate (plain)", "fill rate (disrupted)", "change"):
        table.add_column(col, justify="left" if col in ("scenario", "policy") else "right")
    table.add_column(f"inventory value ({currency}, disrupted)", justify="right")
    table.add_column("stores below target", justify="right")
    for o in outcomes:
        base, hit = o.baseline, o.disrupted
        change = o.fill_rate_change
        table.add_row(
            f"{plain(o.scenario)}\n[dim]{plain(o.description)}[/]",
            o.policy.label,
            "—" if base.fill_rate is None else f"{base.fill_rate:.2%}",
            "—" if hit.fill_rate is None else f"{hit.fill_rate:.2%}",
            "—" if change is None else f"{change:+.2%}",
            fmt(hit.inventory_value, 0),
            str(o.stores_below_target),
        )
    return table


def register_scenario(app: typer.Typer) -> None:
    @app.command("scenario")
    def scenario_cmd(
        data_dir: Path = typer.Argument(..., help="data folder (docs/plan-data.md)"),
        scenario: list[Path] = typer.Option(
            [],
            "--scenario",
            help="disruption scenario file (repeat; default: DC closure, "
            "demand spike, supplier delay)",
        ),
        reps: int = typer.Option(10, "--reps", min=2, help="replications per run"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
    ) -> None:
        """Re-simulate the plan's policies under disruptions and compare with no disruption."""
        from echelon.plan.service import run_scenarios_for

        with stage_progress(not quiet) as update:
            done = run_scenarios_for(data_dir, scenario, reps, update)
        if not done.outcomes:
            console.print("no item could be placed: nothing to simulate")
            return
        cfg = done.context.config
        console.rule(f"[bold]scenarios for plan '{plain(cfg.name)}' as of {done.context.as_of}[/]")
        console.print(scenario_table(done.outcomes, cfg.currency))
        console.print(
            "[dim]Each policy is simulated with and without the disruption on the same random "
            "numbers; periods in a scenario file count from the first reported period.[/]"
        )
