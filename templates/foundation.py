"""foundation: encryption, storage and the monitoring jobs' execution role.

Resources
  KmsKey, KmsKeyAlias   customer-managed key with rotation (only when no existing key ARN is given);
                        retained on delete and replacement
  Bucket, BucketPolicy  SSE-KMS with a bucket key, versioning, all public access blocked, owner-enforced
                        objects, TLS-only policy, lifecycle expiry per prefix; retained on delete and replacement
  MonitoringRole        SageMaker execution role for monitoring and baselining jobs: trusts only
                        sagemaker.amazonaws.com from this account; S3 scoped to prefixes
Outputs (also written to SSM for the other stacks)
  BucketName, KmsKeyArn, MonitoringRoleArn, MonitoringRoleName

Bucket layout (prefixes):
  <capture_prefix>/        Data Capture of the endpoint (read by jobs, expires)
  <batch_capture_prefix>/  batch-transform capture (read by jobs, expires)
  baselines/               baselining job output (written by baselining, read by jobs)
  monitoring-assets/       pre-/post-processor scripts under content-hashed keys (read by jobs)
  reports/                 monitoring job output (written by jobs, expires)
"""

from __future__ import annotations

from awacs import cloudwatch, ec2, kms, logs, s3
from awacs.aws import (
    Allow,
    Bool,
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
from troposphere import Equals, GetAtt, If, Ref, Sub
from troposphere.iam import Policy, Role
from troposphere.kms import Alias, Key
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from mmtool.params import Params
from templates.common import StackTemplate, name, retain

STACK = "foundation"
DEPENDS_ON: tuple[str, ...] = ()
PROTECTED_RESOURCES = ("Bucket", "KmsKey")

BASELINES_PREFIX = "baselines"
ASSETS_PREFIX = "monitoring-assets"
REPORTS_PREFIX = "reports"

# Data-quality and model-quality jobs publish under these namespaces (reference §6.4).
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
    )
    capture_prefix = st.param(
        "CapturePrefix", "Bucket prefix Data Capture writes to.", group="Storage", label="Capture prefix",
        Default="datacapture", AllowedPattern=r"^[a-zA-Z0-9!_.*'()\-]+(/[a-zA-Z0-9!_.*'()\-]+)*$",
    )
    batch_prefix = st.param(
        "BatchCapturePrefix", "Bucket prefix for batch-transform capture.", group="Storage",
        label="Batch capture prefix", Default="batch-capture",
        AllowedPattern=r"^[a-zA-Z0-9!_.*'()\-]+(/[a-zA-Z0-9!_.*'()\-]+)*$",
    )
    capture_days = st.param(
        "CaptureRetentionDays", "Days after which captured data expires.", group="Storage",
        label="Capture retention (days)", type="Number", Default="30", MinValue=1, MaxValue=3650,
    )
    report_days = st.param(
        "ReportRetentionDays", "Days after which monitoring reports expire.", group="Storage",
        label="Report retention (days)", type="Number", Default="400", MinValue=1, MaxValue=3650,
    )
    noncurrent_days = st.param(
        "NoncurrentVersionRetentionDays", "Days an overwritten or deleted object version is kept.",
        group="Storage", label="Old version retention (days)", type="Number", Default="7", MinValue=1, MaxValue=365,
    )

    t.add_condition("CreateKmsKey", Equals(Ref(existing_key), ""))

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
                LifecycleConfiguration=LifecycleConfiguration(
                    Rules=[
                        LifecycleRule(Id="ExpireCapture", Status="Enabled", Prefix=Sub("${CapturePrefix}/"),
                                      ExpirationInDays=Ref(capture_days)),
                        LifecycleRule(Id="ExpireBatchCapture", Status="Enabled", Prefix=Sub("${BatchCapturePrefix}/"),
                                      ExpirationInDays=Ref(capture_days)),
                        LifecycleRule(Id="ExpireReports", Status="Enabled", Prefix=f"{REPORTS_PREFIX}/",
                                      ExpirationInDays=Ref(report_days)),
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
    objects = Sub("${Bucket.Arn}/*")
    t.add_resource(
        BucketPolicy(
            "BucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="DenyInsecureTransport",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[s3.Action("*")],
                        Resource=[bucket_arn, objects],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    ),
                    Statement(
                        Sid="DenyOutdatedTls",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[s3.Action("*")],
                        Resource=[bucket_arn, objects],
                        Condition=Condition(NumericLessThan("s3:TlsVersion", "1.2")),
                    ),
                ],
            ),
        )
    )

    def prefix_objects(prefix: object) -> Sub:
        return Sub("${Bucket.Arn}/${Prefix}/*", Prefix=prefix)

    readable = [Ref(capture_prefix), Ref(batch_prefix), BASELINES_PREFIX, ASSETS_PREFIX]
    writable = [REPORTS_PREFIX, BASELINES_PREFIX]
    role = t.add_resource(
        Role(
            "MonitoringRole",
            RoleName=name("monitoring"),
            Description=Sub("Model Monitor jobs of ${ProjectName}-${EnvironmentName}"),
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
                                    StringLike(
                                        "s3:prefix",
                                        [Sub("${P}/*", P=p) for p in readable + [REPORTS_PREFIX]],
                                    )
                                ),
                            ),
                            Statement(
                                Sid="ReadCaptureBaselinesAndAssets",
                                Effect=Allow,
                                Action=[s3.GetObject],
                                Resource=[prefix_objects(p) for p in readable],
                            ),
                            Statement(
                                Sid="WriteReportsAndBaselines",
                                Effect=Allow,
                                Action=[s3.PutObject, s3.AbortMultipartUpload],
                                Resource=[prefix_objects(p) for p in writable],
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
                            # VPC mode: SageMaker validates these with an unscoped check when the job
                            # starts, so they cannot be limited to resource ARNs (reference §7.1).
                            Statement(
                                Sid="VpcModeNetworkInterfaces",
                                Effect=Allow,
                                Action=[
                                    ec2.CreateNetworkInterface,
                                    ec2.CreateNetworkInterfacePermission,
                                    ec2.DeleteNetworkInterface,
                                    ec2.DeleteNetworkInterfacePermission,
                                    ec2.DescribeNetworkInterfaces,
                                    ec2.DescribeVpcs,
                                    ec2.DescribeDhcpOptions,
                                    ec2.DescribeSubnets,
                                    ec2.DescribeSecurityGroups,
                                ],
                                Resource=["*"],
                            ),
                        ],
                    ),
                )
            ],
        )
    )

    st.publish("BucketName", "bucket-name", Ref(bucket), "Project bucket (capture, baselines, assets, reports)")
    st.publish("KmsKeyArn", "kms-key-arn", key_arn, "KMS key that encrypts everything of this environment")
    st.publish("MonitoringRoleArn", "monitoring-role-arn", GetAtt(role, "Arn"), "Execution role of monitoring jobs")
    st.publish("MonitoringRoleName", "monitoring-role-name", Ref(role), "Name of the monitoring execution role")
    return st


def parameter_values(params: Params) -> dict[str, str]:
    storage = params.storage
    return {
        "ExistingKmsKeyArn": params.encryption.kms_key_arn or "",
        "CapturePrefix": storage.capture_prefix,
        "BatchCapturePrefix": storage.batch_capture_prefix,
        "CaptureRetentionDays": str(storage.capture_retention_days),
        "ReportRetentionDays": str(storage.report_retention_days),
        "NoncurrentVersionRetentionDays": str(storage.noncurrent_version_retention_days),
    }
