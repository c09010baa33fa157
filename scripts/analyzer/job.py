"""The processing job's entry: `python3 /opt/ml/processing/input/code/analyzer job`.

Everything comes from environment variables (names follow Model Monitor's container contract where it
has one: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-inputs.html) and
from files the job's ProcessingInputs place under /opt/ml/processing/. The full contract, with
examples, is the section "The analyzer" of docs/engine.md; `CONTRACT` below is its one source in code.

Window: [scheduled_time + window_start_offset, scheduled_time + window_end_offset), unless `start_time`
and `end_time` are both given. The scheduler passes `scheduled_time` (EventBridge Scheduler's
`<aws.scheduler.scheduled-time>`), so a late or retried run still analyzes the hour it was scheduled for.

Exit status: 0 the analysis ran (violations or not; they are in constraint_violations.json), 1 the
window held no data or another run-time failure, 2 a bad setting or input. One line explaining the
outcome goes to stdout (the job's log) and to /opt/ml/output/message, whose first KB SageMaker reports
as the job's ExitMessage (https://docs.aws.amazon.com/sagemaker/latest/dg/byoc-metadata.html).
"""

import datetime as dt
import logging
import os
import sys

from . import capture, run
from .errors import EXIT_FAILED, EXIT_OK, InputError
from .metrics import DATA_METRICS_NAMESPACE, MODEL_METRICS_NAMESPACE, CloudWatchPublisher, dimensions

BASE = "/opt/ml/processing"
EXIT_MESSAGE = "/opt/ml/output/message"
# PutMetricData takes data points up to two weeks old (CloudWatch API reference, PutMetricData)
METRICS_MAX_AGE = dt.timedelta(days=14) - dt.timedelta(minutes=5)

# name: (default, meaning). The defaults are the paths the engine's ProcessingInputs/Outputs use.
CONTRACT = {
    "analysis_type": ("DATA_QUALITY", "DATA_QUALITY, MODEL_QUALITY, or baselining: BASELINE_DATA_QUALITY, "
                                      "BASELINE_MODEL_QUALITY"),
    "scheduled_time": (None, "ISO-8601 UTC time of the schedule's slot (required unless start_time and end_time)"),
    "window_start_offset": ("-PT1H", "ISO-8601 duration added to scheduled_time: the window's start"),
    "window_end_offset": ("PT0H", "ISO-8601 duration added to scheduled_time: the window's end (exclusive)"),
    "start_time": (None, "explicit window start (ISO-8601 UTC); with end_time, overrides the offsets"),
    "end_time": (None, "explicit window end (ISO-8601 UTC, exclusive)"),
    "capture_s3_uri": (None, "s3://<bucket>/<capture prefix>/<endpoint>: read the window's hour folders of "
                             "every variant from S3; unset: read dataset_source"),
    "dataset_source": (BASE + "/input/endpoint", "local folder of capture files (hourly layout) when "
                                                  "capture_s3_uri is unset"),
    "ground_truth_s3_uri": (None, "MODEL_QUALITY: s3://<bucket>/<ground-truth prefix> with yyyy/mm/dd/hh "
                                  "folders; unset: read ground_truth_source"),
    "ground_truth_source": (BASE + "/input/ground_truth", "MODEL_QUALITY: local folder of ground-truth files"),
    "ground_truth_end_offset": ("PT0H", "MODEL_QUALITY: labels are read from the window's start to "
                                        "scheduled_time + this offset"),
    "baseline_statistics": (BASE + "/baseline/statistics/statistics.json", "baseline statistics.json (data quality)"),
    "baseline_constraints": (BASE + "/baseline/constraints/constraints.json", "baseline constraints.json"),
    "record_preprocessor_script": (BASE + "/input/preprocessor/record_preprocessor.py",
                                   "the record pre-processor (used when the file exists)"),
    "output_path": (BASE + "/output", "folder for statistics.json and constraint_violations.json"),
    "publish_cloudwatch_metrics": ("Enabled", "Enabled or Disabled"),
    "metrics_namespace": (None, "CloudWatch namespace; default " + DATA_METRICS_NAMESPACE + " (data quality) or "
                                + MODEL_METRICS_NAMESPACE + " (model quality)"),
    "sagemaker_endpoint_name": (None, "the Endpoint dimension of the metrics"),
    "sagemaker_monitoring_schedule_name": (None, "the MonitoringSchedule dimension of the metrics"),
    "problem_type": (None, "MODEL_QUALITY: BinaryClassification, MulticlassClassification or Regression"),
    "inference_attribute": (None, "MODEL_QUALITY: CSV index or JSON key path of the predicted label/value "
                                  "(baselining: the prediction column)"),
    "probability_attribute": (None, "MODEL_QUALITY: CSV index or JSON key path of the probability "
                                    "(baselining: the probability column)"),
    "probability_threshold_attribute": ("0.5", "MODEL_QUALITY, binary: label = probability >= this"),
    "baseline_dataset": (BASE + "/input/baseline_dataset", "baselining: a CSV file or a folder of CSV files"),
    "dataset_header": ("false", "baselining: true when the CSV files' first line names the columns"),
    "ground_truth_attribute": (None, "BASELINE_MODEL_QUALITY: the label column (a header name, or _c<i>)"),
    "AWS_REGION": (None, "region of the S3 and CloudWatch clients (set by SageMaker)"),
}


