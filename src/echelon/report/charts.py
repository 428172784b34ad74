"""Plotly figures of the report, built as plain JSON-ready dicts (``{"data": [...], "layout":
{...}}``) so that no Python-side template is embedded and the page stays small.

Every user-provided string (item, location, model names) placed in a figure is HTML-escaped:
Plotly renders a subset of HTML in labels, so ``<b>`` in a name must show as text, not markup.
Money is in the run's currency; quantities in units; fill rates as fractions shown as %.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from echelon.plan.model import (
    CurvePoint,
    ForecastSeries,
    NetworkNode,
    Placement,
    PolicyKpis,
    PolicyName,
)

Figure = dict[str, Any]

POLICY_COLORS = {
    PolicyName.MEIO: "#1f77b4",
    PolicyName.SINGLE_ECHELON: "#ff7f0e",
    PolicyName.CURRENT: "#7f7f7f",
}
BAND_RGB = "31, 119, 180"
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}


def esc(text: object) -> str:
    """Escape a user string for a Plotly label (Plotly decodes the entities back to text)."""
    return html.escape(str(text), quote=False)


def policy_label(policy: PolicyName | str) -> str:
    """The policy's label (:attr:`PolicyName.label`; an unknown name as it is)."""
    try:
        return PolicyName(policy).label
    except ValueError:
        return str(policy)


def _finite(values: Iterable[float | None]) -> list[float | None]:
    """Values to 6 significant digits (a smaller page, no visible change); ``null`` (a gap in
    Plotly) where a value is missing or not finite."""
    return [
        None if v is None or not math.isfinite(float(v)) else float(f"{float(v):.6g}")
        for v in values
    ]


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "xanchor": "left"},
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 50, "b": 50},
        "font": _FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
    }
    base.update(extra)
    for axis in ("xaxis", "yaxis"):
        if axis in base:
            base[axis] = {"automargin": True, **base[axis]}
    return base


# ----------------------------------------------------------------------------- network
def node_positions(
    nodes: Sequence[NetworkNode], lanes: Sequence[tuple[str, str]]
) -> dict[str, tuple[float, float]]:
    """(x, y) per node: the run's own coordinates when they tell two or more nodes apart; else
    tiers as rows (highest tier on top, y = tier) and, within a row, nodes ordered by the mean
    position of their suppliers and spread evenly over [0, 1]."""
    given = {n.id: (n.x, n.y) for n in nodes}
    if len(nodes) > 1 and len(set(given.values())) == len(nodes):
        return given
    parents: dict[str, list[str]] = defaultdict(list)
    for src, dst in lanes:
        parents[dst].append(src)
    by_tier: dict[int, list[str]] = defaultdict(list)
    for n in nodes:
        by_tier[n.tier].append(n.id)
    x: dict[str, float] = {}
    for tier in sorted(by_tier, reverse=True):
        ids = by_tier[tier]

        def key(node: str, ids: list[str] = ids) -> tuple[float, int]:
            xs = [x[p] for p in parents.get(node, []) if p in x]
            return (sum(xs) / len(xs) if xs else 0.5, ids.index(node))

        ordered = sorted(ids, key=key)
        for i, node in enumerate(ordered):
            x[node] = (i + 0.5) / len(ordered)
    return {n.id: (x[n.id], float(n.tier)) for n in nodes}


def tier_name(tier: int) -> str:
    return "stores (tier 0)" if tier == 0 else f"tier {tier}"


