"""The deploy tests' moto server: ``deployer.moto_server`` (moto, with its change-set fixes) plus one
test-only endpoint that forces CloudFormation state into moto's backend.

moto never simulates a failed create, a rollback, a stack left in progress by someone else or
termination protection, so the tests put those states into moto's own backend (the stack keeps living in
moto; every later call reads the forced state from the server):

    POST /_test/cloudformation  {"region": "eu-west-1", "stack": "<name>",
                                 "status": "UPDATE_ROLLBACK_FAILED", "status_reason": "...",
                                 "attrs": {"enable_termination_protection": true},
                                 "events": [{"logical_id": "Bucket", "type": "AWS::S3::Bucket",
                                             "status": "UPDATE_FAILED", "reason": "..."}]}

Run as ``python tests/moto_server.py -H 127.0.0.1 -p <port>`` (tests/deployer/conftest.py does it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `deployer` importable

from deployer.moto_server import serve  # noqa: E402

CONTROL_PATH = "/_test/cloudformation"
ACCOUNT = "123456789012"


def force_state(payload: dict[str, Any]) -> dict[str, Any]:
    from moto.cloudformation.models import Event, cloudformation_backends

    backend = cloudformation_backends[payload.get("account", ACCOUNT)][payload["region"]]
    live = [s for s in backend.stacks.values() if s.name == payload["stack"]]
    if not live:
        raise KeyError(f"no live stack named {payload['stack']}")
    stack = live[-1]
    for event in payload.get("events", []):
        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=event.get("logical_id", stack.name),
                physical_resource_id=event.get("physical_id", stack.stack_id),
                resource_type=event.get("type", "AWS::CloudFormation::Stack"),
                resource_status=event["status"],
                resource_status_reason=event.get("reason"),
                resource_properties=None,
            )
        )
    if "status" in payload:
        stack.status = payload["status"]
    if "status_reason" in payload:
        stack.status_reason = payload["status_reason"]
    for name, value in payload.get("attrs", {}).items():
        setattr(stack, name, value)
    return {"stack_id": stack.stack_id, "status": stack.status}


def control_endpoint(path: str, handle: Callable[[dict[str, Any]], dict[str, Any]],
                     on_request: Callable[[dict[str, Any]], None] | None = None):
    """A WSGI wrapper for moto's app: a POST of JSON to `path` goes to `handle` (its answer is the JSON reply, its
    exception a 400 the test reads); every other request goes to moto, after `on_request` sees its environ."""

    def wrap(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if on_request is not None:
                on_request(environ)
            if environ.get("PATH_INFO") != path:
                return app(environ, start_response)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                body = json.dumps(handle(json.loads(environ["wsgi.input"].read(length)))).encode()
                status = "200 OK"
            except Exception as exc:  # report the problem to the test instead of a bare 500
                body = json.dumps({"error": repr(exc)}).encode()
                status = "400 Bad Request"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        return wsgi

    return wrap


with_control = control_endpoint(CONTROL_PATH, force_state)


if __name__ == "__main__":
    serve(wrap=with_control)
