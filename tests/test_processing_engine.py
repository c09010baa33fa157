"""The processing engine's templates (templates/processing_engine.py, docs/engine.md): the request each schedule sends
is a valid CreateProcessingJob request by botocore's own model, within SageMaker's job-name pattern; the scheduler
and job roles are as narrow as intended; an endpoint runs the engine(s) its params ask for, and nothing else."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from mmtool.generate.pipeline import build
from tests.cfn_values import Resolver
from tests.conftest import dev_params, write_params
from tests.test_sdk_fidelity import ACCOUNT, DEPLOYED

# SageMaker's ProcessingJobName, from botocore's model (the oracle is the service model, not our constant).
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")
JOB_NAME = SAGEMAKER.operation_model("CreateProcessingJob").input_shape.members["ProcessingJobName"]
ATTRIBUTES = {**DEPLOYED, "ProcessingJobRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/churn-staging-upsell-processing",
              "SchedulerRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/churn-staging-upsell-scheduler",
              "ScheduleDeadLetterQueue.Arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:churn-staging-upsell-schedule-dlq"}


def stack(paths, name: str, env: str = "staging", kind: str = "monitoring") -> tuple[dict, dict[str, Any]]:
    """The `kind` template (monitoring by default) and one stack's values, SSM-typed ones as deployed."""
    template = json.loads((paths.build / env / f"{kind}.template.json").read_text())
    body = json.loads((paths.build / env / f"{name}.parameters.json").read_text())
    values: dict[str, Any] = {p["ParameterKey"]: p["ParameterValue"] for p in body}
    for parameter, spec in template["Parameters"].items():
        if spec["Type"].startswith("AWS::SSM::Parameter::Value<"):
            values[parameter] = DEPLOYED[values[parameter].rsplit("/", 1)[-1]]
    return template, values


def job_name_ok(name: str) -> bool:
    return len(name) <= JOB_NAME.metadata["max"] and re.fullmatch(JOB_NAME.metadata["pattern"], name) is not None


def sent_request(schedule: dict, execution_id: str, when: str = "2026-12-06T10:00:00Z") -> dict:
    """What EventBridge Scheduler sends: the target's Input with its context attributes filled in."""
    text = schedule["Target"]["Input"]
    return json.loads(text.replace("<aws.scheduler.execution-id>", execution_id)
                      .replace("<aws.scheduler.scheduled-time>", when))


@pytest.fixture(scope="module")
def upsell(built):
    """staging's upsell (engine: both), resolved as its deploy would make it."""
    template, values = stack(built, "upsell-monitoring")
    return Resolver(template, values, "eu-west-1", ACCOUNT, attributes=ATTRIBUTES)


def test_each_schedule_sends_a_valid_create_processing_job_request(upsell):
    """botocore's validator is the oracle: a request it refuses, SageMaker refuses at every run."""
    schedule = upsell.properties("DataQualityProcessingSchedule")
    assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    execution = str(uuid.uuid4())
    request = sent_request(schedule, execution)
    report = ParamValidator().validate(request, SAGEMAKER.operation_model("CreateProcessingJob").input_shape)
    assert not report.has_errors(), report.generate_report()
    name = request["ProcessingJobName"]
    assert name.endswith(execution) and job_name_ok(name)
    # negative controls: botocore checks types and minimums client-side (a number sent as a string is refused), the
    # name's maximum and pattern are the service's, checked here from the same model
    resources = request["ProcessingResources"]["ClusterConfig"]
    assert ParamValidator().validate({**request, "ProcessingResources": {"ClusterConfig": {
        **resources, "InstanceCount": "1"}}}, SAGEMAKER.operation_model("CreateProcessingJob").input_shape).has_errors()
    assert not job_name_ok(name + "x" * (64 - len(name))) and not job_name_ok(name.replace("-", "_", 1))


