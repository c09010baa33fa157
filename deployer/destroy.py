"""``destroy``: delete the environment's stacks in reverse dependency order, keeping every byte of data.

The monitoring stack goes before the endpoint stack (the schedule reads from the endpoint), the endpoint
before the network stack; SageMaker's own network interfaces in the job security group are removed before
the network stack. Resources whose DeletionPolicy is Retain (the bucket with all its data, the KMS key)
stay and are listed at the end with how to remove them by hand. Stacks with termination protection are
refused unless ``--disable-termination-protection``. Confirmation is typing the environment's name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape

from .context import Context
from .deploy import confirm
from .enis import SECURITY_GROUP_OUTPUT, remove_sagemaker_interfaces
from .errors import AWS_ERRORS, DeployError, RefusedError, WaitTimeoutError, aws_error
from .events import describe_stack, failure_error, latest_event_id, wait_stable
from .graph import each, run_graph
from .lock import hold_for
from .ownership import refuse_strangers
from .plan import deployed_template
from .policy import set_termination_protection
from .preflight import preflight
from .status import in_progress
from .uploads import output_value


@dataclass
class Retained:
    stack: str
    logical_id: str
    resource_type: str
    physical_id: str | None

    def removal(self) -> str:
        pid = self.physical_id or "<physical id>"
        if self.resource_type == "AWS::S3::Bucket":
            return (
                f"empty it first, old versions included (console: Empty), then `aws s3 rb s3://{pid}`; "
                "the capture data and reports in it are gone for good"
            )
        if self.resource_type == "AWS::KMS::Key":
            return (
                f"`aws kms schedule-key-deletion --key-id {pid} --pending-window-in-days 30` once nothing encrypted "
                "with it is needed (data encrypted with it becomes unreadable)"
            )
        if self.resource_type == "AWS::Logs::LogGroup":
            return f"`aws logs delete-log-group --log-group-name {pid}`"
        return "delete it in the console or with the service's CLI"


@dataclass
class Doomed:
    name: str
    label: str
    stack: dict[str, Any]
    resources: list[dict[str, Any]] = field(default_factory=list)
    retained: list[Retained] = field(default_factory=list)


def _resources(ctx: Context, stack_id: str, label: str) -> list[dict[str, Any]]:
    try:
        paginator = ctx.clients.cloudformation.get_paginator("list_stack_resources")
        return [r for page in paginator.paginate(StackName=stack_id) for r in page.get("StackResourceSummaries", [])]
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="ListStackResources", stack=label) from exc


def retained_of(ctx: Context, doomed: Doomed) -> list[Retained]:
    """Resources with DeletionPolicy Retain, read from the *deployed* template (the build may differ)."""
    template = deployed_template(ctx, doomed.stack["StackId"], label=doomed.label)
    if not isinstance(template, dict):
        return []
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in doomed.resources}
    kept = []
    for logical_id, body in (template.get("Resources") or {}).items():
        if body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate") and logical_id in physical:
            kept.append(Retained(doomed.label, logical_id, body.get("Type", "?"), physical[logical_id]))
    return kept


def destroy(ctx: Context) -> int:
    """Preflight, then the whole run (the confirmation included) under the environment's lock."""
    identity = preflight(ctx)
    with hold_for(ctx, identity.arn, "destroy"):
        return _destroy(ctx)


