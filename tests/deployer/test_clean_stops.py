"""Clean stops and a fair lock (deployer/stops.py, deployer/lock.py), with real ``python -m deployer`` processes,
real signals, and the moto server behind a proxy that answers at API-like latency (latency_proxy.py)."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import boto3
import pytest

from deployer.lock import Holder, LockedError, claim_name, claims, hold, unlock
from deployer.stops import changes_account

from .conftest import run
from .envs import ENVIRONMENT, PROJECT, REGION, fleet_env, ssm_param
from .latency_proxy import LatencyProxy
from .test_lock import Run

CHANGING = ("CreateChangeSet", "ExecuteChangeSet", "DeleteStack", "ContinueUpdateRollback", "PutObject",
            "SetStackPolicy", "UpdateTerminationProtection", "DeleteNetworkInterface")


@pytest.fixture
def ssm(aws: Any) -> Any:
    return boto3.client("ssm", region_name=REGION, endpoint_url=aws.url)


@pytest.fixture
def fleet(tmp_path, clients):
    """Two endpoints deployed; then both monitoring stacks have a change (two change sets to execute)."""
    env = fleet_env(tmp_path / "build", created=["a", "b"])
    assert run("deploy", env.manifest_path, clients).code == 0
    for key in ("a", "b"):
        env.parameters[f"{key}-monitoring"]["SamplingPercentage"] = "50"
    env.write()
    runs: list[Run] = []
    yield env, runs
    for r in runs:
        r.kill()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT],
                         ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"])
def test_a_signal_starts_nothing_new_and_releases_the_lock_after_the_calls_in_flight(fleet, tmp_path, aws, ssm, signum):
    env, runs = fleet
    slow = {"ExecuteChangeSet": 2.0}  # CloudFormation took the change set; its answer takes 2 s to come back
    with LatencyProxy(aws.url, lambda op: slow.get(op, 0.02)) as proxy:
        deploy = Run(tmp_path, "deploy", proxy.url, "deploy", env.manifest_path, "--yes", "--max-parallel", "1")
        runs.append(deploy)
        in_flight = proxy.wait_for("ExecuteChangeSet")
        deploy.process.send_signal(signum)
        signalled = time.monotonic()

        assert deploy.wait(60) == 130, deploy.text()
        calls = list(proxy.calls)

    name = signal.Signals(signum).name
    text = deploy.text()
    assert f"Interrupted ({name})" in text and "Resume:" in text
    assert "no new operation was started after the interrupt" in text
    # the call in flight was answered before the lock was released
    released = [c for c in calls if c.operation == "DeleteParameter"]
    assert len(released) == 1 and in_flight.answered is not None and in_flight.answered <= released[0].arrived
    # nothing that changes the account was sent after the signal (the other stack's change set stays unexecuted)
    late = [c.operation for c in calls if c.arrived > signalled and changes_account("x", c.operation)
            and c.operation != "DeleteParameter"]
    assert late == [] or set(late) <= {"DeleteChangeSet"}, late
    assert len([c for c in calls if c.operation == "ExecuteChangeSet"]) == 1
    assert claims(ssm, PROJECT, ENVIRONMENT) == []


def test_an_environment_run_and_an_endpoint_run_started_together_both_finish(fleet, tmp_path, aws, ssm):
    """At API-like latency, with the holder busy for a few seconds: the two kinds of run never both give up."""
    env, runs = fleet
    latency = {"ExecuteChangeSet": 2.5}  # the holder stays busy longer than two processes take to start
    with LatencyProxy(aws.url, lambda op: latency.get(op, 0.05)) as proxy:
        whole = Run(tmp_path, "whole", proxy.url, "deploy", env.manifest_path, "--yes", "--wait-for-lock", "60")
        endpoint = Run(tmp_path, "endpoint", proxy.url, "deploy", env.manifest_path, "--yes", "--wait-for-lock", "60",
                       "--endpoint", "a")
        runs += [whole, endpoint]
        assert whole.wait(120) == 0, whole.text()
        assert endpoint.wait(120) == 0, endpoint.text()
    texts = whole.text() + endpoint.text()
    assert "lock taken after waiting" in texts  # they did meet; one waited for the other, then went on
    assert claims(ssm, PROJECT, ENVIRONMENT) == []


def test_a_younger_claimant_gives_its_claim_back_while_it_waits(clients, ssm):
    holder = Holder.mine("arn:aws:iam::123456789012:user/holder", "deploy")
    ssm.put_parameter(Name=claim_name(PROJECT, ENVIRONMENT, "a", holder.token), Value=holder.to_value(), Type="String")
    seen: list[list[str]] = []

    def watch(line: str) -> None:
        seen.append([c.holder.who for c in claims(ssm, PROJECT, ENVIRONMENT)])

    with pytest.raises(LockedError):
        with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="younger", operation="deploy",
                  wait_seconds=0.5, poll_seconds=0.1, say=watch):
            raise AssertionError("the body must not run")
    assert seen and all(who == ["arn:aws:iam::123456789012:user/holder"] for who in seen)
    assert [c.holder.who for c in claims(ssm, PROJECT, ENVIRONMENT)] == ["arn:aws:iam::123456789012:user/holder"]


def test_the_oldest_claimant_keeps_its_claim_while_it_waits(clients, ssm):
    """Fairness: of two runs that claim at the same moment, the older one stays first in line and goes on as soon as
    the younger has given its claim back; the younger then waits for it (it never both give up in step)."""
    younger = Holder.mine("arn:aws:iam::123456789012:user/younger", "deploy")
    younger_name = claim_name(PROJECT, ENVIRONMENT, "a", younger.token)
    planted: list[str] = []

    def plant(**_: Any) -> None:  # an endpoint run claims right after us, before we list the claims
        if not planted:
            time.sleep(0.01)
            ssm.put_parameter(Name=younger_name, Value=younger.to_value(), Type="String")
            planted.append(younger_name)

    clients.ssm.meta.events.register("after-call.ssm.PutParameter", plant)
    seen: list[list[str]] = []

    def watch(line: str) -> None:
        if "waiting up to" in line:
            seen.append(sorted(c.holder.who for c in claims(ssm, PROJECT, ENVIRONMENT)))
            ssm.delete_parameter(Name=younger_name)  # the younger run sees ours, older: gives its claim back

    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="older", operation="deploy", wait_seconds=5,
              poll_seconds=0.05, say=watch):
        assert [c.holder.who for c in claims(ssm, PROJECT, ENVIRONMENT)] == ["older"]
    assert seen == [["arn:aws:iam::123456789012:user/younger", "older"]]  # our claim stayed while we waited


def test_release_and_unlock_delete_only_the_claims_they_own(clients, ssm):
    """An unlock asked about one run's claim never deletes the claim another run takes meanwhile."""
    said: list[str] = []
    with hold(clients, project=PROJECT, environment=ENVIRONMENT, who="first", operation="deploy") as first:
        pass  # released
    second: list[Holder] = []

    stale = Holder.mine("arn:aws:iam::123456789012:user/dead-run", "deploy")
    ssm.put_parameter(Name=claim_name(PROJECT, ENVIRONMENT, None, stale.token), Value=stale.to_value(), Type="String")

    def ask(question: str) -> str:
        # while the person reads the question: the dead run's claim goes (removed by someone else), and a new
        # run takes the lock
        ssm.delete_parameter(Name=claim_name(PROJECT, ENVIRONMENT, None, stale.token))
        other = Holder.mine("arn:aws:iam::123456789012:user/new-run", "deploy")
        ssm.put_parameter(Name=claim_name(PROJECT, ENVIRONMENT, None, other.token), Value=other.to_value(),
                          Type="String")
        second.append(other)
        return "yes"

    assert unlock(clients, project=PROJECT, environment=ENVIRONMENT, yes=False, ask=ask, say=said.append) is False
    assert [c.holder.token for c in claims(ssm, PROJECT, ENVIRONMENT)] == [second[0].token]  # the new run's stays
    assert first is not None and first.token != second[0].token


