"""Can this project monitor an endpoint it did not deploy? The checks of an `existing` endpoint.

`check_endpoint(endpoint, config, expected)` is a pure function over the two responses SageMaker gives
(DescribeEndpoint, DescribeEndpointConfig; `None` for one that does not exist) and a `CaptureExpectations`
(our bucket, the endpoint's capture prefix, our key, the content types our capture settings list). It returns
one `Problem` per thing that would make a monitoring schedule of the endpoint fail, each with its fix, in a
fixed order:

  endpoint-missing, endpoint-not-in-service, config-missing, serverless-endpoint, multi-model-endpoint,
  capture-off, capture-stopped, sampling-zero, capture-modes, destination-trailing-slash, destination-elsewhere,
  content-types, kms-key

An endpoint of a kind Model Monitor cannot monitor is refused before its capture is looked at: a serverless one
(SageMaker does not support Data Capture for serverless inference) and a multi-model one (Model Monitor supports
only endpoints that host a single model; this one needs DescribeModel of the config's models, `models`).

With the endpoint's model-explainability monitor enabled, `check_explainability_model(target, config, model)`
adds what Clarify needs of the model its shadow endpoints are made from (the configured `existing.model_name`,
and DescribeModel of the model the endpoint serves; `None` for one that does not exist):

  model-variant, model-missing, model-network-isolation

(`make plan` runs them, through `mmtool.operate.adopt.check_existing`; `make status` again, rule `explained-model-unfit`.)

An empty list of `check_endpoint` means: Data Capture is on, records Input and Output, writes to a prefix our
monitoring role can read (`s3://<our bucket>/<capture prefix>` or below it), stores the content types the analyzer
parses as text, and encrypts with our key (the role may use only that key). `make plan` refuses to create a schedule
for an endpoint with problems (`refuse_unready`), `make adopt` fixes the capture ones, and `make status`
reports an adopted endpoint whose capture changed since (rule `capture-changed-since-adoption`).

`AdoptTarget` is what the checks and `make adopt` need of one fleet entry; `target_from_fleet` builds it from
the fleet model's `FleetEndpoint` (contract of issue 13: `endpoint_name(params)`, `capture_prefix(params)`).
Nothing here calls AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from mmtool.errors import EXIT_FAILED, ToolError, UsageError

# The tags `make adopt` puts on the endpoint it adopted, so `make status` can tell "capture was changed since"
# from "never adopted". Tag values: the adopted endpoint config's name, and <project>-<env>/<key>.
ADOPTED_CONFIG_TAG = "mmtool:capture-adopted-config"
ADOPTED_BY_TAG = "mmtool:capture-adopted-by"
CHECKS = (
    "endpoint-missing", "endpoint-not-in-service", "config-missing", "serverless-endpoint", "multi-model-endpoint",
    "capture-off", "capture-stopped",
    "sampling-zero", "capture-modes", "destination-trailing-slash", "destination-elsewhere", "content-types",
    "kms-key", "model-variant", "model-missing", "model-network-isolation",
)
# Problems `make adopt` cannot fix: the endpoint itself must exist and be InService first, and be of a kind Model
# Monitor supports.
BLOCKING = frozenset({"endpoint-missing", "endpoint-not-in-service", "config-missing", "serverless-endpoint",
                      "multi-model-endpoint"})
# https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html (Feature exclusions: Data Capture) and
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html ("does not support monitoring multi-model
# endpoints")
SERVERLESS_SOURCE = "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html"
MULTI_MODEL_SOURCE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html"
UNSUPPORTED_FIX = ("Model Monitor cannot monitor it as it is: remove endpoints.<key> from the params file (or its "
                   "monitors), or ask its owner for {what}")
KEY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$")


@dataclass(frozen=True)
class AdoptTarget:
    """One `existing` entry of the fleet, as the checks and `make adopt` see it."""

    key: str  # the fleet key ("fraud"), used in commands and messages
    endpoint_name: str  # the endpoint someone else deployed
    capture_prefix: str  # our bucket's prefix for its capture, e.g. datacapture/fraud
    sampling_percentage: int = 100
    csv_content_types: tuple[str, ...] = ("text/csv",)
    json_content_types: tuple[str, ...] = ("application/json",)
    # existing.model_name when the entry's model-explainability monitor is enabled (Clarify's shadow endpoints
    # are made from it); None: the monitor is off and the model is not checked.
    explained_model: str | None = None


def target_from_fleet(params: Any, entry: Any, capture: Any = None) -> AdoptTarget:
    """The fleet model's `FleetEndpoint` (an `existing` entry) as an `AdoptTarget`.

    `capture` is the entry's resolved Data Capture settings (`DataCaptureSettings`: sampling percentage and
    content types, defaults merged in); without it the entry's own `data_capture` (13a's FleetEndpoint has it),
    else the model's defaults."""
    capture = capture if capture is not None else getattr(entry, "data_capture", None)
    if capture is None:
        from mmtool.config.params import DataCaptureSettings

        capture = DataCaptureSettings()
    monitoring = getattr(entry, "monitoring", None)
    explained = monitoring is not None and monitoring.model_explainability.enabled
    return AdoptTarget(
        key=entry.key,
        endpoint_name=entry.endpoint_name(params),
        capture_prefix=entry.capture_prefix(params),
        sampling_percentage=capture.sampling_percentage,
        csv_content_types=tuple(capture.csv_content_types),
        json_content_types=tuple(capture.json_content_types),
        explained_model=getattr(entry.existing, "model_name", None) if explained else None,
    )


