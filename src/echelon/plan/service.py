"""The plan service: validate → plan → store → report, the one job the CLI, the demo and the
web server call (they only display what it returns).

:func:`plan_and_store` loads the data folder into its context (bad input: a ``DataError``,
nothing computed or written), checks the output paths and the database, then computes the
run's idempotency key from what it depends on only — the input hash, the parameters and the
echelon version (:func:`echelon.storage.runs.key_of`) — **before planning**: unchanged inputs
return the stored run at once. Before the key, the firm orders of the latest stored run of the
same plan name are read (approved, exported or overridden recommendations,
:mod:`echelon.plan.firm`): the plan counts them as open orders, keeps them as recommendations,
and they are part of the key, and so are the pinned forecast models (``pinned``, :func:`pins_key`).
Otherwise it plans (:func:`echelon.plan.pipeline.run_plan`),
stores the run in one transaction and writes the report / JSON from the stored run (atomic
writes). A failure before the save stores nothing; outputs are checked before any work.

This is the only module of ``echelon.plan`` that imports storage and report.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from echelon.fileio import atomic_write_text, check_output_path
from echelon.plan.context import PlanContext
from echelon.plan.data import INPUT_FILES, load_context
from echelon.plan.firm import FirmOrder, fingerprint, kept_recommendations, with_firm
from echelon.plan.model import PlanException, PlanResult, exception_order, plan_parameters
from echelon.plan.parallel import ClusterSpec, use_cluster

if TYPE_CHECKING:
    from echelon.plan.pipeline import Prepared
    from echelon.plan.scenarios import ScenarioOutcome
    from echelon.storage.runs import RunRef

Progress = Callable[[str, float], None]
Review = Callable[[PlanResult], Sequence[PlanException]]


@dataclass(frozen=True)
class StoredPlan:
    """A stored run: the result as stored (current statuses), its id, whether this call
    created it, and the files written."""

    result: PlanResult
    run_id: int
    created: bool
    db: str | None = None  # the database URL or file as given (None: the default)
    report: Path | None = None
    json: Path | None = None


def _check_outputs(
    folder: Path, db: str | None, outputs: Sequence[tuple[Path | None, str]]
) -> None:
    """Refuse an output that is the database, an input file, a folder or a special file."""
    from echelon.storage import database_files

    protected = [*database_files(db), *(folder / name for name in INPUT_FILES)]
    for path, what in outputs:
        if path is not None:
            check_output_path(path, protected=protected, what=what)


def _previous(db: str | None, name: str) -> PlanResult | None:
    """The latest stored run with the same plan name (for the large-change exceptions)."""
    from echelon.storage import load_run

    latest = _latest_id(db, name)
    return load_run(db, latest) if latest is not None else None


def _latest_id(db: str | None, name: str) -> int | None:
    from echelon.storage import list_runs

    return next((r.id for r in list_runs(db) if r.name == name), None)  # newest first


def _store_exists(db: str | None) -> bool:
    """False for a SQLite file that does not exist yet (it is not created here: a run that
    fails before its save leaves nothing behind); True for a server URL."""
    from echelon.storage import database_files

    files = database_files(db)
    return not files or any(f.exists() for f in files)


def firm_of(db: str | None, ctx: PlanContext) -> list[FirmOrder]:
    """The firm orders of the latest stored run named like ``ctx``'s plan that its plan
    keeps (:func:`echelon.plan.firm.firm_orders`, then :func:`~echelon.plan.firm.still_due`)."""
    from echelon.plan.firm import firm_orders, still_due
    from echelon.storage import load_run
    from echelon.storage.db import get_engine
    from echelon.storage.overrides import overrides_of

    if not _store_exists(db):
        return []
    get_engine(db)  # a bad URL or an unreachable server stops here
    run_id = _latest_id(db, ctx.config.name)
    if run_id is None:
        return []
    changed = {k: o.quantity for k, o in overrides_of(db, run_id).items()}
    return still_due(firm_orders(load_run(db, run_id), run_id, changed), ctx)


def plan_and_store(
    folder: str | Path,
    db: str | None = None,
    *,
    report: Path | None = None,
    json_out: Path | None = None,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
    extra_findings: Sequence[PlanException] = (),
    on_items: Callable[[int], None] | None = None,
    cluster: ClusterSpec | None = None,
    review: Review | None = None,
    pinned: Mapping[tuple[str, str], str] | None = None,
) -> StoredPlan:
    """Plan the data folder ``folder`` and store the run in ``db`` (module doc).

    ``report``/``json_out``: also write the HTML report / the result JSON of the stored run;
    ``progress(stage, fraction)``: called as the stages advance; ``options``: command options
    recorded with the run (they are part of its idempotency key); ``extra_findings``: exceptions
    found outside the folder (the data store's monitoring alerts), added to its findings;
    ``on_items(n)``: called with
    the number of items once the folder is loaded (progress bars count items); ``cluster``:
    run the per-item stages on a Dask cluster (:mod:`echelon.plan.parallel`; the same result,
    so it is not part of the idempotency key); ``review(result)``: exceptions about the planned
    result itself (the forecast-promotion gate of :mod:`echelon.monitor.champions`), added
    before it is stored; ``pinned``: (item, store) → the forecast model that series must use
    (the registered champion; :mod:`echelon.plan.forecasting`), part of the idempotency key."""
    from echelon.storage import load_run

    folder = Path(folder)
    ctx = load_context(folder)  # bad input stops here: nothing computed, nothing written
    ctx.findings.extend(extra_findings)
    if on_items is not None:
        on_items(len(ctx.item_ids))
    _check_outputs(folder, db, [(report, "--report"), (json_out, "--json")])
    firm = firm_of(db, ctx)
    ctx = with_firm(ctx, firm)
    if firm:
        options = {**(options or {}), "firm": fingerprint(firm)}
    if pinned:
        ctx = replace(ctx, pinned=dict(pinned))
        options = {**(options or {}), "pinned": pins_key(pinned)}
    stored = _stored_run(db, ctx, options)
    if stored is not None:
        result, run_id, created = load_run(db, stored.id), stored.id, False
    else:
        with use_cluster(cluster):
            result, run_id = _plan_and_save(ctx, db, progress, options, firm, review)
        created = True
    if report is not None:
        from echelon.report import write_report

        write_report(result, report)
    if json_out is not None:
        atomic_write_text(json_out, result.model_dump_json(indent=1))
    return StoredPlan(result, run_id, created, db, report, json_out)


def pins_key(pinned: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    """What of the pinned models enters the run's idempotency key (JSON-ready): the number
    of series per model and the SHA-256 of the sorted ``item,store,model`` lines."""
    lines = sorted(f"{i},{loc},{m}" for (i, loc), m in pinned.items())
    models = dict(sorted(Counter(pinned.values()).items()))
    return {"models": models, "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}


def _stored_run(db: str | None, ctx: PlanContext, options: dict[str, Any] | None) -> RunRef | None:
    """The stored run of these inputs and parameters, if any (:func:`_store_exists`)."""
    from echelon.storage.db import get_engine
    from echelon.storage.runs import find_run, key_of

    if not _store_exists(db):
        return None
    get_engine(db)  # a bad URL or an unreachable server stops here
    return find_run(db, key_of(ctx.input_hash, plan_parameters(ctx.config, options)))


def _plan_and_save(
    ctx: PlanContext,
    db: str | None,
    progress: Progress | None,
    options: dict[str, Any] | None,
    firm: list[FirmOrder],
    review: Review | None = None,
) -> tuple[PlanResult, int]:
    from echelon.plan.pipeline import run_plan  # a missing library stops here, nothing written
    from echelon.storage import load_run, save_run
    from echelon.storage.db import get_engine

    get_engine(db)  # a bad URL or an unreachable server stops before minutes of planning
    previous = _previous(db, ctx.config.name)
    result = run_plan(ctx, previous=previous, progress=progress, options=options)
    if firm:  # the firm orders first, then today's new recommendations
        recs = [*kept_recommendations(firm), *result.recommendations]
        result = result.model_copy(update={"recommendations": recs})
    if review is not None:
        found = sorted([*result.exceptions, *review(result)], key=exception_order)
        result = result.model_copy(update={"exceptions": found})
    ref = save_run(db, result)
    return load_run(db, ref.id), ref.id


@dataclass(frozen=True)
class ScenarioRun:
    """Disruption scenarios of a data folder's plan: its context, the placements behind them
    and the outcome per scenario and policy."""

    context: PlanContext
    prepared: Prepared
    outcomes: list[ScenarioOutcome]


def run_scenarios_for(
    folder: str | Path,
    scenario_files: Sequence[Path] = (),
    reps: int = 10,
    progress: Progress | None = None,
) -> ScenarioRun:
    """Plan ``folder`` (stages 1–2), then simulate its policies with and without each
    disruption (default: DC closure, demand spike, supplier delay; else the scenario files)."""
    from echelon.plan.pipeline import prepare
    from echelon.plan.scenarios import run_scenarios
    from echelon.sim.scenario import load_scenario

    ctx = load_context(folder)
    prep = prepare(ctx, progress)
    placed = prep.placements
    if not placed.items:
        return ScenarioRun(ctx, prep, [])
    net = next(iter(placed.items.values())).network
    scens = [load_scenario(p, net) for p in scenario_files] or None
    outcomes = run_scenarios(placed, reps, ctx.config.period_days, scens, progress=progress)
    return ScenarioRun(ctx, prep, outcomes)


def demo_and_store(
    out: Path,
    seed: int = 0,
    progress: Progress | None = None,
    on_items: Callable[[int], None] | None = None,
) -> tuple[Path, StoredPlan]:
    """``echelon demo``: write the M5 demo data folder under ``out``, plan and store it in
    ``out/echelon.db`` and write ``out/report.html``; returns the folder and the stored run."""
    from echelon.plan.demo_data import write_demo_folder

    folder = write_demo_folder(out / "data", seed=seed)
    stored = plan_and_store(
        folder,
        str(out / "echelon.db"),
        report=out / "report.html",
        progress=progress,
        options={"command": "demo"},
        on_items=on_items,
    )
    return folder, stored
