"""Metrics on hand-computed values and their properties."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from utilsforecast import losses

from echelon.forecast import metrics as mt


def test_pinball_known_values() -> None:
    assert mt.pinball(np.array([10.0]), np.array([8.0]), 0.9)[0] == pytest.approx(1.8)
    assert mt.pinball(np.array([10.0]), np.array([12.0]), 0.9)[0] == pytest.approx(0.2)
    assert mt.mean_pinball(np.array([10.0]), np.array([[8.0, 12.0]]), [0.5, 0.9])[0] == (
        pytest.approx((1.0 + 0.2) / 2)
    )


@given(
    y=st.floats(0, 1e4, allow_nan=False),
    q=st.floats(0, 1e4, allow_nan=False),
    tau=st.floats(0.01, 0.99),
)
@settings(max_examples=200, deadline=None)
def test_pinball_nonnegative_and_zero_at_truth(y: float, q: float, tau: float) -> None:
    assert mt.pinball(np.array([y]), np.array([q]), tau)[0] >= 0
    assert mt.pinball(np.array([y]), np.array([y]), tau)[0] == 0


def test_point_metrics_hand_computed() -> None:
    train = pd.DataFrame({"unique_id": "a", "ds": range(4), "y": [1.0, 2.0, 3.0, 4.0]})
    test = pd.DataFrame({"unique_id": "a", "ds": [4, 5], "y": [5.0, 6.0], "m": [4.0, 4.0]})
    pm = mt.point_metrics(test, ["m"], train, season=1).iloc[0]
    # in-sample naive MAE = 1, MSE = 1; errors -1, -2
    assert pm["mase"] == pytest.approx(1.5)
    assert pm["rmsse"] == pytest.approx(np.sqrt(2.5))
    s = mt.summarize_point(mt.point_metrics(test, ["m"], train, season=1))
    assert s["wape"].iloc[0] == pytest.approx(3 / 11)
    assert s["bias"].iloc[0] == pytest.approx(-3 / 11)


def test_calibration_and_coverage() -> None:
    y = np.arange(100, dtype=float)
    df = pd.DataFrame({"y": y, "q0.1": 9.5, "q0.5": 49.5, "q0.9": 89.5})
    cal = mt.calibration_table(df, [0.1, 0.5, 0.9])
    q = cal[cal["kind"] == "quantile"].set_index("nominal")["observed"]
    assert q.loc[0.1] == pytest.approx(0.10) and q.loc[0.9] == pytest.approx(0.90)
    iv = cal[cal["kind"] == "interval"].iloc[0]
    assert iv["nominal"] == pytest.approx(0.8) and iv["observed"] == pytest.approx(0.8)
    assert mt.coverage(df, "q0.1", "q0.9") == pytest.approx(0.8)


def test_scale_of_zero_series_is_one() -> None:
    tr = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "y": [0.0, 0.0, 2.0, 4.0]})
    s = mt.scale_of(tr)
    assert s["a"] == 1.0 and s["b"] == 3.0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), season=st.sampled_from([1, 4, 52]))
def test_point_metrics_equal_utilsforecast(seed: int, season: int) -> None:
    """MASE and RMSSE computed in one grouping equal utilsforecast's, bit for bit."""
    rng = np.random.default_rng(seed)
    trains, tests = [], []
    for k in range(6):
        n = int(rng.integers(3, 70))
        y = rng.gamma(1.5, 4.0, n + 5) * (rng.random(n + 5) < 0.7)
        uid = f"s{k}"
        trains.append(pd.DataFrame({"unique_id": uid, "ds": range(n), "y": y[:n]}))
        fut = {"m1": rng.gamma(2.0, 3.0, 5), "m2": rng.gamma(1.0, 3.0, 5)}
        tests.append(pd.DataFrame({"unique_id": uid, "ds": range(n, n + 5), "y": y[n:], **fut}))
    train, test = pd.concat(trains, ignore_index=True), pd.concat(tests, ignore_index=True)
    got = mt.point_metrics(test, ["m1", "m2"], train, season).set_index(["unique_id", "model"])
    for name in ("mase", "rmsse"):
        fn = getattr(losses, name)
        want = fn(test, ["m1", "m2"], season, train).melt("unique_id", var_name="model")
        want = want.set_index(["unique_id", "model"])["value"]
        assert np.array_equal(got.loc[want.index, name].to_numpy(), want.to_numpy(), equal_nan=True)


def test_naive_scales_known_answer_of_the_string_groupby_code() -> None:
    """Bit-identical to the code before naive_scales grouped once by integer codes (digests
    of index and values, recorded with that code): 200 shuffled series of 1 … 79 periods."""
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame({"unique_id": f"s{k}", "y": rng.poisson(3.0, n).astype(float)})
        for k, n in enumerate(rng.integers(1, 80, 200))
    ]
    df = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=1)
    df.index = df.index + 7
    for season, want in ((1, "90cc68cf1e5f3fbb"), (52, "9ee9be0bc99e6259")):
        c = mt.naive_scales(df, season)
        blob = pd.util.hash_pandas_object(c).to_numpy().tobytes() + c.to_numpy().tobytes()
        assert c.index.name == "unique_id"
        assert hashlib.sha256(blob).hexdigest()[:16] == want
