"""The project bucket's layout, in one place: every prefix, who reads and who writes it, what expires.

The templates read it (the foundation stack's lifecycle rules and monitoring role, a fleet endpoint's role in the
monitoring stack, the prefix Parameters' AllowedPattern), so do the build (asset keys), the hand-off bundle and
`make catalog` (template keys), and validation, which refuses a configured prefix (storage.*_prefix) that equals,
contains or lies inside another area: a capture expiry would otherwise delete scripts or baselines, and the
endpoint's role could write where the engine deploys templates from. docs/security.md describes the layout.

A role's S3 access follows from `readers` and `writers`; tests/config/test_bucket_layout.py reads every role of
the generated templates and fails on a write the layout does not grant.

No imports from the rest of the project: this is the bottom of mmtool/config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# One pattern for a prefix, everywhere (params validation and the prefix Parameters' AllowedPattern): letters, digits
# and - _ . in segments separated by single '/'. No '*' or '?': a prefix becomes part of IAM resource ARNs and
# s3:prefix conditions, where they are wildcards.
PREFIX_PATTERN = r"^[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$"

# Who acts on the bucket.
JOBS = "monitoring jobs"  # the monitoring execution role: monitoring and baselining jobs
ENDPOINT = "endpoint"  # the model's execution role: SageMaker Data Capture writes with it
DEPLOYER = "deployer"  # the principal running make deploy / baseline / catalog (the engine, baseline copies)
BATCH_TRANSFORM = "your batch transform jobs"  # outside the tool: they write where DataCaptureConfig points
LABELLER = "your labelling process"  # outside the tool: writes ground truth
LOG_DELIVERY = "VPC flow-log delivery"  # delivery.logs.amazonaws.com, by the bucket policy
CLOUDFORMATION = "CloudFormation and Service Catalog"  # read templates by URL, with the caller's rights

# S3 keys are at most 1,024 bytes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
MAX_KEY_BYTES = 1024
# SageMaker takes the URI of a prefix, s3://<bucket>/<prefix>/<key>, in at most 512 characters (DataCaptureConfig
# DestinationS3Uri, GroundTruthS3Input S3Uri, a batch transform's DataCapturedDestinationS3Uri, MonitoringOutput
# S3Uri: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html), and the URI of an
# object in at most 1,024 (a baseline's S3Uri); the project bucket's name, chosen by CloudFormation, has up to 63.
MAX_PREFIX_URI = 512
MAX_OBJECT_URI = 1024
MAX_BUCKET_NAME = 63
MAX_FLEET_KEY = 20  # a fleet endpoint's prefixes are <prefix>/<key> (mmtool.config.params.ENDPOINT_KEY)
MAX_PREFIX_BYTES = MAX_PREFIX_URI - len("s3://") - MAX_BUCKET_NAME - len("/") - len("/") - MAX_FLEET_KEY
MAX_OBJECT_KEY_IN_URI = MAX_OBJECT_URI - len("s3://") - MAX_BUCKET_NAME - len("/")  # a key SageMaker is given


@dataclass(frozen=True)
class Area:
    """One prefix of the project bucket."""

    name: str  # what it holds, in messages
    prefix: str  # the fixed prefix, or the default of a configured one
    field: Optional[str] = None  # storage.<field> when params may set it
    parameter: Optional[str] = None  # the template Parameter carrying the (endpoint's) prefix
    per_endpoint: bool = False  # a fleet endpoint <key> uses <prefix>/<key>
    readers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    retention: Optional[str] = None  # the foundation Parameter of its expiry (days); None: kept
    lifecycle_id: Optional[str] = None  # the lifecycle rule's Id

    @property
    def configurable(self) -> bool:
        return self.field is not None


CAPTURE = Area("Data Capture", "datacapture", field="capture_prefix", parameter="CapturePrefix", per_endpoint=True,
               readers=(JOBS,), writers=(ENDPOINT,), retention="CaptureRetentionDays", lifecycle_id="ExpireCapture")
BATCH_CAPTURE = Area("batch-transform capture", "batch-capture", field="batch_capture_prefix",
                     parameter="BatchCapturePrefix", per_endpoint=True, readers=(JOBS,), writers=(BATCH_TRANSFORM,),
                     retention="CaptureRetentionDays", lifecycle_id="ExpireBatchCapture")
GROUND_TRUTH = Area("ground-truth labels", "ground-truth", field="ground_truth_prefix", parameter="GroundTruthPrefix",
                    per_endpoint=True, readers=(JOBS,), writers=(LABELLER,))
# The jobs read back only the ground-truth merge output under reports (templates/monitoring.py grants that apart).
REPORTS = Area("monitoring reports", "reports", parameter="ReportsPrefix", per_endpoint=True, writers=(JOBS,),
               retention="ReportRetentionDays", lifecycle_id="ExpireReports")
# Baselining output (jobs), baseline datasets and the copies of baselines params names (deployer: make baseline,
# make deploy; mmtool/config/baselines.py).
BASELINES = Area("baselines", "baselines", parameter="BaselinesPrefix", per_endpoint=True, readers=(JOBS,),
                 writers=(JOBS, DEPLOYER))
ASSETS = Area("monitoring scripts and Clarify configurations", "monitoring-assets", readers=(JOBS,),
              writers=(DEPLOYER,))
FLOW_LOGS = Area("VPC flow logs", "vpc-flow-logs", writers=(LOG_DELIVERY,), retention="LogRetentionDays",
                 lifecycle_id="ExpireFlowLogs")
TEMPLATES = Area("templates the deploy engine and the hand-off bundle deploy by URL", "cloudformation-templates",
                 readers=(CLOUDFORMATION,), writers=(DEPLOYER,))
CATALOG_TEMPLATES = Area("Service Catalog product templates", "catalog-templates", readers=(CLOUDFORMATION,),
                         writers=(DEPLOYER,))

# In this order the templates list them (lifecycle rules, role statements): changing it changes the output.
AREAS = (CAPTURE, BATCH_CAPTURE, GROUND_TRUTH, REPORTS, BASELINES, ASSETS, FLOW_LOGS, TEMPLATES, CATALOG_TEMPLATES)


def readable_by(who: str) -> list[Area]:
    return [area for area in AREAS if who in area.readers]


def writable_by(who: str) -> list[Area]:
    return [area for area in AREAS if who in area.writers]


def expiring() -> list[Area]:
    return [area for area in AREAS if area.retention]


def prefix_problem(value: str) -> Optional[str]:
    """Why `value` cannot be a configured prefix (its form and its length), or None."""
    if value.startswith("/") or value.endswith("/"):
        return ("write the prefix without a leading or trailing '/' (a trailing slash makes Data Capture write to "
                "'…//endpoint/…' keys that the monitor never finds)")
    if not re.fullmatch(PREFIX_PATTERN, value):
        return "use letters, digits and - _ . separated by single '/'"
    if any(set(segment) == {"."} for segment in value.split("/")):
        return "'.' and '..' are not folder names here (some S3 clients resolve them); name the folder"
    size = len(value.encode("utf-8"))
    if size > MAX_PREFIX_BYTES:
        return (f"{size} characters; SageMaker takes s3://<project bucket>/<prefix>/<endpoint key> in at most "
                f"{MAX_PREFIX_URI} (the bucket's name has up to {MAX_BUCKET_NAME}, a key up to {MAX_FLEET_KEY}): use "
                f"at most {MAX_PREFIX_BYTES}")
    return None


def _overlap(one: str, other: str) -> bool:
    one, other = one.lower(), other.lower()  # a prefix differing only in case is refused too: it only confuses
    return one == other or one.startswith(other + "/") or other.startswith(one + "/")


def overlap_problem(configured: dict[str, str]) -> Optional[tuple[str, str, str]]:
    """The first configured prefix (field -> value) that equals, contains or lies inside another area's prefix, as
    (field, value, message), or None. Each area needs a prefix of its own: expiry rules and role grants are per
    prefix."""
    values = [(area, configured.get(area.field, area.prefix) if area.field else area.prefix) for area in AREAS]
    for index, (area, value) in enumerate(values):
        if not area.configurable:
            continue
        for other_index, (other, other_value) in enumerate(values):
            if other_index == index or (other.configurable and other_index > index):
                continue  # two configured prefixes are reported once, at the later field
            if not _overlap(value, other_value):
                continue
            if value == other_value:
                how = "is"
            elif value.lower() == other_value.lower():
                how = "differs only in case from"
            elif other_value.lower().startswith(value.lower() + "/"):
                how = "contains"
            else:
                how = "lies inside"
            whose = f"storage.{other.field}" if other.configurable else "the fixed prefix"
            fixed = ", ".join(a.prefix for a in AREAS if not a.configurable)
            return (area.field or "", value,
                    f"{how} {whose} {other_value!r} ({other.name}); every area of the bucket needs a prefix of its "
                    f"own (expiry and role grants are per prefix; the fixed ones are {fixed})")
    return None
