"""Our own checks, where no scanner looks: one function per rule, each saying what it refused and why.

Every check takes a `Subject` (one template with one environment's parameter values) and yields
`(logical id, message)` pairs; `run_checks` turns them into findings. The templates are
environment-agnostic: cross-stack values arrive as SSM-typed Parameters whose value in an
environment's parameter file is the SSM name (`/<project>/<env>/<stack>/<key>`), so "our subnets"
means "a Parameter whose value is the network stack's subnet-ids name". A check that needs the
values an environment gives (CIDRs, external object ARNs) resolves them from that environment.

`WILDCARD_ALLOWED` is the one list of IAM actions that may have `Resource: "*"`, with the reason.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from mmtool.config.monitor_kinds import IMAGE_FAMILIES, KINDS, MERGER_REPOSITORY, MODEL_EXPLAINABILITY, SKLEARN
from mmtool.security.findings import Finding, Subject

Problems = Iterator[tuple[str, str]]

# IAM actions that may be granted on Resource "*": AWS offers nothing narrower for them.
WILDCARD_ALLOWED: dict[str, str] = {
    "cloudwatch:PutMetricData": "supports no resource-level permission; scoped by the cloudwatch:namespace condition",
    "ecr:GetAuthorizationToken": "the registry token is account-wide; the action supports no resource",
    "ec2:CreateNetworkInterface": "SageMaker VPC mode validates it unscoped when the job or model is created",
    "ec2:CreateNetworkInterfacePermission": "SageMaker VPC mode validates it unscoped when the job or model is created",
    "ec2:DeleteNetworkInterface": "SageMaker VPC mode validates it unscoped when the job or model is created",
    "ec2:DeleteNetworkInterfacePermission": "SageMaker VPC mode validates it unscoped when the job or model is created",
    "ec2:DescribeNetworkInterfaces": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeVpcs": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeDhcpOptions": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeSubnets": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeSecurityGroups": "EC2 Describe* actions support no resource-level permission",
    # The catalog stack's launch role (templates/catalog.py): what CloudFormation needs to provision the products.
    "ec2:DescribeVpcAttribute": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeRouteTables": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeSecurityGroupRules": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeVpcEndpoints": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeFlowLogs": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeAvailabilityZones": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribePrefixLists": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeVpcEndpointServices": "EC2 Describe* actions support no resource-level permission",
    "ec2:DescribeAccountAttributes": "EC2 Describe* actions support no resource-level permission",
    "kms:CreateKey": "the key does not exist before the call: CreateKey supports no resource",
    "logs:CreateLogDelivery": "CloudWatch Logs delivery actions (VPC flow logs to S3) support no resource-level permission",
    "logs:DeleteLogDelivery": "CloudWatch Logs delivery actions (VPC flow logs to S3) support no resource-level permission",
    "logs:GetLogDelivery": "CloudWatch Logs delivery actions (VPC flow logs to S3) support no resource-level permission",
    "cloudformation:GetTemplateSummary": "called with a template URL it names no stack: no resource to scope to",
    "cloudformation:ValidateTemplate": "validates a template, not a stack: supports no resource-level permission",
}

# Actions that may have `Resource: "*"` only with one exact condition, which is what scopes them.
WILDCARD_WITH_CONDITION: dict[str, tuple[str, str, str]] = {
    "s3:GetObject": ("s3:ExistingObjectTag/servicecatalog:provisioning", "true",
                     "a Service Catalog launch role reads the service's copy of each product version from a bucket "
                     "AWS owns and does not name; only objects tagged servicecatalog:provisioning=true"),
}

# The one AWS service each stack's roles may trust (every role not listed: SageMaker's).
TRUSTED_SERVICE_BY_STACK = {"catalog": "servicecatalog.amazonaws.com"}
# (stack, role logical id) -> the service it trusts instead: the processing engine's schedules start jobs as this
# role (templates/processing_engine.py).
TRUSTED_SERVICE_BY_ROLE = {("monitoring", "SchedulerRole"): "scheduler.amazonaws.com"}

JOB_DEFINITION_TYPES = tuple(kind.resource_type for kind in KINDS)
# The job definition types that may run without network isolation, and why (the kinds table's isolation_waiver:
# SageMaker Clarify computes SHAP values by calling a temporary shadow endpoint it creates from the model, reached
# through the sagemaker.api and sagemaker.runtime VPC endpoints). Everything else still holds for them:
# private subnets, our security group, inter-container encryption, KMS on volumes and output.
ISOLATION_EXCEPTIONS: dict[str, str] = {kind.resource_type: kind.isolation_waiver
                                        for kind in KINDS if not kind.network_isolated}
# The one reason the endpoint's Model may run without network isolation, in the one environment state that gives
# it: Clarify's explainability job sends records to a shadow endpoint made from the model, and AWS requires network
# isolation off on the model as well as on the job ("Give Amazon SageMaker Clarify Jobs Access to Resources in Your
# Amazon VPC"). mmtool.config.params derives the value (endpoint.network_isolation unset) and refuses true with it.
MODEL_ISOLATION_WAIVER = (
    "the environment enables the model-explainability monitor: Clarify's shadow endpoint is made from this model, "
    "and AWS requires network isolation off on the model as well as on the Clarify job"
)
EXPLAINABILITY_FLAG = ("monitoring", f"{MODEL_EXPLAINABILITY.stem}Enabled")
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
ECR_LAYER_BUCKET = "arn:${AWS::Partition}:s3:::prod-${AWS::Region}-starport-layer-bucket/*"
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
# The AWS-owned images the monitoring role may pull, and the Mappings their accounts come from (templates/monitoring.py).
AWS_IMAGE_REPOSITORIES = (*(family.repository_name for family in IMAGE_FAMILIES), MERGER_REPOSITORY,
                          SKLEARN.repository_name)
IMAGE_MAPPINGS = (*(family.mapping for family in IMAGE_FAMILIES), SKLEARN.mapping)
ECR_PULL_ACTIONS = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}
MIN_SKIP_REASON = 20  # characters: "n/a" is not a reason


# --- helpers ------------------------------------------------------------------------------------


def of_type(subject: Subject, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical, resource in subject.resources.items():
        if resource.get("Type") in types:
            yield logical, resource.get("Properties") or {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    return [s for s in as_list((document or {}).get("Statement")) if isinstance(s, dict)]


def parameter_value(subject: Subject, value: Any) -> Any:
    """The environment's value of a `{"Ref": Parameter}`; anything else unchanged."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        declared = subject.template.get("Parameters", {}).get(name)
        if declared is not None:
            return subject.parameters.get(name, declared.get("Default"))
    return value


