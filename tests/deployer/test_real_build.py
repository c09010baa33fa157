"""End to end with the real build of dev (templates from templates/, params/dev.yaml) on the moto server.

moto gaps met by the real templates: it accepts AWS::SageMaker::DataQualityJobDefinition,
AWS::SageMaker::MonitoringSchedule, AWS::S3::BucketPolicy and AWS::EC2::SecurityGroupEgress without
creating anything. Where it answers unlike CloudFormation in a way that matters here (a stack's VPC
endpoints and route tables outliving it, change sets without replacements) deployer/moto_server.py fixes
it (tests in test_moto_gaps.py and test_destroy.py). The templates are not changed for moto.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO, scratch_root

from .conftest import CallLog, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dev_manifest(tmp_path_factory):
    from mmtool.generate.pipeline import build

    paths = scratch_root(tmp_path_factory.mktemp("real-build"))
    build(paths, ["dev"], run_lint=False, out=lambda *_: None)
    return paths.build / "dev" / "manifest.json"


def test_real_dev_build_deploys_and_redeploys_without_change_sets(dev_manifest, clients, cf, s3):
    manifest = json.loads(dev_manifest.read_text())
    names = [s["stack_name"] for s in manifest["stacks"]]

    first = run("deploy", dev_manifest, clients, skip_account_check=True)

    assert first.code == 0, first.text
    assert [cf.describe_stacks(StackName=n)["Stacks"][0]["StackStatus"] for n in names] == ["CREATE_COMPLETE"] * len(names)
    outputs = {o["OutputKey"]: o["OutputValue"] for n in names for o in cf.describe_stacks(StackName=n)["Stacks"][0].get("Outputs", [])}
    for asset in manifest["assets"]:
        assert s3.head_object(Bucket=outputs["BucketName"], Key=asset["key"])["ServerSideEncryption"] == "aws:kms"
    policy = json.loads(cf.get_stack_policy(StackName=names[0])["StackPolicyBody"])
    denied = [s["Resource"] for s in policy["Statement"] if s["Effect"] == "Deny"][0]
    assert denied == [f"LogicalResourceId/{r}" for r in sorted(manifest["stacks"][0]["protected_resources"])]
    assert "JobSecurityGroupId" in outputs

    log = CallLog().attach(clients)
    again = run("deploy", dev_manifest, clients, skip_account_check=True)

    assert again.code == 0, again.text
    assert "No changes." in again.out
    assert log.count("CreateChangeSet") == 0 and log.count("ExecuteChangeSet") == 0 and log.count("PutObject") == 0


def test_make_demo_runs_the_whole_lifecycle(tmp_path, capsys, monkeypatch):
    """`make demo` (python -m mmtool.cli.demo): builds dev and dev with a changed job setting, then on its own
    moto server: deploy, deploy again (no changes), outputs and a capture file, plan and deploy the change
    (the job definition is replaced), destroy, and the bucket, its objects and the key are still there."""
    from mmtool.cli import demo

    monkeypatch.setenv("COLUMNS", "240")  # rich tables wider than pytest's captured 80 columns
    paths = scratch_root(tmp_path)

    code = demo.main(["--env", "dev"], paths, run_lint=False)  # (lint is the build tests' business)

    out = capsys.readouterr().out
    assert code == 0, out
    steps = ["1. first deploy", "2. deploy again with nothing changed", "3. outputs", "4. plan a change",
             "5. deploy the change", "6. destroy", "7. after the destroy", "the moto server is stopped"]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    first, again, outputs, plan, change, destroy, after = (out[a:b] for a, b in zip(positions, positions[1:]))
    assert "so the demo deploys with --skip-account-check" in out
    assert "No changes." in again and "(change set" not in again
    assert "JobSecurityGroupId" in outputs and "wrote s3://" in outputs
    # the plan: the job definition replaced because of its revision, the schedule updated in place
    assert "±  DataQualityJobDefinition" in plan and "replaced (forced by JobDefinitionName" in plan
    assert "~  DataQualitySchedule" in plan
    assert 'DataQualityInstanceType: "ml.m5.large" → "ml.m5.xlarge"' in plan
    assert "1 to change, 0 to destroy, 1 to replace" in plan
    assert "churn-dev-monitoring: UPDATE_COMPLETE" in change
    assert "churn-dev-network: DELETE_COMPLETE" in destroy and "churn-dev-foundation: DELETE_COMPLETE" in destroy
    # after the destroy: no stack, the bucket with the capture file and the asset, the key
    assert "stacks left: none" in after
    # the capture file, the asset, and the template above CloudFormation's 51,200-byte TemplateBody limit
    # (monitoring, which carries a fleet endpoint's rules, alarms and dashboard), which the deployer uploads; the
    # alarms template has no slot per fleet endpoint any more and fits in the request
    assert "still there, 3 objects" in after and "/AllTraffic/2026/11/25/10/15-00-000-demo.jsonl" in after
    assert "cloudformation-templates/churn-dev-monitoring/" in after and "cloudformation-templates/churn-dev-alarms/" not in after
    assert "monitoring-assets/" in after and "record_preprocessor.py" in after
    assert re.search(r"KMS key arn:aws:kms:eu-west-1:123456789012:key/[0-9a-f-]+: still there", after)
    assert (paths.params / "dev.yaml").read_text() == (REPO / "params" / "dev.yaml").read_text()  # a copy was changed
    assert "No changes." in out
    assert "JobSecurityGroupId" in out and "BucketName" in out
    assert "the moto server is stopped" in out


def test_plan_shows_what_the_staging_build_derived(tmp_path_factory, clients):
    """The build's notes reach the plan, under their stack, before anything exists (issue 15): the model's network
    isolation derived off for Clarify's shadow endpoint, and the bias monitor's sensitive group in words."""
    from mmtool.generate.pipeline import build

    paths = scratch_root(tmp_path_factory.mktemp("staging-build"))
    build(paths, ["staging"], run_lint=False, out=lambda *_: None)

    plan = run("plan", paths.build / "staging" / "manifest.json", clients, skip_account_check=True)

    assert plan.code == 0, plan.text
    text = " ".join(plan.out.split())  # rich wraps long lines
    # staging is a fleet: the notes are churn's, under churn's stacks (upsell's model keeps its isolation)
    endpoint_at, monitoring_at = text.index("churn-staging-churn-endpoint"), text.index("churn-staging-churn-monitoring")
    isolation = text.index("note: model network isolation: off, derived from "
                           "endpoints.churn.monitoring.model_explainability.enabled")
    group = text.index("note: model bias: sensitive group age > 64 (exclusive threshold of a continuous facet)")
    assert endpoint_at < isolation < monitoring_at < group
    assert text.count("note: model network isolation") == 1 and text.count("note: model bias") == 1


def test_new_subnets_upstream_rename_the_job_definitions_on_the_next_deploy(tmp_path_factory, clients, cf, aws):
    """Issue 22 part 8: the job definitions read the subnets through SSM. Moving the environment to other subnets
    is a deploy of the network stack that writes the new ids under the same SSM name, so the monitoring stack's
    parameter file says the same there as before; each job definition's revision counts what that value is made
    from, so its name changes with the value and CloudFormation's replacement never meets the old name
    (docs/stacks.md). dev here uses an existing VPC of the moto account, whose subnets are then swapped."""
    import boto3
    import yaml

    from mmtool.generate.pipeline import build

    ec2 = boto3.client("ec2", endpoint_url=aws.url, region_name="eu-west-1")
    ssm = boto3.client("ssm", endpoint_url=aws.url, region_name="eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{n * 4}.0/22", AvailabilityZone=zone)
                ["Subnet"]["SubnetId"], zone) for n, zone in enumerate(("eu-west-1a", "eu-west-1b") * 2)]
    route_table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    paths = scratch_root(tmp_path_factory.mktemp("subnet-change"))
    data = yaml.safe_load((paths.params / "dev.yaml").read_text())

    def build_with(chosen: list[tuple[str, str]]) -> dict[str, str]:
        data["network"].pop("create", None)
        data["network"]["existing"] = {"vpc_id": vpc, "route_table_ids": [route_table["RouteTableId"]],
                                       "subnets": [{"id": i, "availability_zone": z} for i, z in chosen]}
        (paths.params / "dev.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        build(paths, ["dev"], run_lint=False, out=lambda *_: None)
        return {p["ParameterKey"]: p["ParameterValue"]
                for p in json.loads((paths.build / "dev" / "monitoring.parameters.json").read_text())}

    def definition() -> str:
        outputs = cf.describe_stacks(StackName="churn-dev-monitoring")["Stacks"][0].get("Outputs", [])
        return {o["OutputKey"]: o["OutputValue"] for o in outputs}["DataQualityJobDefinitionName"]

    manifest = paths.build / "dev" / "manifest.json"
    before = build_with(subnets[:2])
    assert run("deploy", manifest, clients, skip_account_check=True).code == 0
    assert ssm.get_parameter(Name=before["SubnetIds"])["Parameter"]["Value"] == f"{subnets[0][0]},{subnets[1][0]}"
    assert definition() == f"churn-dev-dq-{before['DataQualityRevision']}"

    after = build_with(subnets[2:])

    assert after["SubnetIds"] == before["SubnetIds"]  # the SSM parameter's name: the same
    # what changed in the file: the revisions, and the model's name (its endpoint stack's revision counts the subnets)
    assert {k for k in after if after[k] != before[k]} == {"ModelName"} | {
        f"{stem}Revision" for stem in ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")}
    deployed = run("deploy", manifest, clients, skip_account_check=True)
    assert deployed.code == 0, deployed.text
    # the value under that name is new, and the job definition has a new name
    assert ssm.get_parameter(Name=after["SubnetIds"])["Parameter"]["Value"] == f"{subnets[2][0]},{subnets[3][0]}"
    assert definition() == f"churn-dev-dq-{after['DataQualityRevision']}" != f"churn-dev-dq-{before['DataQualityRevision']}"