def network_figure(
    nodes: Sequence[NetworkNode],
    lanes: Sequence[tuple[str, str]],
    placements: Sequence[Placement],
    currency: str,
) -> Figure:
    """The network, tiers as rows; marker size and colour = safety stock value per node
    (money, all items); hover lists the node's safety stock per item (units and money)."""
    pos = node_positions(nodes, lanes)
    line_x: list[float | None] = []
    line_y: list[float | None] = []
    for src, dst in lanes:
        if src in pos and dst in pos:
            line_x += [pos[src][0], pos[dst][0], None]
            line_y += [pos[src][1], pos[dst][1], None]
    per_node: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        per_node[p.location].append(p)
    values = [max(n.safety_stock_value, 0.0) for n in nodes]
    top = max(values, default=0.0) or 1.0
    hover = []
    for n in nodes:
        lines = [
            f"<b>{esc(n.id)}</b> · {tier_name(n.tier)}",
            f"safety stock value: {n.safety_stock_value:,.0f} {esc(currency)}",
        ]
        rows = sorted(per_node.get(n.id, []), key=lambda p: -p.safety_stock_value)
        for p in rows[:12]:
            lines.append(
                f"{esc(p.item)}: {p.safety_stock:,.1f} u ({p.safety_stock_value:,.0f}), "
                f"base stock {p.base_stock:,.1f}"
            )
        if len(rows) > 12:
            lines.append(f"… and {len(rows) - 12} more items")
        hover.append("<br>".join(lines))
    tiers = sorted({n.tier for n in nodes})
    lanes_trace = {
        "type": "scatter",
        "mode": "lines",
        "x": line_x,
        "y": line_y,
        "line": {"color": "#b0b0b0", "width": 1.5},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    nodes_trace = {
        "type": "scatter",
        "mode": "markers+text",
        "x": [pos[n.id][0] for n in nodes],
        "y": [pos[n.id][1] for n in nodes],
        "text": [esc(n.id) for n in nodes],
        "textposition": "bottom center",
        "hovertext": hover,
        "hoverinfo": "text",
        "showlegend": False,
        "marker": {
            "size": [14 + 36 * math.sqrt(v / top) for v in values],
            "color": values,
            "colorscale": "Viridis",
            "cmin": 0,
            "cmax": top,
            "opacity": 1,
            "line": {"color": "#333333", "width": 1},
            "colorbar": {
                "title": {"text": f"safety stock<br>value ({esc(currency)})"},
                "tickformat": ",.0f",
            },
        },
    }
    return {
        "data": [lanes_trace, nodes_trace],
        "layout": _layout(
            "Network: safety stock value per location (all items)",
            140 + 150 * max(len(tiers), 1),
            xaxis={"visible": False, **({"range": [-0.05, 1.05]} if _unit(pos) else {})},
            yaxis={
                "tickvals": tiers,
                "ticktext": [tier_name(t) for t in tiers],
                "range": [min(tiers, default=0) - 0.5, max(tiers, default=0) + 0.4],
                "showgrid": False,
                "zeroline": False,
            },
            margin={"l": 110, "r": 30, "t": 50, "b": 30},
        ),
    }


def _unit(pos: dict[str, tuple[float, float]]) -> bool:
    return all(0.0 <= x <= 1.0 for x, _ in pos.values())


# ----------------------------------------------------------------------------- curve
def curve_figure(
    points: Sequence[CurvePoint],
    kpis: Sequence[PolicyKpis],
    currency: str,
    target: float | None = None,
) -> Figure:
    """Stock-to-service curve: average inventory value (money) against fill rate, one line per
    policy, with each policy's projected operating point and the fill-rate target if one."""
    by_policy: dict[PolicyName, list[CurvePoint]] = defaultdict(list)
    for pt in points:
        by_policy[pt.policy].append(pt)
    data: list[dict[str, Any]] = []
    for policy, pts in by_policy.items():
        pts = sorted(pts, key=lambda p: p.fill_rate)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": esc(policy_label(policy)),
                "x": _finite(p.fill_rate for p in pts),
                "y": _finite(p.inventory_value for p in pts),
                "line": {"color": POLICY_COLORS.get(policy, "#2ca02c"), "width": 2},
                "hovertemplate": "fill rate %{x:.1%}<br>inventory value %{y:,.0f}"
                + f" {esc(currency)}<extra>{esc(policy_label(policy))}</extra>",
            }
        )
    for k in kpis:
        fr, iv = k.network.fill_rate, k.network.inventory_value
        if fr is None or iv is None:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{esc(policy_label(k.policy))} (projected)",
                "x": _finite([fr]),
                "y": _finite([iv]),
                "marker": {
                    "symbol": "diamond",
                    "size": 13,
                    "color": POLICY_COLORS.get(k.policy, "#2ca02c"),
                    "line": {"color": "#000000", "width": 1},
                },
                "hovertemplate": "fill rate %{x:.1%}<br>inventory value %{y:,.0f}"
                + f" {esc(currency)}<extra>{esc(policy_label(k.policy))}</extra>",
            }
        )
    shapes = []
    if target is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": target,
                "x1": target,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#d62728", "dash": "dot", "width": 1.5},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            "Stock to service: inventory value against fill rate"
            + (f" (dotted: target {100 * target:.1f}%)" if target is not None else ""),
            420,
            xaxis={"title": {"text": "fill rate"}, "tickformat": ".1%", "gridcolor": "#eeeeee"},
            yaxis={
                "title": {"text": f"average inventory value ({esc(currency)})"},
                "tickformat": ",.0f",
                "gridcolor": "#eeeeee",
                "rangemode": "tozero",
            },
            shapes=shapes,
            legend={"orientation": "h", "y": -0.2},
        ),
    }


