"""`build.py run-now` (mmtool.operate.runnow): the one-time schedule's request, the capture check, the wait, the outcome and
the clean-up.

Against the moto server: SSM, S3 (capture files, constraint_violations.json), CloudWatch Logs, STS,
CloudFormation (the monitoring stack's outputs) and SageMaker's endpoint, endpoint config, job definitions
and processing jobs. moto 5.2.5 has no monitoring schedules and no monitoring executions
(Create/Describe/Delete MonitoringSchedule and ListMonitoringExecutions are missing from
moto/sagemaker/responses.py), so exactly those SageMaker operations are answered by botocore's Stubber
(`GapStubber`: responses validated against the API's shapes, expected parameters compared), in the order the
command makes them; the same client's other calls reach moto. The clock and the sleeps are fake, so a wait
of minutes takes none.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mmtool.operate import runnow
from mmtool.cli import main
from mmtool.errors import ToolError
from mmtool.config.loader import load_params

from .conftest import BUCKET, client, deploy_foundation_and_network, scratch
from .monitoring_env import (
    ENDPOINT,
    JOB_DEFINITION,
    SCHEDULE,
    clients,
    console,
    create_dq_definition,
    create_processing_job,
    deploy_endpoint,
    described,
    execution,
    now_utc,
    put_capture,
    put_log,
    sagemaker_client,
    schedule_arn,
    top_of_hour,
)

H = timedelta(hours=1)
DEV_TAGS = [  # params/dev.yaml's tags plus the tool's three, sorted by key
    {"Key": "Environment", "Value": "dev"},
    {"Key": "ManagedBy", "Value": "model-monitor-deployer"},
    {"Key": "Project", "Value": "churn"},
    {"Key": "cost-center", "Value": "ml-platform"},
    {"Key": "data-classification", "Value": "internal"},
    {"Key": "owner", "Value": "ml-platform@example.com"},
]
CAPTURE_PREFIX = f"s3://{BUCKET}/datacapture/{ENDPOINT}/AllTraffic/"


class FakeClock:
    def __init__(self, interrupt_after: int | None = None):
        self.now = 0.0
        self.sleeps: list[float] = []
        self.interrupt_after = interrupt_after

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.interrupt_after is not None and len(self.sleeps) >= self.interrupt_after:
            raise KeyboardInterrupt
        self.sleeps.append(seconds)
        self.now += seconds


class Run:
    """One run_now call with everything it prints collected."""

    def __init__(self, server, tmp_path, *, now, **options):
        self.server = server
        paths = scratch(tmp_path / "repo")
        self.params = load_params(paths.params / "dev.yaml", paths.root)
        self.sagemaker, self.stub = sagemaker_client(server)
        self.now = now
        self.name = f"churn-dev-data-quality-now-{now:%Y%m%d%H%M%S}"
        self.options = runnow.Options(**options)
        self.warned: list[str] = []
        self.printed: list[str] = []
        self.screen = console()
        self.progress = console()
        self.clock = FakeClock()

    def __call__(self) -> int:
        """The exit code; every stubbed response must have been used (also when the command raises: the
        raising tests call `all_used()` afterwards, so a real failure is not hidden behind the queue check)."""
        with self.stub:
            code = runnow.run_now(self.params, self.options, clients(self.server, self.sagemaker), now=lambda: self.now,
                                  console=self.screen, progress_console=self.progress, out=self.printed.append,
                                  warn=self.warned.append, clock=self.clock, sleep=self.clock.sleep)
        self.stub.assert_no_pending_responses()
        return code

    def all_used(self) -> None:
        self.stub.assert_no_pending_responses()

    # -- the stubbed calls, in the order the command makes them

    def regular_schedule(self, name: str = SCHEDULE, **kind):
        self.stub.add_response("describe_monitoring_schedule", described(name, self.now - 24 * H, **kind),
                               {"MonitoringScheduleName": name})

    def create(self, window: int = 1, job_definition: str = JOB_DEFINITION, monitoring_type: str = "DataQuality"):
        self.stub.add_response("create_monitoring_schedule", {"MonitoringScheduleArn": schedule_arn(self.name)}, {
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": f"-PT{window}H",
                                   "DataAnalysisEndTime": "-PT0H"},
                "MonitoringJobDefinitionName": job_definition,
                "MonitoringType": monitoring_type,
            },
            "Tags": DEV_TAGS,
        })

    def poll(self, *summaries, schedule_status: str | None = None):
        """One poll: the newest execution; while there is none, the schedule's status."""
        self.stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": list(summaries)}, {
            "MonitoringScheduleName": self.name, "SortBy": "ScheduledTime", "SortOrder": "Descending", "MaxResults": 1})
        if not summaries:
            self.stub.add_response("describe_monitoring_schedule", self.one_time(schedule_status or "Pending"),
                                   {"MonitoringScheduleName": self.name})

    def one_time(self, status: str = "Scheduled", **extra):
        return described(self.name, self.now, status=status, expression="NOW", window=("-PT1H", "-PT0H"), **extra)

    def outcome(self, summary, status: str = "Scheduled", **extra):
        """read_schedule of the one-time schedule after the wait."""
        self.stub.add_response("describe_monitoring_schedule", self.one_time(status, **extra),
                               {"MonitoringScheduleName": self.name})
        self.stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": [summary] if summary else []},
                               {"MonitoringScheduleName": self.name, "SortBy": "ScheduledTime", "SortOrder": "Descending",
                                "MaxResults": 1})

    def delete(self):
        self.stub.add_response("delete_monitoring_schedule", {}, {"MonitoringScheduleName": self.name})

    def execution(self, status: str, job: str | None = "model-monitoring-job-1", **extra):
        return execution(self.name, self.now, status, job=job, **extra)

    @property
    def screen_lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.file.getvalue().splitlines()]

    @property
    def progress_lines(self) -> list[str]:
        return self.progress.file.getvalue().splitlines()


