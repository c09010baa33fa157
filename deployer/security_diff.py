"""The plan's security table: IAM policy statements and security-group rules added and removed, like
``cdk diff``'s IAM statement table, computed from the deployed and the built templates (both evaluated
with their parameter values by :mod:`deployer.intrinsics`).

Where statements live, by resource type (CloudFormation's resource reference):
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html and the
pages of the other types below. A statement is compared as a whole (effect, actions, resources, principal,
condition): a statement that changed shows as one removed and one added.
Security-group rules: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ec2-security-group-rule.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from .intrinsics import Evaluator, Unknown, render

# resource type -> the properties holding one policy document each ("Policies" holds a list of them)
POLICY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Role": ("AssumeRolePolicyDocument", "Policies"),
    "AWS::IAM::User": ("Policies",),
    "AWS::IAM::Group": ("Policies",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::EC2::VPCEndpoint": ("PolicyDocument",),
    "AWS::Events::EventBusPolicy": ("Statement",),
}
RULE_TYPES = {"AWS::EC2::SecurityGroupIngress": "ingress", "AWS::EC2::SecurityGroupEgress": "egress"}
GROUP_RULES = {"SecurityGroupIngress": "ingress", "SecurityGroupEgress": "egress"}
_PEERS = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId",
          "DestinationPrefixListId", "SourceSecurityGroupName")


def _words(value: Any) -> str:
    """A cell of the table; a value known only after deploy reads as what it is (``${Bucket.Arn}``)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, Unknown):
        return value.text
    return render(value)


@dataclass(frozen=True)
class Statement:
    resource: str  # the logical id holding it, and where: "ExecutionRole (policy jobs)"
    effect: str
    action: str
    target: str  # the statement's Resource (or NotResource)
    principal: str
    condition: str

    def row(self) -> list[str]:
        return [self.resource, self.effect, self.action, self.target, self.principal, self.condition]


@dataclass(frozen=True)
class Rule:
    group: str  # the security group's logical id
    direction: str  # ingress | egress
    protocol: str
    ports: str
    peer: str
    description: str

    def row(self) -> list[str]:
        return [self.group, self.direction, self.protocol, self.ports, self.peer, self.description]


def _statement(where: str, raw: Any) -> Statement:
    raw = raw if isinstance(raw, dict) else {"Statement": raw}
    action = _words(raw.get("Action")) or (f"NOT {_words(raw.get('NotAction'))}" if "NotAction" in raw else "")
    target = _words(raw.get("Resource")) or (f"NOT {_words(raw.get('NotResource'))}" if "NotResource" in raw else "")
    principal = _principal(raw.get("Principal")) or (
        f"NOT {_principal(raw.get('NotPrincipal'))}" if "NotPrincipal" in raw else "")
    condition = json.dumps(raw["Condition"], default=lambda v: v.text if isinstance(v, Unknown) else str(v),
                           sort_keys=True, separators=(",", ":")) if raw.get("Condition") else ""
    return Statement(where, _words(raw.get("Effect", "")), action, target, principal, condition)


