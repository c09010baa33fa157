"""The house rules of the code's layout, read from the imports (module-level and deferred alike):

* no import cycle between two modules of the project (a deferred import inside a function still makes the
  two modules depend on each other, so it counts);
* nothing outside `mmtool/cli/` imports `mmtool.cli` (the CLI is the top: it parses and prints);
* `mmtool.config` imports no other `mmtool` package but `mmtool.errors` (it is the bottom);
* `deployer/` never imports troposphere, `templates/` or `mmtool` (it deploys any manifest);
* `templates/` import nothing of `mmtool` but `mmtool.config` (the params model).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mmtool", "templates", "deployer", "scripts")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, anywhere in the file (`from a.b import c` is a.b.c when c is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                     for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    if path.is_relative_to(ROOT):
        found.discard(module_name(path))
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def offenders(edges: dict[str, set[str]], source: str, target: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """`a -> b` for every module in package `source` that imports a module of package `target`."""
    def inside(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    return sorted(f"{a} -> {b}" for a, deps in edges.items() if inside(a, source)
                  for b in deps if inside(b, target) and not any(inside(b, ok) for ok in allowed))


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_at_every_depth(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from mmtool.cli import main\n")
    assert imports_of(source, {"mmtool.cli": source.parent, "mmtool": source.parent}) == {"mmtool.cli"}


def test_no_import_cycle_between_project_modules():
    assert cycles(graph()) == [], "modules that import each other (directly or round a circle): break the circle"


def test_nothing_outside_the_cli_imports_the_cli():
    edges = graph()
    outside = {name: deps for name, deps in edges.items() if not (name == "mmtool.cli" or name.startswith("mmtool.cli."))}
    assert sorted(f"{a} -> {b}" for a, deps in outside.items() for b in deps
                  if b == "mmtool.cli" or b.startswith("mmtool.cli.")) == []


@pytest.mark.parametrize("source, target, allowed", [
    ("mmtool.config", "mmtool", ("mmtool.config", "mmtool.errors")),
    ("deployer", "mmtool", ()),
    ("deployer", "templates", ()),
    ("templates", "mmtool", ("mmtool.config",)),
    ("mmtool.generate", "mmtool.operate", ()),
    ("mmtool.generate", "mmtool.handoff", ()),
    ("mmtool.operate", "mmtool.handoff", ()),
    ("mmtool.cost", "mmtool.generate", ()),
    ("mmtool.cost", "mmtool.operate", ()),
    ("mmtool.cost", "mmtool.handoff", ()),
])
def test_dependencies_point_one_way(source, target, allowed):
    assert offenders(graph(), source, target, allowed) == []


def test_the_deployer_never_imports_troposphere():
    for path in sorted((ROOT / "deployer").rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [n for n in names if n.split(".")[0] in ("troposphere", "awacs")], path
