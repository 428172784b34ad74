"""Service targets per segment: ABC/XYZ classification of item × location.

A demand node is one item at one location. Its segment has two letters:

- **ABC** by annual demand value ``μ · periods_per_year · unit_value`` (``unit_value`` or, when a
  node has none, 1 — the classification is then by volume): nodes sorted by value, descending;
  the nodes making up the first ``a`` share (default 80%) of the cumulative value are A, up to the
  ``b`` share (default 95%) B, the rest C. A node is placed by the cumulative share *before* it,
  so the largest node is always A.
- **XYZ** by the coefficient of variation ``σ/μ`` of demand per period: below ``x`` (default 0.5)
  X, below ``y`` (default 1.0) Y, else Z (μ = 0 is Z).

A targets file (YAML/JSON) sets the service target of every demand node from its segment::

    measure: cycle_service_level     # or fill_rate
    abc: {a: 0.8, b: 0.95}
    xyz: {x: 0.5, y: 1.0}
    targets: {AX: 0.99, AY: 0.98, A*: 0.97, "*Z": 0.90, default: 0.95}

Lookup order for a node in segment ``AY``: ``AY``, then ``A*``, then ``*Y``, then ``default``.
From a demand history (long format ``unique_id``/``ds``/``y``) :func:`classify_history` uses the
sample mean and standard deviation per period instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from echelon.errors import OptimizationError
from echelon.fileio import pydantic_error, read_structured
from echelon.network.model import Network, ServiceMeasure, ServiceTarget

_KEY = re.compile(r"^([ABC*])([XYZ*])$")


class AbcCutoffs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: float = Field(0.8, gt=0, lt=1, description="cumulative value share of class A")
    b: float = Field(0.95, gt=0, le=1, description="cumulative value share of classes A and B")

    @model_validator(mode="after")
    def _order(self) -> AbcCutoffs:
        if self.b < self.a:
            raise ValueError(f"b ({self.b:g}) must be >= a ({self.a:g})")
        return self


class XyzCutoffs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = Field(0.5, gt=0, description="coefficient of variation below which a node is X")
    y: float = Field(1.0, gt=0, description="coefficient of variation below which a node is Y")

    @model_validator(mode="after")
    def _order(self) -> XyzCutoffs:
        if self.y < self.x:
            raise ValueError(f"y ({self.y:g}) must be >= x ({self.x:g})")
        return self


class SegmentTargets(BaseModel):
    """Service targets by ABC/XYZ segment (see the module doc for the file format)."""

    model_config = ConfigDict(extra="forbid")
    measure: ServiceMeasure = ServiceMeasure.CYCLE_SERVICE_LEVEL
    abc: AbcCutoffs = Field(default_factory=AbcCutoffs)
    xyz: XyzCutoffs = Field(default_factory=XyzCutoffs)
    targets: dict[str, float]

    @field_validator("targets")
    @classmethod
    def _keys(cls, value: dict[str, float]) -> dict[str, float]:
        for key, target in value.items():
            if key != "default" and not _KEY.match(key):
                raise ValueError(
                    f"segment key {key!r} must be two letters ABC then XYZ (AX, B*, *Z) or "
                    "'default'"
                )
            if not 0 < target < 1:
                raise ValueError(f"target of {key!r} must be in (0, 1), found {target:g}")
        return value

    def target_for(self, segment: str) -> float | None:
        """The target of a two-letter segment, by the documented lookup order."""
        for key in (segment, segment[0] + "*", "*" + segment[1], "default"):
            if key in self.targets:
                return self.targets[key]
        return None


@dataclass(frozen=True)
class Segment:
    """One demand node's classification: annual value (money), CV, ABC and XYZ letters."""

    node: str
    annual_value: float
    cv: float
    abc: str
    xyz: str

    @property
    def code(self) -> str:
        return self.abc + self.xyz


def _abc(values: np.ndarray, cut: AbcCutoffs) -> list[str]:
    order = np.argsort(-values, kind="stable")
    total = float(values.sum())
    labels = ["C"] * len(values)
    before = 0.0
    for i in order:
        share = before / total if total > 0 else 0.0
        labels[i] = "A" if share < cut.a else ("B" if share < cut.b else "C")
        before += float(values[i])
    return labels


