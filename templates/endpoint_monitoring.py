"""endpoint-monitoring: monitoring for an existing endpoint, launched by its owner from Service Catalog.

A data scientist in a shared environment picks this product, names their endpoint and a short monitor name,
chooses a schedule, instance and engine, and gets the environment's own monitoring template as a nested stack:
the same job definition and schedule (Model Monitor) or processing schedule (the processing engine,
templates/processing_engine.py), per-endpoint execution role (reads only `<capture prefix>/sc-<name>/`, writes
only `reports/sc-<name>/`), network, key and bucket as every endpoint of the params file. Not one of STACKS:
`make deploy` never deploys it; `make catalog` publishes it with the other products.

The processing engine (docs/engine.md) is offered when the environment's foundation stack has the EventBridge
Scheduler group its schedules go into (an endpoint of the params file runs the engine). A launch's processing job
names are `dq-<16 hex>-<execution id>`: the 16 hex characters are the first three groups of the launch stack's
own id (`arn:...:stack/<name>/<uuid>`), distinct per launch and stable across its updates, so each launch's
scheduler role may start, and its notifications match, its own jobs only. The jobs run the environment's analyzer
package (its monitoring stacks' `AnalyzerPrefix`), which `make deploy` uploads and `make catalog` makes sure of.

Why a nested stack: the child is exactly the monitoring template the environment deploys (linted and reviewed
once), at its content-addressed copy in the project bucket (`catalog-templates/monitoring/<sha256>.template.json`,
uploaded by `make catalog` before any version of this product exists); this template only maps the few
choices a data scientist makes onto its ~100 parameters. Its Defaults name this environment (its SSM
parameters, the child's content hash), so unlike the stack templates it is one per environment: a product of
that environment's portfolio.

Key `sc-<name>`: params files may not use keys starting with `sc-` (mmtool.config.params), so a launch never
takes the names, role or prefixes of an endpoint the platform team manages. The job definition's revision is
left empty, so CloudFormation names the definition and a changed setting replaces it cleanly.

Rules
  BaselineNeedsBothFiles        a baseline's constraints and statistics together, or neither
Resources
  Monitoring                    AWS::CloudFormation::Stack, the environment's monitoring template, data quality on
Outputs
  CaptureDestination, CaptureKmsKeyArn   where the endpoint's Data Capture must write (and with which key)
  ScheduleName, ReportsUri               the data-quality schedule (of either engine) and its reports
  ProcessingJobNamePrefix                (processing engine) the prefix of the launch's processing jobs
"""

from __future__ import annotations

import re

from troposphere import Equals, FindInMap, GetAtt, If, Join, Not, Or, Output, Ref, Select, Split, Sub, Tags
from troposphere.cloudformation import Stack

from mmtool.config import layout
from mmtool.config.monitor_kinds import DATA_QUALITY, ENGINES, MODEL_MONITOR, PROCESSING
from mmtool.config.params import SELF_SERVICE_KEY_PREFIX, Params, image_accounts
from templates import processing_engine
from templates.common import StackTemplate

STACK = "endpoint-monitoring"
# The schedules on offer: the cron expression, and the period of the drift alarms that goes with it.
SCHEDULES = {
    "hourly": ("cron(0 * ? * * *)", 3600),
    "every-6-hours": ("cron(0 0/6 ? * * *)", 21600),
    "daily": ("cron(0 0 ? * * *)", 86400),
}
MONITORING_TEMPLATES_PREFIX = f"{layout.CATALOG_TEMPLATES.prefix}/monitoring"  # where `make catalog` uploads the child
# The baseline files a launch names keep the names Model Monitor's baselining (and `make baseline`) gives them: the
# processing job finds each at <LocalPath>/<file name> (templates/processing_engine.py _local), which CloudFormation
# cannot take from a key of any depth.
BASELINE_FILES = {"BaselineConstraintsKey": "constraints.json", "BaselineStatisticsKey": "statistics.json"}
# The launch stack's id arn:...:stack/<name>/<uuid>: the first three groups of the uuid are 8 + 4 + 4 hex characters,
# the ProcessingJobHash the monitoring template asks for (distinct per launch; a stack keeps its id on update).
STACK_UUID = Select(2, Split("/", Ref("AWS::StackId")))
JOB_NAME_HASH = Join("", [Select(group, Split("-", STACK_UUID)) for group in range(3)])
assert processing_engine.HASH_LENGTH == 8 + 4 + 4
SENTINEL_KEY = f"{SELF_SERVICE_KEY_PREFIX}sentinel"  # stands for sc-<MonitorName> in the child's values
SENTINEL_ENDPOINT = "sentinel-endpoint"  # stands for the EndpointName parameter
# The child's parameters a data scientist chooses: this template's parameter -> the child's.
CHOICES = {
    "InstanceType": "DataQualityInstanceType",
    "InstanceCount": "DataQualityInstanceCount",
    "VolumeSizeGb": "DataQualityVolumeSizeGb",
    "MaxRuntimeSeconds": "DataQualityMaxRuntimeSeconds",
    "BaselineConstraintsKey": "DataQualityBaselineConstraintsKey",
    "BaselineStatisticsKey": "DataQualityBaselineStatisticsKey",
    "PublishMetrics": "DataQualityPublishMetrics",
}


