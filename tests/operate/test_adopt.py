"""`make adopt` (mmtool.operate.adopt, mmtool.cli.adopt): Data Capture for an endpoint another tool deployed.

* the pure parts: the copied CreateEndpointConfig request, its name, the owner's snippets (the CloudFormation
  one linted by cfn-lint inside a real template);
* the whole command against the moto server. moto 5.2.5 has the endpoint, endpoint config, model and tag
  calls but no UpdateEndpoint; deployer/moto_server.py adds it (the update finished at once, as AWS ends it).
  moto also keeps only some EndpointConfig fields (variants, KmsKeyId, AsyncInferenceConfig, capture, tags),
  so the copy of the others (ExplainerConfig, ShadowProductionVariants, ...) is checked with a Stubber,
  which validates the request against the API's shapes;
* what moto cannot do at all (an update that goes Updating, then Failed; the restore; a refused
  UpdateEndpoint; a timeout) with botocore's Stubber and a fake clock: the exact calls are the point.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from deployer.moto_server import MOTO_ACCOUNT
from mmtool.cli import main
from mmtool.config.loader import load_params
from mmtool.errors import ToolError
from mmtool.operate import adopt
from mmtool.operate.adopt import COPIED_FIELDS, Waiter, config_name, copy_request, owner_snippets, run_adopt
from mmtool.operate.existing_endpoint import (
    ADOPTED_BY_TAG,
    ADOPTED_CONFIG_TAG,
    AdoptTarget,
    CaptureExpectations,
    ExistingEndpointError,
    check_endpoint,
    refuse_unready,
)
from mmtool.operate.facts import gather
from mmtool.operate.rules import explain

from .conftest import BUCKET, REGION, client, deploy_foundation_and_network, scratch
from .monitoring_env import GapStubber, clients, now_utc

NAME = "fraud-scoring-prod"
OLD = "fraud-scoring-prod-config-v7"
TARGET = AdoptTarget("fraud", NAME, "datacapture/fraud")
OWNER_ROLE = f"arn:aws:iam::{MOTO_ACCOUNT}:role/fraud-team-model"
VARIANTS = [{"VariantName": "AllTraffic", "ModelName": "fraud-xgb", "InitialInstanceCount": 2,
             "InstanceType": "ml.c5.xlarge", "InitialVariantWeight": 1.0}]


class Lines(list):
    def __call__(self, line: str) -> None:
        self.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def waiter(timeout: float = 3600) -> Waiter:
    clock = FakeClock()
    return Waiter(sleep=clock.sleep, clock=clock, poll=30, progress=60, timeout=timeout)


def expectations(key_arn: str) -> CaptureExpectations:
    return CaptureExpectations.of(TARGET, BUCKET, key_arn)


def owners_endpoint(server: Any, *, kms: str | None = "arn:aws:kms:eu-west-1:123456789012:key/owner-key",
                    capture: dict | None = None) -> None:
    """What the fraud team's own tool deployed: a model, a config without capture, the endpoint."""
    sagemaker = client("sagemaker", server)
    sagemaker.create_model(ModelName="fraud-xgb", ExecutionRoleArn=OWNER_ROLE,
                           PrimaryContainer={"Image": f"{MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud:3"})
    request: dict[str, Any] = {
        "EndpointConfigName": OLD, "ProductionVariants": VARIANTS,
        "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://fraud-team-bucket/async"}},
        "Tags": [{"Key": "team", "Value": "fraud"}, {"Key": "aws:cloudformation:stack-name", "Value": "fraud-prod"}],
    }
    if kms:
        request["KmsKeyId"] = kms
    if capture:
        request["DataCaptureConfig"] = capture
    sagemaker.create_endpoint_config(**request)
    sagemaker.create_endpoint(EndpointName=NAME, EndpointConfigName=OLD)


def dev(tmp_path) -> Any:
    paths = scratch(tmp_path / "repo")
    return load_params(paths.params / "dev.yaml", paths.root)


# ------------------------------------------------------------------ pure parts


