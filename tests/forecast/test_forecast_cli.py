"""The ``echelon forecast`` / ``echelon backtest`` commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from echelon.cli.app import app
from echelon.errors import DataError

ECHELON = Path(sys.executable).with_name("echelon")


def _demand(path: Path) -> Path:
    rng = np.random.default_rng(0)
    ds = pd.date_range("2023-01-02", periods=40, freq="W-MON")
    rows = []
    for i in range(4):
        y = rng.poisson(6.0 if i < 2 else 0.5, len(ds))
        rows += [(f"item{i}", "s1", d.date(), v) for d, v in zip(ds, y, strict=True)]
    pd.DataFrame(rows, columns=["item", "store", "week", "units"]).to_csv(path, index=False)
    return path


def test_forecast_writes_quantile_columns(tmp_path: Path) -> None:
    src = _demand(tmp_path / "d.csv")
    out, lt = tmp_path / "f.parquet", tmp_path / "lt.csv"
    res = CliRunner().invoke(
        app,
        [
            "forecast",
            str(src),
            "--horizon",
            "4",
            "--quantiles",
            "0.5,0.9",
            "-L",
            "2",
            "--id-col",
            "item,store",
            "--ds-col",
            "week",
            "--y-col",
            "units",
            "--out",
            str(out),
            "--leadtime-out",
            str(lt),
            "--windows",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    f = pd.read_parquet(out)
    assert list(f.columns[:5]) == ["unique_id", "ds", "mean", "q0.5", "q0.9"]
    assert len(f) == 16 and (f["q0.9"] >= f["q0.5"]).all()
    t = pd.read_csv(lt)
    assert set(t["lead_time"]) == {2} and (t["q0.9"] >= t["q0.5"]).all()


def test_backtest_prints_tables(tmp_path: Path) -> None:
    src = _demand(tmp_path / "d.csv")
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            str(src),
            "--horizon",
            "4",
            "--windows",
            "2",
            "--id-col",
            "item,store",
            "--ds-col",
            "week",
            "--y-col",
            "units",
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "lowest spinball" in res.output  # the reason of a champion
    assert "calibration" in res.output
    assert len(pd.read_csv(tmp_path / "s.csv")) > 0


def test_bad_input_surfaces_data_error(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    pd.DataFrame(
        {"unique_id": ["a", "a"], "ds": ["2024-01-01", "2024-01-02"], "y": [1, -3]}
    ).to_csv(src, index=False)
    res = CliRunner().invoke(
        app, ["forecast", str(src), "-H", "2", "--out", str(tmp_path / "o.csv")]
    )
    assert isinstance(res.exception, DataError)
    assert res.exception.where == "row 3"


@pytest.mark.skipif(not ECHELON.exists(), reason="console script not installed")
def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2024-01-01", "not a date"], "y": [1, 2]}).to_csv(
        src, index=False
    )
    p = subprocess.run(
        [str(ECHELON), "forecast", str(src), "-H", "2", "--out", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert "bad.csv" in lines[0] and "row 3" in lines[0] and "unparseable date" in lines[0]
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_engine_option_runs_the_batched_engine(tmp_path: Path, command: str) -> None:
    src = _demand(tmp_path / "d.csv")
    out = tmp_path / "o.csv"
    args = [command, str(src), "-H", "4", "--id-col", "item,store", "--ds-col", "week"]
    args += ["--y-col", "units", "--out", str(out), "--engine", "batched"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) > 0


def test_unknown_engine_is_a_data_error_before_reading(tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"  # never read: the engine is checked first
    args = ["forecast", str(missing), "-H", "2", "--out", str(tmp_path / "o.csv")]
    res = CliRunner().invoke(app, [*args, "--engine", "x"])
    assert isinstance(res.exception, DataError)
    assert res.exception.field == "engine" and "batched" in str(res.exception)
