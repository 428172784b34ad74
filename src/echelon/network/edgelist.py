"""Import a plain edge-list CSV (and an optional nodes table) as a Network.

Edge list: one lane per row, columns ``from,to`` (``pred,succ`` and ``source,target`` are
accepted as synonyms) and optionally ``quantity`` (units of ``from`` per unit of ``to``,
default 1) and ``lead_time`` (the lane's lead time in periods; blank = the ``to`` node's).

Nodes are created from the ids, in order of first appearance. A node without an inbound lane
gets ``external_supplier=True``. Without a nodes table nothing else is known: no node has
demand, costs are 0 and lead times 0 periods (``defaults`` can set any node field for every
node, e.g. ``{"holding_cost": 1.0, "lead_time": 2}``).

Nodes table (optional ``nodes`` argument): a CSV with column ``id`` and optional columns
``name``, ``holding_cost`` (money per unit per period), ``unit_value`` (money per unit),
``demand_mean`` and ``demand_std`` (normal demand, units per period; std defaults to 0),
``lead_time`` (periods), ``penalty_cost`` (money per unit backordered per period),
``service_target`` (cycle service level in (0, 1)) and ``max_service_time`` (periods). Blank
cells keep the default. Ids that appear only in the nodes table become isolated nodes (with an
external supplier).

Every problem raises :class:`~echelon.errors.NetworkError` naming the file, the 1-based CSV row
(the header is row 1), the column, what was expected and found, and a fix.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from echelon.errors import NetworkError
from echelon.fileio import pydantic_error, read_text
from echelon.network.graph import validate_graph
from echelon.network.model import Lane, Network, Node, ServiceTarget

_FROM_NAMES = ("from", "pred", "source")
_TO_NAMES = ("to", "succ", "target")
_EDGE_OPTIONAL = ("quantity", "lead_time")
_NODE_COLUMNS = (
    "id",
    "name",
    "holding_cost",
    "unit_value",
    "demand_mean",
    "demand_std",
    "lead_time",
    "penalty_cost",
    "service_target",
    "max_service_time",
)


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    source = str(path)
    text = read_text(path, NetworkError, "save the CSV as UTF-8")
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise NetworkError(
            f"CSV syntax error: {exc}", source=source, fix="correct the CSV quoting"
        ) from None
    if not rows:
        raise NetworkError(
            "empty file",
            source=source,
            expected="a header row",
            found="nothing",
            fix="add a header row and data rows",
        )
    return [c.strip().lower() for c in rows[0]], rows[1:]


def _cell(row: list[str], i: int | None) -> str:
    if i is None or i >= len(row):
        return ""
    return row[i].strip()


def _number(
    source: str, rownum: int, col: str, raw: str, *, minimum: float = 0.0, strict: bool = False
) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise NetworkError(
            "not a number",
            source=source,
            where=f"row {rownum}",
            field=col,
            expected="a number",
            found=repr(raw),
            fix="write a plain decimal number (dot as decimal separator)",
        ) from None
    bad = value <= minimum if strict else value < minimum
    if not math.isfinite(value) or bad:
        raise NetworkError(
            "value out of range",
            source=source,
            where=f"row {rownum}",
            field=col,
            expected=f"a finite number {'>' if strict else '>='} {minimum:g}",
            found=raw,
            fix="correct the value",
        )
    return value


def _index(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def read_edge_list(
    path: str | Path,
    defaults: Mapping[str, Any] | None = None,
    nodes: str | Path | None = None,
) -> Network:
    """Read an edge-list CSV (plus optional nodes table) into a validated Network.

    ``defaults`` are node fields applied to every node before the nodes table's values.
    """
    path = Path(path)
    source = str(path)
    header, rows = _read_table(path)
    i_from, i_to = _index(header, _FROM_NAMES), _index(header, _TO_NAMES)
    for idx, names in ((i_from, _FROM_NAMES), (i_to, _TO_NAMES)):
        if idx is None:
            raise NetworkError(
                "missing column",
                source=source,
                where="row 1",
                field=names[0],
                expected="columns from,to (optionally quantity,lead_time)",
                found=",".join(header) or "an empty header",
                fix=f"add a '{names[0]}' column",
            )
    known = {*_FROM_NAMES, *_TO_NAMES, *_EDGE_OPTIONAL}
    for col in header:
        if col and col not in known:
            raise NetworkError(
                "unknown column",
                source=source,
                where="row 1",
                field=col,
                expected="from, to, quantity, lead_time",
                found=f"'{col}'",
                fix="remove the column or check its spelling",
            )
    i_qty = _index(header, ("quantity",))
    i_lt = _index(header, ("lead_time",))

    order: dict[str, None] = {}
    lanes: list[Lane] = []
    seen: dict[tuple[str, str], int] = {}
    for k, row in enumerate(rows):
        rownum = k + 2
        if not any(c.strip() for c in row):
            continue
        ends = []
        for idx, col in ((i_from, header[i_from or 0]), (i_to, header[i_to or 0])):
            value = _cell(row, idx)
            if not value:
                raise NetworkError(
                    "blank node id",
                    source=source,
                    where=f"row {rownum}",
                    field=col,
                    expected="a node id",
                    found="a blank cell",
                    fix="fill in the id or delete the row",
                )
            ends.append(value)
        src, dst = ends
        if src == dst:
            raise NetworkError(
                "a lane cannot connect a node to itself",
                source=source,
                where=f"row {rownum}",
                found=f"'{src}' -> '{dst}'",
                fix="remove the row",
            )
        if (src, dst) in seen:
            raise NetworkError(
                "duplicate lane",
                source=source,
                where=f"row {rownum}",
                found=f"'{src}' -> '{dst}', already on row {seen[(src, dst)]}",
                fix="merge the two rows into one (add their quantities)",
            )
        seen[(src, dst)] = rownum
        lane: dict[str, Any] = {"from": src, "to": dst}
        raw_q = _cell(row, i_qty)
        if raw_q:
            lane["quantity"] = _number(source, rownum, "quantity", raw_q, strict=True)
        raw_lt = _cell(row, i_lt)
        if raw_lt:
            lane["lead_time"] = _number(source, rownum, "lead_time", raw_lt)
        lanes.append(Lane.model_validate(lane))
        order.setdefault(src)
        order.setdefault(dst)

    table = _read_nodes_table(Path(nodes)) if nodes is not None else {}
    for nid in table:
        order.setdefault(nid)
    if not order:
        raise NetworkError(
            "no lanes and no nodes",
            source=source,
            expected="at least one row",
            found="only a header",
            fix="add lanes (from,to rows)",
        )
    has_inbound = {lane.target for lane in lanes}
    node_list = []
    for nid in order:
        data: dict[str, Any] = dict(defaults or {})
        data.update(table.get(nid, ({}, 0))[0])
        data["id"] = nid
        data["external_supplier"] = nid not in has_inbound
        where_src = str(nodes) if nid in table else source
        where = f"row {table[nid][1]}" if nid in table else f"node '{nid}'"
        try:
            node_list.append(Node.model_validate(data))
        except ValidationError as exc:
            raise pydantic_error(
                exc, data, NetworkError, where_src, lambda loc, _d, w=where: (w, loc)
            ) from None
    net = Network(
        name=path.stem,
        description=f"imported from the edge list {path.name}",
        nodes=node_list,
        lanes=lanes,
    )
    validate_graph(net, source=source)
    return net


def _read_nodes_table(path: Path) -> dict[str, tuple[dict[str, Any], int]]:
    """Node fields by id (with the 1-based row they came from)."""
    source = str(path)
    header, rows = _read_table(path)
    if "id" not in header:
        raise NetworkError(
            "missing column",
            source=source,
            where="row 1",
            field="id",
            expected="a column 'id' naming the nodes",
            found=",".join(header) or "an empty header",
            fix="add an 'id' column",
        )
    for col in header:
        if col and col not in _NODE_COLUMNS:
            raise NetworkError(
                "unknown column",
                source=source,
                where="row 1",
                field=col,
                expected=", ".join(_NODE_COLUMNS),
                found=f"'{col}'",
                fix="remove the column or check its spelling",
            )
    col_of = {c: header.index(c) for c in _NODE_COLUMNS if c in header}
    out: dict[str, tuple[dict[str, Any], int]] = {}
    for k, row in enumerate(rows):
        rownum = k + 2
        if not any(c.strip() for c in row):
            continue
        nid = _cell(row, col_of["id"])
        if not nid:
            raise NetworkError(
                "blank node id",
                source=source,
                where=f"row {rownum}",
                field="id",
                expected="a node id",
                found="a blank cell",
                fix="fill in the id or delete the row",
            )
        if nid in out:
            raise NetworkError(
                "duplicate node id",
                source=source,
                where=f"row {rownum}",
                field="id",
                found=f"'{nid}', already on row {out[nid][1]}",
                fix="merge the two rows",
            )
        raw = {c: _cell(row, i) for c, i in col_of.items()}
        data: dict[str, Any] = {}
        if raw.get("name"):
            data["name"] = raw["name"]
        for col in ("holding_cost", "unit_value", "penalty_cost", "max_service_time"):
            if raw.get(col):
                data[col] = _number(source, rownum, col, raw[col])
        if raw.get("lead_time"):
            data["lead_time"] = _number(source, rownum, "lead_time", raw["lead_time"])
        if raw.get("demand_std") and not raw.get("demand_mean"):
            raise NetworkError(
                "demand_std without demand_mean",
                source=source,
                where=f"row {rownum}",
                field="demand_mean",
                expected="a mean demand per period",
                found="a blank cell",
                fix="fill in demand_mean or clear demand_std",
            )
        if raw.get("demand_mean"):
            mean = _number(source, rownum, "demand_mean", raw["demand_mean"])
            std = (
                _number(source, rownum, "demand_std", raw["demand_std"])
                if raw.get("demand_std")
                else 0.0
            )
            data["demand"] = {"kind": "normal", "mean": mean, "std": std}
        if raw.get("service_target"):
            sl = _number(source, rownum, "service_target", raw["service_target"])
            if not 0.0 < sl < 1.0:
                raise NetworkError(
                    "service target out of range",
                    source=source,
                    where=f"row {rownum}",
                    field="service_target",
                    expected="a cycle service level strictly between 0 and 1",
                    found=raw["service_target"],
                    fix="write e.g. 0.95",
                )
            data["service"] = ServiceTarget(target=sl)
        out[nid] = (data, rownum)
    return out
