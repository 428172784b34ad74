"""``echelon serve`` (the planner's workspace: web app and REST API) and ``echelon users``
(``add``, ``list``, ``token``): thin layers over :mod:`echelon.server` and
:mod:`echelon.storage.users`.

The session secret comes from ``$ECHELON_SECRET`` (set it to keep sessions across restarts
and between several server processes); without it a random one is made at start.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from pathlib import Path

import typer

from echelon.cli.render import console, plain
from echelon.cli.storage_cmds import DB_HELP
from echelon.storage import StorageError, list_runs
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


DEMO_DIR = Path("echelon-demo")  # what `make demo` / `echelon demo` writes
DEMO_USER = "demo"


def demo_setup(demo_dir: Path) -> tuple[str, dict[str, Path], str | None]:
    """The demo's database and data folder (written by ``echelon demo``), and a new admin
    ``demo`` with a random password when the database has no user yet (returned once, to be
    printed; None when users exist). StorageError when the demo has not been made."""
    db_file, data = demo_dir / "echelon.db", demo_dir / "data"
    if not db_file.is_file():
        raise StorageError(
            "no demo database", source=str(db_file), fix="run `make demo` (or `echelon demo`) first"
        )
    db = str(db_file)
    password = None
    if not list_users(db):
        password = secrets.token_urlsafe(12)
        add_user(db, DEMO_USER, "admin", password)
    return db, ({"demo": data} if data.is_dir() else {}), password


def serve(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="port to listen on"),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="send the session cookie over HTTPS only (TLS proxy)"
    ),
    data: list[Path] = typer.Option(
        [], "--data", help="a data folder offered for what-if scenarios (repeat)"
    ),
    work_dir: Path | None = typer.Option(
        None, "--work-dir", help="where uploaded data folders are unpacked (default: a temp dir)"
    ),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="log every request (uvicorn's access log)"
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="serve the demo of `make demo` (echelon-demo/): its database, its "
        "data folder for scenarios, and a `demo` admin login on first use",
    ),
) -> None:
    """The planner's workspace: web pages and the REST API /api/v1 over the run store."""
    import uvicorn

    from echelon.server.app import create_app
    from echelon.storage.db import get_engine, redact_url

    folders = {p.name: p for p in data}
    bad = [str(p) for p in data if not p.is_dir()]
    if bad:
        raise StorageError("not a data folder", field="--data", found=", ".join(bad),
                           fix="give existing folders")  # fmt: skip
    password = None
    if demo:
        db, demo_folders, password = demo_setup(DEMO_DIR)
        folders = demo_folders | folders
    get_engine(db)  # a bad URL or an unreachable server stops here, before listening
    if not list_users(db):
        console.print("no user yet: add one with `echelon users add NAME --role admin`")
    app = create_app(
        db, secret=os.environ.get(ENV_SECRET), secure_cookies=secure_cookies,
        data_folders=folders, work_dir=work_dir,
    )  # fmt: skip
    console.print(plain(f"serving {redact_url(db or 'echelon.db')} on http://{host}:{port}/"))
    if demo:
        latest = next(iter(list_runs(db)), None)
        where = f"http://{host}:{port}/runs/{latest.id}" if latest else f"http://{host}:{port}/"
        console.print(plain(f"the demo run: {where}"))
        if password is not None:
            console.print(plain(f"log in as {DEMO_USER} with the password {password} (shown once)"))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
