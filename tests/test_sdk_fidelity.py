"""Our staging monitors against the requests AWS's own SageMaker Python SDK (2.257.7) sends for the same settings.

Staging is a fleet (docs/fleet.md); the comparison runs against its `churn` endpoint, the one that enables every
monitor: its stacks churn-endpoint and churn-monitoring (the shared templates with churn's parameter files), its
own execution role and its prefixes (reports/churn, ground-truth/churn), and its monitors as the params file's
merge rule makes them (defaults.monitoring, then endpoints.churn.monitoring).

tests/sdk_requests.py configures the SDK from params/staging.yaml and records what it would send (the SDK's
SageMaker and S3 clients answered by botocore's Stubber, no network); it runs in the SDK's own virtualenv
(.tools/sagemaker-sdk/, `make sdk-tools`; `make test` installs it) because the SDK's pins clash with ours
(requirements-sdk.in). Our side is the real staging build: each job definition and schedule with the
intrinsic functions evaluated for staging's parameter values (tests/cfn_values.py), and the Clarify analysis
configurations we upload.

Compared: whole requests (images per region, environment variables, inputs and their attributes, ground
truth, time offsets, outputs, baselines, cluster, network configuration, stopping condition, role, schedule
expression and type) and the Clarify analysis configuration, field by field. What differs on purpose is in
DELIBERATE, with the reason; every other difference fails.

The values that exist only once deployed (bucket, role, key, subnets, security group: our templates read them
from SSM) are the same made-up values on both sides.
"""

from __future__ import annotations

import copy
import json
import posixpath
import subprocess
from typing import Any

import pytest

from mmtool.generate import clarify
from mmtool.config.loader import load_params
from tests.cfn_values import Resolver
from tests.conftest import REPO

SDK_PYTHON = REPO / ".tools" / "sagemaker-sdk" / "bin" / "python"
ACCOUNT = "444455556666"
DEPLOYED = {  # SSM key (/<project>/<env>/<stack>/<key>) -> what it holds once deployed
    "bucket-name": "churn-staging-bucket-1a2b3c",
    "kms-key-arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
    "monitoring-role-arn": f"arn:aws:iam::{ACCOUNT}:role/churn-staging-monitoring",
    "monitoring-role-name": "churn-staging-monitoring",
    "ExecutionRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/churn-staging-churn-monitoring",  # the endpoint's own role
    "subnet-ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"],
    "job-security-group-id": "sg-0bbbbbbbbbbbbbbb1",
}
ENDPOINT = "churn"  # the fleet endpoint compared: staging's, with every monitor enabled
MONITORS = {  # params key -> (our logical id stem, the SDK's job definition operation)
    "data_quality": "DataQuality",
    "model_quality": "ModelQuality",
    "model_bias": "ModelBias",
    "model_explainability": "ModelExplainability",
}
# Differences we chose, with the reason. A path is dotted from the request's top; `*` is the monitor's stem.
DELIBERATE = {
    "JobDefinitionName": "ours is <project>-<env>-<code>-<content hash>, so a changed definition (every property is "
                         "create-only) gets a new name and CloudFormation can replace it; the SDK's is timestamped",
    "Tags": "ours tags every job definition with the project's tags (CloudFormation does not propagate stack tags to "
            "these types, aws-cloudformation/cloudformation-coverage-roadmap#2338); the SDK sends the tags it is given, none here",
    "*JobOutputConfig.MonitoringOutputs.0.S3Output.S3UploadMode": "ours is EndOfJob: reports land once, complete, "
                                                                    "which is what alarms and `make status` read; the "
                                                                    "SDK streams (Continuous)",
    "*AppSpecification.ConfigUri": "same object name (analysis_config.json); ours sits under the content-hashed "
                                   "monitoring-assets/<hash>/ prefix the build uploads, the SDK's under the "
                                   "report prefix with a random folder",
    "*BaselineConfig.ConstraintsResource.S3Uri": "ours reads the copy `make deploy` makes under the project bucket's "
                                                 "baselines/<key>/imported/ (mmtool/config/baselines.py, issue 16): "
                                                 "encrypted with the project key, under a prefix the endpoint's role "
                                                 "and the S3 endpoint "
                                                 "allow; the SDK reads the other bucket directly",
    "*BaselineConfig.StatisticsResource.S3Uri": "the same copy, for statistics.json",
    "schedule.Tags": "the project's tags on the schedule too, for the same reason; the SDK sends an empty list",
    "schedule.MonitoringScheduleName": "ours is <project>-<env>-<key>-<code> (<project>-<env>-<monitor> in the "
                                       "single-endpoint form), fixed, so the schedule updates in place",
    "schedule.MonitoringScheduleConfig.MonitoringJobDefinitionName": "follows JobDefinitionName",
}
NUMBERS = ("ProbabilityThresholdAttribute", "InstanceCount", "VolumeSizeInGB", "MaxRuntimeInSeconds")


