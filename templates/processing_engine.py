"""The processing engine's resources in an endpoint's monitoring stack (docs/engine.md).

Not a stack: `add(st, ...)` puts them into the monitoring template next to the Model Monitor resources, so an
endpoint switching engines gets the new schedule before the old one is removed (`engine: both` keeps both).
For accounts that cannot use SageMaker Model Monitor (closed to new customers on 2026-07-30): an EventBridge
Scheduler schedule per monitor whose universal target calls SageMaker CreateProcessingJob with this project's
analyzer in the SageMaker scikit-learn image.

Resources (DataQualityProcessing / ModelQualityProcessing: the monitor runs on the processing engine)
  ProcessingJobRole     the jobs' execution role <project>-<env>[-<key>]-processing: trusts only SageMaker of this
                        account; reads the endpoint's capture, ground truth, baselines and the assets; writes its
                        reports; the project key; job logs; PutMetricData limited by namespace
                        (templates/foundation.py monitoring_role, the same shape as the Model Monitor roles)
  ProcessingJobRoleVpcAccess, ProcessingImagePullPolicy
                        the VPC-mode network-interface actions; pulling the scikit-learn image of the region
  SchedulerRole         <project>-<env>[-<key>]-scheduler: trusts only EventBridge Scheduler of this account for
                        this environment's schedule group; may create (and tag) only processing jobs named with
                        this endpoint's prefixes, pass only ProcessingJobRole and only to SageMaker, decrypt the
                        schedules' input and send to the dead-letter queue
  ScheduleDeadLetterQueue
                        SQS, encrypted with the project key, TLS only: invocations that failed after the retries
                        (a refused CreateProcessingJob: quota, permissions); ScheduleDeadLetterAlarm notifies
  DataQualityProcessingSchedule, ModelQualityProcessingSchedule
                        AWS::Scheduler::Schedule in the environment's group <project>-<env> (foundation stack),
                        the monitor's schedule expression in UTC, the input encrypted with the project key,
                        retries and the dead-letter queue; the target's input is the CreateProcessingJob request
                        (`request`): job <code>-<hash>-<aws.scheduler.execution-id>, the scheduled time in the
                        environment, private subnets and the job security group, KMS on volumes and output,
                        inter-container encryption, network isolation off (the analyzer reads S3 and publishes
                        metrics itself: docs/security.md), stopping condition, tags
  ProcessingJobFailedRule
                        EventBridge <project>-<env>[-<key>]-job-failed: a processing job of this endpoint (by name
                        prefix) ended Failed or Stopped; a readable message to the environment's alarm topic (whose
                        policy admits these rule names: templates/alarms.py)
  ProcessingJobFailedAlarm
                        CloudWatch: the rule matched in the last hour; notifies the topic
  ProcessingFailedDeliveryAlarm, ProcessingViolationsDeliveryAlarm
                        CloudWatch: a rule's notification could not be delivered to the topic (FailedInvocations)
  ProcessingJobViolationsRule
                        EventBridge <project>-<env>[-<key>]-job-viol (alarms.notify_on_violations): a
                        processing job of this endpoint Completed with the analyzer's ExitMessage
                        "CompletedWithViolations: ..."; a readable message to the topic
Outputs
  <Monitor>ProcessingScheduleName, ProcessingJobNamePrefixes
"""

from __future__ import annotations

import hashlib
import json
import re

from awacs import ecr, iam, kms, sagemaker, sqs
from awacs.aws import Allow, ArnLike, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import And, Equals, FindInMap, GetAtt, If, Join, Or, Output, Ref, Sub
from troposphere import Condition as Cond
from troposphere.cloudwatch import Alarm, Dashboard, MetricDimension
from troposphere.events import InputTransformer, Rule, Target
from troposphere.iam import Policy, PolicyType, Role
from troposphere.scheduler import DeadLetterConfig, FlexibleTimeWindow, RetryPolicy, Schedule, Target as ScheduleTarget
from troposphere.sqs import Queue, QueuePolicy

from mmtool.config.monitor_kinds import KINDS, SKLEARN, JobFile, MonitorKind, settings
from mmtool.config.monitor_kinds import PROCESSING as PROCESSING_ENGINE
from mmtool.config.params import FleetEndpoint, Params, image_accounts
from templates.common import Inputs, StackTemplate, tag_parameter_name
from templates.foundation import ALARM_TOPIC_ARN, ASSETS_PREFIX, monitoring_role, vpc_mode_policy
from templates.notifications import (COMPACT, MONITOR_VIOLATIONS_RULE, PROCESSING_FAILED_RULE, PROCESSING_VIOLATIONS_RULE,
                                     metric_widget)

