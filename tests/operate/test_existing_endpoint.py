"""The checks of an endpoint we did not deploy (mmtool.operate.existing_endpoint), the status rules built on
them (mmtool.operate.rules: capture-changed-since-adoption, existing-endpoint-not-ready) and the adapter from
the fleet model.

Pure functions over hand-written DescribeEndpoint / DescribeEndpointConfig responses (shaped as the API
returns them): no AWS. Each check has a response that makes it fire and the healthy response keeps it quiet.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from mmtool.operate import rules
from mmtool.operate.existing_endpoint import (
    ADOPTED_CONFIG_TAG,
    AdoptTarget,
    CaptureExpectations,
    ExistingEndpointError,
    ExistingEndpointFacts,
    adopt_command,
    check_endpoint,
    check_explainability_model,
    existing_targets,
    find_target,
    refuse_unready,
    target_from_fleet,
)
from mmtool.operate.facts import EndpointFacts, Facts

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXPECTED = CaptureExpectations("churn-staging-bucket", "datacapture/fraud", KEY)
FIX = "make adopt ENV=staging ENDPOINT=fraud"
ENDPOINT = {
    "EndpointName": "fraud-scoring-prod",
    "EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud-scoring-prod",
    "EndpointConfigName": "fraud-scoring-prod-config-v7",
    "EndpointStatus": "InService",
    "DataCaptureConfig": {"EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 100,
                          "DestinationS3Uri": "s3://churn-staging-bucket/datacapture/fraud", "KmsKeyId": KEY},
}
CAPTURING = {
    "EndpointConfigName": "fraud-scoring-prod-config-v7",
    "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "fraud-xgb", "InitialInstanceCount": 2,
                            "InstanceType": "ml.c5.xlarge"}],
    "DataCaptureConfig": {
        "EnableCapture": True, "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://churn-staging-bucket/datacapture/fraud", "KmsKeyId": KEY,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    },
}


def config(**capture_changes) -> dict:
    result = copy.deepcopy(CAPTURING)
    for name, value in capture_changes.items():
        if value is None:
            result["DataCaptureConfig"].pop(name, None)
        else:
            result["DataCaptureConfig"][name] = value
    return result


def checks(endpoint=ENDPOINT, cfg=None, expected=EXPECTED) -> list[str]:
    return [p.check for p in check_endpoint(endpoint, CAPTURING if cfg is None else cfg, expected, adopt=FIX)]


def test_an_endpoint_that_captures_into_our_prefix_with_our_key_passes():
    assert check_endpoint(ENDPOINT, CAPTURING, EXPECTED, adopt=FIX) == []


def test_a_deeper_prefix_under_ours_is_readable_and_input_and_output_counts_as_both():
    cfg = config(DestinationS3Uri="s3://churn-staging-bucket/datacapture/fraud/v2",
                 CaptureOptions=[{"CaptureMode": "InputAndOutput"}])
    assert checks(cfg=cfg) == []


def test_the_key_may_be_named_by_its_id():
    assert checks(cfg=config(KmsKeyId="1234abcd-12ab-34cd-56ef-1234567890ab")) == []


def test_a_missing_endpoint_is_one_problem_with_the_fix():
    problems = check_endpoint(None, None, EXPECTED, adopt=FIX)
    assert [p.check for p in problems] == ["endpoint-missing"]
    assert problems[0].line("fraud-scoring-prod") == (
        "endpoint fraud-scoring-prod: does not exist (DescribeEndpoint: could not find it); fix: check "
        "endpoints.<key>.existing.endpoint_name and the account/region; monitoring needs the endpoint to be "
        "deployed first")


@pytest.mark.parametrize("status, fix", [
    ("Updating", "wait until it is InService and run the command again"),
    ("Failed", "its owner must repair it (CloudWatch logs /aws/sagemaker/Endpoints/fraud-scoring-prod); only an "
               "InService endpoint captures data"),
])
def test_an_endpoint_not_in_service(status, fix):
    endpoint = {**ENDPOINT, "EndpointStatus": status, "FailureReason": "model container crashed"}
    problems = check_endpoint(endpoint, CAPTURING, EXPECTED, adopt=FIX)
    assert [(p.check, p.problem, p.fix) for p in problems] == [
        ("endpoint-not-in-service", f"is {status} (model container crashed), not InService", fix)]


def test_a_deleted_endpoint_config():
    problems = check_endpoint(ENDPOINT, None, EXPECTED, adopt=FIX)
    assert [p.check for p in problems] == ["config-missing"]
    assert "fraud-scoring-prod-config-v7 no longer exists" in problems[0].problem


def test_no_data_capture_config_at_all():
    cfg = {k: v for k, v in CAPTURING.items() if k != "DataCaptureConfig"}
    problems = check_endpoint(ENDPOINT, cfg, EXPECTED, adopt=FIX)
    assert [(p.check, p.fix) for p in problems] == [("capture-off", f"run `{FIX}`")]
    assert problems[0].problem == ("Data Capture is off (endpoint config fraud-scoring-prod-config-v7 has no "
                                   "DataCaptureConfig), so monitoring jobs get no data")


@pytest.mark.parametrize("changes, endpoint_changes, expected", [
    ({"EnableCapture": False}, {}, ["capture-off"]),
    ({}, {"DataCaptureConfig": {"CaptureStatus": "Stopped"}}, ["capture-stopped"]),
    ({"InitialSamplingPercentage": 0}, {}, ["sampling-zero"]),
    ({"CaptureOptions": [{"CaptureMode": "Input"}]}, {}, ["capture-modes"]),
    ({"DestinationS3Uri": "s3://churn-staging-bucket/datacapture/fraud/"}, {}, ["destination-trailing-slash"]),
    ({"DestinationS3Uri": "s3://fraud-team-bucket/capture"}, {}, ["destination-elsewhere"]),
    ({"DestinationS3Uri": "s3://churn-staging-bucket/datacapture/fraudulent"}, {}, ["destination-elsewhere"]),
    ({"DestinationS3Uri": "s3://churn-staging-bucket/datacapture/churn"}, {}, ["destination-elsewhere"]),
    ({"CaptureContentTypeHeader": None}, {}, ["content-types"]),
    ({"CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}, {}, ["content-types"]),
    ({"KmsKeyId": None}, {}, ["kms-key"]),
    ({"KmsKeyId": "alias/fraud"}, {}, ["kms-key"]),
    ({"KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab"}, {}, ["kms-key"]),
])
def test_each_capture_problem(changes, endpoint_changes, expected):
    assert checks(endpoint={**ENDPOINT, **endpoint_changes}, cfg=config(**changes)) == expected


def test_the_problems_say_what_and_where():
    cfg = config(DestinationS3Uri="s3://fraud-team-bucket/capture", CaptureOptions=[{"CaptureMode": "Output"}],
                 CaptureContentTypeHeader={"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/jsonlines"]})
    lines = [p.line("fraud-scoring-prod") for p in check_endpoint(ENDPOINT, cfg, EXPECTED, adopt=FIX)]
    assert lines == [
        "endpoint fraud-scoring-prod: Data Capture does not record the Input (CaptureOptions); the monitor needs both "
        f"requests and responses; fix: run `{FIX}`",
        "endpoint fraud-scoring-prod: Data Capture writes to s3://fraud-team-bucket/capture, which our monitoring role "
        "may not read; it reads only s3://churn-staging-bucket/datacapture/fraud; fix: run "
        f"`{FIX}` (capture moves to our bucket)",
        "endpoint fraud-scoring-prod: the content types application/json are not listed in CaptureContentTypeHeader, "
        "so they are captured base64-encoded and the analyzer cannot parse them; fix: run "
        f"`{FIX}`",
    ]


def test_the_content_types_are_those_our_capture_settings_list():
    expected = CaptureExpectations("churn-staging-bucket", "datacapture/fraud", KEY, ("text/csv",),
                                   ("application/json", "application/jsonlines"))
    assert checks(expected=expected) == ["content-types"]


def test_the_plan_refuses_with_one_line_per_problem():
    fraud = AdoptTarget("fraud", "fraud-scoring-prod", "datacapture/fraud")
    churn = AdoptTarget("churnold", "churn-legacy", "datacapture/churnold")
    found = [(fraud, check_endpoint(None, None, EXPECTED, adopt=adopt_command("staging", "fraud"))),
             (churn, check_endpoint({**ENDPOINT, "EndpointName": "churn-legacy"}, config(KmsKeyId=None), EXPECTED,
                                    adopt=adopt_command("staging", "churnold")))]
    with pytest.raises(ExistingEndpointError) as error:
        refuse_unready(found)
    lines = str(error.value).splitlines()
    assert lines[0] == "monitoring would fail for these existing endpoints, so no schedule is created for them:"
    assert lines[1].startswith("endpoint fraud-scoring-prod: does not exist")
    assert lines[2].startswith("endpoint churn-legacy: Data Capture names no KmsKeyId")
    assert lines[2].endswith("fix: run `make adopt ENV=staging ENDPOINT=churnold`")
    assert len(lines) == 3
    refuse_unready([(fraud, [])])  # nothing to refuse


# ------------------------------------------------------------------ the model of the explainability monitor

EXPLAINED = AdoptTarget("fraud", "fraud-scoring-prod", "datacapture/fraud", explained_model="fraud-xgb")
OPEN_MODEL = {"ModelName": "fraud-xgb", "EnableNetworkIsolation": False}


def model_checks(cfg=CAPTURING, model=OPEN_MODEL, target=EXPLAINED) -> list[str]:
    return [p.check for p in check_explainability_model(target, cfg, model)]


def test_the_named_model_served_without_isolation_passes_and_nothing_is_checked_with_the_monitor_off():
    assert model_checks() == []
    assert model_checks(model={"ModelName": "fraud-xgb"}) == []  # no EnableNetworkIsolation: off
    off = AdoptTarget("fraud", "fraud-scoring-prod", "datacapture/fraud")
    assert model_checks(target=off, model=None, cfg={"ProductionVariants": []}) == []
    assert model_checks(cfg=None) == []  # config-missing is check_endpoint's


def test_the_model_must_be_the_one_the_primary_variant_serves():
    problems = check_explainability_model(replace(EXPLAINED, explained_model="fraud-xgb-v1"), CAPTURING, OPEN_MODEL)
    assert [(p.check, p.fix) for p in problems] == [("model-variant", "set endpoints.fraud.existing.model_name: fraud-xgb")]
    assert "production variant AllTraffic of endpoint config fraud-scoring-prod-config-v7 serves model fraud-xgb" in \
        problems[0].problem
    # AllTraffic wins over the first variant; without it, the first variant
    two = copy.deepcopy(CAPTURING)
    two["ProductionVariants"] = [{"VariantName": "Canary", "ModelName": "fraud-xgb-canary"},
                                 {"VariantName": "AllTraffic", "ModelName": "fraud-xgb"}]
    assert model_checks(cfg=two) == []
    two["ProductionVariants"][1]["VariantName"] = "Main"
    assert model_checks(cfg=two) == ["model-variant"]


def test_a_variant_without_a_model_a_missing_model_and_an_isolated_model_are_problems():
    components = copy.deepcopy(CAPTURING)
    components["ProductionVariants"][0].pop("ModelName")  # an endpoint of inference components
    assert model_checks(cfg=components) == ["model-variant"]
    assert model_checks(model=None) == ["model-missing"]
    [isolated] = check_explainability_model(EXPLAINED, CAPTURING, {**OPEN_MODEL, "EnableNetworkIsolation": True})
    assert isolated.check == "model-network-isolation"
    assert "disable endpoints.fraud.monitoring.model_explainability" in isolated.fix
    # a wrong name and an isolated model: both, in the order of CHECKS
    assert model_checks(target=replace(EXPLAINED, explained_model="x"), model={"EnableNetworkIsolation": True}) == [
        "model-variant", "model-network-isolation"]


# ------------------------------------------------------------------ the fleet adapter (contract of issue 13)


class FleetEntry:
    """The contract's FleetEndpoint API as 13a provides it: key, existing, endpoint_name(), capture_prefix()."""

    def __init__(self, key, existing_name=None):
        self.key = key
        self.existing = None if existing_name is None else type("ExistingEndpoint", (), {"endpoint_name": existing_name})()

    def endpoint_name(self, params):
        return self.existing.endpoint_name if self.existing else f"{params.project}-{params.environment}-{self.key}"

    def capture_prefix(self, params):
        return f"datacapture/{self.key}"


