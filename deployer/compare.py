"""Decide, without creating a change set, whether a deployed stack already equals the built one.

Equal means: the deployed template (GetTemplate, stage Original) is the built template (compared as JSON
values), every parameter has the built value, the stack tags are the manifest's tags, and for every
parameter of type ``AWS::SSM::Parameter::Value<...>`` the value CloudFormation resolved at the last
deploy (DescribeStacks ``ResolvedValue``) is still the value in Parameter Store today: an upstream stack
may have changed it without this stack's files changing.

Whatever cannot be proven equal counts as a difference and the engine falls back to a change set, which
is always right (CloudFormation then decides, and an empty change set is reported as "no changes"):
a ``NoEcho`` parameter (DescribeStacks shows ``****``), a template stored as YAML, an SSM parameter that
is missing.

moto 5.2.5 differs from CloudFormation in two places, handled in :func:`_deployed_matches` and marked
there: it returns an SSM parameter's resolved value in ``ParameterValue`` with no ``ResolvedValue``, and
it renders list parameters as a Python list (``['a', 'b']``).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import AWS_ERRORS, InputError, aws_error
from .manifest import ParamDecl, StackSpec

NO_ECHO_MASK = "****"


@dataclass(frozen=True)
class ParamChange:
    key: str
    old: str | None
    new: str | None
    note: str = ""
    secret: bool = False

    def describe(self) -> str:
        if self.secret:
            return f"{self.key}: (NoEcho, value hidden){' ' + self.note if self.note else ''}"
        old = "(none)" if self.old is None else json.dumps(self.old)
        new = "(none)" if self.new is None else json.dumps(self.new)
        return f"{self.key}: {old} → {new}{'  ' + self.note if self.note else ''}"


@dataclass
class StackDiff:
    template_equal: bool
    parameters: list[ParamChange] = field(default_factory=list)
    tags_added: dict[str, str] = field(default_factory=dict)
    tags_changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    tags_removed: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # reasons equality could not be proven

    @property
    def tags_differ(self) -> bool:
        return bool(self.tags_added or self.tags_changed or self.tags_removed)

    @property
    def no_changes(self) -> bool:
        return self.template_equal and not self.parameters and not self.tags_differ and not self.unknown


def api_parameters(spec: StackSpec, *, stack_exists: bool) -> list[dict[str, Any]]:
    """The Parameters argument of CreateChangeSet: every declared parameter, explicit values."""
    params: list[dict[str, Any]] = [
        {"ParameterKey": key, "ParameterValue": value} for key, value in sorted(spec.values.items())
    ]
    for key in spec.use_previous:
        if not stack_exists:
            raise InputError(
                f"{spec.parameters_path}: {key}: a NoEcho parameter with no value and no Default; a new stack "
                "needs a value. Next: provide it in params/<env>.yaml (or its secret source) and rebuild."
            )
        params.append({"ParameterKey": key, "UsePreviousValue": True})
    return params


def current_ssm_values(ssm: Any, names: list[str], *, stack: str) -> dict[str, str | None]:
    """Today's value of each SSM parameter (None when it does not exist)."""
    result: dict[str, str | None] = {name: None for name in names}
    unique = sorted(set(names))
    for start in range(0, len(unique), 10):  # GetParameters takes at most 10 names
        batch = unique[start : start + 10]
        try:
            response = ssm.get_parameters(Names=batch)
        except AWS_ERRORS as exc:
            raise aws_error(exc, action="read SSM parameters (ssm:GetParameters)", stack=stack) from exc
        for item in response.get("Parameters", []):
            result[item["Name"]] = item["Value"]
    return result


