"""Real flows against the moto server: first deploy, identical re-deploy, parameter changes, upstream
value changes, plan, leftovers. moto's gaps met here are named in each test."""

from __future__ import annotations

import json
import threading
from typing import Any

from deployer.policy import protective_policy

from .conftest import CallLog, run
from .envs import ENVIRONMENT, PREFIX, full_env


def stack_names(cf: Any) -> set[str]:
    return {s["StackName"] for s in cf.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"}


def test_first_deploy_end_to_end(tmp_path, clients, calls: CallLog, cf, s3, aws):
    env = full_env(tmp_path)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert stack_names(cf) == {env.stack_name(n) for n in ("foundation", "network", "alarms", "app")}
    for name in ("foundation", "network", "alarms", "app"):
        assert cf.describe_stacks(StackName=env.stack_name(name))["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    # cross-stack values flowed through SSM: app read foundation's bucket and network's security group
    ssm = clients.ssm
    bucket = ssm.get_parameter(Name=f"{PREFIX}/foundation/bucket-name")["Parameter"]["Value"]
    group = ssm.get_parameter(Name=f"{PREFIX}/network/job-security-group-id")["Parameter"]["Value"]
    assert ssm.get_parameter(Name=f"{PREFIX}/app/config")["Parameter"]["Value"] == f"{bucket}|{group}|100"
    # the asset went to the project bucket, under its content-hashed key, encrypted with the project key
    head = s3.head_object(Bucket=bucket, Key=env.asset_key())
    assert head["ServerSideEncryption"] == "aws:kms"
    key_arn = ssm.get_parameter(Name=f"{PREFIX}/foundation/kms-key-arn")["Parameter"]["Value"]
    assert head["SSEKMSKeyId"] == key_arn
    # ... after the bucket's stack existed, and before any stack that depends on it started
    put = calls.index("PutObject")
    assert calls.index("ExecuteChangeSet", lambda c: "foundation" in c.params["StackName"]) < put
    for name in ("network", "alarms", "app"):
        assert put < calls.index("CreateChangeSet", lambda c, n=name: c.params["StackName"] == env.stack_name(n))
    # stack-level tags on every stack
    for stack in cf.describe_stacks()["Stacks"]:
        assert {t["Key"]: t["Value"] for t in stack["Tags"]} == env.tags
    # the outputs end the run
    assert "Outputs" in result.out and "JobSecurityGroupId" in result.out


def test_dependency_order_and_independent_stacks_at_the_same_time(tmp_path, clients, calls: CallLog):
    """network and alarms both depend on foundation only: each one's execution waits (up to 10 s) until
    the other has started executing; done one after the other, the first would time out and fail."""
    env = full_env(tmp_path)
    started = {"network": threading.Event(), "alarms": threading.Event()}
    overlapped: dict[str, bool] = {}

    def hold(params: dict[str, Any], **_: Any) -> None:
        for name, other in (("network", "alarms"), ("alarms", "network")):
            if params["StackName"] == env.stack_name(name):
                started[name].set()
                overlapped[name] = started[other].wait(timeout=10)

    clients.cloudformation_once.meta.events.register("before-parameter-build.cloudformation.ExecuteChangeSet", hold)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert overlapped == {"network": True, "alarms": True}
    finished = {name: calls.index("ExecuteChangeSet", lambda c, n=name: c.params["StackName"] == env.stack_name(n))
                for name in ("foundation", "network", "app")}
    first_app_call = calls.index("CreateChangeSet", lambda c: c.params["StackName"] == env.stack_name("app"))
    assert finished["foundation"] < finished["network"] < first_app_call


def test_identical_redeploy_creates_no_change_set(tmp_path, clients, aws):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert "No changes." in result.out
    for write in ("CreateChangeSet", "ExecuteChangeSet", "DeleteChangeSet", "SetStackPolicy",
                  "UpdateTerminationProtection", "PutObject", "CreateStack", "UpdateStack", "DeleteStack"):
        assert log.count(write) == 0, f"{write} called on a no-change deploy"
    # only reads (one DescribeStacks and one GetTemplate per stack, SSM values, the policy, the asset, the change
    # sets an unused saved plan may have left: deployer/saved_plan.py), and the environment lock claimed (no other
    # claim found) and released around them (deployer/lock.py)
    lock_calls = ["PutParameter", "GetParametersByPath", "DeleteParameter"]
    assert [n for n in log.names("ssm") if n in lock_calls] == lock_calls
    assert set(log.names()) <= {"GetCallerIdentity", "DescribeStacks", "GetTemplate", "GetParameters",
                                "GetStackPolicy", "GetObject", "ListChangeSets", *lock_calls}
    assert log.count("DescribeStacks") == 4 and log.count("GetTemplate") == 4


def test_parameter_change_gives_the_right_plan_and_deploys(tmp_path, clients, cf):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["app"]["SamplingPercentage"] = "50"
    env.write()
    log = CallLog().attach(clients)

    plan = run("plan", env.manifest_path, clients)

    assert plan.code == 0, plan.text
    out = plan.out
    assert f"{env.stack_name('app')}  update" in out
    assert 'SamplingPercentage: "100" → "50"' in out
    for name in ("foundation", "network", "alarms"):
        assert f"{env.stack_name(name)}  no changes" in out
    assert "Plan: 0 to add, " in out
    # moto computes a change set's resources from the template alone (a parameter-only change lists none);
    # CloudFormation lists AppConfig as Modify (ParameterReference): see test_plan_render.py
    assert log.count("CreateChangeSet") == 1
    assert log.count("DeleteChangeSet") == 1  # plan removes what it created
    # (moto lists every change set of the region, executed ones included: keep the app's open ones)
    open_sets = [c for c in cf.list_change_sets(StackName=env.stack_name("app"))["Summaries"]
                 if c["StackName"] == env.stack_name("app") and c["ExecutionStatus"] == "AVAILABLE"]
    assert open_sets == []

    result = run("deploy", env.manifest_path, clients)
    assert result.code == 0, result.text
    value = clients.ssm.get_parameter(Name=f"{PREFIX}/app/config")["Parameter"]["Value"]
    assert value.endswith("|50")
    assert run("deploy", env.manifest_path, clients).out.count("No changes.") == 1


def test_upstream_value_change_is_compared_again_after_the_upstream_stack(tmp_path, clients):
    """alarms' own files do not change, but the SSM value it reads does: foundation's update changes the
    retention parameter. At plan time alarms is equal; after foundation is deployed its resolved value
    differs from today's SSM value, so the engine asks CloudFormation with a change set.

    moto gap: moto decides "no changes" from the parameter *names* and never re-resolves SSM values, so it
    answers that change set with "didn't contain changes" (CloudFormation resolves them again and updates
    the stack). The test therefore checks the engine's part: the second comparison and the change set."""
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["foundation"]["CaptureRetentionDays"] = "30"
    env.write()
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    alarms = env.stack_name("alarms")
    foundation_executed = log.index("ExecuteChangeSet", lambda c: c.params["StackName"] == env.stack_name("foundation"))
    assert log.index("CreateChangeSet", lambda c: c.params["StackName"] == alarms) > foundation_executed
    assert f"{alarms}: compared again after upstream changes" in result.out
    # stacks whose inputs did not move get no change set (network and app read the unchanged bucket name)
    assert {c.params["StackName"] for c in log.of("CreateChangeSet")} == {env.stack_name("foundation"), alarms}


def test_plan_touches_nothing_for_new_stacks(tmp_path, clients, calls: CallLog, cf):
    env = full_env(tmp_path)

    result = run("plan", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert calls.count("CreateChangeSet") == 0
    assert stack_names(cf) == set()
    assert f"{env.stack_name('foundation')}  create" in result.out
    assert "+ Bucket" in result.out.replace("  ", " ")
    assert "Plan: 12 to add, 0 to change, 0 to destroy, 0 to replace." in result.out


def test_plan_json(tmp_path, clients, capsys):
    env = full_env(tmp_path)
    result = run("plan", env.manifest_path, clients, json_output=True)
    assert result.code == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["action"] for s in data["stacks"]] == ["create"] * 4
    assert data["summary"] == {"add": 12, "change": 0, "destroy": 0, "replace": 0}
    assert data["assets_missing"] == [env.asset_key()]


def test_stack_policy_set_on_the_data_stack(tmp_path, clients, cf):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0

    body = cf.get_stack_policy(StackName=env.stack_name("foundation"))["StackPolicyBody"]
    policy = json.loads(body)
    assert policy == protective_policy(["Bucket", "KmsKey"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"][0]
    assert sorted(deny["Action"]) == ["Update:Delete", "Update:Replace"]
    assert sorted(deny["Resource"]) == ["LogicalResourceId/Bucket", "LogicalResourceId/KmsKey"]
    for name in ("network", "alarms", "app"):
        assert not cf.get_stack_policy(StackName=env.stack_name(name)).get("StackPolicyBody")


def test_leftover_review_in_progress_stack_is_replaced(tmp_path, clients, cf, calls: CallLog):
    env = full_env(tmp_path)
    # an interrupted earlier run: a CREATE change set that was never executed (with the tags the engine gives it)
    cf.create_change_set(StackName=env.stack_name("foundation"), ChangeSetName="old", ChangeSetType="CREATE",
                         TemplateBody=json.dumps(env.templates["foundation"]),
                         Tags=[{"Key": k, "Value": v} for k, v in env.tags.items()],
                         Parameters=[{"ParameterKey": "EnvironmentName", "ParameterValue": ENVIRONMENT}])
    assert cf.describe_stacks(StackName=env.stack_name("foundation"))["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert "leftover REVIEW_IN_PROGRESS" in result.out
    assert calls.index("DeleteStack") < calls.index("CreateChangeSet")
    assert cf.describe_stacks(StackName=env.stack_name("foundation"))["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_no_updates_change_set_is_deleted_and_reported_as_no_changes(tmp_path, clients, calls: CallLog):
    """A NoEcho parameter cannot be compared (DescribeStacks shows ****), so the engine asks CloudFormation
    with a change set; moto answers like CloudFormation: FAILED, 'didn't contain changes'."""
    env = full_env(tmp_path)
    env.templates["alarms"]["Parameters"]["Token"] = {"Type": "String", "NoEcho": True}
    env.parameters["alarms"]["Token"] = "s3cret"
    env.write()
    assert run("deploy", env.manifest_path, clients).code == 0
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert log.count("CreateChangeSet") == 1 and log.count("DeleteChangeSet") == 1
    assert log.count("ExecuteChangeSet") == 0
    assert "CloudFormation found no changes (empty change set deleted)" in result.out
    assert "No changes." in result.out


def test_template_over_51200_bytes_goes_through_the_bucket(tmp_path, clients, calls: CallLog, s3):
    env = full_env(tmp_path)
    env.templates["network"]["Metadata"] = {"Padding": "x" * 60_000}  # stands for a big real template
    env.write()

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    create = calls.of("CreateChangeSet")
    network = next(c for c in create if c.params["StackName"] == env.stack_name("network"))
    assert "TemplateBody" not in network.params
    url = network.params["TemplateURL"]
    bucket = clients.ssm.get_parameter(Name=f"{PREFIX}/foundation/bucket-name")["Parameter"]["Value"]
    assert url.startswith(f"https://{bucket}.s3.eu-west-1.amazonaws.com/cloudformation-templates/{env.stack_name('network')}/")
    key = url.split(".amazonaws.com/", 1)[1]
    assert s3.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"] == "aws:kms"
    assert all("TemplateBody" in c.params for c in create if c is not network)
    # and the next run sees it as unchanged
    assert "No changes." in run("deploy", env.manifest_path, clients).out


def test_template_over_51200_bytes_without_a_bucket_is_a_clear_error(tmp_path, clients):
    env = full_env(tmp_path)
    env.templates["foundation"]["Metadata"] = {"Padding": "x" * 60_000}
    env.write()

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1
    assert "over CloudFormation's 51200-byte inline limit, and the project bucket that would carry it does not exist" \
        in str(result.error)