def imported_from(subject: Subject, value: Any) -> tuple[str, str] | None:
    """(stack, key) when `value` is a Ref to an SSM-typed Parameter holding an upstream stack's value."""
    if not (isinstance(value, dict) and set(value) == {"Ref"}):
        return None
    declared = subject.template.get("Parameters", {}).get(value["Ref"], {})
    if not str(declared.get("Type", "")).startswith("AWS::SSM::Parameter::Value<"):
        return None
    name = subject.parameters.get(value["Ref"], "")
    parts = name.split("/")
    # /<project>/<env>/<stack>/<key>, and for this very environment
    if len(parts) != 5 or parts[0] or parts[2] != subject.environment:
        return None
    return parts[3], parts[4]


def is_import(subject: Subject, value: Any, stack: str, key: str) -> bool:
    return imported_from(subject, value) == (stack, key)


def sub_text(value: Any) -> str | None:
    """The string of an `Fn::Sub` (either form), or a plain string; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        return body if isinstance(body, str) else body[0] if isinstance(body, list) and body else None
    return None


def sub_variables_imported(subject: Subject, text: str, allowed: dict[str, tuple[str, str]]) -> bool:
    """Every `${Name}` in `text` other than pseudo parameters is an import of the expected upstream value."""
    for variable in re.findall(r"\$\{([^}!]+)\}", text):
        if variable.startswith("AWS::"):
            continue
        if variable not in allowed or not is_import(subject, {"Ref": variable}, *allowed[variable]):
            return False
    return True


def truthy(value: Any) -> bool:
    return value is True or value == "true"


# --- SageMaker ----------------------------------------------------------------------------------


def check_job_definitions_private_and_encrypted(subject: Subject) -> Problems:
    """Monitoring jobs run in our private subnets with our security group, network-isolated (except the types in
    ISOLATION_EXCEPTIONS, which must say false explicitly), with encrypted inter-container traffic, and KMS on
    their volumes and their output."""
    for logical, props in of_type(subject, *JOB_DEFINITION_TYPES):
        kind = subject.resources[logical]["Type"]
        network = props.get("NetworkConfig") or {}
        vpc = network.get("VpcConfig") or {}
        if not is_import(subject, vpc.get("Subnets"), "network", "subnet-ids"):
            yield logical, "NetworkConfig.VpcConfig.Subnets must be the network stack's private subnets (subnet-ids)"
        groups = as_list(vpc.get("SecurityGroupIds"))
        if not groups or not all(is_import(subject, g, "network", "job-security-group-id") for g in groups):
            yield logical, ("NetworkConfig.VpcConfig.SecurityGroupIds must be exactly the network stack's job "
                            "security group")
        if kind in ISOLATION_EXCEPTIONS:
            if network.get("EnableNetworkIsolation") not in (True, False):
                # explicit, so the exception is visible in the template a reviewer reads
                yield logical, ("NetworkConfig.EnableNetworkIsolation must be set explicitly (false: "
                                f"{ISOLATION_EXCEPTIONS[kind]})")
        elif network.get("EnableNetworkIsolation") is not True:
            yield logical, "NetworkConfig.EnableNetworkIsolation must be true (the analyzer needs no network)"
        if network.get("EnableInterContainerTrafficEncryption") is not True:
            yield logical, "NetworkConfig.EnableInterContainerTrafficEncryption must be true"
        cluster = (props.get("JobResources") or {}).get("ClusterConfig") or {}
        if not is_import(subject, cluster.get("VolumeKmsKeyId"), "foundation", "kms-key-arn"):
            yield logical, "JobResources.ClusterConfig.VolumeKmsKeyId must be the project key (foundation kms-key-arn)"
        outputs = [v for k, v in props.items() if k.endswith("JobOutputConfig")]
        if len(outputs) != 1 or not is_import(subject, (outputs[0] or {}).get("KmsKeyId"), "foundation", "kms-key-arn"):
            yield logical, "the job's output config must set KmsKeyId to the project key (foundation kms-key-arn)"


def check_model_network_isolated_unless_clarify_needs_it(subject: Subject) -> Problems:
    """The endpoint's model runs with network isolation, with the environment's values; off only where the same
    environment's monitoring stack enables model explainability (MODEL_ISOLATION_WAIVER)."""
    stack, flag = EXPLAINABILITY_FLAG
    explainability = truthy(subject.environment_values.get(stack, {}).get(flag))
    for logical, props in of_type(subject, "AWS::SageMaker::Model"):
        isolated = parameter_value(subject, props.get("EnableNetworkIsolation"))
        if truthy(isolated):
            continue
        if isolated in (False, "false") and explainability:
            continue  # waived: MODEL_ISOLATION_WAIVER
        yield logical, (f"EnableNetworkIsolation is {isolated!r} in {subject.environment}: the model must run "
                        "network-isolated; it may be off only while the environment enables "
                        "monitoring.model_explainability (Clarify's shadow endpoint is made from the model)")


