"""The environment lock (deployer/lock.py): two real ``python -m deployer`` processes against the moto server.

To keep the first run inside its lock long enough, its stack is forced into UPDATE_IN_PROGRESS before it
starts (it waits for that operation, holding the lock); the test then lets the stack settle.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.lock import Holder, LockedError, claims, hold, legacy_name

from .conftest import force, run
from .envs import ENVIRONMENT, PROJECT, REGION, foundation_env

REPO = Path(__file__).resolve().parents[2]
LOCK = legacy_name(PROJECT, ENVIRONMENT)  # where a lock of an earlier version (or by hand) is


@pytest.fixture
def ssm(aws: Any) -> Any:
    return boto3.client("ssm", region_name=REGION, endpoint_url=aws.url)


class Run:
    """``python -m deployer <command>`` in its own process, output in a file."""

    def __init__(self, tmp: Path, name: str, url: str, command: str, manifest: Path, *extra: str) -> None:
        self.log = tmp / f"{name}.log"
        self._file = self.log.open("wb")
        args = [sys.executable, "-m", "deployer", command, "--manifest", str(manifest), "--endpoint-url", url, *extra]
        self.process = subprocess.Popen(args, cwd=REPO, stdout=self._file, stderr=subprocess.STDOUT,
                                        env={**os.environ, "COLUMNS": "200"})

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._file.close()

    def wait_for_output(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; output:\n{self.text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._file.close()


def lock_holder(ssm: Any, endpoint: str | None = None) -> Holder | None:
    """The oldest claim on the environment (or on ``endpoint``), whatever its name."""
    found = [c for c in claims(ssm, PROJECT, ENVIRONMENT) if c.endpoint == endpoint]
    return found[0].holder if found else None


def wait_for_lock_of(ssm: Any, pid: int, run_: Run, timeout: float = 30) -> Holder:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = lock_holder(ssm)
        if holder is not None and holder.pid == pid:
            return holder
        if run_.process.poll() is not None:
            raise AssertionError(f"the run ended without taking the lock:\n{run_.text()}")
        time.sleep(0.1)
    raise AssertionError(f"pid {pid} never took the lock:\n{run_.text()}")


@pytest.fixture
def busy_env(tmp_path, clients, aws):
    """Deployed once; the next deploy has a change; the stack is busy (another operation) until released."""
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    force(aws, env.stack_name("foundation"), status="UPDATE_IN_PROGRESS")
    runs: list[Run] = []
    yield env, runs
    for r in runs:
        r.kill()


def updates_of(cf: Any, name: str) -> int:
    events = cf.describe_stack_events(StackName=name)["StackEvents"]
    return sum(1 for e in events if e["LogicalResourceId"] == name and e["ResourceStatus"] == "UPDATE_IN_PROGRESS")


def test_a_second_deploy_fails_at_once_or_waits_and_they_never_interleave(busy_env, tmp_path, aws, ssm, cf):
    env, runs = busy_env
    name = env.stack_name("foundation")
    first = Run(tmp_path, "first", aws.url, "deploy", env.manifest_path, "--yes")
    runs.append(first)
    holder = wait_for_lock_of(ssm, first.pid, first)
    assert holder.who.startswith("arn:aws:") and holder.operation == "deploy"
    assert holder.command.startswith("python -m deployer deploy --manifest ") and holder.command.endswith("--yes")
    assert holder.since.endswith("+00:00")

    at_once = Run(tmp_path, "at-once", aws.url, "deploy", env.manifest_path, "--yes")
    runs.append(at_once)
    assert at_once.wait(30) == 6, at_once.text()
    refused = at_once.text()
    assert f"{PROJECT} {ENVIRONMENT} is locked: another run is changing this environment." in refused
    assert f"held by {holder.who} on host {holder.host} (pid {first.pid}) since {holder.since}" in refused
    assert "Nothing was changed." in refused and "--wait-for-lock SECONDS" in refused
    assert f"python -m deployer unlock --manifest {env.manifest_path}" in refused

    waiting = Run(tmp_path, "waiting", aws.url, "deploy", env.manifest_path, "--yes", "--wait-for-lock", "60")
    runs.append(waiting)
    waiting.wait_for_output("is locked by another run; waiting up to 60 s for it (--wait-for-lock)")
    assert lock_holder(ssm).pid == first.pid  # the waiting run did not take it

    force(aws, name, status="UPDATE_COMPLETE")  # the other operation ends: the first run goes on
    assert first.wait() == 0, first.text()
    assert waiting.wait() == 0, waiting.text()
    assert 'CaptureRetentionDays: "14" → "21"' in first.text()
    later = waiting.text()
    assert "lock taken after waiting" in later
    # it planned only after the first run had finished: nothing left to do. Without the lock both runs
    # would have planned the same change while the stack was busy, and both executed it.
    assert "No changes." in later
    assert updates_of(cf, name) == 1
    assert lock_holder(ssm) is None


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_releases_the_lock(busy_env, tmp_path, aws, ssm, signum):
    env, runs = busy_env
    first = Run(tmp_path, "first", aws.url, "deploy", env.manifest_path, "--yes")
    runs.append(first)
    wait_for_lock_of(ssm, first.pid, first)
    first.wait_for_output("waiting for it")  # inside the run, waiting on the busy stack

    first.process.send_signal(signum)

    assert first.wait(30) == 130, first.text()
    assert "Nothing was cancelled" in first.text()
    assert lock_holder(ssm) is None


def test_lock_of_a_killed_run_is_shown_as_stale_and_removed_by_unlock(busy_env, tmp_path, aws, ssm, clients):
    env, runs = busy_env
    first = Run(tmp_path, "first", aws.url, "deploy", env.manifest_path, "--yes")
    runs.append(first)
    wait_for_lock_of(ssm, first.pid, first)
    first.kill()  # kill -9: no chance to release
    force(aws, env.stack_name("foundation"), status="UPDATE_COMPLETE")

    refused = run("deploy", env.manifest_path, clients)
    assert refused.code == 6
    assert f"process {first.pid} no longer runs on this host: the lock is stale" in str(refused.error)

    declined = run("unlock", env.manifest_path, clients, answers=["no"])
    assert declined.code == 3 and "The lock was kept" in str(declined.error)
    assert f"(pid {first.pid})" in declined.out
    assert lock_holder(ssm) is not None

    removed = run("unlock", env.manifest_path, clients, answers=["yes"])
    assert removed.code == 0, removed.text
    assert "Only 'yes' is accepted" in removed.out and "lock removed" in removed.out
    assert lock_holder(ssm) is None
    assert run("deploy", env.manifest_path, clients).code == 0


def test_unlock_without_a_lock_and_with_yes(tmp_path, clients, ssm):
    env = foundation_env(tmp_path)
    nothing = run("unlock", env.manifest_path, clients, answers=[])
    assert nothing.code == 0 and "is not locked" in nothing.out
    ssm.put_parameter(Name=LOCK, Value="held by hand", Type="String")
    assert run("unlock", env.manifest_path, clients, yes=True).code == 0  # --yes: no question
    assert lock_holder(ssm) is None


def test_read_only_commands_take_no_lock(tmp_path, clients, ssm):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    ssm.put_parameter(Name=LOCK, Value=Holder.mine("arn:aws:iam::123456789012:user/other", "deploy").to_value(),
                      Type="String")

    assert run("plan", env.manifest_path, clients).code == 0
    assert run("outputs", env.manifest_path, clients).code == 0
    destroy = run("destroy", env.manifest_path, clients)
    assert destroy.code == 6 and "user/other" in str(destroy.error)  # destroy does take it
    assert lock_holder(ssm).who == "arn:aws:iam::123456789012:user/other"  # and leaves another's lock alone


def test_wait_for_lock_gives_up_after_the_given_seconds(tmp_path, clients, ssm):
    ssm.put_parameter(Name=LOCK, Value=Holder.mine("arn:aws:iam::123456789012:user/other", "deploy").to_value(),
                      Type="String")
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(LockedError) as caught:
        with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="me", operation="deploy",
                  wait_seconds=1.0, say=said.append, poll_seconds=0.2):
            raise AssertionError("the body must not run")
    assert 1.0 <= time.monotonic() - started < 10
    assert "(waited 1" in str(caught.value) and "user/other" in str(caught.value)
    assert any("waiting up to 1 s" in line for line in said)


def test_taking_the_lock_again_inside_the_run_is_a_no_op(clients, ssm):
    """The catalog publishing holds the lock and deploys the catalog stack through deploy, which takes it."""
    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="me", operation="catalog") as outer:
        with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="me", operation="deploy") as inner:
            assert inner is None
        holder = lock_holder(ssm)
        assert holder is not None and holder.token == outer.token  # still held by the outer run
    assert lock_holder(ssm) is None


def test_lock_value_is_json_with_who_where_since_and_command():
    holder = Holder.mine("arn:aws:sts::123456789012:assumed-role/ci/run-7", "deploy")
    data = json.loads(holder.to_value())
    assert set(data) == {"who", "host", "pid", "since", "command", "operation", "token"}
    assert Holder.from_value(holder.to_value()) == holder
    assert Holder.from_value("not json").who.startswith("(unknown")


# --- a fleet: one lock per endpoint changed alone, exclusive with the environment's --------------------------


def endpoint_lock(ssm: Any, key: str) -> Holder | None:
    return lock_holder(ssm, key)


def test_runs_on_different_endpoints_go_on_side_by_side(clients, ssm):
    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="team-a", operation="deploy", endpoint="a"):
        with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="team-b", operation="deploy", endpoint="b"):
            assert (endpoint_lock(ssm, "a").who, endpoint_lock(ssm, "b").who) == ("team-a", "team-b")
            assert lock_holder(ssm) is None  # the environment's lock is not taken
        assert endpoint_lock(ssm, "b") is None
    assert endpoint_lock(ssm, "a") is None


def test_a_whole_environment_run_and_an_endpoint_run_exclude_each_other(clients, ssm):
    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="platform", operation="deploy"):
        with pytest.raises(LockedError) as caught:
            with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="team-a", operation="deploy",
                      endpoint="a"):
                raise AssertionError("the body must not run")
        assert endpoint_lock(ssm, "a") is None  # given back
    message = str(caught.value)
    assert "endpoint a is locked: another run is changing the whole environment" in message
    assert "held by platform" in message and f"make unlock ENV={ENVIRONMENT}`" in message

    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="team-a", operation="deploy", endpoint="a"):
        with pytest.raises(LockedError) as caught:
            with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="platform", operation="deploy"):
                raise AssertionError("the body must not run")
        assert lock_holder(ssm) is None  # given back
    message = str(caught.value)
    assert "is locked: another run is changing endpoint a of this environment" in message
    assert "held by team-a" in message and f"make unlock ENV={ENVIRONMENT} ENDPOINT=a`" in message


def test_an_endpoint_run_waits_for_the_environments_run(clients, ssm):
    ssm.put_parameter(Name=LOCK, Value=Holder.mine("platform", "deploy").to_value(), Type="String")
    said: list[str] = []
    with pytest.raises(LockedError) as caught:
        with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="team-a", operation="deploy", endpoint="a",
                  wait_seconds=0.6, say=said.append, poll_seconds=0.2):
            raise AssertionError("the body must not run")
    assert "(waited 0.6" in str(caught.value) and any("waiting up to 0.6 s" in line for line in said)
    ssm.delete_parameter(Name=LOCK)
    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="team-a", operation="deploy", endpoint="a"):
        assert endpoint_lock(ssm, "a").who == "team-a"


def test_deploy_of_one_endpoint_takes_its_lock_and_unlock_removes_an_endpoints_lock(tmp_path, clients, ssm):
    from .envs import fleet_env

    env = fleet_env(tmp_path, ["a", "b"])
    assert run("deploy", env.manifest_path, clients).code == 0  # the shared stacks exist: endpoints deploy alone
    ssm.put_parameter(Name=legacy_name(PROJECT, ENVIRONMENT, "a"),
                      Value=Holder.mine("arn:aws:iam::123456789012:user/team-a", "deploy").to_value(), Type="String")
    blocked = run("deploy", env.manifest_path, clients, endpoint="a")
    assert blocked.code == 6 and "endpoint a is locked" in str(blocked.error)
    assert run("deploy", env.manifest_path, clients, endpoint="b").code == 0  # another endpoint goes on
    whole = run("deploy", env.manifest_path, clients)
    assert whole.code == 6 and "changing endpoint a of this environment" in str(whole.error)

    hint = run("unlock", env.manifest_path, clients, yes=True)
    assert hint.code == 0 and "is not locked" in hint.out and f"make unlock ENV={ENVIRONMENT} ENDPOINT=a" in hint.out
    removed = run("unlock", env.manifest_path, clients, yes=True, endpoint="a")
    assert removed.code == 0 and "lock removed" in removed.out and endpoint_lock(ssm, "a") is None
    typo = run("unlock", env.manifest_path, clients, yes=True, endpoint="nope")  # not "not locked": a typo
    assert typo.code != 0 and "no such endpoint in this build (known endpoints: a, b)" in str(typo.error)
    assert run("deploy", env.manifest_path, clients).code == 0