def _principal(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{kind}: {_words(v)}" for kind, v in sorted(value.items()))
    return _words(value)


def _document_statements(where: str, document: Any) -> list[Statement]:
    if isinstance(document, Unknown) or document is None:
        return [Statement(where, "?", "(known after deploy)", "", "", "")] if document is not None else []
    statements = document.get("Statement", []) if isinstance(document, dict) else document
    if isinstance(statements, dict):
        statements = [statements]
    return [_statement(where, s) for s in statements or []]


def statements_of(logical_id: str, resource_type: str, props: dict[str, Any]) -> list[Statement]:
    found: list[Statement] = []
    for prop in POLICY_PROPERTIES.get(resource_type, ()):
        value = props.get(prop)
        if prop == "Policies":
            for policy in value or []:
                if isinstance(policy, dict):
                    name = render(policy.get("PolicyName", "?"))
                    found += _document_statements(f"{logical_id} (policy {name})", policy.get("PolicyDocument"))
        elif prop == "AssumeRolePolicyDocument":
            found += _document_statements(f"{logical_id} (trust)", value)
        elif prop == "Statement":  # an event bus policy is one statement
            found.append(_statement(logical_id, props))
        else:
            found += _document_statements(logical_id, value)
    if resource_type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for arn in props.get("ManagedPolicyArns") or []:
            found.append(Statement(f"{logical_id} (managed policy)", "Attach", render(arn), "", "", ""))
    return found


def _ports(raw: dict[str, Any]) -> str:
    low, high = raw.get("FromPort"), raw.get("ToPort")
    if low is None and high is None:
        return "all"
    low, high = _words(low), _words(high)
    return low if low == high else f"{low}-{high}"


def _rule(group: str, direction: str, raw: dict[str, Any]) -> Rule:
    protocol = _words(raw.get("IpProtocol", "?"))
    peer = next((f"{_words(raw[key])}" for key in _PEERS if key in raw), "")
    return Rule(group, direction, "all" if protocol == "-1" else protocol, _ports(raw), peer,
                _words(raw.get("Description", "")))


def rules_of(logical_id: str, resource_type: str, props: dict[str, Any]) -> list[Rule]:
    if resource_type == "AWS::EC2::SecurityGroup":
        return [_rule(logical_id, direction, raw) for prop, direction in GROUP_RULES.items()
                for raw in props.get(prop) or [] if isinstance(raw, dict)]
    if resource_type in RULE_TYPES:
        group = props.get("GroupId", "?")
        name = group.text.strip("${}").split(".")[0] if isinstance(group, Unknown) and group.atomic else _words(group)
        return [_rule(name, RULE_TYPES[resource_type], props)]
    return []


@dataclass
class SecurityDiff:
    statements_added: list[Statement]
    statements_removed: list[Statement]
    rules_added: list[Rule]
    rules_removed: list[Rule]

    @property
    def empty(self) -> bool:
        return not (self.statements_added or self.statements_removed or self.rules_added or self.rules_removed)

    def to_json(self) -> dict[str, Any]:
        def rows(items: Iterable[Any]) -> list[dict[str, str]]:
            return [dict(vars(item)) for item in items]

        return {"statements_added": rows(self.statements_added), "statements_removed": rows(self.statements_removed),
                "rules_added": rows(self.rules_added), "rules_removed": rows(self.rules_removed)}


def _collect(ev: Evaluator | None) -> tuple[list[Statement], list[Rule]]:
    if ev is None:
        return [], []
    statements: list[Statement] = []
    rules: list[Rule] = []
    for logical_id, body in (ev.template.get("Resources") or {}).items():
        kind = body.get("Type", "")
        if (kind not in POLICY_PROPERTIES and kind not in RULE_TYPES and kind != "AWS::EC2::SecurityGroup") \
                or ev.created(logical_id) is False:
            continue
        props = ev.properties(logical_id)
        statements += statements_of(logical_id, kind, props)
        rules += rules_of(logical_id, kind, props)
    return statements, rules


def _minus(first: list[Any], second: list[Any]) -> list[Any]:
    rest = list(second)
    out = []
    for item in first:
        if item in rest:
            rest.remove(item)
        else:
            out.append(item)
    return out


def security_diff(old: Evaluator | None, new: Evaluator) -> SecurityDiff:
    """What the update (or, with ``old`` None, the create) adds and removes."""
    old_statements, old_rules = _collect(old)
    new_statements, new_rules = _collect(new)
    return SecurityDiff(
        statements_added=_minus(new_statements, old_statements),
        statements_removed=_minus(old_statements, new_statements),
        rules_added=_minus(new_rules, old_rules),
        rules_removed=_minus(old_rules, new_rules),
    )
