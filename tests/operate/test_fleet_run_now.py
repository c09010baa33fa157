"""`make run-now ENV=staging ENDPOINT=key` (mmtool.operate.runnow) for a fleet: that endpoint's schedule, job
definition, capture prefix and names; ENDPOINT= required for a fleet of more than one; an existing endpoint that
is not ready is not started. moto server plus the Stubber for the schedule calls moto lacks (monitoring_env.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from mmtool.generate.synth import stack_tags
from mmtool.errors import UsageError
from mmtool.operate import facts, runnow

from .fleet_env import FRAUD, deploy_fleet, job_definition, put_capture, staging_params
from .monitoring_env import clients, console, described, execution, now_utc, sagemaker_client, schedule_arn, top_of_hour
from .test_run_now import FakeClock

H = timedelta(hours=1)


def call(aws, params, stub, sagemaker, now, **options):
    warned: list[str] = []
    screen = console()
    clock = FakeClock()
    with stub:
        code = runnow.run_now(params, runnow.Options(**options), clients(aws, sagemaker), now=lambda: now,
                              console=screen, progress_console=console(), out=lambda _: None, warn=warned.append,
                              clock=clock, sleep=clock.sleep)
    stub.assert_no_pending_responses()
    return code, warned, screen.file.getvalue()


def test_a_run_of_one_fleet_endpoint_uses_its_schedule_definition_prefix_and_names(aws, tmp_path):
    deploy_fleet(aws)
    now = now_utc()
    put_capture(aws, "upsell", "churn-staging-upsell", top_of_hour(now), 3)
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    regular = "churn-staging-upsell-dq"
    name = f"churn-staging-upsell-dq-now-{now:%Y%m%d%H%M%S}"
    definition = job_definition("upsell")
    stub.add_response("describe_monitoring_schedule", described(regular, now - 24 * H, job_definition=definition,
                                                                endpoint="churn-staging-upsell"),
                      {"MonitoringScheduleName": regular})
    stub.add_response("create_monitoring_schedule", {"MonitoringScheduleArn": schedule_arn(name)}, {
        "MonitoringScheduleName": name,
        "MonitoringScheduleConfig": {
            "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT0H"},
            "MonitoringJobDefinitionName": definition, "MonitoringType": "DataQuality"},
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(stack_tags(params).items())],
    })
    done = execution(name, now, "Completed", job="model-monitoring-job-1")
    listing = {"MonitoringScheduleName": name, "SortBy": "ScheduledTime", "SortOrder": "Descending", "MaxResults": 1}
    stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": [done]}, listing)
    stub.add_response("describe_monitoring_schedule", described(name, now, expression="NOW", job_definition=definition,
                                                                endpoint="churn-staging-upsell"),
                      {"MonitoringScheduleName": name})
    stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": [done]}, listing)
    stub.add_response("delete_monitoring_schedule", {}, {"MonitoringScheduleName": name})

    code, warned, screen = call(aws, params, stub, sagemaker, now, endpoint="upsell")

    assert code == 0, screen
    assert warned[:2] == [
        f"data-quality: job definition {definition} (from schedule {regular})",
        "capture: 3 file(s) in the window's hour folders under "
        "s3://churn-staging-bucket-4d5e6f/datacapture/upsell/churn-staging-upsell/AllTraffic/",
    ]
    assert warned[-1] == f"deleted the one-time schedule {name}"


def test_a_fleet_of_more_than_one_needs_the_endpoint(aws, tmp_path):
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    with pytest.raises(UsageError) as error:
        call(aws, params, stub, sagemaker, now_utc())
    assert str(error.value) == ("run-now: params/staging.yaml is a fleet of 3 endpoints (churn, upsell, fraud): say which "
                                "one, e.g. `make run-now ENV=staging ENDPOINT=churn` (--endpoint churn)")
    with pytest.raises(UsageError, match="has no endpoint 'nope' \\(endpoints: churn, upsell, fraud\\)"):
        call(aws, params, stub, sagemaker, now_utc(), endpoint="nope")


def test_an_existing_endpoint_that_is_not_ready_is_not_started(aws, tmp_path):
    deploy_fleet(aws)
    now = now_utc()
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    regular = "churn-staging-fraud-dq"
    stub.add_response("describe_monitoring_schedule", described(regular, now - 24 * H, job_definition=job_definition("fraud"),
                                                                endpoint=FRAUD), {"MonitoringScheduleName": regular})
    with pytest.raises(runnow.RunNowFailed) as error:
        call(aws, params, stub, sagemaker, now, endpoint="fraud")
    text = str(error.value)
    assert text.startswith("not started: the job would fail.\n")
    assert f"endpoint {FRAUD} (endpoints.fraud): Data Capture is off" in text
    assert "fix: run `make adopt ENV=staging ENDPOINT=fraud`" in text


def test_an_undeployed_fleet_monitor_names_the_endpoints_setting_and_deploy(aws, tmp_path):
    deploy_fleet(aws)
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    stub.add_client_error("describe_monitoring_schedule", "ResourceNotFound", "no such schedule",
                          expected_params={"MonitoringScheduleName": "churn-staging-upsell-mq"})
    with pytest.raises(runnow.RunNowFailed) as error:
        call(aws, params, stub, sagemaker, now_utc(), endpoint="upsell", monitor="model-quality")
    assert str(error.value) == (
        "the model-quality monitor of churn-staging-upsell (endpoints.upsell) is not deployed: no schedule "
        "churn-staging-upsell-mq and no output ModelQualityJobDefinitionName of stack churn-staging-upsell-monitoring in "
        "eu-west-1.\nNext: set endpoints.upsell.monitoring.model_quality.enabled: true in params/staging.yaml and run "
        "`make deploy ENV=staging ENDPOINT=upsell` (or pick another MONITOR=).")


def test_fleet_codes_are_the_templates_and_one_time_names_fit():
    from templates import monitoring
    from tests.conftest import REPO
    from mmtool.config.loader import load_params

    # The oracle: the fleet schedule names the monitoring template gives (MonitoringScheduleName's Fleet branch).
    template = json.loads(monitoring.build(load_params(REPO / "params" / "staging.yaml", REPO)).finish().to_json())
    built = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::MonitoringSchedule":
            config = resource["Properties"]["MonitoringScheduleConfig"]
            fleet_name = resource["Properties"]["MonitoringScheduleName"]["Fn::If"][1]["Fn::Sub"]
            built[config["MonitoringType"]] = fleet_name.rsplit("-", 1)[1]
    assert {facts.MONITORS[m]: code for m, code in runnow.FLEET_CODES.items()} == built
    now = datetime(2026, 11, 24, 10, 25, 7, tzinfo=timezone.utc)
    assert runnow.fleet_one_time_name("churn-staging-upsell", "data-quality", now) == \
        "churn-staging-upsell-dq-now-20261124102507"
    longest = "p" * 20 + "-" + "e" * 10 + "-" + "k" * 20
    for monitor in runnow.FLEET_CODES:
        assert len(runnow.fleet_one_time_name(longest, monitor, now)) <= 63
