"""``echelon rl train`` and ``echelon rl evaluate``: deep RL agents against classical policies.

Training writes an agent folder (``agent.json`` + weights); evaluation runs the agent and a
classical policy on the same sample paths (common random numbers) or on a demand history, and
reports each KPI with its 95% CI and the paired deltas (docs/rl.md).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from echelon.cli.render import console, fmt, fmt_est, plain, progress_bar
from echelon.errors import InputError
from echelon.network.io import load_network
from echelon.network.model import Network
from echelon.rl.agent import OrderAgent
from echelon.rl.classical import CLASSICAL, PolicyAgent, classical_agent
from echelon.rl.evaluate import Evaluation, evaluate_agents, load_demand_history

ALGOS = ("ppo", "dpg")


def network_arg(spec: str) -> Network:
    """A network file, or the name of a benchmark instance (``echelon.rl.instances``)."""
    from echelon.rl.instances import INSTANCES

    if spec in INSTANCES and not Path(spec).exists():
        return INSTANCES[spec]()
    if not Path(spec).exists():
        raise InputError(
            "no such network file or benchmark instance",
            source=spec,
            expected="a network file or one of " + ", ".join(INSTANCES),
            found="neither",
            fix="check the path or the instance name",
        )
    return load_network(spec)


def train_agent(
    net: Network,
    algo: str,
    steps: int,
    seed: int,
    eval_every: int | None,
    progress: Any = None,
) -> OrderAgent:
    """Train ``algo`` (ppo | dpg) with its default configuration but ``steps``/``seed``."""
    if algo not in ALGOS:
        raise InputError(
            "unknown algorithm", field="algo", expected="ppo or dpg", found=repr(algo),
            fix="pass --algo ppo or --algo dpg",
        )  # fmt: skip
    if steps < 1:
        raise InputError("--steps must be >= 1", field="steps", found=str(steps))
    try:
        if algo == "ppo":
            from echelon.rl.ppo import PPOConfig, train_ppo

            over: dict[str, Any] = {"steps": steps, "seed": seed}
            if eval_every is not None:
                over["eval_every"] = eval_every
            return train_ppo(net, PPOConfig(**over), progress)
        from echelon.rl.dpg import DPGConfig, train_dpg

        cfg = DPGConfig(steps=steps, seed=seed)
        if eval_every is not None:  # DPG evaluates every k iterations of batch × horizon periods
            k = max(1, eval_every // (cfg.batch_size * cfg.horizon))
            cfg = cfg.model_copy(update={"eval_every": k})
        return train_dpg(net, cfg, progress)
    except ValidationError as exc:
        raise InputError(
            "invalid training setting", field="config",
            found=str(exc.errors()[0].get("msg", exc))[:120], fix="check --steps and --eval-every",
        ) from None  # fmt: skip


def vs_agent(spec: str, net: Network, seed: int) -> tuple[OrderAgent, dict[str, Any]]:
    """``--vs``: a policy file, or a classical policy name (searched with seed ``seed``)."""
    if spec in CLASSICAL and not Path(spec).exists():
        return classical_agent(net, spec, seed=seed)
    if not Path(spec).exists():
        raise InputError(
            "--vs is neither a policy file nor a classical policy",
            field="vs",
            expected=" | ".join(CLASSICAL) + " or a policy file",
            found=repr(spec),
            fix="name a classical policy or give an existing policy file",
        )
    from echelon.policies.io import check_policy, load_policy

    policy = load_policy(spec)
    check_policy(policy, net, source=spec)
    return PolicyAgent(policy, Path(spec).stem), {"method": "policy file", "file": spec}


def evaluation_table(ev: Evaluation, currency: str = "") -> Table:
    """Agents side by side: cost ± CI, paired delta vs the reference, service and stock."""
    cur = f" ({currency})" if currency else ""
    table = Table(
        title=f"{plain(ev.network)}: {ev.reps} reps × {ev.periods} periods (warm-up {ev.warmup}), "
        f"seed {ev.seed}{', demand history' if ev.demand_source else ''}; mean ± 95% CI",
        title_justify="left",
    )
    cols = [f"agent{cur}", "cost/period", f"Δ vs {ev.reference}", "gap", "fill rate", "Δ fill",
            "on hand", "lost/period", "backorders", "inv. value"]  # fmt: skip
    for c in cols:
        table.add_column(c, justify="left" if c.startswith("agent") else "right")
    for a in ev.agents:
        r = a.result
        gap = ev.gap(a.name)
        table.add_row(
            plain(a.name),
            fmt_est(a.cost, 3),
            "—" if a.name == ev.reference else fmt_est(a.delta, 3),
            "—" if gap is None or a.name == ev.reference else f"{gap:+.2%}",
            fmt_est(r.fill_rate, 2, pct=True),
            "—" if a.name == ev.reference else fmt_est(a.delta_fill_rate, 2, pct=True),
            fmt(sum(n.avg_on_hand.mean for n in r.nodes)),
            fmt(sum(n.lost_sales.mean for n in r.nodes), 3),
            fmt(sum(n.avg_backorders.mean for n in r.nodes), 3),
            fmt(r.inventory_value),
        )
    return table


def trace_table(ev: Evaluation, n: int) -> Table:
    """The first ``n`` periods' decisions of replication 0: anchor order and the deviation."""
    table = Table(
        title=f"shadow mode, replication 0: orders (units) vs the anchor {plain(ev.reference)}",
        title_justify="left",
    )
    for c in ("agent", "period", "node", "anchor order", "agent order", "deviation"):
        table.add_column(c, justify="left" if c in ("agent", "node") else "right")
    for row in ev.trace:
        if row.period < n:
            table.add_row(plain(row.agent), str(row.period), plain(row.node), fmt(row.anchor),
                          fmt(row.order), f"{row.deviation:+,.2f}")  # fmt: skip
    return table


