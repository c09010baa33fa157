"""catalog: the AWS Service Catalog portfolio that offers every stack template of this tool as a product.

Not one of STACKS: `make deploy` never deploys it; `make catalog` does (through the deploy engine), then
adds the product versions (provisioning artifacts) through the Service Catalog API, because a
CloudFormation-managed artifact list cannot keep old versions and deactivate them past a retention
count (mmtool/handoff/catalog.py, docs/handoff.md). Tag options are added through the API as well:
a TagOption (key, value) is unique per account and region, so a second catalog stack in the same
account creating `cost-center=ml-platform` would fail (aws-cdk#17753).

Resources
  Portfolio                     `<project>-<env>`, one per environment
  Product<Stack>                one CloudFormation product per stack template, `<project>-<env>-<stack>`,
                                tagged sagemaker:studio-visibility=true when StudioVisibility is true;
                                no versions here (the tool adds them)
  Association<Stack>            product in the portfolio
  LaunchRole                    (unless ExistingLaunchRoleArn is given) the role Service Catalog assumes to
                                provision the products: trusts only servicecatalog.amazonaws.com from this
                                account; CloudFormation only on Service Catalog's own stacks (SC-<account>-pp-*);
                                each service of the product templates scoped to this project and environment
                                (names `<project>-<env>*`, SSM `/<project>/<env>/*`) or to this account and
                                region where CloudFormation names the resource; a wildcard only where AWS has
                                no narrower resource, each with its reason
  LaunchRole*Policy             the launch role's permissions, split so that scanner waivers cover one part each
  LaunchConstraint<Stack>       the launch-role constraint of each product
  Principal<N>                  portfolio access for PrincipalRoleArn<N> (up to MAX_CATALOG_PRINCIPALS roles)
Outputs
  PortfolioId, Product<Stack>Id for each stack, LaunchRoleArn
"""

from __future__ import annotations

from awacs import cloudformation, cloudwatch, ec2, events, iam, kms, logs, route53, s3, sagemaker, scheduler, sns, sqs, ssm
from awacs.aws import Allow, Bool, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import Equals, GetAtt, If, Not, Output, Ref, Sub, Tag, Tags
from troposphere.iam import PolicyType, Role
from troposphere.servicecatalog import (
    CloudFormationProduct,
    LaunchRoleConstraint,
    Portfolio,
    PortfolioPrincipalAssociation,
    PortfolioProductAssociation,
)

from mmtool.config.monitor_kinds import KINDS
from mmtool.config.params import MAX_CATALOG_PRINCIPALS, Params
from templates import STACKS, endpoint_monitoring
from templates.common import Inputs, StackTemplate, name, scanner_skips

STACK = "catalog"
DEPENDS_ON: tuple[str, ...] = ()
PROTECTED_RESOURCES: tuple[str, ...] = ("Portfolio",)

SERVICE_CATALOG = "servicecatalog.amazonaws.com"
STUDIO_VISIBILITY_TAG = "sagemaker:studio-visibility"
# Service Catalog names the stacks it provisions SC-<account id>-pp-<provisioned product id>; a bucket that
# CloudFormation names in such a stack starts with the lowercased stack name.
SC_STACKS = "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/SC-${AWS::AccountId}-pp-*"
SC_BUCKETS = "arn:${AWS::Partition}:s3:::sc-${AWS::AccountId}-pp-*"

# Why the launch role has the wildcards it has (also the reasons of the scanner waivers).
UNSCOPED_REASON = ("the actions in this policy support no resource-level permission (EC2 Describe*, kms:CreateKey, "
                   "CloudWatch Logs delivery, CloudFormation template validation), or read Service Catalog's own "
                   "template copy in a bucket AWS owns, limited by its servicecatalog:provisioning object tag")
SCOPED_WRITE_REASON = ("Service Catalog provisions these products with this role: it must create, update and delete "
                       "the resources of the product templates; every action is scoped to this project's names, "
                       "SSM path, or this account and region where CloudFormation names the resource")


