"""`deploy:` how the deploy engine reaches the environment's account."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, field_validator, model_validator
from mmtool.config.params.base import FieldError, Strict, ROLE_ARN


class DeploySettings(Strict):
    """How the deploy engine reaches this environment's account (prod usually lives elsewhere)."""

    assume_role_arn: Optional[str] = Field(
        None,
        pattern=ROLE_ARN,
        description="IAM role the deployer assumes for every call of this environment (e.g. a "
        "deployment role in the prod account). Unset: the ambient credentials (AWS_PROFILE etc.) are used.",
    )
    external_id: Optional[str] = Field(
        None, min_length=2, max_length=1224, description="External id required by the assumed role's trust policy."
    )
    cloudformation_role_arn: Optional[str] = Field(
        None,
        pattern=ROLE_ARN,
        description="CloudFormation service role that change sets run under. Unset: the caller's own permissions.",
    )
    termination_protection: bool = Field(
        False, description="Turn on stack termination protection (recommended for prod)."
    )

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_+=,.@:/\-]+", value):
            raise ValueError("STS accepts only letters, digits and + = , . @ : / - _ in an external id")
        return value

    @model_validator(mode="after")
    def _external_id_needs_role(self) -> DeploySettings:
        if self.external_id and not self.assume_role_arn:
            raise FieldError(
                "external_id", self.external_id, "only used with assume_role_arn: set the role or remove external_id"
            )
        return self


