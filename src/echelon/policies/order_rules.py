"""The order rules of docs/model.md, in one place for the simulator and the planner.

An order of ``q`` units (``q`` > 0) is raised to the minimum order quantity ``moq``, rounded up
to a multiple of the lot size ``lot`` (0 = any quantity), then capped at ``cap`` units rounded
down to a lot multiple; a capped quantity below the MOQ becomes 0 (no order). The numba kernel
(:mod:`echelon.sim.kernel`) inlines :func:`round_order`; planning code calls
:func:`apply_order_rules` (the same function, with ``cap`` optional).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EPS = 1e-9  # units: quantities at or below this are no order; rounding tolerance


@njit(cache=True, inline="always")
def round_order(q, moq, lot, cap):
    """Order rules (units): MOQ, then round up to the lot multiple, then cap (down to a lot)."""
    if q <= EPS:
        return 0.0
    if q < moq:
        q = moq
    if lot > 0.0:
        q = np.ceil(q / lot - EPS) * lot
    if q > cap:
        q = np.floor(cap / lot + EPS) * lot if lot > 0.0 else cap
        if q < moq:
            q = 0.0
    return q


def apply_order_rules(
    q: float, moq: float = 0.0, pack: float = 0.0, cap: float | None = None
) -> float:
    """:func:`round_order` for Python callers: ``cap`` None = no capacity (units)."""
    limit = math.inf if cap is None else float(cap)
    return float(round_order(float(q), float(moq), float(pack), limit))