def test_the_request_carries_the_window_image_network_and_encryption(upsell):
    schedule = upsell.properties("DataQualityProcessingSchedule")
    request = sent_request(schedule, str(uuid.uuid4()), when="2026-12-06T10:00:00Z")
    env = request["Environment"]
    # the run analyses the window before its own scheduled time, not before whenever it happened to start
    assert env["scheduled_time"] == "2026-12-06T10:00:00Z"
    assert (env["window_start_offset"], env["window_end_offset"]) == ("-PT1H", "-PT0H")  # upsell is hourly
    assert env["analysis_type"] == "DATA_QUALITY" and env["sagemaker_endpoint_name"] == "churn-staging-upsell"
    assert env["capture_s3_uri"] == "s3://churn-staging-bucket-1a2b3c/datacapture/upsell/churn-staging-upsell"
    assert request["AppSpecification"] == {
        "ImageUri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/analyzer", "job"]}
    key = DEPLOYED["kms-key-arn"]
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == key
    assert request["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    assert schedule["KmsKeyArn"] == key  # the schedule's input (the request) is encrypted too
    assert request["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": False,  # docs/security.md
        "VpcConfig": {"SecurityGroupIds": [DEPLOYED["job-security-group-id"]], "Subnets": DEPLOYED["subnet-ids"]}}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}  # upsell's data_quality.max_runtime_seconds
    inputs = {i["InputName"]: i["S3Input"]["LocalPath"] for i in request["ProcessingInputs"]}
    assert inputs == {"preprocessor": "/opt/ml/processing/input/preprocessor", "code": "/opt/ml/processing/input/code"}
    # the files where the analyzer looks for them: the pre-processor by its name; upsell has no baseline
    assert env["record_preprocessor_script"] == "/opt/ml/processing/input/preprocessor/record_preprocessor.py"
    assert env["baseline_statistics"] == env["baseline_constraints"] == ""  # empty: unset (the analyzer's contract)
    assert env["sagemaker_monitoring_schedule_name"] == schedule["Name"] == "churn-staging-upsell-dq-proc"
    assert request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == \
        "s3://churn-staging-bucket-1a2b3c/reports/upsell/data-quality"
    assert schedule["ScheduleExpression"] == "cron(0 * ? * * *)"
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert schedule["Target"]["DeadLetterConfig"]["Arn"] == ATTRIBUTES["ScheduleDeadLetterQueue.Arn"]


