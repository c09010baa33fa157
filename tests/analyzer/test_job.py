"""The processing job's entry: the window from the scheduled time, the hourly capture layout read from S3,
the outputs, the ExitMessage, and the CloudWatch metrics, against the real moto server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from scripts.analyzer import job
from scripts.analyzer.metrics import CloudWatchPublisher

from .conftest import BASELINE, CAPTURE, REGION, REPO, client

BUCKET = "churn-dev-bucket-1x2y3z"
ENDPOINT = "churn-dev"
SCHEDULE = "churn-dev-data-quality"
NOW = dt.datetime(2026, 11, 24, 10, 7, tzinfo=dt.timezone.utc)  # the job runs a few minutes after its slot


def records(hour: str, count: int, offset: int = 0) -> str:
    """`count` records of the SDK's CSV capture sample, stamped inside `hour` (yyyy-mm-ddThh)."""
    lines = (CAPTURE / "capture.jsonl").read_text().splitlines()
    out = []
    for i in range(count):
        record = json.loads(lines[(i + offset) % len(lines)])
        record["eventMetadata"]["inferenceTime"] = "%s:%02d:%02dZ" % (hour, i % 60, (i * 7) % 60)
        record["eventMetadata"]["eventId"] = "%s-%d" % (hour, i)
        out.append(json.dumps(record))
    return "\n".join(out) + "\n"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "scheduled_time": "2026-11-24T10:00:00Z",
        "capture_s3_uri": f"s3://{BUCKET}/datacapture/{ENDPOINT}",
        "baseline_statistics": str(BASELINE / "data-quality-statistics.json"),
        "baseline_constraints": str(BASELINE / "data-quality-constraints.json"),
        "record_preprocessor_script": str(REPO / "scripts" / "record_preprocessor.py"),
        "output_path": str(tmp_path / "output"),
        "sagemaker_endpoint_name": ENDPOINT,
        "sagemaker_monitoring_schedule_name": SCHEDULE,
        "AWS_REGION": REGION,
        **extra,
    }


def upload_hours(s3) -> None:
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    prefix = f"datacapture/{ENDPOINT}/AllTraffic"
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/2026/11/24/08/10-00-000-a.jsonl", Body=records("2026-11-24T08", 30))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/2026/11/24/09/10-00-000-b.jsonl", Body=records("2026-11-24T09", 40))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/2026/11/24/09/40-00-000-c.jsonl", Body=records("2026-11-24T09", 4, 5))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/2026/11/24/10/00-10-000-d.jsonl", Body=records("2026-11-24T10", 25))
    s3.put_object(Bucket=BUCKET, Key=f"datacapture/{ENDPOINT}/Shadow/2026/11/24/09/00-00-000-e.jsonl",
                  Body=records("2026-11-24T09", 6))


def test_a_scheduled_run_reads_its_hour_from_s3_writes_its_files_and_publishes_metrics(aws, tmp_path):
    s3, cloudwatch = client("s3", aws), client("cloudwatch", aws)
    upload_hours(s3)
    message = tmp_path / "message"
    code = job.main(environment(tmp_path), s3_factory=lambda: s3, publisher=CloudWatchPublisher(cloudwatch),
                    message_path=str(message), now=lambda: NOW)
    assert code == 0
    statistics = json.loads((tmp_path / "output" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 40 + 4 + 6  # hour 09 of both variants; not 08, not 10
    violations = json.loads((tmp_path / "output" / "constraint_violations.json").read_text())["violations"]
    assert message.read_text().startswith("CompletedWithViolations: %d violation(s); 50 records" % len(violations))
    assert "window 2026-11-24T09:00:00Z..2026-11-24T10:00:00Z" in message.read_text()

    metrics = cloudwatch.list_metrics(Namespace="aws/sagemaker/Endpoints/data-metrics")["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert {"feature_baseline_drift__c0", "feature_data__c0", "feature_non_null__c5", "feature_completeness__c1",
            "feature_integral_counts__c1", "constraint_violations"} <= names
    assert all(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]) ==
               [("Endpoint", ENDPOINT), ("MonitoringSchedule", SCHEDULE)] for m in metrics)
    count = cloudwatch.get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/data-metrics", MetricName="constraint_violations",
        Dimensions=[{"Name": "Endpoint", "Value": ENDPOINT}, {"Name": "MonitoringSchedule", "Value": SCHEDULE}],
        StartTime=dt.datetime(2026, 11, 24, 9), EndTime=dt.datetime(2026, 11, 24, 11), Period=3600,
        Statistics=["Maximum"])["Datapoints"]
    assert [point["Maximum"] for point in count] == [float(len(violations))]


