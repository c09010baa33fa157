"""Stack states and failures that moto never produces by itself: forced into moto's backend through the
test server's control endpoint (tests/moto_server.py), or answered at the client where moto lacks the
call. Every scenario runs the real engine against the real moto server otherwise."""

from __future__ import annotations

import _thread
import json
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from deployer.policy import ALLOW_ALL, protective_policy

from .conftest import CallLog, after, answer, force, http_error, run, wait_for_workers
from .envs import foundation_env, full_env


def status_of(cf: Any, name: str) -> str:
    return cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def first_status(parsed: dict[str, Any]) -> str | None:
    stacks = parsed.get("Stacks") or []
    return stacks[0]["StackStatus"] if stacks else None


# -- states found at the start ------------------------------------------------------------------------


def test_rollback_complete_is_deleted_and_created_again_after_confirmation(tmp_path, clients, aws, cf):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    force(aws, name, status="ROLLBACK_COMPLETE", events=[
        {"logical_id": "KmsKey", "type": "AWS::KMS::Key", "status": "CREATE_FAILED", "reason": "AccessDenied"}])
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, answers=["yes"])

    assert result.code == 0, result.text
    assert "delete and create again" in result.out
    assert "Only 'yes' is accepted" in result.out  # it asked first
    delete = log.index("DeleteStack")
    create = log.index("CreateChangeSet", lambda c: c.params["ChangeSetType"] == "CREATE")
    assert delete < create
    assert status_of(cf, name) == "CREATE_COMPLETE"


def test_rollback_complete_is_kept_when_not_confirmed(tmp_path, clients, aws, cf):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    force(aws, name, status="ROLLBACK_COMPLETE")
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, answers=["no"])

    assert result.code == 3
    assert "Nothing was changed" in str(result.error)
    assert log.count("DeleteStack") == 0 and log.count("CreateChangeSet") == 0
    assert status_of(cf, name) == "ROLLBACK_COMPLETE"


def test_update_rollback_failed_is_refused_with_how_to_continue(tmp_path, clients, aws):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("network")
    force(aws, name, status="UPDATE_ROLLBACK_FAILED", status_reason="The following resource(s) failed to update: [Vpc].")
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 3
    message = str(result.error)
    assert f"{name} is UPDATE_ROLLBACK_FAILED" in message
    assert f"aws cloudformation continue-update-rollback --stack-name {name}" in message
    assert "--continue-rollback" in message and "Nothing was changed" in message
    assert log.count("CreateChangeSet") == 0 and log.count("ContinueUpdateRollback") == 0


def test_continue_rollback_then_update(tmp_path, clients, aws, cf):
    """moto lacks ContinueUpdateRollback: the call is answered at the client (empty response, as AWS
    answers) and the rollback's progress is forced into moto's backend."""
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    force(aws, name, status="UPDATE_ROLLBACK_FAILED")
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    log = CallLog().attach(clients)

    def continue_rollback(params: dict[str, Any]) -> dict[str, Any]:
        force(aws, name, status="UPDATE_ROLLBACK_IN_PROGRESS")
        return {}

    received = answer(clients.cloudformation, "ContinueUpdateRollback", continue_rollback)
    after(clients.cloudformation, "DescribeStacks", lambda parsed, n: first_status(parsed) == "UPDATE_ROLLBACK_IN_PROGRESS"
          and force(aws, name, status="UPDATE_ROLLBACK_COMPLETE"))

    result = run("deploy", env.manifest_path, clients, continue_rollback=True)

    assert result.code == 0, result.text
    assert len(received) == 1 and received[0]["StackName"].startswith("arn:aws:cloudformation")
    assert received[0]["ClientRequestToken"]
    assert log.index("ContinueUpdateRollback") < log.index("CreateChangeSet")
    assert status_of(cf, name) == "UPDATE_COMPLETE"


