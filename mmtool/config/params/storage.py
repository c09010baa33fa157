"""`encryption:` and `storage:` the KMS key, the bucket's configured prefixes (mmtool/config/layout.py
lays the bucket out) and retention."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from mmtool.config import layout
from mmtool.config.params.base import KMS_KEY_ARN, S3Prefix, Strict


class EncryptionSettings(Strict):
    kms_key_arn: Optional[str] = Field(
        None,
        pattern=KMS_KEY_ARN,
        description="Existing customer-managed KMS key ARN to use for everything. Unset: the foundation "
        "stack creates a key with rotation on (recommended).",
    )


class StorageSettings(Strict):
    capture_prefix: S3Prefix = Field(
        layout.CAPTURE.prefix, description="Bucket prefix Data Capture writes to (no leading or trailing slash)."
    )
    batch_capture_prefix: S3Prefix = Field(
        layout.BATCH_CAPTURE.prefix,
        description="Bucket prefix for batch-transform capture (point your transform job's DataCaptureConfig here).",
    )
    ground_truth_prefix: S3Prefix = Field(
        layout.GROUND_TRUTH.prefix,
        description="Bucket prefix of the ground-truth labels that model-quality and model-bias jobs merge with "
        "the captured predictions (<prefix>/yyyy/mm/dd/hh/*.jsonl). Whoever labels writes here.",
    )
    capture_retention_days: int = Field(
        30, ge=1, le=3650, description="Days after which captured request/response data expires."
    )
    report_retention_days: int = Field(
        400, ge=1, le=3650, description="Days after which monitoring reports (statistics, violations) expire."
    )
    noncurrent_version_retention_days: int = Field(
        7, ge=1, le=365, description="Days an overwritten or deleted object version is kept (versioning is on)."
    )


