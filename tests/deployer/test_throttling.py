"""Throttling: the retry modes and budget of the clients, and the polling loops that outlast AWS throttling
after botocore's own retries (botocore Stubber: the exact sequence of answers is the point; a stubbed
error is not retried by botocore, so each Throttling below reaches the engine's loop)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from botocore.stub import Stubber
from rich.console import Console

from deployer import cli
from deployer.aws import MAX_ATTEMPTS_LIMIT, client_config
from deployer.changesets import wait_created
from deployer.context import Context, Options
from deployer.drift import detect
from deployer.errors import InputError, ThrottledError
from deployer.events import THROTTLED_READS, wait_stable
from deployer.manifest import load_manifest
from deployer.reporter import Reporter

from .conftest import make_clients
from .envs import foundation_env

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)
NAME = "churn-test-foundation"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{NAME}/0f0e0d0c"
CHANGE_SET_ID = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/mmtool-x/1a2b3c"


@pytest.fixture
def ctx(tmp_path) -> Any:
    clients = make_clients("http://stubbed.invalid")
    stub = Stubber(clients.cloudformation)
    stub.activate()
    console = Console(file=io.StringIO(), width=200, color_system=None, force_terminal=False)
    context = Context(
        manifest=load_manifest(foundation_env(tmp_path).manifest_path), clients=clients, reporter=Reporter(console),
        options=Options(poll_min=0.001, poll_max=0.001),
    )
    yield context, stub
    stub.deactivate()


def throttled(stub: Stubber, operation: str, times: int) -> None:
    for _ in range(times):
        stub.add_client_error(operation, service_error_code="Throttling", service_message="Rate exceeded", http_status_code=400)


def stack(status: str) -> dict[str, Any]:
    return {"Stacks": [{"StackId": STACK_ID, "StackName": NAME, "CreationTime": NOW, "StackStatus": status}]}


def event(event_id: str, status: str) -> dict[str, Any]:
    return {"StackEvents": [{"StackId": STACK_ID, "EventId": event_id, "StackName": NAME, "LogicalResourceId": NAME,
                             "ResourceType": "AWS::CloudFormation::Stack", "Timestamp": NOW, "ResourceStatus": status}]}


def test_cloudformation_is_adaptive_and_every_budget_bounded():
    clients = make_clients("http://unused.invalid", max_attempts=7)
    assert clients.cloudformation.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    # ExecuteChangeSet's client is never retried; the other services are in the standard mode
    assert clients.cloudformation_once.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert clients.sts.meta.config.retries == {"mode": "standard", "total_max_attempts": 7}
    with pytest.raises(InputError, match=f"--max-attempts=50: must be 1-{MAX_ATTEMPTS_LIMIT}"):
        client_config(50)


@pytest.mark.parametrize("flag", [["--max-attempts", "0"], ["--max-attempts", "21"], ["--max-parallel", "0"], ["--max-parallel", "x"]])
def test_out_of_range_flags_are_usage_errors(tmp_path, flag, capsys):
    env = foundation_env(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["plan", "--manifest", str(env.manifest_path), *flag])
    assert exit_.value.code == 2
    assert f"argument {flag[0]}" in capsys.readouterr().err


def test_wait_reads_again_after_throttling(ctx):
    context, stub = ctx
    throttled(stub, "describe_stacks", 2)
    stub.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"))
    throttled(stub, "describe_stack_events", 1)
    stub.add_response("describe_stack_events", event("e1", "CREATE_IN_PROGRESS"))
    stub.add_response("describe_stacks", stack("CREATE_COMPLETE"))
    stub.add_response("describe_stack_events", event("e2", "CREATE_COMPLETE"))

    result = wait_stable(context, NAME, STACK_ID, marker=None)

    assert result.status == "CREATE_COMPLETE"
    stub.assert_no_pending_responses()  # every throttled read was read again
    out = context.reporter.console.file.getvalue()
    assert out.count("AWS is throttling our reads; polling more slowly") == 2  # once per throttled stretch


def test_wait_gives_up_after_throttled_reads_in_a_row(ctx):
    context, stub = ctx
    throttled(stub, "describe_stacks", THROTTLED_READS)

    with pytest.raises(ThrottledError) as error:
        wait_stable(context, NAME, STACK_ID, marker=None)

    stub.assert_no_pending_responses()
    assert f"{NAME}: DescribeStacks was throttled by AWS" in str(error.value)
    assert "Next: wait a minute and run the command again" in str(error.value)


def test_change_set_wait_and_drift_detection_read_again_after_throttling(ctx):
    context, stub = ctx
    throttled(stub, "describe_change_set", 1)
    stub.add_response("describe_change_set", {"ChangeSetId": CHANGE_SET_ID, "StackId": STACK_ID, "Status": "CREATE_COMPLETE",
                                              "ExecutionStatus": "AVAILABLE", "Changes": []})
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-1"})
    throttled(stub, "describe_stack_drift_detection_status", 2)
    stub.add_response("describe_stack_drift_detection_status", {
        "StackId": STACK_ID, "StackDriftDetectionId": "d-1", "DetectionStatus": "DETECTION_COMPLETE",
        "StackDriftStatus": "IN_SYNC", "Timestamp": NOW})
    stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": []})

    assert wait_created(context, CHANGE_SET_ID, label=NAME)["Status"] == "CREATE_COMPLETE"
    assert detect(context, NAME).status == "IN_SYNC"
    stub.assert_no_pending_responses()
