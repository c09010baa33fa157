"""What the plan shows inside a stack: the properties of a resource it creates, and old → new per property
of a resource it updates or replaces, from the deployed and the built templates evaluated with their
parameter values (:mod:`deployer.intrinsics`).

Properties are flattened to one line each (``JobResources.ClusterConfig.InstanceType: ml.m5.large``).
Policy documents and security-group rules are left to the security table (:mod:`deployer.security_diff`),
a resource's ``Tags`` equal to the stack tags are left out (they are the same on every resource).
"""

from __future__ import annotations

from typing import Any

from .intrinsics import Evaluator, render
from .security_diff import GROUP_RULES, POLICY_PROPERTIES

Leaf = tuple[str, str]  # (property path, value as shown)


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and set(v) == {"Key", "Value"} for v in value)


def flatten(value: Any, path: str = "") -> list[Leaf]:
    if isinstance(value, dict) and value:
        leaves: list[Leaf] = []
        for key in sorted(value):
            leaves += flatten(value[key], f"{path}.{key}" if path else key)
        return leaves
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        if _is_tag_list(value):
            return [(path, ", ".join(f"{render(t['Key'])}={render(t['Value'])}" for t in value))]
        leaves = []
        for index, item in enumerate(value):
            leaves += flatten(item, f"{path}[{index}]")
        return leaves
    return [(path, render(value))]


def shown_properties(resource_type: str, props: dict[str, Any], stack_tags: dict[str, str]) -> dict[str, Any]:
    """The properties the plan lists (policy documents and rules go to the security table)."""
    hidden = set(POLICY_PROPERTIES.get(resource_type, ()))
    if resource_type == "AWS::EC2::SecurityGroup":
        hidden |= set(GROUP_RULES)
    shown = {}
    for key, value in props.items():
        if key in hidden:
            continue
        if key == "Tags" and _is_tag_list(value) and {render(t["Key"]): render(t["Value"]) for t in value} == stack_tags:
            continue
        shown[key] = value
    return shown


def created_leaves(ev: Evaluator, logical_id: str, stack_tags: dict[str, str]) -> list[Leaf]:
    body = (ev.template.get("Resources") or {}).get(logical_id) or {}
    kind = body.get("Type", "")
    return flatten(shown_properties(kind, ev.properties(logical_id), stack_tags))


def changed_leaves(old: Evaluator, new: Evaluator, logical_id: str, resource_type: str,
                   stack_tags: dict[str, str]) -> list[tuple[str, str, str]]:
    """(path, old, new) for every property path that differs; absent on one side shows as (none)."""
    before = dict(flatten(shown_properties(resource_type, old.properties(logical_id), stack_tags)))
    after = dict(flatten(shown_properties(resource_type, new.properties(logical_id), stack_tags)))
    out = []
    for path in sorted(set(before) | set(after), key=lambda p: (p.split(".")[0], p)):
        if before.get(path) != after.get(path):
            out.append((path, before.get(path, "(none)"), after.get(path, "(none)")))
    old_props, new_props = old.properties(logical_id), new.properties(logical_id)
    for key in sorted(set(old_props) | set(new_props)):
        if key not in shown_properties(resource_type, {key: None}, stack_tags) and key != "Tags" \
                and old_props.get(key) != new_props.get(key):
            out.append((key, "changed", "(IAM statements below)" if key not in GROUP_RULES else "(rules below)"))
    return out
