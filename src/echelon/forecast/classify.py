"""Syntetos–Boylan demand classification.

ADI (average inter-demand interval, periods) = number of periods / number of non-zero periods.
CV² = squared coefficient of variation of the non-zero demand sizes (population std / mean).
Cut-offs (Syntetos, Boylan & Croston 2005): ADI 1.32 and CV² 0.49 —
smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² ≥ 0.49),
intermittent (ADI ≥ 1.32, CV² < 0.49), lumpy (ADI ≥ 1.32, CV² ≥ 0.49).
Series with no non-zero demand are labelled ``zero``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ADI_CUT = 1.32
CV2_CUT = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "zero")


def adi_cv2(y: np.ndarray) -> tuple[float, float]:
    """ADI and CV² of one series (``inf``/``nan`` when it has no non-zero demand)."""
    y = np.asarray(y, dtype=float)
    nz = y[y > 0]
    if len(nz) == 0:
        return float("inf"), float("nan")
    adi = len(y) / len(nz)
    cv2 = float(np.var(nz) / np.mean(nz) ** 2)
    return float(adi), cv2


def label(adi: float, cv2: float) -> str:
    """Syntetos–Boylan class of one (ADI, CV²) pair."""
    if not np.isfinite(adi):
        return "zero"
    if adi < ADI_CUT:
        return "smooth" if cv2 < CV2_CUT else "erratic"
    return "intermittent" if cv2 < CV2_CUT else "lumpy"


def classify(df: pd.DataFrame, trim_leading_zeros: bool = True) -> pd.DataFrame:
    """Classify every series of a unique_id/ds/y frame.

    Returns one row per series: unique_id, n_obs, n_nonzero, adi, cv2, demand_class.
    Leading zeros (before the first sale, e.g. a product not yet launched) are ignored
    when ``trim_leading_zeros``.
    """
    # series grouped once by integer codes (order of first appearance, as groupby(sort=False))
    codes, uniq = pd.factorize(np.asarray(df["unique_id"]))
    y = df["y"].to_numpy(dtype=float)
    pos = pd.Series(y > 0)
    started = pos.groupby(codes, sort=False).cummax() if trim_leading_zeros else None
    mask = started.to_numpy() if started is not None else np.ones(len(df), bool)
    g = pd.DataFrame({"unique_id": codes, "y": y, "in": mask})
    g["n"] = g["in"].astype(int)
    g["nz"] = (g["y"] > 0).astype(int)
    g["yz"] = np.where(g["y"] > 0, g["y"], np.nan)
    g["yz2"] = g["yz"] ** 2
    agg = g.groupby("unique_id", sort=False).agg(
        n_obs=("n", "sum"), n_nonzero=("nz", "sum"), s1=("yz", "mean"), s2=("yz2", "mean")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(agg["n_nonzero"] > 0, agg["n_obs"] / agg["n_nonzero"], np.inf)
        cv2 = (agg["s2"] - agg["s1"] ** 2) / agg["s1"] ** 2
    cv2 = np.maximum(cv2.to_numpy(), 0.0)
    out = pd.DataFrame(
        {
            "unique_id": pd.Index(uniq).take(agg.index.to_numpy()),
            "n_obs": agg["n_obs"].to_numpy(),
            "n_nonzero": agg["n_nonzero"].to_numpy(),
            "adi": adi,
            "cv2": cv2,
        }
    )
    out["demand_class"] = [label(a, c) for a, c in zip(out["adi"], out["cv2"], strict=True)]
    return out.reset_index(drop=True)
