"""Baselines named in params are used from copies under the project bucket's `baselines/` prefix.

Why copies (issue 16, part 2): staging and prod name baselines in another bucket (`churn-baselines-*`).
The monitoring jobs download their inputs with the monitoring role through the S3 gateway endpoint, and
the download may list the prefix first; the bucket's KMS key is unknown to us, so the role could not be
granted `kms:Decrypt` on it even with `s3:ListBucket` on that bucket. A copy under
`s3://<project bucket>/baselines/imported/` is encrypted with the project key and lies under a prefix the
role may already list and read, so the role and the endpoint policy need nothing outside the project
bucket for baselines (the endpoint keeps only the model artifact as an outside object).

* `copy_key(uri)` is the copy's bucket key, a pure function of the source URI
  (`baselines/imported/<sha256(uri)[:16]>/<file name>`), so the build (no AWS) can put it in the
  monitoring stack's parameters: the job definitions read `s3://${BucketName}/<copy key>`.
* `make deploy` copies every source after the stacks are deployed (CopyObject, SSE-KMS with the project
  key, the deploying principal's credentials: it needs `s3:GetObject` on the source and `kms:Decrypt` on
  its key). A source is copied again on every deploy: a baseline rewritten at the same URI is picked up
  by the next deploy.
* `make plan` reads the first byte of every source (which needs the same `s3:GetObject` and
  `kms:Decrypt`) and warns for each one it cannot read, with AWS's reason, before anything is deployed.

Standard library only at import time: boto3 arrives through the clients the callers pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mmtool.errors import ToolError

if TYPE_CHECKING:
    from mmtool.params import Params

IMPORTED_PREFIX = "baselines/imported"  # under foundation's BASELINES_PREFIX, which the role reads and lists


def copy_key(uri: str) -> str:
    """s3://bucket/path/constraints.json -> baselines/imported/<16 hex of sha256(uri)>/constraints.json."""
    digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]
    return f"{IMPORTED_PREFIX}/{digest}/{uri.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class BaselineCopy:
    field: str  # where params names it, e.g. monitoring.data_quality.baseline.constraints
    source: str  # s3://bucket/key
    key: str  # key of the copy in the project bucket

    @property
    def source_bucket(self) -> str:
        return self.source[5:].partition("/")[0]

    @property
    def source_key(self) -> str:
        return self.source[5:].partition("/")[2]


def baseline_copies(params: Params) -> list[BaselineCopy]:
    """Every baseline object the enabled monitors use, in params order (each source once)."""
    named: list[tuple[str, str]] = []
    monitoring = params.monitoring
    dq = monitoring.data_quality
    if dq.enabled and dq.baseline:
        named += [("monitoring.data_quality.baseline.constraints", dq.baseline.constraints),
                  ("monitoring.data_quality.baseline.statistics", dq.baseline.statistics)]
    for key in ("model_quality", "model_bias", "model_explainability"):
        monitor = getattr(monitoring, key)
        if monitor.enabled and monitor.baseline_constraints:
            named.append((f"monitoring.{key}.baseline_constraints", monitor.baseline_constraints))
    seen: set[str] = set()
    copies = []
    for field, uri in named:
        if uri not in seen:
            seen.add(uri)
            copies.append(BaselineCopy(field, uri, copy_key(uri)))
    return copies


def unreadable(s3: Any, copies: list[BaselineCopy]) -> list[str]:
    """A warning for each source the caller cannot read: GetObject of its first byte, which needs
    s3:GetObject and kms:Decrypt on the object's key (HeadObject would succeed without the latter)."""
    warnings = []
    for copy in copies:
        try:
            s3.get_object(Bucket=copy.source_bucket, Key=copy.source_key, Range="bytes=0-0")["Body"].close()
        except Exception as exc:  # botocore ClientError and connection errors alike: report, never stop the plan
            warnings.append(
                f"{copy.field}={copy.source}: cannot be read with these credentials ({_reason(exc)}); "
                f"`make deploy` copies it to baselines/ and would fail. Next: grant the deploying principal "
                f"s3:GetObject on {copy.source} and kms:Decrypt on the key that encrypts it (that key's policy "
                "must allow this account), or copy the baseline into the project bucket yourself and name that copy."
            )
    return warnings


def copy_all(s3: Any, copies: list[BaselineCopy], bucket: str, kms_key_arn: str,
             out: Callable[[str], None] = print) -> None:
    """Copy every source to `bucket`, SSE-KMS with the project key. Raises CopyError on the first failure."""
    for copy in copies:
        try:
            s3.copy_object(Bucket=bucket, Key=copy.key, CopySource={"Bucket": copy.source_bucket, "Key": copy.source_key},
                           ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_arn, MetadataDirective="REPLACE",
                           ContentType="application/json", Metadata={"source": copy.source})
        except Exception as exc:
            raise CopyError(
                f"{copy.field}={copy.source}: copying it to s3://{bucket}/{copy.key} failed ({_reason(exc)}). The "
                "stacks are deployed, but the monitor reads this copy and its runs fail until it exists.\n"
                "Next: grant the deploying principal s3:GetObject on the source and kms:Decrypt on its key, then run "
                "`make deploy` again (nothing else changes)."
            ) from exc
        out(f"baseline {copy.source} → s3://{bucket}/{copy.key}")


def _reason(exc: BaseException) -> str:
    error = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    code, message = error.get("Code"), error.get("Message")
    return f"{code}: {message}" if code else str(exc) or type(exc).__name__


class CopyError(ToolError):
    """A baseline could not be copied into the project bucket."""


# --- the two hooks of `make plan` and `make deploy` (mmtool.deploy_cli) -------------------------------------


def warn_unreadable(params: Params, out: Callable[[str], None]) -> None:
    """`make plan`: one warning line per baseline source these credentials cannot read (never fails)."""
    copies = baseline_copies(params)
    if not copies:
        return
    from mmtool.awsenv import connect

    for warning in unreadable(connect(params).s3, copies):
        out(f"! {warning}")


def copy_after_deploy(params: Params, out: Callable[[str], None]) -> None:
    """`make deploy`, once the stacks are deployed: copy every baseline into the project bucket."""
    copies = baseline_copies(params)
    if not copies:
        return
    from mmtool.awsenv import connect, deployed_values

    clients = connect(params)
    deployed = deployed_values(clients, params)
    copy_all(clients.s3, copies, deployed.bucket, deployed.kms_key_arn, out=out)
