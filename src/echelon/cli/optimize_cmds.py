"""``echelon optimize`` and ``echelon compare``: thin layers over
:mod:`echelon.optimize.service`."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from echelon.cli.render import console, fmt, fmt_est, progress_bar
from echelon.errors import OptimizationError
from echelon.network.io import load_network
from echelon.network.model import Network, ServiceMeasure, ServiceTarget
from echelon.optimize.result import OptimizationResult, OptimizeMethod
from echelon.optimize.segments import Segment, load_segment_targets
from echelon.optimize.service import (
    Comparison,
    SimSettings,
    compare_with_single_echelon,
    evaluate,
    optimize_network,
    with_targets,
)
from echelon.optimize.stock_mix import StockMixResult, stock_mix
from echelon.policies.io import save_policy
from echelon.sim.results import SimulationResult

METHOD_HELP = "gsm | clark-scarf | simopt | single-echelon"


def _sim(periods: int, reps: int, seed: int, warmup: int) -> SimSettings:
    return SimSettings(periods=periods, reps=reps, seed=seed, warmup=warmup)


def _only_with(method: OptimizeMethod, wanted: OptimizeMethod, option: str, model: str) -> None:
    """Raise unless ``--option`` (which applies to ``model`` only) comes with its method."""
    if method is not wanted:
        raise OptimizationError(
            f"--{option} applies to {model} ({wanted} only)",
            field=option,
            expected=f"--method {wanted}",
            found=str(method),
            fix=f"drop --{option}, or use --method {wanted}",
        )


def gsm_options(method: OptimizeMethod, service_times: list[str]) -> dict[str, Any]:
    """``--service-time NODE=S`` pairs as the GSM's ``fixed_service_times``."""
    if not service_times:
        return {}
    _only_with(method, OptimizeMethod.GSM, "service-time", "the guaranteed-service model")
    fixed: dict[str, float] = {}
    for item in service_times:
        node, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not node or math.isnan(number):
            raise OptimizationError(
                "a fixed service time must read NODE=PERIODS",
                field="service-time",
                expected="e.g. --service-time dc=2",
                found=repr(item),
                fix="write the node id, '=', and a whole number of periods",
            )
        fixed[node] = number
    return {"fixed_service_times": fixed}


def simopt_options(method: OptimizeMethod, search: str | None) -> dict[str, Any]:
    """``--search`` (pattern | cmaes | ga) for simulation-optimization only."""
    if search is None:
        return {}
    _only_with(method, OptimizeMethod.SIMOPT, "search", "simulation-optimization")
    if search not in ("pattern", "cmaes", "ga"):
        raise OptimizationError(
            "unknown --search",
            field="search",
            expected="pattern, cmaes or ga",
            found=repr(search),
            fix="choose one of the listed searches",
        )
    return {"search": search}


def check_aggregate(method: OptimizeMethod, budget: float | None, service_times: list[str],
                    target: float, measure: str) -> None:  # fmt: skip
    """``--aggregate-fill-rate`` runs its own plan: no method options, a target in (0, 1]."""
    problem = None
    if method not in (OptimizeMethod.GSM, OptimizeMethod.SINGLE_ECHELON):
        problem = ("method", "the default method (the plan sets demand-node levels itself)",
                   str(method))  # fmt: skip
    elif budget is not None:
        problem = ("budget", "no --budget with --aggregate-fill-rate", f"{budget:g}")
    elif service_times:
        problem = ("service-time", "no --service-time with --aggregate-fill-rate", "given")
    elif not 0 < target <= 1:
        problem = ("aggregate-fill-rate", "a fraction in (0, 1], e.g. 0.97", f"{target:g}")
    elif measure not in ("unit", "value"):
        problem = ("aggregate-measure", "unit or value", repr(measure))
    if problem is not None:
        field, expected, found = problem
        raise OptimizationError(
            f"bad --{field} for an aggregate fill-rate target",
            field=field,
            expected=expected,
            found=found,
            fix=f"change --{field}",
        )


def aggregate_table(res: StockMixResult) -> Table:
    """Per demand node: the mix's target and level against one uniform target."""
    table = Table(title=f"aggregate {res.measure} fill rate {res.target:.1%}: per-node targets "
                  "(levels in units; fill rates simulated on an independent seed)")  # fmt: skip
    cols = ["node", "target (mix)", "level (mix)", "fill rate (mix)", "target (uniform)"]
    cols += ["level (uniform)", "fill rate (uniform)"]
    for col in cols:
        table.add_column(col, justify="left" if col == "node" else "right")
    for i, k in enumerate(res.nodes):
        table.add_row(
            k, f"{res.mix.fill_rate[i]:.2%}", fmt(res.mix_levels[k], 3),
            f"{res.mix_sim.node(k).fill_rate.mean:.2%}", f"{res.uniform.fill_rate[i]:.2%}",
            fmt(res.uniform_levels[k], 3), f"{res.uniform_sim.node(k).fill_rate.mean:.2%}",
        )  # fmt: skip
    return table


