"""`monitoring:` the four monitors. Every monitor is a `JobSettings` (schedule, cluster, runtime, metrics);
data quality adds its inputs and scripts, the others their ground truth or Clarify settings."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional, Union

from pydantic import Field, field_validator, model_validator

from mmtool.config.schedule import HOUR, Schedule, ScheduleRejected, parse_schedule, window_offset_hours
from mmtool.config.params.base import FieldError, InstanceType, JsonObjectUri, ScriptPath, Strict


class Baseline(Strict):
    constraints: JsonObjectUri = Field(description="S3 URI of the baseline constraints.json.")
    statistics: JsonObjectUri = Field(description="S3 URI of the baseline statistics.json.")


class TimeOffsets(Strict):
    """StartTimeOffset/EndTimeOffset of a model-quality or bias job: which hours of captured data (and ground
    truth) a run merges, relative to its scheduled time; ground truth usually arrives late."""

    start: str = Field(description="Start offset before the scheduled time, e.g. -P1D (offsets: -PT<h>H or -P<d>D).")
    end: str = Field(description="End offset before the scheduled time, e.g. -PT0H.")

    @field_validator("start", "end")
    @classmethod
    def _offset(cls, value: str) -> str:
        window_offset_hours(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> TimeOffsets:
        if window_offset_hours(self.start) >= window_offset_hours(self.end):
            raise FieldError("start", self.start, f"must be earlier than end ({self.end})")
        return self


class AnalysisWindow(TimeOffsets):
    """DataAnalysisStartTime/EndTime of a schedule: the offsets, and at most 24 hours between them."""

    start: str = Field(description="Start offset before the scheduled time, e.g. -PT2H.")
    end: str = Field(description="End offset before the scheduled time, e.g. -PT0H.")

    @model_validator(mode="after")
    def _at_most_a_day(self) -> AnalysisWindow:
        hours = window_offset_hours(self.end) - window_offset_hours(self.start)
        if hours > 24:
            raise FieldError("start", self.start, f"the window is {hours} hours; SageMaker allows at most 24")
        return self


class MonitorInput(Strict):
    source: Literal["endpoint", "batch_transform"] = Field(
        "endpoint", description="Analyse the real-time endpoint's capture, or batch-transform capture."
    )
    dataset_format: Optional[Literal["csv", "json", "parquet"]] = Field(
        None, description="Batch transform only: format of the captured dataset."
    )
    csv_header: bool = Field(True, description="Batch transform, csv: the files have a header row.")
    json_lines: bool = Field(True, description="Batch transform, json: one JSON object per line.")

    @model_validator(mode="after")
    def _format(self) -> MonitorInput:
        if self.source == "batch_transform" and self.dataset_format is None:
            raise FieldError("dataset_format", None, "batch_transform input needs dataset_format: csv, json or parquet")
        if self.source == "endpoint" and self.dataset_format is not None:
            raise FieldError(
                "dataset_format", self.dataset_format, "applies only to batch_transform input; remove it for endpoint input"
            )
        return self


class PreprocessorSettings(Strict):
    """Written into the record pre-processor's CONFIG line at build time (see docs/monitoring-code.md)."""

    feature_names: Optional[list[str]] = Field(
        None,
        description="Column names of the baseline dataset's features, in input order. Unset: zero-padded "
        "positions (00000000000000000000, ...), as in AWS's example.",
    )
    prediction_names: Optional[list[str]] = Field(
        None,
        description="Names of the model output column(s); used with feature_names (default [prediction]).",
    )
    prediction_position: Literal["first", "last", "none"] = Field(
        "first",
        description="Where the baseline dataset has the prediction column(s); none: the baseline has no "
        "prediction column and the output is not read.",
    )
    mini_batch: Literal["first", "skip", "all"] = Field(
        "first",
        description="A record holding several rows: keep the first row, drop the record, or return every row "
        "(all is not documented by AWS; test it with a one-off run first).",
    )
    max_logged_skips: int = Field(
        10, ge=0, le=1000, description="Dropped records logged one line each; after that only totals are logged."
    )

    @field_validator("feature_names", "prediction_names")
    @classmethod
    def _names(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return value
        if not value:
            raise ValueError("give at least one name, or null for the default")
        for index, item in enumerate(value):
            if not item.strip():
                raise FieldError(f"[{index}]", item, "names must not be empty")
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate names: {', '.join(duplicates)}; every column needs its own name")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> PreprocessorSettings:
        if self.feature_names and self.prediction_names:
            both = sorted(set(self.feature_names) & set(self.prediction_names))
            if both:
                raise FieldError("prediction_names", self.prediction_names,
                                 f"also in feature_names: {', '.join(both)}; a column can have only one name")
        return self


# --- the monitors: one job model (MonitorJob) that data quality, model quality, bias and explainability extend ---

# Where a value is in the endpoint's response (a CSV index or a JSONPath): 1-256 characters without the whitespace the
# monitoring template's parameter refuses (its AllowedPattern ^[^\s]{0,256}$, Java's ASCII \s; empty means unset).
RESPONSE_ATTRIBUTE = r"^[^ \t\n\x0b\f\r]{1,256}$"

ProblemType = Literal["BinaryClassification", "MulticlassClassification", "Regression"]
LabelValue = Union[int, float, str]


SCHEDULE_FORMS = ("hourly, daily, 'every N hours' or a SageMaker cron: cron(0 * ? * * *), cron(0 H ? * * *), "
                  "cron(0 H/N ? * * *) with N dividing 24 and H below N (runs N hours apart). Times are UTC.")


class MonitorJob(Strict):
    """What every monitor's job shares, data quality's included: on or off, schedule, cluster, runtime, metrics.
    Each monitor extends it with its own inputs and sets its own defaults."""

    enabled: bool = Field(False, description="Create this monitor's job definition and schedule.")
    schedule: str = Field("daily", description=SCHEDULE_FORMS + " One-off (now) runs are for data quality only.")
    instance_type: InstanceType = Field("ml.m5.xlarge", description="Processing instance type of the job.")
    instance_count: int = Field(1, ge=1, le=100, description="Processing instances per run.")
    volume_size_gb: int = Field(30, ge=1, le=16384, description="Encrypted ML storage volume per instance, GB.")
    max_runtime_seconds: int = Field(
        1800, ge=1, le=86400, description="Stop the job after this long; must fit in the schedule period."
    )
    publish_cloudwatch_metrics: bool = Field(True, description="Publish the monitor's CloudWatch metrics.")

    ONE_OFF: ClassVar[bool] = False  # a one-off (now) schedule is allowed
    # Hourly runs of model-quality and bias jobs get half the hour: the ground-truth merge job runs first
    # (docs/monitors.md, "Where the merged ground truth goes").
    HOURLY_LIMIT: ClassVar[int] = HOUR
    KIND: ClassVar[str] = "monitor"
    # Its job runs SageMaker Clarify, which the processing engine does not use (the kind's engines in
    # mmtool/config/monitor_kinds.py; tests/config/test_monitor_kinds.py keeps the two in step).
    NEEDS_CLARIFY: ClassVar[bool] = False

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            schedule = parse_schedule(value)
        except ScheduleRejected as exc:
            raise ValueError(str(exc)) from None
        if schedule.one_time and not cls.ONE_OFF:
            raise ValueError("one-off (now) runs are supported for data quality only; use hourly, daily or "
                             "'every N hours' here")
        return value

    @property
    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule)

    def baseline_uris(self) -> list[tuple[str, str]]:
        """(field under the monitor's section, S3 URI) of each baseline object its job reads, when enabled
        (mmtool/config/baselines.py copies them into the project bucket)."""
        uri = getattr(self, "baseline_constraints", None)
        return [("baseline_constraints", uri)] if self.enabled and uri else []

    @model_validator(mode="after")
    def _runtime(self) -> MonitorJob:
        schedule = self.parsed_schedule
        if schedule.kind == "hourly" and self.HOURLY_LIMIT < HOUR and self.max_runtime_seconds > self.HOURLY_LIMIT:
            raise FieldError(
                "max_runtime_seconds", self.max_runtime_seconds,
                f"hourly {self.KIND} runs get at most {self.HOURLY_LIMIT} s: the ground-truth merge job takes the "
                f"other half of the hour (docs/monitors.md); use at most {self.HOURLY_LIMIT} or a longer schedule",
            )
        if self.max_runtime_seconds > schedule.period_seconds:
            raise FieldError(
                "max_runtime_seconds", self.max_runtime_seconds,
                f"longer than the schedule period ({schedule.period_seconds} s for {self.schedule!r}); the next run "
                f"would start before this one ends. Use at most {schedule.period_seconds}",
            )
        return self