def test_copied_fields_are_everything_create_endpoint_config_takes_but_name_capture_and_tags():
    """A field AWS adds to CreateEndpointConfig must be copied too, or adopt would silently drop it."""
    model = stub_client().meta.service_model
    create = set(model.operation_model("CreateEndpointConfig").input_shape.members)
    described = set(model.operation_model("DescribeEndpointConfig").output_shape.members)
    assert set(COPIED_FIELDS) == (create & described) - {"EndpointConfigName", "DataCaptureConfig", "Tags"}


def test_the_copy_keeps_every_field_and_replaces_only_the_capture():
    described = {
        "EndpointConfigName": OLD, "EndpointConfigArn": f"arn:aws:sagemaker:eu-west-1:1:endpoint-config/{OLD}",
        "CreationTime": "2026-11-01", "ProductionVariants": VARIANTS, "KmsKeyId": "arn:aws:kms:eu-west-1:1:key/k",
        "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://x/async"}},
        "ExplainerConfig": {"ClarifyExplainerConfig": {"ShapConfig": {"ShapBaselineConfig": {"MimeType": "text/csv"}}}},
        "ShadowProductionVariants": [{"VariantName": "Shadow", "ModelName": "fraud-xgb-next",
                                      "InitialInstanceCount": 1, "InstanceType": "ml.c5.xlarge"}],
        "EnableNetworkIsolation": True,
        "DataCaptureConfig": {"EnableCapture": False, "InitialSamplingPercentage": 5,
                              "DestinationS3Uri": "s3://elsewhere", "CaptureOptions": [{"CaptureMode": "Input"}]},
    }
    capture = adopt.capture_config(TARGET, expectations("arn:aws:kms:eu-west-1:1:key/ours"))
    request = copy_request(described, [{"Key": "team", "Value": "fraud"}, {"Key": "aws:cloudformation:logical-id",
                                                                             "Value": "Config"}], capture)
    body = {
        **{k: described[k] for k in ("ProductionVariants", "KmsKeyId", "AsyncInferenceConfig", "ExplainerConfig",
                                     "ShadowProductionVariants", "EnableNetworkIsolation")},
        "DataCaptureConfig": capture,
        "Tags": [{"Key": "team", "Value": "fraud"}],  # aws: tags are AWS's own; a request may not set them
    }
    assert request == {"EndpointConfigName": config_name(OLD, body), **body}
    stub_client = boto3.client("sagemaker", region_name=REGION, endpoint_url="http://127.0.0.1:9")
    with Stubber(stub_client) as stub:  # botocore validates the request against CreateEndpointConfig's shape
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:x/y"}, request)
        stub_client.create_endpoint_config(**request)
        stub.assert_no_pending_responses()


