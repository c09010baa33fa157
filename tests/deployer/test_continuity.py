"""Data continuity (deployer/continuity.py): a deploy after a destroy finds the bucket and key the destroy kept,
by their CloudFormation tags and the environment's, and stops with how to take them back instead of creating new
ones (against the moto server, which tags what CloudFormation creates as CloudFormation does: moto_server.py)."""

from __future__ import annotations

import json
from typing import Any

from .conftest import CallLog, run
from .envs import foundation_env


def encrypted_foundation(tmp_path: Any) -> Any:
    """The data stack, its bucket encrypted with its key (as the real foundation template's)."""
    env = foundation_env(tmp_path)
    env.templates["foundation"]["Resources"]["Bucket"]["Properties"]["BucketEncryption"] = {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["KmsKey", "Arn"]}}}]}
    return env.write()


def outputs(cf: Any, stack: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}


def destroyed(env: Any, clients: Any, cf: Any, s3: Any) -> dict[str, str]:
    assert run("deploy", env.manifest_path, clients).code == 0
    kept = outputs(cf, env.stack_name("foundation"))
    s3.put_object(Bucket=kept["BucketName"], Key="datacapture/2026/12/06/capture.jsonl", Body=b"{}\n")
    destroy = run("destroy", env.manifest_path, clients)
    assert destroy.code == 0 and "A later deploy of this environment finds them" in destroy.out
    assert cf.describe_stacks()["Stacks"] == []
    return kept


def test_a_deploy_after_a_destroy_stops_and_says_how_to_take_the_data_back(tmp_path, clients, cf, s3):
    env = encrypted_foundation(tmp_path)
    kept = destroyed(env, clients, cf, s3)
    log = CallLog().attach(clients)

    plan = run("plan", env.manifest_path, clients)
    assert plan.code == 0 and f"a destroy of this environment kept Bucket {kept['BucketName']}" in plan.out
    result = run("deploy", env.manifest_path, clients)

    assert result.code == 3, result.text
    text = result.text
    assert f"AWS::S3::Bucket Bucket: {kept['BucketName']}" in text
    assert f"AWS::KMS::Key KmsKey: {kept['KmsKeyArn']}" in text
    assert "Nothing was changed." in text and "--change-set-type IMPORT" in text and "ARGS=--allow-replacement" in text
    assert log.count("CreateChangeSet") == 0 and cf.describe_stacks()["Stacks"] == []
    template = json.loads((env.root / "foundation.import.template.json").read_text())
    assert set(template["Resources"]) == {"Bucket", "KmsKey"} and "Outputs" not in template
    assert all(template["Resources"][r]["DeletionPolicy"] == "Retain" for r in template["Resources"])
    resources = json.loads((env.root / "foundation.import.resources.json").read_text())
    assert {"ResourceType": "AWS::S3::Bucket", "LogicalResourceId": "Bucket",
            "ResourceIdentifier": {"BucketName": kept["BucketName"]}} in resources
    assert {"ResourceType": "AWS::KMS::Key", "LogicalResourceId": "KmsKey",
            "ResourceIdentifier": {"KeyId": kept["KmsKeyArn"]}} in resources


def test_allow_replacement_creates_new_ones_and_names_the_kept(tmp_path, clients, cf, s3):
    env = encrypted_foundation(tmp_path)
    kept = destroyed(env, clients, cf, s3)

    result = run("deploy", env.manifest_path, clients, allow_replacement=True)

    assert result.code == 0, result.text
    assert "--allow-replacement: new ones are created and these stay as they are (orphaned)" in result.out
    assert kept["BucketName"] in result.out
    assert outputs(cf, env.stack_name("foundation"))["BucketName"] != kept["BucketName"]
    assert s3.get_object(Bucket=kept["BucketName"], Key="datacapture/2026/12/06/capture.jsonl")["Body"].read() == b"{}\n"


def test_a_kept_bucket_of_another_environment_is_not_taken_for_ours(tmp_path, clients, cf, s3):
    """Another environment whose names meet ours (docs/deploying.md, 'Ownership') kept a bucket under our stack's
    name: its Project/Environment tags tell it apart."""
    from .test_ownership import renamed

    other = encrypted_foundation(tmp_path / "other")
    renamed(other, "churn-x", "y", {"foundation": other.stack_name("foundation")})  # the same stack name
    kept = destroyed(other, clients, cf, s3)
    env = encrypted_foundation(tmp_path / "ours")

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    assert kept["BucketName"] not in result.out
    assert outputs(cf, env.stack_name("foundation"))["BucketName"] != kept["BucketName"]


def test_a_leftover_review_stack_after_a_destroy_still_finds_the_kept_data(tmp_path, clients, cf, s3):
    """A deploy interrupted after its first change set (REVIEW_IN_PROGRESS, deleted and created again) must not hide
    the kept bucket; a failed first create's own retained resources (ROLLBACK_COMPLETE) are not a destroy's
    (tests/deployer/test_deploy_states.py)."""
    env = encrypted_foundation(tmp_path)
    kept = destroyed(env, clients, cf, s3)
    cf.create_change_set(StackName=env.stack_name("foundation"), ChangeSetName="left", ChangeSetType="CREATE",
                         TemplateBody=json.dumps(env.templates["foundation"]),
                         Parameters=[{"ParameterKey": "EnvironmentName", "ParameterValue": "test"}],
                         Tags=[{"Key": k, "Value": v} for k, v in env.tags.items()])

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 3, result.text
    assert f"AWS::S3::Bucket Bucket: {kept['BucketName']}" in result.text
