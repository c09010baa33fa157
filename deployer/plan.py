"""Build, show and clean up the plan: one entry per stack, in deploy order.

For a stack that exists, the plan is a CloudFormation change set (created only when the quick comparison
in :mod:`deployer.compare` finds a difference; an empty one is deleted and reported as "no changes").
For a stack that does not exist yet the plan lists the template's resources: a first create adds all of
them, and a change set could not be made anyway while the upstream stacks whose SSM parameters it reads
do not exist. ``plan`` deletes every change set it created; ``deploy`` executes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from rich.markup import escape
from rich.table import Table

from . import changesets, compare, cost_view
from .aws import Identity
from .changesets import ResourceChange
from .context import Context
from .continuity import note_kept
from .errors import AWS_ERRORS, EXIT_CHANGES, EXIT_OK, DeployError, RefusedError, aws_error
from .events import describe_stack, latest_event_id, wait_stable
from .graph import each
from .integrity import check_change_set_template
from .intrinsics import Evaluator
from .manifest import StackSpec
from .ownership import refuse_strangers
from .plan_detail import changed_leaves, created_leaves
from .policy import current_policy, protective_policy
from .progress import Step, to_stderr
from .reporter import notes_once
from .security_diff import SecurityDiff, security_diff
from .status import NEEDS_ACTION, REVIEW, UPDATABLE, in_progress
from .uploads import BucketTarget, missing_assets, output_value, template_argument

CREATE = "create"
UPDATE = "update"
NONE = "none"
RECREATE = "recreate"  # ROLLBACK_COMPLETE: delete, then create
CONTINUE_ROLLBACK = "continue-rollback"


@dataclass
class StackPlan:
    spec: StackSpec
    action: str
    stack: dict[str, Any] | None = None
    change_set_id: str | None = None
    changes: list[ResourceChange] = field(default_factory=list)
    diff: compare.StackDiff | None = None
    notes: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)  # stack policy / termination protection to apply
    delete_first: bool = False  # a leftover REVIEW_IN_PROGRESS or a ROLLBACK_COMPLETE stack
    stack_id: str | None = None  # set by a CREATE change set (the stack exists from then on)
    upstream_pending: bool = False  # made while an upstream stack still has changes to apply
    started: bool = False  # an operation was sent to CloudFormation (execute, delete, continue rollback)
    settled: bool = False  # ... and the stack was then read in its final state
    account: str | None = None  # the account the plan was made for (evaluates AWS::AccountId)
    ssm_values: dict[str, str | None] = field(default_factory=dict)  # Parameter Store values its parameters read
    security: SecurityDiff | None = None  # IAM statements and security-group rules added and removed
    saved: bool = False  # read from a saved plan (deploy --plan): its change set is the one reviewed

    def reads_unchanged(self, ctx: Context) -> bool:
        """A saved plan's stack whose upstream stacks were just deployed: are the Parameter Store values it reads
        still those the plan saw? Then its saved change set (or "no changes") is still exact; otherwise it
        is compared again and gets a fresh change set, as the plan's note said."""
        if not self.saved:
            return False
        names = compare.ssm_names(self.spec)
        now = compare.current_ssm_values(ctx.clients.ssm, names, stack=self.label)
        same = all(now.get(n) == self.ssm_values.get(n) for n in names)
        if not same:
            ctx.reporter.warn(f"{self.label}: values it reads changed when its upstream stacks were deployed: "
                              "compared again, its saved change set is replaced by a fresh one")
        return same

    @property
    def label(self) -> str:
        return self.spec.stack_name

    @property
    def refused(self) -> list[ResourceChange]:
        entry = self.spec.entry
        return changesets.protected_hits(self.changes, [*entry.protected_resources, *entry.guarded_resources])

    @property
    def has_work(self) -> bool:
        return self.action != NONE or bool(self.settings)

    def to_json(self) -> dict[str, Any]:
        diff = self.diff
        return {
            "name": self.spec.name,
            "stack_name": self.spec.stack_name,
            "action": self.action,
            "status": (self.stack or {}).get("StackStatus"),
            "change_set_id": self.change_set_id,
            "changes": [c.to_json() for c in self.changes],
            "parameters": [
                {"key": p.key, "old": None if p.secret else p.old, "new": None if p.secret else p.new, "note": p.note}
                for p in (diff.parameters if diff else [])
            ],
            "tags": {
                "added": diff.tags_added if diff else {},
                "changed": {k: {"old": o, "new": n} for k, (o, n) in (diff.tags_changed if diff else {}).items()},
                "removed": diff.tags_removed if diff else {},
            },
            "settings": self.settings,
            "notes": self.notes,
            "refused": [c.logical_id for c in self.refused],
            "delete_first": self.delete_first,
            "upstream_pending": self.upstream_pending,
            "security": self.security.to_json() if self.security else None,
        }