def test_the_scheduler_may_start_only_this_endpoints_jobs_and_pass_only_the_job_role(upsell):
    role = upsell.properties("SchedulerRole")
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    prefix = upsell.values["ProcessingJobHash"]
    assert statements["CreateOwnProcessingJobs"]["Resource"] == [
        f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:processing-job/{code}-{prefix}-*" for code in ("dq", "mq")]
    passing = statements["PassTheJobRoleToSageMaker"]
    assert passing["Action"] == ["iam:PassRole"] and passing["Resource"] == [ATTRIBUTES["ProcessingJobRole.Arn"]]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    # and the job it starts has exactly that name prefix
    request = sent_request(upsell.properties("DataQualityProcessingSchedule"), str(uuid.uuid4()))
    assert request["ProcessingJobName"].startswith(f"dq-{prefix}-")
    assert request["RoleArn"] == ATTRIBUTES["ProcessingJobRole.Arn"]


def test_the_job_role_reads_only_the_endpoints_prefixes_and_writes_only_its_reports(upsell):
    role = upsell.properties("ProcessingJobRole")
    assert role["RoleName"] == "churn-staging-upsell-processing"
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    objects = "arn:aws:s3:::churn-staging-bucket-1a2b3c/"
    assert statements["ReadCaptureBaselinesAndAssets"]["Resource"] == [
        objects + p + "/*" for p in ("datacapture/upsell", "ground-truth/upsell", "baselines/upsell", "monitoring-assets")]
    assert statements["WriteReportsAndBaselines"]["Resource"] == [objects + "reports/upsell/*"]


def test_failed_or_stopped_jobs_of_this_endpoint_reach_the_topic(upsell):
    rule = upsell.properties("ProcessingJobFailedRule")
    prefix = upsell.values["ProcessingJobHash"]
    assert rule["Name"] == "churn-staging-upsell-job-failed"
    assert rule["EventPattern"]["detail"] == {"ProcessingJobName": [{"prefix": f"dq-{prefix}-"},
                                                                    {"prefix": f"mq-{prefix}-"}],
                                              "ProcessingJobStatus": ["Failed", "Stopped"]}
    [target] = rule["Targets"]
    assert target["Arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT}:churn-staging-alarms"
    assert "<reason>" in target["InputTransformer"]["InputTemplate"]
    assert upsell.properties("ScheduleDeadLetterAlarm")["AlarmActions"] == [target["Arn"]]
    failed = upsell.template["Resources"]["ProcessingJobFailedAlarm"]["Properties"]
    assert failed["MetricName"] == "TriggeredRules" and failed["Dimensions"][0]["Value"] == {"Ref": "ProcessingJobFailedRule"}
    assert upsell.resolve(failed["AlarmActions"]) == [target["Arn"]]


def processing_event(name: str, status: str, exit_message: str | None) -> dict:
    """A "SageMaker Processing Job State Change" event: its detail carries DescribeProcessingJob's fields
    (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html)."""
    detail = {"ProcessingJobName": name, "ProcessingJobStatus": status}
    if exit_message is not None:
        detail["ExitMessage"] = exit_message
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Processing Job State Change",
            "time": "2026-12-06T10:20:00Z", "detail": detail}


def test_runs_with_violations_reach_the_topic(upsell):
    """The pattern is run by moto's EventBridge pattern matcher (prefix operators included), not compared to itself."""
    from moto.events.models import EventPattern
    rule = upsell.properties("ProcessingJobViolationsRule")
    assert rule["Name"] == "churn-staging-upsell-job-viol"
    pattern = EventPattern.load(json.dumps(rule["EventPattern"]))
    prefix = upsell.values["ProcessingJobHash"]
    job = f"dq-{prefix}-{uuid.uuid4()}"
    # The analyzer's own ExitMessage (scripts/analyzer/job.py) for a run with violations, and for one without.
    assert pattern.matches_event(processing_event(job, "Completed", "CompletedWithViolations: 2 violation(s); 40 records"))
    assert pattern.matches_event(processing_event(f"mq-{prefix}-{uuid.uuid4()}", "Completed", "CompletedWithViolations: 1"))
    assert not pattern.matches_event(processing_event(job, "Completed", "Completed: 0 violation(s); 40 records"))
    assert not pattern.matches_event(processing_event(job, "Failed", "CompletedWithViolations: 2"))
    assert not pattern.matches_event(processing_event(job, "Completed", None))
    other = f"dq-{'0' * 16}-{uuid.uuid4()}"  # another endpoint's job
    assert not pattern.matches_event(processing_event(other, "Completed", "CompletedWithViolations: 2"))
    [target] = rule["Targets"]
    assert target["Arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT}:churn-staging-alarms"
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"]["result"] == "$.detail.ExitMessage"
    text = json.loads(transformer["InputTemplate"])  # a JSON string: what SNS receives, placeholders filled by EventBridge
    assert "upsell" in text and "completed with violations" in text and "<result>" in text and "<job>" in text


def test_the_violations_rule_follows_notify_on_violations_in_both_forms(built):
    """Both forms notify runs with violations (the single-endpoint form's topic admits the rule by its exact name:
    templates/alarms.py), and alarms.notify_on_violations: false turns it off as it does Model Monitor's."""
    template, values = stack(built, "upsell-monitoring")
    for key in ("upsell", ""):
        for notify in ("true", "false"):
            resolver = Resolver(template, {**values, "EndpointKey": key, "NotifyOnViolations": notify}, "eu-west-1",
                                ACCOUNT, attributes=ATTRIBUTES)
            assert resolver.condition("ProcessingNotify")
            assert resolver.condition("ProcessingViolationsNotify") is (notify == "true")
    single = Resolver(template, {**values, "EndpointKey": ""}, "eu-west-1", ACCOUNT, attributes=ATTRIBUTES)
    assert single.properties("ProcessingJobViolationsRule")["Name"] == "churn-staging-job-viol"
    assert single.properties("ProcessingJobFailedRule")["Name"] == "churn-staging-job-failed"


def test_engine_both_gives_each_engine_its_own_rule_and_alarm_names(upsell):
    """Under `engine: both` Model Monitor's rules and the processing engine's live in one stack: the same name twice
    is refused by EventBridge (a rule name is unique per bus), so every name differs."""
    def deployed(kind: str, field: str) -> list[str]:
        return [upsell.resolve(resource["Properties"][field]) for resource in upsell.template["Resources"].values()
                if resource["Type"] == kind and upsell.condition(resource["Condition"])]

    names = deployed("AWS::Events::Rule", "Name")
    assert len(names) == 4 and len(set(names)) == 4, names  # failed and violations, of each engine
    alarms = deployed("AWS::CloudWatch::Alarm", "AlarmName")
    assert len(alarms) > 4 and len(alarms) == len(set(alarms)), alarms


def test_every_processing_rule_has_its_delivery_watched(upsell):
    """As Model Monitor's rules (tests/test_templates.py): a notification EventBridge cannot deliver raises an alarm."""
    resources = upsell.template["Resources"]
    watched = {resource["Properties"]["Dimensions"][0]["Value"]["Ref"]: logical
               for logical, resource in resources.items() if resource["Type"] == "AWS::CloudWatch::Alarm"
               and resource["Properties"].get("MetricName") == "FailedInvocations"}
    for rule in ("ProcessingJobFailedRule", "ProcessingJobViolationsRule"):
        alarm = resources[watched[rule]]
        assert alarm["Condition"] == resources[rule]["Condition"]
        assert upsell.resolve(alarm["Properties"]["AlarmActions"]) == [upsell.properties(rule)["Targets"][0]["Arn"]]


def test_engine_both_keeps_the_model_monitor_schedule_beside_the_new_one(upsell):
    """Switching with no gap: the new schedule is created while the old one still runs (docs/engine.md)."""
    assert upsell.properties("DataQualitySchedule") is not None
    assert upsell.properties("DataQualityProcessingSchedule") is not None
    assert upsell.properties("ModelQualityProcessingSchedule") is None  # upsell runs no model-quality monitor


def test_model_monitor_endpoints_get_nothing_of_the_processing_engine(built):
    for env, name in (("dev", "monitoring"), ("staging", "churn-monitoring"), ("prod", "monitoring")):
        template, values = stack(built, name, env)
        resolver = Resolver(template, values, "eu-west-1", ACCOUNT, attributes=ATTRIBUTES)
        assert not resolver.condition("ProcessingEngine"), (env, name)
    foundation = {p["ParameterKey"]: p["ParameterValue"]
                  for p in json.loads((built.build / "dev" / "foundation.parameters.json").read_text())}
    assert foundation["ProcessingEngine"] == "false"  # no schedule group in an environment without the engine


def test_engine_processing_runs_no_model_monitor_schedule(scratch):
    """A single-endpoint environment moved to the processing engine: its names keep the single-endpoint form."""
    data = dev_params()
    data["monitoring"]["engine"] = "processing"
    data["monitoring"]["model_quality"] = {"enabled": True, "schedule": "daily", "inference_attribute": "0",
                                           "time_offsets": {"start": "-P1D", "end": "-PT1H"}}
    data["monitoring"]["data_quality"]["baseline"] = {
        "constraints": "s3://churn-baselines-111122223333/dq/constraints.json",
        "statistics": "s3://churn-baselines-111122223333/dq/stats-2026.json"}
    write_params(scratch, data)
    build(scratch, ["dev"], out=lambda *_: None)
    template, values = stack(scratch, "monitoring", "dev")
    resolver = Resolver(template, values, "eu-west-1", ACCOUNT, attributes={
        **ATTRIBUTES, "ProcessingJobRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/churn-dev-processing"})
    assert resolver.properties("DataQualitySchedule") is None and resolver.properties("ModelQualitySchedule") is None
    schedule = resolver.properties("ModelQualityProcessingSchedule")
    assert schedule["Name"] == "churn-dev-model-quality-processing"
    request = sent_request(schedule, str(uuid.uuid4()))
    report = ParamValidator().validate(request, SAGEMAKER.operation_model("CreateProcessingJob").input_shape)
    assert not report.has_errors(), report.generate_report()
    env = request["Environment"]
    assert (env["window_start_offset"], env["window_end_offset"]) == ("-P1D", "-PT1H")  # time_offsets
    assert env["ground_truth_s3_uri"] == "s3://churn-staging-bucket-1a2b3c/ground-truth"
    assert env["inference_attribute"] == "0" and env["analysis_type"] == "MODEL_QUALITY"
    # the baseline copies reach the job where its environment says they are, under their own names
    dq = sent_request(resolver.properties("DataQualityProcessingSchedule"), str(uuid.uuid4()))
    inputs = {i["InputName"]: i["S3Input"] for i in dq["ProcessingInputs"]}
    assert inputs["baseline-statistics"]["S3Uri"].startswith("s3://churn-staging-bucket-1a2b3c/baselines/imported/")
    assert inputs["baseline-statistics"]["S3Uri"].endswith("/stats-2026.json")
    assert dq["Environment"]["baseline_statistics"] == \
        inputs["baseline-statistics"]["LocalPath"] + "/stats-2026.json" == "/opt/ml/processing/baseline/statistics/stats-2026.json"
    assert dq["Environment"]["baseline_constraints"] == inputs["baseline-constraints"]["LocalPath"] + "/constraints.json"
    # the processing engine alone publishes under Model Monitor's schedule name, the dimension the drift alarms and
    # dashboards read (templates/alarms.py `data_quality_schedule`); beside Model Monitor it keeps its own (upsell)
    assert dq["Environment"]["sagemaker_monitoring_schedule_name"] == "churn-dev-data-quality"
    assert request["Environment"]["sagemaker_monitoring_schedule_name"] == "churn-dev-model-quality"
    foundation = {p["ParameterKey"]: p["ParameterValue"]
                  for p in json.loads((scratch.build / "dev" / "foundation.parameters.json").read_text())}
    assert foundation["ProcessingEngine"] == "true"
    # no notifications without alarms.enabled (dev has false): neither the rules nor their alarms
    for logical in ("ProcessingJobFailedAlarm", "ProcessingJobFailedRule", "ProcessingJobViolationsRule"):
        assert resolver.properties(logical) is None, logical


def test_the_build_refuses_the_processing_engine_without_the_analyzer(scratch):
    import shutil

    from mmtool.errors import ToolError
    data = dev_params()
    data["monitoring"]["engine"] = "processing"
    write_params(scratch, data)
    shutil.rmtree(scratch.root / "scripts" / "analyzer")
    with pytest.raises(ToolError, match="load the analyzer from scripts/analyzer/, and there is none"):
        build(scratch, ["dev"], run_lint=False, out=lambda *_: None)


def test_names_fit_their_limits_for_the_longest_project_environment_and_key(built):
    """20-character project and key, 10-character environment (the params model's maxima)."""
    template, values = stack(built, "upsell-monitoring")
    values.update(ProjectName="p" * 20, EnvironmentName="e" * 10, EndpointKey="k" * 20)
    resolver = Resolver(template, values, "eu-west-1", ACCOUNT, attributes=ATTRIBUTES)
    limits = {("ProcessingJobRole", "RoleName"): 64, ("SchedulerRole", "RoleName"): 64,  # IAM
              ("DataQualityProcessingSchedule", "Name"): 64, ("ModelQualityProcessingSchedule", "Name"): 64,  # Scheduler
              ("ScheduleDeadLetterQueue", "QueueName"): 80, ("ProcessingJobFailedRule", "Name"): 64,
              ("ProcessingJobViolationsRule", "Name"): 64}  # SQS, EventBridge
    for (logical_id, name), limit in limits.items():
        resource = template["Resources"][logical_id]
        value = resolver.resolve(resource["Properties"][name])
        assert len(value) <= limit, (logical_id, value)


def dashboard(resolver: Resolver) -> dict | None:
    resource = resolver.template["Resources"]["EngineComparisonDashboard"]
    if not resolver.condition(resource["Condition"]):
        return None
    body = json.loads(resolver.resolve(resource["Properties"]["DashboardBody"]))
    return {"name": resolver.resolve(resource["Properties"]["DashboardName"]), "widgets": body["widgets"]}


def searches(board: dict) -> list[str]:
    return [m[0]["expression"] for w in board["widgets"] if w["type"] == "metric"
            for m in w["properties"]["metrics"] if isinstance(m[0], dict)]


def test_engine_both_shows_both_engines_series_side_by_side(built, upsell):
    """Under `both` each engine publishes under its own MonitoringSchedule: Model Monitor's schedule name (what the
    drift alarms read) and the processing schedule's (what the analyzer is told to publish under). The comparison
    dashboard searches exactly those two, and counts each engine's runs with violations by its rule's name."""
    board = dashboard(upsell)
    assert board["name"] == "churn-staging-upsell-engines"
    model_monitor = upsell.properties("DataQualitySchedule")["MonitoringScheduleName"]
    published = sent_request(upsell.properties("DataQualityProcessingSchedule"), str(uuid.uuid4()))["Environment"]
    processing = published["sagemaker_monitoring_schedule_name"]
    assert (model_monitor, processing) == ("churn-staging-upsell-dq", "churn-staging-upsell-dq-proc")
    drift = searches(board)
    assert drift == [f"SEARCH('Namespace=\"aws/sagemaker/Endpoints/data-metrics\" MonitoringSchedule=\"{name}\" "
                     "MetricName=feature_baseline_drift', 'Maximum', 3600)" for name in (model_monitor, processing)]
    assert published["metrics_namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    # the drift alarms stay on Model Monitor's series
    alarm = upsell.template["Resources"]["DriftAlarm1"]["Properties"]
    assert {d["Name"]: upsell.resolve(d["Value"]) for d in alarm["Dimensions"]}["MonitoringSchedule"] == model_monitor
    # upsell runs no model-quality monitor: no model-quality widgets
    assert not [w for w in board["widgets"] if "Model quality" in w["properties"].get("title", "")]
    rules = [m[3] for w in board["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]
             if m[0] == "AWS/Events"]
    assert rules == [upsell.properties("ExecutionViolationsRule")["Name"],
                     upsell.properties("ProcessingJobViolationsRule")["Name"]]


def test_the_comparison_dashboard_exists_only_under_both_and_names_the_single_forms_series(built):
    template, values = stack(built, "upsell-monitoring")
    for engine, mm, processing in (("model-monitor", "true", "false"), ("processing", "false", "true")):
        one = Resolver(template, {**values, "DataQualityEnabled": mm, "DataQualityProcessing": processing},
                       "eu-west-1", ACCOUNT, attributes=ATTRIBUTES)
        assert dashboard(one) is None, engine
    single = Resolver(template, {**values, "EndpointKey": "", "ModelQualityEnabled": "true",
                                 "ModelQualityProcessing": "true"}, "eu-west-1", ACCOUNT, attributes=ATTRIBUTES)
    board = dashboard(single)
    assert board["name"] == "churn-staging-engines"
    named = [re.search(r'MonitoringSchedule="([^"]+)"', s).group(1) for s in searches(board)]
    assert named == ["churn-staging-data-quality", "churn-staging-data-quality-processing",
                     "churn-staging-model-quality", "churn-staging-model-quality-processing"]
    # the processing names are the schedules' own; Model Monitor's, the single-endpoint form's schedules
    assert named[1] == single.properties("DataQualityProcessingSchedule")["Name"]
    assert named[0] == single.properties("DataQualitySchedule")["MonitoringScheduleName"]
    alarms = json.loads((built.build / "staging" / "alarms.template.json").read_text())
    rule = Resolver(alarms, {"ProjectName": "churn", "EnvironmentName": "staging"}, "eu-west-1", ACCOUNT).resolve(
        alarms["Resources"]["ExecutionViolationsRule"]["Properties"]["Name"])
    assert [m[3] for w in board["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]
            if m[0] == "AWS/Events"] == [rule, "churn-staging-job-viol"]


@pytest.mark.parametrize("engine", ["processing", "both"])
def test_the_single_endpoint_dashboard_counts_the_runs_of_both_engines(scratch, engine):
    """One endpoint with alarms on: the environment dashboard's runs graph names every rule that notifies, Model
    Monitor's in the alarms stack and the processing engine's in the monitoring stack."""
    data = dev_params()
    data["monitoring"]["engine"] = engine
    data["alarms"] = {"enabled": True, "email": ["ml-platform@example.com"], "notify_on_violations": True}
    write_params(scratch, data)
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    rules, shown = [], []
    for kind in ("alarms", "monitoring"):
        resolver = Resolver(*stack(scratch, kind, "dev", kind), "eu-west-1", ACCOUNT)
        rules += [resolver.resolve(r["Properties"]["Name"]) for r in resolver.template["Resources"].values()
                  if r["Type"] == "AWS::Events::Rule" and resolver.condition(r["Condition"])]
        if kind == "alarms":
            body = json.loads(resolver.resolve(resolver.template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]))
            [runs] = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Monitoring runs")]
            shown = [m[3] for m in runs["properties"]["metrics"] if m[0] == "AWS/Events"]
    # Model Monitor's two rules exist (and are shown) under either engine: a switch keeps its runs' history visible
    assert sorted(shown) == sorted(rules) and len(rules) == 4


def test_a_fleet_endpoints_dashboard_counts_the_runs_of_both_engines(upsell):
    """Its runs graph names every rule the stack has (a processing-only endpoint's runs were not shown)."""
    resource = upsell.template["Resources"]["EndpointDashboard"]
    body = json.loads(upsell.resolve(resource["Properties"]["DashboardBody"]))
    [runs] = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Monitoring runs")]
    shown = [m[3] for m in runs["properties"]["metrics"] if m[0] == "AWS/Events"]
    rules = [upsell.resolve(r["Properties"]["Name"]) for r in upsell.template["Resources"].values()
             if r["Type"] == "AWS::Events::Rule" and upsell.condition(r["Condition"])]
    assert sorted(shown) == sorted(rules) and len(rules) == 4
