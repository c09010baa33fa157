"""`build.py baseline --env E --dataset ...`: arguments of `make baseline` (`--local`: LOCAL=1; `--engine`)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from deployer.flags import add_flag
from mmtool.config.workspace import environments, validate
from mmtool.operate.baseline import (
    DEFAULT_MAX_RUNTIME,
    PROVISIONING_ALLOWANCE,
    BaselineInputError,
    Options,
    run_baseline,
)
from mmtool.operate.locking import holding


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="FILE|s3://URI",
                        help="the baseline dataset: a local file (uploaded to s3://<bucket>/baselines/datasets/) or an "
                        "object or prefix in the project bucket")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="dataset format: csv (default) or jsonl (one JSON object per line)")
    header = parser.add_mutually_exclusive_group()
    header.add_argument("--header", dest="header", action="store_true", default=None,
                        help="the CSV has a header row (default when the pre-processor has feature_names)")
    header.add_argument("--no-header", dest="header", action="store_false",
                        help="the CSV has no header row (default with positional pre-processor keys)")
    parser.add_argument("--wait", dest="wait", action="store_true", default=True, help="wait for the job (default)")
    parser.add_argument("--no-wait", dest="wait", action="store_false", help="start the job and return")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"stop waiting after this long (default: max runtime + {PROVISIONING_ALLOWANCE} s); the job keeps running")
    parser.add_argument("--max-runtime", dest="max_runtime", type=int, default=DEFAULT_MAX_RUNTIME, metavar="SECONDS",
                        help=f"the job's stopping condition (default {DEFAULT_MAX_RUNTIME})")
    parser.add_argument("--instance-type", dest="instance_type", metavar="ml.x.y",
                        help="instead of monitoring.data_quality.instance_type")
    add_flag(parser, "endpoint", use="the one to baseline; required when the fleet has more than one")
    parser.add_argument("--volume-size", dest="volume_size", type=int, metavar="GB",
                        help="instead of monitoring.data_quality.volume_size_gb")
    parser.add_argument("--local", action="store_true",
                        help="compute statistics.json and constraints.json here with the processing engine's analyzer "
                        "(no AWS; LOCAL=1), into dist/baselines/<env>/[<key>/]baseline-<time>/")
    parser.add_argument("--out", metavar="FOLDER", help="--local: where the two files go")
    parser.add_argument("--engine", choices=("model-monitor", "processing"),
                        help="the analyzer of the baselining job (default: the endpoint's monitoring.engine; both: "
                        "model-monitor)")


def cmd_baseline(args: argparse.Namespace, paths: Any) -> int:
    from mmtool.operate.awsenv import connect

    if not args.env:
        raise BaselineInputError("--env is required: make baseline ENV=dev DATASET=...")
    env = environments(paths, args.env)[0]
    params = validate(paths, [env])[env]
    if args.instance_type and not re.fullmatch(r"ml\.[a-z0-9]+\.[0-9]*x?(large|medium|small|metal)", args.instance_type):
        raise BaselineInputError(f"--instance-type={args.instance_type}: expected an ml.* instance type such as ml.m5.xlarge")
    if args.volume_size is not None and not 1 <= args.volume_size <= 16384:
        raise BaselineInputError(f"--volume-size={args.volume_size}: must be 1-16384 GB")
    if args.timeout is not None and args.timeout <= 0:
        raise BaselineInputError(f"--timeout={args.timeout}: must be a positive number of seconds")
    if args.out and not args.local:
        raise BaselineInputError("--out applies to --local (LOCAL=1); the job writes under the bucket's baselines prefix")
    options = Options(
        dataset=args.dataset,
        format=args.format,
        header=args.header,
        wait=args.wait,
        timeout=args.timeout,
        max_runtime_seconds=args.max_runtime,
        instance_type=args.instance_type,
        volume_size_gb=args.volume_size,
        endpoint=args.endpoint,
    )
    from mmtool.operate.analyzer_baseline import (
        check_engine_options,
        engine_of,
        processing_engine_request,
        run_local_baseline,
    )

    if args.local:
        if args.engine == "model-monitor":
            raise BaselineInputError("--local runs the processing engine's analyzer; Model Monitor's runs only in AWS")
        run_local_baseline(params, options, paths.root, out_dir=args.out)
        return 0
    from mmtool.operate.selection import select_endpoint

    engine = engine_of(select_endpoint(params, args.endpoint, "baseline"), args.engine)
    check_engine_options(options, engine)
    clients = connect(params, sagemaker=True)
    # the deploy lock (exit 6 when held), taken once the inputs are checked
    hold = lambda: holding(params, clients, "baseline", endpoint=args.endpoint)  # noqa: E731
    if engine == "processing":
        run_baseline(params, options, clients, job_request=processing_engine_request, hold=hold)
    else:
        run_baseline(params, options, clients, hold=hold)
    return 0
