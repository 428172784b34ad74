"""HiGHS objects built by echelon print nothing (the licence banner would break JSON output)."""

from __future__ import annotations

import pytest

from echelon.highs import quiet_highs


def test_quiet_highs_prints_no_banner_and_still_solves(capfd: pytest.CaptureFixture[str]) -> None:
    h = quiet_highs()
    h.addVar(0.0, 10.0)
    h.changeColCost(0, -1.0)
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(-10.0)
    out, err = capfd.readouterr()
    assert out == "" and "HiGHS" not in err
