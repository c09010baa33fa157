"""`make status` of a fleet (params/staging.yaml: churn and upsell created, fraud existing) against the moto
server, schedules and executions through the Stubber (moto has none; see monitoring_env.py): the table endpoint ×
monitor, the details per endpoint, the per-endpoint JSON, the existing endpoint's capture check, ENDPOINT=."""

from __future__ import annotations

import functools
import json
from datetime import timedelta

import pytest

from mmtool.cli import main
from mmtool.operate import status

from .fleet_env import FRAUD, deploy_fleet, job_definition, put_capture, scratch_staging, staging_params
from .monitoring_env import (GapStubber, clients, console, described, execution, now_utc, run_status, sagemaker_client,
                             summary, top_of_hour)

H = timedelta(hours=1)


def dq(key: str) -> str:
    return f"churn-staging-{key}-dq"


def endpoint_of(key: str) -> str:
    return FRAUD if key == "fraud" else f"churn-staging-{key}"


def expect(stub: GapStubber, now, keys=("churn", "upsell", "fraud"), *, discovered=("churn", "upsell", "fraud")):
    """Discovery (by name prefix, then by each endpoint), then each endpoint's schedule: churn's last run
    completed, upsell's failed without data, fraud's has not run yet."""
    top = top_of_hour(now)
    summaries = {k: summary(dq(k), now - 24 * H, job_definition=job_definition(k), endpoint=endpoint_of(k))
                 for k in discovered}
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": list(summaries.values())},
                      {"NameContains": "churn-staging-"})
    for key in keys:
        stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": [summaries[key]]},
                          {"EndpointName": endpoint_of(key)})
    runs = {
        "churn": [execution(dq("churn"), top, "Completed")],
        "upsell": [execution(dq("upsell"), top, "Failed", failure_reason="AlgorithmError: Job inputs had no data")],
        "fraud": [],
    }
    for key in keys:
        stub.add_response("describe_monitoring_schedule", described(
            dq(key), now - 24 * H, job_definition=job_definition(key), endpoint=endpoint_of(key)),
            {"MonitoringScheduleName": dq(key)})
        stub.add_response("list_monitoring_executions", {"MonitoringExecutionSummaries": runs[key]},
                          {"MonitoringScheduleName": dq(key), "SortBy": "ScheduledTime", "SortOrder": "Descending",
                           "MaxResults": 5})


run = functools.partial(run_status, hours=2, width=240)


def test_fleet_status_as_json_has_one_entry_per_endpoint_with_its_own_names(aws, tmp_path):
    deploy_fleet(aws)
    now = now_utc()
    put_capture(aws, "churn", "churn-staging-churn", top_of_hour(now), 2)
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect(stub, now)

    code, document = run(aws, params, stub, sagemaker, now)

    assert code == 1
    assert document["schema_version"] == 2 and document["ok"] is False
    assert [(e["key"], e["kind"], e["ok"]) for e in document["endpoints"]] == [
        ("churn", "create", True), ("upsell", "create", False), ("fraud", "existing", False)]
    churn, upsell, fraud = document["endpoints"]
    assert churn["endpoint"]["name"] == "churn-staging-churn"
    assert churn["capture"][0]["prefix"] == "s3://churn-staging-bucket-4d5e6f/datacapture/churn/churn-staging-churn/AllTraffic/"
    assert churn["capture"][0]["files"] == 2
    assert [s["name"] for s in churn["schedules"]] == ["churn-staging-churn-dq"]
    assert churn["schedules"][0]["job_definition"]["output_uri"] == "s3://churn-staging-bucket-4d5e6f/reports/churn/data-quality"
    assert churn["capture_check"] is None
    assert "model bias: sensitive group age > 64" in churn["bias_groups"][0]
    # upsell runs both engines: its processing schedule is there, with no job yet
    assert [s["name"] for s in upsell["schedules"]] == ["churn-staging-upsell-dq", "churn-staging-upsell-dq-proc"]
    assert [s["engine"] for s in upsell["schedules"]] == ["model-monitor", "processing"]
    assert [f["rule"] for f in upsell["findings"]] == ["no-data-in-window", "no-recent-capture", "no-executions-yet"]
    # each fix names upsell's command, ready to paste (the single-endpoint form's carry no ENDPOINT=: test_status.py)
    assert "`make run-now ENV=staging ENDPOINT=upsell`" in upsell["findings"][0]["fix"]
    assert "`make status ENV=staging ENDPOINT=upsell`" in upsell["findings"][1]["fix"]
    assert fraud["endpoint"]["name"] == FRAUD
    # capture is off: the listing is where it goes once adopted
    assert fraud["capture"][0]["prefix"] == f"s3://churn-staging-bucket-4d5e6f/datacapture/fraud/{FRAUD}/AllTraffic/"
    assert [p["check"] for p in fraud["capture_check"]["problems"]] == ["capture-off"]
    assert fraud["capture_check"]["expected_destination"] == "s3://churn-staging-bucket-4d5e6f/datacapture/fraud"
    assert [f["rule"] for f in fraud["findings"]] == ["existing-endpoint-not-ready", "no-recent-capture", "run-overdue"]
    assert "make adopt ENV=staging ENDPOINT=fraud" in fraud["findings"][0]["fix"]
    # the whole fleet's findings, errors first, each naming its endpoint
    assert [(f["endpoint"], f["rule"]) for f in document["findings"]][:2] == [
        ("upsell", "no-data-in-window"), ("fraud", "existing-endpoint-not-ready")]
    assert document["unassigned_schedules"] == []