@dataclass
class Plan:
    identity: Identity
    stacks: list[StackPlan]
    assets_missing: list[str] = field(default_factory=list)
    asset_target: BucketTarget | None = None

    def by_name(self, name: str) -> StackPlan:
        return next(sp for sp in self.stacks if sp.spec.name == name)

    @property
    def has_changes(self) -> bool:
        return any(sp.has_work for sp in self.stacks) or bool(self.assets_missing)

    @property
    def refused(self) -> list[tuple[StackPlan, ResourceChange]]:
        return [(sp, c) for sp in self.stacks for c in sp.refused]

    def counts(self) -> dict[str, int]:
        counts = {"add": 0, "change": 0, "destroy": 0, "replace": 0}
        key = {"add": "add", "import": "add", "modify": "change", "dynamic": "change", "remove": "destroy", "replace": "replace"}
        for sp in self.stacks:
            for change in sp.changes:
                counts[key.get(change.action, "change")] += 1
        return counts

    def summary(self) -> str:
        c = self.counts()
        return f"Plan: {c['add']} to add, {c['change']} to change, {c['destroy']} to destroy, {c['replace']} to replace."

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.identity.account,
            "stacks": [sp.to_json() for sp in self.stacks],
            "assets_missing": self.assets_missing,
            "summary": self.counts(),
            "has_changes": self.has_changes,
        }

    def cleanup(self, ctx: Context) -> None:
        """Delete the change sets this run created and did not execute (plan, declined, refused)."""
        for sp in self.stacks:
            if sp.change_set_id:
                try:
                    changesets.delete(ctx, sp.change_set_id, label=sp.label)
                except DeployError as exc:
                    ctx.reporter.warn(f"could not delete change set {sp.change_set_id}: {exc}")
                sp.change_set_id = None


# -- building ---------------------------------------------------------------------------------------


def template_changes(spec: StackSpec, ev: Evaluator, tags: dict[str, str]) -> list[ResourceChange]:
    """What a first create adds: the resources whose Condition is true with the build's values, with their
    properties (a Condition decided only at deploy is named; none of the project's templates has one)."""
    changes = []
    for logical_id, body in spec.resources.items():
        created = ev.created(logical_id)
        if created is False:
            continue
        changes.append(ResourceChange(
            action="add",
            logical_id=logical_id,
            resource_type=body.get("Type", "?"),
            condition=body.get("Condition") if created is None else None,
            created=created_leaves(ev, logical_id, tags),
        ))
    return changes


def built_evaluator(ctx: Context, sp: StackPlan) -> Evaluator:
    """The built template with the build's values; an SSM-typed parameter has the value Parameter Store holds
    now (what a change set made now resolves), or is known after deploy when it is not there (yet)."""
    spec = sp.spec
    values = dict(spec.values)
    unknown = set(spec.use_previous)
    for key, decl in spec.declarations.items():
        if decl.is_ssm and key in values:
            current = sp.ssm_values.get(values[key])
            if current is None:
                unknown.add(key)
            else:
                values[key] = current
    stack_id = (sp.stack or {}).get("StackId")
    return Evaluator(spec.template, values, region=ctx.manifest.region, account=sp.account,
                     stack_name=spec.stack_name, stack_id=stack_id, unknown=unknown)


def deployed_evaluator(ctx: Context, sp: StackPlan, template: Any) -> Evaluator | None:
    """The deployed template with the values CloudFormation used (SSM-typed: the resolved value)."""
    if isinstance(template, str):
        try:
            template = json.loads(template)
        except json.JSONDecodeError:
            return None  # a YAML template: shown without old → new
    if not isinstance(template, dict) or sp.stack is None:
        return None
    values: dict[str, str] = {}
    unknown: set[str] = set()
    for param in sp.stack.get("Parameters") or []:
        key = param["ParameterKey"]
        # CloudFormation gives an SSM-typed parameter's value in ResolvedValue; moto 5.2.5 has none and puts the
        # resolved value in ParameterValue (docs/deploying.md, "What moto cannot do")
        value = param.get("ResolvedValue", param.get("ParameterValue"))
        if value is None or value == compare.NO_ECHO_MASK:
            unknown.add(key)
            continue
        listed = compare._moto_list(str(value))
        values[key] = ",".join(listed) if listed is not None else str(value)
    return Evaluator(template, values, region=ctx.manifest.region, account=sp.account,
                     stack_name=sp.spec.stack_name, stack_id=sp.stack.get("StackId"), unknown=unknown)


