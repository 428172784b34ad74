"""A bounded property-based run of the REST API against its own OpenAPI schema (schemathesis):
every operation, as an admin holding a bearer token, on a seeded SQLite store, 20 generated
requests each; none may get a 500. Skipped when schemathesis is not installed.

(schemathesis' own pytest plugin fails with this pytest version, so the operations' hypothesis
strategies are driven directly.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from server_factories import SECRET, bearer, seed  # noqa: E402

from echelon.server.app import create_app  # noqa: E402
from storage.databases import fresh_database  # noqa: E402

BOUNDED = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def test_the_api_never_answers_500(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        seed(db)
        auth = bearer(db, "admin")
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(db, SECRET))
        checked, statuses = [], []
        for result in schema.get_all_operations():
            operation = result.ok()

            @BOUNDED
            @given(case=operation.as_strategy())
            def check(case: Any) -> None:
                response = case.call(headers=auth)
                statuses.append(response.status_code)
                assert response.status_code < 500, (case.path, response.text[:300])

            check()
            checked.append(operation.label)
    assert len(checked) == 16, checked
    assert len(statuses) >= 16 * 5 and {200, 404} <= set(statuses)
