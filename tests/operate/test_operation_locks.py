"""`make adopt`, `make run-now`, `make baseline` and `make verify-notifications` change the account, so they take the deploy lock
(mmtool/operate/locking.py): while another run holds it they stop before any SageMaker call, with exit 6 and the
holder, and they take and give back the lock themselves."""

from __future__ import annotations

import boto3
import pytest

from deployer.lock import Holder, claims, legacy_name
from mmtool.cli import main

from .conftest import REGION


def session(aws, env: str) -> boto3.session.Session:
    """The credentials the command uses: staging's deploy role (assumed, another account in moto), dev's own."""
    if env != "staging":
        return boto3.session.Session(region_name=REGION)
    sts = boto3.client("sts", region_name=REGION, endpoint_url=aws.url)
    creds = sts.assume_role(RoleArn="arn:aws:iam::444455556666:role/churn-deployer", RoleSessionName="test")["Credentials"]
    return boto3.session.Session(region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


@pytest.mark.parametrize("argv, env", [
    (["adopt", "--env", "staging", "--endpoint", "fraud", "--yes"], "staging"),
    (["run-now", "--env", "dev"], "dev"),
    (["baseline", "--env", "dev", "--dataset", "s3://somewhere/data.csv"], "dev"),
    (["verify-notifications", "--env", "dev"], "dev"),
], ids=["adopt", "run-now", "baseline", "verify-notifications"])
def test_a_held_lock_stops_the_command_before_any_change(aws, scratch, capsys, argv, env):
    ssm = session(aws, env).client("ssm", endpoint_url=aws.url)
    for name, value in (("foundation/bucket-name", "churn-bucket"), ("foundation/kms-key-arn", "arn:aws:kms:x"),
                        ("network/job-security-group-id", "sg-1"), ("network/subnet-ids", "subnet-1")):
        ssm.put_parameter(Name=f"/churn/{env}/{name}", Value=value, Type="String")  # what adopt reads first
    other = Holder.mine("arn:aws:iam::123456789012:user/pipeline", "deploy")
    ssm.put_parameter(Name=legacy_name("churn", env), Value=other.to_value(), Type="String")

    code = main(argv, paths=scratch)

    err = capsys.readouterr().err
    assert code == 6, err
    assert "is locked: another run is changing" in err and "user/pipeline" in err and "Nothing was changed." in err
    recording = aws.post("/moto-api/recorder/download-recording")
    assert b"SageMaker." not in recording and b"PutObject" not in recording  # no SageMaker call, nothing staged
    assert [c.holder.token for c in claims(ssm, "churn", env)] == [other.token]  # left as it was


def test_the_command_takes_the_lock_and_gives_it_back(aws, scratch, capsys):
    """run-now of an environment with nothing deployed fails on its own; the lock it took is gone after."""
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=aws.url)
    seen: list[list[str]] = []
    import mmtool.cli.run_now as cli_run_now

    original = cli_run_now.run_now_on_engine  # what the command runs under the lock (either engine)

    def watching(*args, **kwargs):
        seen.append([c.holder.operation for c in claims(ssm, "churn", "dev")])
        return original(*args, **kwargs)

    cli_run_now.run_now_on_engine = watching
    try:
        main(["run-now", "--env", "dev"], paths=scratch)
    finally:
        cli_run_now.run_now_on_engine = original
    assert seen == [["run-now"]]
    assert claims(ssm, "churn", "dev") == []