def register(app: typer.Typer) -> None:
    rl = typer.Typer(help="Deep reinforcement learning agents, judged against classical policies.",
                     no_args_is_help=True)  # fmt: skip
    app.add_typer(rl, name="rl")

    @rl.command("train")
    def train_cmd(
        network: str = typer.Argument(..., help="network file or instance (e.g. zipkin-p9-L4)"),
        algo: str = typer.Option("ppo", "--algo", "-a", help="ppo | dpg"),
        steps: int = typer.Option(300_000, "--steps", help="environment periods in training"),
        out: Path = typer.Option(..., "--out", "-o", help="folder to write the agent to"),
        seed: int = typer.Option(0, "--seed", "-s", help="training seed"),
        eval_every: int | None = typer.Option(
            None, "--eval-every", help="periods between evaluations (default: the algorithm's)"
        ),
    ) -> None:
        """Train an agent on NETWORK and save it to --out."""
        net = network_arg(network)
        if out.exists() and not out.is_dir():
            raise InputError("--out must be a folder", source=str(out), found="a file",
                             fix="pass a folder path")  # fmt: skip
        show = sys.stderr.isatty()
        t0 = time.perf_counter()
        bar = Progress(
            TextColumn(f"[bold]training {algo}"), BarColumn(), TextColumn("{task.completed:,}"),
            TextColumn("/ {task.total:,} periods"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=True, disable=not show,
        )  # fmt: skip
        with bar:
            task = bar.add_task("train", total=steps)

            def progress(done: int, info: dict[str, float]) -> None:
                bar.update(task, completed=min(done, steps))
                if "eval_cost" in info:
                    bar.console.print(
                        f"steps {done:>12,}: evaluation cost {info['eval_cost']:,.4f} per period "
                        f"({time.perf_counter() - t0:,.0f} s)"
                    )

            agent = train_agent(net, algo, steps, seed, eval_every, progress)
        agent.save(out)  # type: ignore[attr-defined]
        console.print(
            f"trained {plain(algo)} on {plain(net.name)}: {steps:,} periods in "
            f"{time.perf_counter() - t0:,.1f} s; agent written to {plain(out)}\n"
            f"[dim]evaluate it: echelon rl evaluate {plain(out)} --vs best-base-stock[/]"
        )

    @rl.command("evaluate")
    def evaluate_cmd(
        agent_dir: Path = typer.Argument(..., help="agent folder written by `echelon rl train`"),
        vs: str = typer.Option(
            ..., "--vs", help="policy file or " + " | ".join(CLASSICAL) + " (the reference)"
        ),
        periods: int = typer.Option(1000, "--periods", "-T", help="periods counted per rep"),
        reps: int = typer.Option(100, "--reps", "-R", help="replications (sample paths)"),
        seed: int = typer.Option(12345, "--seed", "-s", help="evaluation seed (≠ training)"),
        warmup: int = typer.Option(100, "--warmup", "-W", help="warm-up periods"),
        demand: Path | None = typer.Option(
            None, "--demand", help="replay a demand history (node,period,demand or unique_id,ds,y)"
        ),
        trace: int = typer.Option(10, "--trace", help="periods of per-decision trace shown"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Run AGENT and a classical policy on the same sample paths; KPI deltas with CIs."""
        from echelon.rl.store import load_agent

        if trace < 0:
            raise InputError("--trace must be >= 0", field="trace", found=str(trace))
        agent = load_agent(agent_dir)
        net: Network = agent.net  # type: ignore[attr-defined]
        history = load_demand_history(demand, net) if demand is not None else None
        show = not as_json and sys.stderr.isatty()
        with progress_bar(f"preparing {vs}", enabled=show):
            ref, info = vs_agent(vs, net, seed=seed + 1)
        with progress_bar("evaluating", enabled=show) as update:
            ev = evaluate_agents(
                net, [ref, agent], None if history is not None else periods, reps, seed, warmup,
                history, trace_periods=trace, progress=update,
            )  # fmt: skip
        notes = _notes(agent, seed)
        if as_json:
            data = ev.to_dict() | {"reference_info": _clean(info), "notes": notes}
            typer.echo(json.dumps(data, indent=2))
            return
        console.print(evaluation_table(ev, net.currency))
        if trace > 0 and ev.trace:
            console.print(trace_table(ev, trace))
        for note in notes:
            console.print(f"[yellow]{plain(note)}[/]")
        console.print(
            f"[dim]{plain(ev.reference)}: {plain(json.dumps(_clean(info)))}; {ev.seconds:.1f} s[/]"
        )


def _notes(agent: OrderAgent, seed: int) -> list[str]:
    config = getattr(agent, "config", None)
    if config is not None and getattr(config, "seed", None) == seed:
        return [f"the evaluation seed {seed} is the training seed: pick another to judge the "
                "agent on sample paths it has not seen"]  # fmt: skip
    return []


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
