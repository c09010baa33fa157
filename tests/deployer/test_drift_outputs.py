"""drift (moto has no drift detection: botocore Stubber with responses shaped like CloudFormation's)
and outputs (moto server)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.stub import Stubber

from .conftest import make_clients, run
from .envs import foundation_env, full_env

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/churn-test-foundation/0f0e0d0c"


@pytest.fixture
def stubbed():
    clients = make_clients("http://stubbed.invalid")
    cf, sts = Stubber(clients.cloudformation), Stubber(clients.sts)
    cf.activate()
    sts.activate()
    sts.add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci", "UserId": "AIDA"})
    yield clients, cf
    cf.assert_no_pending_responses()
    cf.deactivate()
    sts.deactivate()


def expect_detection(cf: Stubber, name: str, final: str, drifts: list[dict]) -> None:
    cf.add_response("describe_stacks", {"Stacks": [{"StackId": STACK_ID, "StackName": name, "CreationTime": NOW,
                                                     "StackStatus": "CREATE_COMPLETE"}]}, {"StackName": name})
    cf.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-1"}, {"StackName": name})
    cf.add_response("describe_stack_drift_detection_status", {
        "StackId": STACK_ID, "StackDriftDetectionId": "d-1", "DetectionStatus": "DETECTION_IN_PROGRESS", "Timestamp": NOW},
        {"StackDriftDetectionId": "d-1"})
    cf.add_response("describe_stack_drift_detection_status", {
        "StackId": STACK_ID, "StackDriftDetectionId": "d-1", "DetectionStatus": "DETECTION_COMPLETE",
        "StackDriftStatus": final, "DriftedStackResourceCount": len(drifts), "Timestamp": NOW},
        {"StackDriftDetectionId": "d-1"})
    cf.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": drifts},
                    {"StackName": name, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]})


BUCKET_DRIFT = {
    "StackId": STACK_ID,
    "LogicalResourceId": "Bucket",
    "PhysicalResourceId": "churn-test-foundation-bucket-1",
    "ResourceType": "AWS::S3::Bucket",
    "ExpectedProperties": json.dumps({"VersioningConfiguration": {"Status": "Enabled"}}),
    "ActualProperties": json.dumps({"VersioningConfiguration": {"Status": "Suspended"}}),
    "PropertyDifferences": [{"PropertyPath": "/VersioningConfiguration/Status", "ExpectedValue": "Enabled",
                             "ActualValue": "Suspended", "DifferenceType": "NOT_EQUAL"}],
    "StackResourceDriftStatus": "MODIFIED",
    "Timestamp": NOW,
}


def test_drift_table_lists_drifted_resources_and_properties(tmp_path, stubbed):
    clients, cf = stubbed
    env = foundation_env(tmp_path)
    expect_detection(cf, env.stack_name("foundation"), "DRIFTED", [BUCKET_DRIFT])

    result = run("drift", env.manifest_path, clients)

    assert result.code == 5
    assert "churn-test-foundation: DRIFTED" in result.out
    row = next(line for line in result.out.splitlines() if "/VersioningConfiguration/Status" in line)
    for cell in ("churn-test-foundation", "Bucket", "AWS::S3::Bucket", "MODIFIED", "NOT_EQUAL", "Enabled", "Suspended"):
        assert cell in row


def test_drift_in_sync_exits_0_and_json(tmp_path, stubbed, capsys):
    clients, cf = stubbed
    env = foundation_env(tmp_path)
    expect_detection(cf, env.stack_name("foundation"), "IN_SYNC", [])

    result = run("drift", env.manifest_path, clients, json_output=True)

    assert result.code == 0
    assert json.loads(capsys.readouterr().out) == [
        {"stack": "churn-test-foundation", "status": "IN_SYNC", "reason": None, "resources": []}]


def test_outputs_as_json(tmp_path, clients, capsys):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    capsys.readouterr()

    result = run("outputs", env.manifest_path, clients, json_output=True)

    assert result.code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"foundation", "network", "alarms", "app"}
    assert data["foundation"]["BucketName"].startswith("churn-test-foundation-bucket")
    assert data["network"]["JobSecurityGroupId"].startswith("sg-")


def test_outputs_table_marks_stacks_not_deployed(tmp_path, clients):
    env = full_env(tmp_path)
    result = run("outputs", env.manifest_path, clients)
    assert result.code == 0
    assert "churn-test-foundation: not deployed" in result.out
