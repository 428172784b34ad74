"""Inventory policies: typed kinds, the policy file, and simple heuristics."""

from echelon.policies.io import check_policy, load_policy, save_policy
from echelon.policies.model import RQ, SS, BaseStock, EchelonBaseStock, PolicyKind, PolicySet

__all__ = [
    "RQ",
    "SS",
    "BaseStock",
    "EchelonBaseStock",
    "PolicyKind",
    "PolicySet",
    "check_policy",
    "load_policy",
    "save_policy",
]
