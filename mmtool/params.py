"""The one strict model of `params/<env>.yaml`.

Every field has a description (the README's parameter reference is generated from them), unknown
keys are rejected, and the cross-field rules SageMaker enforces only at deploy time (schedule forms,
runtime versus schedule period, subnets in two availability zones, capture modes, a region with a
Model Monitor image) are checked here, before anything is generated.
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Annotated, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mmtool.schedule import HOUR, Schedule, ScheduleRejected, parse_schedule, window_offset_hours


@lru_cache(maxsize=None)
def image_accounts(kind: str = "model-monitor") -> dict[str, str]:
    """Region -> ECR account of the pre-built image (copied from the SageMaker SDK's config)."""
    text = resources.files("mmtool.data").joinpath(f"{kind}-image-accounts.json").read_text()
    return dict(sorted(json.loads(text).items()))


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

_BUCKET = r"(?=.{3,63}/)[a-z0-9][a-z0-9.\-]*[a-z0-9]"
# Characters an object key may have here: S3's "safe" set without '*', plus = + @ , : (partition-style
# keys). The URI becomes an object ARN in IAM and VPC-endpoint policies, where '*' and '?' are
# wildcards, and a CloudFormation parameter value, where $ { } ` and control characters have no place.
_KEY_CHARS = r"A-Za-z0-9!_.'()/=+@,:\-"


def _s3_object_uri(value: str) -> str:
    if not re.fullmatch(rf"s3://{_BUCKET}/[^\s]+", value) or "//" in value[5:]:
        raise ValueError("expected an S3 object URI such as s3://my-bucket/path/file")
    if value.endswith("/"):
        raise ValueError("expected an object, not a prefix: remove the trailing '/'")
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
    if value.startswith("/") or value.endswith("/"):
        raise ValueError(
            "write the prefix without a leading or trailing '/' (a trailing slash makes Data Capture "
            "write to '…//endpoint/…' keys that the monitor never finds)"
        )
    if not re.fullmatch(r"[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*", value):
        # no '*': the prefix becomes part of IAM resource ARNs and s3:prefix conditions, where it is a wildcard
        raise ValueError("use letters, digits and - _ . separated by single '/'")
    return value


def _script_path(value: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != "scripts":
        raise ValueError("give a path relative to the repository, under scripts/, e.g. scripts/record_preprocessor.py")
    if path.suffix != ".py":
        raise ValueError("the analyzer loads a Python file: the path must end in .py")
    if not all(re.fullmatch(r"[A-Za-z0-9_.\-]+", part) for part in path.parts):
        raise ValueError("file and folder names here use letters, digits and _ . - only (the name becomes part "
                         "of the asset's S3 key and a CloudFormation parameter value)")
    return value


S3ObjectUri = Annotated[str, AfterValidator(_s3_object_uri)]
JsonObjectUri = Annotated[str, AfterValidator(_json_object_uri)]
S3Prefix = Annotated[str, AfterValidator(_prefix)]
ScriptPath = Annotated[str, AfterValidator(_script_path)]
InstanceType = Annotated[
    str, Field(pattern=r"^ml\.[a-z0-9]+\.[0-9]*x?(large|medium|small|metal)$", examples=["ml.m5.xlarge"])
]


# --- sections -----------------------------------------------------------------------------------


class DeploySettings(Strict):
    """How the deploy engine reaches this environment's account (prod usually lives elsewhere)."""

    assume_role_arn: Optional[str] = Field(
        None,
        pattern=r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+$",
        description="IAM role the deployer assumes for every call of this environment (e.g. a "
        "deployment role in the prod account). Unset: the ambient credentials (AWS_PROFILE etc.) are used.",
    )
    external_id: Optional[str] = Field(
        None, min_length=2, max_length=1224, description="External id required by the assumed role's trust policy."
    )
    cloudformation_role_arn: Optional[str] = Field(
        None,
        pattern=r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+$",
        description="CloudFormation service role that change sets run under. Unset: the caller's own permissions.",
    )
    termination_protection: bool = Field(
        False, description="Turn on stack termination protection (recommended for prod)."
    )

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"[\w+=,.@:/\-]+", value, re.ASCII):
            raise ValueError("STS accepts only letters, digits and + = , . @ : / - _ in an external id")
        return value

    @model_validator(mode="after")
    def _external_id_needs_role(self) -> DeploySettings:
        if self.external_id and not self.assume_role_arn:
            raise FieldError(
                "external_id", self.external_id, "only used with assume_role_arn: set the role or remove external_id"
            )
        return self


class CreatedSubnet(Strict):
    cidr: str = Field(description="IPv4 CIDR of the private subnet, inside vpc_cidr.")
    availability_zone: str = Field(
        description="Availability zone name, e.g. eu-west-1a (must belong to the environment's region)."
    )


class CreateVpc(Strict):
    """A new VPC with private subnets only: no internet gateway, no NAT."""

    vpc_cidr: str = Field(description="IPv4 CIDR of the new VPC, /16 to /24.")
    private_subnets: list[CreatedSubnet] = Field(
        min_length=2,
        max_length=3,
        description="Two or three private subnets, in at least two availability zones.",
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        network = _network(value)
        if not 16 <= network.prefixlen <= 24:
            raise ValueError("the VPC CIDR must be between /16 and /24")
        return value

    @model_validator(mode="after")
    def _subnets_fit(self) -> CreateVpc:
        vpc = ipaddress.ip_network(self.vpc_cidr)
        seen: list[ipaddress.IPv4Network] = []
        for index, subnet in enumerate(self.private_subnets):
            where = f"private_subnets[{index}].cidr"
            try:
                net = _network(subnet.cidr)
            except ValueError as exc:
                raise FieldError(where, subnet.cidr, str(exc)) from None
            if not net.subnet_of(vpc):  # type: ignore[arg-type]
                raise FieldError(where, subnet.cidr, f"not inside vpc_cidr {self.vpc_cidr}")
            if not 16 <= net.prefixlen <= 28:
                raise FieldError(where, subnet.cidr, "subnets are /16 to /28")
            for other in seen:
                if net.overlaps(other):
                    raise FieldError(where, subnet.cidr, f"overlaps {other}; subnets must not overlap")
            seen.append(net)
        return self


def _network(value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 CIDR with host bits zero, e.g. 10.0.0.0/16 ({exc})") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("IPv6 CIDRs are not supported; give an IPv4 CIDR")
    return net


class ExistingSubnet(Strict):
    id: str = Field(pattern=r"^subnet-[0-9a-f]{8,17}$", description="Subnet id, e.g. subnet-0123456789abcdef0.")
    availability_zone: str = Field(
        description="The subnet's availability zone name (checked offline: two zones are required)."
    )


class ExistingVpc(Strict):
    """Use a VPC and private subnets that already exist."""

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$", description="Id of the existing VPC.")
    subnets: list[ExistingSubnet] = Field(
        min_length=2, max_length=16, description="Private subnets for jobs, endpoints and VPC endpoints."
    )
    route_table_ids: list[Annotated[str, Field(pattern=r"^rtb-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list,
        max_length=16,
        description="Route tables of those subnets; the S3 gateway endpoint is attached to them.",
    )


class NetworkSettings(Strict):
    create: Optional[CreateVpc] = Field(None, description="Create a private VPC (set this or existing).")
    existing: Optional[ExistingVpc] = Field(None, description="Use an existing VPC (set this or create).")
    create_vpc_endpoints: bool = Field(
        True,
        description="Create the interface endpoints (sagemaker.api, sagemaker.runtime, logs, monitoring, sts, "
        "ecr.api, ecr.dkr, kms) and the S3 gateway endpoint. Turn off when the VPC already has them.",
    )
    s3_prefix_list_id: str = Field(
        pattern=r"^pl-[0-9a-f]{8,17}$",
        description="Id of the region's AWS-managed S3 prefix list (`aws ec2 describe-managed-prefix-lists "
        "--filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3`). Job security-group egress to S3 "
        "is limited to it instead of 0.0.0.0/0.",
    )

    @model_validator(mode="after")
    def _one_mode(self) -> NetworkSettings:
        if (self.create is None) == (self.existing is None):
            both = "both are set" if self.create else "neither is set"
            raise ValueError(f"set exactly one of create (a new VPC) or existing (your VPC); {both}")
        if self.existing and self.create_vpc_endpoints and not self.existing.route_table_ids:
            raise FieldError(
                "existing.route_table_ids",
                [],
                "empty, but create_vpc_endpoints is true: the S3 gateway endpoint needs the subnets' route tables",
            )
        return self

    @property
    def availability_zones(self) -> list[str]:
        subnets = self.create.private_subnets if self.create else self.existing.subnets  # type: ignore[union-attr]
        return [s.availability_zone for s in subnets]


class EncryptionSettings(Strict):
    kms_key_arn: Optional[str] = Field(
        None,
        pattern=r"^arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[a-zA-Z0-9\-]+$",
        description="Existing customer-managed KMS key ARN to use for everything. Unset: the foundation "
        "stack creates a key with rotation on (recommended).",
    )


class StorageSettings(Strict):
    capture_prefix: S3Prefix = Field(
        "datacapture", description="Bucket prefix Data Capture writes to (no leading or trailing slash)."
    )
    batch_capture_prefix: S3Prefix = Field(
        "batch-capture",
        description="Bucket prefix for batch-transform capture (point your transform job's DataCaptureConfig here).",
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


class DataCaptureSettings(Strict):
    sampling_percentage: int = Field(
        100, description="Percentage of requests captured, 1-100."
    )
    modes: list[str] = Field(
        default_factory=lambda: ["Input", "Output"],
        description="What to capture: Input, Output or both. Data-quality monitoring needs both.",
    )
    csv_content_types: list[str] = Field(
        default_factory=lambda: ["text/csv"],
        min_length=1,
        max_length=10,
        description="Content types stored as CSV text (others are base64-encoded).",
    )
    json_content_types: list[str] = Field(
        default_factory=lambda: ["application/json"],
        min_length=1,
        max_length=10,
        description="Content types stored as JSON text (others are base64-encoded).",
    )

    @field_validator("sampling_percentage")
    @classmethod
    def _percent(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("must be 1-100 (0 would capture nothing and the monitor would fail with no data)")
        return value

    @field_validator("modes")
    @classmethod
    def _modes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one of Input, Output")
        for mode in value:
            if mode == "InputAndOutput":
                raise ValueError(
                    "InputAndOutput is rejected by endpoint creation (boto3#3440); list the two modes: [Input, Output]"
                )
            if mode not in ("Input", "Output"):
                raise ValueError(f"{mode!r} is not a capture mode; use Input and/or Output")
        if len(set(value)) != len(value):
            raise ValueError("each mode once")
        return sorted(value)

    @field_validator("csv_content_types", "json_content_types")
    @classmethod
    def _content_types(cls, value: list[str]) -> list[str]:
        pattern = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*/[a-zA-Z0-9](-*[a-zA-Z0-9.])*")
        for item in value:
            if ";" in item:
                raise ValueError(
                    f"{item!r}: give the bare media type without parameters (e.g. text/csv); a request sent as "
                    "'text/csv; charset=utf-8' is still matched"
                )
            if not pattern.fullmatch(item):
                raise ValueError(f"{item!r} is not a media type CloudFormation accepts (type/subtype, no '+')")
        return value


class EndpointSettings(Strict):
    model_image: str = Field(
        description="ECR image URI of the model's inference container, with a tag or digest, in the "
        "environment's region (SageMaker does not pull across regions)."
    )
    model_data_url: S3ObjectUri = Field(description="S3 URI of model.tar.gz.")
    instance_type: InstanceType = Field("ml.m5.large", description="Endpoint instance type.")
    instance_count: int = Field(1, ge=1, le=20, description="Initial instance count of the production variant.")
    variant_name: str = Field(
        "AllTraffic", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", max_length=63, description="Production variant name."
    )
    network_isolation: bool = Field(
        True, description="Run the model container without any network access (it still reads its artifact)."
    )
    data_capture: DataCaptureSettings = Field(
        default_factory=DataCaptureSettings, description="Data Capture: what the endpoint records for monitoring."
    )

    @field_validator("model_image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not re.fullmatch(
            r"\d{12}\.dkr\.ecr\.[a-z0-9\-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/\-]*(:[\w.\-]{1,128}|@sha256:[0-9a-f]{64})",
            value,
        ):
            raise ValueError(
                "expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (or @sha256:<digest>); "
                "a tag or digest is required so every deploy runs the same model"
            )
        return value

    @property
    def image_region(self) -> str:
        return self.model_image.split(".")[3]


class Baseline(Strict):
    constraints: JsonObjectUri = Field(description="S3 URI of the baseline constraints.json.")
    statistics: JsonObjectUri = Field(description="S3 URI of the baseline statistics.json.")


class AnalysisWindow(Strict):
    start: str = Field(description="Start offset before the scheduled time, e.g. -PT2H.")
    end: str = Field(description="End offset before the scheduled time, e.g. -PT0H.")

    @field_validator("start", "end")
    @classmethod
    def _offset(cls, value: str) -> str:
        window_offset_hours(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> AnalysisWindow:
        start, end = window_offset_hours(self.start), window_offset_hours(self.end)
        if start >= end:
            raise FieldError("start", self.start, f"must be earlier than end ({self.end})")
        if end - start > 24:
            raise FieldError("start", self.start, f"the window is {end - start} hours; SageMaker allows at most 24")
        return self


class MonitorInput(Strict):
    source: Literal["endpoint", "batch_transform"] = Field(
        "endpoint", description="Analyse the real-time endpoint's capture, or batch-transform capture."
    )
    dataset_format: Optional[Literal["csv", "json", "parquet"]] = Field(
        None, description="Batch transform only: format of the captured dataset."
    )
    csv_header: bool = Field(True, description="Batch transform, csv: the files have a header row.")
    json_lines: bool = Field(True, description="Batch transform, json: one JSON object per line.")

    @model_validator(mode="after")
    def _format(self) -> MonitorInput:
        if self.source == "batch_transform" and self.dataset_format is None:
            raise FieldError("dataset_format", None, "batch_transform input needs dataset_format: csv, json or parquet")
        if self.source == "endpoint" and self.dataset_format is not None:
            raise FieldError(
                "dataset_format", self.dataset_format, "applies only to batch_transform input; remove it for endpoint input"
            )
        return self


class PreprocessorSettings(Strict):
    """Written into the record pre-processor's CONFIG line at build time (see docs in README)."""

    feature_names: Optional[list[str]] = Field(
        None,
        description="Column names of the baseline dataset's features, in input order. Unset: zero-padded "
        "positions (00000000000000000000, ...), as in AWS's example.",
    )
    prediction_names: Optional[list[str]] = Field(
        None,
        description="Names of the model output column(s); used with feature_names (default [prediction]).",
    )
    prediction_position: Literal["first", "last", "none"] = Field(
        "first",
        description="Where the baseline dataset has the prediction column(s); none: the baseline has no "
        "prediction column and the output is not read.",
    )
    mini_batch: Literal["first", "skip", "all"] = Field(
        "first",
        description="A record holding several rows: keep the first row, drop the record, or return every row "
        "(all is not documented by AWS; test it with a one-off run first).",
    )
    max_logged_skips: int = Field(
        10, ge=0, le=1000, description="Dropped records logged one line each; after that only totals are logged."
    )

    @field_validator("feature_names", "prediction_names")
    @classmethod
    def _names(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return value
        if not value:
            raise ValueError("give at least one name, or null for the default")
        for index, item in enumerate(value):
            if not item.strip():
                raise FieldError(f"[{index}]", item, "names must not be empty")
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate names: {', '.join(duplicates)}; every column needs its own name")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> PreprocessorSettings:
        if self.feature_names and self.prediction_names:
            both = sorted(set(self.feature_names) & set(self.prediction_names))
            if both:
                raise FieldError("prediction_names", self.prediction_names,
                                 f"also in feature_names: {', '.join(both)}; a column can have only one name")
        return self


class DataQualityMonitor(Strict):
    enabled: bool = Field(True, description="Create the data-quality job definition and schedule.")
    schedule: str = Field(
        "hourly",
        description="hourly, daily, 'every N hours', now (one-off, needs analysis_window), or a SageMaker "
        "cron: cron(0 * ? * * *), cron(0 H ? * * *), cron(0 H/N ? * * *). Times are UTC.",
    )
    analysis_window: Optional[AnalysisWindow] = Field(
        None, description="Data window relative to each run; required for a one-off (now) run."
    )
    baseline: Optional[Baseline] = Field(
        None, description="Baseline files from a baselining job. Unset: statistics only, no constraint checks."
    )
    record_preprocessor: Optional[ScriptPath] = Field(
        "scripts/record_preprocessor.py", description="Record pre-processor script (under scripts/), or null."
    )
    post_analytics_processor: Optional[ScriptPath] = Field(
        None, description="Post-analytics processor script (under scripts/), or null."
    )
    preprocessor: PreprocessorSettings = Field(
        default_factory=PreprocessorSettings, description="How the pre-processor names and orders columns."
    )
    instance_type: InstanceType = Field("ml.m5.xlarge", description="Processing instance type of the job.")
    instance_count: int = Field(1, ge=1, le=100, description="Processing instances per run.")
    volume_size_gb: int = Field(30, ge=1, le=16384, description="Encrypted ML storage volume per instance, GB.")
    max_runtime_seconds: int = Field(
        3600, ge=1, le=86400, description="Stop the job after this long; must fit in the schedule period."
    )
    input: MonitorInput = Field(default_factory=MonitorInput, description="Where the job reads captured data.")
    publish_cloudwatch_metrics: bool = Field(
        True, description="Publish per-feature CloudWatch metrics (needed for alarms)."
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            parse_schedule(value)
        except ScheduleRejected as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule)

    @model_validator(mode="after")
    def _runtime_and_window(self) -> DataQualityMonitor:
        schedule = self.parsed_schedule
        if schedule.one_time and self.analysis_window is None:
            raise FieldError(
                "analysis_window",
                None,
                f"a one-off ({self.schedule}) run needs analysis_window with start and end, e.g. "
                "{start: -PT2H, end: -PT0H}",
            )
        if self.max_runtime_seconds > schedule.period_seconds:
            raise FieldError(
                "max_runtime_seconds",
                self.max_runtime_seconds,
                f"longer than the schedule period "
                f"({schedule.period_seconds} s for {self.schedule!r}); the next run would start before this one "
                f"ends. Use at most {schedule.period_seconds}"
            )
        return self


class MonitoringSettings(Strict):
    data_quality: DataQualityMonitor = Field(
        default_factory=DataQualityMonitor, description="The data-quality monitor (drift in the input data)."
    )


class Params(Strict):
    """params/<env>.yaml"""

    project: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
        description="Project name, 3-20 lowercase letters, digits and '-'. Prefixes every resource name.",
    )
    environment: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,9}$",
        description="Environment name (2-10 lowercase letters/digits); must equal the file name.",
    )
    region: str = Field(description="AWS region to deploy to; it must have a Model Monitor image.")
    account_id: Optional[str] = Field(
        None,
        description="Expected AWS account id (quoted, 12 digits). When set, deploy refuses to run with "
        "credentials of any other account.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags for every stack and resource (stack tags, plus explicit tags on SageMaker "
        "monitoring resources, which do not inherit them). Keep the same keys in every environment.",
    )
    deploy: DeploySettings = Field(default_factory=DeploySettings, description="Account access for the deployer.")
    network: NetworkSettings = Field(description="VPC, subnets and VPC endpoints.")
    encryption: EncryptionSettings = Field(
        default_factory=EncryptionSettings,
        description="The KMS key that encrypts the bucket, captured data, reports and job volumes.",
    )
    storage: StorageSettings = Field(default_factory=StorageSettings, description="Bucket layout and retention.")
    endpoint: EndpointSettings = Field(description="The real-time endpoint and its Data Capture.")
    monitoring: MonitoringSettings = Field(
        default_factory=MonitoringSettings, description="The monitors of the endpoint and their schedules."
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        accounts = image_accounts()
        if value not in accounts:
            raise ValueError(
                f"no Model Monitor analyzer image is published for this region; use one of: {', '.join(accounts)}"
            )
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError("quote the account id (YAML reads 012345678901 as a number and drops the leading 0)")
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"\d{12}", value)):
            raise ValueError("expected 12 digits in quotes, e.g. '123456789012'")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 40:
            raise ValueError("at most 40 tags (AWS allows 50 per resource and this tool adds its own)")
        for key, tag_value in value.items():
            if key.lower().startswith("aws:"):
                raise FieldError(key, key, "the aws: prefix of tag keys is reserved by AWS")
            if not re.fullmatch(r"[\w.:/=+\-@ ]{1,128}", key):
                raise FieldError(key, key, "tag keys are 1-128 letters, digits, spaces and _ . : / = + - @")
            if not re.fullmatch(r"[\w.:/=+\-@ ]{0,256}", tag_value):
                raise FieldError(key, tag_value, "tag values are 0-256 letters, digits, spaces and _ . : / = + - @")
            if key in RESERVED_TAG_KEYS:
                raise FieldError(key, key, "this tag key is set by the tool itself; remove it")
        return value

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Params:
        expected_env = (info.context or {}).get("environment")
        if expected_env and self.environment != expected_env:
            raise FieldError(
                "environment",
                self.environment,
                f"the file is {expected_env}.yaml; they must match (copied from another environment?)",
            )
        net = self.network
        mode, subnets = ("create.private_subnets", net.create.private_subnets) if net.create else (
            "existing.subnets",
            net.existing.subnets,  # type: ignore[union-attr]
        )
        for index, subnet in enumerate(subnets):
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", subnet.availability_zone):
                raise FieldError(
                    f"network.{mode}[{index}].availability_zone",
                    subnet.availability_zone,
                    f"not a zone of region {self.region} (expected e.g. {self.region}a)",
                )
        zones = net.availability_zones
        if len(set(zones)) < 2:
            raise FieldError(
                f"network.{mode}",
                zones,
                "the subnets must span at least two availability zones (SageMaker endpoints and Clarify "
                "need two); put one subnet in another zone",
            )
        if self.endpoint.image_region != self.region:
            raise FieldError(
                "endpoint.model_image",
                self.endpoint.model_image,
                f"the image is in {self.endpoint.image_region} but the environment is in {self.region}; "
                "SageMaker pulls images only from the same region: replicate the image",
            )
        key = self.encryption.kms_key_arn
        if key and key.split(":")[3] != self.region:
            raise FieldError("encryption.kms_key_arn", key, f"the key is not in {self.region}; KMS keys are regional")
        if key and self.account_id and key.split(":")[4] != self.account_id:
            raise FieldError("encryption.kms_key_arn", key, f"the key belongs to another account than {self.account_id}")
        return self

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"


RESERVED_TAG_KEYS = ("Project", "Environment", "ManagedBy")
