"""The Service Catalog endpoint-monitoring product: monitoring for an existing endpoint, launched by its owner.

What a launch becomes is checked by resolving the nested stack's Parameters as CloudFormation would (the
product's Defaults and a launch's choices) and checking them against the monitoring template's own parameter
constraints, so a choice the product offers can never be one the nested template refuses."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from mmtool.generate import parameter_sets
from mmtool.handoff import catalog
from templates import endpoint_monitoring as product


def template(built, env: str) -> dict:
    return json.loads((built.build / env / "endpoint-monitoring.template.json").read_text())


def resolve(node, values: dict, mappings: dict):
    """Ref, Fn::Sub (no pseudo parameters) and Fn::FindInMap with a launch's parameter values."""
    if isinstance(node, str):
        return node
    (function, argument), = node.items()
    if function == "Ref":
        return values[argument]
    if function == "Fn::Sub":
        return re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda m: values[m.group(1)], argument)
    if function == "Fn::FindInMap":
        name, top, second = (resolve(a, values, mappings) for a in argument)
        return mappings[name][top][second]
    raise AssertionError(f"cannot resolve {node}")


def launch(wrapper: dict, choices: dict[str, str]) -> dict[str, str]:
    """The nested stack's parameter values for a launch with these choices (the rest at their Defaults)."""
    values = {name: spec.get("Default") for name, spec in wrapper["Parameters"].items()}
    values.update(choices)
    assert all(value is not None for value in values.values()), values  # every required choice was made
    nested = wrapper["Resources"]["Monitoring"]["Properties"]["Parameters"]
    return {name: resolve(value, values, wrapper.get("Mappings", {})) for name, value in nested.items()}


@pytest.mark.parametrize("schedule", sorted(product.SCHEDULES))
def test_every_choice_the_product_offers_is_a_value_the_monitoring_template_accepts(built, schedule):
    monitoring = json.loads((built.build / "staging" / "monitoring.template.json").read_text())
    child = launch(template(built, "staging"), {"EndpointName": "fraud-scoring-staging", "MonitorName": "fraud-v2",
                                                "Schedule": schedule, "InstanceType": "ml.c5.2xlarge"})
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in child.items()]
    assert parameter_sets.check_values(monitoring, entries) == []
    cron, period = product.SCHEDULES[schedule]
    assert (child["DataQualityScheduleExpression"], child["DataQualityAlarmPeriod"]) == (cron, str(period))
    assert (child["EndpointKey"], child["EndpointName"], child["DataQualityEnabled"]) == \
        ("sc-fraud-v2", "fraud-scoring-staging", "true")
    assert (child["CapturePrefix"], child["ReportsPrefix"], child["BaselinesPrefix"]) == \
        ("datacapture/sc-fraud-v2", "reports/sc-fraud-v2", "baselines/sc-fraud-v2")
    assert child["BucketName"] == "/churn/staging/foundation/bucket-name"  # the environment's SSM parameters
    assert child["DataQualityInstanceType"] == "ml.c5.2xlarge"
    # only data quality, and CloudFormation names the job definitions (a changed setting replaces one cleanly)
    assert all(child[f"{m}Enabled"] == "false" for m in ("ModelQuality", "ModelBias", "ModelExplainability"))
    assert all(child[name] == "" for name in child if name.endswith("Revision"))


def test_the_nested_template_is_the_monitoring_template_make_catalog_uploads(built):
    for env in built.environments():
        published = {p.stack: p for p in catalog.product_templates(built.build / env)}
        url = template(built, env)["Resources"]["Monitoring"]["Properties"]["TemplateURL"]["Fn::Sub"]
        assert url.endswith(f"/{published['monitoring'].key}")
        assert published["monitoring"].sha256 == hashlib.sha256(
            (built.build / env / "monitoring.template.json").read_bytes()).hexdigest()
        assert "endpoint-monitoring" in published


def test_the_product_serves_its_own_environment_only(built):
    for env in built.environments():
        parameters = template(built, env)["Parameters"]
        assert parameters["EnvironmentName"]["AllowedValues"] == [env]
        assert parameters["BucketName"]["Default"] == f"/churn/{env}/foundation/bucket-name"
        assert parameters["MonitorName"]["AllowedPattern"] == "^[a-z][a-z0-9-]{0,16}$"  # sc-<name>: 20 at most


def test_the_monitor_name_cannot_reach_outside_its_prefixes(built):
    """The name is part of every prefix the job role may read: it cannot contain '/' or '*'."""
    pattern = template(built, "staging")["Parameters"]["MonitorName"]["AllowedPattern"]
    for bad in ("churn/../x", "a*", "UPPER", "-x", "a" * 18):
        assert re.fullmatch(pattern, bad) is None, bad


def test_the_product_is_a_sagemaker_studio_project_template(built):
    """Studio passes SageMakerProjectName and SageMakerProjectId to a project template and refuses one that does
    not declare them; launched from Service Catalog they are empty."""
    wrapper = template(built, "staging")
    for name in ("SageMakerProjectName", "SageMakerProjectId"):
        spec = wrapper["Parameters"][name]
        assert spec["Default"] == "" and re.fullmatch(spec["AllowedPattern"], "")
    assert re.fullmatch(wrapper["Parameters"]["SageMakerProjectId"]["AllowedPattern"], "p-abcdef123456")
    assert wrapper["Outputs"]["SageMakerProject"]["Condition"] == "StudioProject"
    child = launch(wrapper, {"EndpointName": "e", "MonitorName": "m", "SageMakerProjectName": "fraud-team",
                             "SageMakerProjectId": "p-abcdef123456"})
    assert child["EndpointKey"] == "sc-m"  # the project changes nothing of what is deployed