def check_endpoint_config_encrypted_with_complete_capture(subject: Subject) -> Problems:
    """The endpoint config encrypts its storage with our key and captures into our bucket, with our key,
    with every part of DataCaptureConfig set."""
    for logical, props in of_type(subject, "AWS::SageMaker::EndpointConfig"):
        if not is_import(subject, props.get("KmsKeyId"), "foundation", "kms-key-arn"):
            yield logical, "KmsKeyId must be the project key (foundation kms-key-arn)"
        capture = props.get("DataCaptureConfig")
        if not isinstance(capture, dict):
            yield logical, "DataCaptureConfig is missing: the monitor would have no data"
            continue
        missing = [k for k in ("EnableCapture", "InitialSamplingPercentage", "DestinationS3Uri", "KmsKeyId",
                               "CaptureOptions", "CaptureContentTypeHeader") if k not in capture]
        if missing:
            yield logical, f"DataCaptureConfig is incomplete: {', '.join(missing)} missing"
        if "EnableCapture" in capture and not truthy(capture["EnableCapture"]):
            yield logical, "DataCaptureConfig.EnableCapture must be true"
        if "KmsKeyId" in capture and not is_import(subject, capture["KmsKeyId"], "foundation", "kms-key-arn"):
            yield logical, "DataCaptureConfig.KmsKeyId must be the project key (foundation kms-key-arn)"
        destination = sub_text(capture.get("DestinationS3Uri"))
        if "DestinationS3Uri" in capture and not (
            destination and destination.startswith("s3://${BucketName}/")
            and is_import(subject, {"Ref": "BucketName"}, "foundation", "bucket-name")
        ):
            yield logical, "DataCaptureConfig.DestinationS3Uri must be under the project bucket (s3://${BucketName}/...)"


