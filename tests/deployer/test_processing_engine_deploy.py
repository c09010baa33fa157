"""The processing engine deployed on the moto server (docs/engine.md): dev moved to `engine: processing` deploys,
its schedule exists in the environment's group with the target the template describes, and the request that
schedule sends, with its context attributes filled in as EventBridge Scheduler fills them, creates a processing job
in moto's SageMaker. moto's CloudFormation lacks the AWS::Scheduler types: deployer/moto_server.py adds them."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from tests.conftest import dev_params, scratch_root, write_params

from .conftest import run
from .envs import REGION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def processing_manifest(tmp_path_factory):
    from mmtool.generate.pipeline import build

    paths = scratch_root(tmp_path_factory.mktemp("processing-build"))
    data = dev_params()
    data["monitoring"]["engine"] = "processing"
    write_params(paths, data)
    build(paths, ["dev"], run_lint=False, out=lambda *_: None)
    return paths.build / "dev" / "manifest.json"


def test_a_processing_engine_environment_deploys_and_its_schedule_starts_a_job(processing_manifest, clients, cf, aws):
    manifest = json.loads(processing_manifest.read_text())
    deployed = run("deploy", processing_manifest, clients, skip_account_check=True)
    assert deployed.code == 0, deployed.text
    assert {cf.describe_stacks(StackName=s["stack_name"])["Stacks"][0]["StackStatus"]
            for s in manifest["stacks"]} == {"CREATE_COMPLETE"}

    scheduler = boto3.client("scheduler", region_name=REGION, endpoint_url=aws.url)
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=aws.url)
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default", "churn-dev"]
    schedule = scheduler.get_schedule(Name="churn-dev-data-quality-processing", GroupName="churn-dev")
    assert schedule["ScheduleExpression"] == "cron(0 * ? * * *)" and schedule["ScheduleExpressionTimezone"] == "UTC"
    target = schedule["Target"]
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    assert target["RoleArn"].endswith(":role/churn-dev-scheduler")
    assert target["DeadLetterConfig"]["Arn"].endswith(":churn-dev-schedule-dlq")

    execution = str(uuid.uuid4())
    request = json.loads(target["Input"].replace("<aws.scheduler.execution-id>", execution)
                         .replace("<aws.scheduler.scheduled-time>", "2026-12-06T10:00:00Z"))
    sagemaker.create_processing_job(**request)
    job = sagemaker.describe_processing_job(ProcessingJobName=request["ProcessingJobName"])
    assert job["ProcessingJobName"].endswith(execution) and job["RoleArn"].endswith(":role/churn-dev-processing")

    resources = {r.get("LogicalResourceId") for r in cf.describe_stack_resources(
        StackName="churn-dev-monitoring")["StackResources"]}
    assert {"DataQualityProcessingSchedule", "SchedulerRole", "ProcessingJobRole"} <= resources

    destroyed = run("destroy", processing_manifest, clients, skip_account_check=True)
    assert destroyed.code == 0, destroyed.text
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default"]