def engine_choices(params: Params, offers_processing_engine: bool) -> tuple[list[str], str]:
    """The engines a launch may choose, and the default. The processing engine is offered where the environment has
    its schedule group. The default is Model Monitor, so a launch that took the default keeps running it, unless no
    endpoint of the environment runs Model Monitor (an account that cannot use it, one that moved every endpoint, or
    a region without Model Monitor's image, where the params allow no other engine: environment.py): then the
    processing engine. Model Monitor stays a choice even there: with one value, the template's ProcessingEngine
    Condition would be constant and cfn-lint would flag every Fn::If on it (W1028); the description warns instead."""
    offered = list(ENGINES) if offers_processing_engine else [MODEL_MONITOR]
    runs_model_monitor = any(e.monitoring.runs_model_monitor for e in params.fleet())
    return offered, PROCESSING if PROCESSING in offered and not runs_model_monitor else MODEL_MONITOR


def build(params: Params, child_values: dict[str, str], child_template: dict, child_sha256: str,
          analyzer_prefix: str = "") -> StackTemplate:
    """`child_values`: the monitoring stack's parameter values for the sentinel endpoint (SENTINEL_KEY, SENTINEL_ENDPOINT)
    of this environment, as mmtool.generate.synth makes them; `child_template`: the monitoring template;
    `analyzer_prefix`: the analyzer package's bucket prefix when the environment offers the processing engine."""
    if params.has_processing_engine != bool(analyzer_prefix):  # where the foundation creates the schedule group
        raise ValueError("the processing engine is offered exactly when the analyzer package's prefix is given")
    st = StackTemplate(STACK, "Data-quality monitoring for an existing SageMaker endpoint of yours, in this shared "
                       "environment, by Model Monitor or the processing engine (the environment's monitoring "
                       "template as a nested stack)")
    t = st.template
    for title in ("ProjectName", "EnvironmentName"):  # this environment's, the only one the product serves
        t.parameters[title].Default = child_values[title]
        t.parameters[title].AllowedValues = [child_values[title]]
    declared = child_template["Parameters"]
    group = "Your endpoint"
    st.param("EndpointName", "Name of your SageMaker endpoint (InService, in this account and region). Its Data "
             "Capture must write to the CaptureDestination output, Input and Output.", group=group,
             label="Endpoint name", AllowedPattern=declared["EndpointName"]["AllowedPattern"])
    longest = 20 - len(SELF_SERVICE_KEY_PREFIX)
    st.param("MonitorName", f"Short name of this monitor, 1-{longest} lowercase letters, digits and '-': it names the "
             f"schedule (<project>-<env>-{SELF_SERVICE_KEY_PREFIX}<name>-dq), the job role and the bucket prefixes.",
             group=group, label="Monitor name", AllowedPattern=rf"^[a-z][a-z0-9-]{{0,{longest - 1}}}$",
             ConstraintDescription=f"1-{longest} lowercase letters, digits and '-', starting with a letter")
    group = "Data quality"
    offered, default = engine_choices(params, bool(analyzer_prefix))
    st.param("Engine", f"{MODEL_MONITOR}: SageMaker Model Monitor runs the job; {PROCESSING}: an EventBridge Scheduler "
             "schedule starts a SageMaker Processing job with the project's analyzer, for accounts that cannot use "
             "Model Monitor (docs/engine.md)."
             + ("" if PROCESSING in offered else f" This environment offers {MODEL_MONITOR} only: none of its endpoints "
                "runs the processing engine, so it has no schedule group.")
             + ("" if params.region in image_accounts() else f" {params.region} has no Model Monitor image: choose "
                f"{PROCESSING}, {MODEL_MONITOR} cannot start there."),
             group=group, label="Engine", Default=default, AllowedValues=offered)
    t.add_condition("ProcessingEngine", Equals(Ref("Engine"), PROCESSING))
    st.param("Schedule", "How often the data-quality job analyses the captured traffic (UTC).", group=group,
             label="Schedule", Default="hourly", AllowedValues=list(SCHEDULES))
    t.add_mapping("Schedules", {choice: {"Expression": cron, "AlarmPeriod": str(period),
                                         **dict(zip(("WindowStart", "WindowEnd"), processing_engine.window(None, period)))}
                                for choice, (cron, period) in SCHEDULES.items()})
    for title, child in CHOICES.items():
        spec = declared[child]
        constraints = {k: spec[k] for k in ("AllowedPattern", "AllowedValues", "MinValue", "MaxValue") if k in spec}
        description = spec["Description"]
        if title in BASELINE_FILES:
            file = BASELINE_FILES[title]
            constraints["AllowedPattern"] = rf"^({layout.BASELINES.prefix}/\S+/{re.escape(file)})?$"
            constraints["ConstraintDescription"] = f"empty, or a key {layout.BASELINES.prefix}/.../{file}"
            description = (f"Bucket key of the baseline's {file}, under baselines/{SELF_SERVICE_KEY_PREFIX}<monitor "
                           "name>/ (the only baselines the job role reads); empty for none (both or neither).")
        st.param(title, description, group=group, label=title_label(title), type=spec["Type"],
                 Default=spec.get("Default", ""), **constraints)
    # The monitoring template uses a baseline only when both files are given: refuse one alone before any change.
    t.add_rule("BaselineNeedsBothFiles", {
        "RuleCondition": Or(Not(Equals(Ref("BaselineConstraintsKey"), "")), Not(Equals(Ref("BaselineStatisticsKey"), ""))),
        "Assertions": [{"Assert": Not(Equals(Ref(title), "")),
                        "AssertDescription": "a baseline needs both files: set BaselineConstraintsKey and "
                                             "BaselineStatisticsKey, or neither"}
                       for title in ("BaselineConstraintsKey", "BaselineStatisticsKey")],
    })
    # SageMaker Studio passes these two to a project template; declaring them makes this product one
    group = "SageMaker Studio project (filled in by Studio)"
    for title, what in (("SageMakerProjectName", "Name"), ("SageMakerProjectId", "Id")):
        st.param(title, f"{what} of the SageMaker project this monitor belongs to, when launched as a Studio "
                 "project; empty otherwise.", group=group, label=f"Project {what.lower()}", Default="",
                 AllowedPattern=r"^([a-zA-Z0-9](-*[a-zA-Z0-9]){0,31})?$")
    t.add_condition("StudioProject", Not(Equals(Ref("SageMakerProjectName"), "")))
    t.add_condition("HasBaseline", Not(Equals(Ref("BaselineStatisticsKey"), "")))
    bucket = st.param("BucketName", "The environment's bucket. Name of the SSM parameter the foundation stack writes.",
                      group="Shared environment (set by the platform team)", label="Bucket (SSM name)",
                      type="AWS::SSM::Parameter::Value<String>", Default=child_values["BucketName"])
    key = st.param("KmsKeyArn", "The environment's KMS key. Name of the SSM parameter the foundation stack writes.",
                   group="Shared environment (set by the platform team)", label="KMS key (SSM name)",
                   type="AWS::SSM::Parameter::Value<String>", Default=child_values["KmsKeyArn"])

    nested = child_parameters(child_values, analyzer_prefix)
    if set(nested) - set(declared):  # a renamed parameter of the monitoring template must be renamed here too
        raise ValueError(f"not parameters of the monitoring template: {sorted(set(nested) - set(declared))}")
    stack = t.add_resource(Stack(
        "Monitoring",
        TemplateURL=Sub("https://${BucketName}.s3.${AWS::Region}.${AWS::URLSuffix}/"
                        f"{MONITORING_TEMPLATES_PREFIX}/{child_sha256}.template.json"),
        Parameters=nested,
        # Nothing in it holds data (job definition, schedule, role, alarms); the reports stay in the bucket.
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        Tags=Tags(**{"mm:endpoint": Ref("EndpointName"), "mm:monitor": Ref("MonitorName")}),
    ))
    capture = child_values["CapturePrefix"].replace(SENTINEL_KEY, f"{SELF_SERVICE_KEY_PREFIX}${{MonitorName}}")
    t.add_output(Output("CaptureDestination", Value=Sub(f"s3://${{{bucket.title}}}/{capture}"),
                        Description="DestinationS3Uri your endpoint's DataCaptureConfig must have (Input and Output)"))
    t.add_output(Output("CaptureKmsKeyArn", Value=Ref(key),
                        Description="KmsKeyId for your endpoint's DataCaptureConfig: the monitor reads capture with it"))
    t.add_output(Output("ScheduleName", Value=If("ProcessingEngine",
                                                 GetAtt(stack, "Outputs.DataQualityProcessingScheduleName"),
                                                 GetAtt(stack, "Outputs.DataQualityScheduleName")),
                        Description="The data-quality schedule: Model Monitor's, or the processing engine's "
                                    "EventBridge Scheduler schedule (group <project>-<env>)"))
    t.add_output(Output("ProcessingJobNamePrefix", Condition="ProcessingEngine",
                        Value=Sub(f"{processing_engine.job_prefix(DATA_QUALITY)}-",
                                  ProcessingJobHash=JOB_NAME_HASH),
                        Description="The data-quality processing jobs' names start with this "
                                    "(aws sagemaker list-processing-jobs --name-contains)"))
    t.add_output(Output("SageMakerProject", Condition="StudioProject",
                        Value=Sub("${SageMakerProjectName} (${SageMakerProjectId})"),
                        Description="The SageMaker Studio project this monitor was launched for"))
    reports = child_values["ReportsPrefix"].replace(SENTINEL_KEY, f"{SELF_SERVICE_KEY_PREFIX}${{MonitorName}}")
    processing_reports = Sub(f"s3://${{{bucket.title}}}/{reports}/{DATA_QUALITY.name}")
    t.add_output(Output("ReportsUri", Value=If("ProcessingEngine", processing_reports,
                                               GetAtt(stack, "Outputs.DataQualityReportsUri")),
                        Description="Where the reports (statistics, constraint violations) are written"))
    return st


