"""The planner's workspace: the FastAPI application behind ``echelon serve``.

:func:`create_app` assembles the pages (server-rendered Jinja2 with HTMX), the REST API under
``/api/v1`` (its OpenAPI schema at ``/api/v1/openapi.json``) and the static files shipped in
the package (htmx vendored, plotly.js served from the installed ``plotly`` package): nothing
is loaded from another site. Errors never show a stack trace to a web user: they get a page
(or JSON) with a reference id, and the trace goes to the server log under that id.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from echelon.errors import InputError
from echelon.server.auth import Forbidden, LoginRequired, Settings
from echelon.server.web import is_htmx, redirect, render

log = logging.getLogger("echelon.server")

STATIC = Path(__file__).parent / "static"

#: no script, style, font or image from anywhere but this server; no framing
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)


def create_app(
    db: str | None,
    secret: str | None = None,
    secure_cookies: bool = False,
    data_folders: dict[str, Path] | None = None,
    work_dir: Path | None = None,
) -> FastAPI:
    """The workspace over the run store ``db`` (a path or URL; None: the default).

    ``secret`` signs the session cookies (default: a random one, so sessions end when the
    server stops); ``secure_cookies``: send them over HTTPS only (behind a TLS proxy);
    ``data_folders``: data folders offered for what-if scenarios, by name; ``work_dir``: where
    uploaded data folders are unpacked (default: a new temporary folder)."""
    from echelon.server.routes import api, jobs, pages, review

    app = FastAPI(
        title="echelon planner's workspace API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: off
        redoc_url=None,
    )
    app.state.settings = Settings(
        db, secret or secrets.token_urlsafe(32), secure_cookies,
        data_folders=dict(data_folders or {}), work_dir=work_dir,
    )  # fmt: skip
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (pages.router, review.router, jobs.router, jobs.api_router, api.router):
        app.include_router(router)
    _handlers(app)
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every HTTP response (the CSP unless
    the route set one; ``Cache-Control: no-store`` except on static files and where the route
    set one). Not Starlette's ``BaseHTTPMiddleware``: that one runs each request through an
    extra task and response stream, a measurable cost per request under load."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _status_of(exc: InputError) -> int:
    """404 for an unknown run or key, 503 when the database cannot be used, else 409 (a
    change the review rules refuse)."""
    text = exc.message.lower()
    if text.startswith("unknown") or "holds no runs" in text:
        return 404
    if text.startswith(("cannot connect", "database error", "cannot open the sqlite")):
        return 503
    return 409


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _api(request):
            return JSONResponse(
                {"detail": "not authenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        from urllib.parse import quote

        return redirect(f"/login?next={quote(request.url.path, safe='/')}")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _api(request):
            return JSONResponse({"detail": exc.reason}, status_code=403)
        return render(request, "error.html.j2", 403, title="Not allowed", message=exc.reason)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        status = _status_of(exc)
        if _api(request):
            return JSONResponse({"detail": exc.one_line()}, status_code=status)
        return render(request, "error.html.j2", status, title="Cannot do that",
                      message=exc.one_line())  # fmt: skip

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        ref = uuid.uuid4().hex[:12]
        log.exception("error %s on %s %s", ref, request.method, request.url.path)
        if _api(request):
            return JSONResponse({"detail": "internal error", "reference": ref}, status_code=500)
        return render(
            request, "error.html.j2", 500, title="Something went wrong",
            message=f"The error was logged with reference {ref}.",
        )  # fmt: skip
