"""The one strict model of `params/<env>.yaml`.

Every field has a description (the parameter reference in docs/parameters.md is generated from them), unknown
keys are rejected, and the cross-field rules SageMaker enforces only at deploy time (schedule forms,
runtime versus schedule period, subnets in two availability zones, capture modes, a region with a
Model Monitor image) are checked here, before anything is generated.
"""

from __future__ import annotations

import ipaddress
import json
import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Annotated, ClassVar, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mmtool.errors import ToolError
from mmtool.config.schedule import (
    HOUR,
    Schedule,
    ScheduleRejected,
    parse_schedule,
    window_offset_hours,
)


@lru_cache(maxsize=None)
def image_accounts(kind: str = "model-monitor") -> dict[str, str]:
    """Region -> ECR account of the pre-built image (copied from the SageMaker SDK's config)."""
    text = resources.files("mmtool.config.data").joinpath(f"{kind}-image-accounts.json").read_text()
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
    ground_truth_prefix: S3Prefix = Field(
        "ground-truth",
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
    network_isolation: Optional[bool] = Field(
        None, description="Run the model container without any network access (it still reads its artifact). "
        "Unset: on, except when monitoring.model_explainability is enabled: Clarify's explainability job calls a "
        "shadow endpoint made from this model, and AWS requires network isolation off on the model as well as on "
        "the job (`make plan` says so under the endpoint stack). true together with model_explainability is refused.",
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


class TimeOffsets(Strict):
    """StartTimeOffset/EndTimeOffset of a model-quality or bias job: which hours of captured data (and ground
    truth) a run merges, relative to its scheduled time; ground truth usually arrives late."""

    start: str = Field(description="Start offset before the scheduled time, e.g. -P1D (offsets: -PT<h>H or -P<d>D).")
    end: str = Field(description="End offset before the scheduled time, e.g. -PT0H.")

    @field_validator("start", "end")
    @classmethod
    def _offset(cls, value: str) -> str:
        window_offset_hours(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> TimeOffsets:
        if window_offset_hours(self.start) >= window_offset_hours(self.end):
            raise FieldError("start", self.start, f"must be earlier than end ({self.end})")
        return self


class AnalysisWindow(TimeOffsets):
    """DataAnalysisStartTime/EndTime of a schedule: the offsets, and at most 24 hours between them."""

    start: str = Field(description="Start offset before the scheduled time, e.g. -PT2H.")
    end: str = Field(description="End offset before the scheduled time, e.g. -PT0H.")

    @model_validator(mode="after")
    def _at_most_a_day(self) -> AnalysisWindow:
        hours = window_offset_hours(self.end) - window_offset_hours(self.start)
        if hours > 24:
            raise FieldError("start", self.start, f"the window is {hours} hours; SageMaker allows at most 24")
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
    """Written into the record pre-processor's CONFIG line at build time (see docs/monitoring-code.md)."""

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


# --- model quality, model bias, model explainability --------------------------------------------

ProblemType = Literal["BinaryClassification", "MulticlassClassification", "Regression"]
LabelValue = Union[int, float, str]


class MonitorJob(Strict):
    """What every scheduled monitor shares: schedule, cluster, runtime, metrics."""

    enabled: bool = Field(False, description="Create this monitor's job definition and schedule.")
    schedule: str = Field(
        "daily",
        description="hourly, daily, 'every N hours' or a SageMaker cron (cron(0 * ? * * *), cron(0 H ? * * *), "
        "cron(0 H/N ? * * *)). Times are UTC. One-off (now) runs are for data quality only.",
    )
    instance_type: InstanceType = Field("ml.m5.xlarge", description="Processing instance type of the job.")
    instance_count: int = Field(1, ge=1, le=100, description="Processing instances per run.")
    volume_size_gb: int = Field(30, ge=1, le=16384, description="Encrypted ML storage volume per instance, GB.")
    max_runtime_seconds: int = Field(
        1800, ge=1, le=86400, description="Stop the job after this long; must fit in the schedule period."
    )
    publish_cloudwatch_metrics: bool = Field(True, description="Publish the monitor's CloudWatch metrics.")

    # Hourly runs of model-quality and bias jobs get half the hour: the ground-truth merge job runs first
    # (reference §3, §8 #17).
    HOURLY_LIMIT: ClassVar[int] = HOUR
    KIND: ClassVar[str] = "monitor"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            schedule = parse_schedule(value)
        except ScheduleRejected as exc:
            raise ValueError(str(exc)) from None
        if schedule.one_time:
            raise ValueError("one-off (now) runs are supported for data quality only; use hourly, daily or "
                             "'every N hours' here")
        return value

    @property
    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule)

    @model_validator(mode="after")
    def _runtime(self) -> MonitorJob:
        schedule = self.parsed_schedule
        if schedule.kind == "hourly" and self.max_runtime_seconds > self.HOURLY_LIMIT:
            raise FieldError(
                "max_runtime_seconds", self.max_runtime_seconds,
                f"hourly {self.KIND} runs get at most {self.HOURLY_LIMIT} s: the ground-truth merge job takes the "
                f"other half of the hour (reference §3); use at most {self.HOURLY_LIMIT} or a longer schedule",
            )
        if self.max_runtime_seconds > schedule.period_seconds:
            raise FieldError(
                "max_runtime_seconds", self.max_runtime_seconds,
                f"longer than the schedule period ({schedule.period_seconds} s for {self.schedule!r}); the next run "
                f"would start before this one ends. Use at most {schedule.period_seconds}",
            )
        return self


class ModelQualityMonitor(MonitorJob):
    """Model quality: the endpoint's predictions merged with ground truth, metrics against a baseline."""

    HOURLY_LIMIT: ClassVar[int] = HOUR // 2
    KIND: ClassVar[str] = "model-quality"

    problem_type: ProblemType = Field(
        "BinaryClassification", description="BinaryClassification, MulticlassClassification or Regression."
    )
    inference_attribute: Optional[str] = Field(
        None, max_length=256,
        description="Where the predicted label (or value) is in the endpoint's response: a zero-based CSV column "
        "index such as '0', or a JSONPath for JSON output.",
    )
    probability_attribute: Optional[str] = Field(
        None, max_length=256, description="Where the probability is in the response (CSV index or JSONPath)."
    )
    probability_threshold: Optional[float] = Field(
        None, gt=0, lt=1,
        description="Binary classification: a probability above this predicts label 1 (needs probability_attribute).",
    )
    time_offsets: Optional[TimeOffsets] = Field(
        None, description="Which hours a run analyses (e.g. start -P1D, end -PT0H when labels arrive within a day). "
        "Unset: the period since the previous run.",
    )
    baseline_constraints: Optional[JsonObjectUri] = Field(
        None, description="S3 URI of the model-quality constraints.json (thresholds per metric). Unset: metrics "
        "only, no violations.",
    )

    @model_validator(mode="after")
    def _attributes(self) -> ModelQualityMonitor:
        if self.probability_threshold is not None and self.problem_type != "BinaryClassification":
            raise FieldError("probability_threshold", self.probability_threshold,
                             f"only binary classification has a probability threshold; remove it for {self.problem_type}")
        if self.probability_threshold is not None and self.probability_attribute is None:
            raise FieldError("probability_attribute", None,
                             "probability_threshold needs probability_attribute: where the probability is in the response")
        if not self.enabled:
            return self
        if self.problem_type == "Regression" and self.inference_attribute is None:
            raise FieldError("inference_attribute", None,
                             "regression needs inference_attribute: where the predicted value is in the response, e.g. '0'")
        if self.inference_attribute is None and self.probability_attribute is None:
            raise FieldError("inference_attribute", None,
                             "set inference_attribute (the predicted label) or probability_attribute (with "
                             "probability_threshold): the job must find the prediction in the response")
        return self


class Facet(Strict):
    name: str = Field(min_length=1, description="A sensitive feature (one of the Clarify features).")
    value_or_threshold: Optional[list[LabelValue]] = Field(
        None, min_length=1,
        description="The sensitive group: values of a categorical or binary facet, or for a continuous facet one "
        "threshold that is the group's exclusive lower bound ([64] is age > 64, so 65 and older; SageMaker Clarify "
        "BiasConfig). `make plan` and `make status` show the group in words. Unset: one group per value.",
    )


class ModelBiasMonitor(MonitorJob):
    """Model bias drift with SageMaker Clarify: post-training bias metrics of the predictions per facet."""

    HOURLY_LIMIT: ClassVar[int] = HOUR // 2
    KIND: ClassVar[str] = "model-bias"

    label: str = Field("label", min_length=1, description="Header of the ground-truth label column.")
    label_values_or_threshold: list[LabelValue] = Field(
        default_factory=lambda: [1], min_length=1,
        description="The positive outcome: label values, or for a regression label one threshold that is the "
        "exclusive lower bound of the positive values."
    )
    facets: list[Facet] = Field(default_factory=list, max_length=10, description="Sensitive features to measure bias on.")
    group_variable: Optional[str] = Field(
        None, description="Feature for Conditional Demographic Disparity (one of the Clarify features)."
    )
    inference_attribute: Optional[str] = Field(
        None, max_length=256, description="Predicted label in the response (CSV index such as '0'); unset: the "
        "response is a single score."
    )
    probability_attribute: Optional[str] = Field(
        None, max_length=256, description="Probability in the response (CSV index)."
    )
    probability_threshold: Optional[float] = Field(
        None, gt=0, lt=1, description="A probability above this predicts the positive label (default 0.5)."
    )
    time_offsets: Optional[TimeOffsets] = Field(
        None, description="Which hours a run analyses, e.g. start -P1D end -PT0H. Unset: since the previous run."
    )
    baseline_constraints: Optional[JsonObjectUri] = Field(
        None, description="S3 URI of the bias baseline (analysis.json of a Clarify baselining job). Unset: no violations."
    )

    @model_validator(mode="after")
    def _bias(self) -> ModelBiasMonitor:
        if self.enabled and not self.facets:
            raise FieldError("facets", [], "model bias needs at least one facet: {name: <feature>, value_or_threshold: [...]}")
        if self.probability_threshold is not None and self.probability_attribute is None:
            raise FieldError("probability_attribute", None,
                             "probability_threshold needs probability_attribute: where the probability is in the response")
        return self


class ShapSettings(Strict):
    baseline: Optional[list[list[LabelValue]]] = Field(
        None, min_length=1,
        description="Kernel SHAP background rows: one or more rows with one value per Clarify feature, in order.",
    )
    num_samples: int = Field(100, ge=1, le=100000, description="Synthetic samples per record (more: slower, steadier).")
    agg_method: Literal["mean_abs", "median", "mean_sq"] = Field(
        "mean_abs", description="How local SHAP values aggregate into global ones."
    )
    use_logit: bool = Field(False, description="Apply the logit to predictions (SHAP values in log-odds).")


class ModelExplainabilityMonitor(MonitorJob):
    """Feature-attribution drift with SageMaker Clarify: SHAP values from a temporary shadow endpoint."""

    KIND: ClassVar[str] = "model-explainability"

    max_runtime_seconds: int = Field(
        3600, ge=1, le=86400, description="Stop the job after this long; must fit in the schedule period."
    )
    shap: ShapSettings = Field(default_factory=ShapSettings, description="Kernel SHAP settings.")
    probability_attribute: Optional[str] = Field(
        None, max_length=256, description="Score in the response used for attributions (CSV index); unset: the "
        "response is a single score."
    )
    shadow_instance_type: InstanceType = Field(
        "ml.m5.large", description="Instance type of the shadow endpoint Clarify creates from the model for each run."
    )
    shadow_instance_count: int = Field(1, ge=1, le=10, description="Instances of the shadow endpoint.")
    baseline_constraints: Optional[JsonObjectUri] = Field(
        None, description="S3 URI of the explainability baseline (analysis.json of a Clarify baselining job). "
        "Unset: attributions only, no violations."
    )


class ClarifySettings(Strict):
    features: Optional[list[str]] = Field(
        None,
        description="Headers of the request's CSV columns, in order, for model bias and explainability. Unset: "
        "monitoring.data_quality.preprocessor.feature_names.",
    )

    @field_validator("features")
    @classmethod
    def _features(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return PreprocessorSettings._names(value)


Engine = Literal["model-monitor", "processing", "both"]
# Monitors the processing engine runs (docs/engine.md); bias and explainability need SageMaker Clarify.
PROCESSING_ENGINE_MONITORS = ("data_quality", "model_quality")
# Why the processing engine refuses the Clarify monitors (docs/engine.md).
CLARIFY_CLOSED = ("needs SageMaker Clarify, which the processing engine does not use: AWS closed Clarify (like Model "
                  "Monitor) to new customers on 2026-07-30 (docs/engine.md); disable it, or use engine: model-monitor "
                  "where the account still has Model Monitor")


class MonitoringSettings(Strict):
    engine: Engine = Field(
        "model-monitor",
        description="What runs the monitors: model-monitor (SageMaker Model Monitor schedules), processing (an "
        "EventBridge Scheduler schedule per monitor starting a SageMaker Processing job with this project's analyzer, "
        "for accounts that cannot use Model Monitor) or both side by side while switching (docs/engine.md). The "
        "processing engine runs data quality and model quality.",
    )
    data_quality: DataQualityMonitor = Field(
        default_factory=DataQualityMonitor, description="The data-quality monitor (drift in the input data)."
    )
    model_quality: ModelQualityMonitor = Field(
        default_factory=ModelQualityMonitor, description="The model-quality monitor (predictions against ground truth)."
    )
    model_bias: ModelBiasMonitor = Field(
        default_factory=ModelBiasMonitor, description="The model-bias monitor (SageMaker Clarify, needs ground truth)."
    )
    model_explainability: ModelExplainabilityMonitor = Field(
        default_factory=ModelExplainabilityMonitor,
        description="The feature-attribution monitor (SageMaker Clarify SHAP through a shadow endpoint).",
    )
    clarify: ClarifySettings = Field(
        default_factory=ClarifySettings, description="What the Clarify monitors (bias, explainability) share."
    )

    @property
    def clarify_features(self) -> Optional[list[str]]:
        return self.clarify.features or self.data_quality.preprocessor.feature_names

    @property
    def runs_model_monitor(self) -> bool:
        return self.engine in ("model-monitor", "both")

    @property
    def runs_processing(self) -> bool:
        return self.engine in ("processing", "both")

    @model_validator(mode="after")
    def _engine(self) -> MonitoringSettings:
        """What the processing engine cannot run is refused here, naming the field, rather than left out silently."""
        if not self.runs_processing:
            return self
        for key in ("model_bias", "model_explainability"):
            if getattr(self, key).enabled:
                raise FieldError(f"{key}.enabled", True, f"engine {self.engine}: {key.replace('_', ' ')} {CLARIFY_CLOSED}")
        dq = self.data_quality
        if dq.enabled and dq.parsed_schedule.one_time:
            raise FieldError("data_quality.schedule", dq.schedule,
                             f"engine {self.engine}: one-off (now) runs are for Model Monitor schedules; use a "
                             "recurring schedule and `make run-now` for a run now")
        if dq.enabled and dq.input.source != "endpoint":
            raise FieldError("data_quality.input.source", dq.input.source,
                             f"engine {self.engine}: the processing engine's analyzer reads the endpoint's Data Capture "
                             "only; use source: endpoint, or engine: model-monitor for batch-transform capture")
        mq = self.model_quality
        for name in ("inference_attribute", "probability_attribute"):
            value = getattr(mq, name)
            if mq.enabled and value is not None and set(value) & {'"', "\\"}:
                raise FieldError(f"model_quality.{name}", value,
                                 f"engine {self.engine}: the processing engine passes it inside the job's JSON request, "
                                 "where '\"' and '\\' have no place; write JSONPath with single quotes, e.g. $['score']")
        if dq.enabled and dq.post_analytics_processor:
            raise FieldError("data_quality.post_analytics_processor", dq.post_analytics_processor,
                             f"engine {self.engine}: the processing engine runs no post-analytics processor (the "
                             "analyzer publishes the metrics itself); remove it, or use engine: model-monitor")
        return self


MAX_DRIFT_ALARMS = 10
MAX_SUBSCRIPTIONS = 8


class DriftAlarm(Strict):
    feature: str = Field(
        pattern=r"^[A-Za-z0-9_.\-]{1,200}$",
        description="Feature whose data-quality metric feature_baseline_drift_<feature> is watched (a name the "
        "pre-processor emits).",
    )
    threshold: float = Field(gt=0, description="Alarm when the drift distance of a run exceeds this, e.g. 0.2.")


# subscription protocol -> (what a target must look like, what to write instead)
_NOTIFICATION_TARGETS = {
    "email": (r"[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}", "not an e-mail address"),
    "https": (r"https://[A-Za-z0-9.\-]+(:\d+)?(/[^\s,]*)?", "expected an https:// URL (SNS delivers over TLS only here)"),
    "sqs": (r"arn:aws[a-z\-]*:sqs:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,80}(\.fifo)?",
            "expected an SQS queue ARN, arn:aws:sqs:<region>:<account>:<queue>"),
}


class AlarmSettings(Strict):
    """Notifications (SNS), the EventBridge rules on monitoring executions, CloudWatch alarms."""

    enabled: bool = Field(False, description="Create the topic, subscriptions, execution rules and alarms.")
    email: list[str] = Field(default_factory=list, description="E-mail addresses subscribed to the topic (each "
                             "confirms by mail).")
    https: list[str] = Field(default_factory=list, description="HTTPS endpoints subscribed to the topic (each "
                             "confirms the subscription).")
    sqs: list[str] = Field(default_factory=list, description="SQS queue ARNs subscribed to the topic (the queue "
                           "policy must let the topic send).")
    notify_on_violations: bool = Field(
        True, description="Notify on runs that completed with violations, not only on failed runs."
    )
    drift: list[DriftAlarm] = Field(
        default_factory=list, description=f"Data-quality drift alarms, at most {MAX_DRIFT_ALARMS}."
    )

    @field_validator("email", "https", "sqs")
    @classmethod
    def _targets_well_formed(cls, value: list[str], info: ValidationInfo) -> list[str]:
        pattern, expected = _NOTIFICATION_TARGETS[info.field_name]
        for index, item in enumerate(value):
            if not re.fullmatch(pattern, item):
                raise FieldError(f"[{index}]", item, expected)
            if info.field_name == "sqs" and item.endswith(".fifo"):
                raise FieldError(f"[{index}]", item, "a FIFO queue cannot subscribe to a standard topic")
        return value

    @model_validator(mode="after")
    def _targets(self) -> AlarmSettings:
        targets = self.email + self.https + self.sqs
        if self.enabled and not targets:
            raise FieldError("enabled", True, "alarms are on but nobody is notified: add an email, https or sqs target")
        if len(targets) > MAX_SUBSCRIPTIONS:
            raise FieldError("email", len(targets), f"{len(targets)} notification targets; at most {MAX_SUBSCRIPTIONS} "
                             "(the template has that many subscription slots)")
        if len(set(targets)) != len(targets):
            raise FieldError("email", targets, "a target is listed twice")
        if len(self.drift) > MAX_DRIFT_ALARMS:
            raise FieldError("drift", len(self.drift), f"at most {MAX_DRIFT_ALARMS} drift alarms (the template has "
                             "that many slots); alarm on the features that matter most")
        features = [d.feature for d in self.drift]
        duplicates = sorted({f for f in features if features.count(f) > 1})
        if duplicates:
            raise FieldError("drift", duplicates, f"one alarm per feature; duplicated: {', '.join(duplicates)}")
        return self

    @property
    def subscriptions(self) -> list[tuple[str, str]]:
        return ([("email", e) for e in self.email] + [("https", h) for h in self.https]
                + [("sqs", q) for q in self.sqs])


# --- Service Catalog (`make catalog`) -------------------------------------------------------------

MAX_CATALOG_PRINCIPALS = 10  # principal slots of the catalog template (templates/catalog.py)
_ROLE_ARN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+$"


class CatalogSettings(Strict):
    """How `make catalog` publishes the templates as AWS Service Catalog products in this environment's account."""

    principal_role_arns: list[Annotated[str, Field(pattern=_ROLE_ARN)]] = Field(
        default_factory=list,
        max_length=MAX_CATALOG_PRINCIPALS,
        description="IAM roles of this account that may launch the products (portfolio principal associations), "
        "e.g. a platform team's role or the SageMaker Studio execution role. Empty: only catalog administrators "
        "see the portfolio.",
    )
    version_retention: int = Field(
        3,
        ge=1,
        le=50,
        description="Versions (provisioning artifacts) of each product kept active, newest first; older ones are "
        "deactivated, never deleted (provisioned products may still run them).",
    )
    studio_visibility: bool = Field(
        False,
        description="Tag every product sagemaker:studio-visibility=true so SageMaker Studio lists it as a project "
        "template (the principals then need to include the Studio execution role).",
    )
    launch_role_arn: Optional[str] = Field(
        None,
        pattern=_ROLE_ARN,
        description="Existing IAM role Service Catalog assumes to provision the products (the launch constraint). "
        "Unset: the catalog stack creates a least-privilege launch role for this project and environment.",
    )
    provider_name: str = Field(
        "ML platform", pattern=r"^[\w .,@()\-]{1,50}$", description="Portfolio provider shown to users."
    )
    product_owner: str = Field(
        "ML platform", pattern=r"^[\w .,@()\-]{1,50}$", description="Owner shown on every product."
    )

    @field_validator("principal_role_arns")
    @classmethod
    def _distinct_principals(cls, value: list[str]) -> list[str]:
        duplicates = sorted({arn for arn in value if value.count(arn) > 1})
        if duplicates:
            raise ValueError(f"listed twice: {', '.join(duplicates)}; each role once")
        return value


# --- the fleet: `endpoints:` and `defaults:` -------------------------------------------------------

ENDPOINT_KEY = r"^[a-z][a-z0-9-]{0,19}$"  # short name of a fleet endpoint (part of stack and resource names)
# Monitors launched from the Service Catalog endpoint-monitoring product get the key sc-<name>, so they can never
# take the names, role or bucket prefixes of an endpoint of the params file (templates/endpoint_monitoring.py).
SELF_SERVICE_KEY_PREFIX = "sc-"
LEGACY_KEY = "default"  # the key of today's single-endpoint form read as a fleet of one
SHADOW_ENDPOINT_SUFFIX = "clarify"  # Clarify's shadow endpoints: <name prefix>-clarify… (FleetEndpoint.shadow_endpoint_prefix)
# Dashboard rows and parameter slots of the alarms template (templates/alarms.py): one per fleet endpoint.
MAX_FLEET_ENDPOINTS = 40
MAX_PARAMETER_VALUE_BYTES = 4096  # CloudFormation's limit on one parameter value


class ExistingEndpoint(Strict):
    """An endpoint deployed by another tool (SageMaker Pipelines, the SDK, another team's stack): we only monitor it."""

    endpoint_name: str = Field(
        pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
        description="Name of the endpoint in this environment's account and region.",
    )
    data_capture: DataCaptureSettings = Field(
        default_factory=DataCaptureSettings,
        description="The Data Capture that `make adopt` turns on for the endpoint (to this environment's bucket).",
    )
    model_name: Optional[str] = Field(
        None, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
        description="The SageMaker Model behind the endpoint's production variant (AllTraffic, else the first). "
        "Required with monitoring.model_explainability: Clarify makes its shadow endpoints from this model, and the "
        "monitoring role may describe only it. `make plan` checks that the endpoint serves it and that it runs "
        "without network isolation. Find it with `aws sagemaker describe-endpoint-config --endpoint-config-name "
        "<the endpoint's config> --query 'ProductionVariants[0].ModelName'`.",
    )


# Where to find an existing endpoint's model (the message of a missing existing.model_name).
FIND_MODEL_NAME = (
    "`aws sagemaker describe-endpoint-config --endpoint-config-name \"$(aws sagemaker describe-endpoint "
    "--endpoint-name {endpoint} --query EndpointConfigName --output text)\" --query "
    "'ProductionVariants[0].ModelName' --output text`"
)


class FleetEntry(Strict):
    """One `endpoints.<key>` entry: exactly one of create or existing, and its monitors."""

    create: Optional[EndpointSettings] = Field(
        None, description="We deploy the Model, the EndpointConfig with Data Capture and the Endpoint "
        "(<project>-<env>-<key>). Same fields as the single-endpoint form's `endpoint:`.",
    )
    existing: Optional[ExistingEndpoint] = Field(
        None, description="An endpoint another tool deployed; we monitor it by name.",
    )
    monitoring: MonitoringSettings = Field(
        default_factory=MonitoringSettings, description="The monitors of this endpoint (defaults.monitoring merged in).",
    )
    drift_alarms: list[DriftAlarm] = Field(
        default_factory=list, description=f"Data-quality drift alarms of this endpoint, at most {MAX_DRIFT_ALARMS} "
        "(they need alarms.enabled).",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> FleetEntry:
        if (self.create is None) == (self.existing is None):
            both = "both are set" if self.create else "neither is set"
            raise ValueError(f"set exactly one of create (we deploy the endpoint) or existing (someone else did); {both}")
        if self.existing and self.monitoring.model_explainability.enabled and self.existing.model_name is None:
            raise FieldError("existing.model_name", None,
                             "required with monitoring.model_explainability.enabled: Clarify's analysis configuration "
                             "names the model its shadow endpoints are made from, and for an endpoint another tool "
                             "deployed the build cannot know it; set it to the model of the endpoint's production "
                             "variant, found with " + FIND_MODEL_NAME.format(endpoint=self.existing.endpoint_name))
        if len(self.drift_alarms) > MAX_DRIFT_ALARMS:
            raise FieldError("drift_alarms", len(self.drift_alarms), f"at most {MAX_DRIFT_ALARMS} drift alarms per "
                             "endpoint (the template has that many slots)")
        features = [d.feature for d in self.drift_alarms]
        duplicates = sorted({f for f in features if features.count(f) > 1})
        if duplicates:
            raise FieldError("drift_alarms", duplicates, f"one alarm per feature; duplicated: {', '.join(duplicates)}")
        return self


def merge(defaults: object, override: object) -> object:
    """The one merge rule of `defaults:`: mappings merge key by key, recursively, and the endpoint's value
    wins; a list or a scalar (or null) is replaced whole."""
    if isinstance(defaults, dict) and isinstance(override, dict):
        merged = dict(defaults)
        for key, value in override.items():
            merged[key] = merge(defaults[key], value) if key in defaults else value
        return merged
    return override


def _known_keys(model: type[BaseModel], data: object, where: str) -> None:
    """Reject keys `model` does not have, recursively (defaults are validated once merged into each endpoint;
    a misspelt key there would otherwise be reported at every endpoint, or not at all)."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            allowed = ", ".join(sorted(model.model_fields))
            raise FieldError(f"{where}.{key}".lstrip("."), key, f"unknown key; allowed keys here: {allowed}")
        inner = _section_model(field.annotation)
        if inner is not None and isinstance(value, dict):
            _known_keys(inner, value, f"{where}.{key}")


def _section_model(annotation: object) -> Optional[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is list:  # lists are replaced whole; their items are checked after merging
        return None
    for arg in typing.get_args(annotation):
        found = _section_model(arg)
        if found:
            return found
    return None


class FleetDefaults(Strict):
    """Settings every endpoint of the fleet gets unless it sets them itself (see `merge`: mappings merge key by
    key, the endpoint wins; lists and scalars are replaced whole). Checked once merged into each endpoint."""

    data_capture: Optional[dict[str, object]] = Field(
        None, description="Data Capture settings (the fields of endpoints.<key>.create.data_capture) for every "
        "endpoint: created ones capture with them, existing ones are adopted with them.",
    )
    monitoring: Optional[dict[str, object]] = Field(
        None, description="Monitor settings (the fields of endpoints.<key>.monitoring) for every endpoint.",
    )

    @field_validator("data_capture")
    @classmethod
    def _capture_keys(cls, value: Optional[dict]) -> Optional[dict]:
        _known_keys(DataCaptureSettings, value, "")
        return value

    @field_validator("monitoring")
    @classmethod
    def _monitoring_keys(cls, value: Optional[dict]) -> Optional[dict]:
        _known_keys(MonitoringSettings, value, "")
        return value


@dataclass(frozen=True)
class FleetEndpoint:
    """One monitored endpoint of an environment, defaults merged in. The single-endpoint form is a fleet of one
    whose key is `default` and `legacy` is true: it keeps today's stack names, resource names and S3 prefixes."""

    key: str
    legacy: bool
    create: Optional[EndpointSettings]
    existing: Optional[ExistingEndpoint]
    monitoring: MonitoringSettings
    drift_alarms: tuple[DriftAlarm, ...] = ()

    def endpoint_name(self, params: Params) -> str:
        if self.existing is not None:
            return self.existing.endpoint_name
        return params.prefix if self.legacy else f"{params.prefix}-{self.key}"

    def name_prefix(self, params: Params) -> str:
        """Prefix of this endpoint's stack and resource names: <project>-<env>, or <project>-<env>-<key>."""
        return params.prefix if self.legacy else f"{params.prefix}-{self.key}"

    def stack_name(self, params: Params, kind: str) -> str:
        return f"{self.name_prefix(params)}-{kind}"

    def shadow_endpoint_prefix(self, params: Params) -> str:
        """The name prefix of the Clarify explainability job's shadow endpoints and endpoint configs,
        <project>-<env>[-<key>]-clarify (Clarify's endpoint_name_prefix); the endpoint's role may create, call and
        delete only endpoints named with it (templates/monitoring.py), so no other endpoint may be named with it."""
        return f"{self.name_prefix(params)}-{SHADOW_ENDPOINT_SUFFIX}"

    def manifest_name(self, kind: str) -> str:
        """The stack's `name` in the manifest (unique there): endpoint/monitoring, or <key>-endpoint/<key>-monitoring."""
        return kind if self.legacy else f"{self.key}-{kind}"

    def _scoped(self, prefix: str) -> str:
        """A bucket prefix of this endpoint: the environment's prefix itself (single-endpoint form), or <prefix>/<key>."""
        return prefix if self.legacy else f"{prefix}/{self.key}"

    def capture_prefix(self, params: Params) -> str:
        return self._scoped(params.storage.capture_prefix)

    def batch_capture_prefix(self, params: Params) -> str:
        return self._scoped(params.storage.batch_capture_prefix)

    def reports_prefix(self, params: Params) -> str:
        return self._scoped(REPORTS)

    def ground_truth_prefix(self, params: Params) -> str:
        return self._scoped(params.storage.ground_truth_prefix)

    def baselines_prefix(self, params: Params) -> str:
        return self._scoped(BASELINES)

    @property
    def data_capture(self) -> DataCaptureSettings:
        return (self.create or self.existing).data_capture  # type: ignore[union-attr]

    @property
    def model_network_isolation(self) -> Optional[bool]:
        """A created endpoint's Model EnableNetworkIsolation: create.network_isolation, or when unset on unless
        this endpoint's model-explainability monitor is enabled (its shadow endpoint is made from the model,
        reference §7.3). None for an existing endpoint (its model is not ours)."""
        if self.create is None:
            return None
        if self.create.network_isolation is not None:
            return self.create.network_isolation
        return not self.monitoring.model_explainability.enabled


REPORTS = "reports"  # bucket prefixes of the jobs' output (templates/foundation.py lays the bucket out)
BASELINES = "baselines"


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
    legacy_endpoint: Optional[EndpointSettings] = Field(
        None, alias="endpoint", description="The single-endpoint form: the one real-time endpoint we deploy, and its "
        "Data Capture (read as a fleet of one, keeping today's stack and resource names). Set this or endpoints.",
    )
    monitoring: Optional[MonitoringSettings] = Field(
        None, description="The single-endpoint form: the monitors of the endpoint and their schedules (in a fleet, "
        "endpoints.<key>.monitoring and defaults.monitoring).",
    )
    defaults: Optional[FleetDefaults] = Field(
        None, description="A fleet: settings every endpoint gets unless it sets them itself. Mappings merge key by "
        "key, the endpoint's value wins; lists and scalars are replaced whole.",
    )
    endpoints: Optional[dict[str, FleetEntry]] = Field(
        None, description=f"A fleet: the monitored endpoints, by short name (lowercase letters, digits and '-', at "
        f"most 20 characters, part of the stack names <project>-<env>-<name>-...), at most {MAX_FLEET_ENDPOINTS}. "
        "Set this or endpoint.",
    )
    alarms: AlarmSettings = Field(
        default_factory=AlarmSettings, description="Notifications, execution rules and CloudWatch alarms."
    )
    catalog: CatalogSettings = Field(
        default_factory=CatalogSettings,
        description="AWS Service Catalog publication of the templates (`make catalog`).",
    )

    @model_validator(mode="before")
    @classmethod
    def _fleet_form(cls, data: object) -> object:
        """Pick the form (a fleet, or the single endpoint) and merge `defaults` into every fleet endpoint."""
        if not isinstance(data, dict):
            return data
        if "endpoints" not in data:
            if "endpoint" not in data:
                raise FieldError("endpoints", None, "required: endpoints: (the fleet of monitored endpoints) or "
                                 "endpoint: with monitoring: (a single endpoint); see docs/fleet.md")
            if "defaults" in data:
                raise FieldError("defaults", "...", "defaults apply to the endpoints of a fleet (endpoints:); in the "
                                 "single-endpoint form write the settings into endpoint: and monitoring:")
            return {**data, "monitoring": data.get("monitoring", {})}
        for single in ("endpoint", "monitoring"):
            if single in data:
                raise FieldError(single, "...", f"{single}: is the single-endpoint form; with endpoints: write it "
                                 f"per endpoint (endpoints.<key>.{'create' if single == 'endpoint' else single}) or "
                                 f"in defaults")
        defaults, entries = data.get("defaults") or {}, data.get("endpoints")
        if not isinstance(defaults, dict) or not isinstance(entries, dict):
            return data  # the field validation reports the wrong type
        capture, monitoring = defaults.get("data_capture"), defaults.get("monitoring")
        merged = {}
        for key, entry in entries.items():
            if isinstance(entry, dict):
                entry = dict(entry)
                if isinstance(monitoring, dict):
                    entry["monitoring"] = merge(monitoring, entry.get("monitoring", {}))
                for kind in ("create", "existing"):
                    if isinstance(capture, dict) and isinstance(entry.get(kind), dict):
                        entry[kind] = {**entry[kind], "data_capture": merge(capture, entry[kind].get("data_capture", {}))}
            merged[key] = entry
        return {**data, "endpoints": merged}

    @field_validator("endpoints", mode="before")
    @classmethod
    def _endpoint_keys(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        if not value:
            raise ValueError("no endpoints: list at least one, e.g. churn: {create: {...}} or fraud: {existing: {...}}")
        if len(value) > MAX_FLEET_ENDPOINTS:
            raise ValueError(f"{len(value)} endpoints; at most {MAX_FLEET_ENDPOINTS} per environment (larger fleets "
                             "are not yet checked against every account limit they meet, docs/fleet.md); split the "
                             "fleet over two environments")
        for key in value:
            if not isinstance(key, str) or not re.fullmatch(ENDPOINT_KEY, key):
                raise FieldError(str(key), key, "an endpoint's short name is 1-20 lowercase letters, digits and '-', "
                                 "starting with a letter (it becomes part of stack and resource names)")
            if key.startswith(SELF_SERVICE_KEY_PREFIX):
                raise FieldError(str(key), key, f"keys starting with {SELF_SERVICE_KEY_PREFIX!r} are reserved for "
                                 "monitors launched from Service Catalog (the endpoint-monitoring product, "
                                 "docs/handoff.md); rename the endpoint")
        return value

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
        self._check_storage()
        for endpoint in self.fleet():
            where = _where(endpoint)
            if endpoint.create and endpoint.create.image_region != self.region:
                raise FieldError(
                    f"{where.create}.model_image",
                    endpoint.create.model_image,
                    f"the image is in {endpoint.create.image_region} but the environment is in {self.region}; "
                    "SageMaker pulls images only from the same region: replicate the image",
                )
            self._check_clarify(endpoint.monitoring, where.monitoring)
            if (endpoint.create and endpoint.create.network_isolation is True
                    and endpoint.monitoring.model_explainability.enabled):
                raise FieldError(f"{where.create}.network_isolation", True, ISOLATION_CONFLICT)
            self._check_alarms(endpoint, where)
        self._check_fleet_names()
        key = self.encryption.kms_key_arn
        if key and key.split(":")[3] != self.region:
            raise FieldError("encryption.kms_key_arn", key, f"the key is not in {self.region}; KMS keys are regional")
        if key and self.account_id and key.split(":")[4] != self.account_id:
            raise FieldError("encryption.kms_key_arn", key, f"the key belongs to another account than {self.account_id}")
        return self

    def _check_storage(self) -> None:
        storage = self.storage
        truth = storage.ground_truth_prefix
        others = {"capture_prefix": storage.capture_prefix, "batch_capture_prefix": storage.batch_capture_prefix,
                  "baselines": "baselines", "monitoring-assets": "monitoring-assets", "reports": "reports",
                  "vpc-flow-logs": "vpc-flow-logs"}
        for what, prefix in others.items():
            if truth == prefix or truth.startswith(prefix + "/") or prefix.startswith(truth + "/"):
                raise FieldError(
                    "storage.ground_truth_prefix", truth,
                    f"overlaps the {what} prefix {prefix!r}; ground truth needs its own prefix (other prefixes expire "
                    "or are written by jobs), e.g. ground-truth",
                )

    def _check_clarify(self, monitoring: MonitoringSettings, at: str) -> None:
        bias, explain = monitoring.model_bias, monitoring.model_explainability
        enabled = [name for name, m in (("model_bias", bias), ("model_explainability", explain)) if m.enabled]
        if not enabled:
            return
        if self.region not in image_accounts("clarify"):
            raise FieldError(f"{at}monitoring.{enabled[0]}.enabled", True,
                             f"no SageMaker Clarify image is published for {self.region}; Clarify monitors run in: "
                             f"{', '.join(image_accounts('clarify'))}")
        features = monitoring.clarify_features
        if not features:
            raise FieldError(f"{at}monitoring.clarify.features", None,
                             f"{enabled[0].replace('_', ' ')} needs the feature headers (the request's CSV columns in "
                             "order): set monitoring.clarify.features (or data_quality.preprocessor.feature_names)")
        if bias.enabled:
            if bias.label in features:
                raise FieldError(f"{at}monitoring.model_bias.label", bias.label,
                                 "the label is also a feature header; the ground-truth label needs its own header")
            for index, facet in enumerate(bias.facets):
                if facet.name not in features:
                    raise FieldError(f"{at}monitoring.model_bias.facets[{index}].name", facet.name,
                                     f"not a feature header; facets must name one of: {', '.join(features)}")
            if bias.group_variable is not None and bias.group_variable not in features:
                raise FieldError(f"{at}monitoring.model_bias.group_variable", bias.group_variable,
                                 f"not a feature header; use one of: {', '.join(features)}")
        if explain.enabled:
            rows = explain.shap.baseline
            if not rows:
                raise FieldError(f"{at}monitoring.model_explainability.shap.baseline", None,
                                 "Kernel SHAP needs a baseline: at least one row with one value per feature, e.g. the "
                                 "feature means of the training data")
            for index, row in enumerate(rows):
                if len(row) != len(features):
                    raise FieldError(f"{at}monitoring.model_explainability.shap.baseline[{index}]", row,
                                     f"{len(row)} values but there are {len(features)} features "
                                     f"({', '.join(features)}); one value per feature, in order")

    def _check_alarms(self, endpoint: FleetEndpoint, where: _Where) -> None:
        alarms, dq = self.alarms, endpoint.monitoring.data_quality
        if not endpoint.legacy and alarms.drift:
            raise FieldError("alarms.drift", len(alarms.drift), "in a fleet, drift alarms watch one endpoint's "
                             "features: move them to endpoints.<key>.drift_alarms")
        drift, at = (alarms.drift, "alarms.drift") if endpoint.legacy else (endpoint.drift_alarms, where.drift)
        if not drift:
            return
        if not alarms.enabled:
            raise FieldError(at, len(drift), "drift alarms need alarms.enabled: true (and a target)")
        if not dq.enabled or not dq.publish_cloudwatch_metrics:
            raise FieldError(at, len(drift),
                             f"drift alarms watch the data-quality metrics: enable {where.monitoring}monitoring."
                             "data_quality with publish_cloudwatch_metrics: true")
        names = dq.preprocessor.feature_names
        if names and dq.record_preprocessor:
            emitted = names + (dq.preprocessor.prediction_names or ["prediction"]) \
                if dq.preprocessor.prediction_position != "none" else list(names)
            for index, alarm in enumerate(drift):
                if alarm.feature not in emitted:
                    raise FieldError(f"{at}[{index}].feature", alarm.feature,
                                     f"the pre-processor emits no such column (no metric would ever arrive); "
                                     f"use one of: {', '.join(emitted)}")

    def _check_fleet_names(self) -> None:
        """Two entries must not monitor one endpoint: SageMaker allows one schedule of each monitor type per
        endpoint, and the second stack would fail half-way through its deploy."""
        seen: dict[str, str] = {}
        for endpoint in self.fleet():
            name = endpoint.endpoint_name(self)
            if name in seen:
                raise FieldError(f"endpoints.{endpoint.key}.existing.endpoint_name", name,
                                 f"endpoints.{seen[name]} monitors this endpoint already (one schedule of each "
                                 "monitor type per endpoint); keep one entry")
            seen[name] = endpoint.key
        # The role of an endpoint may act on every endpoint named with its Clarify shadow prefix (an IAM wildcard):
        # another endpoint named with it (a key `<key>-clarify…`, or an existing endpoint's name) would be in reach.
        shadows = {e.key: e.shadow_endpoint_prefix(self) for e in self.fleet()}
        for endpoint in self.fleet():
            for other, shadow in shadows.items():
                if other == endpoint.key:
                    continue
                if endpoint.name_prefix(self).startswith(shadow):
                    raise FieldError(f"endpoints.{endpoint.key}", endpoint.key,
                                     f"its resources would be named {endpoint.name_prefix(self)}-…, within "
                                     f"{shadow}*, the names of endpoints.{other}'s Clarify shadow endpoints, which "
                                     f"endpoints.{other}'s role may create, call and delete; use a key that does not "
                                     f"start with {other}-{SHADOW_ENDPOINT_SUFFIX}")
                if endpoint.existing is not None and endpoint.endpoint_name(self).lower().startswith(shadow):
                    raise FieldError(f"endpoints.{endpoint.key}.existing.endpoint_name", endpoint.endpoint_name(self),
                                     f"the name is within {shadow}*, the names of endpoints.{other}'s Clarify shadow "
                                     f"endpoints, which endpoints.{other}'s role may create, call and delete; "
                                     "monitoring it would put it in reach of that role")

    # --- the fleet ------------------------------------------------------------------------------

    def fleet(self) -> list[FleetEndpoint]:
        """Every monitored endpoint of the environment, in the order of the file (defaults merged in)."""
        if self.endpoints is None:
            return [FleetEndpoint(LEGACY_KEY, True, self.legacy_endpoint, None,
                                  self.monitoring or MonitoringSettings(), tuple(self.alarms.drift))]
        return [FleetEndpoint(key, False, entry.create, entry.existing, entry.monitoring, tuple(entry.drift_alarms))
                for key, entry in self.endpoints.items()]

    def endpoint(self, key: str) -> FleetEndpoint:
        for endpoint in self.fleet():
            if endpoint.key == key:
                return endpoint
        known = ", ".join(e.key for e in self.fleet())
        raise ToolError(f"params/{self.environment}.yaml has no endpoint {key!r} (endpoints: {known}); "
                        "fix ENDPOINT= or add it under endpoints:")

    @property
    def is_fleet(self) -> bool:
        return self.endpoints is not None

    @model_validator(mode="after")
    def _model_artifacts_fit_one_parameter(self) -> Params:
        """The network stack lists every created endpoint's model artifact in one parameter value (the S3 gateway
        endpoint's read list, templates/network.py), and CloudFormation takes at most 4,096 bytes per value."""
        uris = list(dict.fromkeys(e.create.model_data_url for e in self.fleet() if e.create))
        partition = "aws-cn" if self.region.startswith("cn-") else \
            "aws-us-gov" if self.region.startswith("us-gov-") else "aws"
        size = sum(len(f"arn:{partition}:s3:::{uri.removeprefix('s3://')}") for uri in uris) + max(len(uris) - 1, 0)
        if size > MAX_PARAMETER_VALUE_BYTES:
            raise FieldError("endpoints", len(uris), f"the {len(uris)} created endpoints' model artifacts "
                             f"(create.model_data_url) make {size} bytes of S3 object ARNs, more than the "
                             f"{MAX_PARAMETER_VALUE_BYTES} CloudFormation takes in one parameter value (the network "
                             "stack's ExternalReadObjectArns, what the S3 gateway endpoint lets the VPC read); "
                             "use shorter keys, or split the fleet over two environments")
        return self

    @model_validator(mode="after")
    def _catalog_roles_in_account(self) -> Params:
        """Portfolio principals and the launch role belong to the catalog's own account (other accounts get a
        portfolio share, which this tool does not create)."""
        catalog = self.catalog
        roles = [(f"catalog.principal_role_arns[{i}]", arn) for i, arn in enumerate(catalog.principal_role_arns)]
        if catalog.launch_role_arn:
            roles.append(("catalog.launch_role_arn", catalog.launch_role_arn))
        for where, arn in roles:
            account = arn.split(":")[4]
            if self.account_id and account != self.account_id:
                raise FieldError(where, arn, f"the role belongs to account {account}, the environment to "
                                 f"{self.account_id}; use a role of {self.account_id}")
        return self

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"



RESERVED_TAG_KEYS = ("Project", "Environment", "ManagedBy")

# endpoint.network_isolation: true with model explainability enabled (AWS, "Give Amazon SageMaker Clarify Jobs
# Access to Resources in Your Amazon VPC": the network isolation of both the Clarify job and the model must be off).
ISOLATION_CONFLICT = (
    "monitoring.model_explainability.enabled needs the model without network isolation: Clarify's explainability "
    "job sends records to a shadow endpoint made from this model, and AWS requires isolation off on the model as "
    "well as on the job; remove network_isolation (it is then off for this reason) or disable "
    "model_explainability"
)


@dataclass(frozen=True)
class _Where:
    """Where an endpoint's settings are in the params file (for error messages)."""

    create: str
    monitoring: str  # a prefix: "" or "endpoints.<key>."
    drift: str


def _where(endpoint: FleetEndpoint) -> _Where:
    if endpoint.legacy:
        return _Where("endpoint", "", "alarms.drift")
    at = f"endpoints.{endpoint.key}"
    return _Where(f"{at}.create", f"{at}.", f"{at}.drift_alarms")
