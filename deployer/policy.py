"""Stack settings that live outside the template: the stack policy and termination protection.

The stack policy of a stack with ``protected_resources`` (the data stack: bucket and KMS key) allows every
update except replacing or deleting those resources, so even a change set executed by hand cannot
replace them. ``--allow-replacement`` lifts it for one execution and puts it back afterwards, whatever
the outcome.
"""

from __future__ import annotations

import json
from typing import Any

from .context import Context
from .errors import AWS_ERRORS, aws_error


def protective_policy(protected: list[str]) -> dict[str, Any]:
    return {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": [f"LogicalResourceId/{logical_id}" for logical_id in sorted(protected)],
            },
        ]
    }


ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]}


def current_policy(ctx: Context, stack: str, *, label: str) -> dict[str, Any] | None:
    try:
        body = ctx.clients.cloudformation.get_stack_policy(StackName=stack).get("StackPolicyBody")
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="GetStackPolicy", stack=label) from exc
    if not body:
        return None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return {"unparsable": body}


def set_policy(ctx: Context, stack: str, policy: dict[str, Any], *, label: str) -> None:
    try:
        ctx.clients.cloudformation.set_stack_policy(StackName=stack, StackPolicyBody=json.dumps(policy, sort_keys=True))
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="SetStackPolicy", stack=label) from exc


def set_termination_protection(ctx: Context, stack: str, enabled: bool, *, label: str) -> None:
    try:
        ctx.clients.cloudformation.update_termination_protection(
            StackName=stack, EnableTerminationProtection=enabled
        )
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="UpdateTerminationProtection", stack=label) from exc
