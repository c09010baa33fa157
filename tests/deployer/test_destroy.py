"""destroy against the moto server: reverse order, confirmation by name, data kept, SageMaker's network
interfaces removed before the network stack, termination protection."""

from __future__ import annotations

import json
from typing import Any

import boto3

from .conftest import CallLog, after, answer, force, run
from .envs import ENVIRONMENT, PREFIX, REGION, foundation_env, full_env


def live_stacks(cf: Any) -> set[str]:
    return {s["StackName"] for s in cf.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"}


def test_destroy_keeps_the_bucket_its_objects_and_the_key(tmp_path, clients, cf, s3, aws):
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    bucket = clients.ssm.get_parameter(Name=f"{PREFIX}/foundation/bucket-name")["Parameter"]["Value"]
    key_arn = clients.ssm.get_parameter(Name=f"{PREFIX}/foundation/kms-key-arn")["Parameter"]["Value"]
    s3.put_object(Bucket=bucket, Key="datacapture/AllTraffic/2026/11/25/10/capture.jsonl", Body=b"{}")
    log = CallLog().attach(clients)

    result = run("destroy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert live_stacks(cf) == set()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["datacapture/AllTraffic/2026/11/25/10/capture.jsonl", env.asset_key()]
    kms = boto3.client("kms", region_name=REGION, endpoint_url=aws.url)
    # (moto stores a template's KeyPolicy as a dict and then fails DescribeKey: ListKeys shows the key)
    assert key_arn in {k["KeyArn"] for k in kms.list_keys()["Keys"]}
    for write in ("DeleteObject", "DeleteObjects", "DeleteBucket", "ScheduleKeyDeletion"):
        assert log.count(write) == 0
    # listed at the end with how to remove them by hand
    out = result.out
    assert "Kept (DeletionPolicy Retain)" in out
    assert f"AWS::S3::Bucket {bucket}" in out and f"aws s3 rb s3://{bucket}" in out
    assert "AWS::KMS::Key" in out and "aws kms schedule-key-deletion --key-id" in out
    # reverse dependency order: a stack goes only after every stack that reads from it
    deleted = [c.params["StackName"].split("/")[1] for c in log.of("DeleteStack")]
    assert deleted.index(env.stack_name("app")) < deleted.index(env.stack_name("network"))
    assert deleted[-1] == env.stack_name("foundation")


def test_destroy_needs_the_environment_name_typed(tmp_path, clients, cf):
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0

    refused = run("destroy", env.manifest_path, clients, answers=["yes"])
    assert refused.code == 3 and "Nothing was deleted" in str(refused.error)
    assert live_stacks(cf) == {env.stack_name("foundation")}
    assert f"Type the environment name ({ENVIRONMENT}) to destroy it" in refused.out

    accepted = run("destroy", env.manifest_path, clients, answers=[ENVIRONMENT])
    assert accepted.code == 0, accepted.text
    assert live_stacks(cf) == set()


def test_sagemaker_network_interfaces_are_removed_before_the_network_stack(tmp_path, clients, aws):
    """Interfaces SageMaker made for a monitoring job (already released) and for the endpoint (released a
    moment later) hold the job security group; an unrelated interface in the same group is left alone."""
    env = full_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=aws.url)
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in clients.cloudformation.describe_stacks(StackName=env.stack_name("network"))["Stacks"][0]["Outputs"]}
    group = outputs["JobSecurityGroupId"]
    subnet = ec2.create_subnet(VpcId=outputs["VpcId"], CidrBlock="10.30.0.0/24")["Subnet"]["SubnetId"]

    def eni(description: str) -> str:
        return ec2.create_network_interface(SubnetId=subnet, Groups=[group], Description=description)["NetworkInterface"]["NetworkInterfaceId"]

    job = eni("Network interface for Amazon SageMaker processing job churn-test-dq-1")
    endpoint = eni("SageMaker endpoint churn-test-endpoint")
    unrelated = eni("an engineer's debugging instance")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]["InstanceId"]
    attachment = ec2.attach_network_interface(NetworkInterfaceId=endpoint, InstanceId=instance, DeviceIndex=1)["AttachmentId"]

    def release(parsed: dict[str, Any], n: int) -> None:
        if n == 1:  # SageMaker lets go of the endpoint's interface after the first look
            ec2.detach_network_interface(AttachmentId=attachment)

    after(clients.ec2, "DescribeNetworkInterfaces", release)
    left: dict[str, set[str]] = {}

    def clear_test_scaffolding(params: dict[str, Any], **_: Any) -> None:
        """When the network stack is about to go: note which interfaces the engine left, then remove what
        this test itself put in the VPC (the instance, the unrelated interface, the subnet), as their
        owner would; moto, like AWS, refuses to delete a VPC that still has them."""
        if env.stack_name("network") in params["StackName"] and not left:
            left["enis"] = {e["NetworkInterfaceId"] for e in ec2.describe_network_interfaces()["NetworkInterfaces"]}
            ec2.terminate_instances(InstanceIds=[instance])
            ec2.delete_network_interface(NetworkInterfaceId=unrelated)
            ec2.delete_subnet(SubnetId=subnet)

    clients.cloudformation.meta.events.register("before-parameter-build.cloudformation.DeleteStack", clear_test_scaffolding)
    log = CallLog().attach(clients)

    result = run("destroy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert job not in left["enis"] and endpoint not in left["enis"]
    assert unrelated in left["enis"]
    assert f"waiting for SageMaker to release network interface {endpoint}" in result.out
    removed = [c.params["NetworkInterfaceId"] for c in log.of("DeleteNetworkInterface")]
    assert sorted(removed) == sorted([job, endpoint])
    network_deleted = log.index("DeleteStack", lambda c: env.stack_name("network") in c.params["StackName"])
    assert max(i for i, c in enumerate(log.calls) if c.operation == "DeleteNetworkInterface") < network_deleted


def test_termination_protection_refuses_destroy(tmp_path, clients, aws, cf):
    env = foundation_env(tmp_path, settings={"termination_protection": True})
    answer(clients.cloudformation, "UpdateTerminationProtection", lambda p: {"StackId": p["StackName"]})
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    # moto keeps no termination protection set through the API: force what CloudFormation would now show
    force(aws, name, attrs={"enable_termination_protection": True})
    log = CallLog().attach(clients)

    result = run("destroy", env.manifest_path, clients)

    assert result.code == 3
    message = str(result.error)
    assert f"{name}: termination protection is on" in message and "Nothing was deleted" in message
    assert "--disable-termination-protection" in message
    assert log.count("DeleteStack") == 0
    assert live_stacks(cf) == {name}


def test_termination_protection_turned_off_on_request(tmp_path, clients, aws, cf):
    """moto lacks UpdateTerminationProtection: answered at the client with AWS's response shape."""
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    name = env.stack_name("foundation")
    force(aws, name, attrs={"enable_termination_protection": True})
    received = answer(clients.cloudformation, "UpdateTerminationProtection", lambda p: {"StackId": p["StackName"]})
    log = CallLog().attach(clients)

    result = run("destroy", env.manifest_path, clients, disable_termination_protection=True)

    assert result.code == 0, result.text
    assert [r["EnableTerminationProtection"] for r in received] == [False]
    assert log.index("UpdateTerminationProtection") < log.index("DeleteStack")
    assert live_stacks(cf) == set()


def test_nothing_to_destroy(tmp_path, clients):
    env = full_env(tmp_path)
    result = run("destroy", env.manifest_path, clients)
    assert result.code == 0 and "Nothing to destroy" in result.out


VPC_WITH_ENDPOINTS = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.40.0.0/20"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.40.0.0/22"}},
        "RouteTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Association": {"Type": "AWS::EC2::SubnetRouteTableAssociation",
                        "Properties": {"SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "RouteTable"}}},
        "Group": {"Type": "AWS::EC2::SecurityGroup",
                  "Properties": {"GroupDescription": "endpoints", "VpcId": {"Ref": "Vpc"}}},
        "S3Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcEndpointType": "Gateway", "ServiceName": f"com.amazonaws.{REGION}.s3", "VpcId": {"Ref": "Vpc"},
            "RouteTableIds": [{"Ref": "RouteTable"}]}},
        "StsEndpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcEndpointType": "Interface", "ServiceName": f"com.amazonaws.{REGION}.sts", "VpcId": {"Ref": "Vpc"},
            "SubnetIds": [{"Ref": "Subnet"}], "SecurityGroupIds": [{"Ref": "Group"}], "PrivateDnsEnabled": True}},
    },
}


