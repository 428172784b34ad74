"""What the planner's workspace shows and does, computed from the run store — the service the
pages and the API call (routes only parse the request and render; no business logic there).

Everything is read through :mod:`echelon.storage` (runs, statuses, overrides, audit) and laid
out with :mod:`echelon.report` (tiles, tables, figures), exactly as the CLI and the static
report do.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from echelon.plan.model import (
    ExceptionKind,
    Placement,
    PlanException,
    PlanResult,
    PolicyName,
    Recommendation,
    RecommendationStatus,
    Severity,
    exception_order,
)
from echelon.report import charts, tables
from echelon.report.html import run_figures
from echelon.storage import audit_log, list_runs, load_run
from echelon.storage.overrides import ReviewedRecommendation, reviewed
from echelon.storage.runs import RunSummary, run_key

if TYPE_CHECKING:
    from echelon.monitor.report import MonitoringView

DB = str | None
T = TypeVar("T")
SORTS = ("severity", "kind", "item", "location")


@dataclass(frozen=True)
class RunRow:
    run: RunSummary
    decided: int  # approved + rejected + exported
    progress: float  # decided / recommendations (1.0 for a run without any)


RecRow = ReviewedRecommendation


@dataclass(frozen=True)
class ExceptionRow:
    index: int  # position in the run's exception list (stable id for the page)
    exc: PlanException
    n_recommendations: int  # linked recommendations (same item and location)


@dataclass
class CellView:
    """One item × location: its placement, recommendations and exceptions."""

    item: str
    location: str
    placement: Placement | None
    recommendations: list[RecRow] = field(default_factory=list)
    exceptions: list[PlanException] = field(default_factory=list)
    fan_fig: dict[str, Any] | None = None  # history, forecast bands and actuals

    @property
    def position(self) -> float | None:
        """Today's inventory position (units) as the plan saw it, from its recommendations."""
        return next(
            (r.rec.inventory_position for r in self.recommendations
             if r.rec.inventory_position is not None),
            None,
        )  # fmt: skip


def runs_overview(db: DB) -> list[RunRow]:
    """Every stored run, newest first, with its review progress."""
    rows = []
    for r in list_runs(db):
        decided = sum(r.statuses.get(s, 0) for s in ("approved", "rejected", "exported"))
        total = r.n_recommendations
        rows.append(RunRow(r, decided, decided / total if total else 1.0))
    return rows


#: a dashboard's tables and figures by (database, run id, run key, creation time): they depend
#: on the stored result only (not on the statuses), which never changes
_DASHBOARDS: OrderedDict[tuple[str, int, str, str], dict[str, Any]] = OrderedDict()
_DASHBOARDS_MAX = 16
_DASHBOARDS_LOCK = threading.Lock()


def dashboard(db: DB, run_id: int) -> dict[str, Any]:
    """The dashboard of a run: tiles, the policy comparison, shadow mode and two figures."""
    result = load_run(db, run_id)
    key = (str(db), run_id, run_key(result), result.created_at)
    with _DASHBOARDS_LOCK:
        view = _DASHBOARDS.get(key)
    if view is None:
        pol = tables.policies(result)
        view = {
            "tiles": tables.kpi_tiles(result),
            "policies": [pol[p] for p in PolicyName if p in pol],
            "stores": tables.store_rows(result),
            "network_row": tables.network_row(result),
            "shadow_stores": tables.shadow_stores(result.shadow.kpis) if result.shadow else [],
            **run_figures(result),
        }
        with _DASHBOARDS_LOCK:
            _DASHBOARDS[key] = view
            while len(_DASHBOARDS) > _DASHBOARDS_MAX:
                _DASHBOARDS.popitem(last=False)
    return {"r": result, **view}


def _linked(result: PlanResult, item: str | None, location: str | None) -> list[Recommendation]:
    if item is None or location is None:
        return []
    return [r for r in result.recommendations if r.item == item and r.location == location]


