"""`build.py dry-run --env E --capture ...`: arguments and output of `make dry-run`."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from mmtool.build.pipeline import build
from mmtool.config.workspace import environments, validate
from mmtool.operate.awsenv import Clients, credentials_available, split_s3_uri
from mmtool.operate.capture_download import (
    DEFAULT_MAX_FILES,
    OUTPUT_DIR,
    _stderr,
    download_baseline,
    download_capture,
)
from mmtool.operate.dryrun import DryRunError, format_report, run_dry_run
from mmtool.operate.selection import select_endpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--capture", required=True, metavar="FILE|FOLDER|s3://PREFIX",
                        help="Data Capture .jsonl file, a folder searched recursively, or an S3 prefix")
    parser.add_argument("--constraints", metavar="FILE", help="local baseline constraints.json "
                        "(default: the one params names, downloaded when AWS credentials are available)")
    parser.add_argument("--statistics", metavar="FILE", help="local baseline statistics.json")
    parser.add_argument("--out", metavar="FOLDER", help="where constraint_violations.json goes (default build/<env>/dry-run/)")
    parser.add_argument("--max-files", dest="max_files", type=int, default=DEFAULT_MAX_FILES, metavar="N",
                        help=f"S3 capture: download at most N .jsonl objects (default {DEFAULT_MAX_FILES})")
    parser.add_argument("--endpoint", metavar="KEY", help="a fleet: the endpoint whose pre-processor and baseline "
                        "are checked (its key under endpoints:); required when the fleet has more than one")


def cmd_dry_run(args: argparse.Namespace, paths: Any) -> int:

    if not args.env:
        raise DryRunError("--env is required: make dry-run ENV=dev CAPTURE=...")
    if args.max_files < 1:
        raise DryRunError(f"--max-files={args.max_files}: must be at least 1")
    capture_is_s3 = args.capture.startswith("s3://")
    if capture_is_s3:
        split_s3_uri(args.capture, "CAPTURE")
    env = environments(paths, args.env)[0]
    build(paths, [env], out=_stderr)
    params = validate(paths, [env])[env]
    entry = select_endpoint(params, args.endpoint, "dry-run")
    dq = entry.monitoring.data_quality
    where = "" if entry.legacy else f"endpoints.{entry.key}."
    script = dq.record_preprocessor
    if not script:
        raise DryRunError(
            f"params/{env}.yaml: {where}monitoring.data_quality.record_preprocessor is null: the job reads the captured "
            "JSON without a pre-processor, so there is nothing to dry-run; set it (e.g. scripts/record_preprocessor.py)"
        )
    assets = paths.build / env / "assets" / ("" if entry.legacy else entry.key)  # build/synth.py lays them out
    preprocessor = assets / PurePosixPath(script).name
    out_dir = Path(args.out) if args.out else paths.build / env / OUTPUT_DIR

    clients: list[Clients] = []

    def s3() -> Any:
        if not clients:
            from mmtool.operate.awsenv import connect

            clients.append(connect(params))
        return clients[0].s3

    constraints, statistics = args.constraints, args.statistics
    if constraints is None and statistics is None and dq.baseline is not None:
        if capture_is_s3 or credentials_available():
            constraints, statistics = download_baseline(s3(), params, out_dir / "baseline", entry)
            _stderr(f"baseline: downloaded the files params/{env}.yaml names to {out_dir / 'baseline'}/")
        else:
            _stderr(
                f"note: params/{env}.yaml names a baseline in S3 but no AWS credentials were found, so the columns are "
                "NOT checked against it. Set AWS_PROFILE (or credentials), or pass local copies: "
                "CONSTRAINTS=constraints.json STATISTICS=statistics.json"
            )

    if not capture_is_s3:
        result = run_dry_run(preprocessor, args.capture, constraints, statistics, out_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="mmtool-capture-") as tmp:
            download_capture(s3(), args.capture, Path(tmp), max_files=args.max_files)
            result = run_dry_run(preprocessor, Path(tmp), constraints, statistics, out_dir)
    print(format_report(result))
    return 0 if result.ok else 1
