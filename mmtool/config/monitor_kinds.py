"""The monitor kinds: one declaration per kind of monitor, read by everything that names, builds or reads one.

The templates (`templates/monitoring.py` builds any kind's job definition, schedule and outputs from its entry;
`templates/alarms.py` its dashboard graphs (`widgets`, `overview`) and the schedules its rules watch; the catalog's
launch role its job definitions), the names' length checks, the baseline copies, the cost estimate, `make status`
and `make run-now` (`mmtool/operate/facts.py`, `runnow.py`, `rules.py`, `quotas.py`), the security checks
(`mmtool/security/checks.py`) and the generated table in docs/monitors.md all read this table instead of keeping
their own. Adding a kind is an entry here and its params model (a section of `MonitoringSettings` in
mmtool/config/params/monitoring.py, whose `baseline_uris()` says which baselines it reads); a kind of a new job
family also needs that family's parts in `templates/monitoring.py` (`JOB_PARTS`), and a Clarify kind of a new
analysis its analysis configuration (mmtool/generate/clarify.py `ANALYSES`). A kind the processing engine runs says
in its entry (`processing`) what its job reads: templates/processing_engine.py builds the request from it. tests/test_monitor_kinds.py refuses a list of kinds anywhere else and
adds a fake kind to check that the readers pick it up. Adding an engine is a name in `ENGINES` and in the
`engines` of the kinds it can run.

The names follow AWS's: `stem` is SageMaker's MonitoringType and the prefix of the CloudFormation resource type
(`AWS::SageMaker::<stem>JobDefinition`) and of the Describe call's response keys
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MonitoringScheduleConfig.html); the namespaces
are where SageMaker publishes each kind's metrics
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html).
"""

from __future__ import annotations

from dataclasses import dataclass

# The params models' own modules, not the package: mmtool.config.params imports mmtool/config/name_limits.py, which
# reads this table.
from mmtool.config.params.base import Strict
from mmtool.config.params.monitoring import (
    DataQualityMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelQualityMonitor,
)

MODEL_MONITOR = "model-monitor"  # SageMaker Model Monitor's own schedules and job definitions
PROCESSING = "processing"  # the processing engine: a scheduled processing job running our analyzer (issue 20)
ENGINES = (MODEL_MONITOR, PROCESSING)


@dataclass(frozen=True)
class ImageFamily:
    """An AWS-owned image a kind's job runs: its ECR repository (and tag) and the account per region, a
    Mapping of the monitoring template built from the SageMaker SDK's image table (mmtool/config/data/)."""

    name: str  # <name>-image-accounts.json in mmtool/config/data/
    repository: str  # repository[:tag] as the SDK writes the image URI
    mapping: str  # the Mapping of the monitoring template: region -> {"Account": ...}

    @property
    def repository_name(self) -> str:
        return self.repository.split(":")[0]


# The SDK appends no tag to the analyzer's image; Clarify's is tagged 1.0 (sagemaker/image_uri_config/
# model-monitor.json and clarify.json of the SageMaker Python SDK).
ANALYZER = ImageFamily("model-monitor", "sagemaker-model-monitor-analyzer", "ModelMonitorImage")
CLARIFY = ImageFamily("clarify", "sagemaker-clarify-processing:1.0", "ClarifyImage")
# The processing engine's jobs run the SageMaker scikit-learn image (the SDK's sklearn.json, version 1.2-1: Python 3.9
# with numpy and pandas) with this project's analyzer (templates/processing_engine.py, docs/engine.md).
SKLEARN = ImageFamily("sklearn", "sagemaker-scikit-learn:1.2-1-cpu-py3", "ScikitLearnImage")
# The ground-truth merge job of model-quality and bias runs: the analyzer's account (docs/monitors.md).
MERGER_REPOSITORY = "sagemaker-model-monitor-groundtruth-merger"


@dataclass(frozen=True)
class Widget:
    """A graph of a kind's metrics on a dashboard: a search of the kind's namespace (templates/alarms.py)."""

    title: str
    terms: str = ""  # search terms besides the namespace and schedule: which metrics ("" all of the kind's)
    stat: str = "Average"
    width: int = 12  # of the dashboard's 24 columns