def test_moto_deletes_vpc_endpoints_and_route_tables_with_their_stack(cf, aws):
    """deployer/moto_server.py: as in AWS, deleting a stack deletes its VPC endpoints (with their network
    interfaces and routes) and its route tables; unpatched moto keeps both, and the route table left in the
    VPC makes the VPC's delete fail (DependencyViolation), so the stack never reaches DELETE_COMPLETE."""
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=aws.url)
    stack_id = cf.create_stack(StackName="vpc-with-endpoints", TemplateBody=json.dumps(VPC_WITH_ENDPOINTS))["StackId"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cf.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]}
    endpoints = [physical["S3Endpoint"], physical["StsEndpoint"]]
    interfaces = ec2.describe_vpc_endpoints(VpcEndpointIds=[physical["StsEndpoint"]])["VpcEndpoints"][0]["NetworkInterfaceIds"]
    assert interfaces  # moto gives the interface endpoint a network interface in the subnet

    cf.delete_stack(StackName=stack_id)

    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert physical["Vpc"] not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert physical["RouteTable"] not in {t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]}
    states = {e["VpcEndpointId"]: e["State"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]}
    assert [states.get(e, "deleted") for e in endpoints] == ["deleted", "deleted"]
    assert not set(interfaces) & {n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]}
