"""Saved plans against the moto server (issue 21): ``plan --out FILE`` keeps its change sets and writes FILE;
``deploy --plan FILE`` executes exactly those change sets after checking that nothing changed since (the build,
the stacks, the Parameter Store values they read) and refuses a stale plan, before any change, with the reason
and the command that plans again; the next plan of the environment deletes the change sets of a plan left
unused."""

from __future__ import annotations

import json

import boto3
import pytest

from .conftest import CallLog, run
from .envs import PREFIX, REGION, fleet_env, full_env


def saved_change_sets(cf, env) -> dict[str, list[str]]:
    found = {}
    for entry in env.stacks:
        name = env.stack_name(entry["name"])
        found[name] = [s["ChangeSetName"] for s in cf.list_change_sets(StackName=name)["Summaries"]
                       if s["ExecutionStatus"] == "AVAILABLE"]
    return {k: v for k, v in found.items() if v}


@pytest.fixture
def retention_changed(tmp_path, clients):
    """A deployed environment whose build now changes the foundation's retention (14 → 30), which the alarms
    stack reads through Parameter Store."""
    env = full_env(tmp_path / "build")
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["foundation"]["CaptureRetentionDays"] = "30"
    env.write()
    return env


def test_a_saved_plan_is_applied_with_exactly_its_change_sets(retention_changed, clients, cf, tmp_path):
    env = retention_changed
    path = tmp_path / "plans" / "prod.plan.json"

    planned = run("plan", env.manifest_path, clients, out=path)

    assert planned.code == 0, planned.text
    text = " ".join(planned.out.split())  # (rich wraps long lines)
    assert f"Saved plan: {path}. Apply exactly this plan with `make deploy ENV=test ARGS=\"--plan {path}\"`" in text
    saved = json.loads(path.read_text())
    foundation = next(s for s in saved["stacks"] if s["name"] == "foundation")
    assert foundation["action"] == "update" and ":changeSet/mmtool-saved-" in foundation["change_set_id"]
    assert foundation["stack"]["stack_id"].startswith("arn:aws:cloudformation:")
    alarms = next(s for s in saved["stacks"] if s["name"] == "alarms")
    assert alarms["ssm_values"][f"{PREFIX}/foundation/retention-days"] == "14"  # what the plan saw
    assert saved["build_sha256"] and saved["plan"]["summary"]["change"] >= 1
    assert list(saved_change_sets(cf, env)) == [env.stack_name("foundation")]  # kept, not deleted

    log = CallLog().attach(clients)
    applied = run("deploy", env.manifest_path, clients, plan_file=path)

    assert applied.code == 0, applied.text
    executed = [c.params["ChangeSetName"] for c in log.of("ExecuteChangeSet")]
    assert executed[0] == foundation["change_set_id"]  # the reviewed change set, not a new one
    created = [c.params["StackName"] for c in log.of("CreateChangeSet")]
    assert env.stack_name("foundation") not in created
    # the alarms stack reads the retention, which its upstream stack just changed: compared again, as the plan said
    assert created == [env.stack_name("alarms")]
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=clients.cloudformation.meta.endpoint_url)
    assert ssm.get_parameter(Name=f"{PREFIX}/foundation/retention-days")["Parameter"]["Value"] == "30"
    # applied once: the same file is stale now
    again = run("deploy", env.manifest_path, clients, plan_file=path)
    assert again.code == 3 and "is stale" in str(again.error)


