"""`catalog:` the Service Catalog publication (`make catalog`)."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field, field_validator
from mmtool.config.params.base import Strict, ROLE_ARN


# --- Service Catalog (`make catalog`) -------------------------------------------------------------

MAX_CATALOG_PRINCIPALS = 10  # principal slots of the catalog template (templates/catalog.py)


class CatalogSettings(Strict):
    """How `make catalog` publishes the templates as AWS Service Catalog products in this environment's account."""

    principal_role_arns: list[Annotated[str, Field(pattern=ROLE_ARN)]] = Field(
        default_factory=list,
        max_length=MAX_CATALOG_PRINCIPALS,
        description="IAM roles of this account that may launch the products (portfolio principal associations), "
        "e.g. a platform team's role or the SageMaker Studio execution role. Empty: only catalog administrators "
        "see the portfolio.",
    )
    version_retention: int = Field(
        3,
        ge=1,
        le=50,
        description="Versions (provisioning artifacts) of each product kept active, newest first; older ones are "
        "deactivated, never deleted (provisioned products may still run them).",
    )
    studio_visibility: bool = Field(
        False,
        description="Tag every product sagemaker:studio-visibility=true so SageMaker Studio lists it as a project "
        "template (the principals then need to include the Studio execution role).",
    )
    launch_role_arn: Optional[str] = Field(
        None,
        pattern=ROLE_ARN,
        description="Existing IAM role Service Catalog assumes to provision the products (the launch constraint). "
        "Unset: the catalog stack creates a least-privilege launch role for this project and environment.",
    )
    offer_processing_engine: bool = Field(
        False,
        description="Offer the processing engine (docs/engine.md) in the endpoint-monitoring product even where no "
        "endpoint of this file runs it: the foundation stack then creates the environment's EventBridge Scheduler "
        "schedule group, the build adds the analyzer package to the assets `make deploy` uploads, and the product's "
        "Engine offers processing beside model-monitor (the default while an endpoint runs Model Monitor). Needs a "
        "region where the SageMaker scikit-learn image is published. An endpoint running the processing engine "
        "does all this without the field.",
    )
    provider_name: str = Field(
        "ML platform", pattern=r"^[A-Za-z0-9_ .,@()\-]{1,50}$", description="Portfolio provider shown to users."
    )
    product_owner: str = Field(
        "ML platform", pattern=r"^[A-Za-z0-9_ .,@()\-]{1,50}$", description="Owner shown on every product."
    )

    @field_validator("principal_role_arns")
    @classmethod
    def _distinct_principals(cls, value: list[str]) -> list[str]:
        # IAM role names are case-insensitive: Platform and platform are one role
        folded = [arn.lower() for arn in value]
        duplicates = sorted({arn for arn in value if folded.count(arn.lower()) > 1})
        if duplicates:
            raise ValueError(f"listed twice (role names are case-insensitive): {', '.join(duplicates)}; each role once")
        return value