class DataQualityMonitor(MonitorJob):
    """Data quality: statistics of the captured requests (and responses) against a baseline."""

    ONE_OFF: ClassVar[bool] = True
    KIND: ClassVar[str] = "data-quality"

    enabled: bool = Field(True, description="Create the data-quality job definition and schedule.")
    schedule: str = Field("hourly", description=SCHEDULE_FORMS + " Or now: one run, which needs analysis_window.")
    max_runtime_seconds: int = Field(
        3600, ge=1, le=86400, description="Stop the job after this long; must fit in the schedule period."
    )
    publish_cloudwatch_metrics: bool = Field(
        True, description="Publish per-feature CloudWatch metrics (needed for alarms)."
    )
    analysis_window: Optional[AnalysisWindow] = Field(
        None, description="Data window relative to each run; required for a one-off (now) run."
    )
    baseline: Optional[Baseline] = Field(
        None, description="Baseline files from a baselining job. Unset: statistics only, no constraint checks."
    )
    record_preprocessor: Optional[ScriptPath] = Field(
        "scripts/record_preprocessor.py", description="Record pre-processor script (under scripts/), or null."
    )
    post_analytics_processor: Optional[ScriptPath] = Field(
        None, description="Post-analytics processor script (under scripts/), or null."
    )
    preprocessor: PreprocessorSettings = Field(
        default_factory=PreprocessorSettings, description="How the pre-processor names and orders columns."
    )
    input: MonitorInput = Field(default_factory=MonitorInput, description="Where the job reads captured data.")

    def baseline_uris(self) -> list[tuple[str, str]]:
        if not (self.enabled and self.baseline):
            return []
        return [("baseline.constraints", self.baseline.constraints), ("baseline.statistics", self.baseline.statistics)]

    @model_validator(mode="after")
    def _window(self) -> DataQualityMonitor:
        if self.parsed_schedule.one_time and self.analysis_window is None:
            raise FieldError(
                "analysis_window",
                None,
                f"a one-off ({self.schedule}) run needs analysis_window with start and end, e.g. "
                "{start: -PT2H, end: -PT0H}",
            )
        return self


