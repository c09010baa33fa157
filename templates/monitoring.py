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
  EndpointDashboard         (a fleet endpoint) <project>-<env>-<key>-model-monitor: its runs, alarms, drift and
                            model metrics (templates/notifications.py); with its rules and alarms
Outputs
  <Monitor>JobDefinitionName, <Monitor>ScheduleName, <Monitor>ReportsUri for each enabled monitor;
  DashboardName (a fleet endpoint)

Every property of a job definition is create-only, so any change replaces it. Its name
(<project>-<env>-dq|mq|mb|me-<revision>) therefore carries `<Monitor>Revision`, a hash the build computes from the definition and the parameter values
it uses: a changed definition gets a new name (no collision with the old one during replacement),
and the schedule, which updates in place, follows it to the new name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from awacs import ecr, s3, sagemaker
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import And, Condition, Equals, FindInMap, GetAtt, If, Not, Or, Output, Ref, Select, Split, Sub
from troposphere import sagemaker as types
from troposphere.iam import PolicyType
from troposphere.sagemaker import (
    BatchTransformInput,
    ClusterConfig,
    ConstraintsResource,
    Csv,
    DatasetFormat,
    EndpointInput,
    Json,
    MonitoringOutput,
    MonitoringOutputConfig,
    MonitoringResources,
    MonitoringGroundTruthS3Input as GroundTruthInput,
    MonitoringSchedule,
    MonitoringScheduleConfig,
    NetworkConfig,
    S3Output,
    ScheduleConfig,
    StatisticsResource,
    VpcConfig,
)

from mmtool.config import layout
from mmtool.config.baselines import copy_key
from mmtool.config.monitor_kinds import (
    ANALYZER,
    CLARIFY,
    DATA_QUALITY,
    IMAGE_FAMILIES,
    KINDS,
    MERGER_REPOSITORY,
    MODEL_EXPLAINABILITY,
    MonitorKind,
    settings,
)
from mmtool.config.params import SHADOW_ENDPOINT_SUFFIX, FleetEndpoint, Params, image_accounts
from mmtool.config.schedule import parse_schedule
from templates.common import Inputs, StackTemplate, bucket_prefixes, explicit_tags, name, scanner_skips
from templates import notifications, processing_engine
from templates.foundation import ALARM_TOPIC_ARN, MONITORING_ROLE_SUFFIX, monitoring_role, vpc_mode_policy
from templates.sagemaker_types import MonitoringStoppingCondition

STACK = "monitoring"
DEPENDS_ON = ("foundation", "network", "endpoint")
PROTECTED_RESOURCES: tuple[str, ...] = ()

ANALYZER_REPOSITORY = ANALYZER.repository  # mmtool/operate/baseline.py runs the same image
MERGE_FOLDER = "merge"  # <S3Output.S3Uri>/merge/...: where the merge job writes (docs/monitors.md)
BASELINE_KEY_PATTERN = rf"^({layout.BASELINES.prefix}/\S+\.json)?$"  # copies made by make deploy (mmtool/config/baselines.py)
# The SageMaker SDK's container paths (sagemaker/model_monitor/model_monitoring.py, _CONTAINER_BASE_PATH).
PROCESSING = "/opt/ml/processing"
NO_VALUE = Ref("AWS::NoValue")
# Clarify's shadow endpoints: <project>-<env>[-<key>]-clarify... (FleetEndpoint.shadow_endpoint_prefix)
CLARIFY_ENDPOINT_PREFIX = SHADOW_ENDPOINT_SUFFIX
# Why the explainability job runs without network isolation (also the reason our check accepts it).
SHADOW_ENDPOINT_REASON = MODEL_EXPLAINABILITY.isolation_waiver
OFFSET_PATTERN = r"^(-P(T\d+H|\d+D))?$"


def config_asset(kind: MonitorKind) -> str:
    """The key of a Clarify kind's synthesized analysis configuration in `assets` (mmtool/generate/synth.py)."""
    return f"clarify:{kind.name}"