# The SageMaker scikit-learn image: mmtool.config.monitor_kinds SKLEARN (the SDK's sklearn.json, version 1.2-1;
# mmtool/config/data/sklearn-image-accounts.json). Nothing is installed at run time.
PROCESSING = "/opt/ml/processing"
# The analyzer's job contract (docs/engine.md, "The analyzer"; scripts/analyzer/job.py): the package folder is the
# code input's analyzer/ folder, run as a program.
ENTRYPOINT = ["python3", f"{PROCESSING}/input/code/analyzer", "job"]
SCHEDULER_TARGET = "arn:${AWS::Partition}:scheduler:::aws-sdk:sagemaker:createProcessingJob"
EXECUTION_ID = "<aws.scheduler.execution-id>"  # EventBridge Scheduler context attributes (docs/engine.md)
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
# SageMaker job names: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$; the execution id is a 36-character UUID, so the prefix
# has 63 - 36 - 1 = 26 characters: <code>-<16 hex of project/env/key>, 19.
JOB_NAME_MAX = 63
HASH_LENGTH = 16
ANALYZER_ASSET = "processing:analyzer"  # key of the analyzer's bucket prefix in `assets` (mmtool.generate.synth)
RETRY_ATTEMPTS = 3
RETRY_MAX_AGE_SECONDS = 3600
FLEXIBLE_WINDOW_MINUTES = 15  # runs start within 15 minutes of the slot, as Model Monitor's do (0-20 min)
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS maximum


# The monitors the processing engine runs: the kinds of the table whose engines include it (mmtool/config/
# monitor_kinds.py); their namespaces are Model Monitor's, so alarms and dashboards read both engines' metrics alike.
MONITORS: tuple[MonitorKind, ...] = tuple(kind for kind in KINDS if PROCESSING_ENGINE in kind.engines)
CONSTRAINTS = "baseline_constraints"  # the analyzer's setting of the constraints file, which every kind's job reads


def job_name_hash(params: Params, endpoint: FleetEndpoint) -> str:
    """16 hex characters naming this endpoint's processing jobs: unique per project, environment and key."""
    key = "" if endpoint.legacy else endpoint.key
    return hashlib.sha256(f"{params.project}/{params.environment}/{key}".encode()).hexdigest()[:HASH_LENGTH]


