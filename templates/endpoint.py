"""endpoint: the real-time endpoint whose traffic is captured for monitoring.

Resources
  EndpointRole     execution role of the model: reads its artifact and pulls its image, writes
                   Data Capture under the capture prefix with the project key
  EndpointRoleVpcAccess
                   its VPC-mode network-interface actions (unscoped, as SageMaker requires), in a
                   policy of their own so the scanner skip they need covers nothing else
  Model            the inference container, in the private subnets with the job security group, network-
                   isolated except in an environment with the model-explainability monitor (Clarify makes its
                   shadow endpoint from this model; AWS requires isolation off on both); named
                   <project>-<env>-model-<ModelRevision> (a hash the build computes over the model and the
                   values it uses), because Clarify's explainability configuration names it at build time
  EndpointConfig   one production variant, KMS-encrypted storage, and Data Capture: enabled, the
                   environment's sampling percentage, Input and Output captured separately (never
                   InputAndOutput), destination s3://<bucket>/<capture prefix> (no trailing slash),
                   the project key, and the CSV/JSON content types stored as text
  Endpoint         fixed name <project>-<env> (a fleet endpoint: <project>-<env>-<key>); a new EndpointConfig
                   updates it in place (blue/green)
Outputs (also written to SSM: /<project>/<env>/endpoint/[<key>/]endpoint-name and model-name)
  EndpointName, ModelName; CaptureDestination and EndpointRoleArn as outputs

One template serves every created endpoint of every environment: EndpointKey (empty in the single-endpoint
form) scopes the names. The Model's name carries no key (the name must fit 63 characters): its revision
hashes the key too, so two endpoints serving the same model still get distinct model names.
"""

from __future__ import annotations

from awacs import cloudwatch, ecr, kms, logs, s3
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import Equals, GetAtt, If, Not, Output, Ref, Sub
from troposphere.iam import Policy, Role
from troposphere.sagemaker import ContainerDefinition, Endpoint, EndpointConfig, Model, ProductionVariant, VpcConfig

from mmtool.config import layout
from mmtool.config.params import EndpointSettings, Params
from templates.common import Inputs, StackTemplate, name, partition, s3_object_arn, ssm_name
from templates.foundation import vpc_mode_policy
from templates.sagemaker_types import CaptureContentTypeHeader, CaptureOption, EndpointDataCaptureConfig

STACK = "endpoint"
DEPENDS_ON = ("foundation", "network")
PROTECTED_RESOURCES: tuple[str, ...] = ()

MODEL_REVISION = "ModelRevision"
# Network-stack parameter values that decide which subnets and security group the model's SSM-typed
# parameters resolve to: they count in the model's revision, so a new subnet or security group also gives
# the model a new name (a replacement under the old name would clash).
MODEL_IDENTITY_UPSTREAM = ("VpcCidr", "PrivateSubnet1Cidr", "PrivateSubnet1Az", "PrivateSubnet2Cidr",
                           "PrivateSubnet2Az", "PrivateSubnet3Cidr", "PrivateSubnet3Az", "ExistingVpcId",
                           "ExistingSubnetIds")


