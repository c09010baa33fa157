"""What is true about an environment's monitoring right now: the facts `make status` and `make run-now` show
and the rules of `mmtool.operate.rules` explain.

Read (nothing is changed):

* SSM: the project bucket (`/<project>/<env>/foundation/bucket-name`), its key (`.../kms-key-arn`) and the
  endpoint name (`/<project>/<env>/endpoint/endpoint-name`); without the latter the derived name `<project>-<env>`.
* each `existing` endpoint of the fleet (one we did not deploy): DescribeEndpoint, DescribeEndpointConfig and
  its tags (ListTags), for the checks of `mmtool.operate.existing_endpoint`;
* the endpoint (DescribeEndpoint) and its live endpoint config (DescribeEndpointConfig): status, Data
  Capture enabled / sampling / destination, the variants;
* Data Capture files: one ListObjectsV2 page per variant and hour folder
  `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/` of the last `hours` hours (UTC), the URI taken
  verbatim, so a trailing slash shows where the files really went (`…//<endpoint>/…`, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html);
* monitoring schedules, found generically (every MonitoringType): ListMonitoringSchedules by
  EndpointName, and by NameContains `<project>-<env>-` (batch-transform monitors have no endpoint), keeping
  the names that start with that prefix plus every schedule of the endpoint; each one described;
* per schedule: its job definition (Describe{DataQuality,ModelQuality,ModelBias,ModelExplainability}
  JobDefinition, or the inline MonitoringJobDefinition), the last executions (ListMonitoringExecutions,
  newest scheduled time first); for the newest Failed/Stopped one the processing job (DescribeProcessingJob:
  FailureReason, ExitMessage) and the end of its CloudWatch log (`/aws/sagemaker/ProcessingJobs`, streams
  `<job>/…`); for the newest CompletedWithViolations one `constraint_violations.json` under the processing
  job's output S3 URI.

Pure helpers (no AWS): schedule slots and the next expected run (`first_slot_after`, `expected_next_run`),
an execution's analysis window (`analysis_window`), capture counts over a window (`files_between`).

All times are timezone-aware UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from deployer.aws_errors import error_code, error_message
from mmtool.config.monitor_kinds import BY_STEM, KINDS
from mmtool.config.schedule import ScheduleRejected, parse_schedule, window_offset_hours
from mmtool.operate.awsenv import AwsError, Clients, aws_errors, aws_failure, split_s3_uri
from mmtool.operate.stack_failures import StackFailure
from mmtool.operate.existing_endpoint import (
    AdoptTarget,
    CaptureExpectations,
    ExistingEndpointFacts,
    existing_targets,
    served_model,
    target_from_fleet,
)

HOUR = timedelta(hours=1)
START_DELAY = timedelta(minutes=20)  # executions start 0-20 min after the scheduled time (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html)
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
VIOLATIONS_FILE = "constraint_violations.json"
DEFAULT_HOURS = 24
DEFAULT_EXECUTIONS = 5
MAX_VIOLATIONS = 50
LOG_LINES = 15

# CLI monitor name -> MonitoringType; the schedule `<project>-<env>-<monitor>` runs the definition.
MONITORS = {kind.name: kind.stem for kind in KINDS}
MONITORING_TYPES = tuple(MONITORS.values())
TERMINAL_EXECUTION = ("Completed", "CompletedWithViolations", "Failed", "Stopped")
FAILED_EXECUTION = ("Failed", "Stopped")


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """`2026-11-24T09:00:00Z` (seconds), or None: the one time format of the JSON output."""
    return None if value is None else utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[union-attr]


def is_not_found(exc: BaseException) -> bool:
    """SageMaker says ResourceNotFound for a missing schedule or job definition and ValidationException
    "Could not find ..." for a missing endpoint or endpoint config."""
    code, message = error_code(exc), error_message(exc).lower()
    return code in ("ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "404") or (
        code == "ValidationException" and ("could not find" in message or "does not exist" in message)
    )


# ------------------------------------------------------------------ the facts


@dataclass
class EndpointFacts:
    name: str
    name_source: str  # "ssm" | "derived" (the SSM parameter is missing: the endpoint stack is not deployed)
    found: bool = False
    status: str | None = None
    failure_reason: str | None = None
    config_name: str | None = None
    config_found: bool = True  # False: the endpoint config was deleted while the endpoint still uses it
    capture_enabled: bool | None = None  # None: no DataCaptureConfig at all
    capture_status: str | None = None  # DescribeEndpoint's Started | Stopped, when AWS reports it
    sampling_percentage: int | None = None
    destination: str | None = None  # the live DestinationS3Uri, verbatim
    variants: list[str] = field(default_factory=list)


@dataclass
class CaptureHour:
    hour: datetime  # start of the hour folder yyyy/mm/dd/hh
    files: int
    newest: datetime | None = None
    truncated: bool = False  # more than one page (1000 objects): `files` is a lower bound


@dataclass
class CaptureFacts:
    """The hour folders of one variant, newest hour first."""

    variant: str
    prefix: str  # s3://bucket/<destination>/<endpoint>/<variant>/
    hours: list[CaptureHour] = field(default_factory=list)
    error: str | None = None  # the listing failed (e.g. AccessDenied): counts unknown

    @property
    def files(self) -> int:
        return sum(h.files for h in self.hours)

    @property
    def newest(self) -> datetime | None:
        times = [h.newest for h in self.hours if h.newest is not None]
        return max(times) if times else None

    @property
    def truncated(self) -> bool:
        return any(h.truncated for h in self.hours)


def files_between(captures: list[CaptureFacts], start: datetime, end: datetime) -> int | None:
    """Capture files in the hour folders that overlap [start, end); None when a folder was not listed."""
    if not captures or any(c.error for c in captures):
        return None
    total = 0
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        for capture in captures:
            listed = {h.hour: h for h in capture.hours}
            if hour not in listed:
                return None
            total += listed[hour].files
        hour += HOUR
    return total


@dataclass
class JobDefinitionFacts:
    name: str | None  # None: an inline MonitoringJobDefinition
    found: bool = True
    environment: dict[str, str] | None = None
    max_runtime_seconds: int | None = None
    role_arn: str | None = None
    output_uri: str | None = None
    input_kind: str | None = None  # endpoint | batch_transform
    endpoint_name: str | None = None
    start_offset: str | None = None  # the input's StartTimeOffset (model quality/bias), e.g. -P8D
    end_offset: str | None = None


@dataclass
class ExecutionFacts:
    scheduled_time: datetime
    status: str
    created: datetime | None = None
    last_modified: datetime | None = None
    processing_job: str | None = None
    failure_reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_EXECUTION

    @property
    def duration_seconds(self) -> int | None:
        """Creation to the last status change (provisioning included) of a finished execution."""
        if not self.finished or self.created is None or self.last_modified is None:
            return None
        return max(0, int((self.last_modified - self.created).total_seconds()))


@dataclass
class FailureDetails:
    scheduled_time: datetime
    status: str
    processing_job: str | None
    failure_reason: str | None
    exit_message: str | None = None
    log_tail: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Violation:
    feature: str
    check_type: str
    description: str


@dataclass
class ViolationsFacts:
    scheduled_time: datetime
    uri: str | None
    total: int = 0
    items: list[Violation] = field(default_factory=list)
    error: str | None = None  # the file could not be read


@dataclass
class ScheduleFacts:
    name: str
    status: str
    monitoring_type: str | None = None
    expression: str | None = None
    window_start: str | None = None  # DataAnalysisStartTime, e.g. -PT1H
    window_end: str | None = None
    failure_reason: str | None = None
    created: datetime | None = None
    endpoint_name: str | None = None
    job_definition: JobDefinitionFacts | None = None
    executions: list[ExecutionFacts] = field(default_factory=list)  # newest scheduled time first
    failure: FailureDetails | None = None
    violations: ViolationsFacts | None = None

    @property
    def one_time(self) -> bool:
        return (self.expression or "").strip().upper() == "NOW"

    @property
    def period_seconds(self) -> int | None:
        try:
            return parse_schedule(self.expression or "", evenly_spaced=False).period_seconds if not self.one_time else None
        except ScheduleRejected:
            return None

    @property
    def latest_finished(self) -> ExecutionFacts | None:
        return next((e for e in self.executions if e.finished), None)

    @property
    def last_scheduled(self) -> datetime | None:
        return self.executions[0].scheduled_time if self.executions else None


@dataclass
class Facts:
    project: str
    environment: str
    region: str
    now: datetime
    hours: int
    endpoint: EndpointFacts
    captures: list[CaptureFacts]
    schedules: list[ScheduleFacts]
    bucket: str | None = None
    existing: list[ExistingEndpointFacts] = field(default_factory=list)  # the fleet's `existing` endpoints
    key: str | None = None  # a fleet endpoint's key; None for the single-endpoint form
    scope: str | None = None  # a fleet endpoint's name prefix `<project>-<env>-<key>`
    existing_endpoint: bool = False  # the endpoint is an `existing` one (deployed by someone else)
    stacks: list[StackFailure] = field(default_factory=list)  # its stacks whose last operation failed
    launches: list[Any] = field(default_factory=list)  # processing-engine launches (mmtool.operate.catalog_launches)
    launches_error: str | None = None  # why the launches could not be listed

    @property
    def prefix(self) -> str:
        """The prefix of the names of the monitoring of these facts: `<project>-<env>`, or for a fleet endpoint
        `<project>-<env>-<key>`."""
        return self.scope or f"{self.project}-{self.environment}"


# ------------------------------------------------------------------ schedule arithmetic (pure)


def run_hours(expression: str) -> set[int] | None:
    """The UTC hours of day a schedule runs at; None for NOW or an expression SageMaker refuses."""
    try:
        schedule = parse_schedule(expression, evenly_spaced=False)  # as deployed, as SageMaker runs it
    except ScheduleRejected:
        return None
    if schedule.one_time:
        return None
    hour_field = schedule.expression[len("cron(") : -1].split()[1]
    if hour_field == "*":
        return set(range(24))
    if "/" in hour_field:
        start, step = (int(part) for part in hour_field.split("/"))
        return set(range(start, 24, step))
    return {int(hour_field)}


def first_slot_after(expression: str, after: datetime) -> datetime | None:
    """The first scheduled time strictly after `after` (top of a matching hour, UTC)."""
    hours = run_hours(expression)
    if not hours:
        return None
    slot = utc(after).replace(minute=0, second=0, microsecond=0) + HOUR  # type: ignore[union-attr]
    for _ in range(48):
        if slot.hour in hours:
            return slot
        slot += HOUR
    return None


def expected_next_run(schedule: ScheduleFacts, now: datetime) -> datetime | None:
    """The scheduled time of the next execution: the first slot after the schedule's creation and its last
    execution that has not yet passed its 0-20 min start delay (so at 10:05 with no 10:00 execution yet,
    the 10:00 one is still expected). None for NOW, Failed/Stopped schedules and unparseable expressions."""
    if schedule.status not in ("Scheduled", "Pending") or not schedule.expression:
        return None
    floor = max(t for t in (schedule.created, schedule.last_scheduled, now - START_DELAY - HOUR) if t is not None)
    slot = first_slot_after(schedule.expression, floor)
    while slot is not None and slot + START_DELAY < now:
        slot = first_slot_after(schedule.expression, slot)
    return slot


def missed_slot(schedule: ScheduleFacts, now: datetime, grace: timedelta = timedelta(minutes=10)) -> datetime | None:
    """A scheduled time after the schedule's creation and its last execution whose start delay (plus
    `grace`) has passed without an execution; None when none is missed."""
    if schedule.status != "Scheduled" or not schedule.expression or schedule.one_time:
        return None
    floor = max(t for t in (schedule.created, schedule.last_scheduled) if t is not None) if (
        schedule.created or schedule.last_scheduled) else None
    if floor is None:
        return None
    slot = first_slot_after(schedule.expression, floor)
    if slot is not None and slot + START_DELAY + grace < now:
        return slot
    return None


def offset_hours(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return window_offset_hours(text)
    except ValueError:
        return None


def analysis_window(schedule: ScheduleFacts, execution: ExecutionFacts) -> tuple[datetime, datetime] | None:
    """The data an execution analysed: [scheduled + start offset, scheduled + end offset) with the job input's
    StartTimeOffset/EndTimeOffset (model quality and bias), else the schedule's DataAnalysisStartTime/EndTime,
    otherwise the period before the scheduled time (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html)."""
    definition = schedule.job_definition
    start, end = (offset_hours(definition.start_offset), offset_hours(definition.end_offset)) if definition else (None, None)
    if start is None or end is None:
        start, end = offset_hours(schedule.window_start), offset_hours(schedule.window_end)
    scheduled = execution.scheduled_time
    if start is not None and end is not None:
        return scheduled + timedelta(hours=start), scheduled + timedelta(hours=end)
    if schedule.period_seconds:
        return scheduled - timedelta(seconds=schedule.period_seconds), scheduled
    return None


def processing_job_name(arn: str | None) -> str | None:
    """arn:aws:sagemaker:<region>:<account>:processing-job/<name> -> <name>"""
    return arn.rsplit("/", 1)[-1] if arn else None


# ------------------------------------------------------------------ reading AWS


def ssm_values(clients: Clients, project: str, environment: str, keys: list[str] | None = None) -> dict[str, str]:
    """bucket-name, kms-key-arn and endpoint-name as far as they exist (missing ones are left out).

    `keys`: a fleet's endpoint keys instead of the single endpoint: their names are read from
    `/<project>/<env>/endpoint/<key>/endpoint-name` and returned as `endpoint-name/<key>`."""
    from templates.common import ssm_name

    wanted = [("foundation", "bucket-name"), ("foundation", "kms-key-arn")]
    wanted += [("endpoint", "endpoint-name")] if keys is None else [("endpoint", f"{k}/endpoint-name") for k in keys]
    names = {(key if "/" not in key else f"endpoint-name/{key.split('/')[0]}"): ssm_name(stack, key, project, environment)
             for stack, key in wanted}
    ordered = sorted(names.values())
    found: dict[str, str] = {}
    for start in range(0, len(ordered), 10):  # GetParameters takes at most 10 names
        try:
            response = clients.ssm.get_parameters(Names=ordered[start:start + 10])
        except aws_errors() as exc:
            raise aws_failure(exc, "read the environment's SSM parameters (ssm:GetParameters)") from exc
        found.update({p["Name"]: p["Value"] for p in response.get("Parameters", [])})
    return {key: found[name] for key, name in names.items() if name in found}


def read_endpoint(sagemaker: Any, name: str, name_source: str) -> EndpointFacts:
    facts = EndpointFacts(name=name, name_source=name_source)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except aws_errors() as exc:
        if is_not_found(exc):
            return facts
        raise aws_failure(exc, f"describe the endpoint {name} (sagemaker:DescribeEndpoint)") from exc
    facts.found = True
    facts.status = endpoint.get("EndpointStatus")
    facts.failure_reason = endpoint.get("FailureReason")
    facts.config_name = endpoint.get("EndpointConfigName")
    live = endpoint.get("DataCaptureConfig") or {}  # DataCaptureConfigSummary: what the endpoint runs with
    facts.capture_status = live.get("CaptureStatus")
    facts.variants = [v["VariantName"] for v in endpoint.get("ProductionVariants", []) if v.get("VariantName")]
    config: dict[str, Any] | None = None
    if facts.config_name:
        try:
            config = sagemaker.describe_endpoint_config(EndpointConfigName=facts.config_name)
        except aws_errors() as exc:
            if not is_not_found(exc):
                raise aws_failure(exc, f"describe the endpoint config {facts.config_name} "
                                       "(sagemaker:DescribeEndpointConfig)") from exc
            facts.config_found = False
    capture = (config or {}).get("DataCaptureConfig") or None  # moto answers {} where AWS leaves it out
    if capture is not None:
        facts.capture_enabled = bool(capture.get("EnableCapture", True))  # the API's default is on
        facts.sampling_percentage = capture.get("InitialSamplingPercentage")
        facts.destination = capture.get("DestinationS3Uri")
    elif live:
        facts.capture_enabled = live.get("EnableCapture")
        facts.sampling_percentage = live.get("CurrentSamplingPercentage")
        facts.destination = live.get("DestinationS3Uri")
    if not facts.variants and config:
        facts.variants = [v["VariantName"] for v in config.get("ProductionVariants", []) if v.get("VariantName")]
    return facts


def describe_existing(sagemaker: Any, name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(DescribeEndpoint, DescribeEndpointConfig of the config it runs) of an endpoint we did not deploy; None
    for one that does not exist."""
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except aws_errors() as exc:
        if is_not_found(exc):
            return None, None
        raise aws_failure(exc, f"describe the endpoint {name} (sagemaker:DescribeEndpoint)") from exc
    config_name = endpoint.get("EndpointConfigName")
    try:
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name) if config_name else None
    except aws_errors() as exc:
        if not is_not_found(exc):
            raise aws_failure(exc, f"describe the endpoint config {config_name} (sagemaker:DescribeEndpointConfig)") from exc
        config = None
    return endpoint, config


