"""Intent tests: what each generated template must say, and why (beside the golden snapshots)."""

from __future__ import annotations

import ast
import json

import pytest

from mmtool.config.params import image_accounts
from mmtool.security.checks import WILDCARD_ALLOWED
from templates.revisions import digest, reach
from tests.conftest import REPO
from tests.test_sdk_fidelity import ACCOUNT


def revision(t: dict, logical_id: str, values: dict[str, str], upstream: dict[str, str] | None = None) -> str:
    """The revision of resource `logical_id` for these values (templates/revisions.py, as the build computes it)."""
    return digest(reach(t, logical_id), t, values, upstream)


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
    for stack in ("foundation", "network", "endpoint", "monitoring", "alarms"):
        bodies = {(built.build / env / f"{stack}.template.json").read_bytes() for env in ("dev", "staging", "prod")}
        assert len(bodies) == 1, stack


def test_parameter_files_differ_where_environments_differ(built):
    assert parameters(built, "endpoint", "dev")["SamplingPercentage"] == "100"
    assert parameters(built, "endpoint", "prod")["SamplingPercentage"] == "20"
    assert parameters(built, "network", "prod")["ExistingVpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert "ExistingVpcId" not in parameters(built, "network", "dev")


# --- endpoint and Data Capture ------------------------------------------------------------------


def test_data_capture_config_has_the_endpoint_shape(built):
    """troposphere 4.11 types DataCaptureConfig with the batch shape (CloudFormation's AWS::SageMaker::EndpointConfig schema); ours must not."""
    config = template(built, "endpoint")["Resources"]["EndpointConfig"]["Properties"]["DataCaptureConfig"]
    for key in ("EnableCapture", "InitialSamplingPercentage", "CaptureOptions", "DestinationS3Uri", "KmsKeyId",
                "CaptureContentTypeHeader"):
        assert key in config, key
    assert config["EnableCapture"] is True
    assert config["InitialSamplingPercentage"] == {"Ref": "SamplingPercentage"}


def test_capture_is_input_and_output_separately_never_combined(built):
    """CaptureMode InputAndOutput is rejected by endpoint creation (boto/boto3#3440)."""
    text = (built.build / "dev" / "endpoint.template.json").read_text()
    assert "InputAndOutput" not in text
    options = template(built, "endpoint")["Resources"]["EndpointConfig"]["Properties"]["DataCaptureConfig"]["CaptureOptions"]
    assert options["Fn::If"][1] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert parameters(built, "endpoint")["CaptureModes"] == "Input,Output"


def test_capture_destination_has_no_trailing_slash(built):
    """A trailing slash makes capture keys '…//endpoint/…' that the monitor never finds (aws/amazon-sagemaker-examples#1938)."""
    config = template(built, "endpoint")["Resources"]["EndpointConfig"]["Properties"]["DataCaptureConfig"]
    assert config["DestinationS3Uri"] == {"Fn::Sub": "s3://${BucketName}/${CapturePrefix}"}
    assert not parameters(built, "endpoint")["CapturePrefix"].endswith("/")


def test_sampling_percentage_is_what_each_environment_asked_for(built):
    for env, stack, expected in (("dev", "endpoint", "100"), ("staging", "churn-endpoint", "50"),
                                 ("staging", "upsell-endpoint", "20"), ("prod", "endpoint", "20")):
        assert parameters(built, stack, env)["SamplingPercentage"] == expected  # staging: defaults, then upsell's own


def test_model_runs_in_the_private_subnets(built):
    model = template(built, "endpoint")["Resources"]["Model"]["Properties"]
    assert model["VpcConfig"] == {"SecurityGroupIds": [{"Ref": "JobSecurityGroupId"}], "Subnets": {"Ref": "SubnetIds"}}


# --- monitoring ----------------------------------------------------------------------------------


def test_analyzer_image_comes_from_a_region_mapping_covering_every_region(built):
    """One hard-coded account breaks every other region (aws/aws-cdk#12208)."""
    t = template(built, "monitoring")
    reference = json.loads((REPO / "tests" / "data" / "reference" / "model-monitor-image-accounts.json").read_text()) \
        if (REPO / "tests" / "data" / "reference" / "model-monitor-image-accounts.json").exists() else image_accounts()
    assert {r: v["Account"] for r, v in t["Mappings"]["ModelMonitorImage"].items()} == reference
    image = t["Resources"]["DataQualityJobDefinition"]["Properties"]["DataQualityAppSpecification"]["ImageUri"]
    assert image["Fn::Sub"][0] == "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sagemaker-model-monitor-analyzer"
    assert image["Fn::Sub"][1]["Account"] == {"Fn::FindInMap": ["ModelMonitorImage", {"Ref": "AWS::Region"}, "Account"]}


def test_schedule_points_at_the_named_job_definition(built):
    """Ref of a job definition is its ARN; the schedule wants the name (the return values of AWS::SageMaker::DataQualityJobDefinition in the CloudFormation template reference)."""
    resources_ = template(built, "monitoring")["Resources"]
    job_name = {"Fn::Sub": "${ProjectName}-${EnvironmentName}-dq-${DataQualityRevision}"}
    # named by its revision; without one (a Service Catalog launch) CloudFormation names it
    assert resources_["DataQualityJobDefinition"]["Properties"]["JobDefinitionName"] == \
        {"Fn::If": ["HasDataQualityRevision", job_name, {"Ref": "AWS::NoValue"}]}
    schedule = resources_["DataQualitySchedule"]
    # ours, or the name CloudFormation gave it, the last part of its ARN; the Ref orders the schedule after it
    assert schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == {"Fn::If": [
        "HasDataQualityRevision", job_name,
        {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "DataQualityJobDefinition"}]}]}]}
    assert schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringType"] == "DataQuality"


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
    """IaC-created definitions without the variable publish nothing (hashicorp/terraform-provider-aws#36047)."""
    spec = template(built, "monitoring")["Resources"]["DataQualityJobDefinition"]["Properties"]["DataQualityAppSpecification"]
    assert spec["Environment"] == {"publish_cloudwatch_metrics": {"Ref": "DataQualityPublishMetrics"}}
    assert parameters(built, "monitoring")["DataQualityPublishMetrics"] == "Enabled"


