"""Wait for a stack by reading it, never by trusting a waiter.

botocore's ``stack_create_complete`` waiter counts UPDATE_ROLLBACK_COMPLETE as success, and a waiter's
success says nothing about *this* operation. :func:`wait_stable` re-reads the stack (DescribeStacks by
stack id, so a deleted stack stays visible) until it leaves every ``*_IN_PROGRESS`` state, streams the
stack events that arrived since the operation began, and returns the final description; the caller
decides from the final status whether the operation succeeded.

Throttling while polling is not a failure: the stack operation goes on whether or not we read it. Each
read goes through :func:`patiently`: when AWS still throttles after botocore's own retries, the loop
waits longer and reads again (at most :data:`THROTTLED_READS` times in a row, and never past
``--wait-timeout``), and says so once per stack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from botocore.exceptions import ClientError

from .account_refusals import FIX, model_monitor_unavailable
from .context import Context
from .errors import AWS_ERRORS, StackFailedError, ThrottledError, WaitTimeoutError, aws_error
from .status import in_progress

MAX_EVENT_PAGES = 20
#: Reads in a row a polling loop lets AWS throttle (each after botocore's own retries) before it gives up.
THROTTLED_READS = 6
#: The longest pause between two throttled reads, seconds.
THROTTLED_PAUSE_MAX = 30.0

T = TypeVar("T")


def patiently(ctx: Context, label: str, read: Callable[[], T]) -> T:
    """``read()`` for a polling loop: a :class:`ThrottledError` means "not this time": pause (doubling from
    ``poll_max``), then read again; the error is raised only after :data:`THROTTLED_READS` in a row or when
    ``--wait-timeout`` is reached."""
    pause = ctx.options.poll_max
    for attempt in range(1, THROTTLED_READS + 1):
        try:
            return read()
        except ThrottledError:
            if attempt == THROTTLED_READS or ctx.time_left() <= 0:
                raise
            if attempt == 1:
                ctx.reporter.warn(f"{label}: AWS is throttling our reads; polling more slowly (the stack is not affected)")
            ctx.pause(pause)
            pause = min(pause * 2, THROTTLED_PAUSE_MAX)
    raise AssertionError("unreachable")  # the loop returns or raises


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
        stack = patiently(ctx, label, lambda: describe_stack(ctx, stack_id, label=label))
        if stack is None:  # only by name; by id CloudFormation keeps DELETE_COMPLETE stacks visible
            return WaitResult({"StackId": stack_id, "StackName": label, "StackStatus": "DELETE_COMPLETE"}, events)
        fresh = patiently(ctx, label, lambda: new_events(ctx, stack_id, marker, label=label))
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
    if any(model_monitor_unavailable(e.get("ResourceType"), e.get("ResourceStatusReason")) for e in causes):
        lines.append(f"hint: {FIX}")
    if not lines:
        lines.append("CloudFormation gave no reason; see the stack's events in the console.")
    return lines


def failure_error(label: str, result: WaitResult, what: str, next_step: str) -> StackFailedError:
    """The error for an operation that ended badly, with the reasons from this operation's events."""
    reasons = failure_reasons(result)
    return StackFailedError(
        f"{label}: {what} ended in {result.status}.\n" + "\n".join(f"  {line}" for line in reasons) + f"\n{next_step}"
    )
