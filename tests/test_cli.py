"""The console command `mmtool` as a pipeline runs it: a process of its own, its exit codes, `--version`,
`--help` per verb, the completion script; against a real moto server where AWS is needed.

`pip install --no-deps -e .` (the Makefile) writes .venv/bin/mmtool from pyproject.toml's [project.scripts];
these tests write the same file (pip's console-script template) for a copy of the project, so they exercise
the declared entry point in a process of its own without installing anything into the shared virtualenv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import yaml

from deployer import exit_codes
from deployer.local import local_endpoint
from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
from deployer.progress import Step, duration_text
from deployer.reporter import make_console, notes_once
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

    from deployer.lock import Holder, legacy_name

    ssm = boto3.client("ssm", region_name="eu-west-1", endpoint_url=server.url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    ssm.put_parameter(Name=legacy_name("churn", "dev"), Type="String",  # another run's lock (an earlier version's)
                      Value=Holder.mine("arn:aws:iam::123456789012:user/other", "deploy").to_value())
    locked = mmtool("deploy", "--env", "dev", "--yes", *local)
    assert locked.returncode == exit_codes.EXIT_LOCKED, locked.stderr
    assert "churn dev is locked" in locked.stderr and "user/other" in locked.stderr
    assert "`mmtool unlock --env dev`" in locked.stderr  # the next command, spelled as the pipeline calls the tool


def test_the_docs_show_the_one_exit_code_table():
    text = (REPO / "docs" / "deploying.md").read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == exit_codes.TABLE


# --- output that survives CI ---------------------------------------------------------------------

LONG_ENV = "qualitytst"  # the longest names params allow: project 20, environment 10, endpoint key 20 characters
LONG_KEY = "propensity-upsell-v2"
LONG_PROJECT = "customer-churn-model"


def write_long_named_fleet(root: Path, retention: int = 14) -> None:
    data = yaml.safe_load((REPO / "params" / "dev.yaml").read_text())
    data.update(project=LONG_PROJECT, environment=LONG_ENV)
    data["storage"]["capture_retention_days"] = retention
    data["endpoints"] = {LONG_KEY: {"create": data.pop("endpoint"), "monitoring": data.pop("monitoring")}}
    (root / "params" / f"{LONG_ENV}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_ci_output_at_80_columns_wraps_and_cuts_nothing(clone, server):
    """No terminal, COLUMNS=80, the longest names: every name, ARN and value whole on its line, no colour; progress
    lines on stderr for the slow steps; each note once; an apply summary; `outputs NAME` prints the value alone."""
    root, script = clone
    server.reset()
    write_long_named_fleet(root)
    env = clean_env(root)
    local = ["--endpoint-url", server.url, "--skip-account-check"]

    def mmtool(*args: str) -> subprocess.CompletedProcess[str]:
        result = run(script, *args, env=env, cwd=root)
        assert "\x1b[" not in result.stdout + result.stderr, "no colour or cursor codes without a terminal"
        return result

    monitoring = f"{LONG_PROJECT}-{LONG_ENV}-{LONG_KEY}-monitoring"
    env["MMTOOL_PROGRESS_AFTER"] = "0"  # every step's line, however quick the machine
    plan = mmtool("plan", "--env", LONG_ENV, "--detailed-exitcode", *local)
    del env["MMTOOL_PROGRESS_AFTER"]
    assert plan.returncode == exit_codes.EXIT_CHANGES, plan.stderr
    assert f"{monitoring}  create" in plan.stdout.splitlines()
    assert any(len(line) > 80 for line in plan.stdout.splitlines()), "laid out for the content, not for 80 columns"
    # the build's lint and the plan: each says what it is and how long it took
    assert re.search(rf"^cfn-lint: \d+ templates of {LONG_ENV}: done in [\d.]+ s$", plan.stderr, flags=re.M), plan.stderr
    assert re.search(rf"^plan {LONG_ENV}: done in [\d.]+ s$", plan.stderr, flags=re.M), plan.stderr

    deploy = mmtool("deploy", "--env", LONG_ENV, "--yes", *local)
    assert deploy.returncode == 0, deploy.stderr
    lines = deploy.stdout.splitlines()
    headline = next(line for line in lines if line.startswith("Plan: "))
    added = int(re.match(r"Plan: (\d+) to add", headline).group(1))
    per_stack = [re.fullmatch(r"  (\S+): deployed  (\d+) added, 0 changed, 0 replaced, 0 removed  [\d.]+ s", line)
                 for line in lines]
    per_stack = [m for m in per_stack if m]
    assert {m.group(1) for m in per_stack} >= {monitoring, f"{LONG_PROJECT}-{LONG_ENV}-foundation"}
    assert sum(int(m.group(2)) for m in per_stack) == added
    assert re.search(rf"^Applied: {added} added, 0 changed, 0 replaced, 0 removed to {len(per_stack)} of "
                     rf"{len(per_stack)} stacks in [\d.]+ s\.$", deploy.stdout, flags=re.M), deploy.stdout

    values = json.loads(mmtool("outputs", "--env", LONG_ENV, "--json", *local).stdout)
    role = values[f"{LONG_KEY}-monitoring"]["ExecutionRoleArn"]
    assert role.startswith("arn:aws:iam::") and len(role) > 60
    table = mmtool("outputs", "--env", LONG_ENV, *local).stdout
    assert "…" not in table
    assert any(monitoring in line and "ExecutionRoleArn" in line and role in line for line in table.splitlines())
    raw = mmtool("outputs", "--env", LONG_ENV, "ExecutionRoleArn", *local)
    assert raw.returncode == 0 and raw.stdout == role + "\n"
    assert mmtool("outputs", "--env", LONG_ENV, f"{LONG_KEY}-monitoring.ExecutionRoleArn", *local).stdout == role + "\n"
    missing = mmtool("outputs", "--env", LONG_ENV, "NoSuchOutput", *local)
    assert missing.returncode == exit_codes.EXIT_INPUT and "foundation.BucketName" in missing.stderr

    write_long_named_fleet(root, retention=21)  # the foundation changes; every stack after it reads from it
    again = mmtool("plan", "--env", LONG_ENV, *local)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("upstream stacks change first") == 1, again.stdout


def test_notes_shared_by_stacks_are_shown_once_under_the_first():
    shown = notes_once({"a": ["only a", "shared"], "b": ["shared"], "c": ["shared", "only c"], "d": []})
    assert shown == {"a": ["only a", "shared (also b, c)"], "b": [], "c": ["only c"], "d": []}


def test_console_without_a_terminal_is_as_wide_as_its_content():
    import io

    from rich.table import Table

    buffer = io.StringIO()
    console = make_console(file=buffer)
    arn = "arn:aws:iam::123456789012:role/" + "x" * 120
    table = Table()
    table.add_column("Output")
    table.add_column("Value")
    table.add_row("ExecutionRoleArn", arn)
    console.print(table)
    console.print("a long line " * 20)
    assert arn in buffer.getvalue() and "…" not in buffer.getvalue()
    assert ("a long line " * 20).strip() in buffer.getvalue()
    assert "\x1b[" not in buffer.getvalue()


class FakeTime:
    """A clock that moves only when the step's watcher waits: no real time passes in the test."""

    def __init__(self, finish_after: float):
        self.now = 0.0
        self.finish_after = finish_after

    def clock(self) -> float:
        return self.now

    def wait(self, event, seconds: float) -> bool:
        if self.now + seconds >= self.finish_after:
            self.now = self.finish_after
            event.wait()  # the step ends now: the watcher sees it done
            return True
        self.now += seconds
        return False


