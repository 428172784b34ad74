"""Authorization of every route for every role, CSRF, sessions and error pages.

ROUTES classifies every route the app defines (a test fails when one is added without being
classified): without a login a page redirects to /login and the API answers 401; a role that
lacks the route's permission gets 403; one that has it gets neither.
"""

from __future__ import annotations

from typing import Any

import pytest
from server_factories import SECRET, client, csrf_of, htmx, login, password

from echelon.server.app import create_app
from echelon.server.routes import api, jobs, pages, review
from echelon.storage.users import PERMISSIONS, ROLES

KEY = "order:FOODS_1:DC_CA->CA_1"
PUBLIC = {("GET", "/health"), ("GET", "/api/v1/health"), ("GET", "/login"), ("POST", "/login"),
          ("GET", "/vendor/plotly.min.js")}  # fmt: skip

# (method, path template, permission, form or JSON body)
ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("GET", "/", "read", None),
    ("GET", "/runs/{run}", "read", None),
    ("GET", "/runs/{run}/exceptions", "read", None),
    ("GET", "/runs/{run}/cell?item=FOODS_1&location=CA_1", "read", None),
    ("GET", "/runs/{run}/recommendations", "read", None),
    ("GET", "/runs/{run}/audit", "read", None),
    ("GET", "/users", "users", None),
    ("POST", "/runs/{run}/override", "override", {"key": KEY, "quantity": "9", "reason": "r"}),
    ("POST", "/runs/{run}/comment", "comment", {"key": KEY, "comment": "looks fine"}),
    ("POST", "/runs/{run}/approve", "approve", {"key": KEY}),
    ("POST", "/runs/{run}/reject", "reject", {"key": KEY}),
    ("POST", "/runs/{run}/export", "export", {}),
    ("POST", "/runs/{run}/rules", "approve", {"max_value": "1"}),
    ("GET", "/plans/new", "plan", None),
    ("POST", "/plans", "plan", {}),
    ("GET", "/runs/{run}/scenarios", "plan", None),
    ("POST", "/runs/{run}/scenarios", "plan", {"folder": "none", "reps": "2"}),
    ("GET", "/jobs", "read", None),
    ("GET", "/jobs/nojob", "read", None),
    ("POST", "/logout", "read", {}),
    ("GET", "/api/v1/runs", "read", None),
    ("GET", "/api/v1/runs/{run}", "read", None),
    ("GET", "/api/v1/runs/{run}/recommendations", "read", None),
    ("GET", "/api/v1/runs/{run}/exceptions", "read", None),
    ("POST", "/api/v1/runs/{run}/recommendations/override",
     "override", {"key": KEY, "quantity": 7, "reason": "api"}),
    ("POST", "/api/v1/runs/{run}/recommendations/approve", "approve", {"keys": [KEY]}),
    ("POST", "/api/v1/runs/{run}/recommendations/reject", "reject", {"keys": [KEY]}),
    ("POST", "/api/v1/runs/{run}/export", "export", {}),
    ("GET", "/api/v1/runs/{run}/rules", "read", None),
    ("POST", "/api/v1/runs/{run}/rules", "approve", {"max_value": 1}),
    ("GET", "/api/v1/jobs", "read", None),
    ("GET", "/api/v1/jobs/nojob", "read", None),
    ("GET", "/api/v1/data", "read", None),
    ("POST", "/api/v1/plans", "plan", {}),
    ("POST", "/api/v1/runs/{run}/scenarios", "plan", {"folder": "none"}),
]  # fmt: skip


def _send(c: Any, method: str, path: str, body: dict[str, Any] | None, token: str) -> Any:
    if method == "GET":
        return c.get(path, follow_redirects=False)
    headers = {"X-CSRF-Token": token}
    if path.startswith("/api/"):
        return c.post(path, json=body, headers=headers, follow_redirects=False)
    return c.post(path, data=body, headers=headers, follow_redirects=False)


def test_every_route_is_classified() -> None:
    routers = (pages.router, review.router, jobs.router, jobs.api_router, api.router)
    defined = {(m, r.path) for router in routers for r in router.routes for m in r.methods}
    listed = {
        (m, p.split("?")[0].replace("{run}", "{run_id}").replace("nojob", "{job_id}"))
        for m, p, _, _ in ROUTES
    }
    assert defined - {("HEAD", p) for _, p in defined} == listed | PUBLIC


@pytest.mark.parametrize(("method", "path", "permission", "body"), ROUTES)
def test_without_login_pages_redirect_and_the_api_answers_401(
    seeded: tuple[str, int], method: str, path: str, permission: str, body: Any
) -> None:
    db, run = seeded
    r = _send(client(db), method, path.format(run=run), body, "x")
    if path.startswith("/api/"):
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    else:
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_403_exactly_where_it_lacks_the_permission(
    seeded: tuple[str, int], role: str
) -> None:
    db, run = seeded
    c, token = login(db, role)
    for method, path, permission, body in ROUTES:
        if path == "/logout":
            continue  # would end the session; checked below
        r = _send(c, method, path.format(run=run), body, token)
        allowed = permission in PERMISSIONS[role]
        assert (r.status_code == 403) is (not allowed), (role, method, path, r.status_code)
        assert r.status_code not in (401, 500), (role, path, r.text[:200])
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303


