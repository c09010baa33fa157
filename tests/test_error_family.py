"""One error family with one exit-code table (docs/development.md, 'Errors and exit codes'): the engine's errors
and the tool's share one base, every code comes from `deployer.exit_codes.TABLE`, and each CLI catches the base in
one place."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from deployer import exit_codes
from deployer.tool_error import ToolError

ROOT = Path(__file__).resolve().parent.parent


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def _import_the_project() -> None:
    for pkg in ("mmtool", "deployer"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name.endswith("__main__") or name == "deployer.moto_server":
                continue
            importlib.import_module(name)


def test_the_engine_and_the_tool_share_one_base():
    from deployer.errors import DeployError, InputError, Interrupted, RefusedError, WaitTimeoutError
    from deployer.lock import LockedError
    from mmtool.errors import LintError, ParamsError, UsageError

    for cls in (DeployError, InputError, RefusedError, WaitTimeoutError, Interrupted, LockedError, ParamsError,
                UsageError, LintError):
        assert issubclass(cls, ToolError), cls
    assert (InputError.exit_code, RefusedError.exit_code, WaitTimeoutError.exit_code, LockedError.exit_code,
            Interrupted.exit_code, UsageError.exit_code, LintError.exit_code) == (2, 3, 4, 6, 130, 2, 1)


def test_every_error_of_the_family_exits_with_a_code_of_the_table():
    _import_the_project()
    family = _all_subclasses(ToolError) | {ToolError}
    assert len(family) > 20  # the verbs' own errors are found too
    assert {cls.__qualname__: cls.exit_code for cls in family if cls.exit_code not in exit_codes.TABLE} == {}


def test_what_where_fix_make_one_message_and_the_code_can_be_given():
    error = ToolError("must be 1-24", where="--window-hours=30", fix="give at most 24")
    assert str(error) == "--window-hours=30: must be 1-24\nNext: give at most 24"
    assert (error.what, error.where, error.fix, error.exit_code) == ("must be 1-24", "--window-hours=30",
                                                                      "give at most 24", exit_codes.EXIT_FAILED)
    assert str(ToolError("as written")) == "as written"
    assert ToolError("locked", exit_codes.EXIT_LOCKED).exit_code == exit_codes.EXIT_LOCKED


def test_the_base_loads_no_botocore():
    code = "import mmtool.errors, sys; print('botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


#: The one place each CLI catches the base (an `except` naming an error of the family).
BOUNDARIES = {"mmtool/cli/boundary.py", "deployer/cli.py"}
FAMILY_NAMES = {"ToolError", "DeployError"}


def _catches(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = {n.id if isinstance(n, ast.Name) else getattr(n, "attr", None) for n in ast.walk(node.type)}
            if names & FAMILY_NAMES:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in [*(ROOT / "mmtool/cli").glob("*.py"),
                                                                                ROOT / "deployer/cli.py"]))
def test_a_cli_catches_the_family_only_at_its_boundary(path):
    caught = _catches(ROOT / path)
    if path in BOUNDARIES:
        assert len(caught) == 1, f"{path}: the boundary catches the base once ({caught})"
    else:
        assert caught == [], f"{path}:{caught}: let the error reach the CLI's boundary ({sorted(BOUNDARIES)})"


def test_the_boundary_finder_finds_a_catch(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("try:\n    pass\nexcept (ValueError, errors.DeployError):\n    pass\n")
    assert _catches(source) == [3]


def test_the_engine_says_what_where_and_the_fix():
    from botocore.exceptions import NoCredentialsError

    from deployer.errors import InputError, aws_error

    error = aws_error(NoCredentialsError(), action="DescribeStacks", stack="churn-dev-foundation", nothing_changed=True)
    assert isinstance(error, InputError) and error.exit_code == exit_codes.EXIT_INPUT
    assert (error.where, error.what) == ("churn-dev-foundation", "DescribeStacks: no usable AWS credentials (Unable to "
                                         "locate credentials). Nothing was changed.")
    assert str(error) == ("churn-dev-foundation: DescribeStacks: no usable AWS credentials (Unable to locate "
                          "credentials). Nothing was changed.\nNext: set AWS_PROFILE (or run `aws sso login --profile "
                          "P`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then run the command again.")
