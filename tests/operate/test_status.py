"""`build.py status` (mmtool.operate.status, mmtool.operate.facts): what it reads, shows and explains.

Against the moto server: SSM, S3 (the capture files and constraint_violations.json), CloudWatch Logs, STS,
and SageMaker's endpoint, endpoint config, job definitions and processing jobs. moto 5.2.5 has no
monitoring schedules and no monitoring executions (nothing in moto/sagemaker/responses.py answers
ListMonitoringSchedules, DescribeMonitoringSchedule or ListMonitoringExecutions), so those three calls are
answered by botocore's Stubber (`GapStubber` in monitoring_env.py: only the named operations are stubbed,
with responses botocore validates against the API's shapes; the client's other calls reach moto). Where a
test needs a state moto cannot hold (a Failed processing job with an ExitMessage, an endpoint that is not
InService) it stubs that one operation too and says so.

moto stamps S3 objects with the real clock, so the tests' "now" is the real time and the expected times are
written relative to it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from mmtool.cli import main
from mmtool.config.loader import load_params

from .conftest import BUCKET, REGION, ROLE_ARN, client, deploy_foundation_and_network, scratch
from .monitoring_env import (
    CONFIG,
    ENDPOINT,
    MOTO_LACKS,
    SCHEDULE,
    GapStubber,
    clients,
    create_dq_definition,
    create_processing_job,
    deploy_endpoint,
    described,
    execution,
    expect_discovery,
    expect_schedule,
    now_utc,
    put_capture,
    put_log,
    run_status,
    sagemaker_client,
    summary,
    top_of_hour,
)

H = timedelta(hours=1)
CAPTURE_PREFIX = f"s3://{BUCKET}/datacapture/{ENDPOINT}/AllTraffic/"


def z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def hm(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def job_name(scheduled: datetime, suffix: str = "4f9a1c2d3e4b5a69e0d1c2b3") -> str:
    """How SageMaker names a monitoring execution's processing job."""
    return f"model-monitoring-{scheduled:%Y%m%d%H%M}-{suffix}"


def dev_params(tmp_path):
    paths = scratch(tmp_path / "repo")
    return load_params(paths.params / "dev.yaml", paths.root)


def deployed(server, *, environment=None, **endpoint) -> None:
    deploy_foundation_and_network(server)
    deploy_endpoint(server, **endpoint)
    create_dq_definition(server, environment={"publish_cloudwatch_metrics": "Enabled"} if environment is None else environment)




def take_newest(document: dict, lower: datetime, upper: datetime) -> list[str]:
    """Replace the capture `newest` times (moto's real LastModified) by "<now>" after checking their range."""
    taken = []
    for capture in document["capture"]:
        for item in [capture, *capture["per_hour"]]:
            if item["newest"] is not None:
                moment = datetime.strptime(item["newest"], "%Y-%m-%dT%H:%M:%S%z")
                assert lower - timedelta(seconds=1) <= moment <= upper + timedelta(seconds=1)
                taken.append(item["newest"])
                item["newest"] = "<now>"
    return taken


# ------------------------------------------------------------------ a healthy environment


