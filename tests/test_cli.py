"""The console command `mmtool` as a pipeline runs it: a process of its own, its exit codes, `--version`,
`--help` per verb, the completion script; against a real moto server where AWS is needed.

`pip install --no-deps -e .` (the Makefile) writes .venv/bin/mmtool from pyproject.toml's [project.scripts];
these tests write the same file (pip's console-script template) for a copy of the project, so they exercise
the declared entry point in a process of its own without installing anything into the shared virtualenv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from deployer import exit_codes
from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
from mmtool.cli import _parser, main
from mmtool.version import archived_commit

REPO = Path(__file__).resolve().parent.parent
COPIED = ("mmtool", "deployer", "templates", "scripts", "params")


def console_script(bin_dir: Path) -> Path:
    """The file pip writes for pyproject.toml's `mmtool = "module:function"` (pip's console-script template)."""
    target = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["mmtool"]
    module, function = target.split(":")
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "mmtool"
    script.write_text(
        f"#!{sys.executable}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {function}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({function}())\n"
    )
    script.chmod(0o755)
    return script


def copy_project(target: Path) -> Path:
    """The project without git metadata (what a release tarball or a copied folder holds)."""
    for folder in COPIED:
        shutil.copytree(REPO / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", target)
    return target


def clean_env(root: Path, **extra: str) -> dict[str, str]:
    """No real AWS settings, fake credentials, the project at `root` on the path (as the editable install puts
    it), an 80-column setting as a CI runner may have, and no terminal (stdout is a pipe)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("FORCE_COLOR", "NO_COLOR")}
    env.update(FAKE_CREDENTIALS, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               PYTHONPATH=str(root), COLUMNS="80", TERM="xterm-256color", **extra)
    return env


def run(script: Path, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = copy_project(tmp_path_factory.mktemp("clone"))
    return root, console_script(root / ".venv" / "bin")


@pytest.fixture(scope="module")
def server():
    with MotoServer() as moto:
        yield moto


# --- version, help, completion -------------------------------------------------------------------

def test_version_names_the_version_and_the_commit_of_the_clone(tmp_path):
    script = console_script(tmp_path / "bin")
    result = run(script, "--version", env=clean_env(REPO), cwd=tmp_path)
    described = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=REPO, capture_output=True,
                               text=True).stdout.strip()
    if not described:
        pytest.skip("the tests do not run from a git clone")
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mmtool {version} (commit {described})"


def test_version_without_git_metadata_reads_the_archived_commit_or_says_it_is_unknown(clone):
    root, script = clone
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    unknown = run(script, "--version", env=clean_env(root), cwd=root)
    assert unknown.returncode == 0 and unknown.stdout.strip() == f"mmtool {version} (commit unknown: not a git clone)"
    archival = root / ".git_archival.txt"
    try:  # as `git archive` writes it (export-subst): the full hash, and describe when a tag is reachable
        archival.write_text("commit: 0123456789abcdef0123456789abcdef01234567\ndescribe: v0.1.0-3-g0123456\n")
        assert run(script, "--version", env=clean_env(root), cwd=root).stdout.strip() == \
            f"mmtool {version} (commit v0.1.0-3-g0123456)"
        archival.write_text("commit: 0123456789abcdef0123456789abcdef01234567\ndescribe: \n")
        assert run(script, "--version", env=clean_env(root), cwd=root).stdout.strip() == \
            f"mmtool {version} (commit 0123456)"
    finally:
        archival.unlink()


