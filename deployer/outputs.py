"""``outputs``: every stack's outputs, as a table or as JSON (``{"<stack>": {"<OutputKey>": "<value>"}}``)."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from .context import Context
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
    table.add_column("Stack")
    table.add_column("Output")
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


def outputs(ctx: Context, *, json_output: bool = False) -> int:
    stacks = collect(ctx)
    if json_output:
        print(json.dumps(as_json(ctx, stacks), indent=2, sort_keys=True))
        return 0
    missing = [spec.stack_name for spec in ctx.manifest.stacks if stacks[spec.name] is None]
    render_outputs(ctx, [stacks[spec.name] for spec in ctx.manifest.stacks])
    for name in missing:
        ctx.reporter.warn(f"{name}: not deployed")
    return 0
