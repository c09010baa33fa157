"""foundation: encryption, storage and the monitoring jobs' execution role.

Resources
  KmsKey, KmsKeyAlias   customer-managed key with rotation (only when no existing key ARN is given);
                        retained on delete and replacement; CloudWatch alarms may use it to publish to an
                        encrypted topic (AWS's documented statement, unconditioned), EventBridge only for the
                        alarms stack's topic <project>-<env>-alarms
  Bucket, BucketPolicy  SSE-KMS with a bucket key, versioning, all public access blocked, owner-enforced
                        objects, TLS-only policy, lifecycle expiry per prefix, server access logging,
                        events to EventBridge; the policy also lets VPC flow-log delivery write under
                        vpc-flow-logs/ of this account; retained on delete and replacement
  AccessLogsBucket(+Policy)
                        destination of the bucket's server access logs: SSE-S3 (the encryption S3 log
                        delivery supports), versioning, public access blocked, TLS-only, writable only by
                        the S3 logging service for the project bucket; expiry; retained
  MonitoringRole        (SharedMonitoringRole: the single-endpoint form) SageMaker execution role for monitoring
                        and baselining jobs: trusts only sagemaker.amazonaws.com from this account; S3 scoped to
                        prefixes. A fleet has none: each endpoint's monitoring stack creates its own role, scoped
                        to that endpoint's prefixes (templates/monitoring.py)
  MonitoringRoleVpcAccess
                        the network-interface actions of VPC mode, which SageMaker validates unscoped:
                        kept apart so the scanner skip they need covers nothing else
  ScheduleGroup         (ProcessingEngine: an endpoint runs the processing engine, or catalog.offer_processing_engine
                        offers it) the EventBridge Scheduler group <project>-<env> of the processing engine's
                        schedules (templates/processing_engine.py)
Outputs (also written to SSM for the other stacks)
  BucketName, KmsKeyArn; MonitoringRoleArn, MonitoringRoleName (SharedMonitoringRole only)

Bucket layout: mmtool/config/layout.py declares every prefix, who reads and writes it and what expires; the
lifecycle rules and the monitoring role's S3 grants are made from it (docs/security.md, "The bucket layout").
"""

from __future__ import annotations