def test_the_capture_is_the_one_the_endpoint_stack_writes():
    capture = adopt.capture_config(AdoptTarget("fraud", NAME, "datacapture/fraud", 20), expectations("arn:k"))
    assert capture == {
        "EnableCapture": True, "InitialSamplingPercentage": 20,
        "DestinationS3Uri": f"s3://{BUCKET}/datacapture/fraud",  # no trailing slash
        "KmsKeyId": "arn:k", "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }


def test_the_new_name_is_deterministic_short_enough_and_never_stacks_suffixes():
    capture = adopt.capture_config(TARGET, expectations("arn:k"))
    name = config_name(OLD, capture)
    assert name == config_name(OLD, capture) and name.startswith(f"{OLD}-capture-") and len(name) == len(OLD) + 17
    assert config_name(OLD, {**capture, "InitialSamplingPercentage": 50}) != name
    # the whole content of the copy is in the name: another model or capture gives another name
    body = {"ProductionVariants": VARIANTS, "DataCaptureConfig": capture}
    other_model = {**body, "ProductionVariants": [{**VARIANTS[0], "ModelName": "fraud-xgb-2"}]}
    other_bucket = {**body, "DataCaptureConfig": {**capture, "DestinationS3Uri": "s3://someone-else/x"}}
    assert len({config_name(OLD, body), config_name(OLD, other_model), config_name(OLD, other_bucket)}) == 3
    longest = config_name("a" * 62 + "b", capture)
    assert len(longest) == 63 and longest.startswith("a" * 46 + "-capture-")
    cut = config_name("x" * 45 + "-" + "y" * 17, capture)  # shortened right after a '-'
    assert cut.startswith("x" * 45 + "-capture-") and len(cut) == 62
    again = config_name(name, {**capture, "InitialSamplingPercentage": 50})
    assert again.count("-capture-") == 1 and again.startswith(f"{OLD}-capture-")


def test_the_owners_snippets_carry_the_real_values():
    capture = adopt.capture_config(AdoptTarget("fraud", NAME, "datacapture/fraud", 30), expectations(
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
    snippets = owner_snippets(capture)
    assert set(snippets) == {"CloudFormation", "Terraform", "CDK"}
    assert yaml.safe_load(snippets["CloudFormation"]) == {"DataCaptureConfig": capture}
    terraform = snippets["Terraform"]
    for line in ("data_capture_config {", "  enable_capture              = true", "  initial_sampling_percentage = 30",
                 f'  destination_s3_uri          = "s3://{BUCKET}/datacapture/fraud"',
                 '    capture_mode = "Input"', '    capture_mode = "Output"',
                 '    csv_content_types  = ["text/csv"]', '    json_content_types = ["application/json"]'):
        assert line in terraform.splitlines()
    assert terraform.count("{") == terraform.count("}")
    cdk = snippets["CDK"]
    assert "captureOptions: [{ captureMode: \"Input\" }, { captureMode: \"Output\" }]," in cdk
    assert f'destinationS3Uri: "s3://{BUCKET}/datacapture/fraud",' in cdk and "initialSamplingPercentage: 30," in cdk


def test_the_cloudformation_snippet_is_lint_clean_in_a_real_endpoint_config():
    from cfnlint.api import ManualArgs, lint

    capture = adopt.capture_config(TARGET, expectations(
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
    properties = yaml.safe_load(owner_snippets(capture)["CloudFormation"])
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "fraud-xgb", "InitialInstanceCount": 1,
                                    "InstanceType": "ml.c5.xlarge", "InitialVariantWeight": 1}],
            "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            **properties}}},
    }
    # errors and warnings of the environment's region (the snippet goes into someone else's template, so the
    # project's own informational rules, which ask for our Metadata, do not apply)
    assert [str(m) for m in lint(json.dumps(template), config=ManualArgs(regions=[REGION]))] == []
    broken = {**properties["DataCaptureConfig"], "CaptureOptions": [{"CaptureMode": "Both"}]}
    template["Resources"]["Config"]["Properties"]["DataCaptureConfig"] = broken
    assert lint(json.dumps(template), config=ManualArgs(regions=[REGION]))  # the check can fail


# ------------------------------------------------------------------ against the moto server


def test_adopt_copies_the_config_adds_capture_updates_tags_and_prints_the_snippets(aws, tmp_path):
    key_arn = deploy_foundation_and_network(aws)
    owners_endpoint(aws)
    sagemaker = client("sagemaker", aws)
    out, answers = Lines(), []

    def ask(question: str) -> str:
        answers.append(question)
        return "yes"

    code = run_adopt(dev(tmp_path), clients(aws, sagemaker), TARGET, ask=ask, out=out, waiter=waiter())

    assert code == 0, out.text
    assert answers == [f"Adopt endpoint {NAME}? Only 'yes' is accepted: "]
    endpoint = sagemaker.describe_endpoint(EndpointName=NAME)
    new = endpoint["EndpointConfigName"]
    assert new.startswith(f"{OLD}-capture-") and endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=new)
    old = sagemaker.describe_endpoint_config(EndpointConfigName=OLD)
    assert config["ProductionVariants"] == old["ProductionVariants"] == VARIANTS
    assert config["KmsKeyId"] == old["KmsKeyId"] and config["AsyncInferenceConfig"] == old["AsyncInferenceConfig"]
    assert config["DataCaptureConfig"] == adopt.capture_config(TARGET, expectations(key_arn))
    assert check_endpoint(endpoint, config, expectations(key_arn)) == []
    assert sagemaker.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"] == [{"Key": "team", "Value": "fraud"}]
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]}
    assert tags == {ADOPTED_CONFIG_TAG: new, ADOPTED_BY_TAG: "churn-dev/fraud"}
    text = out.text
    plan_at = text.index(f"+ create endpoint config {new}, a copy of {OLD}:")
    assert "  - Data Capture is off (endpoint config fraud-scoring-prod-config-v7 has no DataCaptureConfig)" in text
    assert "    variants: AllTraffic (fraud-xgb, ml.c5.xlarge)" in text
    assert "    kept as they are: KmsKeyId, AsyncInferenceConfig; 1 tag(s)" in text
    assert "    not copied: the tags aws:cloudformation:stack-name (the aws: prefix is reserved to AWS)" in text
    assert f"the capture is written by {OWNER_ROLE}" in text
    assert plan_at < text.index(f"Endpoint {NAME} is InService on {new}")
    for tool in ("--- CloudFormation", "--- Terraform", "--- CDK", "--- IAM"):
        assert tool in text
    assert f'"arn:aws:s3:::{BUCKET}/datacapture/fraud/*"' in text and key_arn in text