def add(st: StackTemplate, params: Params, *, key_arn, subnets, job_sg) -> None:
    """The processing engine's resources, all under conditions: nothing exists for a model-monitor endpoint."""
    t = st.template
    group = "Processing engine"
    flags = {m.stem: st.flag(f"{m.stem}Processing", f"Run the {m.label.lower()} monitor on the processing engine.",
                             group=group, label=f"{m.label}: processing engine", default="false",
                             value=lambda i, m=m: getattr(i.endpoint.monitoring, m.key).enabled
                             and i.endpoint.monitoring.runs_processing) for m in MONITORS}
    st.param("ProcessingJobHash", "16 hex characters in this endpoint's processing job names (<code>-<hash>-<id>).",
             group=group, label="Job name hash", Default="", AllowedPattern=r"^([a-f0-9]{16})?$",
             value=lambda i: job_name_hash(i.params, i.endpoint))
    st.param("AnalyzerPrefix", "Bucket prefix of the analyzer package (monitoring-assets/<hash>).", group=group,
             label="Analyzer prefix", Default="", AllowedPattern=rf"^({ASSETS_PREFIX}/[a-f0-9]{{20}})?$",
             value=lambda i: i.assets.get(ANALYZER_ASSET, ""))
    notifications = st.flag("ProcessingNotifications", "Notify the environment's topic of failed or stopped runs "
                            "(alarms.enabled).", group=group, label="Notifications", default="false",
                            value=lambda i: i.params.alarms.enabled)
    local = r"^(/opt/ml/processing/[^\"\\]+)?$"

    def path_in_job(m: MonitorKind, f: JobFile) -> None:
        st.param(f"{m.stem}Processing{f.title}", f"Path of {f.what} in the job; empty for none.", group=group,
                 label=f"{m.label}: {f.label} in the job", Default="", AllowedPattern=local,
                 value=lambda i: _local(_field(i, m, f.field), f.folder))

    # The paths of each kind's files in the job (MonitorKind.processing): the kinds' own files first, then with
    # each kind's windows its constraints, which every kind reads.
    for m in MONITORS:
        for f in m.processing.files:
            if f.setting != CONSTRAINTS:
                path_in_job(m, f)
    for m in MONITORS:
        for f in m.processing.files:
            if f.setting == CONSTRAINTS:
                path_in_job(m, f)
        for index, end in enumerate(("Start", "End")):
            st.param(f"{m.stem}ProcessingWindow{end}", f"Analysed window {end.lower()}, relative to the scheduled "
                     "time, e.g. -PT1H.", group=group, label=f"{m.label}: window {end.lower()}", Default="-PT0H",
                     AllowedPattern=r"^-P(T\d+H|\d+D)$", value=lambda i, m=m, index=index: _window(i, m)[index])
        t.add_condition(f"{m.stem}Processing", Equals(Ref(flags[m.stem]), "true"))
    t.add_condition("ProcessingEngine", Or(*[Cond(f"{m.stem}Processing") for m in MONITORS]))
    t.add_condition("ProcessingNotify", And(Cond("ProcessingEngine"), Equals(Ref(notifications), "true")))
    # NotifyOnViolations: the monitoring stack's flag of alarms.notify_on_violations (templates/monitoring.py).
    t.add_condition("ProcessingViolationsNotify", And(Cond("ProcessingNotify"),
                                                      Equals(Ref("NotifyOnViolations"), "true")))
    t.add_mapping(SKLEARN.mapping, {r: {"Account": a} for r, a in image_accounts(SKLEARN.name).items()})

    role = _job_role(st, key_arn)
    queue = _dead_letter_queue(st, key_arn)
    scheduler = _scheduler_role(st, role, queue, key_arn)
    for m in MONITORS:
        schedule = t.add_resource(Schedule(
            f"{m.stem}ProcessingSchedule",
            Condition=f"{m.stem}Processing",
            Name=schedule_name(m),
            GroupName=Sub("${ProjectName}-${EnvironmentName}"),  # the foundation stack's ScheduleGroup
            Description=Sub(f"{m.label} of ${{EndpointName}} on the processing engine (docs/engine.md)"),
            ScheduleExpression=Ref(f"{m.stem}ScheduleExpression"),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow=FlexibleTimeWindow(Mode="FLEXIBLE", MaximumWindowInMinutes=FLEXIBLE_WINDOW_MINUTES),
            KmsKeyArn=Ref(key_arn),
            State="ENABLED",
            Target=ScheduleTarget(
                Arn=Sub(SCHEDULER_TARGET),
                RoleArn=GetAtt(scheduler, "Arn"),
                Input=request(st, params, m, role=role, key_arn=key_arn, subnets=subnets, job_sg=job_sg),
                RetryPolicy=RetryPolicy(MaximumRetryAttempts=RETRY_ATTEMPTS,
                                        MaximumEventAgeInSeconds=RETRY_MAX_AGE_SECONDS),
                DeadLetterConfig=DeadLetterConfig(Arn=GetAtt(queue, "Arn")),
            ),
        ))
        t.add_output(Output(f"{m.stem}ProcessingScheduleName", Condition=f"{m.stem}Processing", Value=Ref(schedule),
                            Description=f"{m.label} schedule of the processing engine"))
    t.add_output(Output("ProcessingJobNamePrefixes", Condition="ProcessingEngine",
                        Value=Join(",", [Sub(f"{m.code}-${{ProcessingJobHash}}-") for m in MONITORS]),
                        Description="Name prefixes of this endpoint's processing jobs"))
    _failed_rule(st, queue)
    _violations_rule(st)
    _engine_comparison_dashboard(st)


