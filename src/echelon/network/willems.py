"""Import a Willems (2008) chain CSV as a :class:`~echelon.network.model.Network`.

Source: Willems, S. P. (2008). "Data set — Real-world multiechelon supply chains used for
inventory optimization." Manufacturing & Service Operations Management 10(1):19–23.

File format: a CSV flattened from the original XML; it may start with a byte-order mark.
The header is the row holding the ``/stages/stage/@…`` and ``/arcs/arc/@…`` columns (row 2,
after a ``/chain`` row). Arc rows fill ``/arcs/arc/@from`` and ``/arcs/arc/@to`` (``from``
supplies ``to``); stage rows fill ``/stages/stage/@…``. Columns vary between files: the
``stDevStageTime`` column and the ``StageTime_k_p`` / ``StageTime_k_v`` pairs (a discrete
stage-time distribution, any number of k) may be absent.

Conversion (one node per stage, node id = ``stageName``; times are in periods, costs in the
file's money units per unit):

- ``holding_cost`` = ``unit_value`` = the cumulative cost ``cumcost_j = stageCost_j +
  Σ_{i ∈ pred(j)} cumcost_i`` (recursive, one term per arc, unit bill of materials), money per
  unit per period — the benchmark convention of the guaranteed-service model on these chains;
- ``lead_time``: the ``StageTime_k`` distribution when the stage has one (an empirical lead
  time; probabilities are normalized when they sum to 1 within 1e-6, otherwise the file is
  rejected), else ``NormalLeadTime(stageTime, stDevStageTime)`` when the standard deviation is
  positive, else ``DeterministicLeadTime(stageTime)``. The raw mean is kept (the simulator and
  the GSM round up to whole periods);
- demand stages (``avgDemand > 0`` or ``stDevDemand > 0``) get ``NormalDemand(avgDemand,
  stDevDemand)`` per period and ``max_service_time = maxServiceTime`` (blank = 0 periods);
- ``serviceLevel`` in (0, 1) becomes a cycle-service-level target; a missing value or one
  outside (0, 1) leaves ``service`` unset (the raw value is kept in ``attributes``);
- **penalty cost**: the data set has none. On demand stages with a service level SL we set
  ``penalty_cost = h·SL/(1 − SL)`` per unit backordered per period, so that the newsvendor
  critical ratio ``p/(p + h)`` equals SL; other stages get 0;
- stages without predecessors get ``external_supplier=True``; all stages are in backorder mode;
- ``stageClassification``, ``relDepth``, ``xPos``, ``yPos``, ``stageCost``, ``stageTime``,
  ``serviceLevel`` (and ``stDevStageTime``, ``maxServiceTime`` on non-demand stages when given)
  are kept in ``attributes``.

Every problem raises :class:`~echelon.errors.NetworkError` with the file, the 1-based CSV row,
the column, what was expected and found, and a fix.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from echelon.errors import NetworkError
from echelon.fileio import pydantic_error, read_text
from echelon.network.distributions import (
    PROB_TOL,
    DeterministicLeadTime,
    EmpiricalLeadTime,
    NormalDemand,
    NormalLeadTime,
)
from echelon.network.graph import find_cycle, validate_graph
from echelon.network.model import (
    Lane,
    LeadTimeDistribution,
    Network,
    Node,
    ServiceMeasure,
    ServiceTarget,
    StockoutMode,
)

STAGE_PREFIX = "/stages/stage/@"
ARC_PREFIX = "/arcs/arc/@"
PROVENANCE = (
    "Willems, S. P. (2008). Data set — Real-world multiechelon supply chains used for "
    "inventory optimization. Manufacturing & Service Operations Management 10(1):19–23."
)
_STAGE_TIME_RE = re.compile(r"^StageTime_(\d+)_([pv])$")
_REQUIRED_STAGE_COLUMNS = ("stageName", "stageCost", "stageTime")


@dataclass
class _Stage:
    name: str
    row: int
    cost: float
    time: float
    lead_time: LeadTimeDistribution
    avg_demand: float
    std_demand: float
    service_level: float | None
    max_service_time: float | None
    attributes: dict[str, str | float | int | None] = field(default_factory=dict)

    @property
    def is_demand(self) -> bool:
        return self.avg_demand > 0 or self.std_demand > 0


class _Reader:
    """Column lookup and number parsing with located errors."""

    def __init__(self, source: str, columns: dict[str, int]) -> None:
        self.source = source
        self.columns = columns

    def text(self, row: list[str], col: str) -> str:
        i = self.columns.get(col)
        if i is None or i >= len(row):
            return ""
        return row[i].strip()

    def number(
        self, row: list[str], rownum: int, col: str, *, required: bool = False, minimum: float = 0.0
    ) -> float | None:
        raw = self.text(row, col)
        if raw == "":
            if required:
                raise NetworkError(
                    "missing value",
                    source=self.source,
                    where=f"row {rownum}",
                    field=col,
                    expected="a number",
                    found="a blank cell",
                    fix=f"fill in {col} for this stage",
                )
            return None
        try:
            value = float(raw)
        except ValueError:
            raise NetworkError(
                "not a number",
                source=self.source,
                where=f"row {rownum}",
                field=col,
                expected="a number",
                found=repr(raw),
                fix="write a plain decimal number (dot as decimal separator)",
            ) from None
        if not math.isfinite(value) or value < minimum:
            raise NetworkError(
                "value out of range",
                source=self.source,
                where=f"row {rownum}",
                field=col,
                expected=f"a finite number >= {minimum:g}",
                found=raw,
                fix="correct the value",
            )
        return value


def _find_header(rows: list[list[str]], source: str) -> int:
    for i, row in enumerate(rows):
        if any(c.strip().startswith((STAGE_PREFIX, ARC_PREFIX)) for c in row):
            return i
    raise NetworkError(
        "no header row with Willems columns",
        source=source,
        expected="a row holding '/stages/stage/@…' and '/arcs/arc/@…' columns",
        found=f"{len(rows)} rows without them",
        fix="give a Willems (2008) chain CSV, or an edge list with columns from,to",
    )


def _column_map(header: list[str], header_row: int, source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        cell = cell.strip()
        if cell.startswith(STAGE_PREFIX):
            key = cell[len(STAGE_PREFIX) :]
        elif cell.startswith(ARC_PREFIX):
            key = cell[len(ARC_PREFIX) :]
        else:
            continue
        if key in columns:
            raise NetworkError(
                "duplicate column",
                source=source,
                where=f"row {header_row}",
                field=cell,
                found=f"columns {columns[key] + 1} and {i + 1}",
                fix="remove one of the two columns",
            )
        columns[key] = i
    for col in _REQUIRED_STAGE_COLUMNS:
        if col not in columns:
            raise NetworkError(
                "missing column",
                source=source,
                where=f"row {header_row}",
                field=STAGE_PREFIX + col,
                expected="a column for every stage attribute",
                found="no such column",
                fix=f"add the column {STAGE_PREFIX}{col}",
            )
    has_from, has_to = "from" in columns, "to" in columns
    if has_from != has_to:
        missing = "to" if has_from else "from"
        raise NetworkError(
            "missing column",
            source=source,
            where=f"row {header_row}",
            field=ARC_PREFIX + missing,
            expected="both /arcs/arc/@from and /arcs/arc/@to",
            found="only one of them",
            fix=f"add the column {ARC_PREFIX}{missing}",
        )
    return columns


def _stage_time_pairs(columns: dict[str, int]) -> list[tuple[int, str | None, str | None]]:
    """(k, probability column, value column) for every StageTime_k found, sorted by k."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for col in columns:
        m = _STAGE_TIME_RE.match(col)
        if m:
            found[int(m.group(1))][m.group(2)] = col
    return [(k, found[k].get("p"), found[k].get("v")) for k in sorted(found)]