def test_git_archive_fills_in_the_archival_file(tmp_path):
    """The repository's .gitattributes marks .git_archival.txt export-subst, so `git archive` writes the commit."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("the tests do not run from a git clone")
    listed = subprocess.run(["git", "ls-files", ".git_archival.txt", ".gitattributes"], cwd=REPO, capture_output=True,
                            text=True).stdout.split()
    assert sorted(listed) == [".git_archival.txt", ".gitattributes"], "both are committed"
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", ".git_archival.txt"], cwd=REPO,
                             capture_output=True, check=True).stdout
    (tmp_path / "a.tar").write_bytes(archive)
    subprocess.run(["tar", "-xf", "a.tar"], cwd=tmp_path, check=True)
    commit = archived_commit(tmp_path)
    assert commit is not None, (tmp_path / ".git_archival.txt").read_text()
    assert head.stdout.strip().startswith(commit.rsplit("-g", 1)[-1])  # v1.2-3-g<hash>, or the short hash


def verbs() -> list[str]:
    sub = next(a for a in _parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return list(sub.choices)


@pytest.mark.parametrize("verb", verbs())
def test_every_verb_has_its_own_help(verb, capsys):
    with pytest.raises(SystemExit) as exited:
        main([verb, "--help"], prog="mmtool")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mmtool {verb} ") and "--env" in out


def test_the_console_command_has_every_verb_of_build_py(clone):
    root, script = clone
    result = run(script, "--help", env=clean_env(root), cwd=root)
    assert result.returncode == 0 and result.stdout.startswith("usage: mmtool ")
    assert all(verb in result.stdout for verb in verbs())
    assert "--detailed-exitcode" in run(script, "plan", "--help", env=clean_env(root), cwd=root).stdout


def complete(script_text: str, words: list[str]) -> list[str]:
    """What bash offers for the last of `words` (COMP_WORDS as bash fills it on Tab)."""
    program = (f"{script_text}\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
               "_mmtool_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_completion_script_completes_verbs_flags_choices_and_environments(capsys):
    assert main(["completion"], prog="mmtool") == 0
    text = capsys.readouterr().out
    assert "complete -o default -F _mmtool_complete mmtool" in text
    assert complete(text, ["mmtool", "pl"]) == ["plan"]
    assert complete(text, ["mmtool", "plan", "--det"]) == ["--detailed-exitcode"]
    assert complete(text, ["mmtool", "plan", "--env", "st"]) == ["staging"]
    assert complete(text, ["mmtool", "baseline", "--format", ""]) == ["csv", "jsonl"]
    assert "--wait-for-lock" in complete(text, ["mmtool", "deploy", "--"])


# --- exit codes through the console command ------------------------------------------------------

def test_exit_codes_reach_the_pipeline(clone, server):
    """A pipeline calls .venv/bin/mmtool and branches on its exit code: each documented code, for real."""
    root, script = clone
    server.reset()
    env = clean_env(root)
    aws = ["--endpoint-url", server.url]
    local = [*aws, "--skip-account-check"]

    def mmtool(*args: str) -> subprocess.CompletedProcess[str]:
        return run(script, *args, env=env, cwd=root)

    fresh = mmtool("plan", "--env", "dev", "--detailed-exitcode", *local)
    assert fresh.returncode == exit_codes.EXIT_CHANGES, fresh.stderr  # nothing deployed yet: everything to add
    assert mmtool("plan", "--env", "dev", *local).returncode == exit_codes.EXIT_OK  # without the flag: success

    unknown = mmtool("plan", "--env", "nope", *local)
    assert unknown.returncode == exit_codes.EXIT_INPUT and "no params file params/nope.yaml" in unknown.stderr
    assert mmtool("plan", "--env", "nope", "--detailed-exitcode", *local).returncode == exit_codes.EXIT_FAILED
    typo = mmtool("plan", "--env", "dev", "--detailed-exitcode", "--alow-replacement", *local)
    assert typo.returncode == exit_codes.EXIT_FAILED and "unrecognized arguments" in typo.stderr

    wrong_account = mmtool("deploy", "--env", "dev", "--yes", *aws)  # params say 111122223333; moto is another
    assert wrong_account.returncode == exit_codes.EXIT_REFUSED, wrong_account.stderr
    assert "Traceback" not in wrong_account.stderr

    deployed = mmtool("deploy", "--env", "dev", "--yes", *local)
    assert deployed.returncode == exit_codes.EXIT_OK, deployed.stderr
    same = mmtool("plan", "--env", "dev", "--detailed-exitcode", *local)
    assert same.returncode == exit_codes.EXIT_OK, same.stdout + same.stderr

    import boto3

    from deployer.lock import Holder, parameter_name

    ssm = boto3.client("ssm", region_name="eu-west-1", endpoint_url=server.url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    ssm.put_parameter(Name=parameter_name("churn", "dev"), Type="String",
                      Value=Holder.mine("arn:aws:iam::123456789012:user/other", "deploy").to_value())
    locked = mmtool("deploy", "--env", "dev", "--yes", *local)
    assert locked.returncode == exit_codes.EXIT_LOCKED, locked.stderr
    assert "churn dev is locked" in locked.stderr and "user/other" in locked.stderr


def test_the_docs_show_the_one_exit_code_table():
    text = (REPO / "docs" / "deploying.md").read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == exit_codes.TABLE
