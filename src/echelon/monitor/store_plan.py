"""``echelon plan --from-store NAME``: plan from what the data store holds.

The stored dataset is written out as a plan data folder (:func:`write_folder`, in a temporary
folder) and planned by :func:`echelon.plan.service.plan_and_store` — the same loader, checks,
``PlanContext`` and idempotency as a folder of files, not a second loader. The folder holds:

- the stored snapshot files (network.yaml, items.csv, targets.yaml, on_order.csv) as ingested;
  plan.yaml without ``as_of``: from the store the plan date is the day after the last stored
  demand day;
- demand.csv: the real demand rows, plus the imputed (nowcast) ones when ``use_nowcast`` is
  set; without it the days a late store has not reported are missing and the loader fills
  them with 0 (a finding) — planning on nowcasts is an explicit setting;
- inventory.csv: the latest snapshot of each item × location; lead_times.csv: every stored
  observation.

The run's options record ``from_store`` and ``nowcast`` (part of its idempotency key: the same
stored state and settings give the stored run at once), and ``promotion_threshold`` when it is
not the default. The forecast-drift alerts of the dataset (:mod:`echelon.monitor.drift`) are
added to the plan's exceptions, and so is the forecast-promotion gate
(:mod:`echelon.monitor.champions`): a new run's segment champions are registered
(:mod:`echelon.storage.promotions`) after it is stored. Each series forecasts with the
registered champion of its segment (:func:`echelon.monitor.challengers.pinned_champions`,
part of the idempotency key): a promotion by the retraining policy changes the next plan's
model, a rejected one keeps the old.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from echelon.errors import DataError
from echelon.fileio import atomic_write_text
from echelon.monitor.champions import (
    THRESHOLD,
    Registered,
    Verdict,
    gate,
    pending_exceptions,
    segment_champions,
)
from echelon.plan.model import PlanException, PlanResult

if TYPE_CHECKING:
    from echelon.monitor.nowcast import NowcastOutcome
    from echelon.plan.parallel import ClusterSpec
    from echelon.plan.service import StoredPlan
    from echelon.storage.datastore import StoredData

Progress = Callable[[str, float], None]
COPIED = ("network.yaml", "items.csv", "targets.yaml", "on_order.csv")


def write_folder(stored: StoredData, folder: Path, dataset: str, use_nowcast: bool) -> Path:
    """Write the stored dataset as a plan data folder at ``folder`` (module doc)."""
    for name in ("network.yaml", "items.csv"):
        if name not in stored.files:
            raise DataError(
                f"the store has no {name} for dataset '{dataset}'",
                field="--from-store",
                fix=f"`echelon ingest FOLDER --name {dataset}` with {name} first",
            )
    demand = stored.tables["demand"]
    if not use_nowcast and not demand.empty:
        demand = demand[~demand["imputed"].astype(bool)]
    if demand.empty:
        raise DataError(
            f"the store has no demand for dataset '{dataset}'",
            field="--from-store",
            fix=f"`echelon ingest demand.csv --name {dataset}`",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        if name in stored.files:
            atomic_write_text(folder / name, stored.files[name])
    config = yaml.safe_load(stored.files.get("plan.yaml", "")) or {}
    if isinstance(config, dict):
        config.pop("as_of", None)
    atomic_write_text(folder / "plan.yaml", yaml.safe_dump(config, sort_keys=False))
    _csv(folder / "demand.csv", demand[["item_id", "location_id", "ds", "y"]])
    inventory = stored.tables["inventory"]
    if inventory.empty:
        _csv(folder / "inventory.csv", pd.DataFrame(columns=["item_id", "location_id", "on_hand"]))
    else:
        latest = inventory.sort_values("date").groupby(["item_id", "location_id"]).tail(1)
        _csv(
            folder / "inventory.csv",
            latest.sort_values(["item_id", "location_id"])[
                ["item_id", "location_id", "on_hand", "backorders"]
            ],
        )
    lead = stored.tables["lead_times"]
    if not lead.empty:
        _csv(folder / "lead_times.csv", lead[["from_id", "to_id", "lead_time_days"]])
    return folder


def _csv(path: Path, frame: pd.DataFrame) -> None:
    text = frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")
    atomic_write_text(path, text)


def plan_from_store(
    db: str | None,
    dataset: str,
    *,
    use_nowcast: bool = False,
    report: Path | None = None,
    json_out: Path | None = None,
    progress: Progress | None = None,
    on_items: Callable[[int], None] | None = None,
    cluster: ClusterSpec | None = None,
    promotion_threshold: float = THRESHOLD,
) -> StoredPlan:
    """Plan ``dataset`` of the store ``db`` and store the run there (module doc); ``progress``,
    ``on_items`` and ``cluster`` as in :func:`echelon.plan.service.plan_and_store`;
    ``promotion_threshold``: the relative change of a segment's safety stock value above which
    a new forecast champion waits for approval."""
    from echelon.monitor.challengers import pinned_champions
    from echelon.monitor.drift import drift_exceptions
    from echelon.plan.service import plan_and_store
    from echelon.storage.datastore import read_dataset

    if not (math.isfinite(promotion_threshold) and promotion_threshold >= 0):
        raise DataError(
            "the promotion threshold must be a finite fraction ≥ 0",
            field="--promotion-threshold", found=repr(promotion_threshold),
            fix="give e.g. 0.2 for 20 %",
        )  # fmt: skip
    marked = imputed_findings(nowcast_dataset(db, dataset)) if use_nowcast else []
    stored = read_dataset(db, dataset)
    options: dict[str, object] = {"from_store": dataset, "nowcast": use_nowcast}
    if promotion_threshold != THRESHOLD:
        options["promotion_threshold"] = promotion_threshold
    verdicts: list[Verdict] = []

    def review(result: PlanResult) -> list[PlanException]:
        verdicts.extend(gate(segment_champions(result), registered(db, dataset),
                             promotion_threshold))  # fmt: skip
        return pending_exceptions(verdicts, dataset)

    with tempfile.TemporaryDirectory(prefix="echelon-store-") as tmp:
        folder = write_folder(stored, Path(tmp) / "data", dataset, use_nowcast)
        done = plan_and_store(
            folder,
            db,
            report=report,
            json_out=json_out,
            progress=progress,
            on_items=on_items,
            cluster=cluster,
            options=options,
            extra_findings=[*marked, *drift_exceptions(db, dataset)],
            review=review,
            pinned=pinned_champions(db, dataset),
        )
    if done.created and verdicts:
        from echelon.storage.promotions import record_verdicts

        demand = stored.tables["demand"]
        first = pd.Timestamp(demand["ds"].min()).date()
        last = done.result.as_of - timedelta(days=1)
        record_verdicts(db, dataset, done.run_id, verdicts, (first, last))
    return done


def registered(db: str | None, dataset: str) -> dict[str, Registered]:
    """The registered forecast champion of each segment of ``dataset``."""
    from echelon.storage.promotions import registered_champions

    return {s: Registered(m, v) for s, (m, v) in registered_champions(db, dataset).items()}


def nowcast_dataset(db: str | None, dataset: str, seed: int = 0) -> NowcastOutcome:
    """Nowcast the dataset's unreported store-days (:mod:`echelon.monitor.nowcast`) and store
    them as imputed rows (audited; replaced when the real rows arrive)."""
    from echelon.monitor.nowcast import nowcast_frame
    from echelon.monitor.retrain import FEATURES, Decision, K, decide
    from echelon.storage.datastore import (
        add_registry_entry,
        read_dataset,
        registry_entries,
        save_imputations,
    )

    demand = read_dataset(db, dataset).tables["demand"]
    real = demand[~demand["imputed"].astype(bool)]
    if real.empty:
        raise DataError(f"the store has no demand for dataset '{dataset}'", field="--nowcast")
    entries = registry_entries(db, dataset, "nowcaster")
    champion = str(entries[-1]["model"]) if entries else None
    earlier = [dict(e["metrics"]) for e in entries[len(entries) - (K - 1) :]] if K > 1 else []
    decided: list[Decision] = []

    def pick(scores: dict[str, float]) -> str:
        decided.append(decide(champion, [*earlier, scores]))
        return decided[-1].model

    outcome = nowcast_frame(real, seed, pick)
    save_imputations(db, dataset, outcome.rows)
    add_registry_entry(
        db, dataset=dataset, kind="nowcaster", model=decided[-1].model,
        data_start=real["ds"].min().date(), data_end=real["ds"].max().date(),
        features=FEATURES.get(decided[-1].model, []), metrics=outcome.scores,
        promoted=decided[-1].promoted, reason=decided[-1].reason,
    )  # fmt: skip
    return outcome


def imputed_findings(outcome: NowcastOutcome) -> list[PlanException]:
    """One finding per store whose demand the plan takes from nowcasts (they are marked
    ``imputed`` in the store and replaced when the real rows arrive)."""
    from echelon.plan.model import ExceptionKind, Severity

    out = []
    wape = outcome.scores[outcome.method]
    for store, rows in outcome.rows.groupby("location_id", sort=True):
        days = sorted({d.date().isoformat() for d in rows["ds"]})
        out.append(
            PlanException(
                kind=ExceptionKind.DATA_QUALITY,
                severity=Severity.MEDIUM,
                message=(
                    f"store '{store}' has not reported {', '.join(days)}: the plan uses "
                    f"nowcasts of {len(rows)} item-days ({outcome.method}, backtest WAPE "
                    f"{wape:.1%}), replaced when the real data arrive"
                ),
                location=str(store),
                value=float(rows["y"].sum()),
            )
        )
    return out
