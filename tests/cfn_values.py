"""A template's resource properties as one environment's deploy would make them: the intrinsic functions our
templates use (Ref, Fn::Sub, Fn::If, Fn::FindInMap, Fn::Join, Fn::Select, Fn::Split and the condition
functions) evaluated with that environment's parameter values. For comparing our output with requests made
elsewhere (tests/test_sdk_fidelity.py); anything else raises, so an unknown function cannot pass unseen."""

from __future__ import annotations

import re
from typing import Any

NO_VALUE = object()


def partition_of(region: str) -> tuple[str, str]:
    """(AWS::Partition, AWS::URLSuffix) of a region, from botocore's partition table (aws-cn, the ISO
    partitions, ... each have their own DNS suffix)."""
    from botocore.loaders import create_loader

    partitions = create_loader().load_data("endpoints")["partitions"]
    for partition in partitions:
        if region in partition.get("regions", {}) or re.fullmatch(partition["regionRegex"], region):
            return partition["partition"], partition["dnsSuffix"]
    raise KeyError(f"{region}: in no partition botocore knows")


class Resolver:
    def __init__(self, template: dict[str, Any], values: dict[str, Any], region: str, account: str,
                 attributes: dict[str, Any] | None = None):
        """`attributes`: Fn::GetAtt values known only once deployed ("ExecutionRole.Arn" -> an ARN); any other
        GetAtt resolves to a readable stand-in."""
        self.template = template
        self.attributes = dict(attributes or {})
        declared = template.get("Parameters", {})
        self.values = {name: values.get(name, spec.get("Default")) for name, spec in declared.items()}
        for name, spec in declared.items():
            if spec.get("Type") == "CommaDelimitedList" and isinstance(self.values[name], str):
                self.values[name] = self.values[name].split(",")
        partition, suffix = partition_of(region)
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::NoValue": NO_VALUE,
                       "AWS::Partition": partition, "AWS::URLSuffix": suffix}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def properties(self, logical_id: str) -> dict[str, Any] | None:
        """The resource's properties, or None when its Condition is false."""
        resource = self.template["Resources"][logical_id]
        if "Condition" in resource and not self.condition(resource["Condition"]):
            return None
        return self.resolve(resource.get("Properties", {}))

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.values:
            return self.values[name]
        raise KeyError(f"Ref {name}: neither a parameter nor a pseudo parameter")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key, arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not NO_VALUE}

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self.resolve(v) for k, v in arg[1].items()})
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(extra[m[1]] if m[1] in extra else self.ref(m[1])), text)
        if key == "Fn::If":
            name, yes, no = arg
            return self.resolve(yes if self.condition(name) else no)
        if key == "Fn::FindInMap":
            name, first, second = (self.resolve(a) for a in arg)
            return self.template["Mappings"][name][first][second]
        if key == "Fn::Join":
            return self.resolve(arg[0]).join(str(v) for v in self.resolve(arg[1]))
        if key == "Fn::Select":
            return self.resolve(arg[1])[int(self.resolve(arg[0]))]
        if key == "Fn::GetAtt":  # an attribute known only once deployed: the given value, or a readable stand-in
            return self.attributes.get(".".join(arg), f"<{'.'.join(arg)}>")
        if key == "Fn::Split":
            return self.resolve(arg[1]).split(self.resolve(arg[0]))
        if key == "Fn::Equals":
            first, second = (self.resolve(a) for a in arg)
            return first == second
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(a) for a in arg)
        if key == "Fn::Or":
            return any(self.resolve(a) for a in arg)
        raise NotImplementedError(f"{key} is not evaluated by tests/cfn_values.py; add it")
