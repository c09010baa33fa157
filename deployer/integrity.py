"""Trust no object by its name: what the engine put in the bucket is checked by content before it is used.

An object's key holds a hash of its content (``monitoring-assets/<hash>/...``,
``cloudformation-templates/<stack>/<sha256>.template.json``), but anyone who may write the bucket can put other
content under that key. So:

* **Before use**, every asset and every template that goes through ``TemplateURL`` is read back (GetObject) and
  its SHA-256 compared with the build's (the manifest's ``sha256`` for assets, the minified template body's for
  templates). A missing object is uploaded; an object whose content differs (overwritten in place) is reported
  and uploaded again, which makes the build's content the current version (the bucket's versioning keeps the
  replaced one for inspection); the object is then read back once more, and a second mismatch stops the run.
* **After CloudFormation read a template from S3**, the change set's own template (GetTemplate with
  ``ChangeSetName``, stage ``Original``) is compared with the build's. This closes the window between the check
  above and CloudFormation's read: a change set whose template is not the build's is deleted, never executed.

What is not covered: an asset overwritten after the deploy is read by the monitoring jobs as it is then; the next
deploy (or plan) finds it and puts the build's content back. Who may write those prefixes is the bucket layout's
business (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from botocore.exceptions import ClientError

from .aws_errors import S3_NOT_FOUND
from .context import Context
from .errors import AWS_ERRORS, DeployError, aws_error, error_code


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_sha256(ctx: Context, bucket: str, key: str) -> str | None:
    """The SHA-256 of what S3 returns for ``s3://bucket/key`` (its current version), or None when it is missing."""
    action = f"GetObject s3://{bucket}/{key}"
    try:
        response = ctx.clients.s3.get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        try:
            digest = hashlib.sha256()
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
        finally:
            body.close()
        return digest.hexdigest()
    except ClientError as exc:
        if error_code(exc) in S3_NOT_FOUND:
            return None
        raise aws_error(exc, action=action, next_step="Next: the deploying principal needs s3:GetObject on the "
                        "bucket's monitoring-assets/* and cloudformation-templates/* and kms:Decrypt on the project "
                        "key (docs/deploying.md, 'Permissions').") from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=action) from exc


def ensure(ctx: Context, bucket: str, key: str, expected: str, upload: Callable[[], None], *, what: str) -> str:
    """Make ``s3://bucket/key`` hold content whose SHA-256 is ``expected``: "verified" (it already did),
    "uploaded" (it was missing) or "replaced" (it held other content). Raises :class:`DeployError` when the
    object still differs after the upload."""
    found = stored_sha256(ctx, bucket, key)
    if found == expected:
        return "verified"
    if found is not None:
        ctx.reporter.warn(
            f"{what} s3://{bucket}/{key} does not hold the build's content (sha256 {found[:16]}..., the build's "
            f"{expected[:16]}...): it was overwritten in place. Uploading the build's content again; the replaced "
            "version stays in the bucket's version history for inspection."
        )
    upload()
    again = stored_sha256(ctx, bucket, key)
    if again != expected:
        raise DeployError(
            f"{what} s3://{bucket}/{key}: after uploading the build's content, S3 returns other content (sha256 "
            f"{again or 'none: the object is missing'}, the build's {expected}). Something else writes this key. "
            "It was not used: nothing that reads it was deployed.\n"
            "Next: find who writes the bucket's monitoring-assets/ and cloudformation-templates/ prefixes "
            "(CloudTrail data events, the bucket policy), stop it, then deploy again."
        )
    return "uploaded" if found is None else "replaced"


def _as_dict(body: Any) -> Any:
    if isinstance(body, (bytes, str)):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def check_change_set_template(ctx: Context, *, change_set_id: str, stack_id: str, template: dict[str, Any],
                              label: str) -> None:
    """The template CloudFormation took for a change set (read from S3) must be the build's; raises otherwise
    (the caller deletes the change set)."""
    try:
        response = ctx.clients.cloudformation.get_template(StackName=stack_id, ChangeSetName=change_set_id,
                                                           TemplateStage="Original")
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="GetTemplate (of the change set)", stack=label) from exc
    taken = _as_dict(response.get("TemplateBody"))
    if taken != template:
        raise DeployError(
            f"{label}: the template CloudFormation read from the bucket for this change set is not the build's "
            "(the object was changed between the engine's check and CloudFormation's read). The change set was "
            "deleted without being executed; nothing was changed by it.\n"
            "Next: find who writes the bucket's cloudformation-templates/ prefix (CloudTrail data events), stop it, "
            "then deploy again."
        )
