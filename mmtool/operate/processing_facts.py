"""What is true about an endpoint's monitors on the processing engine (docs/engine.md): the facts `make status`
shows next to the Model Monitor schedules, and `make run-now` starts a job from.

Read (nothing is changed), per monitor the endpoint runs on the processing engine (`monitoring.engine: processing`
or `both`, the monitor enabled):

* the EventBridge Scheduler schedule (GetSchedule in the environment's group `<project>-<env>`): state, expression,
  and its target's Input, the `CreateProcessingJob` request the scheduler sends (templates/processing_engine.py);
* the last processing jobs under the monitor's job-name prefix `<code>-<hash>-` (ListProcessingJobs NameContains,
  newest first; only names that start with the prefix), each described (DescribeProcessingJob: status, failure
  reason, ExitMessage, the `scheduled_time` the scheduler passed);
* as for Model Monitor (mmtool.operate.facts): for the newest Failed/Stopped job its reason, ExitMessage and log
  tail; for the newest run with violations the `constraint_violations.json` under its output.

A processing job's outcome is read from the analyzer's ExitMessage (docs/engine.md, "The analyzer"): a Completed job
whose message starts `CompletedWithViolations:` is shown as `CompletedWithViolations`, as Model Monitor's executions
are, so the rules of mmtool.operate.rules (violations, no data in the window, quota, out of memory) read both
engines alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mmtool.operate.awsenv import aws_errors, aws_failure
from mmtool.operate.facts import (
    DEFAULT_EXECUTIONS,
    FAILED_EXECUTION,
    LOG_LINES,
    ExecutionFacts,
    Facts,
    JobDefinitionFacts,
    ScheduleFacts,
    is_not_found,
    read_failure,
    read_violations,
    utc,
)

ENGINE = "processing"
WITH_VIOLATIONS = "CompletedWithViolations"
LIST_PAGE = 100  # ListProcessingJobs' maximum page: NameContains is a substring, the prefix is checked here


@dataclass
class ProcessingScheduleFacts(ScheduleFacts):
    """A monitor's EventBridge Scheduler schedule and its processing jobs, as `ScheduleFacts` (executions are the
    jobs, newest first). `status` is `Scheduled` (ENABLED), `Disabled` or `Missing` (no such schedule: the
    monitoring stack is not deployed with the engine); `state` is the Scheduler's own."""

    engine: str = ENGINE
    group: str = ""
    state: str | None = None
    job_prefix: str = ""
    request: dict[str, Any] | None = None  # the target's Input, placeholders as the scheduler gets them


@dataclass(frozen=True)
class EngineSchedule:
    """Where a monitor of an endpoint runs on the processing engine."""

    monitor: str  # params section: data_quality | model_quality
    monitoring_type: str  # DataQuality | ModelQuality
    name: str
    group: str
    job_prefix: str  # <code>-<hash>-


def engine_schedules(params: Any, entry: Any) -> list[EngineSchedule]:
    """The processing-engine schedules of a fleet endpoint (empty unless it runs the engine). Names as
    templates/processing_engine.py gives them (`schedule_name`, `job_name_hash`)."""
    from templates.processing_engine import MONITORS, job_name_hash

    if not entry.monitoring.runs_processing:
        return []
    digest = job_name_hash(params, entry)
    result = []
    for m in MONITORS:
        if not getattr(entry.monitoring, m.key).enabled:
            continue
        name = (f"{params.prefix}-{m.name}-processing" if entry.legacy
                else f"{params.prefix}-{entry.key}-{m.code}-proc")
        result.append(EngineSchedule(m.key, m.stem, name, params.prefix, f"{m.code}-{digest}-"))
    return result


def get_schedule(scheduler: Any, name: str, group: str) -> dict[str, Any] | None:
    """GetSchedule, None when there is no such schedule."""
    try:
        return scheduler.get_schedule(Name=name, GroupName=group)
    except aws_errors() as exc:
        if is_not_found(exc):
            return None
        raise aws_failure(exc, f"read the schedule {group}/{name} (scheduler:GetSchedule)") from exc


def schedule_request(described: dict[str, Any]) -> dict[str, Any] | None:
    """The CreateProcessingJob request of a schedule's target (its Input), None when it is not JSON."""
    try:
        request = json.loads(described.get("Target", {}).get("Input") or "")
    except ValueError:
        return None
    return request if isinstance(request, dict) else None


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def job_status(description: dict[str, Any]) -> str:
    """The run's outcome as Model Monitor names an execution's: a Completed job whose ExitMessage the analyzer
    began with `CompletedWithViolations:` found violations."""
    status = description.get("ProcessingJobStatus", "?")
    if status == "Completed" and (description.get("ExitMessage") or "").startswith(WITH_VIOLATIONS):
        return WITH_VIOLATIONS
    return status