def aggregate_summary(res: StockMixResult, currency: str) -> str:
    unit = currency if any(v != 1.0 for v in res.details["unit_values"].values()) else "units"
    return (
        f"aggregate fill rate (simulated): mix {res.measured(res.mix_sim):.2%} vs uniform "
        f"{res.measured(res.uniform_sim):.2%}; demand-node on-hand value "
        f"{fmt(res.value(res.mix_sim), 0)} vs {fmt(res.value(res.uniform_sim), 0)} {unit}: "
        f"saving {res.saving:.1%}"
    )


def result_table(result: OptimizationResult, segments: dict[str, Segment]) -> Table:
    """Per-node decisions of an optimization result."""
    table = Table(title=f"{result.method} — per node (times in periods, stock in units)")
    cols = ["node", "segment", "S (out)", "SI (in)", "net repl.", "safety stock", "level"]
    cols.append("SS cost/period")
    for col in cols:
        table.add_column(col, justify="left" if col in ("node", "segment") else "right")
    for nid, d in result.nodes.items():
        level = d.echelon_base_stock if d.base_stock_level is None else d.base_stock_level
        if d.echelon_base_stock is not None and d.base_stock_level is not None:
            level_text = f"{fmt(d.base_stock_level, 3)} (ech. {fmt(d.echelon_base_stock, 3)})"
        else:
            level_text = fmt(level, 3)
        seg = segments.get(nid)
        table.add_row(
            nid,
            seg.code if seg else "",
            fmt(d.committed_service_time, 0),
            fmt(d.inbound_service_time, 0),
            fmt(d.net_replenishment_time, 0),
            fmt(d.safety_stock),
            level_text,
            fmt(d.safety_stock_cost),
        )
    return table


def summary_line(result: OptimizationResult, currency: str) -> str:
    gap = "—" if result.gap is None else f"{result.gap:.4%}"
    return (
        f"method {result.method}: objective {fmt(result.objective, 4)} {currency} per period "
        f"({result.objective_definition}); proven gap {gap}; status {result.status}; "
        f"{result.seconds:.2f} s"
    )


def check_table(result: SimulationResult, targets: dict[str, ServiceTarget | None]) -> Table:
    """Simulated service at the demand nodes against their targets (met = the CI's mean)."""
    table = Table(title="simulation check at demand nodes (mean ± 95% CI)")
    for col in ("node", "target", "fill rate", "CSL", "on hand", "met"):
        table.add_column(col, justify="left" if col == "node" else "right")
    for nid, target in targets.items():
        k = result.node(nid)
        met = "—"
        label = "—"
        if target is not None:
            measured = (
                k.fill_rate if target.measure is ServiceMeasure.FILL_RATE else k.cycle_service_level
            )
            short = "FR" if target.measure is ServiceMeasure.FILL_RATE else "CSL"
            label = f"{short} {target.target:.1%}"
            met = "yes" if measured.mean >= target.target else "[red]no[/]"
        table.add_row(
            nid,
            label,
            fmt_est(k.fill_rate, 1, pct=True),
            fmt_est(k.cycle_service_level, 1, pct=True),
            fmt_est(k.avg_on_hand, 1),
            met,
        )
    return table


def order_rule_nodes(net: Network) -> list[str]:
    """Nodes whose orders are rounded or capped (MOQ, lot multiple, capacity)."""
    return [
        n.id
        for n in net.nodes
        if n.min_order_qty > 0 or n.lot_multiple > 0 or n.capacity is not None
    ]