def test_monitoring_resources_carry_explicit_tags(built):
    """CloudFormation does not propagate stack tags to these types (aws-cloudformation/cloudformation-coverage-roadmap#2338)."""
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
    """Job definitions are create-only: a changed definition needs a new name (CloudFormation's resource schemas and botocore's sagemaker model)."""
    t = template(built, "monitoring")
    values = parameters(built, "monitoring")
    base = revision(t, "DataQualityJobDefinition", values)  # (the file's revision also counts upstream values: below)
    for name, new in (("DataQualityInstanceType", "ml.m5.2xlarge"),
                      ("DataQualityBaselineConstraintsKey", "baselines/imported/0123456789abcdef/c.json")):
        assert revision(t, "DataQualityJobDefinition", {**values, name: new}) != base, name
    # the schedule updates in place: changing it must not replace the definition
    assert revision(t, "DataQualityJobDefinition", {**values, "DataQualityScheduleExpression": "NOW"}) == base


def _monitoring_values(scratch, change) -> dict[str, str]:
    """dev's monitoring parameter values after `change(params data)`, synthesized."""
    from mmtool.generate.synth import synthesize
    from mmtool.config.loader import load_params
    from tests.conftest import dev_params, write_params

    data = dev_params()
    change(data)
    params = load_params(write_params(scratch, data), scratch.root)
    return next(s.parameters for s in synthesize(params, scratch.root).stacks if s.kind == "monitoring")


REVISION_PARAMETERS = {"DataQualityRevision", "ModelQualityRevision", "ModelBiasRevision", "ModelExplainabilityRevision"}


