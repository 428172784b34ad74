"""An uploaded data folder (a zip file) unpacked safely for a plan job.

The zip holds the data folder's files (docs/plan-data.md: ``network.yaml``, ``items.csv``,
``demand.csv``, ``inventory.csv`` and the optional ones) at its top or inside one folder.
:func:`unpack` refuses, naming every offending entry in one message:

- a file that is not a zip, or larger than :data:`MAX_UPLOAD_BYTES`;
- an entry with an absolute path, a drive, a ``..`` part or a backslash (zip slip), a
  symbolic link, or an encrypted entry;
- more than :data:`MAX_ENTRIES` entries, or more than :data:`MAX_UNPACKED_BYTES` unpacked —
  counted on the bytes actually written, not on the sizes the zip declares (zip bombs);
- two entries with the same file name, or files in more than one folder.

Only the data folder's own file names are written (other entries, e.g. ``__MACOSX/``, are
ignored), each into the job's own new folder; nothing is written outside it. The data is then
validated by the plan itself, with the CLI's messages.
"""

from __future__ import annotations

import io
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from echelon.errors import DataError
from echelon.plan.data import INPUT_FILES

MAX_UPLOAD_BYTES = 50 * 2**20
MAX_UNPACKED_BYTES = 500 * 2**20
MAX_ENTRIES = 1000
CHUNK = 2**16


def _bad(name: str, info: zipfile.ZipInfo) -> str | None:
    """Why the entry ``name`` may not be unpacked, or None."""
    path = PurePosixPath(name)
    if name.startswith("/") or "\\" in name or (path.parts and ":" in path.parts[0]):
        return "an absolute path"
    if ".." in path.parts:
        return "a '..' in its path"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def _wanted(infos: list[zipfile.ZipInfo], source: str) -> dict[str, zipfile.ZipInfo]:
    """The entries to write, by file name, after every check on the names (module doc)."""
    problems = [f"{i.filename!r} ({why})" for i in infos if (why := _bad(i.filename, i))]
    if problems:
        raise DataError(
            "the zip holds entries that cannot be unpacked safely", source=source,
            found="; ".join(problems[:20]) + (f" and {len(problems) - 20} more"
                                              if len(problems) > 20 else ""),
            fix="zip the data folder's files only (no links, no paths outside it)",
        )  # fmt: skip
    files = [
        i for i in infos
        if not i.is_dir() and PurePosixPath(i.filename).name in INPUT_FILES
        and "__MACOSX" not in PurePosixPath(i.filename).parts
    ]  # fmt: skip
    names = [PurePosixPath(i.filename).name for i in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    folders = sorted({str(PurePosixPath(i.filename).parent) for i in files})
    if twice or len(folders) > 1:
        raise DataError(
            "the zip holds more than one data folder", source=source,
            found=", ".join(twice) if twice else ", ".join(folders),
            fix="upload one data folder per plan",
        )  # fmt: skip
    return dict(zip(names, files, strict=True))


def unpack(data: bytes, dest: Path, source: str = "upload.zip") -> Path:
    """Unpack the uploaded zip ``data`` into the new folder ``dest`` (module doc); returns
    ``dest``. ``source``: the file name shown in messages. Raises :class:`DataError`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(
            "the upload is too large", source=source,
            expected=f"at most {MAX_UPLOAD_BYTES // 2**20} MiB", found=f"{len(data):,} bytes",
            fix="upload the data folder's files only, zipped",
        )  # fmt: skip
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError(
            "the upload is not a zip file", source=source,
            fix="zip the data folder (network.yaml, items.csv, demand.csv, inventory.csv, ...)",
        ) from None  # fmt: skip
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise DataError(
                "the zip holds too many entries", source=source,
                expected=f"at most {MAX_ENTRIES}", found=str(len(infos)),
                fix="upload the data folder's files only",
            )  # fmt: skip
        wanted = _wanted(infos, source)
        if not wanted:
            raise DataError(
                "the zip holds no data folder file", source=source,
                expected=", ".join(INPUT_FILES), found="none of them",
                fix="zip the data folder (docs/plan-data.md)",
            )  # fmt: skip
        dest.mkdir(parents=True, exist_ok=False)
        try:
            _write(archive, wanted, dest, source)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)  # nothing half-unpacked stays
            raise
    return dest


def _write(
    archive: zipfile.ZipFile, wanted: dict[str, zipfile.ZipInfo], dest: Path, source: str
) -> None:
    """Copy the wanted entries into ``dest``, counting the bytes really written."""
    written = 0
    for name, info in wanted.items():
        with archive.open(info) as src, (dest / name).open("xb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > MAX_UNPACKED_BYTES:
                    raise DataError(
                        "the zip unpacks to too much data", source=source,
                        expected=f"at most {MAX_UNPACKED_BYTES // 2**20} MiB unpacked",
                        found=f"more than that in {name}", fix="upload a smaller data folder",
                    )  # fmt: skip
                out.write(chunk)