def _lead_time(
    rd: _Reader,
    row: list[str],
    rownum: int,
    pairs: list[tuple[int, str | None, str | None]],
    mean: float,
    std: float | None,
) -> LeadTimeDistribution:
    values: list[float] = []
    probs: list[float] = []
    for k, pcol, vcol in pairs:
        p = rd.number(row, rownum, pcol) if pcol else None
        v = rd.number(row, rownum, vcol) if vcol else None
        if p is None and v is None:
            continue
        if p is None or v is None:
            missing = pcol if p is None else vcol
            raise NetworkError(
                f"stage-time point {k} has a value without a probability or vice versa",
                source=rd.source,
                where=f"row {rownum}",
                field=missing or f"StageTime_{k}_{'p' if p is None else 'v'}",
                expected="both StageTime_k_p and StageTime_k_v, or neither",
                found="a blank cell" if missing else "no such column",
                fix="fill in the missing cell or clear its partner",
            )
        if p > 1.0 + PROB_TOL:
            raise NetworkError(
                "probability above 1",
                source=rd.source,
                where=f"row {rownum}",
                field=pcol,
                expected="a probability in [0, 1]",
                found=f"{p:g}",
                fix="correct the probability",
            )
        values.append(v)
        probs.append(p)
    if values:
        total = math.fsum(probs)
        if abs(total - 1.0) > PROB_TOL:
            raise NetworkError(
                "stage-time probabilities do not sum to 1",
                source=rd.source,
                where=f"row {rownum}",
                field="StageTime_k_p",
                expected="probabilities summing to 1 (within 1e-6)",
                found=f"sum {total:.9g}",
                fix="correct the StageTime_k_p probabilities",
            )
        return EmpiricalLeadTime(values=values, probabilities=[p / total for p in probs])
    if std is not None and std > 0:
        return NormalLeadTime.model_validate({"mean": mean, "std": std})
    return DeterministicLeadTime(value=mean)


