"""Count what the built templates of an environment create with its parameter values: interface VPC endpoints
(and the zones each has a subnet in), KMS keys, CloudWatch alarms and dashboards. The estimate prices these
counts (mmtool/cost/estimate.py), so they follow the templates as they change instead of repeating their
Conditions here. Conditions are evaluated by the deploy engine's evaluator (deployer/intrinsics.py), the same
one the plan uses.
"""

from __future__ import annotations

import json
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
    """``stacks``: (manifest name, stack name, template, parameter values) of every stack of the build."""
    from deployer.intrinsics import Evaluator

    totals = {"interface_endpoints": 0, "interface_endpoint_zones": 0, "kms_keys": 0, "alarms": 0, "dashboards": 0}
    where: dict[str, str] = {}
    undecided = 0
    counted: dict[int, dict[str, Any]] = {}  # per template: what an Evaluator needs to count it (_counted)
    for name, stack_name, template, values in stacks:
        if id(template) not in counted:
            counted[id(template)] = _counted(template)
        template = counted[id(template)]
        ev = Evaluator(template, values, region=region, account=None, stack_name=stack_name)
        for logical_id, body in (template.get("Resources") or {}).items():
            kind = body.get("Type")
            interface = _interface(body)
            if kind not in KINDS and not interface:
                continue
            created = ev.created(logical_id)
            if created is None:
                undecided += 1
                continue
            if not created:
                continue
            if interface:
                subnets = ev.properties(logical_id).get("SubnetIds")
                totals["interface_endpoints"] += 1
                totals["interface_endpoint_zones"] += len(subnets) if isinstance(subnets, list) else 1
                where.setdefault("interface_endpoints", name)
            else:
                totals[KINDS[kind]] += 1
                where.setdefault(KINDS[kind], name)
    return ResourceCounts(**totals, undecided=undecided, stacks=where)


def _counted(template: dict[str, Any]) -> dict[str, Any]:
    """The part of `template` the counts read: its resources of a counted kind, the Conditions, the Mappings and the
    Parameters (all of them where an interface endpoint's subnets are counted, else only those the Conditions read).
    The Evaluator makes every declared parameter's value first: a fleet's 200 monitoring stacks declare about a
    hundred, and their Conditions read a few."""
    resources = {logical_id: body for logical_id, body in (template.get("Resources") or {}).items()
                 if body.get("Type") in KINDS or _interface(body)}
    declared = template.get("Parameters") or {}
    if not any(map(_interface, resources.values())):
        read: set[str] = set()
        pending: list[Any] = [template.get("Conditions") or {}]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                if isinstance(node.get("Ref"), str):
                    read.add(node["Ref"])
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)
        declared = {key: body for key, body in declared.items() if key in read}
    return {"Parameters": declared, "Conditions": template.get("Conditions") or {},
            "Mappings": template.get("Mappings") or {}, "Resources": resources}


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
