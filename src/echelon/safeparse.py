"""Parse YAML and JSON data files defensively: no alias bombs, no deep nesting, no duplicate keys.

Data files (network, policy, plan, targets, scenario files, agent.json) are plain trees, so:

- YAML **anchors and aliases** (``&a`` / ``*a``) are refused: a 400-byte file of nested aliases
  expands to gigabytes (the "billion laughs"), and no echelon file format needs them;
- **nesting** deeper than :data:`MAX_DEPTH` levels is refused before the tree is built (50,000
  brackets would otherwise end in a ``RecursionError``);
- a **duplicate key** in a mapping is refused (YAML and JSON parsers otherwise keep the last
  value silently).

Why PyYAML and not another library: PyYAML (libyaml's C parser when present) is already a
dependency and its event stream lets us check aliases and depth before anything is composed;
ruamel.yaml or strictyaml would add a dependency for the same checks. JSON uses the standard
library with an ``object_pairs_hook`` for duplicates.

Every problem raises the caller's :class:`~echelon.errors.InputError` subclass naming the file,
the line and column, and the fix.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import yaml

from echelon.errors import InputError

MAX_DEPTH = 64  # nesting levels of mappings / lists; real files use fewer than 10

# libyaml's C parser when installed (fast), else the pure-Python one; both are "safe" loaders
# (no arbitrary Python objects), we only add the checks below.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, mark: Any) -> None:
        super().__init__(key)
        self.key = key
        self.mark = mark


class _DataLoader(_Base):
    """A safe loader whose mappings refuse duplicate keys."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base constructor reports it
                break
            if duplicate:
                raise _DuplicateKey(key, key_node.start_mark)
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _where(mark: Any) -> str | None:
    return f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else None


def _check_events(text: str, source: str, error: type[InputError]) -> None:
    """Scan the YAML event stream: no anchor, no alias, nesting at most ``MAX_DEPTH``."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        anchor: Any = getattr(event, "anchor", None)
        if anchor is not None:
            raise error(
                "YAML anchors and aliases (&name / *name) are not allowed in data files",
                source=source,
                where=_where(event.start_mark),
                found=f"{'*' if isinstance(event, yaml.AliasEvent) else '&'}{anchor}",
                fix="write the values out in full",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(error, source, _where(event.start_mark))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _too_deep(error: type[InputError], source: str, where: str | None) -> InputError:
    return error(
        "the file is nested too deeply",
        source=source,
        where=where,
        expected=f"at most {MAX_DEPTH} levels of lists and mappings",
        found="more",
        fix="flatten the file (echelon's formats need only a few levels)",
    )


def parse_yaml(text: str, source: str, error: type[InputError]) -> Any:
    """The YAML document in ``text`` (see the module docstring for what is refused)."""
    try:
        _check_events(text, source, error)
        return yaml.load(text, Loader=_DataLoader)  # a SafeLoader subclass
    except _DuplicateKey as exc:
        raise error(
            "duplicate key in a mapping",
            source=source,
            where=_where(exc.mark),
            found=repr(exc.key),
            fix="keep one entry per key (the duplicates would silently override each other)",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        raise error(
            f"invalid YAML: {problem}",
            source=source,
            where=_where(mark),
            fix="correct the YAML syntax (indentation, colons, quotes)",
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2016-02-30
        raise error(
            "invalid value in the YAML file",
            source=source,
            found=str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__,
            fix="correct the value (dates are YYYY-MM-DD; quote text that looks like a date)",
        ) from None
    except RecursionError:  # cannot happen after the depth check; kept as a last guard
        raise _too_deep(error, source, None) from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key, None)
        out[key] = value
    return out


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _json_depth_ok(text: str) -> bool:
    """Brackets nest at most ``MAX_DEPTH`` deep (strings skipped), checked before parsing."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # fast path: cannot be too deep
        return True
    brackets = np.frombuffer(_NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode(), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return not steps.size or int(np.cumsum(steps).max()) <= MAX_DEPTH


def parse_json(text: str, source: str, error: type[InputError]) -> Any:
    """The JSON document in ``text``; duplicate keys and deep nesting are refused."""
    if not _json_depth_ok(text):
        raise _too_deep(error, source, None)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        raise error(
            "duplicate key in a JSON object",
            source=source,
            found=repr(exc.key),
            fix="keep one entry per key (the duplicates would silently override each other)",
        ) from None
    except json.JSONDecodeError as exc:
        raise error(
            f"invalid JSON: {exc.msg}",
            source=source,
            where=f"line {exc.lineno} column {exc.colno}",
            fix="correct the JSON syntax",
        ) from None
    except RecursionError:
        raise _too_deep(error, source, None) from None
