"""Users, roles and API tokens of the planner's workspace (``echelon serve``).

Roles and what they may do (:data:`PERMISSIONS`):

- ``viewer``: read runs, dashboards, worklists, recommendations and the audit log;
- ``planner``: also override a recommendation's quantity (with a reason) and comment, and run
  plans (an uploaded data folder) and what-if scenarios in the workspace;
- ``approver``: also approve, reject and export (and comment) — not override, so that the
  person who changes a quantity and the person who approves it can be kept apart;
- ``admin``: everything, and the user list.

Passwords are hashed with argon2 through ``pwdlib`` (its recommended parameters, and hashes
that carry them, so a later upgrade re-hashes on login): password hashing is easy to get
subtly wrong (salts, parameters, constant-time comparison), so echelon does not write its own.
API tokens are random (``secrets.token_urlsafe``, 256 bits) and stored as SHA-256 hashes: a
token has far more entropy than a password, so a fast hash is enough, and a database leak does
not reveal a usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from echelon.storage.db import StorageError, transaction
from echelon.storage.schema import api_tokens, logins, users

if TYPE_CHECKING:
    from pwdlib import PasswordHash

ROLES = ("viewer", "planner", "approver", "admin")

READ, OVERRIDE, COMMENT = "read", "override", "comment"
APPROVE, REJECT, EXPORT, USERS = "approve", "reject", "export", "users"
PLAN = "plan"  # run a plan or scenarios in the workspace (background jobs)

PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({READ}),
    "planner": frozenset({READ, OVERRIDE, COMMENT, PLAN}),
    "approver": frozenset({READ, COMMENT, APPROVE, REJECT, EXPORT}),
    "admin": frozenset({READ, OVERRIDE, COMMENT, APPROVE, REJECT, EXPORT, USERS, PLAN}),
}

LOGIN_EVENTS = ("login", "failed", "logout")
TOKEN_PREFIX = "ech_"
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    active: bool

    def can(self, permission: str) -> bool:
        return self.active and permission in PERMISSIONS.get(self.role, frozenset())


@cache
def _hasher() -> PasswordHash:
    from pwdlib import PasswordHash

    return PasswordHash.recommended()  # argon2id


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def check_role(role: str) -> str:
    if role not in ROLES:
        raise StorageError(
            "unknown role", field="role", expected=" | ".join(ROLES), found=repr(role),
            fix="use one of the four roles",
        )  # fmt: skip
    return role


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise StorageError(
            "a user name is 1 to 200 printable characters", field="name", found=repr(name),
            fix="choose another name",
        )  # fmt: skip
    return name


def add_user(db: str | Path | None, name: str, role: str, password: str) -> User:
    """Create a user (StorageError if the name is taken, the role unknown or the password
    shorter than :data:`MIN_PASSWORD`)."""
    name, role = _check_name(name), check_role(role)
    if len(password) < MIN_PASSWORD:
        raise StorageError(
            f"the password must have at least {MIN_PASSWORD} characters", field="password",
            fix="choose a longer password",
        )  # fmt: skip
    values = {
        "name": name,
        "role": role,
        "password_hash": _hasher().hash(password),
        "active": True,
        "created_at": datetime.now(UTC),
    }
    with transaction(db) as conn:  # a writer's lock: two adds of one name are serialized
        if conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None:
            raise StorageError(
                f"user {name!r} already exists", field="name", fix="choose another name"
            )
        pk = conn.execute(insert(users).values(**values)).inserted_primary_key
    assert pk is not None
    return User(int(pk[0]), name, role, True)


def set_active(db: str | Path | None, name: str, active: bool) -> None:
    """Enable or disable user ``name`` (a disabled user's sessions and tokens stop working at
    their next request)."""
    with transaction(db) as conn:
        done = conn.execute(
            update(users).where(users.c.name == name.strip()).values(active=active)
        ).rowcount
    if not done:
        raise StorageError(f"unknown user {name!r}", field="name", fix="see `echelon users list`")


def list_users(db: str | Path | None) -> list[User]:
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(select(users).order_by(users.c.name)).all()
    return [User(r.id, r.name, r.role, r.active) for r in rows]


def get_user(db: str | Path | None, user_id: int) -> User | None:
    with transaction(db, readonly=True) as conn:
        r = conn.execute(select(users).where(users.c.id == user_id)).first()
    return User(r.id, r.name, r.role, r.active) if r is not None else None


def authenticate(db: str | Path | None, name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else None (the same work either
    way, so the answer's timing does not tell whether the name exists)."""
    with transaction(db, readonly=True) as conn:
        r = conn.execute(select(users).where(users.c.name == (name or "").strip())).first()
    if r is None:
        _hasher().verify(password, _dummy_hash())
        return None
    ok, new_hash = _hasher().verify_and_update(password, r.password_hash)
    if not ok or not r.active:
        return None
    if new_hash is not None:  # parameters upgraded since the hash was made
        with transaction(db) as conn:
            conn.execute(update(users).where(users.c.id == r.id).values(password_hash=new_hash))
    return User(r.id, r.name, r.role, r.active)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: str | Path | None, name: str, label: str = "api") -> str:
    """A new API token for user ``name``; returned once, only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(db) as conn:
        uid = conn.execute(select(users.c.id).where(users.c.name == name.strip())).scalar()
        if uid is None:
            raise StorageError(f"unknown user {name!r}", field="name", fix="add the user first")
        now = datetime.now(UTC)
        row = {"user_id": uid, "label": label, "token_hash": _token_hash(token), "created_at": now}
        conn.execute(insert(api_tokens).values(**row))
    return token


def user_for_token(db: str | Path | None, token: str) -> User | None:
    """The active user an API token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with transaction(db, readonly=True) as conn:
        r = conn.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == _token_hash(token))
        ).first()
    if r is None or not r.active:
        return None
    return User(r.id, r.name, r.role, r.active)


@dataclass(frozen=True)
class LoginEvent:
    who: str
    event: str  # login | failed | logout
    client: str
    at: datetime  # UTC


def record_login(db: str | Path | None, who: str, event: str, client: str) -> None:
    """Audit a login, a failed login (``who`` as typed) or a logout of the workspace."""
    if event not in LOGIN_EVENTS:
        raise StorageError("unknown login event", field="event", found=repr(event),
                           expected=" | ".join(LOGIN_EVENTS), fix="a bug: report it")  # fmt: skip
    row = {"who": who[:200], "event": event, "client": client[:100], "at": datetime.now(UTC)}
    with transaction(db) as conn:
        conn.execute(insert(logins).values(**row))


def login_events(db: str | Path | None, limit: int = 200) -> list[LoginEvent]:
    """The newest ``limit`` login events, newest first."""
    with transaction(db, readonly=True) as conn:
        rows = conn.execute(select(logins).order_by(logins.c.id.desc()).limit(limit)).all()
    return [
        LoginEvent(r.who, r.event, r.client, r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC))
        for r in rows
    ]