def test_a_second_adopt_has_nothing_to_do_and_declining_changes_nothing(aws, tmp_path):
    deploy_foundation_and_network(aws)
    owners_endpoint(aws)
    sagemaker = client("sagemaker", aws)
    params = dev(tmp_path)
    out = Lines()
    assert run_adopt(params, clients(aws, sagemaker), TARGET, ask=lambda q: "no", out=out, waiter=waiter()) == 0
    assert out[-1] == "Nothing was changed."
    assert sagemaker.describe_endpoint(EndpointName=NAME)["EndpointConfigName"] == OLD
    assert [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]] == [OLD]

    assert run_adopt(params, clients(aws, sagemaker), TARGET, yes=True, out=Lines(), waiter=waiter()) == 0
    adopted = sagemaker.describe_endpoint(EndpointName=NAME)["EndpointConfigName"]
    again = Lines()
    assert run_adopt(params, clients(aws, sagemaker), TARGET, ask=lambda q: pytest.fail("asked"), out=again,
                     waiter=waiter()) == 0
    assert again[0].endswith(f"into s3://{BUCKET}/datacapture/fraud: nothing to do.")
    assert sagemaker.describe_endpoint(EndpointName=NAME)["EndpointConfigName"] == adopted


def test_an_endpoint_that_is_not_there_is_refused_with_the_fix(aws, tmp_path):
    deploy_foundation_and_network(aws)
    with pytest.raises(ExistingEndpointError) as error:
        run_adopt(dev(tmp_path), clients(aws, client("sagemaker", aws)), TARGET, yes=True, out=Lines(), waiter=waiter())
    assert str(error.value).splitlines() == [
        "cannot adopt endpoint fraud-scoring-prod (endpoints.fraud); nothing was changed:",
        "endpoint fraud-scoring-prod: does not exist (DescribeEndpoint: could not find it); fix: check "
        "endpoints.<key>.existing.endpoint_name and the account/region; monitoring needs the endpoint to be deployed first",
    ]


def test_the_plan_check_reads_each_existing_endpoint_and_refuses_before_adoption_only(aws, tmp_path):
    key_arn = deploy_foundation_and_network(aws)
    owners_endpoint(aws)
    sagemaker = client("sagemaker", aws)
    gone = AdoptTarget("old", "churn-legacy", "datacapture/old")
    found = adopt.check_existing(sagemaker, [TARGET, gone], BUCKET, key_arn, "dev")
    assert [(t.key, [p.check for p in problems]) for t, problems in found] == [
        ("fraud", ["capture-off"]), ("old", ["endpoint-missing"])]
    with pytest.raises(ExistingEndpointError) as error:
        refuse_unready(found)
    assert f"endpoint {NAME}: Data Capture is off" in str(error.value)
    assert "fix: run `make adopt ENV=dev ENDPOINT=fraud`" in str(error.value)

    run_adopt(dev(tmp_path), clients(aws, sagemaker), TARGET, yes=True, out=Lines(), waiter=waiter())
    refuse_unready(adopt.check_existing(sagemaker, [TARGET], BUCKET, key_arn, "dev"))  # ready now: no error