def deployed(server, *, files: int = 2):
    deploy_foundation_and_network(server)
    deploy_endpoint(server)
    create_dq_definition(server, environment={"publish_cloudwatch_metrics": "Enabled"})
    now = now_utc()
    if files:
        put_capture(server, top_of_hour(now), files)
    return now


# ------------------------------------------------------------------ the whole run


def test_a_run_that_completes_creates_the_one_time_schedule_waits_shows_and_deletes_it(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws))
    run.regular_schedule()
    run.create()
    run.poll(schedule_status="Pending")
    run.poll(schedule_status="Scheduled")
    run.poll(run.execution("Pending", job=None))
    run.poll(run.execution("InProgress"))
    run.poll(run.execution("Completed"))
    run.outcome(run.execution("Completed"))
    run.delete()

    assert run() == 0

    window_start = run.now - H
    assert run.warned == [
        "data-quality: job definition churn-dev-dq-4f9a1c (from schedule churn-dev-data-quality)",
        f"capture: 2 file(s) in the window's hour folders under {CAPTURE_PREFIX}",
        f"created the one-time schedule {run.name}: analyses -PT1H to -PT0H ({window_start:%H:%M}-{run.now:%H:%M} UTC)",
        f"deleted the one-time schedule {run.name}",
    ]
    assert run.progress_lines == [
        f"0:00:00  {run.name}: schedule Pending",
        f"0:00:15  {run.name}: schedule Scheduled",
        f"0:00:30  {run.name}: execution Pending",
        f"0:00:45  {run.name}: execution InProgress (processing job model-monitoring-job-1)",
        f"0:01:00  {run.name}: execution Completed (processing job model-monitoring-job-1)",
    ]
    assert run.clock.sleeps == [15, 15, 15, 15]
    assert any(f"│ {run.now:%Y-%m-%d %H:%M} │ Completed │  0:09:00 │ model-monitoring-job-1 │" in line
               for line in run.screen_lines)
    assert run.screen_lines[-1] == "No known problem found."


def test_a_failed_run_shows_the_reason_and_the_log_and_exits_1(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws))
    job = "model-monitoring-job-2"
    create_processing_job(aws, job, f"s3://{BUCKET}/reports/data-quality/x")
    stream = put_log(aws, job, ["Traceback (most recent call last):", "KeyError: 'captureData'"])
    reason = "AlgorithmError: Error: Encountered an error while running the record preprocessor"
    run.regular_schedule()
    run.create()
    run.poll(run.execution("Failed", job=job, failure_reason=reason))
    run.outcome(run.execution("Failed", job=job, failure_reason=reason))
    run.delete()

    assert run() == 1

    lines = run.screen_lines
    start = lines.index(f"Failed run of {run.now:%Y-%m-%d %H:%M} UTC ({run.name}), processing job {job}")
    assert lines[start + 1:start + 6] == [
        f"  FailureReason: {reason}",
        "  End of its log (/aws/sagemaker/ProcessingJobs):",
        f"    {stream}:",
        "      Traceback (most recent call last):",
        "      KeyError: 'captureData'",
    ]
    assert f"error   {run.name}: the run of {run.now:%Y-%m-%d %H:%M} UTC failed: {reason}" in lines
    assert run.warned[-1] == f"deleted the one-time schedule {run.name}"


