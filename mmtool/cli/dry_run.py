"""`build.py dry-run --env E --capture ...`: arguments and output of `make dry-run`; the work is
`mmtool.operate.endpoint_dry_run`."""

from __future__ import annotations

import argparse
from typing import Any

from deployer.flags import add_flag
from mmtool.operate.capture_download import DEFAULT_MAX_FILES
from mmtool.operate.dryrun import DryRunError, format_report
from mmtool.operate.endpoint_dry_run import dry_run_endpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--capture", required=True, metavar="FILE|FOLDER|s3://PREFIX",
                        help="Data Capture .jsonl file, a folder searched recursively, or an S3 prefix")
    parser.add_argument("--constraints", metavar="FILE", help="local baseline constraints.json "
                        "(default: the one params names, downloaded when AWS credentials are available)")
    parser.add_argument("--statistics", metavar="FILE", help="local baseline statistics.json")
    parser.add_argument("--out", metavar="FOLDER", help="where constraint_violations.json goes (default build/<env>/dry-run/)")
    parser.add_argument("--max-files", dest="max_files", type=int, default=DEFAULT_MAX_FILES, metavar="N",
                        help=f"S3 capture: download at most N .jsonl objects (default {DEFAULT_MAX_FILES})")
    add_flag(parser, "endpoint", use="the one whose pre-processor and baseline are checked; required when the fleet has more than one")


def cmd_dry_run(args: argparse.Namespace, paths: Any) -> int:
    if not args.env:
        raise DryRunError("--env is required: make dry-run ENV=dev CAPTURE=...")
    result = dry_run_endpoint(paths, args.env, endpoint=args.endpoint, capture=args.capture,
                              constraints=args.constraints, statistics=args.statistics, max_files=args.max_files,
                              out=args.out)
    print(format_report(result))
    return 0 if result.ok else 1
