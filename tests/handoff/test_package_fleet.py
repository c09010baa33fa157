"""`make package` of a fleet: one bundle for the environment, or one endpoint's stacks (`ENDPOINT=key`); an
endpoint someone else deployed gets its Data Capture checked before its monitoring stack, and a page with the
AWS CLI steps that turn capture on without downtime. The whole DEPLOY.md runs with the real AWS CLI against moto,
nothing of ours imported, including the no-downtime switch of existing-endpoints/fraud.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile

import boto3
import pytest

from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
from mmtool.cli import main
from tests.handoff.test_package import AWS_CLI

ENV = "staging"
FRAUD = "fraud-scoring-staging"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """staging packaged whole and for ENDPOINT=fraud and upsell: {"all"|"fraud"|"upsell": (zip, top, files)}."""
    from tests.conftest import scratch_root

    paths = scratch_root(tmp_path_factory.mktemp("package-fleet"))
    assert main(["package", "--env", ENV], paths=paths) == 0
    assert main(["package", "--env", ENV, "--endpoint", "fraud"], paths=paths) == 0
    assert main(["package", "--env", ENV, "--endpoint", "upsell"], paths=paths) == 0
    out = {}
    for target in sorted((paths.root / "dist").glob("*.zip")):
        kind = next((k for k in ("fraud", "upsell") if target.stem.endswith(f"-{k}")), "all")
        with zipfile.ZipFile(target) as archive:
            archive.extractall(tmp_path_factory.mktemp(kind))
            top = archive.namelist()[0].split("/")[0]
            files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
        out[kind] = (target, top, files)
    return out


def sh_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, re.S)


def test_one_endpoints_bundle_holds_its_stacks_and_needs_the_shared_ones(bundles):
    target, top, files = bundles["fraud"]
    assert target.name.endswith(f"-{ENV}-fraud.zip") and top.endswith("-fraud")
    assert sorted(n for n in files if n.endswith(".parameters.json")) == ["fraud-monitoring.parameters.json"]
    assert sorted(n for n in files if n.startswith("assets/")) == ["assets/fraud/record_preprocessor.py"]
    deploy = files["DEPLOY.md"].decode()
    assert re.findall(r"--stack-name (churn-staging-[\w-]+)", deploy)[:3] == [
        "churn-staging-foundation", "churn-staging-network", "churn-staging-fraud-monitoring"]
    shared = deploy.index("## 1. The shared stacks this endpoint needs")
    assert shared < deploy.index("aws s3 cp assets/fraud/record_preprocessor.py") < deploy.index(
        "Data Capture of `fraud-scoring-staging`") < deploy.index("aws cloudformation deploy")
    assert "aws cloudformation deploy --region eu-west-1 --stack-name churn-staging-foundation" not in deploy
    assert "existing-endpoints/fraud.md" in files


def test_a_processing_engine_endpoints_bundle_uploads_the_analyzer_and_checks_its_schedule(bundles):
    """upsell runs engine: both (docs/engine.md): its bundle carries the shared analyzer package, whose keys are the
    ones its monitoring stack's AnalyzerPrefix names, and DEPLOY.md says where the schedule lives and reads it."""
    _, _, files = bundles["upsell"]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(files["upsell-monitoring.parameters.json"])}
    prefix = params["AnalyzerPrefix"]
    analyzer = sorted(n for n in files if n.startswith("assets/analyzer/"))
    assert "assets/analyzer/job.py" in analyzer and "assets/analyzer/__main__.py" in analyzer
    assert "assets/upsell/record_preprocessor.py" in files
    assert not any(n.startswith(("assets/churn/", "assets/fraud/")) for n in files)
    deploy = files["DEPLOY.md"].decode()
    uploads = dict(re.findall(r'aws s3 cp (assets/\S+) "s3://\$BUCKET/(\S+)"', deploy))
    assert {f: uploads.get(f) for f in analyzer} == {f: f"{prefix}/{f[len('assets/'):]}" for f in analyzer}
    sums = files["SHA256SUMS"].decode()
    assert all(f"  {f}\n" in sums or f" {f}\n" in sums for f in analyzer)
    section = deploy[deploy.index("## The processing engine"):]
    assert "group `churn-staging`" in section and "`churn-staging-foundation`" in section
    assert "| `churn-staging-upsell-monitoring` | `churn-staging-upsell-dq-proc` |" in section
    assert ("aws scheduler get-schedule --region eu-west-1 --group-name churn-staging --name churn-staging-upsell-dq-proc"
            in sh_blocks(deploy)[-1])
    assert "-mq-proc" not in deploy  # upsell runs no model-quality monitor
    # an endpoint on Model Monitor only: none of it
    fraud = bundles["fraud"][2]
    assert "## The processing engine" not in fraud["DEPLOY.md"].decode() and "get-schedule" not in fraud["DEPLOY.md"].decode()
    assert not any(n.startswith("assets/analyzer/") for n in fraud)