def setting(environ, name):
    value = environ.get(name)
    return value if value not in (None, "") else CONTRACT[name][0]


def window_of(environ):
    start, end = setting(environ, "start_time"), setting(environ, "end_time")
    if start and end:
        window = (capture.parse_time(start, "start_time"), capture.parse_time(end, "end_time"))
    else:
        scheduled = setting(environ, "scheduled_time")
        if not scheduled:
            raise InputError("scheduled_time is not set: the schedule must pass <aws.scheduler.scheduled-time> "
                             "(or set both start_time and end_time)")
        moment = capture.parse_time(scheduled, "scheduled_time")
        window = (moment + capture.parse_offset(setting(environ, "window_start_offset"), "window_start_offset"),
                  moment + capture.parse_offset(setting(environ, "window_end_offset"), "window_end_offset"))
    if not window[0] < window[1]:
        raise InputError("the window %s..%s is empty: its start must precede its end" % window)
    if window[1] - window[0] > dt.timedelta(days=31):
        raise InputError("the window %s..%s is longer than 31 days" % window)
    return window


def _events(environ, uri_name, source_name, window, s3_factory, under_variants):
    uri = setting(environ, uri_name)
    if uri:
        try:
            client = s3_factory()
        except ImportError:
            raise InputError("%s is set but boto3 is not importable in this image; use the SageMaker "
                             "scikit-learn image, or give the data as a ProcessingInput (%s)" % (uri_name, source_name))
        bucket, keys = capture.s3_hour_keys(client, uri, window, under_variants)
        return capture.s3_events(client, bucket, keys, window), len(keys)
    source = setting(environ, source_name)
    if not os.path.isdir(source):
        raise InputError("%s=%s: no such folder, and %s is not set" % (source_name, source, uri_name))
    files = capture.local_files(source, window)
    return capture.local_events(files, window), len(files)


def _file(environ, name):
    """The file a setting names: an explicit path must exist; the default path is used when it exists."""
    explicit = environ.get(name)
    if explicit:
        if not os.path.isfile(explicit):
            raise InputError("%s=%s: no such file; fix the job's environment or its ProcessingInputs" % (name, explicit))
        return explicit
    default = CONTRACT[name][0]
    return default if os.path.isfile(default) else None


