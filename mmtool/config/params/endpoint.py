"""`endpoint:` (a fleet's `create:`) the real-time endpoint we deploy and its Data Capture."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, field_validator

from mmtool.config import layout
from mmtool.config.params.base import ACCOUNT_ID, InstanceType, S3ObjectUri, SAGEMAKER_NAME, Strict


class DataCaptureSettings(Strict):
    sampling_percentage: int = Field(
        100, description="Percentage of requests captured, 1-100."
    )
    modes: list[str] = Field(
        default_factory=lambda: ["Input", "Output"],
        description="What to capture: Input, Output or both. Data-quality monitoring needs both.",
    )
    csv_content_types: list[str] = Field(
        default_factory=lambda: ["text/csv"],
        min_length=1,
        max_length=10,
        description="Content types stored as CSV text (others are base64-encoded).",
    )
    json_content_types: list[str] = Field(
        default_factory=lambda: ["application/json"],
        min_length=1,
        max_length=10,
        description="Content types stored as JSON text (others are base64-encoded).",
    )

    @field_validator("sampling_percentage")
    @classmethod
    def _percent(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("must be 1-100 (0 would capture nothing and the monitor would fail with no data)")
        return value

    @field_validator("modes")
    @classmethod
    def _modes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one of Input, Output")
        for mode in value:
            if mode == "InputAndOutput":
                raise ValueError(
                    "InputAndOutput is rejected by endpoint creation (boto3#3440); list the two modes: [Input, Output]"
                )
            if mode not in ("Input", "Output"):
                raise ValueError(f"{mode!r} is not a capture mode; use Input and/or Output")
        if len(set(value)) != len(value):
            raise ValueError("each mode once")
        return sorted(value)

    @field_validator("csv_content_types", "json_content_types")
    @classmethod
    def _content_types(cls, value: list[str]) -> list[str]:
        pattern = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*/[a-zA-Z0-9](-*[a-zA-Z0-9.])*")
        for item in value:
            if ";" in item:
                raise ValueError(
                    f"{item!r}: give the bare media type without parameters (e.g. text/csv); a request sent as "
                    "'text/csv; charset=utf-8' is still matched"
                )
            if not pattern.fullmatch(item):
                raise ValueError(f"{item!r} is not a media type CloudFormation accepts (type/subtype, no '+')")
        return value


class EndpointSettings(Strict):
    model_image: str = Field(
        description="ECR image URI of the model's inference container, with a tag or digest, in the "
        "environment's region (SageMaker does not pull across regions)."
    )
    model_data_url: S3ObjectUri = Field(description="S3 URI of model.tar.gz.")
    instance_type: InstanceType = Field("ml.m5.large", description="Endpoint instance type.")
    instance_count: int = Field(1, ge=1, le=20, description="Initial instance count of the production variant.")
    variant_name: str = Field(
        "AllTraffic", pattern=SAGEMAKER_NAME, max_length=63, description="Production variant name."
    )
    network_isolation: Optional[bool] = Field(
        None, description="Run the model container without any network access (it still reads its artifact). "
        "Unset: on, except when monitoring.model_explainability is enabled: Clarify's explainability job calls a "
        "shadow endpoint made from this model, and AWS requires network isolation off on the model as well as on "
        "the job (`make plan` says so under the endpoint stack). true together with model_explainability is refused.",
    )
    data_capture: DataCaptureSettings = Field(
        default_factory=DataCaptureSettings, description="Data Capture: what the endpoint records for monitoring."
    )

    @field_validator("model_data_url")
    @classmethod
    def _model_data_url(cls, value: str) -> str:
        if len(value) > layout.MAX_OBJECT_URI:  # CreateModel's ModelDataUrl
            raise ValueError(f"the URI has {len(value)} characters; SageMaker takes a model's S3 URI in at most "
                             f"{layout.MAX_OBJECT_URI}")
        return value

    @field_validator("model_image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not re.fullmatch(
            ACCOUNT_ID + r"\.dkr\.ecr\.[a-z0-9\-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/\-]*(:[A-Za-z0-9_.\-]{1,128}|@sha256:[0-9a-f]{64})",
            value,
        ):
            raise ValueError(
                "expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (or @sha256:<digest>); "
                "a tag or digest is required so every deploy runs the same model"
            )
        return value

    @property
    def image_region(self) -> str:
        return self.model_image.split(".")[3]