def test_healthy_environment_as_json(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 3)
    put_capture(aws, top - 2 * H, 2)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [
        execution(SCHEDULE, top, "Completed", job=job_name(top)),
        execution(SCHEDULE, top - H, "Completed", job=job_name(top - H)),
    ])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 0
    take_newest(document, now, now_utc())
    assert document == {
        "schema_version": 1,
        "project": "churn",
        "environment": "dev",
        "region": "eu-west-1",
        "generated_at": z(now),
        "ok": True,
        "endpoint": {
            "name": "churn-dev", "found": True, "status": "InService", "failure_reason": None,
            "config_name": "churn-dev-EndpointConfig-1a2b3c",
            "config_found": True,
            # moto's DescribeEndpoint has no CaptureStatus (AWS reports Started/Stopped)
            "capture": {"enabled": True, "status": None, "sampling_percentage": 100,
                        "destination": "s3://churn-dev-bucket-1x2y3z/datacapture"},
        },
        "capture": [{
            "variant": "AllTraffic",
            "prefix": "s3://churn-dev-bucket-1x2y3z/datacapture/churn-dev/AllTraffic/",
            "hours": 3, "files": 5, "newest": "<now>", "truncated": False, "error": None,
            "per_hour": [
                {"hour": z(top), "files": 3, "newest": "<now>", "truncated": False},
                {"hour": z(top - H), "files": 0, "newest": None, "truncated": False},
                {"hour": z(top - 2 * H), "files": 2, "newest": "<now>", "truncated": False},
            ],
        }],
        "schedules": [{
            "name": "churn-dev-data-quality", "engine": "model-monitor", "processing": None,
            "monitoring_type": "DataQuality",
            "status": "Scheduled",
            "schedule_expression": "cron(0 * ? * * *)",
            "analysis_window": None,
            "failure_reason": None,
            "created": z(now - 24 * H),
            "job_definition": {
                "name": "churn-dev-dq-4f9a1c", "found": True, "input": "endpoint", "max_runtime_seconds": 1800,
                "role_arn": ROLE_ARN, "output_uri": "s3://churn-dev-bucket-1x2y3z/reports/data-quality",
                "publish_cloudwatch_metrics": "Enabled",
            },
            # the last run was scheduled at the top of this hour: the next one at the next top, started 20 min later at most
            "next_run": {"scheduled": z(top + H), "start_by": z(top + H + timedelta(minutes=20))},
            "executions": [
                {"scheduled_time": z(top), "status": "Completed", "created": z(top + timedelta(minutes=4)),
                 "last_modified": z(top + timedelta(minutes=13)), "duration_seconds": 540,
                 "processing_job": job_name(top), "failure_reason": None},
                {"scheduled_time": z(top - H), "status": "Completed", "created": z(top - H + timedelta(minutes=4)),
                 "last_modified": z(top - H + timedelta(minutes=13)), "duration_seconds": 540,
                 "processing_job": job_name(top - H), "failure_reason": None},
            ],
            "failure": None,
            "violations": None,
        }],
        "findings": [],
        "bias_groups": [],  # dev runs no model-bias monitor
        "launches": [],  # dev has no processing engine, so no processing launch of the Service Catalog product
        "launches_error": None,
    }


def test_healthy_environment_in_tables(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 3)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Completed", job=job_name(top))])

    code, text = run_status(aws, params, stub, sagemaker, now, json_output=False)

    assert code == 0
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == f"Monitoring of churn-dev in eu-west-1 at {now:%Y-%m-%d %H:%M} UTC"
    assert lines[1] == (f"Endpoint churn-dev: InService (config {CONFIG}); Data Capture on, 100 % sampled, to "
                        f"s3://{BUCKET}/datacapture")
    assert any(f"│ AllTraffic │ {CAPTURE_PREFIX} │     3 │ {now:%Y-%m-%d %H:%M}" in line for line in lines)
    assert any(f"{(top - 2 * H):%m-%d %H}:00-{(top - H):%H}:59" in line for line in lines)  # two hours without files
    assert any(f"│ churn-dev-data-quality │ model-monitor │ DataQuality │ Scheduled │ cron(0 * ? * * *) │ {(top + H):%Y-%m-%d %H:%M} "
               f"(starts by {(top + H):%H}:20) │" in line for line in lines)
    assert any(f"│ {top:%Y-%m-%d %H:%M} │ Completed │  0:09:00 │ {job_name(top)} │" in line for line in lines)
    assert lines[-1] == "No known problem found."


