"""`make status ENV=e [ARGS=--json]`: is the environment's monitoring working, and if not, why.

Reads (`mmtool.operate.facts.gather`): the endpoint and its live capture config, the Data Capture files of the
last `--hours` hours, every monitoring schedule of the endpoint or named `<project>-<env>-…` (whatever its
MonitoringType), their last `--executions` executions, the end of the log of the newest failed one and the
`constraint_violations.json` of the newest one with violations. For an endpoint on the processing engine
(`monitoring.engine: processing` or `both`), its EventBridge Scheduler schedules and their processing jobs the same
way (`mmtool.operate.processing_facts`), `engine` telling the two apart. Then explains what it sees with the rules of
`mmtool.operate.rules` (docs/operating.md): each finding says the problem, why, and the fix. Where the environment
has the processing engine's schedule group, the processing-engine launches of the Service Catalog endpoint-monitoring
product too (`mmtool.operate.catalog_launches`), apart, with no finding and no effect on the exit code.

Human output: rich tables on stdout. `--json`: one JSON document on stdout (schema below, keys stable; times
`YYYY-MM-DDTHH:MM:SSZ` UTC; absent values null):

    {"schema_version": 1, "project", "environment", "region", "generated_at", "ok",
     "endpoint": {"name", "found", "status", "failure_reason", "config_name", "config_found",
                  "capture": {"enabled", "status", "sampling_percentage", "destination"}},
     "capture": [{"variant", "prefix", "hours", "files", "newest", "truncated", "error",
                  "per_hour": [{"hour", "files", "newest", "truncated"}]}],
     "schedules": [{"name", "engine", "processing": {"group", "state", "job_prefix"}, "monitoring_type", "status", "schedule_expression", "analysis_window": {"start", "end"},
                    "failure_reason", "created",
                    "job_definition": {"name", "found", "input", "max_runtime_seconds", "role_arn", "output_uri",
                                       "publish_cloudwatch_metrics"},
                    "next_run": {"scheduled", "start_by"},
                    "executions": [{"scheduled_time", "status", "created", "last_modified", "duration_seconds",
                                    "processing_job", "failure_reason"}],
                    "failure": {"scheduled_time", "status", "processing_job", "failure_reason", "exit_message",
                                "log_tail": [...]},
                    "violations": {"scheduled_time", "uri", "total", "items": [{"feature", "check_type",
                                   "description"}], "error"}}],
     "findings": [{"rule", "severity", "subject", "problem", "why", "fix"}],
     "bias_groups": ["model bias: sensitive group age > 64 (...)", ...],
     "launches": [{"key", "monitor_name", "endpoint_name", "engine", "stack", "stack_id", "stack_status",
                   "provisioned_product", "problem", "schedule": {as in "schedules"}}],
     "launches_error": null or why the launches could not be listed}

`bias_groups`: the model-bias monitor's sensitive groups as the params file defines them, in words (a numeric
threshold is Clarify's exclusive lower bound); empty when the monitor is off.

`ok` is true when no finding has severity `error`.

A fleet (`endpoints:`; `gather_fleet`): each endpoint is read with its own names, shown first as one table, a row
per endpoint and monitor (last run, outcome, violations, next run, first problem), then each endpoint as above
(an `existing` one with its capture check). `--json` is then schema_version 2: the environment, `ok`,
`endpoints[]` (`key`, `kind`, `ok`, this document's `endpoint`, `capture`, `schedules`, `findings`, `bias_groups`
for the endpoint, and `capture_check`), `findings[]` of every endpoint with their `endpoint` key, and
`unassigned_schedules[]` and `launches[]` (docs/operating.md).

Exit codes: 0 no error finding; 1 at least one error finding (or an AWS call failed); 2 bad input / no
credentials; 3 credentials of another account than params' account_id; 130 Ctrl-C.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from mmtool.config.monitor_kinds import KINDS
from mmtool.config.params import SELF_SERVICE_KEY_PREFIX
from mmtool.errors import EXIT_INPUT, EXIT_FAILED, ToolError
from mmtool.operate.facts import (
    DEFAULT_EXECUTIONS,
    DEFAULT_HOURS,
    LOG_GROUP,
    START_DELAY,
    CaptureFacts,
    Facts,
    FleetFacts,
    ScheduleFacts,
    expected_next_run,
    iso,
)
from mmtool.operate.stack_failures import read_stack_failures, stack_names

if TYPE_CHECKING:
    from mmtool.operate.rules import Finding

SCHEMA_VERSION = 1


class StatusInputError(ToolError):
    exit_code = EXIT_INPUT


# ------------------------------------------------------------------ JSON


def _capture_json(capture: CaptureFacts, hours: int) -> dict[str, Any]:
    return {
        "variant": capture.variant,
        "prefix": capture.prefix,
        "hours": hours,
        "files": None if capture.error else capture.files,
        "newest": iso(capture.newest),
        "truncated": capture.truncated,
        "error": capture.error,
        "per_hour": [{"hour": iso(h.hour), "files": h.files, "newest": iso(h.newest), "truncated": h.truncated}
                     for h in capture.hours],
    }


def _schedule_json(schedule: ScheduleFacts, now: datetime) -> dict[str, Any]:
    from mmtool.operate.processing_facts import ProcessingScheduleFacts, engine_of

    definition = schedule.job_definition
    nxt = expected_next_run(schedule, now)
    return {
        "name": schedule.name,
        "engine": engine_of(schedule),
        "processing": {"group": schedule.group, "state": schedule.state, "job_prefix": schedule.job_prefix}
        if isinstance(schedule, ProcessingScheduleFacts) else None,
        "monitoring_type": schedule.monitoring_type,
        "status": schedule.status,
        "schedule_expression": schedule.expression,
        "analysis_window": ({"start": schedule.window_start, "end": schedule.window_end}
                            if schedule.window_start or schedule.window_end else None),
        "failure_reason": schedule.failure_reason,
        "created": iso(schedule.created),
        "job_definition": None if definition is None else {
            "name": definition.name,
            "found": definition.found,
            "input": definition.input_kind,
            "max_runtime_seconds": definition.max_runtime_seconds,
            "role_arn": definition.role_arn,
            "output_uri": definition.output_uri,
            "publish_cloudwatch_metrics": (definition.environment or {}).get("publish_cloudwatch_metrics"),
        },
        "next_run": None if nxt is None else {"scheduled": iso(nxt), "start_by": iso(nxt + START_DELAY)},
        "executions": [{
            "scheduled_time": iso(e.scheduled_time),
            "status": e.status,
            "created": iso(e.created),
            "last_modified": iso(e.last_modified),
            "duration_seconds": e.duration_seconds,
            "processing_job": e.processing_job,
            "failure_reason": e.failure_reason,
        } for e in schedule.executions],
        "failure": None if schedule.failure is None else {
            "scheduled_time": iso(schedule.failure.scheduled_time),
            "status": schedule.failure.status,
            "processing_job": schedule.failure.processing_job,
            "failure_reason": schedule.failure.failure_reason,
            "exit_message": schedule.failure.exit_message,
            "log_tail": list(schedule.failure.log_tail),
        },
        "violations": None if schedule.violations is None else {
            "scheduled_time": iso(schedule.violations.scheduled_time),
            "uri": schedule.violations.uri,
            "total": schedule.violations.total,
            "items": [{"feature": v.feature, "check_type": v.check_type, "description": v.description}
                      for v in schedule.violations.items],
            "error": schedule.violations.error,
        },
    }


def launch_json(launch: Any, now: datetime) -> dict[str, Any]:
    """A processing-engine launch of the endpoint-monitoring product (mmtool.operate.catalog_launches)."""
    return {"key": launch.key, "monitor_name": launch.monitor_name, "endpoint_name": launch.endpoint_name,
            "engine": "processing", "stack": launch.stack_name, "stack_id": launch.stack_id,
            "stack_status": launch.stack_status, "provisioned_product": launch.provisioned_product,
            "problem": launch.problem,
            "schedule": None if launch.schedule is None else _schedule_json(launch.schedule, now)}


def as_json(facts: Facts, findings: list[Finding], bias_groups: list[str] | None = None) -> dict[str, Any]:
    endpoint = facts.endpoint
    return {
        "schema_version": SCHEMA_VERSION,
        "project": facts.project,
        "environment": facts.environment,
        "region": facts.region,
        "generated_at": iso(facts.now),
        "ok": not any(f.severity == "error" for f in findings),
        "endpoint": {
            "name": endpoint.name,
            "found": endpoint.found,
            "status": endpoint.status,
            "failure_reason": endpoint.failure_reason,
            "config_name": endpoint.config_name,
            "config_found": endpoint.config_found,
            "capture": {
                "enabled": endpoint.capture_enabled,
                "status": endpoint.capture_status,
                "sampling_percentage": endpoint.sampling_percentage,
                "destination": endpoint.destination,
            },
        },
        "capture": [_capture_json(c, facts.hours) for c in facts.captures],
        "schedules": [_schedule_json(s, facts.now) for s in facts.schedules],
        "findings": [f.as_dict() for f in findings],
        "bias_groups": list(bias_groups or []),
        "launches": [launch_json(launch, facts.now) for launch in facts.launches],
        "launches_error": facts.launches_error,
    }


# ------------------------------------------------------------------ human output


def _time(value: datetime | None, *, date: bool = True) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M" if date else "%H:%M")


def _ago(now: datetime, value: datetime | None) -> str:
    if value is None:
        return ""
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 0:
        return ""
    if minutes == 0:
        return " (just now)"
    if minutes < 120:
        return f" ({minutes} min ago)"
    return f" ({minutes // 60} h ago)"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _empty_hours(capture: CaptureFacts) -> str:
    """Hours without files as chronological ranges, e.g. `11-24 03:00-06:59, 11-24 09:00-09:59`."""
    ranges: list[tuple[datetime, datetime]] = []
    for hour in sorted(capture.hours, key=lambda h: h.hour):
        if hour.files:
            continue
        if ranges and (hour.hour - ranges[-1][1]).total_seconds() == 3600:
            ranges[-1] = (ranges[-1][0], hour.hour)
        else:
            ranges.append((hour.hour, hour.hour))
    if not ranges:
        return "none"
    text = ", ".join(f"{a:%m-%d %H}:00-{b:%H}:59" for a, b in ranges[:4])
    return text + (f", … ({len(ranges) - 4} more)" if len(ranges) > 4 else "")


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
STATUS_STYLE = {
    "Completed": "green", "CompletedWithViolations": "yellow", "Failed": "red", "Stopped": "red",
    "Scheduled": "green", "Pending": "cyan", "Missing": "red", "Disabled": "yellow", "InProgress": "cyan", "Stopping": "yellow", "InService": "green",
}


def _styled(status: str | None) -> str:
    from rich.markup import escape

    if status is None:
        return "-"
    style = STATUS_STYLE.get(status)
    return f"[{style}]{escape(status)}[/]" if style else escape(status)


def render_endpoint(console: Any, facts: Facts) -> None:
    from rich.markup import escape
    from rich.table import Table

    endpoint = facts.endpoint
    if not endpoint.found:
        console.print(f"Endpoint [bold]{escape(endpoint.name)}[/]: [red]not found[/]")
    else:
        if endpoint.capture_enabled is None:
            capture = "no Data Capture config"
        else:
            state = "on" if endpoint.capture_enabled and endpoint.capture_status != "Stopped" else "[red]off[/]"
            capture = (f"Data Capture {state}, {endpoint.sampling_percentage} % sampled, to "
                       f"{escape(endpoint.destination or '?')}")
        gone = "" if endpoint.config_found else ", deleted"
        console.print(f"Endpoint [bold]{escape(endpoint.name)}[/]: {_styled(endpoint.status)} "
                      f"(config {escape(endpoint.config_name or '?')}{gone}); {capture}")
    if not facts.captures:
        return
    table = Table(title=f"Data Capture files, last {facts.hours} h", title_justify="left")
    table.add_column("Variant")
    table.add_column("Prefix", overflow="fold")
    table.add_column("Files", justify="right")
    table.add_column("Newest (UTC)")
    table.add_column("Hours without files")
    for capture in facts.captures:
        if capture.error:
            table.add_row(escape(capture.variant), escape(capture.prefix), "?", "-", escape(capture.error))
            continue
        count = f"{capture.files}{'+' if capture.truncated else ''}"
        table.add_row(escape(capture.variant), escape(capture.prefix), count,
                      _time(capture.newest) + _ago(facts.now, capture.newest), _empty_hours(capture))
    console.print(table)


def render_schedules(console: Any, facts: Facts) -> None:
    from rich.markup import escape
    from rich.table import Table

    from mmtool.operate.processing_facts import engine_of

    if not facts.schedules:
        console.print("Monitoring schedules: none found")
        return
    table = Table(title="Monitoring schedules", title_justify="left")
    table.add_column("Schedule")
    table.add_column("Engine")
    table.add_column("Type")
    table.add_column("Status")
    table.add_column("Expression")
    table.add_column("Next run (UTC)")
    for schedule in facts.schedules:
        nxt = expected_next_run(schedule, facts.now)
        next_text = f"{_time(nxt)} (starts by {_time(nxt + START_DELAY, date=False)})" if nxt else "-"
        table.add_row(escape(schedule.name), engine_of(schedule), escape(schedule.monitoring_type or "?"),
                      _styled(schedule.status),
                      escape(schedule.expression or "?"), next_text)
    console.print(table)
    for schedule in facts.schedules:
        render_schedule_details(console, schedule)


def render_schedule_details(console: Any, schedule: ScheduleFacts) -> None:
    from rich.markup import escape
    from rich.table import Table

    from mmtool.operate.processing_facts import engine_of

    if schedule.executions:
        runs = "Processing jobs" if engine_of(schedule) == "processing" else "Executions"
        table = Table(title=f"{runs} of {escape(schedule.name)}", title_justify="left")
        table.add_column("Scheduled (UTC)")
        table.add_column("Status")
        table.add_column("Duration", justify="right")
        table.add_column("Processing job", overflow="fold")
        table.add_column("Failure reason", overflow="fold")
        for execution in schedule.executions:
            table.add_row(_time(execution.scheduled_time), _styled(execution.status),
                          duration(execution.duration_seconds), escape(execution.processing_job or "-"),
                          escape(execution.failure_reason or ""))
        console.print(table)
    else:
        console.print(f"Executions of {escape(schedule.name)}: none yet")
    failure = schedule.failure
    if failure is not None:
        console.print(f"[red]{escape(failure.status)}[/] run of {_time(failure.scheduled_time)} UTC "
                      f"({escape(schedule.name)}), processing job {escape(failure.processing_job or '-')}")
        if failure.failure_reason:
            console.print(f"  FailureReason: {escape(failure.failure_reason)}", highlight=False)
        if failure.exit_message:
            console.print(f"  ExitMessage: {escape(failure.exit_message)}", highlight=False)
        if failure.log_tail:
            console.print(f"  End of its log ({LOG_GROUP}):")
            for line in failure.log_tail:
                console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)
    found = schedule.violations
    if found is not None:
        if found.error:
            console.print(f"Violations of the run of {_time(found.scheduled_time)} UTC: {escape(found.error)}")
        else:
            table = Table(title=f"Violations of the run of {_time(found.scheduled_time)} UTC: {found.total} in "
                                f"{escape(found.uri or '?')}", title_justify="left")
            table.add_column("Feature")
            table.add_column("Check")
            table.add_column("Description", overflow="fold")
            for violation in found.items:
                table.add_row(escape(violation.feature), escape(violation.check_type), escape(violation.description))
            if found.total > len(found.items):
                table.add_row("…", "", f"{found.total - len(found.items)} more in the file")
            console.print(table)


def render_launches(console: Any, launches: list[Any], now: datetime, error: str | None = None) -> None:
    """The processing-engine launches of the endpoint-monitoring product: a row each, then each schedule's jobs, the
    newest failure and violations as for an endpoint of the params file. They are not the params file's: no finding,
    no effect on the exit code."""
    from rich.markup import escape
    from rich.table import Table

    if error:
        console.print(f"Launches from Service Catalog on the processing engine: not listed: {escape(error)}",
                      highlight=False)
    if not launches:
        return
    table = Table(title="Launched from Service Catalog on the processing engine (the endpoint-monitoring product, "
                        "not in the params file)", title_justify="left")
    for column in ("Monitor", "Endpoint", "Stack", "Schedule", "Status", "Last run (UTC)", "Outcome", "Next run (UTC)"):
        table.add_column(column, overflow="fold")
    for launch in launches:
        schedule = launch.schedule
        latest = schedule.executions[0] if schedule is not None and schedule.executions else None
        nxt = expected_next_run(schedule, now) if schedule is not None else None
        table.add_row(escape(launch.key), escape(launch.endpoint_name), escape(launch.stack_name),
                      escape(schedule.name) if schedule is not None else "-",
                      _styled(schedule.status) if schedule is not None else escape(launch.problem or "-"),
                      _time(latest.scheduled_time) if latest else "-", _styled(latest.status) if latest else "-",
                      _time(nxt) if nxt else "-")
    console.print(table)
    for launch in launches:
        if launch.schedule is not None:
            render_schedule_details(console, launch.schedule)


def render_findings(console: Any, findings: list[Finding]) -> None:
    """One block per finding: severity, then subject and problem, `why:` and `fix:` in a column of their own
    (wrapped lines keep the indentation)."""
    from rich.table import Table
    from rich.text import Text

    if not findings:
        console.print("[green]No known problem found.[/]")
        return
    console.print("[bold]Findings[/]")
    for finding in findings:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=7, no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(Text(finding.severity, style=SEVERITY_STYLE[finding.severity]),
                     Text(f"{finding.subject}: {finding.problem}"))
        grid.add_row("", Text(f"why: {finding.why}"))
        grid.add_row("", Text(f"fix: {finding.fix}"))
        console.print(grid)


def render(console: Any, facts: Facts, findings: list[Finding], bias_groups: list[str] | None = None) -> None:
    from rich.markup import escape

    console.print(f"[bold]Monitoring of {facts.prefix}[/] in {facts.region} at {_time(facts.now)} UTC")
    render_endpoint(console, facts)
    render_schedules(console, facts)
    for line in bias_groups or []:
        console.print(escape(line), highlight=False)
    render_launches(console, facts.launches, facts.now, facts.launches_error)
    render_findings(console, findings)


# ------------------------------------------------------------------ the command


FLEET_SCHEMA_VERSION = 2
MONITOR_NAMES = {kind.stem: kind.name for kind in KINDS}


def capture_check(facts: Facts) -> dict[str, Any] | None:
    """An `existing` endpoint's capture check as the status shows it: the config `make adopt` gave it (its tag)
    and the problems of `existing_endpoint.check_endpoint`; None for a created endpoint."""
    from mmtool.operate.existing_endpoint import adopt_command, check_endpoint

    if not facts.existing:
        return None
    existing = facts.existing[0]
    command = adopt_command(facts.environment, existing.target.key)
    problems = check_endpoint(existing.endpoint, existing.config, existing.expected, adopt=command,
                              models=existing.models)
    fixes = {p.check: p.fix for p in problems}
    if existing.adoption is not None:  # our own unfinished update, not the owner's: the next adopt settles it
        fixes["endpoint-not-in-service"] = (f"run `{command}`: an earlier adopt did not finish, and this one finishes "
                                            f"it or restores {existing.adoption.get('previous_config')}")
    return {"endpoint_name": existing.target.endpoint_name, "adopted_config": existing.adopted_config,
            "expected_destination": existing.expected.destination, "unfinished_adoption": existing.adoption,
            "problems": [{"check": p.check, "problem": p.problem, "fix": fixes[p.check]} for p in problems]}


def fleet_as_json(fleet: FleetFacts, per_endpoint: list[tuple[Facts, list[Finding], list[str]]]) -> dict[str, Any]:
    """The fleet document (schema_version 2): the environment, then `endpoints[]` each with the single-endpoint
    document's `endpoint`, `capture`, `schedules`, `findings` and `bias_groups`, plus `key`, `kind`, `ok` and
    `capture_check`; `findings[]` of the whole fleet carry the endpoint's `endpoint` key."""
    endpoints = []
    findings = []
    for facts, found, groups in per_endpoint:
        document = as_json(facts, found, groups)
        for key in ("schema_version", "project", "environment", "region", "generated_at", "launches", "launches_error"):
            document.pop(key)
        entry = {"key": facts.key, "kind": "existing" if facts.existing_endpoint else "create", **document,
                 "capture_check": capture_check(facts)}
        endpoints.append(entry)
        findings.extend({"endpoint": facts.key, **f.as_dict()} for f in found)
    findings.sort(key=lambda f: ("error", "warning", "info").index(f["severity"]))
    return {
        "schema_version": FLEET_SCHEMA_VERSION,
        "project": fleet.project,
        "environment": fleet.environment,
        "region": fleet.region,
        "generated_at": iso(fleet.now),
        "ok": not any(f["severity"] == "error" for f in findings),
        "endpoints": endpoints,
        "findings": findings,
        "unassigned_schedules": list(fleet.unassigned),
        "launches": [launch_json(launch, fleet.now) for launch in fleet.launches],
        "launches_error": fleet.launches_error,
    }


