"""Diagnosis of the calibration gap: simulated vs held-out vs true lead-time demand (issue 14).

On one synthetic catalogue draw (``bench/calibration.py`` SETTINGS) the rolling shadow mode
is run as in the calibration bench, keeping every window's plans. Per item × store × window
(one CSV row) it records, for the demand the MEIO plan's tuning and KPI projection simulate
(:func:`echelon.plan.ltd_error.demand_path_arrays`, via ``ItemPlan.demand_paths``), for the
actual held-out demand of the window and for the catalogue's **true** process (Bernoulli ×
negative binomial with the drawn mean of those weeks, :mod:`echelon.plan.catalogue`):

- the mean per period (units), P(zero) per period, the mean and the 0.9 / 0.95 quantiles of
  demand over the store's exposure ``k`` periods (``k`` = round(pipeline / μ), units);
- the expected shortfall above the store's MEIO level ``S``, ``E(D_k − S)⁺`` (units), and the
  store-only fill proxy ``1 − (E(D_k − S)⁺ − E(D_{k−1} − S)⁺) / μ`` (the fill rate a
  base-stock store with an always-available supplier would get; fraction);
- the replay's realized fill rate (held-out, result), the plan's projected one (in-model).

Printed: the same quantities pooled per ABC class (demand-weighted), and class C split by
item category (intermittent / regular) and champion model.

    PYTHONPATH=src .venv/bin/python bench/ltd_diagnosis.py [--set intermittent] [--items 24]
        [--stores 10] [--draw 0] [--out /tmp/ltd-diag.csv]
"""

from __future__ import annotations

import argparse
import math
import pickle
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from calibration import SEED_STEP, SETTINGS
from echelon.plan.catalogue import CatalogueParams, draw_parameters, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import PlanForecasts, origin_view
from echelon.plan.model import PolicyName
from echelon.plan.pipeline import prepare
from echelon.plan.shadow import holdout_view, replay_window
from echelon.plan.shadow_sample import sample_context, shadow_sample
from echelon.policies.model import BaseStock

TRUTH_PATHS = 4000  # paths of the true process per series and window
MEIO = PolicyName.MEIO


def exposure_sums(x: np.ndarray, k: int) -> np.ndarray:
    """Rolling sums of ``k`` consecutive periods along the last axis (units); k = 0: zeros."""
    if k <= 0:
        return np.zeros((*x.shape[:-1], max(1, x.shape[-1])))
    c = np.cumsum(np.concatenate([np.zeros((*x.shape[:-1], 1)), x], axis=-1), axis=-1)
    return c[..., k:] - c[..., :-k]


def shortfall(x: np.ndarray, k: int, level: float) -> float:
    """E(D_k − S)⁺ over every window of ``k`` periods of the paths ``x`` (units)."""
    return float(np.maximum(0.0, exposure_sums(x, k) - level).mean()) if k > 0 else 0.0


def describe(x: np.ndarray, k: int, level: float) -> dict[str, float]:
    """Per-period mean and P(zero), exposure-sum mean and quantiles, shortfall and the
    store-only fill proxy of demand paths ``x`` ([paths, periods], units per period)."""
    d = exposure_sums(x, k)
    mu = float(x.mean())
    sf, sf0 = shortfall(x, k, level), shortfall(x, k - 1, level)
    return {
        "mean": mu,
        "p0": float((x <= 0).mean()),
        "ltd_mean": float(d.mean()),
        "q90": float(np.quantile(d, 0.9)),
        "q95": float(np.quantile(d, 0.95)),
        "short": sf,
        "fill": 1.0 - (sf - sf0) / mu if mu > 0 else math.nan,
    }


