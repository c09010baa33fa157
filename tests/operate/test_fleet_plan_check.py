"""`make plan` / `make deploy` refuse to schedule an `existing` endpoint whose Data Capture would fail monitoring
(mmtool.operate.adopt.check_before_plan, wired in mmtool.cli.deploy), against the moto server with
params/staging.yaml (churn and upsell created, fraud existing)."""

from __future__ import annotations

import pytest

from mmtool.cli import main
from mmtool.operate import adopt
from mmtool.operate.existing_endpoint import ExistingEndpointError, target_from_fleet

from .fleet_env import FRAUD, deploy_foundation, deploy_fraud, scratch_staging, staging_params
from .monitoring_env import clients
from .conftest import client


class Lines(list):
    def __call__(self, line: str) -> None:
        self.append(line)


def connector(aws, calls):
    def connect():
        calls.append(1)
        return clients(aws, client("sagemaker", aws))
    return connect


def test_an_unready_existing_endpoint_is_refused_with_one_line_per_problem_and_the_fix(aws, tmp_path):
    deploy_foundation(aws)
    deploy_fraud(aws)
    params = staging_params(tmp_path)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(params, None, connector(aws, []), Lines())
    assert str(error.value) == (
        "monitoring would fail for these existing endpoints, so no schedule is created for them:\n"
        f"endpoint {FRAUD}: Data Capture is off (endpoint config fraud-scoring-staging-config-v3 has no "
        "DataCaptureConfig), so monitoring jobs get no data; fix: run `make adopt ENV=staging ENDPOINT=fraud`")


def test_after_adoption_the_check_passes(aws, tmp_path):
    from .test_adopt import waiter

    deploy_foundation(aws)
    deploy_fraud(aws)
    params = staging_params(tmp_path)
    sagemaker = client("sagemaker", aws)
    adopt.run_adopt(params, clients(aws, sagemaker), target_from_fleet(params, params.endpoint("fraud")), yes=True,
                    out=Lines(), waiter=waiter())
    notes = Lines()
    adopt.check_before_plan(params, None, connector(aws, []), notes)
    assert notes == [f"existing endpoint(s) fraud ({FRAUD}): Data Capture ready for monitoring"]


def test_a_missing_endpoint_is_refused_too(aws, tmp_path):
    deploy_foundation(aws)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(staging_params(tmp_path), "fraud", connector(aws, []), Lines())
    assert f"endpoint {FRAUD}: does not exist" in str(error.value)


def test_before_the_foundation_exists_it_says_when_the_check_runs_and_does_not_fail(aws, tmp_path):
    notes = Lines()
    adopt.check_before_plan(staging_params(tmp_path), None, connector(aws, []), notes)
    [note] = notes
    assert note.startswith(f"note: the Data Capture check of the existing endpoint(s) fraud ({FRAUD}) runs once the "
                           "foundation stack of staging exists")


def test_a_run_that_covers_no_existing_endpoint_does_not_call_aws(aws, tmp_path):
    calls: list = []
    adopt.check_before_plan(staging_params(tmp_path), "churn", connector(aws, calls), Lines())
    from .conftest import scratch
    from mmtool.config.loader import load_params

    paths = scratch(tmp_path / "dev")
    adopt.check_before_plan(load_params(paths.params / "dev.yaml", paths.root), None, connector(aws, calls), Lines())
    assert calls == []


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_plan_and_deploy_refuse_before_the_engine_runs(aws, tmp_path, capsys, monkeypatch, command):
    deploy_foundation(aws)
    deploy_fraud(aws)
    paths = scratch_staging(tmp_path / "repo")
    ran: list = []
    monkeypatch.setattr("mmtool.cli.deploy.build", lambda *a, **k: None)  # the build is not what is tested here
    monkeypatch.setattr("deployer.cli.run", lambda *a, **k: ran.append(a) or 0)

    code = main([command, "--env", "staging", "--endpoint-url", aws.url], paths)
    err = capsys.readouterr().err
    assert code == 1 and ran == []
    assert err.splitlines()[-1].endswith("fix: run `make adopt ENV=staging ENDPOINT=fraud`")

    assert main([command, "--env", "staging", "--endpoint", "churn", "--endpoint-url", aws.url], paths) == 0
    assert len(ran) == 1  # churn's stacks only: fraud is not checked


# ------------------------------------------------------------------ model explainability of an existing endpoint


def explained_params(tmp_path, model_name: str = "fraud-xgb"):
    """params/staging.yaml with fraud's model-explainability monitor on, naming `model_name` as its model."""
    import yaml

    from mmtool.config.loader import load_params

    paths = scratch_staging(tmp_path / "repo")
    path = paths.params / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    fraud = data["endpoints"]["fraud"]
    fraud["existing"]["model_name"] = model_name
    fraud["monitoring"].update(clarify={"features": ["amount", "merchant_risk", "hour"]},
                               model_explainability={"enabled": True, "shap": {"baseline": [[42.0, 0.1, 12]]}})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_params(path, paths.root)