def camel(stack: str) -> str:
    """"endpoint-monitoring" -> "EndpointMonitoring" (a logical-id part)."""
    return "".join(part.capitalize() for part in stack.split("-"))


def product_logical_id(stack: str) -> str:
    return f"Product{camel(stack)}"


def product_modules() -> list:
    """The stack templates, in deploy order, then the self-service product (monitoring for an existing endpoint)."""
    return [*STACKS, endpoint_monitoring]


def product_stacks() -> list[str]:
    return [module.STACK for module in product_modules()]


def product_description(stack: str) -> str:
    """The first line of the stack module's docstring, e.g. 'foundation: encryption, storage and ...'."""
    module = next(m for m in product_modules() if m.STACK == stack)
    return (module.__doc__ or stack).strip().splitlines()[0].rstrip(".")


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor Service Catalog portfolio: one product per stack template, launch role, "
                              "principals (versions are added by `make catalog`)")
    t = st.template
    provider = st.param("ProviderName", "Portfolio provider shown to users.", group="Portfolio",
                        label="Provider name", AllowedPattern=r"^[\w .,@()\-]{1,50}$",
                        value=lambda i: i.params.catalog.provider_name)
    owner = st.param("ProductOwner", "Owner shown on every product.", group="Portfolio", label="Product owner",
                     AllowedPattern=r"^[\w .,@()\-]{1,50}$", value=lambda i: i.params.catalog.product_owner)
    visible = st.flag("StudioVisibility", "Tag the products sagemaker:studio-visibility=true (SageMaker Studio "
                      "lists them as project templates).", group="Portfolio", label="Visible in SageMaker Studio",
                      default="false", value=lambda i: i.params.catalog.studio_visibility)
    existing_role = st.param(
        "ExistingLaunchRoleArn", "ARN of an existing launch role; empty to create a least-privilege one.",
        group="Launch role", label="Existing launch role ARN (optional)", Default="",
        AllowedPattern=r"^(arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+)?$",
        value=lambda i: i.params.catalog.launch_role_arn or "",
    )
    principals = [
        st.param(f"PrincipalRoleArn{n}", f"IAM role ARN #{n} that may launch the products; empty for none.",
                 group="Principals", label=f"Principal role ARN {n} (optional)", Default="",
                 AllowedPattern=r"^(arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+)?$",
                 value=lambda i, n=n: _principal(i, n))
        for n in range(1, MAX_CATALOG_PRINCIPALS + 1)
    ]
    t.add_condition("CreateLaunchRole", Equals(Ref(existing_role), ""))
    t.add_condition("StudioVisible", Equals(Ref(visible), "true"))
    for n, principal in enumerate(principals, start=1):
        t.add_condition(f"HasPrincipal{n}", Not(Equals(Ref(principal), "")))

    portfolio = t.add_resource(Portfolio(
        "Portfolio",
        DisplayName=name(),
        ProviderName=Ref(provider),
        Description=Sub("SageMaker Model Monitor infrastructure of ${ProjectName}-${EnvironmentName}: the stack "
                        f"templates, to deploy in this order: {', '.join(m.STACK for m in STACKS)}; and "
                        f"{endpoint_monitoring.STACK}, monitoring for an existing endpoint of yours"),
    ))

    role = t.add_resource(launch_role())
    for policy in launch_policies(role):
        t.add_resource(policy)
    role_arn = If("CreateLaunchRole", GetAtt(role, "Arn"), Ref(existing_role))

    for stack in product_stacks():
        logical = product_logical_id(stack)
        product = t.add_resource(CloudFormationProduct(
            logical,
            Name=name(stack),
            Owner=Ref(owner),
            Distributor=Ref(provider),
            Description=product_description(stack),
            SupportDescription=Sub("Deploy in order; the stacks read each other's values from SSM under "
                                   "/${ProjectName}/${EnvironmentName}/."),
            Tags=_studio_tags(),
        ))
        association = t.add_resource(PortfolioProductAssociation(
            f"Association{camel(stack)}", PortfolioId=Ref(portfolio), ProductId=Ref(product),
        ))
        # A constraint needs the product in the portfolio first. (It cannot wait for the conditional role
        # policies; nothing is launchable before `make catalog` adds a version, after this stack is complete.)
        t.add_resource(LaunchRoleConstraint(
            f"LaunchConstraint{camel(stack)}",
            DependsOn=[association.title],
            PortfolioId=Ref(portfolio),
            ProductId=Ref(product),
            RoleArn=role_arn,
            Description=Sub(f"Provision {stack} of ${{ProjectName}}-${{EnvironmentName}} with the launch role"),
        ))
        t.add_output(Output(f"{logical}Id", Description=f"Service Catalog product id of the {stack} template",
                            Value=Ref(product)))

    for n, principal in enumerate(principals, start=1):
        t.add_resource(PortfolioPrincipalAssociation(
            f"Principal{n}", Condition=f"HasPrincipal{n}", PortfolioId=Ref(portfolio),
            PrincipalARN=Ref(principal), PrincipalType="IAM",
        ))

    t.add_output(Output("PortfolioId", Description="Service Catalog portfolio id", Value=Ref(portfolio)))
    t.add_output(Output("LaunchRoleArn", Description="Role Service Catalog assumes to provision the products",
                        Value=role_arn))
    return st


