"""Background jobs of the workspace: a new plan from an uploaded data folder, and disruption
scenarios (what-if) of a data folder — the CLI's ``echelon plan`` and ``echelon scenario``
(:func:`echelon.plan.service.plan_and_store`, :func:`~echelon.plan.service.run_scenarios_for`),
run off the request so that the page answers at once and shows a progress bar.

Jobs run one at a time (a plan uses a whole core for seconds to minutes; queued jobs wait) in
a worker thread of the server process; their state lives in memory (:class:`JobStore`) and is
lost when the server stops — the plans they store are in the run store. A job's progress is
the pipeline's ``progress(stage, fraction)`` mapped onto one bar: stage ``k`` of ``n`` at
fraction ``f`` is ``(k + f) / n``. A bad data folder fails the job with the CLI's one-line
message (``DataError``); any other error fails it with a reference id (the trace is logged).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from echelon.errors import InputError

log = logging.getLogger("echelon.server")

JobKind = Literal["plan", "scenario"]
JobStatus = Literal["queued", "running", "done", "failed"]
PLAN_STAGES = ("forecast", "place", "kpis", "shadow", "orders", "exceptions")
SCENARIO_STAGES = ("forecast", "place", "scenarios")
MAX_JOBS_KEPT = 200  # finished jobs beyond this are forgotten, oldest first


@dataclass
class Job:
    """One background job: written by the worker (one attribute at a time), read by
    requests."""

    id: str
    kind: JobKind
    user: str
    label: str  # what it works on (an upload's file name, a data folder's name)
    run_id: int | None = None  # the run it is about (scenario) or stored (plan)
    status: JobStatus = "queued"
    stage: str = ""
    progress: float = 0.0  # 0..1 over all stages
    message: str = ""  # the outcome or the error, one line
    created: bool | None = None  # plan: a new run (False: identical inputs, the stored run)
    rows: list[dict[str, Any]] = field(default_factory=list)  # scenario: one row per outcome
    currency: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


def scenario_rows(outcomes: list[Any]) -> list[dict[str, Any]]:
    """The scenario outcomes as table rows: fill rates (fractions), inventory value (money)
    and the number of stores below target with the disruption."""
    return [
        {
            "scenario": o.scenario,
            "description": o.description,
            "policy": o.policy.label,
            "fill_rate": o.baseline.fill_rate,
            "fill_rate_disrupted": o.disrupted.fill_rate,
            "change": o.fill_rate_change,
            "inventory_value_disrupted": o.disrupted.inventory_value,
            "stores_below_target": o.stores_below_target,
        }
        for o in outcomes
    ]


class JobStore:
    """The jobs of one server process and the worker that runs them (module doc)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="echelon-job")

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every job kept, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.at, reverse=True)

    def _update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(job, k, v)

    def _progress(self, job: Job, stages: tuple[str, ...]) -> Callable[[str, float], None]:
        def update(stage: str, fraction: float) -> None:
            k = stages.index(stage) if stage in stages else len(stages) - 1
            whole = (k + min(1.0, max(0.0, fraction))) / len(stages)
            self._update(job, stage=stage, progress=max(job.progress, min(1.0, whole)))

        return update

    def submit(self, job: Job, work: Callable[[Job, Callable[[str, float], None]], None]) -> Job:
        """Queue ``work(job, progress)``; it sets the job's outcome fields."""
        stages = PLAN_STAGES if job.kind == "plan" else SCENARIO_STAGES
        with self._lock:
            self._jobs[job.id] = job
            done = [j for j in self._jobs.values() if j.finished]
            for old in sorted(done, key=lambda j: j.at)[: max(0, len(done) - MAX_JOBS_KEPT)]:
                del self._jobs[old.id]

        def run() -> None:
            self._update(job, status="running")
            try:
                work(job, self._progress(job, stages))
            except InputError as exc:
                self._update(job, status="failed", message=exc.one_line())
            except Exception:  # a job never takes the server down
                ref = uuid.uuid4().hex[:12]
                log.exception("job %s failed: reference %s", job.id, ref)
                self._update(job, status="failed", message=f"internal error, reference {ref}")
            else:
                self._update(job, status="done", progress=1.0)

        self._pool.submit(run)
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def new_job(kind: JobKind, user: str, label: str, run_id: int | None = None) -> Job:
    return Job(uuid.uuid4().hex[:16], kind, user, label, run_id)


def in_upload(exc: InputError, folder: Path, upload: str) -> InputError:
    """``exc`` naming its file inside the uploaded zip (``upload/demand.csv``), not on the
    server's disk."""
    root = str(folder)
    if exc.source is not None and exc.source.startswith(root):
        exc.source = upload + exc.source[len(root) :]
        exc.args = (exc.one_line(),)
    return exc


def plan_work(folder: Path, db: str | None) -> Callable[[Job, Callable[[str, float], None]], None]:
    """A plan of ``folder`` stored in ``db`` (``echelon plan``)."""

    def work(job: Job, progress: Callable[[str, float], None]) -> None:
        from echelon.plan.service import plan_and_store

        try:
            stored = plan_and_store(folder, db, progress=progress, options={"command": "serve"})
        except InputError as exc:
            raise in_upload(exc, folder, job.label) from None
        what = "stored as run" if stored.created else "same inputs and decisions as run"
        job.run_id, job.created = stored.run_id, stored.created
        job.message = f"{what} {stored.run_id}"

    return work


def scenario_work(folder: Path, reps: int) -> Callable[[Job, Callable[[str, float], None]], None]:
    """The default disruption scenarios of ``folder``'s plan (``echelon scenario``)."""

    def work(job: Job, progress: Callable[[str, float], None]) -> None:
        from echelon.plan.service import run_scenarios_for

        done = run_scenarios_for(folder, (), reps, progress)
        job.rows = scenario_rows(done.outcomes)
        job.currency = done.context.config.currency
        job.message = (
            f"{len(job.rows)} scenario × policy outcomes" if job.rows else "no item could be placed"
        )

    return work
