"""A template's resource properties as one environment's deploy would make them: the product's own intrinsic-function
evaluator (`deployer.intrinsics.Evaluator`, which the plan uses) with that environment's parameter values, made
strict for tests. For comparing our output with requests made elsewhere (tests/test_sdk_fidelity.py) and checking
what a resource's properties come to: a value the evaluator cannot know (an unknown function, a Ref to nothing
declared, a Condition decided only at deploy) raises, so it cannot pass unseen. `Fn::GetAtt` takes the given
`attributes` ("ExecutionRole.Arn" -> an ARN), else a readable stand-in `<ExecutionRole.Arn>`."""

from __future__ import annotations

from typing import Any

from deployer.intrinsics import Evaluator, Unknown


class Resolver(Evaluator):
    def __init__(self, template: dict[str, Any], values: dict[str, Any], region: str, account: str,
                 attributes: dict[str, Any] | None = None):
        super().__init__(template, values, region=region, account=account, stack_name="")
        self.pseudo["AWS::StackName"] = Unknown("${AWS::StackName}")  # no stack: a template that reads it raises
        self.attributes = dict(attributes or {})
        self._depth = 0

    def condition(self, name: str) -> bool:  # type: ignore[override]
        decided = super().condition(name)
        if decided is None:
            raise ValueError(f"Condition {name}: not decided by these parameter values")
        return decided

    def properties(self, logical_id: str) -> dict[str, Any] | None:  # type: ignore[override]
        """The resource's properties, or None when its Condition is false."""
        return super().properties(logical_id) if self.created(logical_id) else None

    def resolve(self, node: Any) -> Any:
        self._depth += 1
        try:
            value = super().resolve(node)
        finally:
            self._depth -= 1
        if self._depth == 0:
            unknown = _first_unknown(value)
            if unknown is not None:
                raise ValueError(f"{unknown.text}: not known from the parameter values and attributes given")
        return value

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":  # an attribute known only once deployed: the given value, or a readable stand-in
            path = ".".join(arg if isinstance(arg, list) else str(arg).split(".", 1))
            return self.attributes.get(path, f"<{path}>")
        return super()._function(key, arg)


def _first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((found for found in map(_first_unknown, children) if found is not None), None)
