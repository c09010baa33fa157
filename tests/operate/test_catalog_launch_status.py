"""`make status` of a fleet environment with monitors launched from Service Catalog on the processing engine (the
endpoint-monitoring product, docs/handoff.md, docs/operating.md).

Against the moto server: staging's shared stacks deployed by the engine, the monitoring template uploaded where
`make catalog` puts it, the product launched as Service Catalog would (a stack of its template, its nested monitoring
stack, the schedule in the environment's group). The launch is found through its stack (parameters, resolved bucket,
nested stack's resource and outputs), never by a schedule's name: a schedule named like a launch's in the group, with
no stack behind it, is not listed. Processing jobs through the Stubber (moto keeps neither their Environment nor an
ExitMessage; tests/operate/processing_env.py)."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from deployer import cli as engine
from mmtool.config.loader import load_params
from mmtool.generate.pipeline import build
from mmtool.operate import status

from .conftest import client, scratch
from .fleet_env import UPSELL_JOB_PREFIX, scratch_staging
from .monitoring_env import console, now_utc, put_log, run_status, top_of_hour
from .processing_env import create_schedule, expect_jobs, job_description, jobs_stubbed, processing_request

H = timedelta(hours=1)
LAUNCH = "SC-123456789012-pp-launch2"
SCHEDULE = "churn-staging-sc-upsell-v3-dq-proc"  # docs/handoff.md: <project>-<env>-sc-<name>-dq-proc
EXEC_1 = "6f1c2f2e-0d55-4b8e-9a4e-1f0c8f3b2a11"
EXEC_2 = "0b7d7a38-52a5-4c0e-8f5c-2a3b4c5d6e7f"


def launched(aws, tmp_path, env="staging", dev_changes=None):
    """The environment's shared stacks (staging, or dev on the processing engine or with `dev_changes`), a processing
    launch and a Model Monitor launch of the product, and a schedule in the group that only looks like a launch's.
    Returns (params, bucket, the processing launch's job-name prefix)."""
    paths = scratch_staging(tmp_path / "repo") if env == "staging" else \
        scratch(tmp_path / "repo", **(dev_changes or {"monitoring.engine": "processing"}))
    build(paths, [env], run_lint=False, out=lambda *_: None)
    folder = paths.build / env
    manifest = json.loads((folder / "manifest.json").read_text())
    shared = {**manifest, "stacks": [s for s in manifest["stacks"] if s["endpoint"] is None], "assets": [], "copies": []}
    (folder / "shared.manifest.json").write_text(json.dumps(shared))
    assert engine.deploy(folder / "shared.manifest.json", yes=True, endpoint_url=aws.url, poll_interval=0.05,
                         show_outputs=False) == 0
    cf, s3 = client("cloudformation", aws), client("s3", aws)
    bucket = client("ssm", aws).get_parameter(Name=f"/churn/{env}/foundation/bucket-name")["Parameter"]["Value"]
    monitoring = (folder / "monitoring.template.json").read_bytes()
    s3.put_object(Bucket=bucket, Key=f"catalog-templates/monitoring/{hashlib.sha256(monitoring).hexdigest()}"
                  ".template.json", Body=monitoring, ServerSideEncryption="aws:kms")
    product = (folder / "endpoint-monitoring.template.json").read_text()
    for stack, name, engine_choice in ((LAUNCH, "upsell-v3", "processing"),
                                       ("SC-123456789012-pp-launch1", "fraud-v2", "model-monitor")):
        cf.create_stack(StackName=stack, TemplateBody=product, Capabilities=["CAPABILITY_NAMED_IAM"],
                        Parameters=[{"ParameterKey": "EndpointName", "ParameterValue": f"{name}-endpoint"},
                                    {"ParameterKey": "MonitorName", "ParameterValue": name},
                                    {"ParameterKey": "Engine", "ParameterValue": engine_choice}],
                        Tags=[{"Key": "aws:servicecatalog:provisionedProductArn",
                               "Value": f"arn:aws:servicecatalog:eu-west-1:123456789012:stack/{name}/pp-{name}"}])
        assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    stack_id = cf.describe_stacks(StackName=LAUNCH)["Stacks"][0]["StackId"]
    prefix = f"dq-{''.join(stack_id.rsplit('/', 1)[-1].split('-')[:3])}-"  # docs/handoff.md: from the stack id
    # named like a launch's, in the environment's group, but no launch stack made it: not a launch
    create_schedule(aws, group=f"churn-{env}", name=f"churn-{env}-sc-decoy-dq-proc", request=processing_request(
        prefix="dq-0123456789abcdef-", endpoint="decoy", schedule=f"churn-{env}-sc-decoy-dq-proc", bucket=bucket,
        reports="reports/sc-decoy", role="arn:aws:iam::123456789012:role/decoy"))
    return load_params(paths.params / f"{env}.yaml", paths.root), bucket, prefix


def expect_fleet(stub):
    """The fleet's own reads through the Stubber: no endpoint of the file is deployed here, so discovery by name
    finds nothing, and upsell's processing schedule (it runs both engines) has no job."""
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": []}, {"NameContains": "churn-staging-"})
    expect_jobs(stub, UPSELL_JOB_PREFIX, [])


run = functools.partial(run_status, hours=2, width=260)


def test_a_processing_launch_is_listed_with_its_schedule_last_jobs_failure_and_violations(aws, tmp_path):
    params, bucket, prefix = launched(aws, tmp_path)
    request = json.loads(client("scheduler", aws).get_schedule(GroupName="churn-staging", Name=SCHEDULE)["Target"]["Input"])
    now = now_utc()
    top = top_of_hour(now)
    client("s3", aws).put_object(
        Bucket=bucket, Key="reports/sc-upsell-v3/data-quality/constraint_violations.json", ServerSideEncryption="aws:kms",
        Body=json.dumps({"violations": [{"feature_name": "age", "constraint_check_type": "baseline_drift_check",
                                         "description": "Baseline drift distance: 0.4 exceeds threshold: 0.1"}]}).encode())
    newest = job_description(request, EXEC_1, top, "Completed",
                             exit_message="CompletedWithViolations: 1 violation(s); 1000 rows, 8 columns")
    older = job_description(request, EXEC_2, top - H, "Failed", failure_reason="AlgorithmError: see the job logs",
                            exit_message="Failed: no record in the window became a row: the run has no data")
    put_log(aws, older["ProcessingJobName"], ["analyzer starting", older["ExitMessage"]])
    sagemaker, stub = jobs_stubbed(aws)
    expect_fleet(stub)
    expect_jobs(stub, prefix, [newest, older])  # the launch's jobs, by the prefix its own stack gives
    stub.add_response("describe_processing_job", older, {"ProcessingJobName": older["ProcessingJobName"]})
    stub.add_response("describe_processing_job", newest, {"ProcessingJobName": newest["ProcessingJobName"]})

    code, document = run(aws, params, stub, sagemaker, now)

    [launch] = document["launches"]  # the Model Monitor launch and the look-alike schedule are not among them
    assert (launch["key"], launch["endpoint_name"], launch["stack"], launch["engine"]) == \
        ("sc-upsell-v3", "upsell-v3-endpoint", LAUNCH, "processing")
    assert launch["provisioned_product"].endswith("/pp-upsell-v3") and launch["problem"] is None
    schedule = launch["schedule"]
    assert (schedule["name"], schedule["status"], schedule["processing"]) == \
        (SCHEDULE, "Scheduled", {"group": "churn-staging", "state": "ENABLED", "job_prefix": prefix})
    assert [(e["processing_job"], e["status"]) for e in schedule["executions"]] == [
        (f"{prefix}{EXEC_1}", "CompletedWithViolations"), (f"{prefix}{EXEC_2}", "Failed")]
    assert schedule["failure"]["exit_message"].endswith("the run has no data")
    assert schedule["failure"]["log_tail"][-1].endswith("the run has no data")
    assert schedule["violations"]["uri"] == f"s3://{bucket}/reports/sc-upsell-v3/data-quality/constraint_violations.json"
    assert [v["feature"] for v in schedule["violations"]["items"]] == ["age"]
    # a launch is not an endpoint of the params file: no finding of its own, no effect on `ok` and the exit code
    assert all("sc-upsell-v3" not in json.dumps(f) for f in document["findings"])
    assert all("launches" not in e for e in document["endpoints"])
    assert code == (1 if not document["ok"] else 0)


def test_the_text_output_shows_the_launch_apart_with_its_jobs(aws, tmp_path):
    params, bucket, prefix = launched(aws, tmp_path)
    request = json.loads(client("scheduler", aws).get_schedule(GroupName="churn-staging", Name=SCHEDULE)["Target"]["Input"])
    now = now_utc()
    top = top_of_hour(now)
    sagemaker, stub = jobs_stubbed(aws)
    expect_fleet(stub)
    expect_jobs(stub, prefix, [job_description(request, EXEC_1, top, "Completed",
                                               exit_message="Completed: 0 violation(s); 10 rows, 8 columns")])

    _, text = run(aws, params, stub, sagemaker, now, json_output=False)

    assert "Launched from Service Catalog on the processing engine (the endpoint-monitoring product, not in the " \
           "params file)" in text
    [row] = [[c.strip() for c in line.strip("│ ").split("│")] for line in text.splitlines()
             if line.startswith("│ sc-upsell-v3")]
    assert row == ["sc-upsell-v3", "upsell-v3-endpoint", LAUNCH, SCHEDULE, "Scheduled", f"{top:%Y-%m-%d %H:%M}",
                   "Completed", f"{top + H:%Y-%m-%d %H:%M}"]
    assert f"Processing jobs of {SCHEDULE}" in text and f"{prefix}{EXEC_1}" in text
    assert "sc-decoy" not in text


def test_a_launch_whose_schedule_names_other_jobs_is_not_read_as_its_own(aws, tmp_path):
    """The schedule in the group is replaced by one that starts jobs under another prefix: the stack's prefix is the
    launch's, so the schedule is reported as not the launch's and no job is listed."""
    params, bucket, prefix = launched(aws, tmp_path)
    scheduler = client("scheduler", aws)
    scheduler.delete_schedule(GroupName="churn-staging", Name=SCHEDULE)
    create_schedule(aws, group="churn-staging", name=SCHEDULE, request=processing_request(
        prefix="dq-0123456789abcdef-", endpoint="upsell-v3-endpoint", schedule=SCHEDULE, bucket=bucket,
        reports="reports/sc-upsell-v3", role="arn:aws:iam::123456789012:role/other"))
    sagemaker, stub = jobs_stubbed(aws)
    expect_fleet(stub)
    expect_jobs(stub, prefix, [])

    _, document = run(aws, params, stub, sagemaker, now_utc())

    [launch] = document["launches"]
    assert launch["schedule"] is None
    assert launch["problem"].startswith(f"the schedule churn-staging/{SCHEDULE} names its jobs "
                                        "dq-0123456789abcdef-<aws.scheduler.execution-id>, not " + prefix)


def test_a_launch_is_the_environments_by_its_parameters_and_the_bucket_they_resolved_to(tmp_path):
    """DescribeStacks as AWS answers it (an SSM-typed parameter's ParameterValue is the SSM name, ResolvedValue the
    value; moto 5.2.5 puts the value in ParameterValue): a stack of another environment, of another bucket, a nested stack, a Model Monitor
    launch are not processing launches of this environment."""
    from mmtool.operate.catalog_launches import is_launch

    params = load_params(scratch_staging(tmp_path / "repo").params / "staging.yaml", tmp_path / "repo")

    def stack(bucket="churn-staging-bucket", environment="staging", engine_choice="processing", **extra):
        values = {"ProjectName": "churn", "EnvironmentName": environment, "MonitorName": "m", "Engine": engine_choice,
                  "EndpointName": "e"}
        return {"StackName": "SC-1-pp-x", **extra, "Parameters": [
            *({"ParameterKey": k, "ParameterValue": v} for k, v in values.items()),
            {"ParameterKey": "BucketName", "ParameterValue": "/churn/staging/foundation/bucket-name",
             "ResolvedValue": bucket}]}

    assert is_launch(stack(), params, "churn-staging-bucket")
    assert not is_launch(stack(bucket="someone-elses-bucket"), params, "churn-staging-bucket")
    assert not is_launch(stack(environment="dev"), params, "churn-staging-bucket")
    assert not is_launch(stack(engine_choice="model-monitor"), params, "churn-staging-bucket")
    assert not is_launch(stack(ParentId="arn:aws:cloudformation:eu-west-1:1:stack/SC-1-pp-x/1"), params,
                         "churn-staging-bucket")


def test_launches_that_cannot_be_listed_leave_the_environments_status_alone(tmp_path):
    """Listing launches needs cloudformation:DescribeStacks on every stack; a role granted the environment's stacks
    only is refused. The refusal is shown, with AWS's words and the fix, and the rest of `status` goes on."""
    import boto3
    from botocore.stub import Stubber

    from mmtool.operate.awsenv import Clients

    params = load_params(scratch_staging(tmp_path / "repo").params / "staging.yaml", tmp_path / "repo")
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    with Stubber(cloudformation) as stub:
        stub.add_client_error("describe_stacks", "AccessDenied", "User: arn:aws:sts::1:assumed-role/ops/x is not "
                              "authorized to perform: cloudformation:DescribeStacks", 403, expected_params={})
        launches, error = status.launches_of(Clients("eu-west-1", None, None, None, cloudformation=cloudformation),
                                             params, "churn-staging-bucket", 5)
    assert launches == []
    assert error.startswith("read the account's stacks (cloudformation:DescribeStacks): AccessDenied: User: ")
    assert "\n" not in error and "Next: grant" in error
    screen = console()
    status.render_launches(screen, [], now_utc(), error)
    assert screen.file.getvalue().startswith("Launches from Service Catalog on the processing engine: not listed: read")


def test_the_single_endpoint_form_lists_a_processing_launch_too(aws, tmp_path):
    """dev with `monitoring.engine: processing` has the schedule group, so its product offers the engine: its
    launch is in the version 1 document's `launches[]` and in the text after the schedules."""
    params, bucket, prefix = launched(aws, tmp_path, "dev")
    schedule = "churn-dev-sc-upsell-v3-dq-proc"
    sagemaker, stub = jobs_stubbed(aws)
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": []}, {"NameContains": "churn-dev-"})
    expect_jobs(stub, f"dq-{hashlib.sha256(b'churn/dev/').hexdigest()[:16]}-", [])  # dev's own processing schedule
    expect_jobs(stub, prefix, [])  # the launch's

    code, document = run(aws, params, stub, sagemaker, now_utc())

    assert document["schema_version"] == 1
    [launch] = document["launches"]
    assert (launch["key"], launch["schedule"]["name"], launch["schedule"]["processing"]["group"]) == \
        ("sc-upsell-v3", schedule, "churn-dev")
    assert launch["schedule"]["executions"] == [] and document["launches_error"] is None
    assert all(s["name"] != schedule for s in document["schedules"])  # not one of the endpoint's own


def test_an_environment_offering_the_processing_engine_lists_its_processing_launch(aws, tmp_path):
    """dev's endpoint on Model Monitor, the processing engine offered by catalog.offer_processing_engine: the
    foundation creates the schedule group (the launch's schedule is created in it) and `make status` lists the
    launch as where an endpoint runs the engine."""
    params, bucket, prefix = launched(aws, tmp_path, "dev", {"catalog": {"offer_processing_engine": True}})
    assert not any(e.monitoring.runs_processing for e in params.fleet())
    sagemaker, stub = jobs_stubbed(aws)
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": []}, {"NameContains": "churn-dev-"})
    expect_jobs(stub, prefix, [])  # the launch's (dev's endpoint has no processing schedule of its own)

    code, document = run(aws, params, stub, sagemaker, now_utc())

    [launch] = document["launches"]
    assert (launch["key"], launch["schedule"]["name"], launch["schedule"]["processing"]["group"]) == \
        ("sc-upsell-v3", "churn-dev-sc-upsell-v3-dq-proc", "churn-dev")
    assert launch["schedule"]["status"] != "Missing" and document["launches_error"] is None
