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
    monkeypatch.setattr("mmtool.operate.baseline_copies.warn_unreadable", lambda *a, **k: None)
    monkeypatch.setattr("mmtool.operate.baseline_copies.copy_after_deploy", lambda *a, **k: None)

    code = main([command, "--env", "staging", "--endpoint-url", aws.url], paths)
    err = capsys.readouterr().err
    assert code == 1 and ran == []
    assert err.splitlines()[-1].endswith("fix: run `make adopt ENV=staging ENDPOINT=fraud`")

    assert main([command, "--env", "staging", "--endpoint", "churn", "--endpoint-url", aws.url], paths) == 0
    assert len(ran) == 1  # churn's stacks only: fraud is not checked
