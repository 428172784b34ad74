"""The run store: plan runs, recommendation statuses and the audit trail in a SQL database.

SQLite by default (one file: ``$ECHELON_DB`` or ``echelon.db`` in the current folder),
PostgreSQL by URL (``postgresql://user:pass@host:port/db``, psycopg 3 driver). Public API:

- :func:`save_run` — store a ``PlanResult`` in one transaction (idempotent);
- :func:`list_runs`, :func:`load_run` — what is stored (statuses as they are now);
- :func:`set_status` — approve / reject recommendations (audited);
- :func:`export_approved` — the approved recommendations as a CSV for an ERP (→ exported);
- :func:`export_records` — the same as records (web download, API), marked exported;
- :func:`override_quantity`, :func:`add_comment` — a planner's changes (audited);
- :func:`audit_log` — who changed what, when;
- users, roles and API tokens of ``echelon serve``: :mod:`echelon.storage.users`.

Errors are :class:`StorageError` (an ``InputError``: one line, CLI exit status 2).
"""

from echelon.storage.db import (
    StorageError,
    database_files,
    dispose_engines,
    redact_url,
    resolve_url,
)
from echelon.storage.overrides import add_comment, override_quantity
from echelon.storage.review import (
    EXPORT_COLUMNS,
    TRANSITIONS,
    AuditEntry,
    audit_log,
    export_approved,
    export_records,
    set_status,
)
from echelon.storage.runs import RunRef, RunSummary, list_runs, load_run, run_key, save_run

__all__ = [
    "EXPORT_COLUMNS",
    "TRANSITIONS",
    "AuditEntry",
    "RunRef",
    "RunSummary",
    "StorageError",
    "add_comment",
    "audit_log",
    "database_files",
    "dispose_engines",
    "export_approved",
    "export_records",
    "list_runs",
    "load_run",
    "override_quantity",
    "redact_url",
    "resolve_url",
    "run_key",
    "save_run",
    "set_status",
]
