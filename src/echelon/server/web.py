"""Rendering pages: the Jinja2 environment (autoescape on: every id, message and comment from
the data is escaped) and the response helpers the routes share."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

import echelon
from echelon.report import charts
from echelon.report.html import PLOTLY_CONFIG, template_environment
from echelon.server.auth import CSRF_FIELD, CSRF_HEADER, csrf_token


@cache
def environment() -> jinja2.Environment:
    """The workspace's templates, with the report's filters and ``q`` (a URL component)."""
    return template_environment("echelon.server", q=lambda s: quote(str(s), safe=""))


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    csrf: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered with the request's user and CSRF token (``csrf``: a token just
    issued, not yet in the request's cookie)."""
    token = csrf if csrf is not None else csrf_token(request)
    html = (
        environment()
        .get_template(template)
        .render(
            user=getattr(request.state, "user", None),
            csrf=token,
            csrf_field=CSRF_FIELD,
            csrf_headers=charts.script_json({CSRF_HEADER: token}),
            plotly_config=PLOTLY_CONFIG,
            version=echelon.__version__,
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site: ``//host`` or ``http:``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_url(path: str, filters: dict[str, str], number: int | None) -> str:
    """``path`` with the non-empty ``filters`` and ``page=number`` as its query string (''
    when there is no such page)."""
    if number is None:
        return ""
    return f"{path}?{urlencode({k: v for k, v in filters.items() if v} | {'page': number})}"
