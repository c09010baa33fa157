"""Fixtures of the analyzer's tests: the reference samples, and a moto server for the processing job's S3 and
CloudWatch calls (the deploy engine's ``deployer.moto_server.MotoServer``: a real subprocess on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.moto_server import FAKE_CREDENTIALS, MotoServer

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "data" / "reference"
CAPTURE = REFERENCE / "capture-samples"
BASELINE = REFERENCE / "baseline-samples"
REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto() -> Any:
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MotoServer:
    """A reset moto server; fake credentials, no profile, no metadata service: nothing reaches AWS."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    moto.reset()
    return moto


def client(service: str, server: MotoServer) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=server.url)
