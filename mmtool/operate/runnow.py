"""`make run-now ENV=e [MONITOR=data-quality]`: one monitoring run now, to see that monitoring works right
after a deploy instead of waiting for the next hour (one-off `NOW` schedules, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html).

1. Finds the deployed job definition of the monitor: from its regular schedule `<project>-<env>-<monitor>`
   (DescribeMonitoringSchedule), or, when that schedule is missing, from the monitoring stack's output
   `<MonitoringType>JobDefinitionName` (stack `<project>-<env>-monitoring`).
2. Checks that the endpoint the definition reads has Data Capture files written in the window (the last
   `--window-hours` hours); without any the job would fail with "Job inputs had no data" (failure mode #1),
   so it stops and says so (`--force` runs anyway). Batch-transform inputs are not checked.
3. Creates a one-time schedule `<project>-<env>-<monitor>-now-<UTC yyyymmddhhmmss>` (with a short monitor
   code such as `dq` when the name would pass SageMaker's 63 characters): `ScheduleExpression: NOW`,
   `DataAnalysisStartTime: -PT<window>H`, `DataAnalysisEndTime: -PT0H`, the definition by name, the
   environment's tags.
4. Waits for its execution (status changes with the elapsed time on stderr, a spinner on a terminal), at
   most `--timeout` seconds (default: the definition's MaxRuntimeInSeconds + 1800 s for provisioning).
5. Shows the outcome as `make status` does (executions, FailureReason and the end of the log, violations,
   findings; `--json`: the status JSON with this one schedule), then deletes the one-time schedule, also
   after a failure, a timeout or Ctrl-C; what could not be cleaned up (the schedule, a still-running
   processing job) is printed with the commands to do it by hand.

On the processing engine (`monitoring.engine: processing`, or `--engine processing` under `both`):
`mmtool.operate.runnow_processing` starts one processing job with the schedule's own request instead (its
`run_now_on_engine` chooses).

Exit codes: 0 the run Completed (also CompletedWithViolations: monitoring works, the violations are shown);
1 it Failed or was Stopped, the schedule failed, no capture data in the window, or an AWS call failed;
2 bad input; 3 wrong account; 4 --timeout reached; 130 Ctrl-C.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from deployer.aws_errors import error_code, error_message
from mmtool.config.monitor_kinds import KINDS
from mmtool.errors import EXIT_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TIMEOUT, ToolError
from mmtool.operate.awsenv import Clients, aws_errors, aws_failure
from mmtool.operate.awsenv import elapsed as _elapsed
from mmtool.operate.facts import (
    MONITORS,
    ExecutionFacts,
    Facts,
    ScheduleFacts,
    is_not_found,
    list_executions,
    offset_hours,
    read_captures,
    read_endpoint,
    read_job_definition,
    read_schedule,
    ssm_values,
)

POLL_SECONDS = 15.0
PROVISIONING_ALLOWANCE = 1800
DEFAULT_WINDOW_HOURS = 1
NAME_LIMIT = 63
SHORT = {kind.name: kind.one_time_code for kind in KINDS}
# A fleet endpoint's regular schedules are `<project>-<env>-<key>-<code>` (templates/monitoring.py `schedule_name`).
FLEET_CODES = {kind.name: kind.code for kind in KINDS}
SUCCESS = ("Completed", "CompletedWithViolations")


class RunNowInputError(ToolError):
    exit_code = EXIT_INPUT


class RunNowFailed(ToolError):
    exit_code = EXIT_FAILED


class RunNowAbandoned(ToolError):
    """--timeout or Ctrl-C: the wait ended before the execution did."""


@dataclass
class Options:
    monitor: str = "data-quality"
    window_hours: int = DEFAULT_WINDOW_HOURS
    timeout: float | None = None  # None: max runtime + PROVISIONING_ALLOWANCE
    force: bool = False
    json_output: bool = False
    endpoint: str | None = None  # the fleet endpoint's key; required for a fleet of more than one
    engine: str | None = None  # model-monitor | processing; None: the endpoint's engine (`both`: model-monitor)


def one_time_name(prefix: str, monitor: str, now: datetime) -> str:
    """`<prefix>-<monitor>-now-<yyyymmddhhmmss>`; the short monitor code when that passes 63 characters
    (the longest prefix, 20+1+10 characters, gives 31+5+5+14 = 55 with `-expl`)."""
    stamp = f"{now.astimezone(timezone.utc):%Y%m%d%H%M%S}"
    name = f"{prefix}-{monitor}-now-{stamp}"
    return name if len(name) <= NAME_LIMIT else f"{prefix}-{SHORT[monitor]}-now-{stamp}"


def fleet_one_time_name(scope: str, monitor: str, now: datetime) -> str:
    """A fleet endpoint's one-time schedule: `<project>-<env>-<key>-<code>-now-<yyyymmddhhmmss>`, the scope cut
    from its end when that passes 63 characters (the longest scope, 52 characters, leaves 41: the status finds the
    schedule by the endpoint it watches, so a shortened key is still told apart)."""
    stamp = f"{now.astimezone(timezone.utc):%Y%m%d%H%M%S}"
    tail = f"-{FLEET_CODES[monitor]}-now-{stamp}"
    return f"{scope[:NAME_LIMIT - len(tail)].rstrip('-')}{tail}"


def schedule_request(name: str, job_definition: str, monitoring_type: str, window_hours: int,
                     tags: dict[str, str]) -> dict[str, Any]:
    """The CreateMonitoringSchedule request of the one-time run (a pure function)."""
    return {
        "MonitoringScheduleName": name,
        "MonitoringScheduleConfig": {
            "ScheduleConfig": {
                "ScheduleExpression": "NOW",
                "DataAnalysisStartTime": f"-PT{window_hours}H",
                "DataAnalysisEndTime": "-PT0H",
            },
            "MonitoringJobDefinitionName": job_definition,
            "MonitoringType": monitoring_type,
        },
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }


def resolve_job_definition(clients: Clients, params: Any, monitor: str, entry: Any = None) -> tuple[str, str, str]:
    """(definition name, MonitoringType, where it was found) of the monitor of `entry` (a FleetEndpoint; None:
    the single-endpoint form): its schedule `<project>-<env>-<monitor>` (a fleet endpoint's
    `<project>-<env>-<key>-<code>`), else its monitoring stack's output."""
    legacy = entry is None or entry.legacy
    regular = f"{params.prefix}-{monitor}" if legacy else f"{entry.name_prefix(params)}-{FLEET_CODES[monitor]}"
    try:
        described = clients.sagemaker.describe_monitoring_schedule(MonitoringScheduleName=regular)
    except aws_errors() as exc:
        if not is_not_found(exc):
            raise aws_failure(exc, f"describe the schedule {regular} (sagemaker:DescribeMonitoringSchedule)") from exc
        described = None
    if described is not None:
        config = described.get("MonitoringScheduleConfig", {})
        name = config.get("MonitoringJobDefinitionName")
        if not name:
            raise RunNowFailed(f"schedule {regular} has an inline job definition, not a named one; run-now reuses "
                               "named definitions only (this project's monitoring stack creates named ones)")
        return name, config.get("MonitoringType") or described.get("MonitoringType") or MONITORS[monitor], f"schedule {regular}"
    stack = f"{params.prefix}-monitoring" if legacy else entry.stack_name(params, "monitoring")
    key = f"{MONITORS[monitor]}JobDefinitionName"
    outputs: dict[str, str] = {}
    if clients.cloudformation is not None:
        try:
            stacks = clients.cloudformation.describe_stacks(StackName=stack).get("Stacks", [])
        except aws_errors() as exc:
            # CloudFormation's answer for a stack that is not there: ValidationError "Stack with id X does not exist"
            if error_code(exc) != "ValidationError" or "does not exist" not in error_message(exc):
                raise aws_failure(exc, f"read the outputs of stack {stack} (cloudformation:DescribeStacks)") from exc
            stacks = []
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for s in stacks for o in s.get("Outputs", []) or []}
    if outputs.get(key):
        return outputs[key], MONITORS[monitor], f"output {key} of stack {stack}"
    setting = ("" if legacy else f"endpoints.{entry.key}.") + "monitoring." + monitor.replace("-", "_")
    owner = params.prefix if legacy else f"{entry.name_prefix(params)} (endpoints.{entry.key})"
    deploy = f"make deploy ENV={params.environment}" + ("" if legacy else f" ENDPOINT={entry.key}")
    raise RunNowFailed(
        f"the {monitor} monitor of {owner} is not deployed: no schedule {regular} and no output {key} of stack "
        f"{stack} in {params.region}.\nNext: set {setting}.enabled: true in params/{params.environment}.yaml "
        f"and run `{deploy}` (or pick another MONITOR=)."
    )


