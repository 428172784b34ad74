"""The plan's forecast champions per segment, and the gate on promotions that move safety stock.

A stored plan forecasts each item × store with the champion of its demand class
(:mod:`echelon.plan.forecasting`); the plan result's ``forecasts`` (the hold-out fit's fan
charts) name each series' ``plan_model``, the model of the plan fit its levels are planned on
(the hold-out fit's own ``model`` when a stored run lacks it). Per ABC/XYZ segment of the
placements (:func:`segment_champions`):

- the segment's **champion** is the plan model of the most series of the segment (ties: by
  name), with its ``share`` of the series — not the hold-out fit's model, which on its
  shorter history can be another (``GroupPrior`` for a series too short there);
- its **backtest metric** is the hold-out WAPE of the segment's forecasts,
  Σ|actual − mean| / Σ actual over the hold-out periods with an actual (fraction);
- its **safety stock value** is the sum of the safety stock values of the segment's placements
  (money, the run's currency).

:func:`gate` compares them with the registered champion of each segment (the latest
``forecast:<segment>`` row of ``model_registry``): the same model is *kept*; another model is
*promoted* at once when the segment's safety stock value changed by at most ``threshold``
(relative to the latest evaluation that planned with the registered model), else the
promotion is *pending*: the run gets a high ``large_change`` exception and its
recommendations of the segment are not auto-approvable until an approver approves it
(``echelon monitor approve-promotion ID --by NAME``) — or rejects it with a reason
(``echelon monitor reject-promotion ID --by NAME --reason TEXT``: the old champion stays).
A plan without forecasts (no hold-out) registers nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from echelon.plan.model import ExceptionKind, PlanException, PlanResult, Severity

THRESHOLD = 0.20  # relative change of a segment's safety stock value that needs approval


@dataclass(frozen=True)
class SegmentChampion:
    """One segment's forecast champion in one plan (module doc)."""

    segment: str
    model: str
    series: int  # item × store series of the segment with a forecast
    share: float  # fraction of them forecast by ``model``
    wape: float | None  # hold-out WAPE (fraction); None without actuals
    safety_stock_value: float  # money


@dataclass(frozen=True)
class Registered:
    """A segment's registered champion and the safety stock value it was last planned with."""

    model: str
    safety_stock_value: float


@dataclass(frozen=True)
class Verdict:
    """What a plan's champion does to the segment's registry (module doc)."""

    champion: SegmentChampion
    registered: str | None  # the champion before this plan (None: first evaluation)
    change: float  # relative safety stock value change (inf from 0; 0 for a first evaluation)
    status: str  # "promoted" | "kept" | "pending"
    reason: str


def segment_champions(result: PlanResult) -> dict[str, SegmentChampion]:
    """The champion, hold-out WAPE and safety stock value of each segment (module doc)."""
    import pandas as pd

    placed = pd.DataFrame(
        [(p.item, p.location, p.segment, p.safety_stock_value) for p in result.placements
         if p.segment],
        columns=["item", "location", "segment", "ssv"],
    )  # fmt: skip
    if placed.empty or not result.forecasts:
        return {}
    ssv = placed.groupby("segment")["ssv"].sum()
    rows = []
    for f in result.forecasts:
        known = [(a, m) for a, m in zip(f.actual, f.mean, strict=False) if a is not None]
        err = float(sum(abs(a - m) for a, m in known))
        model = f.plan_model or f.model or "—"
        rows.append((f.item, f.location, model, err, float(sum(a for a, _ in known))))
    fc = pd.DataFrame(rows, columns=["item", "location", "model", "err", "actual"])
    fc = fc.merge(placed[["item", "location", "segment"]], on=["item", "location"])
    out = {}
    for seg, g in fc.groupby("segment", sort=True):
        counts = g["model"].value_counts()
        top = sorted(counts.index, key=lambda m: (-counts[m], str(m)))[0]
        total = float(g["actual"].sum())
        out[str(seg)] = SegmentChampion(
            segment=str(seg),
            model=str(top),
            series=len(g),
            share=float(counts[top]) / len(g),
            wape=float(g["err"].sum()) / total if total > 0 else None,
            safety_stock_value=float(ssv.get(seg, 0.0)),
        )
    return out


def relative_change(before: float, after: float) -> float:
    """|after − before| / before; inf when only ``after`` is positive, 0 when both are 0."""
    if before > 0:
        return abs(after - before) / before
    return math.inf if after > 0 else 0.0