def existing_targets(params: Any) -> list[AdoptTarget]:
    """Every `existing` entry of the environment's fleet; none for a params model without `fleet()`."""
    fleet = getattr(params, "fleet", None)
    if not callable(fleet):
        return []
    return [target_from_fleet(params, entry) for entry in fleet() if getattr(entry, "existing", None) is not None]


def find_target(params: Any, key: str) -> AdoptTarget:
    """The `existing` fleet entry `key`, or a ToolError that says what is there instead."""
    fleet = getattr(params, "fleet", None)
    where = f"params/{params.environment}.yaml"
    if not callable(fleet) or getattr(params, "is_fleet", True) is False:
        raise UsageError(f"{where}: has no endpoints: section, so there is no endpoint {key!r} to adopt; add it as "
                         f"endpoints.{key}.existing.endpoint_name: <the endpoint's name> (docs/adopt.md)")
    entries = {entry.key: entry for entry in fleet()}
    if key not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise UsageError(f"{where}: endpoints.{key}: no such endpoint (known: {known})")
    if getattr(entries[key], "existing", None) is None:
        raise UsageError(f"{where}: endpoints.{key}: is created by this project (create:), which already "
                         "captures its data; adopt is for `existing:` endpoints deployed by someone else")
    return target_from_fleet(params, entries[key])