def _studio_tags() -> Tags:
    tags = Tags()
    tags.tags = [If("StudioVisible", Tag(STUDIO_VISIBILITY_TAG, "true"), Ref("AWS::NoValue"))]
    return tags


def launch_role() -> Role:
    return Role(
        "LaunchRole",
        Condition="CreateLaunchRole",
        RoleName=name("catalog-launch"),
        Description=Sub("Service Catalog launch role of ${ProjectName}-${EnvironmentName}'s products"),
        MaxSessionDuration=3600,
        AssumeRolePolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[Statement(
                Effect=Allow,
                Principal=Principal("Service", SERVICE_CATALOG),
                Action=[AssumeRole],
                Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
            )],
        ),
    )


def _arn(service: str, resource: str) -> Sub:
    """An ARN of this account (and region, for regional services)."""
    where = ":${AWS::AccountId}" if service == "iam" else "${AWS::Region}:${AWS::AccountId}"
    return Sub(f"arn:${{AWS::Partition}}:{service}:{where}:{resource}")


PREFIX = "${ProjectName}-${EnvironmentName}"

EC2_RESOURCES = ("vpc/*", "subnet/*", "security-group/*", "security-group-rule/*", "route-table/*", "vpc-endpoint/*",
                 "vpc-flow-log/*")
SAGEMAKER_NAMED = ("model", "endpoint", *(f"{kind.name}-job-definition" for kind in KINDS), "monitoring-schedule")
# Each monitor kind's job definition actions: awacs's constants, so a kind SageMaker lacks fails at import.
JOB_DEFINITION_ACTIONS = [getattr(sagemaker, f"{verb}{kind.stem}JobDefinition")
                          for kind in KINDS for verb in ("Create", "Delete", "Describe")]