def test_stack_in_progress_at_start_is_waited_for(tmp_path, clients, aws):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    force(aws, name, status="UPDATE_IN_PROGRESS")
    log = CallLog().attach(clients)
    after(clients.cloudformation, "DescribeStacks", lambda parsed, n: n == 3 and force(aws, name, status="UPDATE_COMPLETE"))

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert f"{name} is UPDATE_IN_PROGRESS (another operation is running): waiting" in result.out
    assert f"{name} is now UPDATE_COMPLETE" in result.out
    assert log.count("DescribeStacks") >= 4  # read until it settled, then planned
    assert log.count("CreateChangeSet") == 0 and "No changes." in result.out


# -- failures during the operation -------------------------------------------------------------------------


def test_update_that_fails_and_rolls_back_is_a_failure_even_though_the_waiter_would_pass(tmp_path, clients, aws, cf):
    """botocore's stack_create_complete waiter accepts UPDATE_ROLLBACK_COMPLETE as success: an engine that
    trusted it (or took 'no longer in progress' for success) would exit 0 here."""
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    after(clients.cloudformation_once, "ExecuteChangeSet", lambda parsed, n: force(aws, name, status="UPDATE_IN_PROGRESS"))

    def roll_back(parsed: dict[str, Any], n: int) -> None:
        if first_status(parsed) == "UPDATE_IN_PROGRESS":
            force(aws, name, status="UPDATE_ROLLBACK_IN_PROGRESS", events=[
                {"logical_id": "RetentionParameter", "type": "AWS::SSM::Parameter", "status": "UPDATE_FAILED",
                 "reason": "Parameter /churn/test/foundation/retention-days: AccessDeniedException (ssm:PutParameter)"},
                {"logical_id": name, "status": "UPDATE_ROLLBACK_IN_PROGRESS",
                 "reason": "The following resource(s) failed to update: [RetentionParameter]."}])
        elif first_status(parsed) == "UPDATE_ROLLBACK_IN_PROGRESS":
            force(aws, name, status="UPDATE_ROLLBACK_COMPLETE", events=[
                {"logical_id": "RetentionParameter", "type": "AWS::SSM::Parameter", "status": "UPDATE_COMPLETE"},
                {"logical_id": name, "status": "UPDATE_ROLLBACK_COMPLETE"}])

    after(clients.cloudformation, "DescribeStacks", roll_back)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    message = str(result.error)
    assert f"{name}: the update ended in UPDATE_ROLLBACK_COMPLETE" in message
    assert "RetentionParameter (AWS::SSM::Parameter) UPDATE_FAILED: Parameter /churn/test/foundation/retention-days: " \
           "AccessDeniedException (ssm:PutParameter)" in message
    assert "rolled the stack back" in message
    # the waiter a naive engine would use says "success" for the very same stack
    cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 0, "MaxAttempts": 1})


def test_create_that_fails_reports_reasons_and_skips_dependents(tmp_path, clients, aws):
    env = full_env(tmp_path)
    name = env.stack_name("foundation")

    def fail_create(parsed: dict[str, Any], n: int) -> None:
        if n == 1:  # foundation is executed first, alone
            force(aws, name, status="ROLLBACK_IN_PROGRESS", events=[
                {"logical_id": "Bucket", "type": "AWS::S3::Bucket", "status": "CREATE_FAILED",
                 "reason": "churn-test-data already exists"},
                {"logical_id": "KmsKey", "type": "AWS::KMS::Key", "status": "CREATE_FAILED",
                 "reason": "Resource creation cancelled"}])

    after(clients.cloudformation_once, "ExecuteChangeSet", fail_create)
    after(clients.cloudformation, "DescribeStacks", lambda parsed, n: first_status(parsed) == "ROLLBACK_IN_PROGRESS"
          and force(aws, name, status="ROLLBACK_COMPLETE"))
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    message = str(result.error)
    assert f"{name}: the create ended in ROLLBACK_COMPLETE" in message
    lines = message.splitlines()
    root = lines.index("  Bucket (AWS::S3::Bucket) CREATE_FAILED: churn-test-data already exists")
    cancelled = lines.index("  KmsKey (AWS::KMS::Key) CREATE_FAILED: Resource creation cancelled")
    assert root < cancelled  # the cause first, the cancellations after it
    assert "deleted and created again" in message
    assert f"{env.stack_name('network')}: not started ({name} failed)" in result.out
    assert {c.params["StackName"] for c in log.of("CreateChangeSet")} == {name}