def test_metrics_can_be_switched_off_and_renamespaced(aws, tmp_path):
    s3 = client("s3", aws)
    upload_hours(s3)
    published = []
    env = environment(tmp_path, publish_cloudwatch_metrics="Disabled")
    assert job.main(env, s3_factory=lambda: s3, publisher=lambda ns, items: published.append(ns),
                    message_path=str(tmp_path / "m"), now=lambda: NOW) == 0
    assert published == []
    env = environment(tmp_path, metrics_namespace="churn/analyzer", window_start_offset="-PT2H")
    assert job.main(env, s3_factory=lambda: s3, publisher=lambda ns, items: published.append((ns, len(items))),
                    message_path=str(tmp_path / "m"), now=lambda: NOW) == 0
    assert published[0][0] == "churn/analyzer"
    assert "80 records" in (tmp_path / "m").read_text()  # 08 and 09


def test_local_capture_folder_and_explicit_window(tmp_path):
    hour = tmp_path / "input" / ENDPOINT / "AllTraffic" / "2026" / "11" / "24" / "09"
    hour.mkdir(parents=True)
    (hour / "a.jsonl").write_text(records("2026-11-24T09", 12))
    env = environment(tmp_path, capture_s3_uri="", dataset_source=str(tmp_path / "input"), scheduled_time="",
                      start_time="2026-11-24T09:00:00Z", end_time="2026-11-24T09:30:00Z")
    assert job.main(env, publisher=lambda ns, items: None, message_path=str(tmp_path / "m"), now=lambda: NOW) == 0
    assert "12 records" in (tmp_path / "m").read_text()  # minutes 0-11, all before 09:30


@pytest.mark.parametrize("change, code, text", [
    ({"scheduled_time": ""}, 2, "scheduled_time is not set"),
    ({"window_start_offset": "one hour"}, 2, "window_start_offset='one hour'"),
    ({"analysis_type": "BIAS"}, 2, "analysis_type='BIAS'"),
    ({"capture_s3_uri": "", "dataset_source": "/nowhere"}, 2, "dataset_source=/nowhere: no such folder"),
    ({"scheduled_time": "2027-01-01T00:00:00Z"}, 1, "the run has no data"),
    ({"baseline_constraints": "/opt/nothing.json"}, 2, "baseline_constraints=/opt/nothing.json: no such file"),
])
def test_failures_are_one_line_in_the_exit_message(aws, tmp_path, change, code, text):
    s3 = client("s3", aws)
    upload_hours(s3)
    env = environment(tmp_path, **change)
    assert job.main(env, s3_factory=lambda: s3, publisher=lambda ns, items: None,
                    message_path=str(tmp_path / "m"), now=lambda: NOW) == code
    message = (tmp_path / "m").read_text()
    assert message.startswith("Failed: ") and text in message and "\n" not in message


