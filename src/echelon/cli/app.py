"""Entry point of the ``echelon`` command.

Each group of commands lives in its own module with a ``register(app)`` function; this module
only assembles them: for a named command just the module that defines it
(:data:`COMMAND_INDEX`, so that ``echelon runs`` or a re-run of ``echelon plan`` does not pay
for importing every library of every command), all of them for ``--help``. It turns
:class:`echelon.errors.InputError` into one red line on stderr and exit status 2 (never a
traceback for bad input); so is a Python package missing from the install
(:func:`install_hint`: the package and the ``pip install`` that brings it).
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from echelon.errors import InputError

_app = typer.Typer(
    name="echelon",
    help=(
        "Multi-echelon inventory optimization: network, simulation, forecasting, optimization, "
        "planning, reinforcement learning."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that add commands to ``app``; each defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = (
    "echelon.cli.network_cmds",
    "echelon.cli.simulate_cmd",
    "echelon.cli.demo_cmd",
    "echelon.cli.forecast_cmds",
    "echelon.cli.optimize_cmds",
    "echelon.cli.plan_cmds",
    "echelon.cli.storage_cmds",
    "echelon.cli.review_cmds",
    "echelon.cli.report_cmd",
    "echelon.cli.rl_cmds",
    "echelon.cli.serve_cmds",
    "echelon.cli.monitor_cmds",
)

# command → the module that registers it (tests/cli/test_app.py keeps it equal to the modules)
COMMAND_INDEX = {
    **dict.fromkeys(("validate", "schema", "convert", "policy"), "echelon.cli.network_cmds"),
    "simulate": "echelon.cli.simulate_cmd",
    "demo": "echelon.cli.demo_cmd",
    **dict.fromkeys(("forecast", "backtest"), "echelon.cli.forecast_cmds"),
    **dict.fromkeys(("optimize", "compare"), "echelon.cli.optimize_cmds"),
    **dict.fromkeys(("plan", "scenario"), "echelon.cli.plan_cmds"),
    **dict.fromkeys(
        ("runs", "recommendations", "approve", "reject", "export", "audit"),
        "echelon.cli.storage_cmds",
    ),
    **dict.fromkeys(("override", "auto-approve"), "echelon.cli.review_cmds"),
    "report": "echelon.cli.report_cmd",
    "rl": "echelon.cli.rl_cmds",
    **dict.fromkeys(("serve", "users"), "echelon.cli.serve_cmds"),
    **dict.fromkeys(("ingest", "monitor"), "echelon.cli.monitor_cmds"),
}

# Command groups that need an optional extra: (group name, extra) — when the extra is missing
# the group still shows in --help and says how to install it.
OPTIONAL_GROUPS = {"echelon.cli.rl_cmds": ("rl", "rl")}

# Python packages of an optional extra (import name -> extra); any other missing package is part
# of the base install (`pip install echelon`).
PACKAGE_EXTRAS = {"torch": "rl", "gymnasium": "rl", "stable_baselines3": "rl"}

err_console = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


@_app.callback()
def _root() -> None:
    """Multi-echelon inventory optimization: network, simulation, forecasting, optimization,
    planning, reinforcement learning."""


def _missing_extra(group: str, extra: str, package: str) -> None:
    @_app.command(
        group,
        help=f"(not installed here: needs the optional extra '{extra}'; run `make install`)",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def _explain() -> None:
        raise InputError(
            f"the '{group}' commands need the optional extra '{extra}'",
            found=f"Python package '{package}' is not installed",
            fix=f"pip install -e '.[{extra}]' (or run `make install`)",
        )


_registered: set[str] = set()


def _register(modules: tuple[str, ...] = COMMAND_MODULES) -> None:
    """Import ``modules`` and add their commands to the app (each module once)."""
    for name in modules:
        if name in _registered:
            continue
        _registered.add(name)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an optional extra that is not installed
            missing = exc.name or ""
            if missing.startswith("echelon") and not name.startswith(missing):
                raise
            if name in OPTIONAL_GROUPS:
                _missing_extra(*OPTIONAL_GROUPS[name], missing)
            continue
        module.register(_app)


def _modules_for(args: list[str]) -> tuple[str, ...]:
    """The modules a command line needs: the named command's, or all (help, unknown names)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command in COMMAND_INDEX and not any(a in ("--help", "-h") for a in args[:1]):
        return (COMMAND_INDEX[command],)
    return COMMAND_MODULES


def __getattr__(name: str) -> typer.Typer:
    """``app``: the Typer application with every command registered."""
    if name == "app":
        _register()
        return _app
    raise AttributeError(name)


def fail(message: str) -> None:
    """Print a one-line error and exit with status 2."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; bad input exits 2 with a one-line message."""
    args = sys.argv[1:] if argv is None else list(argv)
    _register(_modules_for(args))
    try:
        _app(args=args, prog_name="echelon", standalone_mode=True)
    except InputError as exc:
        fail(_escape(exc.one_line()))
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        fail(_escape(f"{exc.filename}: {exc.strerror}"))
    except ModuleNotFoundError as exc:  # a library of the install (or of an extra) is missing
        package = (exc.name or "").split(".")[0]
        if not package or package == "echelon":
            raise  # a bug of echelon itself, not of the install
        fail(_escape(install_hint(package)))
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise SystemExit(130) from None


def install_hint(package: str) -> str:
    """The one-line message for a missing Python package ``package`` (its import name)."""
    extra = PACKAGE_EXTRAS.get(package)
    fix = f"pip install 'echelon[{extra}]'" if extra else "pip install echelon"
    return f"this command needs the Python package '{package}', which is not installed — fix: {fix}"


def _escape(text: str) -> str:
    """The message as literal text: markup escaped, control characters (ANSI) made visible."""
    from echelon.cli.render import plain

    return plain(text)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
