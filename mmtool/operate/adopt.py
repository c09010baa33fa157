"""`make adopt ENV=e ENDPOINT=key`: turn Data Capture on, into our bucket, for an endpoint another tool deployed.

Steps (`run_adopt`):

1. read the environment's foundation values (SSM: bucket, key) and the endpoint (DescribeEndpoint, the
   DescribeEndpointConfig of the config it runs, ListTags of that config, DescribeModel of its models for the
   roles that will write the capture) and run the checks of `mmtool.operate.existing_endpoint`. A missing or
   not-InService endpoint is refused; no capture problem means nothing to do (the snippets are printed).
2. the new endpoint config: a copy of the current one (every field DescribeEndpointConfig gives that
   CreateEndpointConfig takes: variants, KmsKeyId, AsyncInferenceConfig, ExplainerConfig,
   ShadowProductionVariants, ExecutionRoleArn, VpcConfig, …, and the tags ListTags gives, except the `aws:`
   ones AWS reserves) plus `DataCaptureConfig` to `s3://<bucket>/<capture prefix>` with our key. Its name is
   `<old name>-capture-<8 hex>` (hash of the source config's name and the whole content of the copy; 63 characters
   at most, the old name shortened when needed; a previous `-capture-<hash>` suffix is replaced, not stacked). A
   config found under that name is used only when it is exactly the copy (`differences`: every field, the capture
   and the tags compared, again right before the endpoint is pointed at it); any other is refused with what
   differs, since anyone who can read the endpoint can compute the name and plant a config under it.
3. shows what it will do and asks (unless `--yes`), then CreateEndpointConfig, records the previous config
   (`mmtool.operate.adopt_journal`: SSM `/<project>/<env>/adopt/<key>`, with a fingerprint of its content) and
   prints the command that restores it, then
   `UpdateEndpoint(RetainAllVariantProperties=True, ExcludeRetainedVariantProperties=[DataCaptureConfig])`:
   instance counts and weights as they are live (autoscaling keeps its values), capture from the new config.
   SageMaker applies it blue/green: no downtime.
4. waits for InService with a progress line. On success it tags the endpoint (`mmtool:capture-adopted-config`,
   `mmtool:capture-adopted-by`) so `make status` can say when capture was changed since, deletes the record and
   prints the owner's snippets. If the update fails, it restores the previous endpoint config (the same
   UpdateEndpoint call with the old name) and says in which state the endpoint is; if the UpdateEndpoint call
   itself is refused, nothing changed and the new config is deleted again.
5. a run that finds a record (an earlier run was killed, timed out or could not restore: `settle_earlier`) first
   finishes that: still updating, it stops and says so; InService, it removes the record and goes on; Failed, it
   restores the recorded config (when it is still the same config) and stops.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from deployer.aws_errors import error_message
from mmtool.errors import EXIT_FAILED
from mmtool.operate import adopt_journal
from mmtool.operate.adopt_journal import Journal, restore_command
from mmtool.operate.awsenv import AwsError, Clients, aws_errors, aws_failure, check_account, deployed_values, elapsed
from mmtool.operate.existing_endpoint import (
    ADOPTED_BY_TAG,
    ADOPTED_CONFIG_TAG,
    BLOCKING,
    AdoptTarget,
    CaptureExpectations,
    ExistingEndpointError,
    Problem,
    adopt_command,
    check_endpoint,
    check_explainability_model,
    served_model,
    unsupported_kind,
)
from mmtool.operate.facts import describe_existing, describe_model, is_not_found, list_tags

NAME_LIMIT = 63  # EndpointConfigName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
CAPTURE_SUFFIX = re.compile(r"-capture-[0-9a-f]{8}$")
# What CreateEndpointConfig takes and DescribeEndpointConfig gives, copied as they are (the name, the capture
# and the tags are set by adopt). tests/operate/test_adopt.py compares this with botocore's API model.
COPIED_FIELDS = (
    "ProductionVariants", "KmsKeyId", "AsyncInferenceConfig", "ExplainerConfig", "ShadowProductionVariants",
    "ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation", "MetricsConfig", "CrossRegionTrafficConfig",
)
RETAIN = {"RetainAllVariantProperties": True,
          "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}]}
POLL_SECONDS = 30
PROGRESS_SECONDS = 60
TIMEOUT_SECONDS = 3600


# ------------------------------------------------------------------ pure parts


def capture_config(target: AdoptTarget, expected: CaptureExpectations) -> dict[str, Any]:
    """The DataCaptureConfig adopt gives the endpoint (the same shape the endpoint stack writes)."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": target.sampling_percentage,
        "DestinationS3Uri": expected.destination,
        "KmsKeyId": expected.kms_key_arn,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": list(expected.csv_content_types),
                                     "JsonContentTypes": list(expected.json_content_types)},
    }