# --- storage and keys ---------------------------------------------------------------------------


def check_data_stores_retained(subject: Subject) -> Problems:
    """Buckets and KMS keys survive stack deletion and replacement (DeletionPolicy and UpdateReplacePolicy Retain)."""
    for logical, resource in subject.resources.items():
        if resource.get("Type") in ("AWS::S3::Bucket", "AWS::KMS::Key"):
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                if resource.get(policy) != "Retain":
                    yield logical, f"{policy} must be Retain (a delete or replacement would destroy data or keys)"


def _log_destinations(subject: Subject) -> set[str]:
    return {
        (props.get("LoggingConfiguration") or {}).get("DestinationBucketName", {}).get("Ref", "")
        for _, props in of_type(subject, "AWS::S3::Bucket")
        if isinstance((props.get("LoggingConfiguration") or {}).get("DestinationBucketName"), dict)
    }


def _tls_only(subject: Subject, bucket: str) -> bool:
    for _, props in of_type(subject, "AWS::S3::BucketPolicy"):
        if props.get("Bucket") != {"Ref": bucket}:
            continue
        for statement in statements(props.get("PolicyDocument")):
            resources = as_list(statement.get("Resource"))
            if (
                statement.get("Effect") == "Deny"
                and statement.get("Principal") in ("*", {"AWS": "*"})
                and set(as_list(statement.get("Action"))) & {"s3:*", "*"}
                and (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
                and {"Fn::GetAtt": [bucket, "Arn"]} in resources
                and len(resources) >= 2  # the bucket and its objects
            ):
                return True
    return False


def check_buckets_locked_down(subject: Subject) -> Problems:
    """Every bucket: SSE-KMS (SSE-S3 only for a server-access-log destination, the one encryption S3 log
    delivery supports), versioning, all four public-access blocks, owner-enforced objects, TLS-only policy."""
    log_destinations = _log_destinations(subject)
    for logical, props in of_type(subject, "AWS::S3::Bucket"):
        rules = as_list((props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
        defaults = [(r or {}).get("ServerSideEncryptionByDefault") or {} for r in rules]
        algorithms = {d.get("SSEAlgorithm") for d in defaults}
        if algorithms == {"aws:kms"}:
            if not all(d.get("KMSMasterKeyID") for d in defaults):
                yield logical, "SSE-KMS without KMSMasterKeyID uses the AWS-managed key; name the project key"
        elif not (algorithms == {"AES256"} and logical in log_destinations):
            yield logical, "default encryption must be SSE-KMS with the project key (aws:kms)"
        if (props.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            yield logical, "versioning must be Enabled"
        block = props.get("PublicAccessBlockConfiguration") or {}
        missing = [k for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
                   if block.get(k) is not True]
        if missing:
            yield logical, f"public access must be blocked: {', '.join(missing)} not true"
        ownership = [r.get("ObjectOwnership") for r in as_list((props.get("OwnershipControls") or {}).get("Rules"))]
        if ownership != ["BucketOwnerEnforced"]:
            yield logical, "OwnershipControls must be BucketOwnerEnforced (no ACLs, the bucket owns every object)"
        if not _tls_only(subject, logical):
            yield logical, ("no bucket policy denies requests without TLS (Deny s3:* to * on the bucket and its "
                            "objects when aws:SecureTransport is false)")


def check_kms_keys_rotate_and_admit_nobody_at_large(subject: Subject) -> Problems:
    """KMS keys rotate, and no Allow statement of a key policy names the `*` principal."""
    for logical, props in of_type(subject, "AWS::KMS::Key"):
        if props.get("EnableKeyRotation") is not True:
            yield logical, "EnableKeyRotation must be true"
        for statement in statements(props.get("KeyPolicy")):
            principal = statement.get("Principal")
            values = [principal] if isinstance(principal, str) else as_list((principal or {}).get("AWS"))
            if statement.get("Effect") == "Allow" and "*" in values:
                yield logical, f"key policy statement {statement.get('Sid', '')!r} allows the '*' principal"


def check_topics_and_log_groups_encrypted(subject: Subject) -> Problems:
    """SNS topics and CloudWatch log groups, when a template has them, are encrypted with a KMS key."""
    for logical, props in of_type(subject, "AWS::SNS::Topic"):
        if not props.get("KmsMasterKeyId"):
            yield logical, "KmsMasterKeyId must be set (topic messages are stored encrypted with it)"
    for logical, props in of_type(subject, "AWS::Logs::LogGroup"):
        if not props.get("KmsKeyId"):
            yield logical, "KmsKeyId must be set (log events are stored encrypted with it)"


# --- network ------------------------------------------------------------------------------------


def _gateway_resource_kind(subject: Subject, resource: Any) -> str | None:
    text = sub_text(resource)
    if text in ("arn:${AWS::Partition}:s3:::${BucketName}", "arn:${AWS::Partition}:s3:::${BucketName}/*") and \
            sub_variables_imported(subject, text, {"BucketName": ("foundation", "bucket-name")}):
        return "project"
    if text == ECR_LAYER_BUCKET:
        return "ecr-layers"
    return None


_EXACT_OBJECT_ARN = re.compile(r"^arn:aws[a-z\-]*:s3:::[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^*?\s]+$")


def check_s3_gateway_endpoint_scoped(subject: Subject) -> Problems:
    """The S3 gateway endpoint's policy reaches only the project bucket, the region's ECR image-layer bucket
    (GetObject) and the exact external objects the stacks read (GetObject, each an object ARN without
    wildcards in every environment)."""
    for logical, props in of_type(subject, "AWS::EC2::VPCEndpoint"):
        service = sub_text(props.get("ServiceName")) or ""
        if props.get("VpcEndpointType") != "Gateway" or not service.endswith(".s3"):
            continue
        document = props.get("PolicyDocument")
        if not document:
            yield logical, "the S3 gateway endpoint has no policy: it reaches every bucket in the region"
            continue
        for statement in statements(document):
            sid = statement.get("Sid", "")
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement or "NotResource" in statement:
                yield logical, f"statement {sid!r}: NotAction/NotResource widen the endpoint policy"
                continue
            actions = as_list(statement.get("Action"))
            if any("*" in str(a) for a in actions):
                yield logical, f"statement {sid!r}: wildcard action {actions}"
            resource = statement.get("Resource")
            if isinstance(resource, dict) and set(resource) == {"Ref"}:
                # exact objects outside the project bucket (model artifact, baselines), per environment
                if actions != ["s3:GetObject"]:
                    yield logical, f"statement {sid!r}: objects named by a parameter may only be read (s3:GetObject)"
                value = parameter_value(subject, resource)
                arns = value.split(",") if isinstance(value, str) else as_list(value)
                if not arns or any(not _EXACT_OBJECT_ARN.match(str(a)) for a in arns):
                    yield logical, (f"statement {sid!r}: {resource['Ref']}={value!r} in {subject.environment}: "
                                    "every entry must be one exact S3 object ARN (no wildcard, no bucket-wide ARN)")
                continue
            for item in as_list(resource):
                kind = _gateway_resource_kind(subject, item)
                if kind is None:
                    yield logical, f"statement {sid!r}: resource {item!r} is neither the project bucket, the ECR " \
                                   "layer bucket nor a parameter of exact object ARNs"
                elif kind == "ecr-layers" and actions != ["s3:GetObject"]:
                    yield logical, f"statement {sid!r}: the ECR layer bucket may only be read (s3:GetObject)"


def _security_group_rules(subject: Subject) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical, props in of_type(subject, "AWS::EC2::SecurityGroup"):
        for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
            for rule in as_list(props.get(key)):
                yield logical, rule
    for logical, props in of_type(subject, "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        yield logical, props


def check_security_group_rules_closed_and_described(subject: Subject) -> Problems:
    """No security-group rule opens to 0.0.0.0/0 or ::/0 (with this environment's values), and every rule
    says what it is for."""
    for logical, rule in _security_group_rules(subject):
        for key in ("CidrIp", "CidrIpv6"):
            value = parameter_value(subject, rule.get(key))
            if value in OPEN_CIDRS:
                yield logical, f"a rule opens {key} {value} (in {subject.environment})"
        if not (isinstance(rule.get("Description"), str) and rule["Description"].strip()):
            yield logical, "a rule has no Description"


def check_created_vpc_has_flow_logs(subject: Subject) -> Problems:
    """A VPC the stacks create records all its traffic in flow logs."""
    logged = {
        (props.get("ResourceId") or {}).get("Ref") for _, props in of_type(subject, "AWS::EC2::FlowLog")
        if isinstance(props.get("ResourceId"), dict) and props.get("TrafficType") == "ALL"
    }
    for logical, _ in of_type(subject, "AWS::EC2::VPC"):
        if logical not in logged:
            yield logical, "no AWS::EC2::FlowLog with TrafficType ALL records this VPC"


# --- IAM ----------------------------------------------------------------------------------------


def _iam_statements(subject: Subject) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical, props in of_type(subject, "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for policy in as_list(props.get("Policies")):
            for statement in statements((policy or {}).get("PolicyDocument")):
                yield logical, statement
    for logical, props in of_type(subject, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for statement in statements(props.get("PolicyDocument")):
            yield logical, statement


def check_iam_actions_explicit(subject: Subject) -> Problems:
    """IAM grants name every action: no `*` in an action, no NotAction/NotResource in an Allow, no AWS
    managed policy attached (they grant far more than a job needs)."""
    for logical, statement in _iam_statements(subject):
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid", "")
        for key in ("NotAction", "NotResource"):
            if key in statement:
                yield logical, f"statement {sid!r} uses {key} in an Allow"
        wild = [a for a in as_list(statement.get("Action")) if "*" in str(a)]
        if wild:
            yield logical, f"statement {sid!r} allows wildcard actions {wild}"
    for logical, props in of_type(subject, "AWS::IAM::Role"):
        if props.get("ManagedPolicyArns"):
            yield logical, "ManagedPolicyArns attaches managed policies; grant the actions inline instead"


def check_iam_wildcard_resources_allowlisted(subject: Subject) -> Problems:
    """`Resource: "*"` only for actions in WILDCARD_ALLOWED, where AWS supports nothing narrower."""
    for logical, statement in _iam_statements(subject):
        if statement.get("Effect") != "Allow" or "*" not in as_list(statement.get("Resource")):
            continue
        extra = sorted(set(map(str, as_list(statement.get("Action")))) - set(WILDCARD_ALLOWED)
                       - {a for a, (key, value, _) in WILDCARD_WITH_CONDITION.items()
                          if ((statement.get("Condition") or {}).get("StringEquals") or {}).get(key) == value})
        if extra:
            yield logical, (f"statement {statement.get('Sid', '')!r} grants {extra} on Resource '*'; scope them "
                            "to ARNs, or add them to WILDCARD_ALLOWED with the reason AWS allows nothing narrower")


def check_roles_trust_only_sagemaker(subject: Subject) -> Problems:
    """Every role trusts only sagemaker.amazonaws.com (the catalog's launch role only servicecatalog.amazonaws.com,
    TRUSTED_SERVICE_BY_STACK; the processing engine's scheduler role only scheduler.amazonaws.com,
    TRUSTED_SERVICE_BY_ROLE), and only on behalf of this account (aws:SourceAccount)."""
    for logical, props in of_type(subject, "AWS::IAM::Role"):
        service = TRUSTED_SERVICE_BY_ROLE.get((subject.stack, logical),
                                              TRUSTED_SERVICE_BY_STACK.get(subject.stack, SAGEMAKER_SERVICE))
        trust = statements(props.get("AssumeRolePolicyDocument"))
        allows = [s for s in trust if s.get("Effect") == "Allow"]
        if not allows:
            yield logical, "the trust policy allows nobody"
        for statement in allows:
            principal = statement.get("Principal")
            services = as_list(principal.get("Service")) if isinstance(principal, dict) and set(principal) == {"Service"} \
                else None
            if services != [service]:
                yield logical, f"the trust policy admits {principal!r}; only {service} may assume this role"
            if as_list(statement.get("Action")) != ["sts:AssumeRole"]:
                yield logical, f"the trust policy allows {statement.get('Action')!r}; only sts:AssumeRole"
            account = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("aws:SourceAccount")
            if account != {"Ref": "AWS::AccountId"} and not re.fullmatch(r"\d{12}", str(account)):
                yield logical, "the trust policy needs StringEquals aws:SourceAccount (confused-deputy protection)"


def _image_repository(resource: Any) -> bool:
    """An ECR repository ARN of an AWS-owned Model Monitor or Clarify image, its account looked up in the
    template's image Mapping for the stack's region (never typed in), or NoValue behind a condition."""
    if isinstance(resource, dict) and set(resource) == {"Fn::If"}:
        _, yes, no = resource["Fn::If"]
        return all(_image_repository(r) for r in (yes, no))
    if resource == {"Ref": "AWS::NoValue"}:
        return True
    if not (isinstance(resource, dict) and set(resource) == {"Fn::Sub"} and isinstance(resource["Fn::Sub"], list)):
        return False
    text, variables = resource["Fn::Sub"]
    match = re.fullmatch(r"arn:\$\{AWS::Partition\}:ecr:\$\{AWS::Region\}:\$\{Account\}:repository/([a-z0-9\-]+)", text)
    account = (variables or {}).get("Account")
    return bool(match) and match.group(1) in AWS_IMAGE_REPOSITORIES and account in (
        {"Fn::FindInMap": [mapping, {"Ref": "AWS::Region"}, "Account"]} for mapping in IMAGE_MAPPINGS)


def check_image_pulls_from_the_image_table(subject: Subject) -> Problems:
    """The monitoring stack's ECR pull actions name exactly the AWS image repositories, in the region's
    account of the image Mappings (built from the SDK's table): never `*`, another repository, or an
    account typed by hand (one account for every region is the aws/aws-cdk#12208 mistake).
    (The endpoint role pulls the model's own image, named per environment: not this rule.)"""
    if subject.stack != "monitoring":
        return
    for logical, statement in _iam_statements(subject):
        actions = {str(a) for a in as_list(statement.get("Action"))}
        if statement.get("Effect") != "Allow" or not actions & ECR_PULL_ACTIONS:
            continue
        bad = [r for r in as_list(statement.get("Resource")) if not _image_repository(r)]
        if bad:
            yield logical, (f"statement {statement.get('Sid', '')!r} grants ECR pulls on {bad!r}; name the image "
                            "repositories with the account from the ModelMonitorImage/ClarifyImage Mapping")


# --- waivers ------------------------------------------------------------------------------------


def check_scanner_skips_have_reasons(subject: Subject) -> Problems:
    """A scanner check is waived only in the resource's Metadata, and every waiver says why."""
    for logical, resource in subject.resources.items():
        metadata = resource.get("Metadata") or {}
        for skip in as_list((metadata.get("checkov") or {}).get("skip")):
            reason = str((skip or {}).get("comment") or "")
            if not (skip or {}).get("id") or len(reason.strip()) < MIN_SKIP_REASON:
                yield logical, f"checkov skip {skip!r} has no reason (comment of {MIN_SKIP_REASON}+ characters)"
        ignored = ((metadata.get("cfn-lint") or {}).get("config") or {}).get("ignore_checks") or []
        reasons = metadata.get("cfn-lint-reasons") or {}
        for rule in ignored:
            if len(str(reasons.get(rule, "")).strip()) < MIN_SKIP_REASON:
                yield logical, f"cfn-lint ignore {rule} has no reason under Metadata.cfn-lint-reasons"


CHECKS: tuple[Callable[[Subject], Problems], ...] = (
    check_job_definitions_private_and_encrypted,
    check_endpoint_config_encrypted_with_complete_capture,
    check_model_network_isolated_unless_clarify_needs_it,
    check_data_stores_retained,
    check_buckets_locked_down,
    check_kms_keys_rotate_and_admit_nobody_at_large,
    check_topics_and_log_groups_encrypted,
    check_s3_gateway_endpoint_scoped,
    check_security_group_rules_closed_and_described,
    check_created_vpc_has_flow_logs,
    check_iam_actions_explicit,
    check_iam_wildcard_resources_allowlisted,
    check_roles_trust_only_sagemaker,
    check_image_pulls_from_the_image_table,
    check_scanner_skips_have_reasons,
)


def rule_name(check: Callable[[Subject], Problems]) -> str:
    return check.__name__.removeprefix("check_")


def run_checks(subjects: list[Subject], checks: tuple[Callable[[Subject], Problems], ...] = CHECKS) -> list[Finding]:
    findings = []
    for subject in subjects:
        for check in checks:
            for resource, message in check(subject):
                if subject.endpoint is not None and subject.values_file != f"{subject.stack}.parameters.json":
                    message += f" (with the values of {subject.values_file})"  # a fleet endpoint's
                findings.append(Finding("mmtool", rule_name(check), subject.file, resource, message))
    return findings