def test_the_bias_monitors_sensitive_group_is_shown_in_words(aws, tmp_path):
    """A numeric facet threshold is Clarify's exclusive lower bound: [64] reads "age > 64" (issue 15, part 2)."""
    import yaml

    deployed(aws)
    now = now_utc()
    paths = scratch(tmp_path / "repo")
    data = yaml.safe_load((paths.params / "dev.yaml").read_text())
    data["monitoring"]["clarify"] = {"features": ["tenure", "charges", "age"]}
    data["monitoring"]["model_bias"] = {"enabled": True, "label": "churned", "probability_attribute": "0",
                                        "facets": [{"name": "age", "value_or_threshold": [64]}]}
    (paths.params / "dev.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    params = load_params(paths.params / "dev.yaml", paths.root)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [])

    code, text = run_status(aws, params, stub, sagemaker, now, json_output=False)

    lines = [line.rstrip() for line in text.splitlines()]
    assert "model bias: sensitive group age > 64 (exclusive threshold of a continuous facet)" in lines


# ------------------------------------------------------------------ failure modes, end to end


def test_a_run_without_data_shows_its_reason_the_end_of_its_log_and_the_explanation(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 2)  # arrived after the run of `top`, which analysed the hour before: empty
    job = job_name(top)
    stream = put_log(aws, job, ["2026-11-24 10:05:01 INFO Main: Start analyzing", 
                                "2026-11-24 10:05:09 ERROR Main: Job inputs had no data",
                                "2026-11-24 10:05:09 INFO Main: Completed: Job failed"])
    params = dev_params(tmp_path)
    sagemaker = sagemaker_client(aws)[0]
    stub = GapStubber(sagemaker, MOTO_LACKS | {"DescribeProcessingJob"})  # moto's processing jobs never fail
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    reason = "AlgorithmError: Job inputs had no data"
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [
        execution(SCHEDULE, top, "Failed", job=job, minutes=2, failure_reason=reason),
        execution(SCHEDULE, top - H, "Completed", job=job_name(top - H)),
    ])
    stub.add_response("describe_processing_job", {
        "ProcessingJobName": job, "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/{job}",
        "ProcessingJobStatus": "Failed", "FailureReason": reason, "ExitMessage": "Error: No data found in input",
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        "AppSpecification": {"ImageUri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"},
        "CreationTime": top + timedelta(minutes=4),
    }, {"ProcessingJobName": job})

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1 and document["ok"] is False
    assert document["schedules"][0]["failure"] == {
        "scheduled_time": z(top), "status": "Failed", "processing_job": job, "failure_reason": reason,
        "exit_message": "Error: No data found in input",
        "log_tail": [f"{stream}:", "  2026-11-24 10:05:01 INFO Main: Start analyzing",
                     "  2026-11-24 10:05:09 ERROR Main: Job inputs had no data",
                     "  2026-11-24 10:05:09 INFO Main: Completed: Job failed"],
    }
    [finding] = document["findings"]
    assert finding["rule"] == "no-data-in-window" and finding["severity"] == "error"
    assert finding["subject"] == "churn-dev-data-quality"
    assert finding["problem"] == (f"the run of {hm(top)} failed with no input data ({reason}); it analysed "
                                  f"{hm(top - H)} to {hm(top)}: 0 file(s) listed now")


def test_the_failed_run_in_tables(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    job = job_name(top)
    create_processing_job(aws, job, f"s3://{BUCKET}/reports/data-quality/churn-dev/churn-dev-data-quality/x")
    stream = put_log(aws, job, ["java.nio.file.AccessDeniedException: s3://churn-dev-bucket-1x2y3z/datacapture"])
    put_capture(aws, top - H, 4)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    reason = "ClientError: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)"
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Failed", job=job, minutes=1,
                                                                          failure_reason=reason)])

    code, text = run_status(aws, params, stub, sagemaker, now, json_output=False)

    assert code == 1
    lines = [line.rstrip() for line in text.splitlines()]
    start = lines.index(f"Failed run of {top:%Y-%m-%d %H:%M} UTC (churn-dev-data-quality), processing job {job}")
    assert lines[start + 1:start + 5] == [
        f"  FailureReason: {reason}",
        "  End of its log (/aws/sagemaker/ProcessingJobs):",
        f"    {stream}:",
        "      java.nio.file.AccessDeniedException: s3://churn-dev-bucket-1x2y3z/datacapture",
    ]
    findings = lines[lines.index("Findings") + 1:]
    assert findings[0] == f"error   churn-dev-data-quality: the run of {hm(top)} was denied access: {reason}"
    why = findings[1:findings.index(next(line for line in findings if line.startswith("        fix: ")))]
    assert all(line.startswith("        ") for line in why)  # wrapped lines keep the indentation
    assert " ".join(line.strip() for line in why) == (
        f"why: The job runs as {ROLE_ARN}, which needs s3:ListBucket and s3:GetObject on the capture prefix and the "
        "baseline, s3:PutObject on the reports prefix, kms:Decrypt/GenerateDataKey on the project key, and the VPC "
        "network interface actions; a changed role, key policy or bucket policy (or an SCP) takes one away.")


