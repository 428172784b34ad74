"""Decision monitoring: what planners did with the recommendations of the plans from a dataset.

Per planner and segment (the ABC/XYZ segment of the line's item × location placement): lines
recommended, approved, rejected, overridden (a quantity changed by a planner, whatever its
status), still proposed, and the override rate = overridden / recommended. The planner of a
line is the last person who approved, rejected or overrode it ("—" while nobody has).

Not here yet: the realized service and inventory of overridden versus accepted lines (it needs
the demand after each order's arrival joined to the line; docs/weekly.md, "Not yet").
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["planner", "segment", "recommended", "approved", "rejected", "overridden",
           "proposed", "override_rate"]  # fmt: skip
DECIDING = ("approve", "reject", "override")


def decision_lines(db: str | None, dataset: str) -> pd.DataFrame:
    """One row per recommendation of the dataset's runs: run, key, segment, status, planner,
    overridden."""
    from echelon.storage import audit_log, load_run
    from echelon.storage.datastore import store_runs
    from echelon.storage.overrides import overrides_of

    rows = []
    for ref in store_runs(db, dataset):
        result = load_run(db, ref.id)
        segments = {(p.item, p.location): p.segment or "—" for p in result.placements}
        who: dict[str, str] = {}
        for entry in audit_log(db, ref.id):  # oldest first: the last decision wins
            if entry.action in DECIDING:
                who[entry.key] = entry.who
        changed = overrides_of(db, ref.id)
        for rec in result.recommendations:
            rows.append({
                "run_id": ref.id, "key": rec.key,
                "segment": segments.get((rec.item, rec.location), "—"),
                "status": rec.status.value, "planner": who.get(rec.key, "—"),
                "overridden": rec.key in changed,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["run_id", "key", "segment", "status", "planner",
                                       "overridden"])  # fmt: skip


def decision_summary(lines: pd.DataFrame) -> pd.DataFrame:
    """Counts and override rate per planner and segment (module doc), plus an 'all' row."""
    if lines.empty:
        return pd.DataFrame(columns=COLUMNS)
    frames = [lines, lines.assign(planner="all", segment="all")]
    both = pd.concat(frames, ignore_index=True)
    status = both["status"]
    both = both.assign(
        recommended=1,
        approved=status.isin(["approved", "exported"]).astype(int),
        rejected=(status == "rejected").astype(int),
        proposed=(status == "proposed").astype(int),
        overridden=both["overridden"].astype(int),
    )
    out = (
        both.groupby(["planner", "segment"], sort=True)[
            ["recommended", "approved", "rejected", "overridden", "proposed"]
        ]
        .sum()
        .reset_index()
    )
    out["override_rate"] = out["overridden"] / out["recommended"]
    return out[COLUMNS]
