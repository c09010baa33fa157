"""Intent tests: what each generated template must say, and why (beside the golden snapshots)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from mmtool.params import image_accounts
from mmtool.security.checks import WILDCARD_ALLOWED
from mmtool.synth import revision
from tests.conftest import REPO


def template(paths, stack: str, env: str = "dev") -> dict:
    return json.loads((paths.build / env / f"{stack}.template.json").read_text())


def parameters(paths, stack: str, env: str = "dev") -> dict[str, str]:
    body = json.loads((paths.build / env / f"{stack}.parameters.json").read_text())
    return {p["ParameterKey"]: p["ParameterValue"] for p in body}


def resources(t: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == kind}


def statements(policy: dict) -> list[dict]:
    return policy["PolicyDocument"]["Statement"] if "PolicyDocument" in policy else policy["Statement"]


# --- one artifact for every environment ---------------------------------------------------------


def test_templates_are_identical_in_every_environment(built):
    """Environments differ only in parameter values: one template to review and to publish."""
    for stack in ("foundation", "network", "endpoint", "monitoring"):
        bodies = {(built.build / env / f"{stack}.template.json").read_bytes() for env in ("dev", "staging", "prod")}
        assert len(bodies) == 1, stack


def test_parameter_files_differ_where_environments_differ(built):
    assert parameters(built, "endpoint", "dev")["SamplingPercentage"] == "100"
    assert parameters(built, "endpoint", "prod")["SamplingPercentage"] == "20"
    assert parameters(built, "network", "prod")["ExistingVpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert "ExistingVpcId" not in parameters(built, "network", "dev")


# --- endpoint and Data Capture ------------------------------------------------------------------


def test_data_capture_config_has_the_endpoint_shape(built):
    """troposphere 4.11 types DataCaptureConfig with the batch shape (reference §0.3); ours must not."""
    config = template(built, "endpoint")["Resources"]["EndpointConfig"]["Properties"]["DataCaptureConfig"]
    for key in ("EnableCapture", "InitialSamplingPercentage", "CaptureOptions", "DestinationS3Uri", "KmsKeyId",
                "CaptureContentTypeHeader"):
        assert key in config, key
    assert config["EnableCapture"] is True
    assert config["InitialSamplingPercentage"] == {"Ref": "SamplingPercentage"}


def test_capture_is_input_and_output_separately_never_combined(built):
    """CaptureMode InputAndOutput is rejected by endpoint creation (reference §8 #5)."""
    text = (built.build / "dev" / "endpoint.template.json").read_text()
    assert "InputAndOutput" not in text
    options = template(built, "endpoint")["Resources"]["EndpointConfig"]["Properties"]["DataCaptureConfig"]["CaptureOptions"]
    assert options["Fn::If"][1] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert parameters(built, "endpoint")["CaptureModes"] == "Input,Output"


def test_capture_destination_has_no_trailing_slash(built):
    """A trailing slash makes capture keys '…//endpoint/…' that the monitor never finds (reference §8 #2)."""
    config = template(built, "endpoint")["Resources"]["EndpointConfig"]["Properties"]["DataCaptureConfig"]
    assert config["DestinationS3Uri"] == {"Fn::Sub": "s3://${BucketName}/${CapturePrefix}"}
    assert not parameters(built, "endpoint")["CapturePrefix"].endswith("/")


def test_sampling_percentage_is_what_each_environment_asked_for(built):
    for env, expected in (("dev", "100"), ("staging", "50"), ("prod", "20")):
        assert parameters(built, "endpoint", env)["SamplingPercentage"] == expected


def test_model_runs_in_the_private_subnets(built):
    model = template(built, "endpoint")["Resources"]["Model"]["Properties"]
    assert model["VpcConfig"] == {"SecurityGroupIds": [{"Ref": "JobSecurityGroupId"}], "Subnets": {"Ref": "SubnetIds"}}


# --- monitoring ----------------------------------------------------------------------------------


def test_analyzer_image_comes_from_a_region_mapping_covering_every_region(built):
    """One hard-coded account breaks every other region (reference §8 #6, aws-cdk#12208)."""
    t = template(built, "monitoring")
    reference = json.loads((REPO / "tests" / "data" / "reference" / "model-monitor-image-accounts.json").read_text()) \
        if (REPO / "tests" / "data" / "reference" / "model-monitor-image-accounts.json").exists() else image_accounts()
    assert {r: v["Account"] for r, v in t["Mappings"]["ModelMonitorImage"].items()} == reference
    image = t["Resources"]["DataQualityJobDefinition"]["Properties"]["DataQualityAppSpecification"]["ImageUri"]
    assert image["Fn::Sub"][0] == "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sagemaker-model-monitor-analyzer"
    assert image["Fn::Sub"][1]["Account"] == {"Fn::FindInMap": ["ModelMonitorImage", {"Ref": "AWS::Region"}, "Account"]}


def test_schedule_points_at_the_named_job_definition(built):
    """Ref of a job definition is its ARN; the schedule wants the name (reference §0.4)."""
    resources_ = template(built, "monitoring")["Resources"]
    job_name = resources_["DataQualityJobDefinition"]["Properties"]["JobDefinitionName"]
    schedule = resources_["DataQualitySchedule"]
    assert schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == job_name
    assert schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringType"] == "DataQuality"
    assert schedule["DependsOn"] == ["DataQualityJobDefinition"]
    assert job_name == {"Fn::Sub": "${ProjectName}-${EnvironmentName}-dq-${DataQualityRevision}"}


def test_job_definition_is_hardened(built):
    props = template(built, "monitoring")["Resources"]["DataQualityJobDefinition"]["Properties"]
    network = props["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert network["VpcConfig"]["Subnets"] == {"Ref": "SubnetIds"}
    assert props["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == {"Ref": "KmsKeyArn"}
    assert props["DataQualityJobOutputConfig"]["KmsKeyId"] == {"Ref": "KmsKeyArn"}
    assert props["StoppingCondition"] == {"MaxRuntimeInSeconds": {"Ref": "DataQualityMaxRuntimeSeconds"}}


def test_cloudwatch_metrics_are_published_explicitly(built):
    """IaC-created definitions without the variable publish nothing (reference §8 #9)."""
    spec = template(built, "monitoring")["Resources"]["DataQualityJobDefinition"]["Properties"]["DataQualityAppSpecification"]
    assert spec["Environment"] == {"publish_cloudwatch_metrics": {"Ref": "DataQualityPublishMetrics"}}
    assert parameters(built, "monitoring")["DataQualityPublishMetrics"] == "Enabled"


def test_monitoring_resources_carry_explicit_tags(built):
    """CloudFormation does not propagate stack tags to these types (reference §8 #13)."""
    t = template(built, "monitoring")
    for logical in ("DataQualityJobDefinition", "DataQualitySchedule"):
        tags = {tag["Key"]: tag["Value"] for tag in t["Resources"][logical]["Properties"]["Tags"]}
        assert tags["Project"] == {"Ref": "ProjectName"}
        assert tags["cost-center"] == {"Ref": "TagCostCenter"}
    assert parameters(built, "monitoring", "prod")["TagDataClassification"] == "confidential"


def test_preprocessor_is_a_content_hashed_asset(built):
    manifest = json.loads((built.build / "dev" / "manifest.json").read_text())
    (asset,) = manifest["assets"]
    assert asset["key"].startswith(f"monitoring-assets/{asset['sha256'][:20]}/")
    assert parameters(built, "monitoring")["DataQualityPreprocessorKey"] == asset["key"]
    body = (built.build / "dev" / asset["file"]).read_bytes()
    ast.parse(body)  # the rendered pre-processor is valid Python


def test_revision_changes_with_every_value_the_definition_uses(built):
    """Job definitions are create-only: a changed definition needs a new name (reference §0.2)."""
    t = template(built, "monitoring")
    values = parameters(built, "monitoring")
    base = revision(t, "DataQualityJobDefinition", values)
    assert base == values["DataQualityRevision"]
    for name, new in (("DataQualityInstanceType", "ml.m5.2xlarge"), ("DataQualityBaselineConstraintsUri", "s3://x/c.json"),
                      ("SubnetIds", "/other/subnets")):
        assert revision(t, "DataQualityJobDefinition", {**values, name: new}) != base, name
    # the schedule updates in place: changing it must not replace the definition
    assert revision(t, "DataQualityJobDefinition", {**values, "DataQualityScheduleExpression": "NOW"}) == base


# --- IAM ------------------------------------------------------------------------------------------


def test_roles_trust_only_sagemaker_from_this_account(built):
    for stack, logical in (("foundation", "MonitoringRole"), ("endpoint", "EndpointRole")):
        trust = template(built, stack)["Resources"][logical]["Properties"]["AssumeRolePolicyDocument"]
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}




def test_iam_has_no_wildcard_actions_and_wildcard_resources_only_where_unavoidable(built):
    for stack in ("foundation", "endpoint", "monitoring"):
        for logical, resource in template(built, stack)["Resources"].items():
            if resource["Type"] not in ("AWS::IAM::Role", "AWS::IAM::Policy"):
                continue
            policies = resource["Properties"].get("Policies", [resource["Properties"]])
            for policy in policies:
                for statement in statements(policy):
                    actions = statement["Action"]
                    assert not any(a.endswith(":*") or a == "*" for a in actions), (logical, actions)
                    if "*" in statement["Resource"]:
                        assert set(actions) <= set(WILDCARD_ALLOWED), (logical, actions)


def test_s3_access_is_scoped_to_prefixes(built):
    role = template(built, "foundation")["Resources"]["MonitoringRole"]["Properties"]["Policies"][0]
    by_sid = {s["Sid"]: s for s in statements(role)}
    writes = [r["Fn::Sub"][1]["Prefix"] for r in by_sid["WriteReportsAndBaselines"]["Resource"]]
    assert writes == ["reports", "baselines"]
    assert "s3:prefix" in json.dumps(by_sid["ListOwnPrefixes"]["Condition"])


# --- storage and encryption -----------------------------------------------------------------------


def test_bucket_and_key_are_retained_on_delete_and_replacement(built):
    t = template(built, "foundation")
    for logical in ("Bucket", "KmsKey"):
        assert t["Resources"][logical]["DeletionPolicy"] == "Retain"
        assert t["Resources"][logical]["UpdateReplacePolicy"] == "Retain"


def test_bucket_is_encrypted_versioned_private_and_tls_only(built):
    t = template(built, "foundation")
    bucket = t["Resources"]["Bucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    deny = statements(t["Resources"]["BucketPolicy"]["Properties"])[0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_capture_data_expires_after_the_retention_days(built):
    rules = template(built, "foundation")["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    capture = next(r for r in rules if r["Id"] == "ExpireCapture")
    assert capture == {"ExpirationInDays": {"Ref": "CaptureRetentionDays"}, "Id": "ExpireCapture",
                       "Prefix": {"Fn::Sub": "${CapturePrefix}/"}, "Status": "Enabled"}
    assert parameters(built, "foundation", "prod")["CaptureRetentionDays"] == "90"


def test_key_rotates(built):
    key = template(built, "foundation")["Resources"]["KmsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    for statement in key["KeyPolicy"]["Statement"]:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}


# --- network --------------------------------------------------------------------------------------


def test_interface_endpoints_have_private_dns(built):
    endpoints = resources(template(built, "network"), "AWS::EC2::VPCEndpoint")
    services = {}
    for logical, resource in endpoints.items():
        props = resource["Properties"]
        service = props["ServiceName"]["Fn::Sub"].removeprefix("com.amazonaws.${AWS::Region}.")
        services[service] = props
        if props["VpcEndpointType"] == "Interface":
            assert props["PrivateDnsEnabled"] is True, logical
    assert set(services) == {"sagemaker.api", "sagemaker.runtime", "logs", "monitoring", "sts", "ecr.api", "ecr.dkr",
                             "kms", "s3"}
    assert services["s3"]["VpcEndpointType"] == "Gateway"


def test_s3_gateway_policy_allows_only_our_bucket_ecr_layers_and_named_objects(built):
    s3 = template(built, "network")["Resources"]["S3GatewayEndpoint"]["Properties"]["PolicyDocument"]
    resources_ = [json.dumps(s["Resource"]) for s in s3["Statement"]]
    assert "${BucketName}" in resources_[0]
    assert "prod-${AWS::Region}-starport-layer-bucket/*" in resources_[1]
    assert resources_[2] == json.dumps({"Ref": "ExternalReadObjectArns"})
    assert parameters(built, "network")["ExternalReadObjectArns"] == \
        "arn:aws:s3:::churn-models-111122223333/xgboost/2026-11-20/model.tar.gz"
    assert all(s["Effect"] == "Allow" for s in s3["Statement"])


def test_security_groups_never_open_to_the_internet_and_describe_every_rule(built):
    t = template(built, "network")
    rules = []
    for resource in t["Resources"].values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            rules += props.get("SecurityGroupIngress", []) + props.get("SecurityGroupEgress", [])
        elif resource["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            rules.append(props)
    assert rules
    for rule in rules:
        assert rule.get("CidrIp") not in ("0.0.0.0/0",) and rule.get("CidrIpv6") != "::/0", rule
        assert rule.get("Description"), rule


def test_created_vpc_has_no_internet_route(built):
    t = template(built, "network")
    kinds = {r["Type"] for r in t["Resources"].values()}
    assert not kinds & {"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route",
                        "AWS::EC2::VPCGatewayAttachment"}
    for subnet in resources(t, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


# --- cross-stack wiring without our tool -----------------------------------------------------------


def test_every_consumed_value_is_published_upstream_under_the_same_ssm_name(built):
    """A platform team deploys in order with plain aws cloudformation deploy: nothing to copy by hand."""
    manifest = json.loads((built.build / "prod" / "manifest.json").read_text())
    published: dict[str, str] = {}
    for stack in manifest["stacks"]:
        t = template(built, stack["name"], "prod")
        for resource in resources(t, "AWS::SSM::Parameter").values():
            name = resource["Properties"]["Name"]["Fn::Sub"].replace("${ProjectName}", "churn") \
                .replace("${EnvironmentName}", "prod")
            published[name] = stack["name"]
        values = parameters(built, stack["name"], "prod")
        for pname, declaration in t["Parameters"].items():
            if declaration["Type"].startswith("AWS::SSM::Parameter::Value"):
                source = published.get(values[pname])
                assert source in stack["depends_on"], (stack["name"], pname, values[pname])


def test_templates_never_import_boto3():
    """Templates are pure functions of the params: no AWS calls, no I/O (STYLE principle 1)."""
    for path in (REPO / "templates").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = node.module if isinstance(node, ast.ImportFrom) else ""
            for name in names + [module or ""]:
                assert not name.split(".")[0] in {"boto3", "botocore", "os", "subprocess", "requests", "deployer"}, (
                    path.name, name)


@pytest.mark.parametrize("stack", ["foundation", "network", "endpoint", "monitoring"])
def test_parameters_have_labels_and_groups(built, stack):
    """Service Catalog and the console show a readable form (AWS::CloudFormation::Interface)."""
    t = template(built, stack)
    interface = t["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [p for g in interface["ParameterGroups"] for p in g["Parameters"]]
    assert sorted(grouped) == sorted(t["Parameters"])
    assert set(interface["ParameterLabels"]) == set(t["Parameters"])
    for name, declaration in t["Parameters"].items():
        assert declaration.get("Description"), name