def child_parameters(child_values: dict[str, str], analyzer_prefix: str = "") -> dict[str, object]:
    """The nested stack's Parameters: the sentinel endpoint's values with the data scientist's choices put in."""
    chosen: dict[str, object] = {child: Ref(title) for title, child in CHOICES.items()}
    chosen["DataQualityScheduleExpression"] = FindInMap("Schedules", Ref("Schedule"), "Expression")
    chosen["DataQualityAlarmPeriod"] = FindInMap("Schedules", Ref("Schedule"), "AlarmPeriod")
    # The engine: Model Monitor's data-quality monitor, or the processing engine's (templates/processing_engine.py).
    chosen["DataQualityEnabled"] = If("ProcessingEngine", "false", "true")
    chosen["DataQualityProcessing"] = If("ProcessingEngine", "true", "false")
    chosen["ProcessingJobHash"] = JOB_NAME_HASH
    chosen["AnalyzerPrefix"] = analyzer_prefix
    for end in ("Start", "End"):
        chosen[f"DataQualityProcessingWindow{end}"] = FindInMap("Schedules", Ref("Schedule"), f"Window{end}")
    # Where the job finds the launch's files: the baseline's two by their names; no pre-processor (none is offered).
    for file in BASELINE_FILES.values():  # e.g. DataQualityProcessingStatistics: .../baseline/statistics/statistics.json
        folder = file.removesuffix(".json")
        chosen[f"DataQualityProcessing{folder.capitalize()}"] = If(
            "HasBaseline", f"{processing_engine.PROCESSING}/baseline/{folder}/{file}", "")
    chosen["DataQualityProcessingPreprocessor"] = ""
    environment = f"/{child_values['ProjectName']}/{child_values['EnvironmentName']}/"
    result: dict[str, object] = {}
    for name, value in sorted({**child_values, **chosen}.items()):
        if name in chosen:
            result[name] = chosen[name]
        elif name in ("ProjectName", "EnvironmentName", "EndpointName"):
            result[name] = Ref(name)
        elif value.startswith(environment):  # an SSM parameter name of this environment
            result[name] = Sub("/${ProjectName}/${EnvironmentName}/" + value[len(environment):])
        elif name.endswith("Revision"):
            result[name] = ""  # CloudFormation names the job definitions (templates/monitoring.py)
        elif SENTINEL_KEY in value:
            result[name] = Sub(value.replace(SENTINEL_KEY, f"{SELF_SERVICE_KEY_PREFIX}${{MonitorName}}"))
        else:
            result[name] = value
    return result


def title_label(title: str) -> str:
    """"MaxRuntimeSeconds" -> "Max runtime seconds"."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in title).strip()
    return words[0].upper() + words[1:]
