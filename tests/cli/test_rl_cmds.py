"""``echelon rl train`` / ``echelon rl evaluate`` and the agent store, through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import run_cli

from echelon.cli import app as app_module
from echelon.cli import rl_cmds
from echelon.errors import InputError
from echelon.rl.evaluate import evaluate_agents
from echelon.rl.instances import zipkin_lost_sales
from echelon.rl.store import AgentStoreError, load_agent
from rl.tampered_agents import COMMON, DPG_ONLY, PPO_ONLY, Tamper, marker_of

pytest.importorskip("echelon.rl.dpg")


@pytest.fixture(scope="module", autouse=True)
def rl_commands() -> None:
    """Register ``echelon rl`` here until cli/app.py lists echelon.cli.rl_cmds."""
    if not any(g.name == "rl" for g in app_module.app.registered_groups):
        rl_cmds.register(app_module.app)


@pytest.fixture(scope="module")
def dpg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("agents") / "dpg"
    code = -1
    try:
        app_module.main(["rl", "train", "zipkin-p9-L4", "--algo", "dpg", "--steps", "4000",
                         "--seed", "3", "--out", str(out)])  # fmt: skip
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code in (-1, 0)
    return out


def one_error_line(code: int, err: str) -> str:
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_train_writes_an_agent_folder_that_loads_back(dpg_dir: Path) -> None:
    meta = json.loads((dpg_dir / "agent.json").read_text())
    assert meta["kind"] == "dpg" and meta["config"]["seed"] == 3
    assert load_agent(dpg_dir).name.startswith("dpg")


def test_evaluate_json_is_identical_for_a_fixed_seed(
    dpg_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["rl", "evaluate", str(dpg_dir), "--vs", "single-echelon", "--periods", "120",
            "--reps", "4", "--warmup", "20", "--seed", "11", "--json"]  # fmt: skip
    code1, out1, _ = run_cli(args, capsys)
    code2, out2, _ = run_cli(args, capsys)
    assert code1 == code2 == 0
    a, b = json.loads(out1), json.loads(out2)
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    assert [x["name"] for x in a["agents"]] == ["single-echelon", "dpg-zipkin-lost-sales-p9-L4"]
    assert a["agents"][0]["delta_cost"] == {"mean": 0.0, "ci95": 0.0}
    assert len(a["trace"]) == 10 and {"anchor", "order", "deviation"} <= set(a["trace"][0])


def test_saved_and_loaded_agents_evaluate_identically(tmp_path: Path) -> None:
    net = zipkin_lost_sales(9.0, 4)
    trained = rl_cmds.train_agent(net, "dpg", 4000, 5, None)
    trained.save(tmp_path / "a")  # type: ignore[attr-defined]
    loaded = load_agent(tmp_path / "a")
    ev = evaluate_agents(net, [trained, loaded], 100, 3, seed=9, warmup=10)
    assert (ev.agents[0].costs == ev.agents[1].costs).all()


def test_evaluate_table_shows_deltas_and_the_shadow_trace(
    dpg_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist = tmp_path / "h.csv"
    hist.write_text("node,period,demand\n" + "".join(f"store,{t},{t % 9}\n" for t in range(60)))
    code, out, err = run_cli(
        ["rl", "evaluate", str(dpg_dir), "--vs", "single-echelon", "--warmup", "10",
         "--reps", "1", "--demand", str(hist), "--trace", "3"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "Δ vs single-echelon" in out and "shadow mode" in out and "demand history" in out


@pytest.mark.parametrize(
    "args",
    [
        ["rl", "train", "zipkin-p9-L4", "--algo", "sarsa", "--out", "X"],
        ["rl", "train", "zipkin-p9-L4", "--steps", "0", "--out", "X"],
        ["rl", "train", "no-such-network.yaml", "--out", "X"],
        ["rl", "evaluate", "no-such-folder", "--vs", "gsm"],
        ["rl", "evaluate", "AGENT", "--vs", "a-policy-that-does-not-exist"],
        ["rl", "evaluate", "AGENT", "--vs", "single-echelon", "--trace", "-1"],
        ["rl", "evaluate", "AGENT", "--vs", "optimal"],  # Clark–Scarf needs backorders
    ],
)
def test_bad_inputs_exit_2_with_one_line(
    args: list[str], dpg_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = [str(dpg_dir) if a == "AGENT" else str(tmp_path / a) if a == "X" else a for a in args]
    code, _, err = run_cli(args, capsys)
    one_error_line(code, err)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "has no agent.json"),
        ("{not json", "cannot read agent.json"),
        ('{"name": "x"}', "does not say what kind"),
        ('{"kind": "a2c"}', "unknown agent kind"),
    ],
)
def test_store_rejects_broken_agent_folders(
    tmp_path: Path, content: str | None, match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if content is not None:
        (tmp_path / "agent.json").write_text(content)
    with pytest.raises(AgentStoreError, match=match):
        load_agent(tmp_path)
    code, _, err = run_cli(["rl", "evaluate", str(tmp_path), "--vs", "gsm"], capsys)
    assert match.split()[-1] in one_error_line(code, err)


def test_store_errors_are_input_errors() -> None:
    assert issubclass(AgentStoreError, InputError)


# --------------------------------------------------------------- tampered agent folders
@pytest.fixture(scope="module")
def agent_dirs(dpg_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from echelon.rl.instances import snyder_shen_6_1
    from echelon.rl.ppo import PPOConfig, train_ppo

    ppo = tmp_path_factory.mktemp("agents") / "ppo"
    config = PPOConfig(steps=64, n_envs=2, n_steps=32, batch_size=64, n_epochs=1, eval_every=0)
    train_ppo(snyder_shen_6_1(), config).save(ppo)
    return {"dpg": dpg_dir, "ppo": ppo}


TAMPERED = [("ppo", t) for t in COMMON + PPO_ONLY] + [("dpg", t) for t in COMMON + DPG_ONLY]


@pytest.mark.parametrize(("kind", "tamper"), TAMPERED, ids=[f"{k}-{t.name}" for k, t in TAMPERED])
def test_evaluate_on_a_tampered_agent_prints_one_line_exit_2_and_runs_no_code(
    kind: str,
    tamper: Tamper,
    agent_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "agent"
    shutil.copytree(agent_dirs[kind], folder)
    tamper.mutate(folder)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, out, err = run_cli(["rl", "evaluate", str(folder), "--vs", "single-echelon"], capsys)
    line = one_error_line(code, err)
    assert out == ""
    for fragment in tamper.fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert not marker_of(folder).exists(), "a payload ran"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written
