"""The Makefile passes command-line values to the tool as arguments, never as shell or make code: `make plan
ENV='dev; touch x'` must not run `touch`. Real `make` runs, with PY pointing at a script that records its arguments
(so nothing is planned) and VENV at a folder whose stamp is fresh (so nothing is installed)."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

HOSTILE = [
    "dev; touch {mark}",
    "dev && touch {mark}",
    "dev | touch {mark}",
    "$(touch {mark})",
    "`touch {mark}`",
    'dev"; touch {mark}; echo "',
    "dev'; touch {mark}; echo '",
    "$(shell touch {mark})",
    "dev\ntouch {mark}",
]


def _make(tmp_path: Path, target: str, **variables: str) -> list[str]:
    recorder = tmp_path / "python"
    recorder.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    recorder.chmod(0o755)
    venv = tmp_path / "venv"
    venv.mkdir(exist_ok=True)
    (venv / ".installed").touch()
    # newer than what the stamp depends on (requirements.txt, pyproject.toml, ...): nothing is installed
    newer = max(p.stat().st_mtime for p in REPO.iterdir() if p.is_file()) + 1
    os.utime(venv / ".installed", (newer, newer))
    args = ["make", "--no-print-directory", "-f", str(REPO / "Makefile"), target, f"PY={recorder}", f"VENV={venv}"]
    args += [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("variable,target,flag", [("ENV", "plan", "--env"), ("ENV", "status", "--env"),
                                                  ("ENDPOINT", "deploy", "--endpoint"),
                                                  ("DATASET", "baseline", "--dataset")])
def test_a_hostile_value_reaches_the_tool_as_one_argument_and_runs_nothing(tmp_path, value, variable, target, flag):
    mark = tmp_path / "injected"
    hostile = value.format(mark=mark)
    variables = {"ENV": "dev", "DATASET": "train.csv", variable: hostile}
    argv = _make(tmp_path, target, **variables)
    assert not mark.exists(), f"{variable}={hostile!r} ran a command"
    assert argv[argv.index(flag) + 1] == hostile, argv


def test_args_are_split_into_words_and_nothing_else(tmp_path):
    mark = tmp_path / "injected"
    argv = _make(tmp_path, "outputs", ENV="dev", ARGS=f"--json ; touch {mark} $(touch {mark})")
    assert not mark.exists()
    assert argv[:3] == ["build.py", "outputs", "--env"] and argv[4:] == ["--json", ";", "touch", str(mark),
                                                                          f"$(touch", f"{mark})"]


def test_ordinary_values_pass_unchanged(tmp_path):
    argv = _make(tmp_path, "deploy", ENV="prod", ENDPOINT="fraud", AUTO_APPROVE="1", ARGS="--max-attempts 20")
    assert argv == ["build.py", "deploy", "--env", "prod", "--endpoint", "fraud", "--yes", "--max-attempts", "20"]


def test_the_tool_refuses_a_hostile_environment_name_in_one_quoted_line(capsys, tmp_path):
    from mmtool.cli import main
    from tests.conftest import scratch_root

    paths = scratch_root(tmp_path)
    assert main(["plan", "--env", "dev\ntouch x; echo y"], paths=paths) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ENV='dev\\ntouch x; echo y' is not an environment name" in err, err


COMMANDS = {"PYTHON_SYS"}  # overridable on purpose: they name programs to run


def test_no_recipe_expands_a_command_line_value_itself():
    """The class, not the examples: every value a user passes (each `X ?=` of the Makefile, and those only tested
    with $(if ...)) reaches a recipe as "$$MM_X", never as $(X) or ${X}, which make pastes into the shell command."""
    text = (REPO / "Makefile").read_text()
    user = set(re.findall(r"^([A-Z_]+)\s*\?=", text, re.MULTILINE)) - COMMANDS
    user |= set(re.findall(r"\$\(if \$\(value ([A-Z_]+)\)", text)) | set(re.findall(r"\$\(if \$\(([A-Z_]+)\)", text))
    assert {"ENV", "ENDPOINT", "ARGS", "DATASET", "CAPTURE"} <= user
    bad = [line.strip() for line in text.splitlines() if line.startswith("\t")
           for name in user if re.search(r"\$[({]%s[)}]" % name, line)]
    assert not bad, bad
    exported = set(re.findall(r"^export MM_([A-Z_]+)\s*=\s*\$\(value \1\)", text, re.MULTILINE))
    unexported = set(re.search(r"^unexport (.*)$", text, re.MULTILINE).group(1).split())
    assert user - {"AUTO_APPROVE"} <= exported and user <= unexported, (user, exported, unexported)


def test_a_default_value_set_in_the_makefile_reaches_its_recipe():
    """`unexport X` defines X (empty) when it is not yet defined, so an `X ?= default` after it never takes effect:
    `make cdk-peer` once said "no CDK app in : set CDK_PEER_SRC". Every non-empty default stands before `unexport`."""
    text = (REPO / "Makefile").read_text()
    unexport_at = re.search(r"^unexport ", text, re.MULTILINE).start()
    late = [m.group(1) for m in re.finditer(r"^([A-Z_]+)[ \t]*\?=[ \t]*\S", text, re.MULTILINE)
            if m.start() > unexport_at and m.group(1) not in COMMANDS]
    assert not late, f"defaults set after `unexport` never apply: {late}"
    dry = subprocess.run(["make", "--no-print-directory", "-n", "-f", str(REPO / "Makefile"), "-p", "cdk-peer"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert re.search(r"^CDK_PEER_SRC \S*= \.\./shared/peers/cdk$", dry.stdout, re.MULTILINE), "CDK_PEER_SRC lost its default"
