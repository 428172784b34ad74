"""Demand and lead-time distributions of the network model.

Units: demand is in units of the node's item **per period**; lead times are in **periods**.
Each distribution is a typed pydantic model whose ``kind`` is an enum member, so files say
``kind: poisson`` and code says ``DemandKind.POISSON`` — never a bare string.

Simulation conventions (see docs/model.md):
- normal demand is truncated at 0 (a negative draw becomes 0);
- a sampled lead time is rounded **up** to whole periods (a shipment that takes 1.2 periods is
  available at the start of the second period after it left), and continuous lead-time
  distributions are capped at ``mean + 6·std``.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

PROB_TOL = 1e-6


class DemandKind(StrEnum):
    CONSTANT = "constant"
    NORMAL = "normal"
    POISSON = "poisson"
    NEGATIVE_BINOMIAL = "negative_binomial"
    EMPIRICAL = "empirical"
    SCENARIOS = "scenarios"


class LeadTimeKind(StrEnum):
    DETERMINISTIC = "deterministic"
    NORMAL = "normal"
    GAMMA = "gamma"
    EMPIRICAL = "empirical"


class _Strict(BaseModel):
    # allow_inf_nan=False: `.inf` / `.nan` in a file are refused (one located line) instead of
    # overflowing later in the simulator
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_probabilities(values: list[float], probabilities: list[float] | None) -> None:
    if not values:
        raise ValueError("needs at least one value")
    if probabilities is None:
        return
    if len(probabilities) != len(values):
        raise ValueError(
            f"'probabilities' has {len(probabilities)} entries but 'values' has {len(values)}; "
            "give one probability per value"
        )
    if any(p < 0 for p in probabilities):
        raise ValueError("probabilities must be >= 0")
    total = math.fsum(probabilities)
    if abs(total - 1.0) > PROB_TOL:
        raise ValueError(f"probabilities must sum to 1, they sum to {total:.6g}")


# --------------------------------------------------------------------------- demand


class ConstantDemand(_Strict):
    """The same demand every period."""

    kind: Literal[DemandKind.CONSTANT] = DemandKind.CONSTANT
    value: float = Field(ge=0, description="units per period")

    def mean(self) -> float:
        return self.value

    def std(self) -> float:
        return 0.0


class NormalDemand(_Strict):
    """Normal demand per period, truncated at 0 in simulation."""

    kind: Literal[DemandKind.NORMAL] = DemandKind.NORMAL
    mean_: float = Field(alias="mean", ge=0, description="units per period")
    std_: float = Field(alias="std", ge=0, description="units per period")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return self.std_


class PoissonDemand(_Strict):
    """Poisson demand per period."""

    kind: Literal[DemandKind.POISSON] = DemandKind.POISSON
    mean_: float = Field(alias="mean", ge=0, description="units per period")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return math.sqrt(self.mean_)


class NegativeBinomialDemand(_Strict):
    """Negative binomial demand per period, given by its mean and standard deviation.

    Requires ``std**2 > mean`` (over-dispersion); NumPy's (n, p) are ``n = mean²/(var − mean)``,
    ``p = n/(n + mean)``.
    """

    kind: Literal[DemandKind.NEGATIVE_BINOMIAL] = DemandKind.NEGATIVE_BINOMIAL
    mean_: float = Field(alias="mean", gt=0, description="units per period")
    std_: float = Field(alias="std", gt=0, description="units per period")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _overdispersed(self) -> NegativeBinomialDemand:
        if self.std_**2 <= self.mean_:
            raise ValueError(
                f"negative binomial needs std² > mean, found std²={self.std_**2:.6g} and "
                f"mean={self.mean_:.6g}; use kind: poisson when the variance equals the mean"
            )
        return self

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return self.std_

    def numpy_params(self) -> tuple[float, float]:
        var = self.std_**2
        n = self.mean_**2 / (var - self.mean_)
        return n, n / (n + self.mean_)


class _Discrete(_Strict):
    """Values with probabilities (equal weights when none are given)."""

    values: list[Annotated[float, Field(ge=0)]]
    probabilities: list[float] | None = None

    @model_validator(mode="after")
    def _probs(self) -> _Discrete:
        _check_probabilities(self.values, self.probabilities)
        return self

    def weights(self) -> np.ndarray:
        if self.probabilities is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        p = np.asarray(self.probabilities, dtype=float)
        return p / p.sum()

    def mean(self) -> float:
        return float(np.dot(self.weights(), self.values))

    def std(self) -> float:
        v = np.asarray(self.values, dtype=float)
        return float(math.sqrt(max(0.0, float(np.dot(self.weights(), (v - self.mean()) ** 2)))))


class EmpiricalDemand(_Discrete):
    """Demand drawn i.i.d. from a sample (equal weights) or a discrete distribution."""

    kind: Literal[DemandKind.EMPIRICAL] = DemandKind.EMPIRICAL


class ScenarioDemand(_Strict):
    """Explicit demand paths: replication r uses path ``r mod len(paths)``, period by period."""

    kind: Literal[DemandKind.SCENARIOS] = DemandKind.SCENARIOS
    paths: list[list[Annotated[float, Field(ge=0)]]]

    @model_validator(mode="after")
    def _rectangular(self) -> ScenarioDemand:
        if not self.paths or not self.paths[0]:
            raise ValueError("needs at least one non-empty path")
        lengths = {len(p) for p in self.paths}
        if len(lengths) != 1:
            raise ValueError(
                f"all paths must have the same length, found lengths {sorted(lengths)}"
            )
        return self

    @property
    def length(self) -> int:
        return len(self.paths[0])

    def mean(self) -> float:
        return float(np.mean(self.paths))

    def std(self) -> float:
        return float(np.std(self.paths))


DemandDistribution = Annotated[
    ConstantDemand
    | NormalDemand
    | PoissonDemand
    | NegativeBinomialDemand
    | EmpiricalDemand
    | ScenarioDemand,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- lead time


def ceil_periods(x: float) -> int:
    """Round a lead time up to whole periods, forgiving float noise (2.0000000001 -> 2)."""
    return max(0, math.ceil(x - 1e-9))


class DeterministicLeadTime(_Strict):
    kind: Literal[LeadTimeKind.DETERMINISTIC] = LeadTimeKind.DETERMINISTIC
    value: float = Field(ge=0, description="periods")

    def mean(self) -> float:
        return self.value

    def std(self) -> float:
        return 0.0

    def max_periods(self) -> int:
        return ceil_periods(self.value)


class NormalLeadTime(_Strict):
    kind: Literal[LeadTimeKind.NORMAL] = LeadTimeKind.NORMAL
    mean_: float = Field(alias="mean", ge=0, description="periods")
    std_: float = Field(alias="std", ge=0, description="periods")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return self.std_

    def max_periods(self) -> int:
        return ceil_periods(self.mean_ + 6.0 * self.std_)


class GammaLeadTime(_Strict):
    kind: Literal[LeadTimeKind.GAMMA] = LeadTimeKind.GAMMA
    mean_: float = Field(alias="mean", gt=0, description="periods")
    std_: float = Field(alias="std", gt=0, description="periods")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return self.std_

    def shape_scale(self) -> tuple[float, float]:
        shape = (self.mean_ / self.std_) ** 2
        return shape, self.mean_ / shape

    def max_periods(self) -> int:
        return ceil_periods(self.mean_ + 6.0 * self.std_)


class EmpiricalLeadTime(_Discrete):
    """A discrete lead-time distribution (values in periods, with probabilities)."""

    kind: Literal[LeadTimeKind.EMPIRICAL] = LeadTimeKind.EMPIRICAL

    def max_periods(self) -> int:
        return max(ceil_periods(v) for v in self.values)


LeadTimeDistribution = Annotated[
    DeterministicLeadTime | NormalLeadTime | GammaLeadTime | EmpiricalLeadTime,
    Field(discriminator="kind"),
]


def is_stochastic(
    lead_time: DeterministicLeadTime | NormalLeadTime | GammaLeadTime | EmpiricalLeadTime,
) -> bool:
    """True when the lead time has to be sampled (it can take more than one integer value)."""
    if isinstance(lead_time, DeterministicLeadTime):
        return False
    if isinstance(lead_time, EmpiricalLeadTime):
        return len({ceil_periods(v) for v in lead_time.values}) > 1
    return lead_time.std() > 0
