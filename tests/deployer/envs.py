"""Small hand-written environments for the deploy tests: templates made only of resource types moto's
CloudFormation creates (S3 bucket, KMS key, SSM parameters, VPC, security group), wired like the real
ones: upstream stacks write SSM parameters, downstream Parameters of type
``AWS::SSM::Parameter::Value<...>`` read them; the bucket and key are Retain and protected.

:func:`fleet_env` writes a fleet the way the build does (see /tmp/fleet-contract.md): shared stacks
(``"endpoint": null``) and, per endpoint, an endpoint stack (``create`` only) and a monitoring stack, one
template per stack kind and one parameter file per stack. The deploy benchmark uses it too."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = "churn"
ENVIRONMENT = "test"
REGION = "eu-west-1"
PREFIX = f"/{PROJECT}/{ENVIRONMENT}"


def ssm_param(name: str, value: Any, type_: str = "String") -> dict[str, Any]:
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Name": name, "Type": type_, "Value": value}}


FOUNDATION: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "test foundation: bucket and key (Retain), their SSM parameters",
    "Parameters": {
        "CaptureRetentionDays": {"Type": "String", "Default": "14", "AllowedPattern": "^[0-9]+$"},
        "EnvironmentName": {"Type": "String"},
    },
    "Resources": {
        "KmsKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
            },
        },
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        },
        "BucketNameParameter": ssm_param(f"{PREFIX}/foundation/bucket-name", {"Ref": "Bucket"}),
        "KmsKeyArnParameter": ssm_param(f"{PREFIX}/foundation/kms-key-arn", {"Fn::GetAtt": ["KmsKey", "Arn"]}),
        "RetentionParameter": ssm_param(f"{PREFIX}/foundation/retention-days", {"Ref": "CaptureRetentionDays"}),
    },
    "Outputs": {
        "BucketName": {"Value": {"Ref": "Bucket"}},
        "KmsKeyArn": {"Value": {"Fn::GetAtt": ["KmsKey", "Arn"]}},
    },
}

NETWORK: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "test network: VPC and the job security group",
    "Parameters": {
        "BucketName": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"{PREFIX}/foundation/bucket-name"},
        "VpcCidr": {"Type": "String", "Default": "10.30.0.0/20"},
    },
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "VpcCidr"}}},
        "JobSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "monitoring jobs", "VpcId": {"Ref": "Vpc"}},
        },
        "SecurityGroupParameter": ssm_param(f"{PREFIX}/network/job-security-group-id", {"Ref": "JobSecurityGroup"}),
        "SubnetIdsParameter": ssm_param(f"{PREFIX}/network/subnet-ids", "subnet-aaaa,subnet-bbbb", "StringList"),
        "BucketSeenParameter": ssm_param(f"{PREFIX}/network/bucket-seen", {"Ref": "BucketName"}),
    },
    "Outputs": {
        "JobSecurityGroupId": {"Value": {"Ref": "JobSecurityGroup"}},
        "VpcId": {"Value": {"Ref": "Vpc"}},
    },
}

ALARMS: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "test stack that depends on foundation only (deploys alongside network)",
    "Parameters": {
        "KmsKeyArn": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"{PREFIX}/foundation/kms-key-arn"},
        "Retention": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"{PREFIX}/foundation/retention-days"},
    },
    "Resources": {
        "AlarmConfig": ssm_param(f"{PREFIX}/alarms/config", {"Fn::Sub": "${KmsKeyArn}|${Retention}"}),
    },
    "Outputs": {"AlarmConfigName": {"Value": {"Ref": "AlarmConfig"}}},
}

APP: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "test stack reading foundation and network values through SSM",
    "Parameters": {
        "BucketName": {"Type": "AWS::SSM::Parameter::Value<String>"},
        "JobSecurityGroupId": {"Type": "AWS::SSM::Parameter::Value<String>"},
        "SubnetIds": {"Type": "AWS::SSM::Parameter::Value<List<String>>"},
        "CaptureModes": {"Type": "CommaDelimitedList", "Default": "Input,Output"},
        "SamplingPercentage": {"Type": "String", "Default": "100"},
    },
    "Resources": {
        "AppConfig": ssm_param(
            f"{PREFIX}/app/config",
            {"Fn::Sub": ["${BucketName}|${JobSecurityGroupId}|${Sampling}", {"Sampling": {"Ref": "SamplingPercentage"}}]},
        ),
    },
    "Outputs": {"AppConfigName": {"Value": {"Ref": "AppConfig"}}},
}


@dataclass
class Env:
    """A build/<env>/ folder written by hand: manifest.json, templates, parameter files, one asset."""

    root: Path
    stacks: list[dict[str, Any]]
    templates: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, str]]
    settings: dict[str, Any] = field(default_factory=dict)
    account_id: str | None = "123456789012"  # moto's account
    tags: dict[str, str] = field(default_factory=lambda: {"Project": PROJECT, "Environment": ENVIRONMENT})
    asset: bytes | None = b"# record pre-processor\ndef preprocess_handler(inference_record):\n    return {}\n"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def stack_name(self, name: str) -> str:
        return f"{PROJECT}-{ENVIRONMENT}-{name}"

    def asset_key(self) -> str:
        assert self.asset is not None
        digest = hashlib.sha256(self.asset).hexdigest()
        return f"monitoring-assets/{digest[:20]}/record_preprocessor.py"

    def write(self) -> "Env":
        self.root.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {
            "format_version": 1,
            "project": PROJECT,
            "environment": ENVIRONMENT,
            "region": REGION,
            "account_id": self.account_id,
            "tags": self.tags,
            "deploy": {
                "assume_role_arn": None,
                "external_id": None,
                "cloudformation_role_arn": None,
                "termination_protection": False,
                **self.settings,
            },
            "stacks": [],
            "assets": [],
            "asset_bucket": None,
            "asset_kms_key": None,
        }
        for entry in self.stacks:
            name = entry["name"]
            kind = entry.get("template", name)  # fleets: one template per stack kind, shared by the endpoints
            (self.root / f"{kind}.template.json").write_text(json.dumps(self.templates[kind], indent=2))
            (self.root / f"{name}.parameters.json").write_text(
                json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.get(name, {}).items()])
            )
            manifest["stacks"].append(
                {
                    "name": name,
                    "stack_name": self.stack_name(name),
                    "template": f"{kind}.template.json",
                    "parameters": f"{name}.parameters.json",
                    "depends_on": entry.get("depends_on", []),
                    "protected_resources": entry.get("protected_resources", []),
                    "capabilities": entry.get("capabilities", []),
                    **({"endpoint": entry["endpoint"]} if "endpoint" in entry else {}),
                    **({"guarded_resources": entry["guarded_resources"]} if "guarded_resources" in entry else {}),
                }
            )
        names = [e["name"] for e in self.stacks]
        if "foundation" in names:
            manifest["asset_bucket"] = {"stack": "foundation", "output": "BucketName"}
            manifest["asset_kms_key"] = {"stack": "foundation", "output": "KmsKeyArn"}
            if self.asset is not None:
                (self.root / "assets").mkdir(exist_ok=True)
                (self.root / "assets" / "record_preprocessor.py").write_bytes(self.asset)
                manifest["assets"] = [
                    {
                        "file": "assets/record_preprocessor.py",
                        "key": self.asset_key(),
                        "sha256": hashlib.sha256(self.asset).hexdigest(),
                    }
                ]
        self.manifest_path.write_text(json.dumps(manifest, indent=2))
        return self


def shared_stacks() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """foundation → (network, alarms): stacks, templates and parameter values of the shared stacks."""
    stacks = [
        {"name": "foundation", "protected_resources": ["Bucket", "KmsKey"], "capabilities": ["CAPABILITY_NAMED_IAM"]},
        {"name": "network", "depends_on": ["foundation"]},
        {"name": "alarms", "depends_on": ["foundation"]},
    ]
    templates = {"foundation": copy.deepcopy(FOUNDATION), "network": copy.deepcopy(NETWORK), "alarms": copy.deepcopy(ALARMS)}
    parameters: dict[str, dict[str, str]] = {
        "foundation": {"EnvironmentName": ENVIRONMENT, "CaptureRetentionDays": "14"}, "network": {}, "alarms": {},
    }
    return stacks, templates, parameters


def full_env(root: Path, **kwargs: Any) -> Env:
    """foundation → (network, alarms in parallel) → app: the shape of the real environment."""
    stacks, templates, parameters = shared_stacks()
    stacks.append({"name": "app", "depends_on": ["foundation", "network"]})
    templates["app"] = copy.deepcopy(APP)
    parameters["app"] = {
        "BucketName": f"{PREFIX}/foundation/bucket-name",
        "JobSecurityGroupId": f"{PREFIX}/network/job-security-group-id",
        "SubnetIds": f"{PREFIX}/network/subnet-ids",
    }
    return Env(root=root, stacks=stacks, templates=templates, parameters=parameters, **kwargs).write()


def foundation_env(root: Path, **kwargs: Any) -> Env:
    """The data stack alone: one stack, so call sequences are deterministic."""
    return Env(
        root=root,
        stacks=[{"name": "foundation", "protected_resources": ["Bucket", "KmsKey"], "capabilities": ["CAPABILITY_NAMED_IAM"]}],
        templates={"foundation": copy.deepcopy(FOUNDATION)},
        parameters={"foundation": {"EnvironmentName": ENVIRONMENT, "CaptureRetentionDays": "14"}},
        **kwargs,
    ).write()


ENDPOINT: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "test endpoint stack (one per created endpoint): reads the network, writes its endpoint name",
    "Parameters": {
        "EndpointKey": {"Type": "String", "AllowedPattern": "^[a-z][a-z0-9-]{0,19}$"},
        "JobSecurityGroupId": {"Type": "AWS::SSM::Parameter::Value<String>",
                               "Default": f"{PREFIX}/network/job-security-group-id"},
    },
    "Resources": {
        "EndpointNameParameter": ssm_param(
            {"Fn::Sub": f"{PREFIX}/endpoints/${{EndpointKey}}/endpoint-name"},
            {"Fn::Sub": f"{PROJECT}-{ENVIRONMENT}-${{EndpointKey}}|${{JobSecurityGroupId}}"},
        ),
    },
    "Outputs": {"EndpointName": {"Value": {"Fn::Sub": f"{PROJECT}-{ENVIRONMENT}-${{EndpointKey}}"}}},
}

MONITORING: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "test monitoring stack (one per endpoint): reads the foundation, monitors one endpoint",
    "Parameters": {
        "EndpointKey": {"Type": "String", "AllowedPattern": "^[a-z][a-z0-9-]{0,19}$"},
        "EndpointName": {"Type": "String"},
        "BucketName": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"{PREFIX}/foundation/bucket-name"},
        "SamplingPercentage": {"Type": "String", "Default": "20"},
    },
    "Resources": {
        "MonitoringParameter": ssm_param(
            {"Fn::Sub": f"{PREFIX}/endpoints/${{EndpointKey}}/monitoring"},
            {"Fn::Sub": "s3://${BucketName}/datacapture/${EndpointKey}|${EndpointName}|${SamplingPercentage}"},
        ),
    },
    "Outputs": {"MonitoredEndpoint": {"Value": {"Ref": "EndpointName"}}},
}


def fleet_env(root: Path, created: list[str], existing: list[str] | None = None, **kwargs: Any) -> Env:
    """A fleet: foundation → (network, alarms), then per ``created`` key ``<key>-endpoint`` (after network)
    and ``<key>-monitoring`` (after its endpoint stack), per ``existing`` key ``<key>-monitoring`` only
    (an endpoint another tool deployed). Stacks are listed as the build lists them: shared ones first, then
    each endpoint's in the order of the keys."""
    stacks, templates, parameters = shared_stacks()
    stacks = [dict(e, endpoint=None) for e in stacks]
    for key in [*created, *(existing or [])]:
        monitoring_after = ["foundation", "network"]
        if key in created:
            stacks.append({"name": f"{key}-endpoint", "template": "endpoint", "endpoint": key, "depends_on": ["network"]})
            parameters[f"{key}-endpoint"] = {"EndpointKey": key}
            monitoring_after.append(f"{key}-endpoint")
        stacks.append({"name": f"{key}-monitoring", "template": "monitoring", "endpoint": key,
                       "depends_on": monitoring_after, "capabilities": ["CAPABILITY_IAM"]})
        name = f"{PROJECT}-{ENVIRONMENT}-{key}" if key in created else f"{key}-scoring-by-another-team"
        parameters[f"{key}-monitoring"] = {"EndpointKey": key, "EndpointName": name}
    templates.update(endpoint=copy.deepcopy(ENDPOINT), monitoring=copy.deepcopy(MONITORING))
    return Env(root=root, stacks=stacks, templates=templates, parameters=parameters, **kwargs).write()
