"""A local moto server in a subprocess on 127.0.0.1 (a free port), for ``make demo``, the benchmark and
the tests. It is never reachable from outside the machine and is killed when the context ends.

moto needs credentials to sign requests but checks none; :data:`FAKE_CREDENTIALS` are what the demo and
tests put in their environment so no real credentials are ever sent anywhere.

``python -m deployer.moto_server -p PORT`` runs moto's own server after :func:`patch_moto`, which fixes
places where moto 5.2.5 answers unlike AWS in a way that would make a correct deployer (or a correct
template) look wrong:

* ExecuteChangeSet never recomputes the stack's Outputs (a stack created through a change set has none),
  does not update its tags, and leaves its input parameters at their creation-time values (so moto's own
  "no changes" check compares against stale values);
* a VPC flow log delivered to an S3 prefix (``arn:aws:s3:::bucket/prefix``) crashes moto's
  AWS::EC2::FlowLog handler (it looks for a bucket named ``bucket/prefix``);
* SageMaker UpdateEndpoint is missing (``make adopt`` calls it): added as AWS does it once the update has
  finished, the endpoint InService on the new config, its variants and Data Capture taken from it (moto keeps
  no instance counts of its own to retain, and has no Updating phase; tests that need one use a Stubber).

Nothing else of moto is changed; its other gaps are listed in docs/deploying.md.

This module is demo and test infrastructure: the engine never imports it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
MOTO_ACCOUNT = "123456789012"  # moto's default account


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def patch_moto() -> None:
    """Make moto's ExecuteChangeSet leave the stack as CloudFormation does (see the module docstring)."""
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set
    if getattr(original, "_mmtool_patched", False):
        return

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        original(self, change_set_name, stack_name)
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.output_map = stack._create_output_map()
        if change_set.tags:
            stack.tags = dict(change_set.tags)
        stack.parameters = dict(change_set.parameters)

    execute_change_set._mmtool_patched = True  # type: ignore[attr-defined]
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]

    # A flow log delivered to an S3 *prefix* (arn:aws:s3:::bucket/prefix) is valid; moto looks for a bucket
    # named "bucket/prefix", reports it missing, and its CloudFormation handler then fails (IndexError).
    from moto.ec2.models.flow_logs import FlowLogsBackend

    create_flow_logs = FlowLogsBackend.create_flow_logs

    def create_flow_logs_with_prefix(self: Any, resource_type: Any, resource_ids: Any, traffic_type: Any,
                                     permission_arn: Any, destination_type: Any, destination: Any, *rest: Any) -> Any:
        if destination_type == "s3" and destination and "/" in destination.split(":", 5)[-1]:
            bucket_arn = destination.split("/", 1)[0]
            flow_logs, unsuccessful = create_flow_logs(self, resource_type, resource_ids, traffic_type,
                                                       permission_arn, destination_type, bucket_arn, *rest)
            for flow_log in flow_logs:
                flow_log.log_destination = destination
            return flow_logs, unsuccessful
        return create_flow_logs(self, resource_type, resource_ids, traffic_type, permission_arn,
                                destination_type, destination, *rest)

    FlowLogsBackend.create_flow_logs = create_flow_logs_with_prefix  # type: ignore[method-assign]
    patch_sagemaker_update_endpoint()


def patch_sagemaker_update_endpoint() -> None:
    """UpdateEndpoint for moto's SageMaker (see the module docstring); unknown names answer as AWS does."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig
    from moto.sagemaker.responses import SageMakerResponse

    if hasattr(SageMakerResponse, "update_endpoint"):
        return

    def update_endpoint(self: Any) -> Any:
        backend = self.sagemaker_backend
        name, config_name = self._get_param("EndpointName"), self._get_param("EndpointConfigName")
        if name not in backend.endpoints:
            arn = FakeEndpoint.arn_formatter(name, self.current_account, self.region)
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        if config_name not in backend.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(config_name, self.current_account, self.region)
            raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
        endpoint, config = backend.endpoints[name], backend.endpoint_configs[config_name]
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.data_capture_config = config.data_capture_config
        endpoint.last_modified_time = utcnow()
        return ActionResult({"EndpointArn": endpoint.arn})

    SageMakerResponse.update_endpoint = update_endpoint  # type: ignore[attr-defined]


def serve(argv: list[str] | None = None, *, wrap: Callable[[Any], Any] | None = None) -> None:
    """Run moto's server (patched) in this process: ``-H host -p port``."""
    import argparse
    import signal

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="python -m deployer.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as `python -m moto.server` does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    patch_moto()
    app: Any = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as `python -m moto.server` does: server-side tracebacks go to the log
    if wrap is not None:
        app = wrap(app)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


class MotoServer:
    """``with MotoServer() as server: ... server.url``"""

    def __init__(self, *, command: list[str] | None = None, env: dict[str, str] | None = None, startup_timeout: float = 30.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = command or [sys.executable, "-m", "deployer.moto_server"]
        self._env = env or {}
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="moto-server-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)

    def start(self) -> "MotoServer":
        env = {**os.environ, **FAKE_CREDENTIALS, **self._env}
        self._process = subprocess.Popen(
            [*self._command, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.url} within {self._startup_timeout}s")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def post(self, path: str, body: bytes = b"") -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", method="POST", data=body)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        try:
            self.log_path.unlink()
        except OSError:
            pass


if __name__ == "__main__":
    serve()
