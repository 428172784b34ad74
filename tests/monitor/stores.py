"""Test helpers: the tiny data folder as loads, and row counts of the data store."""

from __future__ import annotations

from pathlib import Path

from plan.bad_folders import write_tiny_folder


def tiny_load(path: Path) -> Path:
    """The tiny plan data folder (tests/plan/bad_folders.py) as a first load."""
    return write_tiny_folder(path)


def data_counts(db: str) -> dict[str, int]:
    """Rows per data-store table (read directly, not through the public API)."""
    from sqlalchemy import func, select

    from echelon.storage import data_schema as s
    from echelon.storage.db import get_engine

    tables = (
        s.data_loads,
        s.data_files,
        s.data_demand,
        s.data_inventory,
        s.data_receipts,
        s.data_lead_times,
        s.data_audit,
        s.forecast_scores,
    )
    with get_engine(db).connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
