"""The Service Catalog endpoint-monitoring product: monitoring for an existing endpoint, launched by its owner.

What a launch becomes is checked by resolving the nested stack's Parameters as CloudFormation would (the
product's Defaults and a launch's choices) and checking them against the monitoring template's own parameter
constraints, so a choice the product offers can never be one the nested template refuses."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest
from botocore.validate import ParamValidator

from mmtool.generate import parameter_sets
from mmtool.handoff import catalog
from templates import endpoint_monitoring as product
from tests.cfn_values import Resolver
from tests.conftest import REPO
from tests.test_sdk_fidelity import ACCOUNT, DEPLOYED


def template(built, env: str) -> dict:
    return json.loads((built.build / env / "endpoint-monitoring.template.json").read_text())


STACK_UUID = "1c2fa620-982a-11e3-aff7-50e2416294e0"  # the form of AWS's own example stack ids
LAUNCH_STACK_ID = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/SC-{ACCOUNT}-pp-abcdefghijklm/{STACK_UUID}"


def launch(wrapper: dict, choices: dict[str, str], stack_id: str = LAUNCH_STACK_ID) -> dict[str, str]:
    """The nested stack's parameter values for a launch with these choices (the rest at their Defaults), evaluated
    as CloudFormation would (tests/cfn_values.py) in the launch stack `stack_id`."""
    values = {name: spec.get("Default") for name, spec in wrapper["Parameters"].items()}
    values.update(choices)
    assert all(value is not None for value in values.values()), values  # every required choice was made
    resolver = Resolver(wrapper, values, "eu-west-1", ACCOUNT)
    resolver.pseudo["AWS::StackId"] = stack_id
    return resolver.resolve(wrapper["Resources"]["Monitoring"]["Properties"]["Parameters"])


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


# --- the engine (docs/engine.md): a launch on the processing engine ----------------------------------------------


def monitoring_stack(built, child: dict[str, str]) -> Resolver:
    """The nested monitoring template with a launch's values, its SSM-typed values as the environment has them."""
    monitoring = json.loads((built.build / "staging" / "monitoring.template.json").read_text())
    values: dict = dict(child)
    for name, spec in monitoring["Parameters"].items():
        if spec["Type"].startswith("AWS::SSM::Parameter::Value<"):
            values[name] = DEPLOYED[values[name].rsplit("/", 1)[-1]]
    role = f"arn:aws:iam::{ACCOUNT}:role/churn-staging-{child['EndpointKey']}"
    return Resolver(monitoring, values, "eu-west-1", ACCOUNT, attributes={
        "ProcessingJobRole.Arn": f"{role}-processing",
        "ScheduleDeadLetterQueue.Arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:churn-staging-{child['EndpointKey']}-dlq"})


PROCESSING_LAUNCH = {"EndpointName": "fraud-scoring-staging", "MonitorName": "fraud-v2", "Engine": "processing"}


def test_the_engine_defaults_to_model_monitor_so_existing_launches_keep_running_it(built):
    wrapper = template(built, "staging")
    assert wrapper["Parameters"]["Engine"]["Default"] == "model-monitor"
    child = launch(wrapper, {"EndpointName": "e", "MonitorName": "m"})
    assert (child["DataQualityEnabled"], child["DataQualityProcessing"]) == ("true", "false")
    assert monitoring_stack(built, child).properties("DataQualityProcessingSchedule") is None


