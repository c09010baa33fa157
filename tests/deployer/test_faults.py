"""The fault table of docs/deploying.md ("Faults a deploy can meet"), one test per row that has no test
elsewhere (the others are named in the table). Each runs the real engine against the moto server; where
moto cannot produce the fault (expired credentials, a KMS key S3 refuses, a change set CloudFormation
refuses, a network timeout) it is injected at the client, in the shape AWS answers with, and the test
checks what the tool says about the account and that the command it names does continue."""

from __future__ import annotations

from typing import Any, Callable

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from deployer.lock import claims

from .conftest import CallLog, after, all_clients, force, make_clients, run
from .envs import ENVIRONMENT, PROJECT, PREFIX, REGION, foundation_env, full_env

RESUME = "make deploy ENV=test"


def fail_calls(clients: Any, code: str, message: str, when: Callable[[str], bool], status: int = 400) -> list[str]:
    """Every call for which ``when(operation)`` is true answers with AWS error ``code`` (any protocol: the
    parsed error is handed to botocore as the service's answer). Returns the operations refused."""
    refused: list[str] = []

    def handler(model: Any, **_: Any) -> Any:
        if not when(model.name):
            return None
        refused.append(model.name)
        parsed = {"Error": {"Code": code, "Message": message},
                  "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "fault"}}
        return AWSResponse("http://fault", status, {}, None), parsed

    for client in all_clients(clients):
        client.meta.events.register_first("before-call", handler)
    return refused


def after_execute(clients: Any) -> Callable[[str], bool]:
    """True for every call made after an ExecuteChangeSet that CloudFormation accepted."""
    done: list[int] = []
    after(clients.cloudformation_once, "ExecuteChangeSet", lambda parsed, n: done.append(n))
    return lambda operation: bool(done)


def ssm_client(aws: Any) -> Any:
    return boto3.client("ssm", region_name=REGION, endpoint_url=aws.url)


def lock_exists(aws: Any) -> bool:
    return bool(claims(ssm_client(aws), PROJECT, ENVIRONMENT))


@pytest.fixture
def changed(tmp_path, clients):
    """The data stack deployed once, then a parameter changed: the next deploy executes one change set."""
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    return env


def test_throttling_past_the_budget_while_waiting_says_where_the_account_stands(changed, clients, aws, no_backoff):
    env = changed
    executed = after_execute(clients)
    fail_calls(clients, "Throttling", "Rate exceeded", lambda op: op == "DescribeStacks" and executed(op))

    result = run("deploy", env.manifest_path, clients, resume_command=RESUME)

    assert result.code == 1
    message = str(result.error)
    assert "DescribeStacks was throttled by AWS" in message
    assert "Where the account stands:" in message
    assert (f"{env.stack_name('foundation')}: its change was sent to CloudFormation, which carries on; the engine "
            "lost track of it") in message
    assert f"Continue: {RESUME}" in message
    assert "outcome unknown" in result.out
    assert not lock_exists(aws)  # released: the next run can go on at once
    again = run("deploy", env.manifest_path, make_clients(aws.url), resume_command=RESUME)
    assert again.code == 0 and "No changes." in again.out  # moto finished the update meanwhile


def test_credentials_expiring_mid_deploy(changed, clients, aws):
    env = changed
    fail_calls(clients, "ExpiredToken", "The security token included in the request is expired", after_execute(clients))

    result = run("deploy", env.manifest_path, clients, resume_command=RESUME)

    assert result.code == 2
    message = str(result.error)
    assert "AWS rejected the credentials: ExpiredToken" in message
    assert "Nothing was changed" not in message  # the change set was executed: that would be a lie
    assert f"{env.stack_name('foundation')}: its change was sent to CloudFormation, which carries on" in message
    assert f"Continue: {RESUME}" in message
    # the lock cannot be released with dead credentials: it stays, and the output says how to remove it
    assert "could not release the lock /churn/test/deployer/locks/environment/" in result.out
    assert "make unlock ENV=test" in result.out
    assert lock_exists(aws)

    fresh = make_clients(aws.url)  # `aws sso login`, then the commands the messages name
    assert run("deploy", env.manifest_path, fresh).code == 6
    assert run("unlock", env.manifest_path, fresh, yes=True).code == 0
    again = run("deploy", env.manifest_path, fresh)
    assert again.code == 0 and "No changes." in again.out, again.text


def test_update_whose_rollback_fails_during_the_run(changed, clients, aws):
    env = changed
    name = env.stack_name("foundation")
    after(clients.cloudformation_once, "ExecuteChangeSet", lambda parsed, n: force(aws, name, status="UPDATE_IN_PROGRESS"))

    def fail_then_fail_rollback(parsed: dict[str, Any], n: int) -> None:
        status = (parsed.get("Stacks") or [{}])[0].get("StackStatus")
        if status == "UPDATE_IN_PROGRESS":
            force(aws, name, status="UPDATE_ROLLBACK_IN_PROGRESS", events=[
                {"logical_id": "RetentionParameter", "type": "AWS::SSM::Parameter", "status": "UPDATE_FAILED",
                 "reason": "AccessDeniedException: ssm:PutParameter"}])
        elif status == "UPDATE_ROLLBACK_IN_PROGRESS":
            force(aws, name, status="UPDATE_ROLLBACK_FAILED", events=[
                {"logical_id": "KmsKey", "type": "AWS::KMS::Key", "status": "UPDATE_FAILED",
                 "reason": "Key is pending deletion"}])

    after(clients.cloudformation, "DescribeStacks", fail_then_fail_rollback)

    result = run("deploy", env.manifest_path, clients, resume_command=RESUME)

    assert result.code == 1
    message = str(result.error)
    assert f"{name}: the update ended in UPDATE_ROLLBACK_FAILED" in message
    assert "KmsKey (AWS::KMS::Key) UPDATE_FAILED: Key is pending deletion" in message
    assert "The rollback failed too: the stack accepts no update until its rollback is continued." in message
    assert f"`{RESUME} ARGS=--continue-rollback`" in message
    assert f"aws cloudformation continue-update-rollback --stack-name {name}" in message
    assert f"{name}: the operation failed: UPDATE_ROLLBACK_FAILED" in message
    # the next plain deploy refuses before any change and names the same ways out (test_deploy_states)
    assert run("deploy", env.manifest_path, make_clients(aws.url)).code == 3


def test_change_set_that_fails_to_create(changed, clients, aws):
    """moto creates every change set; CloudFormation's refusal (Status FAILED) is put in its answer."""
    env = changed
    reason = "Parameter 'CaptureRetentionDays' must match pattern ^[0-9]+$"

    def refuse(parsed: dict[str, Any], n: int) -> None:
        parsed.update(Status="FAILED", StatusReason=reason, ExecutionStatus="UNAVAILABLE", Changes=[])

    after(clients.cloudformation, "DescribeChangeSet", refuse)
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    message = str(result.error)
    assert f"CloudFormation could not create the change set: {reason}" in message
    assert f"{env.stack_name('foundation')} is unchanged: the failed change set was deleted." in message
    assert "Nothing was changed: the deploy stopped while planning." in message
    assert log.count("DeleteChangeSet") == 1 and log.count("ExecuteChangeSet") == 0
    cf = boto3.client("cloudformation", region_name=REGION, endpoint_url=aws.url)
    summaries = cf.list_change_sets(StackName=env.stack_name("foundation"))["Summaries"]
    assert [c for c in summaries if c["ExecutionStatus"] == "AVAILABLE"] == []  # moto also lists executed ones


def test_upstream_ssm_value_changed_by_hand_is_named_in_the_plan(tmp_path, clients, aws):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = f"{PREFIX}/network/job-security-group-id"
    ssm_client(aws).put_parameter(Name=name, Value="sg-0handmade", Type="String", Overwrite=True)

    result = run("plan", env.manifest_path, clients)

    assert result.code == 0, result.text
    # (moto never re-resolves SSM values for a change set, so its change set for the app stack comes back
    # empty; CloudFormation's would carry the new value. The engine's part is the comparison and the note.)
    note = next(line for line in result.out.splitlines() if "changed outside this deploy" in line)
    assert f"{name} (JobSecurityGroupId) changed outside this deploy: it belongs to {env.stack_name('network')}" in note
    assert "make drift ENV=test" in result.out and f"aws ssm put-parameter --overwrite --name {name}" in result.out
    # the network stack itself has nothing to change: the value was not set by CloudFormation
    assert f"{env.stack_name('network')}  no changes" in result.out


def test_deleted_asset_object_is_uploaded_again(tmp_path, clients, s3):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    bucket = next(o["OutputValue"] for o in boto3.client("cloudformation", region_name=REGION,
                  endpoint_url=clients.endpoint_url).describe_stacks(StackName=env.stack_name("foundation"))
                  ["Stacks"][0]["Outputs"] if o["OutputKey"] == "BucketName")
    s3.delete_object(Bucket=bucket, Key=env.asset_key())  # versioned bucket: a delete marker, HEAD says 404

    plan = run("plan", env.manifest_path, clients)
    assert f"+ s3://{bucket}/{env.asset_key()}" in plan.out
    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert f"uploaded record_preprocessor.py → s3://{bucket}/{env.asset_key()}" in result.out
    head = s3.head_object(Bucket=bucket, Key=env.asset_key())
    assert head["ServerSideEncryption"] == "aws:kms"


def test_disabled_kms_key_stops_the_upload_and_says_how_to_enable_it(tmp_path, clients, aws):
    """moto's S3 writes with a disabled key; S3 answers KMS.DisabledException (HTTP 400)."""
    env = full_env(tmp_path)
    fail_calls(clients, "KMS.DisabledException", "arn:aws:kms:eu-west-1:123456789012:key/x is disabled.",
               lambda op: op == "PutObject")

    result = run("deploy", env.manifest_path, clients, resume_command=RESUME)

    assert result.code == 1
    message = str(result.error)
    assert "PutObject s3://" in message and "KMS.DisabledException" in message
    key = next(line for line in message.splitlines() if "The project's KMS key" in line)
    assert "is disabled" in key and "aws kms enable-key --key-id arn:aws:kms:" in key and RESUME in key
    foundation = env.stack_name("foundation")
    assert f"{foundation}: the stack operation finished (CREATE_COMPLETE), what follows it did not" in message
    for stack in ("network", "alarms", "app"):
        assert f"{env.stack_name(stack)}: not touched (it waits for {foundation}" in message

    again = run("deploy", env.manifest_path, make_clients(aws.url))  # the key enabled again
    assert again.code == 0, again.text
    assert "uploaded record_preprocessor.py" in again.out


@pytest.mark.parametrize("timeouts", [1, None], ids=["once", "every-attempt"])
def test_network_timeout_on_a_describe_call(changed, clients, aws, no_backoff, timeouts):
    env = changed
    log = CallLog().attach(clients)
    seen = {"n": 0}

    def time_out(request: Any, **_: Any) -> None:
        if log.count("ExecuteChangeSet") and (timeouts is None or seen["n"] < timeouts):
            seen["n"] += 1
            raise ReadTimeoutError(endpoint_url=request.url)

    clients.cloudformation.meta.events.register("before-send.cloudformation.DescribeStacks", time_out)

    result = run("deploy", env.manifest_path, clients, resume_command=RESUME)

    if timeouts == 1:  # botocore's standard retry mode sends it again
        assert result.code == 0, result.text
        assert seen["n"] == 1
        return
    assert result.code == 1
    assert seen["n"] == 3  # the whole budget (3 attempts in these tests)
    message = str(result.error)
    assert "DescribeStacks: AWS did not answer in time" in message
    assert f"{env.stack_name('foundation')}: its change was sent to CloudFormation, which carries on" in message
    assert f"Continue: {RESUME}" in message
    again = run("deploy", env.manifest_path, make_clients(aws.url))
    assert again.code == 0 and "No changes." in again.out
