"""Shared fixtures: paths to the bundled examples and the shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.exists():
        pytest.skip("../shared/data is not available")
    return path
