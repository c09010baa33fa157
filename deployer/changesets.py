"""Change sets: create one per stack, read it into plain records, refuse what touches protected resources,
execute it exactly once, delete it when it is empty or declined."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .context import Context
from .errors import AWS_ERRORS, WaitTimeoutError, aws_error, is_throttling
from .events import patiently

NO_CHANGE_MARKERS = (
    "didn't contain changes",
    "No updates are to be performed",
    "The submitted information didn't contain changes",
)
_PENDING = {"CREATE_PENDING", "CREATE_IN_PROGRESS"}
#: Change sets of a saved plan (``plan --out``) are named with this prefix, so that the next plan of the
#: environment finds and deletes those of a plan left unused (:func:`remove_saved`).
SAVED_PREFIX = "mmtool-saved"
_SYMBOLS = {"add": "+", "modify": "~", "remove": "-", "replace": "±", "import": "+", "dynamic": "~"}


@dataclass
class ResourceChange:
    action: str  # add | modify | remove | replace | import | dynamic
    logical_id: str
    resource_type: str
    physical_id: str | None = None
    replacement: str | None = None  # CloudFormation's True | False | Conditional
    properties: list[str] = field(default_factory=list)  # changed properties
    replaced_by: list[str] = field(default_factory=list)  # properties that force the replacement
    values: list[tuple[str, Any, Any]] = field(default_factory=list)  # (property, before, after) when known
    scope: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # parameters / resources the change comes from
    condition: str | None = None  # template-derived adds whose Condition is decided only at deploy
    # from the templates evaluated with their values (deployer/plan_detail.py):
    created: list[tuple[str, str]] = field(default_factory=list)  # (property path, value) of what an add creates
    diffs: list[tuple[str, str, str]] = field(default_factory=list)  # (property path, old, new) of a modify/replace

    @property
    def symbol(self) -> str:
        return _SYMBOLS.get(self.action, "?")

    @property
    def destructive(self) -> bool:
        return self.action in ("remove", "replace")

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "logical_id": self.logical_id,
            "type": self.resource_type,
            "physical_id": self.physical_id,
            "replacement": self.replacement,
            "properties": self.properties,
            "replaced_by": self.replaced_by,
            "values": [{"property": p, "before": b, "after": a} for p, b, a in self.values],
            "scope": self.scope,
            "causes": self.causes,
            "condition": self.condition,
            "created": [{"property": p, "value": v} for p, v in self.created],
            "diffs": [{"property": p, "old": o, "new": n} for p, o, n in self.diffs],
        }


def new_name(prefix: str = "mmtool") -> str:
    """Change set names must start with a letter; keep them sortable and unique."""
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"


def create(
    ctx: Context,
    *,
    label: str,
    stack_name: str,
    change_set_type: str,
    template: dict[str, str],  # {"TemplateBody": ...} or {"TemplateURL": ...}
    parameters: list[dict[str, Any]],
    capabilities: list[str],
    name_prefix: str = "mmtool",
) -> tuple[str, str]:
    """CreateChangeSet; returns (change set id, stack id). ``ClientToken`` makes botocore's retries safe."""
    request: dict[str, Any] = {
        "StackName": stack_name,
        "ChangeSetName": new_name(name_prefix),
        "ChangeSetType": change_set_type,
        "Parameters": parameters,
        "Capabilities": capabilities,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(ctx.manifest.tags.items())],
        "Description": f"mmtool deploy of {ctx.manifest.project} {ctx.manifest.environment}",
        "ClientToken": uuid.uuid4().hex,
        **template,
    }
    role = ctx.manifest.settings.cloudformation_role_arn
    if role:
        request["RoleARN"] = role
    try:
        response = ctx.clients.cloudformation.create_change_set(**request)
    except ClientError as exc:
        if any(marker in str(exc) for marker in NO_CHANGE_MARKERS):
            raise NoChanges() from exc
        raise aws_error(
            exc,
            action="CreateChangeSet",
            stack=label,
            next_step="Next: read CloudFormation's message above; template or parameter errors are fixed in "
            "params/<env>.yaml or the templates, then `make build`.",
        ) from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="CreateChangeSet", stack=label) from exc
    return response["Id"], response["StackId"]


class NoChanges(Exception):
    """CreateChangeSet itself answered 'No updates are to be performed.' (nothing to delete)."""


def describe(ctx: Context, change_set_id: str, *, label: str) -> dict[str, Any]:
    """DescribeChangeSet with every page of Changes merged (property values included when available)."""
    merged: dict[str, Any] | None = None
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"ChangeSetName": change_set_id, "IncludePropertyValues": True}
        if token:
            kwargs["NextToken"] = token
        try:
            page = ctx.clients.cloudformation.describe_change_set(**kwargs)
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="DescribeChangeSet", stack=label) from exc
        if merged is None:
            merged = page
            merged["Changes"] = list(page.get("Changes", []))
        else:
            merged["Changes"].extend(page.get("Changes", []))
        token = page.get("NextToken")
        if not token:
            return merged


def wait_created(ctx: Context, change_set_id: str, *, label: str) -> dict[str, Any]:
    """Poll until the change set is CREATE_COMPLETE or FAILED (bounded by --wait-timeout)."""
    pause = min(ctx.options.poll_min, 0.5)
    while True:
        description = patiently(ctx, label, lambda: describe(ctx, change_set_id, label=label))
        if description.get("Status") not in _PENDING:
            return description
        if ctx.time_left() <= 0:
            raise WaitTimeoutError(f"{label}: change set {change_set_id} still {description.get('Status')}; "
                                   "nothing was executed. Next: run the command again.")
        ctx.pause(pause)
        pause = min(pause * 1.5, ctx.options.poll_max)