@dataclass(frozen=True)
class JobFile:
    """A file of the kind's settings that its job on the processing engine reads (templates/processing_engine.py):
    a ProcessingInput of the file's copy in the bucket, one of the request's optional input fragments, and the
    analyzer setting that names where the file is in the job. The monitoring template's names are `{stem}` patterns
    (the Parameters and Conditions templates/monitoring.py declares for the kind's job family)."""

    field: str  # its S3 URI or script path in the kind's params section, dotted: baseline.statistics
    setting: str  # the analyzer's environment variable (docs/engine.md, "The analyzer"): baseline_statistics
    title: str  # the Parameter <stem>Processing<title> of its path in the job: Statistics
    what: str  # in the Parameter's description: the baseline statistics
    label: str  # in the Parameter's label: statistics
    input: str  # the ProcessingInput's name: baseline-statistics
    folder: str  # its folder in the job, under /opt/ml/processing: baseline/statistics
    key: str  # the monitoring template's Parameter of its bucket key: {stem}BaselineStatisticsKey
    condition: str  # the monitoring template's Condition that it is set: HasBaseline
    fragment: str  # the optional inputs it is sent with (one Condition each): Baseline


def constraints_file(field: str, condition: str) -> JobFile:
    """The baseline constraints, which every kind's processing job reads (its `baseline_constraints`)."""
    return JobFile(field=field, setting="baseline_constraints", title="Constraints", what="the baseline constraints",
                   label="constraints", input="baseline-constraints", folder="baseline/constraints",
                   key="{stem}BaselineConstraintsKey", condition=condition, fragment="Baseline")


@dataclass(frozen=True)
class ProcessingJob:
    """What a kind's job on the processing engine reads besides what every kind's does (templates/
    processing_engine.py `request`): its files, settings from the monitoring template's Parameters, and where its
    params section says which hours a run analyses."""

    window: str  # the field of its analysed window in its params section (start and end offsets)
    files: tuple[JobFile, ...]  # in the order the request sends them
    # (analyzer setting, the monitoring template's Parameter as a {stem} pattern), after the common settings
    settings: tuple[tuple[str, str], ...] = ()
    comparison: Widget = Widget("metrics")  # its graph on the engine comparison dashboard: the namespace's search


@dataclass(frozen=True)
class MonitorKind:
    key: str  # its section under `monitoring:` in params (monitoring.<key>)
    stem: str  # SageMaker's MonitoringType; logical ids and Parameters <stem>JobDefinition, <stem>Enabled, ...
    name: str  # data-quality: the CLI's MONITOR=, the single-endpoint schedule <project>-<env>-<name>, reports/<name>/
    code: str  # short code: job definitions <project>-<env>-<code>-<revision>, fleet schedules <...>-<key>-<code>
    one_time_code: str  # run-now's one-off schedule name when the long one passes 63 characters (mmtool/operate/runnow.py)
    label: str  # Data quality: parameter groups, descriptions
    namespace: str  # the CloudWatch namespace SageMaker publishes the kind's metrics to
    image: ImageFamily
    engines: tuple[str, ...]  # the engines that can run it (ENGINES)
    model: type[Strict]  # its params model
    merges_ground_truth: bool  # a run first merges Ground Truth labels with the captured predictions
    network_isolated: bool  # the job runs network-isolated
    one_time_runs: bool  # a one-off (NOW) schedule is allowed
    job: str  # its job family: the job's own parts in templates/monitoring.py (JOB_PARTS), shared by a family's kinds
    widgets: tuple[Widget, ...]  # the single-endpoint dashboard's graphs of its metrics (templates/alarms.py)
    # the environment overview's graph of it; None: it is one of the overview's graph of the model metrics
    overview: Widget | None = None
    isolation_waiver: str = ""  # why it cannot be (network_isolated False): shown by the security check
    processing: ProcessingJob | None = None  # its job on the processing engine (PROCESSING in engines)
    analysis: str = ""  # a Clarify kind: its analysis configuration (mmtool/generate/clarify.py ANALYSES)

    @property
    def resource_type(self) -> str:
        return f"AWS::SageMaker::{self.stem}JobDefinition"

    @property
    def job_definition(self) -> str:
        """The logical id of its job definition in the monitoring template."""
        return f"{self.stem}JobDefinition"

    @property
    def describe_method(self) -> str:
        """The boto3 method that describes its job definitions (describe_data_quality_job_definition)."""
        return f"describe_{self.key}_job_definition"


# Data quality's per-feature drift metrics, feature_baseline_drift_<feature>
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html). The graphs' terms are
# partial matches of the metric name, a form of CloudWatch's metric search syntax: `_` separates tokens, so the
# term finds the names with feature, baseline, drift in a row
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html; docs/fleet.md).
DRIFT_TERMS = "MetricName=feature_baseline_drift"