@dataclass(frozen=True)
class CaptureExpectations:
    """Where and how an adopted endpoint must capture so our monitoring role can read and parse it."""

    bucket: str
    prefix: str  # no leading or trailing slash
    kms_key_arn: str
    csv_content_types: tuple[str, ...] = ("text/csv",)
    json_content_types: tuple[str, ...] = ("application/json",)

    @property
    def destination(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @classmethod
    def of(cls, target: AdoptTarget, bucket: str, kms_key_arn: str) -> CaptureExpectations:
        return cls(bucket, target.capture_prefix.strip("/"), kms_key_arn, target.csv_content_types,
                   target.json_content_types)


@dataclass(frozen=True)
class Problem:
    check: str  # one of CHECKS
    problem: str
    fix: str

    def line(self, endpoint: str) -> str:
        return f"endpoint {endpoint}: {self.problem}; fix: {self.fix}"


def _modes(capture: dict[str, Any]) -> set[str]:
    modes: set[str] = set()
    for option in capture.get("CaptureOptions") or []:
        mode = option.get("CaptureMode")
        modes.update(("Input", "Output") if mode == "InputAndOutput" else (mode,))
    return modes


def _key_id(text: str) -> str | None:
    """The key id of a key id or key ARN; None for an alias (it cannot be resolved without calling KMS)."""
    if text.startswith("arn:") and ":key/" in text:
        return text.rsplit("/", 1)[-1]
    return text if KEY_ID.match(text) else None


def multi_model(model: dict[str, Any]) -> bool:
    """Whether a DescribeModel response is a multi-model model (a container in `Mode: MultiModel`)."""
    containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
    return any(c.get("Mode") == "MultiModel" for c in containers)


def unsupported_kind(config: dict[str, Any], models: dict[str, dict[str, Any]] | None) -> list[Problem]:
    """An endpoint config of a kind Model Monitor cannot monitor (see the module docstring); `models`: DescribeModel
    of the config's models by name (None: not read, the multi-model check is skipped)."""
    problems = []
    serverless = [v.get("VariantName", "?") for v in config.get("ProductionVariants") or [] if v.get("ServerlessConfig")]
    if serverless:
        problems.append(Problem(
            "serverless-endpoint", f"is a serverless endpoint (variant {', '.join(serverless)} of endpoint config "
            f"{config.get('EndpointConfigName')} has a ServerlessConfig): SageMaker does not support Data Capture for "
            f"serverless inference ({SERVERLESS_SOURCE}, feature exclusions), so no monitoring job would get data",
            UNSUPPORTED_FIX.format(what="a real-time endpoint on instances (a variant with InstanceType) for the "
                                        "model to be monitored")))
    multi = sorted(name for name, model in (models or {}).items() if multi_model(model))
    if multi:
        problems.append(Problem(
            "multi-model-endpoint", f"hosts a multi-model endpoint (model {', '.join(multi)} has a container in Mode "
            f"MultiModel): Model Monitor supports only endpoints that host a single model ({MULTI_MODEL_SOURCE})",
            UNSUPPORTED_FIX.format(what="an endpoint of its own (one model, Mode SingleModel) for the model to be "
                                        "monitored")))
    return problems


def check_endpoint(endpoint: dict[str, Any] | None, config: dict[str, Any] | None, expected: CaptureExpectations,
                   *, adopt: str = "make adopt", models: dict[str, dict[str, Any]] | None = None) -> list[Problem]:
    """Every problem that would make monitoring of the endpoint fail (see the module docstring).

    `adopt` is the command that fixes capture problems, e.g. `make adopt ENV=prod ENDPOINT=fraud`; `models` the
    DescribeModel responses of the config's models (None: not read, so a multi-model endpoint is not recognised)."""
    if endpoint is None:
        return [Problem("endpoint-missing", "does not exist (DescribeEndpoint: could not find it)",
                        "check endpoints.<key>.existing.endpoint_name and the account/region; monitoring needs the "
                        "endpoint to be deployed first")]
    name = endpoint.get("EndpointName", "?")
    problems: list[Problem] = []
    status = endpoint.get("EndpointStatus")
    if status != "InService":
        reason = f" ({endpoint['FailureReason']})" if endpoint.get("FailureReason") else ""
        fix = ("wait until it is InService and run the command again"
               if status in ("Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed") else
               f"its owner must repair it (CloudWatch logs /aws/sagemaker/Endpoints/{name}); only an InService "
               "endpoint captures data")
        problems.append(Problem("endpoint-not-in-service", f"is {status}{reason}, not InService", fix))
    if config is None:
        problems.append(Problem(
            "config-missing", f"its endpoint config {endpoint.get('EndpointConfigName', '?')} no longer exists",
            "its owner must deploy a new endpoint config (a deleted config cannot be copied; adopt needs it)"))
        return problems
    unsupported = unsupported_kind(config, models)
    if unsupported:  # capture problems do not matter: adopt cannot make this endpoint monitorable
        return problems + unsupported
    capture = config.get("DataCaptureConfig")
    if not capture:  # absent (AWS) or empty (moto)
        problems.append(Problem("capture-off", f"Data Capture is off (endpoint config {config.get('EndpointConfigName')} "
                                "has no DataCaptureConfig), so monitoring jobs get no data", f"run `{adopt}`"))
        return problems
    if capture.get("EnableCapture") is False:
        problems.append(Problem("capture-off", "Data Capture is disabled (EnableCapture: false)", f"run `{adopt}`"))
    live = endpoint.get("DataCaptureConfig") or {}
    if live.get("CaptureStatus") == "Stopped" and capture.get("EnableCapture") is not False:
        problems.append(Problem("capture-stopped", "Data Capture is Stopped on the endpoint (CaptureStatus)",
                                f"run `{adopt}` (a new endpoint config starts it again)"))
    if capture.get("InitialSamplingPercentage") == 0:
        problems.append(Problem("sampling-zero", "Data Capture samples 0 % of requests: nothing is recorded",
                                f"run `{adopt}` (it sets the sampling percentage of the params file)"))
    missing = sorted({"Input", "Output"} - _modes(capture))
    if missing:
        problems.append(Problem("capture-modes", f"Data Capture does not record the {' and '.join(missing)} "
                                "(CaptureOptions); the monitor needs both requests and responses", f"run `{adopt}`"))
    destination = str(capture.get("DestinationS3Uri") or "")
    if destination.endswith("/"):
        problems.append(Problem(
            "destination-trailing-slash", f"the capture destination {destination} ends with '/': files land under a "
            "'//' key the monitoring job does not find (amazon-sagemaker-examples#1938)", f"run `{adopt}`"))
    elif destination != expected.destination and not destination.startswith(expected.destination + "/"):
        problems.append(Problem(
            "destination-elsewhere", f"Data Capture writes to {destination or '(nothing)'}, which our monitoring role "
            f"may not read; it reads only {expected.destination}", f"run `{adopt}` (capture moves to our bucket)"))
    header = capture.get("CaptureContentTypeHeader") or {}
    absent = [t for t in expected.csv_content_types if t not in (header.get("CsvContentTypes") or [])]
    absent += [t for t in expected.json_content_types if t not in (header.get("JsonContentTypes") or [])]
    if absent:
        problems.append(Problem(
            "content-types", f"the content types {', '.join(absent)} are not listed in CaptureContentTypeHeader, so "
            "they are captured base64-encoded and the analyzer cannot parse them", f"run `{adopt}`"))
    key = str(capture.get("KmsKeyId") or "")
    ours = _key_id(expected.kms_key_arn)
    if not key:
        problems.append(Problem(
            "kms-key", "Data Capture names no KmsKeyId, so SageMaker encrypts with the account's aws/s3 key "
            f"instead of ours ({expected.kms_key_arn})", f"run `{adopt}`"))
    elif _key_id(key) is None:
        problems.append(Problem(
            "kms-key", f"Data Capture encrypts with {key}, an alias this check cannot resolve; our monitoring role "
            f"may use only {expected.kms_key_arn}", f"run `{adopt}` (it names our key by ARN)"))
    elif _key_id(key) != ours:
        problems.append(Problem(
            "kms-key", f"Data Capture encrypts with {key}, which our monitoring role may not use (it may use only "
            f"{expected.kms_key_arn})", f"run `{adopt}`"))
    return problems


def primary_variant(config: dict[str, Any]) -> dict[str, Any] | None:
    """The production variant whose model Clarify explains: AllTraffic (the name SageMaker's SDK and most tools
    give a single variant), else the first one; None for a config without variants."""
    variants = list(config.get("ProductionVariants") or [])
    return next((v for v in variants if v.get("VariantName") == "AllTraffic"), variants[0] if variants else None)


def served_model(config: dict[str, Any] | None) -> str | None:
    """The model of the endpoint config's primary variant (`primary_variant`), or None."""
    variant = primary_variant(config) if config else None
    return (variant or {}).get("ModelName") or None


def check_explainability_model(target: AdoptTarget, config: dict[str, Any] | None,
                               model: dict[str, Any] | None) -> list[Problem]:
    """What the model-explainability monitor needs of an existing endpoint's model, in the order of CHECKS: the
    configured `existing.model_name` is the model of the endpoint's primary variant (`model-variant`), that model
    exists (`model-missing`) and runs without network isolation (`model-network-isolation`: Clarify's job calls a
    shadow endpoint made from it, and AWS requires isolation off on the model as well as on the job; we cannot
    change someone else's model, so the plan refuses instead).

    `config` is DescribeEndpointConfig of the config the endpoint runs (None: missing, which `check_endpoint`
    reports), `model` DescribeModel of the served model (None: it does not exist). Nothing to check when the
    target's monitor is off (`explained_model` None)."""
    configured = target.explained_model
    if configured is None or config is None:
        return []
    field = f"endpoints.{target.key}.existing.model_name"
    variant = primary_variant(config) or {}
    served = served_model(config)
    where = (f"production variant {variant.get('VariantName', '?')} of endpoint config "
             f"{config.get('EndpointConfigName', '?')}")
    if served is None:
        return [Problem("model-variant", f"the {where} names no model (an endpoint of inference components?), and "
                        "Clarify's explainability job makes its shadow endpoints from a model",
                        f"disable endpoints.{target.key}.monitoring.model_explainability")]
    problems = []
    if served != configured:
        problems.append(Problem(
            "model-variant", f"{field} is {configured}, but the {where} serves model {served}, so Clarify would "
            "explain another model than the one monitored", f"set {field}: {served}"))
    if model is None:
        problems.append(Problem(
            "model-missing", f"the model {served} it serves does not exist any more (DescribeModel: could not find "
            "it), and Clarify's explainability job makes its shadow endpoints from it",
            f"its owner must deploy the endpoint with a model that exists, or disable "
            f"endpoints.{target.key}.monitoring.model_explainability"))
    elif model.get("EnableNetworkIsolation") is True:
        problems.append(Problem(
            "model-network-isolation", f"the model {served} runs with network isolation (EnableNetworkIsolation: "
            "true); Clarify's explainability job calls a shadow endpoint made from it, and AWS requires isolation off "
            "on the model as well as on the job, so every run would fail",
            f"its owner must deploy the model with EnableNetworkIsolation false (a new model and endpoint config), "
            f"or disable endpoints.{target.key}.monitoring.model_explainability"))
    return problems


class ExistingEndpointError(ToolError):
    """An `existing` endpoint that monitoring cannot work with (the plan refuses to schedule it)."""

    exit_code = EXIT_FAILED


def adopt_command(environment: str, key: str) -> str:
    return f"make adopt ENV={environment} ENDPOINT={key}"


def refuse_unready(found: Iterable[tuple[AdoptTarget, list[Problem]]]) -> None:
    """For `make plan`: raise one error listing every problem of every existing endpoint (one line each,
    from `check_endpoint(..., adopt=adopt_command(env, key))`), so no schedule is created that would fail.
    Does nothing when there is no problem."""
    lines = [problem.line(target.endpoint_name) for target, problems in found for problem in problems]
    if lines:
        raise ExistingEndpointError(
            "monitoring would fail for these existing endpoints, so no schedule is created for them:\n"
            + "\n".join(lines))


@dataclass
class ExistingEndpointFacts:
    """What `make status` read about one `existing` endpoint (the raw responses; the rule runs the checks)."""

    target: AdoptTarget
    expected: CaptureExpectations
    endpoint: dict[str, Any] | None
    config: dict[str, Any] | None
    tags: dict[str, str] = field(default_factory=dict)  # the endpoint's tags
    # DescribeModel of the model the endpoint serves, read only when its explainability monitor is on
    # (target.explained_model set); None: not read, or the model does not exist
    model: dict[str, Any] | None = None
    # the record of a `make adopt` that did not finish (mmtool.operate.adopt_journal; `make status` reads it), or None
    adoption: dict[str, str] | None = None
    # DescribeModel of the config's models (the multi-model check), when `make status` read them; None: not read
    models: dict[str, dict[str, Any]] | None = None

    @property
    def adopted_config(self) -> str | None:
        return self.tags.get(ADOPTED_CONFIG_TAG)

    @property
    def config_name(self) -> str | None:
        return (self.endpoint or {}).get("EndpointConfigName")