# ----------------------------------------------------------------------------- fan charts
def quantile_bands(quantiles: dict[str, list[float]]) -> tuple[list[tuple[str, str]], list[str]]:
    """Pairs (lower, upper) of symmetric quantile levels, outermost first, and the levels that
    have no partner (drawn as lines; the median among them). Keys that are not a level strictly
    between 0 and 1 are left out."""
    levels = sorted((q for q in quantiles if _level(q) is not None), key=float)
    pairs: list[tuple[str, str]] = []
    used: set[str] = set()
    for lo in levels:
        if float(lo) >= 0.5 or lo in used:
            continue
        hi = next((q for q in levels if math.isclose(float(q), 1 - float(lo))), None)
        if hi is not None:
            pairs.append((lo, hi))
            used |= {lo, hi}
    return pairs, [q for q in levels if q not in used]


def _level(key: str) -> float | None:
    try:
        level = float(key)
    except ValueError:
        return None
    return level if 0 < level < 1 else None


def fan_figure(series: ForecastSeries, period_days: int) -> Figure:
    """Forecast fan chart of one item × location: history, quantile bands, mean, median and
    hold-out actuals (units per period of ``period_days`` days)."""
    ds = [d.isoformat() for d in series.ds]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "history",
            "x": [d.isoformat() for d in series.history_ds],
            "y": _finite(series.history),
            "line": {"color": "#444444", "width": 1.5},
        }
    ]
    pairs, singles = quantile_bands(series.quantiles)
    for i, (lo, hi) in enumerate(pairs):
        alpha = 0.15 + 0.25 * i / max(len(pairs), 1)
        label = f"{100 * float(lo):g}–{100 * float(hi):g}% interval"
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": ds,
                "y": _finite(series.quantiles[lo]),
                "line": {"width": 0, "color": f"rgba({BAND_RGB}, 0)"},
                "showlegend": False,
                "legendgroup": label,
                "name": f"q{lo}",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": ds,
                "y": _finite(series.quantiles[hi]),
                "fill": "tonexty",
                "fillcolor": f"rgba({BAND_RGB}, {alpha:.2f})",
                "line": {"width": 0, "color": f"rgba({BAND_RGB}, 0)"},
                "legendgroup": label,
                "name": label,
            }
        )
    for q in singles:
        median = math.isclose(float(q), 0.5)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "median" if median else f"{100 * float(q):g}% quantile",
                "x": ds,
                "y": _finite(series.quantiles[q]),
                "line": {"color": f"rgb({BAND_RGB})", "dash": "dot", "width": 1.5},
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "forecast mean",
            "x": ds,
            "y": _finite(series.mean),
            "line": {"color": f"rgb({BAND_RGB})", "width": 2.5},
        }
    )
    if any(a is not None for a in series.actual):
        data.append(
            {
                "type": "scatter",
                "mode": "markers+lines",
                "name": "actual (hold-out)",
                "x": ds[: len(series.actual)],
                "y": _finite(series.actual),
                "marker": {"color": "#d62728", "size": 7},
                "line": {"color": "#d62728", "width": 1, "dash": "dash"},
            }
        )
    model = f" · model {esc(series.model)}" if series.model else ""
    return {
        "data": data,
        "layout": _layout(
            f"{esc(series.item)} at {esc(series.location)}{model}",
            420,
            xaxis={"type": "date", "title": {"text": "period start"}, "gridcolor": "#eeeeee"},
            yaxis={
                "title": {"text": f"demand (units per {period_days}-day period)"},
                "tickformat": ",~g",
                "rangemode": "tozero",
                "gridcolor": "#eeeeee",
            },
            legend={"orientation": "h", "y": -0.2},
        ),
    }


# ----------------------------------------------------------------------------- embedding
def script_json(obj: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: strict (no NaN) and with ``<``,
    ``>``, ``&`` and the two JavaScript line separators escaped, so no string can end the
    script element."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text
