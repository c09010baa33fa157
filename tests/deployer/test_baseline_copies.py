"""Baseline copies are engine assets (deployer/uploads.py): the manifest's ``copies`` are copied into the project
bucket, SSE-KMS with the project key, right after the bucket's stack and before any stack that reads them, with the
run's own clients (its credentials, profile and endpoint URL), listed in the plan, and checked by content against
their source on every run. Against the moto server, with a second bucket standing for `churn-baselines-*`."""

from __future__ import annotations

import json
from typing import Any

from .conftest import CallLog, run
from .envs import PREFIX, REGION, fleet_env, full_env

OUTSIDE = "churn-baselines-444455556666"


def with_copies(env: Any, *copies: tuple[str, str, str | None]) -> Any:
    """(source path in OUTSIDE, copy key, endpoint) entries in the manifest, as the build writes them."""
    manifest = json.loads(env.manifest_path.read_text())
    manifest["copies"] = [{"field": f"monitoring.data_quality.baseline.{path.rsplit('/', 1)[-1][:-5]}",
                           "source": f"s3://{OUTSIDE}/{path}", "key": key, "endpoint": endpoint}
                          for path, key, endpoint in copies]
    env.manifest_path.write_text(json.dumps(manifest))
    return env


def outside(s3: Any, **objects: bytes) -> None:
    s3.create_bucket(Bucket=OUTSIDE, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name, body in objects.items():  # dq__constraints_json -> dq/constraints.json
        s3.put_object(Bucket=OUTSIDE, Key=name.replace("__", "/").replace("_json", ".json"), Body=body)


def bucket_of(clients: Any) -> str:
    return clients.ssm.get_parameter(Name=f"{PREFIX}/foundation/bucket-name")["Parameter"]["Value"]


CONSTRAINTS = ("dq/constraints.json", "baselines/imported/1111/constraints.json", None)
STATISTICS = ("dq/statistics.json", "baselines/imported/2222/statistics.json", None)


def test_copies_are_made_before_the_stacks_that_read_them_under_the_project_key(tmp_path, clients, calls, s3):
    env = with_copies(full_env(tmp_path), CONSTRAINTS, STATISTICS)
    outside(s3, dq__constraints_json=b'{"c": 1}', dq__statistics_json=b'{"s": 1}')

    result = run("deploy", env.manifest_path, clients)

    assert result.code == 0, result.text
    bucket = bucket_of(clients)
    for (path, key, _), body in ((CONSTRAINTS, b'{"c": 1}'), (STATISTICS, b'{"s": 1}')):
        copy = s3.get_object(Bucket=bucket, Key=key)
        assert copy["Body"].read() == body
        assert copy["ServerSideEncryption"] == "aws:kms" and copy["SSEKMSKeyId"].startswith("arn:aws:kms:")
        assert f"baseline s3://{OUTSIDE}/{path} → s3://{bucket}/{key}" in result.out
    first_copy = calls.index("CopyObject")
    readers = [i for i, c in enumerate(calls.calls) if c.operation == "CreateChangeSet"
               and c.params["StackName"] != env.stack_name("foundation")]
    assert readers and first_copy < min(readers)  # after the bucket's stack, before every stack that reads them
    again = run("deploy", env.manifest_path, clients)
    assert again.code == 0 and "No changes." in again.out  # verified by content: nothing copied again


def test_the_plan_lists_copies_to_make_and_a_changed_source_is_copied_again(tmp_path, clients, s3):
    env = with_copies(full_env(tmp_path), CONSTRAINTS)
    outside(s3, dq__constraints_json=b'{"c": 1}')
    assert run("deploy", env.manifest_path, clients).code == 0
    bucket = bucket_of(clients)
    s3.put_object(Bucket=OUTSIDE, Key="dq/constraints.json", Body=b'{"c": 2}')  # a new baseline at the same URI

    plan = run("plan", env.manifest_path, clients)
    assert plan.code == 0 and f"+ s3://{bucket}/{CONSTRAINTS[1]}" in plan.out
    assert run("deploy", env.manifest_path, clients).code == 0
    assert s3.get_object(Bucket=bucket, Key=CONSTRAINTS[1])["Body"].read() == b'{"c": 2}'

    s3.put_object(Bucket=bucket, Key=CONSTRAINTS[1], Body=b'{"c": "planted"}')  # the copy overwritten in place
    result = run("deploy", env.manifest_path, clients)
    assert result.code == 0, result.text
    assert "does not hold the build's content" in result.out
    assert s3.get_object(Bucket=bucket, Key=CONSTRAINTS[1])["Body"].read() == b'{"c": 2}'


def test_an_unreadable_source_is_a_plan_warning_and_stops_the_deploy_before_its_readers(tmp_path, clients, cf, s3):
    env = with_copies(full_env(tmp_path), CONSTRAINTS, STATISTICS)
    outside(s3, dq__constraints_json=b'{"c": 1}')  # the statistics are missing

    plan = run("plan", env.manifest_path, clients)
    assert plan.code == 0
    result = run("deploy", env.manifest_path, clients)

    assert result.code == 1, result.text
    assert f"monitoring.data_quality.baseline.statistics=s3://{OUTSIDE}/dq/statistics.json: cannot be read" in result.text
    assert "s3:GetObject" in result.text and "kms:Decrypt" in result.text
    deployed = {s["StackName"] for s in cf.describe_stacks()["Stacks"]}
    assert env.stack_name("foundation") in deployed and env.stack_name("app") not in deployed


def test_an_endpoint_run_copies_only_its_endpoints_baselines(tmp_path, clients, calls, s3):
    env = with_copies(fleet_env(tmp_path, ["a", "b"]),
                      ("a/constraints.json", "baselines/a/imported/1/constraints.json", "a"),
                      ("b/constraints.json", "baselines/b/imported/2/constraints.json", "b"))
    outside(s3, a__constraints_json=b"a", b__constraints_json=b"b")
    assert run("deploy", env.manifest_path, clients).code == 0
    bucket = bucket_of(clients)
    for key in ("baselines/a/imported/1/constraints.json", "baselines/b/imported/2/constraints.json"):
        s3.delete_object(Bucket=bucket, Key=key)
    log = CallLog().attach(clients)

    assert run("deploy", env.manifest_path, clients, endpoint="a").code == 0

    assert [c.params["Key"] for c in log.of("CopyObject")] == ["baselines/a/imported/1/constraints.json"]
