"""`make run-now ENGINE=processing`: one run of a monitor on the processing engine now (docs/engine.md, Operating).

1. Reads the monitor's EventBridge Scheduler schedule (GetSchedule, `mmtool.operate.processing_facts`) and its
   target's Input: the `CreateProcessingJob` request the scheduler sends.
2. Checks, as for Model Monitor (`mmtool.operate.runnow`), that the window has Data Capture files (`--force` runs
   anyway).
3. Fills the request in as EventBridge Scheduler does: `<aws.scheduler.execution-id>` a new UUID (so the job is
   `<code>-<hash>-<uuid>`, under the schedule's job-name prefix: the failed-job notification rule and `make status`
   see it), `<aws.scheduler.scheduled-time>` now (UTC, to the second); a data-quality run analyses the last
   `--window-hours` hours (`window_start_offset` -PT<N>H, `window_end_offset` -PT0H), a model-quality run keeps
   the schedule's own window. Then calls CreateProcessingJob with the caller's credentials and that request: the
   same job role, image, network, encryption and tags as a scheduled run.
4. Follows the job (DescribeProcessingJob every 15 s, status changes with the elapsed time on stderr) to its end,
   at most `--timeout` (default: its MaxRuntimeInSeconds + 1800 s), and shows the outcome as `make status` does.
   There is nothing to clean up; a job still running at a timeout or Ctrl-C is named with the stop command.

Exit codes as `make run-now`: 0 Completed (with or without violations), 1 Failed/Stopped or refused, 4 timeout,
130 Ctrl-C.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from mmtool.config.params import SELF_SERVICE_KEY_PREFIX
from mmtool.errors import EXIT_FAILED
from mmtool.operate.facts import (
    FAILED_EXECUTION,
    MONITORS,
    Facts,
    read_captures,
    read_endpoint,
    read_failure,
    read_violations,
    ssm_values,
    variant_of,
)
from mmtool.operate.runnow import (
    POLL_SECONDS,
    RunNowFailed,
    RunNowInputError,
    run_now,
    start_processing_job,
)
from mmtool.operate.processing_facts import (
    WITH_VIOLATIONS,
    ProcessingScheduleFacts,
    definition_of,
    engine_schedules,
    execution_of,
    get_schedule,
    schedule_request,
)

EXECUTION_ID = "<aws.scheduler.execution-id>"  # EventBridge Scheduler's context attributes (templates/processing_engine.py)
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def fill_request(request: dict[str, Any], execution_id: str, scheduled: datetime,
                 window_hours: int | None) -> dict[str, Any]:
    """The schedule's request as the scheduler would send it for `scheduled` (a pure function); `window_hours`:
    the data-quality window's start instead of the schedule's."""
    text = json.dumps(request).replace(EXECUTION_ID, execution_id).replace(
        SCHEDULED_TIME, scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"))
    filled = json.loads(text)
    environment = filled.get("Environment") or {}
    if window_hours is not None and environment.get("analysis_type") == "DATA_QUALITY":
        environment["window_start_offset"], environment["window_end_offset"] = f"-PT{window_hours}H", "-PT0H"
    return filled


def engine_for(options: Any, entry: Any) -> str:
    """`--engine`, else the endpoint's engine; under `both`, model-monitor (as before the engine existed)."""
    return options.engine or ("processing" if entry.monitoring.engine == "processing" else "model-monitor")


def run_now_on_engine(params: Any, options: Any, clients: Any, **keywords: Any) -> int:
    """`make run-now`: the processing engine's run (below) or Model Monitor's (`mmtool.operate.runnow.run_now`,
    which gets `keywords` as they are, so its own defaults stay its own)."""
    from mmtool.operate.awsenv import check_account
    from mmtool.operate.selection import select_endpoint

    launch = (options.endpoint or "").startswith(SELF_SERVICE_KEY_PREFIX)  # a Service Catalog launch (runnow_launch)
    entry = None if launch else select_endpoint(params, options.endpoint, "run-now")
    if not launch and engine_for(options, entry) != "processing":
        return run_now(params, options, clients, **keywords)
    if options.monitor not in MONITORS:
        raise RunNowInputError(f"--monitor={options.monitor}: one of {', '.join(MONITORS)}")
    if not 1 <= options.window_hours <= 24:
        raise RunNowInputError(f"--window-hours={options.window_hours}: must be 1-24")
    check_account(clients, params)
    settings = {"now": lambda: datetime.now(timezone.utc), "console": None, "progress_console": None, "out": print,
                "warn": lambda message: print(message, file=sys.stderr), "clock": time.monotonic,
                "sleep": time.sleep, "poll_seconds": POLL_SECONDS}
    settings.update({k: v for k, v in keywords.items() if v is not None})
    if launch:
        from mmtool.operate.runnow_launch import run_launch_now

        return run_launch_now(params, options, clients, fill=fill_request, **settings)
    return run_processing_now(params, options, clients, entry, **settings)