def wait_for_execution(
    sagemaker: Any,
    name: str,
    *,
    timeout: float,
    poll_seconds: float = POLL_SECONDS,
    console: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    seen: dict[str, Any] | None = None,
) -> ExecutionFacts | None:
    """Poll until the one-time schedule's execution ends (returned) or the schedule Fails (None).

    Each poll lists the schedule's newest execution; while there is none, it describes the schedule. Every
    status change is printed with the elapsed time. `seen["execution"]` keeps the last execution seen, for
    the clean-up after a timeout or Ctrl-C. Raises RunNowAbandoned at `timeout` (exit 4); KeyboardInterrupt
    passes through.
    """
    from deployer.reporter import make_console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = console or make_console(stderr=True)
    seen = seen if seen is not None else {}
    start = clock()
    last = None
    progress = None
    if console.is_terminal:
        progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=console, transient=True)
        progress.start()
        task = progress.add_task(f"{name}: creating")
    try:
        while True:
            executions = list_executions(sagemaker, name, 1)
            elapsed = clock() - start
            if executions:
                execution = seen["execution"] = executions[0]
                state = f"execution {execution.status}"
                if execution.processing_job:
                    state += f" (processing job {execution.processing_job})"
                done = execution.finished
            else:
                try:
                    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
                except aws_errors() as exc:
                    raise aws_failure(exc, f"describe the one-time schedule {name}") from exc
                status = described["MonitoringScheduleStatus"]
                state = f"schedule {status}"
                execution, done = None, status == "Failed"
            if state != last:
                console.print(f"{_elapsed(elapsed)}  {name}: {state}", highlight=False)
                last = state
            if progress is not None:
                progress.update(task, description=f"{name}: {state}")
            if done:
                return execution
            if elapsed >= timeout:
                raise RunNowAbandoned(
                    f"the one-time run {name} did not end within --timeout {int(timeout)} s "
                    f"(last state: {state})", EXIT_TIMEOUT)
            sleep(min(poll_seconds, max(timeout - elapsed, 0.0)))
    finally:
        if progress is not None:
            progress.stop()