def is_empty(description: dict[str, Any]) -> bool:
    """A FAILED change set whose only problem is that nothing changes."""
    return description.get("Status") == "FAILED" and any(
        marker in (description.get("StatusReason") or "") for marker in NO_CHANGE_MARKERS
    )


def delete(ctx: Context, change_set_id: str, *, label: str) -> None:
    try:
        ctx.clients.cloudformation.delete_change_set(ChangeSetName=change_set_id)
    except ClientError as exc:
        if "does not exist" in str(exc) or "ChangeSetNotFound" in str(exc):
            return
        raise aws_error(exc, action="DeleteChangeSet", stack=label) from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="DeleteChangeSet", stack=label) from exc


def remove_saved(ctx: Context, stack_id: str, *, label: str) -> list[str]:
    """Delete the change sets a saved plan (``plan --out``) left on the stack; returns their names."""
    removed: list[str] = []
    try:
        pages = ctx.clients.cloudformation.get_paginator("list_change_sets").paginate(StackName=stack_id)
        summaries = [s for page in pages for s in page.get("Summaries", [])]
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="ListChangeSets", stack=label) from exc
    for summary in summaries:
        name = summary.get("ChangeSetName") or ""
        if name.startswith(SAVED_PREFIX + "-") and summary.get("ExecutionStatus") != "EXECUTE_COMPLETE":
            delete(ctx, summary["ChangeSetId"], label=label)
            removed.append(name)
    return removed


def parse(description: dict[str, Any]) -> list[ResourceChange]:
    changes: list[ResourceChange] = []
    for change in description.get("Changes", []):
        rc = change.get("ResourceChange")
        if change.get("Type", "Resource") != "Resource" or not rc:
            continue
        action = (rc.get("Action") or "Modify").lower()
        replacement = rc.get("Replacement")
        if action == "modify" and replacement in ("True", "Conditional"):
            action = "replace"
        record = ResourceChange(
            action=action,
            logical_id=rc.get("LogicalResourceId", "?"),
            resource_type=rc.get("ResourceType", "?"),
            physical_id=rc.get("PhysicalResourceId"),
            replacement=replacement,
            scope=list(rc.get("Scope", []) or []),
        )
        for detail in rc.get("Details", []) or []:
            target = detail.get("Target", {}) or {}
            name = target.get("Name") or target.get("Attribute")
            if name and name not in record.properties:
                record.properties.append(name)
            if target.get("RequiresRecreation") in ("Always", "Conditionally") and name not in record.replaced_by:
                record.replaced_by.append(name)
            if "BeforeValue" in target or "AfterValue" in target:
                record.values.append((name, target.get("BeforeValue"), target.get("AfterValue")))
            cause = _cause(detail)
            if cause and cause not in record.causes:
                record.causes.append(cause)
        changes.append(record)
    return changes


_SOURCES = {"ParameterReference": "parameter {}", "ResourceReference": "{}", "ResourceAttribute": "{}",
            "DirectModification": "the template", "Automatic": "a nested stack"}


def _cause(detail: dict[str, Any]) -> str | None:
    """What a change comes from, in words: ``parameter Revision``, ``ExecutionRole.Arn``, ``the template``
    (DescribeChangeSet's ChangeSource and CausingEntity:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChangeDetail.html)."""
    source, entity = detail.get("ChangeSource"), detail.get("CausingEntity")
    if source in _SOURCES and (entity or "{}" not in _SOURCES[source]):
        return _SOURCES[source].format(entity)
    return entity


def protected_hits(changes: list[ResourceChange], protected: list[str]) -> list[ResourceChange]:
    return [c for c in changes if c.logical_id in protected and c.destructive]


from botocore.parsers import ResponseParserError  # noqa: E402

# Failures after which nobody knows whether CloudFormation received the request.
_UNCERTAIN = (ReadTimeoutError, ConnectionClosedError, EndpointConnectionError, ResponseParserError)
EXECUTE_ATTEMPTS = 5


def execute(ctx: Context, change_set_id: str, *, label: str, stack_name: str) -> None:
    """ExecuteChangeSet exactly once.

    The call goes through a client without automatic retries. When it fails in a way that leaves us not
    knowing whether CloudFormation received it (a read timeout, a dropped connection, throttling), the
    change set is described again: anything but AVAILABLE means the execution started, and we go on to
    wait for the stack. Only a change set still AVAILABLE is executed again, with the same
    ClientRequestToken, which CloudFormation also uses to recognise a repeated request.
    """
    token = f"mmtool-{uuid.uuid4().hex}"
    pause = 1.0
    last: BaseException | None = None
    for attempt in range(EXECUTE_ATTEMPTS):
        try:
            ctx.clients.cloudformation_once.execute_change_set(
                ChangeSetName=change_set_id, StackName=stack_name, ClientRequestToken=token
            )
            return
        except _UNCERTAIN as exc:
            last = exc
        except ClientError as exc:
            if not is_throttling(exc):
                raise aws_error(exc, action="ExecuteChangeSet", stack=label) from exc
            last = exc
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="ExecuteChangeSet", stack=label) from exc
        status = describe(ctx, change_set_id, label=label).get("ExecutionStatus")
        ctx.reporter.warn(
            f"{label}: ExecuteChangeSet did not answer cleanly ({type(last).__name__}); "
            f"the change set is now {status}"
        )
        if status != "AVAILABLE":
            return  # CloudFormation took it: never execute twice
        if attempt + 1 < EXECUTE_ATTEMPTS:
            ctx.pause(pause)
            pause *= 2
    assert last is not None
    raise aws_error(last, action=f"ExecuteChangeSet ({EXECUTE_ATTEMPTS} attempts)", stack=label,
                    next_step="Next: run the command again; nothing was executed.")