def _destroy(ctx: Context) -> int:
    m = ctx.manifest
    found: dict[str, Doomed] = {}
    described = each(ctx, lambda spec: describe_stack(ctx, spec.stack_name, label=spec.stack_name), m.stacks)
    # a stack with one of our names but another environment's tags is never touched (nor waited for)
    refuse_strangers(ctx, [(spec.stack_name, stack) for spec, stack in zip(m.stacks, described)], verb="destroy")
    for spec, stack in zip(m.stacks, described):
        if stack is None:
            continue
        if in_progress(stack["StackStatus"]):
            ctx.reporter.warn(f"{spec.stack_name} is {stack['StackStatus']}: waiting for it first")
            marker = latest_event_id(ctx, stack["StackId"], label=spec.stack_name)
            stack = wait_stable(ctx, spec.stack_name, stack["StackId"], marker).stack
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
        found[spec.name] = Doomed(spec.name, spec.stack_name, stack)
    scope = f", endpoint {m.endpoint}" if m.endpoint else ""
    if not found:
        ctx.reporter.success(f"Nothing to destroy: no stack of {m.project} {m.environment}{scope} exists.")
        return 0

    protected = [d for d in found.values() if d.stack.get("EnableTerminationProtection")]
    if protected and not ctx.options.disable_termination_protection:
        names = ", ".join(d.label for d in protected)
        raise RefusedError(
            f"{names}: termination protection is on (this environment asks for it). Nothing was deleted.\n"
            f"Next: if this environment really must go, run `{ctx.resume_command('destroy')} "
            "ARGS=--disable-termination-protection` (it turns protection off, after the confirmation), or "
            f"`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name <stack>`."
        )

    def read(doomed: Doomed) -> None:
        doomed.resources = _resources(ctx, doomed.stack["StackId"], doomed.label)
        doomed.retained = retained_of(ctx, doomed)

    each(ctx, read, list(found.values()))

    r = ctx.reporter
    r.print(f"[bold]Destroy {escape(m.project)} {escape(m.environment)}{escape(scope)}[/] (region {escape(m.region)})")
    for spec in reversed(m.stacks):
        doomed = found.get(spec.name)
        if doomed is None:
            continue
        r.print(f"  [red]-[/] [bold]{escape(doomed.label)}[/] ({len(doomed.resources)} resources, {doomed.stack['StackStatus']})")
        for kept in doomed.retained:
            r.print(f"      [cyan]kept:[/] {escape(kept.logical_id)} {escape(kept.resource_type)} {escape(kept.physical_id or '')}")
        if doomed.stack.get("EnableTerminationProtection"):
            r.print("      [yellow]termination protection is turned off first (--disable-termination-protection)[/]")
    r.print("Destroy never deletes data: retained resources stay, with their contents.")
    if m.shared:
        r.print(f"The shared stacks ({', '.join(escape(s.stack_name) for s in m.shared)}) and the other endpoints stay.")
    if not ctx.options.yes:
        # --endpoint: the endpoint's key is typed, so a whole environment is never destroyed by habit
        what, expected = (f"the endpoint's key ({m.endpoint})", m.endpoint) if m.endpoint else (
            f"the environment name ({m.environment})", m.environment)
        if not confirm(ctx, f"\nType {what} to destroy it: ", expected=expected):
            raise RefusedError("Destroy cancelled: the name did not match. Nothing was deleted.")

    prerequisites = {
        name: [dep for dep in m.dependents(name) if dep in found] for name in found
    }
    labels = {name: d.label for name, d in found.items()}

    def work(name: str) -> str:
        doomed = found[name]
        stack_id = doomed.stack["StackId"]
        if doomed.stack.get("EnableTerminationProtection"):
            set_termination_protection(ctx, stack_id, False, label=doomed.label)
        security_group = output_value(doomed.stack, SECURITY_GROUP_OUTPUT)
        if security_group:
            remove_sagemaker_interfaces(ctx, security_group, label=doomed.label)
        marker = latest_event_id(ctx, stack_id, label=doomed.label)
        request: dict[str, Any] = {"StackName": stack_id, "ClientRequestToken": f"mmtool-{uuid.uuid4().hex}"}
        if m.settings.cloudformation_role_arn:
            request["RoleARN"] = m.settings.cloudformation_role_arn
        try:
            ctx.clients.cloudformation.delete_stack(**request)
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="DeleteStack", stack=doomed.label) from exc
        result = wait_stable(ctx, doomed.label, stack_id, marker, total=len(doomed.resources) or None)
        if result.status != "DELETE_COMPLETE":
            raise failure_error(
                doomed.label, result, "the delete",
                f"Next: remove what blocks it (see above), then run `{ctx.resume_command('destroy')}` again.",
            )
        ctx.reporter.success(f"{doomed.label}: DELETE_COMPLETE")
        return result.status

    order = [spec.name for spec in reversed(m.stacks) if spec.name in found]
    with r.progress():
        outcomes = run_graph(ctx, order, prerequisites, work, labels=labels, verb="destroy")

    kept = [k for name, d in found.items() if outcomes.get(name) and outcomes[name].ok for k in d.retained]
    if kept:
        r.print("")
        r.print("[bold]Kept (DeletionPolicy Retain) — remove by hand only when the data is no longer needed:[/]")
        for item in kept:
            r.print(f"  {escape(item.resource_type)} {escape(item.physical_id or item.logical_id)} (from {escape(item.stack)})")
            r.print(f"      {escape(item.removal())}")
        r.print("A later deploy of this environment finds them and says how to take them back into its stack "
                "(docs/deploying.md, 'Data continuity').")
    failures = [o.error for o in outcomes.values() if o.error is not None]
    skipped = [labels[n] for n, o in outcomes.items() if o.skipped_because]
    if failures:
        message = "destroy failed:\n" + "\n".join(str(e) for e in failures)
        if skipped:
            message += f"\nNot deleted (a stack that depends on them failed): {', '.join(skipped)}"
        code = max(getattr(e, "exit_code", 1) for e in failures)
        if any(isinstance(e, WaitTimeoutError) for e in failures):
            code = WaitTimeoutError.exit_code
        raise DeployError(message, exit_code=code)
    return 0
