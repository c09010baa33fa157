"""`make dry-run ENV=e CAPTURE=<file|folder|s3://prefix> [CONSTRAINTS=... STATISTICS=...]`.

Builds the environment first (in-process; skipped when up to date) so the pre-processor that runs is
the one the build renders for that environment, `build/<env>/assets/<script>.py`, then runs
`mmtool.operate.dryrun.run_dry_run` and prints its report.

* Capture: a local .jsonl file or folder, or an `s3://` prefix whose `.jsonl` objects are downloaded
  (oldest first, at most --max-files objects and MAX_BYTES) into a temporary folder, removed afterwards.
* Baseline: local `--constraints` / `--statistics` files; otherwise, when params names the baseline's S3
  URIs and AWS credentials are available, those two objects (downloaded to `<out>/baseline/`); without
  credentials the run goes on without baseline checks and says so.
* Output: `constraint_violations.json` in `build/<env>/dry-run/` (or --out). The build's up-to-date check
  ignores that folder (mmtool/generate/fingerprint.py), and a real rebuild removes it with the rest of build/<env>/.

Exit codes: 0 the job would parse the records and report no violation; 1 violations, failed records or
no record parsed; 2 bad input (files, URIs, missing credentials for an S3 capture); 130 Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from mmtool.operate.awsenv import (
    aws_errors,
    aws_failure,
    safe_relative_path,
    split_s3_uri,
    transfer_errors,
)
from mmtool.operate.dryrun import DryRunError

if TYPE_CHECKING:
    from mmtool.config.params import Params

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
    except aws_errors() as exc:
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
        except transfer_errors() as exc:
            raise aws_failure(exc, f"download s3://{bucket}/{item['Key']}") from exc
        files.append(target)
    out(f"downloaded {len(files)} .jsonl object(s), {total:,} bytes, from {uri}")
    if more:
        out(f"  stopped at {max_files} objects / {max_bytes // 2**20} MiB: more .jsonl objects exist under the prefix. "
            "These are the first in key order (the oldest for Data Capture); to check another hour, narrow the "
            "prefix to .../yyyy/mm/dd/hh/ (or raise --max-files)")
    return files


def download_baseline(s3: Any, params: Params, dest: Path, entry: Any = None) -> tuple[Path, Path]:
    """The baseline files params names (for the fleet endpoint `entry`: its own), downloaded to `dest/`.
    Returns (constraints, statistics)."""
    baseline = (entry if entry is not None else params.fleet()[0]).monitoring.data_quality.baseline
    assert baseline is not None
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for uri, name in ((baseline.constraints, "constraints.json"), (baseline.statistics, "statistics.json")):
        bucket, key = split_s3_uri(uri, f"monitoring.data_quality.baseline.{name.split('.')[0]}")
        target = dest / name
        try:
            s3.download_file(bucket, key, str(target))
        except transfer_errors() as exc:
            raise aws_failure(
                exc, f"download the baseline {uri} named in params/{params.environment}.yaml",
                next_step="Next: check the URI in params, or pass local copies with CONSTRAINTS=... STATISTICS=...",
            ) from exc
        paths.append(target)
    return paths[0], paths[1]
