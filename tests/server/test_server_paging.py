"""Paging of the long lists: the recommendation cards and the exceptions worklist show one page
with a "load more" link (HTMX swaps in the next page's fragment); filters carry over."""

from __future__ import annotations

import re
from pathlib import Path

from server_factories import htmx, login, password

from echelon.plan.model import ExceptionKind, PlanException, Severity
from echelon.server.workspace import EXC_PAGE_SIZE, REC_PAGE_SIZE, page_of
from echelon.storage import save_run
from echelon.storage.users import add_user
from storage.databases import fresh_database
from storage.factories import make_plan_result

N_RECS = 45  # 43 orders + a transfer + an expedite
N_EXC = 62  # the factory's 2 + 60


def _big_run(db: str) -> int:
    base = make_plan_result(n_orders=N_RECS - 2)
    extra = [
        PlanException(
            kind=ExceptionKind.DATA_QUALITY, severity=Severity.LOW, message=f"note number {i:02d}"
        )
        for i in range(N_EXC - len(base.exceptions))
    ]
    ref = save_run(db, base.model_copy(update={"exceptions": base.exceptions + extra}))
    add_user(db, "viewer", "viewer", password("viewer"))
    return ref.id


def test_page_of_clamps_and_counts() -> None:
    rows = list(range(45))
    first = page_of(rows, 1, 20)
    assert (first.rows, first.pages, first.total, first.next) == (rows[:20], 3, 45, 2)
    last = page_of(rows, 9, 20)  # past the end: the last page
    assert (last.number, last.rows, last.next) == (3, rows[40:], None)
    empty = page_of([], 1, 20)
    assert (empty.rows, empty.pages, empty.next) == ([], 1, None)


def test_recommendations_are_paged_with_load_more_and_filters(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        run = _big_run(db)
        c, token = login(db, "viewer")
        page = c.get(f"/runs/{run}/recommendations").text
        assert page.count('<article class="rec') == REC_PAGE_SIZE
        more = f"/runs/{run}/recommendations?page=2"
        assert f'hx-get="{more}"' in page and f"{N_RECS - REC_PAGE_SIZE} left of {N_RECS}" in page
        shown, fragment, pages = page, page, 1
        while "load-more" in fragment:  # follow the HTMX "load more" fragments to the end
            pages += 1
            fragment = c.get(f"/runs/{run}/recommendations?page={pages}", headers=htmx(token)).text
            assert "<html" not in fragment
            shown += fragment
        assert pages == -(-N_RECS // REC_PAGE_SIZE)
        assert fragment.count('<article class="rec') == N_RECS - (pages - 1) * REC_PAGE_SIZE
        keys = re.findall(r'<article class="rec[^"]*" data-key="([^"]+)"', shown)
        assert len(keys) == len(set(keys)) == N_RECS  # every card once over the pages
        one = c.get(f"/runs/{run}/recommendations?location=CA_30").text
        assert one.count('<article class="rec') == 1 and "load-more" not in one
        assert 'data-key="order:' in one and "CA_30" in one
        none = c.get(f"/runs/{run}/recommendations?status=approved").text
        assert "No recommendation matches." in none
        kept = c.get(f"/runs/{run}/recommendations?item=FOODS&status=proposed").text
        assert kept.count('<article class="rec') == REC_PAGE_SIZE
        assert (
            f'hx-get="/runs/{run}/recommendations?item=FOODS&amp;status=proposed&amp;page=2"'
            in kept
        )


def test_worklist_is_paged_with_load_more_rows(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        run = _big_run(db)
        c, token = login(db, "viewer")
        page = c.get(f"/runs/{run}/exceptions").text
        assert page.count('<tr class="sev-') == EXC_PAGE_SIZE
        assert page.index("runs out in 3 days") < page.index("note number")  # severity first
        more = f"/runs/{run}/exceptions?sort=severity&amp;page=2"
        assert f'hx-get="{more}"' in page
        rows = c.get(f"/runs/{run}/exceptions?sort=severity&page=2", headers=htmx(token)).text
        assert "<html" not in rows and rows.count('<tr class="sev-') == N_EXC - EXC_PAGE_SIZE
        assert "load-more" not in rows
        high = c.get(f"/runs/{run}/exceptions?severity=high").text
        assert high.count('<tr class="sev-') == 1 and "load-more" not in high