def test_violations_are_summarised_from_the_executions_output(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top - H, 6)
    job = job_name(top)
    output = f"s3://{BUCKET}/reports/data-quality/churn-dev/churn-dev-data-quality/{top:%Y/%m/%d/%H}"
    create_processing_job(aws, job, output)
    violations = {"violations": [
        {"feature_name": "_c3", "constraint_check_type": "baseline_drift_check",
         "description": "Numerical distance: 0.2711 exceeds numerical threshold: 0.1"},
        {"feature_name": "_c1", "constraint_check_type": "data_type_check",
         "description": "Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
                        "Observed: Only 90.0% of data is Integral."},
    ]}
    client("s3", aws).put_object(Bucket=BUCKET, Key=f"{output[len(f's3://{BUCKET}/'):]}/constraint_violations.json",
                                 Body=json.dumps(violations).encode())
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "CompletedWithViolations", job=job)])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 0 and document["ok"] is True  # violations are a warning: monitoring itself works
    assert document["schedules"][0]["violations"] == {
        "scheduled_time": z(top), "uri": f"{output}/constraint_violations.json", "total": 2,
        "items": [
            {"feature": "_c3", "check_type": "baseline_drift_check",
             "description": "Numerical distance: 0.2711 exceeds numerical threshold: 0.1"},
            {"feature": "_c1", "check_type": "data_type_check",
             "description": "Data type match requirement is not met. Expected data type: Integral, Expected match: "
                            "100.0%. Observed: Only 90.0% of data is Integral."},
        ],
        "error": None,
    }
    assert [(f["rule"], f["severity"], f["problem"]) for f in document["findings"]] == [
        ("violations", "warning", f"the run of {hm(top)} found 2 violation(s) (_c1, _c3)")]


def test_an_unreadable_violations_file_is_said_not_hidden(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 1)
    job = job_name(top)
    output = f"s3://{BUCKET}/reports/data-quality/churn-dev/churn-dev-data-quality/{top:%Y/%m/%d/%H}"
    create_processing_job(aws, job, output)  # but no constraint_violations.json under it
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "CompletedWithViolations", job=job)])

    code, document = run_status(aws, params, stub, sagemaker, now)

    found = document["schedules"][0]["violations"]
    assert found["total"] == 0 and found["items"] == []
    assert found["error"] == (f"could not read {output}/constraint_violations.json: NoSuchKey: The specified key does "
                              "not exist.")
    assert document["findings"][0]["problem"] == f"the run of {hm(top)} found violations"


def test_trailing_slash_in_the_capture_destination(aws, tmp_path):
    deployed(aws, destination=f"s3://{BUCKET}/datacapture/")
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top - H, 3, prefix=f"datacapture//{ENDPOINT}/AllTraffic/")  # where the endpoint really writes
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    reason = (f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/datacapture//{ENDPOINT}/AllTraffic/'
              f'{top - H:%Y/%m/%d/%H}" given in input data source. Please ensure that the bucket exists in the '
              "selected region (eu-west-1), that objects exist under that S3 prefix, and that the role has s3:ListBucket")
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Failed", failure_reason=reason)])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["capture"][0]["prefix"] == f"s3://{BUCKET}/datacapture//{ENDPOINT}/AllTraffic/"
    assert document["capture"][0]["files"] == 3
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [
        ("capture-trailing-slash", "error"), ("no-data-in-window", "error")]
    trailing, no_data = document["findings"]
    assert trailing["problem"] == f"the capture destination s3://{BUCKET}/datacapture/ ends with '/'"
    assert no_data["why"] == ("The URL in the reason contains '//': the capture destination ends with a slash, so the "
                              "files are elsewhere (see capture-trailing-slash).")
    assert document["schedules"][0]["failure"]["log_tail"] == [
        "(no processing job: the execution failed before it started one)"]


