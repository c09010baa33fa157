"""A fleet against the moto server: shared stacks, then per endpoint an endpoint stack (created ones) and
a monitoring stack, written by hand the way the build writes them (envs.fleet_env).

What the engine promises for a fleet, each test one promise: independent stacks really run at the same
time, never more than --max-parallel of them, never before their prerequisites; one failing endpoint
stops only what depends on it, and the summary says where every stack stands and what continues;
destroy goes in reverse dependency order with the same bound; --endpoint KEY acts on one endpoint's
stacks only, after checking the shared ones it needs.

moto executes a change set at once (the stack is CREATE_COMPLETE when ExecuteChangeSet answers), which
would leave no in-progress window to overlap. :func:`hold_in_progress` makes every stack read as
``*_IN_PROGRESS`` for HOLD seconds after its ExecuteChangeSet (or DeleteStack), as CloudFormation's
stacks are for minutes; the engine's scheduling, which is what is tested, is untouched.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest

from .conftest import Call, CallLog, answer, force, run
from .envs import ENVIRONMENT, PROJECT, fleet_env

HOLD = 0.25  # seconds a stack reads as in progress after its operation started
CREATED = ["churn", "fraud", "risk", "upsell"]
ADOPTED = ["ranking", "search"]


def stack_of(call: Call) -> str:
    """The stack name a call is about (by name or by stack id ARN: arn:...:stack/<name>/<uuid>)."""
    name = call.params.get("StackName", "")
    return name.split("/")[1] if name.startswith("arn:") else name


def hold_in_progress(clients: Any) -> None:
    started: dict[str, float] = {}
    lock = threading.Lock()

    def note(params: dict[str, Any], **_: Any) -> None:
        name = params["StackName"]
        with lock:
            started[name.split("/")[1] if name.startswith("arn:") else name] = time.monotonic()

    def still_working(parsed: dict[str, Any], **_: Any) -> None:
        for stack in parsed.get("Stacks", []):
            with lock:
                since = started.get(stack["StackName"])
            status = stack["StackStatus"]
            if since is not None and time.monotonic() - since < HOLD and status.endswith("_COMPLETE"):
                stack["StackStatus"] = status.replace("_COMPLETE", "_IN_PROGRESS")

    clients.cloudformation_once.meta.events.register("before-parameter-build.cloudformation.ExecuteChangeSet", note)
    clients.cloudformation.meta.events.register("before-parameter-build.cloudformation.DeleteStack", note)
    clients.cloudformation.meta.events.register("after-call.cloudformation.DescribeStacks", still_working)


def windows(log: CallLog, start_operation: str) -> dict[str, tuple[int, int]]:
    """Per stack: (position of the call that started its operation, position of its last DescribeStacks)
    in the call log: the window in which the engine had the stack in flight."""
    spans: dict[str, tuple[int, int]] = {}
    for i, call in enumerate(log.calls):
        name = stack_of(call)
        if call.operation == start_operation and name not in spans:
            spans[name] = (i, i)
        elif call.operation == "DescribeStacks" and name in spans:
            spans[name] = (spans[name][0], i)
    return spans


def most_at_once(spans: dict[str, tuple[int, int]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans.values()] + [(b, -1) for _, b in spans.values()], key=lambda e: (e[0], -e[1]))
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def overlapping(spans: dict[str, tuple[int, int]]) -> set[frozenset[str]]:
    names = sorted(spans)
    return {frozenset((a, b)) for a in names for b in names
            if a < b and spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]}


def stack_name(key: str) -> str:
    return f"{PROJECT}-{ENVIRONMENT}-{key}"


@pytest.mark.parametrize("limit", [2, 4])
def test_fleet_deploy_is_parallel_bounded_and_in_dependency_order(tmp_path, clients, calls: CallLog, limit):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    hold_in_progress(clients)

    result = run("deploy", env.manifest_path, clients, max_parallel=limit)

    assert result.code == 0, result.text
    spans = windows(calls, "ExecuteChangeSet")
    manifest = json.loads(env.manifest_path.read_text())
    assert set(spans) == {s["stack_name"] for s in manifest["stacks"]}  # every stack was deployed
    # concurrency actually happened: endpoint stacks of different endpoints were in flight together
    assert frozenset((stack_name("churn-endpoint"), stack_name("fraud-endpoint"))) in overlapping(spans)
    assert most_at_once(spans) == limit  # ... up to the bound, never past it
    for entry in manifest["stacks"]:  # and never before a prerequisite had finished
        for dep in entry["depends_on"]:
            assert spans[stack_name(dep)][1] < spans[entry["stack_name"]][0], (dep, entry["name"])
    # the lines of stacks in flight together each name their stack
    events = [line.split() for line in result.out.splitlines() if re.match(r"\d\d:\d\d ", line)]
    assert len(events) > len(spans) and all(words[1] in spans for words in events)


def test_plan_creates_change_sets_in_parallel_within_the_bound(tmp_path, clients, aws):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    assert run("deploy", env.manifest_path, clients).code == 0
    for key in [*CREATED, *ADOPTED]:  # every monitoring stack changes
        env.parameters[f"{key}-monitoring"]["SamplingPercentage"] = "50"
    env.write()
    inflight, peak, lock = [0], [0], threading.Condition()

    def enter(**_: Any) -> None:
        # CreateChangeSet takes seconds on AWS: each call waits (at most 2 s) for others to join it, so the calls
        # meet however loaded the machine is; a pool that ran them one at a time would never reach 3
        with lock:
            inflight[0] += 1
            peak[0] = max(peak[0], inflight[0])
            lock.notify_all()
            lock.wait_for(lambda: inflight[0] >= 3, timeout=2.0)

    def leave(**_: Any) -> None:
        with lock:
            inflight[0] -= 1

    clients.cloudformation.meta.events.register("before-call.cloudformation.CreateChangeSet", enter)
    clients.cloudformation.meta.events.register("after-call.cloudformation.CreateChangeSet", leave)

    result = run("plan", env.manifest_path, clients, max_parallel=3)

    assert result.code == 0, result.text
    assert peak[0] == 3  # six change sets, three at a time
    assert result.out.count("update (change set") == len(CREATED) + len(ADOPTED)


def fail_on_execute(aws: Any, clients: Any, name: str) -> None:
    """The create of ``name`` fails the way CloudFormation's does: rollback, then ROLLBACK_COMPLETE."""

    def mark(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["stack"] = params["StackName"]

    def fail(context: dict[str, Any], **_: Any) -> None:
        if context.get("stack") == name:
            force(aws, name, status="ROLLBACK_COMPLETE", events=[
                {"logical_id": "EndpointNameParameter", "type": "AWS::SSM::Parameter", "status": "CREATE_FAILED",
                 "reason": "ParameterAlreadyExists"}])

    clients.cloudformation_once.meta.events.register("before-parameter-build.cloudformation.ExecuteChangeSet", mark)
    clients.cloudformation_once.meta.events.register("after-call.cloudformation.ExecuteChangeSet", fail)


def test_one_failing_endpoint_stops_only_its_own_stacks(tmp_path, clients, aws, cf, calls: CallLog):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    fail_on_execute(aws, clients, stack_name("fraud-endpoint"))

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    for key in ["churn-endpoint", "churn-monitoring", "risk-monitoring", "upsell-monitoring", "ranking-monitoring"]:
        assert cf.describe_stacks(StackName=stack_name(key))["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE", key
    assert f"{stack_name('fraud-monitoring')}: not started ({stack_name('fraud-endpoint')} failed)" in result.out
    assert stack_name("fraud-monitoring") not in {stack_of(c) for c in calls.of("CreateChangeSet")}
    message = str(result.error)
    assert "EndpointNameParameter (AWS::SSM::Parameter) CREATE_FAILED: ParameterAlreadyExists" in message
    assert "Where things stand: 11 deployed, 1 failed, 1 not started." in message
    assert "Continue: make deploy ENV=test ENDPOINT=fraud" in message  # everything else is done


def test_destroy_is_reverse_order_and_bounded(tmp_path, clients, calls: CallLog):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    assert run("deploy", env.manifest_path, clients).code == 0
    hold_in_progress(clients)

    result = run("destroy", env.manifest_path, clients, max_parallel=3)

    assert result.code == 0, result.text
    spans = windows(calls, "DeleteStack")
    assert len(spans) == 3 + len(CREATED) * 2 + len(ADOPTED)
    assert most_at_once(spans) == 3
    manifest = json.loads(env.manifest_path.read_text())
    for entry in manifest["stacks"]:  # a stack goes only after every stack that depends on it
        for dep in entry["depends_on"]:
            assert spans[entry["stack_name"]][1] < spans[stack_name(dep)][0], (entry["name"], dep)


# -- --endpoint KEY ------------------------------------------------------------------------------------


def test_endpoint_before_the_shared_stacks_exist_is_refused_with_the_command(tmp_path, clients, calls: CallLog):
    env = fleet_env(tmp_path, CREATED, ADOPTED)

    result = run("deploy", env.manifest_path, clients, endpoint="churn")

    assert result.code == 3
    message = str(result.error)
    assert f"{stack_name('foundation')} is not deployed; {stack_name('network')} is not deployed" in message
    assert "Next: deploy the whole environment first (`make deploy ENV=test`" in message
    assert "then `make deploy ENV=test ENDPOINT=churn` deploys this endpoint's stacks alone" in message
    assert calls.count("CreateChangeSet") == 0


def test_unknown_endpoint_names_the_known_ones(tmp_path, clients, calls: CallLog):
    env = fleet_env(tmp_path, CREATED, ADOPTED)

    result = run("plan", env.manifest_path, clients, endpoint="churm")

    assert result.code == 2
    assert "--endpoint churm: no such endpoint in this build (known endpoints: churn, fraud, risk, upsell, ranking, search)" in str(result.error)
    assert calls.calls == []  # decided before any AWS call


def test_endpoint_deploys_only_that_endpoints_stacks(tmp_path, clients, cf, calls: CallLog):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    assert run("deploy", env.manifest_path, clients).code == 0
    for key in ("churn", "fraud"):
        env.parameters[f"{key}-monitoring"]["SamplingPercentage"] = "75"
    env.write()
    calls.calls.clear()

    result = run("deploy", env.manifest_path, clients, endpoint="churn")

    assert result.code == 0, result.text
    touched = {stack_of(c) for c in calls.calls if c.service == "cloudformation" and "StackName" in c.params}
    # its own stacks, and the shared ones it depends on (read only, to check they are deployed)
    assert touched == {stack_name(n) for n in ("churn-endpoint", "churn-monitoring", "foundation", "network")}
    assert {stack_of(c) for c in calls.of("CreateChangeSet")} == {stack_name("churn-monitoring")}
    assert "Plan for churn test, endpoint churn only" in result.out

    def sampling(key: str) -> str:
        params = cf.describe_stacks(StackName=stack_name(f"{key}-monitoring"))["Stacks"][0]["Parameters"]
        return next(p["ParameterValue"] for p in params if p["ParameterKey"] == "SamplingPercentage")

    assert sampling("churn") == "75" and sampling("fraud") == "20"  # fraud waits for its own deploy


def test_endpoint_destroy_removes_only_that_endpoint_after_typing_its_key(tmp_path, clients, cf, calls: CallLog):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    assert run("deploy", env.manifest_path, clients).code == 0
    calls.calls.clear()

    refused = run("destroy", env.manifest_path, clients, endpoint="fraud", answers=[ENVIRONMENT])
    result = run("destroy", env.manifest_path, clients, endpoint="fraud", answers=["fraud"])

    assert refused.code == 3 and "Type the endpoint's key (fraud)" in refused.out
    assert result.code == 0, result.text
    deleted = [stack_of(c) for c in calls.of("DeleteStack")]
    assert deleted == [stack_name("fraud-monitoring"), stack_name("fraud-endpoint")]  # monitoring first
    assert "The shared stacks (churn-test-foundation, churn-test-network) and the other endpoints stay." in result.out
    alive = {s["StackName"] for s in cf.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"}
    assert stack_name("churn-monitoring") in alive and stack_name("foundation") in alive
    assert stack_name("fraud-endpoint") not in alive


def test_endpoint_outputs_and_drift_cover_only_that_endpoint(tmp_path, clients, capsys):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    assert run("deploy", env.manifest_path, clients).code == 0
    capsys.readouterr()
    cf = clients.cloudformation
    detected = answer(cf, "DetectStackDrift", {"StackDriftDetectionId": "d-1"})
    answer(cf, "DescribeStackDriftDetectionStatus", {
        "StackId": "s", "StackDriftDetectionId": "d-1", "DetectionStatus": "DETECTION_COMPLETE",
        "StackDriftStatus": "IN_SYNC", "Timestamp": "2026-11-25T10:00:00Z"})
    answer(cf, "DescribeStackResourceDrifts", {"StackResourceDrifts": []})

    outputs = run("outputs", env.manifest_path, clients, endpoint="ranking", json_output=True)
    printed = json.loads(capsys.readouterr().out)
    drift = run("drift", env.manifest_path, clients, endpoint="churn")

    assert outputs.code == 0 and printed == {"ranking-monitoring": {"MonitoredEndpoint": "ranking-scoring-by-another-team"}}
    assert drift.code == 0, drift.text
    assert sorted(d["StackName"] for d in detected) == [stack_name("churn-endpoint"), stack_name("churn-monitoring")]


def test_failures_in_two_endpoints_continue_with_the_whole_run_naming_both(tmp_path, clients, aws):
    env = fleet_env(tmp_path, CREATED, ADOPTED)
    fail_on_execute(aws, clients, stack_name("fraud-endpoint"))
    fail_on_execute(aws, clients, stack_name("upsell-endpoint"))

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    message = str(result.error)
    assert "Where things stand: 9 deployed, 2 failed, 2 not started." in message
    assert "Continue: make deploy ENV=test (or one endpoint at a time, --endpoint / ENDPOINT=: fraud, upsell)" in message
