"""monitoring: the four monitors of the endpoint, each optional per environment (a flag parameter).

Resources (all only when DataQualityEnabled is true)
  DataQualityJobDefinition  the Model Monitor analyzer image of the stack's region (a Mapping built from
                            the SDK's image table, so one template serves every region); record pre- and
                            post-processor from content-hashed assets in the project bucket;
                            publish_cloudwatch_metrics set explicitly; baseline constraints/statistics
                            (the copies under <baselines prefix>/imported/ that make deploy writes);
                            endpoint or batch-transform input; reports to s3://<bucket>/reports/data-quality
                            with KMS; volume KMS; private subnets, job security group, network isolation,
                            inter-container encryption; stopping condition
  DataQualitySchedule       runs the job definition on the environment's schedule
  ModelQualityJobDefinition  (ModelQualityEnabled) the analyzer image with the problem type; the endpoint's
                            captured predictions (inference/probability attribute, threshold, time offsets)
                            merged with ground truth from s3://<bucket>/<ground-truth prefix>; optional baseline
                            constraints; same hardening as data quality
  ModelBiasJobDefinition    (ModelBiasEnabled) the Clarify image of the region (Mapping from the SDK's clarify
                            table); ConfigUri = the Clarify analysis configuration the build generates from the
                            params file (content-hashed asset); ground truth; network isolation on (bias
                            monitoring reads captured predictions, it calls no endpoint)
  ModelExplainabilityJobDefinition
                            (ModelExplainabilityEnabled) Clarify image, SHAP analysis configuration asset whose
                            predictor is the endpoint's model: Clarify creates a shadow endpoint
                            <project>-<env>-clarify... per run, so this job alone runs without network isolation
                            (still in the private subnets with the job security group; it reaches SageMaker
                            through the sagemaker.api/sagemaker.runtime VPC endpoints)
  ClarifyShadowEndpointPolicy
                            lets the monitoring role describe the endpoint's model and create/call/delete only
                            endpoints and endpoint configs named <project>-<env>-clarify*
  MergedGroundTruthReadPolicy
                            (model quality or bias enabled) read on exactly <reports prefix>/<monitor>/merge/*,
                            where the ground-truth merge job writes what the analysis job then reads
  ImagePullPolicy           ecr:GetAuthorizationToken ("*": it supports no resource) and pull actions on exactly
                            the analyzer, ground-truth merger and (with a Clarify monitor) Clarify repositories
                            of the region's accounts in the image Mappings
  ModelQualitySchedule, ModelBiasSchedule, ModelExplainabilitySchedule
                            <project>-<env>-model-quality / -model-bias / -model-explainability
Outputs
  <Monitor>JobDefinitionName, <Monitor>ScheduleName, <Monitor>ReportsUri for each enabled monitor

Every property of a job definition is create-only, so any change replaces it. Its name
(<project>-<env>-dq|mq|mb|me-<revision>) therefore carries `<Monitor>Revision`, a hash the build computes from the definition and the parameter values
it uses: a changed definition gets a new name (no collision with the old one during replacement),
and the schedule, which updates in place, follows it to the new name.
"""

from __future__ import annotations

from awacs import ecr, s3, sagemaker
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import And, Condition, Equals, FindInMap, GetAtt, If, Not, Or, Output, Ref, Select, Split, Sub
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
    ModelBiasAppSpecification,
    ModelBiasBaselineConfig,
    ModelBiasEndpointInput,
    ModelBiasJobDefinition,
    ModelBiasJobInput,
    ModelExplainabilityAppSpecification,
    ModelExplainabilityBaselineConfig,
    ModelExplainabilityEndpointInput,
    ModelExplainabilityJobDefinition,
    ModelExplainabilityJobInput,
    ModelQualityAppSpecification,
    ModelQualityBaselineConfig,
    ModelQualityEndpointInput,
    ModelQualityJobDefinition,
    ModelQualityJobInput,
    MonitoringGroundTruthS3Input as GroundTruthInput,
    MonitoringSchedule,
    MonitoringScheduleConfig,
    NetworkConfig,
    S3Output,
    ScheduleConfig,
    StatisticsResource,
    VpcConfig,
)

from mmtool.config.baselines import copy_key
from mmtool.config.params import FleetEndpoint, Params, image_accounts
from templates.common import StackTemplate, explicit_tags, name, scanner_skips
from templates import notifications
from templates.foundation import ALARM_TOPIC_ARN, ASSETS_PREFIX, MONITORING_ROLE_SUFFIX, monitoring_role, vpc_mode_policy
from templates.sagemaker_types import MonitoringStoppingCondition