def test_fleet_status_in_tables_starts_with_endpoint_by_monitor(aws, tmp_path):
    deploy_fleet(aws)
    now = now_utc()
    top = top_of_hour(now)
    put_capture(aws, "churn", "churn-staging-churn", top, 2)
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect(stub, now)

    code, text = run(aws, params, stub, sagemaker, now, json_output=False)

    assert code == 1
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == (f"Monitoring of churn-staging in eu-west-1 at {now:%Y-%m-%d %H:%M} UTC: 3 endpoint(s) "
                        "(churn, upsell, fraud)")
    assert lines[1] == "Endpoints and monitors"
    rows = [line for line in lines if line.startswith("│")]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    starts = [row for row in cells if row[0]]  # a long problem wraps onto lines of its own
    assert starts[0] == ["churn", "data-quality", f"{top:%Y-%m-%d %H:%M}", "Completed", "0", f"{top + H:%Y-%m-%d %H:%M}", ""]
    assert starts[1][:6] == ["upsell", "data-quality", f"{top:%Y-%m-%d %H:%M}", "Failed", "-", f"{top + H:%Y-%m-%d %H:%M}"]
    assert starts[1][6].startswith("error: the run of")
    assert starts[2][:4] == ["upsell", "data-quality (processing)", "-", "-"]  # both engines side by side
    assert starts[3][:4] == [f"fraud ({FRAUD})", "data-quality", "-", "-"]
    assert starts[3][6].startswith("error: endpoint fraud-scoring-staging (endpoints.fraud): Data Capture is off")
    # then each endpoint as the single-endpoint form shows it, the existing one with its capture check
    assert any(line.startswith("churn: churn-staging-churn (created by this project)") for line in lines)
    at = next(i for i, line in enumerate(lines) if line.startswith(f"fraud: {FRAUD} (existing"))
    assert lines[at + 1] == "Capture check: 1 problem(s)"
    assert lines[at + 2].startswith("  Data Capture is off (endpoint config fraud-scoring-staging-config-v3 has no "
                                    "DataCaptureConfig)")
    assert lines[at + 2].endswith("fix: run `make adopt ENV=staging ENDPOINT=fraud`")
    assert "Executions of churn-staging-churn-dq" in text and "Executions of churn-staging-fraud-dq: none yet" in text


def test_status_of_one_fleet_endpoint(aws, tmp_path):
    deploy_fleet(aws)
    now = now_utc()
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    expect(stub, now, keys=("fraud",))

    code, document = run(aws, params, stub, sagemaker, now, endpoint="fraud")

    assert code == 1
    assert [e["key"] for e in document["endpoints"]] == ["fraud"]
    assert {f["endpoint"] for f in document["findings"]} == {"fraud"}


def test_a_schedule_of_no_endpoint_in_the_file_is_listed_apart(aws, tmp_path):
    deploy_fleet(aws)
    now = now_utc()
    params = staging_params(tmp_path)
    sagemaker, stub = sagemaker_client(aws)
    stray = summary("churn-staging-data-quality", now - 24 * H, endpoint="churn-staging")  # the old single endpoint's
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": [stray]},
                      {"NameContains": "churn-staging-"})
    for key in ("churn", "upsell", "fraud"):
        stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": []}, {"EndpointName": endpoint_of(key)})

    code, document = run(aws, params, stub, sagemaker, now)

    assert document["unassigned_schedules"] == ["churn-staging-data-quality"]
    assert [f["rule"] for f in document["endpoints"][0]["findings"]] == ["no-recent-capture", "no-schedules"]


def test_a_monitor_launched_from_service_catalog_is_named_so():
    """The endpoint-monitoring product's schedules (<project>-<env>-sc-<name>-dq) are in no params file: the text
    says where they come from, apart from other strays."""
    from mmtool.operate.facts import FleetFacts

    fleet = FleetFacts("churn", "staging", "eu-west-1", now_utc(), [],
                       ["churn-staging-sc-fraud-v2-dq", "churn-staging-data-quality"])
    screen = console(width=240)
    status.render_fleet(screen, fleet, [])
    text = screen.file.getvalue()
    assert "Launched from Service Catalog (the endpoint-monitoring product, not in the params file): " \
           "churn-staging-sc-fraud-v2-dq" in text
    assert "of no endpoint in the params file: churn-staging-data-quality" in text


def test_the_cli_takes_the_endpoint_and_names_the_keys_when_it_is_wrong(aws, tmp_path, capsys, monkeypatch):
    deploy_fleet(aws)
    now = now_utc()
    paths = scratch_staging(tmp_path / "repo")
    sagemaker, stub = sagemaker_client(aws)
    expect(stub, now, keys=("churn",))
    monkeypatch.setattr("mmtool.operate.awsenv.connect", lambda params, **_: clients(aws, sagemaker))

    with stub:
        code = main(["status", "--env", "staging", "--endpoint", "churn", "--json", "--hours", "2"], paths)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [e["key"] for e in json.loads(out)["endpoints"]] == ["churn"]

    assert main(["status", "--env", "staging", "--endpoint", "nope"], paths) == 2
    assert capsys.readouterr().err == ("--endpoint nope: params/staging.yaml has no endpoint 'nope' (endpoints: churn, "
                                       "upsell, fraud); fix ENDPOINT=\n")


@pytest.mark.parametrize("key, code", [("default", 1), ("churn", 2)])
def test_the_single_endpoint_form_takes_only_its_own_key(aws, tmp_path, capsys, key, code):
    from .conftest import scratch

    assert main(["status", "--env", "dev", "--endpoint", key], scratch(tmp_path / "repo")) == code
    err = capsys.readouterr().err
    if code == 2:
        assert err.startswith("--endpoint churn: params/dev.yaml monitors one endpoint (no endpoints: section)")
    else:  # accepted: then it says the environment is not deployed
        assert "foundation/bucket-name is not in eu-west-1" in err
