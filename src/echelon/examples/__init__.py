"""Bundled example networks and policies (see each file's header for its source)."""

from pathlib import Path

EXAMPLES = Path(__file__).parent


def example_path(name: str) -> Path:
    """Path of a bundled example file, e.g. ``example_path("snyder_shen_6_1.yaml")``."""
    return EXAMPLES / name