def schedule_name(m: MonitorKind) -> If:
    """<project>-<env>-<suffix>-processing (single-endpoint form), <project>-<env>-<key>-<code>-proc in a fleet:
    at most 60 of Scheduler's 64 characters with a 20-character project and key."""
    return If("Fleet", Sub(f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{m.code}-proc"),
              Sub(f"${{ProjectName}}-${{EnvironmentName}}-{m.name}-processing"))


def model_monitor_schedule_name(m: MonitorKind) -> If:
    """Model Monitor's schedule of the kind: <project>-<env>[-<key>]-<code|suffix> (templates/monitoring.py)."""
    return If("Fleet", Sub(f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{m.code}"),
              Sub(f"${{ProjectName}}-${{EnvironmentName}}-{m.name}"))


def metrics_schedule_name(m: MonitorKind) -> If:
    """The `MonitoringSchedule` dimension of the analyzer's metrics. With the processing engine alone it is the name
    Model Monitor's schedule has, so drift alarms, dashboards and their SEARCH expressions work as they are; beside
    Model Monitor (engine: both, where the kind's Model Monitor condition is true) it is this engine's own schedule
    name, so the two engines' series stay apart (the drift alarms keep Model Monitor's; EngineComparisonDashboard
    shows both)."""
    return If(m.stem, schedule_name(m), model_monitor_schedule_name(m))


# The EventBridge rules' names: <project>-<env>-<suffix> in the single-endpoint form, <project>-<env>-<key>-<suffix> in a
# fleet (templates/notifications.py, beside Model Monitor's). The single-endpoint form's topic policy admits exactly
# these names (templates/alarms.py); they differ from Model Monitor's rules (<...>-monitor-failed / -monitor-violations,
# a fleet's <...>-failed / -violations), so under `engine: both` the two engines' rules coexist.
FAILED_RULE, VIOLATIONS_RULE = PROCESSING_FAILED_RULE, PROCESSING_VIOLATIONS_RULE


def scoped_name(suffix: str) -> If:
    """A name of this endpoint's processing-engine resources: <project>-<env>[-<key>]-<suffix>."""
    return If("Fleet", Sub(f"${{ProjectName}}-${{EnvironmentName}}-${{EndpointKey}}-{suffix}"),
              Sub(f"${{ProjectName}}-${{EnvironmentName}}-{suffix}"))


def job_prefix(m: MonitorKind) -> str:
    return f"{m.code}-${{ProcessingJobHash}}"


def request(st: StackTemplate, params: Params, m: MonitorKind, *, role, key_arn, subnets, job_sg) -> Sub:
    """The CreateProcessingJob request the schedule sends, as the JSON text of the target's Input.

    The job side is the analyzer's contract (docs/engine.md, "The analyzer"): `python3 <code>/analyzer job`, every
    setting an environment variable named as Model Monitor's container names it, an empty value meaning unset.
    Built as a dict, then serialized with placeholders: `@n:Name@` becomes a JSON number `${Name}`, `@f:Name@` a
    fragment (optional inputs) that the Sub fills in. Every substituted value is checked by its parameter's
    pattern or by the params model (no `"` or `\\`), so the text stays valid JSON (tests/test_processing_engine.py
    parses it and validates it against botocore's model).
    """
    bucket = "s3://${BucketName}"
    environment = {
        "analysis_type": m.key.upper(),  # DATA_QUALITY, MODEL_QUALITY
        "scheduled_time": SCHEDULED_TIME,
        "window_start_offset": f"${{{m.stem}ProcessingWindowStart}}",
        "window_end_offset": f"${{{m.stem}ProcessingWindowEnd}}",
        "capture_s3_uri": f"{bucket}/${{CapturePrefix}}/${{EndpointName}}",
        "baseline_constraints": "",  # every kind's job reads constraints: its files (below) fill the path in
        "output_path": f"{PROCESSING}/output",
        "publish_cloudwatch_metrics": f"${{{m.stem}PublishMetrics}}",
        "metrics_namespace": m.namespace,
        "sagemaker_endpoint_name": "${EndpointName}",
        "sagemaker_monitoring_schedule_name": "${MetricsScheduleName}",
    }
    # The kind's own part (MonitorKind.processing): its settings and files, each file an input of its fragment,
    # the fragments under the monitoring template's Conditions that the files are set.
    job = m.processing
    if m.merges_ground_truth:
        environment["ground_truth_s3_uri"] = f"{bucket}/${{GroundTruthPrefix}}"
    environment.update({setting: "${" + parameter.format(stem=m.stem) + "}" for setting, parameter in job.settings})
    environment.update({f.setting: f"${{{m.stem}Processing{f.title}}}" for f in job.files})
    grouped: dict[str, list[JobFile]] = {}
    for f in job.files:
        grouped.setdefault(f.fragment, []).append(f)
    inputs: list = [f"@f:{name}@" for name in grouped]
    fragments = {name: If(group[0].condition.format(stem=m.stem), _fragment([
        _input(f.input, f"{bucket}/${{{f.key.format(stem=m.stem)}}}", f.folder) for f in group]), "")
        for name, group in grouped.items()}
    inputs.append(_input("code", f"{bucket}/${{AnalyzerPrefix}}/", "input/code"))
    tags = [{"Key": "Project", "Value": "${ProjectName}"}, {"Key": "Environment", "Value": "${EnvironmentName}"},
            {"Key": "ManagedBy", "Value": "model-monitor-deployer"}]
    tags += [{"Key": key, "Value": f"${{{tag_parameter_name(key)}}}"} for key in sorted(params.tags)]
    body = {
        "ProcessingJobName": f"{job_prefix(m)}-{EXECUTION_ID}",
        "RoleArn": "${JobRoleArn}",
        "AppSpecification": {"ImageUri": "${ImageUri}", "ContainerEntrypoint": ENTRYPOINT},
        "Environment": environment,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "KmsKeyId": "${KmsKeyArn}",
            "Outputs": [{"OutputName": "report", "S3Output": {
                "S3Uri": f"{bucket}/${{ReportsPrefix}}/{m.name}", "LocalPath": f"{PROCESSING}/output",
                "S3UploadMode": "EndOfJob"}}],
        },
        "ProcessingResources": {"ClusterConfig": {
            "InstanceCount": f"@n:{m.stem}InstanceCount@", "InstanceType": f"${{{m.stem}InstanceType}}",
            "VolumeSizeInGB": f"@n:{m.stem}VolumeSizeGb@", "VolumeKmsKeyId": "${KmsKeyArn}"}},
        "StoppingCondition": {"MaxRuntimeInSeconds": f"@n:{m.stem}MaxRuntimeSeconds@"},
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            # Off: the analyzer reads the window's capture from S3 and publishes CloudWatch metrics itself, through
            # the VPC endpoints (docs/security.md, "Network isolation").
            "EnableNetworkIsolation": False,
            "VpcConfig": {"SecurityGroupIds": ["${JobSecurityGroupId}"], "Subnets": ["${SubnetList}"]},
        },
        "Tags": tags,
    }
    text = _placeholders(json.dumps(body, separators=(",", ":")))
    return Sub(text, JobRoleArn=GetAtt(role, "Arn"), MetricsScheduleName=metrics_schedule_name(m),
               ImageUri=Sub(f"${{Account}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{SKLEARN.repository}",
                            Account=FindInMap(SKLEARN.mapping, Ref("AWS::Region"), "Account")),
               SubnetList=Join('","', Ref(subnets)), **fragments)


