"""``deploy``: plan, confirm, then apply the plan stack by stack in dependency order.

Per stack: a leftover REVIEW_IN_PROGRESS or a ROLLBACK_COMPLETE stack is deleted first; an
UPDATE_ROLLBACK_FAILED stack has its rollback continued (``--continue-rollback``); a stack whose upstream
stacks changed is compared again (its SSM-resolved values may have moved) and gets a fresh change set;
the change set is checked against the protected resources, executed once, and the stack is read until it
settles. Success is decided from the final stack status, never from a waiter. After a create or update
the stack policy and termination protection are put in place; after the project bucket's stack the
assets are uploaded, before any stack that depends on it starts.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape

from . import changesets, saved_plan, summary
from .aws import Identity
from .context import Context
from .continuity import refuse_if_kept
from .errors import (
    AWS_ERRORS,
    DeployError,
    RefusedError,
    StackFailedError,
    WaitTimeoutError,
    aws_error,
)
from .events import describe_stack, failure_error, latest_event_id, wait_stable
from .graph import Outcome, interrupted, run_graph
from .lock import hold_for
from .outputs import render_outputs
from .plan import (
    CONTINUE_ROLLBACK,
    CREATE,
    NONE,
    RECREATE,
    UPDATE,
    Plan,
    StackPlan,
    make_change_set,
    make_plan,
    plan_existing,
    refusal_error,
    render_plan,
    target_from_stack,
)
from .policy import ALLOW_ALL, current_policy, protective_policy, set_policy, set_termination_protection
from .preflight import preflight
from .progress import Step, to_stderr
from .status import SUCCEEDED
from .uploads import upload_assets


@dataclass
class StackResult:
    changed: bool  # a change set was executed
    stack: dict[str, Any] | None  # the final DescribeStacks entry (outputs included)


def confirm(ctx: Context, question: str, expected: str = "yes") -> bool:
    try:
        answer = ctx.ask(question)
    except EOFError:
        raise RefusedError(
            "confirmation needed but there is no terminal to ask on. Nothing was changed.\n"
            "Next: pass --yes (make deploy ... AUTO_APPROVE=1) to apply without asking."
        ) from None
    return answer.strip() == expected


def delete_and_wait(ctx: Context, sp: StackPlan) -> None:
    """Delete a leftover (REVIEW_IN_PROGRESS) or rolled-back (ROLLBACK_COMPLETE) stack before creating it."""
    assert sp.stack is not None
    stack_id = sp.stack["StackId"]
    ctx.reporter.info(f"{sp.label}: deleting the {sp.stack['StackStatus']} stack before creating it again")
    marker = latest_event_id(ctx, stack_id, label=sp.label)
    request: dict[str, Any] = {"StackName": stack_id, "ClientRequestToken": f"mmtool-{uuid.uuid4().hex}"}
    if ctx.manifest.settings.cloudformation_role_arn:
        request["RoleARN"] = ctx.manifest.settings.cloudformation_role_arn
    sp.started = True
    try:
        ctx.clients.cloudformation.delete_stack(**request)
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="DeleteStack", stack=sp.label) from exc
    result = wait_stable(ctx, sp.label, stack_id, marker)
    if result.status != "DELETE_COMPLETE":
        raise failure_error(sp.label, result, "deleting the old stack", "Next: see the events above; delete it by hand, then deploy again.")
    sp.stack = None


def continue_rollback(ctx: Context, sp: StackPlan) -> None:
    assert sp.stack is not None
    stack_id = sp.stack["StackId"]
    ctx.reporter.info(f"{sp.label}: continuing the failed rollback (--continue-rollback)")
    marker = latest_event_id(ctx, stack_id, label=sp.label)
    request: dict[str, Any] = {"StackName": stack_id, "ClientRequestToken": f"mmtool-{uuid.uuid4().hex}"}
    if ctx.manifest.settings.cloudformation_role_arn:
        request["RoleARN"] = ctx.manifest.settings.cloudformation_role_arn
    sp.started = True
    try:
        ctx.clients.cloudformation.continue_update_rollback(**request)
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="ContinueUpdateRollback", stack=sp.label) from exc
    result = wait_stable(ctx, sp.label, stack_id, marker)
    if result.status != "UPDATE_ROLLBACK_COMPLETE":
        raise failure_error(
            sp.label, result, "continuing the rollback",
            f"Next: skip the resources that cannot roll back: `aws cloudformation continue-update-rollback "
            f"--stack-name {sp.label} --resources-to-skip <LogicalId>`, then deploy again.",
        )
    sp.stack = result.stack


def remove_review_stack(ctx: Context, sp: StackPlan) -> None:
    """A CREATE change set that failed leaves an empty REVIEW_IN_PROGRESS stack behind: remove it."""
    if not sp.stack_id:
        return
    try:
        ctx.clients.cloudformation.delete_stack(StackName=sp.stack_id)
    except AWS_ERRORS as exc:
        ctx.reporter.warn(f"{sp.label}: could not remove the empty REVIEW_IN_PROGRESS stack: {exc}")


def apply_settings(ctx: Context, sp: StackPlan, stack: dict[str, Any]) -> list[str]:
    """Termination protection (only ever turned on) and the stack policy, when they differ."""
    done = []
    stack_id = stack["StackId"]
    if ctx.manifest.settings.termination_protection and not stack.get("EnableTerminationProtection"):
        set_termination_protection(ctx, stack_id, True, label=sp.label)
        done.append("termination protection on")
    protected = sp.spec.entry.protected_resources
    if protected:
        wanted = protective_policy(protected)
        if current_policy(ctx, stack_id, label=sp.label) != wanted:
            set_policy(ctx, stack_id, wanted, label=sp.label)
            done.append(f"stack policy protects {', '.join(protected)}")
    for line in done:
        ctx.reporter.success(f"{sp.label}: {line}")
    return done


def execute_and_wait(ctx: Context, sp: StackPlan, stack_id: str, *, creating: bool) -> dict[str, Any]:
    assert sp.change_set_id is not None
    hits = sp.refused
    if hits and not ctx.options.allow_replacement:
        changesets.delete(ctx, sp.change_set_id, label=sp.label)
        sp.change_set_id = None
        raise refusal_error([(sp, c) for c in hits])
    lifted = False
    if hits:  # --allow-replacement: the stack policy would deny it; lift it for this execution only
        ctx.reporter.warn(f"{sp.label}: --allow-replacement: lifting the stack policy for "
                          f"{', '.join(c.logical_id for c in hits)} during this update")
        set_policy(ctx, stack_id, ALLOW_ALL, label=sp.label)
        lifted = True
    try:
        marker = latest_event_id(ctx, stack_id, label=sp.label)
        changesets.execute(ctx, sp.change_set_id, label=sp.label, stack_name=sp.spec.stack_name)
        sp.change_set_id = None  # executed: no longer ours to delete
        sp.started = True  # from here on CloudFormation works on the stack, whatever happens to this run
        result = wait_stable(ctx, sp.label, stack_id, marker, total=len(sp.changes) or None)
        sp.settled = True
    finally:
        if lifted:
            set_policy(ctx, stack_id, protective_policy(sp.spec.entry.protected_resources), label=sp.label)
            ctx.reporter.info(f"{sp.label}: stack policy restored")
    if result.status not in SUCCEEDED:
        what = "the create" if creating else "the update"
        next_step = (
            f"Next: fix the cause above, then run `{ctx.resume_command()}` again (the failed stack is deleted and "
            "created again after you confirm)."
            if creating
            else f"Next: CloudFormation rolled the stack back to its previous state; fix the cause above and run "
            f"`{ctx.resume_command()}` again."
        )
        if result.status == "UPDATE_ROLLBACK_FAILED":
            next_step = (
                "The rollback failed too: the stack accepts no update until its rollback is continued.\n"
                f"Next: fix what blocked the rollback (above), then `{ctx.resume_command()} ARGS=--continue-rollback`, "
                f"or `aws cloudformation continue-update-rollback --stack-name {sp.label} "
                "[--resources-to-skip <LogicalId>]` and deploy again."
            )
        raise failure_error(sp.label, result, what, next_step)
    ctx.reporter.success(f"{sp.label}: {result.status}")
    return result.stack


def apply_stack(ctx: Context, plan: Plan, sp: StackPlan, upstream_changed: bool) -> StackResult:
    spec = sp.spec
    if sp.delete_first:
        delete_and_wait(ctx, sp)
        sp.action = CREATE
    if sp.action == CONTINUE_ROLLBACK:
        continue_rollback(ctx, sp)
        sp.action, upstream_changed = NONE, True  # forces the comparison below
    if upstream_changed and sp.stack is not None and sp.action in (UPDATE, NONE) and not sp.reads_unchanged(ctx):
        if sp.change_set_id:
            changesets.delete(ctx, sp.change_set_id, label=sp.label)
            sp.change_set_id = None
        sp.stack = describe_stack(ctx, sp.stack["StackId"], label=sp.label)
        sp.changes, sp.action = [], NONE
        plan_existing(ctx, sp)
        found = f"{len(sp.changes)} resource change(s)" if sp.action != NONE else "no changes"
        ctx.reporter.info(f"{sp.label}: compared again after upstream changes: {found}")
        for change in sp.changes:
            ctx.reporter.line(f"  {change.symbol} {change.logical_id} {change.resource_type}")
        for param in sp.diff.parameters if sp.diff and sp.action != NONE else []:
            ctx.reporter.line(f"  ~ {param.describe()}")
    changed = False
    stack = sp.stack
    if sp.action == CREATE:
        try:
            make_change_set(ctx, sp, change_set_type="CREATE", target=plan.asset_target)
        except DeployError:
            remove_review_stack(ctx, sp)
            raise
        assert sp.stack_id is not None
        stack = execute_and_wait(ctx, sp, sp.stack_id, creating=True)
        changed = True
    elif sp.action == UPDATE:
        assert stack is not None
        stack = execute_and_wait(ctx, sp, stack["StackId"], creating=False)
        changed = True
    elif sp.action == NONE:
        ctx.reporter.info(f"{sp.label}: no changes")
    assert stack is not None
    apply_settings(ctx, sp, stack)
    model = ctx.manifest.model
    with_assets = ctx.manifest.asset_files or ctx.manifest.copies  # the baseline copies are assets too
    if model.asset_bucket is not None and model.asset_bucket.stack == spec.name and with_assets:
        target = target_from_stack(ctx, stack)
        if target is None:
            raise DeployError(
                f"{sp.label}: output {model.asset_bucket.output} (the project bucket) is missing, so the assets "
                "cannot be uploaded. Next: check the template's Outputs."
            )
        upload_assets(ctx, target)
        plan.asset_target = target
    return StackResult(changed=changed, stack=stack)


def apply(ctx: Context, plan: Plan) -> dict[str, Outcome]:
    """Every stack of the plan in dependency order, at most ``--max-parallel`` at once. With --endpoint
    the shared stacks are outside the run (checked deployed by the plan): their assets, when missing, are
    uploaded first."""
    names = [sp.spec.name for sp in plan.stacks]
    prerequisites = {sp.spec.name: [d for d in sp.spec.depends_on if d in names] for sp in plan.stacks}
    labels = {sp.spec.name: sp.label for sp in plan.stacks}
    outcomes: dict[str, Outcome] = {}
    bucket = ctx.manifest.model.asset_bucket
    if bucket is not None and bucket.stack not in names and plan.assets_missing and plan.asset_target:
        upload_assets(ctx, plan.asset_target)

    def work(name: str) -> StackResult:
        sp = plan.by_name(name)
        upstream_changed = any(
            outcomes.get(dep) is not None and outcomes[dep].ok and outcomes[dep].value.changed
            for dep in sp.spec.depends_on
        )
        return apply_stack(ctx, plan, sp, upstream_changed)

    with ctx.reporter.progress():
        return run_graph(ctx, names, prerequisites, work, labels=labels, verb="deploy", outcomes=outcomes)


def stack_state(ctx: Context, sp: StackPlan, outcome: Outcome) -> tuple[str, str]:
    """(the word shown beside the stack, where the stack stands in the account) after this run."""
    last = ctx.last_status.get(sp.label, "status not read")
    if outcome.ok:
        if outcome.value.changed:
            return "[green]deployed[/]", f"deployed ({last})"
        return "[dim]unchanged[/]", "unchanged"
    if outcome.skipped_because:
        return (f"[yellow]not started[/] ({escape(outcome.skipped_because)} failed)",
                f"not touched (it waits for {outcome.skipped_because})")
    if outcome.cancelled:
        return (f"[yellow]stopped waiting[/] ({escape(last)})",
                f"CloudFormation was still working on it ({last}); nothing was cancelled")
    if isinstance(outcome.error, StackFailedError):
        return "[bold red]failed[/]", f"the operation failed: {last}"
    if sp.settled:
        return ("[bold red]failed[/] (after its stack operation)",
                f"the stack operation finished ({last}), what follows it did not: see its error")
    if sp.started:
        return ("[bold red]outcome unknown[/]",
                f"its change was sent to CloudFormation, which carries on; the engine lost track of it "
                f"(last status seen: {last})")
    return "[bold red]failed[/]", "unchanged (the failure came before any change to it)"


def report_outcomes(ctx: Context, plan: Plan, outcomes: dict[str, Outcome], seconds: float | None = None) -> None:
    """A line per stack with what was applied and its time (deployer/summary.py), then the run's total, or the
    failures with where the account stands."""
    failures: list[DeployError] = []
    state: list[str] = []
    r = ctx.reporter
    r.print("")
    for sp in plan.stacks:
        outcome = outcomes.get(sp.spec.name)
        if outcome is None:
            continue
        word, where = stack_state(ctx, sp, outcome)
        r.print(f"  {escape(sp.label)}: {word}{escape(summary.stack_detail(plan, sp, outcome))}")
        state.append(f"  {sp.label}: {where}")
        if not (outcome.ok or outcome.skipped_because or outcome.cancelled):
            assert isinstance(outcome.error, DeployError)
            failures.append(outcome.error)
    if failures:  # the boundary prints the message: every failure with its reasons, once
        worst = next((e for e in failures if isinstance(e, WaitTimeoutError)), None) or next(
            (e for e in failures if isinstance(e, RefusedError)), None) or failures[0]
        raise type(worst)(
            "deploy failed:\n" + "\n".join(str(e) for e in failures)
            + "\nWhere the account stands:\n" + "\n".join(state) + "\n" + where_things_stand(ctx, plan, outcomes),
            exit_code=worst.exit_code,
        )
    if seconds is not None:
        r.print(f"[bold]{escape(summary.total_line(plan, outcomes, seconds))}[/]")


def where_things_stand(ctx: Context, plan: Plan, outcomes: dict[str, Outcome]) -> str:
    """After a failure: how many stacks are where, and the command that continues."""
    groups: dict[str, int] = {}
    for sp in plan.stacks:
        outcome = outcomes.get(sp.spec.name)
        if outcome is None or outcome.skipped_because:
            word = "not started"
        elif outcome.ok:
            word = "deployed" if outcome.value.changed else "unchanged"
        else:
            word = "stopped waiting" if outcome.cancelled else "failed"
        groups[word] = groups.get(word, 0) + 1
    order = ("deployed", "unchanged", "failed", "stopped waiting", "not started")
    counts = ", ".join(f"{groups[word]} {word}" for word in order if word in groups)
    return (f"Where things stand: {counts}.\nContinue: {continue_command(ctx, plan, outcomes)}  "
            "(stacks already deployed are only compared again)")


def continue_command(ctx: Context, plan: Plan, outcomes: dict[str, Outcome]) -> str:
    """The command that continues after a failure: narrowed to one endpoint when every stack left behind
    (failed, stopped, not started) belongs to it; the whole run's otherwise, naming the endpoints left."""
    behind = {sp.spec.entry.endpoint for sp in plan.stacks
              if outcomes.get(sp.spec.name) is None or not outcomes[sp.spec.name].ok}
    command = ctx.resume_command()
    if not behind or ctx.manifest.endpoint or None in behind or len(ctx.manifest.endpoints) < 2:
        return command  # already narrowed, a shared stack is left, or a fleet of one
    if len(behind) == 1:
        return ctx.command("deploy", behind.pop())
    return command + f" (or one endpoint at a time, --endpoint / ENDPOINT=: {', '.join(sorted(behind))})"