def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor monitoring: data-quality, model-quality, model-bias and "
                       "model-explainability job definitions and schedules")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")
    key_arn = st.consume("KmsKeyArn", "foundation", "kms-key-arn", "Project KMS key ARN.")
    subnets = st.consume("SubnetIds", "network", "subnet-ids", "Private subnet ids.", list_value=True)
    job_sg = st.consume("JobSecurityGroupId", "network", "job-security-group-id", "Job security group id.")
    role_arn, role_name = _endpoint_identity(st, key_arn)
    model_name = st.param("ModelName", "Name of the endpoint's model (Clarify's explainability shadow endpoints are "
                          "made from it); for an endpoint another tool deployed, existing.model_name or empty.",
                          group="Endpoint", label="Model name", Default="",
                          AllowedPattern=r"^([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})?$", value=lambda i: i.model)
    st.param("GroundTruthPrefix", "Bucket prefix of the ground-truth labels.", group="Endpoint",
             label="Ground-truth prefix", Default=layout.GROUND_TRUTH.prefix,
             AllowedPattern=layout.PREFIX_PATTERN,
             value=lambda i: i.endpoint.ground_truth_prefix(i.params))
    for family in IMAGE_FAMILIES:
        t.add_mapping(family.mapping, {region: {"Account": account}
                                       for region, account in image_accounts(family.name).items()})
    shared = Shared(
        key_arn=key_arn, role_arn=role_arn, role_name=role_name, subnets=subnets, job_sg=job_sg,
        model_name=model_name, tags=explicit_tags(st, list(params.tags)),
        images={family.name: Sub("${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + family.repository,
                                 Account=FindInMap(family.mapping, Ref("AWS::Region"), "Account"))
                for family in IMAGE_FAMILIES},
    )
    for kind in KINDS:
        _monitor(st, kind, shared)
    _merged_ground_truth_policy(st, role_name)
    _image_pull_policy(st, role_name)
    _endpoint_notifications(st)
    processing_engine.add(st, params, key_arn=key_arn, subnets=subnets, job_sg=job_sg)
    return st


# --- one monitor of any kind -----------------------------------------------------------------------


@dataclass
class Shared:
    """What every monitor of the stack uses: the key, the jobs' role, the network, the tags, the images."""

    key_arn: Any
    role_arn: Any
    role_name: Any
    subnets: Any
    job_sg: Any
    model_name: Any
    tags: Any
    images: dict[str, Sub]


@dataclass
class JobParts:
    """What a kind's job definition has of its own (JOB_PARTS): its app specification's extra fields, baseline
    configuration and job input; for its schedule, extra ScheduleConfig fields and resources it must wait for."""

    app: dict[str, Any] = field(default_factory=dict)
    baseline: Any = None
    job_input: Any = None
    schedule: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    metadata: dict[str, Any] | None = None


def _of(kind: MonitorKind, value: Callable[[Any, Inputs], object]) -> Callable[[Inputs], Any]:
    """A parameter value read from the kind's section of the endpoint's monitoring settings."""
    return lambda i: value(settings(i.endpoint.monitoring, kind), i)


