"""Small, shared file helpers: atomic writes and YAML/JSON reading with located errors."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from echelon.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename).

    The file gets the permissions of a plainly created file (0666 less the umask; an existing
    file keeps its mode), not the 0600 of the temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: str | Path, error: type[InputError], utf8_fix: str) -> str:
    """Read a UTF-8 text file (a leading byte-order mark is dropped) or raise ``error``."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise error(
            "file not found",
            source=source,
            fix="check the path (relative paths start from the current folder)",
        )
    if path.is_dir():
        raise error("is a folder, not a file", source=source, fix="give the path of a file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            "the file is not UTF-8 text", source=source, found=f"byte {exc.start}", fix=utf8_fix
        ) from None


def read_structured(path: str | Path, error: type[InputError] = InputError) -> Any:
    """Read a YAML or JSON file (by extension) and return the parsed document.

    Raises ``error`` (an InputError subclass) naming the file, line and column of a syntax error.
    """
    path = Path(path)
    text = read_text(path, error, "save the file as UTF-8 YAML or JSON")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(
                f"invalid JSON: {exc.msg}",
                source=str(path),
                where=f"line {exc.lineno} column {exc.colno}",
                fix="correct the JSON syntax",
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "syntax error"
        raise error(
            f"invalid YAML: {problem}",
            source=str(path),
            where=where,
            fix="correct the YAML syntax (indentation, colons, quotes)",
        ) from None


def read_mapping(
    path: str | Path,
    error: type[InputError],
    message: str,
    fix: str,
    *,
    empty_ok: bool = False,
) -> dict[str, Any]:
    """:func:`read_structured`, then require a mapping (``message``/``fix`` say which); an empty
    file is ``{}`` when ``empty_ok``."""
    data = read_structured(path, error)
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise error(message, source=str(path), found=type(data).__name__, fix=fix)
    return data


def pydantic_error(
    exc: Any, data: Any, error: type[InputError], source: str | None, describe: Any = None
) -> InputError:
    """Turn the first error of a pydantic ValidationError into a located InputError.

    ``describe(loc, data)`` may turn the head of the error location into words and return
    ``(where, rest_of_loc)``, e.g. ``("node 'DC1' (nodes[3])", ("holding_cost",))``.
    """
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    where = None
    if describe is not None:
        where, loc = describe(loc, data)
    tags = _union_tags()
    field = ".".join(str(p) for p in loc if p not in tags) if loc else None
    msg = str(first.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    kind = first.get("type", "")
    found: str | None
    ctx = first.get("ctx") or {}
    if kind == "union_tag_invalid":
        found = repr(ctx.get("tag"))
        allowed = ", ".join(sorted(t for t in tags if f"'{t}'" in str(ctx.get("expected_tags"))))
        msg = f"unknown kind (expected one of: {allowed})"
    elif kind == "missing":
        found = "nothing"
        msg = "required field is missing"
    elif kind == "extra_forbidden":
        found = None
        msg = "unknown field"
    else:
        found = _short_repr(first.get("input"))
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    fix = {
        "missing": "add the field",
        "extra_forbidden": "remove it or check its spelling (see `echelon schema`)",
    }.get(kind, "correct the value (see `echelon schema` for every field)")
    return error(msg, source=source, where=where, field=field, found=found, fix=fix)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _union_tags() -> frozenset[str]:
    """The ``kind`` values of every discriminated union in the file formats."""
    from echelon.network.distributions import DemandKind, LeadTimeKind
    from echelon.policies.model import PolicyKind
    from echelon.sim.scenario import DisruptionKind

    return frozenset(
        k.value for enum in (DemandKind, LeadTimeKind, PolicyKind, DisruptionKind) for k in enum
    )
