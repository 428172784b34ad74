"""Small, shared file helpers: atomic writes, safe reading of data files (regular files only,
size-capped; YAML/JSON without alias bombs, deep nesting or duplicate keys) with located
errors, and the output-path and CSV-injection guards of :mod:`echelon.outputs`."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from echelon.errors import InputError
from echelon.outputs import check_output_path, csv_safe_cell, csv_safe_frame, file_kind
from echelon.safeparse import parse_json, parse_yaml

__all__ = [
    "MAX_INPUT_BYTES",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_input_file",
    "check_output_path",
    "csv_safe_cell",
    "csv_safe_frame",
    "pydantic_error",
    "read_bytes",
    "read_mapping",
    "read_structured",
    "read_text",
]

#: the largest data file read whole (YAML / JSON / CSV read as text), in bytes
MAX_INPUT_BYTES = 50_000_000


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


def check_input_file(
    path: str | Path, error: type[InputError], *, max_bytes: int | None = MAX_INPUT_BYTES
) -> Path:
    """Check that ``path`` is an existing regular file (a link to one is fine) of at most
    ``max_bytes`` bytes, or raise ``error`` naming the file: a missing file, a broken link or a
    link loop, a folder, a FIFO, a device or a socket (reading those could hang or never end)."""
    path = Path(path)
    source = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise error(
                "the file is a broken link",
                source=source,
                found=f"a link to {os.readlink(path)}",
                fix="point the link at an existing file, or remove it",
            ) from None
        raise error(
            "file not found",
            source=source,
            fix="check the path (relative paths start from the current folder)",
        ) from None
    except OSError as exc:  # a link loop, a parent that is a file, a name too long, no access
        raise error(
            "cannot read the file",
            source=source,
            found=exc.strerror or type(exc).__name__,
            fix="check the path, its links and permissions",
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise error("is a folder, not a file", source=source, fix="give the path of a file")
    if not stat.S_ISREG(st.st_mode):
        link = " (through a link)" if path.is_symlink() else ""
        raise error(
            "is not a regular file",
            source=source,
            expected="a regular file",
            found=file_kind(st.st_mode) + link,
            fix="give a regular file (echelon does not read devices, pipes or sockets)",
        )
    if max_bytes is not None and st.st_size > max_bytes:
        raise _too_large(error, source, max_bytes, st.st_size)
    return path


def _too_large(error: type[InputError], source: str, limit: int, size: int | str) -> InputError:
    return error(
        "the file is too large",
        source=source,
        expected=f"at most {limit / 1e6:,.0f} MB",
        found=f"{size / 1e6:,.1f} MB" if isinstance(size, int) else size,
        fix="check that this is the right file",
    )


def read_bytes(
    path: str | Path, error: type[InputError], *, max_bytes: int = MAX_INPUT_BYTES
) -> bytes:
    """The bytes of a regular file (:func:`check_input_file`), read without blocking on a
    FIFO swapped in after the check and never more than ``max_bytes``."""
    path = check_input_file(path, error, max_bytes=max_bytes)
    source = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise error("is not a regular file", source=source, fix="give a regular file")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise error(
            "cannot read the file",
            source=source,
            found=exc.strerror or type(exc).__name__,
            fix="check the file's permissions",
        ) from None
    if len(data) > max_bytes:
        raise _too_large(error, source, max_bytes, "more")
    return data


def read_text(path: str | Path, error: type[InputError], utf8_fix: str) -> str:
    """Read a UTF-8 text file (a leading byte-order mark is dropped) or raise ``error``: the
    file must be a regular file of at most :data:`MAX_INPUT_BYTES` without NUL bytes."""
    path = Path(path)
    source = str(path)
    data = read_bytes(path, error)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            "the file is not UTF-8 text", source=source, found=f"byte {exc.start}", fix=utf8_fix
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise error(
            "the file contains a NUL byte",
            source=source,
            where=f"line {line}",
            fix="remove the NUL character (is this a binary file?)",
        )
    return text


def read_structured(path: str | Path, error: type[InputError] = InputError) -> Any:
    """Read a YAML or JSON file (by extension) and return the parsed document.

    Raises ``error`` (an InputError subclass) naming the file, line and column of a syntax error;
    anchors / aliases, nesting deeper than 64 levels and duplicate keys are refused
    (:mod:`echelon.safeparse`), and so is anything but a regular file up to 50 MB.
    """
    path = Path(path)
    text = read_text(path, error, "save the file as UTF-8 YAML or JSON")
    if path.suffix.lower() == ".json":
        return parse_json(text, str(path), error)
    return parse_yaml(text, str(path), error)


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
