"""The REST API /api/v1 on SQLite and PostgreSQL (bearer tokens), the planner → approver →
export flow with an override, and the run store keeping older databases working."""

from __future__ import annotations

import csv
import io

import pytest
from server_factories import bearer, client, seed
from sqlalchemy import create_engine, inspect, text

from echelon.storage import audit_log, dispose_engines, list_runs
from echelon.storage.db import resolve_url
from echelon.storage.users import authenticate, user_for_token

KEY = "order:FOODS_1:DC_CA->CA_1"


def test_api_reads_runs_recommendations_and_exceptions(db_url: str) -> None:
    run = seed(db_url)
    c, auth = client(db_url), bearer(db_url, "viewer")
    runs = c.get("/api/v1/runs", headers=auth).json()
    assert [r["id"] for r in runs] == [run] and runs[0]["review_progress"] == 0.0
    detail = c.get(f"/api/v1/runs/{run}", headers=auth).json()
    assert detail["name"] == "demo" and len(detail["recommendations"]) == 6
    recs = c.get(f"/api/v1/runs/{run}/recommendations", headers=auth).json()
    assert recs[0]["key"] == KEY and recs[0]["status"] == "proposed"
    assert recs[0]["explanation"].startswith("order 12 units")
    exc = c.get(f"/api/v1/runs/{run}/exceptions", headers=auth).json()
    assert [e["severity"] for e in exc] == ["high", "low"]
    assert c.get("/api/v1/runs/99", headers=auth).status_code == 404
    assert c.get("/api/v1/runs", headers={"Authorization": "Bearer ech_nope"}).status_code == 401


def test_override_approve_export_through_the_api(db_url: str) -> None:
    run = seed(db_url)
    c = client(db_url)
    planner, approver = bearer(db_url, "planner"), bearer(db_url, "approver")
    base = f"/api/v1/runs/{run}"
    body = {"key": KEY, "quantity": 20, "reason": "promotion next week"}
    assert c.post(f"{base}/recommendations/override", json=body, headers=planner).json() == {
        "changed": [KEY]
    }
    refused = c.post(f"{base}/recommendations/approve", json={"keys": [KEY]}, headers=planner)
    assert refused.status_code == 403
    ok = c.post(f"{base}/recommendations/approve", json={"keys": [KEY]}, headers=approver)
    assert ok.json() == {"changed": [KEY]}
    again = c.post(f"{base}/recommendations/approve", json={"keys": [KEY]}, headers=approver)
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    exported = c.post(f"{base}/export?format=csv", headers=approver)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["key"], r["quantity"], r["value"]) for r in rows] == [(KEY, "20", "50")]
    assert c.post(f"{base}/export", headers=approver).status_code == 409  # nothing approved left
    recs = c.get(f"{base}/recommendations", headers=approver).json()
    first = next(r for r in recs if r["key"] == KEY)
    assert (first["status"], first["quantity"], first["planned_quantity"]) == ("exported", 20, 12)
    trail = [(a.action, a.who) for a in audit_log(db_url, run)]
    assert trail == [("override", "planner"), ("approve", "approver"), ("export", "approver")]
    assert "12 → 20: promotion next week" in (audit_log(db_url, run)[0].comment or "")
    late = c.post(f"{base}/recommendations/override", json=body, headers=planner)
    assert late.status_code == 409  # an exported order is final


def test_export_as_json_and_an_override_sends_an_approved_order_back_to_review(
    db_url: str,
) -> None:
    run = seed(db_url)
    c, planner, approver = client(db_url), bearer(db_url, "planner"), bearer(db_url, "approver")
    base = f"/api/v1/runs/{run}/recommendations"
    c.post(f"{base}/approve", json={"keys": [KEY]}, headers=approver)
    body = {"key": KEY, "quantity": 0, "reason": "store closed"}
    c.post(f"{base}/override", json=body, headers=planner)
    status = {r["key"]: r["status"] for r in c.get(base, headers=planner).json()}
    assert status[KEY] == "proposed"
    c.post(f"{base}/approve", json={"keys": [KEY]}, headers=approver)
    records = c.post(f"/api/v1/runs/{run}/export?format=json", headers=approver).json()
    assert records == [
        {
            "run_id": run, "key": KEY, "kind": "order", "item": "FOODS_1", "location": "CA_1",
            "source": "DC_CA", "quantity": 0.0, "unit_cost": 2.5, "value": 0.0,
            "arrival": "2016-04-25",
        }
    ]  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {"key": KEY, "quantity": -1, "reason": "x"},
        {"key": KEY, "quantity": 1, "reason": ""},
        {"key": KEY, "quantity": "lots", "reason": "x"},
        {"quantity": 1, "reason": "x"},
    ],
)
def test_bad_api_input_is_a_422_never_a_500(seeded: tuple[str, int], body: dict) -> None:
    db, run = seeded
    r = client(db).post(
        f"/api/v1/runs/{run}/recommendations/override", json=body, headers=bearer(db, "planner")
    )
    assert r.status_code == 422


def test_tokens_and_passwords_are_stored_hashed(db_url: str) -> None:
    seed(db_url)
    token = bearer(db_url, "admin")["Authorization"].split()[1]
    engine = create_engine(resolve_url(db_url))
    with engine.connect() as conn:
        hashes = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
        pw = conn.execute(text("SELECT password_hash FROM users")).scalars().all()
    engine.dispose()
    assert token not in hashes and len(hashes[0]) == 64
    assert all(h.startswith("$argon2id$") for h in pw)
    user = user_for_token(db_url, token)
    assert user is not None and user.name == "admin"
    assert authenticate(db_url, "admin", "wrong") is None
    assert authenticate(db_url, "nobody", "whatever") is None


def test_a_store_written_before_the_workspace_gets_its_new_tables(db_url: str) -> None:
    seed(db_url)
    engine = create_engine(resolve_url(db_url))
    with engine.begin() as conn:
        for table in ("api_tokens", "users", "overrides"):
            conn.execute(text(f"DROP TABLE {table}"))
    engine.dispose()
    dispose_engines()
    assert len(list_runs(db_url)) == 1  # opened again: the missing tables are created
    engine = create_engine(resolve_url(db_url))
    assert {"users", "api_tokens", "overrides"} <= set(inspect(engine).get_table_names())
    engine.dispose()
