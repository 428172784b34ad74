"""Rolling shadow mode: the plan replayed against actual demand from several origins.

Window k (k = 1 … ``config.shadow_origins``) starts at ``as_of − k·H`` periods, with H =
``config.holdout_periods``: the plan is made again **as of that origin** — forecasts fitted on
the history before it only (:func:`echelon.plan.forecasting.origin_view`), the same lead times,
targets from that history, placement and tuning as in the plan — and replayed against the
actual demand of the H periods after it, every policy from the same starting state
(:func:`echelon.plan.shadow.replay_window`). Window 1 is the plan's shadow mode
(:class:`ShadowResult`). A window whose history is too short
(:data:`echelon.plan.forecasting.MIN_TRAIN` periods) is skipped.

By default every earlier origin (k ≥ 2) runs a backtest of its own. With
``fresh_backtests=False`` they do not: their champions (per demand class) and error models come
from the windows of the plan fit's backtest that were trained **and scored** entirely before
the origin (:attr:`PlanForecasts.backtest`, :func:`echelon.plan.forecasting.earlier_windows`:
each window is refitted on the data up to its cutoff); only the champions are then fitted on
the history before the origin, and an origin with no such window is backtested afresh. Either
way every window is planned with data before its origin only
(tests/plan/test_rolling_honest.py). Shared windows are fewer than a fresh backtest's and
realize a lower service (bench/README.md, "KPIs and the rolling shadow at scale"), which is
why they are not the default.

Pooled over the windows (:class:`RollingShadow`): KPIs per policy (fill rates demand-weighted
over item × store × window; inventory values averaged over the windows), the realized fill rate
per ABC class against its target (95% CI half width from the replications, windows
independent), the saving of MEIO over single-echelon **at the realized service**, and a
SERVICE_SHORTFALL exception for every class whose realized MEIO fill rate is more than
:data:`SHORTFALL_POINTS` below its target.

A catalogue of more than ``config.shadow_sample_items`` items is replayed on a sample
(:func:`shadow_sample`): items are put in ABC classes by their demand value over the history
(Σ units × unit cost; A: the items making the first 80 % of the value, B: the next 15 %, C:
the rest), every class keeps a share of the sample proportional to its item count (at least
one item), and the items of a class are drawn at random with ``config.seed``. Every window
replays the same sample; :class:`RollingShadow` records its size next to the catalogue's, the
per-class ``series`` counts are the sampled series and the CIs are those of the sample
(replication error only, not the sampling error). A smaller catalogue keeps every item.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from echelon.plan.context import PlanContext
from echelon.plan.forecasting import PlanForecasts, origin_view
from echelon.plan.leadtimes import LaneLeadTime
from echelon.plan.model import (
    ExceptionKind,
    PlanException,
    PolicyName,
    RollingShadow,
    SegmentService,
    Severity,
    ShadowResult,
    inventory_saving,
)
from echelon.plan.parallel import later
from echelon.plan.shadow import (
    Runs,
    ShadowWindow,
    holdout_view,
    replay_window,
    window_kpis,
    window_result,
)
from echelon.plan.shadow_sample import sample_context, shadow_sample

Progress = Callable[[str, float], None]
SHORTFALL_POINTS = 0.02  # a class this far below its target (fraction) is an exception


def shadow_windows(
    ctx: PlanContext,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    progress: Progress | None = None,
    fresh_backtests: bool = True,
) -> list[ShadowWindow]:
    """Every window of the rolling shadow mode (module doc), latest first; none without a
    hold-out. ``fresh_backtests`` (default): every earlier origin runs a backtest of its own; False
    reuses the plan fit's windows before it (the same honesty, a third of the cost, fewer error
    windows and a lower realized service)."""
    hold = forecasts.holdout_periods
    if hold <= 0 or not forecasts.holdout:
        return []
    count = max(1, ctx.config.shadow_origins)
    ctx = sample_context(ctx, shadow_sample(ctx))
    bt = None if fresh_backtests else forecasts.backtest
    cuts = [
        ctx.as_of - timedelta(days=k * hold * ctx.config.period_days) for k in range(1, count + 1)
    ]
    views = [later(origin_view, ctx, cut, hold, bt) for cut in cuts[1:]]  # on the cluster now
    out = []
    for k in range(1, count + 1):
        view = holdout_view(forecasts) if k == 1 else views[k - 2].result()
        if view is None:
            break  # earlier origins have even less history

        def step(_: str, x: float, k: int = k) -> None:
            if progress:
                progress("shadow", ((k - 1) + 0.95 * x) / count)

        out.append(replay_window(ctx, view, lead_times, hold, step))
    for window in out:  # every replay done (on the cluster while the next window was placed)
        window.replayed.result()
    return out


def _pooled(windows: list[ShadowWindow]) -> Runs:
    pooled: Runs = {p: [] for p in PolicyName}
    for w in windows:
        for p, runs in w.runs.items():
            pooled[p].extend(runs)
    return pooled


def _segments(runs: Runs) -> list[SegmentService]:
    """Realized fill rate per ABC class and policy over every item × store × window, and the
    projected one (the plans' simulated fill rates, weighted by the same demand)."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0] * 5))
    target: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    series: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for p, item_runs in runs.items():
        for r in item_runs:
            for s in r.plan.stores:
                node = r.result.node(s)
                d, f = node.demand_per_period, node.fill_rate.mean
                if d <= 0 or math.isnan(f):
                    continue
                seg = (r.plan.segments.get(s) or "?")[0]
                a = acc[seg][p.value]
                a[0] += d
                a[1] += d * f
                a[2] += (d * (node.fill_rate.ci95 or 0.0)) ** 2
                projected = r.plan.fill.get(p, {}).get(s)
                if projected is not None and not math.isnan(projected):
                    a[3] += d
                    a[4] += d * projected
                if p is PolicyName.MEIO:
                    target[seg][0] += d
                    target[seg][1] += d * r.plan.targets.get(s, 0.0)
                    series[seg].add((r.plan.item, s))
    return [
        SegmentService(
            segment=seg,
            target=target[seg][1] / target[seg][0] if target[seg][0] > 0 else float("nan"),
            series=len(series[seg]),
            realized={p: a[1] / a[0] if a[0] > 0 else None for p, a in by.items()},
            realized_ci={p: math.sqrt(a[2]) / a[0] if a[0] > 0 else None for p, a in by.items()},
            projected={p: a[4] / a[3] if a[3] > 0 else None for p, a in by.items()},
        )
        for seg, by in sorted(acc.items())
    ]


def rolling_shadow(
    ctx: PlanContext, windows: list[ShadowWindow]
) -> tuple[ShadowResult | None, RollingShadow | None]:
    """The plan's shadow mode (window 1) and the rolling shadow mode over every window."""
    if not windows:
        return None, None
    first = window_result(ctx, windows[0])
    cfg = ctx.config
    runs = _pooled(windows)
    kpis = window_kpis(runs, cfg.period_days, windows=len(windows))
    by = {k.policy: k.network for k in kpis}
    meio, single = by[PolicyName.MEIO], by[PolicyName.SINGLE_ECHELON]
    rolling = RollingShadow(
        origins=[w.start for w in windows],
        periods=windows[0].periods,
        kpis=kpis,
        segments=_segments(runs),
        saving=inventory_saving(meio.inventory_value, single.inventory_value),
        sampled_items=len({r.plan.item for r in runs[PolicyName.MEIO]}),
        catalogue_items=len(ctx.items),
    )
    return first, rolling


def shortfall_exceptions(rolling: RollingShadow | None) -> list[PlanException]:
    """A SERVICE_SHORTFALL exception for every ABC class whose realized MEIO fill rate is more
    than :data:`SHORTFALL_POINTS` below its target (high beyond twice that)."""
    if rolling is None:
        return []
    out = []
    for seg in rolling.segments:
        real = seg.realized.get(PolicyName.MEIO.value)
        if real is None or math.isnan(seg.target) or real >= seg.target - SHORTFALL_POINTS:
            continue
        gap = seg.target - real
        out.append(
            PlanException(
                kind=ExceptionKind.SERVICE_SHORTFALL,
                severity=Severity.HIGH if gap > 2 * SHORTFALL_POINTS else Severity.MEDIUM,
                value=real,
                message=(
                    f"class {seg.segment}: the MEIO plan realized a {real:.1%} fill rate against "
                    f"actual demand it had not seen ({len(rolling.origins)} shadow-mode windows "
                    f"of {rolling.periods} periods from {min(rolling.origins)}), "
                    f"{100 * gap:.1f} points below its {seg.target:.1%} target — check the "
                    "forecast bias and error spread of these series before trusting their levels"
                ),
            )
        )
    return out
