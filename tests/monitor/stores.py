"""Test helpers: the tiny data folder as loads, its long demand history, row counts of the
data store, and stored runs forecast by given models (the champions' tests)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from echelon.monitor import challengers
from echelon.plan.forecast_fit import PLAN_CANDIDATES
from echelon.plan.model import ForecastSeries, PlanResult
from plan.bad_folders import TINY_AS_OF, TINY_RATES, write_tiny_folder
from storage.factories import AS_OF, make_plan_result

WEEKS = 26  # enough history for the plan's hold-out fit (16 periods + 4 held out)
WINDOW = (AS_OF.replace(month=1, day=1), AS_OF)  # a registry data window
MODELS = {("FOODS_1", "CA_1"): "AutoETS", ("FOODS_1", "CA_2"): "AutoETS",
          ("HOBBIES_1", "CA_1"): "TSB", ("HOBBIES_1", "CA_2"): "CrostonSBA"}  # fmt: skip


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


def long_demand(days: int, end: str = TINY_AS_OF) -> str:
    """demand.csv of the tiny series: ``days`` days of Poisson demand ending before ``end``."""
    rng = np.random.default_rng(5)
    first = np.datetime64(end) - days
    lines = ["item_id,location_id,ds,y"]
    for (item, store), rate in TINY_RATES.items():
        for d, y in enumerate(rng.poisson(rate, days)):
            lines.append(f"{item},{store},{first + d},{y}")
    return "\n".join(lines) + "\n"


def _series(item: str, loc: str, model: str, actual: list[float | None], mean: list[float]):
    return ForecastSeries(item=item, location=loc, model=model, history_ds=[], history=[],
                          ds=[AS_OF] * len(mean), actual=actual, mean=mean)  # fmt: skip


def with_models(models: dict[tuple[str, str], str], **kw: object) -> PlanResult:
    """The factory's result (FOODS_1 is segment AX, HOBBIES_1 BY) forecast by ``models``."""
    result = make_plan_result(**kw)  # type: ignore[arg-type]
    fc = [_series(i, loc, m, [10.0, 20.0, None], [12.0, 15.0, 9.0])
          for (i, loc), m in models.items()]  # fmt: skip
    return result.model_copy(update={"forecasts": fc})


def stored_run(db: str, models: dict[tuple[str, str], str], tag: str) -> tuple[int, PlanResult]:
    """:func:`with_models` stored as a plan from the store of dataset ``d`` (input hash from
    ``tag``): (run id, result)."""
    from echelon.storage import save_run

    result = with_models(models, input_hash=tag * 64,
                         parameters={"options": {"from_store": "d", "nowcast": False}})  # fmt: skip
    return save_run(db, result).id, result


EVALUATE = challengers.evaluate_challengers  # the policy as defined, before any patch


def rig_policy(monkeypatch: pytest.MonkeyPatch, best: str, loss: float, weeks: int) -> None:
    """The retraining policy at ingest with ``best`` at ``loss`` and every other plan candidate
    at 1 on every series, deciding on ``weeks`` consecutive weekly wins."""
    names = sorted({m for ms in PLAN_CANDIDATES.values() for m in ms})

    def losses(history: pd.DataFrame) -> pd.DataFrame:
        keys = history[["item_id", "location_id"]].drop_duplicates().itertuples(index=False)
        rows = [(i, loc, m, loss if m == best else 1.0) for i, loc in keys for m in names]
        return pd.DataFrame(rows, columns=["item_id", "location_id", "model", "loss"])

    monkeypatch.setattr(challengers, "candidate_losses", losses)
    monkeypatch.setattr(
        challengers, "evaluate_challengers", functools.partial(EVALUATE, weeks=weeks)
    )