# Which statement of the launch role covers each resource type of the product templates (a test keeps every
# type of every product template in this table: a new type needs its permissions reviewed here first).
LAUNCH_COVERAGE: dict[str, str] = {
    "AWS::KMS::Key": "Kms", "AWS::KMS::Alias": "Kms",
    "AWS::S3::Bucket": "S3", "AWS::S3::BucketPolicy": "S3",
    "AWS::IAM::Role": "Iam", "AWS::IAM::Policy": "Iam",
    "AWS::SSM::Parameter": "Ssm",
    "AWS::EC2::VPC": "Ec2", "AWS::EC2::Subnet": "Ec2", "AWS::EC2::RouteTable": "Ec2",
    "AWS::EC2::SubnetRouteTableAssociation": "Ec2", "AWS::EC2::SecurityGroup": "Ec2",
    "AWS::EC2::SecurityGroupIngress": "Ec2", "AWS::EC2::SecurityGroupEgress": "Ec2",
    "AWS::EC2::VPCEndpoint": "Ec2", "AWS::EC2::FlowLog": "Ec2",
    "AWS::SageMaker::Model": "SageMaker", "AWS::SageMaker::EndpointConfig": "SageMaker",
    "AWS::SageMaker::Endpoint": "SageMaker", **{kind.resource_type: "SageMaker" for kind in KINDS},
    "AWS::SageMaker::MonitoringSchedule": "SageMaker",
    "AWS::CloudWatch::Alarm": "CloudWatch", "AWS::CloudWatch::Dashboard": "Dashboard",
    "AWS::SNS::Topic": "Sns", "AWS::SNS::TopicPolicy": "Sns", "AWS::SNS::Subscription": "Sns",
    "AWS::Events::Rule": "Events",
    # the processing engine (templates/processing_engine.py)
    "AWS::Scheduler::Schedule": "Scheduler", "AWS::Scheduler::ScheduleGroup": "Scheduler",
    "AWS::SQS::Queue": "Sqs", "AWS::SQS::QueuePolicy": "Sqs",
    "AWS::CloudFormation::Stack": "NestedMonitoringTemplate",
}


