"""Data continuity: a deploy after a destroy finds the bucket and key that destroy kept, instead of creating new ones
and orphaning the data.

``destroy`` keeps every resource whose DeletionPolicy is Retain (the project bucket with the captured data and the
baselines, the access-log bucket, the KMS key that encrypts them). Creating the data stack again would give it new,
empty ones. So before a stack that declares retained resources is created, the engine looks for that environment's
kept ones:

* **buckets**: ListBuckets, then the tags CloudFormation put on each bucket it created (``aws:cloudformation:stack-name``
  equal to the stack's name, ``aws:cloudformation:logical-id`` one of its retained buckets, and the environment's
  ``Project`` and ``Environment``: a bucket of another environment is never taken for ours);
* **keys**: the KMS key each kept bucket is encrypted with (GetBucketEncryption), when its tags say the same.

When it finds any, the deploy stops before any change (exit 3) with what it found and how to take them back: a
CloudFormation resource import (``--change-set-type IMPORT``) of a template holding only those resources, which the
engine writes next to the manifest; the next ``make deploy`` then updates the imported stack to the whole template.
``--allow-replacement`` creates new ones instead (the kept ones stay, and are listed). moto (5.2.5) has no resource
import, so the import itself is not run by the tests; docs/deploying.md, "Data continuity".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .context import Context
from .errors import AWS_ERRORS, RefusedError, aws_error, error_code
from .manifest import StackSpec

CLOUDFORMATION_STACK = "aws:cloudformation:stack-name"
CLOUDFORMATION_LOGICAL_ID = "aws:cloudformation:logical-id"
CLOUDFORMATION_STACK_ID = "aws:cloudformation:stack-id"
#: How CloudFormation names the physical resource of an import: the type's primary identifier.
IDENTIFIERS = {"AWS::S3::Bucket": "BucketName", "AWS::KMS::Key": "KeyId"}


@dataclass(frozen=True)
class Kept:
    resource_type: str
    logical_id: str
    physical_id: str
    created: str = ""

    def to_import(self) -> dict[str, Any]:
        return {"ResourceType": self.resource_type, "LogicalResourceId": self.logical_id,
                "ResourceIdentifier": {IDENTIFIERS[self.resource_type]: self.physical_id}}


def _ours(ctx: Context, tags: dict[str, str], spec: StackSpec, logical_ids: set[str]) -> bool:
    m = ctx.manifest
    return (tags.get(CLOUDFORMATION_STACK) == spec.stack_name and tags.get(CLOUDFORMATION_LOGICAL_ID) in logical_ids
            and tags.get("Project") == m.project and tags.get("Environment") == m.environment)


def _bucket_tags(ctx: Context, name: str) -> dict[str, str]:
    try:
        return {t["Key"]: t["Value"] for t in ctx.clients.s3.get_bucket_tagging(Bucket=name).get("TagSet", [])}
    except ClientError as exc:
        if error_code(exc) in ("NoSuchTagSet", "NoSuchBucket", "AccessDenied", "AllAccessDisabled"):
            return {}  # not ours to read, or no tags: not a bucket we kept
        raise aws_error(exc, action=f"GetBucketTagging {name}") from exc


def _bucket_key(ctx: Context, name: str) -> str | None:
    try:
        rules = ctx.clients.s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as exc:
        if error_code(exc) in ("ServerSideEncryptionConfigurationNotFoundError", "AccessDenied"):
            return None
        raise aws_error(exc, action=f"GetBucketEncryption {name}") from exc
    for rule in rules:
        key = rule.get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
        if key:
            return str(key)
    return None


def _key_tags(ctx: Context, key: str) -> dict[str, str]:
    kms = ctx.clients.client("kms")
    try:
        return {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key).get("Tags", [])}
    except ClientError as exc:
        if error_code(exc) in ("NotFoundException", "AccessDeniedException"):
            return {}
        raise aws_error(exc, action=f"kms:ListResourceTags {key}") from exc


def find_kept(ctx: Context, spec: StackSpec, current: dict[str, Any] | None = None) -> list[Kept]:
    """The resources a destroy of this environment kept that ``spec`` (about to be created) would make anew.
    ``current``: the stack that is there now (a leftover REVIEW_IN_PROGRESS or a ROLLBACK_COMPLETE one, deleted
    before the create); what it made itself (a failed first create's retained resources, holding no data) is not
    a destroy's."""
    retained = spec.retained_resources()
    buckets = {lid for lid, kind in retained.items() if kind == "AWS::S3::Bucket"}
    keys = {lid for lid, kind in retained.items() if kind == "AWS::KMS::Key"}
    if not buckets:
        return []
    try:
        listed = ctx.clients.s3.list_buckets().get("Buckets", [])
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="ListBuckets (looking for the bucket a destroy kept)",
                        next_step="Next: the deploying principal needs s3:ListAllMyBuckets (docs/deploying.md, "
                        "'Permissions').") from exc
    # CloudFormation names a bucket <stack name>-<logical id>-<random>, lower case, cut to 63 characters
    start = spec.stack_name.lower()[:40]
    found: list[Kept] = []
    seen_keys: set[str] = set()
    for bucket in sorted(listed, key=lambda b: str(b.get("CreationDate", ""))):
        name = bucket["Name"]
        if not name.startswith(start):
            continue
        tags = _bucket_tags(ctx, name)
        if not _ours(ctx, tags, spec, buckets) or (current and tags.get(CLOUDFORMATION_STACK_ID) == current["StackId"]):
            continue
        found.append(Kept("AWS::S3::Bucket", tags[CLOUDFORMATION_LOGICAL_ID], name, str(bucket.get("CreationDate", ""))))
        key = _bucket_key(ctx, name) if keys else None
        if key and key not in seen_keys:
            seen_keys.add(key)
            key_tags = _key_tags(ctx, key)
            if _ours(ctx, key_tags, spec, keys):
                found.append(Kept("AWS::KMS::Key", key_tags[CLOUDFORMATION_LOGICAL_ID], key))
    return found


