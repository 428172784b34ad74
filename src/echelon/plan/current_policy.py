"""The naive **current policy** that shadow mode and the KPIs compare against.

Every week (period) each location orders up to a fixed number of periods of cover of the mean
demand per period of the stores it serves: installation base stock
``level_j = cover_j · μ_j`` with ``μ_j`` the mean external demand per period at or below ``j``
(:func:`echelon.network.graph.echelon_demand`). The cover is set by tier (0 = stores, 1 = the
echelon above, 2 = above that, ...): :data:`DEFAULT_COVER` = 3 periods at stores and at the
first DC tier, 6 at higher tiers — the practice documented in docs/plan-data.md and used by the
demo data set to produce its inventory snapshot (``echelon.plan.demo_data.COVER_WEEKS``; there,
μ is the trailing 8-week average of actual sales; here it is the forecast mean, a fixed level).
The cover includes the lead time: it ignores lead times, variability and service targets.
"""

from __future__ import annotations

from collections.abc import Mapping

from echelon.errors import InputError
from echelon.network.graph import echelon_demand, tiers
from echelon.network.model import Network
from echelon.policies.model import BaseStock, PolicySet

DEFAULT_COVER: dict[int, float] = {0: 3.0, 1: 3.0, 2: 6.0}  # periods of demand, by tier


def cover_of(tier: int, cover: Mapping[int, float]) -> float:
    """The cover (periods) of a tier: its own entry, else that of the highest tier given."""
    if tier in cover:
        return float(cover[tier])
    return float(cover[max(cover)])


def describe(cover: Mapping[int, float] = DEFAULT_COVER, period_days: float = 7.0) -> str:
    """One line a planner can read, e.g. for ``ShadowResult.current_policy``."""
    parts = ", ".join(
        f"tier {t}: {c:g} periods ({c * period_days:g} days)" for t, c in sorted(cover.items())
    )
    return (
        "naive current policy: every period each location orders up to a fixed cover of the "
        f"mean demand per period of the stores it serves ({parts}; higher tiers as the "
        "highest listed), regardless of lead time, variability or service target"
    )


def current_policy(net: Network, cover: Mapping[int, float] = DEFAULT_COVER) -> PolicySet:
    """Installation base-stock levels ``cover_tier · μ_j`` (units) for every node of ``net``.

    ``net`` must carry the stores' demand distributions (an item network of the plan).
    """
    if not cover or any(v < 0 for v in cover.values()):
        raise InputError(
            "the current policy's cover must give periods >= 0 for at least one tier",
            field="cover",
            expected="a mapping tier -> periods >= 0, e.g. {0: 3, 1: 3, 2: 6}",
            found=repr(dict(cover)),
            fix="give a non-negative cover per tier",
        )
    flows = echelon_demand(net)
    tier = tiers(net)
    return PolicySet(
        network=net.name,
        method="current",
        metadata={
            "rule": "level = cover(tier) * mean demand per period served",
            "cover_periods_by_tier": {str(k): float(v) for k, v in sorted(cover.items())},
        },
        policies={
            n.id: BaseStock(level=round(cover_of(tier[n.id], cover) * flows[n.id][0], 6))
            for n in net.nodes
        },
    )