class FleetParams:
    project, environment = "churn", "staging"

    def fleet(self):
        return [FleetEntry("churn"), FleetEntry("fraud", "fraud-scoring-prod")]


def test_the_adapter_takes_name_and_prefix_from_the_fleet_entry():
    target = target_from_fleet(FleetParams(), FleetEntry("fraud", "fraud-scoring-prod"))
    assert target == AdoptTarget("fraud", "fraud-scoring-prod", "datacapture/fraud", 100, ("text/csv",),
                                 ("application/json",))
    assert existing_targets(FleetParams()) == [target]
    assert find_target(FleetParams(), "fraud") == target


def test_the_adapter_takes_the_entrys_resolved_capture_settings():
    from mmtool.config.params import DataCaptureSettings

    entry = FleetEntry("fraud", "fraud-scoring-prod")
    entry.data_capture = DataCaptureSettings(sampling_percentage=20, json_content_types=["application/jsonlines"])
    target = target_from_fleet(FleetParams(), entry)
    assert (target.sampling_percentage, target.json_content_types) == (20, ("application/jsonlines",))


def test_the_adapter_names_the_explained_model_only_when_the_monitor_is_enabled():
    from mmtool.config.params import ExistingEndpoint, MonitoringSettings

    entry = FleetEntry("fraud", "fraud-scoring-prod")
    entry.existing = ExistingEndpoint(endpoint_name="fraud-scoring-prod", model_name="fraud-xgb")
    entry.monitoring = MonitoringSettings()
    assert target_from_fleet(FleetParams(), entry).explained_model is None
    entry.monitoring = MonitoringSettings.model_validate({"model_explainability": {"enabled": True}})
    assert target_from_fleet(FleetParams(), entry).explained_model == "fraud-xgb"