FIRST_PROBLEM_CHARS = 100  # the table's column; the whole finding is in the endpoint's details below it


def _first(finding: Finding | None) -> str:
    if finding is None:
        return ""
    text = f"{finding.severity}: {finding.problem}"
    return text if len(text) <= FIRST_PROBLEM_CHARS else text[:FIRST_PROBLEM_CHARS - 1].rstrip() + "…"


def overview_rows(facts: Facts, findings: list[Finding]) -> list[tuple[str, ...]]:
    """The rows of one endpoint in the fleet table: endpoint, monitor, last run, outcome, violations, next run,
    first problem (the most severe finding of the schedule or of its endpoint). A processing-engine monitor is
    `<monitor> (processing)`, so under `engine: both` the two engines' runs are side by side."""
    from mmtool.operate.processing_facts import engine_of
    schedules = {s.name for s in facts.schedules}
    own = next((f for f in findings if f.subject not in schedules), None)  # findings are sorted, errors first
    label = f"{facts.key} ({facts.endpoint.name})" if facts.existing_endpoint else facts.key or facts.endpoint.name
    rows = []
    for schedule in facts.schedules:
        latest = schedule.executions[0] if schedule.executions else None
        finished = schedule.latest_finished
        if finished is not None and finished.status == "CompletedWithViolations":
            found = schedule.violations
            count = str(found.total) if found is not None and found.error is None else "yes"
        elif finished is not None and finished.status == "Completed":
            count = "0"
        else:
            count = "-"
        nxt = expected_next_run(schedule, facts.now)
        first = next((f for f in findings if f.subject == schedule.name or f.subject not in schedules), None)
        engine = " (processing)" if engine_of(schedule) == "processing" else ""
        rows.append((label, MONITOR_NAMES.get(schedule.monitoring_type or "", schedule.monitoring_type or "?") + engine,
                     _time(latest.scheduled_time) if latest else "-", latest.status if latest else "-", count,
                     _time(nxt) if nxt else "-",
                     _first(first)))
    if not rows:
        rows.append((label, "-", "-", "-", "-", "-", _first(own)))
    return rows


