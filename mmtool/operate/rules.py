"""Known Model Monitor failure modes (the table in docs/operating.md), each a small rule: facts in, a finding out.

A rule is a plain function. Environment rules take the `Facts`; schedule rules take one `ScheduleFacts` and
the `Facts` around it. Each returns a `Finding` (or None when it does not apply) that says in plain words
what is wrong (`problem`), why it happens (`why`) and what to do (`fix`). `explain(facts)` runs them all.

Severity: `error` = monitoring does not work now (exit 1 of `make status`); `warning` = it works but
something needs attention (violations found, metrics missing, a run overdue); `info` = expected state
that looks alarming (no executions yet right after a deploy, a one-time schedule left behind).

Rule ids (stable, in `--json` output):

  endpoint-missing, endpoint-not-in-service, capture-disabled, capture-trailing-slash, no-recent-capture,
  no-schedules, schedule-failed, schedule-stopped, processing-schedule-missing, processing-schedule-disabled,
  job-definition-missing, no-executions-yet, run-overdue,
  no-data-in-window, processing-quota, access-denied, out-of-memory, max-runtime-exceeded, execution-failed,
  violations,
  metrics-not-published, runtime-over-period, leftover-one-time-schedule,
  adoption-unfinished, capture-changed-since-adoption, existing-endpoint-not-ready, explained-model-unfit
  (endpoints we did not
  deploy: one finding each); deploy-rights-missing (a stack of the environment whose last deploy
  was refused a right: one finding per stack); model-monitor-unavailable (a stack's Model Monitor resource refused
  because the account cannot use Model Monitor: the processing engine is the fix)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable

from mmtool.config.monitor_kinds import ANALYZER, BY_STEM, KINDS
from mmtool.config.schedule import ScheduleRejected, parse_schedule
from mmtool.operate.adopt_journal import restore_command
from mmtool.operate.existing_endpoint import (
    ExistingEndpointFacts,
    adopt_command,
    check_endpoint,
    check_explainability_model,
)
from mmtool.operate.stack_failures import StackFailure
from mmtool.operate.processing_facts import ProcessingScheduleFacts
from mmtool.operate.facts import (
    START_DELAY,
    Facts,
    ScheduleFacts,
    analysis_window,
    expected_next_run,
    files_between,
    missed_slot,
)

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # error | warning | info
    subject: str  # the endpoint or schedule it is about
    problem: str
    why: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def hm(value: datetime | None) -> str:
    return "?" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _hours(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"


def make(facts: Facts, verb: str) -> str:
    """The `make` command a fix names, ready to paste: `make <verb> ENV=<env>`, and ` ENDPOINT=<key>` for a fleet
    endpoint (facts.key), so it acts on the endpoint the finding is about; the single-endpoint form needs none."""
    return f"make {verb} ENV={facts.environment}" + ("" if facts.key is None else f" ENDPOINT={facts.key}")


def field(facts: Facts, path: str) -> str:
    """A params field a fix names, as the environment's file spells it: `monitoring.…` / `endpoint.…` in the
    single-endpoint form, `endpoints.<key>.monitoring.…` / `endpoints.<key>.create.…` for a fleet endpoint."""
    if facts.key is None:
        return path
    head, _, rest = path.partition(".")
    return f"endpoints.{facts.key}.{'create' if head == 'endpoint' else head}" + (f".{rest}" if rest else "")


# ------------------------------------------------------------------ failure reasons

# The processing engine's analyzer says "no record in the window became a row (...): the run has no data"
# (scripts/analyzer/run.py) in the job's ExitMessage.
NO_DATA = re.compile(r"job inputs had no data|no s3 objects found|no data (?:was )?found|the run has no data",
                     re.IGNORECASE)
ACCESS = re.compile(r"access ?denied|not authorized|forbidden|\b403\b|kms.*(?:denied|disabled)|"
                    r"insufficient permissions|ListBucket", re.IGNORECASE)
RUNTIME = re.compile(r"MaxRuntimeInSeconds|max(?:imum)? ?run ?time|exceeded the allotted time|timed out", re.IGNORECASE)
DOUBLE_SLASH = re.compile(r"s3://[^/\s]+/\S*//")
# SageMaker refuses a processing job over the account's quota with ResourceLimitExceeded: "The account-level service
# limit 'ml.m5.xlarge for processing job usage' is 0 Instances, with current utilization of 0 Instances and a request
# delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota."
QUOTA = re.compile(r"ResourceLimitExceeded|account-level service limit|request an increase for this (?:quota|limit)",
                   re.IGNORECASE)
QUOTA_NAME = re.compile(r"service limit '([^']+)'")
INSTANCE_TYPE = re.compile(r"\bml\.[a-z0-9]+\.[a-z0-9]+\b")
# An analyzer killed for memory: the kernel's OOM kill (exit code 137, SIGKILL), the Spark analyzer's Java errors,
# Python's MemoryError (the pre-/post-processor runs in the same container).
MEMORY = re.compile(r"OutOfMemory|out of memory|java heap space|GC overhead limit exceeded|MemoryError|"
                    r"Cannot allocate memory|OOMKilled|exit(?:ed)? (?:with )?(?:code|status)[ :]*137\b|"
                    r"killed .{0,40}memory|memory limit", re.IGNORECASE)


def failure_kind(status: str, reason: str | None, detail: str | None = None) -> str:
    """no-data | quota | access | memory | runtime | other: what a failed execution's reason points at (`detail`: the
    processing job's exit message and log lines, where an out-of-memory kill shows)."""
    text = reason or ""
    if NO_DATA.search(text):
        return "no-data"
    if QUOTA.search(text) or QUOTA.search(detail or ""):
        return "quota"
    if ACCESS.search(text):
        return "access"
    if MEMORY.search(text) or MEMORY.search(detail or ""):
        return "memory"
    if RUNTIME.search(text) or (status == "Stopped" and not text):
        return "runtime"
    return "other"


