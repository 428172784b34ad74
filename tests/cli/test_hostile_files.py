"""Table-driven: hostile or odd network / policy / scenario files (alias bombs, deep nesting,
duplicate keys, FIFOs, devices, links, huge or non-finite numbers) give one line naming the
file, exit 2, no hang and nothing written (issue 19)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_helpers import run_cli

GOOD = """\
nodes:
  - {id: shop, holding_cost: 1, penalty_cost: 9, demand: {kind: poisson, mean: 5}, lead_time: 1}
  - {id: dc, holding_cost: 0.5, lead_time: 2, external_supplier: true}
lanes:
  - {from: dc, to: shop}
"""
POLICY = """\
policies:
  shop: {kind: base_stock, level: 8}
  dc: {kind: base_stock, level: 12}
"""
BOMB = (
    "".join(f"x{i}: &a{i} [{', '.join([f'*a{i - 1}' if i else 'lol'] * 9)}]\n" for i in range(9))
    + "name: [*a8, *a8, *a8]\n"
)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], None]  # writes tmp/network.yaml (and what else the command reads)
    fragments: tuple[str, ...]
    command: str = "validate"  # validate | simulate (network + policy.yaml [+ scenario.yaml])


def text(content: str, name: str = "network.yaml") -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (d / name).write_text(content, encoding="utf-8")
        if name != "network.yaml":
            (d / "network.yaml").write_text(GOOD, encoding="utf-8")

    return make


def edit(old: str, new: str) -> Callable[[Path], None]:
    assert old in GOOD
    return text(GOOD.replace(old, new, 1))


def raw(data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / "network.yaml").write_bytes(data)


def special(kind: str) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        p = d / "network.yaml"
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "dev_zero":
            p.symlink_to("/dev/zero")
        elif kind == "dangling":
            p.symlink_to(d / "gone.yaml")
        elif kind == "loop":
            p.symlink_to(p)
        elif kind == "folder":
            p.mkdir()
        elif kind == "huge":
            with p.open("wb") as fh:  # sparse: 60 MB long, no disk used
                fh.truncate(60_000_000)

    return make


HERE = ("network.yaml",)
CASES = [
    Case("alias_bomb", text(BOMB), (*HERE, "anchors and aliases", "line 1")),
    Case("anchor_alone", edit("lead_time: 2,", "lead_time: &two 2,"), (*HERE, "&two")),
    Case(
        "merge_key_alias",
        text("base: &b {holding_cost: 1}\n" + GOOD.replace("{id: dc,", "{<<: *b, id: dc,")),
        (*HERE, "anchors and aliases"),
    ),
    Case("deep_brackets", text("nodes: " + "[" * 50_000 + "]" * 50_000 + "\n"), (*HERE, "nest")),
    Case(
        "deep_blocks",
        text("".join("  " * i + f"k{i}:\n" for i in range(80)) + "  " * 80 + "x: 1\n"),
        (*HERE, "nested too deeply", "64 levels"),
    ),
    Case(
        "duplicate_field",
        edit("holding_cost: 0.5,", "holding_cost: 0.5, holding_cost: 5,"),
        (*HERE, "duplicate key", "'holding_cost'", "line 3"),
    ),
    Case(
        "duplicate_section",
        text(GOOD + "nodes: []\n"),
        (*HERE, "duplicate key", "'nodes'"),
    ),
    Case(
        "json_duplicate",
        text('{"nodes": [], "nodes": [{"id": "a"}]}', "net.json"),
        ("net.json", "duplicate key", "'nodes'"),
    ),
    Case(
        "json_deep",
        text('{"nodes": ' + "[" * 50_000 + "]" * 50_000 + "}", "net.json"),
        ("net.json", "nested too deeply"),
    ),
    Case("fifo", special("fifo"), (*HERE, "not a regular file", "FIFO")),
    Case("link_to_dev_zero", special("dev_zero"), (*HERE, "character device (through a link)")),
    Case("dangling_link", special("dangling"), (*HERE, "broken link", "gone.yaml")),
    Case("link_loop", special("loop"), (*HERE, "symbolic links")),
    Case("folder", special("folder"), (*HERE, "is a folder")),
    Case("too_large", special("huge"), (*HERE, "too large", "50 MB")),
    Case(
        "nul_byte", raw(GOOD.replace("shop, holding", "sh\0op, holding").encode()), (*HERE, "NUL")
    ),
    Case("not_utf8", raw(GOOD.encode("utf-16")), (*HERE, "not UTF-8")),
    Case("bad_date", text("description: 2016-02-30\n" + GOOD), (*HERE, "out of range")),
    Case("lead_time_inf", edit("lead_time: 2,", "lead_time: .inf,"), (*HERE, "finite number")),
    Case("lead_time_nan", edit("lead_time: 2,", "lead_time: .nan,"), (*HERE, "finite number")),
    Case(
        "lead_time_1e9",
        edit("lead_time: 2,", "lead_time: 1e9,"),
        (*HERE, "node 'dc'", "1,000,000,000 periods", "limit of 10,000"),
    ),
    Case(
        "lead_time_normal_overflow",
        edit("lead_time: 2,", "lead_time: {kind: normal, mean: 1.0e+308, std: 1.0e+308},"),
        (*HERE, "node 'dc'", "above the limit"),
    ),
    Case(
        "lane_lead_time_huge",
        edit("{from: dc, to: shop}", "{from: dc, to: shop, lead_time: 1000000}"),
        (*HERE, "lane dc -> shop", "above the limit"),
    ),
    Case(
        "holding_cost_1e300",
        edit("holding_cost: 1,", "holding_cost: 1.0e+300,"),
        (*HERE, "node 'shop'", "holding_cost", "above the limit"),
    ),
    Case(
        "holding_cost_inf",
        edit("holding_cost: 1,", "holding_cost: .inf,"),
        (*HERE, "node 'shop'", "finite number"),
    ),
    Case(
        "demand_mean_1e15",
        edit("mean: 5}", "mean: 1.0e+15}"),
        (*HERE, "node 'shop'", "demand above the limit"),
    ),
    Case(
        "capacity_huge",
        edit("lead_time: 2,", "lead_time: 2, capacity: 1.0e+13,"),
        (*HERE, "capacity", "above the limit"),
    ),
    Case("period_days_huge", text("period_days: 1.0e+9\n" + GOOD), (*HERE, "period_days", "3660")),
    Case(
        "lane_quantity_huge",
        edit("{from: dc, to: shop}", "{from: dc, to: shop, quantity: 1.0e+13}"),
        (*HERE, "quantity", "less than or equal"),
    ),
    Case("policy_alias_bomb", text(BOMB, "policy.yaml"), ("policy.yaml", "aliases"), "simulate"),
    Case(
        "policy_duplicate_node",
        text(POLICY + "  shop: {kind: base_stock, level: 80}\n", "policy.yaml"),
        ("policy.yaml", "duplicate key", "'shop'"),
        "simulate",
    ),
    Case(
        "scenario_fifo",
        lambda d: (text(POLICY, "policy.yaml")(d), os.mkfifo(d / "scenario.yaml")),
        ("scenario.yaml", "FIFO"),
        "simulate",
    ),
    Case(
        "scenario_deep",
        lambda d: (
            text(POLICY, "policy.yaml")(d),
            (d / "scenario.yaml").write_text("d: " + "[" * 100 + "]" * 100),
        ),
        ("scenario.yaml", "nested too deeply"),
        "simulate",
    ),
]


def _args(case: Case, d: Path) -> list[str]:
    net = d / ("net.json" if (d / "net.json").exists() else "network.yaml")
    if case.command == "validate":
        return ["validate", str(net)]
    args = ["simulate", str(net), "--policy", str(d / "policy.yaml"), "--periods", "5"]
    args += ["--reps", "2", "--warmup", "0"]
    if (d / "scenario.yaml").exists() or (d / "scenario.yaml").is_symlink():
        args += ["--scenario", str(d / "scenario.yaml")]
    return args


def _listing(d: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.lstat().st_size) for p in d.rglob("*"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file_gives_one_line_exit_2(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case.make(tmp_path)
    before = _listing(tmp_path)
    code, out, err = run_cli(_args(case, tmp_path), capsys)
    assert code == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in case.fragments:
        assert fragment in lines[0], f"{case.name}: {fragment!r} not in {lines[0]!r}"
    assert _listing(tmp_path) == before  # nothing written


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_alias_bomb_fails_fast_in_a_real_process(tmp_path: Path) -> None:
    """The 400-byte bomb used to take minutes and gigabytes; now the CLI answers at once (the
    timeout fails the test instead of hanging)."""
    (tmp_path / "network.yaml").write_text(BOMB)
    exe = Path(sys.executable).with_name("echelon")
    proc = subprocess.run(
        [str(exe), "validate", str(tmp_path / "network.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "anchors and aliases" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