def deploy(ctx: Context, plan_file: Path | None = None) -> int:
    """Preflight, then the whole run under the environment's lock (deployer/lock.py): the plan's change
    sets, the assets and every stack operation belong to this run only. ``plan_file``: execute that saved
    plan's change sets (deployer/saved_plan.py) instead of planning."""
    identity = preflight(ctx)
    with hold_for(ctx, identity.arn, "deploy"):
        return _deploy(ctx, identity, plan_file)


def _deploy(ctx: Context, identity: Identity, plan_file: Path | None = None) -> int:
    plan: Plan | None = None
    try:
        if plan_file is None:
            with Step(f"plan {ctx.manifest.environment}", to_stderr):
                plan = make_plan(ctx, identity)
        else:
            plan = saved_plan.load(ctx, identity, plan_file)
        for sp in plan.stacks:  # a data stack created again after a destroy: its kept bucket and key (continuity.py)
            if sp.action in (CREATE, RECREATE) and sp.spec.retained_resources():
                refuse_if_kept(ctx, sp.spec, sp.stack)
        if plan_file is None:
            render_plan(ctx, plan)
        else:
            saved_plan.show(ctx, plan, plan_file)
        if plan.refused and not ctx.options.allow_replacement:
            raise refusal_error(plan.refused)
        if not plan.has_changes:
            if ctx.options.show_outputs:
                render_outputs(ctx, [sp.stack for sp in plan.stacks])
            return 0
        if not ctx.options.yes:
            question = (
                f"\nApply this plan to {ctx.manifest.project} {ctx.manifest.environment} "
                f"(account {identity.account}, {ctx.manifest.region})? Only 'yes' is accepted: "
            )
            if not confirm(ctx, question):
                raise RefusedError("Deploy cancelled: the answer was not 'yes'. Nothing was changed.")
    except KeyboardInterrupt:
        if plan is not None:
            plan.cleanup(ctx)  # change sets this run made and never executed
        raise interrupted(ctx, "deploy") from None
    except DeployError as exc:
        if plan is not None:
            plan.cleanup(ctx)
        if "Nothing was changed" in str(exc):
            raise
        raise type(exc)(f"{exc}\nNothing was changed: the deploy stopped while planning.", exit_code=exc.exit_code) from exc
    except BaseException:
        if plan is not None:
            plan.cleanup(ctx)
        raise
    applying = time.monotonic()
    outcomes = apply(ctx, plan)
    plan.cleanup(ctx)  # change sets of stacks that never got to run (an upstream stack failed)
    report_outcomes(ctx, plan, outcomes, time.monotonic() - applying)
    if ctx.options.show_outputs:
        done = [outcomes.get(sp.spec.name) for sp in plan.stacks]
        render_outputs(ctx, [o.value.stack for o in done if o is not None and o.ok])
    return 0

