"""monitoring: the data-quality monitor of the endpoint (later: model quality, bias, explainability).

Resources (all only when DataQualityEnabled is true)
  DataQualityJobDefinition  the Model Monitor analyzer image of the stack's region (a Mapping built from
                            the SDK's image table, so one template serves every region); record pre- and
                            post-processor from content-hashed assets in the project bucket;
                            publish_cloudwatch_metrics set explicitly; baseline constraints/statistics;
                            endpoint or batch-transform input; reports to s3://<bucket>/reports/data-quality
                            with KMS; volume KMS; private subnets, job security group, network isolation,
                            inter-container encryption; stopping condition
  BaselineReadPolicy        lets the monitoring role read exactly the two baseline objects
  DataQualitySchedule       runs the job definition on the environment's schedule
Outputs
  DataQualityJobDefinitionName, DataQualityScheduleName, DataQualityReportsUri

Every property of a job definition is create-only, so any change replaces it. Its name therefore
carries `DataQualityRevision`, a hash the build computes from the definition and the parameter values
it uses: a changed definition gets a new name (no collision with the old one during replacement),
and the schedule, which updates in place, follows it to the new name.
"""

from __future__ import annotations

from awacs import s3
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import And, Condition, Equals, FindInMap, If, Join, Not, Output, Ref, Select, Split, Sub
from troposphere.iam import PolicyType
from troposphere.sagemaker import (
    BatchTransformInput,
    ClusterConfig,
    ConstraintsResource,
    Csv,
    DataQualityAppSpecification,
    DataQualityBaselineConfig,
    DataQualityJobDefinition,
    DataQualityJobInput,
    DatasetFormat,
    EndpointInput,
    Json,
    MonitoringOutput,
    MonitoringOutputConfig,
    MonitoringResources,
    MonitoringSchedule,
    MonitoringScheduleConfig,
    NetworkConfig,
    S3Output,
    ScheduleConfig,
    StatisticsResource,
    VpcConfig,
)

from mmtool.params import Params, image_accounts
from templates.common import StackTemplate, explicit_tags, name
from templates.foundation import REPORTS_PREFIX
from templates.sagemaker_types import MonitoringStoppingCondition