def _input(name: str, uri: str, local: str) -> dict:
    return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": f"{PROCESSING}/{local}",
                                           "S3DataType": "S3Prefix", "S3InputMode": "File",
                                           "S3DataDistributionType": "FullyReplicated"}}


def _fragment(items: list[dict]) -> Sub:
    """Optional list items, each followed by a comma (the required code input always comes last)."""
    return Sub("".join(json.dumps(item, separators=(",", ":")) + "," for item in items))


def _placeholders(text: str) -> str:
    text = re.sub(r'"@n:([A-Za-z0-9]+)@"', r"${\1}", text)  # a number: the parameter's value, unquoted
    return re.sub(r'"@f:([A-Za-z0-9]+)@",?', r"${\1}", text)  # a fragment brings its own trailing comma


def _job_role(st: StackTemplate, key_arn) -> Role:
    t = st.template
    objects = lambda prefix: Sub("arn:${AWS::Partition}:s3:::${BucketName}/${Prefix}/*", Prefix=prefix)  # noqa: E731
    role = t.add_resource(monitoring_role(
        "ProcessingJobRole",
        If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-processing"),
           Sub("${ProjectName}-${EnvironmentName}-processing")),
        Sub("Processing-engine monitoring jobs of ${EndpointName} (${ProjectName}-${EnvironmentName})"),
        Sub("arn:${AWS::Partition}:s3:::${BucketName}"), objects,
        readable=[Ref("CapturePrefix"), Ref("GroundTruthPrefix"), Ref("BaselinesPrefix"), ASSETS_PREFIX],
        writable=[Ref("ReportsPrefix")], reports=Ref("ReportsPrefix"), key_arn=Ref(key_arn),
    ))
    role.Condition = "ProcessingEngine"
    t.add_resource(vpc_mode_policy("ProcessingJobRoleVpcAccess", role, condition="ProcessingEngine"))
    repository = Sub(f"arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{Account}}:repository/{SKLEARN.repository_name}",
                     Account=FindInMap(SKLEARN.mapping, Ref("AWS::Region"), "Account"))
    t.add_resource(PolicyType(
        "ProcessingImagePullPolicy", Condition="ProcessingEngine", PolicyName="image-pull", Roles=[Ref(role)],
        PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[
            # ecr:GetAuthorizationToken supports no resource (mmtool.security WILDCARD_ALLOWED).
            Statement(Sid="RegistryToken", Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
            Statement(Sid="PullScikitLearnImage", Effect=Allow,
                      Action=[ecr.BatchGetImage, ecr.GetDownloadUrlForLayer, ecr.BatchCheckLayerAvailability],
                      Resource=[repository]),
        ]),
    ))
    return role


def _dead_letter_queue(st: StackTemplate, key_arn) -> Queue:
    t = st.template
    queue = t.add_resource(Queue(
        "ScheduleDeadLetterQueue", Condition="ProcessingEngine",
        QueueName=If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-schedule-dlq"),
                     Sub("${ProjectName}-${EnvironmentName}-schedule-dlq")),
        KmsMasterKeyId=Ref(key_arn), KmsDataKeyReusePeriodSeconds=3600,
        MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
        # Deleted with the stack, on purpose: it holds failed invocations (the request and the error), already
        # notified by ScheduleDeadLetterAlarm, not monitoring data; a retained queue would block the name.
        DeletionPolicy="Delete", UpdateReplacePolicy="Delete",
    ))
    t.add_resource(QueuePolicy(
        "ScheduleDeadLetterQueuePolicy", Condition="ProcessingEngine", Queues=[Ref(queue)],
        PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[Statement(
            Sid="DenyWithoutTls", Effect=Deny, Principal=Principal("*"), Action=[sqs.Action("*")],
            Resource=[GetAtt(queue, "Arn")], Condition=Condition(Bool("aws:SecureTransport", "false")))]),
    ))
    return queue


