"""An HTTP proxy in front of the moto server that answers at API-like latency and records every call.

``python -m deployer ... --endpoint-url <proxy.url>`` then runs as it would against AWS, where a call takes tens
of milliseconds (and an ExecuteChangeSet or a DeleteStack may take longer to answer): the lock's races and the
calls in flight at a signal become visible. Each call is recorded with its operation (CloudFormation and STS:
the query's Action; SSM and SageMaker: X-Amz-Target; S3: the method) and when it arrived and was answered.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from deployer.moto_server import free_port

S3_OPERATIONS = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}


@dataclass
class Call:
    operation: str
    arrived: float  # time.monotonic()
    answered: float | None = None


def operation_of(method: str, headers: dict[str, str], body: bytes) -> str:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if method == "POST" and body:
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return S3_OPERATIONS.get(method, method)


class LatencyProxy:
    def __init__(self, upstream: str, delay: Callable[[str], float]) -> None:
        self.upstream = urllib.parse.urlparse(upstream)
        self.delay = delay
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = Call(operation_of(self.command, headers, body), time.monotonic())
                with proxy.lock:
                    proxy.calls.append(call)
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                connection.request(self.command, self.path, body=body or None,
                                   headers={k: v for k, v in self.headers.items() if k.lower() != "connection"})
                response = connection.getresponse()
                data = response.read()
                connection.close()
                time.sleep(proxy.delay(call.operation))  # AWS took the call; its answer is on its way
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                call.answered = time.monotonic()

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="latency-proxy", daemon=True)

    def __enter__(self) -> "LatencyProxy":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, operation: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.operation == operation]

    def wait_for(self, operation: str, timeout: float = 60) -> Call:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(operation)
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"{operation} never reached the proxy")
