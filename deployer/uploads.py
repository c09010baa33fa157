"""Objects the engine puts in the project bucket: the monitoring assets (content-hashed keys, so an
existing key is never written again) and, only when a template exceeds CloudFormation's 51,200-byte
inline limit, the template itself (also under a content-hashed key). Everything is written with SSE-KMS
under the project key; nothing is ever deleted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from .context import Context
from .errors import AWS_ERRORS, DeployError, aws_error
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


def exists(ctx: Context, bucket: str, key: str) -> bool:
    try:
        ctx.clients.s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise aws_error(exc, action=f"HeadObject s3://{bucket}/{key}") from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=f"HeadObject s3://{bucket}/{key}") from exc


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


def missing_assets(ctx: Context, target: BucketTarget | None) -> list[str]:
    """Asset keys not yet in the bucket (all of them when the bucket does not exist yet)."""
    keys = list(ctx.manifest.asset_files)
    if target is None:
        return keys
    return [key for key in keys if not exists(ctx, target.bucket, key)]


def upload_assets(ctx: Context, target: BucketTarget) -> list[str]:
    uploaded = []
    for key, path in ctx.manifest.asset_files.items():
        if exists(ctx, target.bucket, key):
            continue
        put(ctx, target, key, path.read_bytes(), content_type="text/x-python" if key.endswith(".py") else "application/octet-stream")
        ctx.reporter.success(f"uploaded {path.name} → s3://{target.bucket}/{key}")
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
    key = f"{TEMPLATES_PREFIX}/{spec.stack_name}/{spec.template_sha256}.template.json"
    if not exists(ctx, target.bucket, key):
        put(ctx, target, key, spec.template_body.encode("utf-8"), content_type="application/json")
    return {"TemplateURL": f"https://{target.bucket}.s3.{ctx.clients.region}.amazonaws.com/{key}"}
