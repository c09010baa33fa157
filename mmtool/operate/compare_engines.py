"""`make compare-engines ENV=e ENDPOINT=k`: the last finished data-quality run of each engine of an endpoint
with `monitoring.engine: both`, side by side, so a team can decide on its own data (docs/engine.md).

* **Model Monitor**: the newest finished execution of the endpoint's schedule (`<project>-<env>-data-quality`,
  a fleet endpoint's `<project>-<env>-<key>-dq`; ListMonitoringExecutions), its processing job
  (DescribeProcessingJob: output location, start and end) and the `constraint_violations.json` and
  `statistics.json` SageMaker wrote there.
* **Processing engine**: the EventBridge Scheduler schedule of the engine (GetSchedule) names the job prefix
  in its target's CreateProcessingJob input (`<prefix>-<aws.scheduler.execution-id>`); the newest finished
  processing job of that prefix (ListProcessingJobs, DescribeProcessingJob) and the same two files in its
  output location.
* **Drift per feature**: each run's `statistics.json` holds its KLL sketches (both engines write Model
  Monitor's format), so the analyzer's distance (`scripts/analyzer/kll.py`, the method and thresholds of the
  baseline's `constraints.json`) from each run to the baseline's `statistics.json` (the files params names) is
  computed here the same way for both runs; the violations are what each engine itself reported.

Library only: the CLI module `mmtool/cli/compare_engines.py` prints `format_comparison(...)`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deployer.aws_errors import error_code
from mmtool.operate.awsenv import AwsError, aws_errors, elapsed, split_s3_uri

FINISHED_EXECUTIONS = ("Completed", "CompletedWithViolations", "Failed", "Stopped")
FINISHED_JOBS = ("Completed", "Failed", "Stopped")
EXECUTION_ID = "<aws.scheduler.execution-id>"  # EventBridge Scheduler's context attribute in the job name
VIOLATIONS_FILE = "constraint_violations.json"
STATISTICS_FILE = "statistics.json"
LOOK_BACK = 20  # executions / jobs listed per engine


@dataclass
class EngineRun:
    engine: str  # "model-monitor" | "processing"
    source: str  # the schedule read
    job: str | None = None
    status: str | None = None
    scheduled: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    output_uri: str | None = None
    violations: list[dict[str, str]] | None = None
    statistics: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)  # why a part is missing

    @property
    def run_seconds(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()


def _code(exc: BaseException) -> str:
    """AWS's error code, or the exception's type for a failure AWS did not answer (no credentials, no network)."""
    return error_code(exc) or type(exc).__name__


def _json_read_errors() -> tuple[type[Exception], ...]:
    """What `_read_json` raises for a file it cannot read: a failed AWS call, a bad URI (AwsError), a body that is
    not a JSON object (ValueError, json.JSONDecodeError among them)."""
    return (*aws_errors(), AwsError, ValueError)


def _read_json(s3: Any, uri: str) -> dict[str, Any]:
    bucket, key = split_s3_uri(uri, "report")
    document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    if not isinstance(document, dict):
        raise ValueError(f"{uri}: not a JSON object")
    return document


def _read_outputs(s3: Any, sagemaker: Any, run: EngineRun) -> EngineRun:
    """The job's description (times, output location), then its two files."""
    try:
        description = sagemaker.describe_processing_job(ProcessingJobName=run.job)
    except aws_errors() as exc:  # reported beside the other engine's run
        run.problems.append(f"could not describe the processing job {run.job}: {_code(exc)}")
        return run
    run.status = run.status or description.get("ProcessingJobStatus")
    run.started = description.get("ProcessingStartTime") or description.get("CreationTime")
    run.ended = description.get("ProcessingEndTime")
    outputs = description.get("ProcessingOutputConfig", {}).get("Outputs", [])
    uris = [o["S3Output"]["S3Uri"] for o in outputs if o.get("S3Output", {}).get("S3Uri")]
    if not uris:
        run.problems.append(f"the processing job {run.job} names no output location")
        return run
    run.output_uri = uris[0].rstrip("/")
    for name in (VIOLATIONS_FILE, STATISTICS_FILE):
        uri = f"{run.output_uri}/{name}"
        try:
            document = _read_json(s3, uri)
        except _json_read_errors() as exc:
            run.problems.append(f"could not read {uri}: {_code(exc)}")
            continue
        if name == VIOLATIONS_FILE:
            run.violations = [v for v in document.get("violations", []) if isinstance(v, dict)]
        else:
            run.statistics = document
    return run


def model_monitor_run(s3: Any, sagemaker: Any, schedule: str) -> EngineRun:
    """The newest finished execution of a Model Monitor schedule, with its files."""
    run = EngineRun("model-monitor", schedule)
    try:
        summaries = sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule, SortBy="ScheduledTime",
                                                         SortOrder="Descending", MaxResults=LOOK_BACK)
    except aws_errors() as exc:
        run.problems.append(f"could not list the executions of {schedule}: {_code(exc)}")
        return run
    finished = [s for s in summaries.get("MonitoringExecutionSummaries", [])
                if s.get("MonitoringExecutionStatus") in FINISHED_EXECUTIONS]
    if not finished:
        run.problems.append(f"{schedule} has no finished execution yet")
        return run
    last = finished[0]
    run.status, run.scheduled = last["MonitoringExecutionStatus"], last.get("ScheduledTime")
    arn = last.get("ProcessingJobArn")
    if not arn:
        run.problems.append(f"the execution of {run.scheduled} has no processing job ({last.get('FailureReason', '')})")
        return run
    run.job = arn.rsplit("/", 1)[-1]
    return _read_outputs(s3, sagemaker, run)


