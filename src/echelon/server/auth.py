"""Who is asking, and may they: sessions, CSRF, API tokens and permissions.

- **Session**: a cookie signed with itsdangerous (``URLSafeTimedSerializer``, HMAC over the
  server's secret, expiring after :data:`SESSION_MAX_AGE_S`) holding the user id and a CSRF
  token; HttpOnly, SameSite=Lax, Secure when the server says so. Signing and timestamping
  cookies is easy to get subtly wrong (comparison timing, encoding, key derivation), hence the
  library rather than hand-written HMAC code. The user is read from the database on every
  request, so a deactivated user is out at once.
- **CSRF**: the token is bound to the session (a new one at each login). Every state-changing
  request that authenticates by the cookie must carry it — the ``csrf_token`` form field or the
  ``X-CSRF-Token`` header (HTMX sends it from ``hx-headers`` on ``<body>``). The login form has
  one too (a pre-login session without a user).
- **API tokens**: ``Authorization: Bearer ech_...`` (``echelon users token NAME``); no cookie,
  so no CSRF check is needed.

Pages answer a missing login with a redirect to ``/login`` (HTMX: 401 with ``HX-Redirect``),
the API with 401; a role that may not do something gets 403 either way.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from echelon.server.jobs import JobStore
from echelon.storage.users import User, get_user, user_for_token

SESSION_COOKIE = "echelon_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE_S = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginThrottle:
    """At most :attr:`limit` failed logins per user name and client address in
    :attr:`window_s` seconds (in memory, per server process): a password cannot be guessed
    at the speed of the network."""

    def __init__(self, limit: int = 10, window_s: float = 300.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, key: tuple[str, str]) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())


@dataclass(frozen=True)
class Settings:
    """What the app serves: the run store, the cookie secret, the data folders offered for
    what-if scenarios (name → folder), where uploads are unpacked, the background jobs."""

    db: str | None
    secret: str
    secure_cookies: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle, compare=False)
    data_folders: dict[str, Path] = field(default_factory=dict, compare=False)
    work_dir: Path | None = None  # None: a temporary folder made at the first upload
    jobs: JobStore = field(default_factory=JobStore, compare=False)


class LoginRequired(Exception):
    """No valid session or token."""


class Forbidden(Exception):
    """Logged in, but the role (or a missing CSRF token) does not allow the request."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


@cache
def _serializer_for(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="echelon-session")


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return _serializer_for(settings(request).secret)


_UNREAD = object()


def read_session(request: Request) -> dict[str, Any] | None:
    """The signed session's content, or None (missing, forged or expired); verified once per
    request (the result is kept on ``request.state``)."""
    kept = getattr(request.state, "session", _UNREAD)
    if kept is not _UNREAD:
        return kept  # type: ignore[return-value]
    raw = request.cookies.get(SESSION_COOKIE)
    data: Any = None
    if raw:
        try:
            data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            data = None
    session = data if isinstance(data, dict) and isinstance(data.get("csrf"), str) else None
    request.state.session = session
    return session


def new_session(request: Request, user_id: int | None) -> tuple[str, str]:
    """A signed session cookie value for ``user_id`` (None: before login) and its CSRF token."""
    csrf = secrets.token_urlsafe(32)
    return _serializer(request).dumps({"uid": user_id, "csrf": csrf}), csrf


def cookie_options(request: Request) -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": settings(request).secure_cookies,
        "max_age": SESSION_MAX_AGE_S,
        "path": "/",
    }


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session ('' without one)."""
    session = read_session(request)
    return session["csrf"] if session else ""


async def check_csrf(request: Request, session: dict[str, Any]) -> None:
    """Refuse a state-changing request whose CSRF token is not the session's."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, session["csrf"]):
        raise Forbidden("missing or wrong CSRF token (reload the page and try again)")


async def authenticate(request: Request) -> User:
    """The user behind the request (bearer token or session); LoginRequired if none. A
    cookie-authenticated request that changes state must pass the CSRF check."""
    db = settings(request).db
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(db, header[7:].strip())
        if user is None:
            raise LoginRequired()
        return user
    session = read_session(request)
    uid = session.get("uid") if session else None
    user = get_user(db, uid) if isinstance(uid, int) else None
    if session is None or user is None or not user.active:
        raise LoginRequired()
    if request.method not in SAFE_METHODS:
        await check_csrf(request, session)
    return user


def allow(permission: str) -> Any:
    """A FastAPI dependency: the request's user, who must hold ``permission``."""

    async def dependency(request: Request) -> User:
        user = await authenticate(request)
        if not user.can(permission):
            raise Forbidden(f"the {user.role} role may not {permission}")
        request.state.user = user
        return user

    return dependency
