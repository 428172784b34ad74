"""Guards for what echelon writes: output paths that must not destroy anything, and CSV cells
that must not run as spreadsheet formulas.

Both are re-exported by :mod:`echelon.fileio` (``from echelon.fileio import check_output_path``).

- :func:`check_output_path` refuses, before any work is done, an output path that is a folder,
  a device, a FIFO, a socket, a link to one of those, or the same file as one of the command's
  inputs (the run database, a data file): ``echelon export 1 --out echelon.db`` would otherwise
  replace the database with the CSV.
- :func:`csv_safe_cell` / :func:`csv_safe_frame` apply the OWASP rule against CSV (formula)
  injection (https://owasp.org/www-community/attacks/CSV_Injection): a text cell that starts
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width forms) gets a
  leading single quote, so a spreadsheet shows it as text instead of evaluating it. Decision on
  numbers: a cell that is a plain number (``-5``, ``+3.25``, ``-1e-3``, or an int / float
  value) is left alone, so quantities and negative values stay numbers for the ERP; only text
  that is not a number is quoted (an importer that must see such an id verbatim strips one
  leading ``'`` from text cells). Values are otherwise unchanged (the csv module does the
  quoting of commas, quotes and newlines). No library is used: the rule is six characters and
  a number test; the known packages (e.g. ``defusedcsv``) wrap the csv module only, while
  echelon also writes CSV through pandas.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from echelon.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: first characters that make a spreadsheet treat a cell as a formula (OWASP), with the
#: full-width forms some spreadsheets also accept
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe_cell(value: Any) -> Any:
    """``value`` made safe for a CSV cell opened in a spreadsheet (module docstring): text
    starting with = + - @ tab or CR gets a leading ``'`` unless it is a plain number; anything
    that is not text (numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        if _NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def csv_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with :func:`csv_safe_cell` applied to every text cell and column name
    (numeric columns are untouched)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "category"):
            if str(out[col].dtype) == "category":
                out[col] = out[col].astype(object)
            out[col] = out[col].map(csv_safe_cell)
    out.columns = [csv_safe_cell(c) for c in out.columns]
    return out


def file_kind(mode: int) -> str:
    """What an ``st_mode`` is, in words ("a folder", "a FIFO (named pipe)", ...)."""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _same(a: Path, resolved_a: Path, b: Path) -> bool:
    try:
        if resolved_a == b.resolve(strict=False):
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:  # a link loop or an unreadable protected path: compare the names only
        return os.path.abspath(a) == os.path.abspath(b)


def check_output_path(
    path: str | os.PathLike[str],
    *,
    protected: Iterable[str | os.PathLike[str]],
    what: str,
    error: type[InputError] = InputError,
) -> Path:
    """Refuse an output path that writing would destroy or that cannot hold a file.

    ``what`` names the option in the message (``"--out"``); ``protected`` are the files the
    command reads or keeps (the database file, input files). Raises ``error`` (one line) when
    ``path`` is a folder, a device / FIFO / socket, an existing link to one of those or a link
    loop, below something that is not a folder, or the same file as a protected path (same
    resolved path, or the same inode through a hard link). Returns ``path`` as a Path.
    A missing file (or a dangling link, which an atomic write replaces) is fine.
    """
    p = Path(path)
    source = str(p)
    fix = f"give {what} the path of a new or regular file elsewhere"
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        lst = None
    except OSError as exc:
        raise error(
            f"cannot use this {what} path", source=source,
            found=exc.strerror or type(exc).__name__, fix=fix,
        ) from None  # fmt: skip
    if lst is not None:
        is_link = stat.S_ISLNK(lst.st_mode)
        try:
            st: os.stat_result | None = os.stat(p)
        except FileNotFoundError:
            st = None  # a dangling link: replaced by the written file
        except OSError as exc:
            raise error(
                f"{what} is a link that cannot be followed", source=source,
                found=exc.strerror or type(exc).__name__, fix=fix,
            ) from None  # fmt: skip
        if st is not None and not stat.S_ISREG(st.st_mode):
            kind = file_kind(st.st_mode) + (" (through a link)" if is_link else "")
            raise error(
                f"{what} must be a file", source=source,
                expected="a new or regular file", found=kind, fix=fix,
            )  # fmt: skip
    else:
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise error(
                f"{what} is inside something that is not a folder", source=source,
                found=f"{parent} is {file_kind(parent.stat().st_mode)}", fix=fix,
            )  # fmt: skip
    resolved = p.resolve(strict=False)
    for q in protected:
        qp = Path(q)
        if _same(p, resolved, qp):
            raise error(
                f"{what} would overwrite a file this command reads", source=source,
                found=f"the same file as {qp}", fix=fix,
            )  # fmt: skip
    return p
