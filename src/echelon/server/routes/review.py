"""Review pages: the exceptions worklist, an item × location with its recommendations, the
recommendations list, and the actions (approve, reject, override, comment, export).

An action answers an HTMX request with the recommendation's card re-rendered (with the
outcome, or the refusal, as a message) and a plain form post with a redirect back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from echelon.server import auth, workspace
from echelon.server.web import is_htmx, page_url, redirect, render, safe_next
from echelon.storage import StorageError, export_records, set_status
from echelon.storage.overrides import add_comment, override_quantity
from echelon.storage.review import Action, export_csv
from echelon.storage.rules import KINDS, ApprovalRule, apply_rule, rules_of
from echelon.storage.users import APPROVE, COMMENT, EXPORT, OVERRIDE, READ, REJECT, User

router = APIRouter(include_in_schema=False)

Reader = Annotated[User, Depends(auth.allow(READ))]
Key = Annotated[str, Form(min_length=1, max_length=400)]
Text = Annotated[str, Form(max_length=2000)]
Back = Annotated[str, Form(max_length=2000)]
Filter = Annotated[str, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=10**6)]


def _db(request: Request) -> str | None:
    return auth.settings(request).db


@router.get("/runs/{run_id}/exceptions", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    run_id: int,
    user: Reader,
    severity: Filter = "",
    kind: Filter = "",
    item: Filter = "",
    location: Filter = "",
    sort: Filter = "severity",
    page: PageNumber = 1,
) -> Response:
    """A page of the worklist (HTMX: its rows and the next "load more" row only)."""
    result, rows = workspace.worklist(_db(request), run_id, severity, kind, item, location, sort)
    shown = workspace.page_of(rows, page, workspace.EXC_PAGE_SIZE)
    chosen = {"severity": severity, "kind": kind, "item": item, "location": location, "sort": sort}
    path = f"/runs/{run_id}/exceptions"
    context: dict[str, Any] = {
        "run_id": run_id, "page": shown, "page_size": workspace.EXC_PAGE_SIZE,
        "more_url": page_url(path, chosen, shown.next),
    }  # fmt: skip
    if is_htmx(request):
        return render(request, "_exc_rows.html.j2", **context)
    return render(
        request, "exceptions.html.j2", r=result, chosen=chosen,
        first_url=page_url(path, chosen, 1), choices=workspace.filter_choices(), **context,
    )  # fmt: skip


@router.get("/runs/{run_id}/cell", response_class=HTMLResponse)
def cell_page(request: Request, run_id: int, user: Reader, item: str, location: str) -> Response:
    view = workspace.cell(_db(request), run_id, item, location)
    template = "_cell.html.j2" if is_htmx(request) else "cell.html.j2"
    return render(request, template, run_id=run_id, cell=view, message="")


@router.get("/runs/{run_id}/recommendations", response_class=HTMLResponse)
def recommendations_page(
    request: Request,
    run_id: int,
    user: Reader,
    item: Filter = "",
    location: Filter = "",
    status: Filter = "",
    page: PageNumber = 1,
) -> Response:
    """A page of the recommendation cards (HTMX: the cards and the next "load more" only)."""
    result, shown = workspace.recommendation_page(
        _db(request), run_id, item, location, status, page
    )
    chosen = {"item": item, "location": location, "status": status}
    path = f"/runs/{run_id}/recommendations"
    context: dict[str, Any] = {
        "run_id": run_id, "page": shown, "page_size": workspace.REC_PAGE_SIZE,
        "filtered": any(chosen.values()), "more_url": page_url(path, chosen, shown.next),
    }  # fmt: skip
    if is_htmx(request):
        return render(request, "_recs.html.j2", **context)
    return render(
        request, "recommendations.html.j2", r=result, chosen=chosen,
        first_url=page_url(path, chosen, 1), statuses=workspace.filter_choices()["statuses"],
        rules=rules_of(_db(request), run_id), kinds=KINDS, **context,
    )  # fmt: skip


@router.post("/runs/{run_id}/rules")
def apply_rule_page(
    request: Request,
    run_id: int,
    user: Annotated[User, Depends(auth.allow(APPROVE))],
    max_value: Annotated[float, Form(ge=0, le=1e15)],
    kinds: Annotated[list[str], Form()] = ["order"],  # noqa: B006 (a FastAPI default)
    no_exception: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Apply an auto-approval rule (storage.rules) as ``user``; back to the list."""
    rule = ApprovalRule(max_value, tuple(dict.fromkeys(kinds)), bool(no_exception))
    apply_rule(_db(request), run_id, rule, user.name)
    return redirect(f"/runs/{run_id}/recommendations")


def _after(request: Request, run_id: int, key: str, back: str, act: Callable[[], str]) -> Response:
    """Run ``act`` (it returns the message to show); answer with the card or a redirect."""
    try:
        message, ok = act(), True
    except StorageError as exc:
        if not is_htmx(request):
            raise
        message, ok = exc.one_line(), False
    if not is_htmx(request):
        return redirect(safe_next(back) if back else f"/runs/{run_id}/recommendations")
    row = workspace.recommendation_row(_db(request), run_id, key)
    return render(request, "_rec.html.j2", run_id=run_id, row=row, message=message, ok=ok)


def _decide(
    request: Request, run_id: int, user: User, key: str, comment: str, back: str, action: Action
) -> Response:
    """Approve or reject ``key`` (``action``) as ``user``; the route has checked the role."""

    def act() -> str:
        set_status(_db(request), run_id, [key], action, user.name, comment or None)
        return f"{action}d by {user.name}"  # "approved by …", "rejected by …"

    return _after(request, run_id, key, back, act)


@router.post("/runs/{run_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request,
    run_id: int,
    user: Annotated[User, Depends(auth.allow(APPROVE))],
    key: Key,
    comment: Text = "",
    back: Back = "",
) -> Response:
    return _decide(request, run_id, user, key, comment, back, "approve")


@router.post("/runs/{run_id}/reject", response_class=HTMLResponse)
def reject(
    request: Request,
    run_id: int,
    user: Annotated[User, Depends(auth.allow(REJECT))],
    key: Key,
    comment: Text = "",
    back: Back = "",
) -> Response:
    return _decide(request, run_id, user, key, comment, back, "reject")


@router.post("/runs/{run_id}/override", response_class=HTMLResponse)
def override(
    request: Request,
    run_id: int,
    user: Annotated[User, Depends(auth.allow(OVERRIDE))],
    key: Key,
    quantity: Annotated[float, Form(ge=0, le=1e12)],
    reason: Text = "",
    back: Back = "",
) -> Response:
    def act() -> str:
        done = override_quantity(_db(request), run_id, key, quantity, reason, user.name)
        return f"quantity set to {done.quantity:g} by {user.name}"

    return _after(request, run_id, key, back, act)


@router.post("/runs/{run_id}/comment", response_class=HTMLResponse)
def comment(
    request: Request,
    run_id: int,
    user: Annotated[User, Depends(auth.allow(COMMENT))],
    key: Key,
    comment: Text = "",
    back: Back = "",
) -> Response:
    def act() -> str:
        add_comment(_db(request), run_id, key, comment, user.name)
        return f"comment saved by {user.name}"

    return _after(request, run_id, key, back, act)


@router.post("/runs/{run_id}/export")
def export(
    request: Request, run_id: int, user: Annotated[User, Depends(auth.allow(EXPORT))]
) -> Response:
    """The approved orders as a CSV download, marked exported in the same transaction."""
    records = export_records(_db(request), run_id, user.name, "exported from the workspace")
    return Response(
        export_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-orders.csv"'},
    )
