"""Rendering pages: the Jinja2 environment (autoescape on: every id, message and comment from
the data is escaped) and the response helpers the routes share."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

import echelon
from echelon.report import charts
from echelon.report import formatting as f
from echelon.report.html import PLOTLY_CONFIG
from echelon.server.auth import CSRF_FIELD, CSRF_HEADER, csrf_token


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("echelon.server", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
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
        q=lambda s: quote(str(s), safe=""),
    )
    return env


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