def explain(ctx: Context, sp: StackPlan, template: Any) -> None:
    """Old → new per changed property of each resource of the change set, the properties of what it adds, and
    the IAM statements and security-group rules it adds and removes."""
    new = built_evaluator(ctx, sp)
    old = deployed_evaluator(ctx, sp, template)
    tags = ctx.manifest.tags
    for change in sp.changes:
        if change.action in ("add", "import"):
            change.created = created_leaves(new, change.logical_id, tags)
        elif change.action in ("modify", "replace", "dynamic") and old is not None:
            change.diffs = changed_leaves(old, new, change.logical_id, change.resource_type, tags)
    if old is not None:
        sp.security = security_diff(old, new)


def deployed_template(ctx: Context, stack_id: str, *, label: str) -> Any:
    try:
        return ctx.clients.cloudformation.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"]
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="GetTemplate", stack=label) from exc


def blocked_message(spec: StackSpec, stack: dict[str, Any], ctx: Context) -> str:
    status = stack["StackStatus"]
    name = spec.stack_name
    reason = stack.get("StackStatusReason")
    why = f" ({reason})" if reason else ""
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            f"{name} is UPDATE_ROLLBACK_FAILED{why}: a failed update could not be rolled back, so CloudFormation "
            "accepts no update until the rollback is continued.\n"
            f"Next: fix what blocked the rollback (see the stack's events), then either run `{ctx.resume_command()} "
            f"ARGS=--continue-rollback` (deploy continues the rollback, then updates), or run `aws cloudformation "
            f"continue-update-rollback --stack-name {name}` yourself (add --resources-to-skip for resources that "
            "cannot roll back)."
        )
    if status == "DELETE_FAILED":
        return (
            f"{name} is DELETE_FAILED{why}: a delete did not finish.\nNext: run the destroy again "
            f"(`make destroy ENV={ctx.manifest.environment}`), or delete the blocking resources by hand and retry."
        )
    return (
        f"{name} is {status}{why}: CloudFormation accepts no change set in this state.\n"
        f"Next: look at the stack's events, delete the stack (`aws cloudformation delete-stack --stack-name {name}`) "
        "once nothing in it holds data you need, then deploy again."
    )


def settings_for(ctx: Context, sp: StackPlan) -> list[str]:
    """Stack policy and termination protection differences (new stacks: what will be set after create)."""
    spec = sp.spec
    settings = []
    protected = spec.entry.protected_resources
    want_tp = ctx.manifest.settings.termination_protection
    if sp.stack is None or sp.delete_first:
        if want_tp:
            settings.append("termination protection: on")
        if protected:
            settings.append(f"stack policy: deny replacing or deleting {', '.join(protected)}")
        return settings
    if want_tp and not sp.stack.get("EnableTerminationProtection"):
        settings.append("termination protection: off → on")
    if protected and current_policy(ctx, sp.stack["StackId"], label=sp.label) != protective_policy(protected):
        settings.append(f"stack policy: deny replacing or deleting {', '.join(protected)}")
    return settings


def plan_existing(ctx: Context, sp: StackPlan) -> None:
    """Compare, and create a change set only when something differs."""
    spec, stack = sp.spec, sp.stack
    assert stack is not None
    template = deployed_template(ctx, stack["StackId"], label=sp.label)
    ssm_values = compare.current_ssm_values(ctx.clients.ssm, compare.ssm_names(spec), stack=sp.label)
    sp.ssm_values = ssm_values
    sp.diff = compare.diff_stack(spec, stack, template, ctx.manifest.tags, ssm_values)
    if sp.diff.no_changes:
        sp.action = NONE
        return
    make_change_set(ctx, sp, change_set_type="UPDATE")
    if sp.changes:
        explain(ctx, sp, template)


