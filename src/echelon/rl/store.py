"""Load a saved agent folder, whatever algorithm made it (``agent.json``'s ``kind``).

Saving is each agent's own ``save(folder)``; this module only dispatches loading:
``ppo`` → :meth:`echelon.rl.ppo.PPOAgent.load`, ``dpg`` → :meth:`echelon.rl.dpg.DPGAgent.load`.
A missing folder, an unreadable ``agent.json`` or an unknown kind raise :class:`AgentStoreError`
(an :class:`~echelon.errors.InputError`: one line in the CLI, exit status 2).

Opening an agent folder is as safe as opening a CSV: nothing in it is unpickled. ``agent.json``
is JSON (read by :func:`echelon.fileio.read_structured`: size-capped, no duplicate keys), and
the weights are a torch state dict read with ``torch.load(weights_only=True)`` — torch's
restricted unpickler, which builds only tensors and plain containers and refuses every other
global (safetensors would do as well, but it is not a dependency and adds nothing here since the
file holds tensors only). The weights file named in ``agent.json`` must lie inside the folder
(:func:`weights_path`); spaces, policy and normalization are rebuilt from ``agent.json``.
"""

from __future__ import annotations

import io
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from echelon.errors import InputError
from echelon.fileio import check_input_file, read_bytes, read_structured
from echelon.rl.agent import AgentKind, OrderAgent

AGENT_FILE = "agent.json"
MAX_WEIGHTS_BYTES = 1_000_000_000  # a weights file larger than this is not an echelon agent


class AgentStoreError(InputError):
    """A saved-agent folder that cannot be loaded."""


def read_agent_meta(folder: str | Path) -> dict[str, Any]:
    """The parsed ``agent.json`` of an agent folder (checked to be a JSON object with a kind)."""
    folder = Path(folder)
    src = str(folder)
    if not folder.is_dir():
        raise AgentStoreError(
            "no such agent folder" if not folder.exists() else "an agent is a folder, not a file",
            source=src,
            expected=f"a folder with {AGENT_FILE} (written by `echelon rl train --out`)",
            found="missing" if not folder.exists() else "a file",
            fix="pass the --out folder of a training run",
        )
    path = folder / AGENT_FILE
    if path.exists() or path.is_symlink():
        check_input_file(path, AgentStoreError)  # a FIFO, a device, a broken link: one line
    else:
        raise AgentStoreError(
            f"the folder has no {AGENT_FILE}",
            source=src,
            expected=f"{AGENT_FILE} and the agent's weights",
            found=", ".join(sorted(p.name for p in folder.iterdir())[:5]) or "an empty folder",
            fix="pass the --out folder of a training run",
        )
    try:
        meta = read_structured(path, AgentStoreError)
    except AgentStoreError as exc:
        raise AgentStoreError(
            f"cannot read {AGENT_FILE}",
            source=str(path),
            expected="a JSON object",
            found=exc.message[:120],
            fix="re-train the agent (the file is corrupt)",
        ) from None
    if not isinstance(meta, dict) or "kind" not in meta:
        raise AgentStoreError(
            f"{AGENT_FILE} does not say what kind of agent it is",
            source=str(path),
            field="kind",
            expected="'ppo' or 'dpg'",
            found="no kind",
            fix="re-train the agent",
        )
    return meta


def load_agent(folder: str | Path) -> OrderAgent:
    """Rebuild the agent saved in ``folder`` (its ``agent.json`` names the algorithm)."""
    meta = read_agent_meta(folder)
    kinds = [k.value for k in AgentKind]
    kind = meta["kind"]
    if kind not in kinds:
        raise AgentStoreError(
            "unknown agent kind",
            source=str(Path(folder) / AGENT_FILE),
            field="kind",
            expected=" or ".join(repr(k) for k in kinds),
            found=repr(kind),
            fix="re-train the agent with `echelon rl train`",
        )
    agent: OrderAgent
    if AgentKind(kind) is AgentKind.PPO:
        from echelon.rl.ppo import PPOAgent

        agent = _load(PPOAgent.load, folder)
    else:
        from echelon.rl.dpg import DPGAgent

        agent = _load(DPGAgent.load, folder)
    return agent


