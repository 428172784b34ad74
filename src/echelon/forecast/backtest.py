"""Walk-forward backtesting, scoring and champion–challenger selection.

Cutoffs: the last ``n_windows`` origins spaced ``step`` periods apart, the last one H periods
before the end of the history. At every cutoff each candidate is refitted on the data up to
the cutoff and scored on the next H periods. Scores per series and model:
``pinball`` (mean over quantile levels and periods, units), ``spinball`` (pinball / series
scale, the mean |y| of the training data), ``ltd_pinball_L`` and ``ltd_spinball_L`` (pinball
of demand summed over the first L periods), plus MASE/RMSSE/WAPE/bias terms.
The champion of a segment minimises the mean scaled lead-time pinball (or the scaled
per-period pinball when no lead time is asked); MASE never decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from echelon.forecast import metrics as mt
from echelon.forecast.models import ModelOutput
from echelon.forecast.seasonal import is_seasonal

#: a seasonal challenger (``<base>+season``) must lower the criterion by this fraction to be
#: chosen: where its index is not significant it equals its base model up to sampling noise
CHALLENGER_MARGIN = 0.01


def cutoffs(
    df: pd.DataFrame, h: int, n_windows: int, step: int | None, freq: str
) -> list[pd.Timestamp]:
    """Forecast origins (last training date) of a walk-forward backtest, oldest first."""
    off = pd.tseries.frequencies.to_offset(freq)
    end = df["ds"].max()
    st = step or h
    return [end - off * (h + st * k) for k in reversed(range(n_windows))]


def score_outputs(
    outputs: dict[str, ModelOutput],
    train: pd.DataFrame,
    test: pd.DataFrame,
    taus: Sequence[float],
    lead_times: Sequence[int],
    season: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-series scores of every model and the long forecast frame merged with actuals.

    All models are scored in one grouping (model × series); the lead-time actuals are summed
    once. Rows: models in the order of ``outputs``, series in their order in each output."""
    scale = mt.scale_of(train)
    frames = [out.frame(taus) for out in outputs.values()]
    f = pd.concat(frames, ignore_index=True).merge(
        test[["unique_id", "ds", "y"]], on=["unique_id", "ds"]
    )
    f = mt.quantile_scores(f, taus)
    if f.empty:
        raise ValueError("no forecast of any model meets an actual of the test window")
    keys = ["model", "unique_id"]
    per = f.groupby(keys, sort=False).agg(pinball=("pinball", "mean")).reset_index()
    per = per.merge(mt.point_scores(f, train, season), on=keys, how="left")
    lts = [int(L) for L in lead_times]
    sums = {L: _leadtime_actuals(test, L) for L in lts}
    for L in lts:
        col = f"ltd_pinball_{L}"
        parts = []
        for name, out in outputs.items():
            if L not in out.leadtime:
                continue
            _, _, q = out.leadtime[L]
            a = sums[L].reindex(out.uids)
            ok = (a["size"] == L).to_numpy()
            loss = np.full(len(out.uids), np.nan)
            loss[ok] = mt.mean_pinball(a["sum"].to_numpy()[ok], q[ok], taus)
            parts.append(pd.DataFrame({"model": name, "unique_id": out.uids, col: loss}))
        if parts:
            per = per.merge(pd.concat(parts, ignore_index=True), on=keys, how="left")
    s = per["unique_id"].map(scale).to_numpy()
    per["spinball"] = per["pinball"] / s
    for L in lts:
        c = f"ltd_pinball_{L}"
        if c in per:
            per[f"ltd_spinball_{L}"] = per[c] / (s * L)
    head = ["unique_id", "pinball", "model", "mase", "rmsse", "abs_err", "abs_y", "err"]
    return per[head + [c for c in per.columns if c not in head]], f


def _leadtime_actuals(test: pd.DataFrame, periods: int) -> pd.DataFrame:
    """Per series of ``test``: the sum (units) and count of its first ``periods`` actuals."""
    first = test.sort_values("ds").groupby("unique_id").head(periods)
    return first.groupby("unique_id")["y"].agg(["sum", "size"])


