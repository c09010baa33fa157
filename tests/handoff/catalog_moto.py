"""A moto server that can deploy the catalog stack: ``deployer.moto_server`` plus CloudFormation handlers for the
AWS::ServiceCatalog types, which moto 5.2.5 lacks (its CloudFormation skips them with a warning).

* AWS::ServiceCatalog::Portfolio and ::CloudFormationProduct call moto's own servicecatalog backend
  (CreatePortfolio, CreateProduct), so ListPortfolios / DescribeProduct see what the stack created;
* PortfolioProductAssociation, LaunchRoleConstraint and PortfolioPrincipalAssociation have no model in moto's
  servicecatalog at all: their properties are recorded and served at ``GET /_test/servicecatalog``.

Everything else is moto's. Run as ``python -m tests.handoff.catalog_moto -H 127.0.0.1 -p <port>`` with the repository on
PYTHONPATH (tests/handoff/test_catalog.py does).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Callable, Iterable

from moto.core.common_models import CloudFormationModel

from deployer.moto_server import serve

RECORDED: dict[str, list[dict[str, Any]]] = {}
CONTROL_PATH = "/_test/servicecatalog"


def _backend(account_id: str, region_name: str) -> Any:
    from moto.servicecatalog.models import servicecatalog_backends

    return servicecatalog_backends[account_id][region_name]


class _Model:
    """Shared parts. Each model subclasses CloudFormationModel directly (moto looks only at direct subclasses) and
    names a dotted module (moto's metaclass reads the service from it; run as a script it would be __main__)."""

    def __init__(self, physical_id: str):
        self.id = physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @property
    def physical_resource_id(self) -> str:
        return self.id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False


class Portfolio(_Model, CloudFormationModel):
    __module__ = "tests.handoff.catalog_moto"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ServiceCatalog::Portfolio"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> "Portfolio":
        props = cloudformation_json["Properties"]
        detail, _ = _backend(account_id, region_name).create_portfolio(
            accept_language=None, display_name=props["DisplayName"], description=props.get("Description"),
            provider_name=props["ProviderName"], tags=props.get("Tags"), idempotency_token=None)
        return cls(detail["Id"])


class Product(_Model, CloudFormationModel):
    __module__ = "tests.handoff.catalog_moto"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ServiceCatalog::CloudFormationProduct"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> "Product":
        props = cloudformation_json["Properties"]
        product = _backend(account_id, region_name).create_product(
            name=props["Name"], owner=props["Owner"], description=props.get("Description"),
            distributor=props.get("Distributor"), support_description=props.get("SupportDescription"),
            support_email=None, support_url=None, product_type="CLOUD_FORMATION_TEMPLATE",
            tags=[t for t in props.get("Tags") or [] if t], provisioning_artifact_parameters=None)
        RECORDED.setdefault("AWS::ServiceCatalog::CloudFormationProduct", []).append(
            {"Id": product.id, **props, "ProvisioningArtifactParameters": props.get("ProvisioningArtifactParameters")})
        return cls(product.id)


def _recording(resource_type: str) -> type:
    class Recorded(_Model, CloudFormationModel):
        __module__ = "tests.handoff.catalog_moto"

        @staticmethod
        def cloudformation_type() -> str:
            return resource_type

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> _Model:
            RECORDED.setdefault(resource_type, []).append(dict(cloudformation_json["Properties"]))
            return cls(f"{resource_type.split('::')[-1].lower()}-{uuid.uuid4().hex[:12]}")

    Recorded.__name__ = resource_type.split("::")[-1]
    return Recorded


RECORDERS = [_recording(t) for t in ("AWS::ServiceCatalog::PortfolioProductAssociation",
                                     "AWS::ServiceCatalog::LaunchRoleConstraint",
                                     "AWS::ServiceCatalog::PortfolioPrincipalAssociation")]


def with_control(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/moto-api/reset":  # a reset forgets what was recorded, like moto's state
            RECORDED.clear()
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return app(environ, start_response)
        body = json.dumps(RECORDED, default=str).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


if __name__ == "__main__":
    serve(wrap=with_control)
