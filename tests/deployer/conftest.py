"""Fixtures for the deploy engine's tests.

* ``moto``: one moto server per test session, a real subprocess on 127.0.0.1 (free port) started from
  tests/moto_server.py and killed at teardown; ``aws`` resets its state before each test.
* ``clients``: the engine's AwsClients pointed at it (fake credentials, 3 attempts per call).
* ``calls``: every AWS call the engine makes, in order (botocore ``before-call`` hooks on its clients).
* helpers to force a CloudFormation state into moto's backend and to answer the calls moto lacks.

Nothing here can reach AWS: the clients have an explicit endpoint, the credentials are fake, and the
metadata service is disabled.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from rich.console import Console

from deployer import cli
from deployer.aws import AwsClients
from deployer.errors import DeployError
from deployer.moto_server import FAKE_CREDENTIALS, MotoServer

from .envs import REGION

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "moto_server.py"


@pytest.fixture(scope="session")
def moto() -> Any:
    server = MotoServer(command=[sys.executable, str(SERVER_SCRIPT)])
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real profile, endpoint, region or credentials leak into a test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(moto: MotoServer) -> MotoServer:
    moto.reset()
    return moto


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retry mode sleeps up to 20 s between attempts; tests do not wait."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


_SESSION: list[boto3.session.Session] = []


def make_clients(url: str, *, max_attempts: int = 3) -> AwsClients:
    """Fresh clients (hooks registered by one test never reach another) from one shared session, so
    botocore parses each service model once per run instead of once per test."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session(region_name=REGION, aws_access_key_id="testing",
                                              aws_secret_access_key="testing", aws_session_token="testing"))
    return AwsClients.from_session(_SESSION[0], REGION, endpoint_url=url, max_attempts=max_attempts)


@pytest.fixture
def clients(aws: MotoServer) -> AwsClients:
    return make_clients(aws.url)


@pytest.fixture
def cf(aws: MotoServer) -> Any:
    """A plain CloudFormation client for the test's own checks (not counted in ``calls``)."""
    return boto3.client("cloudformation", region_name=REGION, endpoint_url=aws.url)


@pytest.fixture
def s3(aws: MotoServer) -> Any:
    return boto3.client("s3", region_name=REGION, endpoint_url=aws.url)


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    thread: str


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, clients: AwsClients) -> "CallLog":
        for client in all_clients(clients):
            client.meta.events.register("before-parameter-build", self._record)
        return self

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self.lock:
            self.calls.append(
                Call(model.service_model.service_name, model.name, dict(params), threading.current_thread().name)
            )

    def names(self, service: str | None = None) -> list[str]:
        return [c.operation for c in self.calls if service is None or c.service == service]

    def count(self, operation: str) -> int:
        return sum(1 for c in self.calls if c.operation == operation)

    def of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def index(self, operation: str, predicate: Callable[[Call], bool] = lambda c: True) -> int:
        for i, call in enumerate(self.calls):
            if call.operation == operation and predicate(call):
                return i
        raise AssertionError(f"{operation} was never called")


def all_clients(clients: AwsClients) -> list[Any]:
    return [clients.cloudformation, clients.cloudformation_once, clients.s3, clients.ssm, clients.sts, clients.ec2]


@pytest.fixture
def calls(clients: AwsClients) -> CallLog:
    return CallLog().attach(clients)


def answer(client: Any, operation: str, respond: Callable[[dict[str, Any]], dict[str, Any]] | dict[str, Any]) -> list[dict[str, Any]]:
    """Answer ``operation`` at the client (for calls moto 5.2.5 does not implement) with a response shaped
    like the real API's; returns the list of request parameters received."""
    received: list[dict[str, Any]] = []
    service_id = client.meta.service_model.service_id.hyphenize()

    def capture(params: dict[str, Any], **_: Any) -> None:
        received.append(dict(params))

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = respond(received[-1]) if callable(respond) else dict(respond)
        parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RequestId": "test"})
        return AWSResponse("http://answered", 200, {}, None), parsed

    client.meta.events.register(f"before-parameter-build.{service_id}.{operation}", capture)
    client.meta.events.register_first(f"before-call.{service_id}.{operation}", handler)
    return received


def after(client: Any, operation: str, hook: Callable[[dict[str, Any], int], None]) -> None:
    """Run ``hook(parsed_response, n)`` after the n-th (1-based) successful ``operation`` call; the hook may
    change the parsed response in place (how the caller sees it) or force state into moto."""
    service_id = client.meta.service_model.service_id.hyphenize()
    counter = {"n": 0}

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        counter["n"] += 1
        hook(parsed, counter["n"])

    client.meta.events.register(f"after-call.{service_id}.{operation}", handler)


def force(server: MotoServer, stack: str, **payload: Any) -> dict[str, Any]:
    """Put a CloudFormation state into moto's backend (see tests/moto_server.py)."""
    body = json.dumps({"region": REGION, "stack": stack, **payload}).encode()
    return json.loads(server.post("/_test/cloudformation", body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def http_error(status: int, code: str, message: str) -> AWSResponse:
    """An HTTP error response in CloudFormation's (query protocol) format, for before-send hooks."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>test</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse("http://injected", status, {"Content-Type": "text/xml"}, _Raw(body))


@dataclass
class Result:
    code: int
    out: str
    error: DeployError | None = None

    @property
    def text(self) -> str:
        return self.out + (f"\n{self.error}" if self.error else "")


def run(command: str, manifest: Path, clients: AwsClients | None, *, answers: list[Any] | None = None, **kwargs: Any) -> Result:
    """Run a deployer command the way build.py will, capturing what it prints."""
    console = Console(file=io.StringIO(), width=240, highlight=False, color_system=None, force_terminal=False)
    queue = list(answers or [])

    def ask(question: str) -> str:
        console.print(question)
        if not queue:
            raise EOFError
        answer = queue.pop(0)
        if isinstance(answer, BaseException):  # e.g. KeyboardInterrupt(): Ctrl-C at the prompt
            raise answer
        return answer

    kwargs.setdefault("poll_interval", 0.01)
    if command in ("deploy", "destroy", "unlock") and "yes" not in kwargs:
        kwargs["yes"] = answers is None
    if command in ("outputs", "unlock"):  # they never wait on CloudFormation
        kwargs.pop("poll_interval")
    func = getattr(cli, command)
    try:
        if clients is not None:  # otherwise the engine builds its own (endpoint_url=... or AWS_ENDPOINT_URL)
            kwargs["clients"] = clients
        code = func(manifest, console=console, ask=ask, **kwargs)
        error = None
    except DeployError as exc:
        code, error = exc.exit_code, exc
    return Result(code, console.file.getvalue(), error)


def wait_for_workers(timeout: float = 5.0) -> None:
    """Worker threads stop on their own after Ctrl-C / a timeout; do not let them leak into the next test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t.name.startswith("stack")]:
            return
        time.sleep(0.02)
