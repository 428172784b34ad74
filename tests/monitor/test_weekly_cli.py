"""The weekly loop through the entry point: ingest → plan --from-store → ingest (scores) →
monitor, re-runs that change nothing, planning on nowcasts, and one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from echelon.storage import load_run
from echelon.storage.datastore import read_dataset, read_scores, store_runs
from monitor.stores import tiny_load, write
from plan.bad_folders import TINY_RATES

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import run_cli

HEAD = "item_id,location_id,ds,y\n"


def week_csv(start: str, stores: tuple[str, ...] = ("S1", "S2"), days: int = 7) -> str:
    rng = np.random.default_rng(11)
    first = np.datetime64(start)
    return HEAD + "".join(
        f"{i},{s},{first + d},{rng.poisson(TINY_RATES[(i, s)])}\n"
        for (i, s) in TINY_RATES
        if s in stores
        for d in range(days)
    )


def test_the_weekly_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "store.db")
    code, out, err = run_cli(
        ["ingest", str(tiny_load(tmp_path / "data")), "--db", db, "--name", "tiny"], capsys
    )
    assert code == 0, err
    assert "demand: 448 added, 0 corrected, 0 unchanged" in out
    code, out, _ = run_cli(["ingest", str(tmp_path / "data"), "--db", db, "--name", "tiny"], capsys)
    assert code == 0 and "nothing changed" in out

    code, out, err = run_cli(["plan", "--from-store", "tiny", "--db", db, "--quiet"], capsys)
    assert code == 0, err
    assert "Stored as run 1" in out
    run = load_run(db, 1)
    assert run.as_of.isoformat() == "2024-04-22"
    assert run.parameters["options"] == {"from_store": "tiny", "nowcast": False}
    code, out, _ = run_cli(["plan", "--from-store", "tiny", "--db", db, "--quiet"], capsys)
    assert code == 0 and "nothing new stored" in out

    week = write(tmp_path / "w1" / "demand.csv", week_csv("2024-04-22"))
    code, out, err = run_cli(["ingest", str(week), "--db", db, "--name", "tiny"], capsys)
    assert code == 0, err
    assert "forecast scores: 4 added" in out
    scores = read_scores(db, "tiny")
    assert sorted(zip(scores.item_id, scores.location_id, strict=True)) == sorted(TINY_RATES)
    code, out, _ = run_cli(["monitor", "--db", db, "--name", "tiny"], capsys)
    assert code == 0 and "WAPE" in out and "4 scored series-periods" in out

    # S2 has not reported the last two days: planning on zeros vs on nowcasts
    late = write(
        tmp_path / "w2" / "demand.csv",
        week_csv("2024-04-29", ("S1",)) + week_csv("2024-04-29", ("S2",), 5)[len(HEAD) :],
    )
    code, out, _ = run_cli(["ingest", str(late), "--db", db, "--name", "tiny"], capsys)
    assert code == 0 and "store 'S2' has not reported its last 2 day(s)" in out
    code, _, err = run_cli(["plan", "--from-store", "tiny", "--db", db, "--quiet"], capsys)
    assert code == 0, err
    code, _, err = run_cli(
        ["plan", "--from-store", "tiny", "--db", db, "--quiet", "--nowcast"], capsys
    )
    assert code == 0, err
    demand = read_dataset(db, "tiny").tables["demand"]
    imputed = demand[demand.imputed.astype(bool)]
    assert sorted(set(imputed.location_id)) == ["S2"] and len(imputed) == 4
    zeros, nowcast = (load_run(db, r.id) for r in store_runs(db, "tiny")[-2:])
    assert zeros.parameters["options"]["nowcast"] is False
    assert nowcast.parameters["options"]["nowcast"] is True
    (marked,) = [e for e in nowcast.exceptions if "the plan uses nowcasts" in e.message]
    assert marked.location == "S2" and "2024-05-04, 2024-05-05" in marked.message
    assert not any("nowcasts" in e.message for e in zeros.exceptions)

    def s2_mean(result):  # type: ignore[no-untyped-def]
        return sum(p.mean_demand for p in result.placements if p.location == "S2")

    assert s2_mean(nowcast) > s2_mean(zeros)  # two days of zeros pull the forecast down

    # the real days arrive: they replace the nowcasts
    rest = write(
        tmp_path / "w3" / "demand.csv",
        HEAD + "".join(f"{i},S2,2024-05-0{d},3\n" for i in "AB" for d in (4, 5)),
    )
    code, out, _ = run_cli(["ingest", str(rest), "--db", db, "--name", "tiny"], capsys)
    assert code == 0 and "4 corrected" in out
    assert not read_dataset(db, "tiny").tables["demand"].imputed.astype(bool).any()
    code, out, _ = run_cli(["monitor", "--db", db, "--name", "tiny"], capsys)
    assert code == 0 and "nowcaster champion:" in out and "first selection" in out


def test_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "store.db")
    code, _, err = run_cli(["plan", "--db", db], capsys)
    assert code == 2 and "give a data folder or --from-store NAME" in err
    code, _, err = run_cli(["plan", "--from-store", "../x", "--db", db], capsys)
    assert code == 2 and "invalid dataset name" in err
    code, _, err = run_cli(["plan", "--from-store", "nothing", "--db", db], capsys)
    assert code == 2 and "no network.yaml for dataset 'nothing'" in err
    week = write(tmp_path / "w" / "demand.csv", HEAD + "A,S1,2024-04-22,3\n")
    code, _, err = run_cli(["ingest", str(week), "--db", db, "--name", "new"], capsys)
    assert code == 2 and "has no network.yaml" in err and "Traceback" not in err
    other = write(tmp_path / "o" / "sales.csv", HEAD)
    code, _, err = run_cli(["ingest", str(other), "--db", db], capsys)
    assert code == 2 and "unknown file name for ingest" in err