def make_change_set(ctx: Context, sp: StackPlan, *, change_set_type: str, target: BucketTarget | None = None) -> None:
    spec = sp.spec
    template = template_argument(ctx, spec, lambda: target or current_target(ctx))
    try:
        cs_id, stack_id = changesets.create(
            ctx,
            label=sp.label,
            stack_name=spec.stack_name,
            change_set_type=change_set_type,
            template=template,
            parameters=compare.api_parameters(spec, stack_exists=change_set_type == "UPDATE"),
            capabilities=spec.entry.capabilities,
            name_prefix=changesets.SAVED_PREFIX if ctx.options.save_plan else "mmtool",
        )
    except changesets.NoChanges:
        sp.action = NONE
        sp.notes.append("CloudFormation: no updates are to be performed")
        return
    sp.change_set_id, sp.stack_id = cs_id, stack_id
    description = changesets.wait_created(ctx, cs_id, label=sp.label)
    if "TemplateURL" in template:  # what CloudFormation read from the bucket must be the build's (integrity.py)
        try:
            check_change_set_template(ctx, change_set_id=cs_id, stack_id=stack_id, template=spec.template, label=sp.label)
        except DeployError:
            changesets.delete(ctx, cs_id, label=sp.label)
            sp.change_set_id = None
            raise
    if changesets.is_empty(description):
        changesets.delete(ctx, cs_id, label=sp.label)
        sp.change_set_id = None
        sp.action = NONE
        sp.notes.append("CloudFormation found no changes (empty change set deleted)")
        return
    if description.get("Status") == "FAILED":
        reason = description.get("StatusReason") or "no reason given"
        changesets.delete(ctx, cs_id, label=sp.label)
        sp.change_set_id = None
        raise DeployError(
            f"{sp.label}: CloudFormation could not create the change set: {reason}\n"
            f"{sp.label} is unchanged: the failed change set was deleted"
            + (" (and the empty stack it made)." if change_set_type == "CREATE" else ".") + "\n"
            "Next: fix the template or parameters (params/<env>.yaml), run `make build`, and plan again."
        )
    sp.action = UPDATE if change_set_type == "UPDATE" else CREATE
    sp.changes = changesets.parse(description)


