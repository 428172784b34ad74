"""Guaranteed-service model (Graves & Willems 2000): safety-stock placement by committed
service times. Entry point: :func:`solve_gsm`; conventions in docs/gsm.md."""

from echelon.optimize.gsm.instance import GSMInstance, build_instance, service_bounds
from echelon.optimize.gsm.interop import instance_from_stockpyl
from echelon.optimize.gsm.solution import GSMSolution, evaluate
from echelon.optimize.gsm.solve import solve_gsm

__all__ = [
    "GSMInstance",
    "GSMSolution",
    "build_instance",
    "evaluate",
    "instance_from_stockpyl",
    "service_bounds",
    "solve_gsm",
]