def test_status_reports_capture_turned_off_by_the_owners_next_deploy(aws, tmp_path):
    """adopt, then the owner deploys their template (a new config without capture) again: status says so."""
    deploy_foundation_and_network(aws)
    owners_endpoint(aws)
    sagemaker = client("sagemaker", aws)
    params = dev(tmp_path)
    run_adopt(params, clients(aws, sagemaker), TARGET, yes=True, out=Lines(), waiter=waiter())
    adopted = sagemaker.describe_endpoint(EndpointName=NAME)["EndpointConfigName"]
    stub_gaps = GapStubber(sagemaker, {"ListMonitoringSchedules"})  # moto has no monitoring schedules

    def existing_findings() -> list:
        # our own endpoint is not deployed in this test: schedules are looked for by name prefix only (none yet)
        stub_gaps.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": []},
                               {"NameContains": "churn-dev-"})
        with stub_gaps:
            facts = gather(clients(aws, sagemaker), params, now=now_utc(), hours=1, executions=1, existing=[TARGET])
        return [f for f in explain(facts) if f.subject == NAME]

    assert existing_findings() == []
    sagemaker.create_endpoint_config(EndpointConfigName=f"{OLD}-redeployed", ProductionVariants=VARIANTS)
    sagemaker.update_endpoint(EndpointName=NAME, EndpointConfigName=f"{OLD}-redeployed")
    [finding] = existing_findings()
    assert finding.rule == "capture-changed-since-adoption"
    assert finding.problem.startswith(f"`make adopt` gave endpoint {NAME} Data Capture with endpoint config {adopted}; "
                                      f"it now runs endpoint config {OLD}-redeployed instead, and: Data Capture is off")


# ------------------------------------------------------------------ what moto cannot do: Stubber


def stubbed_plan(key_arn: str = "arn:aws:kms:eu-west-1:123456789012:key/ours") -> adopt.AdoptPlan:
    expected = expectations(key_arn)
    config = {"EndpointConfigName": OLD, "ProductionVariants": VARIANTS}
    capture = adopt.capture_config(TARGET, expected)
    endpoint = {"EndpointName": NAME, "EndpointConfigName": OLD, "EndpointStatus": "InService",
                "EndpointArn": f"arn:aws:sagemaker:eu-west-1:{MOTO_ACCOUNT}:endpoint/{NAME}"}
    return adopt.AdoptPlan(TARGET, expected, endpoint, config, check_endpoint(endpoint, config, expected),
                           copy_request(config, [], capture), "prod")


def described(status: str, config: str, reason: str | None = None) -> dict:
    response = {"EndpointName": NAME, "EndpointArn": f"arn:aws:sagemaker:eu-west-1:{MOTO_ACCOUNT}:endpoint/{NAME}",
                "EndpointConfigName": config, "EndpointStatus": status,
                "CreationTime": "2026-11-01T00:00:00Z", "LastModifiedTime": "2026-12-01T00:00:00Z"}
    if reason:
        response["FailureReason"] = reason
    return response


def not_found(stub: Stubber, operation: str, params: dict) -> None:
    stub.add_client_error(operation, "ValidationException", "Could not find endpoint configuration 'x'.",
                          expected_params=params)