def worklist(
    db: DB,
    run_id: int,
    severity: str = "",
    kind: str = "",
    item: str = "",
    location: str = "",
    sort: str = "severity",
) -> tuple[PlanResult, list[ExceptionRow]]:
    """The run's exceptions filtered (exact severity / kind, substring of item / location)
    and sorted (severity first by default, the CLI's order)."""
    result = load_run(db, run_id)
    rows = [
        ExceptionRow(i, e, len(_linked(result, e.item, e.location)))
        for i, e in enumerate(result.exceptions)
        if (not severity or e.severity.value == severity)
        and (not kind or e.kind.value == kind)
        and (not item or item.lower() in (e.item or "").lower())
        and (not location or location.lower() in (e.location or "").lower())
    ]
    rows.sort(key=lambda r: exception_order(r.exc))
    if sort in ("kind", "item", "location"):
        rows.sort(key=lambda r: str(getattr(r.exc, sort) or ""))
    return result, rows


def filter_choices() -> dict[str, list[str]]:
    return {
        "severities": [s.value for s in Severity],
        "kinds": [k.value for k in ExceptionKind],
        "sorts": list(SORTS),
        "statuses": [s.value for s in RecommendationStatus],
    }


def recommendation_rows(db: DB, run_id: int) -> tuple[PlanResult, list[RecRow]]:
    """The run's recommendations in plan order, with current status and override."""
    return reviewed(db, run_id)


#: rows per page of the recommendations list (cards) and of the exceptions worklist
REC_PAGE_SIZE = 10
EXC_PAGE_SIZE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its number (1-based), how many pages and rows in all."""

    rows: list[T]
    number: int
    pages: int
    total: int

    @property
    def next(self) -> int | None:
        """The next page's number (None on the last page)."""
        return self.number + 1 if self.number < self.pages else None


def page_of(rows: list[T], number: int, size: int) -> Page[T]:
    """Page ``number`` (1-based; past the end: the last page) of ``rows``, ``size`` a page."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    return Page(rows[(number - 1) * size : number * size], number, pages, len(rows))


def recommendation_page(
    db: DB,
    run_id: int,
    item: str = "",
    location: str = "",
    status: str = "",
    number: int = 1,
) -> tuple[PlanResult, Page[RecRow]]:
    """Page ``number`` of the run's recommendations in plan order, filtered (substring of item
    / location, exact status)."""
    result, rows = recommendation_rows(db, run_id)
    chosen = [
        r
        for r in rows
        if (not item or item.lower() in r.rec.item.lower())
        and (not location or location.lower() in r.rec.location.lower())
        and (not status or r.rec.status.value == status)
    ]
    return result, page_of(chosen, number, REC_PAGE_SIZE)


def recommendation_row(db: DB, run_id: int, key: str) -> RecRow | None:
    _, rows = recommendation_rows(db, run_id)
    return next((r for r in rows if r.rec.key == key), None)


def cell(db: DB, run_id: int, item: str, location: str) -> CellView:
    """The item × location of a run (an unknown pair gives an empty view)."""
    result, rows = recommendation_rows(db, run_id)
    placement = next(
        (p for p in result.placements if p.item == item and p.location == location), None
    )
    return CellView(
        item=item,
        location=location,
        placement=placement,
        recommendations=[r for r in rows if r.rec.item == item and r.rec.location == location],
        exceptions=sorted(
            (e for e in result.exceptions if e.item == item and e.location == location),
            key=exception_order,
        ),
        fan_fig=_fan(result, item, location),
    )


def _fan(result: PlanResult, item: str, location: str) -> dict[str, Any] | None:
    series = next((s for s in result.forecasts if s.item == item and s.location == location), None)
    return charts.fan_figure(series, result.period_days) if series else None


def audit_rows(db: DB, run_id: int) -> list[Any]:
    """Every audited change of the run, newest first."""
    return list(reversed(audit_log(db, run_id)))


def monitoring(db: DB, name: str | None) -> tuple[list[str], MonitoringView | None]:
    """The data store's dataset names and the monitoring view of ``name`` (default: the first
    one; None when the store holds none); an unknown name is an error (404)."""
    from echelon.errors import InputError
    from echelon.monitor.report import monitoring_view
    from echelon.storage.datastore import datasets

    names = datasets(db)
    if name is None:
        return names, monitoring_view(db, names[0]) if names else None
    if name not in names:
        raise InputError("unknown dataset", field="name", expected=" | ".join(names) or "none",
                         found=repr(name[:100]))  # fmt: skip
    return names, monitoring_view(db, name)
