"""A deployed environment for `status` / `run-now` tests: what moto 5.2.5 can hold, plus a Stubber for what it
cannot.

moto 5.2.5 implements the endpoint, its endpoint config (with DataCaptureConfig), the four kinds of
monitoring job definitions, processing jobs (always `Completed`), S3, SSM, CloudWatch Logs and
CloudFormation; it has no monitoring schedules and no monitoring executions at all (no
Create/Describe/List/Delete MonitoringSchedule, no ListMonitoringExecutions in moto/sagemaker/responses.py).
`GapStubber` is botocore's Stubber answering only the operations it is told to (by default exactly those
moto lacks, with responses botocore validates against the API's shapes); every other call of the same
SageMaker client goes through to the moto server.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import boto3
from botocore.stub import Stubber
from rich.console import Console

from deployer.moto_server import MOTO_ACCOUNT
from mmtool.operate.awsenv import Clients

from .conftest import BUCKET, REGION, ROLE_ARN, client

MOTO_LACKS = frozenset({
    "CreateMonitoringSchedule",
    "DescribeMonitoringSchedule",
    "ListMonitoringSchedules",
    "ListMonitoringExecutions",
    "DeleteMonitoringSchedule",
})
ENDPOINT = "churn-dev"
CONFIG = "churn-dev-EndpointConfig-1a2b3c"
SCHEDULE = "churn-dev-data-quality"
JOB_DEFINITION = "churn-dev-dq-4f9a1c"
IMAGE = "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


class GapStubber(Stubber):
    """Stubber for `operations` only; the client's other operations reach its endpoint (the moto server)."""

    def __init__(self, client: Any, operations: Iterable[str] = MOTO_LACKS):
        super().__init__(client)
        self.operations = frozenset(operations)

    def _assert_expected_params(self, model, params, context, **kwargs):  # noqa: ANN001
        if model.name in self.operations:
            super()._assert_expected_params(model, params, context, **kwargs)

    def _get_response_handler(self, model, params, context, **kwargs):  # noqa: ANN001
        if model.name in self.operations:
            return super()._get_response_handler(model, params, context, **kwargs)
        return None


def now_utc() -> datetime:
    """The tests' "now": the real time (moto stamps S3 objects with it), to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def top_of_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def sagemaker_client(server: Any) -> tuple[Any, GapStubber]:
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=server.url)
    return sagemaker, GapStubber(sagemaker)


def clients(server: Any, sagemaker: Any) -> Clients:
    return Clients(region=REGION, s3=client("s3", server), ssm=client("ssm", server), sts=client("sts", server),
                   sagemaker=sagemaker, logs=client("logs", server), cloudformation=client("cloudformation", server),
                   scheduler=client("scheduler", server))


def console(width: int = 200) -> Console:
    return Console(file=io.StringIO(), width=width, highlight=False, color_system=None, force_terminal=False)


def run_status(server: Any, params: Any, stub: GapStubber, sagemaker: Any, now: datetime, *, hours: int = 3,
               json_output: bool = True, width: int = 200, endpoint: str | None = None) -> tuple[int, Any]:
    """`make status` with the stubbed SageMaker client; returns (exit code, JSON document or screen text)."""
    from mmtool.operate import status

    printed: list[str] = []
    screen = console(width)
    with stub:
        code = status.run_status(params, clients(server, sagemaker), now=now, hours=hours, json_output=json_output,
                                 console=screen, out=printed.append, endpoint=endpoint)
    stub.assert_no_pending_responses()
    return code, (json.loads(printed[0]) if json_output else screen.file.getvalue())


def deploy_endpoint(server: Any, *, destination: str = f"s3://{BUCKET}/datacapture", enable: bool = True,
                    sampling: int = 100, ssm: bool = True) -> None:
    """The endpoint stack's result in moto: model, endpoint config with Data Capture, endpoint, SSM name."""
    sagemaker = client("sagemaker", server)
    sagemaker.create_model(ModelName="churn-dev-Model-9z8y7x", ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/churn-dev-endpoint",
                           PrimaryContainer={"Image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn-xgboost:1.7-1"})
    sagemaker.create_endpoint_config(
        EndpointConfigName=CONFIG,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "churn-dev-Model-9z8y7x", "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large"}],
        DataCaptureConfig={
            "EnableCapture": enable,
            "InitialSamplingPercentage": sampling,
            "DestinationS3Uri": destination,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        },
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG)
    if ssm:
        client("ssm", server).put_parameter(Name="/churn/dev/endpoint/endpoint-name", Value=ENDPOINT, Type="String")


