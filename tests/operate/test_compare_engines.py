"""`make compare-engines` (mmtool.operate.compare_engines) against the moto server: both engines' processing jobs,
the engine's EventBridge Scheduler schedule and the report files put in the bucket; ListMonitoringExecutions, which
moto 5.2.5 lacks, is answered by the GapStubber of monitoring_env.py (the same client's other calls reach moto).
The drift figures are checked against scipy's two-sample KS statistic (test_dryrun.robust_ks)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from mmtool.cli import main
from mmtool.operate.compare_engines import compare, format_comparison

from .conftest import BUCKET, REGION, REPO, ROLE_ARN, client, scratch
from .monitoring_env import sagemaker_client
from .test_dryrun import capture_columns, robust_ks

SAMPLES = REPO / "tests" / "data" / "reference"
BASELINE_STATISTICS = SAMPLES / "baseline-samples" / "data-quality-statistics.json"
BASELINE_CONSTRAINTS = SAMPLES / "baseline-samples" / "data-quality-constraints.json"
CAPTURE = SAMPLES / "capture-samples" / "capture.jsonl"
MM_SCHEDULE = "churn-dev-data-quality"
ENGINE_SCHEDULE = "churn-dev-data-quality-processing"
GROUP = "churn-dev"
PREFIX = "dq-0123456789abcdef"
MM_JOB = "model-monitoring-202612060900-5e6f7a8b9c0d1e2f3a4b5c6d"
ENGINE_JOB = f"{PREFIX}-7c1f5a8e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
MM_REPORTS = f"s3://{BUCKET}/reports/data-quality/churn-dev/{MM_SCHEDULE}/2026/12/06/09"
ENGINE_REPORTS = f"s3://{BUCKET}/reports/processing/data-quality/{ENGINE_JOB}"


def analyzer_statistics(tmp_path, lines: int) -> bytes:
    """statistics.json the analyzer writes for the first `lines` records of capture.jsonl (the project's
    pre-processor, default settings): what either engine writes for that hour."""
    from scripts.analyzer.cli import main as analyzer

    part = tmp_path / f"capture-{lines}.jsonl"
    part.write_text("".join(CAPTURE.read_text().splitlines(keepends=True)[:lines]))
    out = tmp_path / f"report-{lines}"
    assert analyzer(["check", "--capture", str(part), "--preprocessor", str(REPO / "scripts" / "record_preprocessor.py"),
                     "--out", str(out), "--statistics", str(BASELINE_STATISTICS)]) == 0
    return (out / "statistics.json").read_bytes()


def put(s3, uri: str, body: bytes) -> None:
    bucket, _, key = uri[5:].partition("/")
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def processing_job(server, name: str, image: str, output_uri: str) -> None:
    client("sagemaker", server).create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        AppSpecification={"ImageUri": image}, RoleArn=ROLE_ARN,
        ProcessingOutputConfig={"Outputs": [{"OutputName": "report", "S3Output": {
            "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]})


def engine_schedule(server, job_name: str) -> None:
    scheduler = client("scheduler", server)
    scheduler.create_schedule_group(Name=GROUP)
    request = {"ProcessingJobName": job_name, "RoleArn": ROLE_ARN}
    scheduler.create_schedule(Name=ENGINE_SCHEDULE, GroupName=GROUP, ScheduleExpression="cron(0 * * * ? *)",
                              FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
                              Target={"Arn": "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob",
                                      "RoleArn": ROLE_ARN, "Input": json.dumps(request)})


def drift_violation(feature: str, distance: float) -> dict:
    return {"feature_name": feature, "constraint_check_type": "baseline_drift_check",
            "description": f"Numerical distance: {distance!r} exceeds numerical threshold: 0.1"}


def test_the_last_runs_of_both_engines_are_lined_up(aws, tmp_path):
    s3 = client("s3", aws)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    put(s3, f"s3://{BUCKET}/baselines/job-1/statistics.json", BASELINE_STATISTICS.read_bytes())
    put(s3, f"s3://{BUCKET}/baselines/job-1/constraints.json", BASELINE_CONSTRAINTS.read_bytes())
    # Model Monitor's run saw all 44 records, the processing engine's the first 20 (a different hour)
    put(s3, f"{MM_REPORTS}/statistics.json", analyzer_statistics(tmp_path, 44))
    put(s3, f"{ENGINE_REPORTS}/statistics.json", analyzer_statistics(tmp_path, 20))
    mm_violations = [drift_violation("_c0", 0.67), {"feature_name": "_c1", "constraint_check_type": "data_type_check",
                                                     "description": "Value: 0.5 does not meet the constraint requirement! "}]
    put(s3, f"{MM_REPORTS}/constraint_violations.json", json.dumps({"violations": mm_violations}).encode())
    put(s3, f"{ENGINE_REPORTS}/constraint_violations.json",
        json.dumps({"violations": [drift_violation("_c0", 0.6)]}).encode())
    processing_job(aws, MM_JOB, "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer", MM_REPORTS)
    processing_job(aws, ENGINE_JOB, "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                   ENGINE_REPORTS)
    processing_job(aws, "dq-ffffffffffffffff-other", "x", f"s3://{BUCKET}/reports/other")  # another endpoint's prefix
    engine_schedule(aws, f"{PREFIX}-<aws.scheduler.execution-id>")
    sagemaker, stub = sagemaker_client(aws)
    scheduled = datetime(2026, 12, 6, 9, tzinfo=timezone.utc)
    stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": [
        {"MonitoringScheduleName": MM_SCHEDULE, "ScheduledTime": scheduled.replace(hour=10), "CreationTime": scheduled,
         "LastModifiedTime": scheduled, "MonitoringExecutionStatus": "InProgress"},
        {"MonitoringScheduleName": MM_SCHEDULE, "ScheduledTime": scheduled, "CreationTime": scheduled,
         "LastModifiedTime": scheduled, "MonitoringExecutionStatus": "CompletedWithViolations",
         "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/{MM_JOB}"},
    ]}, {"MonitoringScheduleName": MM_SCHEDULE, "SortBy": "ScheduledTime", "SortOrder": "Descending", "MaxResults": 20})

    with stub:
        comparison = compare(s3, sagemaker, client("scheduler", aws), endpoint="churn-dev",
                             model_monitor_schedule=MM_SCHEDULE, processing_schedule=ENGINE_SCHEDULE,
                             schedule_group=GROUP, baseline_statistics=f"s3://{BUCKET}/baselines/job-1/statistics.json",
                             baseline_constraints=f"s3://{BUCKET}/baselines/job-1/constraints.json")
    stub.assert_no_pending_responses()

    mm, engine = comparison.runs
    assert (mm.job, mm.status, mm.scheduled, mm.output_uri) == (MM_JOB, "CompletedWithViolations", scheduled, MM_REPORTS)
    assert (engine.job, engine.status, engine.output_uri) == (ENGINE_JOB, "Completed", ENGINE_REPORTS)
    assert mm.violations == mm_violations and len(engine.violations) == 1
    assert mm.problems == engine.problems == [] and comparison.complete
    assert mm.run_seconds is not None and engine.run_seconds is not None
    # drift: the same computation for both runs, against the baseline, by the Robust method of constraints.json
    baseline = json.loads(BASELINE_STATISTICS.read_text())
    columns = capture_columns()
    for figures, lines in zip(comparison.drift, (44, 20)):
        assert set(figures) == {f["name"] for f in baseline["features"]}
        for index, feature in enumerate(baseline["features"]):
            assert figures[feature["name"]] == pytest.approx(robust_ks(feature, columns[index][:lines]), abs=1e-12)
    assert comparison.drift[0] != comparison.drift[1]

    report = format_comparison(comparison).splitlines()
    assert report[0] == "Engines of churn-dev: the last finished data-quality run of each"
    assert report[2].split() == ["schedule", MM_SCHEDULE, f"{GROUP}/{ENGINE_SCHEDULE}"]
    assert report[3].split() == ["run", MM_JOB, ENGINE_JOB]
    assert report[4].split() == ["status", "CompletedWithViolations", "Completed"]
    assert report[7].split() == ["violations", "2", "1"]
    assert "  baseline_drift_check       _c0                      yes  yes" in report
    assert "  data_type_check            _c1                      yes  no" in report
    assert f"  _c0    {comparison.drift[0]['_c0']:.4f}    {comparison.drift[1]['_c0']:.4f}" in report


def test_a_missing_run_is_said_per_engine(aws, tmp_path):
    s3 = client("s3", aws)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    sagemaker, stub = sagemaker_client(aws)
    stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": []},
                      {"MonitoringScheduleName": MM_SCHEDULE, "SortBy": "ScheduledTime", "SortOrder": "Descending",
                       "MaxResults": 20})
    with stub:
        comparison = compare(s3, sagemaker, client("scheduler", aws), endpoint="churn-dev",
                             model_monitor_schedule=MM_SCHEDULE, processing_schedule=ENGINE_SCHEDULE,
                             schedule_group=GROUP, baseline_statistics=None, baseline_constraints=None)
    assert not comparison.complete
    report = format_comparison(comparison)
    assert f"Note: model-monitor: {MM_SCHEDULE} has no finished execution yet" in report
    assert f"Note: processing: could not read the schedule {ENGINE_SCHEDULE} in group {GROUP}: ResourceNotFoundException" in report
    assert "Note: no baseline in params: no drift figures" in report


def test_an_endpoint_that_does_not_run_both_engines_is_refused(tmp_path, capsys):
    code = main(["compare-engines", "--env", "dev"], scratch(tmp_path / "repo"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("compare-engines: params/dev.yaml monitoring.engine is model-monitor: only an endpoint that "
                          "runs both engines has two runs to compare")


def test_the_schedule_names_of_an_endpoint_running_both_engines(tmp_path):
    from types import SimpleNamespace

    from mmtool.config.workspace import validate
    from mmtool.operate.compare_engines import schedule_names

    from .fleet_env import scratch_staging

    def with_engine(entry, engine):  # the params field of docs/engine.md, until it is in the model on this branch
        return SimpleNamespace(**{name: getattr(entry, name) for name in ("legacy", "key", "name_prefix", "endpoint_name")},
                               monitoring=SimpleNamespace(engine=engine))

    dev = validate(scratch(tmp_path / "dev"), ["dev"])["dev"]
    names = schedule_names(dev, with_engine(dev.fleet()[0], "both"))
    assert (names.model_monitor, names.processing, names.group) == (MM_SCHEDULE, ENGINE_SCHEDULE, GROUP)
    staging = validate(scratch_staging(tmp_path / "staging"), ["staging"])["staging"]
    upsell = next(e for e in staging.fleet() if e.key == "upsell")
    names = schedule_names(staging, with_engine(upsell, "both"))
    assert (names.endpoint, names.model_monitor, names.processing, names.group) == (
        "churn-staging-upsell", "churn-staging-upsell-dq", "churn-staging-upsell-dq-proc", "churn-staging")
