"""The plan is exact (issue 21): a new environment's plan lists what the moto server then creates, no more
(Conditions evaluated with the build's values), per stack and in the headline; an update shows old → new per
changed property; IAM statements and security-group rules added and removed get their own table.

moto's ListStackResources lists the template's resources whose Condition is true (deployer/moto_server.py),
with moto's own evaluation of the Conditions: an independent count to hold the plan's against.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from tests.conftest import scratch_root

from .conftest import answer, run
from .envs import REGION, fleet_env, full_env

pytestmark = pytest.mark.slow


def build_env(root, env: str, replace: dict[str, str] | None = None):
    """The real build of ``env`` (params/<env>.yaml, ids in it replaced by ``replace``)."""
    from mmtool.generate.pipeline import build

    paths = scratch_root(root)
    params = paths.params / f"{env}.yaml"
    text = params.read_text()
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    params.write_text(text)
    build(paths, [env], run_lint=False, out=lambda *_: None)
    return paths.build / env / "manifest.json"


def existing_network(url: str) -> dict[str, str]:
    """prod deploys into an existing VPC: create one in moto, with its three subnets and route table, and
    map params/prod.yaml's ids to theirs."""
    import boto3

    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=url)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ids = {"vpc-0a1b2c3d4e5f60718": vpc,
           "rtb-0a1b2c3d4e5f60aa1": ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]}
    for n, zone in enumerate("abc", start=1):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{n}.0/24", AvailabilityZone=f"{REGION}{zone}")
        ids[f"subnet-0a1b2c3d4e5f6000{n}"] = subnet["Subnet"]["SubnetId"]
    return ids


def plan_json(manifest, clients, capsys) -> dict:
    capsys.readouterr()
    result = run("plan", manifest, clients, json_output=True, skip_account_check=True)
    assert result.code == 0, result.text
    return json.loads(capsys.readouterr().out)


def created_per_stack(cf, manifest) -> dict[str, list[str]]:
    stacks = json.loads(manifest.read_text())["stacks"]
    return {
        s["stack_name"]: sorted(r["LogicalResourceId"] for page in cf.get_paginator("list_stack_resources")
                                .paginate(StackName=s["stack_name"]) for r in page["StackResourceSummaries"])
        for s in stacks
    }


def baseline_sources(manifest, url: str) -> None:
    """The baselines the params name exist, as in a real account (the deploy copies them in before the stacks
    that read them: deployer/uploads.py)."""
    import boto3

    s3 = boto3.client("s3", region_name=REGION, endpoint_url=url)
    for copy_ in json.loads(manifest.read_text()).get("copies", []):
        bucket, _, key = copy_["source"][5:].partition("/")
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")


def check_new_environment(manifest, clients, cf, capsys) -> dict[str, list[str]]:
    """Plan a new environment, deploy it, and compare the plan's resources with what moto created."""
    baseline_sources(manifest, clients.endpoint_url)
    planned = plan_json(manifest, clients, capsys)
    to_add = {s["stack_name"]: sorted(c["logical_id"] for c in s["changes"] if c["action"] == "add")
              for s in planned["stacks"]}
    assert all(s["action"] == "create" for s in planned["stacks"])

    text = run("plan", manifest, clients, skip_account_check=True)
    deployed = run("deploy", manifest, clients, skip_account_check=True)
    assert deployed.code == 0, deployed.text

    created = created_per_stack(cf, manifest)
    assert to_add == created
    total = sum(len(v) for v in created.values())
    assert planned["summary"] == {"add": total, "change": 0, "destroy": 0, "replace": 0}
    assert f"Plan: {total} to add, 0 to change, 0 to destroy, 0 to replace." in text.out
    assert " if " not in text.out  # no resource is left to a Condition: every one is decided
    return created


# staging: upsell runs both engines (docs/engine.md): 14 processing-engine resources and the schedule group
@pytest.mark.parametrize("env, expected_total", [("dev", 45), ("staging", 112), ("prod", 52)])
def test_a_new_environment_plans_exactly_what_is_created(tmp_path, aws, env, expected_total, clients, cf, capsys):
    # prod turns termination protection on, which moto lacks: answered at the client in AWS's shape
    answer(clients.cloudformation, "UpdateTerminationProtection", lambda p: {"StackId": p["StackName"]})
    manifest = build_env(tmp_path, env, existing_network(aws.url) if env == "prod" else None)

    created = check_new_environment(manifest, clients, cf, capsys)

    # the templates hold more (resources behind false Conditions); those are neither planned nor created
    templates = {s["stack_name"]: json.loads((manifest.parent / s["template"]).read_text())["Resources"]
                 for s in json.loads(manifest.read_text())["stacks"]}
    assert sum(len(v) for v in created.values()) == expected_total < sum(len(t) for t in templates.values())


