"""JSON schemas of the file formats, generated from the typed models.

The published copies live in ``docs/schema/*.schema.json``; a test keeps them identical to what
the models generate (regenerate with ``python -m echelon.schemas docs/schema``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from echelon.fileio import atomic_write_text

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def all_schemas() -> dict[str, dict[str, Any]]:
    """``{"network": ..., "policy": ..., "scenario": ...}``."""
    from echelon.network.model import Network
    from echelon.policies.model import PolicySet
    from echelon.sim.scenario import Scenario

    out = {}
    for name, model in (("network", Network), ("policy", PolicySet), ("scenario", Scenario)):
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = DRAFT
        schema["title"] = f"echelon {name} file"
        out[name] = schema
    return out


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    paths = []
    for name, schema in all_schemas().items():
        path = folder / f"{name}.schema.json"
        atomic_write_text(path, schema_text(schema))
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover
    for p in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "docs/schema"):
        print(p)
