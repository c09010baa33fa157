"""`build.py run-now --env E`: arguments and output of `make run-now`."""

from __future__ import annotations

import argparse
from typing import Any

from deployer.flags import add_flag
from mmtool.config.workspace import environments, validate
from mmtool.operate.facts import MONITORS
from mmtool.operate.locking import holding
from mmtool.operate.runnow_processing import run_now_on_engine
from mmtool.operate.runnow import (
    DEFAULT_WINDOW_HOURS,
    PROVISIONING_ALLOWANCE,
    Options,
    RunNowInputError,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--monitor", choices=tuple(MONITORS), default="data-quality",
                        help="which monitor's job definition to run (default data-quality)")
    parser.add_argument("--window-hours", dest="window_hours", type=int, default=DEFAULT_WINDOW_HOURS, metavar="N",
                        help=f"analyse the captured data of the last N hours, 1-24 (default {DEFAULT_WINDOW_HOURS})")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"stop waiting after this long (default: the job's max runtime + {PROVISIONING_ALLOWANCE} s); "
                        "the one-time schedule is deleted either way")
    parser.add_argument("--force", action="store_true",
                        help="start the run even when no capture data was written in the window")
    add_flag(parser, "json", use="the outcome, as `status --json` prints it")
    parser.add_argument("--engine", choices=("model-monitor", "processing"),
                        help="which engine runs it (default: the endpoint's monitoring.engine; under `both`, "
                        "model-monitor): processing starts one job with the processing schedule's own request")
    add_flag(parser, "endpoint", use="the one whose monitor runs; required when the fleet has more than one")


def cmd_run_now(args: argparse.Namespace, paths: Any) -> int:
    from mmtool.operate.awsenv import connect

    if not args.env:
        raise RunNowInputError("--env is required: make run-now ENV=dev [MONITOR=data-quality]")
    if not 1 <= args.window_hours <= 24:
        raise RunNowInputError(f"--window-hours={args.window_hours}: must be 1-24 (SageMaker's window limit)")
    if args.timeout is not None and args.timeout <= 0:
        raise RunNowInputError(f"--timeout={args.timeout}: must be a positive number of seconds")
    env = environments(paths, args.env)[0]
    params = validate(paths, [env])[env]
    options = Options(monitor=args.monitor, window_hours=args.window_hours, timeout=args.timeout, force=args.force,
                      json_output=args.json_output, endpoint=args.endpoint, engine=args.engine)
    clients = connect(params, sagemaker=True, cloudformation=True)
    with holding(params, clients, "run-now", endpoint=args.endpoint):  # the deploy lock (exit 6 when held)
        return run_now_on_engine(params, options, clients)