def create_dq_definition(server: Any, name: str = JOB_DEFINITION, *, environment: dict[str, str] | None = None,
                         max_runtime: int = 1800) -> None:
    """The monitoring stack's data-quality job definition, as templates/monitoring.py makes it."""
    spec: dict[str, Any] = {"ImageUri": IMAGE,
                            "RecordPreprocessorSourceUri": f"s3://{BUCKET}/assets/record_preprocessor-0f1e2d3c.py"}
    if environment is not None:
        spec["Environment"] = environment
    client("sagemaker", server).create_data_quality_job_definition(
        JobDefinitionName=name,
        DataQualityAppSpecification=spec,
        DataQualityJobInput={"EndpointInput": {"EndpointName": ENDPOINT, "LocalPath": "/opt/ml/processing/input/endpoint",
                                               "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}},
        DataQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{BUCKET}/reports/data-quality", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        RoleArn=ROLE_ARN,
        StoppingCondition={"MaxRuntimeInSeconds": max_runtime},
    )


def put_capture(server: Any, hour: datetime, count: int, *, prefix: str = f"datacapture/{ENDPOINT}/AllTraffic/") -> list[str]:
    """`count` capture files in the hour folder of `hour`."""
    s3 = client("s3", server)
    keys = []
    for index in range(count):
        key = f"{prefix}{hour:%Y/%m/%d/%H}/{index:02d}-00-000-{index:08d}-aaaa-bbbb-cccc-000000000000.jsonl"
        record = {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2",
                                                    "encoding": "CSV"}},
                  "eventMetadata": {"eventId": f"{index:08d}-e", "inferenceTime": f"{hour:%Y-%m-%dT%H}:00:00Z"},
                  "eventVersion": "0"}
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record).encode())
        keys.append(key)
    return keys


def job_arn(job: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:processing-job/{job}"


def schedule_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:monitoring-schedule/{name}"


def summary(name: str, created: datetime, *, status: str = "Scheduled", monitoring_type: str = "DataQuality",
            job_definition: str = JOB_DEFINITION, endpoint: str | None = ENDPOINT) -> dict[str, Any]:
    item = {"MonitoringScheduleName": name, "MonitoringScheduleArn": schedule_arn(name), "CreationTime": created,
            "LastModifiedTime": created, "MonitoringScheduleStatus": status, "MonitoringJobDefinitionName": job_definition,
            "MonitoringType": monitoring_type}
    if endpoint:
        item["EndpointName"] = endpoint
    return item


def described(name: str, created: datetime, *, status: str = "Scheduled", expression: str = "cron(0 * ? * * *)",
              monitoring_type: str = "DataQuality", job_definition: str = JOB_DEFINITION, endpoint: str | None = ENDPOINT,
              failure_reason: str | None = None, window: tuple[str, str] | None = None) -> dict[str, Any]:
    schedule_config: dict[str, Any] = {"ScheduleExpression": expression}
    if window:
        schedule_config["DataAnalysisStartTime"], schedule_config["DataAnalysisEndTime"] = window
    item: dict[str, Any] = {
        "MonitoringScheduleArn": schedule_arn(name), "MonitoringScheduleName": name, "MonitoringScheduleStatus": status,
        "MonitoringType": monitoring_type, "CreationTime": created, "LastModifiedTime": created,
        "MonitoringScheduleConfig": {"ScheduleConfig": schedule_config, "MonitoringJobDefinitionName": job_definition,
                                     "MonitoringType": monitoring_type},
    }
    if endpoint:
        item["EndpointName"] = endpoint
    if failure_reason:
        item["FailureReason"] = failure_reason
    return item


def execution(schedule: str, scheduled: datetime, status: str, *, job: str | None = None, minutes: int = 9,
              failure_reason: str | None = None, monitoring_type: str = "DataQuality") -> dict[str, Any]:
    """A MonitoringExecutionSummary: created 4 min after the scheduled time, last changed `minutes` later."""
    item: dict[str, Any] = {
        "MonitoringScheduleName": schedule, "ScheduledTime": scheduled, "CreationTime": scheduled + timedelta(minutes=4),
        "LastModifiedTime": scheduled + timedelta(minutes=4 + minutes), "MonitoringExecutionStatus": status,
        "EndpointName": ENDPOINT, "MonitoringJobDefinitionName": JOB_DEFINITION, "MonitoringType": monitoring_type,
    }
    if job:
        item["ProcessingJobArn"] = job_arn(job)
    if failure_reason:
        item["FailureReason"] = failure_reason
    return item


def expect_discovery(stub: GapStubber, summaries: list[dict[str, Any]], *, by_endpoint: bool = True) -> None:
    """The two ListMonitoringSchedules calls of status: by endpoint, then by name prefix."""
    if by_endpoint:
        stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": [
            s for s in summaries if s.get("EndpointName") == ENDPOINT]}, {"EndpointName": ENDPOINT})
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": [
        s for s in summaries if s["MonitoringScheduleName"].startswith("churn-dev-")]}, {"NameContains": "churn-dev-"})


def expect_schedule(stub: GapStubber, description: dict[str, Any], executions: list[dict[str, Any]], *,
                    limit: int = 5) -> None:
    name = description["MonitoringScheduleName"]
    stub.add_response("describe_monitoring_schedule", description, {"MonitoringScheduleName": name})
    stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": executions},
                      {"MonitoringScheduleName": name, "SortBy": "ScheduledTime", "SortOrder": "Descending",
                       "MaxResults": limit})


def put_log(server: Any, job: str, lines: list[str]) -> str:
    logs = client("logs", server)
    try:
        logs.create_log_group(logGroupName=LOG_GROUP)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    stream = f"{job}/algo-1-1764064800"
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": now_ms + i, "message": text} for i, text in enumerate(lines)])
    return stream


def create_processing_job(server: Any, job: str, output_uri: str) -> None:
    """The execution's processing job as moto can hold it (always Completed) with its output location."""
    client("sagemaker", server).create_processing_job(
        ProcessingJobName=job,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        AppSpecification={"ImageUri": IMAGE},
        RoleArn=ROLE_ARN,
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
    )