def test_the_product_is_lint_clean_with_a_processing_launch(built):
    """The build lints the product with a default launch (Model Monitor); cfn-lint also checks a parameter file
    against the template (E2900), here a processing launch with a baseline."""
    from pathlib import Path

    from mmtool.generate.lint import LintJob, lint

    values = {**PROCESSING_LAUNCH, "Schedule": "daily", "BaselineConstraintsKey": "baselines/sc-fraud-v2/constraints.json",
              "BaselineStatisticsKey": "baselines/sc-fraud-v2/statistics.json"}
    body = json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]).encode()
    job = LintJob(Path("endpoint-monitoring.template.json"),
                  (built.build / "staging" / "endpoint-monitoring.template.json").read_bytes(),
                  Path("processing.parameters.json"), body, "eu-west-1")
    assert lint([job]) == []
    # and the same file is refused where the engine is not on offer (the negative control of the check above)
    job = LintJob(Path("endpoint-monitoring.template.json"),
                  (built.build / "dev" / "endpoint-monitoring.template.json").read_bytes(),
                  Path("processing.parameters.json"), body.replace(b"staging", b"dev"), "eu-west-1")
    assert lint([job]) != []


@pytest.mark.parametrize("schedule", sorted(product.SCHEDULES))
def test_a_processing_launch_is_a_value_set_the_monitoring_template_accepts(built, schedule):
    """Every engine choice with every schedule: the nested template's own constraints accept the values, the Model
    Monitor schedule is off and the processing one on, and the window is the schedule's period."""
    monitoring = json.loads((built.build / "staging" / "monitoring.template.json").read_text())
    child = launch(template(built, "staging"), {**PROCESSING_LAUNCH, "Schedule": schedule})
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in child.items()]
    assert parameter_sets.check_values(monitoring, entries) == []
    assert (child["DataQualityEnabled"], child["DataQualityProcessing"], child["ModelQualityProcessing"]) == \
        ("false", "true", "false")
    hours = product.SCHEDULES[schedule][1] // 3600
    assert child["DataQualityProcessingWindowStart"] == ("-P1D" if hours == 24 else f"-PT{hours}H")
    assert child["DataQualityProcessingWindowEnd"] == "-PT0H"
    # the environment's analyzer package, the one its own processing endpoint (upsell) runs and `make deploy` uploads
    upsell = json.loads((built.build / "staging" / "upsell-monitoring.parameters.json").read_text())
    assert child["AnalyzerPrefix"] == {p["ParameterKey"]: p["ParameterValue"] for p in upsell}["AnalyzerPrefix"] != ""


def test_each_launch_names_its_jobs_from_its_own_stack_id(built):
    """The job-name hash is not computed at build time (one value for every launch would let one launch's scheduler
    role start, and its rules match, another's jobs): it is the launch stack's uuid, its first 16 hex characters."""
    wrapper = template(built, "staging")
    first = launch(wrapper, PROCESSING_LAUNCH)
    other_id = LAUNCH_STACK_ID.replace(STACK_UUID, "7a0c4e51-1b2c-4d3e-9f40-0123456789ab")
    second = launch(wrapper, PROCESSING_LAUNCH, stack_id=other_id)
    assert first["ProcessingJobHash"] == "1c2fa620982a11e3"
    assert second["ProcessingJobHash"] == "7a0c4e511b2c4d3e"
    # the scheduler role of one launch may create its own jobs only
    role = monitoring_stack(built, first).properties("SchedulerRole")
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    allowed = statements["CreateOwnProcessingJobs"]["Resource"]
    assert f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:processing-job/dq-1c2fa620982a11e3-*" in allowed
    assert not any("7a0c4e511b2c4d3e" in arn for arn in allowed)
    assert role["RoleName"] == "churn-staging-sc-fraud-v2-scheduler"