@pytest.fixture(scope="module")
def staging(built):
    return load_params(built.params / "staging.yaml", built.root)


def _parameter_values(built, kind: str) -> dict[str, Any]:
    """The shared template of `kind` and the churn endpoint's values for it (SSM-typed ones as deployed)."""
    template = json.loads((built.build / "staging" / f"{kind}.template.json").read_text())
    body = json.loads((built.build / "staging" / f"{ENDPOINT}-{kind}.parameters.json").read_text())
    values: dict[str, Any] = {p["ParameterKey"]: p["ParameterValue"] for p in body}
    for name, spec in template["Parameters"].items():
        if spec["Type"].startswith("AWS::SSM::Parameter::Value<"):
            key = values[name].rsplit("/", 1)[-1]
            values[name] = _model_name(built) if key == "model-name" else DEPLOYED[key]
    return template, values


def _model_name(built) -> str:
    """What the endpoint stack publishes as model-name: <project>-<env>-model-<ModelRevision>."""
    from templates.endpoint import model_name

    body = json.loads((built.build / "staging" / f"{ENDPOINT}-endpoint.parameters.json").read_text())
    return model_name("churn-staging", {p["ParameterKey"]: p["ParameterValue"] for p in body})


@pytest.fixture(scope="module")
def ours(built, staging):
    """Our staging monitors as CloudFormation would create them, and the Clarify configurations we upload."""
    template, values = _parameter_values(built, "monitoring")
    resolver = Resolver(template, values, staging.region, ACCOUNT, attributes=DEPLOYED)
    manifest = json.loads((built.build / "staging" / "manifest.json").read_text())
    assets = {a["file"]: a["key"] for a in manifest["assets"]}
    out: dict[str, Any] = {"resolver": resolver, "assets": assets, "monitors": {}}
    for key, stem in MONITORS.items():
        monitor = {"definition": resolver.properties(f"{stem}JobDefinition"),
                   "schedule": resolver.properties(f"{stem}Schedule")}
        folder = built.build / "staging" / "assets" / ENDPOINT / key.replace("_", "-")
        if (folder / clarify.CONFIG_FILE).exists():
            monitor["analysis_config"] = json.loads((folder / clarify.CONFIG_FILE).read_text())
        out["monitors"][key] = monitor
    return out