def run_processing_now(params: Any, options: Any, clients: Any, entry: Any, *, now: Callable[[], datetime],
                       console: Any, progress_console: Any, out: Callable[[str], None], warn: Callable[[str], None],
                       clock: Callable[[], float], sleep: Callable[[float], None], poll_seconds: float) -> int:
    from mmtool.operate.rules import ENVIRONMENT_RULES, explain, no_capture_for_run

    section = options.monitor.replace("-", "_")
    where = next((w for w in engine_schedules(params, entry) if w.monitor == section), None)
    owner = params.prefix if entry.legacy else f"{entry.name_prefix(params)} (endpoints.{entry.key})"
    deploy = f"make deploy ENV={params.environment}" + ("" if entry.legacy else f" ENDPOINT={entry.key}")
    if where is None:
        raise RunNowFailed(f"the {options.monitor} monitor of {owner} does not run on the processing engine "
                           f"(monitoring.engine: {entry.monitoring.engine}, {section}.enabled: "
                           f"{getattr(entry.monitoring, section, None) and getattr(entry.monitoring, section).enabled})."
                           f"\nNext: run without ENGINE=processing, or set the engine and `{deploy}`.")
    described = get_schedule(clients.scheduler, where.name, where.group)
    if described is None:
        raise RunNowFailed(f"the processing schedule {where.group}/{where.name} of {owner} does not exist in "
                           f"{params.region}.\nNext: `{deploy}`.")
    request = schedule_request(described)
    if request is None or not str(request.get("ProcessingJobName", "")).startswith(where.job_prefix):
        raise RunNowFailed(f"the target of schedule {where.group}/{where.name} is not this project's "
                           f"CreateProcessingJob request (job name {where.job_prefix}…).\nNext: `{deploy}`.")
    warn(f"{options.monitor}: processing schedule {where.group}/{where.name}, job prefix {where.job_prefix}")

    start_time = now().replace(microsecond=0)
    job = fill_request(request, str(uuid.uuid4()), start_time, options.window_hours)
    environment = job.get("Environment") or {}
    window = (start_time - timedelta(hours=options.window_hours), start_time)
    values = ssm_values(clients, params.project, params.environment)
    endpoint = read_endpoint(clients.sagemaker, environment.get("sagemaker_endpoint_name") or entry.endpoint_name(params),
                             "ssm")
    bucket = values.get("bucket-name")
    capture_uri = environment.get("capture_s3_uri", "")
    fallback = capture_uri.rsplit("/", 1)[0] if capture_uri else None
    facts = Facts(params.project, params.environment, params.region, start_time, options.window_hours + 1, endpoint,
                  [], bucket, key=None if entry.legacy else entry.key,
                  scope=None if entry.legacy else entry.name_prefix(params), existing_endpoint=entry.existing is not None)
    if environment.get("analysis_type") == "DATA_QUALITY":
        facts.captures = read_captures(clients, endpoint, fallback, variant_of(entry), start_time,
                                       options.window_hours + 1)
        blockers = [f for f in (rule(facts) for rule in ENVIRONMENT_RULES) if f and f.severity == "error"]
        missing = no_capture_for_run(facts, *window)
        blockers += [missing] if missing is not None else []
        if blockers and not options.force:
            lines = [f"{f.problem}\n  why: {f.why}\n  fix: {f.fix}" for f in blockers]
            raise RunNowFailed("not started: the job would fail.\n" + "\n".join(lines))
        for blocker in blockers:
            warn(f"--force: starting anyway although {blocker.problem}")

    final = start_processing_job(clients, job, start_time, region=params.region, options=options, warn=warn,
                                 progress_console=progress_console, clock=clock, sleep=sleep,
                                 poll_seconds=poll_seconds)
    execution = execution_of(final)
    outcome = ProcessingScheduleFacts(name=where.name, status="Scheduled", monitoring_type=where.monitoring_type,
                                      group=where.group, state=described.get("State"), job_prefix=where.job_prefix,
                                      expression=described.get("ScheduleExpression"), request=request,
                                      job_definition=definition_of(job), executions=[execution],
                                      window_start=environment.get("window_start_offset"),
                                      window_end=environment.get("window_end_offset"))
    if execution.status in FAILED_EXECUTION:
        outcome.failure = read_failure(clients, execution)
    elif execution.status == WITH_VIOLATIONS:
        outcome.violations = read_violations(clients, execution, outcome.job_definition.output_uri)  # type: ignore[union-attr]
    facts.schedules = [outcome]
    findings = [f for f in explain(facts) if f.subject == where.name]
    if options.json_output:
        from mmtool.operate.status import as_json

        out(json.dumps(as_json(facts, findings), indent=2, sort_keys=True))
    else:
        from rich.console import Console

        from mmtool.operate.status import render_findings, render_schedule_details

        screen = console or Console()
        render_schedule_details(screen, outcome)
        render_findings(screen, findings)
    return 0 if execution.status in ("Completed", WITH_VIOLATIONS) else EXIT_FAILED
