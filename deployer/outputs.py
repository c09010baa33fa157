"""``outputs``: every stack's outputs, as a table or as JSON (``{"<stack>": {"<OutputKey>": "<value>"}}``);
``outputs NAME``: one output's value alone on stdout, as it is (``--json``: as a JSON string), for a script."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from .context import Context
from .errors import DeployError, InputError
from .events import describe_stack
from .graph import each


def collect(ctx: Context) -> dict[str, dict[str, Any] | None]:
    """Stack name (manifest's short name) -> DescribeStacks entry or None."""
    specs = ctx.manifest.stacks
    described = each(ctx, lambda spec: describe_stack(ctx, spec.stack_name, label=spec.stack_name), specs)
    return {spec.name: stack for spec, stack in zip(specs, described)}


def as_json(ctx: Context, stacks: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for spec in ctx.manifest.stacks:
        stack = stacks.get(spec.name)
        result[spec.name] = (
            None
            if stack is None
            else {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", []) or []}
        )
    return result


def render_outputs(ctx: Context, stacks: list[dict[str, Any] | None]) -> None:
    table = Table(title="Outputs", title_justify="left", show_lines=False)
    table.add_column("Stack", overflow="fold")  # on a terminal too narrow for a name: folded, never cut short
    table.add_column("Output", overflow="fold")
    table.add_column("Value", overflow="fold")
    rows = 0
    for stack in stacks:
        if not stack:
            continue
        for output in sorted(stack.get("Outputs", []) or [], key=lambda o: o["OutputKey"]):
            table.add_row(escape(stack["StackName"]), escape(output["OutputKey"]), escape(str(output.get("OutputValue"))))
            rows += 1
    if rows:
        ctx.reporter.print(table)


def one_value(ctx: Context, stacks: dict[str, dict[str, Any] | None], name: str) -> Any:
    """The value of output ``name`` (``Key``, or ``stack.Key`` with the manifest's short stack name)."""
    stack_name, _, key = name.rpartition(".")
    values = as_json(ctx, stacks)
    found = [(stack, outputs[key]) for stack, outputs in values.items()
             if outputs and key in outputs and stack_name in ("", stack)]
    if len(found) == 1:
        return found[0][1]
    known = sorted(f"{stack}.{k}" for stack, outputs in values.items() for k in (outputs or {}))
    if found:
        raise InputError(f"outputs {name}: {len(found)} stacks have it: "
                         f"{', '.join(f'{stack}.{key}' for stack, _ in found)}; name one of them (<stack>.{key})")
    not_deployed = [spec.stack_name for spec in ctx.manifest.stacks if values.get(spec.name) is None
                    and stack_name in ("", spec.name)]
    if not_deployed and (stack_name or not known):
        raise DeployError(f"outputs {name}: not deployed: {', '.join(not_deployed)}. Next: deploy first.")
    unknown = f" (not deployed, so not searched: {', '.join(not_deployed)})" if not_deployed else ""
    raise InputError(f"outputs {name}: no such output; the outputs are: {', '.join(known) or 'none'}{unknown}")


def outputs(ctx: Context, *, json_output: bool = False, name: str | None = None) -> int:
    stacks = collect(ctx)
    if name is not None:
        value = one_value(ctx, stacks, name)
        print(json.dumps(value) if json_output else ("" if value is None else value))
        return 0
    if json_output:
        print(json.dumps(as_json(ctx, stacks), indent=2, sort_keys=True))
        return 0
    missing = [spec.stack_name for spec in ctx.manifest.stacks if stacks[spec.name] is None]
    render_outputs(ctx, [stacks[spec.name] for spec in ctx.manifest.stacks])
    for name in missing:
        ctx.reporter.warn(f"{name}: not deployed")
    return 0