@pytest.mark.parametrize("what, change", [
    # the key read through SSM: another key ARN under the same SSM name
    ("kms key", lambda d: d["encryption"].update(kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/0000aaaa-1111")),
    # the subnets and the job security group (in the VPC): a new VPC replaces both, same SSM names
    ("vpc", lambda d: d["network"]["create"].update(vpc_cidr="10.31.0.0/20", private_subnets=[
        {"cidr": "10.31.0.0/22", "availability_zone": "eu-west-1a"},
        {"cidr": "10.31.4.0/22", "availability_zone": "eu-west-1b"}])),
    # one subnet moves to another zone: a new subnet, a new id under the same SSM name
    ("subnet zone", lambda d: d["network"]["create"]["private_subnets"][1].update(availability_zone="eu-west-1c")),
])
def test_job_definitions_are_renamed_when_a_value_they_read_from_another_stack_changes(scratch, what, change):
    """Issue 22 part 8: the monitoring stack's parameter file holds only the SSM names of upstream values, which a
    deploy never changes; the revisions count what the values are made from, so the names change with them."""
    base = _monitoring_values(scratch, lambda d: None)
    changed = _monitoring_values(scratch, change)
    assert {k: changed[k] for k in ("SubnetIds", "JobSecurityGroupId", "KmsKeyArn", "BucketName")} == \
        {k: base[k] for k in ("SubnetIds", "JobSecurityGroupId", "KmsKeyArn", "BucketName")}
    assert {k for k in REVISION_PARAMETERS if changed[k] != base[k]} == REVISION_PARAMETERS, what


def test_upstream_changes_that_replace_nothing_rename_nothing(scratch):
    """Only what decides an upstream id counts (a resource's create-only properties): a retention period or the
    VPC endpoints change no subnet, security group, key or bucket, so no job definition is replaced for them."""
    def change(data):
        data["storage"]["capture_retention_days"] = 21
        data["storage"]["report_retention_days"] = 500
        data["network"]["create_vpc_endpoints"] = False

    base, changed = _monitoring_values(scratch, lambda d: None), _monitoring_values(scratch, change)
    assert {k: changed[k] for k in REVISION_PARAMETERS} == {k: base[k] for k in REVISION_PARAMETERS}


def test_a_finished_template_finds_each_revision_reach_once_and_again_when_finished_anew(monkeypatch):
    """A fleet computes every endpoint's parameter file from one finished template: what a revision's resource
    depends on is found once, not per endpoint, while each endpoint's values still give its own revision; a
    template changed and finished again is read anew."""
    from troposphere import Join, Ref
    from troposphere.sns import Topic

    from mmtool.config.loader import params_from_data
    from templates import common
    from tests.conftest import dev_params

    found = []
    monkeypatch.setattr(common, "reach", lambda t, logical_id: found.append(logical_id) or reach(t, logical_id))
    st = common.StackTemplate("test", "a test stack")
    size = st.param("Size", "A size.", group="G", label="Size", value=lambda i: i.model)
    st.param("SizeRevision", "Its revision.", group="G", label="Revision")
    topic = st.template.add_resource(Topic("Topic", TopicName=Join("-", [Ref(size), Ref("SizeRevision")])))
    st.revision("SizeRevision", topic)
    st.finish()
    params = params_from_data(dev_params(), "params/dev.yaml", None, "dev", REPO)
    small, large, small_again = (st.parameter_file(common.Inputs(params, model=m))["SizeRevision"]
                                 for m in ("small", "large", "small"))
    assert small != large and small == small_again and found == ["Topic"]

    topic.DisplayName = "another name"  # the resource changes: so does its revision, once finished anew
    st.finish()
    assert st.parameter_file(common.Inputs(params, model="small"))["SizeRevision"] != small
    assert found == ["Topic", "Topic"]


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


def _evaluate(expression, values: dict[str, str], conditions: dict):
    """CloudFormation's Fn::And / Fn::Not / Fn::Equals / Ref / Condition, over parameter values."""
    if isinstance(expression, str):
        return expression
    (function, argument), = expression.items()
    if function == "Ref":
        return values[argument]
    if function == "Condition":
        return _evaluate(conditions[argument], values, conditions)
    if function == "Fn::Equals":
        return _evaluate(argument[0], values, conditions) == _evaluate(argument[1], values, conditions)
    if function == "Fn::Not":
        return not _evaluate(argument[0], values, conditions)
    if function == "Fn::And":
        return all(_evaluate(a, values, conditions) for a in argument)
    raise AssertionError(f"unexpected {function}")


def test_new_or_existing_vpc_and_neither_is_refused_before_any_change(built):
    """The template alone must work both ways (a platform team deploys it without our parameter files) and
    lint clean alone, so CreateVpc also requires the CIDRs (a linter then knows they are set wherever they
    are used). Given neither an existing VPC nor the CIDRs, the rule stops CloudFormation before anything
    is created: the security groups would otherwise land in the account's default VPC."""
    t = template(built, "network")
    conditions, rule = t["Conditions"], t["Rules"]["NewVpcNeedsCidrsAndZones"]
    defaults = {k: v.get("Default", "") for k, v in t["Parameters"].items()}

    def outcome(env: str | None) -> tuple[bool, bool]:
        values = {**defaults, **(parameters(built, "network", env) if env else {})}
        applies = _evaluate(rule["RuleCondition"], values, conditions)
        refused = applies and not all(_evaluate(a["Assert"], values, conditions) for a in rule["Assertions"])
        return _evaluate({"Condition": "CreateVpc"}, values, conditions), refused

    assert outcome("dev") == (True, False)  # a new VPC from the CIDRs of params/dev.yaml
    assert outcome("prod") == (False, False)  # the platform team's VPC
    assert outcome(None) == (False, True)  # the template alone with its defaults: refused, with a reason
    assert all("is required when ExistingVpcId is empty" in a["AssertDescription"] for a in rule["Assertions"])


# --- a Parameter and its value, declared together -------------------------------------------------


def test_every_parameter_without_a_default_is_declared_with_its_value():
    """A parameter file is computed from the values declared with the Parameters (templates/common.py), so a
    Parameter CloudFormation requires cannot be left out of the file, and no file names an undeclared Parameter."""
    from mmtool.config.loader import load_params
    from templates import catalog
    from templates import STACKS

    params = load_params(REPO / "params" / "staging.yaml", REPO)
    for module in (*STACKS, catalog):
        st = module.build(params)
        declared = st.template.parameters
        required = {title for title, parameter in declared.items() if "Default" not in parameter.properties}
        assert required - set(st.values) - set(st.revisions) == set(), module.STACK
        assert set(st.values) <= set(declared), module.STACK


def test_a_value_declared_with_its_parameter_reaches_the_parameter_file():
    from mmtool.config.loader import load_params
    from templates import network
    from templates.common import Inputs

    params = load_params(REPO / "params" / "prod.yaml", REPO)
    values = network.build(params).parameter_file(Inputs(params))
    assert values["ExistingVpcId"] == params.network.existing.vpc_id
    assert "VpcCidr" not in values  # None: left out, the Default holds


# --- cross-stack wiring without our tool -----------------------------------------------------------


def test_every_consumed_value_is_published_upstream_under_the_same_ssm_name(built):
    """A platform team deploys in order with plain aws cloudformation deploy: nothing to copy by hand."""
    manifest = json.loads((built.build / "prod" / "manifest.json").read_text())
    published: dict[str, str] = {}
    for stack in manifest["stacks"]:
        t = template(built, stack["name"], "prod")
        for resource in resources(t, "AWS::SSM::Parameter").values():
            name = resource["Properties"]["Name"]
            name = name["Fn::If"][2] if "Fn::If" in name else name  # prod is the single-endpoint form
            name = name["Fn::Sub"].replace("${ProjectName}", "churn") \
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


@pytest.mark.parametrize("stack", ["foundation", "network", "endpoint", "monitoring", "alarms"])
def test_parameters_have_labels_and_groups(built, stack):
    """Service Catalog and the console show a readable form (AWS::CloudFormation::Interface)."""
    t = template(built, stack)
    interface = t["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [p for g in interface["ParameterGroups"] for p in g["Parameters"]]
    assert sorted(grouped) == sorted(t["Parameters"])
    assert set(interface["ParameterLabels"]) == set(t["Parameters"])
    for name, declaration in t["Parameters"].items():
        assert declaration.get("Description"), name


# --- model quality, model bias, model explainability ----------------------------------------------


@pytest.mark.parametrize("stem,code,suffix,kind", [
    ("ModelQuality", "mq", "model-quality", "ModelQuality"),
    ("ModelBias", "mb", "model-bias", "ModelBias"),
    ("ModelExplainability", "me", "model-explainability", "ModelExplainability"),
])
def test_each_model_monitor_schedule_points_at_its_named_definition(built, stem, code, suffix, kind):
    """Same pattern as data quality: a revision-named definition (replaceable), a schedule that follows it by
    name and waits for it, each optional per environment (CloudFormation's AWS::SageMaker job definition and schedule schemas)."""
    t = template(built, "monitoring")
    job = t["Resources"][f"{stem}JobDefinition"]
    schedule = t["Resources"][f"{stem}Schedule"]
    name = {"Fn::Sub": f"${{ProjectName}}-${{EnvironmentName}}-{code}-${{{stem}Revision}}"}
    assert job["Properties"]["JobDefinitionName"] == {"Fn::If": [f"Has{stem}Revision", name, {"Ref": "AWS::NoValue"}]}
    assert job["Condition"] == schedule["Condition"] == stem
    config = schedule["Properties"]["MonitoringScheduleConfig"]
    assert config["MonitoringJobDefinitionName"] == {"Fn::If": [
        f"Has{stem}Revision", name, {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": f"{stem}JobDefinition"}]}]}]}
    assert config["MonitoringType"] == kind
    # the single-endpoint form keeps today's schedule names; a fleet endpoint's carry its key and a short code
    assert schedule["Properties"]["MonitoringScheduleName"] == {"Fn::If": ["Fleet", {
        "Fn::Sub": f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{code}"}, {
        "Fn::Sub": f"${{ProjectName}}-${{EnvironmentName}}-{suffix}"}]}
    # explicit tags: these types do not inherit stack tags (aws-cloudformation/cloudformation-coverage-roadmap#2338)
    assert {tag["Key"] for tag in job["Properties"]["Tags"]} >= {"Project", "Environment", "cost-center"}


def test_monitors_are_enabled_where_each_environment_asked(built):
    """dev: data quality only; prod: model quality; staging: everything. One template, different values."""
    expected = {"dev": ("true", "false", "false", "false"), "prod": ("true", "true", "false", "false"),
                "staging": ("true", "true", "true", "true")}
    for env, flags in expected.items():
        values = parameters(built, "churn-monitoring" if env == "staging" else "monitoring", env)
        assert tuple(values[f"{s}Enabled"] for s in ("DataQuality", "ModelQuality", "ModelBias",
                                                     "ModelExplainability")) == flags, env


def test_model_quality_reads_ground_truth_inside_the_project_bucket(built):
    """The merge job needs the labels; the role in foundation may read exactly that prefix."""
    props = template(built, "monitoring")["Resources"]["ModelQualityJobDefinition"]["Properties"]
    assert props["ModelQualityJobInput"]["GroundTruthS3Input"] == {"S3Uri": {"Fn::Sub": "s3://${BucketName}/${GroundTruthPrefix}"}}
    assert props["ModelQualityAppSpecification"]["ProblemType"] == {"Ref": "ModelQualityProblemType"}
    role = template(built, "foundation")["Resources"]["MonitoringRole"]["Properties"]["Policies"][0]
    reads = {s["Sid"]: s for s in statements(role)}["ReadCaptureBaselinesAndAssets"]["Resource"]
    assert {"Fn::Sub": ["${Bucket.Arn}/${Prefix}/*", {"Prefix": {"Ref": "GroundTruthPrefix"}}]} in reads
    values = parameters(built, "monitoring", "prod")
    assert (values["ModelQualityMaxRuntimeSeconds"], values["ModelQualityScheduleExpression"]) == ("1800", "cron(0 * ? * * *)")
    assert (values["ModelQualityProbabilityThreshold"], values["ModelQualityStartTimeOffset"]) == ("0.5", "-PT3H")


def test_clarify_image_comes_from_a_region_mapping_of_the_clarify_table(built):
    """Bias and explainability run Clarify, whose accounts differ from the analyzer's (the SageMaker SDK's sagemaker/image_uri_config/model-monitor.json and clarify.json)."""
    t = template(built, "monitoring")
    reference = json.loads((REPO / "mmtool" / "config" / "data" / "clarify-image-accounts.json").read_text())
    assert {r: v["Account"] for r, v in t["Mappings"]["ClarifyImage"].items()} == reference
    assert reference["us-west-2"] == "306415355426"  # the SDK's own unit-test expectation (the SageMaker SDK's sagemaker/image_uri_config/model-monitor.json and clarify.json)
    for stem in ("ModelBias", "ModelExplainability"):
        image = t["Resources"][f"{stem}JobDefinition"]["Properties"][f"{stem}AppSpecification"]["ImageUri"]["Fn::Sub"]
        assert image[0] == "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sagemaker-clarify-processing:1.0"
        assert image[1]["Account"] == {"Fn::FindInMap": ["ClarifyImage", {"Ref": "AWS::Region"}, "Account"]}


def _resolve_repositories(resources_: list, region: str, mappings: dict, conditions: dict[str, bool]) -> list[str]:
    """The repository ARNs a statement names in `region`, as CloudFormation would resolve them."""
    arns = []
    for resource in resources_:
        if "Fn::If" in resource:
            condition, yes, _no = resource["Fn::If"]
            if not conditions[condition]:
                continue
            resource = yes
        text, variables = resource["Fn::Sub"]
        mapping = variables["Account"]["Fn::FindInMap"][0]
        account = mappings[mapping][region]["Account"]
        arns.append(text.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", region)
                    .replace("${Account}", account))
    return arns


def test_the_role_pulls_exactly_the_regions_analyzer_and_clarify_repositories(built):
    """Every run is a processing job pulling an AWS-owned image (issue 16 #1). The pull actions name the
    analyzer, the ground-truth merger and Clarify's repository, each in the account the image table gives
    for the stack's region: per region its own account, never one typed in (aws/aws-cdk#12208)."""
    t = template(built, "monitoring")
    policy = t["Resources"]["ImagePullPolicy"]
    assert policy["Condition"] == "AnyMonitor"
    # the endpoint's execution role: a fleet endpoint's own, the foundation's in the single-endpoint form
    assert policy["Properties"]["Roles"] == [{"Fn::If": ["Fleet", {"Ref": "ExecutionRole"},
                                                         {"Fn::Sub": "${ProjectName}-${EnvironmentName}-monitoring"}]}]
    token, pull = statements(policy["Properties"])
    # GetAuthorizationToken supports no resource: "*" is the only value (and WILDCARD_ALLOWED says why).
    assert token == {"Sid": "RegistryToken", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]}
    assert "ecr:GetAuthorizationToken" in WILDCARD_ALLOWED
    assert sorted(pull["Action"]) == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    monitor, clarify = image_accounts(), image_accounts("clarify")
    for region, conditions in (("eu-west-1", {"Clarify": True}), ("us-west-2", {"Clarify": True}),
                               ("il-central-1", {"Clarify": False})):  # il-central-1: no Clarify image there
        arns = _resolve_repositories(pull["Resource"], region, t["Mappings"], conditions)
        expected = [f"arn:aws:ecr:{region}:{monitor[region]}:repository/sagemaker-model-monitor-analyzer",
                    f"arn:aws:ecr:{region}:{monitor[region]}:repository/sagemaker-model-monitor-groundtruth-merger"]
        if conditions["Clarify"]:
            expected.append(f"arn:aws:ecr:{region}:{clarify[region]}:repository/sagemaker-clarify-processing")
        assert arns == expected, region
    # the Clarify repository only with a Clarify monitor: its FindInMap would fail in a region the table lacks
    assert t["Conditions"]["Clarify"] == {"Fn::Or": [{"Condition": "ModelBias"}, {"Condition": "ModelExplainability"}]}


def test_model_quality_and_bias_read_back_exactly_their_merged_ground_truth(built):
    """The ground-truth merge job writes <S3Output.S3Uri>/merge/...; the analysis job reads it back as the
    same role, which otherwise only writes reports/ (issue 16 #5). Access denied there fails every run."""
    t = template(built, "monitoring")
    policy = t["Resources"]["MergedGroundTruthReadPolicy"]
    assert policy["Condition"] == "MergesGroundTruth"
    (statement,) = statements(policy["Properties"])
    assert statement["Action"] == ["s3:GetObject"]
    by_condition = {r["Fn::If"][0]: r["Fn::If"][1]["Fn::Sub"] for r in statement["Resource"]}
    outputs = {}
    for stem in ("ModelQuality", "ModelBias"):
        job = t["Resources"][f"{stem}JobDefinition"]["Properties"]
        (output,) = job[f"{stem}JobOutputConfig"]["MonitoringOutputs"]
        outputs[stem] = output["S3Output"]["S3Uri"]["Fn::Sub"]
        # exactly the merge folder under this monitor's output, nothing else of reports/
        assert by_condition[stem] == outputs[stem].replace("s3://", "arn:${AWS::Partition}:s3:::") + "/merge/*"
    assert set(by_condition) == {"ModelQuality", "ModelBias"}  # explainability merges no ground truth


def test_baselines_are_read_from_copies_in_the_project_bucket(built):
    """staging and prod name baselines in churn-baselines-*; the jobs read the copies make deploy writes under
    the endpoint's baselines prefix (baselines/imported/, or baselines/<key>/imported/ for a fleet endpoint: the
    project key, a prefix the endpoint's role reads and lists), so no policy reaches the other bucket (issue 16 #2)."""
    from mmtool.config.baselines import copy_key
    from mmtool.config.loader import load_params

    t = template(built, "monitoring")
    dq = t["Resources"]["DataQualityJobDefinition"]["Properties"]["DataQualityBaselineConfig"]["Fn::If"][1]
    assert dq["ConstraintsResource"]["S3Uri"] == {"Fn::Sub": "s3://${BucketName}/${DataQualityBaselineConstraintsKey}"}
    assert dq["StatisticsResource"]["S3Uri"] == {"Fn::Sub": "s3://${BucketName}/${DataQualityBaselineStatisticsKey}"}
    staging = load_params(built.params / "staging.yaml", built.root)
    for key in ("churn", "fraud"):
        endpoint = staging.endpoint(key)
        values = parameters(built, f"{key}-monitoring", "staging")
        assert values["DataQualityBaselineConstraintsKey"] == \
            copy_key(endpoint.monitoring.data_quality.baseline.constraints, f"baselines/{key}")
        if endpoint.monitoring.model_quality.baseline_constraints:  # churn's
            assert values["ModelQualityBaselineConstraintsKey"] == \
                copy_key(endpoint.monitoring.model_quality.baseline_constraints, f"baselines/{key}")
        assert values["DataQualityBaselineConstraintsKey"].startswith(f"baselines/{key}/imported/")
        assert values["BaselinesPrefix"] == f"baselines/{key}"  # the prefix the endpoint's own role reads
    prod = load_params(built.params / "prod.yaml", built.root)
    values = parameters(built, "monitoring", "prod")
    assert values["DataQualityBaselineConstraintsKey"] == copy_key(prod.monitoring.data_quality.baseline.constraints)
    assert values["DataQualityBaselineConstraintsKey"].startswith("baselines/imported/")
    for env in ("staging", "prod"):
        for path in (built.build / env).glob("*.json"):
            if path.name != "manifest.json":
                assert "churn-baselines" not in path.read_text(), (env, path.name)


def test_clarify_analysis_configs_are_content_hashed_assets_naming_the_endpoint_model(built):
    """The ConfigUri points at the generated analysis; explainability's predictor is the endpoint's model,
    whose name the endpoint stack fixes (so it is known when the asset is written)."""
    manifest = json.loads((built.build / "staging" / "manifest.json").read_text())
    assets = {a["file"]: a for a in manifest["assets"]}
    values = parameters(built, "churn-monitoring", "staging")
    for stem, file in (("ModelBias", "assets/churn/model-bias/analysis_config.json"),
                       ("ModelExplainability", "assets/churn/model-explainability/analysis_config.json")):
        assert values[f"{stem}ConfigKey"] == assets[file]["key"]
        # the content-hashed prefix, then the object name the SDK and AWS's samples give Clarify's configuration
        assert assets[file]["key"] == f"monitoring-assets/{assets[file]['sha256'][:20]}/analysis_config.json"
    explain = json.loads((built.build / "staging" / "assets" / "churn" / "model-explainability" / "analysis_config.json")
                         .read_text())
    revision_ = parameters(built, "churn-endpoint", "staging")["ModelRevision"]
    assert explain["predictor"]["model_name"] == values["ModelName"] == f"churn-staging-model-{revision_}"
    assert explain["predictor"]["endpoint_name_prefix"] == "churn-staging-churn-clarify"
    assert explain["headers"] == ["tenure_months", "monthly_charges", "total_charges", "contract_months",
                                  "support_calls", "age"]
    assert explain["methods"]["shap"]["baseline"] == [[24, 65.5, 1500.0, 12, 1, 45]]
    bias = json.loads((built.build / "staging" / "assets" / "churn" / "model-bias" / "analysis_config.json").read_text())
    assert bias["headers"][-1] == bias["label"] == "churned"  # the label header is last (the SageMaker SDK's sagemaker/clarify.py, DataConfig)
    # Clarify's threshold is the group's exclusive lower bound: [64] is "65 and older", as the comment says
    assert bias["facet"] == [{"name_or_index": "age", "value_or_threshold": [64]}]
    assert "predictor" not in bias  # bias monitoring reads captured predictions; it calls no endpoint
    # dev enables neither: no Clarify asset, empty keys
    assert [a["file"] for a in json.loads((built.build / "dev" / "manifest.json").read_text())["assets"]] == \
        ["assets/record_preprocessor.py"]


def test_endpoint_model_has_a_name_that_changes_with_its_content(built):
    """Model properties are create-only: a fixed name could not be replaced; the hash also covers the network
    values that decide its subnets and security group."""
    t = template(built, "endpoint")
    model = t["Resources"]["Model"]["Properties"]
    assert model["ModelName"] == {"Fn::Sub": "${ProjectName}-${EnvironmentName}-model-${ModelRevision}"}
    values = parameters(built, "endpoint")
    upstream = {k: parameters(built, "network").get(k, "") for k in
                ("VpcCidr", "PrivateSubnet1Cidr", "PrivateSubnet1Az", "PrivateSubnet2Cidr", "PrivateSubnet2Az",
                 "PrivateSubnet3Cidr", "PrivateSubnet3Az", "ExistingVpcId", "ExistingSubnetIds")}
    assert revision(t, "Model", values, upstream) == values["ModelRevision"]
    assert revision(t, "Model", {**values, "ModelImage": "x"}, upstream) != values["ModelRevision"]
    assert revision(t, "Model", values, {**upstream, "PrivateSubnet1Cidr": "10.30.8.0/22"}) != values["ModelRevision"]
    assert revision(t, "Model", {**values, "SamplingPercentage": "5"}, upstream) == values["ModelRevision"]
    published = resources(t, "AWS::SSM::Parameter")["ModelNameParameter"]["Properties"]
    assert published["Value"] == {"Fn::GetAtt": ["Model", "ModelName"]}


def test_the_model_drops_network_isolation_exactly_where_explainability_is_enabled(built):
    """Clarify's explainability job calls a shadow endpoint made from the Model, and AWS requires isolation off on
    the model as well as on the job (issue 15), per created endpoint: staging's churn (explainability on) derives
    false, staging's upsell and dev and prod keep it."""
    model = template(built, "endpoint")["Resources"]["Model"]["Properties"]
    assert model["EnableNetworkIsolation"] == {"Ref": "ModelNetworkIsolation"}
    stacks = {"dev": "", "staging": "churn-", "prod": ""}
    isolation = {env: parameters(built, f"{p}endpoint", env)["ModelNetworkIsolation"] for env, p in stacks.items()}
    explained = {env: parameters(built, f"{p}monitoring", env)["ModelExplainabilityEnabled"] for env, p in stacks.items()}
    assert explained == {"dev": "false", "staging": "true", "prod": "false"}
    assert isolation == {"dev": "true", "staging": "false", "prod": "true"}
    assert parameters(built, "upsell-monitoring", "staging")["ModelExplainabilityEnabled"] == "false"
    assert parameters(built, "upsell-endpoint", "staging")["ModelNetworkIsolation"] == "true"
    notes = {s["name"]: s.get("notes", []) for s in json.loads((built.build / "staging" / "manifest.json").read_text())["stacks"]}
    assert notes["churn-endpoint"][0].startswith(
        "model network isolation: off, derived from endpoints.churn.monitoring.model_explainability")
    assert not notes["upsell-endpoint"] and not notes["fraud-monitoring"]
    assert notes["churn-monitoring"] == ["model bias: sensitive group age > 64 (exclusive threshold of a continuous facet)"]
    assert "endpoint" not in {s["name"] for s in json.loads((built.build / "dev" / "manifest.json").read_text())["stacks"]
                              if s.get("notes")}


def test_only_explainability_runs_without_network_isolation(built):
    """Clarify calls its shadow endpoint for SHAP (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html); bias and quality need no network."""
    r = template(built, "monitoring")["Resources"]
    isolation = {stem: r[f"{stem}JobDefinition"]["Properties"]["NetworkConfig"]["EnableNetworkIsolation"]
                 for stem in ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")}
    assert isolation == {"DataQuality": True, "ModelQuality": True, "ModelBias": True, "ModelExplainability": False}
    for stem in isolation:
        network = r[f"{stem}JobDefinition"]["Properties"]["NetworkConfig"]
        assert network["EnableInterContainerTrafficEncryption"] is True
        assert network["VpcConfig"]["Subnets"] == {"Ref": "SubnetIds"}


def test_shadow_endpoint_permissions_are_scoped_to_our_model_and_prefix(built):
    """The monitoring role may describe only the endpoint's model and manage only <project>-<env>-clarify*
    endpoints (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html), and only while explainability is enabled."""
    policy = template(built, "monitoring")["Resources"]["ClarifyShadowEndpointPolicy"]
    assert policy["Condition"] == "ModelExplainability"
    describe, lifecycle = policy["Properties"]["PolicyDocument"]["Statement"]
    assert describe["Action"] == ["sagemaker:DescribeModel"]
    assert describe["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model/${ModelName}"}]
    assert set(lifecycle["Action"]) == {f"sagemaker:{a}" for a in (
        "CreateEndpointConfig", "DescribeEndpointConfig", "DeleteEndpointConfig", "CreateEndpoint", "DescribeEndpoint",
        "DeleteEndpoint", "InvokeEndpoint")}
    assert [r["Fn::If"][2]["Fn::Sub"].rsplit(":", 1)[1] for r in lifecycle["Resource"]] == [
        "endpoint-config/${ProjectName}-${EnvironmentName}-clarify*", "endpoint/${ProjectName}-${EnvironmentName}-clarify*"]
    # a fleet endpoint's role: only that endpoint's shadow endpoints (mmtool/generate/clarify.py names them so)
    assert [r["Fn::If"][1]["Fn::Sub"].rsplit(":", 1)[1] for r in lifecycle["Resource"]] == [
        "endpoint-config/${ProjectName}-${EnvironmentName}-${EndpointKey}-clarify*",
        "endpoint/${ProjectName}-${EnvironmentName}-${EndpointKey}-clarify*"]


# --- alarms ---------------------------------------------------------------------------------------


def test_alarm_topic_is_encrypted_and_the_key_admits_its_publishers(built):
    """Encrypted topic: EventBridge and CloudWatch need data keys."""
    topic = template(built, "alarms")["Resources"]["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "KmsKeyArn"}
    assert topic["TopicName"] == {"Fn::Sub": "${ProjectName}-${EnvironmentName}-alarms"}
    key = template(built, "foundation")["Resources"]["KmsKey"]["Properties"]["KeyPolicy"]["Statement"]
    by_sid = {s.get("Sid"): s for s in key}
    topic_arn = {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${ProjectName}-${EnvironmentName}-alarms"}
    alarms, events = by_sid["AlarmsPublishToEncryptedTopic"], by_sid["EventBridgePublishesToEncryptedTopic"]
    # AWS's documented statement for CloudWatch alarms and an SSE-KMS topic, exactly (Allow_CloudWatch_for_CMK):
    # no condition, since a condition key the KMS call SNS makes for an alarm lacks drops every notification.
    assert alarms == {"Sid": "AlarmsPublishToEncryptedTopic", "Effect": "Allow",
                      "Principal": {"Service": "cloudwatch.amazonaws.com"},
                      "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": ["*"]}
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}}
    assert sorted(events["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_only_this_environments_alarms_may_publish_to_the_topic(built):
    """The key admits CloudWatch unconditioned (AWS's statement); the topic policy is where publishing is
    limited to this account's <project>-<env>-* alarms, with the keys AWS documents for sns:Publish."""
    policy = template(built, "alarms")["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    alarms = {s["Sid"]: s for s in policy["Statement"]}["EnvironmentAlarmsPublish"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert alarms["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(":alarm:${ProjectName}-${EnvironmentName}-*")


def test_every_notification_rule_has_its_delivery_watched(built):
    """A notification EventBridge cannot deliver (key or topic policy) raises an alarm, for both rules:
    the violations rule's deliveries failed silently before (issue 16 #3)."""
    r = template(built, "alarms")["Resources"]
    rules = {logical for logical, res in r.items() if res["Type"] == "AWS::Events::Rule"}
    watched = {}
    for logical, res in resources(template(built, "alarms"), "AWS::CloudWatch::Alarm").items():
        props = res["Properties"]
        if props.get("Namespace") == "AWS/Events" and props["MetricName"] == "FailedInvocations":
            (dimension,) = props["Dimensions"]
            assert dimension["Name"] == "RuleName"
            rule = dimension["Value"]["Ref"]
            # the alarm exists exactly when its rule does
            assert res["Condition"] == r[rule]["Condition"], logical
            watched[rule] = props
    assert set(watched) == rules == {"ExecutionFailedRule", "ExecutionViolationsRule"}
    for props in watched.values():
        assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def alarms_resolver(paths, env: str, **values):
    """The alarms template with `env`'s parameter values (and `values` over them), as its deploy resolves it."""
    from tests.cfn_values import Resolver

    body = json.loads((paths.build / env / "alarms.parameters.json").read_text())
    given = {p["ParameterKey"]: p["ParameterValue"] for p in body}
    return Resolver(template(paths, "alarms", env), {**given, **values}, "eu-west-1", ACCOUNT)


def test_the_topic_admits_exactly_the_rules_of_this_environment(built):
    """The single-endpoint form: Model Monitor's two rules (this stack) and the processing engine's two (the
    monitoring stack, templates/processing_engine.py), by exact ARN, so a run with violations reaches the topic under
    either engine, and the Service Catalog launches' rules; a fleet: the environment's rule names."""
    policy = template(built, "alarms")["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    events = {s["Sid"]: s for s in policy["Statement"]}["ExecutionRulesPublish"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"} and events["Action"] == ["sns:Publish"]
    rule = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/churn-prod-"
    single = alarms_resolver(built, "prod").resolve(events["Condition"])
    assert single == {"ArnLike": {"aws:SourceArn": [
        rule + name for name in ("monitor-failed", "monitor-violations", "job-failed", "job-viol", "sc-*")]}}
    # sc-*: the Service Catalog launches' rules, keyed sc-<name> (a key prefix the params refuse for endpoints)
    product = template(built, "endpoint-monitoring", "prod")["Resources"]
    [stack] = [r for r in product.values() if r["Type"] == "AWS::CloudFormation::Stack"]
    assert stack["Properties"]["Parameters"]["EndpointKey"] == {"Fn::Sub": "sc-${MonitorName}"}
    fleet = alarms_resolver(built, "prod", EndpointName="").resolve(events["Condition"])
    assert fleet == {"ArnLike": {"aws:SourceArn": [rule + "*"]}}


def test_execution_rules_match_only_this_environments_schedules(built):
    """Monitoring executions are processing jobs whose events carry the schedule ARN; exact ARNs, not a prefix
    (another project may be named <project>-<env>)."""
    r = template(built, "alarms")["Resources"]
    failed = r["ExecutionFailedRule"]["Properties"]["EventPattern"]
    assert failed["source"] == ["aws.sagemaker"]
    assert failed["detail-type"] == ["SageMaker Processing Job State Change"]
    assert failed["detail"]["ProcessingJobStatus"] == ["Failed", "Stopped"]
    arns = alarms_resolver(built, "prod").resolve(failed["detail"]["MonitoringScheduleArn"])
    assert arns == [f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:monitoring-schedule/churn-prod-{s}" for s in (
        "data-quality", "model-quality", "model-bias", "model-explainability")]
    violations = r["ExecutionViolationsRule"]["Properties"]["EventPattern"]["detail"]
    assert violations["ProcessingJobStatus"] == ["Completed"]
    assert violations["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
    transformer = r["ExecutionFailedRule"]["Properties"]["Targets"][0]["InputTransformer"]
    assert transformer["InputPathsMap"]["schedule"] == "$.detail.MonitoringScheduleArn"
    message = transformer["InputTemplate"]["Fn::Sub"]
    for part in ("Schedule: <schedule>", "Endpoint: ${EndpointName}", "Status: <status> <exit>", "Reason: <reason>",
                 "#/processing-jobs/<job>", "s3://${BucketName}/reports/"):
        assert part in message, part


def test_drift_alarms_watch_the_named_features_of_the_data_quality_schedule(built):
    """Slots with conditions keep one template; each environment names its features and thresholds."""
    t = template(built, "alarms")
    alarm = t["Resources"]["DriftAlarm1"]["Properties"]
    assert alarm["Namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    assert alarm["MetricName"] == {"Fn::Sub": "feature_baseline_drift_${DriftAlarm1Feature}"}
    assert alarm["Dimensions"] == [{"Name": "Endpoint", "Value": {"Ref": "EndpointName"}},
                                   {"Name": "MonitoringSchedule", "Value": {"Fn::Sub": "${ProjectName}-${EnvironmentName}-data-quality"}}]
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert len(resources(t, "AWS::CloudWatch::Alarm")) == 10 + 3
    prod = parameters(built, "alarms", "prod")
    assert (prod["DriftAlarm1Feature"], prod["DriftAlarm1Threshold"]) == ("00000000000000000001", "0.15")
    assert "DriftAlarm3Feature" not in prod and prod["DataQualityAlarmPeriod"] == "3600"
    # a fleet endpoint's drift alarms are in its monitoring stack: churn in staging runs every 6 hours
    assert parameters(built, "churn-monitoring", "staging")["DataQualityAlarmPeriod"] == "21600"
    assert parameters(built, "alarms", "dev")["AlarmsEnabled"] == "false"


def test_failed_executions_alarm_counts_matches_of_the_failed_rule(built):
    """Model Monitor emits no execution-status metric; EventBridge counts each failed run it matched."""
    alarm = template(built, "alarms")["Resources"]["FailedExecutionsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "TriggeredRules")
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": "ExecutionFailedRule"}}]
    assert alarm["TreatMissingData"] == "notBreaching"


def test_subscriptions_come_from_the_params_file(built):
    values = parameters(built, "alarms", "prod")
    assert (values["Subscription1Protocol"], values["Subscription1Endpoint"]) == ("email", "ml-platform@example.com")
    assert values["Subscription2Protocol"] == "https"
    assert "Subscription3Protocol" not in values
    assert parameters(built, "alarms", "staging")["Subscription2Protocol"] == "sqs"


def test_dashboard_body_is_valid_json_in_every_combination_of_monitors(built):
    """Widgets of disabled parts are left out through conditions; whatever is enabled, the body is JSON: every
    combination of monitors in the single-endpoint form, and a fleet's overview (each endpoint's own dashboard is in
    its monitoring stack, so nothing here depends on the number of endpoints)."""
    import itertools

    body = template(built, "alarms")["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Join"][1]
    conditions = sorted({p["Fn::If"][0] for p in body if isinstance(p, dict) and "Fn::If" in p})
    single = ["DataQuality", "EnvironmentAlarms", "ModelBias", "ModelExplainability", "ModelQuality"]
    assert conditions == sorted(single + ["FleetOverview", "SingleEndpoint"])

    def resolve(part, on):
        if isinstance(part, str):
            return part
        if "Fn::If" in part:
            return resolve(part["Fn::If"][1] if on[part["Fn::If"][0]] else part["Fn::If"][2], on)
        return part["Fn::Sub"]

    for flags in itertools.product([True, False], repeat=len(single)):
        on = {**dict(zip(single, flags)), "FleetOverview": False, "SingleEndpoint": True}
        shown = json.loads("".join(resolve(p, on) for p in body))["widgets"]
        assert len(shown) == 1 + 2 * on["EnvironmentAlarms"] + 2 * on["DataQuality"] + on["ModelQuality"] + \
            on["ModelBias"] + on["ModelExplainability"]
    on = {**{c: False for c in single}, "FleetOverview": True, "SingleEndpoint": False}
    shown = json.loads("".join(resolve(p, on) for p in body))["widgets"]
    assert len(shown) == 4  # a header, then every endpoint's runs, drift and model metrics by search
    assert "found by search" in shown[0]["properties"]["markdown"]
    assert all("SEARCH(" in w["properties"]["metrics"][0][0]["expression"] for w in shown[1:])


def test_the_alarms_template_holds_no_slot_per_endpoint_and_stays_small(built):
    """Issue 23 part 5: a fleet's endpoints get their dashboards in their own monitoring stacks; the alarms template
    has no parameter or condition per endpoint, so its size no longer grows with a fleet's limit (it was 200 KB)."""
    t = template(built, "alarms")
    assert not [name for name in (*t["Parameters"], *t["Conditions"]) if name.startswith("Fleet") and name != "FleetOverview"]
    assert len((built.build / "dev" / "alarms.template.json").read_bytes()) <= 60_000


def test_alarms_stack_depends_on_what_it_reads(built):
    manifest = json.loads((built.build / "prod" / "manifest.json").read_text())
    alarms = manifest["stacks"][-1]
    # the key; endpoint names are parameter values now (a fleet has many endpoint stacks, or none)
    assert alarms["name"] == "alarms" and alarms["depends_on"] == ["foundation"]
    assert alarms["protected_resources"] == [] and alarms["capabilities"] == []