def test_a_saved_plan_of_a_new_environment_creates_it(tmp_path, clients, cf):
    env = full_env(tmp_path / "build")
    path = tmp_path / "new.plan.json"
    assert run("plan", env.manifest_path, clients, out=path).code == 0

    applied = run("deploy", env.manifest_path, clients, plan_file=path)

    assert applied.code == 0, applied.text
    assert all(cf.describe_stacks(StackName=env.stack_name(e["name"]))["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
               for e in env.stacks)


def _change_the_build(env, cf, ssm):
    env.templates["app"]["Parameters"]["SamplingPercentage"]["Default"] = "50"
    env.write()
    return "the build changed since"


def _change_a_stack(env, cf, ssm):
    name = env.stack_name("network")
    body = cf.get_template(StackName=name)["TemplateBody"]
    cf.update_stack(StackName=name, TemplateBody=body if isinstance(body, str) else json.dumps(body),
                    Parameters=[{"ParameterKey": "VpcCidr", "ParameterValue": "10.30.0.0/20"},
                                {"ParameterKey": "BucketName", "UsePreviousValue": True}],
                    Tags=[{"Key": "changed-by", "Value": "someone-else"}])
    return f"{name}: it changed since"


def _change_a_parameter_store_value(env, cf, ssm):
    ssm.put_parameter(Name=f"{PREFIX}/network/subnet-ids", Value="subnet-cccc,subnet-dddd", Type="StringList",
                      Overwrite=True)
    return (f"{env.stack_name('app')}: Parameter Store {PREFIX}/network/subnet-ids changed since: "
            '"subnet-aaaa,subnet-bbbb" → "subnet-cccc,subnet-dddd"')


@pytest.mark.parametrize("change", [_change_the_build, _change_a_stack, _change_a_parameter_store_value],
                         ids=["build", "stack", "ssm-value"])
def test_a_stale_saved_plan_is_refused_with_the_reason(retention_changed, clients, cf, tmp_path, change):
    env = retention_changed
    path = tmp_path / "plan.json"
    assert run("plan", env.manifest_path, clients, out=path).code == 0
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=clients.cloudformation.meta.endpoint_url)
    reason = change(env, cf, ssm)
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients, plan_file=path)

    assert result.code == 3, result.text
    message = str(result.error)
    assert f"{path} is stale" in message and reason in message
    assert "Nothing was changed" in message
    assert f"plan again (`make plan ENV=test ARGS=\"--out {path}\"`)" in message
    assert f'make deploy ENV=test ARGS="--plan {path}"' in message
    for write in ("ExecuteChangeSet", "CreateChangeSet", "PutObject", "SetStackPolicy"):
        assert log.count(write) == 0, write


def test_the_next_plan_deletes_the_change_sets_of_an_unused_saved_plan(retention_changed, clients, cf, tmp_path):
    env = retention_changed
    path = tmp_path / "plan.json"
    assert run("plan", env.manifest_path, clients, out=path).code == 0
    assert saved_change_sets(cf, env)

    later = run("plan", env.manifest_path, clients)

    assert later.code == 0, later.text
    assert f"{env.stack_name('foundation')}: deleted 1 change set(s) of an unused saved plan" in " ".join(later.out.split())
    assert saved_change_sets(cf, env) == {}  # neither the saved plan's nor the later plan's own
    result = run("deploy", env.manifest_path, clients, plan_file=path)
    assert result.code == 3 and "its change set is gone" in str(result.error)


def test_a_saved_plan_of_another_environment_is_an_input_error(retention_changed, clients, tmp_path):
    path = tmp_path / "plan.json"
    assert run("plan", retention_changed.manifest_path, clients, out=path).code == 0
    data = json.loads(path.read_text())
    data["environment"] = "prod"
    path.write_text(json.dumps(data))

    result = run("deploy", retention_changed.manifest_path, clients, plan_file=path)

    assert result.code == 2 and "a plan of churn prod in eu-west-1, not of churn test" in str(result.error)


def test_a_saved_plan_of_one_fleet_endpoint(tmp_path, clients, cf):
    """--endpoint KEY: the plan, its file and its cleanup cover that endpoint's stacks only."""
    env = fleet_env(tmp_path / "build", created=["churn", "fraud"])
    assert run("deploy", env.manifest_path, clients).code == 0
    env.parameters["churn-monitoring"]["SamplingPercentage"] = "40"
    env.parameters["fraud-monitoring"]["SamplingPercentage"] = "40"
    env.write()
    path = tmp_path / "churn.plan.json"

    assert run("plan", env.manifest_path, clients, out=path, endpoint="churn").code == 0

    saved = json.loads(path.read_text())
    assert saved["endpoint"] == "churn"
    assert sorted(s["name"] for s in saved["stacks"]) == ["churn-endpoint", "churn-monitoring"]
    assert list(saved_change_sets(cf, env)) == [env.stack_name("churn-monitoring")]
    log = CallLog().attach(clients)
    applied = run("deploy", env.manifest_path, clients, plan_file=path, endpoint="churn")
    assert applied.code == 0, applied.text
    assert [c.params["ChangeSetName"] for c in log.of("ExecuteChangeSet")] == [
        next(s["change_set_id"] for s in saved["stacks"] if s["name"] == "churn-monitoring")]
    # the file names its endpoint: the whole environment's deploy refuses it
    whole = run("deploy", env.manifest_path, clients, plan_file=path)
    assert whole.code == 2 and "endpoint churn" in str(whole.error)
