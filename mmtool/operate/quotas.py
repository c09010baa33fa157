"""`make plan` / `make deploy`: warn when the account's Service Quotas for processing instances are below what the
processing engine's jobs need (docs/engine.md, Operating). New accounts often have 0 for most types; the scheduler's
CreateProcessingJob is then refused at every slot and lands in the dead-letter queue.

What a run needs, per instance type: for each endpoint of the run on the processing engine and each monitor it runs
there, the monitor's `instance_count`; under `engine: both` twice (Model Monitor's run is a processing job too, at
the same slot, counted against the same quota). The endpoints' monitors are added up: hourly schedules all start at
the top of the hour, so their jobs run at once. The account's value is the applied quota named
`<instance type> for processing job usage` (service code `sagemaker`), read with ListServiceQuotas; a quota the
account does not list (or a read that fails) is a note, not a warning. A warning never stops the run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from deployer.aws_errors import error_code, error_message
from mmtool.config.monitor_kinds import KINDS, PROCESSING
from mmtool.operate.awsenv import aws_errors

SERVICE_CODE = "sagemaker"
ENGINE_MONITORS = tuple(kind.key for kind in KINDS if PROCESSING in kind.engines)  # what the processing engine runs


def quota_name(instance_type: str) -> str:
    """The quota's name in Service Quotas (as SageMaker's ResourceLimitExceeded quotes it)."""
    return f"{instance_type} for processing job usage"


def processing_needs(params: Any, key: str | None = None) -> dict[str, int]:
    """Instances of each type the run's processing-engine jobs need at once (`key`: that endpoint only)."""
    needs: dict[str, int] = defaultdict(int)
    for entry in params.fleet():
        if key is not None and entry.key != key or not entry.monitoring.runs_processing:
            continue
        jobs = 2 if entry.monitoring.engine == "both" else 1
        for section in ENGINE_MONITORS:
            monitor = getattr(entry.monitoring, section)
            if monitor.enabled:
                needs[monitor.instance_type] += monitor.instance_count * jobs
    return dict(needs)


def read_quotas(service_quotas: Any) -> dict[str, tuple[float, str]]:
    """{quota name: (value, quota code)} of SageMaker's applied quotas (ListServiceQuotas, every page)."""
    found: dict[str, tuple[float, str]] = {}
    token = None
    while True:
        page = service_quotas.list_service_quotas(ServiceCode=SERVICE_CODE, **({"NextToken": token} if token else {}))
        for quota in page.get("Quotas", []):
            if "Value" in quota:
                found[quota["QuotaName"]] = (quota["Value"], quota["QuotaCode"])
        token = page.get("NextToken")
        if not token:
            return found


def quota_messages(needs: dict[str, int], quotas: dict[str, tuple[float, str]], region: str) -> list[str]:
    """One warning per instance type whose quota is below the need, with the request command; a note for a quota
    the account does not list."""
    lines = []
    for instance_type, need in sorted(needs.items()):
        name = quota_name(instance_type)
        if name not in quotas:
            lines.append(f"note: Service Quotas lists no '{name}' in {region}: the processing engine's jobs need {need} "
                         f"at once; check it with `aws service-quotas list-service-quotas --service-code {SERVICE_CODE} "
                         f"--region {region}`")
            continue
        value, code = quotas[name]
        if value < need:
            lines.append(
                f"warning: the account's quota '{name}' in {region} is {value:g}, below the {need} instance(s) the "
                f"processing engine's jobs need at once: they will be refused (ResourceLimitExceeded) and land in the "
                f"dead-letter queue. Request it: `aws service-quotas request-service-quota-increase --service-code "
                f"{SERVICE_CODE} --quota-code {code} --desired-value {need} --region {region}` (or choose an instance "
                "type with quota in monitoring.<monitor>.instance_type)")
    return lines


def warn_low_quotas(params: Any, key: str | None, service_quotas: Callable[[], Any], note: Callable[[str], None]) -> None:
    """The plan's quota check: connects only when the run has processing-engine jobs; never raises for AWS."""
    needs = processing_needs(params, key)
    if not needs:
        return
    try:
        quotas = read_quotas(service_quotas())
    except aws_errors() as exc:  # a warning must not stop a plan: say what could not be read and go on
        note(f"note: could not read the processing-instance quotas (servicequotas:ListServiceQuotas, service code "
             f"{SERVICE_CODE}): {error_code(exc) or type(exc).__name__}: {error_message(exc)}")
        return
    for line in quota_messages(needs, quotas, params.region):
        note(line)
