"""Evaluate a template's Conditions and resource properties with the values the engine knows, for the plan.

The parameter files give every template parameter's value; the manifest gives the region, the stack's name
and (after the account check) the account. What only exists once something is deployed stays an
:class:`Unknown`: a ``Ref`` to a resource, ``Fn::GetAtt``, ``Fn::ImportValue``, ``Fn::GetAZs``, and a parameter
of type ``AWS::SSM::Parameter::Value<...>`` whose value another stack writes (the caller says which values it
knows). An ``Fn::Sub`` or ``Fn::Join`` over an unknown keeps its known parts and shows the unknown one as
``${Name}``, so ``arn:aws:s3:::${Bucket}/reports/*`` still says what it is.

Intrinsic functions as CloudFormation defines them:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
A Condition that depends on an unknown value evaluates to ``None`` ("decided at deploy").

The engine never imports troposphere (docs/development.md): this works on the template's JSON.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property (or list item) is left out
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Unknown:
    """A value known only after deploy. ``text`` is how it reads: ``${Bucket}``, ``${Role.Arn}``, or a string
    with such placeholders; ``atomic`` when nothing of it is known."""

    __slots__ = ("text", "atomic")

    def __init__(self, text: str, atomic: bool = True) -> None:
        self.text = text
        self.atomic = atomic

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("Unknown", self.text))

    def __repr__(self) -> str:
        return f"Unknown({self.text!r})"

    def render(self) -> str:
        return "(known after deploy)" if self.atomic else self.text


@lru_cache(maxsize=None)
def partition_of(region: str) -> tuple[str, str]:
    """(AWS::Partition, AWS::URLSuffix) of a region, from botocore's partition table."""
    from botocore.loaders import create_loader

    for partition in create_loader().load_data("endpoints")["partitions"]:
        if region in partition.get("regions", {}) or re.fullmatch(partition["regionRegex"], region):
            return partition["partition"], partition["dnsSuffix"]
    return "aws", "amazonaws.com"


def _is_list_type(type_: str) -> bool:
    return type_ == "CommaDelimitedList" or type_.startswith("List<") or "<List<" in type_