STACK = "monitoring"
DEPENDS_ON = ("foundation", "network", "endpoint")
PROTECTED_RESOURCES: tuple[str, ...] = ()

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"  # no tag: the SDK appends none (reference §2)
PROCESSING = "/opt/ml/processing"  # the SDK's container paths (reference §5.3)
REVISION_PARAMETER = "DataQualityRevision"
DQ_JOB_DEFINITION = "DataQualityJobDefinition"
NO_VALUE = Ref("AWS::NoValue")


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor monitoring: data-quality job definition and schedule")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")
    key_arn = st.consume("KmsKeyArn", "foundation", "kms-key-arn", "Project KMS key ARN.")
    role_arn = st.consume("MonitoringRoleArn", "foundation", "monitoring-role-arn", "Monitoring role ARN.")
    role_name = st.consume("MonitoringRoleName", "foundation", "monitoring-role-name", "Monitoring role name.")
    subnets = st.consume("SubnetIds", "network", "subnet-ids", "Private subnet ids.", list_value=True)
    job_sg = st.consume("JobSecurityGroupId", "network", "job-security-group-id", "Job security group id.")
    endpoint_name = st.consume("EndpointName", "endpoint", "endpoint-name", "Monitored endpoint name.")

    group = "Data quality"
    enabled = st.flag("DataQualityEnabled", "Create the data-quality monitor.", group=group, label="Enabled")
    st.param(
        REVISION_PARAMETER, "Content hash of the job definition; changes whenever the definition does.",
        group=group, label="Revision", AllowedPattern=r"^[a-z0-9]{6,16}$",
    )
    schedule = st.param(
        "DataQualityScheduleExpression", "ScheduleExpression: cron(0 * ? * * *), cron(0 H ? * * *), cron(0 H/N ? * * *) or NOW.",
        group=group, label="Schedule (UTC)", Default="cron(0 * ? * * *)",
        AllowedPattern=r"^(cron\(0 (\*|\d{1,2}|\d{1,2}/\d{1,2}) \? \* \* \*\)|NOW)$",
        ConstraintDescription="a schedule SageMaker Model Monitor accepts (hourly, daily, every N hours, NOW)",
    )
    window_start = st.param("DataQualityWindowStart", "Analysis window start offset, e.g. -PT2H; empty for the "
                            "default window.", group=group, label="Window start", Default="",
                            AllowedPattern=r"^(-P(T\d+H|\d+D))?$")
    window_end = st.param("DataQualityWindowEnd", "Analysis window end offset, e.g. -PT0H.", group=group,
                          label="Window end", Default="", AllowedPattern=r"^(-P(T\d+H|\d+D))?$")
    constraints = st.param("DataQualityBaselineConstraintsUri", "S3 URI of constraints.json; empty for none.",
                           group=group, label="Baseline constraints", Default="", AllowedPattern=r"^(s3://[^\s*?]+\.json)?$")
    statistics = st.param("DataQualityBaselineStatisticsUri", "S3 URI of statistics.json; empty for none.",
                          group=group, label="Baseline statistics", Default="", AllowedPattern=r"^(s3://[^\s*?]+\.json)?$")
    preprocessor = st.param("DataQualityPreprocessorKey", "Bucket key of the record pre-processor; empty for none.",
                            group=group, label="Pre-processor key", Default="", AllowedPattern=r"^(\S+\.py)?$")
    postprocessor = st.param("DataQualityPostprocessorKey", "Bucket key of the post-analytics processor; empty "
                             "for none.", group=group, label="Post-processor key", Default="",
                             AllowedPattern=r"^(\S+\.py)?$")
    instance_type = st.param("DataQualityInstanceType", "Processing instance type.", group=group,
                             label="Instance type", Default="ml.m5.xlarge", AllowedPattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count = st.param("DataQualityInstanceCount", "Processing instances per run.", group=group,
                              label="Instance count", type="Number", Default="1", MinValue=1, MaxValue=100)
    volume = st.param("DataQualityVolumeSizeGb", "Volume per instance (GB).", group=group, label="Volume (GB)",
                      type="Number", Default="30", MinValue=1, MaxValue=16384)
    runtime = st.param("DataQualityMaxRuntimeSeconds", "Stop a run after this many seconds.", group=group,
                       label="Max runtime (s)", type="Number", Default="3600", MinValue=1, MaxValue=86400)
    source = st.param("DataQualityInputSource", "Analyse endpoint capture or batch-transform capture.", group=group,
                      label="Input", Default="endpoint", AllowedValues=["endpoint", "batch_transform"])
    dataset_format = st.param("DataQualityDatasetFormat", "Batch transform: dataset format.", group=group,
                              label="Batch dataset format", Default="csv", AllowedValues=["csv", "json", "parquet"])
    csv_header = st.flag("DataQualityCsvHeader", "Batch transform CSV: files have a header.", group=group,
                         label="CSV header")
    json_lines = st.flag("DataQualityJsonLines", "Batch transform JSON: one object per line.", group=group,
                         label="JSON lines")
    batch_prefix = st.param("BatchCapturePrefix", "Bucket prefix of batch-transform capture.", group=group,
                            label="Batch capture prefix", Default="batch-capture",
                            AllowedPattern=r"^[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$")
    metrics = st.param("DataQualityPublishMetrics", "Publish per-feature CloudWatch metrics.", group=group,
                       label="CloudWatch metrics", Default="Enabled", AllowedValues=["Enabled", "Disabled"])

    t.add_mapping("ModelMonitorImage", {region: {"Account": account} for region, account in image_accounts().items()})

    t.add_condition("DataQuality", Equals(Ref(enabled), "true"))
    t.add_condition("HasBaseline", And(Not(Equals(Ref(constraints), "")), Not(Equals(Ref(statistics), ""))))
    t.add_condition("DataQualityBaselineRead", And(Condition("DataQuality"), Condition("HasBaseline")))
    t.add_condition("HasPreprocessor", Not(Equals(Ref(preprocessor), "")))
    t.add_condition("HasPostprocessor", Not(Equals(Ref(postprocessor), "")))
    t.add_condition("HasWindow", And(Not(Equals(Ref(window_start), "")), Not(Equals(Ref(window_end), ""))))
    t.add_condition("EndpointSource", Equals(Ref(source), "endpoint"))
    t.add_condition("CsvFormat", Equals(Ref(dataset_format), "csv"))
    t.add_condition("JsonFormat", Equals(Ref(dataset_format), "json"))

    def object_arn(uri: Ref) -> Join:
        return Join("", ["arn:", Ref("AWS::Partition"), ":s3:::", Select(1, Split("s3://", uri))])

    t.add_resource(PolicyType(
        "BaselineReadPolicy",
        Condition="DataQualityBaselineRead",
        PolicyName=name("dq-baseline"),
        Roles=[Ref(role_name)],
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[Statement(
                Sid="ReadDataQualityBaseline",
                Effect=Allow,
                Action=[s3.GetObject],
                Resource=[object_arn(Ref(constraints)), object_arn(Ref(statistics))],
            )],
        ),
    ))

    job_name = name("dq-${DataQualityRevision}")
    analyzer = Sub(
        "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + ANALYZER_REPOSITORY,
        Account=FindInMap("ModelMonitorImage", Ref("AWS::Region"), "Account"),
    )
    tags = explicit_tags(st, list(params.tags))
    job = t.add_resource(DataQualityJobDefinition(
        DQ_JOB_DEFINITION,
        Condition="DataQuality",
        JobDefinitionName=job_name,
        DataQualityAppSpecification=DataQualityAppSpecification(
            ImageUri=analyzer,
            RecordPreprocessorSourceUri=If("HasPreprocessor", Sub("s3://${BucketName}/${DataQualityPreprocessorKey}"),
                                           NO_VALUE),
            PostAnalyticsProcessorSourceUri=If("HasPostprocessor",
                                               Sub("s3://${BucketName}/${DataQualityPostprocessorKey}"), NO_VALUE),
            # Set explicitly: definitions created outside the SDK publish no metrics without it
            # (reference §8 #9).
            Environment={"publish_cloudwatch_metrics": Ref(metrics)},
        ),
        DataQualityBaselineConfig=If("HasBaseline", DataQualityBaselineConfig(
            ConstraintsResource=ConstraintsResource(S3Uri=Ref(constraints)),
            StatisticsResource=StatisticsResource(S3Uri=Ref(statistics)),
        ), NO_VALUE),
        DataQualityJobInput=If(
            "EndpointSource",
            DataQualityJobInput(EndpointInput=EndpointInput(
                EndpointName=Ref(endpoint_name),
                LocalPath=f"{PROCESSING}/input/endpoint",
                S3InputMode="File",
                S3DataDistributionType="FullyReplicated",
            )),
            DataQualityJobInput(BatchTransformInput=BatchTransformInput(
                DataCapturedDestinationS3Uri=Sub("s3://${BucketName}/${BatchCapturePrefix}"),
                DatasetFormat=If("CsvFormat", DatasetFormat(Csv=Csv(Header=Ref(csv_header))),
                                 If("JsonFormat", DatasetFormat(Json=Json(Line=Ref(json_lines))),
                                    DatasetFormat(Parquet=True))),
                LocalPath=f"{PROCESSING}/input/batch",
                S3InputMode="File",
                S3DataDistributionType="FullyReplicated",
            )),
        ),
        DataQualityJobOutputConfig=MonitoringOutputConfig(
            KmsKeyId=Ref(key_arn),
            MonitoringOutputs=[MonitoringOutput(S3Output=S3Output(
                LocalPath=f"{PROCESSING}/output",
                S3Uri=Sub(f"s3://${{BucketName}}/{REPORTS_PREFIX}/data-quality"),
                S3UploadMode="EndOfJob",
            ))],
        ),
        JobResources=MonitoringResources(ClusterConfig=ClusterConfig(
            InstanceCount=Ref(instance_count),
            InstanceType=Ref(instance_type),
            VolumeSizeInGB=Ref(volume),
            VolumeKmsKeyId=Ref(key_arn),
        )),
        NetworkConfig=NetworkConfig(
            EnableInterContainerTrafficEncryption=True,
            EnableNetworkIsolation=True,
            VpcConfig=VpcConfig(SecurityGroupIds=[Ref(job_sg)], Subnets=Ref(subnets)),
        ),
        RoleArn=Ref(role_arn),
        StoppingCondition=MonitoringStoppingCondition(MaxRuntimeInSeconds=Ref(runtime)),
        Tags=tags,
    ))
    schedule_resource = t.add_resource(MonitoringSchedule(
        "DataQualitySchedule",
        Condition="DataQuality",
        DependsOn=[job.title],
        MonitoringScheduleName=name("data-quality"),
        MonitoringScheduleConfig=MonitoringScheduleConfig(
            # The schedule wants the definition's name; Ref of a definition is its ARN (reference §0.4).
            MonitoringJobDefinitionName=job_name,
            MonitoringType="DataQuality",
            ScheduleConfig=ScheduleConfig(
                ScheduleExpression=Ref(schedule),
                DataAnalysisStartTime=If("HasWindow", Ref(window_start), NO_VALUE),
                DataAnalysisEndTime=If("HasWindow", Ref(window_end), NO_VALUE),
            ),
        ),
        Tags=tags,
    ))
    t.add_output(Output("DataQualityJobDefinitionName", Condition="DataQuality", Value=job_name,
                        Description="Current data-quality job definition"))
    t.add_output(Output("DataQualityScheduleName", Condition="DataQuality", Value=Ref(schedule_resource),
                        Description="Data-quality monitoring schedule"))
    t.add_output(Output("DataQualityReportsUri", Condition="DataQuality",
                        Value=Sub(f"s3://${{BucketName}}/{REPORTS_PREFIX}/data-quality"),
                        Description="Where data-quality reports (statistics, violations) are written"))
    return st


