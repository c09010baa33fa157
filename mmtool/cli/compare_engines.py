"""`build.py compare-engines --env E --endpoint KEY`: arguments and output of `make compare-engines`; the work is
`mmtool.operate.compare_engines`."""

from __future__ import annotations

import argparse
from typing import Any

from deployer.flags import add_flag
from mmtool.config.workspace import environments, validate
from mmtool.errors import UsageError
from mmtool.operate.selection import select_endpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "endpoint", use="the one whose engines are compared; required when the fleet has more than one")


def cmd_compare_engines(args: argparse.Namespace, paths: Any) -> int:
    from deployer.aws import make_clients
    from mmtool.operate.awsenv import check_account, connect
    from mmtool.operate.compare_engines import compare, format_comparison, schedule_names

    if not args.env:
        raise UsageError("compare-engines needs an environment: --env <name> (make compare-engines ENV=<name> ENDPOINT=<key>)")
    params = validate(paths, environments(paths, args.env))[args.env]
    entry = select_endpoint(params, args.endpoint, "compare-engines")
    names = schedule_names(params, entry)  # refuses an endpoint whose engine is not `both`
    check_account(connect(params), params)
    clients = make_clients(params.region, assume_role_arn=params.deploy.assume_role_arn,
                           external_id=params.deploy.external_id)  # a DeployError reaches the CLI's boundary
    baseline = entry.monitoring.data_quality.baseline
    comparison = compare(clients.s3, clients.client("sagemaker"), clients.client("scheduler"), endpoint=names.endpoint,
                         model_monitor_schedule=names.model_monitor, processing_schedule=names.processing,
                         schedule_group=names.group, baseline_statistics=baseline.statistics if baseline else None,
                         baseline_constraints=baseline.constraints if baseline else None)
    print(format_comparison(comparison))
    return 0 if comparison.complete else 1
