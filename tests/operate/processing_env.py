"""The processing engine's schedules and jobs (docs/engine.md) in the moto server, for status and run-now tests.

The schedule is a real EventBridge Scheduler schedule in moto (moto implements the Scheduler API) whose target's
Input is a `CreateProcessingJob` request shaped as templates/processing_engine.py builds it (placeholders
included; tests/test_processing_engine.py checks the template's own against botocore's model). moto's processing
jobs are always Completed and keep neither the Environment nor an ExitMessage, so where a job's outcome matters the
tests answer ListProcessingJobs and DescribeProcessingJob with botocore's Stubber (`jobs_stubbed`), whose responses
botocore validates against the API's shapes.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from deployer.moto_server import MOTO_ACCOUNT

from .conftest import REGION, client
from .monitoring_env import MOTO_LACKS, GapStubber

EXECUTION_ID = "<aws.scheduler.execution-id>"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
SKLEARN_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
PROCESSING_OPERATIONS = MOTO_LACKS | {"ListProcessingJobs", "DescribeProcessingJob"}


def processing_request(*, prefix: str, endpoint: str, schedule: str, bucket: str, reports: str, role: str,
                       capture: str = "datacapture", window: tuple[str, str] = ("-PT1H", "-PT0H")) -> dict[str, Any]:
    """The schedule's CreateProcessingJob request (data quality), placeholders as the scheduler receives them."""
    return {
        "ProcessingJobName": f"{prefix}{EXECUTION_ID}",
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 20}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "AppSpecification": {"ImageUri": SKLEARN_IMAGE,
                             "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/analyzer", "job"]},
        "Environment": {
            "analysis_type": "DATA_QUALITY", "scheduled_time": SCHEDULED_TIME,
            "window_start_offset": window[0], "window_end_offset": window[1],
            "capture_s3_uri": f"s3://{bucket}/{capture}/{endpoint}", "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Enabled", "metrics_namespace": "aws/sagemaker/Endpoints/data-metrics",
            "sagemaker_endpoint_name": endpoint, "sagemaker_monitoring_schedule_name": schedule,
        },
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "report", "S3Output": {
            "S3Uri": f"s3://{bucket}/{reports}/data-quality", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        "RoleArn": role,
    }


def create_schedule(server: Any, *, group: str, name: str, request: dict[str, Any], state: str = "ENABLED") -> None:
    """The monitoring stack's schedule in its group (the group is the foundation stack's)."""
    scheduler = client("scheduler", server)
    if group not in {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]}:
        scheduler.create_schedule_group(Name=group)
    scheduler.create_schedule(
        Name=name, GroupName=group, ScheduleExpression="cron(0 * ? * * *)", ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}, State=state,
        Target={"Arn": "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob",
                "RoleArn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/{group}-scheduler", "Input": json.dumps(request)})


def job_description(request: dict[str, Any], execution: str, scheduled: datetime, status: str, *,
                    exit_message: str | None = None, failure_reason: str | None = None,
                    minutes: int = 6) -> dict[str, Any]:
    """DescribeProcessingJob of the job the scheduler started for `scheduled` (created 2 min after the slot)."""
    filled = json.loads(json.dumps(request).replace(EXECUTION_ID, execution)
                        .replace(SCHEDULED_TIME, scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")))
    name = filled["ProcessingJobName"]
    created = scheduled + timedelta(minutes=2)
    item = {key: filled[key] for key in ("ProcessingJobName", "ProcessingResources", "StoppingCondition",
                                         "AppSpecification", "Environment", "ProcessingOutputConfig", "RoleArn")}
    item.update({"ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:processing-job/{name}",
                 "ProcessingJobStatus": status, "CreationTime": created,
                 "LastModifiedTime": created + timedelta(minutes=minutes)})
    if status != "InProgress":
        item["ProcessingEndTime"] = created + timedelta(minutes=minutes)
    if exit_message:
        item["ExitMessage"] = exit_message
    if failure_reason:
        item["FailureReason"] = failure_reason
    return item


def expect_jobs(stub: GapStubber, prefix: str, descriptions: list[dict[str, Any]], *, limit: int = 100) -> None:
    """ListProcessingJobs by the prefix (newest first), then DescribeProcessingJob of each, in that order."""
    stub.add_response("list_processing_jobs", {"ProcessingJobSummaries": [
        {"ProcessingJobName": d["ProcessingJobName"], "ProcessingJobArn": d["ProcessingJobArn"],
         "CreationTime": d["CreationTime"], "LastModifiedTime": d["LastModifiedTime"],
         "ProcessingJobStatus": d["ProcessingJobStatus"]} for d in descriptions]},
        {"NameContains": prefix, "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": limit})
    for description in descriptions:
        stub.add_response("describe_processing_job", description,
                          {"ProcessingJobName": description["ProcessingJobName"]})


def jobs_stubbed(server: Any) -> tuple[Any, GapStubber]:
    """A SageMaker client whose schedule and processing-job reads are stubbed; the rest reach moto."""
    import boto3

    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=server.url)
    return sagemaker, GapStubber(sagemaker, PROCESSING_OPERATIONS)