class ModelQualityMonitor(MonitorJob):
    """Model quality: the endpoint's predictions merged with ground truth, metrics against a baseline."""

    HOURLY_LIMIT: ClassVar[int] = HOUR // 2
    KIND: ClassVar[str] = "model-quality"

    problem_type: ProblemType = Field(
        "BinaryClassification", description="BinaryClassification, MulticlassClassification or Regression."
    )
    inference_attribute: Optional[str] = Field(
        None, pattern=RESPONSE_ATTRIBUTE,
        description="Where the predicted label (or value) is in the endpoint's response: a zero-based CSV column "
        "index such as '0', or a JSONPath for JSON output.",
    )
    probability_attribute: Optional[str] = Field(
        None, pattern=RESPONSE_ATTRIBUTE, description="Where the probability is in the response (CSV index or JSONPath)."
    )
    probability_threshold: Optional[float] = Field(
        None, gt=0, lt=1,
        description="Binary classification: a probability above this predicts label 1 (needs probability_attribute).",
    )
    time_offsets: Optional[TimeOffsets] = Field(
        None, description="Which hours a run analyses (e.g. start -P1D, end -PT0H when labels arrive within a day). "
        "Unset: the period since the previous run.",
    )
    baseline_constraints: Optional[JsonObjectUri] = Field(
        None, description="S3 URI of the model-quality constraints.json (thresholds per metric). Unset: metrics "
        "only, no violations.",
    )

    @model_validator(mode="after")
    def _attributes(self) -> ModelQualityMonitor:
        if self.probability_threshold is not None and self.problem_type != "BinaryClassification":
            raise FieldError("probability_threshold", self.probability_threshold,
                             f"only binary classification has a probability threshold; remove it for {self.problem_type}")
        if self.probability_threshold is not None and self.probability_attribute is None:
            raise FieldError("probability_attribute", None,
                             "probability_threshold needs probability_attribute: where the probability is in the response")
        if not self.enabled:
            return self
        if self.problem_type == "Regression" and self.inference_attribute is None:
            raise FieldError("inference_attribute", None,
                             "regression needs inference_attribute: where the predicted value is in the response, e.g. '0'")
        if self.inference_attribute is None and self.probability_attribute is None:
            raise FieldError("inference_attribute", None,
                             "set inference_attribute (the predicted label) or probability_attribute (with "
                             "probability_threshold): the job must find the prediction in the response")
        return self


