"""Shared fixtures of the planning tests: the M5 demo data folder and a tiny hand-made one.

``demo_folder`` (session-scoped) is written once by ``write_demo_folder``; ``tiny_folder`` is a
fresh copy per test (tests may edit it). Both are valid: ``load_context`` loads them without
findings. Do not modify ``demo_folder`` — copy it first (``shutil.copytree``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_folders import write_tiny_folder

from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.demo_data import write_demo_folder


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The M5 demo data folder (seed 0), written once per test session."""
    return write_demo_folder(tmp_path_factory.mktemp("demo") / "m5-demo", seed=0)


@pytest.fixture(scope="session")
def demo_data(demo_folder: Path) -> PlanContext:
    """The demo folder, loaded (shared: do not mutate its frames)."""
    return load_context(demo_folder)


@pytest.fixture()
def tiny_folder(tmp_path: Path) -> Path:
    """A fresh copy of the tiny valid folder (DC → S1, S2; items A, B; 16 weeks, daily)."""
    return write_tiny_folder(tmp_path / "tiny")


@pytest.fixture()
def tiny_data(tiny_folder: Path) -> PlanContext:
    """The tiny folder, loaded."""
    return load_context(tiny_folder)
