"""The command assembly: a command group whose optional extra is missing says how to install it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import typer

SCRIPT = """
import sys
sys.modules["gymnasium"] = None  # as if the 'rl' extra were not installed
from echelon.cli.app import main
main(sys.argv[1:])
"""


def test_rl_group_without_its_extra_explains_how_to_install_it() -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, "rl", "train", "net.yaml", "--steps", "10"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    line = " ".join(run.stderr.split())
    assert "optional extra 'rl'" in line and "pip install -e '.[rl]'" in line
    assert "Traceback" not in run.stderr
    helped = subprocess.run(
        [sys.executable, "-c", SCRIPT, "--help"], capture_output=True, text=True, timeout=120
    )
    assert helped.returncode == 0 and "not installed here" in helped.stdout


def test_the_command_index_names_every_command_of_every_module() -> None:
    """``main`` imports only the named command's module: the index must be complete and right."""
    from echelon.cli import app as cli

    registered = {c.name for c in cli.app.registered_commands}
    registered |= {g.name for g in cli.app.registered_groups}
    assert registered == set(cli.COMMAND_INDEX)
    for command, module in cli.COMMAND_INDEX.items():
        fresh = typer.Typer()
        importlib.import_module(module).register(fresh)
        names = {c.name for c in fresh.registered_commands} | {
            g.name for g in fresh.registered_groups
        }
        assert command in names, (command, module)


SPAWN = """
import sys
from echelon.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith(("echelon.cli.", "scipy", "numba", "cma"))))
"""


def test_a_named_command_imports_only_its_own_module(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", SPAWN, "runs", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    loaded = run.stdout.strip().splitlines()[-1]
    assert "echelon.cli.storage_cmds" in loaded
    for other in ("echelon.cli.optimize_cmds", "echelon.cli.rl_cmds", "numba", "cma"):
        assert f"'{other}" not in loaded, loaded
