"""`make run-now ENV=staging ENDPOINT=sc-<name>` of a monitor launched from Service Catalog on the processing engine
(mmtool.operate.runnow_launch; docs/operating.md): the launch found through its stack as `make status` finds it, its
schedule's own CreateProcessingJob request filled in as EventBridge Scheduler fills it and sent to the moto server
(its request recorder shows what it received), the job followed to its end. The product launched on moto as in
test_catalog_launch_status.py."""

from __future__ import annotations

import json
import re

import pytest

from mmtool.operate import runnow
from mmtool.operate.runnow_processing import run_now_on_engine

from .conftest import client, recorded
from .monitoring_env import clients, console, now_utc, top_of_hour
from .test_catalog_launch_status import SCHEDULE, launched

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def call(aws, params, now, **options):
    import boto3

    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=aws.url)
    warned, printed = [], []
    screen, progress = console(), console()
    code = run_now_on_engine(params, runnow.Options(**options), clients(aws, sagemaker), now=lambda: now,
                             console=screen, progress_console=progress, out=printed.append, warn=warned.append,
                             clock=lambda: 0.0, sleep=lambda _: None)
    return code, warned, printed, progress.file.getvalue()


def put_capture(aws, bucket, hour):
    """A capture file where the launch's endpoint writes (its CaptureDestination output, then <endpoint>/<variant>)."""
    client("s3", aws).put_object(
        Bucket=bucket, Key=f"datacapture/sc-upsell-v3/upsell-v3-endpoint/AllTraffic/{hour:%Y/%m/%d/%H}/00.jsonl",
        ServerSideEncryption="aws:kms", Body=b'{"captureData": {}}\n')


def test_run_now_of_a_launch_starts_its_schedules_request_and_follows_the_job(aws, tmp_path):
    params, bucket, prefix = launched(aws, tmp_path)
    now = now_utc()
    put_capture(aws, bucket, top_of_hour(now))
    schedule = json.loads(client("scheduler", aws).get_schedule(GroupName="churn-staging", Name=SCHEDULE)["Target"]["Input"])

    code, warned, printed, progress = call(aws, params, now, endpoint="sc-upsell-v3", window_hours=1, json_output=True)

    assert code == 0, warned
    [sent] = recorded(aws, "SageMaker.CreateProcessingJob")
    assert sent["ProcessingJobName"].startswith(prefix) and UUID.match(sent["ProcessingJobName"][len(prefix):])
    expected = json.loads(json.dumps(schedule).replace("<aws.scheduler.scheduled-time>",
                                                       now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    expected["ProcessingJobName"] = sent["ProcessingJobName"]
    assert sent == expected  # the launch's own request: its role, its capture, its reports prefix
    assert sent["RoleArn"].endswith(":role/churn-staging-sc-upsell-v3-processing")
    assert f"{sent['ProcessingJobName']}: Completed" in progress
    document = json.loads(printed[0])
    assert (document["key"], document["stack"]) == ("sc-upsell-v3", "SC-123456789012-pp-launch2")
    assert [(e["processing_job"], e["status"]) for e in document["schedule"]["executions"]] == [
        (sent["ProcessingJobName"], "Completed")]


def test_a_launch_without_capture_in_the_window_is_not_started(aws, tmp_path):
    params, _, _ = launched(aws, tmp_path)
    with pytest.raises(runnow.RunNowFailed, match="not started: no Data Capture file of upsell-v3-endpoint under "
                                                  r"s3://[^ ]+/datacapture/sc-upsell-v3/upsell-v3-endpoint/AllTraffic/"):
        call(aws, params, now_utc(), endpoint="sc-upsell-v3", window_hours=1)
    assert recorded(aws, "SageMaker.CreateProcessingJob") == []


def test_a_model_monitor_launch_or_an_unknown_name_is_refused_with_the_reason(aws, tmp_path):
    params, _, _ = launched(aws, tmp_path)
    for key in ("sc-fraud-v2", "sc-nobody"):  # launched on Model Monitor; not launched at all
        with pytest.raises(runnow.RunNowFailed, match=f"{key}: no launch of the Service Catalog product "
                                                      "churn-staging-endpoint-monitoring on the processing engine"):
            call(aws, params, now_utc(), endpoint=key, force=True)
    with pytest.raises(runnow.RunNowInputError, match="data quality on the processing engine only"):
        call(aws, params, now_utc(), endpoint="sc-upsell-v3", monitor="model-quality")
    assert recorded(aws, "SageMaker.CreateProcessingJob") == []


def test_the_command_takes_the_launchs_key_as_its_endpoint(aws, tmp_path, capsys, monkeypatch):
    """`make run-now ENV=staging ENDPOINT=sc-<name>`: through the CLI and its lock (a claim of the launch's key)."""
    import boto3

    from mmtool.cli import main
    from mmtool.config.workspace import Paths

    launched(aws, tmp_path)
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=aws.url)
    monkeypatch.setattr("mmtool.operate.awsenv.connect", lambda params, **_: clients(aws, sagemaker))

    assert main(["run-now", "--env", "staging", "--endpoint", "sc-nobody"], Paths(tmp_path / "repo")) == 1
    err = capsys.readouterr().err
    assert "sc-nobody: no launch of the Service Catalog product churn-staging-endpoint-monitoring" in err
    assert "Traceback" not in err