def test_a_slow_step_says_what_it_does_every_ten_seconds_and_how_long_it_took():
    time_ = FakeTime(finish_after=25.0)
    lines: list[str] = []
    with Step("cfn-lint: 7 templates", lines.append, clock=time_.clock, wait=time_.wait) as step:
        while len(lines) < 3:  # the watcher announces at 1 s, then at 11 s and 21 s
            threading.Event().wait(0.001)
        time_.now = 25.0
    assert step.elapsed == 25.0
    assert lines == ["cfn-lint: 7 templates...", "cfn-lint: 7 templates: 11.0 s so far",
                     "cfn-lint: 7 templates: 21.0 s so far", "cfn-lint: 7 templates: done in 25.0 s"]


def test_a_quick_step_prints_nothing(monkeypatch):
    monkeypatch.delenv("MMTOOL_PROGRESS_AFTER", raising=False)
    time_ = FakeTime(finish_after=0.5)
    lines: list[str] = []
    with Step("validate", lines.append, clock=time_.clock, wait=time_.wait):
        time_.now = 0.5
    assert lines == []


def test_durations_read_as_seconds_minutes_hours():
    assert [duration_text(s) for s in (0.4, 12.44, 125, 3720)] == ["0.4 s", "12.4 s", "2 min 05 s", "1 h 02 min"]


# --- the local workflow --------------------------------------------------------------------------