def test_htmx_request_without_login_is_told_to_go_to_the_login_page(
    seeded: tuple[str, int],
) -> None:
    db, run = seeded
    r = client(db).get(f"/runs/{run}/recommendations", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"] == "/login"


def test_public_routes_answer_without_login(seeded: tuple[str, int]) -> None:
    c = client(seeded[0])
    assert c.get("/health").json() == {"status": "ok"}
    assert c.get("/api/v1/health").json() == {"status": "ok"}
    assert c.get("/login").status_code == 200
    assert c.get("/static/htmx.min.js").status_code == 200
    js = c.get("/vendor/plotly.min.js")
    assert js.status_code == 200 and "plotly" in js.text[:2000].lower()
    assert c.get("/api/v1/openapi.json").json()["info"]["title"]


def test_post_without_or_with_a_wrong_csrf_token_is_refused(seeded: tuple[str, int]) -> None:
    db, run = seeded
    c, token = login(db, "planner")
    form = {"key": KEY, "comment": "csrf check"}
    assert c.post(f"/runs/{run}/comment", data=form).status_code == 403
    assert c.post(f"/runs/{run}/comment", data=form | {"csrf_token": "forged"}).status_code == 403
    wrong = {"X-CSRF-Token": token[:-2] + "zz"}
    assert c.post(f"/runs/{run}/comment", data=form, headers=wrong).status_code == 403
    api_path = f"/api/v1/runs/{run}/recommendations/override"
    override = {"key": KEY, "quantity": 3, "reason": "no csrf"}
    assert c.post(api_path, json=override).status_code == 403  # session cookie, no header
    ok = c.post(f"/runs/{run}/comment", data=form | {"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert c.post(f"/runs/{run}/comment", data=form, headers=htmx(token)).status_code == 200


def test_login_needs_its_csrf_token_and_the_right_password(seeded: tuple[str, int]) -> None:
    db, _ = seeded
    c = client(db)
    token = csrf_of(c.get("/login").text)
    creds = {"name": "viewer", "password": password("viewer"), "next": "/"}
    assert c.post("/login", data=creds, follow_redirects=False).status_code == 403
    bad = creds | {"csrf_token": token, "password": "wrong-password"}
    assert c.post("/login", data=bad, follow_redirects=False).status_code == 401
    ok = c.post("/login", data=creds | {"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert csrf_of(c.get("/").text) != token  # a new token at login


def test_login_never_redirects_to_another_site(seeded: tuple[str, int]) -> None:
    db, _ = seeded
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        c = client(db)
        token = csrf_of(c.get("/login").text)
        creds = {"name": "viewer", "password": password("viewer"), "csrf_token": token}
        r = c.post("/login", data=creds | {"next": target}, follow_redirects=False)
        assert r.headers["location"] == "/", target


def test_secure_cookies_and_forged_sessions(seeded: tuple[str, int]) -> None:
    from fastapi.testclient import TestClient

    db, _ = seeded
    secure = TestClient(create_app(db, secret=SECRET, secure_cookies=True), base_url="https://t")
    assert "secure" in secure.get("/login").headers["set-cookie"].lower()
    c = client(db)
    c.cookies.set("echelon_session", "eyJ1aWQiOjF9.forged.signature")
    assert c.get("/", follow_redirects=False).status_code == 303
    other = TestClient(create_app(db, secret="another-secret"))
    viewer, _ = login(db, "viewer")
    other.cookies.set("echelon_session", viewer.cookies["echelon_session"])
    assert other.get("/", follow_redirects=False).status_code == 303  # signed with SECRET


def test_an_unknown_run_is_a_404_page_and_a_crash_shows_only_a_reference(
    seeded: tuple[str, int], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db, _ = seeded
    c, _ = login(db, "viewer")
    assert c.get("/runs/999").status_code == 404
    assert c.get("/api/v1/runs/999").status_code == 404

    def boom(_db: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("echelon.server.workspace.runs_overview", boom)
    for path in ("/", "/api/v1/runs"):
        r = c.get(path)
        assert r.status_code == 500 and "reference" in r.text
        assert "secret internals" not in r.text and "Traceback" not in r.text
    assert "secret internals" in caplog.text  # the trace is in the server log


def test_pages_carry_a_strict_content_security_policy(seeded: tuple[str, int]) -> None:
    c, _ = login(seeded[0], "viewer")
    r = c.get(f"/runs/{seeded[1]}")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "cdn" not in r.text.lower() and "https://" not in r.text


def test_repeated_failed_logins_are_throttled(seeded: tuple[str, int]) -> None:
    db, _ = seeded
    c = client(db)
    token = csrf_of(c.get("/login").text)
    creds = {"name": "admin", "csrf_token": token, "next": "/"}
    codes = [c.post("/login", data=creds | {"password": f"guess-{i}"}).status_code
             for i in range(10)]  # fmt: skip
    assert codes == [401] * 10
    right = c.post("/login", data=creds | {"password": password("admin")}, follow_redirects=False)
    assert right.status_code == 429  # even the right password, until the window passes
    other, _ = login(db, "viewer")  # another name is not affected
    assert other.get("/").status_code == 200


def test_logins_failed_logins_and_logouts_are_audited(seeded: tuple[str, int]) -> None:
    from echelon.storage.users import login_events

    db, _ = seeded
    c = client(db)
    token = csrf_of(c.get("/login").text)
    bad = {"name": "planner", "password": "not-it-123", "csrf_token": token, "next": "/"}
    assert c.post("/login", data=bad).status_code == 401
    c, token = login(db, "planner")
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    events = [(e.who, e.event) for e in login_events(db, limit=3)]
    assert events == [("planner", "logout"), ("planner", "login"), ("planner", "failed")]
    admin, _ = login(db, "admin")
    page = admin.get("/users").text
    assert 'id="logins"' in page and "logout" in page
