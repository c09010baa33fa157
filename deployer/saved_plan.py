"""Saved plans, like ``terraform plan -out`` and ``terraform apply PLANFILE``.

``plan --out FILE`` keeps the change sets it made (named ``mmtool-saved-...``) and writes FILE: the
environment and account, a digest of the build (manifest, every template and parameter file; the manifest
holds the assets' hashes), per stack its change set, what it looked like (id, status, last update, newest
event) and the Parameter Store values it reads, and the plan as ``plan --json`` prints it.

``deploy --plan FILE`` first checks that nothing moved since: the same build, the same account, every
stack as it was, every Parameter Store value the stacks read unchanged, every change set still there and
executable. Anything else refuses the plan as stale, with the reasons and the commands that plan again,
before any change. Then it executes exactly those change sets, stack by stack as ``deploy`` does. Two
things are made at deploy time, as the plan said: a stack that does not exist yet is created from the
(checked) build, and a stack whose upstream stacks change first gets a fresh change set when the values
it reads changed (otherwise its saved change set runs).

The next plan of the environment (``plan`` or ``deploy``) deletes the change sets of a saved plan left
unused (:func:`deployer.plan.remove_unused_saved_plan`); its file is then stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from . import changesets, compare
from .aws import Identity
from .context import Context
from .errors import DeployError, InputError, RefusedError
from .events import describe_stack, latest_event_id
from .graph import each
from .manifest import Manifest
from .plan import (
    Plan,
    StackPlan,
    attach_assets,
    check_shared,
    new_stack,
    plan_command,
    render_plan,
    settings_for,
)

FORMAT = "mmtool-saved-plan"
VERSION = 1


def build_digest(manifest: Manifest) -> str:
    """sha256 over the manifest (which names every asset's sha256) and every stack's template and values."""
    digest = hashlib.sha256(manifest.path.read_bytes())
    for spec in manifest.everything or manifest.stacks:
        digest.update(f"\n{spec.name}\n{spec.template_sha256}\n".encode())
        digest.update(json.dumps(spec.values, sort_keys=True).encode())
    return digest.hexdigest()


def _when(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (None if value is None else str(value))


def stack_marker(ctx: Context, stack: dict[str, Any] | None, label: str) -> dict[str, Any] | None:
    """What a stack looks like now; any operation on it changes its status, last update or newest event."""
    if stack is None:
        return None
    return {
        "stack_id": stack["StackId"],
        "status": stack["StackStatus"],
        "last_updated": _when(stack.get("LastUpdatedTime") or stack.get("CreationTime")),
        "last_event": latest_event_id(ctx, stack["StackId"], label=label),
    }


def _ssm_values(ctx: Context, sp: StackPlan) -> dict[str, str | None]:
    names = compare.ssm_names(sp.spec)
    if names and not all(n in sp.ssm_values for n in names):
        sp.ssm_values = compare.current_ssm_values(ctx.clients.ssm, names, stack=sp.label)
    return {n: sp.ssm_values.get(n) for n in names}


def save(ctx: Context, plan: Plan, path: Path) -> None:
    m = ctx.manifest
    stacks = each(ctx, lambda sp: {
        "name": sp.spec.name,
        "stack_name": sp.label,
        "action": sp.action,
        "change_set_id": sp.change_set_id,
        "stack": stack_marker(ctx, sp.stack, sp.label),
        "ssm_values": _ssm_values(ctx, sp),
        "delete_first": sp.delete_first,
        "upstream_pending": sp.upstream_pending,
    }, plan.stacks)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "project": m.project,
        "environment": m.environment,
        "region": m.region,
        "endpoint": m.endpoint,
        "account": plan.identity.account,
        "planned_by": plan.identity.arn,
        "planned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "manifest": str(m.path),
        "build_sha256": build_digest(m),
        "stacks": stacks,
        "plan": plan.to_json(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        json.dump(data, tmp, indent=2, sort_keys=True, default=str)
    os.replace(tmp.name, path)


def plan_and_save(ctx: Context, out: Path, *, json_output: bool = False) -> int:
    """``plan --out FILE``: the plan as ``plan`` shows it; its change sets are kept and FILE written."""
    ctx.options.save_plan = True
    return plan_command(ctx, json_output=json_output, keep=lambda plan: _keep(ctx, plan, out))


def _keep(ctx: Context, plan: Plan, out: Path) -> None:
    save(ctx, plan, out)
    ctx.reporter.info(f"Saved plan: {out}. Apply exactly this plan with `{apply_command(ctx, out)}`; "
                      "a later plan of this environment replaces it (its change sets are deleted).")


def apply_command(ctx: Context, path: Path | str) -> str:
    return _with_flag(_command(ctx, "deploy"), f"--plan {path}")


def plan_again_command(ctx: Context, path: Path | str) -> str:
    return _with_flag(_command(ctx, "plan"), f"--out {path}")


def _command(ctx: Context, verb: str) -> str:
    """``make <verb> ENV=e`` (what the CLI was called as decides the spelling, whichever verb it was)."""
    resume, endpoint, env = ctx.options.resume_command, ctx.options.endpoint, ctx.manifest.environment
    if not resume or resume.startswith("make "):
        return f"make {verb} ENV={env}" + (f" ENDPOINT={endpoint}" if endpoint else "")
    words = resume.split()
    at = next((i for i, w in enumerate(words) if w in ("plan", "deploy")), None)
    if at is not None:
        words[at] = verb
    return " ".join(words) + (f" --endpoint {endpoint}" if endpoint else "")


def _with_flag(command: str, flag: str) -> str:
    if command.startswith("make "):
        return f'{command} ARGS="{flag}"'
    return f"{command} {flag}"


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such saved plan. Next: make one with `plan --out {path}`.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the saved plan: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not a saved plan (invalid JSON: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise InputError(f"{path}: not a saved plan of this tool (format {FORMAT} version {VERSION}). "
                         "Next: make one with `plan --out FILE`.")
    return data


def _changed(before: dict[str, Any] | None, now: dict[str, Any] | None) -> str | None:
    if before == now:
        return None
    if before is None:
        return f"it was created since ({now['status']})" if now else None
    if now is None:
        return "it was deleted since"
    if now["stack_id"] != before["stack_id"]:
        return "it was deleted and created again since"
    changes = [f"{key.replace('_', ' ')} {before[key]} → {now[key]}" for key in ("status", "last_updated")
               if before.get(key) != now.get(key)]
    return "it changed since (" + ("; ".join(changes) or "new stack events") + ")"


def load(ctx: Context, identity: Identity, path: Path) -> Plan:
    """The saved plan as a :class:`Plan` whose change sets are the saved ones, after checking that nothing
    changed since it was made; a stale plan raises :class:`RefusedError` with every reason."""
    data = read(path)
    m = ctx.manifest
    mine = {"project": m.project, "environment": m.environment, "region": m.region, "endpoint": m.endpoint}
    theirs = {key: data.get(key) for key in mine}
    if theirs != mine:
        def words(d: dict[str, Any]) -> str:
            return f"{d['project']} {d['environment']} in {d['region']}" + (f", endpoint {d['endpoint']}" if d["endpoint"] else "")
        raise InputError(f"{path}: a plan of {words(theirs)}, not of {words(mine)} ({m.path}). "
                         f"Next: `{plan_again_command(ctx, path)}`.")
    if m.shared:  # --endpoint: the shared stacks outside the run must still be deployed and settled
        check_shared(ctx)
    reasons: list[str] = []
    if data.get("account") != identity.account:
        reasons.append(f"it was made for account {data.get('account')}; the credentials are for {identity.account}")
    if data.get("build_sha256") != build_digest(m):
        reasons.append(f"the build changed since ({m.path.parent}: templates, parameter files or assets)")
    saved = {entry["name"]: entry for entry in data.get("stacks", [])}
    if sorted(saved) != sorted(spec.name for spec in m.stacks):
        reasons.append("its stacks are not this build's")
        raise _stale(ctx, path, reasons)

    def check(spec: Any) -> tuple[StackPlan, list[str]]:
        entry = saved[spec.name]
        problems: list[str] = []
        stack = describe_stack(ctx, spec.stack_name, label=spec.stack_name)
        moved = _changed(entry.get("stack"), stack_marker(ctx, stack, spec.stack_name))
        if moved:
            problems.append(f"{spec.stack_name}: {moved}")
        sp = StackPlan(spec=spec, action=entry["action"], stack=stack, saved=True, account=identity.account,
                       delete_first=bool(entry.get("delete_first")), upstream_pending=bool(entry.get("upstream_pending")),
                       ssm_values=dict(entry.get("ssm_values") or {}))
        now = compare.current_ssm_values(ctx.clients.ssm, list(sp.ssm_values), stack=spec.stack_name)
        for name, value in sp.ssm_values.items():
            if now.get(name) != value:
                problems.append(f"{spec.stack_name}: Parameter Store {name} changed since: "
                                f"{json.dumps(value)} → {json.dumps(now.get(name))}")
        change_set = entry.get("change_set_id")
        if change_set:
            try:
                description = changesets.describe(ctx, change_set, label=spec.stack_name)
            except DeployError as exc:  # ChangeSetNotFound: deleted (by a later plan, or by hand)
                problems.append(f"{spec.stack_name}: its change set is gone ({_short(exc)}; a later plan deletes "
                                "the change sets of an unused saved plan)")
            else:
                status, execution = description.get("Status"), description.get("ExecutionStatus")
                if status != "CREATE_COMPLETE" or execution != "AVAILABLE":
                    problems.append(f"{spec.stack_name}: its change set is {status}/{execution}, not executable")
                sp.change_set_id = change_set
                sp.changes = changesets.parse(description)
        elif stack is None:  # a stack to create: what its template creates, as the plan showed
            new_stack(ctx, sp)
        return sp, problems

    checked = each(ctx, check, m.stacks)
    for _, problems in checked:
        reasons += problems
    if reasons:
        raise _stale(ctx, path, reasons)
    plan = Plan(identity=identity, stacks=[sp for sp, _ in checked])
    for sp in plan.stacks:
        sp.settings = settings_for(ctx, sp)
    attach_assets(ctx, plan)
    return plan


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _stale(ctx: Context, path: Path, reasons: list[str]) -> RefusedError:
    return RefusedError(
        f"{path} is stale: the account or the build moved since the plan was made, so it would not do what was "
        "reviewed:\n" + "\n".join(f"  - {r}" for r in reasons)
        + f"\nNothing was changed.\nNext: plan again (`{plan_again_command(ctx, path)}`), review it, then "
        f"`{apply_command(ctx, path)}`."
    )


def show(ctx: Context, plan: Plan, path: Path) -> None:
    """What ``deploy --plan`` is about to execute (the saved change sets, read again from CloudFormation)."""
    ctx.reporter.info(f"Saved plan {path}: nothing changed since it was made; executing its change sets.")
    render_plan(ctx, plan)

