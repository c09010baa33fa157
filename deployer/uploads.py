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
from .errors import AWS_ERRORS, DeployError, aws_error
from .integrity import ensure, stored_sha256
from .manifest import TEMPLATE_BODY_LIMIT, StackSpec


@dataclass(frozen=True)
class BucketTarget:
    bucket: str
    kms_key: str | None


def output_value(stack: dict[str, Any] | None, key: str) -> str | None:
    for output in (stack or {}).get("Outputs", []) or []:
        if output.get("OutputKey") == key:
            return output.get("OutputValue")
    return None


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
        code = exc.response.get("Error", {}).get("Code", "")
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
    yet): missing, or overwritten in place (said once here; deploy uploads them again)."""
    keys = list(ctx.manifest.asset_files)
    if target is None:
        return keys
    digests = asset_digests(ctx)
    wrong = []
    for key in keys:
        found = stored_sha256(ctx, target.bucket, key)
        if found != digests[key]:
            if found is not None:
                ctx.reporter.warn(f"asset s3://{target.bucket}/{key} does not hold the build's content (overwritten "
                                  "in place): deploy uploads the build's content again")
            wrong.append(key)
    return wrong


def upload_assets(ctx: Context, target: BucketTarget) -> list[str]:
    """Every asset, verified by content (deployer/integrity.py): uploaded when missing or different."""
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
    return uploaded


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
    key = f"cloudformation-templates/{spec.stack_name}/{spec.template_sha256}.template.json"
    ensure(ctx, target.bucket, key, spec.template_sha256,
           lambda: put(ctx, target, key, spec.template_body.encode("utf-8"), content_type="application/json"),
           what=f"{spec.stack_name}: template")
    return {"TemplateURL": f"https://{target.bucket}.s3.{ctx.clients.region}.amazonaws.com/{key}"}
