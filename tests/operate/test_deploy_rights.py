"""`make status` explains a deploy refused a right (rule deploy-rights-missing): CloudFormation's bare
GeneralServiceException or AccessDenied in the stack events of the environment's stacks, and which permission is
likely missing. Against tests/moto_server.py (the deploy tests' moto server), whose test-only control puts a failed,
rolled-back update and its stack events into moto's CloudFormation, which never fails an operation itself."""

from __future__ import annotations

import json
import os
import sys

import boto3
import pytest

from deployer.moto_server import MotoServer
from mmtool.operate import rules, status
from mmtool.operate.stack_failures import ResourceFailure, StackFailure, read_stack_failures

from .conftest import REGION, REPO, deploy_foundation_and_network
from .monitoring_env import clients, console, create_dq_definition, deploy_endpoint, expect_discovery, now_utc, \
    sagemaker_client
from .test_status import dev_params

STACK = "churn-dev-monitoring"
GENERAL = ("Resource handler returned message: \"Error occurred during operation 'CREATE'.\" (RequestToken: "
           "3f7c1b9e-0d5a-4c1e-9f2b-7a6e5d4c3b2a, HandlerErrorCode: GeneralServiceException)")
PASS_ROLE = ("Resource handler returned message: \"User: arn:aws:sts::123456789012:assumed-role/deployer/ci is not "
             "authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/churn-dev-monitoring "
             "because no identity-based policy allows the iam:PassRole action\" (HandlerErrorCode: AccessDenied)")


@pytest.fixture(scope="module")
def server():
    with MotoServer(command=[sys.executable, str(REPO / "tests" / "moto_server.py")],
                    env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}) as moto:
        yield moto


@pytest.fixture
def aws(server, monkeypatch):
    server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    return server


def failed_update(server: MotoServer, reason: str, resource_type: str = "AWS::SageMaker::DataQualityJobDefinition") -> None:
    """The monitoring stack, deployed once, then an update that CloudFormation rolled back (as AWS records it)."""
    cloudformation = boto3.client("cloudformation", region_name=REGION, endpoint_url=server.url)
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps({"Resources": {"Revision": {
        "Type": "AWS::SSM::Parameter", "Properties": {"Name": "/churn/dev/monitoring/revision", "Type": "String",
                                                      "Value": "1"}}}}))
    events = [
        {"logical_id": "Revision", "type": "AWS::SSM::Parameter", "status": "UPDATE_FAILED",
         "reason": "an older failure, before the last deploy: not reported"},
        {"logical_id": STACK, "type": "AWS::CloudFormation::Stack", "status": "UPDATE_IN_PROGRESS",
         "reason": "User Initiated"},
        {"logical_id": "DataQualityJobDefinition", "type": resource_type, "status": "CREATE_FAILED", "reason": reason},
        {"logical_id": "DataQualitySchedule", "type": "AWS::SageMaker::MonitoringSchedule", "status": "CREATE_FAILED",
         "reason": "Resource creation cancelled"},
        {"logical_id": STACK, "type": "AWS::CloudFormation::Stack", "status": "UPDATE_ROLLBACK_IN_PROGRESS",
         "reason": "The following resource(s) failed to create: [DataQualityJobDefinition, DataQualitySchedule]."},
        {"logical_id": STACK, "type": "AWS::CloudFormation::Stack", "status": "UPDATE_ROLLBACK_COMPLETE"},
    ]
    answer = json.loads(server.post("/_test/cloudformation", json.dumps(
        {"region": REGION, "stack": STACK, "status": "UPDATE_ROLLBACK_COMPLETE", "events": events}).encode()))
    assert "error" not in answer, answer


def status_findings(server: MotoServer, tmp_path) -> tuple[int, list[dict]]:
    deploy_foundation_and_network(server)
    deploy_endpoint(server)
    create_dq_definition(server, environment={"publish_cloudwatch_metrics": "Enabled"})
    sagemaker, stub = sagemaker_client(server)
    expect_discovery(stub, [])  # moto has no monitoring schedules; the failed deploy never created one
    printed: list[str] = []
    with stub:
        code = status.run_status(dev_params(tmp_path), clients(server, sagemaker), now=now_utc(), hours=1,
                                 json_output=True, console=console(), out=printed.append)
    return code, json.loads(printed[0])["findings"]


def test_a_bare_general_service_exception_names_the_sagemaker_actions_and_pass_role(aws, tmp_path):
    failed_update(aws, GENERAL)
    code, findings = status_findings(aws, tmp_path)
    [finding] = [f for f in findings if f["rule"] == "deploy-rights-missing"]
    assert code == 1 and finding["severity"] == "error" and finding["subject"] == STACK
    assert finding["problem"] == (f"the last deploy of stack {STACK} ended UPDATE_ROLLBACK_COMPLETE: "
                                  "DataQualityJobDefinition (AWS::SageMaker::DataQualityJobDefinition) CREATE_FAILED: "
                                  f"{GENERAL}")
    assert finding["fix"].startswith(
        "Likely missing: sagemaker:CreateDataQualityJobDefinition, sagemaker:DescribeDataQualityJobDefinition, "
        "sagemaker:DeleteDataQualityJobDefinition, sagemaker:AddTags, and iam:PassRole on the role the job runs as "
        "(churn-dev-monitoring, condition iam:PassedToService sagemaker.amazonaws.com). Grant it to that role")
    assert finding["fix"].endswith("Then `make deploy ENV=dev`.")
    assert "pre-processor" not in finding["fix"] and "dry-run" not in finding["fix"]