def test_after_a_signal_no_call_that_changes_the_account_is_sent_in_any_thread(clients, cf):
    """The guard every client carries (deployer/stops.py): reads and the cleanup still go, changes are refused."""
    import os
    import threading

    from deployer.errors import Cancelled
    from deployer.stops import clean_stops

    cancel = threading.Event()
    outcome: dict[str, Any] = {}
    template = json.dumps({"Resources": {"P": ssm_param("/made/before", "x")}})
    made = cf.create_change_set(StackName="made-before", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=template)
    with clean_stops(cancel, say=lambda line: None):
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(5)  # the handler raises in the main thread long before
        assert cancel.is_set()

        def worker() -> None:  # a stack's thread, after the signal
            try:
                clients.cloudformation.create_stack(StackName="late", TemplateBody="{}")
            except Cancelled as exc:
                outcome["refused"] = str(exc)

        thread = threading.Thread(target=worker, name="stack_9")
        thread.start()
        thread.join()
        assert len(clients.cloudformation.describe_stacks()["Stacks"]) == 1  # a read still answers
        clients.cloudformation.delete_change_set(ChangeSetName=made["Id"])  # cleaning up is still sent
    assert outcome["refused"] == "CreateStack: not started, the run is stopping (SIGHUP)"
    assert [s["StackName"] for s in cf.describe_stacks()["Stacks"]] == ["made-before"]
    clients.ssm.put_parameter(Name="/after/the/run", Value="x", Type="String")  # the run ended: calls go again
