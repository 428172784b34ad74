"""Inventory policy kinds and the policy file.

A policy file gives every node of a network one policy. Kinds are typed classes discriminated by
a :class:`PolicyKind` enum member, never free strings:

- ``base_stock`` (installation base-stock): order up to ``level`` on the node's *local* inventory
  position (on hand + on order − backorders owed to its customers);
- ``echelon_base_stock``: order up to ``level`` on the node's *echelon* inventory position (its
  local position plus, multiplied along the bill of materials, the echelon positions of its
  customers — everything at or downstream of the node, less external backorders);
- ``s_S``: when the local position is at or below ``s``, order up to ``S``;
- ``r_Q``: when the local position is at or below ``r``, order the smallest multiple of ``Q``
  that lifts it above ``r``.

Orders are then rounded by the node's ``min_order_qty`` / ``lot_multiple`` and capped by its
``capacity`` (docs/model.md, "Order rules").
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PolicyKind(StrEnum):
    BASE_STOCK = "base_stock"
    ECHELON_BASE_STOCK = "echelon_base_stock"
    S_S = "s_S"
    R_Q = "r_Q"


class PolicyCode(IntEnum):
    """Integer codes used by the compiled simulation kernels."""

    BASE_STOCK = 0
    ECHELON_BASE_STOCK = 1
    S_S = 2
    R_Q = 3


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseStock(_Policy):
    """Installation (local) base-stock: order up to ``level`` units of local inventory position."""

    kind: Literal[PolicyKind.BASE_STOCK] = PolicyKind.BASE_STOCK
    level: float = Field(description="order-up-to level, units")

    def code(self) -> PolicyCode:
        return PolicyCode.BASE_STOCK

    def params(self) -> tuple[float, float]:
        return self.level, 0.0

    def target_on_hand(self) -> float:
        return max(0.0, self.level)


class EchelonBaseStock(_Policy):
    """Echelon base-stock: order up to ``level`` units of echelon inventory position."""

    kind: Literal[PolicyKind.ECHELON_BASE_STOCK] = PolicyKind.ECHELON_BASE_STOCK
    level: float = Field(description="echelon order-up-to level, units")

    def code(self) -> PolicyCode:
        return PolicyCode.ECHELON_BASE_STOCK

    def params(self) -> tuple[float, float]:
        return self.level, 0.0

    def target_on_hand(self) -> float:
        return max(0.0, self.level)


class SS(_Policy):
    """(s, S): if the local inventory position is <= s, order up to S."""

    kind: Literal[PolicyKind.S_S] = PolicyKind.S_S
    s: float = Field(description="reorder point, units")
    S: float = Field(description="order-up-to level, units")

    @model_validator(mode="after")
    def _order(self) -> SS:
        if self.s > self.S:
            raise ValueError(f"S ({self.S:g}) must be >= s ({self.s:g})")
        return self

    def code(self) -> PolicyCode:
        return PolicyCode.S_S

    def params(self) -> tuple[float, float]:
        return self.s, self.S

    def target_on_hand(self) -> float:
        return max(0.0, self.S)


class RQ(_Policy):
    """(r, Q): if the local position is <= r, order n·Q with the least n lifting it above r."""

    kind: Literal[PolicyKind.R_Q] = PolicyKind.R_Q
    r: float = Field(description="reorder point, units")
    Q: float = Field(gt=0, description="order quantity, units")

    def code(self) -> PolicyCode:
        return PolicyCode.R_Q

    def params(self) -> tuple[float, float]:
        return self.r, self.Q

    def target_on_hand(self) -> float:
        return max(0.0, self.r + self.Q)


NodePolicy = Annotated[BaseStock | EchelonBaseStock | SS | RQ, Field(discriminator="kind")]


class PolicySet(BaseModel):
    """The content of a policy file: one policy per node, plus where it came from."""

    model_config = ConfigDict(extra="forbid")

    network: str | None = Field(None, description="the network this policy was made for")
    method: str | None = Field(None, description="how the policy was made, e.g. 'gsm'")
    metadata: dict[str, Any] = Field(default_factory=dict)
    policies: dict[str, NodePolicy]
