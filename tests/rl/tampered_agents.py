"""Tampered agent folders: each case edits a copy of a saved agent so that loading it must fail
with one line (an echelon InputError; ``echelon rl evaluate`` exit 2) and run no code.

The pickle payloads would create the file ``MARKER_NAME`` next to the agent folder if anything
unpickled them (:func:`payload_pickle` is checked to be live in the tests). The same cases
serve the loader's tests (tests/rl/test_safe_load.py) and the CLI's (tests/cli/test_rl_cmds.py).
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

MARKER_NAME = "PWNED"


class Payload:
    """Unpickling this object calls ``open(marker, "w")``: the marker file appears."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (builtins.open, (str(self.marker), "w"))


def marker_of(folder: Path) -> Path:
    return folder.parent / MARKER_NAME


def payload_pickle(folder: Path) -> bytes:
    """A plain pickle that creates the marker file when loaded."""
    return pickle.dumps(Payload(marker_of(folder)))


def payload_torch(folder: Path) -> bytes:
    """A torch.save archive (the format of policy.pt) whose pickle creates the marker."""
    buf = io.BytesIO()
    torch.save({"level": Payload(marker_of(folder))}, buf)
    return buf.getvalue()


def _meta(folder: Path) -> dict:
    return json.loads((folder / "agent.json").read_text(encoding="utf-8"))


def _set_meta(folder: Path, **changes: object) -> None:
    meta = _meta(folder) | changes
    (folder / "agent.json").write_text(json.dumps(meta), encoding="utf-8")


def _weights(folder: Path) -> Path:
    return folder / _meta(folder)["weights"]


def legacy_model_zip(folder: Path, state: dict | None) -> None:
    """An SB3 ``model.zip`` as echelon < 0.2 wrote it: ``data`` holds a ``:serialized:``
    payload (what SB3's ``PPO.load`` would unpickle), ``policy.pth`` the weights or, when
    ``state`` is None, a payload too; agent.json loses its ``weights`` key."""
    data = {
        "observation_space": {
            ":type:": "<class 'gymnasium.spaces.box.Box'>",
            ":serialized:": base64.b64encode(payload_pickle(folder)).decode("ascii"),
        }
    }
    buf = io.BytesIO()
    torch.save(state, buf)
    weights = buf.getvalue() if state is not None else payload_torch(folder)
    with zipfile.ZipFile(folder / "model.zip", "w") as zf:
        zf.writestr("data", json.dumps(data))
        zf.writestr("policy.pth", weights)
        zf.writestr("pytorch_variables.pth", payload_pickle(folder))
        zf.writestr("_stable_baselines3_version", "2.9.2")
    meta = _meta(folder)
    meta.pop("weights", None)
    meta.pop("spaces", None)
    (folder / "agent.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "policy.pt").unlink(missing_ok=True)


@dataclass(frozen=True)
class Tamper:
    name: str
    mutate: Callable[[Path], None]
    fragments: tuple[str, ...]


def _fifo(folder: Path) -> None:
    w = _weights(folder)
    w.unlink()
    os.mkfifo(w)


def _link_outside(folder: Path) -> None:
    outside = folder.parent / "elsewhere.pt"
    outside.write_bytes(_weights(folder).read_bytes())
    _weights(folder).unlink()
    _weights(folder).symlink_to(outside)


def _bigger_config(folder: Path, key: str, value: object) -> None:
    meta = _meta(folder)
    meta["config"][key] = value
    (folder / "agent.json").write_text(json.dumps(meta), encoding="utf-8")


COMMON: list[Tamper] = [
    Tamper(
        "torch_payload",
        lambda f: _weights(f).write_bytes(payload_torch(f)),
        ("cannot load the agent's weights", "objects other than tensors"),
    ),
    Tamper(
        "pickle_payload",
        lambda f: _weights(f).write_bytes(payload_pickle(f)),
        ("cannot load the agent's weights",),
    ),
    Tamper(
        "corrupt_weights",
        lambda f: _weights(f).write_bytes(_weights(f).read_bytes()[:200]),
        ("cannot load the agent's weights",),
    ),
    Tamper("empty_weights", lambda f: _weights(f).write_bytes(b""), ("cannot load",)),
    Tamper("missing_weights", lambda f: _weights(f).unlink(), ("policy.pt", "file not found")),
    Tamper(
        "weights_parent_path",
        lambda f: _set_meta(f, weights="../../../../etc/passwd"),
        ("weights", "inside the agent folder", "etc/passwd"),
    ),
    Tamper(
        "weights_absolute_path",
        lambda f: _set_meta(f, weights="/etc/passwd"),
        ("weights", "inside the agent folder"),
    ),
    Tamper(
        "weights_not_text",
        lambda f: _set_meta(f, weights=["policy.pt"]),
        ("weights", "inside the agent folder"),
    ),
    Tamper("weights_link_outside", _link_outside, ("link leading outside",)),
    Tamper("weights_fifo", _fifo, ("not a regular file", "FIFO")),
    Tamper(
        "weights_dev_zero",
        lambda f: (_weights(f).unlink(), _weights(f).symlink_to("/dev/zero")),
        ("inside the agent folder",),
    ),
    Tamper(
        "agent_json_duplicate_key",
        lambda f: (f / "agent.json").write_text(
            (f / "agent.json").read_text()[:-1] + ', "kind": "dpg"}'
        ),
        ("cannot read agent.json", "duplicate key"),
    ),
    Tamper(
        "agent_json_deep",
        lambda f: (f / "agent.json").write_text('{"kind": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("cannot read agent.json", "nested too deeply"),
    ),
    Tamper(
        "agent_json_fifo",
        lambda f: ((f / "agent.json").unlink(), os.mkfifo(f / "agent.json")),
        ("agent.json", "not a regular file", "FIFO"),
    ),
]

DPG_ONLY: list[Tamper] = [
    Tamper(
        "dpg_width_inflated",
        lambda f: _bigger_config(f, "width", 1_000_000_000),
        ("do not match the architecture",),
    ),
]

PPO_ONLY: list[Tamper] = [
    Tamper(
        "ppo_net_arch_inflated",
        lambda f: _bigger_config(f, "net_arch", [1_000_000_000]),
        ("do not match the network architecture",),
    ),
    Tamper(
        "ppo_legacy_zip_payloads",
        lambda f: legacy_model_zip(f, None),
        ("cannot load the agent's weights", "model.zip", "objects other than tensors"),
    ),
    Tamper(
        "ppo_normalization_short",
        lambda f: _set_meta(
            f,
            normalization=_meta(f)["normalization"] | {"obs_mean": [0.0]},
        ),
        ("normalization does not match",),
    ),
]
