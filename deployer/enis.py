"""Network interfaces SageMaker creates for monitoring jobs and endpoints in our subnets.

They belong to no stack, keep the job security group in use, and make the network stack's deletion fail
(``resource sg-... has a dependent object``). Before that stack is deleted, the interfaces attached to
the job security group whose description or requester id shows SageMaker are deleted once SageMaker has
released them (status ``available``); while they are still ``in-use`` (a job finishing, an endpoint being
deleted) we wait, within ``--wait-timeout``. Interfaces of VPC endpoints and anything not created by
SageMaker are never touched: CloudFormation removes its own.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .context import Context
from .errors import AWS_ERRORS, WaitTimeoutError, aws_error, error_code

SECURITY_GROUP_OUTPUT = "JobSecurityGroupId"


def is_sagemaker(eni: dict[str, Any]) -> bool:
    if eni.get("InterfaceType") == "vpc_endpoint":
        return False
    text = f"{eni.get('Description', '')} {eni.get('RequesterId', '')}".lower()
    return "sagemaker" in text


def sagemaker_interfaces(ctx: Context, security_group: str, *, label: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    try:
        paginator = ctx.clients.ec2.get_paginator("describe_network_interfaces")
        for page in paginator.paginate(Filters=[{"Name": "group-id", "Values": [security_group]}]):
            found.extend(eni for eni in page.get("NetworkInterfaces", []) if is_sagemaker(eni))
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=f"DescribeNetworkInterfaces (security group {security_group})", stack=label) from exc
    return found


def remove_sagemaker_interfaces(ctx: Context, security_group: str, *, label: str) -> int:
    """Delete SageMaker's interfaces in the security group; returns how many were deleted."""
    deleted = 0
    announced: set[str] = set()
    pause = ctx.options.poll_min
    while True:
        interfaces = sagemaker_interfaces(ctx, security_group, label=label)
        if not interfaces:
            return deleted
        for eni in interfaces:
            eni_id = eni["NetworkInterfaceId"]
            if eni.get("Status") == "available":
                try:
                    ctx.clients.ec2.delete_network_interface(NetworkInterfaceId=eni_id)
                except ClientError as exc:
                    if error_code(exc) == "InvalidNetworkInterfaceID.NotFound":
                        continue
                    if error_code(exc) in ("InvalidNetworkInterface.InUse", "InvalidParameterValue"):
                        continue  # attached again or still being released: look again next round
                    raise aws_error(exc, action=f"DeleteNetworkInterface {eni_id}", stack=label) from exc
                except AWS_ERRORS as exc:
                    raise aws_error(exc, action=f"DeleteNetworkInterface {eni_id}", stack=label) from exc
                deleted += 1
                ctx.reporter.success(f"{label}: deleted SageMaker network interface {eni_id} ({eni.get('Description', '')})")
            elif eni_id not in announced:
                announced.add(eni_id)
                ctx.reporter.info(
                    f"{label}: waiting for SageMaker to release network interface {eni_id} "
                    f"({eni.get('Status')}, {eni.get('Description', '')})"
                )
        if ctx.time_left() <= 0:
            ids = ", ".join(e["NetworkInterfaceId"] for e in interfaces)
            raise WaitTimeoutError(
                f"{label}: SageMaker still holds network interfaces {ids} in {security_group} after "
                f"--wait-timeout={ctx.options.wait_timeout:g}s; the network stack was not deleted.\n"
                "Next: stop running monitoring jobs (`aws sagemaker list-processing-jobs --status-equals InProgress`), "
                f"then run `{ctx.resume_command('destroy')}` again."
            )
        ctx.pause(pause)
        pause = min(pause * 1.5, ctx.options.poll_max)
