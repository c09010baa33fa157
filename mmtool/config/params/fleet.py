"""`endpoints:` and `defaults:` a fleet of monitored endpoints, and FleetEndpoint, one endpoint of an
environment with the defaults merged in (the single-endpoint form read as a fleet of one)."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel, Field, field_validator, model_validator

from mmtool.config import layout, limits
from mmtool.config.params.base import FieldError, SAGEMAKER_NAME, Strict
from mmtool.config.params.endpoint import DataCaptureSettings, EndpointSettings
from mmtool.config.params.monitoring import MonitoringSettings
from mmtool.config.params.alarms import DriftAlarm, MAX_DRIFT_ALARMS, check_drift_alarms


# --- the fleet: `endpoints:` and `defaults:` -------------------------------------------------------

# short name of a fleet endpoint (part of stack and resource names, which must not end in '-')
ENDPOINT_KEY = r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$"
# Monitors launched from the Service Catalog endpoint-monitoring product get the key sc-<name>, so they can never
# take the names, role or bucket prefixes of an endpoint of the params file (templates/endpoint_monitoring.py).
SELF_SERVICE_KEY_PREFIX = "sc-"
LEGACY_KEY = "default"  # the key of today's single-endpoint form read as a fleet of one
SHADOW_ENDPOINT_SUFFIX = "clarify"  # Clarify's shadow endpoints: <name prefix>-clarify… (FleetEndpoint.shadow_endpoint_prefix)
MAX_PARAMETER_VALUE_BYTES = limits.BY_KEY["parameter_value_bytes"].value  # CloudFormation's, per value


class ExistingEndpoint(Strict):
    """An endpoint deployed by another tool (SageMaker Pipelines, the SDK, another team's stack): we only monitor it."""

    endpoint_name: str = Field(
        pattern=SAGEMAKER_NAME, max_length=63,
        description="Name of the endpoint in this environment's account and region.",
    )
    data_capture: DataCaptureSettings = Field(
        default_factory=DataCaptureSettings,
        description="The Data Capture that `make adopt` turns on for the endpoint (to this environment's bucket).",
    )
    model_name: Optional[str] = Field(
        None, pattern=SAGEMAKER_NAME, max_length=63,
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
        check_drift_alarms("drift_alarms", self.drift_alarms)
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
        return self._scoped(layout.REPORTS.prefix)

    def ground_truth_prefix(self, params: Params) -> str:
        return self._scoped(params.storage.ground_truth_prefix)

    def baselines_prefix(self, params: Params) -> str:
        return self._scoped(layout.BASELINES.prefix)

    @property
    def data_capture(self) -> DataCaptureSettings:
        return (self.create or self.existing).data_capture  # type: ignore[union-attr]

    @property
    def model_network_isolation(self) -> Optional[bool]:
        """A created endpoint's Model EnableNetworkIsolation: create.network_isolation, or when unset on unless
        this endpoint's model-explainability monitor is enabled (its shadow endpoint is made from the model,
        https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html). None for an existing endpoint (its model is not ours)."""
        if self.create is None:
            return None
        if self.create.network_isolation is not None:
            return self.create.network_isolation
        return not self.monitoring.model_explainability.enabled