@pytest.mark.parametrize("baseline", [False, True])
def test_a_processing_launch_sends_a_valid_create_processing_job_request(built, baseline):
    """The request the launch's schedule sends, by botocore's model of CreateProcessingJob and SageMaker's job-name
    pattern (the oracles of tests/test_processing_engine.py); every file the job is told to read is one of its inputs,
    where SageMaker puts it (<LocalPath>/<the object's name>)."""
    from tests.test_processing_engine import SAGEMAKER, job_name_ok, sent_request

    keys = {"BaselineConstraintsKey": "baselines/sc-fraud-v2/2026-12-01/constraints.json",
            "BaselineStatisticsKey": "baselines/sc-fraud-v2/2026-12-01/statistics.json"} if baseline else {}
    child = launch(template(built, "staging"), {**PROCESSING_LAUNCH, **keys})
    stack = monitoring_stack(built, child)
    schedule = stack.properties("DataQualityProcessingSchedule")
    assert schedule["GroupName"] == "churn-staging" and schedule["Name"] == "churn-staging-sc-fraud-v2-dq-proc"
    execution = str(uuid.uuid4())
    request = sent_request(schedule, execution)
    report = ParamValidator().validate(request, SAGEMAKER.operation_model("CreateProcessingJob").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert request["ProcessingJobName"] == f"dq-1c2fa620982a11e3-{execution}" and job_name_ok(request["ProcessingJobName"])
    # as secure as an environment endpoint's jobs: VPC-only, KMS on volume and output, encrypted input and traffic
    key = DEPLOYED["kms-key-arn"]
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == key == schedule["KmsKeyArn"]
    assert request["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    assert request["NetworkConfig"]["VpcConfig"] == {"SecurityGroupIds": [DEPLOYED["job-security-group-id"]],
                                                     "Subnets": DEPLOYED["subnet-ids"]}
    assert request["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert request["RoleArn"].endswith(":role/churn-staging-sc-fraud-v2-processing")
    inputs = {i["InputName"]: i["S3Input"] for i in request["ProcessingInputs"]}
    bucket = f"s3://{DEPLOYED['bucket-name']}"
    assert inputs["code"]["S3Uri"] == f"{bucket}/{child['AnalyzerPrefix']}/"
    env = request["Environment"]
    assert env["capture_s3_uri"] == f"{bucket}/datacapture/sc-fraud-v2/fraud-scoring-staging"
    assert env["record_preprocessor_script"] == ""  # the product offers none: no path to a file that is not there
    named = {name: env[name] for name in ("baseline_statistics", "baseline_constraints") if env[name]}
    placed = {f"{i['LocalPath']}/{i['S3Uri'].rsplit('/', 1)[-1]}" for i in inputs.values()}
    assert set(named.values()) <= placed
    assert len(named) == (2 if baseline else 0)
    assert request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"{bucket}/reports/sc-fraud-v2/data-quality"


@pytest.mark.parametrize("title, key, accepted", [
    ("BaselineStatisticsKey", "baselines/sc-m/2026-12-01/statistics.json", True),
    ("BaselineStatisticsKey", "baselines/sc-m/statistics.json", True),
    ("BaselineStatisticsKey", "baselines/sc-m/my-stats.json", False),  # the job would look for it by another name
    ("BaselineConstraintsKey", "baselines/sc-m/constraints.json", True),
    ("BaselineConstraintsKey", "baselines/sc-m/statistics.json", False),
    ("BaselineConstraintsKey", "", True),
])
def test_the_baseline_files_keep_their_names(built, title, key, accepted):
    pattern = template(built, "staging")["Parameters"][title]["AllowedPattern"]
    assert (re.fullmatch(pattern, key) is not None) is accepted


def test_an_environment_without_the_schedule_group_offers_model_monitor_only(built):
    """dev and prod run no endpoint on the processing engine: their foundation has no EventBridge Scheduler group for
    a launch's schedule, and there is no analyzer package in their bucket."""
    for env in ("dev", "prod"):
        wrapper = template(built, env)
        assert wrapper["Parameters"]["Engine"]["AllowedValues"] == ["model-monitor"]
        assert wrapper["Resources"]["Monitoring"]["Properties"]["Parameters"]["AnalyzerPrefix"] == ""
        foundation = json.loads((built.build / env / "foundation.parameters.json").read_text())
        assert {p["ParameterKey"]: p["ParameterValue"] for p in foundation}["ProcessingEngine"] == "false"
    assert template(built, "staging")["Parameters"]["Engine"]["AllowedValues"] == ["model-monitor", "processing"]


@pytest.mark.parametrize("engine, offered, default", [
    ("processing", ["model-monitor", "processing"], "processing"),  # no endpoint runs Model Monitor: new accounts
    ("both", ["model-monitor", "processing"], "model-monitor"),
])
def test_the_engine_defaults_to_processing_where_no_endpoint_runs_model_monitor(scratch, engine, offered, default):
    from mmtool.generate.pipeline import build
    from tests.conftest import dev_params, write_params

    data = dev_params()
    data["monitoring"]["engine"] = engine
    write_params(scratch, data)
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    wrapper = template(scratch, "dev")
    assert (wrapper["Parameters"]["Engine"]["AllowedValues"], wrapper["Parameters"]["Engine"]["Default"]) == (
        offered, default)
    child = launch(wrapper, {"EndpointName": "e", "MonitorName": "m"})  # a launch that takes the default
    assert child["DataQualityProcessing"] == ("true" if default == "processing" else "false")


def build_dev_offering_processing(scratch, run_lint: bool = False) -> None:
    """dev (one endpoint, on Model Monitor) with catalog.offer_processing_engine: true."""
    from mmtool.generate.pipeline import build
    from tests.conftest import dev_params, write_params

    data = dev_params()
    assert data["monitoring"].get("engine", "model-monitor") == "model-monitor"  # no endpoint runs processing
    data.setdefault("catalog", {})["offer_processing_engine"] = True
    write_params(scratch, data)
    build(scratch, ["dev"], run_lint=run_lint, out=lambda *_: None)


def parameter_values(folder, stack: str) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in json.loads((folder / f"{stack}.parameters.json").read_text())}


def test_an_environment_offering_processing_has_the_schedule_group_and_the_analyzer(scratch):
    """catalog.offer_processing_engine (docs/handoff.md): dev's endpoint runs Model Monitor, yet the product offers
    both engines (Model Monitor the default, so launches that took it keep it), the foundation creates the schedule
    group a launch's schedule goes into, and the analyzer package is among the assets `make deploy` uploads, under
    the prefix a processing launch's jobs download."""
    build_dev_offering_processing(scratch)
    folder = scratch.build / "dev"
    wrapper = template(scratch, "dev")
    assert (wrapper["Parameters"]["Engine"]["AllowedValues"], wrapper["Parameters"]["Engine"]["Default"]) == (
        ["model-monitor", "processing"], "model-monitor")
    assert parameter_values(folder, "foundation")["ProcessingEngine"] == "true"
    # the template is the one every environment deploys: only the parameter value differs
    assert (folder / "foundation.template.json").read_bytes() == (REPO / "tests" / "snapshots" /
                                                                  "foundation.template.json").read_bytes()
    prefix = wrapper["Resources"]["Monitoring"]["Properties"]["Parameters"]["AnalyzerPrefix"]
    assert re.fullmatch(r"monitoring-assets/[0-9a-f]{20}", prefix), prefix
    manifest = json.loads((folder / "manifest.json").read_text())
    analyzer = {a["file"]: a["key"] for a in manifest["assets"] if a["file"].startswith("assets/analyzer/")}
    shipped = sorted(p.relative_to(REPO / "scripts").as_posix() for p in (REPO / "scripts" / "analyzer").rglob("*.py"))
    assert sorted(file.removeprefix("assets/") for file in analyzer) == shipped, analyzer
    assert all(key == f"{prefix}/analyzer/{file.removeprefix('assets/analyzer/')}" for file, key in analyzer.items())
    assert all((folder / file).is_file() for file in analyzer)
    # the endpoint's own monitoring stack still runs Model Monitor and names no analyzer
    assert parameter_values(folder, "monitoring")["AnalyzerPrefix"] == ""
    # a launch choosing processing: a value set the environment's monitoring template accepts, with that package
    monitoring = json.loads((folder / "monitoring.template.json").read_text())
    child = launch(wrapper, {**PROCESSING_LAUNCH, "EndpointName": "fraud-scoring-dev"})
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in child.items()]
    assert parameter_sets.check_values(monitoring, entries) == []
    assert (child["DataQualityEnabled"], child["DataQualityProcessing"], child["AnalyzerPrefix"]) == (
        "false", "true", prefix)
    # and a launch taking the default stays on Model Monitor
    assert launch(wrapper, {"EndpointName": "e", "MonitorName": "m"})["DataQualityProcessing"] == "false"


