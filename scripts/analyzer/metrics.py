"""The CloudWatch metrics Model Monitor publishes, plus one count of violations per run.

Names and dimensions as AWS documents them
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html) and as the
SageMaker Python SDK's dashboards query them (`src/sagemaker/dashboard/data_quality_dashboard.py`):
namespace `aws/sagemaker/Endpoints/data-metrics` (model quality: `.../model-metrics`), dimensions
`Endpoint` and `MonitoringSchedule`. The namespace is a setting (docs/engine.md).

Per data-quality feature `<f>`: `feature_data_<f>` (a statistic set: SampleCount, Sum, Minimum,
Maximum, so CloudWatch's Average is the mean; numerical columns only), `feature_non_null_<f>`,
`feature_null_<f>`, `feature_completeness_<f>`, `feature_estimated_unique_values_<f>`,
`feature_{fractional,integral,string,boolean,unknown}_counts_<f>` and, when the drift check ran,
`feature_baseline_drift_<f>`. Per model-quality run: one metric per scalar metric of the problem type.
Every run: `constraint_violations` (Count), the number of violations it wrote.
"""

DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
VIOLATIONS_METRIC = "constraint_violations"
_BATCH = 500  # PutMetricData takes up to 1000 items per call


def dimensions(endpoint, schedule):
    found = []
    if endpoint:
        found.append({"Name": "Endpoint", "Value": endpoint})
    if schedule:
        found.append({"Name": "MonitoringSchedule", "Value": schedule})
    return found


def data_quality_metrics(profile, drift, mapping_names=None):
    """MetricData items (without Dimensions/Timestamp) for a profiled dataset."""
    items = []
    rows = profile.rows
    for name in sorted(profile.columns):
        column = profile.columns[name]
        feature = (mapping_names or {}).get(name, name)
        if column.numeric_count:
            items.append({"MetricName": "feature_data_" + feature, "Unit": "None", "StatisticValues": {
                "SampleCount": float(column.numeric_count), "Sum": column.sum,
                "Minimum": column.minimum, "Maximum": column.maximum}})
        present = column.present
        items.append({"MetricName": "feature_non_null_" + feature, "Value": float(present), "Unit": "Count"})
        items.append({"MetricName": "feature_null_" + feature, "Value": float(rows - present), "Unit": "Count"})
        items.append({"MetricName": "feature_completeness_" + feature,
                      "Value": present / float(rows) if rows else 0.0, "Unit": "None"})
        items.append({"MetricName": "feature_estimated_unique_values_" + feature,
                      "Value": column.distinct_count(), "Unit": "Count"})
        kinds = column.kinds
        for label, count in (("fractional", kinds["Fractional"]), ("integral", kinds["Integral"]),
                             ("string", kinds["String"]), ("boolean", kinds["Boolean"]),
                             ("unknown", rows - present)):
            items.append({"MetricName": "feature_%s_counts_%s" % (label, feature), "Value": float(count),
                          "Unit": "Count"})
        if feature in drift:
            items.append({"MetricName": "feature_baseline_drift_" + feature, "Value": float(drift[feature]),
                          "Unit": "None"})
    return items


def model_quality_metrics(metrics):
    items = []
    for name in sorted(metrics):
        value = metrics[name]
        if isinstance(value, dict) and isinstance(value.get("value"), (int, float)) and value["value"] == value["value"]:
            items.append({"MetricName": name, "Value": float(value["value"]), "Unit": "None"})
    return items


def violations_metric(count):
    return {"MetricName": VIOLATIONS_METRIC, "Value": float(count), "Unit": "Count"}


class CloudWatchPublisher:
    """Publishes through boto3's CloudWatch client (`put_metric_data`), in batches."""

    def __init__(self, client=None, region=None):
        if client is None:
            import boto3  # the SageMaker scikit-learn image has boto3; imported only when publishing

            client = boto3.client("cloudwatch", region_name=region)
        self.client = client

    def __call__(self, namespace, items):
        for start in range(0, len(items), _BATCH):
            self.client.put_metric_data(Namespace=namespace, MetricData=items[start:start + _BATCH])


MAX_NAME = 255  # PutMetricData's MetricName length limit (CloudWatch API reference, MetricDatum)


def publish(publisher, namespace, items, dims, timestamp):
    """Stamp items with the dimensions and time, then hand them to `publisher(namespace, items)`.

    A metric whose name would be longer than CloudWatch accepts (a very long feature name) is left out
    rather than failing the whole call."""
    stamped = [dict(item, Dimensions=dims, Timestamp=timestamp) for item in items if len(item["MetricName"]) <= MAX_NAME]
    if stamped:
        publisher(namespace, stamped)
    return stamped
