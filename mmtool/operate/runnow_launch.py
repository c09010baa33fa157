"""`make run-now ENV=e ENDPOINT=sc-<name>`: one run now of a monitor launched from Service Catalog on the processing
engine (the endpoint-monitoring product, docs/handoff.md; docs/operating.md, `make run-now`).

1. Finds the launch as `make status` does, through its stack (mmtool.operate.catalog_launches: the product's
   parameters for this environment, its bucket, its nested monitoring stack's schedule and job-name prefix), never
   by a schedule's name; the schedule must name its jobs with that prefix.
2. Checks that the window has Data Capture files under the schedule's `capture_s3_uri` (`--force` runs anyway).
3. Starts the schedule's own `CreateProcessingJob` request, filled in as EventBridge Scheduler does (`fill_request`
   of mmtool.operate.runnow_processing, which hands it over: a new execution id, so the job is under the launch's
   prefix and its notification rule and `make status` see it; the scheduled time now; the data-quality window the
   last `--window-hours` hours), follows the job to its end (mmtool.operate.processing_job) and shows the outcome
   as `make status` does.

Data quality only (the product offers no other monitor). Exit codes as `make run-now`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from mmtool.errors import EXIT_FAILED
from mmtool.operate.facts import FAILED_EXECUTION, files_between, read_captures, read_endpoint, read_failure, \
    read_violations, ssm_values
from mmtool.operate.processing_facts import WITH_VIOLATIONS, definition_of, execution_of
from mmtool.operate.runnow import RunNowFailed, RunNowInputError, start_processing_job

MONITOR = "data-quality"  # the only monitor of the endpoint-monitoring product


def find_launch(clients: Any, params: Any, key: str) -> Any:
    """The launch `key` (`sc-<name>`) with its schedule read (no job listed); RunNowFailed when there is none or its
    schedule cannot be run."""
    from mmtool.operate.catalog_launches import read_launches
    from mmtool.operate.facts import foundation_missing

    bucket = ssm_values(clients, params.project, params.environment).get("bucket-name")
    if bucket is None:
        raise foundation_missing(params)
    found = read_launches(clients, params, bucket, executions=0, key=key)
    if not found:
        raise RunNowFailed(f"{key}: no launch of the Service Catalog product {params.prefix}-endpoint-monitoring on "
                           f"the processing engine in {params.region} has the monitor name {key[3:]!r} (a launch is "
                           f"found through its stack; `make status ENV={params.environment}` lists them).\n"
                           "Next: check the name, or the account and region; a Model Monitor launch cannot be run "
                           "this way.")
    launch = found[0]
    if launch.schedule is None:
        raise RunNowFailed(f"{key}: {launch.problem}.\nNext: update the provisioned product (or launch it again).")
    if launch.schedule.status == "Missing" or launch.schedule.request is None:
        raise RunNowFailed(f"{key}: the schedule {launch.schedule.group}/{launch.schedule.name} of the stack "
                           f"{launch.stack_name} does not exist or has no request.\nNext: update the provisioned "
                           "product.")
    return launch


def run_launch_now(params: Any, options: Any, clients: Any, *, fill: Callable[..., dict[str, Any]],
                   now: Callable[[], datetime], console: Any, progress_console: Any, out: Callable[[str], None],
                   warn: Callable[[str], None], clock: Callable[[], float], sleep: Callable[[float], None],
                   poll_seconds: float) -> int:
    """`fill`: mmtool.operate.runnow_processing's `fill_request` (which calls this)."""
    from rich.console import Console

    from mmtool.operate.status import launch_json, render_schedule_details

    if options.monitor != MONITOR or options.engine == "model-monitor":
        raise RunNowInputError(f"{options.endpoint}: a launch of the endpoint-monitoring product runs data quality on "
                               "the processing engine only (MONITOR=data-quality, no ENGINE=model-monitor)")
    launch = find_launch(clients, params, options.endpoint)
    schedule = launch.schedule
    warn(f"{launch.key}: launch {launch.stack_name}, processing schedule {schedule.group}/{schedule.name}, job prefix "
         f"{schedule.job_prefix}")
    start_time = now().replace(microsecond=0)
    job = fill(schedule.request, str(uuid.uuid4()), start_time, options.window_hours)
    environment = job.get("Environment") or {}
    endpoint = read_endpoint(clients.sagemaker, environment.get("sagemaker_endpoint_name") or launch.endpoint_name,
                             "launch")
    capture_uri = environment.get("capture_s3_uri", "")
    captures = read_captures(clients, endpoint, capture_uri.rsplit("/", 1)[0] if capture_uri else None, "AllTraffic",
                             start_time, options.window_hours + 1)
    files = files_between(captures, start_time - timedelta(hours=options.window_hours), start_time)
    if not files:
        where = ", ".join(c.prefix for c in captures) or capture_uri
        problem = (f"no Data Capture file of {endpoint.name} under {where} in the last {options.window_hours} h"
                   if files == 0 else f"the capture under {where} could not be listed")
        if not options.force:
            raise RunNowFailed(f"not started: {problem}: the job would fail.\n  fix: the endpoint's DataCaptureConfig "
                               "must write to the launch's CaptureDestination output (docs/handoff.md) and get "
                               "traffic; FORCE=1 (--force) starts it anyway")
        warn(f"--force: starting anyway although {problem}")
    final = start_processing_job(clients, job, start_time, region=params.region, options=options, warn=warn,
                                 progress_console=progress_console, clock=clock, sleep=sleep,
                                 poll_seconds=poll_seconds)
    execution = execution_of(final)
    schedule.executions = [execution]
    schedule.job_definition = definition_of(job)
    schedule.window_start, schedule.window_end = environment.get("window_start_offset"), environment.get("window_end_offset")
    if execution.status in FAILED_EXECUTION:
        schedule.failure = read_failure(clients, execution)
    elif execution.status == WITH_VIOLATIONS:
        schedule.violations = read_violations(clients, execution, schedule.job_definition.output_uri)  # type: ignore[union-attr]
    if options.json_output:
        out(json.dumps(launch_json(launch, start_time), indent=2, sort_keys=True))
    else:
        render_schedule_details(console or Console(), schedule)
    return 0 if execution.status in ("Completed", WITH_VIOLATIONS) else EXIT_FAILED
