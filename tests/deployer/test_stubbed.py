"""Exact call sequences, with botocore's Stubber: here the sequence itself is the point. A call that is
not in the list (a CreateChangeSet on a no-op deploy, an ExecuteChangeSet after an empty change set)
makes the Stubber raise, and the command fails. Every deploy also takes and releases the environment
lock (four SSM calls, :func:`expect_lock`); a plan does not."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from deployer import lock
from deployer.manifest import load_manifest, minify
from deployer.policy import protective_policy

from .conftest import make_clients, run
from .envs import ENVIRONMENT, PROJECT, foundation_env

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/churn-test-foundation/0f0e0d0c"
CHANGE_SET_ID = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/mmtool-x/1a2b3c"
BUCKET = "churn-test-foundation-bucket-1"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


LOCK_HOLDER = lock.Holder(who="arn:aws:iam::123456789012:user/ci", host="ci-runner", pid=4242,
                          since="2026-11-25T10:00:00+00:00", command="build.py deploy --env test --yes",
                          operation="deploy", token="0123456789abcdef")


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Any:
    # the lock's random token, fixed so that the stubbed GetParameter can answer with it
    monkeypatch.setattr(lock.Holder, "mine", classmethod(lambda cls, who, operation: LOCK_HOLDER))
    clients = make_clients("http://stubbed.invalid")
    stubs = {name: Stubber(getattr(clients, name)) for name in ("cloudformation", "cloudformation_once", "s3", "ssm", "sts", "ec2")}
    for stub in stubs.values():
        stub.activate()
    yield clients, stubs
    for stub in stubs.values():
        stub.deactivate()


def deployed_stack(env: Any, **overrides: Any) -> dict[str, Any]:
    stack = {
        "StackId": STACK_ID,
        "StackName": env.stack_name("foundation"),
        "CreationTime": NOW,
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [
            {"ParameterKey": "CaptureRetentionDays", "ParameterValue": "14"},
            {"ParameterKey": "EnvironmentName", "ParameterValue": ENVIRONMENT},
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in env.tags.items()],
        "Outputs": [
            {"OutputKey": "BucketName", "OutputValue": BUCKET},
            {"OutputKey": "KmsKeyArn", "OutputValue": KEY_ARN},
        ],
        "EnableTerminationProtection": False,
    }
    stack.update(overrides)
    return stack


def expect_reads(env: Any, stubs: dict[str, Stubber], template: dict[str, Any]) -> None:
    """The reads every deploy of the existing data stack starts with."""
    name = env.stack_name("foundation")
    stubs["sts"].add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci", "UserId": "AIDA"})
    stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [deployed_stack(env)]}, {"StackName": name})
    stubs["cloudformation"].add_response("list_change_sets", {"Summaries": []}, {"StackName": STACK_ID})  # a saved plan's leftovers
    stubs["cloudformation"].add_response("get_template", {"TemplateBody": json.dumps(template)},
                                         {"StackName": STACK_ID, "TemplateStage": "Original"})


def expect_lock(stubs: dict[str, Stubber]) -> None:
    """The environment lock: this run's claim created (Overwrite false, a name made of its token), the
    environment's claims listed (only ours: no other run's), then our claim deleted by its own name."""
    name = lock.claim_name(PROJECT, ENVIRONMENT, None, LOCK_HOLDER.token)
    ssm = stubs["ssm"]
    ssm.add_response("put_parameter", {"Version": 1},
                     {"Name": name, "Value": LOCK_HOLDER.to_value(), "Type": "String", "Overwrite": False,
                      "Description": ANY})
    ssm.add_response("get_parameters_by_path",
                     {"Parameters": [{"Name": name, "Type": "String", "Value": LOCK_HOLDER.to_value(), "Version": 1,
                                      "LastModifiedDate": NOW}]},
                     {"Path": lock.root(PROJECT, ENVIRONMENT), "Recursive": True})
    ssm.add_response("delete_parameter", {}, {"Name": name})


def expect_settings_and_asset(env: Any, stubs: dict[str, Stubber]) -> None:
    stubs["cloudformation"].add_response(
        "get_stack_policy", {"StackPolicyBody": json.dumps(protective_policy(["Bucket", "KmsKey"]))}, {"StackName": STACK_ID})
    # the asset is read back and its content compared with the build's (deployer/integrity.py)
    stubs["s3"].add_response("get_object", {"Body": StreamingBody(io.BytesIO(env.asset), len(env.asset))},
                             {"Bucket": BUCKET, "Key": env.asset_key()})


def assert_done(stubs: dict[str, Stubber]) -> None:
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_no_op_deploy_is_reads_only(tmp_path, stubbed):
    clients, stubs = stubbed
    env = foundation_env(tmp_path)
    expect_reads(env, stubs, env.templates["foundation"])
    expect_lock(stubs)
    expect_settings_and_asset(env, stubs)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert "No changes." in result.out
    assert_done(stubs)


def test_template_stored_minified_is_still_equal(tmp_path, stubbed):
    """CloudFormation returns the body as it was sent (minified): equality is on the JSON value."""
    clients, stubs = stubbed
    env = foundation_env(tmp_path)
    spec = load_manifest(env.manifest_path).stacks[0]
    name = env.stack_name("foundation")
    stubs["sts"].add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci", "UserId": "AIDA"})
    stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [deployed_stack(env)]}, {"StackName": name})
    stubs["cloudformation"].add_response("list_change_sets", {"Summaries": []}, {"StackName": STACK_ID})  # a saved plan's leftovers
    stubs["cloudformation"].add_response("get_template", {"TemplateBody": minify(spec.template)}, {"StackName": STACK_ID, "TemplateStage": "Original"})
    expect_lock(stubs)
    expect_settings_and_asset(env, stubs)

    assert run("deploy", env.manifest_path, clients).code == 0
    assert_done(stubs)


@pytest.mark.parametrize("reason", [
    "No updates are to be performed.",
    "The submitted information didn't contain changes. Submit different information to create a change set.",
])
def test_change_set_with_no_updates_is_deleted_and_reported_as_no_changes(tmp_path, stubbed, reason):
    clients, stubs = stubbed
    env = foundation_env(tmp_path)
    deployed = json.loads(json.dumps(env.templates["foundation"]))
    deployed["Description"] = "an older description"  # differs: the engine must ask CloudFormation
    expect_reads(env, stubs, deployed)
    expect_lock(stubs)
    cf = stubs["cloudformation"]
    cf.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                    {"StackName": env.stack_name("foundation"), "ChangeSetName": ANY, "ChangeSetType": "UPDATE",
                     "TemplateBody": ANY, "Parameters": ANY, "Capabilities": ["CAPABILITY_NAMED_IAM"], "Tags": ANY,
                     "Description": ANY, "ClientToken": ANY})
    cf.add_response("describe_change_set", {
        "ChangeSetId": CHANGE_SET_ID, "StackId": STACK_ID, "StackName": env.stack_name("foundation"),
        "ExecutionStatus": "UNAVAILABLE", "Status": "FAILED", "StatusReason": reason, "Changes": []},
        {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True})
    cf.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    expect_settings_and_asset(env, stubs)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert "CloudFormation found no changes (empty change set deleted)" in result.out
    assert "No changes." in result.out
    assert_done(stubs)  # and no ExecuteChangeSet: it was never stubbed


def test_create_change_set_answering_no_updates_is_no_changes(tmp_path, stubbed):
    """CloudFormation may also refuse the change set outright with a ValidationError."""
    clients, stubs = stubbed
    env = foundation_env(tmp_path)
    deployed = json.loads(json.dumps(env.templates["foundation"]))
    deployed["Description"] = "an older description"
    expect_reads(env, stubs, deployed)
    expect_lock(stubs)
    stubs["cloudformation"].add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    expect_settings_and_asset(env, stubs)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert "no updates are to be performed" in result.out
    assert_done(stubs)


def test_ssm_value_changed_upstream_is_a_change(tmp_path, stubbed):
    """CloudFormation's DescribeStacks carries the SSM parameter's name in ParameterValue and the value it
    resolved at the last deploy in ResolvedValue; today's value differs, so a change set is needed."""
    clients, stubs = stubbed
    env = foundation_env(tmp_path)
    env.templates["foundation"]["Parameters"]["Upstream"] = {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x/upstream"}
    env.write()
    name = env.stack_name("foundation")
    stack = deployed_stack(env)
    stack["Parameters"].append({"ParameterKey": "Upstream", "ParameterValue": "/x/upstream", "ResolvedValue": "old-value"})
    stubs["sts"].add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci", "UserId": "AIDA"})
    cf = stubs["cloudformation"]
    cf.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})
    stubs["cloudformation"].add_response("list_change_sets", {"Summaries": []}, {"StackName": STACK_ID})  # a saved plan's leftovers
    cf.add_response("get_template", {"TemplateBody": json.dumps(env.templates["foundation"])}, {"StackName": STACK_ID, "TemplateStage": "Original"})
    stubs["ssm"].add_response("get_parameters", {"Parameters": [{"Name": "/x/upstream", "Type": "String", "Value": "new-value"}]},
                              {"Names": ["/x/upstream"]})
    cf.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    expect_settings_and_asset(env, stubs)

    result = run("plan", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert_done(stubs)  # the change set was asked for: the resolved value moved
