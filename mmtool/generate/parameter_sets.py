"""Which parameter files of one template cfn-lint must see, and a complete check of every file's values.

A fleet gives one template many parameter files (one per endpoint), and cfn-lint's cost grows with
each parameter set it is given (about a second per set for the monitoring template). Most of those
files differ only in values that name the endpoint (its key, its S3 prefixes, revision hashes). So
the parameter files of a template are split into *lint classes*, and cfn-lint checks one file per
class (the one with the longest values, the worst case for length limits):

- two files are in one class when every Condition of the template evaluates the same under both,
  and they agree on the value of every parameter a Rule mentions, every parameter with AllowedValues
  (few values, and cfn-lint may compare them with property enums) and every parameter with no
  constraint at all (nothing else would check it);
- what may differ inside a class is the value of a parameter the template constrains by
  AllowedPattern, MinLength/MaxLength or MinValue/MaxValue, and every file, linted or not, is checked
  against those constraints here, as CloudFormation checks them when the stack is created. The
  constraints are written to be as strict as the properties the parameter feeds; the name-length
  tests (tests/generate/test_fleet.py) cover names composed from several parameters.

`check_values` also covers what cfn-lint's own E2900 does not: AllowedPattern (cfn-lint 1.x reads a
`Pattern` key instead), lengths, number ranges and CloudFormation's 4,096-byte limit per value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

RULE = "parameters"  # the rule id of check_values' findings
MAX_VALUE_BYTES = 4096  # CloudFormation's limit on one parameter value
CONSTRAINTS = ("AllowedValues", "AllowedPattern", "MinLength", "MaxLength", "MinValue", "MaxValue")


class _Unknown(Exception):
    """A condition this evaluator cannot decide (a pseudo parameter, an unexpected function)."""


@dataclass(frozen=True)
class ValueProblem:
    parameter: str
    message: str  # "='value' does not match ..." or "is required ...": rendered after the parameter's name

    def render(self) -> str:
        return f"{self.parameter}{'' if self.message.startswith('=') else ' '}{self.message}"


def lint_classes(template: dict, parameter_sets: list[dict[str, object]]) -> list[list[int]]:
    """Indexes of ``parameter_sets`` grouped by lint class, each class's representative first."""
    classes: dict[str, list[int]] = {}
    for index, values in enumerate(parameter_sets):
        classes.setdefault(signature(template, values), []).append(index)
    return [sorted(members, key=lambda i: (-_size(parameter_sets[i]), i)) for members in classes.values()]


def signature(template: dict, values: dict[str, object]) -> str:
    """What cfn-lint's findings for ``values`` can depend on, beyond the per-file value checks."""
    declared = template.get("Parameters", {})
    resolved = {name: values.get(name, spec.get("Default")) for name, spec in declared.items()}
    conditions = template.get("Conditions", {})
    truth: dict[str, object] = {}
    for name in sorted(conditions):
        try:
            truth[name] = _condition(name, conditions, resolved, {})
        except _Unknown:  # decide nothing: the raw values of what the condition mentions
            truth[name] = {ref: resolved.get(ref) for ref in sorted(_refs(conditions[name]))}
    fixed = sorted(_refs(template.get("Rules", {})) | {
        name for name, spec in declared.items()
        if "AllowedValues" in spec or not any(key in spec for key in CONSTRAINTS)})
    return json.dumps({"conditions": truth, "values": {name: resolved.get(name) for name in fixed}}, sort_keys=True)


class ConditionReader:
    """The Conditions of one template under one stack's values (Defaults for the rest), each decided when first
    asked: True, False, or None where it cannot be decided (a pseudo parameter, a function it does not know)."""

    def __init__(self, template: dict, values: dict[str, object], defaults: dict[str, object] | None = None) -> None:
        declared = template.get("Parameters", {})
        if defaults is None:
            defaults = template_defaults(template)
        self._values = {**defaults, **{name: value for name, value in values.items() if name in declared}}
        self._conditions = template.get("Conditions", {})
        self._seen: dict = {}
        self._truth: dict[str, bool | None] = {}

    def __call__(self, name: str) -> bool | None:
        if name not in self._truth:
            try:
                self._truth[name] = bool(_condition(name, self._conditions, self._values, self._seen))
            except _Unknown:
                self._truth[name] = None
        return self._truth[name]


def template_defaults(template: dict) -> dict[str, object]:
    """Each declared Parameter's Default (None without one): what a stack reads for a parameter it is not given.
    Stacks of one template share it (ConditionReader's `defaults`)."""
    return {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}


def check_values(template: dict, entries: list[dict[str, str]]) -> list[ValueProblem]:
    """Every entry of a CloudFormation parameter file against the template's Parameters."""
    declared = template.get("Parameters", {})
    given = {entry["ParameterKey"]: entry["ParameterValue"] for entry in entries}
    problems = [ValueProblem(name, "is not a parameter of the template; remove it or rebuild")
                for name in given if name not in declared]
    problems += [ValueProblem(name, "is required (the template gives no Default) and missing")
                 for name, spec in declared.items() if name not in given and "Default" not in spec]
    for name, value in given.items():
        if name in declared:
            problems += [ValueProblem(name, message) for message in _value_problems(declared[name], value)]
    return problems


