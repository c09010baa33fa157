"""The deploy engine never imports troposphere (principle 10): it reads plain JSON from the build."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import deployer

PACKAGE = Path(deployer.__file__).parent
FORBIDDEN = {"troposphere", "awacs", "templates", "mmtool", "cfnlint"}


def test_importing_every_module_loads_no_troposphere():
    modules = sorted(f"deployer.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in ("__main__",))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, check=True)
    assert result.stdout.strip() == ""


def test_no_import_statement_names_troposphere():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