def _scheduler_role(st: StackTemplate, job_role: Role, queue: Queue, key_arn) -> Role:
    jobs = [Sub("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:processing-job/"
                f"{job_prefix(m)}-*") for m in MONITORS]
    return st.template.add_resource(Role(
        "SchedulerRole", Condition="ProcessingEngine",
        RoleName=If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-scheduler"),
                    Sub("${ProjectName}-${EnvironmentName}-scheduler")),
        Description=Sub("EventBridge Scheduler: starts the processing-engine jobs of ${EndpointName}"),
        MaxSessionDuration=3600,
        AssumeRolePolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[Statement(
            Effect=Allow, Principal=Principal("Service", "scheduler.amazonaws.com"), Action=[AssumeRole],
            Condition=Condition([
                StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
                ArnLike("aws:SourceArn", Sub("arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
                                             "schedule/${ProjectName}-${EnvironmentName}/*")),
            ]))]),
        Policies=[Policy(PolicyName="start-processing-jobs", PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                # Tags in the request need sagemaker:AddTags on the job as well (SageMaker developer guide,
                # "Amazon SageMaker API permissions").
                Statement(Sid="CreateOwnProcessingJobs", Effect=Allow,
                          Action=[sagemaker.CreateProcessingJob, sagemaker.AddTags], Resource=jobs),
                Statement(Sid="PassTheJobRoleToSageMaker", Effect=Allow, Action=[iam.PassRole],
                          Resource=[GetAtt(job_role, "Arn")],
                          Condition=Condition(StringEquals("iam:PassedToService", "sagemaker.amazonaws.com"))),
                # The schedule's input is encrypted with the project key (Schedule KmsKeyArn).
                Statement(Sid="DecryptScheduleInput", Effect=Allow, Action=[kms.Decrypt], Resource=[Ref(key_arn)]),
                Statement(Sid="DeadLetters", Effect=Allow, Action=[sqs.SendMessage], Resource=[GetAtt(queue, "Arn")]),
                Statement(Sid="DeadLetterEncryption", Effect=Allow, Action=[kms.GenerateDataKey, kms.Decrypt],
                          Resource=[Ref(key_arn)],
                          Condition=Condition(StringEquals("kms:ViaService", Sub("sqs.${AWS::Region}.amazonaws.com")))),
            ],
        ))],
    ))


FAILED_MESSAGE = (
    '"Processing engine: a monitoring run of ${EndpointName} (${ProjectName}-${EnvironmentName}) ended <status>.\\n'
    "\\n"
    "Processing job: <job>\\n"
    "Reason: <reason>\\n"
    "Job: https://${AWS::Region}.console.aws.amazon.com/sagemaker/home?region=${AWS::Region}#/processing-jobs/<job>\\n"
    "Logs: https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
    "#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FProcessingJobs\\n"
    "Reports: s3://${BucketName}/${ReportsPrefix}/ (a folder per monitor, then endpoint, schedule, run time)\\n"
    'Time: <time>"'
)


VIOLATIONS_MESSAGE = (
    '"Processing engine: a monitoring run of ${EndpointName} (${ProjectName}-${EnvironmentName}) completed with '
    'violations.\\n'
    "\\n"
    "Processing job: <job>\\n"
    "Result: <result>\\n"
    "Job: https://${AWS::Region}.console.aws.amazon.com/sagemaker/home?region=${AWS::Region}#/processing-jobs/<job>\\n"
    "Reports: s3://${BucketName}/${ReportsPrefix}/ (constraint_violations.json of the run, a folder per monitor)\\n"
    'Time: <time>"'
)


def _violations_rule(st: StackTemplate) -> None:
    """Runs that completed with violations, as Model Monitor's "completed with violations" rule: the analyzer writes
    the job's ExitMessage "CompletedWithViolations: N violation(s); ..." (scripts/analyzer/job.py), which the
    processing job's state-change event carries in its detail as DescribeProcessingJob names it
    (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html), matched by prefix
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html). Both forms; with
    alarms.notify_on_violations, as Model Monitor's rule."""
    rule = st.template.add_resource(Rule(
        "ProcessingJobViolationsRule", Condition="ProcessingViolationsNotify",
        Name=scoped_name(VIOLATIONS_RULE),
        Description=Sub("Processing-engine runs of ${EndpointName} that completed with violations"),
        State="ENABLED",
        EventPattern={
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Processing Job State Change"],
            "detail": {"ProcessingJobName": [{"prefix": Sub(f"{job_prefix(m)}-")} for m in MONITORS],
                       "ProcessingJobStatus": ["Completed"],
                       "ExitMessage": [{"prefix": "CompletedWithViolations"}]},
        },
        Targets=[Target(Id="AlarmTopic", Arn=ALARM_TOPIC_ARN, InputTransformer=InputTransformer(
            InputPathsMap={"job": "$.detail.ProcessingJobName", "result": "$.detail.ExitMessage", "time": "$.time"},
            InputTemplate=Sub(VIOLATIONS_MESSAGE)))],
    ))
    _delivery_alarm(st, "ProcessingViolationsDeliveryAlarm", rule, VIOLATIONS_RULE, "ProcessingViolationsNotify")