def test_a_schedule_failed_by_the_documentation_label_in_its_cron(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    put_capture(aws, top_of_hour(now), 1)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 2 * H, status="Failed")])
    expect_schedule(stub, described(SCHEDULE, now - 2 * H, status="Failed", expression="Hourly: cron(0 * ? * * *)",
                                    failure_reason="An internal error occurred."), [])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    [schedule] = document["schedules"]
    assert (schedule["status"], schedule["next_run"], schedule["executions"]) == ("Failed", None, [])
    [finding] = document["findings"]
    assert finding["rule"] == "schedule-failed"
    assert finding["problem"] == "schedule churn-dev-data-quality is Failed: An internal error occurred."
    assert finding["fix"] == ("Use only cron(0 * ? * * *); in params write `schedule: hourly` (or the bare cron) and run "
                              "`make deploy ENV=dev`.")


def test_a_job_definition_without_publish_cloudwatch_metrics(aws, tmp_path):
    deployed(aws, environment={})
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 1)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Completed", job=job_name(top))])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 0
    assert document["schedules"][0]["job_definition"]["publish_cloudwatch_metrics"] is None
    assert [(f["rule"], f["severity"], f["problem"]) for f in document["findings"]] == [(
        "metrics-not-published", "warning",
        "job definition churn-dev-dq-4f9a1c has no publish_cloudwatch_metrics in its Environment")]


def test_right_after_deploy_there_are_no_executions_and_that_is_expected(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 1)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, top)])
    expect_schedule(stub, described(SCHEDULE, top), [])  # created at the top of this hour

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 0
    assert document["schedules"][0]["next_run"] == {"scheduled": z(top + H), "start_by": z(top + H + timedelta(minutes=20))}
    [finding] = document["findings"]
    assert (finding["rule"], finding["severity"]) == ("no-executions-yet", "info")
    assert finding["fix"] == (f"Expect the first execution at {hm(top + H)} (+0-20 min); for a result now run "
                              "`make run-now ENV=dev`.")


def test_a_schedule_that_stopped_running_is_overdue(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 1)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top - 3 * H, "Completed", job="j")])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert [(f["rule"], f["problem"]) for f in document["findings"]] == [(
        "run-overdue",
        f"schedule churn-dev-data-quality should have started the run of {hm(top - 2 * H)} by "
        f"{(top - 2 * H + timedelta(minutes=20)):%Y-%m-%d %H:%M} UTC; its last execution was scheduled at {hm(top - 3 * H)}")]


def test_capture_switched_off_in_the_live_endpoint_config(aws, tmp_path):
    deployed(aws, enable=False)
    now = now_utc()
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [
        execution(SCHEDULE, top_of_hour(now), "Failed", failure_reason="AlgorithmError: Job inputs had no data")])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["endpoint"]["capture"]["enabled"] is False
    assert [f["rule"] for f in document["findings"]] == ["capture-disabled", "no-data-in-window"]
    assert document["findings"][0]["problem"] == ("Data Capture of endpoint churn-dev records nothing: EnableCapture is "
                                                  "false in its endpoint config")