def remove_schedule(sagemaker: Any, name: str, region: str, execution: ExecutionFacts | None,
                    warn: Callable[[str], None]) -> bool:
    """Delete the one-time schedule; say what is left behind. Returns True when it is deleted."""
    deleted = False
    try:
        sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
        deleted = True
        warn(f"deleted the one-time schedule {name}")
    except KeyboardInterrupt:
        warn(f"left behind: the one-time schedule {name} (interrupted while deleting it). Delete it:\n"
             f"  aws sagemaker delete-monitoring-schedule --monitoring-schedule-name {name} --region {region}")
    except aws_errors() as exc:
        if is_not_found(exc):
            deleted = True
        else:
            warn(f"left behind: the one-time schedule {name}; deleting it failed: "
                 f"{error_code(exc) or type(exc).__name__}: {error_message(exc)}. Delete it:\n"
                 f"  aws sagemaker delete-monitoring-schedule --monitoring-schedule-name {name} --region {region}")
    if execution is not None and not execution.finished and execution.processing_job:
        job = execution.processing_job
        warn(f"left behind: its execution's processing job {job} was still {execution.status}; it runs to its end "
             f"unless stopped:\n"
             f"  aws sagemaker describe-processing-job --processing-job-name {job} --region {region} "
             "--query '[ProcessingJobStatus,FailureReason]'\n"
             f"  aws sagemaker stop-processing-job --processing-job-name {job} --region {region}")
    elif execution is not None and not execution.finished:
        warn(f"left behind: its execution was still {execution.status} without a processing job yet; check it with "
             f"aws sagemaker list-monitoring-executions --monitoring-schedule-name {name} --region {region}")
    return deleted