def describe_model(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """DescribeModel of a model we did not deploy; None for one that does not exist."""
    try:
        return sagemaker.describe_model(ModelName=name)
    except aws_errors() as exc:
        if is_not_found(exc):
            return None
        raise aws_failure(exc, f"describe the model {name} (sagemaker:DescribeModel)") from exc


def list_tags(sagemaker: Any, arn: str) -> list[dict[str, str]]:
    """Every tag of a SageMaker resource (ListTags, all pages), as [{"Key", "Value"}]."""
    tags: list[dict[str, str]] = []
    try:
        for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
            tags.extend({"Key": t["Key"], "Value": t.get("Value", "")} for t in page.get("Tags", []))
    except aws_errors() as exc:
        raise aws_failure(exc, f"list the tags of {arn} (sagemaker:ListTags)") from exc
    return tags


def read_existing_endpoint(sagemaker: Any, target: AdoptTarget, expected: CaptureExpectations) -> ExistingEndpointFacts:
    """What `make status` needs about one `existing` endpoint: its two descriptions and its tags."""
    endpoint, config = describe_existing(sagemaker, target.endpoint_name)
    tags = list_tags(sagemaker, endpoint["EndpointArn"]) if endpoint and endpoint.get("EndpointArn") else []
    served = served_model(config) if target.explained_model is not None else None
    model = describe_model(sagemaker, served) if served else None
    return ExistingEndpointFacts(target, expected, endpoint, config, {t["Key"]: t["Value"] for t in tags}, model)


def capture_prefix(destination: str, endpoint: str, variant: str) -> str:
    """Where the endpoint writes: `<DestinationS3Uri>/<endpoint>/<variant>/`, the URI taken verbatim."""
    return f"{destination}/{endpoint}/{variant}/"


def list_capture(s3: Any, prefix: str, variant: str, now: datetime, hours: int) -> CaptureFacts:
    """One page of each hour folder of the last `hours` hours (the current one included), newest first."""
    facts = CaptureFacts(variant=variant, prefix=prefix)
    try:
        bucket, key = split_s3_uri(prefix, "DestinationS3Uri")
    except AwsError as exc:
        facts.error = str(exc)
        return facts
    top = utc(now).replace(minute=0, second=0, microsecond=0)  # type: ignore[union-attr]
    for index in range(hours):
        hour = top - index * HOUR
        try:
            page = s3.list_objects_v2(Bucket=bucket, Prefix=f"{key}{hour:%Y/%m/%d/%H}/", MaxKeys=1000)
        except aws_errors() as exc:
            facts.error = f"could not list {prefix}: {error_code(exc) or type(exc).__name__}: {error_message(exc)}"
            facts.hours = []
            return facts
        contents = page.get("Contents", [])
        newest = max((utc(item["LastModified"]) for item in contents), default=None)
        facts.hours.append(CaptureHour(hour, len(contents), newest, bool(page.get("IsTruncated"))))
    return facts


def read_captures(clients: Clients, endpoint: EndpointFacts, fallback_destination: str | None, fallback_variant: str,
                  now: datetime, hours: int) -> list[CaptureFacts]:
    destination = endpoint.destination or fallback_destination
    if not destination:
        return []
    variants = endpoint.variants or [fallback_variant]
    return [list_capture(clients.s3, capture_prefix(destination, endpoint.name, v), v, now, hours) for v in variants]


def find_schedules(sagemaker: Any, prefix: str, endpoint_name: str | None) -> list[dict[str, Any]]:
    """Schedule summaries of the endpoint and those named `<prefix>-…`, sorted by name."""
    found: dict[str, dict[str, Any]] = {}
    queries: list[dict[str, str]] = [{"NameContains": f"{prefix}-"}]
    if endpoint_name:
        queries.insert(0, {"EndpointName": endpoint_name})
    try:
        for query in queries:
            for page in sagemaker.get_paginator("list_monitoring_schedules").paginate(**query):
                for summary in page.get("MonitoringScheduleSummaries", []):
                    name = summary["MonitoringScheduleName"]
                    if "EndpointName" in query or name.startswith(f"{prefix}-"):
                        found[name] = summary
    except aws_errors() as exc:
        raise aws_failure(exc, "list the monitoring schedules (sagemaker:ListMonitoringSchedules)") from exc
    return [found[name] for name in sorted(found)]


def endpoint_schedules(sagemaker: Any, endpoint_name: str) -> list[dict[str, Any]]:
    """The schedule summaries of one endpoint (ListMonitoringSchedules by EndpointName)."""
    try:
        return [summary for page in sagemaker.get_paginator("list_monitoring_schedules").paginate(EndpointName=endpoint_name)
                for summary in page.get("MonitoringScheduleSummaries", [])]
    except aws_errors() as exc:
        raise aws_failure(exc, "list the monitoring schedules (sagemaker:ListMonitoringSchedules)") from exc


def read_job_definition(sagemaker: Any, monitoring_type: str, name: str) -> JobDefinitionFacts:
    """Describe<Type>JobDefinition, reduced to what the rules need."""
    method = BY_STEM[monitoring_type].describe_method
    try:
        response = getattr(sagemaker, method)(JobDefinitionName=name)
    except aws_errors() as exc:
        if is_not_found(exc):
            return JobDefinitionFacts(name=name, found=False)
        raise aws_failure(exc, f"describe the job definition {name}") from exc
    app = response.get(f"{monitoring_type}AppSpecification", {})
    job_input = response.get(f"{monitoring_type}JobInput", {})
    outputs = response.get(f"{monitoring_type}JobOutputConfig", {}).get("MonitoringOutputs", [])
    endpoint_input = job_input.get("EndpointInput")
    data_input = endpoint_input or job_input.get("BatchTransformInput") or {}
    return JobDefinitionFacts(
        name=name,
        environment=app.get("Environment"),
        max_runtime_seconds=response.get("StoppingCondition", {}).get("MaxRuntimeInSeconds"),
        role_arn=response.get("RoleArn"),
        output_uri=outputs[0].get("S3Output", {}).get("S3Uri") if outputs else None,
        input_kind="endpoint" if endpoint_input else ("batch_transform" if job_input.get("BatchTransformInput") else None),
        endpoint_name=(endpoint_input or {}).get("EndpointName"),
        start_offset=data_input.get("StartTimeOffset"),
        end_offset=data_input.get("EndTimeOffset"),
    )


def inline_job_definition(definition: dict[str, Any]) -> JobDefinitionFacts:
    inputs = definition.get("MonitoringInputs", [{}])
    outputs = definition.get("MonitoringOutputConfig", {}).get("MonitoringOutputs", [])
    endpoint_input = inputs[0].get("EndpointInput") if inputs else None
    return JobDefinitionFacts(
        name=None,
        environment=definition.get("Environment"),
        max_runtime_seconds=definition.get("StoppingCondition", {}).get("MaxRuntimeInSeconds"),
        role_arn=definition.get("RoleArn"),
        output_uri=outputs[0].get("S3Output", {}).get("S3Uri") if outputs else None,
        input_kind="endpoint" if endpoint_input else "batch_transform",
        endpoint_name=(endpoint_input or {}).get("EndpointName"),
    )


def execution_from_summary(summary: dict[str, Any]) -> ExecutionFacts:
    return ExecutionFacts(
        scheduled_time=utc(summary["ScheduledTime"]),  # type: ignore[arg-type]
        status=summary["MonitoringExecutionStatus"],
        created=utc(summary.get("CreationTime")),
        last_modified=utc(summary.get("LastModifiedTime")),
        processing_job=processing_job_name(summary.get("ProcessingJobArn")),
        failure_reason=summary.get("FailureReason"),
    )


def list_executions(sagemaker: Any, schedule_name: str, limit: int) -> list[ExecutionFacts]:
    try:
        response = sagemaker.list_monitoring_executions(
            MonitoringScheduleName=schedule_name, SortBy="ScheduledTime", SortOrder="Descending", MaxResults=limit)
    except aws_errors() as exc:
        raise aws_failure(exc, f"list the executions of {schedule_name} (sagemaker:ListMonitoringExecutions)") from exc
    return [execution_from_summary(s) for s in response.get("MonitoringExecutionSummaries", [])]


def describe_processing_job(sagemaker: Any, job: str) -> tuple[dict[str, Any] | None, str | None]:
    """(description, None) or (None, why it could not be read)."""
    try:
        return sagemaker.describe_processing_job(ProcessingJobName=job), None
    except aws_errors() as exc:
        return None, f"could not describe the processing job {job}: {error_code(exc) or type(exc).__name__}: {error_message(exc)}"


def log_tail(logs: Any, job: str, lines: int = LOG_LINES) -> list[str]:
    from mmtool.operate.baseline import (
        log_tail as tail,  # the same reading as the baselining job's
    )

    return tail(logs, job, lines) if logs is not None else []


def read_failure(clients: Clients, execution: ExecutionFacts, lines: int = LOG_LINES) -> FailureDetails:
    details = FailureDetails(execution.scheduled_time, execution.status, execution.processing_job, execution.failure_reason)
    if not execution.processing_job:
        details.log_tail = ["(no processing job: the execution failed before it started one)"]
        return details
    description, problem = describe_processing_job(clients.sagemaker, execution.processing_job)
    if description is not None:
        details.failure_reason = details.failure_reason or description.get("FailureReason")
        details.exit_message = description.get("ExitMessage")
    elif problem:
        details.log_tail.append(f"({problem})")
    details.log_tail.extend(log_tail(clients.logs, execution.processing_job, lines))
    return details


def read_violations(clients: Clients, execution: ExecutionFacts, output_uri: str | None) -> ViolationsFacts:
    """constraint_violations.json of an execution, from its processing job's output (or, without one, the job
    definition's output URI is not enough: SageMaker adds the schedule and the hour to it)."""
    facts = ViolationsFacts(execution.scheduled_time, None)
    uri = None
    if execution.processing_job:
        description, problem = describe_processing_job(clients.sagemaker, execution.processing_job)
        if description is None:
            facts.error = problem
            return facts
        outputs = description.get("ProcessingOutputConfig", {}).get("Outputs", [])
        uris = [o["S3Output"]["S3Uri"] for o in outputs if o.get("S3Output", {}).get("S3Uri")]
        uri = uris[0] if uris else None
    if uri is None:
        facts.error = f"the execution names no output location (job definition output: {output_uri or 'unknown'})"
        return facts
    facts.uri = f"{uri.rstrip('/')}/{VIOLATIONS_FILE}"
    try:
        bucket, key = split_s3_uri(facts.uri, "output")
        body = clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        document = json.loads(body)
    except (*aws_errors(), AwsError, ValueError) as exc:  # AwsError: a bad URI; ValueError: not JSON
        reason = error_message(exc) if error_code(exc) else str(exc)
        facts.error = f"could not read {facts.uri}: {error_code(exc) or type(exc).__name__}: {reason}"
        return facts
    violations = document.get("violations", []) if isinstance(document, dict) else []
    facts.total = len(violations)
    facts.items = [
        Violation(str(v.get("feature_name", "")), str(v.get("constraint_check_type", "")), str(v.get("description", "")))
        for v in violations[:MAX_VIOLATIONS]
        if isinstance(v, dict)
    ]
    return facts


def read_schedule(clients: Clients, name: str, *, executions: int = DEFAULT_EXECUTIONS,
                  log_lines: int = LOG_LINES) -> ScheduleFacts | None:
    """Everything about one schedule; None when it does not exist (any more)."""
    sagemaker = clients.sagemaker
    try:
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    except aws_errors() as exc:
        if is_not_found(exc):
            return None
        raise aws_failure(exc, f"describe the monitoring schedule {name} (sagemaker:DescribeMonitoringSchedule)") from exc
    config = described.get("MonitoringScheduleConfig", {})
    schedule_config = config.get("ScheduleConfig", {})
    monitoring_type = described.get("MonitoringType") or config.get("MonitoringType")
    facts = ScheduleFacts(
        name=name,
        status=described["MonitoringScheduleStatus"],
        monitoring_type=monitoring_type,
        expression=schedule_config.get("ScheduleExpression"),
        window_start=schedule_config.get("DataAnalysisStartTime"),
        window_end=schedule_config.get("DataAnalysisEndTime"),
        failure_reason=described.get("FailureReason"),
        created=utc(described.get("CreationTime")),
        endpoint_name=described.get("EndpointName"),
    )
    if config.get("MonitoringJobDefinitionName") and monitoring_type in MONITORING_TYPES:
        facts.job_definition = read_job_definition(sagemaker, monitoring_type, config["MonitoringJobDefinitionName"])
    elif config.get("MonitoringJobDefinition"):
        facts.job_definition = inline_job_definition(config["MonitoringJobDefinition"])
    facts.executions = list_executions(sagemaker, name, executions) if executions > 0 else []
    failed = next((e for e in facts.executions if e.status in FAILED_EXECUTION), None)
    if failed is not None:
        facts.failure = read_failure(clients, failed, log_lines)
    flagged = next((e for e in facts.executions if e.status == "CompletedWithViolations"), None)
    if flagged is not None:
        output = facts.job_definition.output_uri if facts.job_definition else None
        facts.violations = read_violations(clients, flagged, output)
    return facts


def gather(clients: Clients, params: Any, *, now: datetime, hours: int = DEFAULT_HOURS,
           executions: int = DEFAULT_EXECUTIONS, log_lines: int = LOG_LINES,
           only: list[str] | None = None, existing: list[AdoptTarget] | None = None) -> Facts:
    """All facts of the environment (`only`: these schedule names instead of discovering them; `existing`: these
    endpoints we did not deploy instead of the fleet's `existing` entries)."""
    values = ssm_values(clients, params.project, params.environment)
    if "bucket-name" not in values:
        raise AwsError(
            f"{params.prefix}: the SSM parameter /{params.project}/{params.environment}/foundation/bucket-name is "
            f"not in {params.region}: the foundation stack of environment {params.environment} is not deployed in "
            f"this account.\nNext: run `make deploy ENV={params.environment}` first (or check AWS_PROFILE / the account)."
        )
    bucket = values["bucket-name"]
    if "endpoint-name" in values:
        endpoint = read_endpoint(clients.sagemaker, values["endpoint-name"], "ssm")
    else:
        endpoint = read_endpoint(clients.sagemaker, params.prefix, "derived")
    captures = read_captures(clients, endpoint, f"s3://{bucket}/{params.storage.capture_prefix}",
                             params.legacy_endpoint.variant_name, now, hours)
    if only is None:
        names = [s["MonitoringScheduleName"] for s in find_schedules(clients.sagemaker, params.prefix,
                                                                     endpoint.name if endpoint.found else None)]
    else:
        names = only
    schedules = [s for s in (read_schedule(clients, n, executions=executions, log_lines=log_lines) for n in names) if s]
    targets = existing_targets(params) if existing is None else list(existing)
    adopted = [read_existing_endpoint(clients.sagemaker, t, CaptureExpectations.of(t, bucket, values.get("kms-key-arn", "")))
               for t in targets]
    return Facts(params.project, params.environment, params.region, utc(now), hours, endpoint, captures,  # type: ignore[arg-type]
                 schedules, bucket, adopted)


# ------------------------------------------------------------------ a fleet: the facts per endpoint


def foundation_missing(params: Any) -> AwsError:
    return AwsError(
        f"{params.prefix}: the SSM parameter /{params.project}/{params.environment}/foundation/bucket-name is "
        f"not in {params.region}: the foundation stack of environment {params.environment} is not deployed in "
        f"this account.\nNext: run `make deploy ENV={params.environment}` first (or check AWS_PROFILE / the account)."
    )


def variant_of(entry: Any) -> str:
    """The variant name to list capture for when the endpoint reports none (a created endpoint's setting)."""
    return entry.create.variant_name if entry.create is not None else "AllTraffic"


def fleet_endpoint_name(params: Any, entry: Any, values: dict[str, str]) -> tuple[str, str]:
    """(endpoint name, where it came from): an `existing` entry's own name; a created one's from SSM
    (`/<project>/<env>/endpoint/<key>/endpoint-name`), else the name the endpoint stack gives it."""
    if entry.existing is not None:
        return entry.endpoint_name(params), "existing"
    if f"endpoint-name/{entry.key}" in values:
        return values[f"endpoint-name/{entry.key}"], "ssm"
    return entry.endpoint_name(params), "derived"


def owner_of(name: str, endpoint_name: str | None, scopes: dict[str, str], names: dict[str, str]) -> str | None:
    """The fleet key a schedule belongs to: the endpoint it watches, else the longest `<project>-<env>-<key>-`
    its name starts with; None when neither (a schedule of no endpoint of the file)."""
    if endpoint_name and endpoint_name in names:
        return names[endpoint_name]
    matches = [key for key, scope in scopes.items() if name.startswith(f"{scope}-")]
    return max(matches, key=lambda k: len(scopes[k])) if matches else None


@dataclass
class FleetFacts:
    """The facts of a fleet environment: one `Facts` per endpoint (in the order of the file), and the names of
    the schedules named `<project>-<env>-…` that belong to no endpoint of the file."""

    project: str
    environment: str
    region: str
    now: datetime
    endpoints: list[Facts]
    unassigned: list[str] = field(default_factory=list)
    launches: list[Any] = field(default_factory=list)  # processing-engine launches (mmtool.operate.catalog_launches)
    launches_error: str | None = None  # why the launches could not be listed

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"


def gather_fleet(clients: Clients, params: Any, *, now: datetime, hours: int = DEFAULT_HOURS,
                 executions: int = DEFAULT_EXECUTIONS, log_lines: int = LOG_LINES,
                 keys: list[str] | None = None) -> FleetFacts:
    """The facts of every endpoint of a fleet (`keys`: of these endpoints only), each read with that endpoint's
    names: its endpoint (SSM `/<project>/<env>/endpoint/<key>/endpoint-name`, or the existing one's name), its
    capture prefix, its schedules (those of its endpoint, and `<project>-<env>-<key>-…`), and for an `existing`
    endpoint its capture check."""
    fleet = params.fleet()
    chosen = [e for e in fleet if keys is None or e.key in keys]
    values = ssm_values(clients, params.project, params.environment, [e.key for e in chosen if e.create is not None])
    if "bucket-name" not in values:
        raise foundation_missing(params)
    bucket = values["bucket-name"]
    scopes = {e.key: e.name_prefix(params) for e in fleet}
    endpoints = {e.key: read_endpoint(clients.sagemaker, *fleet_endpoint_name(params, e, values)) for e in chosen}
    names = {facts.name: key for key, facts in endpoints.items()}
    summaries = {s["MonitoringScheduleName"]: s for s in find_schedules(clients.sagemaker, params.prefix, None)}
    for endpoint in endpoints.values():
        if endpoint.found:
            summaries.update({s["MonitoringScheduleName"]: s for s in endpoint_schedules(clients.sagemaker, endpoint.name)})
    owned: dict[str, list[str]] = {e.key: [] for e in chosen}
    unassigned = []
    for name in sorted(summaries):
        owner = owner_of(name, summaries[name].get("EndpointName"), scopes, names)
        if owner in owned:
            owned[owner].append(name)  # type: ignore[index]
        elif owner is None:
            unassigned.append(name)
    result = []
    for entry in chosen:
        endpoint = endpoints[entry.key]
        captures = read_captures(clients, endpoint, f"s3://{bucket}/{entry.capture_prefix(params)}", variant_of(entry),
                                 now, hours)
        schedules = [s for s in (read_schedule(clients, n, executions=executions, log_lines=log_lines)
                                 for n in owned[entry.key]) if s]
        existing = []
        if entry.existing is not None:
            target = target_from_fleet(params, entry)
            existing = [read_existing_endpoint(clients.sagemaker, target,
                                               CaptureExpectations.of(target, bucket, values.get("kms-key-arn", "")))]
        result.append(Facts(params.project, params.environment, params.region, utc(now), hours, endpoint,  # type: ignore[arg-type]
                            captures, schedules, bucket, existing, key=entry.key, scope=scopes[entry.key],
                            existing_endpoint=entry.existing is not None))
    return FleetFacts(params.project, params.environment, params.region, utc(now), result,  # type: ignore[arg-type]
                      unassigned if keys is None else [])