def _delivery_alarm(st: StackTemplate, title: str, rule: Rule, suffix: str, condition: str) -> None:
    """A notification EventBridge could not deliver to the topic (its key or policy) raises an alarm, as for Model
    Monitor's rules (templates/notifications.py): every rule that notifies has its delivery watched."""
    _rule_alarm(st, title, rule, "FailedInvocations", condition, name=scoped_name(f"{suffix}-delivery"),
                description=Sub(f"EventBridge could not deliver a processing-engine notification ({suffix}) of "
                                "${EndpointName} to the topic (key or topic policy?)"))


def _rule_alarm(st: StackTemplate, title: str, rule: Rule, metric: str, condition: str, *, name: object,
                description: object) -> None:
    """An alarm on one of a rule's EventBridge metrics (AWS/Events, per rule), counted per hour, to the topic."""
    st.template.add_resource(Alarm(
        title, Condition=condition, AlarmName=name, AlarmDescription=description,
        Namespace="AWS/Events", MetricName=metric,
        Dimensions=[MetricDimension(Name="RuleName", Value=Ref(rule))],
        Statistic="Sum", Period=3600, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        ActionsEnabled=True, AlarmActions=[ALARM_TOPIC_ARN],
    ))


def _failed_rule(st: StackTemplate, queue: Queue) -> None:
    """Failed or stopped processing jobs of this endpoint (their names start with its prefixes), and invocations
    the scheduler could not make (the dead-letter queue), reach the environment's alarm topic."""
    t = st.template
    rule = t.add_resource(Rule(
        "ProcessingJobFailedRule", Condition="ProcessingNotify",
        Name=scoped_name(FAILED_RULE),
        Description=Sub("Processing-engine runs of ${EndpointName} that failed or were stopped"),
        State="ENABLED",
        EventPattern={
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Processing Job State Change"],
            "detail": {"ProcessingJobName": [{"prefix": Sub(f"{job_prefix(m)}-")} for m in MONITORS],
                       "ProcessingJobStatus": ["Failed", "Stopped"]},
        },
        Targets=[Target(Id="AlarmTopic", Arn=ALARM_TOPIC_ARN, InputTransformer=InputTransformer(
            InputPathsMap={"job": "$.detail.ProcessingJobName", "status": "$.detail.ProcessingJobStatus",
                           "reason": "$.detail.FailureReason", "time": "$.time"},
            InputTemplate=Sub(FAILED_MESSAGE)))],
    ))
    _delivery_alarm(st, "ProcessingFailedDeliveryAlarm", rule, FAILED_RULE, "ProcessingNotify")
    # As Model Monitor's FailedExecutionsAlarm (templates/notifications.py): the failed runs counted per hour, an
    # alarm state for dashboards and `make verify-notifications`, beside each run's readable message.
    _rule_alarm(st, "ProcessingJobFailedAlarm", rule, "TriggeredRules", "ProcessingNotify",
                name=scoped_name(FAILED_RULE),
                description=Sub("A processing-engine run of ${EndpointName} failed or was stopped in the last hour "
                                "(SageMaker console, processing jobs named as the stack output "
                                "ProcessingJobNamePrefixes)"))
    t.add_resource(Alarm(
        "ScheduleDeadLetterAlarm", Condition="ProcessingNotify",
        AlarmName=If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-schedule-dlq"),
                     Sub("${ProjectName}-${EnvironmentName}-schedule-dlq")),
        AlarmDescription=Sub("EventBridge Scheduler could not start a processing-engine run of ${EndpointName} "
                             "(CreateProcessingJob refused after the retries: quota, permissions?); the request "
                             "and the error are in the dead-letter queue"),
        Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[MetricDimension(Name="QueueName", Value=GetAtt(queue, "QueueName"))],
        Statistic="Maximum", Period=300, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        ActionsEnabled=True, AlarmActions=[ALARM_TOPIC_ARN],
    ))


def window(offsets, period_seconds: int) -> tuple[str, str]:
    """The analysed window: the configured offsets, else the schedule period before the scheduled time."""
    if offsets is not None:
        return offsets.start, offsets.end
    hours = period_seconds // 3600
    return (f"-P{hours // 24}D" if hours % 24 == 0 else f"-PT{hours}H"), "-PT0H"


