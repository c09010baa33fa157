"""Names composed from params values (mmtool/config/name_limits.py) are checked against AWS's limits at validation; the
table is complete: every name of the generated templates of a longest-possible environment is in it and fits the
limit botocore's service model gives."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest
import yaml

from mmtool.generate.synth import synthesize
from mmtool.config import name_limits as names
from mmtool.config.loader import params_from_data
from mmtool.errors import ParamsError
from tests.cfn_values import Resolver
from tests.conftest import REPO

# (CloudFormation type, property) -> the API member that takes the name (botocore: service, operation, member);
# None where botocore's model states no maximum (the limit is then the one documented, in names.py).
NAME_PROPERTIES = {
    ("AWS::SageMaker::Endpoint", "EndpointName"): ("sagemaker", "CreateEndpoint", "EndpointName"),
    ("AWS::SageMaker::Model", "ModelName"): ("sagemaker", "CreateModel", "ModelName"),
    ("AWS::SageMaker::DataQualityJobDefinition", "JobDefinitionName"):
        ("sagemaker", "CreateDataQualityJobDefinition", "JobDefinitionName"),
    ("AWS::SageMaker::ModelQualityJobDefinition", "JobDefinitionName"):
        ("sagemaker", "CreateModelQualityJobDefinition", "JobDefinitionName"),
    ("AWS::SageMaker::ModelBiasJobDefinition", "JobDefinitionName"):
        ("sagemaker", "CreateModelBiasJobDefinition", "JobDefinitionName"),
    ("AWS::SageMaker::ModelExplainabilityJobDefinition", "JobDefinitionName"):
        ("sagemaker", "CreateModelExplainabilityJobDefinition", "JobDefinitionName"),
    ("AWS::SageMaker::MonitoringSchedule", "MonitoringScheduleName"):
        ("sagemaker", "CreateMonitoringSchedule", "MonitoringScheduleName"),
    ("AWS::IAM::Role", "RoleName"): ("iam", "CreateRole", "RoleName"),
    ("AWS::Events::Rule", "Name"): ("events", "PutRule", "Name"),
    ("AWS::CloudWatch::Alarm", "AlarmName"): ("cloudwatch", "PutMetricAlarm", "AlarmName"),
    ("AWS::CloudWatch::Dashboard", "DashboardName"): None,
    ("AWS::SNS::Topic", "TopicName"): None,
    ("AWS::KMS::Alias", "AliasName"): ("kms", "CreateAlias", "AliasName"),
    ("AWS::SSM::Parameter", "Name"): ("ssm", "PutParameter", "Name"),
    ("AWS::Scheduler::Schedule", "Name"): ("scheduler", "CreateSchedule", "Name"),
    ("AWS::Scheduler::ScheduleGroup", "Name"): ("scheduler", "CreateScheduleGroup", "Name"),
    ("AWS::SQS::Queue", "QueueName"): None,
}
REVISION = re.compile(r"-[0-9a-f]{12}$")


def _botocore_max(member) -> int | None:
    if member is None:
        return None
    service, operation, name = member
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape.members[name].metadata.get("max")


def _longest(feature_room: int = 0, env: str = "staging") -> dict:
    """staging (a fleet: created and existing endpoints, every monitor, drift alarms) or prod (the single-endpoint
    form) with the longest project, environment and keys, and drift features as long as the alarm names allow (plus
    `feature_room`)."""
    data = yaml.safe_load((REPO / "params" / f"{env}.yaml").read_text())
    data["project"], data["environment"] = "p" * 19 + "q", "e" * 10
    if "endpoints" in data:
        data["endpoints"] = {"k" * 19 + str(i): entry for i, entry in enumerate(data["endpoints"].values())}
        drifts = [entry.get("drift_alarms", []) for entry in data["endpoints"].values()]
        scoped = len(f"{data['project']}-{data['environment']}-{'k' * 20}-drift-")
    else:
        drifts = [data["alarms"].get("drift", [])]
        scoped = len(f"{data['project']}-{data['environment']}-drift-")
    for drift in drifts:
        for index, alarm in enumerate(drift):
            alarm["feature"] = (alarm["feature"] + "f" * 300)[: min(200, 255 - scoped + feature_room) - index]
    return data


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_name_of_the_longest_environment_is_declared_and_fits_aws_limits(env):
    params = params_from_data(_longest(env=env), "params/longest.yaml", {}, None, REPO)
    declared: dict[str, list[names.ComposedName]] = {}
    for composed in names.composed_names(params):
        declared.setdefault(composed.name, []).append(composed)
    synthesis = synthesize(params, REPO)
    checked = set()
    for stack in synthesis.stacks:
        assert len(stack.stack_name) <= names.STACK_NAME and stack.stack_name in declared, stack.stack_name
        resolver = Resolver(stack.template, stack.parameters, params.region, "111122223333")
        resolver.values.update({lid: lid for lid in stack.template["Resources"]})  # Ref of a resource
        resolver.values.update({"Bucket.Arn": "arn:aws:s3:::bucket", "AccessLogsBucket.Arn": "arn:aws:s3:::logs"})
        for logical_id, resource in stack.template["Resources"].items():
            properties = resolver.properties(logical_id) if any(
                t == resource["Type"] for t, _ in NAME_PROPERTIES) else None
            for (kind, prop), member in NAME_PROPERTIES.items():
                if properties is None or kind != resource["Type"] or not isinstance(properties.get(prop), str):
                    continue
                name = REVISION.sub("-" + names.REVISION, properties[prop])
                checked.add((kind, prop))
                if kind == "AWS::SSM::Parameter":  # /<project>/<env>/<stack>[/<key>]/<value>: far below any limit
                    assert len(name) <= min(names.SSM_PARAMETER_NAME, _botocore_max(member)), name
                    continue
                assert name in declared, f"{stack.name}: {kind}.{prop} {name!r} is not in mmtool/config/name_limits.py"
                limit = _botocore_max(member)
                matching = [c for c in declared[name] if limit is None or c.limit == limit]
                assert matching, f"{name}: declared with limits {[c.limit for c in declared[name]]}, botocore: {limit}"
                assert all(len(name) <= c.limit for c in matching), name
    assert len(checked) >= 12, sorted(checked)


def test_one_character_more_in_a_drift_feature_is_refused_with_the_limit():
    with pytest.raises(ParamsError) as caught:
        params_from_data(_longest(feature_room=1), "params/longest.yaml", {}, None, REPO)
    [problem] = caught.value.problems
    assert re.fullmatch(r"endpoints\.k{19}0\.drift_alarms\[0\]\.feature", problem.field), problem
    assert "CloudWatch alarm name" in problem.message and "256 characters long; AWS allows at most 255" in problem.message


def test_an_endpoint_key_ending_in_a_hyphen_is_refused():
    data = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    data["endpoints"]["churn-"] = data["endpoints"].pop("churn")
    with pytest.raises(ParamsError) as caught:
        params_from_data(data, "params/staging.yaml", {}, "staging", REPO)
    assert caught.value.problems[0].field == "endpoints.churn-"
    assert "not ending in '-'" in caught.value.problems[0].message


def test_the_shipped_environments_compose_no_name_over_its_limit():
    from mmtool.config.loader import load_params

    for path in sorted((REPO / "params").glob("*.yaml")):
        params = load_params(path, REPO)
        assert all(c.problem is None for c in names.composed_names(params))