# -- retries, timeouts, interruption ------------------------------------------------------------------------


def throttle(client: Any, operation: str, times: int | None) -> dict[str, int]:
    """Answer the first ``times`` HTTP attempts (None: all) of ``operation`` with HTTP 400 Throttling."""
    seen = {"throttled": 0, "sent": 0}

    def handler(request: Any, **_: Any) -> Any:
        if times is None or seen["throttled"] < times:
            seen["throttled"] += 1
            return http_error(400, "Throttling", "Rate exceeded")
        seen["sent"] += 1
        return None

    client.meta.events.register(f"before-send.cloudformation.{operation}", handler)
    return seen


def test_throttling_is_retried_within_the_budget(tmp_path, clients, no_backoff):
    env = foundation_env(tmp_path)
    seen = throttle(clients.cloudformation, "DescribeStacks", times=2)  # 3 attempts per call in these tests

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert seen["throttled"] == 2 and seen["sent"] >= 1


def test_throttling_past_the_budget_is_a_clear_error(tmp_path, clients, no_backoff, calls: CallLog):
    env = foundation_env(tmp_path)
    seen = throttle(clients.cloudformation, "DescribeStacks", times=None)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    assert seen["throttled"] == 3  # the whole budget was used
    message = str(result.error)
    assert "churn-test-foundation: DescribeStacks was throttled by AWS after 3 attempts: Throttling: Rate exceeded" in message
    assert "Next: wait a minute" in message
    assert calls.count("CreateChangeSet") == 0


def test_read_timeout_on_execute_does_not_execute_twice(tmp_path, clients, aws, cf):
    """The request reaches the server (moto executes the change set) but the answer never arrives. An
    engine that simply retried would send ExecuteChangeSet again; moto would execute it a second time
    (it ignores ClientRequestToken), and the count below would be 2."""
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    sent: list[str] = []

    def time_out_after_sending(request: Any, **_: Any) -> Any:
        sent.append(request.url)
        if len(sent) == 1:
            URLLib3Session().send(request)  # it does reach CloudFormation...
            raise ReadTimeoutError(endpoint_url=request.url)  # ...but the answer is lost
        return None  # any further attempt goes out normally, and is counted

    clients.cloudformation_once.meta.events.register("before-send.cloudformation.ExecuteChangeSet", time_out_after_sending)
    clients.cloudformation.meta.events.register("before-send.cloudformation.ExecuteChangeSet", time_out_after_sending)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert len(sent) == 1
    assert "ExecuteChangeSet did not answer cleanly (ReadTimeoutError); the change set is now EXECUTE_COMPLETE" in result.out
    name = env.stack_name("foundation")
    updates = [e for e in cf.describe_stack_events(StackName=name)["StackEvents"]
               if e["LogicalResourceId"] == name and e["ResourceStatus"] == "UPDATE_IN_PROGRESS"]
    assert len(updates) == 1