def actual_stats(y: np.ndarray, start: int, hold: int, k: int, level: float) -> dict[str, float]:
    """:func:`describe` of the actual series ``y`` over its window ``[start, start + hold)``:
    the exposure sums end in the window's periods (earlier periods fill the first ones)."""
    seg = y[start - k + 1 : start + hold] if start - k + 1 >= 0 else y[: start + hold]
    d = exposure_sums(seg[None, :], k)[0][-hold:]
    d0 = exposure_sums(seg[None, :], k - 1)[0][-hold:] if k > 1 else np.zeros(hold)
    x = y[start : start + hold]
    mu = float(x.mean())
    sf = np.maximum(0.0, d - level).mean()
    sf0 = np.maximum(0.0, d0 - level).mean() if k > 1 else 0.0
    return {
        "mean": mu,
        "p0": float((x <= 0).mean()),
        "ltd_mean": float(d.mean()),
        "q90": math.nan,
        "q95": math.nan,
        "short": float(sf),
        "fill": 1.0 - float(sf - sf0) / mu if mu > 0 else math.nan,
    }


def true_paths(
    params: CatalogueParams, mean: np.ndarray, intermittent: bool, rng: np.random.Generator
) -> np.ndarray:
    """``TRUTH_PATHS`` paths of the catalogue's process with the per-week means ``mean``."""
    r, p = params.dispersion, params.demand_probability
    m = mean / p if intermittent else mean
    qty = rng.negative_binomial(r, r / (r + m), size=(TRUTH_PATHS, len(m)))
    if intermittent:
        qty = np.where(rng.random(qty.shape) < p, qty, 0)
    return qty.astype(float)


def _views(ctx, prep) -> list[tuple[PlanForecasts, object]]:  # type: ignore[no-untyped-def]
    """Every rolling-shadow window's forecasts view and its replay (as ``shadow_windows``)."""
    fc = prep.forecasts
    hold = fc.holdout_periods
    sctx = sample_context(ctx, shadow_sample(ctx))
    out = []
    for k in range(1, max(1, ctx.config.shadow_origins) + 1):
        cut = sctx.as_of - timedelta(days=k * hold * ctx.config.period_days)
        view = holdout_view(fc) if k == 1 else origin_view(sctx, cut, hold, None)
        if view is None:
            break
        out.append((view, replay_window(sctx, view, prep.lead_times, hold)))
    return out


def rows(
    name: str, items: int, stores: int, draw: int, keep: list[dict[str, object]] | None = None
) -> pd.DataFrame:
    """One row per item × store × window (module doc); ``keep``: where given, each row is
    also appended to it with the store's error model, true weekly means and path seed."""
    setting = {**SETTINGS[name], "seed": SETTINGS[name]["seed"] + SEED_STEP * draw}
    params = CatalogueParams(items=items, stores=stores, regional_dcs=2, **setting)
    truth = draw_parameters(params, np.random.default_rng(params.seed))
    item_ix = {u: i for i, u in enumerate(truth.item_ids)}
    store_ix = {u: i for i, u in enumerate(truth.store_ids)}
    rng = np.random.default_rng(12345)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = load_context(write_catalogue(params, Path(tmp) / name))
        prep = prepare(ctx)
        last = pd.Timestamp(params.as_of) - pd.Timedelta(days=7)  # week params.weeks − 1
        series = {
            (str(i), str(s)): g.sort_values("ds")
            for (i, s), g in ctx.history.groupby(["item_id", "location_id"])
        }
        for view, window in _views(ctx, prep):
            hold = window.periods
            for run in window.runs[MEIO]:
                plan = run.plan
                sims = plan.demand_paths()
                for s in plan.stores:
                    g = series[(plan.item, s)]
                    y = g["y"].to_numpy(float)
                    ds = g["ds"].to_numpy()
                    start = int(np.searchsorted(ds, np.datetime64(pd.Timestamp(view.as_of))))
                    week0 = params.weeks - 1 - (last - pd.Timestamp(view.as_of)).days // 7
                    mu = plan.means.get(s, view.series[(plan.item, s)].mean)
                    pol = plan.policies[MEIO].policies[s]
                    level = pol.level if isinstance(pol, BaseStock) else math.nan
                    k = max(1, round(plan.pipeline[MEIO][s] / mu)) if mu > 0 else 1
                    ii, si = item_ix[plan.item], store_ix[s]
                    tmean = truth.mean[ii, si, max(0, week0 - k + 1) : week0 + hold]
                    tp = true_paths(params, tmean, bool(truth.intermittent[ii]), rng)
                    node = run.result.node(s)
                    row = {
                        "window": str(view.as_of),
                        "item": plan.item,
                        "store": s,
                        "cls": (plan.segments.get(s) or "?")[0],
                        "category": ctx.items[plan.item].category,
                        "model": view.series[(plan.item, s)].model,
                        "plan_mean": mu,
                        "level": level,
                        "k": k,
                        "origins": plan.errors[s].origins if s in plan.errors else 0,
                        "realized": node.fill_rate.mean,
                        "demand": node.demand_per_period,
                        "projected": plan.fill.get(MEIO, {}).get(s, math.nan),
                    }
                    parts = {"act": actual_stats(y, start, hold, k, level)}
                    parts["true"] = describe(tp, k, level) | {"mean": float(tmean[-hold:].mean())}
                    if s in sims:
                        parts["sim"] = describe(sims[s], k, level)
                        d = exposure_sums(sims[s], k)
                        act = exposure_sums(y[None, start - k + 1 : start + hold], k)[0]
                        row["pit90"] = float((act > np.quantile(d, 0.9)).mean())
                        row["pit95"] = float((act > np.quantile(d, 0.95)).mean())
                        dt = exposure_sums(tp, k)
                        row["pit90_true"] = float((act > np.quantile(dt, 0.9)).mean())
                    for who, st in parts.items():
                        row |= {f"{who}_{q}": v for q, v in st.items()}
                    out.append(row)
                    if keep is not None:
                        keep.append(
                            {
                                **row,
                                "error": plan.errors.get(s),
                                "tmean": tmean,
                                "intermittent": bool(truth.intermittent[ii]),
                                "seed": plan.seed,
                                "shape": plan.paths_shape,
                            }
                        )
    return pd.DataFrame(out)