def parameter_values(params: Params, assets: dict[str, str]) -> dict[str, str]:
    """Values of this environment. `assets` maps a script path to its bucket key."""
    dq = params.monitoring.data_quality
    schedule = dq.parsed_schedule
    values = {
        "DataQualityEnabled": str(dq.enabled).lower(),
        "DataQualityScheduleExpression": schedule.expression,
        "DataQualityPreprocessorKey": assets.get(dq.record_preprocessor or "", ""),
        "DataQualityPostprocessorKey": assets.get(dq.post_analytics_processor or "", ""),
        "DataQualityInstanceType": dq.instance_type,
        "DataQualityInstanceCount": str(dq.instance_count),
        "DataQualityVolumeSizeGb": str(dq.volume_size_gb),
        "DataQualityMaxRuntimeSeconds": str(dq.max_runtime_seconds),
        "DataQualityInputSource": dq.input.source,
        "DataQualityDatasetFormat": dq.input.dataset_format or "csv",
        "DataQualityCsvHeader": str(dq.input.csv_header).lower(),
        "DataQualityJsonLines": str(dq.input.json_lines).lower(),
        "BatchCapturePrefix": params.storage.batch_capture_prefix,
        "DataQualityPublishMetrics": "Enabled" if dq.publish_cloudwatch_metrics else "Disabled",
    }
    if dq.analysis_window:
        values["DataQualityWindowStart"] = dq.analysis_window.start
        values["DataQualityWindowEnd"] = dq.analysis_window.end
    if dq.baseline:
        values["DataQualityBaselineConstraintsUri"] = dq.baseline.constraints
        values["DataQualityBaselineStatisticsUri"] = dq.baseline.statistics
    return values
