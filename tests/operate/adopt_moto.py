"""The adopt tests' moto server: ``deployer.moto_server`` (moto with the project's fixes, UpdateEndpoint among them)
plus one test-only endpoint for the endpoint states moto never reaches.

The project's UpdateEndpoint ends the update at once (InService on the new config), as AWS does once an update has
finished. An update that is still running, and one that then fails, are states of AWS the tests put in:

    POST /_test/sagemaker  {"hold_updates": true}     the next UpdateEndpoint calls leave the endpoint Updating on
                                                      its config (the new one pending), until
                           {"hold_updates": false}
    POST /_test/sagemaker  {"endpoint": "<name>", "status": "Failed", "failure_reason": "...", "config": "<name>"}
                                                      force an endpoint's status, reason and (optionally) config

Everything else is moto's. Run as ``python -m tests.operate.adopt_moto -H 127.0.0.1 -p <port>`` with the repository on
PYTHONPATH (tests/operate/test_adopt_restore.py does).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from deployer.moto_server import serve
from tests.moto_server import control_endpoint

CONTROL_PATH = "/_test/sagemaker"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
HOLD = {"updates": False}


def _backend() -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


def hold_updates() -> None:
    """Wrap the project's UpdateEndpoint: while held, an update leaves the endpoint Updating on its current config."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    finished = SageMakerResponse.update_endpoint  # deployer.moto_server's, installed by serve() before the wrap

    def update_endpoint(self: Any) -> Any:
        if not HOLD["updates"]:
            return finished(self)
        endpoint = self.sagemaker_backend.endpoints[self._get_param("EndpointName")]
        endpoint.endpoint_status = "Updating"
        return ActionResult({"EndpointArn": endpoint.arn})

    SageMakerResponse.update_endpoint = update_endpoint  # type: ignore[attr-defined]


def control(payload: dict[str, Any]) -> dict[str, Any]:
    if "hold_updates" in payload:
        HOLD["updates"] = bool(payload["hold_updates"])
        return {"hold_updates": HOLD["updates"]}
    endpoint = _backend().endpoints[payload["endpoint"]]
    endpoint.endpoint_status = payload["status"]
    endpoint.failure_reason = payload.get("failure_reason")
    if payload.get("config"):
        endpoint.endpoint_config_name = payload["config"]
    return {"endpoint": endpoint.endpoint_name, "status": endpoint.endpoint_status}


def _on_request(environ: dict[str, Any]) -> None:
    if environ.get("PATH_INFO") == "/moto-api/reset":
        HOLD["updates"] = False


def with_control(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    hold_updates()
    return control_endpoint(CONTROL_PATH, control, on_request=_on_request)(app)


if __name__ == "__main__":
    serve(wrap=with_control)