def summary(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Demand-weighted (by the actual window demand) fill numbers and summed means per group."""
    d = df[df["act_mean"] > 0].copy()
    w = d["act_mean"]
    cols = ("realized", "projected", "act_fill", "true_fill", "sim_fill")
    res = {}
    for key, g in d.groupby(by):
        ww = w.loc[g.index]
        r: dict[str, float] = {"rows": float(len(g))}
        for c in cols:
            r[c] = float((g[c] * ww).sum() / ww.sum())
        for who in ("act", "true", "sim", "plan"):
            col = "plan_mean" if who == "plan" else f"{who}_mean"
            r[f"{who}_Σmean"] = float(g[col].sum())
        for who in ("act", "true", "sim"):
            r[f"{who}_p0"] = float(g[f"{who}_p0"].mean())
            r[f"{who}_Σshort"] = float(g[f"{who}_short"].sum())
        r["true_Σq95"], r["sim_Σq95"] = float(g["true_q95"].sum()), float(g["sim_q95"].sum())
        r["pit90"], r["pit95"] = float(g["pit90"].mean()), float(g["pit95"].mean())
        r["pit90_true"] = float(g["pit90_true"].mean())
        res[key if isinstance(key, tuple) else (key,)] = r
    return pd.DataFrame(res).T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="intermittent")
    ap.add_argument("--items", type=int, default=24)
    ap.add_argument("--stores", type=int, default=10)
    ap.add_argument("--draw", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/ltd-diag.csv"))
    ap.add_argument("--pickle", type=Path, help="also pickle the rows with their error models")
    args = ap.parse_args()
    cpu = time.process_time()
    keep: list[dict[str, object]] | None = [] if args.pickle else None
    df = rows(args.set, args.items, args.stores, args.draw, keep)
    if args.pickle:
        args.pickle.write_bytes(pickle.dumps(keep))
    df.to_csv(args.out, index=False)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    print(summary(df, ["cls"]).round(3).to_string())
    c = df[df["cls"] == "C"]
    print(summary(c, ["category"]).round(3).to_string())
    print(summary(c, ["model"]).round(3).to_string())
    print(f"CPU {time.process_time() - cpu:.1f} s; rows in {args.out}")


if __name__ == "__main__":
    main()