def comparison_table(cmp: Comparison, currency: str) -> Table:
    """Single-echelon vs MEIO per node and in total."""
    label = str(cmp.meio.method)
    if cmp.matched and cmp.placed is not None:
        label = f"{cmp.placed.method} placement, levels matched by simulation"
    table = Table(title=f"single-echelon vs {label} (same random numbers)")
    cols = ["node", "level SE", "level MEIO", "on hand SE", "on hand MEIO", "value SE"]
    cols += ["value MEIO", "fill rate SE", "fill rate MEIO", "CSL SE", "CSL MEIO"]
    for col in cols:
        table.add_column(col, justify="left" if col == "node" else "right")
    for n in cmp.nodes:
        mark = " *" if n.is_demand else ""
        table.add_row(
            n.node + mark,
            fmt(n.base_level),
            fmt(n.meio_level),
            fmt(n.base_on_hand),
            fmt(n.meio_on_hand),
            fmt(n.base_value, 0),
            fmt(n.meio_value, 0),
            f"{n.base_fill_rate:.2%}",
            f"{n.meio_fill_rate:.2%}",
            f"{n.base_csl:.1%}",
            f"{n.meio_csl:.1%}",
        )
    b, m = cmp.base_sim, cmp.meio_sim
    table.add_section()
    table.add_row(
        "total", "", "", "", "", fmt(b.inventory_value, 0), fmt(m.inventory_value, 0),
        fmt_est(b.fill_rate, 2, pct=True), fmt_est(m.fill_rate, 2, pct=True), "", "",
    )  # fmt: skip
    table.caption = (
        f"* demand node; value = average on-hand units × unit value ({currency}); "
        f"holding cost per period SE {fmt_est(b.holding_cost)} vs MEIO {fmt_est(m.holding_cost)}"
    )
    return table


def _network_with_targets(
    network: Path, targets: Path | None
) -> tuple[Network, dict[str, Segment]]:
    """The network file with the segment targets file (if any) applied to its demand nodes."""
    segment_targets = load_segment_targets(targets) if targets else None
    return with_targets(load_network(network), segment_targets, str(targets) if targets else None)


