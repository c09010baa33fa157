"""`make dry-run` for one endpoint of an environment: which pre-processor and baseline, where the capture comes
from (a file, a folder or an S3 prefix, downloaded), then `mmtool.operate.dryrun` over it.

The environment is built first, so the pre-processor checked is exactly the asset the job loads
(`build/<env>/assets/[<key>/]<script>`, with its rendered settings).
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from mmtool.generate.pipeline import build
from mmtool.config.workspace import environments, validate
from mmtool.operate.awsenv import Clients, credentials_available, split_s3_uri
from mmtool.operate.capture_download import OUTPUT_DIR, _stderr, download_baseline, download_capture
from mmtool.operate.dryrun import DryRunError, DryRunResult, run_dry_run
from mmtool.operate.selection import select_endpoint


def dry_run_endpoint(paths: Any, env: str, *, endpoint: str | None, capture: str, constraints: str | None,
                     statistics: str | None, max_files: int, out: str | None) -> DryRunResult:
    """Dry-run the pre-processor of `endpoint` (or the environment's only one) over `capture`."""
    if max_files < 1:
        raise DryRunError(f"--max-files={max_files}: must be at least 1")
    capture_is_s3 = capture.startswith("s3://")
    if capture_is_s3:
        split_s3_uri(capture, "CAPTURE")
    env = environments(paths, env)[0]
    build(paths, [env], out=_stderr)
    params = validate(paths, [env])[env]
    entry = select_endpoint(params, endpoint, "dry-run")
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
    out_dir = Path(out) if out else paths.build / env / OUTPUT_DIR

    clients: list[Clients] = []

    def s3() -> Any:
        if not clients:
            from mmtool.operate.awsenv import connect

            clients.append(connect(params))
        return clients[0].s3

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
        return run_dry_run(preprocessor, capture, constraints, statistics, out_dir)
    with tempfile.TemporaryDirectory(prefix="mmtool-capture-") as tmp:
        download_capture(s3(), capture, Path(tmp), max_files=max_files)
        return run_dry_run(preprocessor, Path(tmp), constraints, statistics, out_dir)