@dataclass
class BacktestResult:
    """Scores (one row per cutoff × series × model), forecasts with actuals, champions."""

    scores: pd.DataFrame
    forecasts: pd.DataFrame
    champions: pd.DataFrame
    criterion: str

    def summary(self, by: Sequence[str] = ("model",)) -> pd.DataFrame:
        """Mean scores and WAPE/bias by ``by`` (e.g. ("demand_class", "model"))."""
        s = self.scores
        num = [c for c in s.columns if "pinball" in c] + ["mase", "rmsse"]
        g = s.replace([np.inf, -np.inf], np.nan).groupby(list(by))
        out = g[num].mean()
        out["wape"] = g["abs_err"].sum() / g["abs_y"].sum()
        out["bias"] = g["err"].sum() / g["abs_y"].sum()
        out["n_series"] = g["unique_id"].nunique()
        return out.reset_index()


def choose_champions(
    scores: pd.DataFrame,
    criterion: str,
    segment: str = "demand_class",
    exclude: Sequence[str] = ("EmpiricalQuantile",),
) -> pd.DataFrame:
    """Champion per segment: lowest mean ``criterion``; explains the choice.

    Models are compared on the (cutoff, series) pairs they all cover (a model covering less
    than 90% of the segment is left out); a seasonal challenger must beat the others by
    :data:`CHALLENGER_MARGIN`. Returns segment, champion, its score, the
    runner-up and its score, the MASE winner and a one-line reason.
    """
    s = scores[~scores["model"].isin(exclude)].replace([np.inf, -np.inf], np.nan)
    rows = []
    for seg, g0 in s.groupby(segment):
        # compare models on the same (cutoff, series) pairs: keep models that cover at least
        # 90% of the segment's pairs, then the pairs that all kept models cover
        key = ["cutoff", "unique_id"] if "cutoff" in g0 else ["unique_id"]
        wide = g0.pivot_table(index=key, columns="model", values=criterion, aggfunc="mean")
        keep = wide.columns[wide.notna().mean() >= 0.9]
        pairs = wide[keep].dropna().index
        g = g0[g0["model"].isin(keep)].set_index(key)
        g = g[g.index.isin(pairs)].reset_index()
        m = g.groupby("model")[[criterion, "mase"]].mean().dropna(subset=[criterion])
        if m.empty:
            continue
        handicap = np.array([1.0 + CHALLENGER_MARGIN * is_seasonal(str(x)) for x in m.index])
        ranked = m.iloc[np.argsort(m[criterion].to_numpy() * handicap, kind="stable")]
        champ = str(ranked.index[0])
        runner = str(ranked.index[1]) if len(ranked) > 1 else ""
        mase_best = str(m["mase"].idxmin()) if m["mase"].notna().any() else ""
        gap = (
            100 * (ranked[criterion].iloc[1] / ranked[criterion].iloc[0] - 1)
            if len(ranked) > 1 and ranked[criterion].iloc[0] > 0
            else 0.0
        )
        why = (
            f"lowest {criterion} ({ranked[criterion].iloc[0]:.4g}); {gap:.1f}% better than {runner}"
        )
        if mase_best and mase_best != champ:
            why += f"; {mase_best} wins MASE but loses on {criterion}"
        rows.append(
            {
                segment: seg,
                "champion": champ,
                "score": float(ranked[criterion].iloc[0]),
                "runner_up": runner,
                "runner_up_score": float(ranked[criterion].iloc[1]) if runner else np.nan,
                "mase_winner": mase_best,
                "n_series": int(g["unique_id"].nunique()),
                "reason": why,
            }
        )
    return pd.DataFrame(rows)


def walk_forward(
    df: pd.DataFrame,
    h: int,
    origins: Sequence[pd.Timestamp],
    run: Callable[[pd.DataFrame, pd.DataFrame], tuple[dict[str, ModelOutput], pd.DataFrame]],
    *,
    taus: Sequence[float],
    lead_times: Sequence[int],
    season: int,
    on_window: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Refit with ``run(train, test)`` at each origin → (outputs, classes); score them."""
    all_scores, all_fc = [], []
    for k, c in enumerate(origins):
        train = df[df["ds"] <= c]
        test = df[(df["ds"] > c)]
        codes, _ = pd.factorize(np.asarray(test["unique_id"]))  # the first h rows per series
        test = test[pd.Series(codes).groupby(codes).cumcount().to_numpy() < h]
        outputs, classes = run(train, test)
        sc, fc = score_outputs(outputs, train, test, taus, lead_times, season)
        sc = sc.merge(classes[["unique_id", "demand_class"]], on="unique_id", how="left")
        sc["cutoff"] = c
        fc["cutoff"] = c
        all_scores.append(sc)
        all_fc.append(fc)
        if on_window is not None:
            on_window(k)
    return pd.concat(all_scores, ignore_index=True), pd.concat(all_fc, ignore_index=True)
