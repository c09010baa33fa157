"""`make adopt` never uses a config it did not make, and a killed or failed adopt is finished or restored by the
next run (issue 22, part 2).

Against tests/operate/adopt_moto.py: the project's moto server (whose CreateEndpointConfig refuses an existing
name, as AWS does) with a test-only control that holds an UpdateEndpoint in `Updating` and forces an endpoint's
status, the states of AWS moto never reaches. The killed adopt is a real `build.py adopt` process, killed with
SIGKILL while it waits for the update; the record it left in SSM is what the next run reads.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest

from deployer.moto_server import MotoServer
from mmtool.errors import ToolError
from mmtool.operate import adopt
from mmtool.operate.adopt import Waiter, run_adopt
from mmtool.operate.existing_endpoint import ADOPTED_CONFIG_TAG, ExistingEndpointError, find_target

from .conftest import REGION, REPO
from .fleet_env import BUCKET, FRAUD, FRAUD_CONFIG, deploy_foundation, deploy_fraud, scratch_staging
from .monitoring_env import clients
from mmtool.config.loader import load_params

RECORD = "/churn/staging/adopt/fraud"


@pytest.fixture(scope="module")
def server():
    with MotoServer(command=[sys.executable, "-m", "tests.operate.adopt_moto"],
                    env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}) as moto:
        yield moto


@pytest.fixture
def aws(server, monkeypatch):
    server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    return server


def control(server: MotoServer, **payload: Any) -> None:
    answer = json.loads(server.post("/_test/sagemaker", json.dumps(payload).encode()))
    assert "error" not in answer, answer


def sagemaker(server: MotoServer) -> Any:
    return boto3.client("sagemaker", region_name=REGION, endpoint_url=server.url)


def ssm(server: MotoServer) -> Any:
    return boto3.client("ssm", region_name=REGION, endpoint_url=server.url)


def record(server: MotoServer) -> dict | None:
    try:
        return json.loads(ssm(server).get_parameter(Name=RECORD)["Parameter"]["Value"])
    except ssm(server).exceptions.ParameterNotFound:
        return None


class Lines(list):
    def __call__(self, line: str) -> None:
        self.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self)


def no_wait(timeout: float = 3600) -> Waiter:
    clock = [0.0]
    return Waiter(sleep=lambda s: clock.__setitem__(0, clock[0] + s), clock=lambda: clock[0], timeout=timeout)


def staging(tmp_path) -> tuple[Any, Any]:
    paths = scratch_staging(tmp_path / "repo")
    params = load_params(paths.params / "staging.yaml", paths.root)
    return params, find_target(params, "fraud")


def adopt_once(server: MotoServer, params: Any, target: Any, out: Lines | None = None, **kwargs: Any) -> int:
    return run_adopt(params, clients(server, sagemaker(server)), target, yes=True, out=out if out is not None else Lines(),
                     waiter=kwargs.pop("waiter", no_wait()), **kwargs)


# ------------------------------------------------------------------ a config planted under the copy's name


def the_copys_name(server: MotoServer, target: Any, key_arn: str) -> tuple[str, dict]:
    """What an attacker can compute as well as adopt: everything it hashes is readable."""
    described = sagemaker(server).describe_endpoint_config(EndpointConfigName=FRAUD_CONFIG)
    expected = adopt.CaptureExpectations.of(target, BUCKET, key_arn)
    request = adopt.copy_request(described, [], adopt.capture_config(target, expected))
    return request["EndpointConfigName"], request


PLANTS = {
    "another model, capture to someone else's bucket": lambda r: {
        **r, "ProductionVariants": [{**r["ProductionVariants"][0], "ModelName": "attacker-model"}],
        "DataCaptureConfig": {**r["DataCaptureConfig"], "DestinationS3Uri": "s3://someone-elses-bucket/loot"}},
    "capture with another key": lambda r: {
        **r, "DataCaptureConfig": {**r["DataCaptureConfig"], "KmsKeyId": "arn:aws:kms:eu-west-1:999999999999:key/x"}},
    "an extra tag": lambda r: {**r, "Tags": [{"Key": "owner", "Value": "mallory"}]},
}
WHAT_DIFFERS = {
    "another model, capture to someone else's bucket": [
        'ProductionVariants[0].ModelName is "attacker-model", not "fraud-xgb"',
        'DataCaptureConfig.DestinationS3Uri is "s3://someone-elses-bucket/loot", not "s3://churn-staging-bucket-4d5e6f/datacapture/fraud"'],
    "capture with another key": ['DataCaptureConfig.KmsKeyId is "arn:aws:kms:eu-west-1:999999999999:key/x", not "'],
    "an extra tag": ["Tags are {'owner': 'mallory'}, not {}"],
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_config_planted_under_the_copys_name_is_refused_with_the_reason_and_nothing_changes(aws, tmp_path, plant):
    key_arn = deploy_foundation(aws)
    deploy_fraud(aws)
    params, target = staging(tmp_path)
    client = sagemaker(aws)
    client.create_model(ModelName="attacker-model", ExecutionRoleArn="arn:aws:iam::123456789012:role/attacker",
                        PrimaryContainer={"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/evil:1"})
    name, request = the_copys_name(aws, target, key_arn)
    client.create_endpoint_config(**PLANTS[plant](request))

    with pytest.raises(ExistingEndpointError) as error:
        adopt_once(aws, params, target)

    message = str(error.value)
    assert message.startswith(f"endpoint config {name} exists already but is not the copy adopt would create for "
                              f"endpoint {FRAUD}: ")
    for line in WHAT_DIFFERS[plant]:
        assert line in message
    assert "nothing was changed" in message and f"aws sagemaker delete-endpoint-config --endpoint-config-name {name}" in message
    endpoint = client.describe_endpoint(EndpointName=FRAUD)
    assert endpoint["EndpointConfigName"] == FRAUD_CONFIG  # not put live
    assert ADOPTED_CONFIG_TAG not in {t["Key"] for t in client.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]}
    assert record(aws) is None


def test_the_exact_copy_left_by_an_earlier_run_is_used_and_said_so(aws, tmp_path):
    key_arn = deploy_foundation(aws)
    deploy_fraud(aws)
    params, target = staging(tmp_path)
    name, request = the_copys_name(aws, target, key_arn)
    sagemaker(aws).create_endpoint_config(**request)  # an adopt killed right after CreateEndpointConfig
    out = Lines()
    assert adopt_once(aws, params, target, out) == 0
    assert (f"= use endpoint config {name}, which exists already and is exactly the copy of {FRAUD_CONFIG} (every "
            "field and tag compared; an earlier adopt made it):") in out
    assert sagemaker(aws).describe_endpoint(EndpointName=FRAUD)["EndpointConfigName"] == name
    assert record(aws) is None  # settled: the record is gone


def test_the_moto_server_refuses_a_config_name_that_exists_as_aws_does(aws):
    """deployer/moto_server.py: unpatched moto replaces the config silently, which would hide a planted one."""
    deploy_fraud(aws)
    client = sagemaker(aws)
    described = client.describe_endpoint_config(EndpointConfigName=FRAUD_CONFIG)
    with pytest.raises(client.exceptions.ClientError) as error:
        client.create_endpoint_config(EndpointConfigName=FRAUD_CONFIG, ProductionVariants=described["ProductionVariants"],
                                      DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 1,
                                                         "DestinationS3Uri": "s3://x/y",
                                                         "CaptureOptions": [{"CaptureMode": "Input"}]})
    assert "Cannot create already existing endpoint configuration" in str(error.value)
    assert not client.describe_endpoint_config(EndpointConfigName=FRAUD_CONFIG).get("DataCaptureConfig")


# ------------------------------------------------------------------ a killed adopt, and the next run


def test_a_killed_adopt_whose_update_fails_is_restored_by_the_next_run(aws, tmp_path):
    deploy_foundation(aws)
    deploy_fraud(aws)
    paths = scratch_staging(tmp_path / "repo")
    control(aws, hold_updates=True)  # the update takes minutes in AWS; here it stays Updating until forced
    script = (f"import sys; from pathlib import Path; from mmtool.cli import main; from mmtool.config.workspace import "
              f"Paths; sys.exit(main(sys.argv[1:], Paths(Path({str(paths.root)!r}))))")
    command = [sys.executable, "-c", script, "adopt", "--env", "staging", "--endpoint", "fraud", "--yes"]
    env = {**os.environ, "AWS_ENDPOINT_URL": aws.url, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marker = f"0:00:00 {FRAUD}: Updating"  # adopt waits for the update (it polls every 30 s): kill it there
    seen = ""
    try:
        deadline = time.monotonic() + 60
        while marker not in seen:
            if time.monotonic() > deadline:
                pytest.fail(f"adopt did not reach the update within 60 s: {seen}")
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)  # type: ignore[union-attr]
                if not chunk:
                    pytest.fail(f"adopt ended before the update: {seen}"
                                f"{process.stderr.read().decode()}")  # type: ignore[union-attr]
                seen += chunk.decode()
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
    text = seen
    manual = (f"aws sagemaker update-endpoint --region {REGION} --endpoint-name {FRAUD} --endpoint-config-name "
              f"{FRAUD_CONFIG} --retain-all-variant-properties --exclude-retained-variant-properties "
              "VariantPropertyType=DataCaptureConfig")
    assert f"Recorded its previous endpoint config {FRAUD_CONFIG} in SSM parameter {RECORD}" in text
    assert manual in text  # printed before the update started: the way back is known even if nothing else runs
    left = record(aws)
    assert left is not None and left["endpoint"] == FRAUD and left["previous_config"] == FRAUD_CONFIG

    # while the process was dead the update failed in AWS
    control(aws, hold_updates=False)
    control(aws, endpoint=FRAUD, status="Failed", failure_reason="The primary container for production variant "
            "AllTraffic did not pass the ping health check.", config=left["new_config"])
    params, target = staging(tmp_path / "again")
    out = Lines()
    with pytest.raises(ToolError) as error:
        adopt_once(aws, params, target, out)

    assert out[0].startswith("An earlier `make adopt` (started ")
    assert (f"updated endpoint {FRAUD} from endpoint config {FRAUD_CONFIG} to {left['new_config']} and did not see "
            f"the end (recorded in SSM parameter {RECORD}); the endpoint is Failed") in out[0]
    assert str(error.value).startswith(f"endpoint {FRAUD}: restored: the endpoint is InService on its previous "
                                       f"endpoint config {FRAUD_CONFIG}, as before. The adoption did not happen.")
    assert "did not pass the ping health check" in str(error.value)
    endpoint = sagemaker(aws).describe_endpoint(EndpointName=FRAUD)
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", FRAUD_CONFIG)
    assert record(aws) is None

    assert adopt_once(aws, params, target) == 0  # and once the cause is fixed, adopt works as usual
    assert sagemaker(aws).describe_endpoint(EndpointName=FRAUD)["EndpointConfigName"] == left["new_config"]


def interrupted(aws: MotoServer, tmp_path) -> tuple[Any, Any, dict]:
    """An adopt that stopped while the update ran (here: its wait timed out; a kill leaves the same state)."""
    deploy_foundation(aws)
    deploy_fraud(aws)
    params, target = staging(tmp_path)
    control(aws, hold_updates=True)
    with pytest.raises(ToolError, match="is still Updating"):
        adopt_once(aws, params, target, waiter=no_wait(timeout=0))
    control(aws, hold_updates=False)
    left = record(aws)
    assert left is not None
    return params, target, left


def test_the_next_run_while_the_update_still_runs_changes_nothing_and_says_what_to_do(aws, tmp_path):
    params, target, left = interrupted(aws, tmp_path)
    with pytest.raises(ToolError) as error:
        adopt_once(aws, params, target)
    message = str(error.value)
    assert f"it is still Updating. Nothing was changed." in message
    assert f"it finishes the adoption, or restores {FRAUD_CONFIG} if the update failed" in message
    assert f"--endpoint-config-name {FRAUD_CONFIG}" in message
    assert record(aws) == left


def test_the_next_run_after_the_update_finished_tags_the_endpoint_and_removes_the_record(aws, tmp_path):
    params, target, left = interrupted(aws, tmp_path)
    control(aws, endpoint=FRAUD, status="InService", config=left["new_config"])
    out = Lines()
    assert adopt_once(aws, params, target, out) == 0
    assert f"it finished: the endpoint is InService on {left['new_config']}. Record removed." in out[0]
    tags = {t["Key"]: t["Value"] for t in sagemaker(aws).list_tags(
        ResourceArn=sagemaker(aws).describe_endpoint(EndpointName=FRAUD)["EndpointArn"])["Tags"]}
    assert tags[ADOPTED_CONFIG_TAG] == left["new_config"]
    assert record(aws) is None


def test_a_previous_config_replaced_under_its_name_is_not_restored(aws, tmp_path):
    """The record keeps a fingerprint of the previous config: a config created under its name since is not it."""
    params, target, left = interrupted(aws, tmp_path)
    client = sagemaker(aws)
    variants = client.describe_endpoint_config(EndpointConfigName=FRAUD_CONFIG)["ProductionVariants"]
    client.delete_endpoint_config(EndpointConfigName=FRAUD_CONFIG)
    client.create_endpoint_config(EndpointConfigName=FRAUD_CONFIG,
                                  ProductionVariants=[{**variants[0], "InitialInstanceCount": 7}])
    control(aws, endpoint=FRAUD, status="Failed", failure_reason="boom", config=left["new_config"])
    with pytest.raises(ToolError) as error:
        adopt_once(aws, params, target)
    assert str(error.value).startswith(
        f"not restoring endpoint {FRAUD}: its previous endpoint config {FRAUD_CONFIG} is not the config recorded "
        "(another one was created under its name since). Nothing was changed.")
    assert client.describe_endpoint(EndpointName=FRAUD)["EndpointStatus"] == "Failed"
    assert record(aws) == left


def test_status_says_an_adoption_is_unfinished_instead_of_blaming_the_owner(aws, tmp_path):
    """After an interrupted adopt whose update failed, `make status` points at the next `make adopt` (and the restore
    command), not at the endpoint's owner."""
    from mmtool.operate import status

    from .fleet_env import create_dq_definition
    from .monitoring_env import now_utc, sagemaker_client
    from .test_fleet_status import expect

    params, target, left = interrupted(aws, tmp_path)
    create_dq_definition(aws, "fraud", FRAUD)
    control(aws, endpoint=FRAUD, status="Failed", failure_reason="boom", config=left["new_config"])
    now = now_utc()
    client, stub = sagemaker_client(aws)
    expect(stub, now, keys=("fraud",))
    printed: list[str] = []
    with stub:
        code = status.run_status(params, clients(aws, client), now=now, hours=1, json_output=True,
                                 out=printed.append, endpoint="fraud")
    findings = json.loads(printed[0])["findings"]
    assert code == 1
    [finding] = [f for f in findings if f["subject"] == FRAUD]
    assert finding["rule"] == "adoption-unfinished" and finding["severity"] == "error"
    assert finding["problem"] == (
        f"`make adopt` of endpoint {FRAUD} (started {left['started']}) did not finish: it updated the endpoint from "
        f"endpoint config {FRAUD_CONFIG} to {left['new_config']}; the endpoint is Failed on endpoint config "
        f"{left['new_config']} (boom) now")
    assert finding["fix"].startswith("Run `make adopt ENV=staging ENDPOINT=fraud`: it tags the endpoint")
    assert f"--endpoint-config-name {FRAUD_CONFIG}" in finding["fix"]
    assert "owner must repair" not in printed[0]