def run_now(
    params: Any,
    options: Options,
    clients: Clients,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    console: Any = None,
    progress_console: Any = None,
    out: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = POLL_SECONDS,
) -> int:
    """Steps 1-5 of the module docstring. Returns the exit code (0 or 1); raises for 4 and 130."""
    from mmtool.generate.synth import stack_tags
    from mmtool.operate.awsenv import check_account
    from mmtool.operate.existing_endpoint import CaptureExpectations, target_from_fleet
    from mmtool.operate.facts import fleet_endpoint_name, read_existing_endpoint, variant_of
    from mmtool.operate.rules import COVERED_BY_EXISTING_CHECK, ENVIRONMENT_RULES, EXISTING_RULES, explain, no_capture_for_run
    from mmtool.operate.selection import select_endpoint

    warn = warn or (lambda message: print(message, file=sys.stderr))
    if options.monitor not in MONITORS:
        raise RunNowInputError(f"--monitor={options.monitor}: one of {', '.join(MONITORS)}")
    if not 1 <= options.window_hours <= 24:
        raise RunNowInputError(f"--window-hours={options.window_hours}: must be 1-24 (SageMaker's window limit)")
    entry = select_endpoint(params, options.endpoint, "run-now")
    check_account(clients, params)
    job_definition, monitoring_type, source = resolve_job_definition(clients, params, options.monitor, entry)
    definition = read_job_definition(clients.sagemaker, monitoring_type, job_definition)
    if not definition.found:
        raise RunNowFailed(f"job definition {job_definition} (from {source}) does not exist.\n"
                           f"Next: redeploy the monitoring stack: `make deploy ENV={params.environment}`.")
    warn(f"{options.monitor}: job definition {job_definition} (from {source})")

    start_time = now()
    window = (start_time - timedelta(hours=options.window_hours), start_time)
    own = (offset_hours(definition.start_offset), offset_hours(definition.end_offset))
    if own[0] is not None and own[1] is not None:  # model quality/bias: the input's own offsets choose the data
        window = (start_time + timedelta(hours=own[0]), start_time + timedelta(hours=own[1]))
        warn(f"the job definition's input analyses {definition.start_offset} to {definition.end_offset}: the capture "
             "check looks there")
    if entry.legacy:
        values = ssm_values(clients, params.project, params.environment)
        endpoint_name = definition.endpoint_name or values.get("endpoint-name") or params.prefix
        source_of_name = "ssm" if definition.endpoint_name or values.get("endpoint-name") else "derived"
    else:
        values = ssm_values(clients, params.project, params.environment, [entry.key] if entry.create else [])
        endpoint_name, source_of_name = fleet_endpoint_name(params, entry, values)
        if definition.endpoint_name:
            endpoint_name = definition.endpoint_name
    endpoint = read_endpoint(clients.sagemaker, endpoint_name, source_of_name)
    bucket = values.get("bucket-name")
    fallback = f"s3://{bucket}/{entry.capture_prefix(params)}" if bucket else None
    listed_hours = max(options.window_hours, -(own[0] or 0)) + 1  # the window's hour folders and the one before
    captures = read_captures(clients, endpoint, fallback, variant_of(entry), start_time,
                             listed_hours) if definition.input_kind == "endpoint" else []
    scope = None if entry.legacy else entry.name_prefix(params)
    facts = Facts(params.project, params.environment, params.region, start_time, listed_hours,
                  endpoint, captures, [], bucket, key=None if entry.legacy else entry.key, scope=scope,
                  existing_endpoint=entry.existing is not None)
    if entry.existing is not None and bucket:
        target = target_from_fleet(params, entry)
        facts.existing = [read_existing_endpoint(clients.sagemaker, target, CaptureExpectations.of(
            target, bucket, values.get("kms-key-arn", "")))]
    if definition.input_kind == "endpoint":
        rules = [r for r in ENVIRONMENT_RULES if not (facts.existing_endpoint and r in COVERED_BY_EXISTING_CHECK)]
        blockers = [f for f in (rule(facts) for rule in rules) if f and f.severity == "error"]
        blockers += [f for e in facts.existing for f in (rule(e, facts) for rule in EXISTING_RULES) if f]
        missing = no_capture_for_run(facts, *window)
        if missing is not None:
            blockers.append(missing)
        else:
            top = window[0].replace(minute=0, second=0, microsecond=0)
            files = sum(h.files for c in captures for h in c.hours if top <= h.hour < window[1])
            warn(f"capture: {files} file(s) in the window's hour folders under {', '.join(c.prefix for c in captures)}")
        if blockers and not options.force:
            lines = [f"{f.problem}\n  why: {f.why}\n  fix: {f.fix}" for f in blockers]
            raise RunNowFailed("not started: the job would fail.\n" + "\n".join(lines))
        for blocker in blockers:
            warn(f"--force: starting anyway although {blocker.problem}")
    else:
        warn("the job definition reads batch-transform capture: the capture check is skipped")

    name = (one_time_name(params.prefix, options.monitor, start_time) if scope is None
            else fleet_one_time_name(scope, options.monitor, start_time))
    request = schedule_request(name, job_definition, monitoring_type, options.window_hours, stack_tags(params))
    try:
        clients.sagemaker.create_monitoring_schedule(**request)
    except aws_errors() as exc:
        raise aws_failure(
            exc, f"create the one-time schedule {name} (sagemaker:CreateMonitoringSchedule)",
            next_step="Next: check that your credentials may call sagemaker:CreateMonitoringSchedule and "
            "sagemaker:DeleteMonitoringSchedule, and the message above.",
        ) from exc
    warn(f"created the one-time schedule {name}: analyses -PT{options.window_hours}H to -PT0H "
         f"({window[0]:%H:%M}-{window[1]:%H:%M} UTC)")

    timeout = options.timeout if options.timeout is not None else (
        (definition.max_runtime_seconds or 3600) + PROVISIONING_ALLOWANCE)
    seen: dict[str, Any] = {}
    abandoned: RunNowAbandoned | None = None
    outcome: ScheduleFacts | None = None
    execution: ExecutionFacts | None = None
    deleted = False
    try:
        try:
            execution = wait_for_execution(clients.sagemaker, name, timeout=timeout, poll_seconds=poll_seconds,
                                           console=progress_console, clock=clock, sleep=sleep, seen=seen)
            outcome = read_schedule(clients, name, executions=1)
        except KeyboardInterrupt:
            abandoned = RunNowAbandoned(f"interrupted: the one-time run {name} was abandoned (see above what was left)",
                                        EXIT_INTERRUPTED)
        except RunNowAbandoned as exc:
            abandoned = exc
    finally:
        deleted = remove_schedule(clients.sagemaker, name, params.region, seen.get("execution"), warn)
    if abandoned is not None:
        raise abandoned
    if outcome is None:
        raise RunNowFailed(f"the one-time schedule {name} disappeared before its outcome could be read")
    facts.schedules = [outcome]
    findings = [f for f in explain(facts) if deleted is False or f.rule != "leftover-one-time-schedule"]
    if options.json_output:
        from mmtool.operate.status import as_json

        out(json.dumps(as_json(facts, findings), indent=2, sort_keys=True))
    else:
        from deployer.reporter import make_console

        from mmtool.operate.status import render_findings, render_schedule_details

        screen = console or make_console()
        if execution is None:
            screen.print(f"one-time schedule {name} Failed: {outcome.failure_reason or 'no reason given'}",
                         highlight=False, markup=False)
        render_schedule_details(screen, outcome)
        render_findings(screen, findings)
    return 0 if execution is not None and execution.status in SUCCESS else EXIT_FAILED


