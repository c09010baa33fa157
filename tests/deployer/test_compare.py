"""No-change detection against DescribeStacks entries shaped like CloudFormation's (and moto's)."""

from __future__ import annotations

import copy

import pytest

from deployer.compare import api_parameters, diff_stack
from deployer.errors import InputError
from deployer.manifest import load_manifest

from .envs import ENVIRONMENT, foundation_env


@pytest.fixture
def spec(tmp_path):
    env = foundation_env(tmp_path)
    env.templates["foundation"]["Parameters"].update({
        "Upstream": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x/upstream"},
        "Subnets": {"Type": "AWS::SSM::Parameter::Value<List<String>>", "Default": "/x/subnets"},
        "Modes": {"Type": "CommaDelimitedList", "Default": "Input,Output"},
    })
    env.write()
    return load_manifest(env.manifest_path).stacks[0], env


def stack(env, *params: dict) -> dict:
    return {
        "StackName": env.stack_name("foundation"),
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [
            {"ParameterKey": "CaptureRetentionDays", "ParameterValue": "14"},
            {"ParameterKey": "EnvironmentName", "ParameterValue": ENVIRONMENT},
            {"ParameterKey": "Modes", "ParameterValue": "Input,Output"},
            *params,
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in env.tags.items()],
    }


SSM_NOW = {"/x/upstream": "bucket-a", "/x/subnets": "subnet-1,subnet-2"}
CFN_SSM = [
    {"ParameterKey": "Upstream", "ParameterValue": "/x/upstream", "ResolvedValue": "bucket-a"},
    {"ParameterKey": "Subnets", "ParameterValue": "/x/subnets", "ResolvedValue": "subnet-1,subnet-2"},
]


def test_equal_stack_has_no_changes(spec):
    spec, env = spec
    diff = diff_stack(spec, stack(env, *CFN_SSM), copy.deepcopy(spec.template), env.tags, SSM_NOW)
    assert diff.no_changes, diff


def test_ssm_value_changed_upstream_is_a_change_with_a_note(spec):
    spec, env = spec
    diff = diff_stack(spec, stack(env, *CFN_SSM), spec.template, env.tags, {**SSM_NOW, "/x/upstream": "bucket-b"})
    assert not diff.no_changes
    assert [p.key for p in diff.parameters] == ["Upstream"]
    assert diff.parameters[0].note == '(value of /x/upstream changed: "bucket-a" → "bucket-b")'


def test_ssm_parameter_renamed_is_a_change(spec):
    spec, env = spec
    renamed = [{**CFN_SSM[0], "ParameterValue": "/x/old-name"}, CFN_SSM[1]]
    assert [p.key for p in diff_stack(spec, stack(env, *renamed), spec.template, env.tags, SSM_NOW).parameters] == ["Upstream"]


def test_missing_ssm_parameter_is_a_change(spec):
    spec, env = spec
    diff = diff_stack(spec, stack(env, *CFN_SSM), spec.template, env.tags, {"/x/subnets": "subnet-1,subnet-2"})
    assert "does not exist" in diff.parameters[0].note


def test_moto_shapes_are_understood(spec):
    """moto: resolved SSM value in ParameterValue, no ResolvedValue; lists rendered as Python lists."""
    spec, env = spec
    moto = stack(env, {"ParameterKey": "Upstream", "ParameterValue": "bucket-a"},
                 {"ParameterKey": "Subnets", "ParameterValue": "['subnet-1', 'subnet-2']"})
    moto["Parameters"][2]["ParameterValue"] = "['Input', 'Output']"
    assert diff_stack(spec, moto, spec.template, env.tags, SSM_NOW).no_changes


def test_template_tags_and_plain_parameters(spec):
    spec, env = spec
    changed = copy.deepcopy(spec.template)
    changed["Resources"]["Bucket"]["Properties"]["VersioningConfiguration"]["Status"] = "Suspended"
    deployed = stack(env, *CFN_SSM)
    deployed["Parameters"][0]["ParameterValue"] = "7"
    deployed["Tags"] = [{"Key": "Project", "Value": "churn"}, {"Key": "Owner", "Value": "me"}]
    diff = diff_stack(spec, deployed, changed, env.tags, SSM_NOW)
    assert not diff.template_equal
    assert [(p.key, p.old, p.new) for p in diff.parameters] == [("CaptureRetentionDays", "7", "14")]
    assert diff.tags_added == {"Environment": "test"} and diff.tags_removed == {"Owner": "me"}


def test_no_echo_cannot_be_compared(tmp_path):
    env = foundation_env(tmp_path)
    env.templates["foundation"]["Parameters"]["Token"] = {"Type": "String", "NoEcho": True}
    env.parameters["foundation"]["Token"] = "s3cret"
    env.write()
    spec = load_manifest(env.manifest_path).stacks[0]
    deployed = stack(env, {"ParameterKey": "Token", "ParameterValue": "****"})
    deployed["Parameters"] = [p for p in deployed["Parameters"] if p["ParameterKey"] != "Modes"]
    diff = diff_stack(spec, deployed, spec.template, env.tags, {})
    assert not diff.no_changes and diff.unknown == ["Token is NoEcho: CloudFormation shows ****"]


def test_omitted_parameters_use_the_default_explicitly_and_no_echo_uses_previous(tmp_path):
    env = foundation_env(tmp_path)
    env.parameters["foundation"] = {"EnvironmentName": ENVIRONMENT}  # CaptureRetentionDays omitted: Default 14
    env.templates["foundation"]["Parameters"]["Token"] = {"Type": "String", "NoEcho": True}  # no value anywhere
    env.write()
    spec = load_manifest(env.manifest_path).stacks[0]
    assert api_parameters(spec, stack_exists=True) == [
        {"ParameterKey": "CaptureRetentionDays", "ParameterValue": "14"},
        {"ParameterKey": "EnvironmentName", "ParameterValue": ENVIRONMENT},
        {"ParameterKey": "Token", "UsePreviousValue": True},
    ]
    with pytest.raises(InputError, match="Token: a NoEcho parameter with no value and no Default"):
        api_parameters(spec, stack_exists=False)