def test_the_adapter_refuses_unknown_and_created_endpoints_and_pre_fleet_params():
    with pytest.raises(Exception, match=r"endpoints.nope: no such endpoint \(known: churn, fraud\)"):
        find_target(FleetParams(), "nope")
    with pytest.raises(Exception, match="is created by this project"):
        find_target(FleetParams(), "churn")

    class Legacy:
        environment = "dev"

    assert existing_targets(Legacy()) == []
    with pytest.raises(Exception, match="params/dev.yaml: has no endpoints: section"):
        find_target(Legacy(), "fraud")


# ------------------------------------------------------------------ the status rules

NOW = datetime(2026, 11, 24, 10, 25, tzinfo=timezone.utc)


def status_facts(existing: ExistingEndpointFacts) -> Facts:
    own = EndpointFacts(name="churn-staging", name_source="ssm", found=True, status="InService", config_name="c",
                        capture_enabled=True, sampling_percentage=100, destination="s3://churn-staging-bucket/datacapture",
                        variants=["AllTraffic"])
    return Facts("churn", "staging", "eu-west-1", NOW, 24, own, [], [], "churn-staging-bucket", [existing])


def existing_facts(endpoint=ENDPOINT, cfg=CAPTURING, tags=None) -> ExistingEndpointFacts:
    return ExistingEndpointFacts(AdoptTarget("fraud", "fraud-scoring-prod", "datacapture/fraud"), EXPECTED,
                                 endpoint, cfg, tags or {})