@pytest.fixture(scope="module")
def sdk(built, staging, ours):
    if not SDK_PYTHON.exists():
        pytest.fail(f"the SageMaker SDK is not installed ({SDK_PYTHON.relative_to(REPO)} is missing): `make test` "
                    "installs it; a bare pytest needs `make sdk-tools` once", pytrace=False)
    regions = sorted(ours["resolver"].template["Mappings"]["ModelMonitorImage"])
    endpoint = staging.endpoint(ENDPOINT)
    context = {
        "params_file": str(built.params / "staging.yaml"),
        "endpoint": ENDPOINT,
        "regions": regions,
        "bucket": DEPLOYED["bucket-name"],
        # the fleet's layout (docs/fleet.md, "Names and prefixes"): the endpoint's name, role and prefixes
        "role_arn": DEPLOYED["ExecutionRole.Arn"],
        "reports_prefix": endpoint.reports_prefix(staging),
        "ground_truth_prefix": endpoint.ground_truth_prefix(staging),
        "kms_key_arn": DEPLOYED["kms-key-arn"],
        "subnets": DEPLOYED["subnet-ids"],
        "security_group": DEPLOYED["job-security-group-id"],
        "endpoint_name": endpoint.endpoint_name(staging),
        "model_name": _model_name(built),
        "preprocessor_uri": f"s3://{DEPLOYED['bucket-name']}/{ours['assets'][f'assets/{ENDPOINT}/record_preprocessor.py']}",
        "shadow_endpoint_prefix": clarify.shadow_endpoint_prefix(staging, endpoint),  # our naming, scoped in IAM
    }
    result = subprocess.run([str(SDK_PYTHON), str(REPO / "tests" / "sdk_requests.py")], input=json.dumps(context),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _drop(request: dict[str, Any], path: str, stem: str) -> None:
    parts = path.replace("*", stem, 1).split(".")
    node: Any = request
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)] if int(part) < len(node) else None
        else:
            node = node.get(part)
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def _numbers(node: Any) -> Any:
    """CloudFormation passes String/Number parameters as strings; the API gets numbers. Compare the numbers."""
    if isinstance(node, dict):
        return {k: float(v) if k in NUMBERS else _numbers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_numbers(v) for v in node]
    return node


def comparable(definition: dict[str, Any], schedule: dict[str, Any], stem: str) -> dict[str, Any]:
    request = copy.deepcopy({**definition, "schedule": schedule})
    for path in DELIBERATE:
        if path.startswith("schedule."):
            _drop(request["schedule"], path.removeprefix("schedule."), stem)
        else:
            _drop(request, path, stem)
    request["schedule"]["MonitoringScheduleConfig"].pop("MonitoringJobDefinition", None)
    return _numbers(request)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b))
                for d in (differences(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}".lstrip(".")))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}.{i}")]
    return [] if a == b else [f"{path}: ours {a!r}, SDK {b!r}"]


@pytest.mark.parametrize("monitor", list(MONITORS))
def test_job_definition_and_schedule_match_the_sdk_request(ours, sdk, monitor):
    """Every field of the SDK's Create<Type>JobDefinition and CreateMonitoringSchedule requests, except those in
    DELIBERATE: images, environment, inputs and attributes, ground truth, offsets, outputs, network, stopping."""
    stem = MONITORS[monitor]
    mine, theirs = ours["monitors"][monitor], sdk["monitors"][monitor]
    assert mine["definition"] is not None, f"staging does not enable {monitor}"
    ours_request = comparable(mine["definition"], mine["schedule"], stem)
    sdk_request = comparable(theirs["definition"], theirs["schedule"], stem)
    assert differences(ours_request, sdk_request) == []
    # what the comparison covered, so an empty request cannot pass
    assert {f"{stem}AppSpecification", f"{stem}JobInput", f"{stem}JobOutputConfig", "JobResources", "NetworkConfig",
            "RoleArn", "StoppingCondition"} <= set(sdk_request)


@pytest.mark.parametrize("monitor", ["model_bias", "model_explainability"])
def test_clarify_analysis_configuration_matches_the_sdk(ours, sdk, monitor):
    """The analysis_config.json we upload is the one the SDK uploads for the same settings, and both name the
    object analysis_config.json (issue 15, part 3)."""
    stem = MONITORS[monitor]
    mine, theirs = ours["monitors"][monitor], sdk["monitors"][monitor]
    assert differences(mine["analysis_config"], theirs["analysis_config"]) == []
    config_uri = mine["definition"][f"{stem}AppSpecification"]["ConfigUri"]
    assert posixpath.basename(config_uri) == posixpath.basename(theirs["analysis_config_key"]) == "analysis_config.json"
    assert posixpath.basename(theirs["definition"][f"{stem}AppSpecification"]["ConfigUri"]) == "analysis_config.json"


