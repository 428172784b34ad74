"""Pages: login / logout, health, the runs list, a run's dashboard, the audit log, users."""

from __future__ import annotations

import logging
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse

from echelon.server import auth, workspace
from echelon.server.web import redirect, render, safe_next
from echelon.storage.users import (
    READ,
    USERS,
    User,
    authenticate,
    list_users,
    login_events,
    record_login,
)

router = APIRouter(include_in_schema=False)
log = logging.getLogger("echelon.server")

Reader = Annotated[User, Depends(auth.allow(READ))]


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@cache
def _plotly() -> str:
    from echelon.report.html import plotly_js

    return plotly_js()


@router.get("/vendor/plotly.min.js")
def plotly_bundle() -> Response:
    """plotly.js from the installed ``plotly`` package (its MIT licence is in the bundle)."""
    return Response(
        _plotly(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    session = auth.read_session(request)
    if session is not None:
        return render(request, "login.html.j2", next=safe_next(next), error="")
    cookie, token = auth.new_session(request, None)
    response = render(request, "login.html.j2", csrf=token, next=safe_next(next), error="")
    response.set_cookie(auth.SESSION_COOKIE, cookie, **auth.cookie_options(request))
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    session = auth.read_session(request)
    if session is None:
        raise auth.Forbidden("the login form expired: reload the page")
    await auth.check_csrf(request, session)
    throttle = auth.settings(request).throttle
    key = (name.strip(), request.client.host if request.client else "")
    if throttle.blocked(key):
        log.warning("login throttled for %r from %s", key[0], key[1])
        return render(request, "login.html.j2", 429, next=safe_next(next),
                      error="Too many failed logins: wait a few minutes.")  # fmt: skip
    db = auth.settings(request).db
    user = authenticate(db, name, password)
    if user is None:
        throttle.failed(key)
        record_login(db, name.strip() or "(empty)", "failed", key[1])
        log.info("failed login for %r", name[:200])
        return render(request, "login.html.j2", 401, next=safe_next(next),
                      error="Wrong name or password.")  # fmt: skip
    record_login(db, user.name, "login", key[1])
    log.info("login: %s (%s)", user.name, user.role)
    cookie, _ = auth.new_session(request, user.id)  # a new CSRF token at each login
    response = redirect(safe_next(next))
    response.set_cookie(auth.SESSION_COOKIE, cookie, **auth.cookie_options(request))
    return response


@router.post("/logout")
def logout(request: Request, user: Reader) -> Response:
    client = request.client.host if request.client else ""
    record_login(auth.settings(request).db, user.name, "logout", client)
    response = redirect("/login")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request, user: Reader) -> Response:
    rows = workspace.runs_overview(auth.settings(request).db)
    return render(request, "runs.html.j2", rows=rows)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def dashboard_page(request: Request, run_id: int, user: Reader) -> Response:
    view = workspace.dashboard(auth.settings(request).db, run_id)
    return render(request, "dashboard.html.j2", run_id=run_id, **view)


@router.get("/runs/{run_id}/audit", response_class=HTMLResponse)
def audit_page(request: Request, run_id: int, user: Reader) -> Response:
    rows = workspace.audit_rows(auth.settings(request).db, run_id)
    return render(request, "audit.html.j2", run_id=run_id, rows=rows)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: Annotated[User, Depends(auth.allow(USERS))]) -> Response:
    db = auth.settings(request).db
    return render(request, "users.html.j2", users=list_users(db), logins=login_events(db))
