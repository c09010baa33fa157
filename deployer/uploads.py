"""Objects the engine puts in the project bucket: the monitoring assets (content-hashed keys) and, only when a
template exceeds CloudFormation's 51,200-byte inline limit, the template itself (also under a content-hashed
key). Everything is written with SSE-KMS under the project key; nothing is ever deleted. An object is never
trusted because its key exists: its content is read back and compared with the build's before it is used
(deployer/integrity.py), and uploaded again when it differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from .context import Context
from .errors import AWS_ERRORS, DeployError, aws_error, error_code
from .integrity import ensure, stored_sha256
from .manifest import TEMPLATE_BODY_LIMIT, BaselineCopy, StackSpec


@dataclass(frozen=True)
class BucketTarget:
    bucket: str
    kms_key: str | None


def output_value(stack: dict[str, Any] | None, key: str) -> str | None:
    for output in (stack or {}).get("Outputs", []) or []:
        if output.get("OutputKey") == key:
            return output.get("OutputValue")
    return None


#: Where templates over the inline limit go in the project bucket. The engine never imports mmtool: this is a second
#: copy of mmtool/config/layout.py's TEMPLATES prefix, which tests/config/test_bucket_layout.py holds equal.
TEMPLATES_PREFIX = "cloudformation-templates"

#: What S3 answers when the key of an SSE-KMS write is disabled, pending deletion or gone.
KMS_KEY_UNUSABLE = {
    "KMS.DisabledException": "is disabled",
    "KMS.KMSInvalidStateException": "is not usable (disabled or pending deletion)",
    "KMS.NotFoundException": "does not exist (any more)",
}


def put(ctx: Context, target: BucketTarget, key: str, body: bytes, *, content_type: str) -> None:
    request: dict[str, Any] = {"Bucket": target.bucket, "Key": key, "Body": body, "ContentType": content_type}
    if target.kms_key:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=target.kms_key)
    try:
        ctx.clients.s3.put_object(**request)
    except ClientError as exc:
        code = error_code(exc)
        if code in KMS_KEY_UNUSABLE:
            raise aws_error(
                exc,
                action=f"PutObject s3://{target.bucket}/{key}",
                next_step=f"The project's KMS key {target.kms_key} {KMS_KEY_UNUSABLE[code]}: nothing can be written to "
                "the bucket, and the monitoring jobs can read none of their data. Next: `aws kms enable-key --key-id "
                f"{target.kms_key}` (first `aws kms cancel-key-deletion --key-id {target.kms_key}` if its deletion is "
                f"scheduled), then `{ctx.resume_command()}`.",
            ) from exc
        raise aws_error(
            exc,
            action=f"PutObject s3://{target.bucket}/{key}",
            next_step="Next: the deploying principal needs s3:PutObject on the bucket and kms:GenerateDataKey on the key.",
        ) from exc
    except AWS_ERRORS as exc:
        raise aws_error(
            exc,
            action=f"PutObject s3://{target.bucket}/{key}",
            next_step="Next: the deploying principal needs s3:PutObject on the bucket and kms:GenerateDataKey on the key.",
        ) from exc


def asset_digests(ctx: Context) -> dict[str, str]:
    """Asset key -> the SHA-256 the build recorded for it (checked against the local file when loaded)."""
    return {asset.key: asset.sha256 for asset in ctx.manifest.model.assets}


def missing_assets(ctx: Context, target: BucketTarget | None) -> list[str]:
    """Asset keys the bucket does not hold with the build's content (all of them when the bucket does not exist
    yet): missing, or overwritten in place (said once here; deploy uploads them again); then the baseline copies
    that are missing or differ from their source (deploy copies them again)."""
    keys = list(ctx.manifest.asset_files)
    copies = [c.key for c in ctx.manifest.copies]
    if target is None:
        return keys + copies
    digests = asset_digests(ctx)
    wrong = []
    for key in keys:
        found = stored_sha256(ctx, target.bucket, key)
        if found != digests[key]:
            if found is not None:
                ctx.reporter.warn(f"asset s3://{target.bucket}/{key} does not hold the build's content (overwritten "
                                  "in place): deploy uploads the build's content again")
            wrong.append(key)
    for copy in ctx.manifest.copies:
        source = _source_sha256(ctx, copy, plan=True)
        if source is None or stored_sha256(ctx, target.bucket, copy.key) != source:
            wrong.append(copy.key)
    return wrong


def upload_assets(ctx: Context, target: BucketTarget) -> list[str]:
    """Every asset, verified by content (deployer/integrity.py): uploaded when missing or different; then every
    baseline copy, made again when it is missing or differs from its source."""
    uploaded = []
    digests = asset_digests(ctx)
    for key, path in ctx.manifest.asset_files.items():
        content_type = "text/x-python" if key.endswith(".py") else "application/octet-stream"
        outcome = ensure(ctx, target.bucket, key, digests[key],
                         lambda: put(ctx, target, key, path.read_bytes(), content_type=content_type), what="asset")
        if outcome == "verified":
            continue
        ctx.reporter.success(f"{outcome} {path.name} → s3://{target.bucket}/{key}")
        uploaded.append(key)
    for copy in ctx.manifest.copies:
        source = _source_sha256(ctx, copy, plan=False)
        assert source is not None
        outcome = ensure(ctx, target.bucket, copy.key, source, lambda: _copy(ctx, target, copy),
                         what=f"baseline copy of {copy.source}")
        if outcome != "verified":
            ctx.reporter.success(f"baseline {copy.source} → s3://{target.bucket}/{copy.key}")
            uploaded.append(copy.key)
    return uploaded


def _source_sha256(ctx: Context, copy: BaselineCopy, *, plan: bool) -> str | None:
    """The SHA-256 of a baseline's source; a source that cannot be read is a warning in a plan (None) and an
    error in a deploy, with what to grant."""
    try:
        found = stored_sha256(ctx, copy.source_bucket, copy.source_key)
        problem = None if found is not None else "NoSuchKey: the object does not exist"
    except DeployError as exc:
        found, problem = None, str(exc).splitlines()[0]
    if found is not None:
        return found
    message = (f"{copy.field}={copy.source}: cannot be read with these credentials ({problem}); the monitors read "
               f"its copy s3://<bucket>/{copy.key}. Next: grant the deploying principal s3:GetObject on {copy.source} "
               "and kms:Decrypt on the key that encrypts it (that key's policy must allow this account), or copy the "
               "baseline into the project bucket yourself and name that copy in params.")
    if plan:
        ctx.reporter.warn(message)
        return None
    raise DeployError(message + " Stacks that read it were not deployed.")


def _copy(ctx: Context, target: BucketTarget, copy: BaselineCopy) -> None:
    """CopyObject into the project bucket, SSE-KMS with the project key, the run's own credentials and endpoint."""
    request: dict[str, Any] = {
        "Bucket": target.bucket, "Key": copy.key, "CopySource": {"Bucket": copy.source_bucket, "Key": copy.source_key},
        "MetadataDirective": "REPLACE", "ContentType": "application/json", "Metadata": {"source": copy.source},
    }
    if target.kms_key:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=target.kms_key)
    try:
        ctx.clients.s3.copy_object(**request)
    except AWS_ERRORS as exc:
        raise aws_error(
            exc, action=f"CopyObject {copy.source} → s3://{target.bucket}/{copy.key}",
            next_step=f"Next: grant the deploying principal s3:GetObject on {copy.source} and kms:Decrypt on its key, "
            f"then `{ctx.resume_command()}` (stacks already deployed are only compared again).",
        ) from exc


