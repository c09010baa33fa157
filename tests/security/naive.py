"""Negative controls: deliberately naive variants of the real templates.

Each `Mutation` undoes one piece of hardening in one stack's real (dev) output, the way a careless
edit of the template module would, and names the check of ours it must trip. The naive variant of a
stack is all of that stack's mutations at once; it must fail checkov, cfn-guard and our checks. A
check no mutation trips would be vacuous: a test keeps every check covered.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from mmtool.security import Subject
from mmtool.security import checks as c

Template = dict[str, Any]


@dataclass(frozen=True)
class Mutation:
    name: str
    stack: str
    check: Callable  # the check of ours that must report it
    apply: Callable[[Template, dict[str, str]], None]  # edits the template and/or the parameter values in place


def props(t: Template, logical: str) -> dict[str, Any]:
    return t["Resources"][logical]["Properties"]


def first_policy(t: Template, role: str) -> list[dict[str, Any]]:
    return props(t, role)["Policies"][0]["PolicyDocument"]["Statement"]


# --- foundation -----------------------------------------------------------------------------------


def bucket_without_encryption(t, _):
    del props(t, "Bucket")["BucketEncryption"]


def bucket_without_versioning(t, _):
    props(t, "Bucket")["VersioningConfiguration"] = {"Status": "Suspended"}


def bucket_without_public_access_block(t, _):
    del props(t, "Bucket")["PublicAccessBlockConfiguration"]


def bucket_with_acls(t, _):
    props(t, "Bucket")["OwnershipControls"] = {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}


def bucket_policy_without_tls(t, _):
    for policy in ("BucketPolicy", "AccessLogsBucketPolicy"):
        document = props(t, policy)["PolicyDocument"]
        document["Statement"] = [s for s in document["Statement"] if "aws:SecureTransport" not in str(s)]


def bucket_deleted_with_the_stack(t, _):
    for logical in ("Bucket", "KmsKey"):
        t["Resources"][logical].pop("DeletionPolicy")
        t["Resources"][logical].pop("UpdateReplacePolicy")


def key_without_rotation(t, _):
    props(t, "KmsKey")["EnableKeyRotation"] = False


def key_open_to_everyone(t, _):
    props(t, "KmsKey")["KeyPolicy"]["Statement"].append(
        {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*"})


def role_with_wildcard_actions(t, _):
    first_policy(t, "MonitoringRole").append(
        {"Sid": "Everything", "Effect": "Allow", "Action": ["s3:*", "*"], "Resource": ["*"]})


def role_with_managed_policy(t, _):
    props(t, "MonitoringRole")["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]


def role_trusting_ec2(t, _):
    trust = props(t, "MonitoringRole")["AssumeRolePolicyDocument"]["Statement"][0]
    trust["Principal"] = {"Service": ["sagemaker.amazonaws.com", "ec2.amazonaws.com"]}
    del trust["Condition"]


def skip_without_reason(t, _):
    for skip in t["Resources"]["AccessLogsBucket"]["Metadata"]["checkov"]["skip"]:
        skip["comment"] = "n/a"


# --- network --------------------------------------------------------------------------------------


def security_group_open_to_the_internet(t, _):
    props(t, "JobSecurityGroup")["SecurityGroupIngress"] = [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]


def security_group_open_through_a_parameter(t, values):
    """The template looks closed; the environment's value opens it."""
    t["Parameters"]["AdminCidr"] = {"Type": "String", "Description": "Admin access."}
    values["AdminCidr"] = "0.0.0.0/0"
    t["Resources"]["AdminIngress"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::GetAtt": ["JobSecurityGroup", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 3389,
        "ToPort": 3389, "CidrIp": {"Ref": "AdminCidr"}, "Description": "admin"}}


def gateway_endpoint_without_policy(t, _):
    del props(t, "S3GatewayEndpoint")["PolicyDocument"]


def gateway_endpoint_reading_any_object(t, values):
    """An environment names a prefix instead of exact objects: every object under it becomes readable."""
    values["ExternalReadObjectArns"] = "arn:aws:s3:::churn-models-111122223333/*"


def vpc_without_flow_logs(t, _):
    del t["Resources"]["VpcFlowLog"]


def subnet_with_public_addresses(t, _):
    props(t, "PrivateSubnet1")["MapPublicIpOnLaunch"] = True