def _read_rows(path: Path) -> list[list[str]]:
    source = str(path)
    text = read_text(path, NetworkError, "save the CSV as UTF-8")
    text = text.lstrip("\ufeff")
    try:
        return list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise NetworkError(
            f"CSV syntax error: {exc}", source=source, fix="correct the CSV quoting"
        ) from None


def _network_name(path: Path) -> str:
    stem = path.stem
    return stem if stem.lower().startswith("willems") else f"willems-{stem}"


def read_willems(path: str | Path) -> Network:
    """Read a Willems (2008) chain CSV into a validated Network (conventions: module doc)."""
    path = Path(path)
    source = str(path)
    rows = _read_rows(path)
    h = _find_header(rows, source)
    header_row = h + 1
    columns = _column_map(rows[h], header_row, source)
    rd = _Reader(source, columns)
    pairs = _stage_time_pairs(columns)

    stages: dict[str, _Stage] = {}
    arcs: list[tuple[str, str, int]] = []
    for i in range(h + 1, len(rows)):
        row = rows[i]
        rownum = i + 1
        name = rd.text(row, "stageName")
        src, dst = rd.text(row, "from"), rd.text(row, "to")
        if src or dst:
            if not (src and dst):
                col = ARC_PREFIX + ("to" if src else "from")
                raise NetworkError(
                    "an arc needs both ends",
                    source=source,
                    where=f"row {rownum}",
                    field=col,
                    expected="a stage name",
                    found="a blank cell",
                    fix="fill in both /arcs/arc/@from and /arcs/arc/@to",
                )
            arcs.append((src, dst, rownum))
        if not name:
            if any(rd.text(row, c) for c in columns if c not in ("from", "to")):
                raise NetworkError(
                    "stage data without a stage name",
                    source=source,
                    where=f"row {rownum}",
                    field=STAGE_PREFIX + "stageName",
                    expected="the stage's name",
                    found="a blank cell",
                    fix="fill in stageName or clear the row's stage columns",
                )
            continue
        if name in stages:
            raise NetworkError(
                "duplicate stage name",
                source=source,
                where=f"row {rownum}",
                field=STAGE_PREFIX + "stageName",
                expected="a unique stage name",
                found=f"'{name}', already on row {stages[name].row}",
                fix="rename one of the two stages or remove the duplicate row",
            )
        stages[name] = _read_stage(rd, row, rownum, name, pairs)

    if not stages:
        raise NetworkError(
            "no stages",
            source=source,
            field=STAGE_PREFIX + "stageName",
            expected="at least one stage row",
            found="none",
            fix="add stage rows",
        )
    seen_arcs: dict[tuple[str, str], int] = {}
    for src, dst, rownum in arcs:
        for end, col in ((src, "from"), (dst, "to")):
            if end not in stages:
                raise NetworkError(
                    "arc names an unknown stage",
                    source=source,
                    where=f"row {rownum}",
                    field=ARC_PREFIX + col,
                    expected="the stageName of a stage row",
                    found=f"'{end}'",
                    fix="add the stage or correct the name",
                )
        if src == dst:
            raise NetworkError(
                "an arc cannot connect a stage to itself",
                source=source,
                where=f"row {rownum}",
                field=ARC_PREFIX + "to",
                found=f"'{src}' -> '{dst}'",
                fix="remove the arc",
            )
        if (src, dst) in seen_arcs:
            raise NetworkError(
                "duplicate arc",
                source=source,
                where=f"row {rownum}",
                field=ARC_PREFIX + "to",
                found=f"'{src}' -> '{dst}', already on row {seen_arcs[(src, dst)]}",
                fix="remove the duplicate row",
            )
        seen_arcs[(src, dst)] = rownum

    cumcost = _cumulative_costs(stages, arcs, source)
    preds: dict[str, int] = defaultdict(int)
    for _, dst, _ in arcs:
        preds[dst] += 1

    nodes = [_make_node(st, cumcost[name], preds[name] == 0, source) for name, st in stages.items()]
    lanes = [Lane.model_validate({"from": s, "to": d}) for s, d, _ in arcs]
    net = Network(
        name=_network_name(path),
        description=f"Willems (2008) chain {path.stem}, imported from {path.name}. {PROVENANCE}",
        nodes=nodes,
        lanes=lanes,
    )
    validate_graph(net, source=source)
    return net


