"""The plan's progress bars: one per stage, items done / total and an ETA."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress, TextColumn, TimeRemainingColumn

from echelon.cli.plan_cmds import StageBars, stage_progress
from echelon.plan.pipeline import STAGES


def _bars() -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=160)
    bars = Progress(TextColumn("{task.fields[count]}"), TimeRemainingColumn(), console=console)
    return bars, out


def test_counts_items_per_stage() -> None:
    bars, _ = _bars()
    update = StageBars(bars)
    assert bars.tasks[0].description == "forecasting demand"
    assert len(bars.tasks) == len(STAGES)
    update.set_items(5_000)
    update("place", 0.25)
    tasks = {t.description: t for t in bars.tasks}
    place = tasks["placing safety stock (GSM + simulation)"]
    assert place.fields["count"] == "1,250/5,000 items" and place.completed == 0.25
    forecast = tasks["forecasting demand"]
    assert forecast.completed == 1.0 and forecast.fields["count"] == "5,000/5,000 items"
    assert (
        tasks["exceptions"].fields["count"] == "0/5,000 items" and not tasks["exceptions"].started
    )
    update("unknown stage", 0.5)  # ignored
    update.finish()
    assert all(t.completed == 1.0 for t in bars.tasks)


def test_disabled_bars_do_nothing() -> None:
    with stage_progress(False) as update:
        update.set_items(3)
        update("place", 0.5)
    assert update.tasks == {}


def test_bars_show_count_and_eta() -> None:
    bars, out = _bars()
    with bars:
        update = StageBars(bars)
        update.set_items(40)
        update("forecast", 0.5)
    text = out.getvalue()
    assert "20/40 items" in text