def _split_list(value: str) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]``; ``""`` -> ``[""]`` (as CloudFormation and moto split it)."""
    return [part.strip() for part in value.split(",")]


def _moto_list(value: str) -> list[str] | None:
    """moto 5.2.5 renders list-typed parameters as ``['a', 'b']``; CloudFormation returns ``a,b``."""
    if value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return None
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return None


def _same_value(decl: ParamDecl, deployed: str, desired: str) -> bool:
    if deployed == desired:
        return True
    if decl.is_list:
        wanted = _split_list(desired)
        return _split_list(deployed) == wanted or _moto_list(deployed) == wanted
    return False


def _deployed_matches(
    decl: ParamDecl, deployed: dict[str, Any], desired: str, ssm_now: str | None
) -> tuple[bool, str]:
    """(equal?, note) for one SSM-typed parameter."""
    value = deployed.get("ParameterValue")
    resolved = deployed.get("ResolvedValue")
    if ssm_now is None:
        return False, f"(SSM parameter {desired} does not exist)"
    if resolved is not None:  # CloudFormation
        if value != desired:
            return False, ""
        if _same_value(decl, resolved, ssm_now):
            return True, ""
        return False, f"(value of {desired} changed: {json.dumps(resolved)} → {json.dumps(ssm_now)})"
    # moto 5.2.5: no ResolvedValue; ParameterValue holds the value resolved at the last deploy. Equal only
    # when that is today's value: we cannot see the name it came from, so a renamed parameter with an
    # identical value would pass, which CloudFormation itself never produces (it always sets ResolvedValue).
    if value is not None and _same_value(decl, str(value), ssm_now):
        return True, ""
    return False, f"(resolved value {json.dumps(value)} → {json.dumps(ssm_now)})"


def diff_stack(
    spec: StackSpec,
    stack: dict[str, Any],
    deployed_template: Any,
    desired_tags: dict[str, str],
    ssm_values: dict[str, str | None],
) -> StackDiff:
    """Compare one deployed stack (DescribeStacks entry + GetTemplate body) with the built one."""
    if isinstance(deployed_template, str):
        try:
            deployed_template = json.loads(deployed_template)
        except json.JSONDecodeError:
            deployed_template = None
    diff = StackDiff(template_equal=deployed_template == spec.template)
    if deployed_template is None:
        diff.unknown.append("the deployed template is not JSON")

    deployed_params = {p["ParameterKey"]: p for p in stack.get("Parameters", []) or []}
    for key, decl in spec.declarations.items():
        current = deployed_params.get(key)
        if key in spec.use_previous:
            if current is None:
                diff.parameters.append(ParamChange(key, None, None, "(NoEcho, UsePreviousValue: no previous value)", True))
            continue
        desired = spec.values[key]
        if current is None:
            diff.parameters.append(ParamChange(key, None, desired, secret=decl.no_echo))
            continue
        if decl.no_echo:
            diff.unknown.append(f"{key} is NoEcho: CloudFormation shows {NO_ECHO_MASK}")
            continue
        if decl.is_ssm:
            equal, note = _deployed_matches(decl, current, desired, ssm_values.get(desired))
            if not equal:
                old = current.get("ParameterValue")
                diff.parameters.append(ParamChange(key, old, desired, note))
            continue
        old = str(current.get("ParameterValue"))
        if not _same_value(decl, old, desired):
            diff.parameters.append(ParamChange(key, old, desired))
    for key in deployed_params:
        if key not in spec.declarations:
            diff.parameters.append(ParamChange(key, deployed_params[key].get("ParameterValue"), None, "(removed)"))

    deployed_tags = {t["Key"]: t["Value"] for t in stack.get("Tags", []) or []}
    for key, value in desired_tags.items():
        if key not in deployed_tags:
            diff.tags_added[key] = value
        elif deployed_tags[key] != value:
            diff.tags_changed[key] = (deployed_tags[key], value)
    for key, value in deployed_tags.items():
        if key not in desired_tags:
            diff.tags_removed[key] = value
    return diff


def ssm_names(spec: StackSpec) -> list[str]:
    """The SSM parameter names the stack's SSM-typed parameters point at."""
    return [spec.values[k] for k, d in spec.declarations.items() if d.is_ssm and k in spec.values]
