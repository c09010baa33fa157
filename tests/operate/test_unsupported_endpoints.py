"""Endpoints Model Monitor cannot monitor are refused by `make plan` and `make adopt` with the reason and what to do
(issue 22, part 8): a serverless endpoint (SageMaker does not support Data Capture for serverless inference) and a
multi-model endpoint (Model Monitor supports only endpoints that host a single model). Against the moto server with
params/staging.yaml, whose `fraud` entry is an existing endpoint."""

from __future__ import annotations

import json

import pytest

from deployer.moto_server import MOTO_ACCOUNT
from mmtool.operate import adopt
from mmtool.operate.existing_endpoint import ExistingEndpointError, check_endpoint, target_from_fleet

from .conftest import client
from .fleet_env import FRAUD, deploy_foundation, staging_params
from .monitoring_env import clients

IMAGE = f"{MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud:3"


class Lines(list):
    def __call__(self, line: str) -> None:
        self.append(line)


def deploy(server, kind: str, *, capture: bool = False) -> None:
    """The fraud team's endpoint, of the given kind, deployed by their own pipeline."""
    sagemaker = client("sagemaker", server)
    container = {"Image": IMAGE, **({"Mode": "MultiModel", "ModelDataUrl": "s3://fraud-models/"} if kind == "multi-model" else {})}
    sagemaker.create_model(ModelName="fraud-xgb", ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/fraud-team",
                           PrimaryContainer=container)
    variant = {"VariantName": "AllTraffic", "ModelName": "fraud-xgb"}
    variant.update({"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}} if kind == "serverless" else
                   {"InitialInstanceCount": 1, "InstanceType": "ml.c5.xlarge"})
    sagemaker.create_endpoint_config(EndpointConfigName="fraud-config", ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=FRAUD, EndpointConfigName="fraud-config")


REASONS = {
    "serverless": (f"endpoint {FRAUD}: is a serverless endpoint (variant AllTraffic of endpoint config fraud-config has "
                   "a ServerlessConfig): SageMaker does not support Data Capture for serverless inference "
                   "(https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html, feature exclusions)",
                   "a real-time endpoint on instances"),
    "multi-model": (f"endpoint {FRAUD}: hosts a multi-model endpoint (model fraud-xgb has a container in Mode "
                    "MultiModel): Model Monitor supports only endpoints that host a single model "
                    "(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html)",
                    "an endpoint of its own (one model, Mode SingleModel)"),
}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_plan_refuses_an_endpoint_model_monitor_cannot_monitor(aws, tmp_path, kind):
    deploy_foundation(aws)
    deploy(aws, kind)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(staging_params(tmp_path), None, lambda: clients(aws, client("sagemaker", aws)), Lines())
    reason, what = REASONS[kind]
    [line] = str(error.value).splitlines()[1:]
    assert line.startswith(reason)
    assert f"fix: Model Monitor cannot monitor it as it is: remove endpoints.<key> from the params file (or its " \
           f"monitors), or ask its owner for {what}" in line
    assert "make adopt" not in line  # adopt cannot help: the reason is the kind of endpoint, not its capture


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_plan_refuses_it_before_the_foundation_exists_too(aws, tmp_path, kind):
    deploy(aws, kind)  # no foundation yet: the capture check waits, the kind of endpoint is known already
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(staging_params(tmp_path), None, lambda: clients(aws, client("sagemaker", aws)), Lines())
    assert str(error.value).splitlines()[1].startswith(REASONS[kind][0])


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_adopt_refuses_it_and_changes_nothing(aws, tmp_path, kind):
    deploy_foundation(aws)
    deploy(aws, kind)
    params = staging_params(tmp_path)
    sagemaker = client("sagemaker", aws)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.run_adopt(params, clients(aws, sagemaker), target_from_fleet(params, params.endpoint("fraud")),
                        yes=True, out=Lines())
    lines = str(error.value).splitlines()
    assert lines[0] == f"cannot adopt endpoint {FRAUD} (endpoints.fraud); nothing was changed:"
    assert lines[1].startswith(REASONS[kind][0])
    assert [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]] == ["fraud-config"]
    assert sagemaker.describe_endpoint(EndpointName=FRAUD)["EndpointConfigName"] == "fraud-config"


def test_a_real_time_single_model_endpoint_is_not_taken_for_one():
    """The checks can pass: instances and a SingleModel container are monitorable (only capture is off here)."""
    config = {"EndpointConfigName": "c", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m",
                                                                 "InstanceType": "ml.c5.xlarge"}]}
    endpoint = {"EndpointName": FRAUD, "EndpointStatus": "InService", "EndpointConfigName": "c"}
    expected = adopt.CaptureExpectations("b", "datacapture/fraud", "arn:aws:kms:eu-west-1:1:key/k")
    models = {"m": {"ModelName": "m", "PrimaryContainer": {"Image": IMAGE, "Mode": "SingleModel"}}}
    assert [p.check for p in check_endpoint(endpoint, config, expected, models=models)] == ["capture-off"]


def test_status_names_a_multi_model_endpoint_with_the_reason(aws, tmp_path):
    """`make status` reads the existing endpoint's models too: the finding says why monitoring cannot work."""
    from mmtool.operate import status

    from .fleet_env import create_dq_definition
    from .monitoring_env import now_utc, sagemaker_client
    from .test_fleet_status import expect

    deploy_foundation(aws)
    deploy(aws, "multi-model")
    create_dq_definition(aws, "fraud", FRAUD)
    now = now_utc()
    sagemaker, stub = sagemaker_client(aws)
    expect(stub, now, keys=("fraud",))
    printed: list[str] = []
    with stub:
        code = status.run_status(staging_params(tmp_path), clients(aws, sagemaker), now=now, hours=1,
                                 json_output=True, out=printed.append, endpoint="fraud")
    document = json.loads(printed[0])
    [finding] = [f for f in document["findings"] if f["rule"] == "existing-endpoint-not-ready"]
    assert code == 1
    assert finding["problem"].startswith(f"endpoint {FRAUD} (endpoints.fraud): hosts a multi-model endpoint")
    assert [p["check"] for p in document["endpoints"][0]["capture_check"]["problems"]] == ["multi-model-endpoint"]
