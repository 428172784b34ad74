"""Entry point of the ``echelon`` command.

Each group of commands lives in its own module with a ``register(app)`` function; this module
only assembles them and turns :class:`echelon.errors.InputError` into one red line on stderr and
exit status 2 (never a traceback for bad input).
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from echelon.errors import InputError

app = typer.Typer(
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
    "echelon.cli.report_cmd",
    "echelon.cli.rl_cmds",
)

# Command groups that need an optional extra: (group name, extra) — when the extra is missing
# the group still shows in --help and says how to install it.
OPTIONAL_GROUPS = {"echelon.cli.rl_cmds": ("rl", "rl")}

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _missing_extra(group: str, extra: str, package: str) -> None:
    @app.command(
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


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an optional extra that is not installed
            missing = exc.name or ""
            if missing.startswith("echelon") and not name.startswith(missing):
                raise
            if name in OPTIONAL_GROUPS:
                _missing_extra(*OPTIONAL_GROUPS[name], missing)
            continue
        module.register(app)


_register_all()


def fail(message: str) -> None:
    """Print a one-line error and exit with status 2."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; bad input exits 2 with a one-line message."""
    try:
        app(args=argv, prog_name="echelon", standalone_mode=True)
    except InputError as exc:
        fail(_escape(exc.one_line()))
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        fail(_escape(f"{exc.filename}: {exc.strerror}"))
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise SystemExit(130) from None


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