def test_a_new_fleet_plans_exactly_what_is_created(tmp_path, clients, cf, capsys):
    env = fleet_env(tmp_path / "build", created=["churn"], existing=["fraud"])
    # a Condition false with this build's values: the resource is neither planned nor created
    monitoring = env.templates["monitoring"]
    monitoring["Conditions"] = {"Sampled": {"Fn::Not": [{"Fn::Equals": [{"Ref": "SamplingPercentage"}, "100"]}]},
                                "Full": {"Fn::Equals": [{"Ref": "SamplingPercentage"}, "100"]}}
    monitoring["Resources"]["SampledNote"] = dict(copy.deepcopy(monitoring["Resources"]["MonitoringParameter"]),
                                                  Condition="Full")
    monitoring["Resources"]["SampledNote"]["Properties"]["Name"] = {"Fn::Sub": "/churn/test/endpoints/${EndpointKey}/full"}
    env.write()

    created = check_new_environment(env.manifest_path, clients, cf, capsys)

    assert created["churn-test-churn-monitoring"] == ["MonitoringParameter"]


def test_a_new_stack_lists_its_properties_with_values_from_other_stacks_known_after_deploy(tmp_path, clients):
    env = full_env(tmp_path / "build")

    result = run("plan", env.manifest_path, clients, skip_account_check=True)

    lines = [" ".join(line.split()) for line in result.out.splitlines()]
    at = lines.index("+ AppConfig AWS::SSM::Parameter")
    # the bucket name and the security group come from other stacks (SSM); the sampling is the build's
    assert lines[at + 1: at + 4] == ["Name: /churn/test/app/config", "Type: String",
                                     "Value: ${BucketName}|${JobSecurityGroupId}|100"]
    at = lines.index("+ RetentionParameter AWS::SSM::Parameter")
    assert "Value: 14" in lines[at + 1: at + 4]
    at = lines.index("+ BucketNameParameter AWS::SSM::Parameter")
    assert "Value: (known after deploy)" in lines[at + 1: at + 4]  # Ref of a bucket not created yet


def test_an_update_shows_old_and_new_per_property_and_the_iam_and_security_group_tables(tmp_path, clients):
    env = full_env(tmp_path / "build")
    assert run("deploy", env.manifest_path, clients, skip_account_check=True).code == 0
    # the key policy: the account root no longer gets kms:*, a narrower statement is added
    foundation = env.templates["foundation"]
    statements = foundation["Resources"]["KmsKey"]["Properties"]["KeyPolicy"]["Statement"]
    statements[0]["Action"] = ["kms:Decrypt", "kms:DescribeKey"]
    statements.append({"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
                       "Condition": {"StringNotEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}})
    env.parameters["foundation"]["CaptureRetentionDays"] = "30"
    foundation["Resources"]["Bucket"]["Properties"]["VersioningConfiguration"]["Status"] = "Suspended"
    # the job security group gets an HTTPS rule to the VPC
    network = env.templates["network"]
    network["Resources"]["JobSecurityGroup"]["Properties"]["SecurityGroupEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": {"Ref": "VpcCidr"}, "Description": "HTTPS in the VPC"}]
    env.write()

    result = run("plan", env.manifest_path, clients, skip_account_check=True)

    assert result.code == 0, result.text
    lines = [" ".join(line.split()) for line in result.out.splitlines()]
    at = lines.index("~ RetentionParameter AWS::SSM::Parameter")
    assert lines[at + 1] == "Value: 14 → 30"
    at = lines.index("~ Bucket AWS::S3::Bucket")
    assert lines[at + 1] == "VersioningConfiguration.Status: Enabled → Suspended"
    at = lines.index("~ KmsKey AWS::KMS::Key")
    assert lines[at + 1] == "KeyPolicy: changed (IAM statements below)"
    # the IAM table: the changed statement as removed and added, the new one added
    assert "IAM statements (+2 -1)" in lines
    assert "- KmsKey Allow kms:* * AWS: arn:aws:iam::123456789012:root" in lines
    assert "+ KmsKey Allow kms:Decrypt, kms:DescribeKey * AWS: arn:aws:iam::123456789012:root" in lines
    assert ('+ KmsKey Deny kms:ScheduleKeyDeletion * * {"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}'
            in lines)
    assert "security-group rules (+1 -0)" in lines
    assert "+ JobSecurityGroup egress tcp 443 10.30.0.0/20 HTTPS in the VPC" in lines
    assert re.search(r"Plan: 0 to add, 4 to change, 0 to destroy, 0 to replace\.", result.out)
