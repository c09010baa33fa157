"""Least privilege across a fleet (issue 22, part 7): no IAM statement of one endpoint's roles may match a resource of
another endpoint of the same environment.

A large fleet is generated with adversarial keys (keys that are prefixes of each other, keys that end like another
key's resource suffixes: `a`, `ab`, `a-b`, `a-dq`, `a-mq`, `a-endpoint`, `a-model`, ...), every monitor enabled, created
and existing endpoints mixed. Its templates are synthesized as `make build` does (mmtool.generate.synth), and for every
Allow statement of every role and policy of an endpoint's stacks each resource pattern is evaluated with the stack's
parameter values (tests/cfn_values.py; cross-stack SSM values replaced by stand-ins) and matched, with IAM's wildcard
rules (`*` any run of characters, `?` one), against the names and ARNs of every other endpoint's resources: its
endpoint, endpoint configs (the name CloudFormation generates too), model, job definitions, schedules, Clarify shadow
endpoints, alarms, roles, SSM parameters and objects under each of its S3 prefixes. The resources are read from that
endpoint's own synthesized stacks, not retyped here. Conditions (s3:prefix of ListBucket) are not evaluated: a
pattern that matches is reported even when a condition would narrow it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mmtool.generate.synth import synthesize
from mmtool.config.loader import load_params
from tests.cfn_values import Resolver

REPO = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "eu-west-1", "444455556666"
BUCKET = "churn-staging-bucket-4d5e6f"
STAND_INS = {"foundation/bucket-name": BUCKET,
             "foundation/kms-key-arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
# Keys chosen to collide: prefixes of each other, and endings that other keys' resources use as suffixes.
ADVERSARIAL = ["a", "a-clarif", "a-c", "clarify", "clarify-a", "ab", "a-b", "a-b-c", "a-dq", "a-mq", "a-mb", "a-me", "a-endpoint", "a-monitoring", "a-model",
               "a-data-quality", "a-model-quality", "a-model-bias", "a-explainability", "a-monitor-failed",
               "a-reports", "b", "b-a", "ba", "dq", "model", "endpoint", "x1", "x10", "x100"]
EXISTING = {"b-a", "x10"}  # deployed by someone else: only the monitoring stack is ours
SAGEMAKER_ARN_TYPES = {
    "AWS::SageMaker::Endpoint": ("endpoint", "EndpointName"),
    "AWS::SageMaker::EndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "AWS::SageMaker::Model": ("model", "ModelName"),
    "AWS::SageMaker::DataQualityJobDefinition": ("data-quality-job-definition", "JobDefinitionName"),
    "AWS::SageMaker::ModelQualityJobDefinition": ("model-quality-job-definition", "JobDefinitionName"),
    "AWS::SageMaker::ModelBiasJobDefinition": ("model-bias-job-definition", "JobDefinitionName"),
    "AWS::SageMaker::ModelExplainabilityJobDefinition": ("model-explainability-job-definition", "JobDefinitionName"),
    "AWS::SageMaker::MonitoringSchedule": ("monitoring-schedule", "MonitoringScheduleName"),
}


def fleet_params(tmp_path: Path, keys: list[str]) -> Any:
    """params/staging.yaml with `keys` as its endpoints: each a copy of churn (every monitor) or of fraud (existing)."""
    data = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    churn, fraud = data["endpoints"]["churn"], data["endpoints"]["fraud"]
    endpoints = {}
    for key in keys:
        if key in EXISTING:
            entry = copy.deepcopy(fraud)
            entry["existing"] = {"endpoint_name": f"{key}-team-endpoint"}
        else:
            entry = copy.deepcopy(churn)
        endpoints[key] = entry
    data["endpoints"] = endpoints
    (tmp_path / "params").mkdir(exist_ok=True)
    path = tmp_path / "params" / "staging.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_params(path, REPO)


NAME_PROPERTIES = ("RoleName", "EndpointName", "ModelName", "JobDefinitionName", "MonitoringScheduleName", "Name",
                   "AlarmName", "TopicName")


class StackResolver(Resolver):
    """tests/cfn_values.py's Resolver, where a Ref to a resource of the stack is its physical name when the template
    sets one, else a stand-in."""

    def ref(self, name: str) -> Any:
        resources = self.template.get("Resources", {})
        if name in resources and name not in self.values:
            properties = resources[name].get("Properties", {})
            named = next((properties[p] for p in NAME_PROPERTIES if p in properties), None)
            return self.resolve(named) if named is not None else f"<{name}>"
        return super().ref(name)


def resolver(stack: Any) -> Resolver:
    values = dict(stack.parameters)
    for name, spec in stack.template.get("Parameters", {}).items():
        if spec.get("Type", "").startswith("AWS::SSM::Parameter::Value") and name in values:
            ssm = values[name]
            values[name] = next((v for k, v in STAND_INS.items() if ssm.endswith(k)), f"<ssm:{ssm}>")
    return StackResolver(stack.template, values, REGION, ACCOUNT)


def statements(stack: Any) -> list[tuple[str, str, dict]]:
    """(logical id, policy name, statement) of every Allow statement of a role or policy of the stack, resolved."""
    found = []
    resolve = resolver(stack)
    for logical_id, resource in stack.template["Resources"].items():
        kind = resource["Type"]
        if kind not in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        properties = resolve.properties(logical_id)
        if properties is None:
            continue
        documents = ([(p.get("PolicyName", "?"), p["PolicyDocument"]) for p in properties.get("Policies", [])]
                     if kind == "AWS::IAM::Role" else [(properties.get("PolicyName", logical_id), properties["PolicyDocument"])])
        for policy, document in documents:
            for statement in document.get("Statement", []):
                if statement.get("Effect") == "Allow":
                    found.append((logical_id, policy, statement))
    return found


def owned_resources(params: Any, entry: Any, stacks: list[Any]) -> set[str]:
    """The names and ARNs of one endpoint's resources, read from its synthesized stacks and its params entry."""
    sagemaker = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
    owned = {f"{sagemaker}endpoint/{entry.endpoint_name(params).lower()}"}
    for stack in stacks:
        resolve = resolver(stack)
        for logical_id, resource in stack.template["Resources"].items():
            properties = resolve.properties(logical_id)
            if properties is None:
                continue
            kind = resource["Type"]
            if kind in SAGEMAKER_ARN_TYPES:
                arn_type, name_property = SAGEMAKER_ARN_TYPES[kind]
                name = properties.get(name_property)
                # without a name CloudFormation generates one from the stack's name and the logical id
                names = [name] if isinstance(name, str) else [f"{stack.stack_name}-{logical_id}-1A2B3C4D5E6F",
                                                              f"{logical_id}-1A2B3C4D5E6F"]
                owned.update(f"{sagemaker}{arn_type}/{n.lower()}" for n in names)
            elif kind == "AWS::CloudWatch::Alarm" and isinstance(properties.get("AlarmName"), str):
                owned.add(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{properties['AlarmName']}")
            elif kind == "AWS::IAM::Role" and isinstance(properties.get("RoleName"), str):
                owned.add(f"arn:aws:iam::{ACCOUNT}:role/{properties['RoleName']}")
            elif kind == "AWS::SSM::Parameter" and isinstance(properties.get("Name"), str):
                owned.add(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{properties['Name']}")
            elif kind == "AWS::Events::Rule" and isinstance(properties.get("Name"), str):
                owned.add(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{properties['Name']}")
    from mmtool.generate.clarify import shadow_endpoint_prefix

    shadow = shadow_endpoint_prefix(params, entry)
    owned |= {f"{sagemaker}endpoint/{shadow}-1a2b3c", f"{sagemaker}endpoint-config/{shadow}-1a2b3c"}
    for prefix in (entry.capture_prefix(params), entry.batch_capture_prefix(params), entry.reports_prefix(params),
                   entry.ground_truth_prefix(params), entry.baselines_prefix(params)):
        owned |= {f"arn:aws:s3:::{BUCKET}/{prefix}/object", f"arn:aws:s3:::{BUCKET}/{prefix}/merge/object"}
    return owned


def iam_match(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def crossings(params: Any) -> list[str]:
    """Every (role statement of endpoint A, resource of endpoint B) pair whose pattern matches, as text."""
    synthesis = synthesize(params, REPO)
    entries = {e.key: e for e in params.fleet()}
    by_key: dict[str, list[Any]] = {}
    for stack in synthesis.stacks:
        if stack.endpoint is not None:
            by_key.setdefault(stack.endpoint, []).append(stack)
    owned = {key: owned_resources(params, entries[key], stacks) for key, stacks in by_key.items()}
    found = []
    for key, stacks in by_key.items():
        for stack in stacks:
            for logical_id, policy, statement in statements(stack):
                resources = statement.get("Resource", [])
                for pattern in [resources] if isinstance(resources, str) else resources:
                    if pattern == "*":
                        continue  # the actions that support no resource (mmtool.security WILDCARD_ALLOWED)
                    for other, theirs in owned.items():
                        if other == key:
                            continue
                        for arn in sorted(theirs):
                            if iam_match(pattern, arn):
                                found.append(f"{key}: {stack.stack_name} {logical_id} ({policy}) "
                                             f"{statement.get('Sid', '')} {pattern} matches {other}'s {arn}")
    return found


def test_no_role_of_one_endpoint_matches_another_endpoints_resources(tmp_path):
    params = fleet_params(tmp_path, ADVERSARIAL)
    assert len(params.fleet()) == len(ADVERSARIAL)
    assert crossings(params) == []


def test_a_key_within_another_keys_clarify_shadow_endpoints_is_refused_at_validation(tmp_path):
    """The one crossing the check found: endpoints.a's role may create, call and delete the endpoints named
    `<project>-<env>-a-clarify*` (its Clarify shadow endpoints), which would include the endpoint, endpoint config and
    shadow endpoints of a key `a-clarify`. Such keys (and existing endpoints with such names) are refused."""
    from mmtool.errors import ParamsError

    for keys in (["a", "a-clarify"], ["a-clarifyx", "a"]):
        with pytest.raises(ParamsError) as error:
            fleet_params(tmp_path, keys)
        bad = keys[1] if keys[0] == "a" else keys[0]
        assert f"endpoints.{bad}={bad}: its resources would be named churn-staging-{bad}-…, within " \
               "churn-staging-a-clarify*, the names of endpoints.a's Clarify shadow endpoints" in str(error.value)
    data_keys = ["a", "b-a"]  # b-a is an existing endpoint
    params_path = tmp_path / "params" / "staging.yaml"
    fleet_params(tmp_path, data_keys)
    data = yaml.safe_load(params_path.read_text())
    data["endpoints"]["b-a"]["existing"]["endpoint_name"] = "churn-staging-a-clarify-blue"
    params_path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParamsError) as error:
        load_params(params_path, REPO)
    assert ("endpoints.b-a.existing.endpoint_name=churn-staging-a-clarify-blue: the name is within "
            "churn-staging-a-clarify*") in str(error.value)


def test_without_that_rule_the_check_finds_the_crossing(tmp_path, monkeypatch):
    """The whole check can fail: with the validation rule switched off, key a-clarify is reachable from a's role."""
    from mmtool.config.params import Params

    monkeypatch.setattr(Params, "_check_fleet_names", lambda self: None)
    found = crossings(fleet_params(tmp_path, ["a", "a-clarify", "b"]))
    prefix = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
    assert f"ShadowEndpointLifecycle {prefix}endpoint/churn-staging-a-clarify* matches a-clarify's " \
           f"{prefix}endpoint/churn-staging-a-clarify" in "\n".join(found)
    assert {line.split(":")[0] for line in found} == {"a"}


def test_the_check_can_fail():
    """A pattern one character too wide is caught: `<prefix>-a*` matches key ab's endpoint."""
    assert iam_match("arn:aws:sagemaker:eu-west-1:1:endpoint/churn-staging-a*",
                     "arn:aws:sagemaker:eu-west-1:1:endpoint/churn-staging-ab")
    assert not iam_match("arn:aws:sagemaker:eu-west-1:1:endpoint/churn-staging-a-x*",
                         "arn:aws:sagemaker:eu-west-1:1:endpoint/churn-staging-ab")
    assert iam_match("arn:aws:s3:::b/datacapture/a?/x", "arn:aws:s3:::b/datacapture/ab/x")