def _kind(schedule: ScheduleFacts, execution) -> str:
    """failure_kind of an execution, with the processing job's exit message and log tail when `make status` read them
    for it (`schedule.failure`)."""
    details = schedule.failure
    detail = None
    if details is not None and details.scheduled_time == execution.scheduled_time:
        detail = "\n".join([details.failure_reason or "", details.exit_message or "", *details.log_tail])
    return failure_kind(execution.status, execution.failure_reason, detail)


def monitor_section(monitoring_type: str | None) -> str:
    """The params section of a MonitoringType: DataQuality -> data_quality (`<monitor>` when unknown)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", monitoring_type).lower() if monitoring_type else "<monitor>"


def _latest_failure(schedule: ScheduleFacts):
    """The newest finished execution when it failed or was stopped, else None."""
    latest = schedule.latest_finished
    return latest if latest is not None and latest.status in ("Failed", "Stopped") else None


# ------------------------------------------------------------------ environment rules


def endpoint_missing(facts: Facts) -> Finding | None:
    endpoint = facts.endpoint
    if endpoint.found:
        return None
    where = ("the SSM parameter endpoint-name is missing, so the endpoint stack is not deployed"
             if endpoint.name_source == "derived" else "SSM names it, but SageMaker has no such endpoint (deleted?)")
    return Finding(
        "endpoint-missing", "error", endpoint.name,
        f"endpoint {endpoint.name} not found: {where}",
        "Monitoring analyses the endpoint's captured traffic; without the endpoint there is nothing to capture, "
        "and schedules that reference it fail.",
        f"Deploy it: `{make(facts, 'deploy')}` (the endpoint stack), then send it traffic.",
    )


def endpoint_not_in_service(facts: Facts) -> Finding | None:
    endpoint = facts.endpoint
    if not endpoint.found or endpoint.status in (None, "InService"):
        return None
    transient = endpoint.status in ("Creating", "Updating", "SystemUpdating", "RollingBack")
    reason = f" ({endpoint.failure_reason})" if endpoint.failure_reason else ""
    return Finding(
        "endpoint-not-in-service", "warning" if transient else "error", endpoint.name,
        f"endpoint {endpoint.name} is {endpoint.status}{reason}, not InService",
        "Only an InService endpoint serves requests, so only then does Data Capture write files; an hour without "
        "files makes that hour's monitoring execution fail with \"Job inputs had no data\".",
        "Wait for Creating/Updating to finish"
        if transient else
        f"Look at the endpoint's FailureReason and its CloudWatch logs (/aws/sagemaker/Endpoints/{endpoint.name}), "
        f"fix the model or config, and redeploy: `{make(facts, 'deploy')}`",
    )


def capture_disabled(facts: Facts) -> Finding | None:
    endpoint = facts.endpoint
    if not endpoint.found:
        return None
    if endpoint.capture_enabled is None and endpoint.config_name and endpoint.config_found:
        state = f"its endpoint config {endpoint.config_name} has no DataCaptureConfig"
    elif endpoint.capture_enabled is False:
        state = "EnableCapture is false in its endpoint config"
    elif endpoint.capture_status == "Stopped":
        state = "CaptureStatus is Stopped"
    elif endpoint.sampling_percentage == 0:
        state = "InitialSamplingPercentage is 0"
    else:
        return None
    return Finding(
        "capture-disabled", "error", endpoint.name,
        f"Data Capture of endpoint {endpoint.name} records nothing: {state}",
        "Monitoring jobs read only the captured requests and responses; with capture off (or sampling 0 %) every "
        "execution fails with \"Job inputs had no data\".",
        f"This project's endpoint stack always enables capture with {field(facts, 'endpoint.data_capture.sampling_percentage')} "
        f"(1-100), so the live config was changed outside it: redeploy `{make(facts, 'deploy')}` "
        "(a new endpoint config, applied blue/green).",
    )


def capture_trailing_slash(facts: Facts) -> Finding | None:
    destination = facts.endpoint.destination
    if not destination or not destination.endswith("/"):
        return None
    return Finding(
        "capture-trailing-slash", "error", facts.endpoint.name,
        f"the capture destination {destination} ends with '/'",
        f"SageMaker appends /{facts.endpoint.name}/<variant>/… to it, so files land under "
        f"{destination}/{facts.endpoint.name}/ (a '//' key) and the monitoring job, which looks without the empty "
        "segment, finds no S3 objects (amazon-sagemaker-examples#1938).",
        "Set DestinationS3Uri without the trailing slash; this project's endpoint stack writes "
        f"s3://<bucket>/<storage.capture_prefix>, so redeploying it fixes the config: `{make(facts, 'deploy')}`.",
    )


def no_recent_capture(facts: Facts) -> Finding | None:
    endpoint = facts.endpoint
    if not endpoint.found or endpoint.status != "InService" or endpoint.capture_enabled is False:
        return None
    if endpoint.capture_status == "Stopped" or endpoint.sampling_percentage == 0:
        return None
    if not facts.captures or any(c.error for c in facts.captures) or any(c.files for c in facts.captures):
        return None
    prefixes = ", ".join(c.prefix for c in facts.captures)
    return Finding(
        "no-recent-capture", "warning", endpoint.name,
        f"no Data Capture files in the last {facts.hours} h under {prefixes}",
        "Either the endpoint had no traffic, the sampling percentage let none through, or the endpoint cannot "
        "write to the bucket (its role's s3:PutObject on the capture prefix, or kms:GenerateDataKey on the key). "
        "Every monitoring execution of these hours fails with \"Job inputs had no data\".",
        f"Send requests to {endpoint.name} (files appear a few minutes later), then check again with "
        f"`{make(facts, 'status')}`; if traffic flows and still no files appear, check the endpoint "
        "role's S3 and KMS permissions.",
    )


def no_schedules(facts: Facts) -> Finding | None:
    if facts.schedules:
        return None
    return Finding(
        "no-schedules", "warning", facts.prefix,
        f"no monitoring schedule for endpoint {facts.endpoint.name} or named {facts.prefix}-…",
        f"The monitoring stack creates them (data quality when {field(facts, 'monitoring.data_quality.enabled')} is "
        "true); none exist, so nothing is monitored.",
        f"Deploy the monitoring stack: `{make(facts, 'deploy')}` (check {field(facts, 'monitoring.*.enabled')} in "
        f"params/{facts.environment}.yaml).",
    )


# ------------------------------------------------------------------ schedule rules


def schedule_failed(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    if schedule.status != "Failed":
        return None
    reason = schedule.failure_reason or "(no FailureReason given)"
    try:
        parse_schedule(schedule.expression or "", evenly_spaced=False)
        refused = None
    except ScheduleRejected as exc:
        refused = str(exc)
    if refused and re.match(r"^\s*[A-Za-z][A-Za-z \-]*:\s*cron\(", schedule.expression or ""):
        cron = (schedule.expression or "").split(":", 1)[1].strip()
        why = (f"Its ScheduleExpression is '{schedule.expression}': the 'Hourly:' style label is part of the AWS "
               "documentation's example, not of the expression, and SageMaker fails the schedule with an unhelpful "
               "reason (sagemaker-python-sdk#2629).")
        fix = f"Use only {cron}; in params write `schedule: hourly` (or the bare cron) and run `{make(facts, 'deploy')}`."
    elif refused:
        why = f"Its ScheduleExpression '{schedule.expression}' is not one SageMaker accepts: {refused}."
        fix = f"Fix {field(facts, 'monitoring.<monitor>.schedule')} in params/{facts.environment}.yaml and run `{make(facts, 'deploy')}`."
    else:
        why = ("SageMaker could not set the schedule up; common causes are a job definition or endpoint that no "
               "longer exists, or a role the service may not use.")
        fix = (f"Act on the FailureReason, then redeploy (`{make(facts, 'deploy')}`); a Failed schedule "
               "does not recover by itself.")
    return Finding("schedule-failed", "error", schedule.name, f"schedule {schedule.name} is Failed: {reason}", why, fix)


def schedule_stopped(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    if schedule.status != "Stopped" or schedule.one_time:
        return None
    return Finding(
        "schedule-stopped", "warning", schedule.name,
        f"schedule {schedule.name} is Stopped: it starts no executions",
        "Someone (or something) called StopMonitoringSchedule; CloudFormation does not restart it.",
        f"Start it again: aws sagemaker start-monitoring-schedule --monitoring-schedule-name {schedule.name} "
        f"--region {facts.region}",
    )


def processing_schedule_missing(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    if not isinstance(schedule, ProcessingScheduleFacts) or schedule.status != "Missing":
        return None
    section = monitor_section(schedule.monitoring_type)
    return Finding(
        "processing-schedule-missing", "error", schedule.name,
        f"{section.replace('_', ' ')} runs on the processing engine ({field(facts, 'monitoring.engine')}), but the "
        f"schedule {schedule.group}/{schedule.name} does not exist",
        "The monitoring stack creates it (docs/engine.md); it is not deployed with this engine yet, or the schedule "
        "was deleted outside CloudFormation. No processing job runs for this monitor.",
        f"Deploy: `{make(facts, 'plan')}` then `{make(facts, 'deploy')}`.",
    )


def processing_schedule_disabled(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    if not isinstance(schedule, ProcessingScheduleFacts) or schedule.status != "Disabled":
        return None
    return Finding(
        "processing-schedule-disabled", "warning", schedule.name,
        f"schedule {schedule.group}/{schedule.name} is {schedule.state}: it starts no processing jobs",
        "Someone disabled it (EventBridge Scheduler console or UpdateSchedule); CloudFormation does not enable it "
        "again until the schedule's template changes.",
        f"Enable it in the EventBridge Scheduler console (Schedules, group {schedule.group}), or with `aws scheduler "
        f"update-schedule` and the whole definition `aws scheduler get-schedule --name {schedule.name} --group-name "
        f"{schedule.group} --region {facts.region}` prints, with --state ENABLED.",
    )


def job_definition_missing(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    definition = schedule.job_definition
    if definition is None or definition.found:
        return None
    return Finding(
        "job-definition-missing", "error", schedule.name,
        f"schedule {schedule.name} runs job definition {definition.name}, which does not exist",
        "Job definitions are immutable; a change replaces them (new name) and the schedule follows. A schedule still "
        "naming a deleted one was left behind by a failed or manual change, and its executions fail.",
        f"Redeploy the monitoring stack: `{make(facts, 'deploy')}`.",
    )


def no_executions_yet(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    if schedule.executions or schedule.status not in ("Scheduled", "Pending") or schedule.one_time:
        return None
    if missed_slot(schedule, facts.now) is not None:
        return None  # run_overdue explains it
    nxt = expected_next_run(schedule, facts.now)
    return Finding(
        "no-executions-yet", "info", schedule.name,
        f"schedule {schedule.name} has no executions yet",
        f"A schedule first runs at its next slot after creation ({hm(schedule.created)}), not when it is created, and "
        "each execution starts 0-20 min after the scheduled time.",
        f"Expect the first execution at {hm(nxt)} (+0-20 min); for a result now run `{make(facts, 'run-now')}`.",
    )


def run_overdue(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    slot = missed_slot(schedule, facts.now)
    if slot is None:
        return None
    last = f"its last execution was scheduled at {hm(schedule.last_scheduled)}" if schedule.executions else "it has no executions at all"
    if isinstance(schedule, ProcessingScheduleFacts):
        queue = f"{facts.prefix}-schedule-dlq"
        return Finding(
            "run-overdue", "warning", schedule.name,
            f"schedule {schedule.group}/{schedule.name} should have started a processing job {schedule.job_prefix}… "
            f"for {hm(slot)} by {hm(slot + START_DELAY)}; {last.replace('execution', 'job')}",
            "The scheduler starts the job within 15 minutes of the slot and retries a refused CreateProcessingJob for "
            "an hour, then puts the request and SageMaker's error in the dead-letter queue (the account's quota for "
            "the processing instance type, often 0 in a new account; a scheduler role that may not create the job).",
            f"Read the refusal: aws sqs receive-message --queue-url $(aws sqs get-queue-url --queue-name {queue} "
            f"--query QueueUrl --output text) --attribute-names All --message-attribute-names All --region "
            f"{facts.region}; a quota: `{make(facts, 'plan')}` names the Service Quotas request.",
        )
    return Finding(
        "run-overdue", "warning", schedule.name,
        f"schedule {schedule.name} should have started the run of {hm(slot)} by {hm(slot + START_DELAY)}; {last}",
        "Executions start at most 20 minutes after the scheduled time. A slot passing without one usually means the "
        "schedule cannot start jobs (account quota for processing instances, a deleted job definition or endpoint).",
        f"Check the schedule: aws sagemaker describe-monitoring-schedule --monitoring-schedule-name {schedule.name} "
        f"--region {facts.region}; and the Service Quotas of SageMaker processing instances.",
    )


def no_data_in_window(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    execution = _latest_failure(schedule)
    if execution is None or _kind(schedule, execution) != "no-data":
        return None
    window = analysis_window(schedule, execution)
    if window is None:
        seen = "the window could not be worked out"
    else:
        count = files_between(facts.captures, *window)
        counted = "not listed (older than --hours)" if count is None else f"{count} file(s) listed now"
        seen = f"it analysed {hm(window[0])} to {hm(window[1])}: {counted}"
    reason = execution.failure_reason or ""
    if DOUBLE_SLASH.search(reason):
        cause = ("The URL in the reason contains '//': the capture destination ends with a slash, so the files are "
                 "elsewhere (see capture-trailing-slash).")
    else:
        cause = ("No capture files existed in the hours it analysed: no traffic then, sampling let none through, the "
                 "schedule watches another endpoint or variant, or the files arrived after the run (capture lags a "
                 "few minutes).")
    return Finding(
        "no-data-in-window", "error", schedule.name,
        f"the run of {hm(execution.scheduled_time)} failed with no input data ({reason}); {seen}",
        cause,
        f"Make sure the endpoint receives traffic in every analysed hour (or accept failed runs in idle hours); "
        f"after sending traffic check the whole path with `{make(facts, 'run-now')}`.",
    )


def access_denied(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    execution = _latest_failure(schedule)
    if execution is None or _kind(schedule, execution) != "access":
        return None
    role = schedule.job_definition.role_arn if schedule.job_definition and schedule.job_definition.role_arn else "its role"
    return Finding(
        "access-denied", "error", schedule.name,
        f"the run of {hm(execution.scheduled_time)} was denied access: {execution.failure_reason}",
        f"The job runs as {role}, which needs s3:ListBucket and s3:GetObject on the capture prefix and the baseline, "
        "s3:PutObject on the reports prefix, kms:Decrypt/GenerateDataKey on the project key, and the VPC network "
        "interface actions; a changed role, key policy or bucket policy (or an SCP) takes one away.",
        "This project's foundation stack grants exactly these; redeploy it to restore them "
        f"(`{make(facts, 'deploy')}`), and compare the key and bucket policies with the templates. The "
        "log lines below name the object or action.",
    )


def processing_quota(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    """The run could not start its processing job: the account's quota for the instance type is too low (0 in many
    new accounts)."""
    execution = _latest_failure(schedule)
    if execution is None or _kind(schedule, execution) != "quota":
        return None
    texts = [execution.failure_reason or "", *(([schedule.failure.failure_reason or "", schedule.failure.exit_message or ""])
                                              if schedule.failure else [])]
    quota = next((m.group(1) for m in map(QUOTA_NAME.search, texts) if m), None)
    instance = next((m.group(0) for m in map(INSTANCE_TYPE.search, [quota or "", *texts]) if m), None)
    name = quota or (f"{instance} for processing job usage" if instance else "<instance type> for processing job usage")
    reason = execution.failure_reason or (schedule.failure.failure_reason if schedule.failure else None) or "?"
    region = facts.region
    query = f"Quotas[?QuotaName=='{name}'].QuotaCode"
    return Finding(
        "processing-quota", "error", schedule.name,
        f"the run of {hm(execution.scheduled_time)} could not start its processing job: the account's Service Quotas "
        f"limit '{name}' in {region} is too low ({reason})",
        "SageMaker limits how many instances of each type processing jobs may use at once, per account and region; "
        "new accounts often have 0 for most types. Every run of this monitor fails before it starts, whatever the "
        "data: it is not the pre-processor, the data or the permissions.",
        f"Ask for an increase of the quota '{name}' (Service Quotas, service SageMaker, {region}): find its code with "
        f"`aws service-quotas list-service-quotas --service-code sagemaker --region {region} --query \"{query}\"`, "
        f"then `aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code <that code> "
        f"--desired-value 1 --region {region}`. Or set {field(facts, f'monitoring.{monitor_section(schedule.monitoring_type)}.instance_type')} "
        f"to a type whose quota is above 0 and `{make(facts, 'deploy')}`.",
    )


def out_of_memory(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    """The analyzer ran out of memory: the instance is too small for the window's data."""
    execution = _latest_failure(schedule)
    if execution is None or _kind(schedule, execution) != "memory":
        return None
    details = schedule.failure
    texts = [execution.failure_reason or "", *((details.failure_reason or "", details.exit_message or "", *details.log_tail)
                                               if details else ())]
    evidence = next((t.strip() for t in texts if MEMORY.search(t)), "")
    section = f"monitoring.{monitor_section(schedule.monitoring_type)}"
    return Finding(
        "out-of-memory", "error", schedule.name,
        f"the run of {hm(execution.scheduled_time)} ran out of memory: {evidence[:300]}",
        "The analyzer (Spark in the Model Monitor container, with the pre-/post-processor in the same process space) "
        "holds the window's captured records and their statistics in memory; on a small instance a busy window (high "
        "traffic, a high sampling percentage, many features) exhausts it, and the job is killed (exit code 137) or "
        "Java fails with OutOfMemoryError. It is not a pre-processor bug.",
        f"Set {field(facts, f'{section}.instance_type')} to a larger instance type with more memory (for example "
        "ml.m5.xlarge -> ml.m5.2xlarge, or a memory-optimised ml.r5.xlarge; mind its processing quota), or sample less "
        f"traffic ({field(facts, 'endpoint.data_capture.sampling_percentage')}); then `{make(facts, 'deploy')}` and check "
        f"with `{make(facts, 'run-now')}`.",
    )