def test_local_up_then_plan_deploy_status_destroy_without_flags_then_local_down(clone):
    """`make local-up` (python -m mmtool.cli.local up): the everyday commands go to the local moto server with no
    endpoint, credentials or account flag; status says in one line what moto cannot answer; down stops it."""
    root, script = clone
    env = {k: v for k, v in clean_env(root).items() if k not in FAKE_CREDENTIALS}  # the env file brings its own
    up = subprocess.run([sys.executable, "-m", "mmtool.cli.local", "up"], capture_output=True, text=True, env=env,
                        cwd=root, timeout=120)
    settings = root / ".local" / "moto.env"
    try:
        assert up.returncode == 0, up.stderr
        assert "export MMTOOL_LOCAL=1" in settings.read_text()

        def mmtool(*args: str) -> subprocess.CompletedProcess[str]:
            return run(script, *args, env=env, cwd=root)

        plan = mmtool("plan", "--env", "dev", "--detailed-exitcode")
        assert plan.returncode == exit_codes.EXIT_CHANGES, plan.stderr
        assert plan.stderr.startswith("local: every AWS call goes to the moto server at http://127.0.0.1:")
        assert "the account check does not apply" in plan.stdout
        assert mmtool("deploy", "--env", "dev", "--yes").returncode == 0

        status = mmtool("status", "--env", "dev")
        assert status.returncode == exit_codes.EXIT_FAILED
        message = [line for line in status.stderr.splitlines() if not line.startswith(("local: ", "dev: "))]
        assert len(message) == 1, status.stderr
        assert "local moto server does not implement ListMonitoringSchedules" in message[0]
        assert "<html" not in status.stderr.lower()

        assert mmtool("destroy", "--env", "dev", "--yes").returncode == 0
    finally:
        down = subprocess.run([sys.executable, "-m", "mmtool.cli.local", "down"], capture_output=True, text=True,
                              env=env, cwd=root, timeout=60)
    assert down.returncode == 0 and "stopped" in down.stdout, down.stdout + down.stderr
    assert not settings.exists()
    after = run(script, "outputs", "--env", "dev", env=env, cwd=root)  # back to AWS: no credentials in this environment at all
    assert after.returncode == exit_codes.EXIT_INPUT and "credentials" in after.stderr


def test_local_mode_never_skips_the_account_check_against_a_remote_endpoint(monkeypatch):
    monkeypatch.setenv("MMTOOL_LOCAL", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert local_endpoint() == "http://127.0.0.1:5000"
    assert local_endpoint("https://cloudformation.eu-west-1.amazonaws.com") is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://sts.eu-west-1.amazonaws.com")
    assert local_endpoint() is None
    monkeypatch.delenv("MMTOOL_LOCAL")
    assert local_endpoint("http://127.0.0.1:5000") is None


def test_an_action_moto_lacks_is_an_aws_error_at_once_not_a_retried_html_page(server):
    import boto3
    from botocore.exceptions import ClientError

    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=server.url,
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    with pytest.raises(ClientError) as raised:
        sagemaker.list_monitoring_schedules()
    error = raised.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert "ListMonitoringSchedules" in error["Error"]["Message"] and "<" not in error["Error"]["Message"]
    assert error["ResponseMetadata"]["RetryAttempts"] == 0


def test_make_help_lists_the_everyday_commands_apart_from_the_maintainer_ones():
    text = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    everyday, maintainers = text.split("\nMaintainers")
    listed = lambda part: set(re.findall(r"^  ([a-z-]+) ", part, flags=re.M))  # noqa: E731
    assert {"build", "plan", "deploy", "destroy", "outputs", "status", "local-up", "local-down"} <= listed(everyday)
    assert {"test", "snapshots", "lock", "bench", "docs"} <= listed(maintainers)
    assert not listed(everyday) & listed(maintainers)
    assert "\x1b[" not in text


def test_a_create_change_set_lists_only_resources_whose_condition_holds(server):
    """moto listed every resource of the template; CloudFormation creates only those whose Condition holds, and
    the apply summary counts what the change set lists (deployer/moto_server.py)."""
    import boto3

    template = {
        "Parameters": {"Wanted": {"Type": "String", "AllowedValues": ["yes", "no"]}},
        "Conditions": {"IsWanted": {"Fn::Equals": [{"Ref": "Wanted"}, "yes"]}},
        "Resources": {
            "Always": {"Type": "AWS::SNS::Topic"},
            "OnlyIfWanted": {"Type": "AWS::SNS::Topic", "Condition": "IsWanted"},
        },
    }
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1", endpoint_url=server.url,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
    listed = {}
    for wanted in ("yes", "no"):
        made = cloudformation.create_change_set(StackName=f"conditions-{wanted}", ChangeSetName="c1",
                                                ChangeSetType="CREATE", TemplateBody=json.dumps(template),
                                                Parameters=[{"ParameterKey": "Wanted", "ParameterValue": wanted}])
        changes = cloudformation.describe_change_set(ChangeSetName=made["Id"])["Changes"]
        listed[wanted] = sorted(c["ResourceChange"]["LogicalResourceId"] for c in changes)
    assert listed == {"yes": ["Always", "OnlyIfWanted"], "no": ["Always"]}