def note_kept(ctx: Context, plans: list[Any]) -> None:
    """``plan``: a note under each stack to be created whose kept data a destroy left (deploy then stops)."""
    for sp in plans:
        if (sp.stack is None or sp.delete_first) and sp.spec.retained_resources():
            kept = find_kept(ctx, sp.spec, sp.stack)
            if kept:
                found = ", ".join(f"{k.logical_id} {k.physical_id}" for k in kept)
                sp.notes.append(f"a destroy of this environment kept {found}: deploy stops before creating this "
                                "stack and says how to take them back (or --allow-replacement makes new ones)")


def import_template(spec: StackSpec, kept: list[Kept]) -> dict[str, Any]:
    """The template of the IMPORT change set: the build's template with only the kept resources (an import may
    create nothing else), their DeletionPolicy included, and no Outputs."""
    chosen = {k.logical_id for k in kept}
    template = {key: value for key, value in spec.template.items() if key not in ("Resources", "Outputs")}
    template["Resources"] = {lid: body for lid, body in spec.template["Resources"].items() if lid in chosen}
    return template


def refuse_if_kept(ctx: Context, spec: StackSpec, current: dict[str, Any] | None = None) -> None:
    """Stop a CREATE of ``spec`` when a destroy kept this environment's data resources (see the module docstring);
    with ``--allow-replacement`` only say so. ``current``: as for :func:`find_kept`."""
    kept = find_kept(ctx, spec, current)
    if not kept:
        return
    latest: dict[str, Kept] = {}
    for item in kept:  # several destroys: the newest bucket of each logical id is the one to take back
        latest[item.logical_id] = item
    lines = [f"  {k.resource_type} {k.logical_id}: {k.physical_id}" + (f" (created {k.created})" if k.created else "")
             for k in kept]
    if ctx.options.allow_replacement:
        ctx.reporter.warn(f"{spec.stack_name}: a destroy of this environment kept these; --allow-replacement: new ones "
                          "are created and these stay as they are (orphaned):\n" + "\n".join(lines))
        return
    folder = ctx.manifest.path.parent
    template_path = folder / f"{spec.name}.import.template.json"
    resources_path = folder / f"{spec.name}.import.resources.json"
    chosen = list(latest.values())
    _write(template_path, import_template(spec, chosen))
    _write(resources_path, [k.to_import() for k in chosen])
    parameters = " ".join(f"ParameterKey={k},ParameterValue={v}" for k, v in sorted(spec.values.items()))
    role = ctx.manifest.settings.cloudformation_role_arn
    raise RefusedError(
        f"{spec.stack_name} does not exist, and creating it would make a new, empty bucket and key while this "
        f"environment's data, kept by its destroy, stays orphaned:\n" + "\n".join(lines) + "\n"
        "Nothing was changed.\n"
        "Next: take them back into the stack with a CloudFormation resource import, then deploy:\n"
        f"  aws cloudformation create-change-set --stack-name {spec.stack_name} --change-set-name take-back-kept-data "
        f"--change-set-type IMPORT --template-body file://{template_path} "
        f"--resources-to-import file://{resources_path} --parameters {parameters} "
        f"--capabilities {' '.join(spec.entry.capabilities) or 'CAPABILITY_IAM'}"
        + (f" --role-arn {role}" if role else "") + f" --region {ctx.manifest.region}\n"
        f"  aws cloudformation execute-change-set --stack-name {spec.stack_name} --change-set-name take-back-kept-data "
        f"--region {ctx.manifest.region}\n"
        f"  {ctx.resume_command()}   (updates the imported stack to the whole template)\n"
        f"Or, to start with new ones on purpose: `{ctx.resume_command()} ARGS=--allow-replacement` (the kept ones "
        "stay as they are). docs/deploying.md, 'Data continuity'."
    )


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