def test_ctrl_c_while_waiting_exits_130_and_cancels_nothing(tmp_path, clients, aws):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    after(clients.cloudformation_once, "ExecuteChangeSet", lambda parsed, n: force(aws, name, status="UPDATE_IN_PROGRESS"))
    pressed = []

    def press_ctrl_c(parsed: dict[str, Any], n: int) -> None:
        if first_status(parsed) == "UPDATE_IN_PROGRESS" and not pressed:
            pressed.append(n)
            _thread.interrupt_main()  # what the terminal's SIGINT does: KeyboardInterrupt in the main thread

    after(clients.cloudformation, "DescribeStacks", press_ctrl_c)
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, resume_command="make deploy ENV=test")
    wait_for_workers()

    assert result.code == 130
    message = str(result.error)
    assert "Nothing was cancelled" in message
    assert f"{name}: UPDATE_IN_PROGRESS" in message
    assert "Resume: make deploy ENV=test" in message
    for cancelling in ("CancelUpdateStack", "DeleteStack", "ContinueUpdateRollback", "RollbackStack"):
        assert log.count(cancelling) == 0
    assert log.count("DeleteChangeSet") == 0  # the executed change set is CloudFormation's now


def test_overall_wait_timeout(tmp_path, clients, aws):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    after(clients.cloudformation_once, "ExecuteChangeSet", lambda parsed, n: force(aws, name, status="UPDATE_IN_PROGRESS"))
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, wait_timeout=1.5, resume_command="make deploy ENV=test")

    assert result.code == 4
    message = str(result.error)
    assert f"{name}: still UPDATE_IN_PROGRESS after --wait-timeout=1.5s" in message
    assert "Nothing was cancelled" in message and "make deploy ENV=test" in message
    assert log.count("CancelUpdateStack") == 0


# -- replacement of protected resources ----------------------------------------------------------------


def replace_bucket_in_change_set(parsed: dict[str, Any], n: int) -> None:
    """moto fills neither Replacement nor Details: complete the change set's description the way
    CloudFormation describes a changed BucketName (Modify, Replacement True, RequiresRecreation Always)."""
    if parsed.get("Status") != "CREATE_COMPLETE":
        return
    parsed["Changes"] = [{
        "Type": "Resource",
        "ResourceChange": {
            "PolicyAction": "ReplaceAndRetain",
            "Action": "Modify",
            "LogicalResourceId": "Bucket",
            "PhysicalResourceId": "churn-test-foundation-bucket-1",
            "ResourceType": "AWS::S3::Bucket",
            "Replacement": "True",
            "Scope": ["Properties"],
            "Details": [{
                "Target": {"Attribute": "Properties", "Name": "BucketName", "RequiresRecreation": "Always",
                           "BeforeValue": "churn-test-foundation-bucket-1", "AfterValue": "churn-test-data-v2"},
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }],
        },
    }]


@pytest.fixture
def bucket_renamed(tmp_path, clients):
    env = foundation_env(tmp_path, asset=None)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.templates["foundation"]["Resources"]["Bucket"]["Properties"]["BucketName"] = "churn-test-data-v2"
    env.write()
    after(clients.cloudformation, "DescribeChangeSet", replace_bucket_in_change_set)
    return env


def test_change_set_that_replaces_the_bucket_is_refused(bucket_renamed, clients):
    env = bucket_renamed
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 3
    line = next(li for li in result.out.splitlines() if "Bucket" in li and "±" in li)
    assert line.split() == ["±", "Bucket", "AWS::S3::Bucket", "replaced", "(forced", "by", "BucketName;", "caused",
                            "by", "the", "template)", "REFUSED:", "protected", "resource"]
    assert "BucketName: (none) → churn-test-data-v2" in result.out  # old → new, from the two templates
    assert "Plan: 0 to add, 0 to change, 0 to destroy, 1 to replace." in result.out
    message = str(result.error)
    assert "churn-test-foundation: the plan replaces Bucket (AWS::S3::Bucket; forced by BucketName), a protected resource" in message
    assert "--allow-replacement" in message and "Nothing was changed" in message
    assert log.count("ExecuteChangeSet") == 0
    assert log.count("DeleteChangeSet") == 1  # the refused change set does not linger

    assert run("plan", env.manifest_path, clients).code == 3  # plan says so too


