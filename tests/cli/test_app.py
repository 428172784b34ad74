"""The command assembly: a command group whose optional extra is missing says how to install it."""

from __future__ import annotations

import subprocess
import sys

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