def _resolve_name(value: Any, values: dict[str, str]) -> str | None:
    """An SSM parameter resource's Name: a string, or ``Fn::Sub`` over the stack's own parameters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        text = value["Fn::Sub"]
        for key, given in values.items():
            text = text.replace("${" + key + "}", given)
        return None if "${" in text else text
    return None


def ssm_owners(ctx: Context) -> dict[str, StackSpec]:
    """SSM parameter name -> the manifest stack whose template creates it."""
    owners: dict[str, StackSpec] = {}
    for spec in ctx.manifest.stacks:
        for body in spec.resources.values():
            if body.get("Type") == "AWS::SSM::Parameter":
                name = _resolve_name((body.get("Properties") or {}).get("Name"), spec.values)
                if name:
                    owners[name] = spec
    return owners


def note_values_changed_outside(ctx: Context, plans: list[StackPlan]) -> None:
    """A value read through SSM moved while the stack that writes it has nothing to change: it was changed
    outside this deploy (by hand, or by a run that stopped before reaching the reader). Say so loudly: a
    deploy passes the new value on, and CloudFormation never puts the old one back."""
    owners = ssm_owners(ctx)
    by_name = {sp.spec.name: sp for sp in plans}
    for sp in plans:
        for change in sp.diff.parameters if sp.diff else []:
            if not change.note or change.new not in owners:
                continue
            owner = by_name.get(owners[change.new].name)
            if owner is None or owner is sp or owner.has_work or owner.stack is None:
                continue
            sp.notes.append(
                f"{change.new} ({change.key}) changed outside this deploy: it belongs to {owner.label}, which "
                "this plan does not change (set by hand, or by a run that stopped before this stack). Deploying "
                f"passes the new value on. If it is wrong, do not apply: `make drift ENV={ctx.manifest.environment}` "
                f"shows it, `aws ssm put-parameter --overwrite --name {change.new} --value <old>` restores it."
            )


def current_target(ctx: Context) -> BucketTarget | None:
    """The project bucket and key, when the stack that creates them exists."""
    model = ctx.manifest.model
    if model.asset_bucket is None:
        return None
    spec = ctx.manifest.stack(model.asset_bucket.stack)
    stack = describe_stack(ctx, spec.stack_name, label=spec.stack_name)
    return target_from_stack(ctx, stack)


def target_from_stack(ctx: Context, stack: dict[str, Any] | None) -> BucketTarget | None:
    model = ctx.manifest.model
    if model.asset_bucket is None or stack is None or stack.get("StackStatus") not in UPDATABLE:
        return None
    refuse_strangers(ctx, [(stack["StackName"], stack)], verb="upload")  # our objects go only into our bucket
    bucket = output_value(stack, model.asset_bucket.output)
    if not bucket:
        return None
    key = None
    if model.asset_kms_key is not None:
        key_stack = stack
        if model.asset_kms_key.stack != model.asset_bucket.stack:
            other = ctx.manifest.stack(model.asset_kms_key.stack)
            key_stack = describe_stack(ctx, other.stack_name, label=other.stack_name)
            refuse_strangers(ctx, [(other.stack_name, key_stack)], verb="upload")
        key = output_value(key_stack, model.asset_kms_key.output)
    return BucketTarget(bucket=bucket, kms_key=key)


def inspect(ctx: Context) -> dict[str, dict[str, Any] | None]:
    """DescribeStacks for every stack (in parallel); stacks in progress are waited for first."""
    specs = ctx.manifest.stacks
    described = each(ctx, lambda s: describe_stack(ctx, s.stack_name, label=s.stack_name), specs)
    refuse_strangers(ctx, [(s.stack_name, stack) for s, stack in zip(specs, described)], verb="plan")  # before any wait
    found = {spec.name: stack for spec, stack in zip(specs, described)}
    for spec in specs:
        stack = found[spec.name]
        if stack is not None and in_progress(stack["StackStatus"]):
            ctx.reporter.warn(
                f"{spec.stack_name} is {stack['StackStatus']} (another operation is running): waiting for it "
                f"(up to --wait-timeout={ctx.options.wait_timeout:g}s)"
            )
            marker = latest_event_id(ctx, stack["StackId"], label=spec.stack_name)
            with ctx.reporter.progress():
                result = wait_stable(ctx, spec.stack_name, stack["StackId"], marker, why=" (operation started elsewhere)")
            ctx.reporter.info(f"{spec.stack_name} is now {result.status}")
            found[spec.name] = None if result.status == "DELETE_COMPLETE" else result.stack
    return found


def check_shared(ctx: Context) -> None:
    """``--endpoint KEY``: the shared stacks that endpoint's stacks depend on must be deployed and settled
    (they are not part of the run, so nothing would create them)."""
    m = ctx.manifest
    stacks = each(ctx, lambda s: describe_stack(ctx, s.stack_name, label=s.stack_name), m.shared)
    refuse_strangers(ctx, [(s.stack_name, stack) for s, stack in zip(m.shared, stacks)], verb="plan")
    problems = []
    for spec, stack in zip(m.shared, stacks):
        if stack is None:
            problems.append(f"{spec.stack_name} is not deployed")
        elif stack["StackStatus"] not in UPDATABLE:
            problems.append(f"{spec.stack_name} is {stack['StackStatus']}")
    if problems:
        raise RefusedError(
            f"--endpoint {m.endpoint}: the shared stacks its stacks depend on are not ready: {'; '.join(problems)}. "
            "Nothing was changed.\n"
            f"Next: deploy the whole environment first (`{ctx.command('deploy')}`: the shared stacks, then every "
            f"endpoint), then `{ctx.command('deploy', m.endpoint)}` deploys this endpoint's stacks alone."
        )


def new_stack(ctx: Context, sp: StackPlan) -> None:
    """A stack to create: what its template creates with the build's values; values other stacks write
    (SSM-typed parameters) are known after deploy."""
    ev = built_evaluator(ctx, StackPlan(spec=sp.spec, action=CREATE, account=sp.account))
    sp.changes = template_changes(sp.spec, ev, ctx.manifest.tags)
    sp.security = security_diff(None, ev)


def make_plan(ctx: Context, identity: Identity) -> Plan:
    if ctx.manifest.shared:
        check_shared(ctx)
    found = inspect(ctx)
    remove_unused_saved_plan(ctx, found)
    plans: list[StackPlan] = []
    blocked: list[str] = []
    for spec in ctx.manifest.stacks:
        stack = found[spec.name]
        sp = StackPlan(spec=spec, action=NONE, stack=stack, notes=list(spec.entry.notes),  # the build's notes first
                       account=identity.account)
        plans.append(sp)
        if stack is None:
            sp.action = CREATE
            new_stack(ctx, sp)
            continue
        status = stack["StackStatus"]
        if status == REVIEW:
            sp.action, sp.delete_first = CREATE, True
            new_stack(ctx, sp)
            sp.notes.append("a leftover REVIEW_IN_PROGRESS stack (a change set never executed, no resources) is deleted first")
        elif status == "ROLLBACK_COMPLETE":
            sp.action, sp.delete_first = RECREATE, True
            new_stack(ctx, sp)
            sp.notes.append(
                "ROLLBACK_COMPLETE: its first create failed and was rolled back; the stack is deleted and created again "
                "(resources with DeletionPolicy Retain that it created are not touched)"
            )
        elif status == "UPDATE_ROLLBACK_FAILED" and ctx.options.continue_rollback:
            sp.action = CONTINUE_ROLLBACK
            sp.notes.append("UPDATE_ROLLBACK_FAILED: the rollback is continued first (--continue-rollback); "
                            "the update's changes are computed once it is UPDATE_ROLLBACK_COMPLETE")
        elif status in NEEDS_ACTION:
            blocked.append(blocked_message(spec, stack, ctx))
        elif status not in UPDATABLE:
            blocked.append(f"{spec.stack_name} is {status}: not a state the deployer can update from.")
    if blocked:
        raise RefusedError("\n".join(blocked) + "\nNothing was changed.")

    existing = [sp for sp in plans if sp.stack is not None and sp.action == NONE]
    try:
        each(ctx, lambda sp: plan_existing(ctx, sp), existing)  # change set creation is the slow call
        changed: set[str] = set()
        for sp in plans:  # manifest order: upstream first
            sp.upstream_pending = any(dep in changed for dep in sp.spec.depends_on)
            if sp.action != NONE:
                changed.add(sp.spec.name)
            if sp.upstream_pending and sp.action in (UPDATE, NONE) and sp.stack is not None:
                sp.notes.append("upstream stacks change first; values read from them are compared again then")
        for sp in plans:
            sp.settings = settings_for(ctx, sp)
        note_kept(ctx, plans)  # a data stack to create again after a destroy (continuity.py)
        note_values_changed_outside(ctx, plans)
    except BaseException:
        Plan(identity=identity, stacks=plans).cleanup(ctx)
        raise

    plan = Plan(identity=identity, stacks=plans)
    attach_assets(ctx, plan)
    return plan


def remove_unused_saved_plan(ctx: Context, found: dict[str, dict[str, Any] | None]) -> None:
    """Delete the change sets a saved plan (``plan --out``) left unused on this run's stacks: a new plan
    replaces it (deploy --plan of the old file then refuses it as stale)."""
    specs = [spec for spec in ctx.manifest.stacks if found.get(spec.name)]
    removed = each(ctx, lambda s: changesets.remove_saved(ctx, found[s.name]["StackId"], label=s.stack_name), specs)
    for spec, names in zip(specs, removed):
        if names:
            ctx.reporter.info(f"{spec.stack_name}: deleted {len(names)} change set(s) of an unused saved plan "
                              f"(plan --out): {', '.join(names)}")


def attach_assets(ctx: Context, plan: Plan) -> None:
    """The project bucket the assets go to, and which of them are not there yet."""
    plans = plan.stacks
    model = ctx.manifest.model
    if model.asset_bucket is not None and (ctx.manifest.asset_files or ctx.manifest.copies):
        if any(sp.spec.name == model.asset_bucket.stack for sp in plans):
            bucket_plan = plan.by_name(model.asset_bucket.stack)
            target = None if bucket_plan.delete_first else target_from_stack(ctx, bucket_plan.stack)
        else:  # --endpoint: the bucket's stack is shared, deployed (check_shared), outside this run
            target = current_target(ctx)
        plan.asset_target = target
        plan.assets_missing = missing_assets(ctx, target)


# -- showing ----------------------------------------------------------------------------------------

_STYLE = {"+": "green", "~": "yellow", "-": "red", "±": "bold magenta"}
_HEADLINE = {
    CREATE: "[green]create[/]",
    UPDATE: "[yellow]update[/]",
    NONE: "[dim]no changes[/]",
    RECREATE: "[bold red]delete and create again[/]",
    CONTINUE_ROLLBACK: "[bold yellow]continue rollback, then update[/]",
}


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def change_detail(change: ResourceChange) -> str:
    if change.action == "replace":
        forced = ", ".join(change.replaced_by) or ", ".join(change.properties) or "a property"
        maybe = "may be replaced" if change.replacement == "Conditional" else "replaced"
        caused = f"; caused by {', '.join(change.causes)}" if change.causes else ""
        return f"{maybe} (forced by {forced}{caused})"
    if change.action in ("modify", "dynamic"):
        if change.diffs:  # old → new per property, on their own lines
            return f"caused by {', '.join(change.causes)}" if change.causes else ""
        if change.values:
            return "; ".join(f"{p}: {_short(b)} → {_short(a)}" for p, b, a in change.values)
        if change.properties:
            return ", ".join(change.properties)
        if change.scope:
            return ", ".join(change.scope)
    if change.condition:
        return f"if {change.condition}"
    return ""


def render_changes(ctx: Context, sp: StackPlan) -> None:
    """One line per resource (symbol, logical id, type, what happens), then its properties: what an add
    creates, old → new of what changes."""
    r = ctx.reporter
    id_width = max(len(c.logical_id) for c in sp.changes)
    type_width = max(len(c.resource_type) for c in sp.changes)
    refused = {c.logical_id for c in sp.refused}
    for change in sp.changes:
        style = _STYLE.get(change.symbol, "")
        kind_of = "guarded" if change.logical_id in sp.spec.entry.guarded_resources else "protected"
        flag = f"  [bold red]REFUSED: {kind_of} resource[/]" if change.logical_id in refused else ""
        detail = change_detail(change)
        kind = change.resource_type.ljust(type_width) if detail or flag else change.resource_type
        r.print(f"  [{style}]{change.symbol}[/]  {escape(change.logical_id.ljust(id_width))} [dim]{escape(kind)}[/]"
                + (f" {escape(detail)}" if detail else "") + flag)
        for path, value in change.created:
            r.print(f"       [dim]{escape(path)}:[/] {escape(value)}")
        for path, old, new in change.diffs:
            arrow = " " if old == "changed" else " [yellow]→[/] "  # a policy or rules: see the table
            r.print(f"       [dim]{escape(path)}:[/] {escape(old)}{arrow}{escape(new)}")


_SECURITY_HEADERS = {
    "statements": ["", "resource", "effect", "action", "resource ARN", "principal", "condition"],
    "rules": ["", "group", "direction", "protocol", "ports", "peer", "description"],
}


def render_security(ctx: Context, security: SecurityDiff) -> None:
    """The IAM statements and security-group rules the stack adds (+) and removes (-), as tables."""
    for kind, added, removed in (("statements", security.statements_added, security.statements_removed),
                                 ("rules", security.rules_added, security.rules_removed)):
        if not added and not removed:
            continue
        title = "IAM statements" if kind == "statements" else "security-group rules"
        ctx.reporter.print(f"  [bold]{title}[/] ([green]+{len(added)}[/] [red]-{len(removed)}[/])")
        table = Table(box=None, show_header=True, header_style="dim", padding=(0, 1), pad_edge=False)
        for header in _SECURITY_HEADERS[kind]:
            table.add_column(header, overflow="fold")
        for symbol, items in (("+", added), ("-", removed)):
            style = _STYLE[symbol]
            for item in items:
                table.add_row(f"    [{style}]{symbol}[/]", *(escape(cell) for cell in item.row()))
        ctx.reporter.print(table)


def plan_cost(ctx: Context, plan: Plan) -> tuple[cost_view.CostFile, list[cost_view.Row]] | None:
    """build/<env>/cost.json matched to this plan's stacks (deployer/cost_view.py); None without one."""
    cost = cost_view.load(ctx.manifest.path.parent)
    if cost is None:
        return None
    actions = {sp.spec.name: (sp.action, {p.key: cost_view.ParamChange(None if p.secret else p.old,
                                                                        None if p.secret else p.new, p.describe())
                                          for p in (sp.diff.parameters if sp.diff else [])})
               for sp in plan.stacks}
    return cost, cost_view.classify(cost, actions)