def existing_findings(facts: Facts) -> list[rules.Finding]:
    return [f for f in rules.explain(facts) if f.subject == "fraud-scoring-prod"]


def test_an_adopted_endpoint_still_capturing_has_no_finding():
    facts = status_facts(existing_facts(tags={ADOPTED_CONFIG_TAG: "fraud-scoring-prod-config-v7"}))
    assert existing_findings(facts) == []


def test_capture_turned_off_since_adoption_by_the_owners_redeploy():
    redeployed = {**ENDPOINT, "EndpointConfigName": "fraud-scoring-prod-config-v8"}
    without = {k: v for k, v in CAPTURING.items() if k != "DataCaptureConfig"} | {
        "EndpointConfigName": "fraud-scoring-prod-config-v8"}
    facts = status_facts(existing_facts(redeployed, without, {ADOPTED_CONFIG_TAG: "fraud-scoring-prod-config-v7-capture-0a1b2c3d"}))
    [finding] = existing_findings(facts)
    assert (finding.rule, finding.severity) == ("capture-changed-since-adoption", "error")
    assert finding.problem == (
        "`make adopt` gave endpoint fraud-scoring-prod Data Capture with endpoint config "
        "fraud-scoring-prod-config-v7-capture-0a1b2c3d; it now runs endpoint config fraud-scoring-prod-config-v8 "
        "instead, and: Data Capture is off (endpoint config fraud-scoring-prod-config-v8 has no DataCaptureConfig), "
        "so monitoring jobs get no data")
    assert finding.fix.startswith("Run `make adopt ENV=staging ENDPOINT=fraud` again")


