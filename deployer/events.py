"""Wait for a stack by reading it, never by trusting a waiter.

botocore's ``stack_create_complete`` waiter counts UPDATE_ROLLBACK_COMPLETE as success, and a waiter's
success says nothing about *this* operation. :func:`wait_stable` re-reads the stack (DescribeStacks by
stack id, so a deleted stack stays visible) until it leaves every ``*_IN_PROGRESS`` state, streams the
stack events that arrived since the operation began, and returns the final description; the caller
decides from the final status whether the operation succeeded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .context import Context
from .errors import AWS_ERRORS, StackFailedError, WaitTimeoutError, aws_error
from .status import in_progress

MAX_EVENT_PAGES = 20


@dataclass
class WaitResult:
    stack: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first, this operation only

    @property
    def status(self) -> str:
        return self.stack["StackStatus"]


def describe_stack(ctx: Context, stack_name_or_id: str, *, label: str | None = None) -> dict[str, Any] | None:
    """The DescribeStacks entry, or None when the stack does not exist."""
    try:
        stacks = ctx.clients.cloudformation.describe_stacks(StackName=stack_name_or_id)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise aws_error(exc, action="DescribeStacks", stack=label or stack_name_or_id) from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="DescribeStacks", stack=label or stack_name_or_id) from exc
    return stacks[0] if stacks else None


def latest_event_id(ctx: Context, stack_id: str, *, label: str) -> str | None:
    """The newest event before an operation starts: events after it belong to the operation."""
    try:
        events = ctx.clients.cloudformation.describe_stack_events(StackName=stack_id).get("StackEvents", [])
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="DescribeStackEvents", stack=label) from exc
    return events[0]["EventId"] if events else None


def new_events(ctx: Context, stack_id: str, marker: str | None, *, label: str) -> list[dict[str, Any]]:
    """Events newer than ``marker``, oldest first (DescribeStackEvents pages newest first)."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_EVENT_PAGES):
        kwargs = {"StackName": stack_id}
        if token:
            kwargs["NextToken"] = token
        try:
            page = ctx.clients.cloudformation.describe_stack_events(**kwargs)
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="DescribeStackEvents", stack=label) from exc
        for event in page.get("StackEvents", []):
            if event["EventId"] == marker:
                return list(reversed(found))
            found.append(event)
        token = page.get("NextToken")
        if not token or marker is None:
            break
    return list(reversed(found))


def _counts(events: list[dict[str, Any]], stack_name: str) -> int:
    finished: dict[str, str] = {}
    for event in events:
        if event.get("LogicalResourceId") == stack_name or event.get("ResourceType") == "AWS::CloudFormation::Stack":
            continue
        finished[event["LogicalResourceId"]] = event.get("ResourceStatus", "")
    return sum(1 for status in finished.values() if status.endswith("_COMPLETE"))


def wait_stable(
    ctx: Context,
    label: str,
    stack_id: str,
    marker: str | None,
    *,
    total: int | None = None,
    why: str = "",
) -> WaitResult:
    """Poll until the stack is in no ``*_IN_PROGRESS`` state; bounded by ``--wait-timeout``."""
    events: list[dict[str, Any]] = []
    pause = ctx.options.poll_min
    while True:
        stack = describe_stack(ctx, stack_id, label=label)
        if stack is None:  # only by name; by id CloudFormation keeps DELETE_COMPLETE stacks visible
            return WaitResult({"StackId": stack_id, "StackName": label, "StackStatus": "DELETE_COMPLETE"}, events)
        fresh = new_events(ctx, stack_id, marker, label=label)
        if fresh:
            marker = fresh[-1]["EventId"]
            for event in fresh:
                ctx.reporter.event(label, event)
            events.extend(fresh)
        status = stack["StackStatus"]
        ctx.note_status(label, status)
        ctx.reporter.stack_progress(label, status, done=_counts(events, stack.get("StackName", label)), total=total)
        if not in_progress(status):
            ctx.reporter.stack_finished(label)
            return WaitResult(stack, events)
        if time.monotonic() >= ctx.deadline:
            ctx.reporter.stack_finished(label)
            raise WaitTimeoutError(
                f"{label}: still {status} after --wait-timeout={ctx.options.wait_timeout:g}s{why}. Nothing was "
                "cancelled: CloudFormation carries on.\n"
                f"Next: run `{ctx.resume_command()}` again later; it waits for the stack and continues."
            )
        ctx.pause(pause)
        pause = min(pause * 1.5, ctx.options.poll_max)


CANCELLATION_MARKERS = ("Resource creation cancelled", "Resource update cancelled", "Resource deletion cancelled")


def failure_reasons(result: WaitResult) -> list[str]:
    """One line per failed resource (root causes first, cancellations last) plus the stack's reason."""
    failed = [e for e in result.events if e.get("ResourceStatus", "").endswith("_FAILED")]
    stack_name = result.stack.get("StackName")
    resources = [e for e in failed if e.get("LogicalResourceId") != stack_name]
    causes = [e for e in resources if not any(m in (e.get("ResourceStatusReason") or "") for m in CANCELLATION_MARKERS)]
    cancelled = [e for e in resources if e not in causes]
    lines = [
        f"{e['LogicalResourceId']} ({e.get('ResourceType', '?')}) {e['ResourceStatus']}: "
        f"{e.get('ResourceStatusReason') or 'no reason given'}"
        for e in causes + cancelled
    ]
    reason = result.stack.get("StackStatusReason")
    if reason:
        lines.append(f"stack: {reason}")
    if not lines:
        lines.append("CloudFormation gave no reason; see the stack's events in the console.")
    return lines


def failure_error(label: str, result: WaitResult, what: str, next_step: str) -> StackFailedError:
    """The error for an operation that ended badly, with the reasons from this operation's events."""
    reasons = failure_reasons(result)
    return StackFailedError(
        f"{label}: {what} ended in {result.status}.\n" + "\n".join(f"  {line}" for line in reasons) + f"\n{next_step}"
    )
