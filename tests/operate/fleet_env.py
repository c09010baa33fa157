"""A deployed fleet environment (params/staging.yaml: churn and upsell created, fraud existing) in the moto server,
for the fleet tests of status, run-now, baseline, dry-run and the plan's existing-endpoint check.

What the stacks leave behind: the bucket, the key and the SSM parameters of the foundation and network stacks
(`/churn/staging/...`), each created endpoint `churn-staging-<key>` with Data Capture to
`s3://<bucket>/datacapture/<key>` and its SSM name `/churn/staging/endpoint/<key>/endpoint-name`, each endpoint's
data-quality job definition reading its endpoint; and the fraud team's own endpoint `fraud-scoring-staging`
(without Data Capture until `make adopt`). Schedules and executions: moto has none, see monitoring_env.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from deployer.moto_server import MOTO_ACCOUNT
from mmtool.config.loader import load_params
from mmtool.config.workspace import Paths

from .conftest import REGION, REPO, client
from .monitoring_env import IMAGE
from .processing_env import create_schedule, processing_request

BUCKET = "churn-staging-bucket-4d5e6f"
ROLE = f"arn:aws:iam::{MOTO_ACCOUNT}:role/churn-staging-foundation-monitoring"
FRAUD = "fraud-scoring-staging"
FRAUD_CONFIG = "fraud-scoring-staging-config-v3"


def role_of(key: str) -> str:
    return f"arn:aws:iam::{MOTO_ACCOUNT}:role/churn-staging-{key}-monitoring"


def scratch_staging(tmp: Path) -> Paths:
    """params/ and scripts/ copied to `tmp`; params/staging.yaml gets moto's account id."""
    for folder in ("params", "scripts"):
        shutil.copytree(REPO / folder, tmp / folder)
    path = tmp / "params" / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    data["account_id"] = MOTO_ACCOUNT
    data["deploy"].pop("assume_role_arn")
    data["deploy"].pop("cloudformation_role_arn")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return Paths(tmp)


def staging_params(tmp: Path) -> Any:
    paths = scratch_staging(tmp / "repo")
    return load_params(paths.params / "staging.yaml", paths.root)


def deploy_foundation(server: Any) -> str:
    client("s3", server).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    key_arn = client("kms", server).create_key(Description="churn-staging")["KeyMetadata"]["Arn"]
    ssm = client("ssm", server)
    for name, value, kind in (
        ("/churn/staging/foundation/bucket-name", BUCKET, "String"),
        ("/churn/staging/foundation/kms-key-arn", key_arn, "String"),
        ("/churn/staging/foundation/monitoring-role-arn", ROLE, "String"),
        ("/churn/staging/network/subnet-ids", "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2", "StringList"),
        ("/churn/staging/network/job-security-group-id", "sg-0ccccccccccccccc3", "String"),
    ):
        ssm.put_parameter(Name=name, Value=value, Type=kind)
    return key_arn


def deploy_created(server: Any, key: str, key_arn: str) -> str:
    """The endpoint stack of a created fleet endpoint. Returns the endpoint's name."""
    sagemaker = client("sagemaker", server)
    name = f"churn-staging-{key}"
    model = f"{name}-Model-1a2b3c"
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/{name}-endpoint",
                           PrimaryContainer={"Image": f"{MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{key}:1"})
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-EndpointConfig-1a2b3c",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large"}],
        DataCaptureConfig={
            "EnableCapture": True, "InitialSamplingPercentage": 50, "KmsKeyId": key_arn,
            "DestinationS3Uri": f"s3://{BUCKET}/datacapture/{key}",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-EndpointConfig-1a2b3c")
    client("ssm", server).put_parameter(Name=f"/churn/staging/endpoint/{key}/endpoint-name", Value=name, Type="String")
    return name


def deploy_fraud(server: Any) -> None:
    """The fraud team's endpoint, deployed by their own pipeline: no Data Capture."""
    sagemaker = client("sagemaker", server)
    sagemaker.create_model(ModelName="fraud-xgb", ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/fraud-team",
                           PrimaryContainer={"Image": f"{MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud:3"})
    sagemaker.create_endpoint_config(EndpointConfigName=FRAUD_CONFIG, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "fraud-xgb", "InitialInstanceCount": 1, "InstanceType": "ml.c5.xlarge"}])
    sagemaker.create_endpoint(EndpointName=FRAUD, EndpointConfigName=FRAUD_CONFIG)


def job_definition(key: str) -> str:
    return f"churn-staging-dq-{key[:3]}0a1b"


def create_dq_definition(server: Any, key: str, endpoint: str) -> str:
    """A fleet endpoint's data-quality job definition, as templates/monitoring.py makes it."""
    name = job_definition(key)
    client("sagemaker", server).create_data_quality_job_definition(
        JobDefinitionName=name,
        DataQualityAppSpecification={"ImageUri": IMAGE, "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        DataQualityJobInput={"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint",
                                               "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}},
        DataQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{BUCKET}/reports/{key}/data-quality", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}},
        RoleArn=role_of(key),
        StoppingCondition={"MaxRuntimeInSeconds": 1800},
    )
    return name


UPSELL_PROCESSING = "churn-staging-upsell-dq-proc"  # upsell runs `engine: both` (params/staging.yaml)
# docs/engine.md: dq-<16 hex of sha256("<project>/<env>/<key>")>-
UPSELL_JOB_PREFIX = f"dq-{hashlib.sha256(b'churn/staging/upsell').hexdigest()[:16]}-"


def deploy_fleet(server: Any) -> str:
    """Foundation, churn and upsell (endpoint and data-quality definition), fraud's own endpoint and its definition;
    upsell's processing-engine schedule (it runs both engines)."""
    key_arn = deploy_foundation(server)
    for key in ("churn", "upsell"):
        create_dq_definition(server, key, deploy_created(server, key, key_arn))
    deploy_fraud(server)
    create_dq_definition(server, "fraud", FRAUD)
    create_schedule(server, group="churn-staging", name=UPSELL_PROCESSING, request=processing_request(
        prefix=UPSELL_JOB_PREFIX, endpoint="churn-staging-upsell", schedule=UPSELL_PROCESSING, bucket=BUCKET,
        reports="reports/upsell", role=role_of("upsell"), capture="datacapture/upsell"))
    return key_arn


def put_capture(server: Any, key: str, endpoint: str, hour: datetime, count: int) -> None:
    s3 = client("s3", server)
    for index in range(count):
        record = {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                                    "data": "1,2", "encoding": "CSV"}},
                  "eventMetadata": {"eventId": f"{index:08d}-e", "inferenceTime": f"{hour:%Y-%m-%dT%H}:00:00Z"},
                  "eventVersion": "0"}
        s3.put_object(Bucket=BUCKET, Key=f"datacapture/{key}/{endpoint}/AllTraffic/{hour:%Y/%m/%d/%H}/{index:02d}.jsonl",
                      Body=json.dumps(record).encode())