def fraud_with_model(aws, *, isolated: bool, model: str = "fraud-xgb") -> None:
    """The fraud team's endpoint, its model created with or without network isolation."""
    sagemaker = client("sagemaker", aws)
    sagemaker.create_model(ModelName=model, ExecutionRoleArn="arn:aws:iam::123456789012:role/fraud-team",
                           PrimaryContainer={"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud:3"},
                           EnableNetworkIsolation=isolated)
    sagemaker.create_endpoint_config(EndpointConfigName="fraud-scoring-staging-config-v3", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.c5.xlarge"}])
    sagemaker.create_endpoint(EndpointName=FRAUD, EndpointConfigName="fraud-scoring-staging-config-v3")


def adopted(aws, params) -> None:
    from .test_adopt import waiter

    adopt.run_adopt(params, clients(aws, client("sagemaker", aws)), target_from_fleet(params, params.endpoint("fraud")),
                    yes=True, out=Lines(), waiter=waiter())


def test_an_existing_endpoint_serving_the_named_open_model_passes_the_explainability_check(aws, tmp_path):
    deploy_foundation(aws)
    fraud_with_model(aws, isolated=False)
    params = explained_params(tmp_path)
    adopted(aws, params)
    notes = Lines()
    adopt.check_before_plan(params, None, connector(aws, []), notes)
    assert notes == [
        f"existing endpoint fraud ({FRAUD}): it serves model fraud-xgb, without network isolation: Clarify's "
        "explainability shadow endpoints can be made from it",
        f"existing endpoint(s) fraud ({FRAUD}): Data Capture ready for monitoring"]


def test_a_model_name_the_endpoint_does_not_serve_is_refused_with_the_name_it_serves(aws, tmp_path):
    deploy_foundation(aws)
    fraud_with_model(aws, isolated=False)
    params = explained_params(tmp_path, "fraud-xgb-2026-10")
    adopted(aws, params)
    config = client("sagemaker", aws).describe_endpoint(EndpointName=FRAUD)["EndpointConfigName"]  # adopt's copy
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(params, "fraud", connector(aws, []), Lines())
    assert str(error.value).splitlines()[1:] == [
        f"endpoint {FRAUD}: endpoints.fraud.existing.model_name is fraud-xgb-2026-10, but the production variant "
        f"AllTraffic of endpoint config {config} serves model fraud-xgb, so Clarify would explain another model than "
        "the one monitored; fix: set endpoints.fraud.existing.model_name: fraud-xgb"]


def test_a_model_with_network_isolation_is_refused_clarify_cannot_call_it(aws, tmp_path):
    deploy_foundation(aws)
    fraud_with_model(aws, isolated=True)
    params = explained_params(tmp_path)
    adopted(aws, params)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(params, None, connector(aws, []), Lines())
    [line] = str(error.value).splitlines()[1:]
    assert line.startswith(f"endpoint {FRAUD}: the model fraud-xgb runs with network isolation "
                           "(EnableNetworkIsolation: true); Clarify's explainability job calls a shadow endpoint")
    assert line.endswith("fix: its owner must deploy the model with EnableNetworkIsolation false (a new model and "
                         "endpoint config), or disable endpoints.fraud.monitoring.model_explainability")


def test_the_model_checks_run_before_the_foundation_exists_and_capture_problems_come_first(aws, tmp_path):
    """On a first deploy the capture check waits for the foundation, the model check does not; with the foundation,
    one refusal lists the capture problem and then the model's."""
    fraud_with_model(aws, isolated=True)
    params = explained_params(tmp_path)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(params, None, connector(aws, []), Lines())
    assert [line.split(": ", 2)[1][:30] for line in str(error.value).splitlines()[1:]] == [
        "the model fraud-xgb runs with "]

    deploy_foundation(aws)
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(params, None, connector(aws, []), Lines())
    lines = str(error.value).splitlines()[1:]
    assert [line.split(": ", 2)[1][:22] for line in lines] == ["Data Capture is off (e", "the model fraud-xgb ru"]


def test_without_the_foundation_a_ready_model_lets_the_run_go_on(aws, tmp_path):
    fraud_with_model(aws, isolated=False)
    notes = Lines()
    adopt.check_before_plan(explained_params(tmp_path), None, connector(aws, []), notes)
    assert [n[:40] for n in notes] == ["existing endpoint fraud (fraud-scoring-s", "note: the Data Capture check of the exis"]


def test_without_the_foundation_and_the_endpoint_neither_check_runs_and_the_notes_say_so(aws, tmp_path):
    notes = Lines()
    adopt.check_before_plan(explained_params(tmp_path), None, connector(aws, []), notes)
    assert notes[0] == (f"note: the model check of the existing endpoint fraud ({FRAUD}) runs once the endpoint and "
                        "its config exist (DescribeEndpoint or DescribeEndpointConfig found none)")
    assert notes[1].startswith("note: the Data Capture check of the existing endpoint(s) fraud") and len(notes) == 2


def test_a_deleted_model_is_refused(aws, tmp_path):
    deploy_foundation(aws)
    fraud_with_model(aws, isolated=False)
    params = explained_params(tmp_path)
    adopted(aws, params)
    client("sagemaker", aws).delete_model(ModelName="fraud-xgb")  # SageMaker lets an owner do this to a live endpoint
    with pytest.raises(ExistingEndpointError) as error:
        adopt.check_before_plan(params, None, connector(aws, []), Lines())
    [line] = str(error.value).splitlines()[1:]
    assert line.startswith(f"endpoint {FRAUD}: the model fraud-xgb it serves does not exist any more (DescribeModel")