def _load(loader: Any, folder: str | Path) -> OrderAgent:
    try:
        agent: OrderAgent = loader(Path(folder))
    except InputError:
        raise
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, EOFError,
            zipfile.BadZipFile) as exc:  # fmt: skip
        raise AgentStoreError(
            "cannot load the agent's weights",
            source=str(folder),
            found=f"{type(exc).__name__}: {str(exc).splitlines()[0][:100] if str(exc) else ''}",
            fix="re-train the agent (the folder is incomplete or corrupt)",
        ) from None
    return agent


def weights_path(folder: str | Path, name: Any, source: str) -> Path:
    """The weights file ``name`` (from ``agent.json``) of the agent in ``folder``: a relative
    path that stays inside the folder (links resolved), naming a regular file."""
    folder = Path(folder)
    if (
        not isinstance(name, str)
        or not name
        or Path(name).is_absolute()
        or ".." in Path(name).parts
    ):
        raise AgentStoreError(
            "the weights file must be a file inside the agent folder",
            source=source,
            field="weights",
            expected="a file name such as 'policy.pt'",
            found=repr(name)[:80],
            fix="re-train the agent (agent.json was edited)",
        )
    path = folder / name
    try:
        inside = path.resolve(strict=False).is_relative_to(folder.resolve(strict=False))
    except (OSError, RuntimeError):  # a link loop
        inside = False
    if not inside:
        raise AgentStoreError(
            "the weights file must be a file inside the agent folder",
            source=source,
            field="weights",
            expected="a file inside the folder",
            found=f"{name!r}, a link leading outside it",
            fix="re-train the agent (or copy the weights into the folder)",
        )
    return check_input_file(path, AgentStoreError, max_bytes=MAX_WEIGHTS_BYTES)


def load_state_dict(data: bytes, source: str) -> dict[str, Any]:
    """A torch state dict (parameter name → tensor) from the bytes of a weights file, read with
    ``weights_only=True`` (no code can run); anything else gives one :class:`AgentStoreError`."""
    import torch

    try:
        with warnings.catch_warnings():  # e.g. "unsupported pickle protocol": the error says it
            warnings.simplefilter("ignore")
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types (UnpicklingError, RuntimeError, ...)
        if isinstance(exc, pickle.UnpicklingError):  # torch's text suggests weights_only=False
            found = "objects other than tensors (refused before anything ran)"
        else:
            text = re.sub(r"[\x00-\x1f\x7f-\x9f]", "", str(exc).strip().split("\n")[0])
            found = f"{type(exc).__name__}: {text[:100]}".rstrip(": ")
        raise AgentStoreError(
            "cannot load the agent's weights (corrupt or not a torch state dict)",
            source=source,
            found=found,
            fix="re-train the agent (the weights file is damaged or was replaced)",
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise AgentStoreError(
            "the weights file is not a state dict of tensors",
            source=source,
            found=type(state).__name__,
            fix="re-train the agent",
        )
    return state


def read_state_dict(folder: str | Path, name: Any, agent_json: str) -> dict[str, Any]:
    """:func:`weights_path` then :func:`load_state_dict`."""
    path = weights_path(folder, name, agent_json)
    return load_state_dict(
        read_bytes(path, AgentStoreError, max_bytes=MAX_WEIGHTS_BYTES), str(path)
    )


def read_zip_member(path: Path, member: str, source: str) -> bytes:
    """One member of a zip archive (a legacy SB3 ``model.zip``), size-capped; nothing else in
    the archive is read."""
    check_input_file(path, AgentStoreError, max_bytes=MAX_WEIGHTS_BYTES)
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(member)
            if info.file_size > MAX_WEIGHTS_BYTES:
                raise AgentStoreError("the weights in the archive are too large", source=source)
            return zf.read(info)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise AgentStoreError(
            f"cannot read {member} from the archive",
            source=str(path),
            found=f"{type(exc).__name__}: {str(exc)[:80]}",
            fix="re-train the agent (the archive is damaged)",
        ) from None
