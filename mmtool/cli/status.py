"""`build.py status --env E`: arguments and output of `make status`."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from deployer.flags import add_flag
from mmtool.config.workspace import environments, validate
from mmtool.operate.facts import DEFAULT_EXECUTIONS, DEFAULT_HOURS
from mmtool.operate.status import StatusInputError, run_status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "json", use="one document (schema in docs/operating.md)")
    parser.add_argument("--hours", type=int, default=DEFAULT_HOURS, metavar="N",
                        help=f"look for Data Capture files of the last N hours (default {DEFAULT_HOURS}, at most 168)")
    parser.add_argument("--executions", type=int, default=DEFAULT_EXECUTIONS, metavar="N",
                        help=f"show the last N executions of each schedule (default {DEFAULT_EXECUTIONS}, at most 100)")
    add_flag(parser, "endpoint", use="this endpoint only (default: every endpoint)")


def cmd_status(args: argparse.Namespace, paths: Any) -> int:
    from mmtool.operate.awsenv import connect

    if not args.env:
        raise StatusInputError("--env is required: make status ENV=dev")
    if not 1 <= args.hours <= 168:
        raise StatusInputError(f"--hours={args.hours}: must be 1-168")
    if not 1 <= args.executions <= 100:
        raise StatusInputError(f"--executions={args.executions}: must be 1-100 (ListMonitoringExecutions' page size)")
    env = environments(paths, args.env)[0]
    params = validate(paths, [env])[env]
    return run_status(params, connect(params, sagemaker=True, cloudformation=True), now=datetime.now(timezone.utc),
                      hours=args.hours, executions=args.executions, json_output=args.json_output, endpoint=args.endpoint)

