"""What a resource of a template depends on, read from the template's own structure when it is built.

A SageMaker job definition (or the endpoint's Model) is replaced on any change, so its name carries a revision:
a hash of the resource and of everything that decides what CloudFormation will create from it. `Reach` is that
everything: the resource, the Conditions it reaches (transitively), the Mappings it reads, the Parameters it
refers to (`Ref`, `${Name}` in `Fn::Sub`) and, among those, the SSM-typed ones (values of other stacks).

`value_reach` does the same for a value a stack publishes (an SSM parameter's `Value`), also following the
resources it refers to (`Ref`, `Fn::GetAtt`, `${Resource.Attribute}`): a published id changes when the resource
is replaced, which happens when one of its create-only properties changes (the CloudFormation resource schema's
`createOnlyProperties`, which the caller gives: mmtool/generate/synth.py reads them from cfn-lint's copy of the
schemas), so only those properties, and what they refer to, count.

`digest` turns a reach and the values of its Parameters into the short hash used in names
(mmtool/generate/synth.py puts it in the parameter files; docs/stacks.md explains the upstream part).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")  # ${Name}, ${Resource.Attribute}; ${!Literal} is no reference


@dataclass(frozen=True)
class Reach:
    resource: dict[str, Any]
    conditions: dict[str, Any]
    mappings: dict[str, Any]
    parameters: tuple[str, ...]  # the template's Parameters it refers to, revision parameters excepted
    resources: dict[str, Any] = field(default_factory=dict)  # value_reach only: the resources it refers to

    @functools.cached_property
    def used(self) -> str:
        """The canonical text of what is hashed, besides the Parameters' values (computed once: a fleet's
        endpoints hash one reach with their own values)."""
        parts: list[Any] = [self.resource, self.conditions, self.mappings]
        if self.resources:
            parts.append(self.resources)
        return json.dumps(parts, sort_keys=True)


@dataclass
class _Found:
    names: set[str] = field(default_factory=set)  # Ref / ${} targets (parameters, resources, pseudo parameters)
    attributes: set[str] = field(default_factory=set)  # Fn::GetAtt / ${Resource.Attribute} targets
    conditions: set[str] = field(default_factory=set)
    mappings: set[str] = field(default_factory=set)


def _walk(node: Any, found: _Found) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.names.add(value)
        elif key == "Condition" and isinstance(value, str):  # a resource's Condition, or {"Condition": ...}
            found.conditions.add(value)
        elif key == "Fn::If" and isinstance(value, list) and value:
            found.conditions.add(value[0])
            _walk(value[1:], found)
        elif key == "Fn::FindInMap" and isinstance(value, list) and value:
            if isinstance(value[0], str):
                found.mappings.add(value[0])
            _walk(value[1:], found)
        elif key == "Fn::GetAtt" and isinstance(value, list) and value:
            found.attributes.add(value[0])
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
            local = set(variables)
            for name in _SUB_NAME.findall(text):
                target, _, attribute = name.partition(".")
                if target in local:
                    continue
                (found.attributes if attribute else found.names).add(target)
            _walk(list(variables.values()), found)
        else:
            _walk(value, found)


def _conditions(template: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The named Conditions and the ones they use, transitively."""
    declared = template.get("Conditions", {})
    found: dict[str, Any] = {}
    pending = sorted(names)
    while pending:
        name = pending.pop()
        if name in found or name not in declared:
            continue
        found[name] = declared[name]
        inner = _Found()
        _walk(declared[name], inner)
        pending += sorted(inner.conditions - set(found))
    return dict(sorted(found.items()))


def _parameters(template: dict[str, Any], names: set[str]) -> tuple[str, ...]:
    declared = template.get("Parameters", {})
    return tuple(sorted(n for n in names if n in declared and not n.endswith("Revision")))


def reach(template: dict[str, Any], logical_id: str) -> Reach:
    """What resource `logical_id` of `template` (a template as a dict) depends on within the template."""
    resource = template["Resources"][logical_id]
    named = resource.get("Properties", {}).get("JobDefinitionName")
    if isinstance(named, dict) and "Fn::If" in named:  # named only when a revision is given: hash the name itself,
        # so making the name optional did not change (and replace) any definition deployed before
        resource = {**resource, "Properties": {**resource["Properties"], "JobDefinitionName": named["Fn::If"][1]}}
    found = _Found()
    _walk(resource, found)
    conditions = _conditions(template, found.conditions)
    for condition in conditions.values():
        _walk(condition, found)
    mappings = {name: template.get("Mappings", {})[name] for name in sorted(found.mappings)}
    return Reach(resource, conditions, mappings, _parameters(template, found.names))


# A resource type -> the top-level properties whose change replaces the resource.
CreateOnly = Callable[[str], frozenset[str]]


def _identity(resource: dict[str, Any], create_only: CreateOnly | None) -> dict[str, Any]:
    """The part of a resource that decides its physical id: its type, condition and create-only properties
    (everything but DependsOn when no schema is given)."""
    if create_only is None:
        return {k: v for k, v in resource.items() if k != "DependsOn"}
    keep = create_only(resource["Type"])
    properties = {k: v for k, v in resource.get("Properties", {}).items() if k in keep}
    return {"Type": resource["Type"], "Condition": resource.get("Condition"), "Properties": properties}


def value_reach(template: dict[str, Any], value: Any, create_only: CreateOnly | None = None) -> Reach:
    """What a published value depends on: its expression and, transitively, what decides the physical ids of the
    resources it refers to."""
    resources = template.get("Resources", {})
    found = _Found()
    _walk(value, found)
    followed: dict[str, Any] = {}
    pending = sorted((found.names | found.attributes) & set(resources))
    while pending:
        logical = pending.pop()
        if logical in followed:
            continue
        followed[logical] = _identity(resources[logical], create_only)
        inner = _Found()
        _walk(followed[logical], inner)
        found.names |= inner.names
        found.conditions |= inner.conditions
        found.mappings |= inner.mappings
        pending += sorted(((inner.names | inner.attributes) & set(resources)) - set(followed))
    conditions = _conditions(template, found.conditions)
    for condition in conditions.values():
        _walk(condition, found)
    mappings = {name: template.get("Mappings", {})[name] for name in sorted(found.mappings)}
    return Reach(value, conditions, mappings, _parameters(template, found.names), dict(sorted(followed.items())))


def digest(what: Reach, template: dict[str, Any], values: Mapping[str, str],
           upstream: Mapping[str, str] | None = None) -> str:
    """A short hash of `what`, the values its Parameters have (their Default when the file gives none) and
    `upstream`: what other stacks' values it reads are made from."""
    declared = template.get("Parameters", {})
    relevant = {name: values.get(name, declared.get(name, {}).get("Default")) for name in what.parameters}
    text = json.dumps([what.used, relevant, dict(upstream or {})], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
