"""The published JSON schemas match the typed models, and they validate the bundled examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from echelon.examples import EXAMPLES
from echelon.schemas import all_schemas, schema_text

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schema"


@pytest.mark.parametrize("name", ["network", "policy", "scenario"])
def test_published_schema_is_up_to_date(name: str) -> None:
    published = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    assert published == schema_text(all_schemas()[name]), (
        "regenerate with: .venv/bin/python -m echelon.schemas docs/schema"
    )


def test_schema_validates_bundled_examples() -> None:
    import jsonschema

    schemas = all_schemas()
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        kind = "policy" if path.name.endswith(".policy.yaml") else "network"
        jsonschema.validate(doc, schemas[kind])
    bad = {"nodes": [{"id": "a", "holding_cost": -1}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schemas["network"])
    assert json.loads(schema_text(schemas["network"]))["title"] == "echelon network file"
