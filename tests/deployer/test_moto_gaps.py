"""The places where deployer/moto_server.py makes moto answer as CloudFormation does, each checked on the
moto server the tests run (a test here fails against unpatched moto)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from deployer.moto_server import REPLACED_ON_CHANGE

from .envs import REGION

JOB_TYPE = "AWS::SageMaker::DataQualityJobDefinition"
TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Revision": {"Type": "String"}, "Retention": {"Type": "String"}},
    "Resources": {
        # moto accepts SageMaker job definitions without creating anything; its change sets still list them
        "JobDefinition": {"Type": JOB_TYPE, "Properties": {
            "JobDefinitionName": {"Fn::Sub": "churn-test-dq-${Revision}"}, "RoleArn": "arn:aws:iam::123456789012:role/r"}},
        "RetentionParameter": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/churn/test/retention", "Type": "String", "Value": {"Ref": "Retention"}}},
        "Untouched": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/churn/test/untouched", "Type": "String", "Value": "same"}},
    },
}


def _parameters(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _changes(cf, **values: str) -> dict[str, dict]:
    change_set = cf.create_change_set(StackName="gaps", ChangeSetName="c1", ChangeSetType="UPDATE",
                                      TemplateBody=json.dumps(TEMPLATE), Parameters=_parameters(**values))
    described = cf.describe_change_set(ChangeSetName=change_set["Id"])
    return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]}


def test_a_parameter_change_lists_its_resources_and_a_create_only_property_replaces(cf, aws):
    """A new revision renames the job definition (create-only: CloudFormation replaces it, caused by the
    parameter); a changed value of an SSM parameter is an update in place; a resource that refers to no
    changed parameter is not listed. Unpatched moto lists no resource at all for a parameter-only change."""
    cf.create_stack(StackName="gaps", TemplateBody=json.dumps(TEMPLATE), Parameters=_parameters(Revision="aaaa11", Retention="14"))

    changes = _changes(cf, Revision="bbbb22", Retention="30")

    assert sorted(changes) == ["JobDefinition", "RetentionParameter"]
    job = changes["JobDefinition"]
    assert (job["Action"], job["Replacement"], job["Scope"]) == ("Modify", "True", ["Properties"])
    assert job["Details"] == [{
        "Target": {"Attribute": "Properties", "Name": "JobDefinitionName", "RequiresRecreation": "Always"},
        "Evaluation": "Static", "ChangeSource": "ParameterReference", "CausingEntity": "Revision",
    }]
    # SSM parameters are not in the table: moto's own answer (no Replacement), which the engine shows as ~
    assert changes["RetentionParameter"]["Action"] == "Modify"
    assert "Replacement" not in changes["RetentionParameter"]


def test_unchanged_parameters_change_nothing(cf, aws):
    """The added listing compares with the values the stack was deployed with: nothing changed, nothing
    listed (moto then answers as CloudFormation: no updates)."""
    cf.create_stack(StackName="gaps", TemplateBody=json.dumps(TEMPLATE), Parameters=_parameters(Revision="aaaa11", Retention="14"))

    with pytest.raises(ClientError, match="No updates are to be performed"):
        _changes(cf, Revision="aaaa11", Retention="14")


@pytest.mark.parametrize("resource_type", sorted(REPLACED_ON_CHANGE))
def test_replaced_on_change_matches_the_resource_schemas(resource_type):
    """The table says: every writable property but the listed ones is create-only. cfn-lint ships the
    CloudFormation resource provider schemas, which say exactly that."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema
    create_only = {p.rsplit("/", 1)[-1] for p in schema.get("createOnlyProperties", [])}
    read_only = {p.rsplit("/", 1)[-1] for p in schema.get("readOnlyProperties", [])}
    writable = set(schema["properties"]) - read_only
    assert writable - create_only == set(REPLACED_ON_CHANGE[resource_type])


def test_a_model_keeps_its_network_isolation(aws):
    """DescribeModel says what CreateModel was given (unpatched moto answers EnableNetworkIsolation false for every
    model, so the plan's Clarify check of an existing endpoint's model could never see an isolated one)."""
    import boto3

    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=aws.url)
    container = {"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud:3"}
    for name, isolated in (("isolated", True), ("open", False)):
        sagemaker.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                               PrimaryContainer=container, EnableNetworkIsolation=isolated)
    sagemaker.create_model(ModelName="unset", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                           PrimaryContainer=container)
    described = {n: sagemaker.describe_model(ModelName=n)["EnableNetworkIsolation"] for n in ("isolated", "open", "unset")}
    assert described == {"isolated": True, "open": False, "unset": False}


def test_a_resource_the_stack_does_not_have_is_not_listed(cf, aws):
    """A resource whose Condition is false (the processing engine's schedule of a model-monitor endpoint) refers to
    the changed parameter too, but the stack never created it: CloudFormation lists no change of it."""
    template = {**TEMPLATE, "Conditions": {"Never": {"Fn::Equals": [{"Ref": "Retention"}, "never"]}},
                "Resources": {**TEMPLATE["Resources"], "Absent": {
                    "Type": "AWS::SSM::Parameter", "Condition": "Never", "Properties": {
                        "Name": "/churn/test/absent", "Type": "String", "Value": {"Ref": "Retention"}}}}}
    cf.create_stack(StackName="gaps", TemplateBody=json.dumps(template),
                    Parameters=_parameters(Revision="aaaa11", Retention="14"))
    change_set = cf.create_change_set(StackName="gaps", ChangeSetName="c1", ChangeSetType="UPDATE",
                                      TemplateBody=json.dumps(template),
                                      Parameters=_parameters(Revision="aaaa11", Retention="30"))
    described = cf.describe_change_set(ChangeSetName=change_set["Id"])
    assert [c["ResourceChange"]["LogicalResourceId"] for c in described["Changes"]] == ["RetentionParameter"]


def test_a_stack_alarm_is_created_updated_renamed_and_deleted_with_its_stack(cf, aws):
    """AWS::CloudWatch::Alarm through CloudFormation (deployer/moto_server.py): the alarm exists with the template's
    properties, an update changes it in place, a new name replaces it, and deleting the stack removes it."""
    import boto3

    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=aws.url)

    def template(name: str, threshold: int) -> str:
        return json.dumps({"Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": name, "Namespace": "AWS/Events", "MetricName": "FailedInvocations",
            "Dimensions": [{"Name": "RuleName", "Value": "r"}], "Statistic": "Sum", "Period": 3600,
            "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}}}})

    def alarms() -> dict[str, float]:
        return {a["AlarmName"]: a["Threshold"] for a in cloudwatch.describe_alarms(AlarmNamePrefix="gap-")["MetricAlarms"]}

    cf.create_stack(StackName="alarm-gap", TemplateBody=template("gap-a", 1))
    assert alarms() == {"gap-a": 1.0}
    cf.update_stack(StackName="alarm-gap", TemplateBody=template("gap-a", 5))
    assert alarms() == {"gap-a": 5.0}
    cf.update_stack(StackName="alarm-gap", TemplateBody=template("gap-b", 5))
    assert alarms() == {"gap-b": 5.0}
    cf.delete_stack(StackName="alarm-gap")
    assert alarms() == {}
