"""Reading and writing network files.

Every command that takes a NETWORK accepts:
- the echelon format, YAML (``.yaml``/``.yml``) or JSON (``.json``), described by the JSON
  schema that ``echelon schema`` prints (generated from the typed model);
- a Willems (2008) chain CSV (``/chain`` first row, XPath headers), converted on the fly;
- a plain edge list CSV (columns ``from,to`` and optionally ``quantity,lead_time``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from echelon.errors import NetworkError
from echelon.fileio import atomic_write_text, pydantic_error, read_structured
from echelon.network.graph import validate_graph
from echelon.network.model import Network


def _describe(loc: tuple[Any, ...], data: Any) -> tuple[str | None, tuple[Any, ...]]:
    if len(loc) >= 2 and loc[0] in ("nodes", "lanes") and isinstance(loc[1], int):
        i = loc[1]
        try:
            item = data[loc[0]][i]
        except (KeyError, IndexError, TypeError):
            item = None
        if loc[0] == "nodes":
            ident = item.get("id") if isinstance(item, dict) else None
            where = f"node '{ident}' (nodes[{i}])" if ident else f"nodes[{i}]"
        else:
            src = item.get("from") if isinstance(item, dict) else None
            dst = item.get("to") if isinstance(item, dict) else None
            where = f"lane {src} -> {dst} (lanes[{i}])" if src and dst else f"lanes[{i}]"
        return where, loc[2:]
    return None, loc


def network_from_dict(data: Any, source: str | None = None) -> Network:
    """Validate a parsed document into a Network (schema, values, then graph)."""
    if not isinstance(data, dict):
        raise NetworkError(
            "a network file must be a mapping with 'nodes' (and usually 'lanes')",
            source=source,
            found=type(data).__name__,
            fix="start the file with `nodes:` (see `echelon schema`)",
        )
    try:
        net = Network.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, data, NetworkError, source, _describe) from None
    validate_graph(net, source=source)
    return net


def _is_willems_csv(path: Path) -> bool:
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(4096)
    return head.startswith("/chain") or "/stages/stage/@" in head


def load_network(path: str | Path) -> Network:
    """Load and validate a network from YAML, JSON, a Willems CSV or an edge-list CSV."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        if not path.exists():
            raise NetworkError("file not found", source=str(path), fix="check the path")
        if _is_willems_csv(path):
            from echelon.network.willems import read_willems

            return read_willems(path)
        from echelon.network.edgelist import read_edge_list

        return read_edge_list(path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise NetworkError(
            "unknown network file type",
            source=str(path),
            expected=".yaml, .yml, .json or .csv (Willems chain or edge list)",
            found=path.suffix or "no extension",
            fix="rename the file with the extension of its format",
        )
    data = read_structured(path, NetworkError)
    return network_from_dict(data, source=str(path))


def network_to_dict(net: Network) -> dict[str, Any]:
    """A plain dict in the file format: aliases from/to/mean/std, defaults left out.

    Distribution ``kind`` tags are kept even where they equal the class default, so the
    result loads back to the same network.
    """
    slim = net.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    full = net.model_dump(mode="json", by_alias=True)
    _keep_kinds(slim, full)
    return slim


def _keep_kinds(slim: Any, full: Any) -> None:
    if isinstance(slim, dict) and isinstance(full, dict):
        if "kind" in full and "kind" not in slim:
            slim["kind"] = full["kind"]
        for key, value in slim.items():
            if key in full:
                _keep_kinds(value, full[key])
    elif isinstance(slim, list) and isinstance(full, list):
        for a, b in zip(slim, full, strict=False):
            _keep_kinds(a, b)


def save_network(net: Network, path: str | Path) -> None:
    """Write a network as YAML or JSON (by extension), atomically."""
    path = Path(path)
    data = network_to_dict(net)
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)


def network_json_schema() -> dict[str, Any]:
    """The JSON schema of the network file format, generated from the typed model."""
    from echelon.schemas import all_schemas

    return all_schemas()["network"]