def model_name(prefix: str, values: dict[str, str]) -> str:
    """The Model's physical name in an environment, from the endpoint stack's parameter values."""
    return f"{prefix}-model-{values[MODEL_REVISION]}"


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor endpoint: model, endpoint config with Data Capture, endpoint")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")
    key_arn = st.consume("KmsKeyArn", "foundation", "kms-key-arn", "Project KMS key ARN.")
    subnets = st.consume("SubnetIds", "network", "subnet-ids", "Private subnet ids.", list_value=True)
    job_sg = st.consume("JobSecurityGroupId", "network", "job-security-group-id", "Job security group id.")

    image = st.param(
        "ModelImage", "ECR image URI of the inference container (with tag or digest).", group="Model",
        label="Model image", AllowedPattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9\-]+\.amazonaws\.com(\.cn)?/\S+$",
        value=lambda i: _created(i).model_image,
    )
    repository = st.param(
        "ModelImageRepositoryArn", "ARN of the image's ECR repository (derived from ModelImage).", group="Model",
        label="Model image repository ARN", AllowedPattern=r"^arn:aws[a-z\-]*:ecr:[a-z0-9\-]+:\d{12}:repository/\S+$",
        value=lambda i: repository_arn(_created(i).model_image),
    )
    data_url = st.param(
        "ModelDataUrl", "S3 URI of model.tar.gz.", group="Model", label="Model data URL",
        AllowedPattern=r"^s3://[a-z0-9][a-z0-9.\-]*[a-z0-9]/[^\s*?]+$",
        value=lambda i: _created(i).model_data_url,
    )
    data_arn = st.param(
        "ModelDataObjectArn", "ARN of the model artifact object (derived from ModelDataUrl).", group="Model",
        label="Model data object ARN", AllowedPattern=r"^arn:aws[a-z\-]*:s3:::[^\s*?]+$",
        value=lambda i: s3_object_arn(_created(i).model_data_url, i.params.region),
    )
    # false only where the model-explainability monitor is enabled: Clarify's shadow endpoint is made from this
    # model and AWS requires isolation off on the model too (mmtool.config.params derives it; the security check allows
    # nothing else).
    isolation = st.flag("ModelNetworkIsolation", "Run the model container without network access (false only for "
                        "Clarify's explainability shadow endpoint).", group="Model", label="Network isolation",
                        value=lambda i: i.endpoint.model_network_isolation)
    instance_type = st.param("InstanceType", "Endpoint instance type.", group="Endpoint", label="Instance type",
                             Default="ml.m5.large", AllowedPattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
                             value=lambda i: _created(i).instance_type)
    instance_count = st.param("InstanceCount", "Initial instance count.", group="Endpoint", label="Instance count",
                              type="Number", Default="1", MinValue=1, MaxValue=20,
                              value=lambda i: str(_created(i).instance_count))
    variant = st.param("VariantName", "Production variant name.", group="Endpoint", label="Variant name",
                       Default="AllTraffic", AllowedPattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", MaxLength=63,
                       value=lambda i: _created(i).variant_name)
    st.param(
        "CapturePrefix", "Bucket prefix Data Capture writes to (no trailing slash).", group="Data Capture",
        label="Capture prefix", Default=layout.CAPTURE.prefix, AllowedPattern=layout.PREFIX_PATTERN,
        value=lambda i: i.endpoint.capture_prefix(i.params),
    )
    sampling = st.param("SamplingPercentage", "Percentage of requests captured.", group="Data Capture",
                        label="Sampling percentage", type="Number", Default="100", MinValue=1, MaxValue=100,
                        value=lambda i: str(_created(i).data_capture.sampling_percentage))
    modes = st.param("CaptureModes", "What Data Capture records: requests and responses, or one of them.",
                     group="Data Capture", label="Capture modes", Default="Input,Output",
                     AllowedValues=["Input,Output", "Input", "Output"],
                     value=lambda i: ",".join(_created(i).data_capture.modes))
    csv_types = st.param("CsvContentTypes", "Content types stored as CSV text.", group="Data Capture",
                         label="CSV content types", type="CommaDelimitedList", Default="text/csv",
                         value=lambda i: ",".join(_created(i).data_capture.csv_content_types))
    json_types = st.param("JsonContentTypes", "Content types stored as JSON text.", group="Data Capture",
                          label="JSON content types", type="CommaDelimitedList", Default="application/json",
                          value=lambda i: ",".join(_created(i).data_capture.json_content_types))

    st.param("EndpointKey", "The endpoint's short name in a fleet; empty in the single-endpoint form.",
             group="Endpoint", label="Endpoint key", Default="", AllowedPattern=r"^([a-z][a-z0-9-]{0,19})?$",
             value=lambda i: "" if i.endpoint.legacy else i.endpoint.key)
    t.add_condition("Fleet", Not(Equals(Ref("EndpointKey"), "")))
    t.add_condition("CaptureBoth", Equals(Ref(modes), "Input,Output"))
    t.add_condition("CaptureInputOnly", Equals(Ref(modes), "Input"))

    role = t.add_resource(Role(
        "EndpointRole",
        RoleName=scoped("endpoint"),
        Description=Sub("Model of the ${ProjectName}-${EnvironmentName} endpoint"),
        MaxSessionDuration=3600,
        AssumeRolePolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[Statement(
                Effect=Allow,
                Principal=Principal("Service", "sagemaker.amazonaws.com"),
                Action=[AssumeRole],
                Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
            )],
        ),
        Policies=[Policy(
            PolicyName="endpoint",
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(Sid="ReadModelArtifact", Effect=Allow, Action=[s3.GetObject], Resource=[Ref(data_arn)]),
                    Statement(
                        Sid="WriteDataCapture",
                        Effect=Allow,
                        Action=[s3.PutObject, s3.AbortMultipartUpload],
                        # what the layout lets the endpoint write: its capture prefix (mmtool/config/layout.py)
                        Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::${{BucketName}}/${{{area.parameter}}}/*")
                                  for area in layout.writable_by(layout.ENDPOINT)],
                    ),
                    Statement(
                        Sid="EncryptCapture",
                        Effect=Allow,
                        Action=[kms.Encrypt, kms.Decrypt, kms.GenerateDataKey, kms.DescribeKey, kms.CreateGrant],
                        Resource=[Ref(key_arn)],
                    ),
                    Statement(
                        Sid="PullModelImage",
                        Effect=Allow,
                        Action=[ecr.BatchGetImage, ecr.GetDownloadUrlForLayer, ecr.BatchCheckLayerAvailability],
                        Resource=[Ref(repository)],
                    ),
                    # ecr:GetAuthorizationToken is account-wide: it supports no resource ARN.
                    Statement(Sid="EcrLogin", Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
                    Statement(
                        Sid="EndpointLogs",
                        Effect=Allow,
                        Action=[logs.CreateLogGroup, logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
                        Resource=[Sub(
                            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/*"
                        )],
                    ),
                    # cloudwatch:PutMetricData supports no resource ARN; the namespace condition is the
                    # narrowest scope AWS offers.
                    Statement(
                        Sid="EndpointMetrics",
                        Effect=Allow,
                        Action=[cloudwatch.PutMetricData],
                        Resource=["*"],
                        Condition=Condition(StringEquals("cloudwatch:namespace", "/aws/sagemaker/Endpoints")),
                    ),
                ],
            ),
        )],
    ))

    vpc_access = t.add_resource(vpc_mode_policy("EndpointRoleVpcAccess", role))

    st.param(MODEL_REVISION, "Content hash of the model; changes whenever the model does.", group="Model",
             label="Model revision", AllowedPattern=r"^[a-z0-9]{6,16}$")
    model = t.add_resource(Model(
        "Model",
        DependsOn=[vpc_access.title],  # the model attaches to the subnets with these permissions
        # A name that changes with the content: the Clarify explainability configuration names the model at
        # build time, and every Model property is create-only (a fixed name could not be replaced).
        ModelName=name(f"model-${{{MODEL_REVISION}}}"),
        ExecutionRoleArn=GetAtt(role, "Arn"),
        PrimaryContainer=ContainerDefinition(Image=Ref(image), ModelDataUrl=Ref(data_url)),
        EnableNetworkIsolation=Ref(isolation),
        VpcConfig=VpcConfig(SecurityGroupIds=[Ref(job_sg)], Subnets=Ref(subnets)),
    ))
    # Upstream values count through MODEL_IDENTITY_UPSTREAM (Inputs.identity), as they always have: counting them
    # the job definitions' way would rename, and so replace, every deployed model and its endpoint config.
    st.revision(MODEL_REVISION, model, upstream=False)
    capture_destination = Sub("s3://${BucketName}/${CapturePrefix}")
    config = t.add_resource(EndpointConfig(
        "EndpointConfig",
        KmsKeyId=Ref(key_arn),
        ProductionVariants=[ProductionVariant(
            ModelName=GetAtt(model, "ModelName"),
            VariantName=Ref(variant),
            InitialInstanceCount=Ref(instance_count),
            InstanceType=Ref(instance_type),
            InitialVariantWeight=1.0,
        )],
        DataCaptureConfig=EndpointDataCaptureConfig(
            EnableCapture=True,
            InitialSamplingPercentage=Ref(sampling),
            DestinationS3Uri=capture_destination,
            KmsKeyId=Ref(key_arn),
            # Two separate options, never InputAndOutput (rejected by endpoint creation, boto/boto3#3440).
            CaptureOptions=If(
                "CaptureBoth",
                [CaptureOption(CaptureMode="Input"), CaptureOption(CaptureMode="Output")],
                If("CaptureInputOnly", [CaptureOption(CaptureMode="Input")], [CaptureOption(CaptureMode="Output")]),
            ),
            CaptureContentTypeHeader=CaptureContentTypeHeader(
                CsvContentTypes=Ref(csv_types), JsonContentTypes=Ref(json_types)
            ),
        ),
    ))
    endpoint = t.add_resource(Endpoint(
        "Endpoint", EndpointName=scoped(""), EndpointConfigName=GetAtt(config, "EndpointConfigName"),
    ))

    st.publish("EndpointName", "endpoint-name", GetAtt(endpoint, "EndpointName"), "Name of the monitored endpoint",
               name=ssm_scoped("endpoint-name"))
    st.publish("ModelName", "model-name", GetAtt(model, "ModelName"),
               "Name of the endpoint's model (Clarify's shadow endpoints are made from it)", name=ssm_scoped("model-name"))
    t.add_output(Output("CaptureDestination", Value=capture_destination, Description="Where Data Capture writes"))
    t.add_output(Output("EndpointRoleArn", Value=GetAtt(role, "Arn"), Description="Execution role of the model"))
    return st


def scoped(suffix: str) -> If:
    """<project>-<env>[-suffix] in the single-endpoint form, <project>-<env>-<key>[-suffix] in a fleet."""
    tail = f"-{suffix}" if suffix else ""
    return If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}" + tail), name(suffix))


def ssm_scoped(key: str) -> If:
    """The SSM name of a value this stack publishes: /<project>/<env>/endpoint/<key> as always, and
    /<project>/<env>/endpoint/<endpoint key>/<key> for a fleet endpoint."""
    return If("Fleet", Sub(ssm_name(STACK, "${EndpointKey}/" + key)), Sub(ssm_name(STACK, key)))


def repository_arn(image_uri: str) -> str:
    """123.dkr.ecr.eu-west-1.amazonaws.com/team/model:tag -> arn:aws:ecr:eu-west-1:123:repository/team/model"""
    host, _, path = image_uri.partition("/")
    account, _, _, region = host.split(".")[:4]
    repository = path.split("@")[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return f"arn:{partition(region)}:ecr:{region}:{account}:repository/{repository}"


def _created(i: Inputs) -> EndpointSettings:
    """The settings of the endpoint this stack creates (an endpoint stack exists only for endpoints we create)."""
    assert i.endpoint is not None and i.endpoint.create is not None, "an endpoint stack only for endpoints we create"
    return i.endpoint.create
