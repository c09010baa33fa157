"""Corrected troposphere classes for two SageMaker shapes troposphere 4.11 gets wrong (CloudFormation's AWS::SageMaker::EndpointConfig schema).

`troposphere.sagemaker.EndpointConfig` types `DataCaptureConfig` as the batch-transform shape (only
DestinationS3Uri, GenerateInferenceId, KmsKeyId): the endpoint's `CaptureOptions`,
`InitialSamplingPercentage`, `EnableCapture` and `CaptureContentTypeHeader` cannot be set. The job
definitions' `StoppingCondition` is the training shape (MaxPendingTimeInSeconds, MaxWaitTimeInSeconds)
and does not require MaxRuntimeInSeconds. Subclassing keeps troposphere's isinstance checks happy
while the props follow the CloudFormation schema; tests fail if the generated shape regresses.
"""

from __future__ import annotations

from troposphere import AWSProperty
from troposphere import sagemaker as sm
from troposphere.validators import boolean, integer


class CaptureOption(AWSProperty):
    props = {"CaptureMode": (str, True)}


class CaptureContentTypeHeader(AWSProperty):
    props = {"CsvContentTypes": ([str], False), "JsonContentTypes": ([str], False)}


class EndpointDataCaptureConfig(sm.DataCaptureConfig):
    """AWS::SageMaker::EndpointConfig.DataCaptureConfig as the CloudFormation schema defines it."""

    props = {
        "CaptureContentTypeHeader": (CaptureContentTypeHeader, False),
        "CaptureOptions": ([CaptureOption], True),
        "DestinationS3Uri": (str, True),
        "EnableCapture": (boolean, False),
        "InitialSamplingPercentage": (integer, True),
        "KmsKeyId": (str, False),
    }


class MonitoringStoppingCondition(sm.StoppingCondition):
    """The monitoring job definitions' StoppingCondition: MaxRuntimeInSeconds only, and required."""

    props = {"MaxRuntimeInSeconds": (integer, True)}


__all__ = ["CaptureContentTypeHeader", "CaptureOption", "EndpointDataCaptureConfig", "MonitoringStoppingCondition"]
