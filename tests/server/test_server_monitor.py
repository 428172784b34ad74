"""The monitoring page: the same view as ``echelon monitor`` (viewer and up), an unknown
dataset is a 404, and text from the store (an approver's name) is rendered inert."""

from __future__ import annotations

from pathlib import Path

from server_factories import EVIL, login, seed

from echelon.monitor.champions import Registered, gate, segment_champions
from echelon.monitor.ingest import ingest
from echelon.storage import save_run
from echelon.storage.promotions import approve_promotion, record_verdicts
from monitor.stores import tiny_load
from storage.databases import fresh_database
from storage.factories import AS_OF, make_plan_result


def test_the_monitoring_page(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        seed(db)
        c, _ = login(db, "viewer")
        page = c.get("/monitor")
        assert page.status_code == 200 and "holds no dataset yet" in page.text
        ingest(tiny_load(tmp_path / "data"), db, "tiny")
        result = make_plan_result(input_hash="e" * 64,
                                  parameters={"options": {"from_store": "tiny"}})  # fmt: skip
        run = save_run(db, result).id
        verdicts = gate(segment_champions(result), {"AX": Registered("Zero", 0.0)})
        (pid,) = record_verdicts(db, "tiny", run, verdicts, (AS_OF, AS_OF))
        approve_promotion(db, pid, EVIL)
        page = c.get("/monitor?name=tiny")
        assert page.status_code == 200
        text = page.text
        for part in ('id="accuracy"', 'id="decisions"', 'id="outcomes"', "segment AX: champion",
                     "Model card: nowcaster", 'href="/monitor"'):  # fmt: skip
            assert part in text, part
        assert EVIL not in text and "approved by &lt;" in text
        assert c.get("/monitor?name=nothing").status_code == 404