def execution_of(description: dict[str, Any]) -> ExecutionFacts:
    """One processing job as an execution: its scheduled time is the one the scheduler passed the analyzer
    (`scheduled_time` in its Environment), else its creation time (a job started by hand); its reason is the
    analyzer's ExitMessage when it failed (the analyzer's one line says more than SageMaker's AlgorithmError)."""
    created = utc(description.get("CreationTime"))
    status = job_status(description)
    reason = description.get("FailureReason")
    message = description.get("ExitMessage")
    if status in FAILED_EXECUTION and message:
        reason = f"{message} ({reason})" if reason else message
    return ExecutionFacts(
        scheduled_time=_time((description.get("Environment") or {}).get("scheduled_time")) or created,  # type: ignore[arg-type]
        status=status,
        created=created,
        last_modified=utc(description.get("ProcessingEndTime") or description.get("LastModifiedTime")),
        processing_job=description["ProcessingJobName"],
        failure_reason=reason,
    )


def list_jobs(sagemaker: Any, prefix: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` processing jobs named `<prefix>…`, described."""
    try:
        summaries = sagemaker.list_processing_jobs(NameContains=prefix, SortBy="CreationTime", SortOrder="Descending",
                                                   MaxResults=LIST_PAGE).get("ProcessingJobSummaries", [])
    except aws_errors() as exc:
        raise aws_failure(exc, f"list the processing jobs {prefix}* (sagemaker:ListProcessingJobs)") from exc
    names = [s["ProcessingJobName"] for s in sorted(summaries, key=lambda s: s["CreationTime"], reverse=True)
             if s["ProcessingJobName"].startswith(prefix)][:limit]
    described = []
    for name in names:
        try:
            described.append(sagemaker.describe_processing_job(ProcessingJobName=name))
        except aws_errors() as exc:
            raise aws_failure(exc, f"describe the processing job {name} (sagemaker:DescribeProcessingJob)") from exc
    return described


def definition_of(request: dict[str, Any] | None) -> JobDefinitionFacts | None:
    """What the schedule's request says of the job, as a job definition (role, output, runtime, environment)."""
    if request is None:
        return None
    outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
    uris = [o.get("S3Output", {}).get("S3Uri") for o in outputs if o.get("S3Output", {}).get("S3Uri")]
    environment = request.get("Environment") or {}
    return JobDefinitionFacts(
        name=None, found=True, environment=environment,
        max_runtime_seconds=request.get("StoppingCondition", {}).get("MaxRuntimeInSeconds"),
        role_arn=request.get("RoleArn"), output_uri=uris[0] if uris else None, input_kind="endpoint",
        endpoint_name=environment.get("sagemaker_endpoint_name"))


def read_processing_schedule(clients: Any, where: EngineSchedule, *, executions: int = DEFAULT_EXECUTIONS,
                             log_lines: int = LOG_LINES) -> ProcessingScheduleFacts:
    described = get_schedule(clients.scheduler, where.name, where.group)
    facts = ProcessingScheduleFacts(name=where.name, status="Missing", monitoring_type=where.monitoring_type,
                                    group=where.group, job_prefix=where.job_prefix)
    if described is not None:
        facts.state = described.get("State")
        facts.status = "Scheduled" if facts.state == "ENABLED" else "Disabled"
        facts.expression = described.get("ScheduleExpression")
        facts.created = utc(described.get("CreationDate"))
        facts.request = schedule_request(described)
        facts.job_definition = definition_of(facts.request)
        environment = facts.job_definition.environment if facts.job_definition else {}
        facts.window_start = (environment or {}).get("window_start_offset") or None
        facts.window_end = (environment or {}).get("window_end_offset") or None
        facts.endpoint_name = (environment or {}).get("sagemaker_endpoint_name")
    jobs = list_jobs(clients.sagemaker, where.job_prefix, executions) if executions > 0 else []
    facts.executions = [execution_of(j) for j in jobs]
    failed = next((e for e in facts.executions if e.status in FAILED_EXECUTION), None)
    if failed is not None:
        facts.failure = read_failure(clients, failed, log_lines)
    flagged = next((e for e in facts.executions if e.status == WITH_VIOLATIONS), None)
    if flagged is not None:
        facts.violations = read_violations(clients, flagged, facts.job_definition.output_uri
                                           if facts.job_definition else None)
    return facts


def add_processing(clients: Any, params: Any, facts: Facts, entry: Any, *, executions: int = DEFAULT_EXECUTIONS,
                   log_lines: int = LOG_LINES) -> None:
    """Append the endpoint's processing-engine schedules to `facts.schedules` (after its Model Monitor ones)."""
    facts.schedules.extend(read_processing_schedule(clients, where, executions=executions, log_lines=log_lines)
                           for where in engine_schedules(params, entry))


def engine_of(schedule: ScheduleFacts) -> str:
    """`processing` or `model-monitor`: which engine runs a schedule."""
    return schedule.engine if isinstance(schedule, ProcessingScheduleFacts) else "model-monitor"
