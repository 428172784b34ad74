"""The retraining policy of the nowcaster and its model registry (model cards).

At every nowcast the candidates are backtested again (:func:`echelon.monitor.nowcast.backtest`).
The champion is not simply the latest winner — backtest WAPEs of close candidates swap places
from week to week — but follows :func:`decide`:

- no champion yet: the backtest winner (reason "first selection");
- a challenger replaces the champion when its WAPE is below ``(1 − MARGIN)`` × the champion's
  in each of the last ``K`` evaluations (this one included), and it is the best candidate now;
- otherwise the champion stays.

Every evaluation is a ``model_registry`` row: the champion after it, the data window, the
features, the backtest WAPE of every candidate, whether it promoted and why — the model card
(:func:`model_card`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

MARGIN = 0.05  # a challenger must be 5 % better (relative WAPE) ...
K = 2  # ... in this many consecutive evaluations
FEATURES = {
    "zero": ["nothing (0 for every unreported day)"],
    "carry_forward": ["the series' last reported day"],
    "seasonal_naive": ["the series' value 7 days earlier"],
    "reporting_ratio": ["the series' same-weekday mean over 4 weeks",
                        "today's sales / same-weekday mean at the stores that reported the item"],
    "lstm": ["the series' last 28 days (scaled by their first 21 days' mean), reported flags",
             "the other reporting stores' sales of the item over the same 28 days"],
}  # fmt: skip


WAPE = "backtest WAPE"  # the nowcaster's metric (fraction, printed as a percentage)


@dataclass(frozen=True)
class Decision:
    """The champion after an evaluation, whether it changed, why, and the metric the
    candidates were compared on (lower is better)."""

    model: str
    promoted: bool
    reason: str
    metric: str = WAPE


def _percent(value: float) -> str:
    return f"{value:.1%}"


def decide(
    champion: str | None,
    history: Sequence[dict[str, float]],
    margin: float = MARGIN,
    k: int = K,
    metric: str = WAPE,
    show: Callable[[float], str] = _percent,
) -> Decision:
    """The policy of the module doc; ``history``: the ``metric`` (lower is better) per
    candidate of the earlier evaluations and this one (oldest first, this one last); ``show``
    prints a value of it in the reason."""
    now = history[-1]
    best = min(now, key=lambda name: now[name])
    if champion is None or champion not in now:
        return Decision(best, True, f"first selection: lowest {metric} {show(now[best])}", metric)
    if best == champion:
        return Decision(
            champion, False, f"champion kept: lowest {metric} {show(now[best])}", metric
        )
    recent = list(history[-k:])
    beaten = len(recent) == k and all(
        best in h and champion in h and h[best] < (1 - margin) * h[champion] for h in recent
    )
    if beaten:
        return Decision(
            best,
            True,
            f"{best} beat {champion} by more than {margin:.0%} in {k} consecutive backtests "
            f"({metric} now {show(now[best])} vs {show(now[champion])})",
            metric,
        )
    return Decision(
        champion,
        False,
        f"champion kept: {best} is better now ({metric} {show(now[best])} vs "
        f"{show(now[champion])}) but not by {margin:.0%} in {k} consecutive backtests",
        metric,
    )


def model_card(entries: Sequence[dict[str, object]]) -> list[str]:
    """Lines of the model card: the current champion, its data window, features and metrics,
    and every promotion with its reason (``entries``: registry rows, oldest first)."""
    if not entries:
        return ["no nowcaster evaluated yet (`echelon plan --from-store NAME --nowcast`)"]
    last = entries[-1]
    model = str(last["model"])
    metrics = last["metrics"]
    assert isinstance(metrics, dict)
    lines = [
        f"nowcaster champion: {model} (evaluated {last['at']:%Y-%m-%d %H:%M} UTC on data "
        f"{last['data_start']} … {last['data_end']})",
        "features: " + "; ".join(FEATURES.get(model, ["—"])),
        "backtest WAPE: " + ", ".join(f"{m} {v:.1%}" for m, v in sorted(metrics.items(),
                                                                         key=lambda x: x[1])),
        f"why: {last['reason']}",
    ]  # fmt: skip
    for e in entries:
        if e["promoted"]:
            lines.append(f"promoted {e['at']:%Y-%m-%d} → {e['model']}: {e['reason']}")
    return lines