def test_a_run_with_violations_shows_them_and_exits_0(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws), json_output=True)
    job = "model-monitoring-job-3"
    output = f"s3://{BUCKET}/reports/data-quality/churn-dev/{run.name}/x"
    create_processing_job(aws, job, output)
    client("s3", aws).put_object(Bucket=BUCKET, Key=f"reports/data-quality/churn-dev/{run.name}/x/constraint_violations.json",
                                 Body=json.dumps({"violations": [{"feature_name": "_c4", "constraint_check_type":
                                                                  "completeness_check", "description": "Completeness 0.9"}]}))
    run.regular_schedule()
    run.create()
    run.poll(run.execution("CompletedWithViolations", job=job))
    run.outcome(run.execution("CompletedWithViolations", job=job))
    run.delete()

    assert run() == 0

    document = json.loads(run.printed[0])  # --json: the status document with this one schedule
    [schedule] = document["schedules"]
    assert (schedule["name"], schedule["schedule_expression"], schedule["analysis_window"]) == (
        run.name, "NOW", {"start": "-PT1H", "end": "-PT0H"})
    assert schedule["violations"]["items"] == [
        {"feature": "_c4", "check_type": "completeness_check", "description": "Completeness 0.9"}]
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [("violations", "warning")]


def test_without_capture_data_in_the_window_nothing_is_started(aws, tmp_path):
    now = deployed(aws, files=0)
    put_capture(aws, top_of_hour(now) - 3 * H, 4)  # traffic three hours ago, none since
    run = Run(aws, tmp_path, now=now)
    run.regular_schedule()  # and no CreateMonitoringSchedule: the stub would refuse it

    with pytest.raises(ToolError) as raised:
        run()
    run.all_used()

    assert raised.value.exit_code == 1
    assert str(raised.value).splitlines()[:2] == [
        "not started: the job would fail.",
        f"no Data Capture file written between {(now - H):%Y-%m-%d %H:%M} UTC and {now:%Y-%m-%d %H:%M} UTC under "
        f"{CAPTURE_PREFIX}; no file at all in the 2 hour folders listed",  # the window's hour and the one before
    ]
    assert "fix: Send requests to churn-dev, wait a few minutes for the files, and run again; or widen the window " \
           "(--window-hours N) to include older traffic; --force starts the job anyway." in str(raised.value)


def test_a_wider_window_finds_the_older_traffic(aws, tmp_path):
    now = deployed(aws, files=0)
    put_capture(aws, top_of_hour(now) - 3 * H, 4)
    run = Run(aws, tmp_path, now=now, window_hours=4)
    run.regular_schedule()
    run.create(window=4)
    run.poll(run.execution("Completed"))
    run.outcome(run.execution("Completed"))
    run.delete()

    assert run() == 0
    assert run.warned[1] == f"capture: 4 file(s) in the window's hour folders under {CAPTURE_PREFIX}"


def test_a_model_quality_definition_with_its_own_offsets_is_checked_over_its_window(aws, tmp_path):
    now = deployed(aws, files=0)
    put_capture(aws, top_of_hour(now) - 48 * H, 3)  # two days ago: inside -P3D .. -P1D
    client("sagemaker", aws).create_model_quality_job_definition(
        JobDefinitionName="churn-dev-mq-5b6c7d",
        ModelQualityAppSpecification={"ImageUri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer",
                                      "ProblemType": "BinaryClassification",
                                      "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        ModelQualityJobInput={"EndpointInput": {"EndpointName": ENDPOINT, "LocalPath": "/opt/ml/processing/input/endpoint",
                                                "StartTimeOffset": "-P3D", "EndTimeOffset": "-P1D",
                                                "InferenceAttribute": "0"},
                              "GroundTruthS3Input": {"S3Uri": f"s3://{BUCKET}/ground-truth"}},
        ModelQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{BUCKET}/reports/model-quality",
                                                                         "LocalPath": "/opt/ml/processing/output"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}},
        RoleArn="arn:aws:iam::123456789012:role/churn-dev-monitoring", StoppingCondition={"MaxRuntimeInSeconds": 1800})
    run = Run(aws, tmp_path, now=now, monitor="model-quality")
    run.name = f"churn-dev-model-quality-now-{now:%Y%m%d%H%M%S}"
    run.regular_schedule("churn-dev-model-quality", monitoring_type="ModelQuality", job_definition="churn-dev-mq-5b6c7d")
    run.create(job_definition="churn-dev-mq-5b6c7d", monitoring_type="ModelQuality")
    run.poll(run.execution("Completed", monitoring_type="ModelQuality"))
    run.stub.add_response("describe_monitoring_schedule", described(
        run.name, now, expression="NOW", window=("-PT1H", "-PT0H"), monitoring_type="ModelQuality",
        job_definition="churn-dev-mq-5b6c7d"), {"MonitoringScheduleName": run.name})
    run.stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": [
        run.execution("Completed", monitoring_type="ModelQuality")]}, {
        "MonitoringScheduleName": run.name, "SortBy": "ScheduledTime", "SortOrder": "Descending", "MaxResults": 1})
    run.delete()

    assert run() == 0
    assert run.warned[:3] == [
        "model-quality: job definition churn-dev-mq-5b6c7d (from schedule churn-dev-model-quality)",
        "the job definition's input analyses -P3D to -P1D: the capture check looks there",
        f"capture: 3 file(s) in the window's hour folders under {CAPTURE_PREFIX}",
    ]


