"""`make run-now` on the processing engine (mmtool.operate.runnow_processing; docs/engine.md, Operating): the
schedule's own CreateProcessingJob request read from the moto server (GetSchedule), filled in as EventBridge
Scheduler fills it, sent with the caller's credentials (moto's request recorder shows exactly what it received), the
job followed to its end. moto's jobs are Completed at once; a failed job's ExitMessage comes from the Stubber."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from mmtool.config.loader import load_params
from mmtool.operate import runnow
from mmtool.operate.runnow_processing import fill_request, run_now_on_engine

from .conftest import deploy_foundation_and_network, recorded, scratch
from .monitoring_env import clients, console, deploy_endpoint, now_utc, put_capture, top_of_hour
from .processing_env import create_schedule, job_description, jobs_stubbed
from .test_processing_status import GROUP, NAME, PREFIX, request

H = timedelta(hours=1)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def call(server, tmp_path, sagemaker, now, *, params_engine="processing", **options):
    paths = scratch(tmp_path / "repo", **{"monitoring.engine": params_engine})
    params = load_params(paths.params / "dev.yaml", paths.root)
    warned, printed, clock = [], [], Clock()
    screen, progress = console(), console()
    code = run_now_on_engine(params, runnow.Options(**options), clients(server, sagemaker), now=lambda: now,
                          console=screen, progress_console=progress, out=printed.append, warn=warned.append,
                          clock=clock, sleep=clock.sleep)
    return code, warned, screen.file.getvalue(), progress.file.getvalue()


def deployed(server):
    deploy_foundation_and_network(server)
    deploy_endpoint(server)
    create_schedule(server, group=GROUP, name=NAME, request=request())


def test_fill_request_is_what_the_scheduler_sends():
    now = now_utc()
    filled = fill_request(request(), "0b7d7a38-52a5-4c0e-8f5c-2a3b4c5d6e7f", now, 3)
    assert filled["ProcessingJobName"] == f"{PREFIX}0b7d7a38-52a5-4c0e-8f5c-2a3b4c5d6e7f"
    assert len(filled["ProcessingJobName"]) <= 63
    assert filled["Environment"]["scheduled_time"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (filled["Environment"]["window_start_offset"], filled["Environment"]["window_end_offset"]) == ("-PT3H", "-PT0H")
    assert "<aws.scheduler" not in json.dumps(filled)


def test_run_now_starts_the_schedules_request_and_follows_the_job(aws, tmp_path):
    import boto3

    deployed(aws)
    now = now_utc()
    put_capture(aws, top_of_hour(now), 2)
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=aws.url)

    code, warned, screen, progress = call(aws, tmp_path, sagemaker, now)

    assert code == 0, (warned, screen)
    [sent] = recorded(aws, "SageMaker.CreateProcessingJob")
    expected = json.loads(json.dumps(request()).replace("<aws.scheduler.scheduled-time>", now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    execution_id = sent["ProcessingJobName"][len(PREFIX):]
    assert sent["ProcessingJobName"].startswith(PREFIX) and UUID.match(execution_id)
    expected["ProcessingJobName"] = sent["ProcessingJobName"]
    assert sent == expected  # the schedule's own request, only the scheduler's two attributes filled in
    assert f"{sent['ProcessingJobName']}: Completed" in progress
    assert f"Processing jobs of {NAME}" in screen and "Completed" in screen


def test_a_failed_job_is_explained_and_exits_1(aws, tmp_path, monkeypatch):
    import uuid

    deployed(aws)
    now = now_utc()
    put_capture(aws, top_of_hour(now), 2)
    execution = "6f1c2f2e-0d55-4b8e-9a4e-1f0c8f3b2a11"
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(execution))  # the scheduler's id, fixed for the stub
    sagemaker, stub = jobs_stubbed(aws)
    stub.operations = frozenset({"DescribeProcessingJob"})  # CreateProcessingJob reaches moto
    message = ("Failed: no record in the window became a row (4 records read, 4 dropped by the pre-processor): the "
               "run has no data")
    failed = job_description(request(), execution, now, "Failed", exit_message=message,
                             failure_reason="AlgorithmError: see the job logs")
    running = dict(failed, ProcessingJobStatus="InProgress")
    running.pop("ProcessingEndTime")
    for answer in (running, failed, failed):  # two polls, then the failure's details
        stub.add_response("describe_processing_job", answer, {"ProcessingJobName": f"{PREFIX}{execution}"})

    with stub:
        code, warned, screen, progress = call(aws, tmp_path, sagemaker, now)

    stub.assert_no_pending_responses()
    assert code == 1
    assert [line.split()[-1] for line in progress.splitlines()] == ["InProgress", "Failed"]
    assert "the run has no data" in screen and "fix:" in screen
    [sent] = recorded(aws, "SageMaker.CreateProcessingJob")
    assert sent["ProcessingJobName"] == f"{PREFIX}{execution}"


def test_refused_without_capture_in_the_window(aws, tmp_path):
    import boto3

    deployed(aws)
    now = now_utc()
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=aws.url)
    with pytest.raises(runnow.RunNowFailed, match="not started: the job would fail"):
        call(aws, tmp_path, sagemaker, now)
    assert recorded(aws, "SageMaker.CreateProcessingJob") == []


def test_a_monitor_not_on_the_engine_is_refused(aws, tmp_path):
    import boto3

    deployed(aws)
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=aws.url)
    with pytest.raises(runnow.RunNowFailed, match="does not run on the processing engine"):
        call(aws, tmp_path, sagemaker, now_utc(), params_engine="model-monitor", engine="processing")