def gate(
    champions: Mapping[str, SegmentChampion],
    registered: Mapping[str, Registered],
    threshold: float = THRESHOLD,
) -> list[Verdict]:
    """The verdict of each segment's champion against the registry (module doc)."""
    out = []
    for seg, c in sorted(champions.items()):
        wape = "—" if c.wape is None else f"{c.wape:.1%}"
        what = f"{c.model} forecasts {c.share:.0%} of {c.series} series, hold-out WAPE {wape}"
        reg = registered.get(seg)
        if reg is None:
            out.append(Verdict(c, None, 0.0, "promoted", f"first selection: {what}"))
            continue
        change = relative_change(reg.safety_stock_value, c.safety_stock_value)
        if reg.model == c.model:
            out.append(Verdict(c, reg.model, change, "kept", f"champion kept: {what}"))
            continue
        moved = (
            f"replaces {reg.model}; the segment's safety stock value moves "
            f"{_pct(change)} (from {reg.safety_stock_value:,.2f} to {c.safety_stock_value:,.2f})"
        )
        if change <= threshold:
            reason = f"{what}; {moved}, within {threshold:.0%}: promoted without approval"
            out.append(Verdict(c, reg.model, change, "promoted", reason))
        else:
            reason = f"{what}; {moved}, above {threshold:.0%}: waits for approval"
            out.append(Verdict(c, reg.model, change, "pending", reason))
    return out


def _pct(change: float) -> str:
    return "from 0" if math.isinf(change) else f"by {change:.0%}"


def pending_exceptions(verdicts: list[Verdict], dataset: str) -> list[PlanException]:
    """One high ``large_change`` exception per pending promotion."""
    return [
        PlanException(
            kind=ExceptionKind.LARGE_CHANGE,
            severity=Severity.HIGH,
            message=(
                f"segment {v.champion.segment}: the forecast champion {v.champion.model} "
                f"{v.reason}; its recommendations are not auto-approvable until an approver "
                f"approves the promotion (`echelon monitor --name {dataset}` lists it, "
                "`echelon monitor approve-promotion ID --by NAME`)"
            ),
            value=None if math.isinf(v.change) else v.change,
        )
        for v in verdicts
        if v.status == "pending"
    ]


def forecast_card(
    entries: list[dict[str, object]], promotions: list[dict[str, object]]
) -> list[str]:
    """Lines of the forecast models' card: per segment the registered champion, its data
    window, hold-out WAPE and why; every promotion; the promotions waiting for approval
    (``entries``: ``forecast:<segment>`` registry rows, ``promotions``: forecast_promotions
    rows, both oldest first)."""
    from echelon.storage.promotions import KIND

    if not entries:
        return ["no forecast champion registered yet (`echelon plan --from-store NAME`)"]
    latest = {str(e["kind"])[len(KIND) :]: e for e in entries}
    lines = []
    for seg, e in sorted(latest.items()):
        m = e["metrics"]
        assert isinstance(m, dict)
        wape = "—" if m.get("holdout_wape") is None else f"{m['holdout_wape']:.1%}"
        lines.append(
            f"segment {seg}: champion {e['model']} (evaluated {e['at']:%Y-%m-%d %H:%M} UTC on "
            f"data {e['data_start']} … {e['data_end']}), plan's hold-out WAPE {wape}, safety "
            f"stock value {float(m['safety_stock_value']):,.2f}; why: {e['reason']}"
        )
    for e in entries:
        if e["promoted"]:
            lines.append(f"promoted {e['at']:%Y-%m-%d} {str(e['kind'])[len(KIND):]} → "
                         f"{e['model']}: {e['reason']}")  # fmt: skip
    for p in promotions:
        change = "from 0" if p["change"] is None else f"{p['change']:.0%}"
        head = (
            f"promotion #{p['id']} (run {p['run_id']}) of segment {p['segment']}: "
            f"{p['old_model']} → {p['new_model']}, safety stock value change {change}"
        )
        if p["status"] == "pending":
            lines.append(f"{head}: PENDING — `echelon monitor approve-promotion {p['id']} "
                         "--by NAME`")  # fmt: skip
        elif p["status"] == "approved":
            lines.append(f"{head}: approved by {p['decided_by']} "
                         f"{p['decided_at']:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        elif p["status"] == "rejected":
            lines.append(f"{head}: rejected by {p['decided_by']} "
                         f"{p['decided_at']:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        else:
            lines.append(f"{head}: superseded by a later plan")
    return lines
