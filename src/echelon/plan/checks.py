"""Checks of a plan's network against the plan: ids the plan can carry, lead times it can
simulate (docs/plan-data.md, "What stops the run").

- :func:`check_node_ids` — a node id with a control character (tab, escape, the unit separator
  ``\\x1f`` the forecasts join ids with …) or the reserved name ``external`` (the external
  supplier's name in lead_times.csv and in recommendation keys) is an error;
- :func:`check_lead_times` — a lead time (network.yaml, or a lead-time observation converted to
  periods) longer than the simulated horizon ``sim_periods`` is an error: no unit ordered in
  the simulation would arrive, so every KPI would be meaningless.
"""

from __future__ import annotations

import math

import pandas as pd

from echelon.errors import DataError
from echelon.network.model import Network
from echelon.plan.cells import control_characters, rows_error
from echelon.plan.context import EXTERNAL
from echelon.plan.model import PlanConfig


def check_node_ids(network: Network, source: str) -> None:
    """Raise on a node id the plan cannot carry (module doc)."""
    for node in network.nodes:
        if control_characters(node.id):
            raise DataError(
                "control character in a node id",
                source=source,
                where=f"node {node.id!a}",
                field="id",
                expected="an id of printable characters",
                found=ascii(node.id),
                fix="remove the control characters (tabs, escapes, separators) from the id",
            )
        if node.id == EXTERNAL:
            raise DataError(
                "reserved node id",
                source=source,
                where=f"node '{node.id}'",
                field="id",
                expected=f"an id other than '{EXTERNAL}' (the external supplier's name)",
                found=f"'{node.id}'",
                fix=f"rename the node (e.g. '{EXTERNAL}_dc')",
            )


def _network_lead_times(network: Network) -> list[tuple[str, float]]:
    """(where, mean lead time in periods) of every lane and external supplier."""
    out = [
        (f"lane {lane.source} -> {lane.target}", network.lane_lead_time(lane).mean())
        for lane in network.lanes
    ]
    out += [(f"node '{n.id}'", n.lead_time.mean()) for n in network.nodes if n.external_supplier]
    return out


def check_lead_times(
    network: Network,
    observations: pd.DataFrame | None,
    config: PlanConfig,
    *,
    network_source: str,
    observations_source: str,
) -> None:
    """Raise on a lead time longer than ``config.sim_periods`` periods (module doc)."""
    limit = config.sim_periods
    fix = "correct the lead time, or raise sim_periods in plan.yaml above it"
    for where, mean in _network_lead_times(network):
        if not math.isfinite(mean) or mean > limit:
            raise DataError(
                "lead time longer than the simulated horizon",
                source=network_source,
                where=where,
                field="lead_time",
                expected=f"at most sim_periods = {limit} periods (plan.yaml)",
                found=f"{mean:g} periods",
                fix=fix,
            )
    if observations is None or observations.empty:
        return
    days = observations["lead_time_days"]
    long = days.index[(days > limit * config.period_days).to_numpy()]
    if len(long):
        raise rows_error(
            "lead time longer than the simulated horizon",
            long,
            lambda i: f"{days.at[i]:g} days",
            source=observations_source,
            field="lead_time_days",
            expected=f"at most sim_periods × period_days = {limit * config.period_days} days",
            fix=fix,
        )
