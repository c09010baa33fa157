"""What every section of the params model shares: the strict base model, FieldError, checked strings
(S3 URIs, prefixes, script paths, instance types, role ARNs) and the region tables (images, partitions)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Annotated, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mmtool.config import layout


@lru_cache(maxsize=None)
def image_accounts(kind: str = "model-monitor") -> dict[str, str]:
    """Region -> ECR account of the pre-built image (copied from the SageMaker SDK's config)."""
    text = resources.files("mmtool.config.data").joinpath(f"{kind}-image-accounts.json").read_text()
    return dict(sorted(json.loads(text).items()))


# Region name prefix -> partition, longest first (botocore's endpoints.json regionRegex; tests/config/
# test_refused_classes.py holds them equal for every region with a Model Monitor image).
_PARTITIONS = (("us-isob-", "aws-iso-b"), ("us-isof-", "aws-iso-f"), ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"),
               ("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"), ("eusc-", "aws-eusc"))


def region_partition(region: str) -> str:
    """The partition of a region (what ${AWS::Partition} is there): aws, aws-cn, aws-us-gov, aws-iso, ..."""
    return next((partition for prefix, partition in _PARTITIONS if region.startswith(prefix)), "aws")


class FieldError(ValueError):
    """A cross-field rule failed at `field` (dotted path relative to the model that raised it)."""

    def __init__(self, field: str, value: object, message: str):
        super().__init__(message)
        self.field = field
        self.value = value


class Strict(BaseModel):
    """Base of every section: unknown keys rejected, no silent type coercion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- reusable checked strings -------------------------------------------------------------------
# ASCII only: in Python's re and in pydantic's patterns \d and \w also match other scripts' digits and letters
# (a full-width account id would pass), so digits are [0-9] and names spell their characters out.

# One pattern per fact; the ARN patterns are built from the parts they share.
ACCOUNT_ID = r"[0-9]{12}"
ARN_PARTITION = r"arn:aws[a-z\-]*"  # arn:aws, arn:aws-cn, arn:aws-us-gov, ... (the region's: Params._check_partitions)
REGION = r"[a-z0-9\-]+"
ROLE_ARN = rf"^{ARN_PARTITION}:iam::{ACCOUNT_ID}:role/[A-Za-z0-9_+=,.@\-/]+$"
KMS_KEY_ARN = rf"^{ARN_PARTITION}:kms:{REGION}:{ACCOUNT_ID}:key/[a-zA-Z0-9\-]+$"
SQS_QUEUE_ARN = rf"{ARN_PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:[A-Za-z0-9_\-]{{1,80}}(\.fifo)?"
# A SageMaker resource name (endpoint, model, variant): letters, digits and '-', not at either end; with max_length=63
# (the pattern alone allows more when names have several hyphens in a row).
SAGEMAKER_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
# An AWS resource id: subnet-, vpc-, rtb-, pl- and 8 or 17 hex digits.
def resource_id(kind: str) -> str:
    return rf"^{kind}-[0-9a-f]{{8,17}}$"

# Characters an object key may have here: S3's "safe" set without '*', plus = + @ , : (partition-style
# keys). The URI becomes an object ARN in IAM and VPC-endpoint policies, where '*' and '?' are
# wildcards, and a CloudFormation parameter value, where $ { } ` and control characters have no place.
_KEY_CHARS = r"A-Za-z0-9!_.'()/=+@,:\-"


def bucket_name_problem(bucket: str) -> Optional[str]:
    """Why S3 can never have a general purpose bucket of this name, or None
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""
    if not 3 <= len(bucket) <= 63:
        return f"the bucket name {bucket!r} has {len(bucket)} characters; S3 bucket names have 3-63"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]*[a-z0-9]", bucket):
        return (f"the bucket name {bucket!r} is not one S3 allows: lowercase letters, digits, '.' and '-', starting "
                "and ending with a letter or digit")
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        return f"the bucket name {bucket!r} has '..', '.-' or '-.', which S3 bucket names never have"
    if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", bucket):
        return f"the bucket name {bucket!r} is an IP address, which S3 bucket names never are"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if bucket.startswith(prefix):
            return f"S3 bucket names never start with {prefix!r} (reserved)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if bucket.endswith(suffix):
            return f"S3 bucket names never end with {suffix!r} (reserved for access points and directory buckets)"
    return None


def _s3_object_uri(value: str) -> str:
    if not re.fullmatch(r"s3://[^/\s]+/[^\s]+", value) or "//" in value[5:]:
        raise ValueError("expected an S3 object URI such as s3://my-bucket/path/file")
    if value.endswith("/"):
        raise ValueError("expected an object, not a prefix: remove the trailing '/'")
    bucket, key = value[5:].split("/", 1)
    problem = bucket_name_problem(bucket)
    if problem:
        raise ValueError(problem)
    if len(key.encode("utf-8")) > layout.MAX_KEY_BYTES:
        raise ValueError(f"the object key is {len(key.encode('utf-8'))} bytes; S3 keys are at most "
                         f"{layout.MAX_KEY_BYTES}")

    bad = sorted(set(re.sub(rf"[{_KEY_CHARS}]", "", value[5:].split("/", 1)[1])))
    if bad:
        why = ("'*' and '?' are wildcards in the IAM and VPC endpoint policies built from this URI: they would "
               "grant more than this one object" if set(bad) & {"*", "?"} else
               "keys here use letters, digits and ! _ . ' ( ) / = + @ , : - only")
        raise ValueError(f"the object key contains {' '.join(repr(c) for c in bad)}; {why}")
    return value


def _json_object_uri(value: str) -> str:
    _s3_object_uri(value)
    if not value.endswith(".json"):
        raise ValueError("expected the S3 URI of a .json file (constraints.json or statistics.json)")
    return value


def _prefix(value: str) -> str:
    problem = layout.prefix_problem(value)
    if problem:
        raise ValueError(problem)
    return value


MAX_FILE_NAME = 255  # NAME_MAX of Linux file systems; monitoring-assets/<hash>/<name> then fits any S3 URI limit
MAX_SCRIPT_PATH = 1024


def _script_path(value: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != "scripts":
        raise ValueError("give a path relative to the repository, under scripts/, e.g. scripts/record_preprocessor.py")
    if path.suffix != ".py":
        raise ValueError("the analyzer loads a Python file: the path must end in .py")
    if not all(re.fullmatch(r"[A-Za-z0-9_.\-]+", part) for part in path.parts):
        raise ValueError("file and folder names here use letters, digits and _ . - only (the name becomes part "
                         "of the asset's S3 key and a CloudFormation parameter value)")
    if any(len(part) > MAX_FILE_NAME for part in path.parts) or len(value) > MAX_SCRIPT_PATH:
        raise ValueError(f"file and folder names are at most {MAX_FILE_NAME} characters and the path at most "
                         f"{MAX_SCRIPT_PATH} (the file system's limits; the asset's S3 URI must fit SageMaker's "
                         f"{layout.MAX_OBJECT_URI})")
    return value


S3ObjectUri = Annotated[str, AfterValidator(_s3_object_uri)]
JsonObjectUri = Annotated[str, AfterValidator(_json_object_uri)]
S3Prefix = Annotated[str, AfterValidator(_prefix)]
ScriptPath = Annotated[str, AfterValidator(_script_path)]
InstanceType = Annotated[
    str, Field(pattern=r"^ml\.[a-z0-9]+\.[0-9]*x?(large|medium|small|metal)$", examples=["ml.m5.xlarge"])
]