class Facet(Strict):
    name: str = Field(min_length=1, description="A sensitive feature (one of the Clarify features).")
    value_or_threshold: Optional[list[LabelValue]] = Field(
        None, min_length=1,
        description="The sensitive group: values of a categorical or binary facet, or for a continuous facet one "
        "threshold that is the group's exclusive lower bound ([64] is age > 64, so 65 and older; SageMaker Clarify "
        "BiasConfig). `make plan` and `make status` show the group in words. Unset: one group per value.",
    )


class ModelBiasMonitor(MonitorJob):
    """Model bias drift with SageMaker Clarify: post-training bias metrics of the predictions per facet."""

    HOURLY_LIMIT: ClassVar[int] = HOUR // 2
    KIND: ClassVar[str] = "model-bias"
    NEEDS_CLARIFY: ClassVar[bool] = True

    label: str = Field("label", min_length=1, description="Header of the ground-truth label column.")
    label_values_or_threshold: list[LabelValue] = Field(
        default_factory=lambda: [1], min_length=1,
        description="The positive outcome: label values, or for a regression label one threshold that is the "
        "exclusive lower bound of the positive values."
    )
    facets: list[Facet] = Field(default_factory=list, max_length=10, description="Sensitive features to measure bias on.")
    group_variable: Optional[str] = Field(
        None, description="Feature for Conditional Demographic Disparity (one of the Clarify features)."
    )
    inference_attribute: Optional[str] = Field(
        None, pattern=RESPONSE_ATTRIBUTE, description="Predicted label in the response (CSV index such as '0'); unset: the "
        "response is a single score."
    )
    probability_attribute: Optional[str] = Field(
        None, pattern=RESPONSE_ATTRIBUTE, description="Probability in the response (CSV index)."
    )
    probability_threshold: Optional[float] = Field(
        None, gt=0, lt=1, description="A probability above this predicts the positive label (default 0.5)."
    )
    time_offsets: Optional[TimeOffsets] = Field(
        None, description="Which hours a run analyses, e.g. start -P1D end -PT0H. Unset: since the previous run."
    )
    baseline_constraints: Optional[JsonObjectUri] = Field(
        None, description="S3 URI of the bias baseline (analysis.json of a Clarify baselining job). Unset: no violations."
    )

    @model_validator(mode="after")
    def _bias(self) -> ModelBiasMonitor:
        names = [facet.name for facet in self.facets]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise FieldError(f"facets[{index}].name", name, f"already facets[{names.index(name)}]; one facet per "
                                 "feature (list its groups in value_or_threshold)")
        if self.enabled and not self.facets:
            raise FieldError("facets", [], "model bias needs at least one facet: {name: <feature>, value_or_threshold: [...]}")
        if self.probability_threshold is not None and self.probability_attribute is None:
            raise FieldError("probability_attribute", None,
                             "probability_threshold needs probability_attribute: where the probability is in the response")
        return self


class ShapSettings(Strict):
    baseline: Optional[list[list[LabelValue]]] = Field(
        None, min_length=1,
        description="Kernel SHAP background rows: one or more rows with one value per Clarify feature, in order.",
    )
    num_samples: int = Field(100, ge=1, le=100000, description="Synthetic samples per record (more: slower, steadier).")
    agg_method: Literal["mean_abs", "median", "mean_sq"] = Field(
        "mean_abs", description="How local SHAP values aggregate into global ones."
    )
    use_logit: bool = Field(False, description="Apply the logit to predictions (SHAP values in log-odds).")


class ModelExplainabilityMonitor(MonitorJob):
    """Feature-attribution drift with SageMaker Clarify: SHAP values from a temporary shadow endpoint."""

    KIND: ClassVar[str] = "model-explainability"
    NEEDS_CLARIFY: ClassVar[bool] = True

    max_runtime_seconds: int = Field(
        3600, ge=1, le=86400, description="Stop the job after this long; must fit in the schedule period."
    )
    shap: ShapSettings = Field(default_factory=ShapSettings, description="Kernel SHAP settings.")
    probability_attribute: Optional[str] = Field(
        None, pattern=RESPONSE_ATTRIBUTE, description="Score in the response used for attributions (CSV index); unset: the "
        "response is a single score."
    )
    shadow_instance_type: InstanceType = Field(
        "ml.m5.large", description="Instance type of the shadow endpoint Clarify creates from the model for each run."
    )
    shadow_instance_count: int = Field(1, ge=1, le=10, description="Instances of the shadow endpoint.")
    baseline_constraints: Optional[JsonObjectUri] = Field(
        None, description="S3 URI of the explainability baseline (analysis.json of a Clarify baselining job). "
        "Unset: attributions only, no violations."
    )


