"""`params/<env>.yaml` as a whole: the root model `Params` and the rules that cross sections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from pydantic import Field, ValidationInfo, field_validator, model_validator

from mmtool.config import layout, limits, name_limits
from mmtool.errors import UsageError
from mmtool.config.params.base import ACCOUNT_ID, FieldError, Strict, image_accounts, region_partition
from mmtool.config.params.deploy import DeploySettings
from mmtool.config.params.network import NetworkSettings
from mmtool.config.params.storage import EncryptionSettings, StorageSettings
from mmtool.config.params.endpoint import EndpointSettings
from mmtool.config.params.monitoring import MonitoringSettings
from mmtool.config.params.alarms import AlarmSettings
from mmtool.config.params.catalog import CatalogSettings
from mmtool.config.params.fleet import (ENDPOINT_KEY, FleetDefaults, FleetEndpoint, FleetEntry, LEGACY_KEY,
    MAX_PARAMETER_VALUE_BYTES, SELF_SERVICE_KEY_PREFIX, SHADOW_ENDPOINT_SUFFIX, merge)


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
    region: str = Field(description="AWS region to deploy to; it must have a Model Monitor image, or, for endpoints "
                        "that all run `monitoring.engine: processing`, the SageMaker scikit-learn image.")
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
        None, description="A fleet: the monitored endpoints, by short name (lowercase letters, digits and '-', at "
        f"most 20 characters, part of the stack names <project>-<env>-<name>-...). The AWS limits a fleet "
        "meets are checked at build (docs/fleet.md). Set this or endpoint.",
    )
    alarms: AlarmSettings = Field(
        default_factory=AlarmSettings, description="Notifications, execution rules and CloudWatch alarms."
    )
    quotas: limits.Quotas = Field(
        default_factory=limits.Quotas, description="Adjustable AWS quotas the account has had raised: the build "
        "checks the environment against these instead of AWS's defaults (docs/fleet.md, the limits table).",
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
        for key in value:
            if not isinstance(key, str) or not re.fullmatch(ENDPOINT_KEY, key):
                raise FieldError(str(key), key, "an endpoint's short name is 1-20 lowercase letters, digits and '-', "
                                 "starting with a letter and not ending in '-' (it becomes part of stack and resource "
                                 "names)")
            if key.startswith(SELF_SERVICE_KEY_PREFIX):
                raise FieldError(str(key), key, f"keys starting with {SELF_SERVICE_KEY_PREFIX!r} are reserved for "
                                 "monitors launched from Service Catalog (the endpoint-monitoring product, "
                                 "docs/handoff.md); rename the endpoint")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        """A region with the image one of the engines needs; which engine each endpoint may run there is
        checked with the endpoints (`_check_engine_region`)."""
        if value not in image_accounts() and value not in image_accounts("sklearn"):
            regions = sorted(set(image_accounts()) | set(image_accounts("sklearn")))
            raise ValueError(
                "no Model Monitor analyzer image nor SageMaker scikit-learn image (the processing engine's) is "
                f"published for this region; use one of: {', '.join(regions)}"
            )
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError("quote the account id (YAML reads 012345678901 as a number and drops the leading 0)")
        if value is not None and not (isinstance(value, str) and re.fullmatch(ACCOUNT_ID, value)):
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
            # \w on purpose: AWS tag keys and values may hold letters and digits of any script
            # (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html)
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
            self._check_engine_region(endpoint.monitoring, where.monitoring)
            self._check_clarify(endpoint.monitoring, where.monitoring)
            if (endpoint.create and endpoint.create.network_isolation is True
                    and endpoint.monitoring.model_explainability.enabled):
                raise FieldError(f"{where.create}.network_isolation", True, ISOLATION_CONFLICT)
            self._check_alarms(endpoint, where)
        self._check_offered_engine_region()
        self._check_fleet_names()
        for composed in name_limits.composed_names(self):
            if composed.problem:
                raise FieldError(composed.field, composed.value, composed.problem)
        self._check_partitions()
        key = self.encryption.kms_key_arn
        if key and key.split(":")[3] != self.region:
            raise FieldError("encryption.kms_key_arn", key, f"the key is not in {self.region}; KMS keys are regional")
        if key and self.account_id and key.split(":")[4] != self.account_id:
            raise FieldError("encryption.kms_key_arn", key, f"the key belongs to another account than {self.account_id}")
        return self

    def _check_partitions(self) -> None:
        """Every ARN in the file is of the region's partition: IAM, KMS, SQS and Service Catalog never act across
        partitions, so an arn:aws-cn:... value in an aws region can only fail at deploy time."""
        expected = region_partition(self.region)
        arns = [("deploy.assume_role_arn", self.deploy.assume_role_arn),
                ("deploy.cloudformation_role_arn", self.deploy.cloudformation_role_arn),
                ("encryption.kms_key_arn", self.encryption.kms_key_arn),
                ("catalog.launch_role_arn", self.catalog.launch_role_arn)]
        arns += [(f"alarms.sqs[{i}]", arn) for i, arn in enumerate(self.alarms.sqs)]
        arns += [(f"catalog.principal_role_arns[{i}]", arn) for i, arn in enumerate(self.catalog.principal_role_arns)]
        for where, arn in arns:
            if arn and arn.split(":")[1] != expected:
                raise FieldError(where, arn, f"an ARN of partition {arn.split(':')[1]}, but {self.region} is in "
                                 f"partition {expected}; use arn:{expected}:...")
        for endpoint in self.fleet():
            if endpoint.create and endpoint.create.model_image.split("/")[0].endswith(".cn") != (expected == "aws-cn"):
                where = _where(endpoint).create
                raise FieldError(f"{where}.model_image", endpoint.create.model_image,
                                 f"the registry's domain is not that of {self.region} (amazonaws.com.cn in China, "
                                 "amazonaws.com elsewhere)")

    def _check_storage(self) -> None:
        storage = self.storage
        configured = {area.field: getattr(storage, area.field) for area in layout.AREAS if area.field}
        overlap = layout.overlap_problem(configured)
        if overlap:
            field, value, message = overlap
            raise FieldError(f"storage.{field}", value, message)

    def _check_engine_region(self, monitoring: MonitoringSettings, at: str) -> None:
        """Model Monitor runs only where its analyzer image is published; the processing engine needs only the
        scikit-learn image (docs/engine.md), which some regions without Model Monitor's have."""
        if monitoring.runs_model_monitor and self.region not in image_accounts():
            raise FieldError(f"{at}monitoring.engine", monitoring.engine,
                             f"no SageMaker Model Monitor analyzer image is published for {self.region}; set "
                             "monitoring.engine: processing (it needs only the SageMaker scikit-learn image, published "
                             f"there), or deploy to a region with Model Monitor: {', '.join(image_accounts())}")
        if monitoring.runs_processing and self.region not in image_accounts("sklearn"):
            raise FieldError(f"{at}monitoring.engine", monitoring.engine,
                             _no_sklearn_image(self.region) + "; or use monitoring.engine: model-monitor")

    def _check_offered_engine_region(self) -> None:
        """The processing engine the catalog offers runs the same scikit-learn image as an endpoint's."""
        if self.catalog.offer_processing_engine and self.region not in image_accounts("sklearn"):
            raise FieldError("catalog.offer_processing_engine", True, _no_sklearn_image(self.region) + "; or remove "
                             "the field (the product then offers model-monitor only)")

    def _check_clarify(self, monitoring: MonitoringSettings, at: str) -> None:
        bias, explain = monitoring.model_bias, monitoring.model_explainability
        enabled = [name for name, m in monitoring.monitors() if m.NEEDS_CLARIFY and m.enabled]
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
            # SageMaker endpoint names are case-insensitive: Churn-Dev and churn-dev are one endpoint
            if name.lower() in seen:
                raise FieldError(f"endpoints.{endpoint.key}.existing.endpoint_name", name,
                                 f"endpoints.{seen[name.lower()]} monitors this endpoint already (endpoint names are "
                                 "case-insensitive; one schedule of each monitor type per endpoint); keep one entry")
            seen[name.lower()] = endpoint.key
        # The role of an endpoint may act on every endpoint named with its Clarify shadow prefix (an IAM wildcard):
        # another endpoint named with it (a key `<key>-clarify…`, or an existing endpoint's name) would be in reach.
        # Each name is looked up by its own prefixes, not compared with every other endpoint's shadow prefix: a fleet
        # of 200 endpoints would compare 40,000 pairs.
        fleet = self.fleet()
        shadows = {e.key: e.shadow_endpoint_prefix(self) for e in fleet}
        owners: dict[str, list[str]] = {}  # shadow prefix -> the endpoints it is of
        for key, shadow in shadows.items():
            owners.setdefault(shadow, []).append(key)
        order = {key: index for index, key in enumerate(shadows)}
        for endpoint in fleet:
            prefix = endpoint.name_prefix(self)
            existing_name = endpoint.endpoint_name(self).lower() if endpoint.existing is not None else None
            near = {other for name in (prefix, existing_name) if name for end in range(1, len(name) + 1)
                    for other in owners.get(name[:end], ()) if other != endpoint.key}
            for other in sorted(near, key=order.__getitem__):  # in the file's order, as each is reported
                shadow = shadows[other]
                if prefix.startswith(shadow):
                    raise FieldError(f"endpoints.{endpoint.key}", endpoint.key,
                                     f"its resources would be named {prefix}-…, within "
                                     f"{shadow}*, the names of endpoints.{other}'s Clarify shadow endpoints, which "
                                     f"endpoints.{other}'s role may create, call and delete; use a key that does not "
                                     f"start with {other}-{SHADOW_ENDPOINT_SUFFIX}")
                if existing_name is not None and existing_name.startswith(shadow):
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
        raise UsageError(f"params/{self.environment}.yaml has no endpoint {key!r} (endpoints: {known}); "
                        "fix ENDPOINT= or add it under endpoints:")

    @property
    def is_fleet(self) -> bool:
        return self.endpoints is not None

    @property
    def has_processing_engine(self) -> bool:
        """The environment has the processing engine's shared parts: the foundation's EventBridge Scheduler schedule
        group and the analyzer package among the assets (docs/engine.md). Where an endpoint runs that engine, or where
        catalog.offer_processing_engine offers it to the endpoint-monitoring product's launches (docs/handoff.md)."""
        return self.catalog.offer_processing_engine or any(e.monitoring.runs_processing for e in self.fleet())

    @model_validator(mode="after")
    def _model_artifacts_fit_one_parameter(self) -> Params:
        """The network stack lists every created endpoint's model artifact in one parameter value (the S3 gateway
        endpoint's read list, templates/network.py), and CloudFormation takes at most 4,096 bytes per value."""
        uris = list(dict.fromkeys(e.create.model_data_url for e in self.fleet() if e.create))
        partition = region_partition(self.region)
        size = sum(len(f"arn:{partition}:s3:::{uri.removeprefix('s3://')}") for uri in uris) + max(len(uris) - 1, 0)
        if size > MAX_PARAMETER_VALUE_BYTES:
            raise FieldError("endpoints", len(uris), f"the {len(uris)} created endpoints' model artifacts "
                             f"(create.model_data_url) make {size} bytes of S3 object ARNs, more than the "
                             f"{MAX_PARAMETER_VALUE_BYTES} CloudFormation takes in one parameter value (the network "
                             "stack's ExternalReadObjectArns, what the S3 gateway endpoint lets the VPC read; "
                             f"{limits.BY_KEY['parameter_value_bytes'].source}); endpoints serving one artifact "
                             "count it once: use shorter keys, or split the fleet over two environments")
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


def _no_sklearn_image(region: str) -> str:
    return (f"no SageMaker scikit-learn image, which the processing engine's jobs run (docs/engine.md), is published "
            f"for {region}; deploy to a region that has it: {', '.join(image_accounts('sklearn'))}")

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
