"""Integrity (deployer/integrity.py): templates read from the bucket and the monitoring assets are checked by
content against the build before they are used, against the moto server. The reported case: a template
overwritten in place under cloudformation-templates/<stack>/<sha256>.template.json was deployed as it was."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from deployer.manifest import load_manifest

from .conftest import CallLog, run
from .envs import PREFIX, foundation_env, full_env, ssm_param

PLANTED = "PlantedParameter"


def bucket_of(clients: Any) -> str:
    return clients.ssm.get_parameter(Name=f"{PREFIX}/foundation/bucket-name")["Parameter"]["Value"]


def big_network(tmp_path: Any) -> Any:
    env = full_env(tmp_path)
    env.templates["network"]["Metadata"] = {"Padding": "x" * 60_000}  # over 51,200 bytes: goes through S3
    return env.write()


def template_key(env: Any, name: str) -> tuple[str, dict[str, Any]]:
    spec = load_manifest(env.manifest_path).stack(name)
    return f"cloudformation-templates/{spec.stack_name}/{spec.template_sha256}.template.json", spec.template


def tampered(template: dict[str, Any]) -> bytes:
    bad = json.loads(json.dumps(template))
    bad["Resources"][PLANTED] = ssm_param("/planted/by/someone", "x")
    return json.dumps(bad, separators=(",", ":")).encode()


def resources(cf: Any, stack: str) -> set[str]:
    return {r["LogicalResourceId"] for r in cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]}


def content(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_template_planted_under_the_builds_key_is_replaced_before_use(tmp_path, clients, cf, s3) -> None:
    env = big_network(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.templates["network"]["Metadata"]["Padding"] = "y" * 60_000  # the next build: a new content-hashed key
    env.write()
    key, template = template_key(env, "network")
    bucket = bucket_of(clients)
    s3.put_object(Bucket=bucket, Key=key, Body=tampered(template))  # planted in advance under that key

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert f"s3://{bucket}/{key} does not hold the build's content" in result.out
    assert "overwritten in place. Uploading the build's content again" in result.out
    assert PLANTED not in resources(cf, env.stack_name("network"))
    assert hashlib.sha256(content(s3, bucket, key)).hexdigest() == load_manifest(env.manifest_path).stack("network").template_sha256


def test_a_template_swapped_after_the_check_is_never_executed(tmp_path, clients, cf, s3) -> None:
    """The object changes between the engine's read and CloudFormation's: the change set's own template tells."""
    env = big_network(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    env.templates["network"]["Metadata"]["Padding"] = "z" * 60_000
    env.write()
    key, template = template_key(env, "network")
    bucket = bucket_of(clients)

    def swap(params: dict[str, Any], **_: Any) -> None:
        if "TemplateURL" in params:
            s3.put_object(Bucket=bucket, Key=key, Body=tampered(template))

    clients.cloudformation.meta.events.register("before-parameter-build.cloudformation.CreateChangeSet", swap)
    log = CallLog().attach(clients)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1, result.text
    assert "the template CloudFormation read from the bucket for this change set is not the build's" in result.text
    assert "The change set was deleted without being executed" in result.text
    created = {c.params["StackName"] for c in log.of("CreateChangeSet")}
    assert env.stack_name("network") in created and log.count("DeleteChangeSet") >= 1
    assert env.stack_name("network") not in {c.params["StackName"] for c in log.of("ExecuteChangeSet")}
    assert PLANTED not in resources(cf, env.stack_name("network"))


def test_an_asset_overwritten_in_place_is_uploaded_again(tmp_path, clients, s3) -> None:
    env = foundation_env(tmp_path)
    assert run("deploy", env.manifest_path, clients).code == 0
    bucket = bucket_of(clients)
    s3.put_object(Bucket=bucket, Key=env.asset_key(), Body=b"import os; os.system('curl evil')\n")

    plan = run("plan", env.manifest_path, clients)
    assert f"asset s3://{bucket}/{env.asset_key()} does not hold the build's content (overwritten in place)" in plan.out
    assert f"+ s3://{bucket}/{env.asset_key()}" in plan.out
    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert f"replaced record_preprocessor.py → s3://{bucket}/{env.asset_key()}" in result.out
    assert content(s3, bucket, env.asset_key()) == env.asset
    assert "No changes." in run("deploy", env.manifest_path, clients).out  # verified: nothing to upload now


def test_an_asset_that_stays_wrong_after_the_upload_stops_the_run(tmp_path, clients, s3, cf) -> None:
    """Something keeps writing the key (a process, a replication rule): refused, and no stack that reads it runs."""
    env = full_env(tmp_path)

    def overwrite(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        s3.put_object(Bucket=bucket_of(clients), Key=env.asset_key(), Body=b"# not the build's\n")

    clients.s3.meta.events.register("after-call.s3.PutObject", overwrite)

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1, result.text
    assert f"after uploading the build's content, S3 returns other content" in result.text
    assert "Something else writes this key" in result.text
    deployed = {s["StackName"] for s in cf.describe_stacks()["Stacks"]}
    assert env.stack_name("foundation") in deployed
    assert not {env.stack_name("network"), env.stack_name("app")} & deployed