def render_plan(ctx: Context, plan: Plan) -> None:
    r = ctx.reporter
    m = ctx.manifest
    r.print(
        f"[bold]Plan for {escape(m.project)} {escape(m.environment)}"
        + (f", endpoint {escape(m.endpoint)} only" if m.endpoint else "")
        + f"[/] — account {plan.identity.account}, region {escape(m.region)}"
    )
    notes = notes_once({sp.label: sp.notes for sp in plan.stacks})
    for sp in plan.stacks:
        r.print("")
        suffix = f" [dim](change set {escape(sp.change_set_id.rsplit('/', 1)[0].rsplit(':', 1)[-1])})[/]" if sp.change_set_id else ""
        r.print(f"[bold]{escape(sp.label)}[/]  {_HEADLINE.get(sp.action, sp.action)}{suffix}")
        for note in notes[sp.label]:
            r.print(f"  [dim]note: {escape(note)}[/]")
        if sp.changes:
            render_changes(ctx, sp)
        elif sp.action == UPDATE:
            r.print("  [dim]no resource changes (stack parameters or tags only)[/]")
        diff = sp.diff
        if diff and diff.parameters and sp.action != NONE:
            r.print("  parameters:")
            for change in diff.parameters:
                r.print(f"    [yellow]~[/] {escape(change.describe())}")
        if diff and diff.tags_differ and sp.action != NONE:
            r.print("  stack tags:")
            for k, v in diff.tags_added.items():
                r.print(f"    [green]+[/] {escape(k)}={escape(v)}")
            for k, (o, n) in diff.tags_changed.items():
                r.print(f"    [yellow]~[/] {escape(k)}: {escape(o)} → {escape(n)}")
            for k, v in diff.tags_removed.items():
                r.print(f"    [red]-[/] {escape(k)}={escape(v)}")
        for setting in sp.settings:
            r.print(f"  [cyan]•[/] {escape(setting)}")
        if sp.security is not None and not sp.security.empty:
            render_security(ctx, sp.security)
    if plan.assets_missing:
        r.print("")
        r.print("[bold]assets[/]")
        where = f"s3://{plan.asset_target.bucket}/" if plan.asset_target else "(project bucket, once created) "
        for key in plan.assets_missing:
            r.print(f"  [green]+[/] {escape(where + key)}")
    cost = plan_cost(ctx, plan)
    if cost is not None:
        r.print("")
        for line in cost_view.render(*cost, new_environment=all(sp.action == CREATE for sp in plan.stacks)):
            r.line(line)
    r.print("")
    if not plan.has_changes:
        r.print("[bold green]No changes.[/] The deployed stacks match the build.")
    else:
        r.print(f"[bold]{plan.summary()}[/]")
    for sp, change in plan.refused:
        r.print(
            f"[bold red]Refused:[/] {escape(sp.label)}: {escape(change.logical_id)} ({escape(change.resource_type)}) "
            f"would be {'removed' if change.action == 'remove' else 'replaced'}; it is "
            f"{'guarded' if change.logical_id in sp.spec.entry.guarded_resources else 'protected'}."
        )