def test_an_endpoint_that_is_not_in_service(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    params = dev_params(tmp_path)
    sagemaker = sagemaker_client(aws)[0]
    stub = GapStubber(sagemaker, MOTO_LACKS | {"DescribeEndpoint"})  # moto's endpoints are always InService
    stub.add_response("describe_endpoint", {
        "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{ENDPOINT}",
        "EndpointConfigName": CONFIG, "EndpointStatus": "Failed",
        "FailureReason": "The primary container for production variant AllTraffic did not pass the ping health check.",
        "CreationTime": now - 2 * H, "LastModifiedTime": now - H,
    }, {"EndpointName": ENDPOINT})
    expect_discovery(stub, [summary(SCHEDULE, now - 2 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 2 * H), [])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["endpoint"]["status"] == "Failed"
    [finding] = [f for f in document["findings"] if f["rule"] == "endpoint-not-in-service"]
    assert finding["problem"] == ("endpoint churn-dev is Failed (The primary container for production variant AllTraffic "
                                  "did not pass the ping health check.), not InService")
    # no capture files either, but with the endpoint down that is explained by the endpoint finding alone
    assert "no-recent-capture" not in [f["rule"] for f in document["findings"]]


def test_a_deleted_endpoint_config_falls_back_to_what_the_endpoint_reports(aws, tmp_path):
    deployed(aws)
    client("sagemaker", aws).delete_endpoint_config(EndpointConfigName=CONFIG)  # AWS allows it while the endpoint runs
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 1)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Completed", job="j")])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 0
    # DescribeEndpoint's DataCaptureConfig (moto gives no CurrentSamplingPercentage, AWS does)
    assert document["endpoint"]["config_found"] is False
    assert document["endpoint"]["capture"] == {"enabled": True, "status": None, "sampling_percentage": None,
                                               "destination": f"s3://{BUCKET}/datacapture"}
    assert document["capture"][0]["files"] == 1
    assert document["findings"] == []


def test_a_run_stopped_at_its_maximum_runtime(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 2)
    job = job_name(top)
    create_processing_job(aws, job, f"s3://{BUCKET}/reports/data-quality/x")
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [
        # the newest run is this hour's, so no "run overdue" finding whatever minute the test runs at
        execution(SCHEDULE, top, "Stopped", job=job, minutes=30,
                  failure_reason="Job stopped because it exceeded MaxRuntimeInSeconds"),
        execution(SCHEDULE, top - H, "Completed", job="j2"),
    ])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["schedules"][0]["executions"][0]["duration_seconds"] == 1800
    assert [(f["rule"], f["problem"]) for f in document["findings"]] == [(
        "max-runtime-exceeded",
        f"the run of {hm(top)} hit its maximum runtime (MaxRuntimeInSeconds 1800): Job stopped because it exceeded "
        "MaxRuntimeInSeconds")]


def test_every_monitoring_type_is_found_and_a_leftover_one_time_schedule_is_flagged(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top, 1)
    sm = client("sagemaker", aws)
    sm.create_model_bias_job_definition(
        JobDefinitionName="churn-dev-bias-77aa01",
        ModelBiasAppSpecification={"ImageUri": "306415355426.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-clarify-processing:1.0",
                                   "ConfigUri": f"s3://{BUCKET}/assets/analysis_config.json"},
        ModelBiasJobInput={"BatchTransformInput": {"DataCapturedDestinationS3Uri": f"s3://{BUCKET}/batch-capture",
                                                   "DatasetFormat": {"Csv": {"Header": False}}, "LocalPath": "/opt/ml/processing/input/batch"},
                           "GroundTruthS3Input": {"S3Uri": f"s3://{BUCKET}/ground-truth"}},
        ModelBiasJobOutputConfig={"MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{BUCKET}/reports/model-bias",
                                                                      "LocalPath": "/opt/ml/processing/output"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}},
        RoleArn=ROLE_ARN, StoppingCondition={"MaxRuntimeInSeconds": 1800})
    leftover = f"churn-dev-data-quality-now-{top:%Y%m%d%H%M%S}"
    foreign = "team-x-endpoint-check"  # on our endpoint, named by someone else: found through the endpoint
    summaries = [
        summary(SCHEDULE, now - 24 * H),
        summary(leftover, top),
        summary("churn-dev-model-bias", now - 24 * H, monitoring_type="ModelBias", job_definition="churn-dev-bias-77aa01",
                endpoint=None),
        summary(foreign, now - 24 * H),
    ]
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, summaries)
    # sorted by name: churn-dev-data-quality, churn-dev-data-quality-now-…, churn-dev-model-bias, team-x-…
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Completed", job="j1")])
    expect_schedule(stub, described(leftover, top, expression="NOW", window=("-PT1H", "-PT0H")),
                    [execution(leftover, top, "Completed", job="j2")])
    expect_schedule(stub, described("churn-dev-model-bias", now - 24 * H, monitoring_type="ModelBias",
                                    job_definition="churn-dev-bias-77aa01", endpoint=None),
                    [execution("churn-dev-model-bias", top, "Completed", job="j3", monitoring_type="ModelBias")])
    expect_schedule(stub, described(foreign, now - 24 * H), [execution(foreign, top, "Completed", job="j4")])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 0
    assert [(s["name"], s["monitoring_type"], s["next_run"] and s["next_run"]["scheduled"]) for s in document["schedules"]] == [
        ("churn-dev-data-quality", "DataQuality", z(top + H)),
        (leftover, "DataQuality", None),
        ("churn-dev-model-bias", "ModelBias", z(top + H)),
        (foreign, "DataQuality", z(top + H)),
    ]
    bias = document["schedules"][2]["job_definition"]
    assert (bias["name"], bias["input"], bias["output_uri"]) == (
        "churn-dev-bias-77aa01", "batch_transform", f"s3://{BUCKET}/reports/model-bias")
    assert [(f["rule"], f["subject"]) for f in document["findings"]] == [("leftover-one-time-schedule", leftover)]


