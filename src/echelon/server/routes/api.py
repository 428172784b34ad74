"""The REST API ``/api/v1`` for machine clients (an ERP, scripts): bearer API tokens
(``echelon users token NAME``) or the browser session (then with the CSRF header on POST).
Errors are JSON ``{"detail": ...}``: 401 without authentication, 403 for a role that may not,
404 for an unknown run, 409 for a change the review rules refuse, 422 for a bad request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from echelon.server import auth, workspace
from echelon.storage import export_records, set_status
from echelon.storage.overrides import override_quantity
from echelon.storage.review import Action, export_csv
from echelon.storage.rules import ApprovalRule, StoredRule, apply_rule, rules_of
from echelon.storage.users import APPROVE, EXPORT, OVERRIDE, READ, REJECT, User

router = APIRouter(prefix="/api/v1", tags=["v1"])

Reader = Annotated[User, Depends(auth.allow(READ))]
RunPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="the run's id")]


class Health(BaseModel):
    status: str


class RunOut(BaseModel):
    id: int
    name: str
    created_at: str
    as_of: str
    currency: str
    saving: float | None
    service_met: bool | None
    n_recommendations: int
    n_exceptions: int
    statuses: dict[str, int]
    review_progress: float


class RecommendationOut(BaseModel):
    key: str
    kind: str
    item: str
    location: str
    source: str | None
    quantity: float = Field(description="units, the planner's override where there is one")
    planned_quantity: float
    unit_cost: float
    value: float
    arrival: str | None
    status: str
    override_reason: str | None
    explanation: str


class ExceptionOut(BaseModel):
    kind: str
    severity: str
    message: str
    item: str | None
    location: str | None
    value: float | None


class Decision(BaseModel):
    keys: list[Annotated[str, Field(min_length=1, max_length=400)]] = Field(min_length=1)
    comment: str | None = Field(default=None, max_length=2000)


class OverrideIn(BaseModel):
    key: str = Field(min_length=1, max_length=400)
    quantity: float = Field(ge=0, le=1e12)
    reason: str = Field(min_length=1, max_length=2000)


class Changed(BaseModel):
    changed: list[str]


RecKind = Literal["order", "transfer", "expedite"]


class RuleIn(BaseModel):
    max_value: float = Field(ge=0, le=1e15, description="money, the run's currency")
    kinds: list[RecKind] = Field(default=["order"], min_length=1, max_length=3)
    no_exception: bool = True


class RuleOut(BaseModel):
    id: int
    max_value: float
    kinds: list[str]
    no_exception: bool
    set_by: str
    at: str
    approved: int
    changed: list[str] = Field(default_factory=list, description="keys approved (on POST)")


def _rule_out(s: StoredRule, changed: list[str] | None = None) -> RuleOut:
    return RuleOut(
        id=s.id, max_value=s.rule.max_value, kinds=list(s.rule.kinds),
        no_exception=s.rule.no_exception, set_by=s.set_by, at=s.at.isoformat(),
        approved=s.approved, changed=changed or [],
    )  # fmt: skip


def _db(request: Request) -> str | None:
    return auth.settings(request).db


def _run_out(row: workspace.RunRow) -> RunOut:
    r = row.run
    return RunOut(
        id=r.id, name=r.name, created_at=r.created_at, as_of=r.as_of, currency=r.currency,
        saving=r.saving, service_met=r.service_met, n_recommendations=r.n_recommendations,
        n_exceptions=r.n_exceptions, statuses=r.statuses, review_progress=row.progress,
    )  # fmt: skip


@router.get("/health")
def health() -> Health:
    return Health(status="ok")


@router.get("/runs")
def runs(request: Request, user: Reader) -> list[RunOut]:
    return [_run_out(r) for r in workspace.runs_overview(_db(request))]


@router.get("/runs/{run_id}")
def run_detail(request: Request, run_id: RunPath, user: Reader) -> dict[str, Any]:
    """The whole stored plan result (current statuses), as ``echelon plan --json`` writes it."""
    result, _ = workspace.recommendation_rows(_db(request), run_id)
    return result.model_dump(mode="json")


@router.get("/runs/{run_id}/recommendations")
def recommendations(request: Request, run_id: RunPath, user: Reader) -> list[RecommendationOut]:
    _, rows = workspace.recommendation_rows(_db(request), run_id)
    return [_rec_out(r) for r in rows]


def _rec_out(r: workspace.RecRow) -> RecommendationOut:
    rec = r.rec
    return RecommendationOut(
        key=rec.key, kind=rec.kind.value, item=rec.item, location=rec.location,
        source=rec.source, quantity=r.quantity, planned_quantity=rec.quantity,
        unit_cost=rec.unit_cost, value=r.value,
        arrival=rec.arrival.isoformat() if rec.arrival else None, status=rec.status.value,
        override_reason=r.override.reason if r.override else None,
        explanation=rec.explanation.summary,
    )  # fmt: skip


@router.get("/runs/{run_id}/exceptions")
def exceptions(request: Request, run_id: RunPath, user: Reader) -> list[ExceptionOut]:
    _, rows = workspace.worklist(_db(request), run_id)
    return [ExceptionOut(**r.exc.model_dump(mode="json")) for r in rows]


@router.post("/runs/{run_id}/recommendations/approve")
def approve(
    request: Request,
    run_id: RunPath,
    body: Decision,
    user: Annotated[User, Depends(auth.allow(APPROVE))],
) -> Changed:
    return _decide(request, run_id, body, user, "approve")


@router.post("/runs/{run_id}/recommendations/reject")
def reject(
    request: Request,
    run_id: RunPath,
    body: Decision,
    user: Annotated[User, Depends(auth.allow(REJECT))],
) -> Changed:
    return _decide(request, run_id, body, user, "reject")


def _decide(request: Request, run_id: int, body: Decision, user: User, action: Action) -> Changed:
    """Approve or reject the keys of ``body`` as ``user`` (the route has checked the role)."""
    changed = set_status(_db(request), run_id, body.keys, action, user.name, body.comment)
    return Changed(changed=changed)


@router.post("/runs/{run_id}/recommendations/override")
def override(
    request: Request,
    run_id: RunPath,
    body: OverrideIn,
    user: Annotated[User, Depends(auth.allow(OVERRIDE))],
) -> Changed:
    override_quantity(_db(request), run_id, body.key, body.quantity, body.reason, user.name)
    return Changed(changed=[body.key])


@router.get("/runs/{run_id}/rules")
def rules(request: Request, run_id: RunPath, user: Reader) -> list[RuleOut]:
    """The auto-approval rules applied to the run, oldest first."""
    return [_rule_out(s) for s in rules_of(_db(request), run_id)]


@router.post("/runs/{run_id}/rules")
def add_rule(
    request: Request,
    run_id: RunPath,
    body: RuleIn,
    user: Annotated[User, Depends(auth.allow(APPROVE))],
) -> RuleOut:
    """Apply an auto-approval rule: the proposed recommendations of ``kinds`` worth at most
    ``max_value`` (and, with ``no_exception``, without an exception on their item × location)
    are approved, each audited as the rule's decision."""
    rule = ApprovalRule(body.max_value, tuple(dict.fromkeys(body.kinds)), body.no_exception)
    stored, changed = apply_rule(_db(request), run_id, rule, user.name)
    return _rule_out(stored, changed)


@router.post(
    "/runs/{run_id}/export",
    responses={200: {"content": {"text/csv": {}}, "description": "the exported orders"}},
)
def export(
    request: Request,
    run_id: RunPath,
    user: Annotated[User, Depends(auth.allow(EXPORT))],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """The approved orders (JSON records or the ERP CSV), marked exported in the same
    transaction; 409 when none is approved."""
    records = export_records(
        _db(request), run_id, user.name, f"exported through the API ({format})"
    )
    if format == "csv":
        return Response(export_csv(records), media_type="text/csv; charset=utf-8")
    import json

    return Response(json.dumps(records), media_type="application/json")