def job_prefix_of(scheduler: Any, schedule: str, group: str) -> str:
    """The processing-job name prefix in the engine schedule's CreateProcessingJob input."""
    target = scheduler.get_schedule(Name=schedule, GroupName=group)["Target"]
    name = json.loads(target["Input"])["ProcessingJobName"]
    if not name.endswith("-" + EXECUTION_ID):
        raise ValueError(f"the schedule {schedule}'s job name {name!r} does not end with -{EXECUTION_ID}")
    return name[: -len(EXECUTION_ID) - 1]


def processing_run(s3: Any, sagemaker: Any, scheduler: Any, schedule: str, group: str) -> EngineRun:
    """The newest finished processing job the engine's schedule started, with its files."""
    run = EngineRun("processing", f"{group}/{schedule}")
    try:
        prefix = job_prefix_of(scheduler, schedule, group)
    except (*aws_errors(), ValueError, KeyError) as exc:  # ValueError, KeyError: a schedule not of the engine's shape
        run.problems.append(f"could not read the schedule {schedule} in group {group}: {_code(exc)}: {exc}")
        return run
    try:
        jobs = sagemaker.list_processing_jobs(NameContains=prefix, SortBy="CreationTime", SortOrder="Descending",
                                              MaxResults=LOOK_BACK)["ProcessingJobSummaries"]
    except aws_errors() as exc:
        run.problems.append(f"could not list the processing jobs {prefix}-*: {_code(exc)}")
        return run
    finished = sorted((j for j in jobs if j["ProcessingJobName"].startswith(prefix + "-")
                       and j.get("ProcessingJobStatus") in FINISHED_JOBS),
                      key=lambda j: j["CreationTime"], reverse=True)
    if not finished:
        run.problems.append(f"no finished processing job named {prefix}-* yet")
        return run
    run.job = finished[0]["ProcessingJobName"]
    return _read_outputs(s3, sagemaker, run)


# ------------------------------------------------------------------ drift


def drift_per_feature(statistics: dict[str, Any] | None, baseline: dict[str, Any] | None,
                      constraints: dict[str, Any] | None) -> dict[str, float]:
    """{baseline feature: the analyzer's drift figure} of one run's statistics.json against the baseline's (columns
    matched as the analyzer matches them); the method of constraints.json (`Robust` by default)."""
    if statistics is None or baseline is None:
        return {}
    from scripts.analyzer.constraints import Settings, match_columns
    from scripts.analyzer.kll import KLLSketch, categorical_linf, chi_squared, numerical_distance

    settings = Settings((constraints or {}).get("monitoring_config") or {}, "constraints.json")
    ours = {f["name"]: f for f in statistics.get("features", [])}
    theirs = {f["name"]: f for f in baseline.get("features", [])}
    mapping = match_columns(sorted(ours), list(theirs))
    figures: dict[str, float] = {}
    for name, target in mapping.items():
        run_feature, base_feature = ours[name], theirs[target]
        run_kll = run_feature.get("numerical_statistics", {}).get("distribution", {}).get("kll", {}).get("sketch")
        base_kll = base_feature.get("numerical_statistics", {}).get("distribution", {}).get("kll", {}).get("sketch")
        if run_kll and base_kll:
            value = numerical_distance(_sketch(KLLSketch, run_kll), _sketch(KLLSketch, base_kll), settings.method)
        else:
            run_counts, base_counts = _categories(run_feature), _categories(base_feature)
            if not run_counts or not base_counts:
                continue
            if settings.categorical_method == "ChiSquared":
                value = chi_squared(run_counts, base_counts)[1]
            else:
                value = categorical_linf(run_counts, base_counts, settings.method)
        if not math.isnan(value):
            figures[target] = value
    return figures


def _sketch(kind: Any, sketch: dict[str, Any]) -> Any:
    parameters = sketch.get("parameters", {})
    return kind.from_data(sketch["data"], int(parameters.get("k", 2048)), float(parameters.get("c", 0.64)))


def _categories(feature: dict[str, Any]) -> dict[str, float]:
    buckets = feature.get("string_statistics", {}).get("distribution", {}).get("categorical", {}).get("buckets", [])
    return {str(b["value"]): b["count"] for b in buckets if isinstance(b, dict) and "value" in b}


# ------------------------------------------------------------------ names


@dataclass(frozen=True)
class ScheduleNames:
    endpoint: str
    model_monitor: str  # the SageMaker monitoring schedule
    processing: str  # the EventBridge Scheduler schedule of the processing engine
    group: str  # its schedule group (one per environment)


