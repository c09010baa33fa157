"""How a change set is read and shown: CloudFormation's DescribeChangeSet responses (shapes from the API
reference; moto fills neither Replacement nor Details) turned into ``+ ~ - ±`` lines and the summary."""

from __future__ import annotations

import io

from rich.console import Console

from deployer import changesets
from deployer.aws import Identity
from deployer.compare import ParamChange, StackDiff
from deployer.context import Context
from deployer.manifest import load_manifest
from deployer.plan import UPDATE, Plan, StackPlan, render_plan
from deployer.reporter import Reporter

from .conftest import make_clients
from .envs import foundation_env


def detail(name: str, recreation: str = "Never", source: str = "DirectModification", **target: str) -> dict:
    return {"Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation, **target},
            "Evaluation": "Static", "ChangeSource": source}


DESCRIPTION = {
    "Status": "CREATE_COMPLETE",
    "ExecutionStatus": "AVAILABLE",
    "Changes": [
        {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "ReportsParameter",
                                                "ResourceType": "AWS::SSM::Parameter", "Scope": [], "Details": []}},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "RetentionParameter", "PhysicalResourceId": "/churn/test/x",
            "ResourceType": "AWS::SSM::Parameter", "Replacement": "False", "Scope": ["Properties"],
            "Details": [detail("Value", source="ParameterReference", BeforeValue="14", AfterValue="30")]}},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Remove", "LogicalResourceId": "OldTopic", "PhysicalResourceId": "arn:aws:sns:eu-west-1:1:t",
            "ResourceType": "AWS::SNS::Topic", "PolicyAction": "Delete", "Scope": [], "Details": []}},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "JobDefinition", "ResourceType": "AWS::SageMaker::DataQualityJobDefinition",
            "Replacement": "True", "Scope": ["Properties"],
            "Details": [detail("JobResources", "Always"), detail("Environment", "Always")]}},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "Bucket", "ResourceType": "AWS::S3::Bucket",
            "Replacement": "Conditional", "Scope": ["Properties"],
            "Details": [detail("BucketName", "Conditionally", source="ParameterReference")]}},
    ],
}


def test_changes_are_read_with_action_replacement_and_forcing_properties():
    changes = {c.logical_id: c for c in changesets.parse(DESCRIPTION)}
    assert [c.symbol for c in changes.values()] == ["+", "~", "-", "±", "±"]
    assert changes["RetentionParameter"].values == [("Value", "14", "30")]
    assert changes["JobDefinition"].replaced_by == ["JobResources", "Environment"]
    assert changes["Bucket"].replacement == "Conditional"
    assert [c.logical_id for c in changesets.protected_hits(list(changes.values()), ["Bucket", "KmsKey"])] == ["Bucket"]
    assert not changesets.protected_hits(list(changes.values()), ["KmsKey"])


def test_plan_lines_and_summary(tmp_path):
    env = foundation_env(tmp_path)
    manifest = load_manifest(env.manifest_path)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    ctx = Context(manifest=manifest, clients=make_clients("http://unused.invalid"), reporter=Reporter(console))
    sp = StackPlan(spec=manifest.stacks[0], action=UPDATE, changes=changesets.parse(DESCRIPTION),
                   change_set_id="arn:aws:cloudformation:eu-west-1:1:changeSet/mmtool-1/abc",
                   diff=StackDiff(template_equal=True, parameters=[ParamChange("CaptureRetentionDays", "14", "30")]))
    plan = Plan(identity=Identity("123456789012", "arn:aws:iam::123456789012:user/ci"), stacks=[sp])

    render_plan(ctx, plan)

    lines = [" ".join(line.split()) for line in console.file.getvalue().splitlines()]
    assert "churn-test-foundation update (change set changeSet/mmtool-1)" in lines
    assert "+ ReportsParameter AWS::SSM::Parameter" in lines
    assert '~ RetentionParameter AWS::SSM::Parameter Value: 14 → 30' in lines
    assert "- OldTopic AWS::SNS::Topic" in lines
    assert "± JobDefinition AWS::SageMaker::DataQualityJobDefinition replaced (forced by JobResources, Environment; caused by the template)" in lines
    assert "± Bucket AWS::S3::Bucket may be replaced (forced by BucketName) REFUSED: protected resource" in lines
    assert '~ CaptureRetentionDays: "14" → "30"' in lines
    assert "Plan: 1 to add, 1 to change, 1 to destroy, 2 to replace." in lines
    assert "Refused: churn-test-foundation: Bucket (AWS::S3::Bucket) would be replaced; it is protected." in lines


def test_a_replacement_names_the_property_that_forces_it_and_what_caused_the_change():
    """DescribeChangeSet's Details: RequiresRecreation says which property forces the replacement, ChangeSource and
    CausingEntity what the change comes from (a parameter, another resource's attribute)."""
    from deployer.plan import change_detail

    description = {"Changes": [{"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "JobDefinition", "ResourceType": "AWS::SageMaker::DataQualityJobDefinition",
        "Replacement": "True", "Scope": ["Properties"],
        "Details": [detail("JobDefinitionName", "Always", source="ParameterReference", CausingEntity="Revision"),
                    detail("RoleArn", "Never", source="ResourceAttribute", CausingEntity="MonitoringRole.Arn")]}}]}
    # (CausingEntity sits beside Target in the API; the helper above puts extra keys in Target, so move it)
    for d in description["Changes"][0]["ResourceChange"]["Details"]:
        d["CausingEntity"] = d["Target"].pop("CausingEntity")

    (change,) = changesets.parse(description)

    assert change.causes == ["parameter Revision", "MonitoringRole.Arn"]
    assert change_detail(change) == ("replaced (forced by JobDefinitionName; caused by parameter Revision, "
                                     "MonitoringRole.Arn)")
