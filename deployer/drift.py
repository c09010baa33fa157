"""``drift``: CloudFormation drift detection on every deployed stack, and a table of what drifted.

Exit 0 when every stack is IN_SYNC, 5 (EXIT_DRIFTED) when something drifted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape
from rich.table import Table

from .context import Context
from .errors import AWS_ERRORS, EXIT_DRIFTED, WaitTimeoutError, aws_error
from .events import describe_stack, patiently
from .graph import each
from .preflight import preflight


@dataclass
class StackDrift:
    label: str
    status: str  # IN_SYNC | DRIFTED | UNKNOWN | NOT_CHECKED | NOT_DEPLOYED
    reason: str | None = None
    resources: list[dict[str, Any]] = field(default_factory=list)


def detect(ctx: Context, label: str) -> StackDrift:
    cf = ctx.clients.cloudformation
    try:
        detection_id = cf.detect_stack_drift(StackName=label)["StackDriftDetectionId"]
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="DetectStackDrift", stack=label) from exc
    pause = ctx.options.poll_min
    def read() -> dict[str, Any]:
        try:
            return cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="DescribeStackDriftDetectionStatus", stack=label) from exc

    while True:
        status = patiently(ctx, label, read)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if ctx.time_left() <= 0:
            raise WaitTimeoutError(f"{label}: drift detection still running after --wait-timeout; run drift again later.")
        ctx.pause(pause)
        pause = min(pause * 1.5, ctx.options.poll_max)
    result = StackDrift(label, status.get("StackDriftStatus", "UNKNOWN"), status.get("DetectionStatusReason"))
    if status["DetectionStatus"] == "DETECTION_FAILED" and not result.reason:
        result.reason = "detection failed for some resources"
    request: dict[str, Any] = {"StackName": label, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
    while True:  # botocore has no paginator for this call
        try:
            page = cf.describe_stack_resource_drifts(**request)
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="DescribeStackResourceDrifts", stack=label) from exc
        result.resources.extend(page.get("StackResourceDrifts", []))
        if not page.get("NextToken"):
            return result
        request["NextToken"] = page["NextToken"]


def collect(ctx: Context) -> list[StackDrift]:
    specs = ctx.manifest.stacks

    def one(spec: Any) -> StackDrift:
        if describe_stack(ctx, spec.stack_name, label=spec.stack_name) is None:
            return StackDrift(spec.stack_name, "NOT_DEPLOYED")
        return detect(ctx, spec.stack_name)

    return each(ctx, one, specs)


def as_json(drifts: list[StackDrift]) -> list[dict[str, Any]]:
    return [
        {
            "stack": d.label,
            "status": d.status,
            "reason": d.reason,
            "resources": [
                {
                    "logical_id": r["LogicalResourceId"],
                    "type": r.get("ResourceType"),
                    "physical_id": r.get("PhysicalResourceId"),
                    "drift": r.get("StackResourceDriftStatus"),
                    "differences": [
                        {
                            "path": p.get("PropertyPath"),
                            "expected": p.get("ExpectedValue"),
                            "actual": p.get("ActualValue"),
                            "type": p.get("DifferenceType"),
                        }
                        for p in r.get("PropertyDifferences", []) or []
                    ],
                }
                for r in d.resources
            ],
        }
        for d in drifts
    ]


def render(ctx: Context, drifts: list[StackDrift]) -> None:
    r = ctx.reporter
    for d in drifts:
        style = {"IN_SYNC": "green", "DRIFTED": "bold red"}.get(d.status, "yellow")
        reason = f"  [dim]{escape(d.reason)}[/]" if d.reason else ""
        r.print(f"{escape(d.label)}: [{style}]{d.status}[/]{reason}")
    rows = [(d, res) for d in drifts for res in d.resources]
    if not rows:
        return
    table = Table(title="Drifted resources", title_justify="left")
    for column in ("Stack", "Resource", "Type", "Drift", "Property", "Expected", "Actual"):
        table.add_column(column, overflow="fold")
    for d, res in rows:
        diffs = res.get("PropertyDifferences") or [{}]
        for diff in diffs:
            table.add_row(
                escape(d.label),
                escape(res["LogicalResourceId"]),
                escape(res.get("ResourceType", "")),
                escape(res.get("StackResourceDriftStatus", "")),
                escape(f"{diff.get('PropertyPath', '')} ({diff.get('DifferenceType', '')})" if diff else ""),
                escape(str(diff.get("ExpectedValue", "")) if diff else ""),
                escape(str(diff.get("ActualValue", "")) if diff else ""),
            )
    r.print(table)


def drift(ctx: Context, *, json_output: bool = False) -> int:
    preflight(ctx)
    drifts = collect(ctx)
    if json_output:
        print(json.dumps(as_json(drifts), indent=2, sort_keys=True))
    else:
        render(ctx, drifts)
    return EXIT_DRIFTED if any(d.status == "DRIFTED" for d in drifts) else 0
