"""A stored run and one user per role for the workspace tests, and logged-in clients."""

from __future__ import annotations

from fastapi.testclient import TestClient

from echelon.plan.model import PlanException, PlanResult
from echelon.server.app import create_app
from echelon.server.auth import CSRF_HEADER
from echelon.storage import save_run
from echelon.storage.users import ROLES, add_user, create_token
from storage.factories import make_plan_result

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SECRET = "test-secret-not-for-production"


def password(role: str) -> str:
    return f"pw-{role}-123456"


def evil_result() -> PlanResult:
    """The factory's run with markup in a plan name, an item, a location, a key and an
    exception message (ids from a user's data can hold anything)."""
    base = make_plan_result(name=f"plan {EVIL}", input_hash="e" * 64)
    rec = base.recommendations[0].model_copy(
        update={"key": f"order:{EVIL}:DC_CA->{EVIL}", "item": EVIL, "location": EVIL}
    )
    exc = PlanException(
        kind="stockout_risk", severity="high", message=f"runs out {EVIL}", item=EVIL, location=EVIL
    )
    return base.model_copy(
        update={
            "recommendations": [rec, *base.recommendations[1:]],
            "exceptions": [exc, *base.exceptions],
        }
    )


def seed(db: str, evil: bool = False) -> int:
    """Store a run and the four users (``<role>`` with :func:`password`); the run's id."""
    ref = save_run(db, evil_result() if evil else make_plan_result())
    for role in ROLES:
        add_user(db, role, role, password(role))
    return ref.id


def client(db: str) -> TestClient:
    return TestClient(create_app(db, secret=SECRET), raise_server_exceptions=False)


def login(db: str, role: str) -> tuple[TestClient, str]:
    """A client logged in as ``role`` and its session's CSRF token."""
    c = client(db)
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login",
        data={"name": role, "password": password(role), "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c, csrf_of(c.get("/").text)


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def bearer(db: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(db, role)}"}


def htmx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", CSRF_HEADER: token}
