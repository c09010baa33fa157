"""The environment's stacks whose last operation failed, for `make status` (rule `deploy-rights-missing` of
`mmtool.operate.rules`).

`read_stack_failures(cloudformation, names)` reads each stack (DescribeStacks) and, for one in a failed or rolled-back
state, the resource events of its last operation (DescribeStackEvents, newest first, back to the stack's own
`*_IN_PROGRESS` event that started it) that ended `*_FAILED`, with their reasons. A stack that does not exist is left
out (not deployed yet, or a kind the environment does not use). `stack_names(params, entries)` are the stacks a run of
`make status` covers: the environment's shared ones and each endpoint's own (`<project>-<env>[-<key>]-<kind>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deployer.aws_errors import error_code
from mmtool.operate.awsenv import aws_errors, aws_failure

# Stack states after a failed operation (CloudFormation's StackStatus values).
FAILED_STATES = frozenset({
    "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_FAILED", "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
})
STARTS = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS", "DELETE_IN_PROGRESS")
SHARED_STACKS = ("foundation", "network", "alarms")
MAX_EVENT_PAGES = 3


@dataclass(frozen=True)
class ResourceFailure:
    logical_id: str
    resource_type: str
    status: str
    reason: str


@dataclass
class StackFailure:
    stack: str
    status: str
    reason: str | None = None
    resources: list[ResourceFailure] = field(default_factory=list)  # newest first


def stack_names(params: Any, entries: list[Any]) -> tuple[list[str], dict[str, list[str]]]:
    """(the environment's shared stacks, each endpoint's own stacks by key)."""
    shared = [f"{params.prefix}-{kind}" for kind in SHARED_STACKS]
    own = {entry.key: ([entry.stack_name(params, "endpoint")] if getattr(entry, "create", None) is not None else [])
           + [entry.stack_name(params, "monitoring")] for entry in entries}
    return shared, own


def read_stack_failure(cloudformation: Any, name: str) -> StackFailure | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name).get("Stacks", [])
    except aws_errors() as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise aws_failure(exc, f"describe the stack {name} (cloudformation:DescribeStacks)") from exc
    if not stacks or stacks[0].get("StackStatus") not in FAILED_STATES:
        return None
    stack = stacks[0]
    failure = StackFailure(name, stack["StackStatus"], stack.get("StackStatusReason"))
    try:
        pages = cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack.get("StackId", name))
        for number, page in enumerate(pages):
            for event in page.get("StackEvents", []):
                status = event.get("ResourceStatus", "")
                if event.get("LogicalResourceId") == name and event.get("ResourceType") == "AWS::CloudFormation::Stack" \
                        and status in STARTS:
                    return failure
                if status.endswith("_FAILED"):
                    failure.resources.append(ResourceFailure(event.get("LogicalResourceId", "?"),
                                                             event.get("ResourceType", "?"), status,
                                                             event.get("ResourceStatusReason") or ""))
            if number + 1 >= MAX_EVENT_PAGES:
                break
    except aws_errors() as exc:
        raise aws_failure(exc, f"read the events of stack {name} (cloudformation:DescribeStackEvents)") from exc
    return failure


def read_stack_failures(cloudformation: Any, names: list[str]) -> list[StackFailure]:
    """The stacks of `names` whose last operation failed (see the module docstring)."""
    found = (read_stack_failure(cloudformation, name) for name in names)
    return [failure for failure in found if failure is not None]
