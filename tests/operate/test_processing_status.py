"""`make status` of an endpoint on the processing engine (docs/engine.md, docs/operating.md): its EventBridge
Scheduler schedule read from the moto server (GetSchedule), its processing jobs under the schedule's job-name prefix
with their outcome from the analyzer's ExitMessage, the violations file in the reports prefix, failures explained;
under `engine: both` the two engines side by side. Processing jobs through the Stubber (processing_env.py)."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

import pytest

from mmtool.config.loader import load_params

from .conftest import BUCKET, REGION, ROLE_ARN, client, deploy_foundation_and_network, scratch
from .monitoring_env import (
    SCHEDULE,
    create_dq_definition,
    deploy_endpoint,
    described,
    execution,
    expect_discovery,
    expect_schedule,
    now_utc,
    put_capture,
    put_log,
    run_status,
    summary,
    top_of_hour,
)
from .processing_env import create_schedule, expect_jobs, job_description, jobs_stubbed, processing_request

H = timedelta(hours=1)
NAME = "churn-dev-data-quality-processing"  # templates/processing_engine.py schedule_name, single-endpoint form
GROUP = "churn-dev"
# The job-name prefix as docs/engine.md defines it: dq-<16 hex of sha256("<project>/<env>/<key>")>- (computed here
# independently of templates/processing_engine.py job_name_hash; the single-endpoint form's key is empty).
PREFIX = f"dq-{hashlib.sha256(b'churn/dev/').hexdigest()[:16]}-"
REPORTS = f"s3://{BUCKET}/reports/data-quality"
EXEC_1 = "6f1c2f2e-0d55-4b8e-9a4e-1f0c8f3b2a11"
EXEC_2 = "0b7d7a38-52a5-4c0e-8f5c-2a3b4c5d6e7f"


def engine_params(tmp_path, engine="processing"):
    paths = scratch(tmp_path / "repo", **{"monitoring.engine": engine})
    return load_params(paths.params / "dev.yaml", paths.root)


def request():
    return processing_request(prefix=PREFIX, endpoint="churn-dev", schedule=NAME, bucket=BUCKET, reports="reports",
                              role=ROLE_ARN)


def deployed(server, *, state="ENABLED"):
    deploy_foundation_and_network(server)
    deploy_endpoint(server)
    create_schedule(server, group=GROUP, name=NAME, request=request(), state=state)


run = functools.partial(run_status, hours=3, width=240)


def test_processing_schedule_jobs_and_violations(aws, tmp_path):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, top - H, 2)
    client("s3", aws).put_object(Bucket=BUCKET, Key="reports/data-quality/constraint_violations.json", Body=json.dumps(
        {"violations": [{"feature_name": "age", "constraint_check_type": "baseline_drift_check",
                         "description": "Baseline drift distance: 0.4 exceeds threshold: 0.1"},
                        {"feature_name": "plan", "constraint_check_type": "categorical_values_check",
                         "description": "Data type match requirement is not met"}]}).encode())
    params = engine_params(tmp_path)
    sagemaker, stub = jobs_stubbed(aws)
    expect_discovery(stub, [])
    newest = job_description(request(), EXEC_1, top, "Completed",
                             exit_message="CompletedWithViolations: 2 violation(s); 1000 rows, 8 columns")
    older = job_description(request(), EXEC_2, top - H, "Failed", failure_reason="AlgorithmError: see the job logs",
                            exit_message="Failed: no record in the window became a row (0 records read, 0 dropped "
                                         "by the pre-processor): the run has no data")
    expect_jobs(stub, PREFIX, [newest, older])
    stub.add_response("describe_processing_job", older, {"ProcessingJobName": older["ProcessingJobName"]})
    stub.add_response("describe_processing_job", newest, {"ProcessingJobName": newest["ProcessingJobName"]})

    code, document = run(aws, params, stub, sagemaker, now)

    assert code == 0
    [schedule] = document["schedules"]
    assert schedule["name"] == NAME and schedule["engine"] == "processing"
    assert schedule["processing"] == {"group": GROUP, "state": "ENABLED", "job_prefix": PREFIX}
    assert schedule["status"] == "Scheduled" and schedule["schedule_expression"] == "cron(0 * ? * * *)"
    assert schedule["next_run"]["scheduled"] == (top + H).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [(e["processing_job"], e["status"]) for e in schedule["executions"]] == [
        (f"{PREFIX}{EXEC_1}", "CompletedWithViolations"), (f"{PREFIX}{EXEC_2}", "Failed")]
    # the scheduled time is the one the scheduler passed the analyzer, not the job's creation 2 min later
    assert schedule["executions"][0]["scheduled_time"] == top.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert schedule["failure"]["exit_message"].endswith("the run has no data")
    assert schedule["violations"]["uri"] == f"{REPORTS}/constraint_violations.json"
    assert schedule["violations"]["total"] == 2
    assert schedule["job_definition"]["output_uri"] == REPORTS
    assert [f["rule"] for f in document["findings"]] == ["violations"]


@pytest.mark.parametrize("exit_message, log, rule", [
    ("Failed: no record in the window became a row (3 records read, 3 dropped by the pre-processor): the run has "
     "no data", [], "no-data-in-window"),
    ("Failed: unexpected MemoryError: ", ["MemoryError"], "out-of-memory"),
    ("Failed: /opt/ml/processing/input/preprocessor/record_preprocessor.py: defines no "
     "preprocess_handler(inference_record, logger) function", [], "execution-failed"),
])
def test_a_failed_processing_job_is_explained(aws, tmp_path, exit_message, log, rule):
    deployed(aws)
    now = now_utc()
    top = top_of_hour(now)
    params = engine_params(tmp_path)
    sagemaker, stub = jobs_stubbed(aws)
    expect_discovery(stub, [])
    failed = job_description(request(), EXEC_1, top, "Failed", failure_reason="AlgorithmError: see the job logs",
                             exit_message=exit_message)
    put_log(aws, failed["ProcessingJobName"], ["analyzer starting", *log, exit_message])
    expect_jobs(stub, PREFIX, [failed])
    stub.add_response("describe_processing_job", failed, {"ProcessingJobName": failed["ProcessingJobName"]})

    code, document = run(aws, params, stub, sagemaker, now)

    assert code == 1
    assert [f["rule"] for f in document["findings"] if f["severity"] == "error"] == [rule]
    assert document["schedules"][0]["failure"]["log_tail"][-1].strip() == exit_message.strip()


def test_missing_and_disabled_schedules_are_explained(aws, tmp_path):
    deploy_foundation_and_network(aws)
    deploy_endpoint(aws)
    now = now_utc()
    params = engine_params(tmp_path)
    sagemaker, stub = jobs_stubbed(aws)
    expect_discovery(stub, [])
    expect_jobs(stub, PREFIX, [])
    code, document = run(aws, params, stub, sagemaker, now)
    assert code == 1
    [finding] = [f for f in document["findings"] if f["severity"] == "error"]
    assert finding["rule"] == "processing-schedule-missing" and "make deploy ENV=dev" in finding["fix"]

    create_schedule(aws, group=GROUP, name=NAME, request=request(), state="DISABLED")
    sagemaker, stub = jobs_stubbed(aws)
    expect_discovery(stub, [])
    expect_jobs(stub, PREFIX, [])
    code, document = run(aws, params, stub, sagemaker, now)
    assert document["schedules"][0]["status"] == "Disabled"
    assert [f["rule"] for f in document["findings"]] == ["no-recent-capture", "processing-schedule-disabled"]
    assert f"aws scheduler get-schedule --name {NAME} --group-name {GROUP} --region {REGION}" in \
        document["findings"][1]["fix"]


def test_both_engines_side_by_side(aws, tmp_path):
    deployed(aws)
    create_dq_definition(aws, environment={"publish_cloudwatch_metrics": "Enabled"})
    now = now_utc()
    top = top_of_hour(now)
    params = engine_params(tmp_path, "both")
    sagemaker, stub = jobs_stubbed(aws)
    expect_discovery(stub, [summary(SCHEDULE, now - 24 * H)])
    expect_schedule(stub, described(SCHEDULE, now - 24 * H), [execution(SCHEDULE, top, "Completed")])
    expect_jobs(stub, PREFIX, [job_description(request(), EXEC_1, top, "Completed",
                                               exit_message="Completed: 0 violation(s); 10 rows, 8 columns")])

    code, screen = run(aws, params, stub, sagemaker, now, json_output=False)

    assert code == 0
    cells = [[c.strip() for c in line.strip("│ ").split("│")] for line in screen.splitlines()
             if line.startswith("│ churn-dev-data-quality")]
    assert [row[:3] for row in cells] == [[SCHEDULE, "model-monitor", "DataQuality"],
                                          [NAME, "processing", "DataQuality"]]
    assert f"Processing jobs of {NAME}" in screen and f"{PREFIX}{EXEC_1}" in screen