def schedule_names(params: Any, entry: Any) -> ScheduleNames:
    """The two data-quality schedules of an endpoint with `engine: both` (names as templates/monitoring.py and the
    processing engine's templates give them); a ToolError (exit 2) for another engine."""
    from mmtool.errors import UsageError

    engine = getattr(entry.monitoring, "engine", "model-monitor")  # the params field of docs/engine.md
    where = "monitoring.engine" if entry.legacy else f"endpoints.{entry.key}.monitoring.engine"
    if engine != "both":
        raise UsageError(f"compare-engines: params/{params.environment}.yaml {where} is {engine}: only an endpoint "
                         "that runs both engines has two runs to compare; set it to both, deploy, and wait for a run "
                         "of each")
    from mmtool.config.monitor_kinds import DATA_QUALITY

    prefix = entry.name_prefix(params)
    if entry.legacy:  # <project>-<env>-data-quality, and the engine's <project>-<env>-data-quality-processing
        return ScheduleNames(entry.endpoint_name(params), f"{prefix}-{DATA_QUALITY.name}",
                             f"{prefix}-{DATA_QUALITY.name}-processing", params.prefix)
    return ScheduleNames(entry.endpoint_name(params), f"{prefix}-{DATA_QUALITY.code}", f"{prefix}-{DATA_QUALITY.code}-proc",
                         params.prefix)


# ------------------------------------------------------------------ the report


@dataclass
class Comparison:
    endpoint: str
    runs: tuple[EngineRun, EngineRun]  # model-monitor, processing
    drift: tuple[dict[str, float], dict[str, float]]
    baseline_note: str | None = None

    @property
    def complete(self) -> bool:
        return all(run.violations is not None for run in self.runs)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def format_comparison(comparison: Comparison) -> str:
    mm, proc = comparison.runs
    width = max(len("model-monitor"), len(mm.source), len(mm.job or "")) + 2
    lines = [f"Engines of {comparison.endpoint}: the last finished data-quality run of each"]

    def row(label: str, left: str, right: str) -> None:
        lines.append(f"  {label:<14} {left:<{width}} {right}")

    row("", "model-monitor", "processing")
    row("schedule", mm.source, proc.source)
    row("run", mm.job or "-", proc.job or "-")
    row("status", mm.status or "-", proc.status or "-")
    row("ended (UTC)", _time(mm.ended), _time(proc.ended))
    row("run time", elapsed(mm.run_seconds) if mm.run_seconds is not None else "-",
        elapsed(proc.run_seconds) if proc.run_seconds is not None else "-")
    row("violations", "-" if mm.violations is None else str(len(mm.violations)),
        "-" if proc.violations is None else str(len(proc.violations)))
    found = sorted({(v.get("constraint_check_type", ""), v.get("feature_name", ""))
                    for run in comparison.runs for v in (run.violations or [])})
    if found:
        lines.append("Violations (check, feature: reported by model-monitor / processing):")
        for check, feature in found:
            marks = ["yes" if any((v.get("constraint_check_type"), v.get("feature_name")) == (check, feature)
                                  for v in (run.violations or [])) else ("no" if run.violations is not None else "-")
                     for run in comparison.runs]
            lines.append(f"  {check:<26} {feature:<24} {marks[0]:<4} {marks[1]}")
    features = sorted(set(comparison.drift[0]) | set(comparison.drift[1]))
    if features:
        lines.append("Drift per feature (the analyzer's figure of each run's statistics.json against the baseline):")
        name_width = max(len(name) for name in features)
        for name in features:
            left, right = (f"{d[name]:.4f}" if name in d else "-" for d in comparison.drift)
            lines.append(f"  {name:<{name_width}}  {left:>8}  {right:>8}")
    if comparison.baseline_note:
        lines.append(f"Note: {comparison.baseline_note}")
    for run in comparison.runs:
        for problem in run.problems:
            lines.append(f"Note: {run.engine}: {problem}")
    return "\n".join(lines)


def compare(s3: Any, sagemaker: Any, scheduler: Any, *, endpoint: str, model_monitor_schedule: str,
            processing_schedule: str, schedule_group: str, baseline_statistics: str | None,
            baseline_constraints: str | None) -> Comparison:
    """Both runs, their files and the drift of each against the baseline (S3 URIs; None: no drift figures)."""
    runs = (model_monitor_run(s3, sagemaker, model_monitor_schedule),
            processing_run(s3, sagemaker, scheduler, processing_schedule, schedule_group))
    baseline = constraints = None
    note = None
    if baseline_statistics is None:
        note = "no baseline in params: no drift figures"
    else:
        try:
            baseline = _read_json(s3, baseline_statistics)
            constraints = _read_json(s3, baseline_constraints) if baseline_constraints else None
        except _json_read_errors() as exc:
            note = f"could not read the baseline {baseline_statistics}: {_code(exc)}: no drift figures"
            baseline = None
    drift = (drift_per_feature(runs[0].statistics, baseline, constraints),
             drift_per_feature(runs[1].statistics, baseline, constraints))
    return Comparison(endpoint, runs, drift, note)