def register(app: typer.Typer) -> None:
    @app.command("optimize")
    def optimize_cmd(
        network: Path = typer.Argument(..., help="network file: YAML/JSON, Willems or edge list"),
        method: OptimizeMethod = typer.Option(
            OptimizeMethod.GSM, "--method", "-m", help=METHOD_HELP
        ),
        budget: float | None = typer.Option(
            None, "--budget", help="cap on inventory investment (money; see docs/optimize.md)"
        ),
        targets: Path | None = typer.Option(
            None, "--targets", help="service targets per ABC/XYZ segment (YAML/JSON)"
        ),
        time_limit: float = typer.Option(60.0, "--time-limit", help="seconds (GSM MIP)"),
        service_time: list[str] = typer.Option(
            [], "--service-time", help="GSM: fix a node's committed service time, NODE=PERIODS"
        ),
        out: Path | None = typer.Option(None, "--out", "-o", help="write the policy file here"),
        check: bool = typer.Option(
            False, "--check", help="re-check the policy's service in simulation"
        ),
        periods: int = typer.Option(2000, "--periods", "-T", help="simulated periods (simopt)"),
        reps: int = typer.Option(100, "--reps", "-R", help="replications (simopt, --check)"),
        seed: int = typer.Option(0, "--seed", "-s", help="random seed"),
        warmup: int = typer.Option(100, "--warmup", "-W", help="warm-up periods"),
        search: str | None = typer.Option(
            None, "--search", help="simopt search: pattern (default) | cmaes | ga"
        ),
        aggregate: float | None = typer.Option(
            None, "--aggregate-fill-rate", help="one fill-rate target over all demand nodes"
        ),
        aggregate_measure: str = typer.Option(
            "unit", "--aggregate-measure", help="aggregate fill rate by: unit | value"
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Place safety stock / set policies across NETWORK and write a policy file."""
        net, segments = _network_with_targets(network, targets)
        sim = _sim(periods, reps, seed, warmup)
        show = not as_json and sys.stderr.isatty()
        if aggregate is not None:
            check_aggregate(method, budget, service_time, aggregate, aggregate_measure)
            with progress_bar("stock mix: curves and check", enabled=show) as update:
                mix = stock_mix(
                    net, aggregate, measure=aggregate_measure,  # type: ignore[arg-type]
                    periods=periods, reps=reps, seed=seed, warmup=warmup, progress=update,
                )  # fmt: skip
            if out is not None:
                save_policy(mix.mix_policy, out)
            if as_json:
                data = {"network": net.name, **mix.to_dict()}
                data["policy_file"] = str(out) if out else None
                typer.echo(json.dumps(data, indent=2))
                return
            console.print(aggregate_table(mix))
            console.print(aggregate_summary(mix, net.currency))
            if out is not None:
                console.print(f"[dim]policy (mix) written to {out}[/]")
            return
        options = gsm_options(method, service_time) | simopt_options(method, search)
        with progress_bar(f"optimizing ({method})", enabled=show) as update:
            result = optimize_network(
                net, method, budget=budget, time_limit=time_limit, sim=sim, progress=update,
                options=options,
            )  # fmt: skip
        if out is not None:
            save_policy(result.policy, out)
        demand_targets = {n.id: n.service for n in net.nodes if n.demand}
        ruled = order_rule_nodes(net) if method is not OptimizeMethod.SIMOPT else []
        checked = None
        if check or ruled:
            with progress_bar("checking in simulation", enabled=show) as update:
                checked = evaluate(net, result.policy, sim, update)
        if as_json:
            data = result.to_dict()
            data["network"] = net.name
            data["segments"] = {k: v.code for k, v in segments.items()}
            data["policy_file"] = str(out) if out else None
            data["order_rule_nodes"] = ruled
            if checked is not None:
                data["check"] = checked.to_dict()
            typer.echo(json.dumps(data, indent=2))
            return
        console.print(result_table(result, segments))
        console.print(summary_line(result, net.currency))
        if method is OptimizeMethod.SIMOPT and any(
            d.echelon_base_stock is not None and d.base_stock_level is not None
            for d in result.nodes.values()
        ):
            console.print(
                "[dim]levels: installation base-stock l_j (ech. E_j = l_j + Σ_downstream a·E_k, "
                "the echelon of j and everything below it); both are in the policy file's "
                "metadata (installation_levels, echelon_levels)[/]"
            )
        if ruled:
            console.print(
                f"[yellow]{method} ignores order rules (MOQ, lot multiple, capacity) at "
                f"{', '.join(ruled[:8])}{' …' if len(ruled) > 8 else ''}; the simulator rounds "
                "those orders, so the service below is re-checked with them.[/]"
            )
        if checked is not None:
            console.print(check_table(checked, demand_targets))
            console.print(
                f"simulated cost per period {fmt_est(checked.cost_per_period, 3)} "
                f"({checked.replications} reps × {checked.periods} periods, seed {seed})"
            )
        if out is not None:
            console.print(f"[dim]policy written to {out}; simulate it with "
                          f"`echelon simulate {network} --policy {out}`[/]")  # fmt: skip

    @app.command("compare")
    def compare_cmd(
        network: Path = typer.Argument(..., help="network file: YAML/JSON, Willems or edge list"),
        method: OptimizeMethod = typer.Option(
            OptimizeMethod.GSM, "--method", "-m", help="the multi-echelon method to compare"
        ),
        targets: Path | None = typer.Option(
            None, "--targets", help="service targets per ABC/XYZ segment (YAML/JSON)"
        ),
        time_limit: float = typer.Option(60.0, "--time-limit", help="seconds (GSM MIP)"),
        periods: int = typer.Option(2000, "--periods", "-T", help="simulated periods"),
        reps: int = typer.Option(100, "--reps", "-R", help="replications"),
        seed: int = typer.Option(0, "--seed", "-s", help="random seed (same for both policies)"),
        warmup: int = typer.Option(100, "--warmup", "-W", help="warm-up periods"),
        match: bool | None = typer.Option(
            None,
            "--match-service/--no-match-service",
            help="adjust the multi-echelon levels by simulation so every demand node keeps at "
            "least the baseline's fill rate (default: networks up to 200 nodes)",
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Single-echelon baseline vs multi-echelon policy, side by side in simulation."""
        net, _ = _network_with_targets(network, targets)
        sim = _sim(periods, reps, seed, warmup)
        show = not as_json and sys.stderr.isatty()
        with progress_bar("optimizing and simulating", enabled=show) as update:
            meio = optimize_network(net, method, time_limit=time_limit, sim=sim, progress=update)
            cmp = compare_with_single_echelon(net, meio, sim, update, match)
        if as_json:
            typer.echo(json.dumps(cmp.to_dict(), indent=2))
            return
        console.print(comparison_table(cmp, net.currency))
        if cmp.matched and cmp.placed is not None and cmp.placed_sim is not None:
            ps = cmp.placed_sim
            console.print(
                f"[dim]{cmp.placed.method} policy as placed: inventory value "
                f"{fmt(ps.inventory_value, 0)}, fill rate {fmt_est(ps.fill_rate, 2, pct=True)}; "
                "levels then matched to the baseline's fill rate at every demand node by "
                "simulation-optimization (search on independent random numbers)[/]"
            )
        saving = cmp.saving
        if saving is not None:
            kept = "kept" if cmp.service_kept else "NOT kept"
            console.print(
                f"inventory value saving: [bold]{saving:.1%}[/] "
                f"({fmt(cmp.base_sim.inventory_value, 0)} → {fmt(cmp.meio_sim.inventory_value, 0)}"
                f" {net.currency}); fill rate at every demand node {kept}"
            )
