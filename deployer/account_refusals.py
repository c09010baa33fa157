"""Refusals of the AWS account rather than of the request: a Model Monitor resource that the account may not create
at all (docs/engine.md). AWS closed SageMaker Model Monitor (and Clarify) to new customers on 2026-07-30; an account
created since cannot create monitoring schedules or job definitions, and the way out is the processing engine.

The exact words AWS uses for that refusal are not published (no public issue or page quotes one), so the match is
conservative: the failed resource must be one of Model Monitor's types AND its reason must speak of the feature or
service being unavailable to the account (not available / no longer available / not enabled / not supported for the
account, new customers, not subscribed / onboarded / allow-listed). A plain AccessDenied is a missing right of the
deploying role, not this (mmtool/operate/rules.py `deploy-rights-missing`). One place for the pattern: the deploy
engine's failure lines (deployer/events.py) and `make status` (mmtool/operate/rules.py) both use it.
"""

from __future__ import annotations

import re

MODEL_MONITOR_TYPES = frozenset({
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
})
UNAVAILABLE = re.compile(
    r"(?:not|no longer) (?:currently )?(?:available|enabled|supported|offered|accessible)"
    r"|new customers|not (?:subscribed|onboarded|allow-?listed|whitelisted)|has been (?:closed|retired|discontinued)",
    re.IGNORECASE,
)
FIX = ("this account cannot use SageMaker Model Monitor (closed to new customers on 2026-07-30): set "
       "monitoring.engine: processing in the params file (an EventBridge Scheduler schedule starting SageMaker "
       "Processing jobs with this project's analyzer; docs/engine.md), then deploy again")


def model_monitor_unavailable(resource_type: str | None, reason: str | None) -> bool:
    """True when a failed resource is a Model Monitor one refused because the account cannot use Model Monitor."""
    return resource_type in MODEL_MONITOR_TYPES and bool(UNAVAILABLE.search(reason or ""))
