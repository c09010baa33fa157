"""The built stacks of an environment against the AWS limits table (mmtool/config/limits.py), before lint.

Per template: parameters, outputs, resources, body size. Per environment, counted from every stack with its
own parameter values (a resource under a Condition counts when the condition holds, or cannot be decided):
stacks, SSM parameters, IAM roles and EventBridge rules (all on the default event bus). The whole count is
compared with the limit, as if the environment were alone in its account and region: what else the account
holds is not known to the build (docs/fleet.md says so). A problem is one line naming the params file, the field
that makes the count (`endpoints`), the count, the limit with its source, and how to raise it.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from mmtool.generate.parameter_sets import ConditionReader, template_defaults
from mmtool.config.limits import BY_KEY, COUNTED, allowed
from mmtool.errors import ToolError


def check(synthesis: Any, params_file: str) -> None:
    """Raise ToolError with one line per limit the environment's stacks meet."""
    problems = list(template_problems(synthesis.stacks)) + list(environment_problems(synthesis, params_file))
    if problems:
        raise ToolError("\n".join(problems))


def counts(stacks: Iterable[Any]) -> dict[str, int]:
    """What the environment's stacks create, per counted limit key. Per template, once: its defaults and its
    resources of a counted kind; per stack, only the Conditions of those resources are decided."""
    totals = {key: 0 for key in COUNTED}
    kinds = {kind: key for key, kind in COUNTED.items()}
    per_template: dict[int, tuple[dict, list[tuple[str, str | None]]]] = {}
    for stack in stacks:
        totals["stacks"] += 1
        template = stack.template
        if id(template) not in per_template:
            counted = [(kinds[body.get("Type")], body.get("Condition"))
                       for body in template.get("Resources", {}).values() if body.get("Type") in kinds]
            per_template[id(template)] = template_defaults(template), counted
        defaults, counted = per_template[id(template)]
        read = ConditionReader(template, stack.parameters, defaults)
        for key, condition in counted:
            if condition is None or read(condition) is not False:  # undecided counts
                totals[key] += 1
    return totals


def environment_problems(synthesis: Any, params_file: str) -> Iterable[str]:
    params = synthesis.params
    fleet = params.fleet()
    found = counts(synthesis.stacks)
    for key, count in found.items():
        limit, value = BY_KEY[key], allowed(key, params.quotas)
        if count > value:
            what = "stack" if COUNTED[key] == "stack" else COUNTED[key]
            yield (f"{params_file}: endpoints ({len(fleet)} endpoints): the environment makes {count} {what}"
                   f"{'s' if what == 'stack' else ' resources'}, more than the {value:,} {limit.what} per "
                   f"{limit.per} ({limit.source}); {limit.increase(count)}, or split the fleet over two environments")


def template_problems(stacks: Iterable[Any]) -> Iterable[str]:
    seen: set[str] = set()
    for stack in stacks:
        if stack.template_file in seen:
            continue
        seen.add(stack.template_file)
        template = stack.template
        sizes = {
            "template_parameters": len(template.get("Parameters", {})),
            "template_outputs": len(template.get("Outputs", {})),
            "template_resources": len(template.get("Resources", {})),
            "template_bytes": len(json.dumps(template, separators=(",", ":"))),
        }
        for key, size in sizes.items():
            limit = BY_KEY[key]
            if size > limit.value:
                yield (f"{stack.template_file}: {size:,} — {limit.what}: at most {limit.value:,} ({limit.source}); "
                       "the template module must move resources into another stack")
