"""Background jobs: a plan from an uploaded zip (unpacked safely, validated with the CLI's
messages) and what-if scenarios, polled through the API and the progress page."""

from __future__ import annotations

import io
import stat
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_factories import SECRET, csrf_of, password

from echelon.errors import DataError
from echelon.plan.data import load_context
from echelon.server import uploads
from echelon.server.app import create_app
from echelon.storage import list_runs
from echelon.storage.users import add_user
from plan.bad_folders import write_tiny_folder


def _zip(folder: Path, prefix: str = "tiny/", extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, prefix + f.name)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def _symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("items.csv")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    return buf.getvalue()


def test_a_good_zip_unpacks_flat_and_only_the_data_files(tmp_path: Path) -> None:
    folder = write_tiny_folder(tmp_path / "tiny")
    data = _zip(folder, extra={"__MACOSX/tiny/._items.csv": b"x", "tiny/notes.txt": b"hi"})
    out = uploads.unpack(data, tmp_path / "job" / "data")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in folder.iterdir())
    assert load_context(out).input_hash == load_context(folder).input_hash


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (b"not a zip", ["not a zip file"]),
        (lambda f: _zip(f, extra={"../evil.csv": b"x", "/abs/items.csv": b"x"}),
         ["'../evil.csv' (a '..' in its path)", "'/abs/items.csv' (an absolute path)"]),
        (lambda f: _zip(f, extra={"tiny\\..\\x": b"x"}), ["absolute path"]),
        (lambda f: _symlink_zip(), ["'items.csv' (a symbolic link)"]),
        (lambda f: _zip(f, extra={"other/items.csv": b"x"}), ["more than one data folder"]),
        (lambda f: _zip(f, prefix="", extra={}) * 0 + b"PK\x05\x06" + b"\0" * 18,
         ["no data folder file"]),
    ],
)  # fmt: skip
def test_unsafe_or_wrong_zips_are_refused_naming_every_entry(
    tmp_path: Path, data: Any, fragments: list[str]
) -> None:
    folder = write_tiny_folder(tmp_path / "tiny")
    blob = data(folder) if callable(data) else data
    with pytest.raises(DataError) as err:
        uploads.unpack(blob, tmp_path / "job" / "data", source="up.zip")
    line = err.value.one_line()
    assert "up.zip" in line
    for f in fragments:
        assert f in line, line
    assert not (tmp_path / "evil.csv").exists() and not (tmp_path / "job" / "data").exists()


def test_a_zip_bomb_is_cut_off_on_the_bytes_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_tiny_folder(tmp_path / "tiny")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("demand.csv", b"0" * 2_000_000)  # 2 MB that deflate to about 2 kB
    monkeypatch.setattr(uploads, "MAX_UNPACKED_BYTES", 1_000_000)
    assert len(buf.getvalue()) < 10_000
    with pytest.raises(DataError, match="unpacks to too much data"):
        uploads.unpack(buf.getvalue(), tmp_path / "job" / "data")
    assert not (tmp_path / "job" / "data").exists()  # nothing half-unpacked stays
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(DataError, match="too large"):
        uploads.unpack(_zip(folder), tmp_path / "job2")


def _wait(c: TestClient, job: str, headers: dict[str, str], limit_s: float = 600) -> Any:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        body = c.get(f"/api/v1/jobs/{job}", headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"job {job} did not finish")


def _planner(tmp_path: Path, folders: dict[str, Path] | None = None) -> tuple[TestClient, str, str]:
    db = str(tmp_path / "jobs.db")
    add_user(db, "planner", "planner", password("planner"))
    app = create_app(db, SECRET, data_folders=folders, work_dir=tmp_path / "work")
    c = TestClient(app, raise_server_exceptions=False)
    token = csrf_of(c.get("/login").text)
    creds = {"name": "planner", "password": password("planner"), "csrf_token": token}
    assert c.post("/login", data=creds, follow_redirects=False).status_code == 303
    return c, db, csrf_of(c.get("/plans/new").text)


def test_upload_plans_in_the_background_and_a_bad_folder_fails_with_the_cli_message(
    tmp_path: Path,
) -> None:
    folder = write_tiny_folder(tmp_path / "tiny")
    c, db, token = _planner(tmp_path)
    headers = {"X-CSRF-Token": token}
    r = c.post("/plans", files={"file": ("tiny.zip", _zip(folder))}, headers=headers,
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job = r.headers["location"].rsplit("/", 1)[1]
    page = c.get(f"/jobs/{job}").text
    assert 'id="job-progress"' in page  # the progress bar, polled by HTMX until finished
    body = _wait(c, job, headers)
    assert body["status"] == "done" and body["progress"] == 1.0, body
    assert [r.id for r in list_runs(db)] == [body["run_id"]] and body["created"] is True
    done = c.get(f"/jobs/{job}", headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in done and f'href="/runs/{body["run_id"]}"' in done

    (folder / "demand.csv").unlink()
    with pytest.raises(DataError) as expected:
        load_context(folder)
    api = c.post("/api/v1/plans", files={"file": ("bad.zip", _zip(folder))}, headers=headers)
    assert api.status_code == 202
    failed = _wait(c, api.json()["id"], headers)
    # the CLI's message, naming the file inside the upload rather than on the server's disk
    cli = expected.value.one_line().replace(str(folder), "bad.zip")
    assert failed["status"] == "failed" and failed["message"] == cli, failed

    refused = c.post("/plans", files={"file": ("x.zip", b"nope")}, headers=headers)
    assert refused.status_code == 400 and "not a zip file" in refused.text
    assert c.post("/api/v1/plans", files={"file": ("x.zip", b"nope")},
                  headers=headers).status_code == 409  # fmt: skip


def test_scenarios_run_in_the_background_on_a_named_data_folder(tmp_path: Path) -> None:
    from echelon.plan.service import plan_and_store

    folder = write_tiny_folder(tmp_path / "tiny")
    c, db, token = _planner(tmp_path, {"tiny": folder})
    run = plan_and_store(folder, db).run_id
    headers = {"X-CSRF-Token": token}
    assert c.get("/api/v1/data").json() == ["tiny"]
    page = c.get(f"/runs/{run}/scenarios").text
    assert '<option value="tiny">' in page
    unknown = c.post(f"/api/v1/runs/{run}/scenarios", json={"folder": "/etc"}, headers=headers)
    assert unknown.status_code == 404 and "unknown data folder" in unknown.text
    r = c.post(f"/runs/{run}/scenarios", data={"folder": "tiny", "reps": "2", "csrf_token": token},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    body = _wait(c, r.headers["location"].rsplit("/", 1)[1], headers)
    assert body["status"] == "done", body
    scenarios = {row["scenario"] for row in body["rows"]}
    assert len(scenarios) == 3 and all(0 <= row["fill_rate"] <= 1 for row in body["rows"])
    html = c.get(f"/jobs/{body['id']}").text
    assert 'id="scenario-outcomes"' in html