def _value_problems(spec: dict, value: str) -> list[str]:
    kind = spec.get("Type", "String")
    shown = value if len(value) <= 80 else value[:77] + "..."
    problems = []
    if len(value.encode()) > MAX_VALUE_BYTES:
        problems.append(f"is {len(value.encode())} bytes; CloudFormation takes at most {MAX_VALUE_BYTES} per value")
    if kind.startswith("AWS::SSM::Parameter::Value"):
        return problems  # the value is the SSM parameter's name; its contents are checked upstream
    items = value.split(",") if "List" in kind else [value]
    for item in items:
        if "Number" in kind:
            try:
                number = float(item)
            except ValueError:
                problems.append(f"={shown!r} is not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"={shown!r} is below the MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"={shown!r} is above the MaxValue {spec['MaxValue']}")
        if "AllowedValues" in spec and item not in [str(v) for v in spec["AllowedValues"]]:
            problems.append(f"={shown!r} is not one of the AllowedValues {spec['AllowedValues']}")
        if "AllowedPattern" in spec and re.fullmatch(spec["AllowedPattern"], item) is None:
            problems.append(f"={shown!r} does not match the AllowedPattern {spec['AllowedPattern']}")
        if "MinLength" in spec and len(item) < int(spec["MinLength"]):
            problems.append(f"={shown!r} is shorter than the MinLength {spec['MinLength']}")
        if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
            problems.append(f"={shown!r} is {len(item)} characters, more than the MaxLength {spec['MaxLength']}")
    return problems


def line_of(parameters_text: str, name: str) -> int:
    """The line of ``"ParameterKey": "<name>"`` in a parameter file (1 when it is not there)."""
    needle = json.dumps(name)
    for number, line in enumerate(parameters_text.splitlines(), start=1):
        if '"ParameterKey"' in line and needle in line:
            return number
    return 1


def _condition(name: str, conditions: dict, values: dict, seen: dict) -> bool:
    if name not in seen:
        if name not in conditions:
            raise _Unknown(name)
        seen[name] = _evaluate(conditions[name], conditions, values, seen)
    return seen[name]  # type: ignore[return-value]


def _evaluate(node: Any, conditions: dict, values: dict, seen: dict) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        (function, argument), = node.items()
        if function == "Ref":
            if argument not in values:  # a pseudo parameter such as AWS::Region
                raise _Unknown(argument)
            return values[argument]
        if function == "Condition":
            return _condition(argument, conditions, values, seen)
        arguments = [_evaluate(item, conditions, values, seen) for item in argument]
        if function == "Fn::Equals":
            left, right = (item if isinstance(item, str) else json.dumps(item) for item in arguments)
            return left == right
        if function == "Fn::Not":
            return not arguments[0]
        if function == "Fn::And":
            return all(arguments)
        if function == "Fn::Or":
            return any(arguments)
        raise _Unknown(function)
    if isinstance(node, (str, int, float, bool)):
        return str(node).lower() if isinstance(node, bool) else str(node)
    raise _Unknown(repr(node))


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["Ref"]} if isinstance(node.get("Ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _size(values: dict[str, object]) -> int:
    return sum(len(json.dumps(value)) for value in values.values())


NUMERIC = frozenset({"integer", "number"})
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
Position = tuple  # (resource type, property path: keys, None for an array's item)


def length_blind(template: dict, region: str) -> frozenset[str]:
    """The parameters whose value's length cannot change a cfn-lint finding: of Type Number, and every use a whole
    `{"Ref": name}` as the value of a resource property, at any depth of plain objects and arrays and as a branch
    of Fn::If, whose schema takes only numbers (mmtool.generate.schemas.property_types in `region`). cfn-lint then
    checks the number, never its text: a length limit or pattern could only apply where the value becomes part of
    a string (Fn::Sub, Fn::Join, a string property, an Output), and any such use, or any other place the parameter
    is mentioned (inside another function, a Condition, an Output, a property the schema does not say is a number),
    keeps its length counted. (The lint cache, mmtool.generate.lint.LintCache, counts a value as covered by a
    clean-linted member of its lint class when it is no longer; for these parameters the length is not compared.)"""
    from mmtool.generate.schemas import property_types

    declared = template.get("Parameters", {})
    uses: dict[str, list[Position | None]] = {name: [] for name in declared}
    embedded: set[str] = set()

    def walk(node: Any, position: Position | None) -> None:
        if isinstance(node, dict):
            if len(node) == 1 and isinstance(node.get("Ref"), str):
                uses.setdefault(node["Ref"], []).append(position)
                return
            function = len(node) == 1 and next(iter(node)).startswith("Fn::")
            if function and isinstance(node.get("Fn::If"), list) and len(node["Fn::If"]) == 3:
                condition, when_true, when_false = node["Fn::If"]
                walk(condition, None)
                walk(when_true, position)
                walk(when_false, position)
                return
            for key, value in node.items():
                walk(key, None)
                walk(value, None if function or position is None else (position[0], (*position[1], key)))
        elif isinstance(node, list):
            for item in node:
                walk(item, None if position is None else (position[0], (*position[1], None)))
        elif isinstance(node, str) and "${" in node:  # Fn::Sub's ${Name} and ${Name.Attribute}, wherever they are
            embedded.update(found.strip().split(".")[0] for found in SUB_VARIABLE.findall(node))

    for section, content in template.items():
        if section != "Resources" or not isinstance(content, dict):
            walk(content, None)
            continue
        for resource in content.values():
            if not isinstance(resource, dict):
                walk(resource, None)
                continue
            kind = resource.get("Type")
            for key, value in resource.items():
                if key == "Properties" and isinstance(value, dict) and isinstance(kind, str):
                    for prop, prop_value in value.items():
                        walk(prop, None)
                        walk(prop_value, (kind, (prop,)))
                else:
                    walk(value, None)
    return frozenset(
        name for name, spec in declared.items()
        if isinstance(spec, dict) and spec.get("Type") == "Number" and name not in embedded
        and all(position is not None and NUMERIC >= property_types(position[0], region, position[1]) != frozenset()
                for position in uses[name]))