def _monitor(st: StackTemplate, kind: MonitorKind, shared: Shared) -> None:
    """Any kind's job definition, schedule and outputs, named and hardened alike; JOB_PARTS adds its own parts.

    Every property of a job definition is create-only, so its name carries `<Stem>Revision`, the hash of the
    definition and every value it reads (mmtool.generate.synth): a changed definition gets a new name."""
    t = st.template
    stem, group = kind.stem, kind.label
    # Default true: checkov evaluates conditions with the defaults, and a definition it drops is a definition it
    # never checks. The parameter files always set the flag.
    enabled = st.flag(f"{stem}Enabled", f"Create the {group.lower()} monitor.", group=group, label="Enabled",
                      value=_of(kind, lambda m, i: m.enabled and i.endpoint.monitoring.runs_model_monitor))
    _revision_parameter(st, f"{stem}Revision", group)
    default_schedule = parse_schedule(kind.model.model_fields["schedule"].default).expression
    forms = "cron(0 * ? * * *), cron(0 H ? * * *)"
    schedule = st.param(
        f"{stem}ScheduleExpression",
        f"ScheduleExpression: {forms}, cron(0 H/N ? * * *) or NOW." if kind.one_time_runs
        else f"ScheduleExpression: {forms} or cron(0 H/N ? * * *).",
        group=group, label="Schedule (UTC)", Default=default_schedule,
        AllowedPattern=r"^(cron\(0 (\*|\d{1,2}|\d{1,2}/\d{1,2}) \? \* \* \*\)|NOW)$" if kind.one_time_runs
        else r"^cron\(0 (\*|\d{1,2}|\d{1,2}/\d{1,2}) \? \* \* \*\)$",
        ConstraintDescription="a schedule SageMaker Model Monitor accepts (hourly, daily, every N hours"
                              + (", NOW)" if kind.one_time_runs else ")"),
        value=_of(kind, lambda m, i: m.parsed_schedule.expression))
    instance_type = st.param(f"{stem}InstanceType", "Processing instance type.", group=group, label="Instance type",
                             Default="ml.m5.xlarge", AllowedPattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
                             value=_of(kind, lambda m, i: m.instance_type))
    instance_count = st.param(f"{stem}InstanceCount", "Processing instances per run.", group=group,
                              label="Instance count", type="Number", Default="1", MinValue=1, MaxValue=100,
                              value=_of(kind, lambda m, i: str(m.instance_count)))
    volume = st.param(f"{stem}VolumeSizeGb", "Volume per instance (GB).", group=group, label="Volume (GB)",
                      type="Number", Default="30", MinValue=1, MaxValue=16384,
                      value=_of(kind, lambda m, i: str(m.volume_size_gb)))
    runtime = st.param(f"{stem}MaxRuntimeSeconds", "Stop a run after this many seconds.", group=group,
                       label="Max runtime (s)", type="Number",
                       Default=str(kind.model.model_fields["max_runtime_seconds"].default), MinValue=1, MaxValue=86400,
                       value=_of(kind, lambda m, i: str(m.max_runtime_seconds)))
    metrics = st.param(f"{stem}PublishMetrics", "Publish the monitor's CloudWatch metrics.", group=group,
                       label="CloudWatch metrics", Default="Enabled", AllowedValues=["Enabled", "Disabled"],
                       value=_of(kind, lambda m, i: "Enabled" if m.publish_cloudwatch_metrics else "Disabled"))
    t.add_condition(stem, Equals(Ref(enabled), "true"))
    parts = JOB_PARTS[kind.job](st, kind, shared)

    job_name = name(f"{kind.code}-${{{stem}Revision}}")
    reports = Sub(f"s3://${{BucketName}}/${{ReportsPrefix}}/{kind.name}")
    definition = getattr(types, f"{stem}JobDefinition")(
        kind.job_definition,
        Condition=stem,
        **({"Metadata": parts.metadata} if parts.metadata is not None else {}),
        JobDefinitionName=If(f"Has{stem}Revision", job_name, NO_VALUE),
        RoleArn=shared.role_arn,
        StoppingCondition=MonitoringStoppingCondition(MaxRuntimeInSeconds=Ref(runtime)),
        Tags=shared.tags,
        JobResources=MonitoringResources(ClusterConfig=ClusterConfig(
            InstanceCount=Ref(instance_count), InstanceType=Ref(instance_type), VolumeSizeInGB=Ref(volume),
            VolumeKmsKeyId=Ref(shared.key_arn),
        )),
        NetworkConfig=NetworkConfig(
            EnableInterContainerTrafficEncryption=True,
            EnableNetworkIsolation=kind.network_isolated,
            VpcConfig=VpcConfig(SecurityGroupIds=[Ref(shared.job_sg)], Subnets=Ref(shared.subnets)),
        ),
        **{
            f"{stem}AppSpecification": getattr(types, f"{stem}AppSpecification")(
                ImageUri=shared.images[kind.image.name],
                # Set explicitly: definitions created outside the SDK publish no metrics without it
                # (docs/monitors.md).
                Environment={"publish_cloudwatch_metrics": Ref(metrics)},
                **parts.app),
            f"{stem}BaselineConfig": parts.baseline,
            f"{stem}JobInput": parts.job_input,
            f"{stem}JobOutputConfig": MonitoringOutputConfig(
                KmsKeyId=Ref(shared.key_arn),
                MonitoringOutputs=[MonitoringOutput(S3Output=S3Output(
                    LocalPath=f"{PROCESSING}/output", S3Uri=reports, S3UploadMode="EndOfJob",
                ))],
            ),
        },
    )
    job = t.add_resource(definition)
    st.revision(f"{stem}Revision", job)
    schedule_resource = t.add_resource(MonitoringSchedule(
        f"{stem}Schedule",
        Condition=stem,  # after the definition: its name refers to it (_job_definition_name)
        **({"DependsOn": parts.depends_on} if parts.depends_on else {}),
        MonitoringScheduleName=schedule_name(kind.name, kind.code),
        MonitoringScheduleConfig=MonitoringScheduleConfig(
            # The schedule wants the definition's name; Ref of a definition is its ARN.
            MonitoringJobDefinitionName=_job_definition_name(f"{stem}Revision", job_name, job),
            MonitoringType=stem,
            ScheduleConfig=ScheduleConfig(ScheduleExpression=Ref(schedule), **parts.schedule),
        ),
        Tags=shared.tags,
    ))
    t.add_output(Output(f"{stem}JobDefinitionName", Condition=stem,
                        Value=_job_definition_name(f"{stem}Revision", job_name, job),
                        Description=f"Current {group.lower()} job definition"))
    t.add_output(Output(f"{stem}ScheduleName", Condition=stem, Value=Ref(schedule_resource),
                        Description=f"{group} monitoring schedule"))
    t.add_output(Output(f"{stem}ReportsUri", Condition=stem, Value=reports,
                        Description=f"Where {group.lower()} reports are written"))