def test_images_match_the_sdk_in_every_region(ours, sdk):
    """The analyzer and Clarify images our Mappings give each region are the URIs the SDK retrieves there."""
    template = ours["resolver"].template
    image_of = {stem: template["Resources"][f"{stem}JobDefinition"]["Properties"][f"{stem}AppSpecification"]["ImageUri"]
                for stem in ("DataQuality", "ModelBias")}
    checked = 0
    for region, expected in sdk["images"].items():
        resolver = Resolver(template, ours["resolver"].values, region, ACCOUNT)
        assert resolver.resolve(image_of["DataQuality"]) == expected["model-monitor"], region
        if expected["clarify"] is None:
            assert region not in template["Mappings"]["ClarifyImage"], region
        else:
            assert resolver.resolve(image_of["ModelBias"]) == expected["clarify"], region
        checked += 1
    assert checked == len(template["Mappings"]["ModelMonitorImage"]) >= 30


def test_deliberate_differences_are_real_differences(ours, sdk):
    """Each DELIBERATE entry names a field where we do differ, so the list cannot keep stale excuses."""
    for path in DELIBERATE:
        for monitor, stem in MONITORS.items():
            mine = {**ours["monitors"][monitor]["definition"], "schedule": ours["monitors"][monitor]["schedule"]}
            theirs = {**sdk["monitors"][monitor]["definition"], "schedule": sdk["monitors"][monitor]["schedule"]}
            a, b = _at(mine, path, stem), _at(theirs, path, stem)
            if a is not None or b is not None:
                break
        else:
            pytest.fail(f"DELIBERATE[{path!r}] names a field neither side sets")
        assert a != b, f"{path}: no difference any more ({a!r}); remove it from DELIBERATE"


def _at(request: dict[str, Any], path: str, stem: str) -> Any:
    node: Any = request
    for part in path.replace("*", stem, 1).split("."):
        if isinstance(node, list):
            node = node[int(part)] if int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        if node is None:
            return None
    return node


def test_model_network_isolation_is_off_as_the_sdk_model_default_and_aws_require(built):
    """The SDK's Model defaults to enable_network_isolation=False; AWS requires it off for Clarify's shadow
    endpoint. Staging's churn, which runs the explainability monitor, deploys its model that way (issue 15, part 1)."""
    template, values = _parameter_values(built, "endpoint")
    model = Resolver(template, values, "eu-west-1", ACCOUNT).properties("Model")
    assert model["EnableNetworkIsolation"] == "false"
    assert model["VpcConfig"]["Subnets"] == DEPLOYED["subnet-ids"]


def test_the_sdk_script_refuses_the_network():
    """No request of the comparison can leave the machine: the script's first act is to disable sockets."""
    if not SDK_PYTHON.exists():
        pytest.fail("the SageMaker SDK is not installed; `make sdk-tools`", pytrace=False)
    probe = ("import runpy, socket, sys; sys.argv = ['x']; "
             f"runpy.run_path({str(REPO / 'tests' / 'sdk_requests.py')!r}, run_name='probe'); "
             "socket.create_connection(('127.0.0.1', 9))")
    result = subprocess.run([str(SDK_PYTHON), "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "must not reach the network" in result.stderr


def test_the_comparison_notices_one_changed_field(ours, sdk):
    """Negative control: one field changed on our side (Pipe instead of File input) is reported, by path."""
    mine, theirs = ours["monitors"]["data_quality"], sdk["monitors"]["data_quality"]
    changed = copy.deepcopy(mine["definition"])
    changed["DataQualityJobInput"]["EndpointInput"]["S3InputMode"] = "Pipe"
    found = differences(comparable(changed, mine["schedule"], "DataQuality"),
                        comparable(theirs["definition"], theirs["schedule"], "DataQuality"))
    assert found == ["DataQualityJobInput.EndpointInput.S3InputMode: ours 'Pipe', SDK 'File'"]
