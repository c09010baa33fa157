"""Count what the built templates of an environment create with its parameter values: interface VPC endpoints
(and the zones each has a subnet in), KMS keys, CloudWatch alarms and dashboards. The estimate prices these
counts (mmtool/cost/estimate.py), so they follow the templates as they change instead of repeating their
Conditions here. Conditions are evaluated by the deploy engine's evaluator (deployer/intrinsics.py), the same
one the plan uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmtool.cost.estimate import ResourceCounts

KINDS = {
    "AWS::KMS::Key": "kms_keys",
    "AWS::CloudWatch::Alarm": "alarms",
    "AWS::CloudWatch::Dashboard": "dashboards",
}


def _values(body: Any) -> dict[str, str]:
    if isinstance(body, list):  # [{"ParameterKey", "ParameterValue"}], as the build writes them
        return {p["ParameterKey"]: p["ParameterValue"] for p in body}
    return dict((body or {}).get("Parameters", body or {}))


def count_stacks(stacks: list[tuple[str, str, dict[str, Any], dict[str, str]]], region: str) -> ResourceCounts:
    """``stacks``: (manifest name, stack name, template, parameter values) of every stack of the build.

    A fleet's stacks of one kind share a template, and most of them agree on what a given Condition reads: each
    Condition is decided once per template and set of the values it reads (`_Plan.reads`), by the deploy engine's
    evaluator, given only the part of the template the counts read."""
    from deployer.intrinsics import Evaluator

    totals = {"interface_endpoints": 0, "interface_endpoint_zones": 0, "kms_keys": 0, "alarms": 0, "dashboards": 0}
    where: dict[str, str] = {}
    undecided = 0
    plans: dict[int, _Plan] = {}
    decided: dict[tuple, bool | None] = {}
    for name, stack_name, template, values in stacks:
        if id(template) not in plans:
            plans[id(template)] = _plan(template)
        plan = plans[id(template)]
        ev = None
        for logical_id, kind, condition in plan.resources:
            created: bool | None = True
            if condition is not None:
                key = (id(template), condition, tuple(stack_name if read == "AWS::StackName" else values.get(read)
                                                      for read in plan.reads[condition]))
                if key not in decided:
                    ev = ev or Evaluator(plan.template, values, region=region, account=None, stack_name=stack_name)
                    decided[key] = ev.condition(condition)
                created = decided[key]
            if created is None:
                undecided += 1
            elif created and kind == INTERFACE:
                ev = ev or Evaluator(plan.template, values, region=region, account=None, stack_name=stack_name)
                subnets = ev.properties(logical_id).get("SubnetIds")
                totals["interface_endpoints"] += 1
                totals["interface_endpoint_zones"] += len(subnets) if isinstance(subnets, list) else 1
                where.setdefault("interface_endpoints", name)
            elif created:
                totals[kind] += 1
                where.setdefault(kind, name)
    return ResourceCounts(**totals, undecided=undecided, stacks=where)


INTERFACE = "interface_endpoints"


@dataclass
class _Plan:
    """What the counts read of one template: its counted resources (logical id, what it counts as, its Condition),
    the template with only those resources, for the evaluator, and the names each of their Conditions reads with
    `Ref`, through the Conditions it names (parameters, and pseudo parameters such as AWS::StackName)."""

    template: dict[str, Any]
    resources: list[tuple[str, str, str | None]]
    reads: dict[str, tuple[str, ...]]


def _plan(template: dict[str, Any]) -> _Plan:
    resources = [(logical_id, INTERFACE if _interface(body) else KINDS[body["Type"]], body.get("Condition"))
                 for logical_id, body in (template.get("Resources") or {}).items()
                 if body.get("Type") in KINDS or _interface(body)]
    kept = {logical_id: template["Resources"][logical_id] for logical_id, _, _ in resources}
    rest = {key: template[key] for key in ("Parameters", "Conditions", "Mappings") if key in template}
    conditions = template.get("Conditions") or {}
    return _Plan({**rest, "Resources": kept}, resources,
                 {condition: _reads(conditions, condition) for _, _, condition in resources if condition})


def _reads(conditions: dict[str, Any], name: str) -> tuple[str, ...]:
    """The names Condition `name` reads with Ref, its own and those of the Conditions it names, sorted."""
    found: set[str] = set()
    seen: set[str] = set()
    pending: list[Any] = [{"Condition": name}]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("Ref"), str):
                found.add(node["Ref"])
            named = node.get("Condition")
            if isinstance(named, str) and named not in seen:
                seen.add(named)
                pending.append(conditions.get(named))
            pending.extend(value for key, value in node.items() if key != "Condition")
        elif isinstance(node, list):
            pending.extend(node)
    return tuple(sorted(found))


def _interface(body: dict[str, Any]) -> bool:
    return body.get("Type") == "AWS::EC2::VPCEndpoint" and (body.get("Properties") or {}).get(
        "VpcEndpointType") == "Interface"


def count_build(folder: Path) -> ResourceCounts:
    """The counts of build/<env>/ as the build wrote it. The stacks of one kind share a template file (a fleet's
    200 monitoring stacks one monitoring.template.json): each file is read once (the evaluator only reads it)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    templates: dict[str, Any] = {}
    stacks = []
    for entry in manifest["stacks"]:
        if entry["template"] not in templates:
            templates[entry["template"]] = json.loads((folder / entry["template"]).read_text())
        template = templates[entry["template"]]
        parameters = folder / entry["parameters"]
        values = _values(json.loads(parameters.read_text())) if parameters.exists() else {}
        stacks.append((entry["name"], entry["stack_name"], template, values))
    return count_stacks(stacks, manifest["region"])