def test_an_access_denied_that_names_the_action_is_quoted(aws, tmp_path):
    failed_update(aws, PASS_ROLE)
    _, findings = status_findings(aws, tmp_path)
    [finding] = [f for f in findings if f["rule"] == "deploy-rights-missing"]
    assert finding["fix"].startswith("Likely missing: iam:PassRole on arn:aws:iam::123456789012:role/churn-dev-monitoring "
                                     "(the reason names it).")


def test_a_deploy_that_failed_for_another_reason_is_not_blamed_on_rights(aws, tmp_path):
    failed_update(aws, "Resource handler returned message: \"Invalid ScheduleExpression\" (HandlerErrorCode: "
                       "InvalidRequest)")
    _, findings = status_findings(aws, tmp_path)
    assert [f for f in findings if f["rule"] == "deploy-rights-missing"] == []


def test_only_the_last_operations_failures_are_read(aws):
    failed_update(aws, GENERAL)
    cloudformation = boto3.client("cloudformation", region_name=REGION, endpoint_url=aws.url)
    [failure] = read_stack_failures(cloudformation, [STACK, "churn-dev-alarms"])  # the alarms stack does not exist
    assert (failure.stack, failure.status) == (STACK, "UPDATE_ROLLBACK_COMPLETE")
    assert [(r.logical_id, r.status) for r in failure.resources] == [
        ("DataQualitySchedule", "CREATE_FAILED"), ("DataQualityJobDefinition", "CREATE_FAILED")]


def test_a_model_refused_names_pass_role_on_its_execution_role():
    from .test_monitor_rules import facts

    stack = StackFailure("churn-dev-endpoint", "ROLLBACK_COMPLETE", None,
                         [ResourceFailure("Model", "AWS::SageMaker::Model", "CREATE_FAILED", GENERAL)])
    finding = rules.deploy_rights_missing(stack, facts())
    assert "sagemaker:CreateModel" in finding.fix and "iam:PassRole on the model's execution role" in finding.fix
    assert rules.deploy_rights_missing(StackFailure("s", "ROLLBACK_COMPLETE"), facts()) is None


# An account that cannot use Model Monitor (closed to new customers on 2026-07-30). AWS's exact words are not
# published: this reason is an assumption in the form CloudFormation reports handler errors, matched conservatively by
# deployer/account_refusals.py (docs/engine.md, Operating).
UNAVAILABLE = ("Resource handler returned message: \"Amazon SageMaker Model Monitor is not available for this account: "
               "it is no longer offered to new customers\" (Service: SageMaker, Status Code: 400, HandlerErrorCode: "
               "AccessDenied)")


def test_an_account_that_cannot_use_model_monitor_is_told_to_use_the_processing_engine(aws, tmp_path):
    failed_update(aws, UNAVAILABLE)
    code, findings = status_findings(aws, tmp_path)
    assert code == 1
    # one finding, not also deploy-rights-missing: no right of the deploy role changes it
    assert [f["rule"] for f in findings if f["subject"] == STACK] == ["model-monitor-unavailable"]
    [finding] = [f for f in findings if f["rule"] == "model-monitor-unavailable"]
    assert finding["fix"].startswith("Set monitoring.engine: processing in params/dev.yaml")
    assert finding["fix"].endswith("then `make deploy ENV=dev`.")


@pytest.mark.parametrize("resource_type, reason, matched", [
    ("AWS::SageMaker::DataQualityJobDefinition", UNAVAILABLE, True),
    ("AWS::SageMaker::MonitoringSchedule", "Model Monitor has been closed to new customers", True),
    ("AWS::SageMaker::DataQualityJobDefinition", PASS_ROLE, False),  # a right, not the account
    ("AWS::SageMaker::DataQualityJobDefinition", GENERAL, False),
    ("AWS::SageMaker::Endpoint", "The instance type ml.m5.xlarge is not available in this zone", False),
])
def test_the_account_refusal_is_matched_conservatively(resource_type, reason, matched):
    from deployer.account_refusals import model_monitor_unavailable

    assert model_monitor_unavailable(resource_type, reason) is matched


def test_the_deploy_engine_names_the_fix_under_the_failed_resources():
    from deployer.events import WaitResult, failure_reasons

    result = WaitResult({"StackName": STACK, "StackStatus": "UPDATE_ROLLBACK_COMPLETE"}, [
        {"LogicalResourceId": "DataQualityJobDefinition", "ResourceType": "AWS::SageMaker::DataQualityJobDefinition",
         "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": UNAVAILABLE}])
    lines = failure_reasons(result)
    assert lines[0].startswith("DataQualityJobDefinition (AWS::SageMaker::DataQualityJobDefinition) CREATE_FAILED")
    assert lines[-1].startswith("hint: this account cannot use SageMaker Model Monitor") and \
        "monitoring.engine: processing" in lines[-1]
    result.events[0]["ResourceStatusReason"] = PASS_ROLE
    assert not any(line.startswith("hint:") for line in failure_reasons(result))