def test_force_starts_without_data_and_a_failed_one_time_schedule_is_explained(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws, files=0), force=True)
    run.regular_schedule()
    run.create()
    run.poll(schedule_status="Failed")
    run.outcome(None, status="Failed", failure_reason="An internal error occurred.")
    run.delete()

    assert run() == 1

    assert run.warned[1].startswith("--force: starting anyway although no Data Capture file written between")
    assert run.screen_lines[0] == f"one-time schedule {run.name} Failed: An internal error occurred."
    assert f"error   {run.name}: schedule {run.name} is Failed: An internal error occurred." in run.screen_lines


def test_ctrl_c_deletes_the_schedule_and_says_what_is_left(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws))
    run.clock = FakeClock(interrupt_after=1)
    run.regular_schedule()
    run.create()
    run.poll(schedule_status="Scheduled")
    run.poll(run.execution("InProgress"))
    run.delete()

    with pytest.raises(ToolError) as raised:
        run()
    run.all_used()

    assert raised.value.exit_code == 130
    assert str(raised.value) == f"interrupted: the one-time run {run.name} was abandoned (see above what was left)"
    assert run.warned[-2:] == [
        f"deleted the one-time schedule {run.name}",
        "left behind: its execution's processing job model-monitoring-job-1 was still InProgress; it runs to its end "
        "unless stopped:\n"
        "  aws sagemaker describe-processing-job --processing-job-name model-monitoring-job-1 --region eu-west-1 "
        "--query '[ProcessingJobStatus,FailureReason]'\n"
        "  aws sagemaker stop-processing-job --processing-job-name model-monitoring-job-1 --region eu-west-1",
    ]


def test_the_timeout_deletes_the_schedule_and_exits_4(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws), timeout=20)
    run.regular_schedule()
    run.create()
    run.poll(schedule_status="Pending")  # at 0 s
    run.poll(run.execution("Pending", job=None))  # at 15 s
    run.poll(run.execution("Pending", job=None))  # at 20 s: the timeout
    run.delete()

    with pytest.raises(ToolError) as raised:
        run()
    run.all_used()

    assert raised.value.exit_code == 4
    assert run.clock.sleeps == [15, 5]  # the last sleep ends at the timeout
    assert str(raised.value) == f"the one-time run {run.name} did not end within --timeout 20 s (last state: execution Pending)"
    assert run.warned[-2:] == [
        f"deleted the one-time schedule {run.name}",
        f"left behind: its execution was still Pending without a processing job yet; check it with aws sagemaker "
        f"list-monitoring-executions --monitoring-schedule-name {run.name} --region eu-west-1",
    ]


def test_a_failed_delete_is_reported_with_the_command_and_flagged(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws))
    run.regular_schedule()
    run.create()
    run.poll(run.execution("Completed"))
    run.outcome(run.execution("Completed"))
    run.stub.add_client_error("delete_monitoring_schedule", service_error_code="AccessDeniedException",
                              service_message="not authorized to perform: sagemaker:DeleteMonitoringSchedule",
                              expected_params={"MonitoringScheduleName": run.name})

    assert run() == 0  # the run itself completed

    assert run.warned[-1] == (
        f"left behind: the one-time schedule {run.name}; deleting it failed: AccessDeniedException: not authorized to "
        f"perform: sagemaker:DeleteMonitoringSchedule. Delete it:\n"
        f"  aws sagemaker delete-monitoring-schedule --monitoring-schedule-name {run.name} --region eu-west-1")
    assert f"info    {run.name}: one-time schedule {run.name} is still there" in run.screen_lines


