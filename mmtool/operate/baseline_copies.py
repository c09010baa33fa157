"""The baseline copies at deploy time (mmtool/config/baselines.py says why copies and where they go): `make plan`
warns for each source these credentials cannot read; `make deploy` copies every source into the project bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from mmtool.config.baselines import BaselineCopy, baseline_copies
from mmtool.errors import ToolError

if TYPE_CHECKING:
    from mmtool.config.params import Params


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


# --- the two hooks of `make plan` and `make deploy` (mmtool/cli/deploy.py) -------------------------------------


def _copies(params: Params, endpoint: str | None) -> list:
    """Every fleet endpoint's copies, or with `ENDPOINT=key` (`--endpoint`) only that endpoint's."""
    if endpoint is None:
        return baseline_copies(params)
    prefix = params.endpoint(endpoint).baselines_prefix(params) + "/"
    return [c for c in baseline_copies(params) if c.key.startswith(prefix)]


def warn_unreadable(params: Params, out: Callable[[str], None], endpoint: str | None = None) -> None:
    """`make plan`: one warning line per baseline source these credentials cannot read (never fails)."""
    copies = _copies(params, endpoint)
    if not copies:
        return
    from mmtool.operate.awsenv import connect

    for warning in unreadable(connect(params).s3, copies):
        out(f"! {warning}")


def copy_after_deploy(params: Params, out: Callable[[str], None], endpoint: str | None = None) -> None:
    """`make deploy`, once the stacks are deployed: copy every baseline (of `endpoint` only, when given) into the
    project bucket."""
    copies = _copies(params, endpoint)
    if not copies:
        return
    from mmtool.operate.awsenv import connect, deployed_values

    clients = connect(params)
    deployed = deployed_values(clients, params)
    copy_all(clients.s3, copies, deployed.bucket, deployed.kms_key_arn, out=out)