def _data_quality(st: StackTemplate, kind: MonitorKind, shared: Shared) -> JobParts:
    """Data quality: record pre- and post-processor, a baseline of constraints and statistics, endpoint or
    batch-transform capture as input, and an optional analysis window on the schedule."""
    t = st.template
    stem, group = kind.stem, kind.label
    dq = lambda value: _of(kind, value)  # noqa: E731
    window_start = st.param(f"{stem}WindowStart", "Analysis window start offset, e.g. -PT2H; empty for the "
                            "default window.", group=group, label="Window start", Default="",
                            AllowedPattern=OFFSET_PATTERN,
                            value=dq(lambda m, i: m.analysis_window.start if m.analysis_window else None))
    window_end = st.param(f"{stem}WindowEnd", "Analysis window end offset, e.g. -PT0H.", group=group,
                          label="Window end", Default="", AllowedPattern=OFFSET_PATTERN,
                          value=dq(lambda m, i: m.analysis_window.end if m.analysis_window else None))
    constraints = st.param(f"{stem}BaselineConstraintsKey", "Bucket key of the copy of constraints.json "
                           "(baselines/imported/...); empty for none.", group=group, label="Baseline constraints",
                           Default="", AllowedPattern=BASELINE_KEY_PATTERN,
                           value=dq(lambda m, i: _copy(m.baseline and m.baseline.constraints, i)))
    statistics = st.param(f"{stem}BaselineStatisticsKey", "Bucket key of the copy of statistics.json "
                          "(baselines/imported/...); empty for none.", group=group, label="Baseline statistics",
                          Default="", AllowedPattern=BASELINE_KEY_PATTERN,
                          value=dq(lambda m, i: _copy(m.baseline and m.baseline.statistics, i)))
    preprocessor = st.param(f"{stem}PreprocessorKey", "Bucket key of the record pre-processor; empty for none.",
                            group=group, label="Pre-processor key", Default="", AllowedPattern=r"^(\S+\.py)?$",
                            value=dq(lambda m, i: i.assets.get(m.record_preprocessor or "", "")))
    postprocessor = st.param(f"{stem}PostprocessorKey", "Bucket key of the post-analytics processor; empty "
                             "for none.", group=group, label="Post-processor key", Default="",
                             AllowedPattern=r"^(\S+\.py)?$",
                             value=dq(lambda m, i: i.assets.get(m.post_analytics_processor or "", "")))
    source = st.param(f"{stem}InputSource", "Analyse endpoint capture or batch-transform capture.", group=group,
                      label="Input", Default="endpoint", AllowedValues=["endpoint", "batch_transform"],
                      value=dq(lambda m, i: m.input.source))
    dataset_format = st.param(f"{stem}DatasetFormat", "Batch transform: dataset format.", group=group,
                              label="Batch dataset format", Default="csv", AllowedValues=["csv", "json", "parquet"],
                              value=dq(lambda m, i: m.input.dataset_format or "csv"))
    csv_header = st.flag(f"{stem}CsvHeader", "Batch transform CSV: files have a header.", group=group,
                         label="CSV header", value=dq(lambda m, i: m.input.csv_header))
    json_lines = st.flag(f"{stem}JsonLines", "Batch transform JSON: one object per line.", group=group,
                         label="JSON lines", value=dq(lambda m, i: m.input.json_lines))
    st.param("BatchCapturePrefix", "Bucket prefix of batch-transform capture.", group=group,
             label="Batch capture prefix", Default=layout.BATCH_CAPTURE.prefix,
             AllowedPattern=layout.PREFIX_PATTERN,
             value=lambda i: i.endpoint.batch_capture_prefix(i.params))
    t.add_condition("HasBaseline", And(Not(Equals(Ref(constraints), "")), Not(Equals(Ref(statistics), ""))))
    t.add_condition("HasPreprocessor", Not(Equals(Ref(preprocessor), "")))
    t.add_condition("HasPostprocessor", Not(Equals(Ref(postprocessor), "")))
    t.add_condition("HasWindow", And(Not(Equals(Ref(window_start), "")), Not(Equals(Ref(window_end), ""))))
    t.add_condition("EndpointSource", Equals(Ref(source), "endpoint"))
    t.add_condition("CsvFormat", Equals(Ref(dataset_format), "csv"))
    t.add_condition("JsonFormat", Equals(Ref(dataset_format), "json"))
    job_input = getattr(types, f"{stem}JobInput")
    return JobParts(
        app=dict(
            RecordPreprocessorSourceUri=If("HasPreprocessor", Sub(f"s3://${{BucketName}}/${{{preprocessor.title}}}"),
                                           NO_VALUE),
            PostAnalyticsProcessorSourceUri=If("HasPostprocessor",
                                               Sub(f"s3://${{BucketName}}/${{{postprocessor.title}}}"), NO_VALUE),
        ),
        baseline=If("HasBaseline", getattr(types, f"{stem}BaselineConfig")(
            ConstraintsResource=ConstraintsResource(S3Uri=Sub(f"s3://${{BucketName}}/${{{constraints.title}}}")),
            StatisticsResource=StatisticsResource(S3Uri=Sub(f"s3://${{BucketName}}/${{{statistics.title}}}")),
        ), NO_VALUE),
        job_input=If(
            "EndpointSource",
            job_input(EndpointInput=EndpointInput(
                EndpointName=Ref("EndpointName"),
                LocalPath=f"{PROCESSING}/input/endpoint",
                S3InputMode="File",
                S3DataDistributionType="FullyReplicated",
            )),
            job_input(BatchTransformInput=BatchTransformInput(
                DataCapturedDestinationS3Uri=Sub("s3://${BucketName}/${BatchCapturePrefix}"),
                DatasetFormat=If("CsvFormat", DatasetFormat(Csv=Csv(Header=Ref(csv_header))),
                                 If("JsonFormat", DatasetFormat(Json=Json(Line=Ref(json_lines))),
                                    DatasetFormat(Parquet=True))),
                LocalPath=f"{PROCESSING}/input/batch",
                S3InputMode="File",
                S3DataDistributionType="FullyReplicated",
            )),
        ),
        schedule=dict(DataAnalysisStartTime=If("HasWindow", Ref(window_start), NO_VALUE),
                      DataAnalysisEndTime=If("HasWindow", Ref(window_end), NO_VALUE)),
    )