def template_argument(
    ctx: Context, spec: StackSpec, find_target: Callable[[], BucketTarget | None]
) -> dict[str, str]:
    """``TemplateBody`` when the minified template fits 51,200 bytes, else ``TemplateURL`` in the bucket
    (``find_target`` is only called then: it costs a DescribeStacks)."""
    size = len(spec.template_body.encode("utf-8"))
    if size <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": spec.template_body}
    target = find_target()
    if target is None:
        raise DeployError(
            f"{spec.stack_name}: the template is {size} bytes minified, over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte "
            "inline limit, and the project bucket that would carry it does not exist yet "
            f"(it comes from the {ctx.manifest.model.asset_bucket.stack if ctx.manifest.model.asset_bucket else '?'} stack).\n"
            "Next: deploy that stack first, or shrink the template (split it into two stacks)."
        )
    key = f"{TEMPLATES_PREFIX}/{spec.stack_name}/{spec.template_sha256}.template.json"
    ensure(ctx, target.bucket, key, spec.template_sha256,
           lambda: put(ctx, target, key, spec.template_body.encode("utf-8"), content_type="application/json"),
           what=f"{spec.stack_name}: template")
    return {"TemplateURL": f"https://{target.bucket}.s3.{ctx.clients.region}.amazonaws.com/{key}"}
