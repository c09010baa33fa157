"""The record `make adopt` keeps of an endpoint update it started, so a killed or failed run can be finished or
restored by the next run (docs/adopt.md#when-the-update-fails).

Before UpdateEndpoint, adopt writes the SSM parameter `/<project>/<env>/adopt/<key>` (String, JSON): the endpoint,
the endpoint config it ran before (its name and a `fingerprint` of its content, so a config created under that
name since is not taken for it), the new config and when the update started. The parameter lives under the
environment's own SSM path, which only those who may deploy the environment can write (an endpoint's tags can be
changed by the endpoint's owner, so a restore target is not read from them). It is deleted once the outcome is
settled (InService on the new config and tagged, rolled back, or restored); a run that is killed, times out or
cannot restore leaves it for the next one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from deployer.aws_errors import error_code
from mmtool.operate.awsenv import AwsError, aws_errors, aws_failure

FIELDS = ("endpoint", "previous_config", "previous_fingerprint", "new_config", "started")


def parameter_name(project: str, environment: str, key: str) -> str:
    return f"/{project}/{environment}/adopt/{key}"


def record(endpoint: str, previous_config: str, previous_fingerprint: str, new_config: str,
           now: datetime | None = None) -> dict[str, str]:
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"endpoint": endpoint, "previous_config": previous_config, "previous_fingerprint": previous_fingerprint,
            "new_config": new_config, "started": started}


def restore_command(endpoint: str, previous: str, region: str) -> str:
    """The AWS CLI command that puts the endpoint back on its previous config, as adopt's restore does."""
    return (f"aws sagemaker update-endpoint --region {region} --endpoint-name {endpoint} "
            f"--endpoint-config-name {previous} --retain-all-variant-properties "
            "--exclude-retained-variant-properties VariantPropertyType=DataCaptureConfig")


@dataclass
class Journal:
    """Read, write and delete the record of one fleet endpoint's adoption (see the module docstring)."""

    ssm: Any
    name: str

    @classmethod
    def of(cls, ssm: Any, project: str, environment: str, key: str) -> Journal:
        return cls(ssm, parameter_name(project, environment, key))

    def read(self) -> dict[str, str] | None:
        try:  # GetParameters, not GetParameter: what `make status` may do already on the environment's path
            found = self.ssm.get_parameters(Names=[self.name]).get("Parameters", [])
        except aws_errors() as exc:
            raise aws_failure(exc, f"read the record of an earlier adopt, SSM parameter {self.name} "
                                   "(ssm:GetParameters)") from exc
        if not found:
            return None
        value = found[0]["Value"]
        try:
            found = json.loads(value)
            if not isinstance(found, dict) or any(not isinstance(found.get(f), str) for f in FIELDS):
                raise ValueError("fields missing")
        except ValueError:
            raise AwsError(f"SSM parameter {self.name} is not a record `make adopt` wrote (it needs the fields "
                           f"{', '.join(FIELDS)}); nothing was changed.\nNext: look at it (aws ssm get-parameter "
                           f"--name {self.name}), delete it (aws ssm delete-parameter --name {self.name}) and run "
                           "`make adopt` again.") from None
        return {f: found[f] for f in FIELDS}

    def write(self, entry: dict[str, str]) -> None:
        try:
            self.ssm.put_parameter(Name=self.name, Value=json.dumps(entry, sort_keys=True), Type="String",
                                   Overwrite=True, Description="make adopt: the endpoint config to restore if the "
                                                               "update it started fails (docs/adopt.md)")
        except aws_errors() as exc:
            raise aws_failure(exc, f"record the endpoint's previous config in SSM parameter {self.name} "
                                   "(ssm:PutParameter)") from exc

    def clear(self) -> None:
        try:
            self.ssm.delete_parameter(Name=self.name)
        except aws_errors() as exc:
            if error_code(exc) != "ParameterNotFound":
                raise aws_failure(exc, f"delete the record of the adoption, SSM parameter {self.name} "
                                       "(ssm:DeleteParameter)") from exc