def test_allowed_replacement_lifts_the_stack_policy_for_one_execution(bucket_renamed, clients, cf):
    env = bucket_renamed
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, allow_replacement=True)

    assert result.code == 0, result.text
    policies = [json.loads(c.params["StackPolicyBody"]) for c in log.of("SetStackPolicy")]
    assert policies == [ALLOW_ALL, protective_policy(["Bucket", "KmsKey"])]
    lifted, restored = [i for i, c in enumerate(log.calls) if c.operation == "SetStackPolicy"]
    assert lifted < log.index("ExecuteChangeSet") < restored
    body = cf.get_stack_policy(StackName=env.stack_name("foundation"))["StackPolicyBody"]
    assert json.loads(body) == protective_policy(["Bucket", "KmsKey"])


def remove_group_in_change_set(parsed: dict[str, Any], n: int) -> None:
    """moto does not evaluate Conditions in a change set (it lists the resource whose Condition turned false as
    modified): describe it as CloudFormation does, a Remove."""
    if parsed.get("Status") != "CREATE_COMPLETE":
        return
    for change in parsed.get("Changes", []):
        if change.get("ResourceChange", {}).get("LogicalResourceId") == "Group":
            change["ResourceChange"].update(Action="Remove", PolicyAction="Delete", Scope=[], Details=[])
            change["ResourceChange"].pop("Replacement", None)


def test_removing_a_guarded_resource_is_refused_and_done_only_on_request(tmp_path, clients, cf):
    """A guarded resource (the foundation's schedule group in a real build) exists under a Condition: turning the
    Condition off removes it, which the plan refuses like a protected resource, with the manifest's reason; the
    stack policy names only the protected ones. --allow-replacement lets it go."""
    env = foundation_env(tmp_path, asset=None)
    template = env.templates["foundation"]
    template["Parameters"]["Grouped"] = {"Type": "String", "AllowedValues": ["true", "false"], "Default": "true"}
    template.setdefault("Conditions", {})["HasGroup"] = {"Fn::Equals": [{"Ref": "Grouped"}, "true"]}
    template["Resources"]["Group"] = {"Type": "AWS::SNS::Topic", "Condition": "HasGroup"}
    env.stacks[0]["guarded_resources"] = {"Group": "removing it deletes what launches keep in it"}
    env.write()
    assert run("deploy", env.manifest_path, clients).code == 0
    stack = env.stack_name("foundation")
    assert json.loads(cf.get_stack_policy(StackName=stack)["StackPolicyBody"]) == protective_policy(["Bucket", "KmsKey"])

    env.parameters["foundation"]["Grouped"] = "false"
    env.write()
    after(clients.cloudformation, "DescribeChangeSet", remove_group_in_change_set)
    log = CallLog().attach(clients)
    result = run("deploy", env.manifest_path, clients)

    assert result.code == 3
    assert f"{stack}: the plan removes Group (AWS::SNS::Topic), a guarded resource: removing it deletes what " \
           "launches keep in it." in str(result.error)
    assert "REFUSED: guarded resource" in result.out and "Nothing was changed" in str(result.error)
    assert log.count("ExecuteChangeSet") == 0

    assert run("deploy", env.manifest_path, clients, allow_replacement=True).code == 0
    assert log.count("ExecuteChangeSet") == 1
    assert json.loads(cf.get_stack_policy(StackName=stack)["StackPolicyBody"]) == protective_policy(["Bucket", "KmsKey"])


# -- accounts and settings ------------------------------------------------------------------------------


def test_wrong_account_is_refused_before_any_change(tmp_path, clients, calls: CallLog, cf):
    env = foundation_env(tmp_path, account_id="111111111111")

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 3
    message = str(result.error)
    assert "wrong AWS account: the credentials belong to 123456789012" in message
    assert "expects 111111111111" in message and "Nothing was changed" in message
    assert calls.names() == ["GetCallerIdentity"]
    assert cf.describe_stacks()["Stacks"] == []