DATA_QUALITY = MonitorKind(
    key="data_quality", stem="DataQuality", name="data-quality", code="dq", one_time_code="dq",
    label="Data quality", namespace="aws/sagemaker/Endpoints/data-metrics", image=ANALYZER,
    engines=(MODEL_MONITOR, PROCESSING), model=DataQualityMonitor, merges_ground_truth=False, network_isolated=True,
    one_time_runs=True, job="analyzer-data",
    widgets=(Widget("Data quality: baseline drift per feature (max)", DRIFT_TERMS, "Maximum"),
             Widget("Data quality: completeness per feature", "MetricName=feature_completeness")),
    overview=Widget("Data drift (max)", DRIFT_TERMS, "Maximum"),
    processing=ProcessingJob(window="analysis_window", files=(
        JobFile(field="baseline.statistics", setting="baseline_statistics", title="Statistics",
                what="the baseline statistics", label="statistics", input="baseline-statistics",
                folder="baseline/statistics", key="{stem}BaselineStatisticsKey", condition="HasBaseline",
                fragment="Baseline"),
        constraints_file("baseline.constraints", "HasBaseline"),
        JobFile(field="record_preprocessor", setting="record_preprocessor_script", title="Preprocessor",
                what="the record pre-processor", label="pre-processor", input="preprocessor",
                folder="input/preprocessor", key="{stem}PreprocessorKey", condition="HasPreprocessor",
                fragment="Preprocessor"),
    ), comparison=Widget("baseline drift per feature (max)", DRIFT_TERMS, "Maximum")),
)
MODEL_QUALITY = MonitorKind(
    key="model_quality", stem="ModelQuality", name="model-quality", code="mq", one_time_code="mq",
    label="Model quality", namespace="aws/sagemaker/Endpoints/model-metrics", image=ANALYZER,
    engines=(MODEL_MONITOR, PROCESSING), model=ModelQualityMonitor, merges_ground_truth=True, network_isolated=True,
    one_time_runs=False, job="analyzer-labels", widgets=(Widget("Model quality metrics"),),
    processing=ProcessingJob(
        window="time_offsets", files=(constraints_file("baseline_constraints", "{stem}HasBaseline"),),
        settings=(("problem_type", "{stem}ProblemType"), ("inference_attribute", "{stem}InferenceAttribute"),
                  ("probability_attribute", "{stem}ProbabilityAttribute"),
                  ("probability_threshold_attribute", "{stem}ProbabilityThreshold"))),
)
MODEL_BIAS = MonitorKind(
    key="model_bias", stem="ModelBias", name="model-bias", code="mb", one_time_code="bias",
    label="Model bias", namespace="aws/sagemaker/Endpoints/bias-metrics", image=CLARIFY,
    engines=(MODEL_MONITOR,), model=ModelBiasMonitor, merges_ground_truth=True, network_isolated=True,
    one_time_runs=False, job="clarify",
    widgets=(Widget("Model bias metrics (post-training)", "MetricName=bias_metric"),),
    analysis="bias",
)
MODEL_EXPLAINABILITY = MonitorKind(
    key="model_explainability", stem="ModelExplainability", name="model-explainability", code="me",
    one_time_code="expl", label="Model explainability", namespace="aws/sagemaker/Endpoints/explainability-metrics",
    image=CLARIFY, engines=(MODEL_MONITOR,), model=ModelExplainabilityMonitor, merges_ground_truth=False,
    network_isolated=False, one_time_runs=False, job="clarify",
    widgets=(Widget("Feature attribution (global SHAP)", width=24),), analysis="explainability",
    # "Give Amazon SageMaker Clarify Jobs Access to Resources in Your Amazon VPC":
    # https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html
    isolation_waiver="SageMaker Clarify computes SHAP values by calling a temporary shadow endpoint it creates from "
                     "the model: the job needs the sagemaker.api and sagemaker.runtime VPC endpoints "
                     "(docs/monitors.md)",
)

# In the order every listing shows them (templates, dashboards, status).
KINDS: tuple[MonitorKind, ...] = (DATA_QUALITY, MODEL_QUALITY, MODEL_BIAS, MODEL_EXPLAINABILITY)
BY_NAME = {kind.name: kind for kind in KINDS}
BY_STEM = {kind.stem: kind for kind in KINDS}
IMAGE_FAMILIES: tuple[ImageFamily, ...] = tuple(dict.fromkeys(kind.image for kind in KINDS))


def settings(monitoring: object, kind: MonitorKind) -> Strict:
    """The kind's section of an endpoint's `monitoring:` settings."""
    return getattr(monitoring, kind.key)


def table() -> str:
    """The kinds as a Markdown table (generated into docs/monitors.md by `make docs`)."""
    lines = ["| monitor | params | MonitoringType | short code | CloudWatch namespace | image | engines |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {k.name} | `monitoring.{k.key}` | `{k.stem}` | `{k.code}` | `{k.namespace}` | `{k.image.repository}` "
              f"| {', '.join(k.engines)} |" for k in KINDS]
    return "\n".join(lines)
