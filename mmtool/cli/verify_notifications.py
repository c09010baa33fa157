"""`build.py verify-notifications --env E`: arguments of `make verify-notifications`; the work is
`mmtool.operate.verify_notifications`."""

from __future__ import annotations

import argparse
from typing import Any

from mmtool.config.workspace import environments, single_endpoint, validate
from mmtool.errors import UsageError
from mmtool.operate.verify_notifications import DEFAULT_ALARM, verify


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alarm", default=DEFAULT_ALARM,
                        help=f"alarm to force, without the <project>-<env>- prefix (default {DEFAULT_ALARM})")
    parser.add_argument("--wait", type=float, default=60.0,
                        help="seconds to wait for the alarm's action history (default 60; 0: do not wait)")


def cmd_verify_notifications(args: argparse.Namespace, paths: Any) -> int:
    from deployer.aws import make_clients
    from deployer.errors import DeployError
    from mmtool.operate.awsenv import aws_failure, check_account, connect

    if not args.env:
        raise UsageError("verify-notifications needs an environment: --env <name> (make verify-notifications ENV=<name>)")
    params = validate(paths, environments(paths, args.env))[args.env]
    single_endpoint(params, "verify-notifications")
    check_account(connect(params), params)
    try:
        clients = make_clients(params.region, assume_role_arn=params.deploy.assume_role_arn,
                               external_id=params.deploy.external_id)
    except DeployError as exc:
        raise aws_failure(exc, "connect to AWS") from exc
    verify(clients.client("cloudwatch"), clients.client("sns"), f"{params.prefix}-{args.alarm}",
           environment=params.environment, wait=args.wait)
    return 0