def _window(i: Inputs, m: MonitorKind) -> tuple[str, str]:
    monitor = settings(i.endpoint.monitoring, m)
    return window(_field(i, m, m.processing.window), monitor.parsed_schedule.period_seconds)


def _field(i: Inputs, m: MonitorKind, dotted: str):
    """A field of the kind's section of the endpoint's settings, by its dotted name; None where a part is unset."""
    value = settings(i.endpoint.monitoring, m)
    for name in dotted.split("."):
        value = getattr(value, name) if value is not None else None
    return value


def _local(source: str | None, folder: str) -> str:
    """Where a ProcessingInput of one S3 object puts it: <LocalPath>/<the object's name> (the baseline copies and the
    assets keep the source's file name: mmtool/config/baselines.py, mmtool/generate/synth.py)."""
    return f"{PROCESSING}/{folder}/{source.rsplit('/', 1)[-1]}" if source else ""


def _engine_comparison_dashboard(st: StackTemplate) -> None:
    """Under `engine: both`, the two engines' series side by side: Model Monitor's on the left (what the drift alarms
    and the endpoint's dashboards read), the processing engine's on the right (its own `MonitoringSchedule`,
    metrics_schedule_name), and the runs with violations of each. Removed with the switch's last step, when the
    processing engine publishes under Model Monitor's names and the regular dashboards show it."""
    t = st.template
    both = []
    for m in MONITORS:
        t.add_condition(f"{m.stem}BothEngines", And(Cond(m.stem), Cond(f"{m.stem}Processing")))
        both.append(Cond(f"{m.stem}BothEngines"))
    t.add_condition("EngineComparison", Or(*both) if len(both) > 1 else both[0])
    names = {"Scope": If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}"),
                         Sub("${ProjectName}-${EnvironmentName}")),
             # Model Monitor's violations rule: the alarms stack's in the single-endpoint form, the endpoint's own
             # <key>-violations in a fleet (templates/monitoring.py)
             "ModelMonitorViolations": If("Fleet", Sub("${ProjectName}-${EnvironmentName}-${EndpointKey}-violations"),
                                          Sub(f"${{ProjectName}}-${{EnvironmentName}}-{MONITOR_VIOLATIONS_RULE}")),
             "ProcessingViolations": scoped_name(VIOLATIONS_RULE)}
    header = {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": (
        "# Both engines: ${Scope}\nEndpoint **${EndpointName}**: Model Monitor on the left, the processing engine on "
        "the right, each under its own `MonitoringSchedule` (docs/engine.md, \"Switching with no gap\").")}}
    runs = metric_widget("Runs with violations (per hour): Model Monitor, processing engine", [
        ["AWS/Events", "TriggeredRules", "RuleName", "${ModelMonitorViolations}", {"stat": "Sum", "label": "Model Monitor"}],
        ["AWS/Events", "TriggeredRules", "RuleName", "${ProcessingViolations}",
         {"stat": "Sum", "label": "processing engine"}],
    ], 0, 2, 24)
    widgets: list[tuple[str | None, dict]] = [(None, header), (None, runs)]
    for row, m in enumerate(MONITORS):
        names[f"{m.stem}ScheduleMM"], names[f"{m.stem}ScheduleProc"] = model_monitor_schedule_name(m), schedule_name(m)
        graph = m.processing.comparison  # the kind's graph of this dashboard (mmtool/config/monitor_kinds.py)
        for column, (engine, variable) in enumerate((("Model Monitor", "ScheduleMM"), ("processing engine",
                                                                                       "ScheduleProc"))):
            terms = [f'Namespace="{m.namespace}"', f'MonitoringSchedule="${{{m.stem}{variable}}}"'] + (
                [graph.terms] if graph.terms else [])
            search = f"SEARCH('{' '.join(terms)}', '{graph.stat}', 3600)"
            widgets.append((f"{m.stem}BothEngines", metric_widget(
                f"{m.label}, {engine}: {graph.title}", [{"expression": search}], 12 * column, 8 + 6 * row)))
    parts: list = ['{"widgets":[']
    for index, (condition, widget) in enumerate(widgets):
        text = ("," if index else "") + json.dumps(widget, **COMPACT)
        used = {name: value for name, value in names.items() if "${" + name + "}" in text}
        fragment = Sub(text, **used) if used else Sub(text)
        parts.append(If(condition, fragment, "") if condition else fragment)
    parts.append("]}")
    t.add_resource(Dashboard(
        "EngineComparisonDashboard", Condition="EngineComparison", DashboardName=scoped_name("engines"),
        DashboardBody=Join("", parts),
    ))