def stub_create_and_update(stub: Stubber, plan: adopt.AdoptPlan) -> None:
    stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:endpoint-config/n"},
                      plan.request)
    stub.add_response("update_endpoint", {"EndpointArn": described("Updating", OLD)["EndpointArn"]}, {
        "EndpointName": NAME, "EndpointConfigName": plan.new_config, "RetainAllVariantProperties": True,
        "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}]})


def stub_client(service: str = "sagemaker") -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url="http://127.0.0.1:9")


RECORD = "/churn/prod/adopt/fraud"


class Recorded:
    """A Journal over a stubbed SSM client: the record is written before the update and, when `cleared`, deleted once
    the outcome is settled; `done()` fails on a call that did not happen and returns the record written."""

    def __init__(self, *, cleared: bool):
        self.client = stub_client("ssm")
        self.written: list[dict] = []
        self.client.meta.events.register("provide-client-params.ssm.PutParameter",
                                         lambda params, **_: self.written.append(json.loads(params["Value"])))
        self.stub = Stubber(self.client)
        self.stub.add_response("put_parameter", {"Version": 1}, {
            "Name": RECORD, "Type": "String", "Overwrite": True, "Description": ANY, "Value": ANY})
        if cleared:
            self.stub.add_response("delete_parameter", {}, {"Name": RECORD})
        self.stub.activate()
        self.journal = adopt.Journal(self.client, RECORD)

    def done(self) -> dict:
        self.stub.assert_no_pending_responses()
        [written] = self.written
        return written


def journal_of(plan: adopt.AdoptPlan, *, cleared: bool) -> Recorded:
    return Recorded(cleared=cleared)


def test_waiting_shows_progress_until_in_service():
    plan, sagemaker, out = stubbed_plan(), stub_client(), Lines()
    record = journal_of(plan, cleared=False)
    with Stubber(sagemaker) as stub:
        stub_create_and_update(stub, plan)
        for status in ("Updating", "Updating", "Updating", "Updating"):
            stub.add_response("describe_endpoint", described(status, OLD), {"EndpointName": NAME})
        stub.add_response("describe_endpoint", described("InService", plan.new_config), {"EndpointName": NAME})
        final = adopt.apply(sagemaker, plan, REGION, waiter(), out, record.journal)
        stub.assert_no_pending_responses()
    # written before the update, kept until run_adopt has tagged the endpoint
    assert record.done() == {"endpoint": NAME, "previous_config": OLD, "new_config": plan.new_config,
                             "previous_fingerprint": adopt.fingerprint(plan.config), "started": ANY}
    assert final["EndpointConfigName"] == plan.new_config
    assert out[-3:] == [f"  0:00:00 {NAME}: Updating", f"  0:01:00 {NAME}: Updating", f"  0:02:00 {NAME}: InService"]


def test_a_failed_update_is_restored_to_the_previous_config_and_says_so():
    plan, sagemaker, out = stubbed_plan(), stub_client(), Lines()
    record = journal_of(plan, cleared=True)
    with Stubber(sagemaker) as stub:
        stub_create_and_update(stub, plan)
        stub.add_response("describe_endpoint", described("Updating", OLD), {"EndpointName": NAME})
        stub.add_response("describe_endpoint", described("Failed", plan.new_config, "Access denied for the capture"),
                          {"EndpointName": NAME})
        stub.add_response("update_endpoint", {"EndpointArn": described("Updating", OLD)["EndpointArn"]}, {
            "EndpointName": NAME, "EndpointConfigName": OLD, "RetainAllVariantProperties": True,
            "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}]})
        stub.add_response("describe_endpoint", described("Updating", OLD), {"EndpointName": NAME})
        stub.add_response("describe_endpoint", described("InService", OLD), {"EndpointName": NAME})
        with pytest.raises(ToolError) as error:
            adopt.apply(sagemaker, plan, REGION, waiter(), out, record.journal)
        stub.assert_no_pending_responses()
    record.done()
    assert str(error.value) == (
        f"the update of endpoint {NAME} to {plan.new_config} failed (Failed: Access denied for the capture); restored: "
        f"the endpoint is InService on its previous endpoint config {OLD}, as before")
    assert f"Restoring endpoint {NAME} to endpoint config {OLD}" in out


def test_a_restore_that_fails_too_says_the_state_and_the_command_to_restore_by_hand():
    plan, sagemaker, out = stubbed_plan(), stub_client(), Lines()
    record = journal_of(plan, cleared=False)
    with Stubber(sagemaker) as stub:
        stub_create_and_update(stub, plan)
        stub.add_response("describe_endpoint", described("Failed", plan.new_config, "boom"), {"EndpointName": NAME})
        stub.add_client_error("update_endpoint", "ValidationException", "Cannot update in-progress endpoint")
        stub.add_response("describe_endpoint", described("Failed", plan.new_config, "boom"), {"EndpointName": NAME})
        with pytest.raises(ToolError) as error:
            adopt.apply(sagemaker, plan, REGION, waiter(), out, record.journal)
        stub.assert_no_pending_responses()
    record.done()
    message = str(error.value)
    assert "Cannot update in-progress endpoint" in message
    assert f"the endpoint is Failed on endpoint config {plan.new_config} (boom)" in message
    assert (f"aws sagemaker update-endpoint --region {REGION} --endpoint-name {NAME} --endpoint-config-name {OLD} "
            "--retain-all-variant-properties --exclude-retained-variant-properties "
            "VariantPropertyType=DataCaptureConfig") in message


def test_a_refused_update_changes_nothing_and_deletes_the_new_config():
    plan, sagemaker = stubbed_plan(), stub_client()
    record = journal_of(plan, cleared=True)
    with Stubber(sagemaker) as stub:
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:endpoint-config/n"},
                          plan.request)
        stub.add_client_error("update_endpoint", "ValidationException",
                              "The endpoint is being updated; wait for it to be InService")
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": plan.new_config})
        with pytest.raises(ToolError) as error:
            adopt.apply(sagemaker, plan, REGION, waiter(), Lines(), record.journal)
        stub.assert_no_pending_responses()
    record.done()
    message = str(error.value)
    assert "The endpoint is being updated; wait for it to be InService" in message
    assert f"the endpoint was not changed: it stays on {OLD}; the new endpoint config {plan.new_config} was deleted again" in message


def test_sagemakers_own_rollback_is_reported_without_a_second_restore():
    plan, sagemaker = stubbed_plan(), stub_client()
    record = journal_of(plan, cleared=True)
    with Stubber(sagemaker) as stub:
        stub_create_and_update(stub, plan)
        stub.add_response("describe_endpoint", described("RollingBack", plan.new_config), {"EndpointName": NAME})
        stub.add_response("describe_endpoint", described("InService", OLD, "health check failed"), {"EndpointName": NAME})
        with pytest.raises(ToolError) as error:
            adopt.apply(sagemaker, plan, REGION, waiter(), Lines(), record.journal)
        stub.assert_no_pending_responses()
    record.done()
    assert str(error.value).startswith(
        f"the update of endpoint {NAME} failed: health check failed; SageMaker rolled it back: it is InService on its "
        f"previous endpoint config {OLD}, without our Data Capture.")


def test_a_timeout_leaves_the_update_running_and_says_what_to_do():
    plan, sagemaker = stubbed_plan(), stub_client()
    record = journal_of(plan, cleared=False)
    with Stubber(sagemaker) as stub:
        stub_create_and_update(stub, plan)
        for _ in range(3):
            stub.add_response("describe_endpoint", described("Updating", OLD), {"EndpointName": NAME})
        with pytest.raises(ToolError) as error:
            adopt.apply(sagemaker, plan, REGION, waiter(timeout=60), Lines(), record.journal)
        stub.assert_no_pending_responses()
    assert record.done()["previous_config"] == OLD  # kept: the next run finishes or restores it
    assert str(error.value).startswith(f"endpoint {NAME} is still Updating after 0:01:00; the update goes on in AWS.")
    assert "run `make adopt ENV=prod ENDPOINT=fraud` again" in str(error.value)


# ------------------------------------------------------------------ the command line


def test_the_cli_needs_the_endpoint_and_a_fleet_entry(tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    assert main(["adopt", "--env", "dev"], paths) == 2
    assert capsys.readouterr().err == "--env and --endpoint are required: make adopt ENV=prod ENDPOINT=fraud\n"
    assert main(["adopt", "--env", "dev", "--endpoint", "fraud"], paths) == 2
    assert "params/dev.yaml: has no endpoints: section" in capsys.readouterr().err


def test_the_cli_adopts_the_fleet_entry_with_yes(aws, tmp_path, capsys, monkeypatch):
    deploy_foundation_and_network(aws)
    owners_endpoint(aws)
    sagemaker = client("sagemaker", aws)
    paths = scratch(tmp_path / "repo")
    monkeypatch.setattr("mmtool.cli.adopt.find_target", lambda params, key: TARGET if key == "fraud" else None)
    monkeypatch.setattr("mmtool.operate.awsenv.connect", lambda params, **_: clients(aws, sagemaker))
    monkeypatch.setattr("builtins.input", lambda *_: pytest.fail("asked despite --yes"))

    assert main(["adopt", "--env", "dev", "--endpoint", "fraud", "--yes"], paths) == 0, capsys.readouterr().err
    assert sagemaker.describe_endpoint(EndpointName=NAME)["EndpointConfigName"].startswith(f"{OLD}-capture-")
    assert "--- Terraform" in capsys.readouterr().out