# --- endpoint -------------------------------------------------------------------------------------


def endpoint_config_without_key(t, _):
    del props(t, "EndpointConfig")["KmsKeyId"]


def capture_into_another_bucket(t, _):
    props(t, "EndpointConfig")["DataCaptureConfig"]["DestinationS3Uri"] = "s3://someone-elses-bucket/capture"


def capture_incomplete(t, _):
    capture = props(t, "EndpointConfig")["DataCaptureConfig"]
    del capture["KmsKeyId"]
    del capture["CaptureContentTypeHeader"]


def model_without_network_isolation(_, values):
    """dev enables no explainability monitor: nothing waives the model's isolation there."""
    values["ModelNetworkIsolation"] = "false"


def endpoint_role_administrator(t, _):
    first_policy(t, "EndpointRole").append({"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"})


# --- monitoring -----------------------------------------------------------------------------------


def job_on_the_open_network(t, _):
    network = props(t, "DataQualityJobDefinition")["NetworkConfig"]
    network["EnableNetworkIsolation"] = False
    network["EnableInterContainerTrafficEncryption"] = False
    del network["VpcConfig"]


def job_without_kms(t, _):
    job = props(t, "DataQualityJobDefinition")
    del job["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"]
    del job["DataQualityJobOutputConfig"]["KmsKeyId"]


def merged_ground_truth_read_on_every_resource(t, _):
    props(t, "MergedGroundTruthReadPolicy")["PolicyDocument"]["Statement"][0]["Resource"] = "*"


def image_pull_from_a_hand_typed_account(t, _):
    """us-west-2's analyzer account for every region (aws/aws-cdk#12208), and any repository."""
    pull = props(t, "ImagePullPolicy")["PolicyDocument"]["Statement"][1]
    pull["Resource"] = ["arn:aws:ecr:*:159807026194:repository/*"]


def bias_job_on_the_open_network(t, _):
    """Only the explainability job may run without network isolation (it calls Clarify's shadow endpoint)."""
    props(t, "ModelBiasJobDefinition")["NetworkConfig"]["EnableNetworkIsolation"] = False


def explainability_job_outside_the_vpc(t, _):
    """Its isolation exception waives nothing else: it still runs in our subnets with our security group."""
    del props(t, "ModelExplainabilityJobDefinition")["NetworkConfig"]["VpcConfig"]


def shadow_endpoint_policy_on_every_endpoint(t, _):
    props(t, "ClarifyShadowEndpointPolicy")["PolicyDocument"]["Statement"][1]["Resource"] = "*"


# --- alarms ---------------------------------------------------------------------------------------


def alarm_topic_unencrypted(t, _):
    del props(t, "AlarmTopic")["KmsMasterKeyId"]


def alarm_without_actions(t, _):
    alarm = props(t, "FailedExecutionsAlarm")
    del alarm["AlarmActions"]
    alarm["ActionsEnabled"] = False


def unencrypted_topic(t, _):
    t["Resources"]["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alarms"}}


