"""Reading, writing and checking policy files against a network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from echelon.errors import PolicyError
from echelon.fileio import atomic_write_text, pydantic_error, read_structured
from echelon.network.model import Network
from echelon.policies.model import PolicySet


def _describe(loc: tuple[Any, ...], data: Any) -> tuple[str | None, tuple[Any, ...]]:
    if len(loc) >= 2 and loc[0] == "policies":
        return f"node '{loc[1]}'", loc[2:]
    return None, loc


def policy_from_dict(data: Any, source: str | None = None) -> PolicySet:
    if not isinstance(data, dict):
        raise PolicyError(
            "a policy file must be a mapping with 'policies'",
            source=source,
            found=type(data).__name__,
            fix="start the file with `policies:` and one entry per node id",
        )
    try:
        return PolicySet.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, data, PolicyError, source, _describe) from None


def load_policy(path: str | Path) -> PolicySet:
    """Load a policy file (YAML or JSON)."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise PolicyError(
            "unknown policy file type",
            source=str(path),
            expected=".yaml, .yml or .json",
            found=path.suffix or "no extension",
            fix="write the policy as YAML or JSON",
        )
    return policy_from_dict(read_structured(path, PolicyError), source=str(path))


def check_policy(policy: PolicySet, net: Network, source: str | None = None) -> None:
    """Every node of the network has a policy and every policy names a node of the network."""
    ids = net.node_ids()
    known = set(ids)
    for nid in policy.policies:
        if nid not in known:
            raise PolicyError(
                "policy for a node that is not in the network",
                source=source,
                where=f"node '{nid}'",
                expected=f"one of the network's node ids ({_preview(ids)})",
                found=f"'{nid}'",
                fix="correct the id or use the policy made for this network",
            )
    for nid in ids:
        if nid not in policy.policies:
            raise PolicyError(
                "no policy for a node of the network",
                source=source,
                where=f"node '{nid}'",
                fix=f"add an entry for '{nid}' under 'policies'",
            )


def _preview(ids: list[str]) -> str:
    return ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")


def save_policy(policy: PolicySet, path: str | Path) -> None:
    """Write a policy file as YAML or JSON (by extension), atomically."""
    path = Path(path)
    data = policy.model_dump(mode="json", exclude_none=True)
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)