def config_name(old: str, content: dict[str, Any]) -> str:
    """`<old>-capture-<8 hex>`, at most 63 characters; deterministic. The hash covers the source config's name and
    the whole content of the copy (`content`: the CreateEndpointConfig request without its name), so a copy with
    other content never has the same name, and a config found under the name is either exactly the copy or not
    ours (`differences`)."""
    digest = hashlib.sha256(json.dumps({"source": old, **content}, sort_keys=True, default=str)
                            .encode()).hexdigest()[:8]
    suffix = f"-capture-{digest}"
    base = CAPTURE_SUFFIX.sub("", old)[: NAME_LIMIT - len(suffix)].rstrip("-")
    return f"{base}{suffix}"


def user_tags(tags: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[str]]:
    """(tags CreateEndpointConfig accepts, keys left out): AWS reserves the `aws:` prefix (CloudFormation's
    aws:cloudformation:* tags are on every config it made) and refuses it in a request."""
    kept = [t for t in tags if not t["Key"].lower().startswith("aws:")]
    return kept, [t["Key"] for t in tags if t["Key"].lower().startswith("aws:")]


def copy_request(config: dict[str, Any], tags: list[dict[str, str]], capture: dict[str, Any]) -> dict[str, Any]:
    """The CreateEndpointConfig request: the current config (DescribeEndpointConfig) with our capture."""
    body: dict[str, Any] = {name: config[name] for name in COPIED_FIELDS if config.get(name) is not None}
    body["DataCaptureConfig"] = capture
    kept, _ = user_tags(tags)
    if kept:
        body["Tags"] = kept
    return {"EndpointConfigName": config_name(config["EndpointConfigName"], body), **body}


def _absent(value: Any) -> bool:
    return value is None or value == {} or value == []  # moto answers {} where AWS leaves a field out


def _leaf_differences(path: str, have: Any, want: Any) -> list[str]:
    """Where `have` (what AWS describes) differs from `want` (what adopt would send), one `path: ...` per leaf."""
    if _absent(have) and _absent(want):
        return []
    if isinstance(have, dict) and isinstance(want, dict):
        return [line for key in sorted(set(have) | set(want))
                for line in _leaf_differences(f"{path}.{key}", have.get(key), want.get(key))]
    if isinstance(have, list) and isinstance(want, list) and len(have) == len(want):
        return [line for index, (h, w) in enumerate(zip(have, want))
                for line in _leaf_differences(f"{path}[{index}]", h, w)]
    if have == want:
        return []
    return [f"{path} is {_shown(have)}, not {_shown(want)}"]


def _shown(value: Any) -> str:
    return "(not set)" if _absent(value) else json.dumps(value, default=str)


def differences(described: dict[str, Any], tags: list[dict[str, str]], request: dict[str, Any]) -> list[str]:
    """How an existing endpoint config (DescribeEndpointConfig, and its ListTags) differs from the copy adopt would
    create (`request`): every field CreateEndpointConfig takes (variants, models, KMS key, async and explainer
    configs, shadow variants, role, VPC, ...), the Data Capture config (destination bucket and prefix, key, modes,
    sampling, content types) and the tags other than AWS's own. Empty: it is exactly the copy."""
    found = [line for name in (*COPIED_FIELDS, "DataCaptureConfig")
             for line in _leaf_differences(name, described.get(name), request.get(name))]
    have = sorted((t["Key"], t.get("Value", "")) for t in user_tags(tags)[0])
    want = sorted((t["Key"], t.get("Value", "")) for t in request.get("Tags", []))
    if have != want:
        found.append(f"Tags are {dict(have)}, not {dict(want)}")
    return found


def fingerprint(config: dict[str, Any]) -> str:
    """A hash of what an endpoint config does (every field CreateEndpointConfig takes and its Data Capture), so a
    restore can tell the recorded previous config from another one created under its name since."""
    content = {name: config.get(name) for name in (*COPIED_FIELDS, "DataCaptureConfig") if not _absent(config.get(name))}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def update_request(endpoint_name: str, config: str) -> dict[str, Any]:
    return {"EndpointName": endpoint_name, "EndpointConfigName": config, **RETAIN}


def model_names(config: dict[str, Any]) -> list[str]:
    variants = list(config.get("ProductionVariants") or []) + list(config.get("ShadowProductionVariants") or [])
    return list(dict.fromkeys(v["ModelName"] for v in variants if v.get("ModelName")))


