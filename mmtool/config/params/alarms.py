"""`alarms:` notifications, execution rules and drift alarms."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator, model_validator
from mmtool.config.params.base import FieldError, SQS_QUEUE_ARN, Strict


MAX_DRIFT_ALARMS = 10
MAX_SUBSCRIPTIONS = 8


def check_drift_alarms(field: str, alarms: list) -> None:
    """At most MAX_DRIFT_ALARMS drift alarms (the template's slots), one per feature: `alarms.drift` of the
    single-endpoint form and a fleet endpoint's `drift_alarms`."""
    if len(alarms) > MAX_DRIFT_ALARMS:
        raise FieldError(field, len(alarms), f"at most {MAX_DRIFT_ALARMS} drift alarms per endpoint (the template has "
                         "that many slots); alarm on the features that matter most")
    features = [d.feature for d in alarms]
    duplicates = sorted({f for f in features if features.count(f) > 1})
    if duplicates:
        raise FieldError(field, duplicates, f"one alarm per feature; duplicated: {', '.join(duplicates)}")


class DriftAlarm(Strict):
    feature: str = Field(
        pattern=r"^[A-Za-z0-9_.\-]{1,200}$",
        description="Feature whose data-quality metric feature_baseline_drift_<feature> is watched (a name the "
        "pre-processor emits).",
    )
    threshold: float = Field(gt=0, description="Alarm when the drift distance of a run exceeds this, e.g. 0.2.")


# subscription protocol -> (what a target must look like, what to write instead)
_NOTIFICATION_TARGETS = {
    "email": (r"[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}", "not an e-mail address"),
    "https": (r"https://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9\-._~:/?#\[\]@!&'()*+;=%]*)?",
              "expected an https:// URL of ASCII characters (RFC 3986; SNS delivers over TLS only here)"),
    "sqs": (SQS_QUEUE_ARN,
            "expected an SQS queue ARN, arn:aws:sqs:<region>:<account>:<queue>"),
}


class AlarmSettings(Strict):
    """Notifications (SNS), the EventBridge rules on monitoring executions, CloudWatch alarms."""

    enabled: bool = Field(False, description="Create the topic, subscriptions, execution rules and alarms.")
    email: list[str] = Field(default_factory=list, description="E-mail addresses subscribed to the topic (each "
                             "confirms by mail).")
    https: list[str] = Field(default_factory=list, description="HTTPS endpoints subscribed to the topic (each "
                             "confirms the subscription).")
    sqs: list[str] = Field(default_factory=list, description="SQS queue ARNs subscribed to the topic (the queue "
                           "policy must let the topic send).")
    notify_on_violations: bool = Field(
        True, description="Notify on runs that completed with violations, not only on failed runs."
    )
    drift: list[DriftAlarm] = Field(
        default_factory=list, description=f"Data-quality drift alarms, at most {MAX_DRIFT_ALARMS}."
    )

    @field_validator("email", "https", "sqs")
    @classmethod
    def _targets_well_formed(cls, value: list[str], info: ValidationInfo) -> list[str]:
        pattern, expected = _NOTIFICATION_TARGETS[info.field_name]
        for index, item in enumerate(value):
            if not re.fullmatch(pattern, item):
                raise FieldError(f"[{index}]", item, expected)
            if info.field_name == "sqs" and item.endswith(".fifo"):
                raise FieldError(f"[{index}]", item, "a FIFO queue cannot subscribe to a standard topic")
        return value

    @model_validator(mode="after")
    def _targets(self) -> AlarmSettings:
        targets = self.email + self.https + self.sqs
        if self.enabled and not targets:
            raise FieldError("enabled", True, "alarms are on but nobody is notified: add an email, https or sqs target")
        if len(targets) > MAX_SUBSCRIPTIONS:
            raise FieldError("email", len(targets), f"{len(targets)} notification targets; at most {MAX_SUBSCRIPTIONS} "
                             "(the template has that many subscription slots)")
        # e-mail addresses compared in lower case: mail domains are case-insensitive and SNS would confirm one
        # subscription for two spellings; https URLs and queue ARNs exactly
        for protocol, items in (("email", [e.lower() for e in self.email]), ("https", self.https), ("sqs", self.sqs)):
            for index, item in enumerate(items):
                if item in items[:index]:
                    raise FieldError(f"{protocol}[{index}]", getattr(self, protocol)[index],
                                     f"already listed as {protocol}[{items.index(item)}] (e-mail addresses compared "
                                     "without case); list each target once")
        check_drift_alarms("drift", self.drift)
        return self

    @property
    def subscriptions(self) -> list[tuple[str, str]]:
        return ([("email", e) for e in self.email] + [("https", h) for h in self.https]
                + [("sqs", q) for q in self.sqs])


