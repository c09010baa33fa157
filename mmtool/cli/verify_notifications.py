"""`build.py verify-notifications --env E [--endpoint KEY]`: arguments of `make verify-notifications`; the work is
`mmtool.operate.verify_notifications`."""

from __future__ import annotations

import argparse
from typing import Any

from deployer.flags import add_flag
from mmtool.config.workspace import environments, validate
from mmtool.errors import UsageError
from mmtool.operate.selection import select_endpoint
from mmtool.operate.verify_notifications import (
    DEFAULT_ALARM,
    PROCESSING_ALARM,
    check_model_monitor_rules,
    check_processing_rules,
    default_alarm,
    endpoint_alarm,
    model_monitor_schedule_arns,
    verify,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alarm",
                        help=f"alarm to force, without the <project>-<env>- prefix (a fleet endpoint's: without "
                        f"<project>-<env>-<key>-) (default {DEFAULT_ALARM}; on the processing engine alone "
                        f"{PROCESSING_ALARM})")
    parser.add_argument("--wait", type=float, default=60.0,
                        help="seconds to wait for the alarm's action history (default 60; 0: do not wait)")
    add_flag(parser, "endpoint", use="the one whose alarm is forced; required when the fleet has more than one")


def cmd_verify_notifications(args: argparse.Namespace, paths: Any) -> int:
    from mmtool.operate.locking import holding
    from mmtool.operate.awsenv import check_account, connect

    if not args.env:
        raise UsageError("verify-notifications needs an environment: --env <name> (make verify-notifications ENV=<name>)")
    params = validate(paths, environments(paths, args.env))[args.env]
    entry = select_endpoint(params, args.endpoint, "verify-notifications")
    alarm = endpoint_alarm(params, entry, args.alarm or default_alarm(entry))
    aws = connect(params)
    with holding(params, aws, "verify-notifications", endpoint=args.endpoint):  # it sets an alarm's state (exit 6 when held)
        account = check_account(aws, params)  # inside the lock, as run-now and adopt do
        return _verify(args, params, entry, alarm, account)


def _verify(args: argparse.Namespace, params: Any, entry: Any, alarm: Any, account: str) -> int:
    from deployer.aws import make_clients

    clients = make_clients(params.region, assume_role_arn=params.deploy.assume_role_arn,
                           external_id=params.deploy.external_id)  # a DeployError reaches the CLI's boundary
    topics = verify(clients.client("cloudwatch"), clients.client("sns"), alarm.name, environment=params.environment,
                    wait=args.wait, stack=alarm.stack, deploy=alarm.deploy)
    if entry.monitoring.runs_processing:
        from mmtool.operate.processing_facts import engine_schedules

        # alarms.enabled is implied: the alarm was found. The rules and their delivery alarms are the monitoring stack's.
        check_processing_rules(clients.client("events"), clients.client("cloudwatch"), entry.name_prefix(params),
                               [w.job_prefix for w in engine_schedules(params, entry)], topics,
                               notify_on_violations=params.alarms.notify_on_violations,
                               environment=params.environment, deploy=alarm.deploy)
    if entry.monitoring.runs_model_monitor:
        # Model Monitor's rules: the alarms stack's (single endpoint) or the endpoint's monitoring stack's.
        check_model_monitor_rules(clients.client("events"), clients.client("cloudwatch"), entry.name_prefix(params),
                                  entry.legacy, model_monitor_schedule_arns(params, entry, account), topics,
                                  notify_on_violations=params.alarms.notify_on_violations,
                                  environment=params.environment, deploy=alarm.deploy)
    return 0
