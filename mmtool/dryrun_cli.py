"""`make dry-run ENV=e CAPTURE=<file|folder|s3://prefix> [CONSTRAINTS=... STATISTICS=...]`.

Builds the environment first (in-process; skipped when up to date) so the pre-processor that runs is
the one the build renders for that environment, `build/<env>/assets/<script>.py`, then runs
`mmtool.dryrun.run_dry_run` and prints its report.

* Capture: a local .jsonl file or folder, or an `s3://` prefix whose `.jsonl` objects are downloaded
  (oldest first, at most --max-files objects and MAX_BYTES) into a temporary folder, removed afterwards.
* Baseline: local `--constraints` / `--statistics` files; otherwise, when params names the baseline's S3
  URIs and AWS credentials are available, those two objects (downloaded to `<out>/baseline/`); without
  credentials the run goes on without baseline checks and says so.
* Output: `constraint_violations.json` in `build/<env>/dry-run/` (or --out). The build's up-to-date check
  ignores that folder (mmtool/fingerprint.py), and a real rebuild removes it with the rest of build/<env>/.

Exit codes: 0 the job would parse the records and report no violation; 1 violations, failed records or
no record parsed; 2 bad input (files, URIs, missing credentials for an S3 capture); 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable

from mmtool.awsenv import Clients, aws_failure, credentials_available, safe_relative_path, split_s3_uri
from mmtool.dryrun import DryRunError, format_report, run_dry_run

if TYPE_CHECKING:
    from mmtool.params import Params

DEFAULT_MAX_FILES = 200
MAX_BYTES = 256 * 1024 * 1024
OUTPUT_DIR = "dry-run"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def download_capture(
    s3: Any, uri: str, dest: Path, *, max_files: int = DEFAULT_MAX_FILES, max_bytes: int = MAX_BYTES,
    out: Callable[[str], None] = _stderr,
) -> list[Path]:
    """Download the `.jsonl` objects under an S3 prefix into `dest/<bucket>/<key>`. Returns the files.

    Keys are taken in S3's order (for Data Capture's `yyyy/mm/dd/hh/` layout: oldest first) until
    `max_files` objects or `max_bytes` are reached; a message says when more exist.
    """
    bucket, prefix = split_s3_uri(uri, "CAPTURE")
    chosen: list[dict] = []
    total = 0
    more = False
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if not item["Key"].endswith(".jsonl") or safe_relative_path(item["Key"]) is None:
                    continue
                if len(chosen) >= max_files or total + item["Size"] > max_bytes:
                    more = True
                    break
                chosen.append(item)
                total += item["Size"]
            if more:
                break
    except Exception as exc:
        raise aws_failure(exc, f"list the capture objects under {uri} (s3:ListBucket)") from exc
    if not chosen:
        if more:
            raise DryRunError(f"CAPTURE={uri}: the first .jsonl object is larger than {max_bytes // 2**20} MiB; "
                              "download one yourself and pass the local file")
        raise DryRunError(
            f"CAPTURE={uri}: no .jsonl object under this prefix. Data Capture writes "
            "s3://<bucket>/<capture_prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl; check the prefix "
            "(`aws s3 ls --recursive` it) and that the endpoint has received traffic"
        )
    files = []
    for item in chosen:
        target = dest / bucket / safe_relative_path(item["Key"])  # type: ignore[operator]
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            s3.download_file(bucket, item["Key"], str(target))
        except Exception as exc:
            raise aws_failure(exc, f"download s3://{bucket}/{item['Key']}") from exc
        files.append(target)
    out(f"downloaded {len(files)} .jsonl object(s), {total:,} bytes, from {uri}")
    if more:
        out(f"  stopped at {max_files} objects / {max_bytes // 2**20} MiB: more .jsonl objects exist under the prefix. "
            "These are the first in key order (the oldest for Data Capture); to check another hour, narrow the "
            "prefix to .../yyyy/mm/dd/hh/ (or raise --max-files)")
    return files


def download_baseline(s3: Any, params: Params, dest: Path) -> tuple[Path, Path]:
    """The baseline files params names, downloaded to `dest/`. Returns (constraints, statistics)."""
    baseline = params.monitoring.data_quality.baseline
    assert baseline is not None
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for uri, name in ((baseline.constraints, "constraints.json"), (baseline.statistics, "statistics.json")):
        bucket, key = split_s3_uri(uri, f"monitoring.data_quality.baseline.{name.split('.')[0]}")
        target = dest / name
        try:
            s3.download_file(bucket, key, str(target))
        except Exception as exc:
            raise aws_failure(
                exc, f"download the baseline {uri} named in params/{params.environment}.yaml",
                next_step="Next: check the URI in params, or pass local copies with CONSTRAINTS=... STATISTICS=...",
            ) from exc
        paths.append(target)
    return paths[0], paths[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--capture", required=True, metavar="FILE|FOLDER|s3://PREFIX",
                        help="Data Capture .jsonl file, a folder searched recursively, or an S3 prefix")
    parser.add_argument("--constraints", metavar="FILE", help="local baseline constraints.json "
                        "(default: the one params names, downloaded when AWS credentials are available)")
    parser.add_argument("--statistics", metavar="FILE", help="local baseline statistics.json")
    parser.add_argument("--out", metavar="FOLDER", help="where constraint_violations.json goes (default build/<env>/dry-run/)")
    parser.add_argument("--max-files", dest="max_files", type=int, default=DEFAULT_MAX_FILES, metavar="N",
                        help=f"S3 capture: download at most N .jsonl objects (default {DEFAULT_MAX_FILES})")


def cmd_dry_run(args: argparse.Namespace, paths: Any) -> int:
    from mmtool.cli import _environments, build, validate

    if not args.env:
        raise DryRunError("--env is required: make dry-run ENV=dev CAPTURE=...")
    if args.max_files < 1:
        raise DryRunError(f"--max-files={args.max_files}: must be at least 1")
    capture_is_s3 = args.capture.startswith("s3://")
    if capture_is_s3:
        split_s3_uri(args.capture, "CAPTURE")
    env = _environments(paths, args.env)[0]
    build(paths, [env], out=_stderr)
    params = validate(paths, [env])[env]
    script = params.monitoring.data_quality.record_preprocessor
    if not script:
        raise DryRunError(
            f"params/{env}.yaml: monitoring.data_quality.record_preprocessor is null: the job reads the captured "
            "JSON without a pre-processor, so there is nothing to dry-run; set it (e.g. scripts/record_preprocessor.py)"
        )
    preprocessor = paths.build / env / "assets" / PurePosixPath(script).name
    out_dir = Path(args.out) if args.out else paths.build / env / OUTPUT_DIR

    clients: list[Clients] = []

    def s3() -> Any:
        if not clients:
            from mmtool.awsenv import connect

            clients.append(connect(params))
        return clients[0].s3

    constraints, statistics = args.constraints, args.statistics
    if constraints is None and statistics is None and params.monitoring.data_quality.baseline is not None:
        if capture_is_s3 or credentials_available():
            constraints, statistics = download_baseline(s3(), params, out_dir / "baseline")
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
