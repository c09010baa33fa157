"""`build.py plan|deploy|outputs` wired to the deploy engine, against a real moto server.

The engine's own behaviour is tested in tests/deployer/; here: the commands build first, reach the
engine through our single error boundary, and keep JSON output clean of build messages.
"""

from __future__ import annotations

import json

import pytest

from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
from mmtool.cli import main

from . import lint_cache
from .conftest import scratch_root


@pytest.fixture(scope="module")
def server():
    with MotoServer() as moto:
        yield moto


@pytest.fixture(scope="module")
def warm_lint_cache(tmp_path_factory):
    """dev and staging built and linted once for this file (tests/lint_cache.py)."""
    return lint_cache.warm(scratch_root(tmp_path_factory.mktemp("lint-cache")), ["dev", "staging"])


@pytest.fixture
def scratch(tmp_path, warm_lint_cache):
    """tests/conftest.scratch, with the clean lint results of this file's first build: every command here still
    builds its environment first, as a user's does; cfn-lint runs again only for a template that changed."""
    return lint_cache.reuse(warm_lint_cache, scratch_root(tmp_path))


@pytest.fixture
def aws_env(monkeypatch, tmp_path, server):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    server.reset()
    return ["--endpoint-url", server.url, "--skip-account-check"]


def test_deploy_then_plan_shows_no_changes(scratch, aws_env, capsys):
    assert main(["deploy", "--env", "dev", "--yes", *aws_env], paths=scratch) == 0
    assert (scratch.build / "dev" / "manifest.json").exists(), "deploy builds first"
    capsys.readouterr()
    assert main(["plan", "--env", "dev", "--json", *aws_env], paths=scratch) == 0
    out = capsys.readouterr().out
    plan = json.loads(out)  # nothing but JSON on stdout: build messages go to stderr
    assert plan["has_changes"] is False, plan
    assert plan["summary"] == {"add": 0, "change": 0, "destroy": 0, "replace": 0}
    assert [s["name"] for s in plan["stacks"]] == ["foundation", "network", "endpoint", "monitoring", "alarms"]


def test_outputs_as_json_after_deploy(scratch, aws_env, capsys):
    assert main(["deploy", "--env", "dev", "--yes", *aws_env], paths=scratch) == 0
    capsys.readouterr()
    assert main(["outputs", "--env", "dev", "--json", *aws_env], paths=scratch) == 0
    outputs = json.loads(capsys.readouterr().out)
    text = json.dumps(outputs)
    assert "BucketName" in text and "JobSecurityGroupId" in text


def test_engine_errors_pass_through_the_boundary_with_their_exit_code(scratch, aws_env, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code = main(["outputs", "--env", "dev", *aws_env[:2]], paths=scratch)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "credentials" in err


def test_deploy_without_environment_is_a_usage_error(scratch, capsys):
    assert main(["deploy"], paths=scratch) == 2
    assert "deploy needs an environment" in capsys.readouterr().err


def test_catalog_takes_the_lock_and_unlock_removes_a_stale_one(scratch, aws_env, capsys, server):
    """`make catalog` changes the account, so it holds the environment lock like deploy; `make unlock`
    goes through the same CLI boundary (it builds first, like every deploy verb)."""
    import boto3

    from deployer.lock import Holder, legacy_name

    ssm = boto3.client("ssm", region_name="eu-west-1", endpoint_url=server.url)
    name = legacy_name("churn", "dev")  # a lock of an earlier version (or by hand) is honoured and removable
    stale = Holder.mine("arn:aws:iam::123456789012:user/pipeline", "deploy")
    ssm.put_parameter(Name=name, Value=stale.to_value(), Type="String")

    assert main(["catalog", "--env", "dev", "--yes", *aws_env], paths=scratch) == 6
    err = capsys.readouterr().err
    assert "churn dev is locked" in err and "user/pipeline" in err and "make unlock ENV=dev" in err
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == stale.to_value()  # not taken over

    assert main(["unlock", "--env", "dev", "--yes", *aws_env], paths=scratch) == 0
    assert "lock removed" in capsys.readouterr().out
    assert ssm.get_parameters(Names=[name])["Parameters"] == []


@pytest.mark.parametrize("command", ["unlock", "plan", "destroy", "outputs"])
def test_an_endpoint_key_params_does_not_have_is_refused_with_the_known_keys(scratch, capsys, command):
    """`make unlock ENV=staging ENDPOINT=nope` must not say "not locked" (nor plan nothing): the key is a typo. Refused
    before any AWS call (no credentials or server here), exit 2, with the keys the file has."""
    args = [command, "--env", "staging", "--endpoint", "nope"] + (["--yes"] if command in ("unlock", "destroy") else [])
    code = main(args, paths=scratch)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "has no endpoint 'nope'" in err and "churn, upsell, fraud" in err and "Traceback" not in err
    assert not (scratch.build / "staging").exists(), "a typo'd key is refused before anything is built"
