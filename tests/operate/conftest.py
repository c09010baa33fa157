"""Fixtures for the commands that call AWS outside a deploy (baseline, dry run from S3).

* ``moto``: one moto server per session (the deploy engine's ``deployer.moto_server.MotoServer``: a real
  subprocess on 127.0.0.1, a free port, killed at teardown), with moto's request recorder writing to a
  temporary file, so a test can read the exact request the server received.
* ``aws``: resets the server (``POST /moto-api/reset``) and the recording before each test, and points
  boto3 at it through ``AWS_ENDPOINT_URL``, as a user's environment would.
* every test runs with fake credentials, no profile, no config file and the metadata service disabled,
  so nothing can reach AWS.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from deployer.moto_server import FAKE_CREDENTIALS, MOTO_ACCOUNT, MotoServer
from mmtool.config.workspace import Paths

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"  # params/dev.yaml's
BUCKET = "churn-dev-bucket-1x2y3z"
ROLE_ARN = f"arn:aws:iam::{MOTO_ACCOUNT}:role/churn-dev-monitoring"
SUBNETS = "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2"
SECURITY_GROUP = "sg-0ccccccccccccccc3"


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    recording = tmp_path_factory.mktemp("moto") / "recording.jsonl"
    with MotoServer(env={"MOTO_RECORDER_FILEPATH": str(recording)}) as server:
        yield server


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "MM_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto.reset()
    moto.post("/moto-api/recorder/reset-recording")
    moto.post("/moto-api/recorder/start-recording")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    return moto


def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere in the chain (the endpoint stays local in case one turns up)."""
    for name in FAKE_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


def client(service: str, server: MotoServer) -> Any:
    """A client for the test's own set-up and checks."""
    return boto3.client(service, region_name=REGION, endpoint_url=server.url)


def recorded(server: MotoServer, target: str) -> list[dict[str, Any]]:
    """The JSON bodies of the requests with this X-Amz-Target the server received (moto's recorder)."""
    bodies = []
    for line in server.post("/moto-api/recorder/download-recording").decode().splitlines():
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        if headers.get("x-amz-target") != target:
            continue
        body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else entry["body"].encode()
        bodies.append(json.loads(body))
    return bodies


def deploy_foundation_and_network(server: MotoServer) -> str:
    """What the deployed foundation and network stacks leave behind: the bucket, the key and the five SSM
    parameters the commands read. Returns the key ARN."""
    client("s3", server).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    key_arn = client("kms", server).create_key(Description="churn-dev")["KeyMetadata"]["Arn"]
    ssm = client("ssm", server)
    for name, value, kind in (
        ("/churn/dev/foundation/bucket-name", BUCKET, "String"),
        ("/churn/dev/foundation/kms-key-arn", key_arn, "String"),
        ("/churn/dev/foundation/monitoring-role-arn", ROLE_ARN, "String"),
        ("/churn/dev/network/subnet-ids", SUBNETS, "StringList"),
        ("/churn/dev/network/job-security-group-id", SECURITY_GROUP, "String"),
    ):
        ssm.put_parameter(Name=name, Value=value, Type=kind)
    return key_arn


def scratch(tmp: Path, **dev_changes: Any) -> Paths:
    """params/ and scripts/ copied to `tmp`; params/dev.yaml gets moto's account id and `dev_changes`
    (dotted keys, e.g. {"monitoring.data_quality.baseline": {...}})."""
    for folder in ("params", "scripts"):
        shutil.copytree(REPO / folder, tmp / folder)
    path = tmp / "params" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["account_id"] = MOTO_ACCOUNT
    for dotted, value in dev_changes.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return Paths(tmp)