def max_runtime_exceeded(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    execution = _latest_failure(schedule)
    if execution is None or _kind(schedule, execution) != "runtime":
        return None
    limit = schedule.job_definition.max_runtime_seconds if schedule.job_definition else None
    limit_text = f"MaxRuntimeInSeconds {limit}" if limit else "its MaxRuntimeInSeconds"
    if execution.failure_reason:
        problem = f"the run of {hm(execution.scheduled_time)} hit its maximum runtime ({limit_text}): {execution.failure_reason}"
    else:
        problem = (f"the run of {hm(execution.scheduled_time)} was Stopped without a reason; unless someone stopped it, "
                   f"it reached {limit_text}")
    return Finding(
        "max-runtime-exceeded", "error", schedule.name,
        problem,
        "The job did not finish within the stopping condition; it grows with the captured data of the window (and "
        "model-quality/bias runs split the time between a merge job and the analysis).",
        f"Use a larger {field(facts, 'monitoring.<monitor>.instance_type')}, or raise max_runtime_seconds (at most the "
        "schedule period; "
        "for hourly model-quality/bias at most 1800), or sample less traffic; then "
        f"`{make(facts, 'deploy')}`.",
    )


def execution_failed(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    execution = _latest_failure(schedule)
    if execution is None or _kind(schedule, execution) != "other":
        return None
    return Finding(
        "execution-failed", "error", schedule.name,
        f"the run of {hm(execution.scheduled_time)} {execution.status.lower()}: {execution.failure_reason or 'no reason given'}",
        "Not one of the known failure modes; the analyzer's log says more (common: the pre-processor raised, or its "
        "columns do not match the baseline's).",
        f"Read the log lines below; check the pre-processor against captured data with "
        f"`{make(facts, 'dry-run')} CAPTURE=s3://…`.",
    )


def violations(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    latest = schedule.latest_finished
    if latest is None or latest.status != "CompletedWithViolations":
        return None
    found = schedule.violations
    if found is not None and found.error is None:
        features = sorted({v.feature for v in found.items})
        shown = ", ".join(features[:8]) + (", …" if len(features) > 8 else "")
        what = f"{found.total} violation(s) ({shown})"
    else:
        what = "violations"
    return Finding(
        "violations", "warning", schedule.name,
        f"the run of {hm(latest.scheduled_time)} found {what}",
        "The captured data of the window does not meet the baseline's constraints (drift, missing values, new "
        "categories, or type changes).",
        "Look at the violations below. Real drift: investigate the data or retrain. Constraints too strict (suggested "
        f"ones often are): edit constraints.json or re-baseline with `{make(facts, 'baseline')}`.",
    )


# The kinds whose job runs Model Monitor's analyzer, which reads publish_cloudwatch_metrics from its Environment.
ANALYZER_TYPES = tuple(kind.stem for kind in KINDS if kind.image == ANALYZER)


def metrics_not_published(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    definition = schedule.job_definition
    if definition is None or not definition.found or schedule.monitoring_type not in ANALYZER_TYPES:
        return None
    value = (definition.environment or {}).get("publish_cloudwatch_metrics")
    if value == "Enabled":
        return None
    name = definition.name or "(inline definition)"
    if value is None:
        return Finding(
            "metrics-not-published", "warning", schedule.name,
            f"job definition {name} has no publish_cloudwatch_metrics in its Environment",
            "Definitions created outside the SageMaker SDK (CloudFormation, Terraform) publish no CloudWatch metrics "
            "without it (terraform-provider-aws#36047), so drift alarms never fire.",
            "Set publish_cloudwatch_metrics: Enabled in the definition's Environment; this project's monitoring stack "
            f"does ({field(facts, 'monitoring.<monitor>.publish_cloudwatch_metrics')}: true), so redeploy: `{make(facts, 'deploy')}`.",
        )
    return Finding(
        "metrics-not-published", "info", schedule.name,
        f"job definition {name} has publish_cloudwatch_metrics={value}",
        "No per-feature CloudWatch metrics are published, so CloudWatch alarms on drift get no data.",
        f"If you want alarms, set {field(facts, 'monitoring.<monitor>.publish_cloudwatch_metrics')}: true in params/{facts.environment}.yaml "
        f"and `{make(facts, 'deploy')}`.",
    )


def runtime_over_period(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    definition = schedule.job_definition
    period = schedule.period_seconds
    if definition is None or not definition.max_runtime_seconds or not period:
        return None
    limit = period
    kind = BY_STEM.get(schedule.monitoring_type or "")
    split = kind is not None and kind.merges_ground_truth and period == 3600  # the merge job takes half the hour
    if split:
        limit = 1800
    if definition.max_runtime_seconds <= limit:
        return None
    return Finding(
        "runtime-over-period", "warning", schedule.name,
        f"MaxRuntimeInSeconds {definition.max_runtime_seconds} of {definition.name or 'its job definition'} is longer "
        f"than {_hours(limit) if not split else '1800 s'} allowed for a {_hours(period)} schedule",
        "A run must end before the next one starts"
        + ("; hourly model-quality and bias runs split the hour between a merge job and the analysis, so 1800 s is "
           "the limit." if split else "."),
        f"Lower max_runtime_seconds to at most {limit} (or run less often) and `{make(facts, 'deploy')}`.",
    )


def leftover_one_time_schedule(schedule: ScheduleFacts, facts: Facts) -> Finding | None:
    if not (schedule.one_time and "-now-" in schedule.name and schedule.name.startswith(f"{facts.prefix}-")):
        return None
    running = schedule.executions and not schedule.executions[0].finished
    return Finding(
        "leftover-one-time-schedule", "info", schedule.name,
        f"one-time schedule {schedule.name} is still there" + (" (its execution is still running)" if running else ""),
        "`make run-now` deletes its one-time schedule when it ends; this one was left by an interrupted or failed "
        "clean-up. It runs nothing more but counts against the account's schedule quota.",
        f"Delete it: aws sagemaker delete-monitoring-schedule --monitoring-schedule-name {schedule.name} "
        f"--region {facts.region}",
    )


def no_capture_for_run(facts: Facts, start: datetime, end: datetime) -> Finding | None:
    """`make run-now`'s check before it starts a job: is there capture data in the window [start, end)?

    A file's LastModified is when Data Capture wrote it (a few minutes after the requests in it), so the
    window has data when a file in its hour folders was written at or after `start`."""
    if not facts.captures or any(c.error for c in facts.captures):
        return None
    top = start.replace(minute=0, second=0, microsecond=0)
    in_folders = [h for c in facts.captures for h in c.hours if top <= h.hour < end]
    if any(h.newest is not None and h.newest >= start for h in in_folders):
        return None
    filled = [h.hour for c in facts.captures for h in c.hours if h.files]
    seen = (f"the newest hour folder with files is {max(filled):%Y/%m/%d/%H}" if filled
            else f"no file at all in the {facts.hours} hour folders listed")
    return Finding(
        "no-data-in-window", "error", facts.endpoint.name,
        f"no Data Capture file written between {hm(start)} and {hm(end)} under "
        f"{', '.join(c.prefix for c in facts.captures)}; {seen}",
        "A monitoring job over a window without captured data fails with \"Job inputs had no data\" after "
        "minutes of billed instance time (sagemaker-python-sdk#2634).",
        f"Send requests to {facts.endpoint.name}, wait a few minutes for the files, and run again; or widen the "
        "window (--window-hours N) to include older traffic; --force starts the job anyway.",
    )


# ------------------------------------------------------------------ stacks whose deploy failed

# What CloudFormation shows when the role it runs as lacks a right: for SageMaker resources often only the bare
# "GeneralServiceException" ("Error occurred during operation 'CREATE'"), elsewhere AccessDenied / "not authorized".
DENIED = re.compile(r"GeneralServiceException|AccessDenied|Access Denied|not authori[sz]ed|UnauthorizedOperation|"
                    r"iam:PassRole", re.IGNORECASE)
NAMED_ACTION = re.compile(r"not authori[sz]ed to perform:? ([a-z0-9-]+:[A-Za-z0-9*]+)(?: on resource:? (\S+))?",
                          re.IGNORECASE)


def likely_missing(resource_type: str, reason: str, facts: Facts) -> str:
    """The right a denied resource most likely needs: the action AWS names in the reason, else the SageMaker actions
    of its type and iam:PassRole on the role it runs as."""
    named = NAMED_ACTION.search(reason)
    if named:
        on = f" on {named.group(2).rstrip('.,;')}" if named.group(2) else ""
        return f"{named.group(1)}{on} (the reason names it)"
    if resource_type.startswith("AWS::SageMaker::"):
        name = resource_type.rsplit("::", 1)[-1]
        actions = [f"sagemaker:Create{name}", f"sagemaker:Describe{name}", f"sagemaker:Delete{name}"]
        if name in ("MonitoringSchedule", "Endpoint"):
            actions.append(f"sagemaker:Update{name}")
        actions.append("sagemaker:AddTags")
        text = ", ".join(actions)
        if name.endswith("JobDefinition"):
            text += (f", and iam:PassRole on the role the job runs as ({facts.prefix}-monitoring, condition "
                     "iam:PassedToService sagemaker.amazonaws.com)")
        elif name == "Model":
            text += ", and iam:PassRole on the model's execution role (condition iam:PassedToService sagemaker.amazonaws.com)"
        return text
    return f"the actions CloudFormation needs for {resource_type} (its resource type schema lists the handlers' permissions)"


def model_monitor_unavailable(stack: StackFailure, facts: Facts) -> Finding | None:
    """The last deploy failed because the account cannot use SageMaker Model Monitor (closed to new customers on
    2026-07-30): the fix is the processing engine, not a right (deployer/account_refusals.py, a conservative match)."""
    from deployer.account_refusals import model_monitor_unavailable as refused

    found = [r for r in stack.resources if refused(r.resource_type, r.reason)]
    if not found:
        return None
    first = found[-1]  # newest first: the first refusal
    return Finding(
        "model-monitor-unavailable", "error", stack.stack,
        f"the last deploy of stack {stack.stack} ended {stack.status}: {first.logical_id} ({first.resource_type}) "
        f"{first.status}: {first.reason}",
        "AWS refused a Model Monitor resource because this account cannot use Model Monitor: AWS closed it (and "
        "Clarify) to new customers on 2026-07-30, so accounts created since cannot create monitoring schedules or job "
        "definitions. No right granted to the deploy role changes that.",
        f"Set {field(facts, 'monitoring.engine')}: processing in params/{facts.environment}.yaml (an EventBridge "
        "Scheduler schedule starting SageMaker Processing jobs with this project's analyzer; model bias and "
        f"explainability need Clarify and stay off; docs/engine.md), then `{make(facts, 'deploy')}`.",
    )


def deploy_rights_missing(stack: StackFailure, facts: Facts) -> Finding | None:
    """The last deploy of one of the environment's stacks failed because the role CloudFormation runs as may not do
    something (a SageMaker action, iam:PassRole), which CloudFormation often reports only as GeneralServiceException.
    A refusal of the account itself (model-monitor-unavailable) is not one."""
    from deployer.account_refusals import model_monitor_unavailable as refused

    denied = [r for r in stack.resources if DENIED.search(r.reason) and not refused(r.resource_type, r.reason)]
    if not denied:
        return None
    first = denied[-1]  # the events are newest first: the first refusal is what failed the operation
    others = f" (and {len(denied) - 1} more refused)" if len(denied) > 1 else ""
    return Finding(
        "deploy-rights-missing", "error", stack.stack,
        f"the last deploy of stack {stack.stack} ended {stack.status}: {first.logical_id} ({first.resource_type}) "
        f"{first.status}: {first.reason}{others}",
        "CloudFormation creates each resource with the rights of the role it runs as (deploy.cloudformation_role_arn, "
        "else the deploying credentials: deploy.assume_role_arn or your profile). For SageMaker resources a missing "
        "right often shows only as GeneralServiceException (\"Error occurred during operation 'CREATE'\"), without the "
        "action that was denied; the common case is iam:PassRole on the role the resource runs as. Until the stack "
        "deploys, what it holds is missing or stale.",
        f"Likely missing: {likely_missing(first.resource_type, first.reason, facts)}. Grant it to that role "
        "(docs/security.md, \"The deploy role\"); if in doubt, make the same call with the AWS CLI under that role, "
        f"which names the action CloudFormation hides. Then `{make(facts, 'deploy')}`.",
    )


STACK_RULES: tuple[Callable[[StackFailure, Facts], Finding | None], ...] = (model_monitor_unavailable,
                                                                           deploy_rights_missing)


# ------------------------------------------------------------------ endpoints we did not deploy


def _existing_problems(existing: ExistingEndpointFacts, facts: Facts):
    command = adopt_command(facts.environment, existing.target.key)
    return check_endpoint(existing.endpoint, existing.config, existing.expected, adopt=command,
                          models=existing.models), command


def adoption_unfinished(existing: ExistingEndpointFacts, facts: Facts) -> Finding | None:
    """A `make adopt` of the endpoint started an update and did not see its end (killed, timed out, or its restore
    failed): its record says which config ran before, and the next `make adopt` finishes or restores it."""
    record = existing.adoption
    if record is None:
        return None
    endpoint = existing.endpoint or {}
    state = (f"{endpoint.get('EndpointStatus')} on endpoint config {endpoint.get('EndpointConfigName')}"
             + (f" ({endpoint['FailureReason']})" if endpoint.get("FailureReason") else "")) if endpoint else "gone"
    fine = endpoint.get("EndpointStatus") == "InService"
    return Finding(
        "adoption-unfinished", "warning" if fine else "error", existing.target.endpoint_name,
        f"`make adopt` of endpoint {existing.target.endpoint_name} (started {record.get('started')}) did not finish: it "
        f"updated the endpoint from endpoint config {record.get('previous_config')} to {record.get('new_config')}; "
        f"the endpoint is {state} now",
        "The run was killed, timed out or could not restore while SageMaker updated the endpoint. Its record (SSM "
        f"/{facts.project}/{facts.environment}/adopt/{existing.target.key}) keeps the previous config so the next run "
        "can finish the adoption or put it back; until then the endpoint may capture nothing (or serve nothing, if "
        "the update failed). It is not the endpoint owner's doing.",
        f"Run `{adopt_command(facts.environment, existing.target.key)}`: it tags the endpoint and prints the snippets "
        f"if the update finished, restores {record.get('previous_config')} if it failed, and says to wait while it is "
        f"still updating. By hand: "
        f"{restore_command(existing.target.endpoint_name, str(record.get('previous_config')), facts.region)}",
    )


def capture_changed_since_adoption(existing: ExistingEndpointFacts, facts: Facts) -> Finding | None:
    """An endpoint `make adopt` turned capture on for (its tag says which config) whose capture is now off or
    goes elsewhere: usually its owner redeployed from a template without the DataCaptureConfig snippet."""
    adopted = existing.adopted_config
    if adopted is None or existing.endpoint is None or existing.adoption is not None:
        return None
    problems, command = _existing_problems(existing, facts)
    if not problems:
        return None
    now_on = existing.config_name or "?"
    since = (f"it now runs endpoint config {now_on} instead" if now_on != adopted else "that config was changed")
    return Finding(
        "capture-changed-since-adoption", "error", existing.target.endpoint_name,
        f"`make adopt` gave endpoint {existing.target.endpoint_name} Data Capture with endpoint config {adopted}; "
        f"{since}, and: " + "; ".join(p.problem for p in problems),
        "The endpoint belongs to another tool; a deploy from its owner's template without our DataCaptureConfig "
        "replaces the endpoint config and turns capture off (or points it elsewhere), and every monitoring run "
        "of it fails from then on.",
        f"Run `{command}` again (it prints the snippet), and ask the endpoint's owner to add that "
        "DataCaptureConfig snippet to their template so their next deploy keeps it.",
    )


def existing_endpoint_not_ready(existing: ExistingEndpointFacts, facts: Facts) -> Finding | None:
    """An `existing` endpoint never adopted whose capture does not suit monitoring (or that is gone)."""
    if existing.adopted_config is not None and existing.endpoint is not None:
        return None  # capture_changed_since_adoption speaks for it
    if existing.adoption is not None:
        return None  # adoption_unfinished speaks for it: the fix is to finish or restore, not the owner's
    problems, _ = _existing_problems(existing, facts)
    return _problems_finding("existing-endpoint-not-ready", existing, problems,
                             "Monitoring of an endpoint deployed by another tool reads its Data Capture; as it is, "
                             "every run fails.")


def explained_model_unfit(existing: ExistingEndpointFacts, facts: Facts) -> Finding | None:
    """The model an existing endpoint's explainability monitor explains is no longer the one it serves, is gone,
    or runs with network isolation: the checks `make plan` made, again now (the owner may have redeployed)."""
    if existing.endpoint is None or existing.config is None:
        return None  # existing_endpoint_not_ready says the endpoint is gone
    problems = check_explainability_model(existing.target, existing.config, existing.model)
    return _problems_finding("explained-model-unfit", existing, problems,
                             "Clarify's explainability job makes its shadow endpoints from the configured model; as "
                             "it is, its runs explain another model or fail.", then=f"`{make(facts, 'deploy')}`")


def _problems_finding(rule: str, existing: ExistingEndpointFacts, problems: list, why: str,
                      then: str = "") -> Finding | None:
    """One error finding for an existing endpoint: its problems joined, each distinct fix once (then `then`)."""
    if not problems:
        return None
    fix = "; ".join(dict.fromkeys(p.fix for p in problems)) + (f"; then {then}" if then else "")
    return Finding(rule, "error", existing.target.endpoint_name,
                   f"endpoint {existing.target.endpoint_name} (endpoints.{existing.target.key}): "
                   + "; ".join(p.problem for p in problems), why, fix)


EXISTING_RULES: tuple[Callable[[ExistingEndpointFacts, Facts], Finding | None], ...] = (
    adoption_unfinished,
    capture_changed_since_adoption,
    existing_endpoint_not_ready,
    explained_model_unfit,
)


ENVIRONMENT_RULES: tuple[Callable[[Facts], Finding | None], ...] = (
    endpoint_missing,
    endpoint_not_in_service,
    capture_disabled,
    capture_trailing_slash,
    no_recent_capture,
    no_schedules,
)
SCHEDULE_RULES: tuple[Callable[[ScheduleFacts, Facts], Finding | None], ...] = (
    schedule_failed,
    schedule_stopped,
    processing_schedule_missing,
    processing_schedule_disabled,
    job_definition_missing,
    no_executions_yet,
    run_overdue,
    no_data_in_window,
    processing_quota,
    access_denied,
    out_of_memory,
    max_runtime_exceeded,
    execution_failed,
    violations,
    metrics_not_published,
    runtime_over_period,
    leftover_one_time_schedule,
)


# What the capture check of an `existing` endpoint says already (existing-endpoint-not-ready and
# capture-changed-since-adoption name the fix, `make adopt`, instead of a redeploy of a stack we do not have).
COVERED_BY_EXISTING_CHECK = (endpoint_missing, endpoint_not_in_service, capture_disabled, capture_trailing_slash)


def explain(facts: Facts, *, environment_rules: bool = True) -> list[Finding]:
    """Every finding, errors first, in rule order within a severity."""
    found: list[Finding] = []
    if environment_rules:
        rules = [r for r in ENVIRONMENT_RULES if not (facts.existing_endpoint and r in COVERED_BY_EXISTING_CHECK)]
        found.extend(f for f in (rule(facts) for rule in rules) if f)
        found.extend(f for e in facts.existing for f in (rule(e, facts) for rule in EXISTING_RULES) if f)
        found.extend(f for stack in facts.stacks for f in (rule(stack, facts) for rule in STACK_RULES) if f)
    for schedule in facts.schedules:
        found.extend(f for f in (rule(schedule, facts) for rule in SCHEDULE_RULES) if f)
    return sorted(found, key=lambda f: SEVERITIES.index(f.severity))

