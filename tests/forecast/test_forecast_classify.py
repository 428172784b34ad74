"""Syntetos–Boylan classification on hand-made series."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from echelon.forecast.classify import adi_cv2, classify, label


def _frame(series: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(k, i, v) for k, ys in series.items() for i, v in enumerate(ys)]
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"])


def test_known_adi_cv2() -> None:
    adi, cv2 = adi_cv2(np.array([0, 0, 5, 0, 0, 5, 0, 0, 6, 0]))
    assert adi == pytest.approx(10 / 3)
    # sizes 5, 5, 6: mean 16/3, population variance 2/9 → CV² = (2/9) / (256/9)
    assert cv2 == pytest.approx(2 / 256)


def test_four_classes_and_zero() -> None:
    df = _frame(
        {
            "smooth": [5, 6, 5, 7, 6, 5, 6, 5],
            "erratic": [1, 20, 2, 30, 1, 25, 3, 40],
            "intermittent": [0, 0, 5, 0, 0, 5, 0, 0, 6, 0],
            "lumpy": [0, 0, 1, 0, 0, 30, 0, 0, 2, 0],
            "zero": [0, 0, 0, 0],
        }
    )
    out = classify(df).set_index("unique_id")
    for name in ("smooth", "erratic", "intermittent", "lumpy", "zero"):
        assert out.loc[name, "demand_class"] == name


def test_leading_zeros_are_trimmed() -> None:
    df = _frame({"new": [0] * 20 + [4, 5, 4, 5, 4, 5]})
    out = classify(df).iloc[0]
    assert out["n_obs"] == 6 and out["adi"] == pytest.approx(1.0)
    assert out["demand_class"] == "smooth"
    assert classify(df, trim_leading_zeros=False).iloc[0]["demand_class"] == "intermittent"


@pytest.mark.parametrize(
    ("adi", "cv2", "cls"),
    [
        (1.31, 0.48, "smooth"),
        (1.32, 0.48, "intermittent"),
        (1.31, 0.49, "erratic"),
        (1.32, 0.49, "lumpy"),
    ],
)
def test_cut_offs(adi: float, cv2: float, cls: str) -> None:
    assert label(adi, cv2) == cls


def test_classify_known_answer_of_the_string_groupby_code() -> None:
    """Bit-identical to the code before classify grouped once by integer codes (digest of the
    whole frame, index included, recorded with that code): 300 shuffled series, all classes."""
    rng = np.random.default_rng(0)
    n = 300
    ids = np.repeat([f"s{k:03d}" for k in rng.permutation(n)], 60)
    y = rng.poisson(rng.choice([0.05, 0.3, 3.0, 20.0], n).repeat(60)) * rng.integers(1, 5, n * 60)
    y[:600] = 0
    df = pd.DataFrame({"unique_id": ids, "ds": 0, "y": y.astype(float)})
    df = df.sample(frac=1.0, random_state=3)
    want = {True: "955fbf67b484c041", False: "4e371108fabe4d68"}
    for trim, digest in want.items():
        c = classify(df, trim)
        got = pd.util.hash_pandas_object(c).to_numpy().tobytes()
        assert hashlib.sha256(got).hexdigest()[:16] == digest