def start_processing_job(clients: Clients, job: dict[str, Any], start_time: datetime, *, region: str, options: Any,
                         warn: Callable[[str], None], progress_console: Any, clock: Callable[[], float],
                         sleep: Callable[[float], None], poll_seconds: float) -> dict[str, Any]:
    """Create the filled-in CreateProcessingJob request `job` with the caller's credentials, then follow the job to its
    end (mmtool.operate.processing_job): its last DescribeProcessingJob. Shared by run-now of a processing-engine
    schedule and of a Service Catalog launch; a timeout or Ctrl-C says how to stop the job left behind."""
    from rich.console import Console

    from mmtool.operate.processing_job import follow_processing_job

    name = job["ProcessingJobName"]
    environment = job.get("Environment") or {}
    try:
        clients.sagemaker.create_processing_job(**job)
    except aws_errors() as exc:
        raise aws_failure(exc, f"create the processing job {name} (sagemaker:CreateProcessingJob)",
                          next_step="Next: your credentials need sagemaker:CreateProcessingJob, sagemaker:AddTags and "
                          f"iam:PassRole on {job.get('RoleArn')}; a ResourceLimitExceeded is the account's processing "
                          "quota (`make plan` names the request).") from exc
    warn(f"started the processing job {name}: analyses {environment.get('window_start_offset')} to "
         f"{environment.get('window_end_offset')} of {start_time:%H:%M} UTC")
    timeout = options.timeout if options.timeout is not None else (
        (job.get("StoppingCondition", {}).get("MaxRuntimeInSeconds") or 3600) + PROVISIONING_ALLOWANCE)
    try:
        final, _ = follow_processing_job(
            clients.sagemaker, name, timeout=timeout, poll_seconds=poll_seconds,
            console=progress_console or Console(stderr=True), clock=clock, sleep=sleep,
            timed_out=lambda status, _: RunNowAbandoned(f"the processing job {name} did not end within --timeout "
                                                        f"{int(timeout)} s (last state: {status})", EXIT_TIMEOUT))
    except (KeyboardInterrupt, RunNowAbandoned) as exc:
        warn(f"left behind: the processing job {name} runs to its end unless stopped:\n"
             f"  aws sagemaker stop-processing-job --processing-job-name {name} --region {region}")
        if isinstance(exc, KeyboardInterrupt):
            raise RunNowAbandoned(f"interrupted: stopped following the processing job {name}", EXIT_INTERRUPTED) from None
        raise
    return final