def writer_policy(expected: CaptureExpectations) -> dict[str, Any]:
    """The IAM statements the role that writes the capture (the models' execution role) needs for our bucket
    and key; our key policy lets IAM grant its use, and nothing else in the bucket policy stands in the way."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WriteDataCapture", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": [f"arn:aws:s3:::{expected.bucket}/{expected.prefix}/*"]},
            {"Sid": "EncryptDataCapture", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Encrypt"],
             "Resource": [expected.kms_key_arn]},
        ],
    }


def owner_snippets(capture: dict[str, Any]) -> dict[str, str]:
    """What the endpoint's owner adds to their own template so their next deploy keeps capture on."""
    header = capture["CaptureContentTypeHeader"]
    modes = [o["CaptureMode"] for o in capture["CaptureOptions"]]
    q = json.dumps  # a quoted string (or list of strings) that is valid YAML, HCL and TypeScript alike
    cfn = "\n".join([
        "# AWS::SageMaker::EndpointConfig, under Properties:",
        "DataCaptureConfig:",
        "  EnableCapture: true",
        f"  InitialSamplingPercentage: {capture['InitialSamplingPercentage']}",
        f"  DestinationS3Uri: {q(capture['DestinationS3Uri'])}",
        f"  KmsKeyId: {q(capture['KmsKeyId'])}",
        "  CaptureOptions:",
        *[f"    - CaptureMode: {mode}" for mode in modes],
        "  CaptureContentTypeHeader:",
        f"    CsvContentTypes: {q(header['CsvContentTypes'])}",
        f"    JsonContentTypes: {q(header['JsonContentTypes'])}",
    ])
    terraform = "\n".join([
        '# in resource "aws_sagemaker_endpoint_configuration" (enable_capture defaults to false there):',
        "data_capture_config {",
        "  enable_capture              = true",
        f"  initial_sampling_percentage = {capture['InitialSamplingPercentage']}",
        f"  destination_s3_uri          = {q(capture['DestinationS3Uri'])}",
        f"  kms_key_id                  = {q(capture['KmsKeyId'])}",
        *[line for mode in modes for line in ("  capture_options {", f"    capture_mode = {q(mode)}", "  }")],
        "  capture_content_type_header {",
        f"    csv_content_types  = {q(header['CsvContentTypes'])}",
        f"    json_content_types = {q(header['JsonContentTypes'])}",
        "  }",
        "}",
    ])
    cdk = "\n".join([
        "// aws-cdk-lib/aws-sagemaker CfnEndpointConfig props (TypeScript):",
        "dataCaptureConfig: {",
        "  enableCapture: true,",
        f"  initialSamplingPercentage: {capture['InitialSamplingPercentage']},",
        f"  destinationS3Uri: {q(capture['DestinationS3Uri'])},",
        f"  kmsKeyId: {q(capture['KmsKeyId'])},",
        f"  captureOptions: [{', '.join('{ captureMode: ' + q(mode) + ' }' for mode in modes)}],",
        "  captureContentTypeHeader: {",
        f"    csvContentTypes: {q(header['CsvContentTypes'])},",
        f"    jsonContentTypes: {q(header['JsonContentTypes'])},",
        "  },",
        "},",
    ])
    return {"CloudFormation": cfn, "Terraform": terraform, "CDK": cdk}


def render_snippets(capture: dict[str, Any], expected: CaptureExpectations, roles: list[str]) -> list[str]:
    lines = ["", "Ask the endpoint's owner to add this to their template, or their next deploy turns capture off again:"]
    for tool, text in owner_snippets(capture).items():
        lines += ["", f"--- {tool}", text]
    who = ", ".join(roles) if roles else "the models' execution role"
    lines += ["", f"--- IAM: the role that writes the capture ({who}) needs",
              json.dumps(writer_policy(expected), indent=2)]
    return lines


def check_existing(sagemaker: Any, targets: list[AdoptTarget], bucket: str | None, kms_key_arn: str | None,
                   environment: str) -> list[tuple[AdoptTarget, list[Problem]]]:
    """For `make plan`: read and check every `existing` endpoint; pass the result to
    `existing_endpoint.refuse_unready` to refuse a schedule that would fail.

    The capture checks need the deployed bucket and key; without them (`None`: before the foundation exists) only
    the model of an endpoint whose model-explainability monitor is enabled is checked, which needs neither."""
    return [(target, problems) for target, problems, _ in _check_existing(sagemaker, targets, bucket, kms_key_arn,
                                                                          environment)]


def _check_existing(sagemaker: Any, targets: list[AdoptTarget], bucket: str | None, kms_key_arn: str | None,
                    environment: str) -> list[tuple[AdoptTarget, list[Problem], bool]]:
    """`check_existing`, and for each target whether the model of its explainability monitor was read (False when
    the monitor is off, or the endpoint or its config could not be found)."""
    found = []
    for target in targets:
        endpoint, config = describe_existing(sagemaker, target.endpoint_name)
        models = read_models(sagemaker, config)
        problems = []
        if bucket is not None:
            expected = CaptureExpectations.of(target, bucket, kms_key_arn or "")
            problems = check_endpoint(endpoint, config, expected, adopt=adopt_command(environment, target.key),
                                      models=models)
        elif config is not None:  # before the foundation exists: the kind of endpoint can be checked already
            problems = unsupported_kind(config, models)
        model_read = target.explained_model is not None and served_model(config) is not None
        problems += explainability_problems(sagemaker, target, config)
        found.append((target, problems, model_read))
    return found