from awacs import cloudwatch, ec2, kms, logs, s3
from awacs.aws import (
    Allow,
    ArnLike,
    Bool,
    BoolIfExists,
    Condition,
    Deny,
    NumericLessThan,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from awacs.sts import AssumeRole
from troposphere import Equals, GetAtt, If, Join, Ref, Sub
from troposphere.iam import Policy, PolicyType, Role
from troposphere.kms import Alias, Key
from troposphere.scheduler import ScheduleGroup
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    EventBridgeConfiguration,
    LifecycleConfiguration,
    LifecycleRule,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
    NotificationConfiguration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from mmtool.config import layout
from mmtool.config.params import Params
from templates.common import StackTemplate, bucket_prefixes, name, retain, scanner_skips

STACK = "foundation"
DEPENDS_ON: tuple[str, ...] = ()
PROTECTED_RESOURCES = ("Bucket", "KmsKey")
# Refused by the plan when removed or replaced, like the protected ones, but not in the stack policy: the group exists
# only where its Condition holds (deployer/manifest.py, guarded_resources). EventBridge Scheduler deletes a group's
# schedules with the group, and Service Catalog launches put theirs in it, which no build can see.
GUARDED_RESOURCES = {
    "ScheduleGroup": "removing it deletes every schedule in it, those of Service Catalog launches included "
                     "(EventBridge Scheduler deletes a group's schedules with the group); keep the processing engine "
                     "(catalog.offer_processing_engine, or an endpoint's monitoring.engine) while a launch uses it",
}

# The bucket's fixed prefixes (mmtool/config/layout.py lays the bucket out).
BASELINES_PREFIX = layout.BASELINES.prefix
ASSETS_PREFIX = layout.ASSETS.prefix
REPORTS_PREFIX = layout.REPORTS.prefix
MONITORING_ROLE_SUFFIX = "monitoring"  # <project>-<env>-monitoring; a fleet endpoint's: <project>-<env>-<key>-monitoring
FLOW_LOGS_PREFIX = layout.FLOW_LOGS.prefix
ACCESS_LOGS_PREFIX = "project-bucket/"  # key prefix of the project bucket's logs in the access-log bucket

# Why the parts that scanners flag are as they are (also the reasons shown in the skips).
VPC_MODE_SKIP_REASON = ("SageMaker VPC mode validates these EC2 network-interface actions without resource scope or "
                        "condition when it creates the job or model (reference 7.1); this policy holds only them")

# The alarms stack's topic (templates/alarms.py names it the same way).
ALARM_TOPIC_ARN = Sub("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${ProjectName}-${EnvironmentName}-alarms")

# Data-quality and model-quality jobs publish under these namespaces (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html).
METRIC_NAMESPACES = ["aws/sagemaker/Endpoints/*", "aws/sagemaker/ModelMonitoring/*"]


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor foundation: KMS key, capture/report bucket, monitoring execution role")
    t = st.template
    existing_key = st.param(
        "ExistingKmsKeyArn",
        "ARN of an existing customer-managed KMS key; empty to create one.",
        group="Encryption",
        label="Existing KMS key ARN (optional)",
        Default="",
        AllowedPattern=r"^(arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[a-zA-Z0-9\-]+)?$",
        value=lambda i: i.params.encryption.kms_key_arn or "",
    )
    st.param(
        "CapturePrefix", "Bucket prefix Data Capture writes to.", group="Storage", label="Capture prefix",
        Default=layout.CAPTURE.prefix, AllowedPattern=layout.PREFIX_PATTERN,
        value=lambda i: i.params.storage.capture_prefix,
    )
    st.param(
        "BatchCapturePrefix", "Bucket prefix for batch-transform capture.", group="Storage",
        label="Batch capture prefix", Default=layout.BATCH_CAPTURE.prefix,
        AllowedPattern=layout.PREFIX_PATTERN,
        value=lambda i: i.params.storage.batch_capture_prefix,
    )
    st.param(
        "GroundTruthPrefix", "Bucket prefix of ground-truth labels (read by model-quality and bias jobs).",
        group="Storage", label="Ground-truth prefix", Default=layout.GROUND_TRUTH.prefix,
        AllowedPattern=layout.PREFIX_PATTERN,
        value=lambda i: i.params.storage.ground_truth_prefix,
    )
    st.param(
        "CaptureRetentionDays", "Days after which captured data expires.", group="Storage",
        label="Capture retention (days)", type="Number", Default="30", MinValue=1, MaxValue=3650,
        value=lambda i: str(i.params.storage.capture_retention_days),
    )
    st.param(
        "ReportRetentionDays", "Days after which monitoring reports expire.", group="Storage",
        label="Report retention (days)", type="Number", Default="400", MinValue=1, MaxValue=3650,
        value=lambda i: str(i.params.storage.report_retention_days),
    )
    noncurrent_days = st.param(
        "NoncurrentVersionRetentionDays", "Days an overwritten or deleted object version is kept.",
        group="Storage", label="Old version retention (days)", type="Number", Default="7", MinValue=1, MaxValue=365,
        value=lambda i: str(i.params.storage.noncurrent_version_retention_days),
    )
    log_days = st.param(
        "LogRetentionDays", "Days after which S3 access logs and VPC flow logs expire.", group="Storage",
        label="Log retention (days)", type="Number", Default="365", MinValue=90, MaxValue=3650,
    )

    shared_role = st.flag(
        "SharedMonitoringRole", "Create the environment's monitoring role (the single-endpoint form); false in a "
        "fleet, where each endpoint's monitoring stack has a role of its own.", group="Monitoring role",
        label="Shared monitoring role", value=lambda i: any(e.legacy for e in i.params.fleet()),
    )
    processing = st.flag(
        "ProcessingEngine", "Create the environment's EventBridge Scheduler group: an endpoint runs the processing "
        "engine (monitoring.engine processing or both).", group="Processing engine", label="Schedule group",
        default="false", value=lambda i: i.params.has_processing_engine,
    )
    t.add_condition("ProcessingEngine", Equals(Ref(processing), "true"))
    t.add_condition("CreateKmsKey", Equals(Ref(existing_key), ""))
    t.add_condition("SharedMonitoringRole", Equals(Ref(shared_role), "true"))

    key = t.add_resource(
        retain(
            Key(
                "KmsKey",
                Condition="CreateKmsKey",
                Description=Sub("Model Monitor data of ${ProjectName}-${EnvironmentName}"),
                EnableKeyRotation=True,
                PendingWindowInDays=30,
                KeyPolicy=PolicyDocument(
                    Version="2012-10-17",
                    Statement=[
                        # The account root lets IAM policies grant use of the key (the role below gets
                        # exactly the actions it needs); without it the key could become unmanageable.
                        Statement(
                            Sid="AccountAdministersKeyThroughIam",
                            Effect=Allow,
                            Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
                            Action=[kms.Action("*")],
                            Resource=["*"],  # in a key policy "*" means this key
                        ),
                        # Grants only for AWS resources (SageMaker volumes, endpoints) or from AWS
                        # services: nobody can hand out lasting use of the key with a grant.
                        Statement(
                            Sid="GrantsOnlyForAwsResources",
                            Effect=Deny,
                            Principal=Principal("AWS", "*"),
                            Action=[kms.CreateGrant],
                            Resource=["*"],
                            Condition=Condition(BoolIfExists({
                                "kms:GrantIsForAWSResource": "false",
                                "aws:PrincipalIsAWSService": "false",
                            })),
                        ),
                        # VPC flow logs (network stack) land in the bucket under SSE-KMS: log delivery
                        # for this account, and only for it, may create data keys for them.
                        Statement(
                            Sid="FlowLogDeliveryEncrypts",
                            Effect=Allow,
                            Principal=Principal("Service", "delivery.logs.amazonaws.com"),
                            Action=[kms.GenerateDataKey, kms.Decrypt],
                            Resource=["*"],
                            Condition=Condition([
                                StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
                                ArnLike("aws:SourceArn",
                                        Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*")),
                            ]),
                        ),
                        # The alarms stack's SNS topic is encrypted with this key: the services that
                        # publish to it need a data key. For CloudWatch alarms this is AWS's documented
                        # statement, exactly ("Allow_CloudWatch_for_CMK": cloudwatch.amazonaws.com,
                        # kms:Decrypt and kms:GenerateDataKey*, Resource "*", no condition), from
                        # https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns and the SNS
                        # guide, https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
                        # #compatibility-with-aws-services. AWS documents no condition key for the KMS call
                        # SNS makes for an alarm; one the call lacks would make this statement never match,
                        # and CloudWatch would drop every alarm notification silently. Who may publish is
                        # limited where AWS documents the keys: the topic policy (alarms stack) admits
                        # CloudWatch only for this account's <project>-<env>-* alarms (aws:SourceArn,
                        # aws:SourceAccount). `make verify-notifications` proves the path on a real deploy.
                        Statement(
                            Sid="AlarmsPublishToEncryptedTopic",
                            Effect=Allow,
                            Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                            Action=[kms.Decrypt, kms.Action("GenerateDataKey*")],
                            Resource=["*"],
                        ),
                        # EventBridge delivery sends no aws:SourceAccount / aws:SourceArn either (AWS SNS
                        # docs, same section), so its grant is bound to our topic through the encryption
                        # context SNS always sets.
                        Statement(
                            Sid="EventBridgePublishesToEncryptedTopic",
                            Effect=Allow,
                            Principal=Principal("Service", "events.amazonaws.com"),
                            Action=[kms.Decrypt, kms.GenerateDataKey],
                            Resource=["*"],
                            Condition=Condition(StringEquals("kms:EncryptionContext:aws:sns:topicArn", ALARM_TOPIC_ARN)),
                        ),
                    ],
                ),
            )
        )
    )
    t.add_resource(
        Alias("KmsKeyAlias", Condition="CreateKmsKey", AliasName=Sub("alias/${ProjectName}-${EnvironmentName}"),
              TargetKeyId=Ref(key))
    )
    key_arn = If("CreateKmsKey", GetAtt(key, "Arn"), Ref(existing_key))

    access_logs = t.add_resource(
        retain(
            Bucket(
                "AccessLogsBucket",
                Metadata=scanner_skips(checkov={
                    "CKV_AWS_18": "this is the access-log destination; S3 advises against logging a log destination "
                                  "(every delivery would be logged again)",
                }),
                # S3 server access log delivery writes only to SSE-S3 destinations; the logs hold
                # request metadata, never captured data.
                BucketEncryption=BucketEncryption(
                    ServerSideEncryptionConfiguration=[
                        ServerSideEncryptionRule(
                            ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
                        )
                    ]
                ),
                VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
                PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
                    BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
                ),
                OwnershipControls=OwnershipControls(Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
                LifecycleConfiguration=LifecycleConfiguration(Rules=[
                    LifecycleRule(
                        Id="ExpireLogs", Status="Enabled", ExpirationInDays=Ref(log_days),
                        NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=Ref(noncurrent_days)),
                        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
                    ),
                ]),
                NotificationConfiguration=NotificationConfiguration(
                    EventBridgeConfiguration=EventBridgeConfiguration(EventBridgeEnabled=True)
                ),
            )
        )
    )

    bucket = t.add_resource(
        retain(
            Bucket(
                "Bucket",
                BucketEncryption=BucketEncryption(
                    ServerSideEncryptionConfiguration=[
                        ServerSideEncryptionRule(
                            BucketKeyEnabled=True,
                            ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                                SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn
                            ),
                        )
                    ]
                ),
                VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
                PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
                    BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
                ),
                OwnershipControls=OwnershipControls(Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
                LoggingConfiguration=LoggingConfiguration(
                    DestinationBucketName=Ref(access_logs), LogFilePrefix=ACCESS_LOGS_PREFIX
                ),
                NotificationConfiguration=NotificationConfiguration(
                    EventBridgeConfiguration=EventBridgeConfiguration(EventBridgeEnabled=True)
                ),
                LifecycleConfiguration=LifecycleConfiguration(
                    Rules=[
                        # one rule per expiring area of the layout, in its order
                        *(LifecycleRule(Id=area.lifecycle_id, Status="Enabled",
                                        Prefix=Sub(f"${{{area.parameter}}}/") if area.configurable else f"{area.prefix}/",
                                        ExpirationInDays=Ref(area.retention))
                          for area in layout.expiring()),
                        LifecycleRule(
                            Id="ExpireOldVersionsAndUploads",
                            Status="Enabled",
                            NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=Ref(noncurrent_days)),
                            AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
                        ),
                    ]
                ),
            )
        )
    )
    bucket_arn = GetAtt(bucket, "Arn")
    this_account = StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))
    log_delivery = ArnLike("aws:SourceArn", Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"))
    t.add_resource(
        BucketPolicy(
            "BucketPolicy",
            Metadata=TLS_ONLY_METADATA,
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=tls_only(bucket) + [
                    # Flow logs of the network stack's VPC (AWS's bucket policy for log delivery to S3).
                    Statement(
                        Sid="FlowLogDeliveryChecksAcl",
                        Effect=Allow,
                        Principal=Principal("Service", "delivery.logs.amazonaws.com"),
                        Action=[s3.GetBucketAcl, s3.ListBucket],
                        Resource=[bucket_arn],
                        Condition=Condition([this_account, log_delivery]),
                    ),
                    Statement(
                        Sid="FlowLogDeliveryWrites",
                        Effect=Allow,
                        Principal=Principal("Service", "delivery.logs.amazonaws.com"),
                        Action=[s3.PutObject],
                        Resource=[Sub(f"${{Bucket.Arn}}/{FLOW_LOGS_PREFIX}/AWSLogs/${{AWS::AccountId}}/*")],
                        Condition=Condition([
                            StringEquals({"aws:SourceAccount": Ref("AWS::AccountId"),
                                          "s3:x-amz-acl": "bucket-owner-full-control"}),
                            log_delivery,
                        ]),
                    ),
                ],
            ),
        )
    )
    t.add_resource(
        BucketPolicy(
            "AccessLogsBucketPolicy",
            Metadata=TLS_ONLY_METADATA,
            Bucket=Ref(access_logs),
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=tls_only(access_logs) + [
                    Statement(
                        Sid="ServerAccessLogsOfProjectBucket",
                        Effect=Allow,
                        Principal=Principal("Service", "logging.s3.amazonaws.com"),
                        Action=[s3.PutObject],
                        Resource=[Sub(f"${{AccessLogsBucket.Arn}}/{ACCESS_LOGS_PREFIX}*")],
                        Condition=Condition([this_account, ArnLike("aws:SourceArn", bucket_arn)]),
                    ),
                ],
            ),
        )
    )

    role = t.add_resource(monitoring_role(
        "MonitoringRole", name(MONITORING_ROLE_SUFFIX), Sub("Model Monitor jobs of ${ProjectName}-${EnvironmentName}"),
        bucket_arn, lambda prefix: Sub("${Bucket.Arn}/${Prefix}/*", Prefix=prefix),
        readable=bucket_prefixes(layout.readable_by(layout.JOBS), scoped=False),
        writable=bucket_prefixes(layout.writable_by(layout.JOBS), scoped=False), reports=REPORTS_PREFIX, key_arn=key_arn,
    ))
    role.Condition = "SharedMonitoringRole"

    t.add_resource(vpc_mode_policy("MonitoringRoleVpcAccess", role, condition="SharedMonitoringRole"))

    # One group per environment; the endpoints' monitoring stacks name it <project>-<env> (templates/processing_engine.py).
    t.add_resource(ScheduleGroup("ScheduleGroup", Condition="ProcessingEngine", Name=name()))
    st.publish("BucketName", "bucket-name", Ref(bucket), "Project bucket (capture, baselines, assets, reports)")
    st.publish("KmsKeyArn", "kms-key-arn", key_arn, "KMS key that encrypts everything of this environment")
    st.publish("MonitoringRoleArn", "monitoring-role-arn", GetAtt(role, "Arn"), "Execution role of monitoring jobs",
               condition="SharedMonitoringRole")
    st.publish("MonitoringRoleName", "monitoring-role-name", Ref(role), "Name of the monitoring execution role",
               condition="SharedMonitoringRole")
    return st