def test_the_whole_bundle_says_which_endpoints_it_creates_and_which_it_only_monitors(bundles):
    _, _, files = bundles["all"]
    deploy = files["DEPLOY.md"].decode()
    endpoints = deploy[deploy.index("## The endpoints"):deploy.index("\n## ", deploy.index("## The endpoints") + 1)]
    rows = [line for line in endpoints.splitlines() if line.startswith("| ") and "staging" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| churn", "| upsell", "| fraud"]
    assert "this bundle" in rows[0] and "someone else" in rows[2] and f"`{FRAUD}`" in rows[2]
    # the capture check comes right before fraud's monitoring stack, after the bucket is known
    check = deploy.index(f"--endpoint-name {FRAUD}")
    assert deploy.index("BUCKET=$(aws ssm get-parameter") < check < deploy.index("--stack-name churn-staging-fraud-monitoring")
    page = files["existing-endpoints/fraud.md"].decode()
    for tool in ("CloudFormation", "Terraform", "CDK", "IAM"):
        assert f"### {tool}" in page
    assert "DestinationS3Uri: \"s3://<BUCKET>/datacapture/fraud\"" in page
    assert "make adopt ENV=staging ENDPOINT=fraud" in page


def _environment(tmp_path, url: str) -> dict[str, str]:
    return {"PATH": f"{AWS_CLI.parent}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path),
            "AWS_ENDPOINT_URL": url.replace("127.0.0.1", "localhost"), "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
            **FAKE_CREDENTIALS}


def _client(service: str, url: str):
    return boto3.client(service, region_name="eu-west-1", endpoint_url=url,
                        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


def _run(script: str, folder, env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI (awscli in requirements.txt) is not installed")
def test_deploy_md_stops_at_an_endpoint_without_capture_and_its_page_turns_capture_on(bundles, tmp_path):
    target, top, _ = bundles["all"]
    with zipfile.ZipFile(target) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / top
    deploy = "\n".join(sh_blocks((folder / "DEPLOY.md").read_text()))
    with MotoServer() as moto:
        env = _environment(tmp_path, moto.url)
        sagemaker = _client("sagemaker", moto.url)
        # the fraud team's endpoint, deployed by their pipeline: no Data Capture
        sagemaker.create_model(ModelName="fraud-model", ExecutionRoleArn="arn:aws:iam::123456789012:role/fraud",
                               PrimaryContainer={"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud:1"})
        sagemaker.create_endpoint_config(EndpointConfigName="fraud-config", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "fraud-model", "InitialInstanceCount": 2,
            "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}])
        sagemaker.create_endpoint(EndpointName=FRAUD, EndpointConfigName="fraud-config")

        first = _run(deploy, folder, env)
        assert first.returncode != 0
        assert f"{FRAUD} must be InService true s3://" in first.stdout and "see existing-endpoints/fraud.md" in first.stdout
        stacks = _client("cloudformation", moto.url).list_stacks(
            StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
        assert "churn-staging-fraud-monitoring" not in {s["StackName"] for s in stacks}  # stopped before it

        # the page's steps, AWS CLI and python3 only: a copy of the config with capture, retaining the variants
        page = "\n".join(sh_blocks((folder / "existing-endpoints" / "fraud.md").read_text()))
        switched = _run(page, folder, env)
        assert switched.returncode == 0, f"{switched.stdout[-3000:]}\n{switched.stderr[-3000:]}"
        endpoint = sagemaker.describe_endpoint(EndpointName=FRAUD)
        bucket = json.loads(subprocess.run(
            [str(AWS_CLI), "ssm", "get-parameter", "--region", "eu-west-1", "--name",
             "/churn/staging/foundation/bucket-name"], env=env, capture_output=True, text=True, check=True).stdout)
        assert endpoint["DataCaptureConfig"]["DestinationS3Uri"] == \
            f"s3://{bucket['Parameter']['Value']}/datacapture/fraud"
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        assert endpoint["EndpointConfigName"].startswith("fraud-config-capture-")
        assert [(v["ModelName"], v["InitialInstanceCount"]) for v in config["ProductionVariants"]] == [("fraud-model", 2)]
        assert [o["CaptureMode"] for o in config["DataCaptureConfig"]["CaptureOptions"]] == ["Input", "Output"]

        again = _run(deploy, folder, env)
        assert again.returncode == 0, f"{again.stdout[-3000:]}\n{again.stderr[-3000:]}"
        assert f"{FRAUD}: InService true s3://" in again.stdout
        assert "churn-staging-fraud-monitoring CREATE_COMPLETE" in again.stdout
        # the processing engine's schedule, read back by DEPLOY.md's check (upsell: engine both, hourly)
        assert "churn-staging-upsell-dq-proc\tENABLED\tcron(" in again.stdout


def test_a_bundle_of_an_unknown_endpoint_is_refused_with_the_keys(tmp_path, capsys):
    from tests.conftest import scratch_root

    paths = scratch_root(tmp_path)
    assert main(["package", "--env", ENV, "--endpoint", "frud"], paths=paths) == 2
    err = capsys.readouterr().err
    assert "no endpoint 'frud'" in err and "churn, upsell, fraud" in err
    assert not (paths.root / "dist").exists()  # nothing written