def explainability_problems(sagemaker: Any, target: AdoptTarget, config: dict[str, Any] | None) -> list[Problem]:
    """The checks of the model an existing endpoint's explainability monitor explains (DescribeModel of the model
    the endpoint serves, only when the monitor is enabled)."""
    served = served_model(config)
    if target.explained_model is None or served is None:
        return check_explainability_model(target, config, None)
    return check_explainability_model(target, config, describe_model(sagemaker, served))


def check_before_plan(params: Any, key: str | None, connect: Callable[[], Clients],
                      note: Callable[[str], None]) -> None:
    """`make plan` / `make deploy`, before the engine runs: refuse (ExistingEndpointError, one line per problem
    with its fix) when an `existing` endpoint the run covers (`key`: that endpoint only) is not ready for
    monitoring, so no schedule is created that would fail. The bucket and key are the deployed ones (SSM of the
    foundation stack); before the foundation exists (a first deploy) the check cannot run yet: it says so and
    lets the run go on. Connects to AWS only when the run covers an existing endpoint."""
    from mmtool.operate.existing_endpoint import existing_targets, refuse_unready
    from mmtool.operate.facts import ssm_values

    targets = [t for t in existing_targets(params) if key is None or t.key == key]
    if not targets:
        return
    clients = connect()
    values = ssm_values(clients, params.project, params.environment, [])
    names = ", ".join(f"{t.key} ({t.endpoint_name})" for t in targets)
    deployed = "bucket-name" in values and "kms-key-arn" in values
    # The model checks of the explainability monitor need no foundation: they run on a first deploy too.
    found = _check_existing(clients.sagemaker, targets, values.get("bucket-name") if deployed else None,
                            values.get("kms-key-arn") if deployed else None, params.environment)
    refuse_unready((target, problems) for target, problems, _ in found)
    for target, _, model_read in found:
        if model_read:
            note(f"existing endpoint {target.key} ({target.endpoint_name}): it serves model {target.explained_model}, "
                 "without network isolation: Clarify's explainability shadow endpoints can be made from it")
        elif target.explained_model is not None:  # only before the foundation exists: the endpoint is not there
            note(f"note: the model check of the existing endpoint {target.key} ({target.endpoint_name}) runs once the "
                 "endpoint and its config exist (DescribeEndpoint or DescribeEndpointConfig found none)")
    if not deployed:
        note(f"note: the Data Capture check of the existing endpoint(s) {names} runs once the foundation stack of "
             f"{params.environment} exists (its bucket and key are what capture must use); this run creates it. "
             f"Run `make plan ENV={params.environment}` again after it, and `make adopt ENV={params.environment} "
             "ENDPOINT=<key>` for an endpoint it refuses.")
        return
    note(f"existing endpoint(s) {names}: Data Capture ready for monitoring")


# ------------------------------------------------------------------ the plan


@dataclass
class AdoptPlan:
    target: AdoptTarget
    expected: CaptureExpectations
    endpoint: dict[str, Any]
    config: dict[str, Any]
    problems: list[Problem]
    request: dict[str, Any]
    environment: str
    dropped_tags: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    reuse: bool = False  # a config exactly like the copy exists under its name (an earlier, interrupted adopt)

    @property
    def old_config(self) -> str:
        return self.config["EndpointConfigName"]

    @property
    def new_config(self) -> str:
        return self.request["EndpointConfigName"]

    @property
    def command(self) -> str:
        return adopt_command(self.environment, self.target.key)