def monitoring_role(title: str, role_name: object, description: object, bucket_arn: object, objects,
                    *, readable: list, writable: list, reports: object, key_arn: object) -> Role:
    """The execution role of monitoring and baselining jobs: trusts only SageMaker of this account; reads the
    `readable` prefixes of the bucket and writes the `writable` ones (`objects(prefix)` is the ARN of the objects
    under a prefix); uses the key; writes job logs and the monitors' metrics."""
    return Role(
        title,
        RoleName=role_name,
        Description=description,
        MaxSessionDuration=3600,
        AssumeRolePolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Service", "sagemaker.amazonaws.com"),
                    Action=[AssumeRole],
                    Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
                )
            ],
        ),
        Policies=[
            Policy(
                PolicyName="monitoring-job",
                PolicyDocument=PolicyDocument(
                    Version="2012-10-17",
                    Statement=[
                        Statement(
                            Sid="LocateBucket",
                            Effect=Allow,
                            Action=[s3.GetBucketLocation],
                            Resource=[bucket_arn],
                        ),
                        Statement(
                            Sid="ListOwnPrefixes",
                            Effect=Allow,
                            Action=[s3.ListBucket],
                            Resource=[bucket_arn],
                            Condition=Condition(
                                StringLike("s3:prefix", [Sub("${P}/*", P=p) for p in readable + [reports]])
                            ),
                        ),
                        Statement(
                            Sid="ReadCaptureBaselinesAndAssets",
                            Effect=Allow,
                            Action=[s3.GetObject],
                            Resource=[objects(p) for p in readable],
                        ),
                        Statement(
                            Sid="WriteReportsAndBaselines",
                            Effect=Allow,
                            Action=[s3.PutObject, s3.AbortMultipartUpload],
                            Resource=[objects(p) for p in writable],
                        ),
                        Statement(
                            Sid="UseProjectKey",
                            Effect=Allow,
                            Action=[kms.Decrypt, kms.Encrypt, kms.GenerateDataKey, kms.DescribeKey],
                            Resource=[key_arn],
                        ),
                        Statement(
                            Sid="EncryptJobVolumes",
                            Effect=Allow,
                            Action=[kms.CreateGrant],
                            Resource=[key_arn],
                            Condition=Condition(Bool("kms:GrantIsForAWSResource", "true")),
                        ),
                        Statement(
                            Sid="JobLogs",
                            Effect=Allow,
                            Action=[logs.CreateLogGroup, logs.CreateLogStream, logs.PutLogEvents,
                                    logs.DescribeLogStreams],
                            Resource=[
                                Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/*"),
                            ],
                        ),
                        # cloudwatch:PutMetricData supports no resource ARN; the namespace condition
                        # is the narrowest scope AWS offers.
                        Statement(
                            Sid="PublishMonitorMetrics",
                            Effect=Allow,
                            Action=[cloudwatch.PutMetricData],
                            Resource=["*"],
                            Condition=Condition(StringLike("cloudwatch:namespace", METRIC_NAMESPACES)),
                        ),
                    ],
                ),
            )
        ],
    )


TLS_ONLY_METADATA = scanner_skips(cfn_lint={
    "I1022": "the TLS-only statements write the object ARN as Fn::Join of the bucket Arn and '/*', the only "
             "form the Control Tower rule CT.S3.PR.8 recognises",
})


def tls_only(bucket: Bucket) -> list[Statement]:
    """Deny every request to the bucket and its objects without TLS, or with TLS older than 1.2.

    The object ARN is written `Join` of the bucket's Arn and "/*": the form the Control Tower rule
    CT.S3.PR.8 recognises.
    """
    resources = [GetAtt(bucket, "Arn"), Join("", [GetAtt(bucket, "Arn"), "/*"])]
    return [
        Statement(
            Sid="DenyInsecureTransport",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.Action("*")],
            Resource=resources,
            Condition=Condition(Bool("aws:SecureTransport", "false")),
        ),
        Statement(
            Sid="DenyOutdatedTls",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.Action("*")],
            Resource=resources,
            Condition=Condition(NumericLessThan("s3:TlsVersion", "1.2")),
        ),
    ]


VPC_MODE_ACTIONS = [
    ec2.CreateNetworkInterface,
    ec2.CreateNetworkInterfacePermission,
    ec2.DeleteNetworkInterface,
    ec2.DeleteNetworkInterfacePermission,
    ec2.DescribeNetworkInterfaces,
    ec2.DescribeVpcs,
    ec2.DescribeDhcpOptions,
    ec2.DescribeSubnets,
    ec2.DescribeSecurityGroups,
]


def vpc_mode_policy(title: str, role: Role, *, condition: str | None = None) -> PolicyType:
    """The EC2 actions of SageMaker's VPC mode, on their own so a scanner skip covers only them.

    SageMaker validates them without resource scope or condition when it creates the job or model,
    so they cannot be limited to resource ARNs (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html).
    """
    policy = PolicyType(
        title,
        Metadata=scanner_skips(checkov={
            "CKV_AWS_111": VPC_MODE_SKIP_REASON,
            "CKV_AWS_109": VPC_MODE_SKIP_REASON,
        }),
        PolicyName="vpc-mode-network-interfaces",
        Roles=[Ref(role)],
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[Statement(Sid="VpcModeNetworkInterfaces", Effect=Allow, Action=VPC_MODE_ACTIONS, Resource=["*"])],
        ),
    )
    if condition:
        policy.Condition = condition
    return policy