def test_an_environment_offering_processing_builds_lint_clean(scratch):
    """The whole build of dev with the field on passes cfn-lint (the product linted with a default launch), and
    cfn-lint also accepts a processing launch's parameter file against dev's product (E2900), the file the test
    above shows dev refuses without the field."""
    from pathlib import Path

    from mmtool.generate.lint import LintJob, lint

    build_dev_offering_processing(scratch, run_lint=True)
    body = json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in {
        **PROCESSING_LAUNCH, "EndpointName": "fraud-scoring-dev", "Schedule": "daily"}.items()]).encode()
    job = LintJob(Path("endpoint-monitoring.template.json"),
                  (scratch.build / "dev" / "endpoint-monitoring.template.json").read_bytes(),
                  Path("processing.parameters.json"), body, "eu-west-1")
    assert lint([job]) == []


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

        # a second launch, on the processing engine: its schedule in the environment's group, its jobs named from
        # its own stack id, its scheduler role allowed those names only
        cf.create_stack(StackName="SC-123456789012-pp-launch2", TemplateBody=(folder / "endpoint-monitoring.template.json")
                        .read_text(), Capabilities=["CAPABILITY_NAMED_IAM"],
                        Parameters=[{"ParameterKey": "EndpointName", "ParameterValue": "upsell-v3"},
                                    {"ParameterKey": "MonitorName", "ParameterValue": "upsell-v3"},
                                    {"ParameterKey": "Engine", "ParameterValue": "processing"}])
        stack = cf.describe_stacks(StackName="SC-123456789012-pp-launch2")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", cf.describe_stack_events(
            StackName="SC-123456789012-pp-launch2")["StackEvents"][:5]
        job_hash = "".join(stack["StackId"].rsplit("/", 1)[-1].split("-")[:3])
        [resource] = cf.describe_stack_resources(StackName="SC-123456789012-pp-launch2")["StackResources"]
        nested = {r["LogicalResourceId"] for r in
                  cf.describe_stack_resources(StackName=resource["PhysicalResourceId"])["StackResources"]
                  if "LogicalResourceId" in r}  # moto lists the stack itself among its resources, without one
        assert "DataQualityProcessingSchedule" in nested and "SchedulerRole" in nested
        assert "DataQualitySchedule" not in nested and "DataQualityJobDefinition" not in nested  # no Model Monitor
        scheduler = session.client("scheduler", endpoint_url=moto.url)
        schedule = scheduler.get_schedule(GroupName="churn-staging", Name="churn-staging-sc-upsell-v3-dq-proc")
        request = json.loads(schedule["Target"]["Input"])
        assert request["ProcessingJobName"] == f"dq-{job_hash}-<aws.scheduler.execution-id>"
        assert re.fullmatch(r"[0-9a-f]{16}", job_hash)
        assert request["Environment"]["capture_s3_uri"] == f"s3://{bucket}/datacapture/sc-upsell-v3/upsell-v3"
        policy = json.dumps(iam.get_role_policy(RoleName="churn-staging-sc-upsell-v3-scheduler",
                                                PolicyName="start-processing-jobs")["PolicyDocument"])
        assert re.findall(r"processing-job/([^'\"\\]*)", policy) == [f"dq-{job_hash}-*", f"mq-{job_hash}-*"]
