"""Disruption scenarios for the simulator.

A scenario file (YAML/JSON) lists disruptions. Periods are **reported periods**: period 0 is the
first period after the warm-up, and a window ``start``..``end`` covers ``start <= t < end``.

- ``closure``: the node ships nothing in the window (it still orders and receives);
- ``demand_spike``: external demand at the node (or every demand node) is multiplied;
- ``supplier_delay``: shipments into the node that leave in the window take ``extra_periods``
  more periods;
- ``random_closure``: in every period the node is open it closes with ``probability``; a
  closure lasts a number of periods drawn from ``duration`` (a discrete distribution, or
  geometric with ``mean_duration``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from echelon.errors import ScenarioError
from echelon.fileio import pydantic_error, read_mapping
from echelon.network.distributions import EmpiricalLeadTime
from echelon.network.model import Network


class DisruptionKind(StrEnum):
    CLOSURE = "closure"
    DEMAND_SPIKE = "demand_spike"
    SUPPLIER_DELAY = "supplier_delay"
    RANDOM_CLOSURE = "random_closure"


class _Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: int = Field(ge=0, description="first reported period of the window")
    end: int = Field(gt=0, description="first period after the window")

    @model_validator(mode="after")
    def _ordered(self) -> Any:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class Closure(_Window):
    kind: Literal[DisruptionKind.CLOSURE] = DisruptionKind.CLOSURE
    node: str


class DemandSpike(_Window):
    kind: Literal[DisruptionKind.DEMAND_SPIKE] = DisruptionKind.DEMAND_SPIKE
    node: str | None = Field(None, description="a demand node, or omitted for all of them")
    multiplier: float = Field(ge=0)


class SupplierDelay(_Window):
    kind: Literal[DisruptionKind.SUPPLIER_DELAY] = DisruptionKind.SUPPLIER_DELAY
    node: str = Field(description="the node whose inbound shipments are delayed")
    extra_periods: int = Field(ge=1)


class RandomClosure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal[DisruptionKind.RANDOM_CLOSURE] = DisruptionKind.RANDOM_CLOSURE
    node: str
    probability: float = Field(gt=0, le=1, description="onset probability per open period")
    duration: EmpiricalLeadTime | None = Field(
        None, description="periods a closure lasts (values, probabilities)"
    )
    mean_duration: float | None = Field(None, ge=1, description="geometric duration mean")

    @model_validator(mode="after")
    def _one_duration(self) -> RandomClosure:
        if (self.duration is None) == (self.mean_duration is None):
            raise ValueError("give exactly one of 'duration' or 'mean_duration'")
        if self.duration is not None and min(self.duration.values) < 1:
            raise ValueError("closure durations must be >= 1 period")
        return self


Disruption = Annotated[
    Closure | DemandSpike | SupplierDelay | RandomClosure, Field(discriminator="kind")
]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "scenario"
    description: str | None = None
    disruptions: list[Disruption] = Field(default_factory=list)

    def check(self, net: Network, source: str | None = None) -> None:
        ids = set(net.node_ids())
        random_nodes: set[str] = set()
        for i, d in enumerate(self.disruptions):
            node = getattr(d, "node", None)
            where = f"disruptions[{i}] ({d.kind.value})"
            if node is not None and node not in ids:
                raise ScenarioError(
                    "unknown node id",
                    source=source,
                    where=where,
                    field="node",
                    expected="a node id of the network",
                    found=f"'{node}'",
                    fix="correct the id",
                )
            if isinstance(d, RandomClosure):
                if d.node in random_nodes:
                    raise ScenarioError(
                        "a node can have only one random_closure",
                        source=source,
                        where=where,
                        field="node",
                        found=f"a second random_closure for '{d.node}'",
                        fix="merge them into one (combine probabilities and durations)",
                    )
                random_nodes.add(d.node)
            if isinstance(d, DemandSpike) and node is not None and net.node(node).demand is None:
                raise ScenarioError(
                    "a demand spike needs a node with external demand",
                    source=source,
                    where=where,
                    field="node",
                    found=f"'{node}' (no demand)",
                    fix="name a demand node, or omit 'node' to spike every demand node",
                )


def _describe(loc: tuple[Any, ...], data: Any) -> tuple[str | None, tuple[Any, ...]]:
    if len(loc) >= 2 and loc[0] == "disruptions" and isinstance(loc[1], int):
        return f"disruptions[{loc[1]}]", loc[3:] if len(loc) > 2 else ()
    return None, loc


def load_scenario(path: str | Path, net: Network) -> Scenario:
    path = Path(path)
    data = read_mapping(
        path,
        ScenarioError,
        "a scenario file must be a mapping with 'disruptions'",
        "start the file with `disruptions:`",
    )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, data, ScenarioError, str(path), _describe) from None
    scenario.check(net, source=str(path))
    return scenario
