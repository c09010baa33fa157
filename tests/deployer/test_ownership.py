"""Ownership (deployer/ownership.py): a stack with one of this environment's names is acted on only when its
Project and Environment tags say it is this environment's.

The reported case: ``project: churn-ta, environment: ab`` and ``project: churn, environment: ta`` with a fleet
endpoint ``ab`` compose the same stack names (``churn-ta-ab-endpoint``, ``churn-ta-ab-monitoring``); ``destroy``
of ab deleted ta's stacks. Both environments are written here as the build writes them and deployed against the
moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployer.errors import InputError
from deployer.manifest import load_manifest

from .conftest import run
from .envs import Env, fleet_env, ssm_param


def renamed(env: Env, project: str, environment: str, names: dict[str, str]) -> Env:
    """Rewrite the manifest as the build of ``project``/``environment`` would name it (stack names and tags)."""
    manifest = json.loads(env.manifest_path.read_text())
    manifest.update(project=project, environment=environment)
    manifest["tags"] = {"Project": project, "Environment": environment}
    for entry in manifest["stacks"]:
        entry["stack_name"] = names[entry["name"]]
    env.manifest_path.write_text(json.dumps(manifest, indent=2))
    return env


def env_ta(root: Path) -> Env:
    """project churn, environment ta, fleet endpoint ab: churn-ta-ab-endpoint, churn-ta-ab-monitoring."""
    env = fleet_env(root, created=["ab"])
    return renamed(env, "churn", "ta", {e["name"]: f"churn-ta-{e['name']}" for e in env.stacks})


def env_ab(root: Path) -> Env:
    """project churn-ta, environment ab, one endpoint (the single-endpoint form): churn-ta-ab-<kind>."""
    env = fleet_env(root, created=["x"])
    names = {e["name"]: f"churn-ta-ab-{e['name'].removeprefix('x-')}" for e in env.stacks}
    return renamed(env, "churn-ta", "ab", names)


def stack_names(cf: Any) -> set[str]:
    return {s["StackName"] for s in cf.describe_stacks()["Stacks"]}


@pytest.fixture
def ta_deployed(tmp_path: Path, clients: Any, cf: Any) -> Env:
    ta = env_ta(tmp_path / "ta")
    assert run("deploy", ta.manifest_path, clients).code == 0
    assert {"churn-ta-ab-endpoint", "churn-ta-ab-monitoring"} <= stack_names(cf)
    return ta


def test_the_two_environments_compose_the_same_stack_names(tmp_path: Path) -> None:
    ta = load_manifest(env_ta(tmp_path / "ta").manifest_path)
    ab = load_manifest(env_ab(tmp_path / "ab").manifest_path)
    assert {s.stack_name for s in ta.stacks} & {s.stack_name for s in ab.stacks} == {
        "churn-ta-ab-endpoint", "churn-ta-ab-monitoring"}


def test_destroy_never_deletes_another_environments_stacks(ta_deployed, tmp_path, clients, calls, cf) -> None:
    ab = env_ab(tmp_path / "ab")
    before = stack_names(cf)

    result = run("destroy", ab.manifest_path, clients)

    assert result.code == 3, result.text
    assert stack_names(cf) == before  # ta's endpoint and monitoring stacks are still there
    assert calls.count("DeleteStack") == 0 and calls.count("DeleteNetworkInterface") == 0
    text = result.text
    assert "churn-ta-ab-endpoint: its tags say Project=churn, Environment=ta" in text
    assert "churn-ta-ab-monitoring: its tags say Project=churn, Environment=ta" in text
    assert "not to Project=churn-ta, Environment=ab" in text and "nothing was changed" in text
    assert "params/ab.yaml" in text


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_plan_and_deploy_refuse_before_any_change(ta_deployed, tmp_path, clients, calls, cf, command) -> None:
    ab = env_ab(tmp_path / "ab")
    before = {s["StackName"]: s["LastUpdatedTime"] if "LastUpdatedTime" in s else s["CreationTime"]
              for s in cf.describe_stacks()["Stacks"]}

    result = run(command, ab.manifest_path, clients)

    assert result.code == 3, result.text
    assert "churn-ta-ab-endpoint: its tags say Project=churn, Environment=ta" in result.text
    assert calls.count("CreateChangeSet") == 0 and calls.count("PutObject") == 0
    after = {s["StackName"]: s["LastUpdatedTime"] if "LastUpdatedTime" in s else s["CreationTime"]
             for s in cf.describe_stacks()["Stacks"]}
    assert after == before  # ab's foundation was not created either: the refusal comes before any change


def test_an_endpoint_run_refuses_a_shared_stack_of_another_environment(ta_deployed, tmp_path, clients, calls) -> None:
    """ab's endpoint run would upload its assets into the bucket of the foundation stack it depends on."""
    ab = fleet_env(tmp_path / "ab", created=["x"])
    renamed(ab, "churn-ta", "ab", {e["name"]: f"churn-ta-{e['name']}" for e in ab.stacks})  # ta's shared names

    result = run("deploy", ab.manifest_path, clients, endpoint="x")

    assert result.code == 3, result.text
    assert "churn-ta-foundation: its tags say Project=churn, Environment=ta" in result.text
    assert calls.count("CreateChangeSet") == 0 and calls.count("PutObject") == 0


def test_a_stack_without_the_tags_is_not_proven_ours(tmp_path, clients, calls, cf) -> None:
    ab = env_ab(tmp_path / "ab")
    template = {"Resources": {"Note": ssm_param("/made/by/hand", "x")}}
    cf.create_stack(StackName="churn-ta-ab-alarms", TemplateBody=json.dumps(template))  # by hand, no tags

    result = run("destroy", ab.manifest_path, clients)

    assert result.code == 3, result.text
    assert "churn-ta-ab-alarms: it carries no Project or Environment tag" in result.text
    assert "churn-ta-ab-alarms" in stack_names(cf) and calls.count("DeleteStack") == 0


def test_the_environments_own_stacks_are_destroyed(ta_deployed, clients, cf) -> None:
    assert run("destroy", ta_deployed.manifest_path, clients).code == 0
    assert not {n for n in stack_names(cf) if n.startswith("churn-ta-")}


def test_a_manifest_without_its_ownership_tags_is_refused(tmp_path) -> None:
    env = env_ab(tmp_path / "ab")
    manifest = json.loads(env.manifest_path.read_text())
    manifest["tags"]["Environment"] = "ta"
    env.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=r"tags.Environment must be 'ab' \(got 'ta'\)"):
        load_manifest(env.manifest_path)