def _holds(node, values: dict) -> bool:
    """A rule's condition or assertion (Fn::Or, Fn::Not, Fn::Equals of Refs) with a launch's values."""
    (function, argument), = node.items()
    if function == "Fn::Or":
        return any(_holds(a, values) for a in argument)
    if function == "Fn::Not":
        return not _holds(argument[0], values)
    if function == "Fn::Equals":
        left, right = (values[a["Ref"]] if isinstance(a, dict) else a for a in argument)
        return left == right
    raise AssertionError(node)


@pytest.mark.parametrize("constraints, statistics, refused", [
    ("", "", False), ("baselines/sc-m/c.json", "baselines/sc-m/s.json", False),
    ("baselines/sc-m/c.json", "", True), ("", "baselines/sc-m/s.json", True),
])
def test_a_baseline_needs_both_files_or_the_launch_is_refused(built, constraints, statistics, refused):
    """The monitoring template silently ignores a baseline of one file: CloudFormation refuses it up front."""
    rule = template(built, "staging")["Rules"]["BaselineNeedsBothFiles"]
    values = {"BaselineConstraintsKey": constraints, "BaselineStatisticsKey": statistics}
    failed = _holds(rule["RuleCondition"], values) and not all(_holds(a["Assert"], values) for a in rule["Assertions"])
    assert failed is refused


# --- a launch against the moto server ---------------------------------------------------------------------


def test_a_launch_creates_the_nested_monitoring_stack_with_its_own_scoped_role(tmp_path, monkeypatch):
    """CloudFormation as moto runs it: the shared stacks deployed, the monitoring template uploaded where
    `make catalog` puts it, then the product launched as Service Catalog would (a stack of its template): the
    nested stack is created from the bucket, and its job role is the launch's own, reading only its prefixes."""
    import boto3

    from deployer import cli as engine
    from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
    from mmtool.generate.pipeline import build
    from tests.conftest import scratch_root

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    paths = scratch_root(tmp_path / "repo")
    build(paths, ["staging"], run_lint=False, out=lambda *_: None)
    folder = paths.build / "staging"
    manifest = json.loads((folder / "manifest.json").read_text())
    shared = {**manifest, "stacks": [s for s in manifest["stacks"] if s["endpoint"] is None],
              "assets": [], "copies": [], "deploy": {k: v for k, v in manifest["deploy"].items() if not k.endswith("role_arn")}}
    (folder / "shared.manifest.json").write_text(json.dumps(shared))
    with MotoServer() as moto:
        assert engine.deploy(folder / "shared.manifest.json", yes=True, skip_account_check=True,
                             endpoint_url=moto.url, poll_interval=0.05, show_outputs=False) == 0
        session = boto3.Session(aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                region_name="eu-west-1")
        cf, s3, iam, ssm = (session.client(n, endpoint_url=moto.url) for n in ("cloudformation", "s3", "iam", "ssm"))
        bucket = ssm.get_parameter(Name="/churn/staging/foundation/bucket-name")["Parameter"]["Value"]
        monitoring = (folder / "monitoring.template.json").read_bytes()
        s3.put_object(Bucket=bucket, Key=f"catalog-templates/monitoring/{hashlib.sha256(monitoring).hexdigest()}"
                      ".template.json", Body=monitoring, ServerSideEncryption="aws:kms")

        cf.create_stack(StackName="SC-123456789012-pp-launch1", TemplateBody=(folder / "endpoint-monitoring.template.json")
                        .read_text(), Capabilities=["CAPABILITY_NAMED_IAM"],
                        Parameters=[{"ParameterKey": "EndpointName", "ParameterValue": "fraud-scoring-v2"},
                                    {"ParameterKey": "MonitorName", "ParameterValue": "fraud-v2"},
                                    {"ParameterKey": "Schedule", "ParameterValue": "daily"}])
        stack = cf.describe_stacks(StackName="SC-123456789012-pp-launch1")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", cf.describe_stack_events(
            StackName="SC-123456789012-pp-launch1")["StackEvents"][:5]
        # the nested stack: created from the uploaded template, with the launch's values put in (moto computes
        # no Outputs through nested stacks, so the parent's outputs are not checked here)
        [resource] = cf.describe_stack_resources(StackName="SC-123456789012-pp-launch1")["StackResources"]
        assert resource["ResourceType"] == "AWS::CloudFormation::Stack"
        nested = cf.describe_stacks(StackName=resource["PhysicalResourceId"])["Stacks"][0]
        assert nested["StackStatus"] == "CREATE_COMPLETE"
        values = {p["ParameterKey"]: p["ParameterValue"] for p in nested["Parameters"]}
        assert (values["EndpointKey"], values["EndpointName"], values["CapturePrefix"]) == \
            ("sc-fraud-v2", "fraud-scoring-v2", "datacapture/sc-fraud-v2")
        assert (values["DataQualityScheduleExpression"], values["DataQualityAlarmPeriod"]) == ("cron(0 0 ? * * *)", "86400")
        assert values["DataQualityRevision"] == "" and values["ModelQualityEnabled"] == "false"
        role = iam.get_role(RoleName="churn-staging-sc-fraud-v2-monitoring")["Role"]
        assert "sagemaker.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
        policies = [iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
                    for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]]
        resources = json.dumps(policies)
        assert f"arn:aws:s3:::{bucket}/datacapture/sc-fraud-v2/*" in resources
        assert f"{bucket}/datacapture/fraud/" not in resources and f"{bucket}/datacapture/*" not in resources