def test_model_quality_run_joins_ground_truth_from_its_hour_folders(aws, tmp_path):
    s3 = client("s3", aws)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key=f"datacapture/{ENDPOINT}/AllTraffic/2026/11/24/09/a.jsonl",
                  Body=(CAPTURE / "capture.jsonl").read_text())
    s3.put_object(Bucket=BUCKET, Key="ground-truth/churn/2026/11/24/09/labels.jsonl",
                  Body=(CAPTURE / "actuals.jsonl").read_text())
    published = []
    env = environment(tmp_path, analysis_type="MODEL_QUALITY", problem_type="BinaryClassification",
                      probability_attribute="0", ground_truth_s3_uri=f"s3://{BUCKET}/ground-truth/churn",
                      baseline_constraints="")
    assert job.main(env, s3_factory=lambda: s3, publisher=lambda ns, items: published.append((ns, items)),
                    message_path=str(tmp_path / "m"), now=lambda: NOW) == 0, (tmp_path / "m").read_text()
    statistics = json.loads((tmp_path / "output" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 44
    namespace, items = published[0]
    assert namespace == "aws/sagemaker/Endpoints/model-metrics"
    assert {"accuracy", "auc", "f1", "constraint_violations"} <= {item["MetricName"] for item in items}


def test_without_boto3_the_analysis_still_runs_and_says_metrics_were_not_published(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "boto3", None)  # `import boto3` raises ImportError
    hour = tmp_path / "input" / ENDPOINT / "AllTraffic" / "2026" / "11" / "24" / "09"
    hour.mkdir(parents=True)
    (hour / "a.jsonl").write_text(records("2026-11-24T09", 5))
    env = environment(tmp_path, capture_s3_uri="", dataset_source=str(tmp_path / "input"))
    assert job.main(env, message_path=str(tmp_path / "m"), now=lambda: NOW) == 0
    assert "CloudWatch metrics are not published" in capsys.readouterr().out
    env = environment(tmp_path)
    assert job.main(env, message_path=str(tmp_path / "m"), now=lambda: NOW) == 2
    assert "capture_s3_uri is set but boto3 is not importable" in (tmp_path / "m").read_text()


def test_baselining_jobs_write_statistics_and_constraints(tmp_path):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "part-1.csv").write_text("label,score,city\n1,0.9,paris\n0,0.2,rome\n")
    (dataset / "part-2.csv").write_text("label,score,city\n1,0.4,paris\n0,0.1,oslo\n")
    env = {"analysis_type": "BASELINE_DATA_QUALITY", "baseline_dataset": str(dataset), "dataset_header": "true",
           "output_path": str(tmp_path / "dq")}
    assert job.main(env, message_path=str(tmp_path / "m"), now=lambda: NOW) == 0
    assert (tmp_path / "m").read_text() == "Completed: baseline of 4 rows, 3 columns"
    statistics = json.loads((tmp_path / "dq" / "statistics.json").read_text())
    assert [f["inferred_type"] for f in statistics["features"]] == ["String", "Integral", "Fractional"]
    assert (tmp_path / "dq" / "constraints.json").is_file()
    env = dict(env, analysis_type="BASELINE_MODEL_QUALITY", problem_type="BinaryClassification",
               ground_truth_attribute="label", probability_attribute="score", output_path=str(tmp_path / "mq"))
    assert job.main(env, message_path=str(tmp_path / "m"), now=lambda: NOW) == 0
    metrics = json.loads((tmp_path / "mq" / "statistics.json").read_text())["binary_classification_metrics"]
    assert metrics["accuracy"]["value"] == 0.75  # 0.4 < 0.5 predicts 0 for a 1
    assert "binary_classification_constraints" in json.loads((tmp_path / "mq" / "constraints.json").read_text())
    env["ground_truth_attribute"] = "target"
    assert job.main(env, message_path=str(tmp_path / "m"), now=lambda: NOW) == 2
    assert "no column target" in (tmp_path / "m").read_text()


def test_metrics_of_a_window_older_than_cloudwatch_accepts_are_not_published(tmp_path, capsys):
    hour = tmp_path / "input" / ENDPOINT / "AllTraffic" / "2026" / "11" / "24" / "09"
    hour.mkdir(parents=True)
    (hour / "a.jsonl").write_text(records("2026-11-24T09", 5))
    published = []
    env = environment(tmp_path, capture_s3_uri="", dataset_source=str(tmp_path / "input"))
    later = NOW + dt.timedelta(days=15)
    assert job.main(env, publisher=lambda ns, items: published.append(ns), message_path=str(tmp_path / "m"),
                    now=lambda: later) == 0
    assert published == [] and "metrics are not published" in capsys.readouterr().out


def test_a_capture_uri_naming_one_variant_reads_only_that_variant(aws, tmp_path):
    s3 = client("s3", aws)
    upload_hours(s3)
    env = environment(tmp_path, capture_s3_uri=f"s3://{BUCKET}/datacapture/{ENDPOINT}/AllTraffic/")
    assert job.main(env, s3_factory=lambda: s3, publisher=lambda ns, items: None, message_path=str(tmp_path / "m"),
                    now=lambda: NOW) == 0
    assert "44 records" in (tmp_path / "m").read_text()  # 40 + 4 of AllTraffic's hour 09, not Shadow's 6


def test_metric_names_longer_than_cloudwatch_accepts_are_left_out():
    from scripts.analyzer.metrics import publish

    sent = []
    items = [{"MetricName": "feature_null_" + "x" * 242, "Value": 1.0}, {"MetricName": "feature_null_" + "y" * 243,
                                                                        "Value": 1.0}]
    publish(lambda ns, batch: sent.extend(batch), "ns", items, [], NOW)
    assert [len(item["MetricName"]) for item in sent] == [255]
