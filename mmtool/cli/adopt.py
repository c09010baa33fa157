"""`build.py adopt --env E --endpoint KEY`: arguments and output of `make adopt`; the work is
`mmtool.operate.adopt`."""

from __future__ import annotations

import argparse
from typing import Any

from deployer.flags import add_flag
from mmtool.config.workspace import environments, validate
from mmtool.errors import UsageError
from mmtool.operate.adopt import TIMEOUT_SECONDS, Waiter, run_adopt
from mmtool.operate.existing_endpoint import find_target
from mmtool.operate.locking import holding


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "endpoint", use="the `existing` endpoint to adopt")
    add_flag(parser, "yes", use="the endpoint is updated without asking")
    parser.add_argument("--timeout", type=int, default=TIMEOUT_SECONDS // 60, metavar="MIN",
                        help=f"minutes to wait for the endpoint to be InService (default {TIMEOUT_SECONDS // 60})")


def cmd_adopt(args: argparse.Namespace, paths: Any) -> int:
    from mmtool.operate.awsenv import connect

    if not args.env or not args.endpoint:
        raise UsageError("--env and --endpoint are required: make adopt ENV=prod ENDPOINT=fraud")
    if not 1 <= args.timeout <= 600:
        raise UsageError(f"--timeout={args.timeout}: must be 1-600 minutes")
    env = environments(paths, args.env)[0]
    params = validate(paths, [env])[env]
    target = find_target(params, args.endpoint)
    clients = connect(params, sagemaker=True)
    with holding(params, clients, "adopt", endpoint=args.endpoint):  # the endpoint's deploy lock (exit 6 when held)
        return run_adopt(params, clients, target, yes=args.yes, waiter=Waiter(timeout=args.timeout * 60))