class ClarifySettings(Strict):
    features: Optional[list[str]] = Field(
        None,
        description="Headers of the request's CSV columns, in order, for model bias and explainability. Unset: "
        "monitoring.data_quality.preprocessor.feature_names.",
    )

    @field_validator("features")
    @classmethod
    def _features(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return PreprocessorSettings._names(value)


Engine = Literal["model-monitor", "processing", "both"]
# Why the processing engine refuses the Clarify monitors (docs/engine.md).
CLARIFY_CLOSED = ("needs SageMaker Clarify, which the processing engine does not use: AWS closed Clarify (like Model "
                  "Monitor) to new customers on 2026-07-30 (docs/engine.md); disable it, or use engine: model-monitor "
                  "where the account still has Model Monitor")


class MonitoringSettings(Strict):
    engine: Engine = Field(
        "model-monitor",
        description="What runs the monitors: model-monitor (SageMaker Model Monitor schedules), processing (an "
        "EventBridge Scheduler schedule per monitor starting a SageMaker Processing job with this project's analyzer, "
        "for accounts that cannot use Model Monitor) or both side by side while switching (docs/engine.md). The "
        "processing engine runs data quality and model quality.",
    )
    data_quality: DataQualityMonitor = Field(
        default_factory=DataQualityMonitor, description="The data-quality monitor (drift in the input data)."
    )
    model_quality: ModelQualityMonitor = Field(
        default_factory=ModelQualityMonitor, description="The model-quality monitor (predictions against ground truth)."
    )
    model_bias: ModelBiasMonitor = Field(
        default_factory=ModelBiasMonitor, description="The model-bias monitor (SageMaker Clarify, needs ground truth)."
    )
    model_explainability: ModelExplainabilityMonitor = Field(
        default_factory=ModelExplainabilityMonitor,
        description="The feature-attribution monitor (SageMaker Clarify SHAP through a shadow endpoint).",
    )
    clarify: ClarifySettings = Field(
        default_factory=ClarifySettings, description="What the Clarify monitors (bias, explainability) share."
    )

    @property
    def clarify_features(self) -> Optional[list[str]]:
        return self.clarify.features or self.data_quality.preprocessor.feature_names

    def monitors(self) -> list[tuple[str, MonitorJob]]:
        """(section, settings) of each monitor, in the model's order."""
        return [(name, value) for name in type(self).model_fields
                if isinstance(value := getattr(self, name), MonitorJob)]

    @property
    def runs_model_monitor(self) -> bool:
        return self.engine in ("model-monitor", "both")

    @property
    def runs_processing(self) -> bool:
        return self.engine in ("processing", "both")

    @model_validator(mode="after")
    def _engine(self) -> MonitoringSettings:
        """What the processing engine cannot run is refused here, naming the field, rather than left out silently."""
        if not self.runs_processing:
            return self
        for key, monitor in self.monitors():
            if monitor.NEEDS_CLARIFY and monitor.enabled:
                raise FieldError(f"{key}.enabled", True, f"engine {self.engine}: {key.replace('_', ' ')} {CLARIFY_CLOSED}")
        dq = self.data_quality
        if dq.enabled and dq.parsed_schedule.one_time:
            raise FieldError("data_quality.schedule", dq.schedule,
                             f"engine {self.engine}: one-off (now) runs are for Model Monitor schedules; use a "
                             "recurring schedule and `make run-now` for a run now")
        if dq.enabled and dq.input.source != "endpoint":
            raise FieldError("data_quality.input.source", dq.input.source,
                             f"engine {self.engine}: the processing engine's analyzer reads the endpoint's Data Capture "
                             "only; use source: endpoint, or engine: model-monitor for batch-transform capture")
        mq = self.model_quality
        for name in ("inference_attribute", "probability_attribute"):
            value = getattr(mq, name)
            if mq.enabled and value is not None and set(value) & {'"', "\\"}:
                raise FieldError(f"model_quality.{name}", value,
                                 f"engine {self.engine}: the processing engine passes it inside the job's JSON request, "
                                 "where '\"' and '\\' have no place; write JSONPath with single quotes, e.g. $['score']")
        if dq.enabled and dq.post_analytics_processor:
            raise FieldError("data_quality.post_analytics_processor", dq.post_analytics_processor,
                             f"engine {self.engine}: the processing engine runs no post-analytics processor (the "
                             "analyzer publishes the metrics itself); remove it, or use engine: model-monitor")
        return self


