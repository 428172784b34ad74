"""Rich rendering helpers shared by the CLI commands.

Data (ids, names, comments from the user's files or the database) is printed through
:func:`plain`: Rich markup is escaped (``[red]`` prints as typed), emoji codes stay literal (the
consoles are built with ``emoji=False``, so a key like ``S:a:1`` prints as ``S:a:1`` and can be
pasted into ``echelon approve``) and control characters — ANSI escape sequences included — are
shown as ``\\x1b``-style escapes instead of reaching the terminal.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:  # kept out of every command's start-up (numba, scipy)
    from echelon.sim.results import Estimate, SimulationResult

console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)

# C0 controls (tab and newline included: an id holds none), DEL, C1 controls, and the Unicode
# bidirectional overrides that can make printed text read differently from what it is
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with every control character shown as a Python-style escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def plain(value: object) -> str:
    """``value`` as text that Rich prints literally: no markup, no emoji, no control codes."""
    from rich.markup import escape

    return escape(escape_controls(str(value)))


def fmt(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "—"
    return f"{x:,.{digits}f}"


def fmt_est(e: Estimate, digits: int = 2, pct: bool = False) -> str:
    if e.mean is None or math.isnan(e.mean):
        return "—"
    scale = 100.0 if pct else 1.0
    unit = "%" if pct else ""
    text = f"{e.mean * scale:,.{digits}f}{unit}"
    if e.ci95 is not None:
        text += f" ± {e.ci95 * scale:,.{digits}f}"
    return text


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr; yields ``update(done, total)``."""
    if not enabled:
        yield lambda done, total: None
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True, emoji=False),
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def simulation_tables(result: SimulationResult, currency: str = "") -> list[Table]:
    """The network summary table and the per-node KPI table."""
    cur = f" ({currency})" if currency else ""
    head = Table(
        title=f"Simulation of {plain(result.network)}", show_header=False, title_justify="left"
    )
    head.add_column("KPI")
    head.add_column("value", justify="right")
    head.add_row(
        "runs",
        f"{result.replications} reps × {result.periods} periods (warm-up {result.warmup}), "
        f"seed {result.seed}",
    )
    head.add_row(f"cost per period{cur}", fmt_est(result.cost_per_period))
    head.add_row("  holding (on hand)", fmt_est(result.holding_cost))
    head.add_row("  pipeline holding", fmt_est(result.pipeline_cost))
    head.add_row("  penalty", fmt_est(result.penalty_cost))
    head.add_row("  ordering", fmt_est(result.order_cost))
    head.add_row("fill rate at demand nodes", fmt_est(result.fill_rate, 2, pct=True))
    head.add_row(f"inventory value{cur}", fmt(result.inventory_value))
    nodes = Table(title="Per node (mean ± 95% CI half-width)", title_justify="left")
    for col in (
        "node",
        "cost/period",
        "fill rate",
        "CSL",
        "stockout",
        "on hand",
        "backorders",
        "lost",
        "turns/yr",
        "DoS",
        "value",
    ):
        nodes.add_column(col, justify="left" if col == "node" else "right")
    for n in result.nodes:
        nodes.add_row(
            plain(n.id) + (" *" if n.is_demand_node else ""),
            fmt_est(n.cost_per_period),
            fmt_est(n.fill_rate, 1, pct=True),
            fmt_est(n.cycle_service_level, 1, pct=True),
            fmt_est(n.stockout_frequency, 1, pct=True),
            fmt_est(n.avg_on_hand, 1),
            fmt_est(n.avg_backorders, 2),
            fmt_est(n.lost_sales, 2),
            fmt(n.inventory_turns, 1),
            fmt(n.days_of_supply, 1),
            fmt(n.inventory_value, 0),
        )
    nodes.caption = "* demand node; lost = units lost per period; DoS = days of supply"
    return [head, nodes]