def _copy(uri: str | None, i: Inputs) -> str | None:
    """The bucket key of the copy make deploy writes of a baseline file (mmtool/config/baselines.py); None: none."""
    return copy_key(uri, i.endpoint.baselines_prefix(i.params)) if uri else None


def _model_parts(st: StackTemplate, kind: MonitorKind, shared: Shared) -> JobParts:
    """What model quality, bias and explainability share: constraints as the baseline, and the endpoint input with
    the attributes their params model has (where the prediction is in the response, which hours a run analyses),
    plus Ground Truth for the kinds that merge it."""
    t = st.template
    stem, group = kind.stem, kind.label
    fields = kind.model.model_fields
    st.param(f"{stem}BaselineConstraintsKey", "Bucket key of the copy of the baseline constraints "
             "(baselines/imported/...); empty for none.", group=group, label="Baseline constraints", Default="",
             AllowedPattern=BASELINE_KEY_PATTERN,
             value=_of(kind, lambda m, i: _copy(m.baseline_constraints, i) or ""))
    t.add_condition(f"{stem}HasBaseline", Not(Equals(Ref(f"{stem}BaselineConstraintsKey"), "")))

    def optional(title: str, description: str, label: str, value: Callable[[Any], object],
                 pattern: str = r"^[^\s]{0,256}$") -> object:
        """A String parameter that is empty when unset, and its value or NoValue in the template."""
        parameter = st.param(f"{stem}{title}", f"{description} Empty: not set.", group=group, label=label,
                             Default="", AllowedPattern=pattern,
                             value=_of(kind, lambda m, i: "" if value(m) is None else str(value(m))))
        t.add_condition(f"{stem}Has{title}", Not(Equals(Ref(parameter), "")))
        return If(f"{stem}Has{title}", Ref(parameter), NO_VALUE)

    endpoint: dict[str, Any] = {"EndpointName": Ref("EndpointName"), "LocalPath": f"{PROCESSING}/input/endpoint",
                                "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}
    if "inference_attribute" in fields:
        endpoint["InferenceAttribute"] = optional("InferenceAttribute", "Predicted label in the response.",
                                                  "Inference attribute", lambda m: m.inference_attribute)
    endpoint["ProbabilityAttribute"] = optional("ProbabilityAttribute", "Probability in the response.",
                                                "Probability attribute", lambda m: m.probability_attribute)
    if "probability_threshold" in fields:
        endpoint["ProbabilityThresholdAttribute"] = optional(
            "ProbabilityThreshold", "Probability above which the label is 1.", "Probability threshold",
            lambda m: m.probability_threshold, pattern=r"^(0?\.\d{1,6})?$")
    if "time_offsets" in fields:
        endpoint["StartTimeOffset"] = optional("StartTimeOffset", "Start of the analysed hours, e.g. -P1D.",
                                               "Start offset", lambda m: m.time_offsets and m.time_offsets.start,
                                               OFFSET_PATTERN)
        endpoint["EndTimeOffset"] = optional("EndTimeOffset", "End of the analysed hours, e.g. -PT0H.", "End offset",
                                             lambda m: m.time_offsets and m.time_offsets.end, OFFSET_PATTERN)
    job_input = {"EndpointInput": getattr(types, f"{stem}EndpointInput")(**endpoint)}
    if kind.merges_ground_truth:
        job_input["GroundTruthS3Input"] = GroundTruthInput(S3Uri=Sub("s3://${BucketName}/${GroundTruthPrefix}"))
    baseline = ConstraintsResource(S3Uri=Sub(f"s3://${{BucketName}}/${{{stem}BaselineConstraintsKey}}"))
    return JobParts(
        baseline=If(f"{stem}HasBaseline", getattr(types, f"{stem}BaselineConfig")(ConstraintsResource=baseline),
                    NO_VALUE),
        job_input=getattr(types, f"{stem}JobInput")(**job_input),
    )


def _model_quality(st: StackTemplate, kind: MonitorKind, shared: Shared) -> JobParts:
    parts = _model_parts(st, kind, shared)
    problem = st.param(f"{kind.stem}ProblemType", "The model's problem type.", group=kind.label,
                       label="Problem type", Default="BinaryClassification",
                       AllowedValues=["BinaryClassification", "MulticlassClassification", "Regression"],
                       value=_of(kind, lambda m, i: m.problem_type))
    parts.app = {"ProblemType": Ref(problem)}
    return parts


def _clarify(st: StackTemplate, kind: MonitorKind, shared: Shared) -> JobParts:
    """Model bias and explainability: SageMaker Clarify with the analysis configuration the build generates."""
    parts = _model_parts(st, kind, shared)
    config = st.param(f"{kind.stem}ConfigKey", "Bucket key of the Clarify analysis configuration.", group=kind.label,
                      label="Analysis config key", Default="", AllowedPattern=r"^(\S+\.json)?$",
                      value=lambda i: i.assets.get(config_asset(kind), ""))
    parts.app = {"ConfigUri": Sub(f"s3://${{BucketName}}/${{{config.title}}}")}
    if not kind.network_isolated:
        # Network isolation off: Clarify calls its shadow endpoint (kind.isolation_waiver); the schedule waits for
        # the policy that lets the role make one.
        parts.metadata = scanner_skips(checkov={check: kind.isolation_waiver for check in EXPLAINABILITY_SKIPS})
        parts.depends_on = [_shadow_endpoint_policy(st, kind, shared.role_name, shared.model_name).title]
    return parts


# The own parts of a family of jobs (MonitorKind.job -> builder); everything else is _monitor's. A kind of an existing
# family is only its entry in mmtool/config/monitor_kinds.py and its params model.
JOB_PARTS: dict[str, Callable[[StackTemplate, MonitorKind, Shared], JobParts]] = {
    "analyzer-data": _data_quality,  # the analyzer on captured data against baseline statistics
    "analyzer-labels": _model_quality,  # the analyzer on predictions merged with ground-truth labels
    "clarify": _clarify,  # SageMaker Clarify with an analysis configuration the build generates
}


def _revision_parameter(st: StackTemplate, parameter: str, group: str) -> None:
    """`<Monitor>Revision`, the content hash in the job definition's name. Empty (a stack launched without this
    tool's build, such as the Service Catalog self-service product): CloudFormation names the definition."""
    st.param(parameter, "Content hash of the job definition; changes whenever the definition does. Empty: "
             "CloudFormation names the definition.", group=group, label="Revision", Default="",
             AllowedPattern=r"^([a-z0-9]{6,16})?$")
    st.template.add_condition(f"Has{parameter}", Not(Equals(Ref(parameter), "")))


def _job_definition_name(parameter: str, job_name: Sub, job) -> If:
    """The definition's name for its schedule: ours, or the one CloudFormation gave it, read from the ARN
    (`arn:...:data-quality-job-definition/<name>`; Ref of a definition is its ARN, the return values of AWS::SageMaker::DataQualityJobDefinition in the CloudFormation template reference)."""
    return If(f"Has{parameter}", job_name, Select(1, Split("/", Ref(job))))


def _endpoint_notifications(st: StackTemplate) -> None:
    """A fleet endpoint's rules and alarms (the single-endpoint form has them in the alarms stack). They notify the
    environment's topic <project>-<env>-alarms, whose policy lets rules and alarms named <project>-<env>-... publish."""
    t = st.template
    group = "Notifications"
    enabled = st.flag("AlarmsEnabled", "Create this endpoint's execution rules and alarms (a fleet endpoint; "
                      "alarms.enabled of the environment).", group=group, label="Enabled",
                      value=lambda i: i.params.alarms.enabled and not i.endpoint.legacy)
    violations = st.flag("NotifyOnViolations", "Also notify on runs that completed with violations.", group=group,
                         label="Notify on violations", value=lambda i: i.params.alarms.notify_on_violations)
    t.add_condition("EndpointAlarms", And(Condition("Fleet"), Equals(Ref(enabled), "true")))
    t.add_condition("EndpointViolations", And(Condition("EndpointAlarms"), Equals(Ref(violations), "true")))
    scoped = "${ProjectName}-${EnvironmentName}-${EndpointKey}"
    arns = [Sub("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:monitoring-schedule/"
                f"{scoped}-{kind.code}") for kind in KINDS]
    notifications.add(st, notifications.Names(
        failed_rule=f"{scoped}-{notifications.FLEET_FAILED_RULE}",
        violations_rule=f"{scoped}-{notifications.FLEET_VIOLATIONS_RULE}", failed_alarm=f"{scoped}-monitor-failed",
        delivery_alarm=f"{scoped}-notification-delivery", violations_delivery_alarm=f"{scoped}-violations-delivery",
        drift_alarm=scoped + "-drift-${DriftAlarm{slot}Feature}",
        data_quality_schedule=f"{scoped}-{DATA_QUALITY.code}", condition="EndpointAlarms",
        violations_condition="EndpointViolations", reports="${ReportsPrefix}", dashboard=f"{scoped}-model-monitor",
    ), schedule_arns=arns, topic_arn=ALARM_TOPIC_ARN, endpoint_name=Ref("EndpointName"), drift=_drift)
    dashboard = notifications.endpoint_dashboard(st, scoped, "Fleet")
    t.add_output(Output("DashboardName", Condition="Fleet", Value=Ref(dashboard),
                        Description="CloudWatch dashboard of this endpoint's monitors"))


def _drift(i: Inputs):
    """A fleet endpoint's drift alarms; the single-endpoint form's are in the alarms stack."""
    if i.endpoint.legacy:
        return None
    return i.endpoint.monitoring.data_quality.parsed_schedule.period_seconds, i.endpoint.drift_alarms


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
                   group=group, label="Endpoint key", Default="", AllowedPattern=r"^([a-z][a-z0-9-]{0,19})?$",
                   value=lambda i: "" if i.endpoint.legacy else i.endpoint.key)
    st.param("EndpointName", "Name of the monitored endpoint.", group=group, label="Endpoint name",
             AllowedPattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", value=lambda i: i.endpoint.endpoint_name(i.params))
    pattern = layout.PREFIX_PATTERN
    capture = st.param("CapturePrefix", "Bucket prefix of this endpoint's Data Capture.", group=group,
                       label="Capture prefix", Default=layout.CAPTURE.prefix, AllowedPattern=pattern,
                       value=lambda i: i.endpoint.capture_prefix(i.params))
    reports = st.param("ReportsPrefix", "Bucket prefix of this endpoint's monitoring reports.", group=group,
                       label="Reports prefix", Default=layout.REPORTS.prefix, AllowedPattern=pattern,
                       value=lambda i: i.endpoint.reports_prefix(i.params))
    baselines = st.param("BaselinesPrefix", "Bucket prefix of this endpoint's baselining output.", group=group,
                         label="Baselines prefix", Default=layout.BASELINES.prefix, AllowedPattern=pattern,
                         value=lambda i: i.endpoint.baselines_prefix(i.params))
    t.add_condition("Fleet", Not(Equals(Ref(key), "")))
    role = t.add_resource(monitoring_role(
        "ExecutionRole", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-" + MONITORING_ROLE_SUFFIX),
        Sub("Model Monitor jobs of endpoint ${EndpointKey} of ${ProjectName}-${EnvironmentName}"),
        Sub("arn:${AWS::Partition}:s3:::${BucketName}"),
        lambda prefix: Sub("arn:${AWS::Partition}:s3:::${BucketName}/${Prefix}/*", Prefix=prefix),
        readable=bucket_prefixes(layout.readable_by(layout.JOBS), scoped=True),
        writable=bucket_prefixes(layout.writable_by(layout.JOBS), scoped=True), reports=Ref(reports),
        key_arn=Ref(key_arn),
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
    return build(params).parameter_file(Inputs(params, endpoint, assets, model))


# checkov's checks that expect network isolation on a job definition; the explainability job cannot have it.
EXPLAINABILITY_SKIPS: tuple[str, ...] = ()


def _merged_ground_truth_policy(st: StackTemplate, role_name) -> PolicyType:
    """Model quality and model bias runs are two processing jobs as the monitoring role: a ground-truth
    merge job (image sagemaker-model-monitor-groundtruth-merger) writes the captured predictions joined
    with the labels to `<the definition's S3Output.S3Uri>/merge/<endpoint>/<variant>/yyyy/mm/dd/hh`, and
    the analysis job reads them back from there (docs/monitors.md, "Where the merged ground truth goes").
    The role may write under its reports prefix (reports/, or reports/<key> for a fleet endpoint) but reads only
    its input prefixes: this grants reading exactly the two merge prefixes under it, nothing else of reports/."""
    merging = [kind for kind in KINDS if kind.merges_ground_truth]
    st.template.add_condition("MergesGroundTruth", Or(*[Condition(kind.stem) for kind in merging]))
    return _role_policy(st, "MergedGroundTruthReadPolicy", "MergesGroundTruth", "merged-ground-truth", role_name, [
        Statement(Sid="ReadMergedGroundTruth", Effect=Allow, Action=[s3.GetObject], Resource=[
            If(kind.stem, Sub(f"arn:${{AWS::Partition}}:s3:::${{BucketName}}/${{ReportsPrefix}}/{kind.name}/"
                              f"{MERGE_FOLDER}/*"), NO_VALUE) for kind in merging]),
    ])


def _image_pull_policy(st: StackTemplate, role_name) -> PolicyType:
    """Pulling the AWS-owned images a run uses, from the accounts of the same table as the image Mappings.

    The repositories are in the region's account of ModelMonitorImage (the analyzer, and the ground-truth
    merger of model-quality/bias runs) and, with a Clarify monitor enabled, of ClarifyImage. SageMaker may
    pull its pre-built images with service credentials; these grants cost nothing if so, and make the pull
    work if a run uses the role's (the first real run confirms which: docs/security.md).
    """
    t = st.template
    repository = "arn:${AWS::Partition}:ecr:${AWS::Region}:${Account}:repository/"
    analyzer_account = FindInMap(ANALYZER.mapping, Ref("AWS::Region"), "Account")
    monitor_repos = [Sub(repository + repo, Account=analyzer_account)
                     for repo in (ANALYZER.repository_name, MERGER_REPOSITORY)]
    clarify = Sub(repository + CLARIFY.repository_name,
                  Account=FindInMap(CLARIFY.mapping, Ref("AWS::Region"), "Account"))
    t.add_condition("AnyMonitor", Or(*[Condition(kind.stem) for kind in KINDS]))
    t.add_condition("Clarify", Or(*[Condition(kind.stem) for kind in KINDS if kind.image == CLARIFY]))
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


def _shadow_endpoint_policy(st: StackTemplate, kind: MonitorKind, role_name, model_name) -> PolicyType:
    """What Clarify's explainability job does with the monitoring role: describe the endpoint's model (ModelName:
    ours, or an existing endpoint's existing.model_name), create, call and delete a shadow endpoint named with our
    prefix (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html). Nothing else, no other model."""
    arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:"
    legacy = f"${{ProjectName}}-${{EnvironmentName}}-{CLARIFY_ENDPOINT_PREFIX}*"
    fleet = f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{CLARIFY_ENDPOINT_PREFIX}*"

    def shadow(kind: str) -> If:
        return If("Fleet", Sub(arn + kind + fleet), Sub(arn + kind + legacy))
    return st.template.add_resource(PolicyType(
        "ClarifyShadowEndpointPolicy",
        Condition=kind.stem,
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