def read_models(sagemaker: Any, config: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """DescribeModel of every model the endpoint config's variants name (one that does not exist is left out): the
    multi-model check and the roles that write the capture need them."""
    found = {name: describe_model(sagemaker, name) for name in model_names(config or {})}
    return {name: model for name, model in found.items() if model is not None}


def _model_roles(config: dict[str, Any], models: dict[str, dict[str, Any]]) -> list[str]:
    roles = [config["ExecutionRoleArn"]] if config.get("ExecutionRoleArn") else []
    for model in models.values():
        role = model.get("ExecutionRoleArn")
        if role and role not in roles:
            roles.append(role)
    return roles


def existing_copy(sagemaker: Any, request: dict[str, Any], endpoint_name: str, command: str) -> bool:
    """Whether a config named as the copy exists (True) or not (False). One that exists but is not exactly the copy
    (`differences`: another model, capture to someone else's bucket, another key, other tags...) is refused: adopt
    never puts a config it did not make on an endpoint, whatever its name."""
    name = request["EndpointConfigName"]
    try:
        described = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    except aws_errors() as exc:
        if is_not_found(exc):
            return False
        raise aws_failure(exc, f"describe the endpoint config {name} (sagemaker:DescribeEndpointConfig)") from exc
    tags = list_tags(sagemaker, described["EndpointConfigArn"]) if described.get("EndpointConfigArn") else []
    found = differences(described, tags, request)
    if found:
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise ExistingEndpointError(
            f"endpoint config {name} exists already but is not the copy adopt would create for endpoint "
            f"{endpoint_name}: {'; '.join(found[:5])}{more}. adopt never puts a config it did not make on an "
            "endpoint, whatever its name; nothing was changed.\nNext: find out who created it (CloudTrail: "
            f"CreateEndpointConfig {name}): it may be an attempt to redirect the endpoint's traffic or data. Once it "
            f"is deleted (aws sagemaker delete-endpoint-config --endpoint-config-name {name}), run `{command}` again.")
    return True


def plan_adoption(sagemaker: Any, target: AdoptTarget, expected: CaptureExpectations, environment: str) -> AdoptPlan:
    endpoint, config = describe_existing(sagemaker, target.endpoint_name)
    models = read_models(sagemaker, config)
    problems = check_endpoint(endpoint, config, expected, adopt=adopt_command(environment, target.key), models=models)
    blocking = [p for p in problems if p.check in BLOCKING]
    if blocking or endpoint is None or config is None:
        raise ExistingEndpointError(
            f"cannot adopt endpoint {target.endpoint_name} (endpoints.{target.key}); nothing was changed:\n"
            + "\n".join(p.line(target.endpoint_name) for p in blocking))
    tags = list_tags(sagemaker, config["EndpointConfigArn"]) if config.get("EndpointConfigArn") else []
    capture = capture_config(target, expected)
    _, dropped = user_tags(tags)
    request = copy_request(config, tags, capture)
    reuse = existing_copy(sagemaker, request, target.endpoint_name, adopt_command(environment, target.key))
    return AdoptPlan(target, expected, endpoint, config, problems, request, environment, dropped,
                     _model_roles(config, models), reuse)


def render_plan(plan: AdoptPlan) -> list[str]:
    request, capture = plan.request, plan.request["DataCaptureConfig"]
    variants = ", ".join(f"{v.get('VariantName')} ({v.get('ModelName')}, {v.get('InstanceType') or 'serverless'})"
                         for v in request["ProductionVariants"])
    kept = [name for name in COPIED_FIELDS if name in request and name != "ProductionVariants"]
    verb = ("= use endpoint config {new}, which exists already and is exactly the copy of {old} (every field and tag "
            "compared; an earlier adopt made it):" if plan.reuse else "+ create endpoint config {new}, a copy of {old}:")
    lines = [f"Adopt endpoint {plan.target.endpoint_name} (endpoints.{plan.target.key}): it runs endpoint config "
             f"{plan.old_config} ({plan.endpoint.get('EndpointStatus')}).",
             "Found:", *[f"  - {p.problem}" for p in plan.problems],
             verb.format(new=plan.new_config, old=plan.old_config),
             f"    variants: {variants}",
             f"    kept as they are: {', '.join(kept) if kept else '(no other field set)'}; "
             f"{len(request.get('Tags', []))} tag(s)",
             f"    DataCaptureConfig: Input and Output, {capture['InitialSamplingPercentage']} % to "
             f"{capture['DestinationS3Uri']}, key {capture['KmsKeyId']}, CSV {', '.join(capture['CaptureContentTypeHeader']['CsvContentTypes'])}, "
             f"JSON {', '.join(capture['CaptureContentTypeHeader']['JsonContentTypes'])}"]
    if plan.dropped_tags:
        lines.append(f"    not copied: the tags {', '.join(plan.dropped_tags)} (the aws: prefix is reserved to AWS)")
    lines += [f"~ update endpoint {plan.target.endpoint_name} to it (UpdateEndpoint, RetainAllVariantProperties: "
              "instance counts and weights stay as they are live; blue/green, no downtime, the new instances are "
              "billed beside the old ones until the switch)",
              f"  if the update fails, the endpoint is put back on {plan.old_config}"]
    if plan.roles:
        lines.append(f"  the capture is written by {', '.join(plan.roles)}: it needs s3:PutObject on "
                     f"{plan.expected.destination}/* and kms:GenerateDataKey on our key (printed below)")
    return lines


# ------------------------------------------------------------------ applying it


@dataclass
class Waiter:
    """How `wait_for` waits (tests pass a fake clock and sleep)."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll: float = POLL_SECONDS
    progress: float = PROGRESS_SECONDS
    timeout: float = TIMEOUT_SECONDS


IN_PROGRESS = ("Updating", "RollingBack", "SystemUpdating", "Creating")


def wait_for(sagemaker: Any, name: str, waiter: Waiter, out: Callable[[str], None]) -> dict[str, Any]:
    """DescribeEndpoint until the endpoint leaves Updating/RollingBack/SystemUpdating (or the timeout passes);
    a line when the status changes and every `progress` seconds. Returns the last description."""
    start = last_line = waiter.clock()
    last_status = None
    while True:
        try:
            endpoint = sagemaker.describe_endpoint(EndpointName=name)
        except aws_errors() as exc:
            raise aws_failure(exc, f"describe the endpoint {name} (sagemaker:DescribeEndpoint)") from exc
        status = endpoint.get("EndpointStatus")
        now = waiter.clock()
        if status != last_status or now - last_line >= waiter.progress:
            out(f"  {elapsed(now - start)} {name}: {status}")
            last_status, last_line = status, now
        if status not in IN_PROGRESS:
            return endpoint
        if now - start >= waiter.timeout:
            return endpoint
        waiter.sleep(waiter.poll)


def _state(endpoint: dict[str, Any]) -> str:
    reason = f" ({endpoint['FailureReason']})" if endpoint.get("FailureReason") else ""
    return f"{endpoint.get('EndpointStatus')} on endpoint config {endpoint.get('EndpointConfigName')}{reason}"




def restore(sagemaker: Any, endpoint: str, previous: str, region: str, waiter: Waiter,
            out: Callable[[str], None]) -> tuple[bool, str]:
    """Put the endpoint back on its previous config; returns (restored, what state it ended in, in words)."""
    out(f"Restoring endpoint {endpoint} to endpoint config {previous}")
    try:
        sagemaker.update_endpoint(**update_request(endpoint, previous))
    except aws_errors() as exc:
        try:
            state = _state(sagemaker.describe_endpoint(EndpointName=endpoint))
        except aws_errors():  # the state is unknown; say so
            state = "in a state that could not be read"
        return False, (f"the restore was refused ({aws_failure(exc, 'restore the endpoint config')}); the endpoint is "
                       f"{state}.\nNext: when it is InService or Failed, restore it by hand: "
                       f"{restore_command(endpoint, previous, region)}")
    final = wait_for(sagemaker, endpoint, waiter, out)
    if final.get("EndpointStatus") == "InService" and final.get("EndpointConfigName") == previous:
        return True, f"restored: the endpoint is InService on its previous endpoint config {previous}, as before"
    return False, (f"the restore did not finish: the endpoint is {_state(final)}.\nNext: check it with aws sagemaker "
                   f"describe-endpoint --endpoint-name {endpoint}; restore by hand: "
                   f"{restore_command(endpoint, previous, region)}")


def _put_config(sagemaker: Any, plan: AdoptPlan, out: Callable[[str], None]) -> bool:
    """Create the copy, or use the one of that name when it is exactly the copy (checked again now, right before the
    endpoint is pointed at it). True when this run created it."""
    reused = f"Endpoint config {plan.new_config} exists already and is exactly the copy (an earlier adopt): using it"
    if plan.reuse and existing_copy(sagemaker, plan.request, plan.target.endpoint_name, plan.command):
        out(reused)
        return False
    try:
        sagemaker.create_endpoint_config(**plan.request)
    except aws_errors() as exc:
        message = error_message(exc)
        if "already exist" in message and existing_copy(sagemaker, plan.request, plan.target.endpoint_name,
                                                        plan.command):
            out(reused)
            return False
        raise aws_failure(exc, f"create the endpoint config {plan.new_config} "
                               "(sagemaker:CreateEndpointConfig); nothing was changed") from exc
    out(f"Created endpoint config {plan.new_config}")
    return True


def _drop(sagemaker: Any, plan: AdoptPlan, created: bool) -> str:
    """Delete a config this run created and will not use; says what happened to it."""
    if not created:
        return ""
    try:
        sagemaker.delete_endpoint_config(EndpointConfigName=plan.new_config)
        return f"; the new endpoint config {plan.new_config} was deleted again"
    except aws_errors():  # reported, not fatal
        return f"; delete the unused endpoint config {plan.new_config} by hand"


def apply(sagemaker: Any, plan: AdoptPlan, region: str, waiter: Waiter, out: Callable[[str], None],
          journal: Journal) -> dict[str, Any]:
    """Create the config, record the previous one, update the endpoint, wait; restore on failure. Returns the final
    DescribeEndpoint (the record is left for `run_adopt` to delete once the endpoint is tagged)."""
    name = plan.target.endpoint_name
    created = _put_config(sagemaker, plan, out)
    try:
        journal.write(adopt_journal.record(name, plan.old_config, fingerprint(plan.config), plan.new_config))
    except AwsError as exc:
        raise AwsError(f"{exc}; the endpoint was not changed: it stays on {plan.old_config}"
                       f"{_drop(sagemaker, plan, created)}", exc.exit_code) from exc
    out(f"Recorded its previous endpoint config {plan.old_config} in SSM parameter {journal.name}: if this run stops "
        f"before the update ends, `{plan.command}` run again finishes it or restores {plan.old_config}; by hand: "
        f"{restore_command(name, plan.old_config, region)}")
    try:
        sagemaker.update_endpoint(**update_request(name, plan.new_config))
    except aws_errors() as exc:
        journal.clear()
        raise aws_failure(exc, f"update endpoint {name} (sagemaker:UpdateEndpoint)",
                          f"the endpoint was not changed: it stays on {plan.old_config}"
                          f"{_drop(sagemaker, plan, created)}") from exc
    out(f"Updating endpoint {name} to {plan.new_config} (SageMaker starts new instances, then switches traffic)")
    final = wait_for(sagemaker, name, waiter, out)
    status, on = final.get("EndpointStatus"), final.get("EndpointConfigName")
    if status == "InService" and on == plan.new_config:
        return final
    if status in IN_PROGRESS:
        raise AwsError(
            f"endpoint {name} is still {status} after {elapsed(waiter.timeout)}; the update goes on in AWS.\n"
            f"Next: follow it with aws sagemaker describe-endpoint --endpoint-name {name}, and run `{plan.command}` "
            f"again once it is InService or Failed: it tags and prints the snippets, or restores {plan.old_config} "
            f"if the update failed (recorded in {journal.name}); by hand: "
            f"{restore_command(name, plan.old_config, region)}", EXIT_FAILED)
    reason = f": {final['FailureReason']}" if final.get("FailureReason") else ""
    if status == "InService" and on == plan.old_config:
        journal.clear()
        raise AwsError(f"the update of endpoint {name} failed{reason}; SageMaker rolled it back: it is InService on "
                       f"its previous endpoint config {plan.old_config}, without our Data Capture.\nNext: fix the cause "
                       f"and run `{plan.command}` again.", EXIT_FAILED)
    restored, outcome = restore(sagemaker, name, plan.old_config, region, waiter, out)
    if restored:
        journal.clear()
    raise AwsError(f"the update of endpoint {name} to {plan.new_config} failed ({status}{reason}); {outcome}",
                   EXIT_FAILED)


def settle_earlier(sagemaker: Any, journal: Journal, target: AdoptTarget, command: str, region: str, waiter: Waiter,
                   out: Callable[[str], None], confirm: Callable[[str], bool]) -> None:
    """Finish what an earlier adopt of this endpoint left (its record in SSM, `adopt_journal`): nothing to do
    without a record; the update still running stops this run with what to do; InService (on the new config, back
    on the previous one, or on another one since) removes the record and lets this run go on; any other state
    (Failed) restores the recorded previous config, after checking it is the same config (its fingerprint), and
    stops this run with the outcome."""
    entry = journal.read()
    if entry is None:
        return
    name, previous, new = entry["endpoint"], entry["previous_config"], entry["new_config"]
    intro = (f"an earlier `make adopt` (started {entry['started']}) updated endpoint {name} from endpoint config "
             f"{previous} to {new} and did not see the end (recorded in SSM parameter {journal.name})")
    if name != target.endpoint_name:
        out(f"Note: {intro}; endpoints.{target.key} names endpoint {target.endpoint_name} now, so the record is out of "
            "date: removed.")
        journal.clear()
        return
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except aws_errors() as exc:
        if not is_not_found(exc):
            raise aws_failure(exc, f"describe the endpoint {name} (sagemaker:DescribeEndpoint)") from exc
        out(f"Note: {intro}; the endpoint no longer exists: record removed.")
        journal.clear()
        return
    status, on = endpoint.get("EndpointStatus"), endpoint.get("EndpointConfigName")
    manual = restore_command(name, previous, region)
    if status in IN_PROGRESS:
        raise AwsError(f"{intro[0].upper()}{intro[1:]}; it is still {status}. Nothing was changed.\nNext: wait until it "
                       f"is InService or Failed and run `{command}` again: it finishes the adoption, or restores "
                       f"{previous} if the update failed; by hand: {manual}", EXIT_FAILED)
    if status == "InService":
        now = (f"it finished: the endpoint is InService on {new}" if on == new else
               f"the endpoint is InService on its previous endpoint config {previous} (the update was rolled back or "
               "never started)" if on == previous else
               f"the endpoint runs endpoint config {on} now (changed since by someone else): nothing to restore")
        out(f"Note: {intro}; {now}. Record removed.")
        journal.clear()
        return
    out(f"{intro[0].upper()}{intro[1:]}; the endpoint is {_state(endpoint)}.")
    try:
        described = sagemaker.describe_endpoint_config(EndpointConfigName=previous)
    except aws_errors() as exc:
        if not is_not_found(exc):
            raise aws_failure(exc, f"describe the endpoint config {previous} (sagemaker:DescribeEndpointConfig)") from exc
        described = None
    if described is None or fingerprint(described) != entry["previous_fingerprint"]:
        why = ("no longer exists" if described is None else
               "is not the config recorded (another one was created under its name since)")
        raise AwsError(f"not restoring endpoint {name}: its previous endpoint config {previous} {why}. Nothing was "
                       f"changed.\nNext: its owner repairs the endpoint (CloudWatch logs /aws/sagemaker/Endpoints/"
                       f"{name}) with a config they know; then run `{command}` again.", EXIT_FAILED)
    if not confirm(f"Restore endpoint {name} to endpoint config {previous}? Only 'yes' is accepted: "):
        raise AwsError(f"Nothing was changed; endpoint {name} is {_state(endpoint)}.\nNext: run `{command}` again to "
                       f"restore it, or by hand: {manual}", EXIT_FAILED)
    restored, outcome = restore(sagemaker, name, previous, region, waiter, out)
    if restored:
        journal.clear()
        failure = f" ({endpoint['FailureReason']})" if endpoint.get("FailureReason") else ""
        outcome += (f". The adoption did not happen.\nNext: fix the cause of the failed update{failure} and run "
                    f"`{command}` again.")
    raise AwsError(f"endpoint {name}: {outcome}", EXIT_FAILED)


def tag_adopted(sagemaker: Any, endpoint: dict[str, Any], new_config: str, owner: str) -> None:
    try:
        sagemaker.add_tags(ResourceArn=endpoint["EndpointArn"],
                           Tags=[{"Key": ADOPTED_CONFIG_TAG, "Value": new_config}, {"Key": ADOPTED_BY_TAG, "Value": owner}])
    except aws_errors() as exc:
        raise aws_failure(exc, f"tag endpoint {endpoint.get('EndpointName')} (sagemaker:AddTags)",
                          "capture is on; without the tag `make status` cannot tell when it is changed later: "
                          "run `make adopt` again once the permission is there") from exc


def run_adopt(params: Any, clients: Clients, target: AdoptTarget, *, yes: bool = False,
              ask: Callable[[str], str] = input, out: Callable[[str], None] = print,
              waiter: Waiter | None = None) -> int:
    """The whole command; returns the exit code (failures raise an AwsError / ExistingEndpointError)."""
    waiter = waiter or Waiter()
    check_account(clients, params)
    deployed = deployed_values(clients, params)
    expected = CaptureExpectations.of(target, deployed.bucket, deployed.kms_key_arn)
    sagemaker = clients.sagemaker
    command = adopt_command(params.environment, target.key)

    def confirm(question: str) -> bool:
        if yes:
            return True
        try:
            return ask(question).strip() == "yes"
        except EOFError:
            raise ExistingEndpointError("confirmation needed but there is no terminal to ask on. Nothing was "
                                        "changed.\nNext: pass --yes (make adopt ... AUTO_APPROVE=1).") from None

    journal = Journal.of(clients.ssm, params.project, params.environment, target.key)
    settle_earlier(sagemaker, journal, target, command, clients.region, waiter, out, confirm)
    plan = plan_adoption(sagemaker, target, expected, params.environment)
    owner = f"{params.project}-{params.environment}/{target.key}"
    if not plan.problems:
        out(f"Endpoint {target.endpoint_name} already captures what monitoring needs into {expected.destination}: "
            "nothing to do.")
        tags = {t["Key"]: t["Value"] for t in list_tags(sagemaker, plan.endpoint["EndpointArn"])}
        if tags.get(ADOPTED_CONFIG_TAG) != plan.old_config:
            tag_adopted(sagemaker, plan.endpoint, plan.old_config, owner)
            out(f"Tagged it {ADOPTED_CONFIG_TAG}={plan.old_config}, so `make status` reports it if capture is "
                "changed later.")
        for line in render_snippets(plan.config["DataCaptureConfig"], expected, plan.roles):
            out(line)
        return 0
    for line in render_plan(plan):
        out(line)
    if not confirm(f"Adopt endpoint {target.endpoint_name}? Only 'yes' is accepted: "):
        out("Nothing was changed.")
        return 0
    final = apply(sagemaker, plan, clients.region, waiter, out, journal)
    tag_adopted(sagemaker, final, plan.new_config, owner)
    journal.clear()
    out(f"Endpoint {target.endpoint_name} is InService on {plan.new_config}: Data Capture goes to {expected.destination}.")
    for line in render_snippets(plan.request["DataCaptureConfig"], expected, plan.roles):
        out(line)
    return 0
