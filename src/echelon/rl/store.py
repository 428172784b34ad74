"""Load a saved agent folder, whatever algorithm made it (``agent.json``'s ``kind``).

Saving is each agent's own ``save(folder)``; this module only dispatches loading:
``ppo`` → :meth:`echelon.rl.ppo.PPOAgent.load`, ``dpg`` → :meth:`echelon.rl.dpg.DPGAgent.load`.
A missing folder, an unreadable ``agent.json`` or an unknown kind raise :class:`AgentStoreError`
(an :class:`~echelon.errors.InputError`: one line in the CLI, exit status 2).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from echelon.errors import InputError
from echelon.rl.agent import AgentKind, OrderAgent

AGENT_FILE = "agent.json"


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
    if not path.is_file():
        raise AgentStoreError(
            f"the folder has no {AGENT_FILE}",
            source=src,
            expected=f"{AGENT_FILE} and the agent's weights",
            found=", ".join(sorted(p.name for p in folder.iterdir())[:5]) or "an empty folder",
            fix="pass the --out folder of a training run",
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AgentStoreError(
            f"cannot read {AGENT_FILE}",
            source=str(path),
            expected="a JSON object",
            found=str(exc).splitlines()[0][:120],
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
