"""The architecture of issue 12 (acceptance 3), enforced:

1. the core rooms (network, policies, sim, optimize, forecast) never import plan, storage,
   report or cli;
2. plan never imports storage, report or cli, except from ``echelon.plan.service``;
3. no import cycle between the package's modules.

1 and 2 are import-linter contracts in pyproject.toml (``[tool.importlinter]``; every import
counts, also one inside a function), run here through ``lint-imports``. 3 is checked with grimp's
import graph, counting the imports that run when a module is imported (module level, not inside
a function, not under ``if TYPE_CHECKING``): a cycle of those is a real import-time cycle. Each
checker is also shown to fail on a small temporary package that breaks its rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of ``config`` (no cache written) from ``cwd``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


# ----------------------------------------------------------------------------- cycles
def _runs_on_import(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements under ``node`` that run when the module is imported."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for stmt in child.orelse:
                yield from _runs_on_import(ast.Module(body=[stmt], type_ignores=[]))
        else:
            yield from _runs_on_import(child)


def _module_file(module: str, package_dir: Path) -> Path:
    parts = module.split(".")[1:]
    base = package_dir.joinpath(*parts)
    return base / "__init__.py" if (base / "__init__.py").exists() else base.with_suffix(".py")


def import_time_graph(package: str, package_dir: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports at import time (grimp's graph, filtered)."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for importer in graph.modules:
        tree = ast.parse(_module_file(importer, package_dir).read_text(encoding="utf-8"))
        lines = {stmt.lineno for stmt in _runs_on_import(tree)}
        for imported in graph.find_modules_directly_imported_by(importer):
            details = graph.get_import_details(importer=importer, imported=imported)
            if any(d["line_number"] in lines for d in details):
                edges[importer].add(imported)
    return edges


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _chain(start: str, members: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle start → … → start inside one component."""
    back: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(edges[v] & members):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(back[path[-1]])
                return [*reversed(path), start]
            if w not in back:
                back[w] = v
                queue.append(w)
    return [start]


def import_cycles(package: str, package_dir: Path) -> list[list[str]]:
    """One chain (a → b → … → a) per group of modules that import each other at import time."""
    edges = import_time_graph(package, package_dir)
    cycles = []
    for comp in _components(edges):
        if len(comp) > 1 or comp[0] in edges[comp[0]]:
            cycles.append(_chain(comp[0], set(comp), edges))
    return cycles


# ----------------------------------------------------------------------------- the package
def test_import_linter_contracts_are_kept() -> None:
    proc = lint_imports(ROOT / "pyproject.toml", ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout, proc.stdout


def test_no_import_cycles_between_modules() -> None:
    import echelon

    cycles = import_cycles("echelon", Path(echelon.__file__).parent)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# ----------------------------------------------------------------------------- the checkers fail
def _write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def _demo_config(tmp_path: Path) -> Path:
    """This project's import-linter contracts, for the package ``archdemo`` instead."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text[text.index("[tool.importlinter]") :]
    ends = [i for i in range(len(section)) if section.startswith("\n[tool.", i)]
    ends = [i for i in ends if not section.startswith("\n[tool.importlinter", i)]
    section = section[: ends[0]] if ends else section
    config = tmp_path / "contracts.toml"
    config.write_text(section.replace("echelon", "archdemo"), encoding="utf-8")
    return config


ROOMS = ("network", "policies", "sim", "optimize", "forecast", "plan", "storage", "report", "cli")


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("sim/engine.py", "from archdemo.storage import db", "core rooms never import"),
        ("optimize/gsm.py", "def f():\n    import archdemo.cli.app", "core rooms never import"),
        ("plan/orders.py", "import archdemo.report.html", "only through archdemo.plan.service"),
        ("plan/orders.py", "from archdemo.plan import service", None),  # indirect, allowed
        ("plan/service.py", "import archdemo.storage.db\nfrom archdemo.report import html", None),
        ("cli/app.py", "import archdemo.plan.orders\nimport archdemo.storage.db", None),
    ],
)
def test_contracts_catch_a_forbidden_import(
    tmp_path: Path, module: str, line: str, broken: str | None
) -> None:
    files = {f"archdemo/{room}/__init__.py": "" for room in ROOMS}
    files["archdemo/__init__.py"] = ""
    for name in ("storage/db.py", "report/html.py", "cli/app.py", "plan/orders.py"):
        files[f"archdemo/{name}"] = ""
    files["archdemo/plan/service.py"] = "import archdemo.storage.db\nimport archdemo.report.html\n"
    files[f"archdemo/{module}"] = line + "\n"
    _write_package(tmp_path, files)
    proc = lint_imports(_demo_config(tmp_path), tmp_path)
    out = " ".join(proc.stdout.split())
    if broken is None:
        assert proc.returncode == 0 and "2 kept, 0 broken" in out, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 1 and "1 broken" in out, proc.stdout + proc.stderr
        assert f"{broken}" in out and "BROKEN" in out


def test_cycle_check_finds_an_import_time_cycle_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_package(
        tmp_path,
        {
            "cycdemo/__init__.py": "",
            "cycdemo/a.py": "from cycdemo import b\n",
            "cycdemo/b.py": "import cycdemo.c\n",
            "cycdemo/c.py": "from cycdemo.a import x\n",
            "cycdemo/d.py": "import typing\nif typing.TYPE_CHECKING:\n    import cycdemo.e\n",
            "cycdemo/e.py": "import cycdemo.d\n",
            "cycdemo/f.py": "def later():\n    import cycdemo.g\n",
            "cycdemo/g.py": "import cycdemo.f\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cycdemo", tmp_path / "cycdemo") == [
        ["cycdemo.a", "cycdemo.b", "cycdemo.c", "cycdemo.a"]
    ]