def test_a_schedule_whose_job_definition_is_gone(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    put_capture(aws, top_of_hour(now), 1)
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H, job_definition="churn-dev-dq-0000aa")])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H, job_definition="churn-dev-dq-0000aa"),
                    [execution(SCHEDULE, top_of_hour(now), "Completed", job="j")])

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["schedules"][0]["job_definition"]["found"] is False
    assert [f["rule"] for f in document["findings"]] == ["job-definition-missing"]


def test_nothing_deployed_but_the_foundation(aws, tmp_path):
    deploy_foundation_and_network(aws)
    now = now_utc()
    params = dev_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [], by_endpoint=False)  # no endpoint: schedules are looked for by name only

    code, document = run_status(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["endpoint"]["found"] is False and document["schedules"] == []
    # the capture location params names is listed anyway (empty)
    assert document["capture"][0]["prefix"] == CAPTURE_PREFIX and document["capture"][0]["files"] == 0
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [
        ("endpoint-missing", "error"), ("no-schedules", "warning")]


# ------------------------------------------------------------------ through the CLI


def test_the_command_through_the_cli_prints_json_and_exits_with_the_findings(aws, tmp_path, capsys, monkeypatch):
    deployed(aws)
    now = now_utc()
    paths = scratch(tmp_path / "repo")
    sagemaker, stub = sagemaker_client(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [
        execution(SCHEDULE, top_of_hour(now), "Failed", failure_reason="AlgorithmError: Job inputs had no data")], limit=2)
    monkeypatch.setattr("mmtool.operate.awsenv.connect", lambda params, **_: clients(aws, sagemaker))

    with stub:
        code = main(["status", "--env", "dev", "--json", "--hours", "2", "--executions", "2"], paths)

    out, err = capsys.readouterr()
    assert code == 1, err
    document = json.loads(out)
    assert document["capture"][0]["hours"] == 2 and len(document["capture"][0]["per_hour"]) == 2
    assert [f["rule"] for f in document["findings"]] == ["no-data-in-window", "no-recent-capture"]


def test_an_environment_without_the_foundation_stack_says_to_deploy(aws, tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    code = main(["status", "--env", "dev"], paths)
    _, err = capsys.readouterr()
    assert code == 1
    assert err == ("churn-dev: the SSM parameter /churn/dev/foundation/bucket-name is not in eu-west-1: the foundation "
                   "stack of environment dev is not deployed in this account.\n"
                   "Next: run `make deploy ENV=dev` first (or check AWS_PROFILE / the account).\n")


def test_credentials_of_another_account_are_refused(aws, tmp_path, capsys):
    paths = scratch(tmp_path / "repo", account_id="111122223333")
    code = main(["status", "--env", "dev"], paths)
    _, err = capsys.readouterr()
    assert code == 3
    assert "wrong AWS account: the credentials belong to 123456789012" in err


@pytest.mark.parametrize("argv, message", [
    (["status"], "--env is required: make status ENV=dev"),
    (["status", "--env", "dev", "--hours", "0"], "--hours=0: must be 1-168"),
    (["status", "--env", "dev", "--executions", "101"], "--executions=101: must be 1-100"),
])
def test_bad_input_exits_2(tmp_path, capsys, argv, message):
    code = main(argv, scratch(tmp_path / "repo"))
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith(message)
