"""The self-contained HTML report of a plan run.

One file, no network request: plotly.js is inlined once, the figures are JSON blocks drawn by
a few lines of script, the CSS is inline. Rendered with Jinja2 with autoescaping on, so every
user-provided string (names, messages, explanations) is escaped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

import echelon
from echelon.fileio import atomic_write_text
from echelon.plan.model import PlanResult, PolicyName
from echelon.report import charts, tables
from echelon.report import formatting as f

MAX_FAN_SERIES = 400  # fan charts embedded at most (the page grows ~4 kB per series)

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}


def template_environment(package: str, **filters: Any) -> jinja2.Environment:
    """A Jinja2 environment over ``package``'s templates: autoescaped, strict, with the
    report's number/money/percentage filters (``formatting``), ``policy`` and ``json`` (a
    figure embedded in a script block), plus ``filters``. The report and the workspace use it.
    Templates are compiled once (no check of their files at each use)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # packaged templates do not change while running: no stat per include
    )
    env.filters.update(
        num=f.num,
        units=f.units,
        money=f.money,
        pct=f.pct,
        pct_ci=f.pct_ci,
        days=f.days,
        turns=f.turns,
        yes_no=f.yes_no,
        policy=charts.policy_label,
        json=lambda obj: markupsafe.Markup(charts.script_json(obj)),
        **filters,
    )
    return env


@cache
def _environment() -> jinja2.Environment:
    return template_environment("echelon.report")


def run_figures(result: PlanResult) -> dict[str, Any]:
    """The network drawing and the stock-to-service curve of a run (None where it has none)."""
    return {
        "network_fig": charts.network_figure(
            result.network_nodes, result.network_lanes, result.placements, result.currency
        )
        if result.network_nodes
        else None,
        "curve_fig": charts.curve_figure(
            result.stock_to_service,
            result.kpis,
            result.currency,
            tables.common_target(result.placements),
        )
        if result.stock_to_service
        else None,
    }


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped with the ``plotly`` package (inlined in every report)."""
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # would end the inline <script> element early
        raise RuntimeError("the plotly.js bundle contains '</script' and cannot be inlined")
    return js


def report_context(result: PlanResult, max_fan_series: int = MAX_FAN_SERIES) -> dict[str, Any]:
    """Everything the template shows, computed from ``result`` (figures as dicts)."""
    fans = result.forecasts[:max_fan_series]
    pol = tables.policies(result)
    return {
        "r": result,
        "cur": result.currency,
        "tiles": tables.kpi_tiles(result),
        "policies": [pol[p] for p in PolicyName if p in pol],
        "exceptions": tables.sorted_exceptions(result.exceptions),
        "stores": tables.store_rows(result),
        "network_row": tables.network_row(result),
        "placements": tables.sorted_placements(result.placements),
        "parameters": tables.parameter_rows(result.parameters),
        "shadow_stores": tables.shadow_stores(result.shadow.kpis) if result.shadow else [],
        "fans": fans,
        "fans_left_out": len(result.forecasts) - len(fans),
        **run_figures(result),
        "fan_figs": [charts.fan_figure(s, result.period_days) for s in fans],
        "plotly_config": PLOTLY_CONFIG,
        "version": echelon.__version__,
    }


def render_report(result: PlanResult, max_fan_series: int = MAX_FAN_SERIES) -> str:
    """The report of ``result`` as one self-contained HTML document (plotly.js inlined); the
    same result and echelon version give the same bytes."""
    template = _environment().get_template("report.html.j2")
    return template.render(plotly_js=plotly_js(), **report_context(result, max_fan_series))


def write_report(
    result: PlanResult, path: str | Path, max_fan_series: int = MAX_FAN_SERIES
) -> Path:
    """Render the report of ``result`` and write it atomically to ``path``; returns the path."""
    path = Path(path)
    atomic_write_text(path, render_report(result, max_fan_series))
    return path