def refusal_error(refused: list[tuple[StackPlan, ResourceChange]]) -> RefusedError:
    lines = []
    for sp, change in refused:
        if change.action == "remove":
            what = f"removes {change.logical_id} ({change.resource_type})"
        else:
            forced = ", ".join(change.replaced_by or change.properties) or "a property"
            maybe = "may replace" if change.replacement == "Conditional" else "replaces"
            what = f"{maybe} {change.logical_id} ({change.resource_type}; forced by {forced})"
        guarded = sp.spec.entry.guarded_resources.get(change.logical_id)
        lines.append(
            f"{sp.label}: the plan {what}, a guarded resource: {guarded}." if guarded else
            f"{sp.label}: the plan {what}, a protected resource. A new bucket or key starts empty; the old one "
            "is kept (Retain) but no longer used."
        )
    lines.append(
        "Nothing was changed. Next: keep the property that forces the replacement unchanged in params/<env>.yaml, "
        "or re-run with --allow-replacement (ARGS=--allow-replacement) if the replacement is intended."
    )
    return RefusedError("\n".join(lines))


def plan_command(ctx: Context, *, json_output: bool = False, keep: Callable[[Plan], None] | None = None) -> int:
    """``plan``: show what deploy would do, then delete the change sets it made (``keep``: hand them to a
    saved plan instead, deployer/saved_plan.py). Exit 3 when the plan replaces or removes a protected
    resource (unless --allow-replacement)."""
    from .preflight import preflight

    identity = preflight(ctx)
    with Step(f"plan {ctx.manifest.environment}", to_stderr):  # change sets take seconds each
        plan = make_plan(ctx, identity)
    kept = False
    try:
        if json_output:
            body = plan.to_json()
            cost = plan_cost(ctx, plan)
            if cost is not None:
                body["cost"] = cost_view.to_json(*cost)
            print(json.dumps(body, indent=2, sort_keys=True, default=str))
        else:
            render_plan(ctx, plan)
        if keep is not None and not (plan.refused and not ctx.options.allow_replacement):
            keep(plan)
            kept = True
    finally:
        if not kept:
            plan.cleanup(ctx)
    if plan.refused and not ctx.options.allow_replacement:
        raise refusal_error(plan.refused)
    return EXIT_CHANGES if ctx.options.detailed_exitcode and plan.has_changes else EXIT_OK