def run_job(environ=None, s3_factory=None, publisher=None, log=print, now=None):
    """One scheduled analysis; returns (exit status, message). Injectable: environment, S3 client, metrics."""
    environ = os.environ if environ is None else environ
    now = now or (lambda: dt.datetime.now(dt.timezone.utc))
    region = environ.get("AWS_REGION")
    if s3_factory is None:
        def s3_factory():
            import boto3  # in the SageMaker scikit-learn image

            return boto3.client("s3", region_name=region)
    analysis = setting(environ, "analysis_type")
    if analysis in ("BASELINE_DATA_QUALITY", "BASELINE_MODEL_QUALITY"):
        return run_baseline(environ, analysis, log)
    if analysis not in ("DATA_QUALITY", "MODEL_QUALITY"):
        raise InputError("analysis_type=%r: must be DATA_QUALITY, MODEL_QUALITY, BASELINE_DATA_QUALITY or "
                         "BASELINE_MODEL_QUALITY" % analysis)
    publishing = setting(environ, "publish_cloudwatch_metrics")
    if publishing not in ("Enabled", "Disabled"):
        raise InputError("publish_cloudwatch_metrics=%r: must be Enabled or Disabled" % publishing)
    window = window_of(environ)
    out = setting(environ, "output_path")
    dims = dimensions(setting(environ, "sagemaker_endpoint_name"), setting(environ, "sagemaker_monitoring_schedule_name"))
    events, files = _events(environ, "capture_s3_uri", "dataset_source", window, s3_factory, True)
    log("analyzer: %s, window %s..%s, %d capture file(s)" % (analysis, _iso(window[0]), _iso(window[1]), files))
    if publishing == "Enabled" and window[1] < now() - METRICS_MAX_AGE:
        log("analyzer: the window ended more than 14 days ago, older than CloudWatch accepts data points: "
            "metrics are not published")
        publishing = "Disabled"
    if publishing == "Enabled" and publisher is None:
        try:
            publisher = CloudWatchPublisher(region=region)
        except ImportError:
            log("analyzer: boto3 is not importable in this image: CloudWatch metrics are not published")
            publishing = "Disabled"
    if analysis == "DATA_QUALITY":
        result = run.check_data_quality(
            events, out, _file(environ, "baseline_statistics"), _file(environ, "baseline_constraints"),
            _file(environ, "record_preprocessor_script"), logging.getLogger("analyzer.preprocessor"))
        count = len(result.violations)
        if publishing == "Enabled":
            run.publish_data_quality(result, publisher, setting(environ, "metrics_namespace") or DATA_METRICS_NAMESPACE,
                                     dims, window[1])
        summary = "%d records, %d rows" % (result.records, result.profile.rows)
    else:
        problem_type = setting(environ, "problem_type")
        if not problem_type:
            raise InputError("problem_type is not set: BinaryClassification, MulticlassClassification or Regression")
        scheduled = setting(environ, "scheduled_time")
        truth_end = (capture.parse_time(scheduled, "scheduled_time") if scheduled else window[1]) + capture.parse_offset(
            setting(environ, "ground_truth_end_offset"), "ground_truth_end_offset")
        truth, _ = _events(environ, "ground_truth_s3_uri", "ground_truth_source", (window[0], max(truth_end, window[1])),
                           s3_factory, False)
        threshold = _threshold(environ)
        statistics, violations = run.check_model_quality(
            events, truth, out, problem_type,
            _file(environ, "baseline_constraints"), setting(environ, "inference_attribute"),
            setting(environ, "probability_attribute"), threshold)
        count = len(violations)
        if publishing == "Enabled":
            run.publish_model_quality(statistics, violations, problem_type, publisher,
                                      setting(environ, "metrics_namespace") or MODEL_METRICS_NAMESPACE, dims, window[1])
        summary = "%d labelled predictions" % statistics["dataset"]["item_count"]
    status = "CompletedWithViolations" if count else "Completed"
    return EXIT_OK, "%s: %d violation(s); %s; window %s..%s" % (status, count, summary, _iso(window[0]), _iso(window[1]))


def _threshold(environ):
    try:
        return float(setting(environ, "probability_threshold_attribute"))
    except ValueError:
        raise InputError("probability_threshold_attribute=%r: not a number"
                         % setting(environ, "probability_threshold_attribute"))


def run_baseline(environ, analysis, log):
    """A baselining job: statistics.json and suggested constraints.json of a CSV dataset."""
    dataset = setting(environ, "baseline_dataset")
    header = str(setting(environ, "dataset_header")).lower()
    if header not in ("true", "false"):
        raise InputError("dataset_header=%r: must be true or false" % header)
    out = setting(environ, "output_path")
    log("analyzer: %s of %s" % (analysis, dataset))
    if analysis == "BASELINE_DATA_QUALITY":
        statistics, _ = run.baseline(dataset, out, header == "true")
        return EXIT_OK, "Completed: baseline of %d rows, %d columns" % (
            statistics["dataset"]["item_count"], len(statistics["features"]))
    label = setting(environ, "ground_truth_attribute")
    if not label:
        raise InputError("ground_truth_attribute is not set: name the label column of the dataset")
    statistics, _ = run.baseline_model_quality(
        dataset, out, setting(environ, "problem_type"), label, setting(environ, "inference_attribute"),
        setting(environ, "probability_attribute"), header == "true", _threshold(environ))
    return EXIT_OK, "Completed: model-quality baseline of %d rows" % statistics["dataset"]["item_count"]


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main(environ=None, s3_factory=None, publisher=None, message_path=EXIT_MESSAGE, now=None):
    """Run the job; print and record one line; return the exit status."""
    if not logging.getLogger().handlers:  # the pre-processor's logger reaches the job's log (stdout)
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code, message = run_job(environ, s3_factory, publisher, now=now)
    except InputError as exc:
        code, message = exc.exit_code, "Failed: %s" % exc
    except Exception as exc:  # noqa: BLE001 - one line in the job's ExitMessage beats a traceback nobody reads
        code, message = EXIT_FAILED, "Failed: unexpected %s: %s" % (type(exc).__name__, exc)
    print(message)
    try:
        os.makedirs(os.path.dirname(message_path), exist_ok=True)
        with open(message_path, "w", encoding="utf-8") as stream:  # ExitMessage: its first 1 KB, UTF-8
            stream.write(message.encode("utf-8")[:1024].decode("utf-8", "ignore"))
    except OSError:
        pass
    sys.stdout.flush()
    return code
