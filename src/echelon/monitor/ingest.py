"""``echelon ingest``: one load into the data store — read and check, judge, apply, score.

:func:`ingest` reads the load (:mod:`echelon.monitor.loadfiles`; bad input: a ``DataError``,
nothing written), finds its data-quality problems against the store
(:mod:`echelon.monitor.quality`), applies it in one transaction
(:func:`echelon.storage.datastore.apply_load`: idempotent by content, corrections audited) and
then scores the stored plans of the dataset against the periods the load completed
(:mod:`echelon.monitor.scoring`) and, when a period was newly scored, evaluates the forecast
challengers of each segment against its champion (the retraining policy,
:mod:`echelon.monitor.challengers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from echelon.monitor.loadfiles import read_load
from echelon.plan.context import store_ids
from echelon.plan.model import PlanException

if TYPE_CHECKING:
    from echelon.monitor.challengers import Evaluation


@dataclass(frozen=True)
class IngestResult:
    """What one ``ingest`` did: the load's id, whether it changed anything (False: the same
    content was loaded before), rows added / corrected / unchanged per table, the findings and
    the forecast scores added, the retraining policy's evaluations of the scored period."""

    dataset: str
    load_id: int
    applied: bool
    counts: dict[str, dict[str, int]]
    findings: list[PlanException]
    scores_added: int = 0
    evaluations: list[Evaluation] = field(default_factory=list)


def ingest(target: str | Path, db: str | None, dataset: str) -> IngestResult:
    """Ingest the folder or file ``target`` into ``dataset`` of the store ``db``."""
    from echelon.monitor.quality import load_findings
    from echelon.monitor.scoring import score_dataset
    from echelon.storage.datastore import DataLoad, apply_load, read_dataset

    stored = read_dataset(db, dataset)
    real = _real(stored.tables["demand"])
    last = real["ds"].max().date() if len(real) else None
    files = read_load(Path(target), stored.files, last)
    ref = files.reference
    tables = {**stored.tables, "demand": real}
    findings = files.findings + load_findings(
        files.tables, tables, store_ids(ref.network), ref.item_ids, files.source
    )
    outcome = apply_load(
        db,
        DataLoad(
            dataset=dataset,
            content_hash=files.content_hash,
            source=files.source,
            files=files.files,
            tables=files.tables,
            findings=[f.model_dump(mode="json") for f in findings],
        ),
    )
    if not outcome.applied:
        return IngestResult(dataset, outcome.load_id, False, {}, [])
    from echelon.monitor.challengers import evaluate_challengers

    added = score_dataset(db, dataset) if "demand" in files.tables else 0
    evaluations = evaluate_challengers(db, dataset) if added else []
    return IngestResult(
        dataset, outcome.load_id, True, outcome.counts, findings, added, evaluations
    )


def _real(demand: pd.DataFrame) -> pd.DataFrame:
    """The real (not imputed) demand rows."""
    if demand.empty:
        return demand
    return demand[~demand["imputed"].astype(bool)].reset_index(drop=True)
