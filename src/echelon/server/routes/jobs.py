"""Background jobs: a new plan from an uploaded data folder (zip) and what-if scenarios of a
data folder, their progress page (HTMX polling) and their status in the API.

The routes parse the request, check the role and hand the work to
:mod:`echelon.server.jobs` (the CLI's plan service); a scenario's data folder is named from
the server's list (``echelon serve --data``, uploads), never given as a path."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from echelon.errors import DataError
from echelon.server import auth
from echelon.server.jobs import Job, new_job, plan_work, scenario_work
from echelon.server.uploads import MAX_UPLOAD_BYTES, unpack
from echelon.server.web import is_htmx, redirect, render
from echelon.storage.db import StorageError
from echelon.storage.runs import list_runs
from echelon.storage.users import PLAN, READ, User

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["v1"])

Reader = Annotated[User, Depends(auth.allow(READ))]
Planner = Annotated[User, Depends(auth.allow(PLAN))]
RunPath = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="the run's id")]
MIN_REPS, MAX_REPS = 2, 50


class JobOut(BaseModel):
    id: str
    kind: str
    user: str
    label: str
    status: str = Field(description="queued | running | done | failed")
    stage: str
    progress: float = Field(description="0..1 over all stages")
    message: str
    run_id: int | None
    created: bool | None
    rows: list[dict[str, Any]] = Field(description="scenario outcomes (fill rates as fractions)")


class ScenarioIn(BaseModel):
    folder: str = Field(min_length=1, max_length=300, description="a name from GET /api/v1/data")
    reps: int = Field(default=10, ge=MIN_REPS, le=MAX_REPS)


def _settings(request: Request) -> auth.Settings:
    return auth.settings(request)


def _job(request: Request, job_id: str) -> Job:
    job = _settings(request).jobs.get(job_id)
    if job is None:
        raise StorageError("unknown job", field="job", found=repr(job_id[:40]),
                           fix="see /jobs for the jobs of this server")  # fmt: skip
    return job


def _out(j: Job) -> JobOut:
    return JobOut(
        id=j.id, kind=j.kind, user=j.user, label=j.label, status=j.status, stage=j.stage,
        progress=j.progress, message=j.message, run_id=j.run_id, created=j.created, rows=j.rows,
    )  # fmt: skip


def _run_exists(request: Request, run_id: int) -> None:
    if not any(r.id == run_id for r in list_runs(_settings(request).db)):
        raise StorageError(f"unknown run {run_id}", field="run", fix="see the runs page")


def _folder(request: Request, name: str) -> Path:
    folders = _settings(request).data_folders
    if name not in folders:
        raise StorageError(
            "unknown data folder", field="folder", found=repr(name[:100]),
            expected=" | ".join(folders) or "none (start the server with --data DIR)",
            fix="pick one of the server's data folders",
        )  # fmt: skip
    return folders[name]


def start_scenarios(request: Request, user: User, run_id: int, folder: str, reps: int) -> Job:
    _run_exists(request, run_id)
    path = _folder(request, folder)
    if not MIN_REPS <= reps <= MAX_REPS:
        raise StorageError("replications out of range", field="reps", found=str(reps),
                           expected=f"{MIN_REPS} to {MAX_REPS}", fix="choose fewer")  # fmt: skip
    job = new_job("scenario", user.name, folder, run_id)
    return _settings(request).jobs.submit(job, scenario_work(path, reps))


async def start_plan(request: Request, user: User, upload: UploadFile) -> Job:
    """Unpack the zip (refused at once when unsafe) and queue its plan."""
    s = _settings(request)
    name = Path(upload.filename or "upload.zip").name[:100]
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    job = new_job("plan", user.name, name)
    root = s.work_dir or Path(tempfile.gettempdir()) / "echelon-serve-uploads"
    folder = unpack(data, root / job.id / "data", source=name)
    s.data_folders[f"upload {job.id[:8]}: {name}"] = folder
    return s.jobs.submit(job, plan_work(folder, s.db))


# ----------------------------------------------------------------------------- pages
@router.get("/plans/new", response_class=HTMLResponse)
def upload_page(request: Request, user: Planner) -> Response:
    return render(request, "upload.html.j2", error="", max_mib=MAX_UPLOAD_BYTES // 2**20)


@router.post("/plans", response_class=HTMLResponse)
async def upload(request: Request, user: Planner, file: Annotated[UploadFile, File()]) -> Response:
    try:
        job = await start_plan(request, user, file)
    except DataError as exc:
        return render(request, "upload.html.j2", 400, error=exc.one_line(),
                      max_mib=MAX_UPLOAD_BYTES // 2**20)  # fmt: skip
    return redirect(f"/jobs/{job.id}")


@router.get("/runs/{run_id}/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, run_id: int, user: Planner) -> Response:
    _run_exists(request, run_id)
    folders = list(_settings(request).data_folders)
    return render(request, "scenarios.html.j2", run_id=run_id, folders=folders,
                  min_reps=MIN_REPS, max_reps=MAX_REPS)  # fmt: skip


@router.post("/runs/{run_id}/scenarios")
def scenarios(
    request: Request,
    run_id: int,
    user: Planner,
    folder: Annotated[str, Form(max_length=300)],
    reps: Annotated[int, Form(ge=MIN_REPS, le=MAX_REPS)] = 10,
) -> Response:
    job = start_scenarios(request, user, run_id, folder, reps)
    return redirect(f"/jobs/{job.id}")


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, user: Reader) -> Response:
    return render(request, "jobs.html.j2", jobs=_settings(request).jobs.all())


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, user: Reader) -> Response:
    template = "_job.html.j2" if is_htmx(request) else "job.html.j2"
    return render(request, template, job=_job(request, job_id))


# ----------------------------------------------------------------------------- API
@api_router.get("/jobs")
def api_jobs(request: Request, user: Reader) -> list[JobOut]:
    """The background jobs of this server process, newest first."""
    return [_out(j) for j in _settings(request).jobs.all()]


@api_router.get("/jobs/{job_id}")
def api_job(request: Request, job_id: str, user: Reader) -> JobOut:
    """A job's status and progress; its outcome when done (plan: ``run_id``; scenario:
    ``rows``), its one-line error when failed."""
    return _out(_job(request, job_id))


@api_router.get("/data")
def api_data(request: Request, user: Reader) -> list[str]:
    """The data folders this server offers for scenarios, by name."""
    return list(_settings(request).data_folders)


@api_router.post("/plans", status_code=202)
async def api_plan(request: Request, user: Planner, file: Annotated[UploadFile, File()]) -> JobOut:
    """Submit a plan: the data folder as a zip (validated like ``echelon plan``); 202 with the
    job to poll, 409 when the zip is refused."""
    return _out(await start_plan(request, user, file))


@api_router.post("/runs/{run_id}/scenarios", status_code=202)
def api_scenarios(
    request: Request,
    run_id: RunPath,
    body: ScenarioIn,
    user: Planner,
) -> JobOut:
    """What-if: DC closure, demand spike and supplier delay on a data folder of the server."""
    return _out(start_scenarios(request, user, run_id, body.folder, body.reps))
