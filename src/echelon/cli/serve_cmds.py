"""``echelon serve`` (the planner's workspace: web app and REST API) and ``echelon users``
(``add``, ``list``, ``token``): thin layers over :mod:`echelon.server` and
:mod:`echelon.storage.users`.

The session secret comes from ``$ECHELON_SECRET`` (set it to keep sessions across restarts
and between several server processes); without it a random one is made at start.
"""

from __future__ import annotations

import getpass
import os
import sys

import typer

from echelon.cli.render import console, plain
from echelon.cli.storage_cmds import DB_HELP
from echelon.storage.users import ROLES, add_user, create_token, list_users, set_active

ENV_SECRET = "ECHELON_SECRET"

users_app = typer.Typer(
    help="Users of `echelon serve`: add, list, API tokens.", no_args_is_help=True
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise typer.BadParameter("the two passwords differ")
    return first


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="the user's login name"),
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of stdin"
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Add a user; the password is asked for (twice) or read from stdin."""
    user = add_user(db, name, role, _password(password_stdin))
    console.print(plain(f"added user {user.name} ({user.role})"))


@users_app.command("list")
def users_list(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """The users and their roles."""
    for u in list_users(db):
        console.print(plain(u.name), u.role, "active" if u.active else "inactive")


@users_app.command("disable")
def users_disable(
    name: str = typer.Argument(..., help="the user to disable"),
    enable: bool = typer.Option(False, "--enable", help="enable the user again instead"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Disable a user (their sessions and API tokens stop working at once)."""
    set_active(db, name, enable)
    console.print(plain(f"{'enabled' if enable else 'disabled'} user {name}"))


@users_app.command("token")
def users_token(
    name: str = typer.Argument(..., help="the user the token acts as"),
    label: str = typer.Option("api", "--label", help="what the token is for"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Create an API token (printed once: only its hash is stored)."""
    typer.echo(create_token(db, name, label))


def serve(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="port to listen on"),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="send the session cookie over HTTPS only (TLS proxy)"
    ),
) -> None:
    """The planner's workspace: web pages and the REST API /api/v1 over the run store."""
    import uvicorn

    from echelon.server.app import create_app
    from echelon.storage.db import get_engine, redact_url

    get_engine(db)  # a bad URL or an unreachable server stops here, before listening
    if not list_users(db):
        console.print("no user yet: add one with `echelon users add NAME --role admin`")
    app = create_app(db, secret=os.environ.get(ENV_SECRET), secure_cookies=secure_cookies)
    console.print(plain(f"serving {redact_url(db or 'echelon.db')} on http://{host}:{port}/"))
    uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