def test_skipping_the_account_check_is_explicit_and_loud(tmp_path, clients):
    env = foundation_env(tmp_path, account_id="111111111111")
    result = run("deploy", env.manifest_path, clients, skip_account_check=True)
    assert result.code == 0, result.text
    assert "account check skipped (--skip-account-check): using account 123456789012, the environment expects " \
           "111111111111" in result.out


def test_missing_credentials_is_a_clear_error_before_any_change(tmp_path, aws, monkeypatch):
    import boto3

    from deployer import cli

    env = foundation_env(tmp_path)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(Exception) as caught:
        cli.deploy(env.manifest_path, yes=True, endpoint_url=aws.url, poll_interval=0.01)

    error = caught.value
    assert getattr(error, "exit_code", None) == 2
    assert "no usable AWS credentials" in str(error) and "Nothing was changed" in str(error)
    assert "AWS_PROFILE" in str(error)
    checker = boto3.client("cloudformation", region_name="eu-west-1", endpoint_url=aws.url,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    assert checker.describe_stacks()["Stacks"] == []


def test_termination_protection_is_turned_on_for_environments_that_ask(tmp_path, clients, calls: CallLog):
    """moto lacks UpdateTerminationProtection: answered at the client with AWS's response shape."""
    env = full_env(tmp_path, settings={"termination_protection": True})
    received = answer(clients.cloudformation, "UpdateTerminationProtection", lambda p: {"StackId": p["StackName"]})

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert len(received) == 4 and all(r["EnableTerminationProtection"] is True for r in received)
    assert "termination protection: on" in result.out  # shown in the plan
    for call in calls.of("UpdateTerminationProtection"):
        stack = call.params["StackName"].split("/")[1]
        executed = calls.index("ExecuteChangeSet", lambda c, s=stack: c.params["StackName"] == s)
        assert executed < calls.calls.index(call)


def test_role_assumed_with_external_id_for_every_call(tmp_path, aws, cf):
    """The engine builds its own clients here, as from build.py: the role is assumed (moto's STS) and
    every call, the account check included, runs as that role."""
    import urllib.request

    role = "arn:aws:iam::123456789012:role/churn-deployer"
    env = foundation_env(tmp_path, settings={"assume_role_arn": role, "external_id": "churn-ext-42"})

    result = run("deploy", env.manifest_path, None, endpoint_url=aws.url)

    assert result.code == 0, result.text
    assert "arn:aws:sts::123456789012:assumed-role/churn-deployer/mmtool-deploy-" in result.out
    with urllib.request.urlopen(f"{aws.url}/moto-api/data.json") as response:
        assumed = json.loads(response.read())["sts"]["AssumedRole"]
    assert [(a["role_arn"], a["external_id"]) for a in assumed] == [(role, "churn-ext-42")]
    assert status_of(cf, env.stack_name("foundation")) == "CREATE_COMPLETE"


def test_aws_endpoint_url_from_the_environment_is_honoured(tmp_path, aws, monkeypatch):
    env = foundation_env(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)

    result = run("plan", env.manifest_path, None)

    assert result.code == 0, result.text
    assert f"endpoint {aws.url}" in result.out and "churn-test-foundation  create" in result.out


def test_ctrl_c_at_the_confirmation_changes_nothing(tmp_path, clients, cf):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["foundation"]["CaptureRetentionDays"] = "21"
    env.write()
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, answers=[KeyboardInterrupt()])

    assert result.code == 130
    assert "Nothing was cancelled" in str(result.error)
    assert log.count("ExecuteChangeSet") == 0
    assert log.count("CreateChangeSet") == 1 and log.count("DeleteChangeSet") == 1  # the plan's, removed


def test_no_terminal_to_confirm_on_is_refused(tmp_path, clients):
    env = foundation_env(tmp_path)
    result = run("deploy", env.manifest_path, clients, answers=[])  # stdin closed: EOF
    assert result.code == 3
    assert "pass --yes" in str(result.error) and "AUTO_APPROVE=1" in str(result.error)
