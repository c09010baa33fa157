"""The AWS limits a fleet environment meets, in one table: the value, what it applies to, its AWS source.

Read by the build's limit check (mmtool/generate/limits_check.py counts the built stacks against it), by the params
validation of the network stack's read list (mmtool/config/params.py) and by docs/fleet.md (its table is generated
from `markdown_table()`, tests/test_docs.py compares). An adjustable quota whose increase the account has been
granted is declared in the params file, `quotas: {<key>: <value>}`, and the check uses that value instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"


@dataclass(frozen=True)
class Limit:
    key: str
    what: str  # what is limited, in words
    value: int
    per: str  # what the value applies to
    source: str  # the AWS documentation page that states it
    service_code: Optional[str] = None  # Service Quotas service code: adjustable; None: a fixed limit

    @property
    def adjustable(self) -> bool:
        return self.service_code is not None

    def increase(self, desired: int) -> str:
        """How to raise it: the Service Quotas commands (find the quota's code, request the value), or why not."""
        if not self.service_code:
            return "a fixed limit that AWS does not raise"
        return (f"request an increase: `aws service-quotas list-service-quotas --service-code {self.service_code}` "
                f"gives the quota's code, then `aws service-quotas request-service-quota-increase --service-code "
                f"{self.service_code} --quota-code <code> --desired-value {desired}`; once granted, declare it in the "
                f"params file as `quotas: {{{self.key}: {desired}}}`")


LIMITS: tuple[Limit, ...] = (
    Limit("stacks", "CloudFormation stacks", 2000, "account and region", CFN, "cloudformation"),
    Limit("template_parameters", "Parameters in one template", 200, "template", CFN),
    Limit("template_outputs", "Outputs in one template", 200, "template", CFN),
    Limit("template_resources", "Resources in one template", 500, "template", CFN),
    Limit("template_bytes", "Template body uploaded to S3 (the deploy engine uploads bodies over 51,200 bytes)",
          1_000_000, "template", CFN),
    Limit("parameter_value_bytes", "Bytes in one parameter value", 4096, "parameter value", CFN),
    Limit("ssm_parameters", "SSM Parameter Store standard parameters", 10_000, "account and region",
          "https://docs.aws.amazon.com/general/latest/gr/ssm.html"),
    Limit("ssm_value_bytes", "Bytes in one standard SSM parameter value", 4096, "parameter",
          "https://docs.aws.amazon.com/general/latest/gr/ssm.html"),
    Limit("iam_roles", "IAM roles", 1000, "account",
          "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html", "iam"),
    Limit("event_bus_rules", "EventBridge rules on the default event bus (where SageMaker's events arrive)", 300,
          "event bus, account and region", "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
          "events"),
    Limit("vpc_endpoint_policy_chars", "Characters in a VPC endpoint policy (the S3 gateway endpoint's)", 20_480,
          "policy", "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html"),
    Limit("dashboard_widgets", "Widgets in one CloudWatch dashboard", 500, "dashboard",
          "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html"),
)
BY_KEY = {limit.key: limit for limit in LIMITS}

# Counted per environment from the built stacks (mmtool/generate/limits_check.py): limit key -> resource type, or
# "stack" for the stacks themselves. CloudWatch alarms have no count quota per account (the CloudWatch quotas page:
# "No limit on the total number of alarms per account"); a dashboard's widgets are a template constant.
COUNTED = {
    "stacks": "stack",
    "ssm_parameters": "AWS::SSM::Parameter",
    "iam_roles": "AWS::IAM::Role",
    "event_bus_rules": "AWS::Events::Rule",
}


class Quotas(BaseModel):
    """Adjustable AWS quotas the account has had raised above their defaults (docs/fleet.md, the limits table)."""

    model_config = ConfigDict(extra="forbid")

    stacks: Optional[int] = Field(None, gt=0, description="CloudFormation stacks per account and region (default "
                                  "2,000).")
    iam_roles: Optional[int] = Field(None, gt=0, description="IAM roles per account (default 1,000).")
    event_bus_rules: Optional[int] = Field(None, gt=0, description="EventBridge rules per event bus (default 300): "
                                           "a fleet endpoint has two on the default bus.")


def allowed(key: str, quotas: Optional[Quotas] = None) -> int:
    """The value that applies: the declared raised quota, else AWS's default."""
    declared = getattr(quotas, key, None) if quotas is not None else None
    return declared or BY_KEY[key].value


def markdown_table() -> str:
    """The limits table of docs/fleet.md."""
    rows = ["| limit | value | per | adjustable (`quotas:` key) | source |", "| --- | --- | --- | --- | --- |"]
    for limit in LIMITS:
        adjustable = f"yes (`{limit.key}`)" if limit.adjustable else "no"
        rows.append(f"| {limit.what} | {limit.value:,} | {limit.per} | {adjustable} | [AWS]({limit.source}) |")
    return "\n".join(rows)