def unencrypted_log_group(t, _):
    t["Resources"]["JobLogs"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/mm/jobs"}}


MUTATIONS = [
    Mutation("bucket without encryption", "foundation", c.check_buckets_locked_down, bucket_without_encryption),
    Mutation("bucket without versioning", "foundation", c.check_buckets_locked_down, bucket_without_versioning),
    Mutation("bucket without public access block", "foundation", c.check_buckets_locked_down,
             bucket_without_public_access_block),
    Mutation("bucket with ACLs", "foundation", c.check_buckets_locked_down, bucket_with_acls),
    Mutation("bucket policy without TLS", "foundation", c.check_buckets_locked_down, bucket_policy_without_tls),
    Mutation("bucket and key deleted with the stack", "foundation", c.check_data_stores_retained,
             bucket_deleted_with_the_stack),
    Mutation("key without rotation", "foundation", c.check_kms_keys_rotate_and_admit_nobody_at_large,
             key_without_rotation),
    Mutation("key open to everyone", "foundation", c.check_kms_keys_rotate_and_admit_nobody_at_large,
             key_open_to_everyone),
    Mutation("role with wildcard actions", "foundation", c.check_iam_actions_explicit, role_with_wildcard_actions),
    Mutation("role with wildcard actions on *", "foundation", c.check_iam_wildcard_resources_allowlisted,
             role_with_wildcard_actions),
    Mutation("role with an AWS managed policy", "foundation", c.check_iam_actions_explicit, role_with_managed_policy),
    Mutation("role trusting EC2", "foundation", c.check_roles_trust_only_sagemaker, role_trusting_ec2),
    Mutation("checkov skip without a reason", "foundation", c.check_scanner_skips_have_reasons, skip_without_reason),
    Mutation("security group open to the internet", "network", c.check_security_group_rules_closed_and_described,
             security_group_open_to_the_internet),
    Mutation("security group opened by a parameter value", "network",
             c.check_security_group_rules_closed_and_described, security_group_open_through_a_parameter),
    Mutation("S3 gateway endpoint without policy", "network", c.check_s3_gateway_endpoint_scoped,
             gateway_endpoint_without_policy),
    Mutation("S3 gateway endpoint reading a whole prefix", "network", c.check_s3_gateway_endpoint_scoped,
             gateway_endpoint_reading_any_object),
    Mutation("VPC without flow logs", "network", c.check_created_vpc_has_flow_logs, vpc_without_flow_logs),
    Mutation("endpoint config without KMS", "endpoint", c.check_endpoint_config_encrypted_with_complete_capture,
             endpoint_config_without_key),
    Mutation("capture into another bucket", "endpoint", c.check_endpoint_config_encrypted_with_complete_capture,
             capture_into_another_bucket),
    Mutation("incomplete capture config", "endpoint", c.check_endpoint_config_encrypted_with_complete_capture,
             capture_incomplete),
    Mutation("endpoint role with administrator access", "endpoint", c.check_iam_actions_explicit,
             endpoint_role_administrator),
    Mutation("model without network isolation", "endpoint", c.check_model_network_isolated_unless_clarify_needs_it,
             model_without_network_isolation),
    Mutation("job on the open network", "monitoring", c.check_job_definitions_private_and_encrypted,
             job_on_the_open_network),
    Mutation("job without KMS", "monitoring", c.check_job_definitions_private_and_encrypted, job_without_kms),
    Mutation("merged ground truth read on every resource", "monitoring", c.check_iam_wildcard_resources_allowlisted,
             merged_ground_truth_read_on_every_resource),
    Mutation("image pull from a hand-typed account", "monitoring", c.check_image_pulls_from_the_image_table,
             image_pull_from_a_hand_typed_account),
    Mutation("bias job on the open network", "monitoring", c.check_job_definitions_private_and_encrypted,
             bias_job_on_the_open_network),
    Mutation("explainability job outside the VPC", "monitoring", c.check_job_definitions_private_and_encrypted,
             explainability_job_outside_the_vpc),
    Mutation("shadow endpoint policy on every endpoint", "monitoring", c.check_iam_wildcard_resources_allowlisted,
             shadow_endpoint_policy_on_every_endpoint),
    Mutation("unencrypted topic", "monitoring", c.check_topics_and_log_groups_encrypted, unencrypted_topic),
    Mutation("alarm topic without the project key", "alarms", c.check_topics_and_log_groups_encrypted,
             alarm_topic_unencrypted),
    Mutation("unencrypted log group", "monitoring", c.check_topics_and_log_groups_encrypted, unencrypted_log_group),
]
# Hardening that only the scanners see (no check of ours looks at it); part of the naive variants.
SCANNER_ONLY = [
    Mutation("subnet with public addresses", "network", None, subnet_with_public_addresses),  # CT.EC2.PR.11
    Mutation("alarm without actions", "alarms", None, alarm_without_actions),  # CT.CLOUDWATCH.PR.1, PR.4
]


def mutated(subject: Subject, *mutations: Mutation) -> Subject:
    template, values = copy.deepcopy(subject.template), dict(subject.parameters)
    for mutation in mutations:
        mutation.apply(template, values)
    return Subject(f"naive/{subject.stack}.template.json", subject.stack, subject.environment, template, values)


def naive_variant(subject: Subject) -> Subject:
    """Every mutation of this subject's stack at once."""
    return mutated(subject, *[m for m in MUTATIONS + SCANNER_ONLY if m.stack == subject.stack])