STACK = "monitoring"
DEPENDS_ON = ("foundation", "network", "endpoint")
PROTECTED_RESOURCES: tuple[str, ...] = ()

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"  # no tag: the SDK appends none (reference §2)
# The ground-truth merge job of model-quality/bias runs: same account as the analyzer (a run's CloudWatch log,
# docs/monitors.md).
MERGER_REPOSITORY = "sagemaker-model-monitor-groundtruth-merger"
MERGE_FOLDER = "merge"  # <S3Output.S3Uri>/merge/...: where the merge job writes (docs/monitors.md)
MERGED_SUFFIXES = ("model-quality", "model-bias")  # the monitors that merge ground truth (report folders)
BASELINE_KEY_PATTERN = r"^(baselines/\S+\.json)?$"  # copies made by make deploy (mmtool/config/baselines.py)
PROCESSING = "/opt/ml/processing"  # the SDK's container paths (reference §5.3)
REVISION_PARAMETER = "DataQualityRevision"
DQ_JOB_DEFINITION = "DataQualityJobDefinition"
# Revision parameter -> the job definition whose content it hashes (computed by mmtool.build.synth).
REVISIONS = {
    "DataQualityRevision": "DataQualityJobDefinition",
    "ModelQualityRevision": "ModelQualityJobDefinition",
    "ModelBiasRevision": "ModelBiasJobDefinition",
    "ModelExplainabilityRevision": "ModelExplainabilityJobDefinition",
}
NO_VALUE = Ref("AWS::NoValue")


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor monitoring: data-quality, model-quality, model-bias and "
                       "model-explainability job definitions and schedules")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")
    key_arn = st.consume("KmsKeyArn", "foundation", "kms-key-arn", "Project KMS key ARN.")
    subnets = st.consume("SubnetIds", "network", "subnet-ids", "Private subnet ids.", list_value=True)
    job_sg = st.consume("JobSecurityGroupId", "network", "job-security-group-id", "Job security group id.")
    role_arn, role_name = _endpoint_identity(st, key_arn)
    endpoint_name = Ref("EndpointName")

    group = "Data quality"
    enabled = st.flag("DataQualityEnabled", "Create the data-quality monitor.", group=group, label="Enabled")
    _revision_parameter(st, REVISION_PARAMETER, group)
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
    constraints = st.param("DataQualityBaselineConstraintsKey", "Bucket key of the copy of constraints.json "
                           "(baselines/imported/...); empty for none.", group=group, label="Baseline constraints",
                           Default="", AllowedPattern=BASELINE_KEY_PATTERN)
    statistics = st.param("DataQualityBaselineStatisticsKey", "Bucket key of the copy of statistics.json "
                          "(baselines/imported/...); empty for none.", group=group, label="Baseline statistics",
                          Default="", AllowedPattern=BASELINE_KEY_PATTERN)
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
    st.param("BatchCapturePrefix", "Bucket prefix of batch-transform capture.", group=group,
             label="Batch capture prefix", Default="batch-capture",
             AllowedPattern=r"^[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$")
    metrics = st.param("DataQualityPublishMetrics", "Publish per-feature CloudWatch metrics.", group=group,
                       label="CloudWatch metrics", Default="Enabled", AllowedValues=["Enabled", "Disabled"])

    t.add_mapping("ModelMonitorImage", {region: {"Account": account} for region, account in image_accounts().items()})

    t.add_condition("DataQuality", Equals(Ref(enabled), "true"))
    t.add_condition("HasBaseline", And(Not(Equals(Ref(constraints), "")), Not(Equals(Ref(statistics), ""))))
    t.add_condition("HasPreprocessor", Not(Equals(Ref(preprocessor), "")))
    t.add_condition("HasPostprocessor", Not(Equals(Ref(postprocessor), "")))
    t.add_condition("HasWindow", And(Not(Equals(Ref(window_start), "")), Not(Equals(Ref(window_end), ""))))
    t.add_condition("EndpointSource", Equals(Ref(source), "endpoint"))
    t.add_condition("CsvFormat", Equals(Ref(dataset_format), "csv"))
    t.add_condition("JsonFormat", Equals(Ref(dataset_format), "json"))

    job_name = name("dq-${DataQualityRevision}")
    analyzer = Sub(
        "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + ANALYZER_REPOSITORY,
        Account=FindInMap("ModelMonitorImage", Ref("AWS::Region"), "Account"),
    )
    tags = explicit_tags(st, list(params.tags))
    job = t.add_resource(DataQualityJobDefinition(
        DQ_JOB_DEFINITION,
        Condition="DataQuality",
        JobDefinitionName=If(f"Has{REVISION_PARAMETER}", job_name, NO_VALUE),
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
            ConstraintsResource=ConstraintsResource(S3Uri=Sub("s3://${BucketName}/${DataQualityBaselineConstraintsKey}")),
            StatisticsResource=StatisticsResource(S3Uri=Sub("s3://${BucketName}/${DataQualityBaselineStatisticsKey}")),
        ), NO_VALUE),
        DataQualityJobInput=If(
            "EndpointSource",
            DataQualityJobInput(EndpointInput=EndpointInput(
                EndpointName=endpoint_name,
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
                S3Uri=Sub("s3://${BucketName}/${ReportsPrefix}/data-quality"),
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
        RoleArn=role_arn,
        StoppingCondition=MonitoringStoppingCondition(MaxRuntimeInSeconds=Ref(runtime)),
        Tags=tags,
    ))
    schedule_resource = t.add_resource(MonitoringSchedule(
        "DataQualitySchedule",
        Condition="DataQuality",  # after the definition: its name refers to it (_job_definition_name)
        MonitoringScheduleName=schedule_name("data-quality", "dq"),
        MonitoringScheduleConfig=MonitoringScheduleConfig(
            # The schedule wants the definition's name; Ref of a definition is its ARN (reference §0.4).
            MonitoringJobDefinitionName=_job_definition_name(REVISION_PARAMETER, job_name, job),
            MonitoringType="DataQuality",
            ScheduleConfig=ScheduleConfig(
                ScheduleExpression=Ref(schedule),
                DataAnalysisStartTime=If("HasWindow", Ref(window_start), NO_VALUE),
                DataAnalysisEndTime=If("HasWindow", Ref(window_end), NO_VALUE),
            ),
        ),
        Tags=tags,
    ))
    t.add_output(Output("DataQualityJobDefinitionName", Condition="DataQuality",
                        Value=_job_definition_name(REVISION_PARAMETER, job_name, job),
                        Description="Current data-quality job definition"))
    t.add_output(Output("DataQualityScheduleName", Condition="DataQuality", Value=Ref(schedule_resource),
                        Description="Data-quality monitoring schedule"))
    t.add_output(Output("DataQualityReportsUri", Condition="DataQuality",
                        Value=Sub("s3://${BucketName}/${ReportsPrefix}/data-quality"),
                        Description="Where data-quality reports (statistics, violations) are written"))
    _model_monitors(st, params, tags, key_arn, role_arn, role_name, subnets, job_sg, endpoint_name)
    _endpoint_notifications(st)
    return st


def _revision_parameter(st: StackTemplate, parameter: str, group: str) -> None:
    """`<Monitor>Revision`, the content hash in the job definition's name. Empty (a stack launched without this
    tool's build, such as the Service Catalog self-service product): CloudFormation names the definition."""
    st.param(parameter, "Content hash of the job definition; changes whenever the definition does. Empty: "
             "CloudFormation names the definition.", group=group, label="Revision", Default="",
             AllowedPattern=r"^([a-z0-9]{6,16})?$")
    st.template.add_condition(f"Has{parameter}", Not(Equals(Ref(parameter), "")))


def _job_definition_name(parameter: str, job_name: Sub, job) -> If:
    """The definition's name for its schedule: ours, or the one CloudFormation gave it, read from the ARN
    (`arn:...:data-quality-job-definition/<name>`; Ref of a definition is its ARN, reference §0.4)."""
    return If(f"Has{parameter}", job_name, Select(1, Split("/", Ref(job))))


def _endpoint_notifications(st: StackTemplate) -> None:
    """A fleet endpoint's rules and alarms (the single-endpoint form has them in the alarms stack). They notify the
    environment's topic <project>-<env>-alarms, whose policy lets rules and alarms named <project>-<env>-... publish."""
    t = st.template
    group = "Notifications"
    enabled = st.flag("AlarmsEnabled", "Create this endpoint's execution rules and alarms (a fleet endpoint; "
                      "alarms.enabled of the environment).", group=group, label="Enabled")
    violations = st.flag("NotifyOnViolations", "Also notify on runs that completed with violations.", group=group,
                         label="Notify on violations")
    t.add_condition("EndpointAlarms", And(Condition("Fleet"), Equals(Ref(enabled), "true")))
    t.add_condition("EndpointViolations", And(Condition("EndpointAlarms"), Equals(Ref(violations), "true")))
    scoped = "${ProjectName}-${EnvironmentName}-${EndpointKey}"
    arns = [Sub("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:monitoring-schedule/"
                f"{scoped}-{code}") for code in SHORT_CODES.values()]
    notifications.add(st, notifications.Names(
        failed_rule=f"{scoped}-failed", violations_rule=f"{scoped}-violations", failed_alarm=f"{scoped}-monitor-failed",
        delivery_alarm=f"{scoped}-notification-delivery", violations_delivery_alarm=f"{scoped}-violations-delivery",
        drift_alarm=scoped + "-drift-${DriftAlarm{slot}Feature}",
        data_quality_schedule=f"{scoped}-{SHORT_CODES['data-quality']}", condition="EndpointAlarms",
        violations_condition="EndpointViolations", reports="${ReportsPrefix}",
    ), schedule_arns=arns, topic_arn=ALARM_TOPIC_ARN, endpoint_name=Ref("EndpointName"))


def schedule_name(legacy_suffix: str, code: str) -> If:
    """A schedule's name: <project>-<env>-<suffix> in the single-endpoint form (as always), and
    <project>-<env>-<key>-<code> for a fleet endpoint (the long suffixes would not fit SageMaker's 63 characters
    with a 20-character project and key)."""
    return If("Fleet", Sub(f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{code}"), name(legacy_suffix))


def _endpoint_identity(st: StackTemplate, key_arn) -> tuple[object, object]:
    """Which endpoint this stack monitors, its prefixes, and the execution role of its jobs.

    A fleet endpoint (EndpointKey set) gets a role of its own, `<project>-<env>-<key>-monitoring`, that reads only
    its capture, ground truth and baselines and writes only its reports and baselines; the single-endpoint form
    keeps the foundation stack's role `<project>-<env>-monitoring` (moving it would rename a deployed role).
    Returns the role's ARN and name.
    """
    t = st.template
    group = "Endpoint"
    key = st.param("EndpointKey", "The endpoint's short name in a fleet; empty in the single-endpoint form.",
                   group=group, label="Endpoint key", Default="", AllowedPattern=r"^([a-z][a-z0-9-]{0,19})?$")
    st.param("EndpointName", "Name of the monitored endpoint.", group=group, label="Endpoint name",
             AllowedPattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    pattern = r"^[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$"
    capture = st.param("CapturePrefix", "Bucket prefix of this endpoint's Data Capture.", group=group,
                       label="Capture prefix", Default="datacapture", AllowedPattern=pattern)
    reports = st.param("ReportsPrefix", "Bucket prefix of this endpoint's monitoring reports.", group=group,
                       label="Reports prefix", Default="reports", AllowedPattern=pattern)
    baselines = st.param("BaselinesPrefix", "Bucket prefix of this endpoint's baselining output.", group=group,
                         label="Baselines prefix", Default="baselines", AllowedPattern=pattern)
    t.add_condition("Fleet", Not(Equals(Ref(key), "")))
    role = t.add_resource(monitoring_role(
        "ExecutionRole", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-" + MONITORING_ROLE_SUFFIX),
        Sub("Model Monitor jobs of endpoint ${EndpointKey} of ${ProjectName}-${EnvironmentName}"),
        Sub("arn:${AWS::Partition}:s3:::${BucketName}"),
        lambda prefix: Sub("arn:${AWS::Partition}:s3:::${BucketName}/${Prefix}/*", Prefix=prefix),
        readable=[Ref(capture), Ref("BatchCapturePrefix"), Ref("GroundTruthPrefix"), Ref(baselines), ASSETS_PREFIX],
        writable=[Ref(reports), Ref(baselines)], reports=Ref(reports), key_arn=Ref(key_arn),
    ))
    role.Condition = "Fleet"
    t.add_resource(vpc_mode_policy("ExecutionRoleVpcAccess", role, condition="Fleet"))
    shared = "${ProjectName}-${EnvironmentName}-" + MONITORING_ROLE_SUFFIX  # the foundation stack's role
    role_arn = If("Fleet", GetAtt(role, "Arn"), Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + shared))
    role_name = If("Fleet", Ref(role), Sub(shared))
    t.add_output(Output("ExecutionRoleArn", Value=role_arn, Description="Execution role of this endpoint's jobs"))
    return role_arn, role_name


def parameter_values(params: Params, endpoint: FleetEndpoint, assets: dict[str, str], model: str = "") -> dict[str, str]:
    """Values of one endpoint of this environment. `assets` maps a script path to its bucket key; `model` is the
    endpoint's model name: a created endpoint's from its endpoint stack, an existing one's `existing.model_name`
    (empty when not given)."""
    dq = endpoint.monitoring.data_quality
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
        "BatchCapturePrefix": endpoint.batch_capture_prefix(params),
        "EndpointKey": "" if endpoint.legacy else endpoint.key,
        "EndpointName": endpoint.endpoint_name(params),
        "CapturePrefix": endpoint.capture_prefix(params),
        "ReportsPrefix": endpoint.reports_prefix(params),
        "BaselinesPrefix": endpoint.baselines_prefix(params),
        "ModelName": model,
        "DataQualityPublishMetrics": "Enabled" if dq.publish_cloudwatch_metrics else "Disabled",
    }
    if dq.analysis_window:
        values["DataQualityWindowStart"] = dq.analysis_window.start
        values["DataQualityWindowEnd"] = dq.analysis_window.end
    if dq.baseline:  # the copies make deploy writes under <baselines prefix>/imported/ (mmtool/config/baselines.py)
        values["DataQualityBaselineConstraintsKey"] = copy_key(dq.baseline.constraints, endpoint.baselines_prefix(params))
        values["DataQualityBaselineStatisticsKey"] = copy_key(dq.baseline.statistics, endpoint.baselines_prefix(params))
    values.update(model_monitor_values(params, endpoint, assets))
    values.update({"AlarmsEnabled": str(params.alarms.enabled and not endpoint.legacy).lower(),
                   "NotifyOnViolations": str(params.alarms.notify_on_violations).lower()})
    if not endpoint.legacy:  # the single-endpoint form's drift alarms are in the alarms stack
        values.update(notifications.drift_values(schedule.period_seconds, endpoint.drift_alarms))
    return values


# --- model quality, model bias, model explainability ----------------------------------------------

# (params key, logical-id stem, job-name code, schedule suffix, MonitoringType, label)
MODEL_MONITORS = (
    ("model_quality", "ModelQuality", "mq", "model-quality", "Model quality"),
    ("model_bias", "ModelBias", "mb", "model-bias", "Model bias"),
    ("model_explainability", "ModelExplainability", "me", "model-explainability", "Model explainability"),
)
SCHEDULE_SUFFIXES = ("data-quality",) + tuple(m[3] for m in MODEL_MONITORS)
# A fleet endpoint's schedules are <project>-<env>-<key>-<code> (templates/monitoring.py `schedule_name`).
SHORT_CODES = {"data-quality": "dq", **{m[3]: m[2] for m in MODEL_MONITORS}}
CLARIFY_REPOSITORY = "sagemaker-clarify-processing:1.0"  # repository and tag (reference §2)
CLARIFY_ENDPOINT_PREFIX = "clarify"  # shadow endpoints: <project>-<env>-clarify... (Clarify predictor endpoint_name_prefix)
# Why the explainability job runs without network isolation (also the reason our check accepts it).
SHADOW_ENDPOINT_REASON = ("SageMaker Clarify computes SHAP values by calling a temporary shadow endpoint it creates from "
                          "the model: the job needs the sagemaker.api and sagemaker.runtime VPC endpoints (reference 7.3)")
OFFSET_PATTERN = r"^(-P(T\d+H|\d+D))?$"


def _model_monitors(st: StackTemplate, params: Params, tags, key_arn, role_arn, role_name, subnets, job_sg,
                    endpoint_name) -> None:
    t = st.template
    model_name = st.param("ModelName", "Name of the endpoint's model (Clarify's explainability shadow endpoints are "
                          "made from it); for an endpoint another tool deployed, existing.model_name or empty.",
                          group="Endpoint",
                          label="Model name", Default="", AllowedPattern=r"^([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})?$")
    st.param("GroundTruthPrefix", "Bucket prefix of the ground-truth labels.", group="Model quality",
             label="Ground-truth prefix", Default="ground-truth",
             AllowedPattern=r"^[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$")
    t.add_mapping("ClarifyImage", {region: {"Account": account} for region, account in image_accounts("clarify").items()})
    clarify_image = Sub("${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + CLARIFY_REPOSITORY,
                        Account=FindInMap("ClarifyImage", Ref("AWS::Region"), "Account"))
    analyzer = Sub("${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + ANALYZER_REPOSITORY,
                   Account=FindInMap("ModelMonitorImage", Ref("AWS::Region"), "Account"))
    ground_truth = GroundTruthInput(S3Uri=Sub("s3://${BucketName}/${GroundTruthPrefix}"))
    for key, stem, code, suffix, group in MODEL_MONITORS:
        # Default true like DataQualityEnabled: checkov evaluates conditions with the defaults, and a
        # definition it drops is a definition it never checks. The parameter files always set the flag.
        enabled = st.flag(f"{stem}Enabled", f"Create the {group.lower()} monitor.", group=group, label="Enabled")
        _revision_parameter(st, f"{stem}Revision", group)
        schedule = st.param(f"{stem}ScheduleExpression", "ScheduleExpression: cron(0 * ? * * *), cron(0 H ? * * *) "
                            "or cron(0 H/N ? * * *).", group=group, label="Schedule (UTC)", Default="cron(0 0 ? * * *)",
                            AllowedPattern=r"^cron\(0 (\*|\d{1,2}|\d{1,2}/\d{1,2}) \? \* \* \*\)$",
                            ConstraintDescription="a schedule SageMaker Model Monitor accepts (hourly, daily, every N hours)")
        instance_type = st.param(f"{stem}InstanceType", "Processing instance type.", group=group, label="Instance type",
                                 Default="ml.m5.xlarge", AllowedPattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
        instance_count = st.param(f"{stem}InstanceCount", "Processing instances per run.", group=group,
                                  label="Instance count", type="Number", Default="1", MinValue=1, MaxValue=100)
        volume = st.param(f"{stem}VolumeSizeGb", "Volume per instance (GB).", group=group, label="Volume (GB)",
                          type="Number", Default="30", MinValue=1, MaxValue=16384)
        runtime = st.param(f"{stem}MaxRuntimeSeconds", "Stop a run after this many seconds.", group=group,
                           label="Max runtime (s)", type="Number", Default="1800", MinValue=1, MaxValue=86400)
        metrics = st.param(f"{stem}PublishMetrics", "Publish the monitor's CloudWatch metrics.", group=group,
                           label="CloudWatch metrics", Default="Enabled", AllowedValues=["Enabled", "Disabled"])
        st.param(f"{stem}BaselineConstraintsKey", "Bucket key of the copy of the baseline constraints "
                 "(baselines/imported/...); empty for none.", group=group, label="Baseline constraints", Default="",
                 AllowedPattern=BASELINE_KEY_PATTERN)
        t.add_condition(stem, Equals(Ref(enabled), "true"))
        t.add_condition(f"{stem}HasBaseline", Not(Equals(Ref(f"{stem}BaselineConstraintsKey"), "")))

        def optional(name: str, description: str, label: str, pattern: str = r"^[^\s]{0,256}$", group=group,
                     stem=stem) -> object:
            """A String parameter that is empty when unset, and its value or NoValue in the template."""
            parameter = st.param(f"{stem}{name}", f"{description} Empty: not set.", group=group, label=label,
                                 Default="", AllowedPattern=pattern)
            t.add_condition(f"{stem}Has{name}", Not(Equals(Ref(parameter), "")))
            return If(f"{stem}Has{name}", Ref(parameter), NO_VALUE)

        input_args: dict = {"EndpointName": endpoint_name, "LocalPath": f"{PROCESSING}/input/endpoint",
                            "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}
        if stem != "ModelExplainability":
            input_args["InferenceAttribute"] = optional("InferenceAttribute", "Predicted label in the response.",
                                                        "Inference attribute")
        input_args["ProbabilityAttribute"] = optional("ProbabilityAttribute", "Probability in the response.",
                                                      "Probability attribute")
        if stem != "ModelExplainability":
            input_args["ProbabilityThresholdAttribute"] = optional(
                "ProbabilityThreshold", "Probability above which the label is 1.", "Probability threshold",
                pattern=r"^(0?\.\d{1,6})?$")
            start = optional("StartTimeOffset", "Start of the analysed hours, e.g. -P1D.", "Start offset",
                             OFFSET_PATTERN)
            end = optional("EndTimeOffset", "End of the analysed hours, e.g. -PT0H.", "End offset", OFFSET_PATTERN)
            input_args.update(StartTimeOffset=start, EndTimeOffset=end)

        job_name = name(f"{code}-${{{stem}Revision}}")
        output = MonitoringOutputConfig(
            KmsKeyId=Ref(key_arn),
            MonitoringOutputs=[MonitoringOutput(S3Output=S3Output(
                LocalPath=f"{PROCESSING}/output",
                S3Uri=Sub(f"s3://${{BucketName}}/${{ReportsPrefix}}/{suffix}"),
                S3UploadMode="EndOfJob",
            ))],
        )
        resources = MonitoringResources(ClusterConfig=ClusterConfig(
            InstanceCount=Ref(instance_count), InstanceType=Ref(instance_type), VolumeSizeInGB=Ref(volume),
            VolumeKmsKeyId=Ref(key_arn),
        ))
        # Network isolation on, except for explainability: Clarify calls its shadow endpoint (reference §7.3).
        network = NetworkConfig(
            EnableInterContainerTrafficEncryption=True,
            EnableNetworkIsolation=stem != "ModelExplainability",
            VpcConfig=VpcConfig(SecurityGroupIds=[Ref(job_sg)], Subnets=Ref(subnets)),
        )
        environment = {"publish_cloudwatch_metrics": Ref(metrics)}
        baseline = ConstraintsResource(S3Uri=Sub(f"s3://${{BucketName}}/${{{stem}BaselineConstraintsKey}}"))
        common = dict(Condition=stem, JobDefinitionName=If(f"Has{stem}Revision", job_name, NO_VALUE), JobResources=resources, NetworkConfig=network,
                      RoleArn=role_arn, StoppingCondition=MonitoringStoppingCondition(MaxRuntimeInSeconds=Ref(runtime)),
                      Tags=tags)
        if stem == "ModelQuality":
            problem = st.param("ModelQualityProblemType", "The model's problem type.", group=group, label="Problem type",
                               Default="BinaryClassification",
                               AllowedValues=["BinaryClassification", "MulticlassClassification", "Regression"])
            job = ModelQualityJobDefinition(
                "ModelQualityJobDefinition",
                ModelQualityAppSpecification=ModelQualityAppSpecification(
                    ImageUri=analyzer, ProblemType=Ref(problem), Environment=environment),
                ModelQualityBaselineConfig=If("ModelQualityHasBaseline",
                                              ModelQualityBaselineConfig(ConstraintsResource=baseline), NO_VALUE),
                ModelQualityJobInput=ModelQualityJobInput(EndpointInput=ModelQualityEndpointInput(**input_args),
                                                          GroundTruthS3Input=ground_truth),
                ModelQualityJobOutputConfig=output, **common)
        elif stem == "ModelBias":
            st.param("ModelBiasConfigKey", "Bucket key of the Clarify analysis configuration.",
                                  group=group, label="Analysis config key", Default="", AllowedPattern=r"^(\S+\.json)?$")
            job = ModelBiasJobDefinition(
                "ModelBiasJobDefinition",
                ModelBiasAppSpecification=ModelBiasAppSpecification(
                    ImageUri=clarify_image, ConfigUri=Sub("s3://${BucketName}/${ModelBiasConfigKey}"),
                    Environment=environment),
                ModelBiasBaselineConfig=If("ModelBiasHasBaseline", ModelBiasBaselineConfig(ConstraintsResource=baseline),
                                           NO_VALUE),
                ModelBiasJobInput=ModelBiasJobInput(EndpointInput=ModelBiasEndpointInput(**input_args),
                                                    GroundTruthS3Input=ground_truth),
                ModelBiasJobOutputConfig=output, **common)
        else:
            st.param("ModelExplainabilityConfigKey", "Bucket key of the Clarify analysis configuration.", group=group,
                     label="Analysis config key", Default="", AllowedPattern=r"^(\S+\.json)?$")
            job = ModelExplainabilityJobDefinition(
                "ModelExplainabilityJobDefinition",
                Metadata=scanner_skips(checkov={check: SHADOW_ENDPOINT_REASON for check in EXPLAINABILITY_SKIPS}),
                ModelExplainabilityAppSpecification=ModelExplainabilityAppSpecification(
                    ImageUri=clarify_image, ConfigUri=Sub("s3://${BucketName}/${ModelExplainabilityConfigKey}"),
                    Environment=environment),
                ModelExplainabilityBaselineConfig=If(
                    "ModelExplainabilityHasBaseline", ModelExplainabilityBaselineConfig(ConstraintsResource=baseline),
                    NO_VALUE),
                ModelExplainabilityJobInput=ModelExplainabilityJobInput(
                    EndpointInput=ModelExplainabilityEndpointInput(**input_args)),
                ModelExplainabilityJobOutputConfig=output, **common)
        job = t.add_resource(job)
        depends = []  # the definition comes first anyway: the schedule's name for it refers to it
        if stem == "ModelExplainability":
            depends.append(_shadow_endpoint_policy(st, role_name, model_name).title)
        schedule_resource = t.add_resource(MonitoringSchedule(
            f"{stem}Schedule",
            Condition=stem,
            **({"DependsOn": depends} if depends else {}),
            MonitoringScheduleName=schedule_name(suffix, code),
            MonitoringScheduleConfig=MonitoringScheduleConfig(
                MonitoringJobDefinitionName=_job_definition_name(f"{stem}Revision", job_name, job),
                MonitoringType=stem,
                ScheduleConfig=ScheduleConfig(ScheduleExpression=Ref(schedule)),
            ),
            Tags=tags,
        ))
        t.add_output(Output(f"{stem}JobDefinitionName", Condition=stem,
                            Value=_job_definition_name(f"{stem}Revision", job_name, job),
                            Description=f"Current {group.lower()} job definition"))
        t.add_output(Output(f"{stem}ScheduleName", Condition=stem, Value=Ref(schedule_resource),
                            Description=f"{group} monitoring schedule"))
        t.add_output(Output(f"{stem}ReportsUri", Condition=stem,
                            Value=Sub(f"s3://${{BucketName}}/${{ReportsPrefix}}/{suffix}"),
                            Description=f"Where {group.lower()} reports are written"))

    _merged_ground_truth_policy(st, role_name)
    _image_pull_policy(st, role_name)


# checkov's checks that expect network isolation on a job definition; the explainability job cannot have it.
EXPLAINABILITY_SKIPS: tuple[str, ...] = ()


def _merged_ground_truth_policy(st: StackTemplate, role_name) -> PolicyType:
    """Model quality and model bias runs are two processing jobs as the monitoring role: a ground-truth
    merge job (image sagemaker-model-monitor-groundtruth-merger) writes the captured predictions joined
    with the labels to `<the definition's S3Output.S3Uri>/merge/<endpoint>/<variant>/yyyy/mm/dd/hh`, and
    the analysis job reads them back from there (docs/monitors.md, "Where the merged ground truth goes").
    The role may write under its reports prefix (reports/, or reports/<key> for a fleet endpoint) but reads only
    its input prefixes: this grants reading exactly the two merge prefixes under it, nothing else of reports/."""
    merge = [Sub(f"arn:${{AWS::Partition}}:s3:::${{BucketName}}/${{ReportsPrefix}}/{suffix}/{MERGE_FOLDER}/*")
             for suffix in MERGED_SUFFIXES]
    st.template.add_condition("MergesGroundTruth", Or(Condition("ModelQuality"), Condition("ModelBias")))
    return _role_policy(st, "MergedGroundTruthReadPolicy", "MergesGroundTruth", "merged-ground-truth", role_name, [
        Statement(Sid="ReadMergedGroundTruth", Effect=Allow, Action=[s3.GetObject],
                  Resource=[If("ModelQuality", merge[0], NO_VALUE), If("ModelBias", merge[1], NO_VALUE)]),
    ])


def _image_pull_policy(st: StackTemplate, role_name) -> PolicyType:
    """Pulling the AWS-owned images a run uses, from the accounts of the same table as the image Mappings.

    The repositories are in the region's account of ModelMonitorImage (the analyzer, and the ground-truth
    merger of model-quality/bias runs) and, with a Clarify monitor enabled, of ClarifyImage. Reference §2
    says SageMaker pulls its pre-built images with service credentials; these grants cost nothing if so,
    and make the pull work if a run uses the role's (the first real run confirms which: docs/security.md).
    """
    t = st.template
    repository = "arn:${AWS::Partition}:ecr:${AWS::Region}:${Account}:repository/"
    analyzer_account = FindInMap("ModelMonitorImage", Ref("AWS::Region"), "Account")
    monitor_repos = [Sub(repository + repo, Account=analyzer_account) for repo in (ANALYZER_REPOSITORY, MERGER_REPOSITORY)]
    clarify = Sub(repository + CLARIFY_REPOSITORY.split(":")[0],
                  Account=FindInMap("ClarifyImage", Ref("AWS::Region"), "Account"))
    t.add_condition("AnyMonitor", Or(Condition("DataQuality"), Condition("ModelQuality"), Condition("ModelBias"),
                                     Condition("ModelExplainability")))
    t.add_condition("Clarify", Or(Condition("ModelBias"), Condition("ModelExplainability")))
    return _role_policy(st, "ImagePullPolicy", "AnyMonitor", "image-pull", role_name, [
        # ecr:GetAuthorizationToken supports no resource: the token is for the caller's whole registry
        # access, so "*" is the only value IAM accepts (mmtool.security WILDCARD_ALLOWED).
        Statement(Sid="RegistryToken", Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
        Statement(
            Sid="PullAnalyzerAndClarifyImages",
            Effect=Allow,
            Action=[ecr.BatchGetImage, ecr.GetDownloadUrlForLayer, ecr.BatchCheckLayerAvailability],
            # Clarify's account only when a Clarify monitor exists: FindInMap of a region the Clarify
            # table lacks would fail the stack otherwise.
            Resource=monitor_repos + [If("Clarify", clarify, NO_VALUE)],
        ),
    ])


def _role_policy(st: StackTemplate, title: str, condition: str, suffix: str, role_name, statements: list) -> PolicyType:
    """An inline policy `<project>-<env>-<suffix>` of the endpoint's execution role (the foundation stack's
    monitoring role in the single-endpoint form), present under `condition`."""
    return st.template.add_resource(PolicyType(
        title, Condition=condition, PolicyName=name(suffix), Roles=[role_name],
        PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
    ))


def _shadow_endpoint_policy(st: StackTemplate, role_name, model_name) -> PolicyType:
    """What Clarify's explainability job does with the monitoring role: describe the endpoint's model (ModelName:
    ours, or an existing endpoint's existing.model_name), create, call and delete a shadow endpoint named with our
    prefix (reference §7.1). Nothing else, no other model."""
    arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:"
    legacy = f"${{ProjectName}}-${{EnvironmentName}}-{CLARIFY_ENDPOINT_PREFIX}*"
    fleet = f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{CLARIFY_ENDPOINT_PREFIX}*"

    def shadow(kind: str) -> If:
        return If("Fleet", Sub(arn + kind + fleet), Sub(arn + kind + legacy))
    return st.template.add_resource(PolicyType(
        "ClarifyShadowEndpointPolicy",
        Condition="ModelExplainability",
        PolicyName=name("clarify-shadow-endpoint"),
        Roles=[role_name],
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(Sid="DescribeTheEndpointModel", Effect=Allow, Action=[sagemaker.DescribeModel],
                          Resource=[Sub(arn + "model/${ModelName}")]),
                Statement(
                    Sid="ShadowEndpointLifecycle",
                    Effect=Allow,
                    Action=[sagemaker.CreateEndpointConfig, sagemaker.DescribeEndpointConfig,
                            sagemaker.DeleteEndpointConfig, sagemaker.CreateEndpoint, sagemaker.DescribeEndpoint,
                            sagemaker.DeleteEndpoint, sagemaker.InvokeEndpoint],
                    Resource=[shadow("endpoint-config/"), shadow("endpoint/")],
                ),
            ],
        ),
    ))


def model_monitor_values(params: Params, endpoint: FleetEndpoint, assets: dict[str, str]) -> dict[str, str]:
    values = {"GroundTruthPrefix": endpoint.ground_truth_prefix(params)}
    for key, stem, _code, _suffix, _group in MODEL_MONITORS:
        monitor = getattr(endpoint.monitoring, key)
        values.update({
            f"{stem}Enabled": str(monitor.enabled).lower(),
            f"{stem}ScheduleExpression": monitor.parsed_schedule.expression,
            f"{stem}InstanceType": monitor.instance_type,
            f"{stem}InstanceCount": str(monitor.instance_count),
            f"{stem}VolumeSizeGb": str(monitor.volume_size_gb),
            f"{stem}MaxRuntimeSeconds": str(monitor.max_runtime_seconds),
            f"{stem}PublishMetrics": "Enabled" if monitor.publish_cloudwatch_metrics else "Disabled",
            f"{stem}BaselineConstraintsKey": copy_key(monitor.baseline_constraints, endpoint.baselines_prefix(params))
            if monitor.baseline_constraints else "",
            f"{stem}ProbabilityAttribute": monitor.probability_attribute or "",
        })
        if stem != "ModelExplainability":
            values[f"{stem}InferenceAttribute"] = monitor.inference_attribute or ""
            values[f"{stem}ProbabilityThreshold"] = "" if monitor.probability_threshold is None \
                else str(monitor.probability_threshold)
            offsets = monitor.time_offsets
            values[f"{stem}StartTimeOffset"] = offsets.start if offsets else ""
            values[f"{stem}EndTimeOffset"] = offsets.end if offsets else ""
    values["ModelQualityProblemType"] = endpoint.monitoring.model_quality.problem_type
    values["ModelBiasConfigKey"] = assets.get(BIAS_CONFIG, "")
    values["ModelExplainabilityConfigKey"] = assets.get(EXPLAINABILITY_CONFIG, "")
    return values


BIAS_CONFIG = "clarify:model-bias"  # keys of the synthesized Clarify analysis configurations in `assets`
EXPLAINABILITY_CONFIG = "clarify:model-explainability"