def test_capture_pointed_elsewhere_since_adoption():
    cfg = config(DestinationS3Uri="s3://fraud-team-bucket/capture")
    facts = status_facts(existing_facts(cfg=cfg, tags={ADOPTED_CONFIG_TAG: "fraud-scoring-prod-config-v7"}))
    [finding] = existing_findings(facts)
    assert finding.rule == "capture-changed-since-adoption"
    assert "that config was changed, and: Data Capture writes to s3://fraud-team-bucket/capture" in finding.problem


def test_an_existing_endpoint_never_adopted_is_not_ready():
    facts = status_facts(existing_facts(cfg=config(KmsKeyId=None)))
    [finding] = existing_findings(facts)
    assert (finding.rule, finding.severity) == ("existing-endpoint-not-ready", "error")
    assert finding.problem.startswith("endpoint fraud-scoring-prod (endpoints.fraud): Data Capture names no KmsKeyId")
    assert finding.fix == "run `make adopt ENV=staging ENDPOINT=fraud`"


def test_an_adopted_endpoint_that_was_deleted_is_reported_once():
    facts = status_facts(existing_facts(endpoint=None, cfg=None, tags={}))
    assert [f.rule for f in existing_findings(facts)] == ["existing-endpoint-not-ready"]


def test_status_reports_an_explained_model_the_owner_changed_since_the_plan():
    """The owner redeployed with network isolation on: `make status` says so (the plan checked it only once)."""
    fine = replace(existing_facts(tags={ADOPTED_CONFIG_TAG: "fraud-scoring-prod-config-v7"}), target=EXPLAINED,
                   model=OPEN_MODEL)
    assert existing_findings(status_facts(fine)) == []
    isolated = replace(fine, model={**OPEN_MODEL, "EnableNetworkIsolation": True})
    [finding] = existing_findings(replace(status_facts(isolated), key="fraud", scope="churn-staging-fraud"))
    assert (finding.rule, finding.severity) == ("explained-model-unfit", "error")
    assert finding.problem.startswith("endpoint fraud-scoring-prod (endpoints.fraud): ")
    assert "network isolation" in finding.problem and finding.fix.endswith(
        "; then `make deploy ENV=staging ENDPOINT=fraud`")
    gone = replace(fine, model=None)
    assert [f.rule for f in existing_findings(status_facts(gone))] == ["explained-model-unfit"]


def test_status_reads_the_explained_model_only_when_the_monitor_is_on():
    """The exact calls (Stubber refuses any other): DescribeModel only when the explainability monitor is on."""
    import boto3
    from botocore.stub import Stubber

    from mmtool.operate.facts import read_existing_endpoint

    def calls(target, model: bool):
        client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        with Stubber(client) as stub:
            stub.add_response("describe_endpoint", {**ENDPOINT, "CreationTime": NOW, "LastModifiedTime": NOW},
                              {"EndpointName": "fraud-scoring-prod"})
            stub.add_response("describe_endpoint_config", {**CAPTURING, "CreationTime": NOW,
                                                           "EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:endpoint-config/c"},
                              {"EndpointConfigName": ENDPOINT["EndpointConfigName"]})
            stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ENDPOINT["EndpointArn"]})
            if model:
                stub.add_response("describe_model", {**OPEN_MODEL, "ModelArn": "arn:aws:sagemaker:eu-west-1:1:model/x",
                                                     "CreationTime": NOW}, {"ModelName": "fraud-xgb"})
            facts = read_existing_endpoint(client, target, EXPECTED)
            stub.assert_no_pending_responses()
        return facts

    assert calls(replace(EXPLAINED, explained_model=None), model=False).model is None
    assert calls(EXPLAINED, model=True).model["ModelName"] == "fraud-xgb"