def test_ctrl_c_while_deleting_prints_the_delete_command():
    class Interrupting:
        def delete_monitoring_schedule(self, **_):
            raise KeyboardInterrupt

    warned: list[str] = []
    assert runnow.remove_schedule(Interrupting(), "churn-dev-data-quality-now-20261124102507", "eu-west-1", None,
                                  warned.append) is False
    assert warned == [
        "left behind: the one-time schedule churn-dev-data-quality-now-20261124102507 (interrupted while deleting it). "
        "Delete it:\n  aws sagemaker delete-monitoring-schedule --monitoring-schedule-name "
        "churn-dev-data-quality-now-20261124102507 --region eu-west-1"]


# ------------------------------------------------------------------ finding the job definition


def test_without_the_regular_schedule_the_monitoring_stack_output_names_the_definition(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws))
    client("cloudformation", aws).create_stack(StackName="churn-dev-monitoring", TemplateBody=json.dumps({
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/churn/dev/monitoring/marker", "Type": "String", "Value": "x"}}},
        "Outputs": {"DataQualityJobDefinitionName": {"Value": JOB_DEFINITION}},
    }))
    run.stub.add_client_error("describe_monitoring_schedule", service_error_code="ResourceNotFound",
                              service_message=f"Monitoring schedule {SCHEDULE} not found",
                              expected_params={"MonitoringScheduleName": SCHEDULE})
    run.create()
    run.poll(run.execution("Completed"))
    run.outcome(run.execution("Completed"))
    run.delete()

    assert run() == 0
    assert run.warned[0] == ("data-quality: job definition churn-dev-dq-4f9a1c (from output DataQualityJobDefinitionName "
                             "of stack churn-dev-monitoring)")


def test_a_monitor_that_is_not_deployed_says_how_to_deploy_it(aws, tmp_path):
    run = Run(aws, tmp_path, now=deployed(aws), monitor="model-quality")
    run.stub.add_client_error("describe_monitoring_schedule", service_error_code="ResourceNotFound",
                              service_message="Monitoring schedule churn-dev-model-quality not found",
                              expected_params={"MonitoringScheduleName": "churn-dev-model-quality"})

    with pytest.raises(ToolError) as raised:
        run()
    run.all_used()

    assert raised.value.exit_code == 1
    assert str(raised.value) == (
        "the model-quality monitor of churn-dev is not deployed: no schedule churn-dev-model-quality and no output "
        "ModelQualityJobDefinitionName of stack churn-dev-monitoring in eu-west-1.\n"
        "Next: set monitoring.model_quality.enabled: true in params/dev.yaml and run `make deploy ENV=dev` "
        "(or pick another MONITOR=).")


# ------------------------------------------------------------------ names and the CLI


def test_one_time_names_fit_sagemakers_63_characters():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 24, 10, 25, 7, tzinfo=timezone.utc)
    longest = "abcdefghij-klmnopqrs" + "-" + "abcdefghij"  # 20 + 1 + 10 characters
    assert runnow.one_time_name("churn-dev", "data-quality", now) == "churn-dev-data-quality-now-20261124102507"
    assert runnow.one_time_name(longest, "data-quality", now) == f"{longest}-data-quality-now-20261124102507"  # 63
    assert runnow.one_time_name(longest, "model-explainability", now) == f"{longest}-expl-now-20261124102507"
    for monitor in runnow.MONITORS:
        assert len(runnow.one_time_name(longest, monitor, now)) <= 63


def test_the_command_through_the_cli(aws, tmp_path, capsys, monkeypatch):
    now = deployed(aws)
    paths = scratch(tmp_path / "repo")
    run = Run(aws, tmp_path / "unused", now=now)
    monkeypatch.setattr("mmtool.operate.runnow.datetime", type("FixedNow", (), {"now": staticmethod(lambda tz=None: now)}))
    run.regular_schedule()
    run.create()
    run.poll(run.execution("Completed"))  # done at the first poll: no sleep
    run.outcome(run.execution("Completed"))
    run.delete()
    monkeypatch.setattr("mmtool.operate.awsenv.connect", lambda params, **_: clients(aws, run.sagemaker))

    with run.stub:
        code = main(["run-now", "--env", "dev", "--json"], paths)

    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["schedules"][0]["executions"][0]["status"] == "Completed"
    assert f"deleted the one-time schedule {run.name}" in err


@pytest.mark.parametrize("argv, message", [
    (["run-now"], "--env is required: make run-now ENV=dev [MONITOR=data-quality]"),
    (["run-now", "--env", "dev", "--window-hours", "30"], "--window-hours=30: must be 1-24"),
    (["run-now", "--env", "dev", "--timeout", "0"], "--timeout=0.0: must be a positive number of seconds"),
])
def test_bad_input_exits_2(tmp_path, capsys, argv, message):
    code = main(argv, scratch(tmp_path / "repo"))
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith(message)