def _xyz(cv: float, cut: XyzCutoffs) -> str:
    if not np.isfinite(cv):
        return "Z"
    return "X" if cv < cut.x else ("Y" if cv < cut.y else "Z")


def _segments(
    ids: list[str], values: np.ndarray, cvs: np.ndarray, rules: SegmentTargets
) -> dict[str, Segment]:
    abc = _abc(values, rules.abc)
    return {
        nid: Segment(nid, float(values[i]), float(cvs[i]), abc[i], _xyz(float(cvs[i]), rules.xyz))
        for i, nid in enumerate(ids)
    }


def classify_network(net: Network, rules: SegmentTargets | None = None) -> dict[str, Segment]:
    """ABC/XYZ segment of every demand node from its demand distribution (module doc)."""
    rules = rules or SegmentTargets(targets={})
    demand_nodes = [n for n in net.nodes if n.demand is not None]
    if not demand_nodes:
        raise OptimizationError(
            "the network has no demand node to classify",
            source=net.name,
            fix="give at least one customer-facing node a 'demand'",
        )
    means = np.array([n.demand.mean() for n in demand_nodes if n.demand is not None])
    sds = np.array([n.demand.std() for n in demand_nodes if n.demand is not None])
    unit = np.array([n.unit_value if n.unit_value is not None else 1.0 for n in demand_nodes])
    values = means * net.periods_per_year * unit
    with np.errstate(divide="ignore", invalid="ignore"):
        cvs = np.where(means > 0, sds / np.where(means > 0, means, 1.0), np.inf)
    return _segments([n.id for n in demand_nodes], values, cvs, rules)


def classify_history(
    history: pd.DataFrame,
    unit_values: dict[str, float] | None = None,
    rules: SegmentTargets | None = None,
) -> dict[str, Segment]:
    """ABC/XYZ segments of the series of a long-format history (``unique_id``, ``ds``, ``y``).

    Annual value = total ``y`` × unit value scaled to one year of the history's span (periods per
    year taken from the median spacing of ``ds``); CV = sample std / mean of ``y`` per period.
    """  # fmt: skip
    rules = rules or SegmentTargets(targets={})
    unit_values = unit_values or {}
    df = history.sort_values(["unique_id", "ds"])
    stats = df.groupby("unique_id", sort=True)["y"].agg(["mean", "std", "count"])
    gaps = df.groupby("unique_id")["ds"].diff().dropna()
    spacing = pd.Timedelta(gaps.median()) if len(gaps) else None
    per_year = 365 * 86400 / spacing.total_seconds() if spacing is not None else 1.0
    ids = [str(i) for i in stats.index]
    unit = np.array([unit_values.get(i, 1.0) for i in ids])
    values = stats["mean"].to_numpy(float) * float(per_year) * unit
    means = stats["mean"].to_numpy(float)
    sds = stats["std"].fillna(0.0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cvs = np.where(means > 0, sds / np.where(means > 0, means, 1.0), np.inf)
    return _segments(ids, values, cvs, rules)


def load_segment_targets(path: str | Path) -> SegmentTargets:
    """Read and validate a segment-targets file; errors name the file and the field."""
    data = read_structured(path, OptimizationError)
    try:
        return SegmentTargets.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, data, OptimizationError, str(path)) from None


def apply_segment_targets(
    net: Network, rules: SegmentTargets, source: str | None = None
) -> tuple[Network, dict[str, Segment]]:
    """A copy of ``net`` whose demand nodes carry their segment's service target."""
    segments = classify_network(net, rules)
    nodes = []
    for node in net.nodes:
        seg = segments.get(node.id)
        if seg is None:
            nodes.append(node)
            continue
        target = rules.target_for(seg.code)
        if target is None:
            raise OptimizationError(
                f"no service target for segment {seg.code} of demand node '{node.id}'",
                source=source,
                field="targets",
                expected=f"a key {seg.code}, {seg.abc}*, *{seg.xyz} or default",
                found=", ".join(sorted(rules.targets)) or "no targets",
                fix="add a 'default' target",
            )
        service = ServiceTarget(measure=rules.measure, target=target)
        nodes.append(node.model_copy(update={"service": service}))
    return net.model_copy(update={"nodes": nodes}), segments