def launch_policies(role: Role) -> list[PolicyType]:
    """The launch role's permissions: what CloudFormation, acting as this role, needs to create, update and
    delete the product stacks (Service Catalog passes the role to CloudFormation)."""
    stacks = Statement(
        Sid="ServiceCatalogStacks",
        Effect=Allow,
        Action=[cloudformation.CreateStack, cloudformation.UpdateStack, cloudformation.DeleteStack,
                cloudformation.DescribeStacks, cloudformation.DescribeStackEvents,
                cloudformation.DescribeStackResource, cloudformation.DescribeStackResources,
                cloudformation.GetTemplate, cloudformation.SetStackPolicy, cloudformation.CreateChangeSet,
                cloudformation.DescribeChangeSet, cloudformation.ExecuteChangeSet, cloudformation.DeleteChangeSet,
                cloudformation.ListChangeSets, cloudformation.ContinueUpdateRollback,
                cloudformation.TagResource, cloudformation.UntagResource],
        Resource=[Sub(SC_STACKS)],
    )
    kms_keys = _arn("kms", "key/*")
    scoped = [
        Statement(
            Sid="Kms",
            Effect=Allow,
            # A new key's id is random: key operations are scoped to this account and region.
            Action=[kms.DescribeKey, kms.PutKeyPolicy, kms.GetKeyPolicy, kms.EnableKeyRotation,
                    kms.GetKeyRotationStatus, kms.ScheduleKeyDeletion, kms.TagResource, kms.UntagResource,
                    kms.ListResourceTags, kms.UpdateKeyDescription, kms.CreateAlias, kms.DeleteAlias,
                    kms.UpdateAlias],
            Resource=[kms_keys, _arn("kms", f"alias/{PREFIX}")],
        ),
        Statement(
            Sid="KmsGrantsForSageMaker",
            Effect=Allow,
            # SageMaker validates that the caller may grant its volumes and endpoints use of the key.
            Action=[kms.CreateGrant],
            Resource=[kms_keys],
            Condition=Condition(Bool("kms:GrantIsForAWSResource", "true")),
        ),
        Statement(
            Sid="S3",
            Effect=Allow,
            Action=[s3.CreateBucket, s3.DeleteBucket, s3.PutEncryptionConfiguration, s3.GetEncryptionConfiguration,
                    s3.PutBucketVersioning, s3.GetBucketVersioning, s3.PutBucketPublicAccessBlock,
                    s3.GetBucketPublicAccessBlock, s3.PutBucketOwnershipControls, s3.GetBucketOwnershipControls,
                    s3.PutBucketLogging, s3.GetBucketLogging, s3.PutBucketNotification, s3.GetBucketNotification,
                    s3.PutLifecycleConfiguration, s3.GetLifecycleConfiguration, s3.PutBucketPolicy,
                    s3.GetBucketPolicy, s3.DeleteBucketPolicy, s3.PutBucketTagging, s3.GetBucketTagging,
                    s3.GetBucketLocation, s3.ListBucket],
            Resource=[Sub(SC_BUCKETS)],
        ),
        Statement(
            Sid="Iam",
            Effect=Allow,
            Action=[iam.CreateRole, iam.DeleteRole, iam.GetRole, iam.UpdateRole, iam.UpdateRoleDescription,
                    iam.UpdateAssumeRolePolicy, iam.PutRolePolicy, iam.DeleteRolePolicy, iam.GetRolePolicy,
                    iam.ListRolePolicies, iam.ListAttachedRolePolicies, iam.TagRole, iam.UntagRole, iam.ListRoleTags],
            Resource=[_arn("iam", f"role/{PREFIX}-*")],
        ),
        Statement(
            Sid="PassRoles",
            Effect=Allow,
            # to SageMaker (jobs, endpoints) and to EventBridge Scheduler (the processing engine's schedules run as the
            # endpoint's scheduler role); a list under StringEquals matches any of its values
            Action=[iam.PassRole],
            Resource=[_arn("iam", f"role/{PREFIX}-*")],
            Condition=Condition(StringEquals("iam:PassedToService", ["sagemaker.amazonaws.com",
                                                                      "scheduler.amazonaws.com"])),
        ),
        Statement(
            Sid="Ssm",
            Effect=Allow,
            # CloudFormation also resolves the AWS::SSM::Parameter::Value parameters with this role.
            Action=[ssm.PutParameter, ssm.DeleteParameter, ssm.GetParameter, ssm.GetParameters,
                    ssm.AddTagsToResource, ssm.RemoveTagsFromResource, ssm.ListTagsForResource],
            Resource=[_arn("ssm", "parameter/${ProjectName}/${EnvironmentName}/*")],
        ),
        Statement(
            Sid="Ec2",
            Effect=Allow,
            # CloudFormation gives these resources random ids: scoped to this account and region.
            Action=[ec2.CreateVpc, ec2.DeleteVpc, ec2.ModifyVpcAttribute, ec2.CreateSubnet, ec2.DeleteSubnet,
                    ec2.ModifySubnetAttribute, ec2.CreateRouteTable, ec2.DeleteRouteTable, ec2.AssociateRouteTable,
                    ec2.DisassociateRouteTable, ec2.CreateSecurityGroup, ec2.DeleteSecurityGroup,
                    ec2.AuthorizeSecurityGroupIngress, ec2.AuthorizeSecurityGroupEgress,
                    ec2.RevokeSecurityGroupIngress, ec2.RevokeSecurityGroupEgress,
                    ec2.UpdateSecurityGroupRuleDescriptionsIngress, ec2.UpdateSecurityGroupRuleDescriptionsEgress,
                    ec2.CreateVpcEndpoint, ec2.DeleteVpcEndpoints, ec2.ModifyVpcEndpoint, ec2.CreateFlowLogs,
                    ec2.DeleteFlowLogs, ec2.CreateTags, ec2.DeleteTags],
            Resource=[_arn("ec2", r) for r in EC2_RESOURCES],
        ),
        Statement(
            Sid="PrivateDnsOfInterfaceEndpoints",
            Effect=Allow,
            # Interface endpoints with private DNS associate the VPC with the service's hosted zone.
            Action=[route53.AssociateVPCWithHostedZone],
            Resource=[Sub("arn:${AWS::Partition}:route53:::hostedzone/*")],
        ),
        Statement(
            Sid="SageMaker",
            Effect=Allow,
            Action=[sagemaker.CreateModel, sagemaker.DeleteModel, sagemaker.DescribeModel,
                    sagemaker.CreateEndpointConfig, sagemaker.DeleteEndpointConfig, sagemaker.DescribeEndpointConfig,
                    sagemaker.CreateEndpoint, sagemaker.UpdateEndpoint, sagemaker.DeleteEndpoint,
                    sagemaker.DescribeEndpoint,
                    *JOB_DEFINITION_ACTIONS, sagemaker.CreateMonitoringSchedule,
                    sagemaker.UpdateMonitoringSchedule, sagemaker.DeleteMonitoringSchedule,
                    sagemaker.DescribeMonitoringSchedule, sagemaker.AddTags, sagemaker.DeleteTags,
                    sagemaker.ListTags],
            # Named resources by this project's prefix; CloudFormation names the endpoint configuration, and
            # the job definitions of an endpoint-monitoring launch (a changed setting replaces a definition,
            # so a fixed name would clash): those two are scoped to this account and region only.
            Resource=[_arn("sagemaker", f"{kind}/{PREFIX}*") for kind in SAGEMAKER_NAMED]
            + [_arn("sagemaker", "endpoint-config/*")]
            + [_arn("sagemaker", f"{kind}/*") for kind in SAGEMAKER_NAMED if kind.endswith("job-definition")],
        ),
        Statement(
            Sid="NestedMonitoringTemplate",
            Effect=Allow,
            # The endpoint-monitoring product nests the monitoring template that `make catalog` uploads to the
            # project bucket (SSE-KMS with the project key): CloudFormation reads it with this role.
            Action=[s3.GetObject],
            Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::{PREFIX}-*/{endpoint_monitoring.MONITORING_TEMPLATES_PREFIX}/*")],
        ),
        Statement(
            Sid="DecryptNestedMonitoringTemplate",
            Effect=Allow,
            # The project key's id is random (or the params file's own key): keys of this account and region,
            # only for S3 reads.
            Action=[kms.Decrypt],
            Resource=[kms_keys],
            Condition=Condition(StringEquals("kms:ViaService", Sub("s3.${AWS::Region}.amazonaws.com"))),
        ),
        Statement(
            Sid="CloudWatch",
            Effect=Allow,
            Action=[cloudwatch.PutMetricAlarm, cloudwatch.DeleteAlarms, cloudwatch.DescribeAlarms,
                    cloudwatch.TagResource, cloudwatch.UntagResource, cloudwatch.ListTagsForResource],
            Resource=[_arn("cloudwatch", f"alarm:{PREFIX}*")],
        ),
        Statement(
            Sid="Dashboard",
            Effect=Allow,
            Action=[cloudwatch.PutDashboard, cloudwatch.DeleteDashboards, cloudwatch.GetDashboard],
            # dashboards are global: their ARN has no region
            Resource=[Sub(f"arn:${{AWS::Partition}}:cloudwatch::${{AWS::AccountId}}:dashboard/{PREFIX}*")],
        ),
        Statement(
            Sid="Events",
            Effect=Allow,
            Action=[events.PutRule, events.DeleteRule, events.DescribeRule, events.PutTargets, events.RemoveTargets,
                    events.ListTargetsByRule, events.TagResource, events.UntagResource],
            Resource=[_arn("events", f"rule/{PREFIX}*")],
        ),
        Statement(
            Sid="Scheduler",
            Effect=Allow,
            Action=[scheduler.CreateSchedule, scheduler.UpdateSchedule, scheduler.DeleteSchedule, scheduler.GetSchedule,
                    scheduler.CreateScheduleGroup, scheduler.DeleteScheduleGroup, scheduler.GetScheduleGroup,
                    scheduler.TagResource, scheduler.UntagResource, scheduler.ListTagsForResource],
            # the environment's group <project>-<env> and the schedules in it
            Resource=[_arn("scheduler", f"schedule-group/{PREFIX}"), _arn("scheduler", f"schedule/{PREFIX}/*")],
        ),
        Statement(
            Sid="Sqs",
            Effect=Allow,
            Action=[sqs.CreateQueue, sqs.DeleteQueue, sqs.GetQueueAttributes, sqs.SetQueueAttributes, sqs.GetQueueUrl,
                    sqs.TagQueue, sqs.UntagQueue, sqs.ListQueueTags],
            Resource=[_arn("sqs", f"{PREFIX}*")],
        ),
        Statement(
            Sid="Sns",
            Effect=Allow,
            Action=[sns.CreateTopic, sns.DeleteTopic, sns.GetTopicAttributes, sns.SetTopicAttributes,
                    sns.TagResource, sns.UntagResource, sns.ListTagsForResource, sns.Subscribe, sns.Unsubscribe,
                    sns.GetSubscriptionAttributes, sns.SetSubscriptionAttributes],
            # topics named <project>-<env>*, and their subscriptions (<topic ARN>:<id>)
            Resource=[_arn("sns", f"{PREFIX}*")],
        ),
    ]
    unscoped = [
        Statement(
            Sid="TemplateValidation",
            Effect=Allow,
            # GetTemplateSummary and ValidateTemplate of a template URL name no stack: no resource to scope to.
            Action=[cloudformation.GetTemplateSummary, cloudformation.ValidateTemplate],
            Resource=["*"],
        ),
        Statement(
            Sid="ReadServiceCatalogTemplateCopy",
            Effect=Allow,
            # Service Catalog keeps its copy of each version in a bucket AWS owns, whose name is not published;
            # only objects it tagged servicecatalog:provisioning=true (AWS's documented launch-role policy).
            Action=[s3.GetObject],
            Resource=["*"],
            Condition=Condition(StringEquals("s3:ExistingObjectTag/servicecatalog:provisioning", "true")),
        ),
        Statement(
            Sid="Ec2Describe",
            Effect=Allow,
            # EC2 Describe* actions support no resource-level permission.
            Action=[ec2.DescribeVpcs, ec2.DescribeVpcAttribute, ec2.DescribeSubnets, ec2.DescribeRouteTables,
                    ec2.DescribeSecurityGroups, ec2.DescribeSecurityGroupRules, ec2.DescribeVpcEndpoints,
                    ec2.DescribeFlowLogs, ec2.DescribeAvailabilityZones, ec2.DescribePrefixLists,
                    ec2.DescribeVpcEndpointServices, ec2.DescribeNetworkInterfaces, ec2.DescribeAccountAttributes],
            Resource=["*"],
        ),
        Statement(
            Sid="CreateKey",
            Effect=Allow,
            # kms:CreateKey has no resource to scope to: the key does not exist yet.
            Action=[kms.CreateKey],
            Resource=["*"],
        ),
        Statement(
            Sid="FlowLogDeliveryToS3",
            Effect=Allow,
            # VPC flow logs to S3 create a log delivery, an action without resource-level permission.
            Action=[logs.CreateLogDelivery, logs.DeleteLogDelivery, logs.GetLogDelivery],
            Resource=["*"],
        ),
    ]
    return [
        PolicyType(
            "LaunchRoleStacksPolicy", Condition="CreateLaunchRole", PolicyName="service-catalog-stacks",
            Roles=[Ref(role)], PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[stacks]),
        ),
        PolicyType(
            "LaunchRoleResourcesPolicy", Condition="CreateLaunchRole", PolicyName="product-resources",
            Metadata=scanner_skips(checkov={"CKV_AWS_111": SCOPED_WRITE_REASON, "CKV_AWS_109": SCOPED_WRITE_REASON}),
            Roles=[Ref(role)], PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=scoped),
        ),
        PolicyType(
            "LaunchRoleUnscopedPolicy", Condition="CreateLaunchRole", PolicyName="unscoped-actions",
            Metadata=scanner_skips(checkov={"CKV_AWS_111": UNSCOPED_REASON, "CKV_AWS_108": UNSCOPED_REASON,
                                            "CKV_AWS_109": UNSCOPED_REASON}),
            Roles=[Ref(role)], PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=unscoped),
        ),
    ]


def _principal(i: Inputs, n: int) -> str | None:
    """Principal role ARN number `n` (from 1); None: an unused slot."""
    arns = i.params.catalog.principal_role_arns
    return arns[n - 1] if n <= len(arns) else None