def render_fleet(console: Any, fleet: FleetFacts, per_endpoint: list[tuple[Facts, list[Finding], list[str]]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    keys = ", ".join(f.key or "?" for f in fleet.endpoints)
    console.print(f"[bold]Monitoring of {fleet.prefix}[/] in {fleet.region} at {_time(fleet.now)} UTC: "
                  f"{len(fleet.endpoints)} endpoint(s) ({escape(keys)})")
    table = Table(title="Endpoints and monitors", title_justify="left")
    for column in ("Endpoint", "Monitor", "Last run (UTC)", "Outcome", "Violations", "Next run (UTC)"):
        table.add_column(column, justify="right" if column == "Violations" else "left")
    table.add_column("First problem", overflow="fold")
    for facts, findings, _groups in per_endpoint:
        for row in overview_rows(facts, findings):
            cells = [escape(c) for c in row]
            cells[3] = _styled(row[3]) if row[3] != "-" else "-"
            table.add_row(*cells)
    console.print(table)
    launched = [n for n in fleet.unassigned if n.startswith(f"{fleet.prefix}-{SELF_SERVICE_KEY_PREFIX}")]
    others = [n for n in fleet.unassigned if n not in launched]
    if launched:
        console.print(f"Launched from Service Catalog (the endpoint-monitoring product, not in the params file): "
                      f"{escape(', '.join(launched))}", highlight=False)
    if others:
        console.print(f"Schedules named {escape(fleet.prefix)}-… of no endpoint in the params file: "
                      f"{escape(', '.join(others))}", highlight=False)
    render_launches(console, fleet.launches, fleet.now, fleet.launches_error)
    for facts, findings, groups in per_endpoint:
        kind = "existing, deployed by someone else" if facts.existing_endpoint else "created by this project"
        console.rule(f"[bold]{escape(facts.key or '?')}[/]: {escape(facts.endpoint.name)} ({kind})", align="left")
        check = capture_check(facts)
        if check is not None:
            adopted = f", adopted with endpoint config {check['adopted_config']}" if check["adopted_config"] else ""
            if check["problems"]:
                console.print(f"Capture check{escape(adopted)}: [red]{len(check['problems'])} problem(s)[/]", highlight=False)
                for problem in check["problems"]:
                    console.print(f"  {escape(problem['problem'])}; fix: {escape(problem['fix'])}", highlight=False)
            else:
                console.print(f"Capture check{escape(adopted)}: [green]ready[/] (Data Capture to "
                              f"{escape(check['expected_destination'])})", highlight=False)
        render_endpoint(console, facts)
        render_schedules(console, facts)
        for line in groups:
            console.print(escape(line), highlight=False)
        render_findings(console, findings)


def read_adoptions(clients: Any, params: Any, facts: Facts) -> None:
    """For each `existing` endpoint of `facts`: the record of an unfinished `make adopt` (rule adoption-unfinished),
    and DescribeModel of its config's models (a multi-model endpoint is one Model Monitor cannot monitor)."""
    from mmtool.operate.adopt import read_models
    from mmtool.operate.adopt_journal import Journal
    from mmtool.operate.awsenv import AwsError

    for existing in facts.existing:
        existing.models = read_models(clients.sagemaker, existing.config)
        try:
            existing.adoption = Journal.of(clients.ssm, params.project, params.environment, existing.target.key).read()
        except AwsError:  # a parameter adopt did not write: the adopt command says so; status goes on
            existing.adoption = None


def launches_of(clients: Any, params: Any, bucket: str | None, executions: int) -> tuple[list[Any], str | None]:
    """(the processing-engine launches of the Service Catalog product, None), or ([], why they could not be read):
    listing them needs `cloudformation:DescribeStacks` on every stack, which a role for the environment's own stacks
    may not have; the environment's status goes on without them."""
    from mmtool.operate.awsenv import AwsError
    from mmtool.operate.catalog_launches import read_launches

    try:
        return read_launches(clients, params, bucket or "", executions=executions), None
    except AwsError as exc:
        return [], " ".join(str(exc).splitlines())  # one line: what failed, AWS's words, the fix


def failed_stacks(clients: Any, names: list[str]) -> list[Any]:
    """The stacks of `names` whose last operation failed; none without a CloudFormation client."""
    cloudformation = getattr(clients, "cloudformation", None)
    return read_stack_failures(cloudformation, names) if cloudformation is not None and names else []


def run_status(params: Any, clients: Any, *, now: datetime, hours: int = DEFAULT_HOURS,
               executions: int = DEFAULT_EXECUTIONS, json_output: bool = False, console: Any = None,
               out: Callable[[str], None] = print, endpoint: str | None = None) -> int:
    """Gather, explain, print. Returns the exit code (1 when any finding is an error).

    A fleet (params with `endpoints:`) is read per endpoint (`endpoint`: that one only) and shown as the fleet
    table, then each endpoint as the single-endpoint form shows it; the single-endpoint form as always."""
    from mmtool.generate.clarify import bias_groups_in_words
    from mmtool.operate.awsenv import check_account
    from mmtool.operate.facts import gather, gather_fleet
    from mmtool.operate.processing_facts import add_processing
    from mmtool.operate.rules import explain
    from mmtool.operate.selection import select_endpoints

    chosen = select_endpoints(params, endpoint)
    check_account(clients, params)
    shared, own = stack_names(params, chosen)
    if params.is_fleet:
        fleet = gather_fleet(clients, params, now=now, hours=hours, executions=executions,
                             keys=None if endpoint is None else [e.key for e in chosen])
        entries = {e.key: e for e in chosen}
        for index, facts in enumerate(fleet.endpoints):  # the shared stacks are reported with the first endpoint
            add_processing(clients, params, facts, entries[facts.key], executions=executions)
            facts.stacks = failed_stacks(clients, (shared if index == 0 else []) + own.get(facts.key or "", []))
            read_adoptions(clients, params, facts)
        if endpoint is None:
            fleet.launches, fleet.launches_error = launches_of(clients, params, fleet.endpoints[0].bucket, executions)
        per_endpoint = [(f, explain(f), bias_groups_in_words(entries[f.key])) for f in fleet.endpoints]
        if json_output:
            out(json.dumps(fleet_as_json(fleet, per_endpoint), indent=2, sort_keys=True))
        else:
            from deployer.reporter import make_console

            render_fleet(console or make_console(), fleet, per_endpoint)
        return EXIT_FAILED if any(f.severity == "error" for _, found, _ in per_endpoint for f in found) else 0
    facts = gather(clients, params, now=now, hours=hours, executions=executions)
    add_processing(clients, params, facts, params.fleet()[0], executions=executions)
    facts.stacks = failed_stacks(clients, shared + [name for names in own.values() for name in names])
    read_adoptions(clients, params, facts)
    facts.launches, facts.launches_error = launches_of(clients, params, facts.bucket, executions)
    findings = explain(facts)
    groups = bias_groups_in_words(params.fleet()[0])  # the single-endpoint form (a fleet of one)
    if json_output:
        out(json.dumps(as_json(facts, findings, groups), indent=2, sort_keys=True))
    else:
        from deployer.reporter import make_console

        render(console or make_console(), facts, findings, groups)
    return EXIT_FAILED if any(f.severity == "error" for f in findings) else 0