def _read_stage(
    rd: _Reader,
    row: list[str],
    rownum: int,
    name: str,
    pairs: list[tuple[int, str | None, str | None]],
) -> _Stage:
    cost = rd.number(row, rownum, "stageCost", required=True)
    time = rd.number(row, rownum, "stageTime", required=True)
    assert cost is not None and time is not None
    std_time = rd.number(row, rownum, "stDevStageTime")
    avg = rd.number(row, rownum, "avgDemand") or 0.0
    sd = rd.number(row, rownum, "stDevDemand") or 0.0
    sl = rd.number(row, rownum, "serviceLevel", minimum=-math.inf)
    mst = rd.number(row, rownum, "maxServiceTime")
    attrs: dict[str, str | float | int | None] = {
        "stageClassification": rd.text(row, "stageClassification") or None,
        "relDepth": rd.number(row, rownum, "relDepth", minimum=-math.inf),
        "xPos": rd.number(row, rownum, "xPos", minimum=-math.inf),
        "yPos": rd.number(row, rownum, "yPos", minimum=-math.inf),
        "stageCost": cost,
        "stageTime": time,
        "serviceLevel": sl,
    }
    if std_time is not None:
        attrs["stDevStageTime"] = std_time
    lead_time = _lead_time(rd, row, rownum, pairs, time, std_time)
    return _Stage(
        name=name,
        row=rownum,
        cost=cost,
        time=time,
        lead_time=lead_time,
        avg_demand=avg,
        std_demand=sd,
        service_level=sl,
        max_service_time=mst,
        attributes=attrs,
    )


def _cumulative_costs(
    stages: dict[str, _Stage], arcs: list[tuple[str, str, int]], source: str
) -> dict[str, float]:
    """cumcost_j = stageCost_j + Σ_{i ∈ pred(j)} cumcost_i, in topological order (Kahn)."""
    indeg = dict.fromkeys(stages, 0)
    succ: dict[str, list[str]] = defaultdict(list)
    for src, dst, _ in arcs:
        succ[src].append(dst)
        indeg[dst] += 1
    cum = {name: st.cost for name, st in stages.items()}
    ready = [name for name, d in indeg.items() if d == 0]
    done = 0
    while ready:
        name = ready.pop()
        done += 1
        for nxt in succ[name]:
            cum[nxt] += cum[name]
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                ready.append(nxt)
    if done < len(stages):
        skeleton = Network.model_construct(
            nodes=[Node.model_construct(id=n) for n in stages],
            lanes=[Lane.model_construct(source=s, target=d) for s, d, _ in arcs],
        )
        cycle = find_cycle(skeleton) or []
        raise NetworkError(
            "the arcs form a cycle",
            source=source,
            where="arcs",
            expected="a directed acyclic graph",
            found=" -> ".join([*cycle, cycle[0]]) if cycle else "a cycle",
            fix="remove one arc of the cycle",
        )
    return cum


def _make_node(st: _Stage, cumcost: float, is_source: bool, source: str) -> Node:
    attrs = dict(st.attributes)
    data: dict[str, Any] = {
        "id": st.name,
        "holding_cost": cumcost,
        "unit_value": cumcost,
        "lead_time": st.lead_time,
        "stockout": StockoutMode.BACKORDER,
        "external_supplier": is_source,
    }
    sl = st.service_level
    valid_sl = sl is not None and 0.0 < sl < 1.0
    if valid_sl:
        assert sl is not None
        data["service"] = ServiceTarget(measure=ServiceMeasure.CYCLE_SERVICE_LEVEL, target=sl)
    if st.is_demand:
        data["demand"] = NormalDemand.model_validate({"mean": st.avg_demand, "std": st.std_demand})
        data["max_service_time"] = st.max_service_time if st.max_service_time is not None else 0.0
        if valid_sl:
            assert sl is not None
            data["penalty_cost"] = cumcost * sl / (1.0 - sl)
        else:
            attrs["penalty_note"] = "no usable serviceLevel: penalty_cost 0"
    elif st.max_service_time is not None:
        attrs["maxServiceTime"] = st.max_service_time
    data["attributes"] = attrs
    try:
        return Node.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(
            exc, data, NetworkError, source, lambda loc, _d: (f"row {st.row}", loc)
        ) from None
