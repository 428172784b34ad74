"""Run the ``echelon`` entry point in-process, as a user would, and capture what it prints."""

from __future__ import annotations

import pytest

from echelon.cli.app import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``echelon ARGS`` (through ``main``, as installed)."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err