class Evaluator:
    """One stack's template with one set of parameter values.

    ``values``: parameter key -> value as sent to CloudFormation (strings; lists comma-separated).
    ``unknown``: parameter keys whose value is not known before deploy (SSM-typed ones another stack writes).
    ``account``/``stack_id``: None when not known (the account before the account check; a new stack's id).
    """

    def __init__(self, template: dict[str, Any], values: dict[str, Any], *, region: str, account: str | None,
                 stack_name: str, stack_id: str | None = None, unknown: set[str] | frozenset[str] = frozenset()) -> None:
        self.template = template if isinstance(template, dict) else {}
        declared = self.template.get("Parameters") or {}
        self.values: dict[str, Any] = {}
        for key, body in declared.items():
            body = body if isinstance(body, dict) else {}
            if key in unknown:
                self.values[key] = Unknown("${" + key + "}")
                continue
            value = values.get(key, body.get("Default"))
            if value is None:
                self.values[key] = Unknown("${" + key + "}")
            elif _is_list_type(str(body.get("Type", ""))) and isinstance(value, str):
                self.values[key] = [part.strip() for part in value.split(",")]
            else:
                self.values[key] = value
        partition, suffix = partition_of(region)
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account if account else Unknown("${AWS::AccountId}"),
            "AWS::Partition": partition,
            "AWS::URLSuffix": suffix,
            "AWS::StackName": stack_name,
            "AWS::StackId": stack_id if stack_id else Unknown("${AWS::StackId}"),
            "AWS::NotificationARNs": Unknown("${AWS::NotificationARNs}"),
            "AWS::NoValue": NO_VALUE,
        }
        self._conditions: dict[str, bool | None] = {}

    # -- conditions --------------------------------------------------------------------------------
    def condition(self, name: str) -> bool | None:
        """True, False, or None when it depends on a value known only at deploy."""
        if name not in self._conditions:
            self._conditions[name] = None  # a cycle (invalid template) stays undecided
            body = (self.template.get("Conditions") or {}).get(name)
            result = self._truth(self.resolve(body)) if body is not None else None
            self._conditions[name] = result
        return self._conditions[name]

    @staticmethod
    def _truth(value: Any) -> bool | None:
        if isinstance(value, Unknown) or value is None:
            return None
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)

    def created(self, logical_id: str) -> bool | None:
        """Whether the resource exists with these values (None: its Condition is decided at deploy)."""
        body = (self.template.get("Resources") or {}).get(logical_id) or {}
        name = body.get("Condition")
        return True if name is None else self.condition(name)

    def properties(self, logical_id: str) -> dict[str, Any]:
        body = (self.template.get("Resources") or {}).get(logical_id) or {}
        resolved = self.resolve(body.get("Properties") or {})
        return resolved if isinstance(resolved, dict) else {}

    # -- values ------------------------------------------------------------------------------------
    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.values:
            return self.values[name]
        return Unknown("${" + name + "}")  # a resource: its physical id

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Condition":
                return self.condition(str(arg))
            if key.startswith("Fn::"):
                return self._function(key, arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not NO_VALUE}

    def _sub(self, arg: Any) -> Any:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self.resolve(v) for k, v in arg[1].items()})
        unknown = False

        def one(match: re.Match[str]) -> str:
            nonlocal unknown
            name = match[1]
            if name in extra:
                value = extra[name]
            elif "." in name and name.split(".", 1)[0] not in self.values and name not in self.pseudo:
                value = Unknown("${" + name + "}")  # ${Resource.Attribute}: a GetAtt
            else:
                value = self.ref(name)
            if isinstance(value, Unknown):
                unknown = True
                return value.text if not value.atomic else "${" + name + "}"
            return _text(value)

        result = _SUB_VARIABLE.sub(one, str(text)).replace("${!", "${")
        return Unknown(result, atomic=False) if unknown else result

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::If":
            name, yes, no = arg
            decided = self.condition(name)
            if decided is None:
                return Unknown(f"(decided at deploy: {name})")
            return self.resolve(yes if decided else no)
        if key == "Fn::GetAtt":
            path = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return Unknown("${" + ".".join(str(self.resolve(p)) for p in path) + "}")
        if key in ("Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr"):
            return Unknown(f"({key[4:]} {_text(self.resolve(arg))})")
        if key == "Fn::Base64":
            return self.resolve(arg)
        if key == "Fn::Equals":
            first, second = (self.resolve(a) for a in arg)
            if isinstance(first, Unknown) or isinstance(second, Unknown):
                return Unknown("(decided at deploy)")
            return _text(first) == _text(second)
        if key in ("Fn::Not", "Fn::And", "Fn::Or"):
            truths = [self._truth(self.resolve(a)) for a in arg]
            if key == "Fn::Not":
                return None if truths[0] is None else not truths[0]
            decisive = key == "Fn::Or"  # any True decides an Or, any False an And
            if decisive in truths:
                return decisive
            return Unknown("(decided at deploy)") if None in truths else not decisive
        # the rest need known arguments
        args = self.resolve(arg)
        if _has_unknown(args):
            return Unknown(f"({key[4:]} of a value known after deploy)")
        try:
            return self._known(key, args)
        except (IndexError, KeyError, TypeError, ValueError, AttributeError):  # an invalid template: CloudFormation
            return Unknown(f"({key} could not be evaluated)")  # refuses it; the plan shows it, unevaluated

    def _known(self, key: str, args: Any) -> Any:
        if key == "Fn::Join":
            return str(args[0]).join(_text(v) for v in args[1])
        if key == "Fn::Select":
            return args[1][int(args[0])]
        if key == "Fn::Split":
            return str(args[1]).split(str(args[0]))
        if key == "Fn::FindInMap":
            name, first, second = args[:3]
            return ((self.template.get("Mappings") or {}).get(name) or {}).get(first, {}).get(second)
        if key == "Fn::Length":
            return len(args)
        if key == "Fn::ToJsonString":
            return json.dumps(args, separators=(",", ":"))
        return Unknown(f"({key} not evaluated)")


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _text(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=render, separators=(",", ":"))
    return str(value)


def render(value: Any) -> str:
    """A resolved value as one readable string (JSON for objects, unknown parts as placeholders)."""
    if isinstance(value, Unknown):
        return value.render()
    if isinstance(value, str):
        return value
    return json.dumps(value, default=lambda v: v.render() if isinstance(v, Unknown) else str(v),
                      separators=(", ", ": "), ensure_ascii=False)
