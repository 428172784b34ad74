"""Input checks shared by every optimizer (one wording for one problem)."""

from __future__ import annotations

from echelon.errors import OptimizationError
from echelon.network.model import Network


def require_demand(net: Network) -> None:
    """Every optimizer needs at least one node with external demand."""
    if not any(n.demand is not None for n in net.nodes):
        raise OptimizationError(
            "the network has no demand node, so there is nothing to optimize for",
            source=net.name,
            field="demand",
            expected="at least one node with a 'demand'",
            found="none",
            fix="add a demand distribution to the customer-facing node(s)",
        )
